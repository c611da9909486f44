import { AsyncLocalStorage } from 'node:async_hooks';
import { hostname, release as osRelease } from 'node:os';
import path from 'node:path';
import { captureWithMechanism, initClient, type Scope, setScopeStrategy } from './api.js';
import { instrumentConsole, instrumentFetch } from './breadcrumbs.js';
import type { Client, Options, Platform } from './client.js';

export * from './api.js';
export type { Options, Platform } from './client.js';
export { Client } from './client.js';
export type { Dsn } from './dsn.js';
export { parseDsn } from './dsn.js';
export { expressErrorHandler, expressRequestHandler } from './express.js';
export { beaconFastify } from './fastify.js';
export { exceptionChain, parseStack } from './stack.js';
export type { OverflowPolicy, TransportOptions, TransportStats } from './transport.js';
export type * from './types.js';
export { SDK_NAME, SDK_VERSION } from './version.js';

const als = new AsyncLocalStorage<Scope>();

/**
 * Sentry-style module name for a file: `dir.sub:file` relative to the app root or node_modules.
 *
 * @example moduleFromFilename('/srv/app/src/jobs/sync.js', '/srv/app') // 'src.jobs:sync'
 */
export function moduleFromFilename(filename: string, root = process.cwd()): string | undefined {
  if (!path.isAbsolute(filename)) return undefined;
  const normalized = filename.replace(/\\/g, '/');
  const nm = normalized.lastIndexOf('/node_modules/');
  let rel = nm >= 0 ? normalized.slice(nm + 14) : path.relative(root, filename).replace(/\\/g, '/');
  if (rel.startsWith('..')) rel = normalized.replace(/^\/+/, '');
  const parts = rel.replace(/\.[cm]?[jt]sx?$/, '').split('/');
  const file = parts.pop();
  return parts.length ? `${parts.join('.')}:${file}` : file;
}

/** Node's `--unhandled-rejections` mode (default 'throw'). */
function unhandledRejectionsMode(): string {
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  for (const f of flags) {
    const m = /^--unhandled-rejections=(\S+)$/.exec(f);
    if (m) return m[1]!;
  }
  return 'throw';
}

/** The error Node itself raises for a rejection with a non-Error reason. */
function unhandledRejectionError(reason: unknown): Error {
  let shown: string;
  try {
    shown = typeof reason === 'string' ? reason : (JSON.stringify(reason) ?? String(reason));
  } catch {
    shown = String(reason);
  }
  const err = new Error(
    'This error originated either by throwing inside of an async function without a catch block, ' +
      `or by rejecting a promise which was not handled with .catch(). The promise rejected with the reason "${shown}".`,
  );
  (err as Error & { code: string }).code = 'ERR_UNHANDLED_REJECTION';
  return err;
}

/**
 * Capture uncaught exceptions and unhandled rejections without changing what the process does:
 * when the SDK's listener is the only one, it reproduces Node's default (print, exit code 1 for
 * an uncaught exception; the `--unhandled-rejections` mode for rejections) after flushing.
 */
function installProcessHandlers(client: Client): () => void {
  let dying = false;
  const timeout = client.options.shutdownTimeout ?? 2000;

  const onUncaught = (err: unknown): void => {
    const fresh = !client.wasCaptured(err);
    if (fresh) captureWithMechanism(err, { type: 'onuncaughtexception', handled: false }, undefined, 'fatal');
    const others = process.listeners('uncaughtException').filter((l) => l !== onUncaught);
    if (others.length) {
      void client.flush(timeout);
      return;
    }
    if (dying) return;
    dying = true;
    const rethrow = () => {
      process.off('uncaughtException', onUncaught);
      process.off('unhandledRejection', onRejection);
      // Thrown from a fresh macrotask with no listener left: Node prints it and exits with 1, as
      // it would have without the SDK.
      setImmediate(() => {
        throw err;
      });
    };
    client.flush(timeout).then(rethrow, rethrow);
  };

  const onRejection = (reason: unknown): void => {
    const id = captureWithMechanism(reason, { type: 'onunhandledrejection', handled: false });
    if (process.listeners('unhandledRejection').some((l) => l !== onRejection)) return;
    const mode = unhandledRejectionsMode();
    if (mode === 'throw' || mode === 'strict') {
      const err = reason instanceof Error ? reason : unhandledRejectionError(reason);
      // Already reported: the uncaught handler must not report the same rejection twice.
      client.markCaptured(err, id);
      setImmediate(() => {
        throw err;
      });
    } else if (mode === 'warn' || mode === 'warn-with-error-code') {
      process.emitWarning(
        reason instanceof Error ? (reason.stack ?? reason.message) : String(reason),
        'UnhandledPromiseRejectionWarning',
      );
      if (mode === 'warn-with-error-code') process.exitCode = 1;
    }
  };

  // Our timers are unreferenced; give queued events a last chance when the loop empties.
  const onBeforeExit = () => {
    client.transport?.kick();
  };

  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onRejection);
  process.on('beforeExit', onBeforeExit);
  return () => {
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onRejection);
    process.off('beforeExit', onBeforeExit);
  };
}

const nodePlatform = (root: string): Platform => ({
  name: 'node',
  serverName: hostname(),
  resolveModule: (f) => moduleFromFilename(f, root),
  contexts: () => ({
    runtime: { name: 'node', version: process.version },
    os: { name: process.platform, kernel_version: osRelease() },
  }),
  setup(c) {
    const o = c.options;
    const teardowns: Array<() => void> = [];
    if (o.captureUnhandled !== false) teardowns.push(installProcessHandlers(c));
    if (o.consoleBreadcrumbs !== false) teardowns.push(instrumentConsole());
    if (o.fetchBreadcrumbs !== false) {
      const own = c.transport?.url.split('?')[0];
      teardowns.push(instrumentFetch((url) => !!own && url.startsWith(own)));
    }
    return () => {
      for (const t of teardowns.reverse()) t();
    };
  },
});

/**
 * Start the SDK in Node.js: events go to `dsn`; uncaught exceptions, unhandled rejections,
 * console and fetch breadcrumbs are captured automatically; scopes follow async work.
 *
 * @example
 * import * as Beacon from '@beacon/sdk';
 * Beacon.init({ dsn: process.env.BEACON_DSN, release: 'api@1.4.2', environment: 'production' });
 */
export function init(options: Options = {}): Client {
  setScopeStrategy({
    get: () => als.getStore(),
    run: (scope, cb) => als.run(scope, cb),
    enter: (scope) => als.enterWith(scope),
  });
  return initClient(options, nodePlatform(process.cwd()));
}
