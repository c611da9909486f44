import dc from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { TLSSocket } from 'node:tls';
import { Agent, buildConnector, request } from 'undici';

/** What a check asserts about an HTTP endpoint. */
export interface CheckSpec {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | null;
  timeoutMs: number;
  /** Accepted final status codes; null means any 2xx. */
  expectedStatus: number[] | null;
  /** Text the body must contain (searched within the body read limit). */
  keyword: string | null;
  /** A successful check slower than this is `degraded`. */
  degradedAfterMs: number | null;
}

export type ErrorKind = 'timeout' | 'dns' | 'refused' | 'tls' | 'status' | 'assertion' | 'network';
export type CheckStatus = 'up' | 'degraded' | 'down';

export interface CheckResult {
  ok: boolean;
  status: CheckStatus;
  httpStatus: number | null;
  errorKind: ErrorKind | null;
  error: string | null;
  /** Wall-clock start (ms since epoch). */
  startedAt: number;
  latencyMs: number;
  ttfbMs: number | null;
  /** Connection phases; null when the request reused a kept-alive connection. */
  dnsMs: number | null;
  connectMs: number | null;
  tlsMs: number | null;
  certExpiresAt: Date | null;
  redirects: number;
}

export interface CheckerOptions {
  maxRedirects?: number;
  maxBodyBytes?: number;
  keepAliveMs?: number;
  userAgent?: string;
  /** Extra trusted CA certificates (PEM), e.g. a private CA. */
  ca?: string | Buffer;
}

interface SocketTimings {
  start: number;
  lookupAt?: number;
  connectAt?: number;
  secureAt?: number;
  certExpiresAt: Date | null;
  reported: boolean;
}

interface CheckTrace {
  socket?: SocketTimings;
  reused: boolean;
}

// undici publishes `request:create` synchronously inside `request()`, so the check that is
// calling it can be found through `currentTrace`; `client:sendHeaders` then names the socket.
const socketTimings = new WeakMap<Socket, SocketTimings>();
const requestTraces = new WeakMap<object, CheckTrace>();
let currentTrace: CheckTrace | undefined;
let subscribed = false;

function subscribeOnce(): void {
  if (subscribed) return;
  subscribed = true;
  dc.subscribe('undici:request:create', (msg) => {
    if (currentTrace) requestTraces.set((msg as { request: object }).request, currentTrace);
  });
  dc.subscribe('undici:client:sendHeaders', (msg) => {
    const { request: req, socket } = msg as { request: object; socket: Socket };
    const trace = requestTraces.get(req);
    if (!trace) return;
    const st = socketTimings.get(socket);
    if (st && !st.reported) {
      st.reported = true;
      trace.socket = st;
      trace.reused = false;
    } else {
      trace.socket = st;
      trace.reused = true;
    }
  });
}

class CheckTimeout extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
    this.name = 'CheckTimeout';
  }
}

const TLS_CODE = /^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_OSSL|HOSTNAME_MISMATCH)/;

/** Map a thrown error to a stable kind and a short message safe to show. */
export function classifyError(err: unknown): { kind: ErrorKind; message: string } {
  const e = err as {
    name?: string;
    code?: string;
    message?: string;
    cause?: { code?: string; message?: string };
  };
  const code = e?.code ?? e?.cause?.code ?? '';
  const message = (e?.message || e?.cause?.message || String(err)).slice(0, 500);
  if (
    e instanceof CheckTimeout ||
    e?.name === 'TimeoutError' ||
    ['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT'].includes(code)
  )
    return { kind: 'timeout', message };
  if (['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL', 'EAI_NODATA'].includes(code))
    return { kind: 'dns', message };
  if (code === 'ECONNREFUSED') return { kind: 'refused', message };
  if (TLS_CODE.test(code) || /certificate|ssl|tls/i.test(message)) return { kind: 'tls', message };
  return { kind: 'network', message: code ? `${code}: ${message}` : message };
}

const round = (n: number) => Math.round(n * 100) / 100;

/** Headers that carry credentials: never forwarded to another origin on a redirect (as browsers do). */
const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

/**
 * The request for a URL: undici ignores `user:password@` in a URL, so it becomes Basic auth (unless
 * an Authorization header is set) and leaves the URL. `from` is the previous hop of a redirect: a
 * hop to another origin drops the credential headers.
 */
