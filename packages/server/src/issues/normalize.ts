import { createHash } from 'node:crypto';
import type { ExceptionValue, Frame, InternalEvent, Level } from '../events/schema.js';

/**
 * What normalisation and grouping read of an event. The worker parses no more than this
 * (breadcrumbs, extra, request and source context are stored verbatim, never validated again).
 */
export type GroupingEvent = Omit<InternalEvent, 'breadcrumbs' | 'extra' | 'request' | 'attachments' | 'sdk'>;

/**
 * Normalisation: the event as the SDK sent it becomes the event as grouping, storage and the API
 * need it — in-app frames decided, timestamps parsed and clamped, user reduced to a stable key,
 * tags merged from the well-known fields, title and culprit derived.
 */

const libraryPath =
  /(^|[/\\])(node_modules|bower_components|jspm_packages|site-packages|dist-packages|vendor|\.pnpm|gems|\.cargo)([/\\]|$)|^node:|^internal[/\\]|^<anonymous>$|^native$|^\[native code\]$|^(\/usr\/(local\/)?lib|\/System\/Library|\/opt\/homebrew)\//;

/**
 * JavaScript dependencies and runtime code: never in-app, whatever the SDK said. @sentry/browser
 * marks every frame in-app (`<anonymous>` and dev-server `node_modules` ones included) while
 * @beacon/sdk does not; trusting either would group the same bug differently per SDK.
 */
const alwaysLibrary =
  /(^|[/\\])(node_modules|bower_components|jspm_packages|\.pnpm)([/\\]|$)|^node:|^internal[/\\]|^<anonymous>$|^native$|^\[native code\]$/;

/**
 * Frames the error-reporting SDK or the toolchain put into the stack: the SDKs' own files and
 * wrappers (`sentryWrapped` around listeners and timers), runtime internals (`node:*`,
 * `<anonymous>`, native code), bundler runtimes (webpack bootstrap/runtime chunks, the Vite
 * client) and `eval` frames (whose location SDKs report differently). They say nothing about
 * the bug, change with the SDK, bundler or runtime version, and never take part in grouping.
 */
const instrumentationFile =
  /(^|[/\\])(@sentry(-internal)?[/\\_+]|@beacon[/\\_+]sdk([/\\@.]|$)|sentry_sdk[/\\]|@vite[/\\]client|@react-refresh)|sentry-cdn\.com\/|(^|\/)beacon(\.iife)?\.min\.js$|^node:|^internal[/\\]|^<anonymous>$|^native$|^\[native code\]$|(^|[/:\\])webpack[/\\](bootstrap|runtime)([/\\]|$)|(^|[/\\])(webpack-runtime|runtime[-~]main)[^/\\]*\.js$|(^|[/\\])runtime\.[0-9a-f]{8,}\.js$|\/_next\/static\/chunks\/webpack-[^/]*\.js$/i;
