import { Client, type Options, type Platform } from './client.js';
import { Scope } from './scope.js';
import type { TransportStats } from './transport.js';
import type { BeaconEvent, Breadcrumb, CaptureContext, Level, Mechanism, User } from './types.js';

/** How the current scope is found: a stack in browsers, AsyncLocalStorage in Node. */
export interface ScopeStrategy {
  get(): Scope | undefined;
  run<T>(scope: Scope, callback: () => T): T;
  /** Make `scope` current for the rest of this async context (Node only). */
  enter?(scope: Scope): void;
}

const stack: Scope[] = [];
const stackStrategy: ScopeStrategy = {
  get: () => stack[stack.length - 1],
  run(scope, callback) {
    stack.push(scope);
    try {
      return callback();
    } finally {
      stack.pop();
    }
  },
};

let strategy: ScopeStrategy = stackStrategy;
let client: Client | undefined;
const rootScope = new Scope();

/** @internal Used by the Node entry to switch to AsyncLocalStorage. */
export function setScopeStrategy(s: ScopeStrategy): void {
  strategy = s;
}

/** @internal Create the client for a platform and make it current. */
export function initClient(options: Options, platform: Platform): Client {
  if (client) client.retire();
  client = new Client(options, platform);
  rootScope.maxBreadcrumbs = options.maxBreadcrumbs ?? 100;
  client.setup();
  return client;
}

/** The client created by `init`, if any. */
export function getClient(): Client | undefined {
  return client;
}

/**
 * The scope that captures and setters apply to right now (a request's scope inside middleware
 * or `withScope`, else the global one).
 *
 * @example getCurrentScope().setTag('tenant', 'acme');
 */
export function getCurrentScope(): Scope {
  return strategy.get() ?? rootScope;
}

/** @internal Run `callback` with `scope` as the current scope. */
export function runWithScope<T>(scope: Scope, callback: () => T): T {
  return strategy.run(scope, callback);
}

/** @internal Make `scope` current for the rest of the async context, where supported. */
export function enterScope(scope: Scope): boolean {
  if (!strategy.enter) return false;
  strategy.enter(scope);
  return true;
}

function captureScope(context?: CaptureContext): Scope {
  return getCurrentScope().clone().update(context);
}

/** @internal captureException with an explicit mechanism (automatic capture, middleware). */
export function captureWithMechanism(
  err: unknown,
  mechanism: Mechanism,
  context?: CaptureContext,
  level: Level = 'error',
): string {
  try {
    return client ? client.captureException(err, captureScope(context), mechanism, level) : '';
  } catch {
    return '';
  }
}

/**
 * Report an error (and its `cause` chain). Returns the event id ('' before `init`).
 *
 * @example
 * try { await charge(order); } catch (err) { captureException(err, { tags: { step: 'charge' } }); }
 */
export function captureException(err: unknown, context?: CaptureContext): string {
  return captureWithMechanism(err, { type: 'generic', handled: true }, context);
}

/**
 * Report a message. Returns the event id ('' before `init`).
 *
 * @example captureMessage('cache miss storm', 'warning');
 */
export function captureMessage(message: string, level: Level = 'info', context?: CaptureContext): string {
  try {
    return client ? client.captureMessage(message, level, captureScope(context)) : '';
  } catch {
    return '';
  }
}

/**
 * Send a hand-built event (fields left out get defaults). Returns its id.
 *
 * @example captureEvent({ message: 'deploy finished', level: 'info', tags: { region: 'eu' } });
 */
export function captureEvent(event: Partial<BeaconEvent>, context?: CaptureContext): string {
  try {
    return client ? client.captureEvent(event, captureScope(context)) : '';
  } catch {
    return '';
  }
}

/**
 * Identify the user for following events (null clears).
 *
 * @example setUser({ id: '42', email: 'ada@example.com' });
 */
export function setUser(user: User | null): void {
  getCurrentScope().setUser(user);
}

/**
 * Set one tag (indexed, searchable) on following events.
 *
 * @example setTag('region', 'eu-west-1');
 */
export function setTag(key: string, value: string | number | boolean): void {
  getCurrentScope().setTag(key, value);
}

/**
 * Set several tags at once.
 *
 * @example setTags({ region: 'eu-west-1', plan: 'pro' });
 */
export function setTags(tags: Record<string, string | number | boolean>): void {
  getCurrentScope().setTags(tags);
}

/**
 * Attach a named context object (null removes it).
 *
 * @example setContext('order', { id: 'o_1', total: 99.5 });
 */
export function setContext(name: string, context: Record<string, unknown> | null): void {
  getCurrentScope().setContext(name, context);
}

/**
 * Attach arbitrary (unindexed) extra data.
 *
 * @example setExtra('payload_size', 2048);
 */
export function setExtra(key: string, value: unknown): void {
  getCurrentScope().setExtra(key, value);
}

/**
 * Record a breadcrumb: a trail of what happened before an error.
 *
 * @example addBreadcrumb({ category: 'auth', message: 'user logged in', level: 'info' });
 */
export function addBreadcrumb(breadcrumb: Breadcrumb): void {
  try {
    const before = client?.options.beforeBreadcrumb;
    const crumb = before ? before({ timestamp: Date.now() / 1000, ...breadcrumb }) : breadcrumb;
    if (crumb) getCurrentScope().addBreadcrumb(crumb, client?.options.maxBreadcrumbs ?? 100);
  } catch {
    // never throw into the host application
  }
}

/**
 * Run `callback` with a temporary copy of the current scope; changes made to it apply only to
 * events captured inside. (In browsers the scope ends when `callback` returns synchronously;
 * in Node it follows the async work started inside.)
 *
 * @example withScope((scope) => { scope.setTag('job', 'nightly'); captureException(err); });
 */
export function withScope<T>(callback: (scope: Scope) => T): T {
  const scope = getCurrentScope().clone();
  return strategy.run(scope, () => callback(scope));
}

/**
 * Wait up to `timeoutMs` for queued events to be delivered. Resolves false on timeout.
 *
 * @example await flush(2000);
 */
export function flush(timeoutMs = 2000): Promise<boolean> {
  return client ? client.flush(timeoutMs).catch(() => false) : Promise.resolve(true);
}

/**
 * Flush, then remove all instrumentation and stop sending.
 *
 * @example process.on('SIGTERM', async () => { await close(2000); process.exit(0); });
 */
export async function close(timeoutMs = 2000): Promise<boolean> {
  const c = client;
  client = undefined;
  return c ? c.close(timeoutMs).catch(() => false) : true;
}

/**
 * The id of the last event captured, if any.
 *
 * @example showReportDialog(lastEventId());
 */
export function lastEventId(): string | undefined {
  return client?.lastEventId;
}

/**
 * Transport counters: queued, sent, retried, dropped (by reason) and the rate-limit window.
 *
 * @example console.log(getTransportStats()?.dropped.queue_overflow);
 */
export function getTransportStats(): TransportStats | undefined {
  return client?.getTransportStats();
}

export { Scope };
