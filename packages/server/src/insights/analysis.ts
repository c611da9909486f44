import type { ExceptionValue, Frame } from '../events/schema.js';
import type { ChatMessage } from './providers.js';
import { scrub } from './scrub.js';

/** What an analysis looks at: the issue, its latest event and a little history. */
export interface IssueContext {
  issue: {
    id: number;
    projectId: number;
    title: string;
    culprit: string | null;
    level: string;
    platform: string | null;
    count: number;
    userCount: number;
    firstSeen: string;
    lastSeen: string;
    firstRelease: string | null;
    lastRelease: string | null;
  };
  latestEvent?: {
    exceptions?: ExceptionValue[];
    stacktrace?: { frames: Frame[] };
    message?: string;
    breadcrumbs?: Array<{
      timestamp?: unknown;
      category?: string;
      message?: string;
      level?: string;
      data?: unknown;
    }>;
    tags?: Record<string, string>;
    release?: string;
    environment?: string;
    request?: unknown;
    contexts?: Record<string, unknown>;
  };
  /** Events per hour, oldest first, for the last 48 hours. */
  hourly: number[];
  related: Array<{ id: number; title: string; culprit: string | null; count: number; reason: string }>;
}

export interface BuiltInSummary {
  summary: string;
  culprit: { function?: string; file?: string; line?: number } | null;
  started: { firstSeen: string; firstRelease: string | null };
  spiking: boolean;
  lastHour: number;
  hourlyBaseline: number;
  affectedUsers: number;
  related: IssueContext['related'];
}

function allFrames(ctx: IssueContext): Frame[] {
  const ev = ctx.latestEvent;
  const fromExceptions = (ev?.exceptions ?? []).flatMap((e) => e.stacktrace?.frames ?? []);
  return fromExceptions.length > 0 ? fromExceptions : (ev?.stacktrace?.frames ?? []);
}

/** In-app frames, innermost first (falls back to all frames when none is marked in-app). */
export function inAppFrames(ctx: IssueContext): Frame[] {
  const frames = allFrames(ctx);
  const inApp = frames.filter((f) => f.in_app);
  return (inApp.length > 0 ? inApp : frames).slice().reverse();
}

/** Spiking: the last full hour is at least 3× the median hour of the previous day, and ≥ 10 events. */
function spike(hourly: number[]): { spiking: boolean; lastHour: number; baseline: number } {
  const lastHour = hourly.at(-1) ?? 0;
  const prev = hourly
    .slice(-25, -1)
    .slice()
    .sort((a, b) => a - b);
  const baseline = prev.length ? (prev[Math.floor(prev.length / 2)] ?? 0) : 0;
  return { spiking: lastHour >= 10 && lastHour >= 3 * Math.max(baseline, 1), lastHour, baseline };
}