const instrumentationModule = /^(sentry_sdk|io\.sentry(?!\.samples\.)|Sentry\\)([.\\]|$)/;
const instrumentationFunction = /(^|\.)sentryWrapped$|^__webpack_require__(\.|$)/;
/** Where a JavaScript `eval` frame may point: nowhere, a script URL or a JavaScript file. */
const scriptFile = /^$|^[a-z][\w+.-]*:\/\/|\.[cm]?[jt]sx?([?#]|$)/i;

export function isInstrumentation(frame: Frame): boolean {
  if (frame.function && instrumentationFunction.test(frame.function)) return true;
  if (frame.module && instrumentationModule.test(frame.module)) return true;
  const file = frame.abs_path || frame.filename;
  // JavaScript eval code: V8 names the frame `eval`; Python's or PHP's own `eval` functions count.
  if (frame.function === 'eval' && !frame.module && scriptFile.test(file ?? '')) return true;
  return file !== undefined && file !== '' && instrumentationFile.test(file);
}

/** In-app unless the SDK said otherwise or the file obviously belongs to a library or the runtime. */
export function isInApp(frame: Frame): boolean {
  const file = frame.abs_path || frame.filename || '';
  if (frame.in_app !== undefined) return frame.in_app && !alwaysLibrary.test(file);
  if (file === '') return frame.module !== undefined;
  return !libraryPath.test(file);
}

/**
 * The frames that identify the code path, outermost first: instrumentation dropped, then the
 * in-app frames, or all that remain when none is in-app.
 */
export function significantFrames(frames: readonly Frame[]): Frame[] {
  const own = frames.filter((f) => !isInstrumentation(f));
  // When the SDK marked some frames in-app (Java, Android, Python with in_app_include), a frame it
  // left unflagged is not the app's: its path says nothing (`View.java`, `ZygoteInit.java`).
  const marked = own.some((f) => f.in_app === true);
  const inApp = own.filter((f) => (marked && f.in_app === undefined ? false : isInApp(f)));
  return inApp.length > 0 ? inApp : own;
}

const rootMarkers = new Set([
  'src',
  'lib',
  'app',
  'dist',
  'build',
  'out',
  'source',
  'sources',
  'www',
  'public',
  'static',
]);

function cleanSegment(seg: string): string {
  // Hashed bundle names: main.3f2a9c1b.js, index-BZy3k9aQ.js, chunk.1a2b3c4d5e.css.
  let s = seg.replace(/[.-](?=[A-Za-z0-9_]*\d)(?=[A-Za-z0-9_]*[A-Za-z])[A-Za-z0-9_]{8,}(?=\.[A-Za-z]+$)/, '');
  // Rollup/Vite hashes: 8 base64url characters (`-` and `_` included), a quarter of them without
  // a digit (index-BmXkQzPa.js, index-D-x_a1B2.js); mixed case or digits tell them from words.
  s = s.replace(/[.-]([\w-]{8})(?=\.[A-Za-z]+$)/, (m, h: string) =>
    (/[a-z]/.test(h) && /[A-Z]/.test(h)) || (/\d/.test(h) && /[A-Za-z]/.test(h)) ? '' : m,
  );
  // Versions: jquery-3.6.0.min.js, express@4.18.2, v1.2.3, 1.0.0-rc.1
  s = s.replace(/(^|[@_-])v?\d+(?:\.\d+)+(?:-[0-9A-Za-z]+(?:\.[0-9A-Za-z]+)*)?(?=$|[._-])/, (m, p: string) =>
    p === '' ? m : '',
  );
  return s;
}

function isNoiseSegment(seg: string): boolean {
  return (
    /^[0-9a-f]{7,64}$/i.test(seg) || // deploy hashes, commit ids
    /^\d{6,}$/.test(seg) || // timestamped release dirs
    /^v?\d+(?:\.\d+)+(?:[-+][0-9A-Za-z.]+)?$/.test(seg) || // version dirs
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(seg) ||
    /^(?:release|build|deploy)[-_]?[0-9a-f]{6,}$/i.test(seg)
  );
}

/**
 * A filename that is the same on every machine and every deploy: no URL origin, query string or
 * fragment, no absolute prefix, no content hashes or versions, libraries by package path.
 */
export function normalizeFilename(file: string): string {
  let f = file.trim().replaceAll('\\', '/');
  f = f.replace(/[?#].*$/, '');
  f = f.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, ''); // http://host:port, webpack://, app://, file://
  f = f.replace(/^webpack-internal:\/+/i, '/');
  f = f.replace(/^[a-z]:\//i, '/'); // Windows drive
  const nm = f.lastIndexOf('node_modules/');
  if (nm >= 0) f = f.slice(nm + 'node_modules/'.length);
  const sp = Math.max(f.lastIndexOf('site-packages/'), f.lastIndexOf('dist-packages/'));
  if (sp >= 0) f = f.slice(f.indexOf('/', sp) + 1);
  let segs = f.split('/').filter((s) => s !== '' && s !== '.' && s !== '..');
  segs = segs.filter((s, i) => i === segs.length - 1 || !isNoiseSegment(s)).map(cleanSegment);
  if (nm < 0 && sp < 0 && file.replaceAll('\\', '/').match(/^(?:[a-z]:)?\//i)) {
    // Absolute path: keep what follows the last well-known source root, else the file name.
    let cut = -1;
    for (let i = segs.length - 2; i >= 0; i--)
      if (rootMarkers.has(segs[i]!.toLowerCase())) {
        cut = i;
        break;
      }
    segs = cut >= 0 ? segs.slice(cut) : segs.slice(-1);
  }
  return segs.join('/');
}

/** Function names without per-process noise (lambda ids, addresses, promise indices). */
export function normalizeFunction(fn: string): string {
  return fn
    .replace(/\s*\(index \d+\)$/, '')
    .replace(/\$\$Lambda\$\d+\/(?:0x)?[0-9a-f]+/gi, '$$Lambda')
    .replace(/\blambda\$(\w+)\$\d+/g, 'lambda$$$1')
    .replace(/0x[0-9a-f]+/gi, '<addr>')
    .replace(/\.\d+\b/g, '')
    .trim();
}

export function normalizeModule(mod: string): string {
  return (
    mod
      .replace(/\$\$ExternalSyntheticLambda\d+/g, '$$$$ExternalSyntheticLambda') // Android D8 numbering
      // Runtime-generated JVM classes, named anew by every process: Spring CGLIB proxies,
      // Hibernate proxies, JDK dynamic proxies.
      .replace(/\$\$((?:EnhancerBy|FastClassBy)\w*?CGLIB)\$\$[0-9a-f]+/gi, '$$$$$1')
      .replace(/\$\$SpringCGLIB\$\$\d+/g, '$$$$SpringCGLIB')
      .replace(/\$HibernateProxy\$\w+/g, '$$HibernateProxy')
      .replace(/\$Proxy\d+\b/g, '$$Proxy')
      .replace(/^jdk\.proxy\d+\./, 'jdk.proxy.')
      .replace(/\$\$Lambda\$\d+\/(?:0x)?[0-9a-f]+/gi, '$$Lambda')
      .replace(/0x[0-9a-f]+/gi, '<addr>')
      .replace(/\$\d+$/g, '')
  );
}

/** The part of a frame that identifies the code: module (or normalised filename) and function. */
/** Where a frame's code lives: its module when the SDK sent one, else its normalised filename. */
export function frameLocation(frame: Frame): string {
  if (frame.module) return normalizeModule(frame.module);
  const file = frame.filename || frame.abs_path;
  return file ? normalizeFilename(file) : '';
}

export function frameKey(frame: Frame): string | undefined {
  const where = frameLocation(frame);
  const fn = frame.function && frame.function !== '?' ? normalizeFunction(frame.function) : '';
  if (where === '' && fn === '') return undefined;
  return `${where}:${fn}`;
}

export interface NormalizedEvent {
  event: GroupingEvent;
  timestamp: Date;
  receivedAt: Date;
  level: Level;
  platform: string;
  release?: string;
  environment: string;
  /** Stable hash of the user (id, else email, username, IP); undefined without user data. */
  userKey?: string;
  userLabel?: string;
  /** Tags with the well-known fields merged in (level, environment, release, ...). */
  tags: Record<string, string>;
  title: string;
  culprit: string | null;
  /** Exception type and message, for project fingerprint rules. */
  type?: string;
  value?: string;
  message?: string;
}

const cap = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function parseTime(s: string | undefined): Date | undefined {
  if (!s) return undefined;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** The main exception: Sentry lists chained exceptions outermost last. */
export function mainException(e: GroupingEvent): ExceptionValue | undefined {
  return e.exceptions[e.exceptions.length - 1];
}

function culpritOf(e: GroupingEvent): string | null {
  const top = significantFrames(mainException(e)?.stacktrace?.frames ?? e.stacktrace?.frames ?? []).at(-1);
  if (top) {
    const where = frameLocation(top);
    const fn = top.function && top.function !== '?' ? top.function : '';
    const c = where && fn ? `${where} in ${fn}` : where || fn;
    if (c) return cap(c, 200);
  }
  return e.transaction ? cap(e.transaction, 200) : null;
}

function titleOf(e: GroupingEvent): string {
  const ex = mainException(e);
  if (ex && (ex.type || ex.value)) {
    const firstLine = (ex.value ?? '').split('\n')[0]!.trim();
    return cap(ex.type ? (firstLine ? `${ex.type}: ${firstLine}` : ex.type) : firstLine, 200);
  }
  const msg = (e.message ?? e.messageTemplate ?? '').split('\n')[0]!.trim();
  if (msg) return cap(msg, 200);
  return e.transaction ? cap(e.transaction, 200) : '<unlabeled event>';
}

function userOf(e: GroupingEvent): { key?: string; label?: string } {
  const u = e.user;
  if (!u) return {};
  const ident = u.id
    ? `id:${u.id}`
    : u.email
      ? `email:${u.email}`
      : u.username
        ? `username:${u.username}`
        : u.ip_address
          ? `ip:${u.ip_address}`
          : undefined;
  if (!ident) return {};
  return {
    key: createHash('sha256').update(ident).digest('hex').slice(0, 32),
    label: cap(String(u.id ?? u.email ?? u.username ?? u.ip_address), 200),
  };
}

function contextName(ctx: unknown): string | undefined {
  if (!ctx || typeof ctx !== 'object') return undefined;
  const c = ctx as { name?: unknown; version?: unknown };
  if (typeof c.name !== 'string') return undefined;
  return typeof c.version === 'string' ? `${c.name} ${c.version}` : c.name;
}

const tagKey = /^[\w.:-]{1,64}$/;

export function normalizeEvent(e: GroupingEvent): NormalizedEvent {
  const receivedAt = parseTime(e.receivedAt) ?? new Date();
  let timestamp = parseTime(e.timestamp) ?? receivedAt;
  // A client clock far ahead must not pin "last seen" in the future.
  if (timestamp.getTime() > receivedAt.getTime() + 60_000) timestamp = receivedAt;
  const environment = cap(e.environment?.trim() || 'production', 64);
  const release = e.release?.trim() ? cap(e.release.trim(), 200) : undefined;
  const user = userOf(e);
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(e.tags)) if (tagKey.test(k) && v !== '') tags[k] = cap(String(v), 200);
  tags.level = e.level;
  tags.environment = environment;
  if (release) tags.release = release;
  if (e.serverName) tags.server_name = cap(e.serverName, 200);
  if (e.transaction) tags.transaction = cap(e.transaction, 200);
  if (user.label) tags.user = user.label;
  for (const [ctx, tag] of [
    ['browser', 'browser'],
    ['os', 'os'],
    ['runtime', 'runtime'],
    ['device', 'device'],
  ] as const) {
    const name = contextName(e.contexts[ctx]);
    if (name && !(tag in tags)) tags[tag] = cap(name, 200);
  }
  const ex = mainException(e);
  return {
    event: e,
    timestamp,
    receivedAt,
    level: e.level,
    platform: e.platform || 'other',
    release,
    environment,
    userKey: user.key,
    userLabel: user.label,
    tags,
    title: titleOf(e),
    culprit: culpritOf(e),
    type: ex?.type,
    value: ex?.value,
    message: e.message ?? e.messageTemplate,
  };
}
