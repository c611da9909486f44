import { createHash } from 'node:crypto';
import type { ExceptionValue, Frame } from '../events/schema.js';
import {
  frameKey,
  type GroupingEvent,
  mainException,
  type NormalizedEvent,
  normalizeFilename,
  significantFrames,
} from './normalize.js';
import { parameterize } from './parameterize.js';

/**
 * Grouping: which issue an event belongs to. The components are human-readable strings (stored
 * with the issue so the API can say why events grouped); the fingerprint is their SHA-256.
 *
 * Order: the event's own `fingerprint` (`{{ default }}` = the default components), then the
 * project's fingerprint rules, then the default: exception types with their in-app frames
 * (module or normalised filename + function, never line numbers), else type + parameterised
 * message, else the parameterised message.
 */
export type GroupingMethod = 'fingerprint' | 'rule' | 'exception' | 'stacktrace' | 'message' | 'fallback';

export interface Grouping {
  method: GroupingMethod;
  components: string[];
  /** The default components, when the fingerprint/rule included them or replaced them. */
  defaultComponents?: string[];
  /** The project rule that matched (its text), when method is 'rule'. */
  rule?: string;
  fingerprint: string;
}

export interface FingerprintRule {
  matchers: Array<{ key: string; pattern: string }>;
  fingerprint: string[];
  text: string;
}

const MAX_FRAMES = 50;

/** Frames that identify the code path: in-app ones, or all when none is in-app; recursion collapsed. */
export function groupingFrames(frames: Frame[]): string[] {
  const keys: string[] = [];
  for (const f of significantFrames(frames)) {
    const k = frameKey(f);
    if (k !== undefined && keys[keys.length - 1] !== k) keys.push(k);
  }
  // Keep the innermost frames: deep call paths differ most near the throw site.
  return keys.slice(-MAX_FRAMES);
}

function exceptionComponents(ex: ExceptionValue): string[] {
  const type = ex.type?.trim() || 'Error';
  const frames = groupingFrames(ex.stacktrace?.frames ?? []);
  if (frames.length > 0) return [`type:${type}`, ...frames.map((f) => `frame:${f}`)];
  const value = parameterize(ex.value ?? '');
  return value ? [`type:${type}`, `value:${value}`] : [`type:${type}`];
}

function messageOf(e: GroupingEvent): string | undefined {
  // The template is the message before formatting: its parameters are already separate.
  const m = e.messageTemplate?.trim() || e.message?.trim();
  return m ? parameterize(m) : undefined;
}

export function defaultGrouping(e: GroupingEvent): { method: GroupingMethod; components: string[] } {
  const exceptions = e.exceptions.filter((x) => x.type || x.value || x.stacktrace?.frames.length);
  if (exceptions.length > 0)
    return { method: 'exception', components: exceptions.flatMap(exceptionComponents) };
  const msg = messageOf(e);
  if (msg) return { method: 'message', components: [`message:${msg}`] };
  const frames = groupingFrames(e.stacktrace?.frames ?? []);
  if (frames.length > 0) return { method: 'stacktrace', components: frames.map((f) => `frame:${f}`) };
  return {
    method: 'fallback',
    components: [
      `fallback:${e.transaction ? parameterize(e.transaction) : e.logger || e.platform || 'event'}`,
    ],
  };
}

const isDefault = (v: string) => /^\{\{\s*default\s*\}\}$/i.test(v.trim());

