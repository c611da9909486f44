import { captureWithMechanism, enterScope, getCurrentScope, runWithScope, type Scope } from './api.js';
import { errorStatus, type IncomingLike, requestData } from './request.js';

interface FastifyRequestLike {
  method: string;
  url: string;
  protocol?: string;
  headers: Record<string, string | string[] | undefined>;
  routeOptions?: { url?: string };
  raw?: IncomingLike;
}
interface FastifyReplyLike {
  statusCode?: number;
}
type Done = (err?: Error) => void;
type OnRequest = (req: FastifyRequestLike, reply: FastifyReplyLike, done: Done) => void;
type OnError = (req: FastifyRequestLike, reply: FastifyReplyLike, error: unknown, done: Done) => void;
/** The one method the plugin uses; method syntax keeps Fastify's typed instance assignable to it. */
interface FastifyLike {
  addHook(name: string, hook: OnRequest | OnError): unknown;
}

export interface BeaconFastifyOptions {
  /** Which errors to report. Default: those without a status or with status >= 500. */
  shouldHandleError?: (err: unknown, reply: FastifyReplyLike) => boolean;
}

const scopes = new WeakMap<object, Scope>();

/**
 * Fastify plugin: an `onRequest` hook gives each request its own scope with the request
 * context, an `onError` hook reports errors (status >= 500) from handlers and hooks. Registered
 * without encapsulation, so it covers every route.
 *
 * @example await app.register(beaconFastify);
 */
export function beaconFastify(fastify: FastifyLike, options: BeaconFastifyOptions, done: Done): void {
  const should =
    options?.shouldHandleError ??
    ((err: unknown) => {
      const s = errorStatus(err);
      return s === undefined || s >= 500;
    });
  const onRequest: OnRequest = (req, _reply, next) => {
    try {
      const scope = getCurrentScope().clone().clearBreadcrumbs();
      scope.setRequest(
        requestData({
          ...req.raw,
          method: req.method,
          url: req.url,
          protocol: req.protocol,
          headers: req.headers,
        }),
      );
      scopes.set(req, scope);
      enterScope(scope);
    } catch {
      // never break a request
    }
    next();
  };
  const onError: OnError = (req, reply, error, next) => {
    try {
      if (should(error, reply)) {
        const scope = scopes.get(req);
        const capture = () =>
          captureWithMechanism(
            error,
            { type: 'fastify', handled: false },
            { transaction: `${req.method} ${req.routeOptions?.url ?? req.url.split('?')[0]}` },
          );
        if (scope) runWithScope(scope, capture);
        else capture();
      }
    } catch {
      // never break a request
    }
    next();
  };
  fastify.addHook('onRequest', onRequest);
  fastify.addHook('onError', onError);
  done();
}

// Like fastify-plugin: hooks apply to the whole instance, not just an encapsulated child.
Object.assign(beaconFastify, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: '@beacon/sdk',
});
