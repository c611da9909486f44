import { addBreadcrumb } from './api.js';
import type { Level } from './types.js';

const CONSOLE_LEVELS: Record<string, Level> = {
  debug: 'debug',
  info: 'info',
  log: 'log',
  warn: 'warning',
  error: 'error',
};

function stringify(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Error) return `${v.name}: ${v.message}`;
  try {
    return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
  } catch {
    return String(v);
  }
}

/** Record console.debug/info/log/warn/error calls as breadcrumbs. Returns the teardown. */
export function instrumentConsole(): () => void {
  const c = globalThis.console as unknown as Record<string, (...args: unknown[]) => void>;
  if (!c) return () => {};
  const restore: Array<() => void> = [];
  for (const [method, level] of Object.entries(CONSOLE_LEVELS)) {
    const original = c[method];
    if (typeof original !== 'function') continue;
    const wrapped = function (this: unknown, ...args: unknown[]) {
      try {
        addBreadcrumb({ category: 'console', level, message: args.map(stringify).join(' ').slice(0, 2048) });
      } catch {
        // never break logging
      }
      return original.apply(this, args);
    };
    c[method] = wrapped;
    restore.push(() => {
      if (c[method] === wrapped) c[method] = original;
    });
  }
  return () => {
    for (const r of restore) r();
  };
}

/** Record fetch requests (method, url, status) as breadcrumbs, except those `ignore` matches. */
export function instrumentFetch(ignore: (url: string) => boolean): () => void {
  const g = globalThis as { fetch?: typeof fetch };
  const original = g.fetch;
  if (typeof original !== 'function') return () => {};
  const wrapped = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    let method = 'GET';
    let url = '';
    try {
      if (typeof input === 'string') url = input;
      else if (input instanceof URL) url = input.href;
      else if (input && typeof input === 'object') {
        url = input.url;
        method = input.method || method;
      }
      if (init?.method) method = init.method;
      method = method.toUpperCase();
    } catch {
      // keep defaults
    }
    const result = original.call(globalThis, input, init);
    if (!ignore(url)) {
      result.then(
        (res) =>
          addBreadcrumb({
            type: 'http',
            category: 'fetch',
            level: res.status >= 500 ? 'error' : res.status >= 400 ? 'warning' : 'info',
            data: { method, url, status_code: res.status },
          }),
        (err: unknown) =>
          addBreadcrumb({
            type: 'http',
            category: 'fetch',
            level: 'error',
            data: { method, url, error: stringify(err) },
          }),
      );
    }
    return result;
  };
  g.fetch = wrapped as typeof fetch;
  return () => {
    if (g.fetch === wrapped) g.fetch = original;
  };
}