/** The data-only analysis: honest, useful without any model, and labelled as not AI. */
export function builtInSummary(ctx: IssueContext): BuiltInSummary {
  const top = inAppFrames(ctx)[0];
  const file = top?.filename ?? top?.abs_path ?? top?.module;
  const s = spike(ctx.hourly);
  const parts: string[] = [];
  parts.push(
    top
      ? `Raised in ${top.function ?? '<anonymous>'}${file ? ` (${file}${top.lineno ? `:${top.lineno}` : ''})` : ''}.`
      : `No stack trace; grouped by message${ctx.issue.culprit ? ` (culprit ${ctx.issue.culprit})` : ''}.`,
  );
  parts.push(
    `First seen ${ctx.issue.firstSeen}${ctx.issue.firstRelease ? ` in release ${ctx.issue.firstRelease}` : ''}; ${ctx.issue.count} event${ctx.issue.count === 1 ? '' : 's'} so far.`,
  );
  parts.push(
    s.spiking
      ? `Spiking: ${s.lastHour} events in the last hour against a typical ${s.baseline} per hour.`
      : `Not spiking (${s.lastHour} in the last hour, typical ${s.baseline}).`,
  );
  parts.push(
    ctx.issue.userCount > 0
      ? `${ctx.issue.userCount} user${ctx.issue.userCount === 1 ? '' : 's'} affected.`
      : 'No user information on these events.',
  );
  if (ctx.related.length > 0)
    parts.push(`Related: ${ctx.related.map((r) => `#${r.id} ${r.title} (${r.reason})`).join('; ')}.`);
  return {
    summary: parts.join(' '),
    culprit: top ? { function: top.function, file, line: top.lineno } : null,
    started: { firstSeen: ctx.issue.firstSeen, firstRelease: ctx.issue.firstRelease },
    spiking: s.spiking,
    lastHour: s.lastHour,
    hourlyBaseline: s.baseline,
    affectedUsers: ctx.issue.userCount,
    related: ctx.related,
  };
}

const SYSTEM = `You are a senior engineer helping triage a production error from an error tracker.
Answer ONLY with a JSON object with exactly these keys:
{"probableCause": string, "whereToLook": string, "suggestedFix": string, "confidence": "low" | "medium" | "high"}
Base the answer on the stack trace, breadcrumbs and tags given. Be concrete and brief. If the data is not enough, say so and use "low" confidence.`;

/** The prompt, built from scrubbed data only. */
export function buildPrompt(raw: IssueContext): ChatMessage[] {
  const ctx = scrub(raw);
  const ev = ctx.latestEvent;
  const frames = inAppFrames(ctx)
    .slice(0, 8)
    .map((f) => {
      const where = `${f.function ?? '<anonymous>'} at ${f.filename ?? f.module ?? f.abs_path ?? '?'}:${f.lineno ?? '?'}`;
      const code = [
        ...(f.pre_context ?? []).map((l) => `    ${l}`),
        f.context_line !== undefined ? `  > ${f.context_line}` : undefined,
        ...(f.post_context ?? []).map((l) => `    ${l}`),
      ].filter((l): l is string => l !== undefined);
      return [where, ...code].join('\n');
    });
  const exceptions = (ev?.exceptions ?? []).map((e) => `${e.type ?? 'Error'}: ${e.value ?? ''}`);
  const crumbs = (ev?.breadcrumbs ?? [])
    .slice(-10)
    .map((b) =>
      `[${b.level ?? 'info'}] ${b.category ?? ''} ${b.message ?? (b.data ? JSON.stringify(b.data).slice(0, 200) : '')}`.trim(),
    );
  const tags = Object.entries(ev?.tags ?? {})
    .slice(0, 30)
    .map(([k, v]) => `${k}=${v}`);
  const user = [
    `Issue: ${ctx.issue.title}`,
    `Culprit: ${ctx.issue.culprit ?? 'unknown'}`,
    `Level: ${ctx.issue.level}; platform: ${ctx.issue.platform ?? 'unknown'}`,
    `Events: ${ctx.issue.count}; users affected: ${ctx.issue.userCount}; first seen ${ctx.issue.firstSeen}; last seen ${ctx.issue.lastSeen}`,
    `Release: ${ev?.release ?? ctx.issue.lastRelease ?? 'unknown'} (first seen in ${ctx.issue.firstRelease ?? 'unknown'}); environment: ${ev?.environment ?? 'unknown'}`,
    exceptions.length
      ? `Exception chain:\n${exceptions.join('\n')}`
      : ev?.message
        ? `Message: ${ev.message}`
        : '',
    frames.length ? `In-app frames, innermost first:\n${frames.join('\n\n')}` : 'No stack trace.',
    crumbs.length ? `Breadcrumbs (oldest first):\n${crumbs.join('\n')}` : '',
    tags.length ? `Tags: ${tags.join(', ')}` : '',
  ]
    .filter(Boolean)
    .join('\n\n');
  return [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: user.slice(0, 16_000) },
  ];
}
