import type { RequestData } from './types.js';

/** The parts of a Node/Express/Fastify request the middleware reads (no framework types needed). */
export interface IncomingLike {
  method?: string;
  url?: string;
  originalUrl?: string;
  protocol?: string;
  headers?: Record<string, string | string[] | undefined>;
  /** TLS sockets have `encrypted: true`. */
  socket?: unknown;
}

// Credentials never leave the application.
const SENSITIVE = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'x-sentry-auth',
]);

/** Request context for an event: method, full URL, query string, headers minus credentials. */
export function requestData(req: IncomingLike): RequestData {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers ?? {})) {
    if (v === undefined || SENSITIVE.has(k.toLowerCase())) continue;
    headers[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  const rawUrl = req.originalUrl ?? req.url ?? '/';
  const protocol =
    req.protocol ?? ((req.socket as { encrypted?: boolean } | undefined)?.encrypted ? 'https' : 'http');
  const host = headers.host ?? 'localhost';
  const q = rawUrl.indexOf('?');
  const data: RequestData = {
    method: req.method,
    url: `${protocol}://${host}${q >= 0 ? rawUrl.slice(0, q) : rawUrl}`,
    headers,
  };
  if (q >= 0) data.query_string = rawUrl.slice(q + 1);
  return data;
}

/** HTTP status an error asks for (`status`, `statusCode`, `status_code`), if any. */
export function errorStatus(err: unknown): number | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const e = err as { status?: unknown; statusCode?: unknown; status_code?: unknown };
  const s = Number(e.status ?? e.statusCode ?? e.status_code);
  return Number.isInteger(s) ? s : undefined;
}
