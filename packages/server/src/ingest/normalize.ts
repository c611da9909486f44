import { randomUUID } from 'node:crypto';
import {
  type ExceptionValue,
  type Frame,
  type InternalEvent,
  internalEventSchema,
  type Level,
} from '../events/schema.js';
import { AppError } from '../platform/errors.js';

/**
 * Sentry event payload (from an envelope `event` item or the store endpoint) → InternalEvent.
 * SDKs disagree on shapes (tags as object or pairs, breadcrumbs as array or {values}, exception
 * as array or {values}, numbers where strings belong): this is the one place that absorbs that,
 * leniently — a field of the wrong type is dropped, never a reason to lose the event.
 */
type Obj = Record<string, unknown>;

const MAX_PAST_MS = 30 * 24 * 3600 * 1000;
const MAX_FUTURE_MS = 60 * 1000;
const MAX_BREADCRUMBS = 200;
const MAX_TAG_KEY = 200;
const MAX_TAG_VALUE = 200;
const FILTERED = '[Filtered]';
const SENSITIVE_HEADERS = new Set([
  'authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'x-sentry-auth',
  'proxy-authorization',
]);

export const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Strings stay, numbers and booleans become strings, anything else is dropped. */
export function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return String(v);
  return undefined;
}

/** A safe integer, or undefined (1e300 is finite but no line number, and the schema refuses it). */
const int = (v: unknown): number | undefined => {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number') return undefined;
  const i = Math.trunc(n);
  return Number.isSafeInteger(i) ? i : undefined;
};

const strArray = (v: unknown): string[] | undefined =>
  Array.isArray(v) ? v.map((x) => str(x)).filter((x): x is string => x !== undefined) : undefined;

// Objects below are built with every known key, some undefined: JSON.stringify leaves those out
// of the bus message, and deleting them instead would push V8 objects into slow dictionary mode.
const hasAny = (o: Obj) => Object.values(o).some((v) => v !== undefined);

/** 32 lowercase hex chars; UUIDs with dashes are accepted, anything else gets a fresh id. */
export function normalizeEventId(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const id = v.replaceAll('-', '').toLowerCase();
  return /^[0-9a-f]{32}$/.test(id) ? id : undefined;
}

export const newEventId = () => randomUUID().replaceAll('-', '');

export function normalizeLevel(v: unknown, fallback: Level = 'error'): Level {
  const s = typeof v === 'string' ? v.toLowerCase() : '';
  switch (s) {
    case 'debug':
    case 'trace':
      return 'debug';
    case 'info':
    case 'log':
    case 'notice':
      return 'info';
    case 'warning':
    case 'warn':
      return 'warning';
    case 'error':
      return 'error';
    case 'fatal':
    case 'critical':
      return 'fatal';
    default:
      return fallback;
  }
}

