import { captureWithMechanism, getCurrentScope, runWithScope } from './api.js';
import { errorStatus, type IncomingLike, requestData } from './request.js';

interface ExpressRequest extends IncomingLike {
  baseUrl?: string;
  route?: { path?: string };
  path?: string;
}
type Next = (err?: unknown) => void;

export interface ExpressErrorHandlerOptions {
  /** Which errors to report. Default: those without a status or with status >= 500. */
  shouldHandleError?: (err: unknown) => boolean;
}

function transactionName(req: ExpressRequest): string {
  const route = req.route?.path ? `${req.baseUrl ?? ''}${req.route.path}` : (req.path ?? req.url ?? '/');
  return `${req.method ?? 'GET'} ${route}`;
}

/**
 * Express middleware, first in the chain: gives each request its own scope (breadcrumbs, tags
 * and user set while handling it stay with it) carrying the request context.
 *
 * @example app.use(expressRequestHandler());
 */
export function expressRequestHandler() {
  return function beaconRequestHandler(req: ExpressRequest, _res: unknown, next: Next): void {
    let scope: ReturnType<typeof getCurrentScope> | undefined;
    try {
      scope = getCurrentScope().clone();
      scope.setRequest(requestData(req)).clearBreadcrumbs();
    } catch {
      // fall through without a request scope
    }
    if (scope) runWithScope(scope, () => next());
    else next();
  };
}

/**
 * Express error middleware, after your routes and before other error handlers: reports the
 * error with the request context, then passes it on unchanged. The event id is set on
 * `res.beaconEventId`.
 *
 * @example app.use(expressErrorHandler());
 */
export function expressErrorHandler(options: ExpressErrorHandlerOptions = {}) {
  const should =
    options.shouldHandleError ??
    ((err: unknown) => {
      const s = errorStatus(err);
      return s === undefined || s >= 500;
    });
  return function beaconErrorHandler(err: unknown, req: ExpressRequest, res: object, next: Next): void {
    try {
      if (should(err)) {
        const id = captureWithMechanism(
          err,
          { type: 'express', handled: false },
          { request: requestData(req), transaction: transactionName(req) },
        );
        (res as { beaconEventId?: string }).beaconEventId = id;
      }
    } catch {
      // never throw into the host application
    }
    next(err);
  };
}
