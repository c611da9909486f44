import { captureEvent, captureWithMechanism, initClient } from './api.js';
import { instrumentConsole, instrumentFetch } from './breadcrumbs.js';
import type { Client, Options, Platform } from './client.js';
import { isInApp } from './stack.js';

export * from './api.js';
export type { Options, Platform } from './client.js';
export { Client } from './client.js';
export type { Dsn } from './dsn.js';
export { parseDsn } from './dsn.js';
export { exceptionChain, parseStack } from './stack.js';
export type { OverflowPolicy, TransportOptions, TransportStats } from './transport.js';
export type * from './types.js';
export { SDK_NAME, SDK_VERSION } from './version.js';

function onError(ev: ErrorEvent): void {
  try {
    if (ev.error !== undefined && ev.error !== null) {
      captureWithMechanism(ev.error, { type: 'onerror', handled: false });
      return;
    }
    // No error object (e.g. "Script error." from a cross-origin script): one frame from the event.
    const file = ev.filename;
    captureEvent({
      exception: {
        values: [
          {
            type: 'Error',
            value: ev.message || 'Unknown error',
            mechanism: { type: 'onerror', handled: false },
            stacktrace: file
              ? {
                  frames: [
                    {
                      function: '?',
                      filename: file,
                      abs_path: file,
                      lineno: ev.lineno || undefined,
                      colno: ev.colno || undefined,
                      in_app: isInApp(file),
                    },
                  ],
                }
              : undefined,
          },
        ],
      },
    });
  } catch {
    // never throw into the page
  }
}

function onRejection(ev: PromiseRejectionEvent): void {
  captureWithMechanism(ev.reason, { type: 'onunhandledrejection', handled: false });
}

const browserPlatform: Platform = {
  name: 'javascript',
  request() {
    const g = globalThis as { location?: Location; navigator?: Navigator; document?: Document };
    if (!g.location) return undefined;
    const headers: Record<string, string> = {};
    if (g.navigator?.userAgent) headers['User-Agent'] = g.navigator.userAgent;
    if (g.document?.referrer) headers.Referer = g.document.referrer;
    return { url: g.location.href, headers };
  },
  setup(client: Client) {
    const o = client.options;
    const g = globalThis as unknown as Window;
    const teardowns: Array<() => void> = [];
    const hasWindow = typeof g.addEventListener === 'function';
    if (o.captureUnhandled !== false && hasWindow) {
      g.addEventListener('error', onError);
      g.addEventListener('unhandledrejection', onRejection);
      teardowns.push(() => {
        g.removeEventListener('error', onError);
        g.removeEventListener('unhandledrejection', onRejection);
      });
    }
    if (o.consoleBreadcrumbs !== false) teardowns.push(instrumentConsole());
    if (o.fetchBreadcrumbs !== false) {
      const own = client.transport?.url.split('?')[0];
      teardowns.push(instrumentFetch((url) => !!own && url.startsWith(own)));
    }
    if (hasWindow && client.transport) {
      // Queued events leave with the page: keepalive fetch / sendBeacon outlive it.
      const unload = () => client.transport?.flushOnUnload();
      const onVisibility = () => {
        if (g.document?.visibilityState === 'hidden') unload();
      };
      g.addEventListener('pagehide', unload);
      g.document?.addEventListener('visibilitychange', onVisibility);
      teardowns.push(() => {
        g.removeEventListener('pagehide', unload);
        g.document?.removeEventListener('visibilitychange', onVisibility);
      });
    }
    return () => {
      for (const t of teardowns.reverse()) t();
    };
  },
};

/**
 * Start the SDK in a browser: events go to `dsn`; `error` and `unhandledrejection`, console and
 * fetch breadcrumbs are captured automatically; queued events are sent on page unload.
 *
 * @example
 * import * as Beacon from '@beacon/sdk';
 * Beacon.init({ dsn: 'https://key@beacon.example.com/1', release: 'web@2.0.0' });
 */
export function init(options: Options = {}): Client {
  return initClient(options, browserPlatform);
}