/** Expand `{{ default }}` and the other Sentry variables in a fingerprint. */
function expand(
  values: string[],
  e: GroupingEvent,
  defaults: string[],
): { components: string[]; usedDefault: boolean } {
  const out: string[] = [];
  let usedDefault = false;
  const ex = mainException(e);
  for (const raw of values) {
    const v = String(raw);
    if (isDefault(v)) {
      out.push(...defaults);
      usedDefault = true;
      continue;
    }
    const m = /^\{\{\s*([\w.]+)\s*\}\}$/.exec(v.trim());
    if (m) {
      const name = m[1]!.toLowerCase();
      const value =
        name === 'type' || name === 'error.type'
          ? ex?.type
          : name === 'message' || name === 'error.value'
            ? (ex?.value ?? e.message)
            : name === 'transaction'
              ? e.transaction
              : name === 'level'
                ? e.level
                : name === 'logger'
                  ? e.logger
                  : undefined;
      out.push(`fingerprint:${value ?? `<no ${name}>`}`);
      continue;
    }
    out.push(`fingerprint:${v}`);
  }
  return { components: out, usedDefault };
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${body}$`, 'is');
}

function ruleValues(key: string, e: GroupingEvent, n: NormalizedEvent): string[] {
  const frames = e.exceptions.flatMap((x) => x.stacktrace?.frames ?? []).concat(e.stacktrace?.frames ?? []);
  switch (key) {
    case 'type':
    case 'error.type':
      return e.exceptions.map((x) => x.type ?? '').filter(Boolean);
    case 'message':
    case 'value':
    case 'error.value':
      return [...e.exceptions.map((x) => x.value ?? ''), e.message ?? '', e.messageTemplate ?? ''].filter(
        Boolean,
      );
    case 'module':
    case 'stack.module':
      return frames.map((f) => f.module ?? '').filter(Boolean);
    case 'function':
    case 'stack.function':
      return frames.map((f) => f.function ?? '').filter(Boolean);
    case 'path':
    case 'stack.abs_path':
    case 'filename':
      return frames
        .flatMap((f) => [
          f.abs_path ?? '',
          f.filename ?? '',
          f.filename || f.abs_path ? normalizeFilename(f.filename || f.abs_path || '') : '',
        ])
        .filter(Boolean);
    case 'level':
      return [e.level];
    case 'logger':
      return e.logger ? [e.logger] : [];
    case 'release':
      return n.release ? [n.release] : [];
    case 'environment':
      return [n.environment];
    case 'transaction':
      return e.transaction ? [e.transaction] : [];
    default:
      if (key.startsWith('tags.')) {
        const v = n.tags[key.slice(5)];
        return v !== undefined ? [v] : [];
      }
      return [];
  }
}

function ruleMatches(rule: FingerprintRule, e: GroupingEvent, n: NormalizedEvent): boolean {
  return rule.matchers.every(({ key, pattern }) => {
    const re = globToRegExp(pattern);
    return ruleValues(key, e, n).some((v) => re.test(v));
  });
}

/**
 * Parse project fingerprint rules. Accepted forms (settings.fingerprintRules):
 * Sentry's text syntax, one rule per line — `error.type:DatabaseError message:"*timeout*" -> db, {{ default }}` —
 * as one string or an array of lines; or objects `{ matchers: {type: "...", "tags.x": "..."}, fingerprint: [...] }`.
 * Lines that do not parse are skipped.
 */
export function parseFingerprintRules(input: unknown): FingerprintRule[] {
  const out: FingerprintRule[] = [];
  const items = typeof input === 'string' ? input.split('\n') : Array.isArray(input) ? input : [];
  for (const item of items) {
    if (typeof item === 'string') {
      const line = item.trim();
      if (line === '' || line.startsWith('#')) continue;
      const arrow = line.indexOf('->');
      if (arrow < 0) continue;
      const lhs = line.slice(0, arrow);
      const fingerprint = line
        .slice(arrow + 2)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const matchers: FingerprintRule['matchers'] = [];
      for (const m of lhs.matchAll(/([\w.-]+):(?:"((?:[^"\\]|\\.)*)"|(\S+))/g))
        matchers.push({ key: m[1]!.toLowerCase(), pattern: (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1') });
      if (matchers.length > 0 && fingerprint.length > 0) out.push({ matchers, fingerprint, text: line });
    } else if (item && typeof item === 'object') {
      const o = item as { matchers?: unknown; match?: unknown; fingerprint?: unknown };
      const m = (o.matchers ?? o.match) as Record<string, unknown> | undefined;
      const fp = Array.isArray(o.fingerprint) ? o.fingerprint.map(String) : [];
      if (!m || typeof m !== 'object' || fp.length === 0) continue;
      const matchers: FingerprintRule['matchers'] = [];
      for (const [k, v] of Object.entries(m)) {
        if (k === 'tags' && v && typeof v === 'object')
          for (const [tk, tv] of Object.entries(v)) matchers.push({ key: `tags.${tk}`, pattern: String(tv) });
        else if (typeof v === 'string') matchers.push({ key: k.toLowerCase(), pattern: v });
      }
      if (matchers.length > 0)
        out.push({
          matchers,
          fingerprint: fp,
          text: `${matchers.map((x) => `${x.key}:${x.pattern}`).join(' ')} -> ${fp.join(', ')}`,
        });
    }
  }
  return out;
}

export function hashComponents(components: string[]): string {
  return createHash('sha256').update(components.join('\n')).digest('hex');
}

export function computeGrouping(n: NormalizedEvent, rules: FingerprintRule[] = []): Grouping {
  const e = n.event;
  const def = defaultGrouping(e);
  const fp = e.fingerprint?.filter((v) => typeof v === 'string' && v !== '');
  if (fp && fp.length > 0 && !(fp.length === 1 && isDefault(fp[0]!))) {
    const { components } = expand(fp, e, def.components);
    return {
      method: 'fingerprint',
      components,
      defaultComponents: def.components,
      fingerprint: hashComponents(components),
    };
  }
  for (const rule of rules) {
    if (!ruleMatches(rule, e, n)) continue;
    const { components } = expand(rule.fingerprint, e, def.components);
    return {
      method: 'rule',
      components,
      defaultComponents: def.components,
      rule: rule.text,
      fingerprint: hashComponents(components),
    };
  }
  return { method: def.method, components: def.components, fingerprint: hashComponents(def.components) };
}
