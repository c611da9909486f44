import type { ExceptionValue, Mechanism, StackFrame } from './types.js';

const MAX_FRAMES = 50;
const UNKNOWN = '?';

/** Optional hook to derive a module name from a filename (Node sets one). */
export type ModuleResolver = (filename: string) => string | undefined;

const LOCATION = /^(.*?)(?::(\d+))?(?::(\d+))?$/;

function splitLocation(loc: string): { file: string; line?: number; col?: number } {
  const m = LOCATION.exec(loc.trim())!;
  return { file: m[1]!, line: m[2] ? Number(m[2]) : undefined, col: m[3] ? Number(m[3]) : undefined };
}

/** Whether a frame's file belongs to the application (not a dependency, runtime or native code). */
export function isInApp(filename: string | undefined): boolean {
  if (!filename) return false;
  if (filename.includes('/node_modules/') || filename.includes('\\node_modules\\')) return false;
  if (/^(node:|internal[/:]|native\b|\[native code\]|<anonymous>|index \d+$)/.test(filename)) return false;
  return !filename.startsWith('chrome-extension:') && !filename.startsWith('moz-extension:');
}

function frame(fn: string | undefined, loc: string, resolveModule?: ModuleResolver): StackFrame {
  const { file, line, col } = splitLocation(loc);
  const filename = file.startsWith('file://') ? decodeURI(file.slice(7)) : file;
  const f: StackFrame = { function: fn?.trim() || UNKNOWN, filename, abs_path: filename };
  if (line !== undefined) f.lineno = line;
  if (col !== undefined) f.colno = col;
  f.in_app = isInApp(filename);
  const mod = resolveModule?.(filename);
  if (mod) f.module = mod;
  return f;
}

/** `    at fn (loc)` / `    at loc` / `    at async fn (loc)` / eval frames (V8: Chrome, Node, Edge). */
function parseV8Line(line: string, resolveModule?: ModuleResolver): StackFrame | undefined {
  let rest = line.trim().slice(3).trim();
  if (rest.startsWith('async ')) rest = rest.slice(6);
  if (!rest.endsWith(')')) return frame(undefined, rest, resolveModule);
  // The location is the last parenthesised group; find its opening parenthesis.
  let depth = 0;
  let open = -1;
  for (let i = rest.length - 1; i >= 0; i--) {
    if (rest[i] === ')') depth++;
    else if (rest[i] === '(' && --depth === 0) {
      open = i;
      break;
    }
  }
  if (open <= 0) return frame(undefined, rest, resolveModule);
  const fn = rest.slice(0, open).trim();
  let loc = rest.slice(open + 1, -1);
  // `eval at outer (file.js:1:2), <anonymous>:3:4`: report the file that called eval.
  const evalAt = /^eval at [^(]*\((.*?)\)(?:, .*)?$/.exec(loc);
  if (evalAt) loc = evalAt[1]!.replace(/^eval at [^(]*\(/, '');
  return frame(fn, loc, resolveModule);
}

/** `fn@loc`, `@loc`, `fn/<@loc`, `global code@loc`, `loc` (SpiderMonkey: Firefox; JavaScriptCore: Safari). */
function parseGeckoLine(line: string, resolveModule?: ModuleResolver): StackFrame | undefined {
  const s = line.trim();
  if (!s) return undefined;
  const at = s.indexOf('@');
  let fn = at >= 0 ? s.slice(0, at) : '';
  let loc = at >= 0 ? s.slice(at + 1) : s;
  if (loc === '[native code]') return { function: fn || UNKNOWN, filename: loc, in_app: false };
  // Firefox eval: `http://x/a.js line 12 > eval:1:5` → the file and line that called eval.
  const evalM = /^(.*?) line (\d+) > (?:eval|Function)/.exec(loc);
  if (evalM) {
    loc = `${evalM[1]}:${evalM[2]}`;
    fn = fn || 'eval';
  }
  if (!/:\d+$/.test(loc) || (at < 0 && !/^([a-z][\w+.-]*:\/\/|\/)/i.test(loc))) return undefined;
  return frame(fn, loc, resolveModule);
}

/**
 * Parse an `Error.stack` string from V8, SpiderMonkey or JavaScriptCore into frames, oldest first
 * (Sentry's order: the frame that threw is last).
 *
 * @example parseStack(new Error('x').stack).at(-1)?.function
 */
export function parseStack(stack: string | undefined, resolveModule?: ModuleResolver): StackFrame[] {
  if (!stack || typeof stack !== 'string') return [];
  const lines = stack.split('\n');
  const v8 = lines.some((l) => /^\s*at /.test(l));
  const frames: StackFrame[] = [];
  for (const line of lines) {
    if (line.length > 1024) continue;
    const f = v8
      ? /^\s*at /.test(line)
        ? parseV8Line(line, resolveModule)
        : undefined
      : parseGeckoLine(line, resolveModule);
    if (f) frames.push(f);
    if (frames.length >= MAX_FRAMES) break;
  }
  return frames.reverse();
}

function errorName(err: Error): string {
  const ctorName = (err as { constructor?: { name?: string } }).constructor?.name;
  return err.name && err.name !== 'Error' ? err.name : ctorName || err.name || 'Error';
}

function isErrorLike(v: unknown): v is Error {
  return (
    v instanceof Error ||
    (typeof v === 'object' && v !== null && typeof (v as Error).message === 'string' && 'stack' in v)
  );
}

function describeNonError(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined || typeof v !== 'object') return String(v);
  const keys = Object.keys(v).sort();
  return `Non-Error exception captured with keys: ${keys.slice(0, 10).join(', ') || '[object has no keys]'}`;
}

/** One exception value (no chain) for any thrown value. */
export function exceptionFromValue(v: unknown, resolveModule?: ModuleResolver): ExceptionValue {
  if (isErrorLike(v)) {
    const ex: ExceptionValue = { type: errorName(v), value: String(v.message ?? '') };
    const frames = parseStack(v.stack, resolveModule);
    if (frames.length) ex.stacktrace = { frames };
    return ex;
  }
  return { type: 'Error', value: describeNonError(v) };
}

/**
 * Exception values for an error and its `cause` chain, outermost last (Sentry's order), with
 * mechanism ids linking each cause to its parent.
 *
 * @example exceptionChain(new Error('outer', { cause: new Error('inner') })).map((e) => e.value) // ['inner', 'outer']
 */
export function exceptionChain(
  err: unknown,
  mechanism: Mechanism,
  resolveModule?: ModuleResolver,
  limit = 5,
): ExceptionValue[] {
  const values: ExceptionValue[] = [];
  const seen = new Set<unknown>();
  let cur: unknown = err;
  for (let i = 0; i < limit && cur !== undefined && !seen.has(cur); i++) {
    seen.add(cur);
    const ex = exceptionFromValue(cur, resolveModule);
    ex.mechanism =
      i === 0
        ? { ...mechanism, exception_id: 0 }
        : { type: 'chained', source: 'cause', handled: mechanism.handled, exception_id: i, parent_id: i - 1 };
    values.push(ex);
    cur = isErrorLike(cur) ? (cur as { cause?: unknown }).cause : undefined;
  }
  return values.reverse();
}