export function requestFor(
  url: string,
  headers: Record<string, string>,
  from?: string,
): { url: string; headers: Record<string, string> } {
  const u = new URL(url);
  let h = headers;
  if (from !== undefined && new URL(from).origin !== u.origin)
    h = Object.fromEntries(Object.entries(h).filter(([k]) => !CREDENTIAL_HEADERS.has(k.toLowerCase())));
  if (u.username || u.password) {
    if (!Object.keys(h).some((k) => k.toLowerCase() === 'authorization')) {
      const user = decodeURIComponent(u.username);
      const pass = decodeURIComponent(u.password);
      h = { ...h, authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` };
    }
    u.username = '';
    u.password = '';
  }
  return { url: u.toString(), headers: h };
}

/**
 * HTTP(S) checks over undici keep-alive pools. One Checker (one Agent) per worker process: a
 * connection to a monitored origin is reused across its checks, so a check costs one request
 * and no handshake. Connection phases are timed by a wrapping connector and attributed to the
 * check whose request opened the connection.
 */
export class Checker {
  private readonly agent: Agent;
  private readonly maxRedirects: number;
  private readonly maxBodyBytes: number;
  private readonly userAgent: string;

  constructor(opts: CheckerOptions = {}) {
    subscribeOnce();
    this.maxRedirects = opts.maxRedirects ?? 5;
    this.maxBodyBytes = opts.maxBodyBytes ?? 1024 * 1024;
    this.userAgent = opts.userAgent ?? 'Beacon-Uptime/1.0';
    const base = buildConnector({ timeout: 30_000, ...(opts.ca ? { ca: opts.ca } : {}) });
    const connect: buildConnector.connector = (options, callback) => {
      const st: SocketTimings = { start: performance.now(), certExpiresAt: null, reported: false };
      const socket = base(options, callback) as unknown as Socket;
      socket.once('lookup', () => {
        st.lookupAt = performance.now();
      });
      socket.once('connect', () => {
        st.connectAt = performance.now();
      });
      socket.once('secureConnect', () => {
        st.secureAt = performance.now();
        const cert = (socket as TLSSocket).getPeerCertificate?.();
        if (cert?.valid_to) st.certExpiresAt = new Date(cert.valid_to);
      });
      socketTimings.set(socket, st);
      return socket as never;
    };
    this.agent = new Agent({
      connect,
      keepAliveTimeout: opts.keepAliveMs ?? 60_000,
      keepAliveMaxTimeout: opts.keepAliveMs ?? 60_000,
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  }

  async check(spec: CheckSpec): Promise<CheckResult> {
    const startedAt = Date.now();
    const t0 = performance.now();
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new CheckTimeout(spec.timeoutMs)), spec.timeoutMs);
    const firstTrace: CheckTrace = { reused: false };
    let ttfbMs: number | null = null;
    let httpStatus: number | null = null;
    let redirects = 0;
    const fail = (kind: ErrorKind, error: string): CheckResult => ({
      ok: false,
      status: 'down',
      httpStatus,
      errorKind: kind,
      error,
      startedAt,
      latencyMs: round(performance.now() - t0),
      ttfbMs,
      ...this.phases(firstTrace),
      redirects,
    });
    try {
      let { url, headers } = requestFor(spec.url, { 'user-agent': this.userAgent, ...spec.headers });
      let method = spec.method.toUpperCase();
      let body = spec.body;
      for (;;) {
        const trace = redirects === 0 ? firstTrace : { reused: false };
        currentTrace = trace;
        let pending: ReturnType<typeof request>;
        try {
          pending = request(url, {
            method: method as 'GET',
            headers,
            body: body ?? undefined,
            dispatcher: this.agent,
            signal: ac.signal,
          });
        } finally {
          currentTrace = undefined;
        }
        const res = await pending;
        ttfbMs = round(performance.now() - t0);
        httpStatus = res.statusCode;
        const location = res.headers.location;
        if (
          res.statusCode >= 300 &&
          res.statusCode < 400 &&
          location &&
          !spec.expectedStatus?.includes(res.statusCode)
        ) {
          await res.body.dump({ limit: 64 * 1024 }).catch(() => {});
          if (redirects >= this.maxRedirects)
            return fail('status', `too many redirects (more than ${this.maxRedirects})`);
          redirects++;
          ({ url, headers } = requestFor(
            new URL(Array.isArray(location) ? location[0]! : location, url).toString(),
            headers,
            url,
          ));
          if (
            res.statusCode === 303 ||
            ((res.statusCode === 301 || res.statusCode === 302) && method === 'POST')
          ) {
            method = 'GET';
            body = null;
          }
          continue;
        }
        let text = '';
        if (spec.keyword) {
          const chunks: Buffer[] = [];
          let size = 0;
          for await (const chunk of res.body) {
            const b = chunk as Buffer;
            chunks.push(b);
            size += b.length;
            if (size >= this.maxBodyBytes) break; // leaving the loop destroys the rest of the body
          }
          text = Buffer.concat(chunks).subarray(0, this.maxBodyBytes).toString('utf8');
        } else {
          await res.body.dump({ limit: this.maxBodyBytes }).catch(() => {});
        }
        const latencyMs = round(performance.now() - t0);
        const expected = spec.expectedStatus;
        const statusOk = expected?.length
          ? expected.includes(res.statusCode)
          : res.statusCode >= 200 && res.statusCode < 300;
        if (!statusOk)
          return fail(
            'status',
            `status ${res.statusCode} (expected ${expected?.length ? expected.join(', ') : '2xx'})`,
          );
        if (spec.keyword && !text.includes(spec.keyword))
          return fail(
            'assertion',
            `keyword ${JSON.stringify(spec.keyword.slice(0, 100))} not found in the body`,
          );
        const degraded = spec.degradedAfterMs != null && latencyMs > spec.degradedAfterMs;
        return {
          ok: true,
          status: degraded ? 'degraded' : 'up',
          httpStatus,
          errorKind: null,
          error: null,
          startedAt,
          latencyMs,
          ttfbMs,
          ...this.phases(firstTrace),
          redirects,
        };
      }
    } catch (err) {
      if (ac.signal.aborted) return fail('timeout', `timed out after ${spec.timeoutMs} ms`);
      const c = classifyError(err);
      return fail(c.kind, c.message);
    } finally {
      clearTimeout(timer);
    }
  }

  private phases(trace: CheckTrace): Pick<CheckResult, 'dnsMs' | 'connectMs' | 'tlsMs' | 'certExpiresAt'> {
    const st = trace.socket;
    if (!st || trace.reused)
      return { dnsMs: null, connectMs: null, tlsMs: null, certExpiresAt: st?.certExpiresAt ?? null };
    const dnsEnd = st.lookupAt ?? st.start;
    return {
      dnsMs: round(dnsEnd - st.start),
      connectMs: st.connectAt != null ? round(st.connectAt - dnsEnd) : null,
      tlsMs: st.secureAt != null && st.connectAt != null ? round(st.secureAt - st.connectAt) : null,
      certExpiresAt: st.certExpiresAt,
    };
  }

  async close(): Promise<void> {
    await this.agent.close().catch(() => {});
  }
}