/** Seconds since the epoch (float) or an ISO string → ms, or undefined. */
export function parseTimestamp(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v < 1e11 ? v * 1000 : v; // seconds vs ms
  if (typeof v === 'string' && v.trim() !== '') {
    if (/^\d+(\.\d+)?$/.test(v.trim())) return parseTimestamp(Number(v));
    // Sentry accepts naive ISO timestamps as UTC.
    const s = /[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v}Z`;
    const ms = Date.parse(s);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

const MIN_CLOCK_DRIFT_MS = 55 * 60 * 1000;

/** Shift a client timestamp by the client's clock drift, measured from `sent_at`. */
export function correctDrift(timestamp: unknown, sentAt: unknown, receivedMs: number): unknown {
  const sent = parseTimestamp(sentAt);
  const ts = parseTimestamp(timestamp);
  if (sent === undefined || ts === undefined) return timestamp;
  const drift = receivedMs - sent;
  return Math.abs(drift) >= MIN_CLOCK_DRIFT_MS ? ts + drift : timestamp;
}

/** Clamp a client timestamp: more than a minute ahead or 30 days behind becomes the receive time. */
export function clampTimestamp(v: unknown, receivedMs: number): string {
  const ms = parseTimestamp(v);
  if (ms === undefined || ms > receivedMs + MAX_FUTURE_MS || ms < receivedMs - MAX_PAST_MS)
    return new Date(receivedMs).toISOString();
  return new Date(ms).toISOString();
}

export function normalizeFrame(f: unknown): Frame | undefined {
  if (!isObj(f)) return undefined;
  return {
    function: str(f.function),
    module: str(f.module),
    filename: str(f.filename),
    abs_path: str(f.abs_path),
    lineno: int(f.lineno),
    colno: int(f.colno),
    in_app: typeof f.in_app === 'boolean' ? f.in_app : undefined,
    context_line: str(f.context_line),
    pre_context: strArray(f.pre_context),
    post_context: strArray(f.post_context),
    platform: str(f.platform),
  };
}

export function normalizeStacktrace(st: unknown): { frames: Frame[] } | undefined {
  if (!isObj(st) || !Array.isArray(st.frames)) return undefined;
  const frames = st.frames.map(normalizeFrame).filter((f): f is Frame => f !== undefined);
  return frames.length > 0 ? { frames } : undefined;
}

function valuesOf(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (isObj(v)) {
    if (Array.isArray(v.values)) return v.values;
    // A single exception object (very old clients).
    if ('type' in v || 'value' in v) return [v];
  }
  return [];
}

export function normalizeException(e: unknown): ExceptionValue | undefined {
  if (!isObj(e)) return undefined;
  const value =
    typeof e.value === 'string'
      ? e.value
      : e.value === undefined || e.value === null
        ? undefined
        : JSON.stringify(limitDepth(e.value));
  const mechanism = isObj(e.mechanism)
    ? {
        ...e.mechanism,
        type: str(e.mechanism.type),
        handled: typeof e.mechanism.handled === 'boolean' ? e.mechanism.handled : undefined,
      }
    : undefined;
  const out = {
    type: str(e.type),
    value,
    module: str(e.module),
    mechanism,
    stacktrace: normalizeStacktrace(e.stacktrace) ?? normalizeStacktrace(e.raw_stacktrace),
  };
  return out.type === undefined && out.value === undefined && out.stacktrace === undefined ? undefined : out;
}

/** Tags as `{k: v}` or `[[k, v], …]` → string map (keys and values capped). */
export function normalizeTags(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (k: unknown, val: unknown) => {
    const key = str(k)?.trim();
    const value = str(val);
    if (key && value !== undefined) out[key.slice(0, MAX_TAG_KEY)] = value.slice(0, MAX_TAG_VALUE);
  };
  if (Array.isArray(v)) {
    for (const pair of v) if (Array.isArray(pair) && pair.length >= 2) put(pair[0], pair[1]);
  } else if (isObj(v)) {
    for (const [k, val] of Object.entries(v)) put(k, val);
  }
  return out;
}

function normalizeHeaders(v: unknown): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  const put = (k: unknown, val: unknown) => {
    const key = str(k);
    const value = str(val);
    if (key === undefined || value === undefined) return;
    out[key] = SENSITIVE_HEADERS.has(key.toLowerCase()) ? FILTERED : value;
  };
  if (Array.isArray(v)) for (const pair of v) Array.isArray(pair) && put(pair[0], pair[1]);
  else if (isObj(v)) for (const [k, val] of Object.entries(v)) put(k, val);
  else return undefined;
  return out;
}

export function normalizeRequest(v: unknown): InternalEvent['request'] {
  if (!isObj(v)) return undefined;
  const { url, method, headers, query_string, data, cookies: _cookies, ...rest } = v;
  return {
    ...rest,
    url: str(url),
    method: str(method),
    headers: normalizeHeaders(headers),
    query_string,
    data,
  };
}

function normalizeUser(v: unknown): InternalEvent['user'] {
  if (!isObj(v)) return undefined;
  const out = {
    ...v,
    id: str(v.id),
    email: str(v.email),
    username: str(v.username),
    ip_address: str(v.ip_address),
  };
  return hasAny(out) ? out : undefined;
}

function normalizeBreadcrumbs(v: unknown): InternalEvent['breadcrumbs'] {
  const list = valuesOf(v);
  const out: InternalEvent['breadcrumbs'] = [];
  // Keep the most recent ones when an SDK sends more than we keep.
  for (const b of list.slice(-MAX_BREADCRUMBS)) {
    if (!isObj(b)) continue;
    const ts = b.timestamp;
    out.push({
      timestamp: typeof ts === 'number' || typeof ts === 'string' ? ts : undefined,
      type: str(b.type),
      category: str(b.category),
      message: str(b.message),
      level: str(b.level),
      data: isObj(b.data) ? b.data : undefined,
    });
  }
  return out;
}

/** `message` (string or {formatted, message, params}) and `logentry` → message + template. */
function normalizeMessage(event: Obj): { message?: string; messageTemplate?: string } {
  const entry = isObj(event.logentry) ? event.logentry : isObj(event.message) ? event.message : undefined;
  if (entry) {
    const formatted = str(entry.formatted);
    const template = str(entry.message);
    const params = entry.params;
    let message = formatted ?? template;
    if (formatted === undefined && template !== undefined && Array.isArray(params)) {
      // Format %s-style templates the way Sentry does when the SDK did not.
      let i = 0;
      message = template.replace(/%[sdif]/g, (m) => (i < params.length ? String(str(params[i++]) ?? m) : m));
    }
    const messageTemplate = template !== undefined && template !== message ? template : undefined;
    // Some SDKs send both `logentry` and a plain `message` string.
    return { message: message ?? str(event.message), messageTemplate };
  }
  return { message: str(event.message) };
}

/** The stacktrace of the crashed or current thread, or the top-level `stacktrace`. */
function threadStacktrace(event: Obj): { frames: Frame[] } | undefined {
  const direct = normalizeStacktrace(event.stacktrace);
  if (direct) return direct;
  const threads = valuesOf(event.threads).filter(isObj);
  const pick =
    threads.find((t) => t.crashed === true) ?? threads.find((t) => t.current === true) ?? threads[0];
  return pick ? normalizeStacktrace(pick.stacktrace) : undefined;
}

export interface NormalizeInput {
  projectId: number;
  source: InternalEvent['source'];
  /** Event id from the envelope header when the payload has none. */
  fallbackEventId?: string;
  receivedMs: number;
  /**
   * The envelope's `sent_at`: when it is more than 55 minutes off the receive time the client clock
   * is wrong, and event timestamps are shifted by that drift (as Sentry's Relay does).
   */
  sentAt?: unknown;
  attachments?: InternalEvent['attachments'];
}

export function normalizeSentryEvent(event: Obj, input: NormalizeInput): InternalEvent {
  const eventId = normalizeEventId(event.event_id) ?? normalizeEventId(input.fallbackEventId) ?? newEventId();
  let exceptions = valuesOf(event.exception)
    .map(normalizeException)
    .filter((e): e is ExceptionValue => e !== undefined);
  let { message, messageTemplate } = normalizeMessage(event);
  // captureMessage with attachStacktrace (the Node SDK's default) wraps the call-site stack in a
  // type-less "synthetic" exception: it is a message with a stacktrace, not an error.
  let syntheticStack: { frames: Frame[] } | undefined;
  if (
    exceptions.length > 0 &&
    exceptions.every((e) => e.mechanism?.synthetic === true && e.type === undefined)
  ) {
    const last = exceptions[exceptions.length - 1]!;
    syntheticStack = last.stacktrace;
    message ??= last.value;
    exceptions = [];
  }
  const sdk = isObj(event.sdk) ? { name: str(event.sdk.name), version: str(event.sdk.version) } : undefined;
  const candidate = {
    eventId,
    projectId: input.projectId,
    timestamp: clampTimestamp(
      correctDrift(event.timestamp, input.sentAt, input.receivedMs),
      input.receivedMs,
    ),
    receivedAt: new Date(input.receivedMs).toISOString(),
    platform: str(event.platform) || 'other',
    level: normalizeLevel(event.level, 'error'),
    message: message || undefined,
    messageTemplate,
    logger: str(event.logger) || undefined,
    transaction: str(event.transaction) || str(event.culprit) || undefined,
    serverName: str(event.server_name) || undefined,
    release: str(event.release) || undefined,
    environment: str(event.environment) || undefined,
    dist: str(event.dist) || undefined,
    exceptions,
    stacktrace: exceptions.length === 0 ? (syntheticStack ?? threadStacktrace(event)) : undefined,
    tags: normalizeTags(event.tags),
    user: normalizeUser(event.user),
    request: normalizeRequest(event.request),
    contexts: isObj(event.contexts) ? event.contexts : {},
    breadcrumbs: normalizeBreadcrumbs(event.breadcrumbs),
    extra: isObj(event.extra) ? event.extra : {},
    fingerprint: strArray(event.fingerprint),
    sdk: sdk && hasAny(sdk) ? sdk : undefined,
    attachments: input.attachments ?? [],
    source: input.source,
  };
  // Every field above is built by a helper that yields the schema's type or undefined, so the
  // event is valid by construction: re-validating it with zod cost ~6% of the server's CPU on the
  // envelope hot path (measured with BENCH_CPU_PROF). parse.test.ts checks the construction against
  // the schema for the fixtures and for hostile payloads.
  return limitDepth(candidate) satisfies InternalEvent;
}

/**
 * Nesting beyond this depth (counted from the event's top level) is cut off and replaced by a marker.
 * Free-form bags (extra, contexts, request data, breadcrumb data) could otherwise carry JSON nested
 * thousands deep: JSON.parse copes, but JSON.stringify, zod and every consumer downstream recurse and
 * overflow the stack — a 500 here, a poisoned message in the workers. Relay trims rather than refuses,
 * and so do we: the event is kept.
 */
export const MAX_DEPTH = 32;
const TOO_DEEP = '[Filtered: nested too deeply]';

/** True when `v` nests deeper than `max` levels; stops walking as soon as it knows. */
function deeperThan(v: unknown, max: number): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (max <= 0) return true;
  if (Array.isArray(v)) {
    for (const x of v) if (deeperThan(x, max - 1)) return true;
  } else for (const k of Object.keys(v)) if (deeperThan((v as Obj)[k], max - 1)) return true;
  return false;
}

function trimDeep(v: unknown, max: number): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (max <= 0) return TOO_DEEP;
  if (Array.isArray(v)) return v.map((x) => trimDeep(x, max - 1));
  // No prototype, so a "__proto__" key parsed from JSON stays a plain key.
  const out: Obj = Object.create(null);
  for (const k of Object.keys(v)) out[k] = trimDeep((v as Obj)[k], max - 1);
  return out;
}

/** `v` itself when it nests at most `max` levels deep, else a copy cut off at that depth. */
export function limitDepth<T>(v: T, max = MAX_DEPTH): T {
  return deeperThan(v, max) ? (trimDeep(v, max) as T) : v;
}

/** Validate against the shared schema: a failure here is our bug or a hostile payload, so 400. */
export function finalize(input: Obj): InternalEvent {
  const candidate = limitDepth(input);
  const res = internalEventSchema.safeParse(candidate);
  if (!res.success) {
    const issue = res.error.issues[0]!;
    throw new AppError('bad_request', `invalid event: ${issue.path.join('.') || 'event'}: ${issue.message}`);
  }
  return res.data;
}
