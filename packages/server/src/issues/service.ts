import type { AppContext } from '../context.js';
import { levels } from '../events/schema.js';
import {
  accessibleProjectIds,
  type Permission,
  type Principal,
  requireProjectPermission,
} from '../identity/access.js';
import { orgRole } from '../identity/store.js';
import { AppError, badRequest, notFound } from '../platform/errors.js';
import * as store from './store.js';

/** The issue API's logic: tenancy checks, filters, cursors, lifecycle changes. No HTTP here. */

const HOUR = 3_600_000;

export type IssueStatus = 'unresolved' | 'resolved' | 'ignored';

export interface ListQuery {
  status?: string;
  level?: string;
  environment?: string;
  release?: string;
  tag?: string[];
  query?: string;
  sort?: store.IssueSort;
  cursor?: string;
  limit?: number;
  assignee?: string;
}

const encodeCursor = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
function decodeCursor<T>(c: string, check: (v: unknown) => v is T): T {
  try {
    const v = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as unknown;
    if (check(v)) return v;
  } catch {}
  throw badRequest('invalid cursor');
}

// Cursor parts are checked as strictly as the values the API itself writes into cursors: anything
// else would reach PostgreSQL as a cast error (a 500) or as one of its special inputs ('yesterday').
const isId = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isTime = (v: unknown): v is string =>
  typeof v === 'string' &&
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(v) &&
  new Date(v).toISOString() === v;

/** Split `key:value` (value may be quoted); undefined when there is no colon. */
function splitKeyValue(s: string): { key: string; value: string } | undefined {
  const i = s.indexOf(':');
  if (i <= 0) return undefined;
  return {
    key: s.slice(0, i).trim(),
    value: s
      .slice(i + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1'),
  };
}

/**
 * Sentry-style search: `is:resolved level:error environment:prod release:1.2 browser:Chrome free text`.
 * Known keys become filters, other `key:value` tokens tag filters, the rest is free text over
 * title and culprit.
 */
export function parseSearch(query: string): {
  statuses?: string[];
  levels?: string[];
  tags: Array<{ key: string; value: string }>;
  text?: string;
  assignee?: string;
} {
  const out: ReturnType<typeof parseSearch> = { tags: [] };
  const words: string[] = [];
  for (const m of query.matchAll(/(\S+:"[^"]*"|"[^"]*"|\S+)/g)) {
    const token = m[1]!;
    const kv = /^[\w.-]+:/.test(token) ? splitKeyValue(token) : undefined;
    if (!kv || kv.value === '') {
      words.push(token.replace(/^"(.*)"$/, '$1'));
      continue;
    }
    if (kv.key === 'is' && ['unresolved', 'resolved', 'ignored'].includes(kv.value))
      out.statuses = [...(out.statuses ?? []), kv.value];
    else if (kv.key === 'is' && kv.value === 'assigned') out.assignee = 'any';
    else if (kv.key === 'is' && kv.value === 'unassigned') out.assignee = 'none';
    else if (kv.key === 'level') out.levels = [...(out.levels ?? []), kv.value];
    else if (kv.key === 'assigned' || kv.key === 'assignee') out.assignee = kv.value;
    else out.tags.push(kv);
  }
  if (words.length > 0) out.text = words.join(' ');
  return out;
}

async function requireIssue(ctx: AppContext, p: Principal, issueId: number, perm: Permission) {
  const projectId = await store.issueProject(ctx.db, issueId);
  if (projectId === undefined) throw notFound('issue');
  try {
    const access = await requireProjectPermission(ctx, p, projectId, perm);
    return { projectId, ...access };
  } catch (err) {
    // Someone outside the organization learns nothing about the issue, not even its project.
    if (err instanceof AppError && err.code === 'not_found') throw notFound('issue');
    throw err;
  }
}

function sparklines(rows: Array<{ issueId: number; hour: Date; count: number }>, hours: number, end: number) {
  const start = end - (hours - 1) * HOUR;
  const map = new Map<number, number[]>();
  for (const r of rows) {
    const idx = Math.round((r.hour.getTime() - start) / HOUR);
    if (idx < 0 || idx >= hours) continue;
    let arr = map.get(r.issueId);
    if (!arr) {
      arr = new Array<number>(hours).fill(0);
      map.set(r.issueId, arr);
    }
    arr[idx]! += r.count;
  }
  return (id: number) => map.get(id) ?? new Array<number>(hours).fill(0);
}

const currentHour = () => Math.floor(Date.now() / HOUR) * HOUR;

export function issueOut(r: store.IssueListRow) {
  return {
    id: r.id,
    projectId: r.projectId,
    title: r.title,
    culprit: r.culprit,
    level: r.level,
    platform: r.platform,
    status: r.status,
    count: r.count,
    userCount: r.userCount,
    firstSeen: r.firstSeen.toISOString(),
    lastSeen: r.lastSeen.toISOString(),
    firstRelease: r.firstRelease,
    lastRelease: r.lastRelease,
    assigneeId: r.assigneeId,
    resolvedAt: r.resolvedAt?.toISOString() ?? null,
    resolveInNextRelease: r.resolveInNextRelease,
    resolvedRelease: r.resolvedRelease,
    ignoreUntil: r.ignoreUntil?.toISOString() ?? null,
    ignoreCount: r.ignoreCount,
    lastEventId: r.lastEventId,
  };
}

export async function listIssues(ctx: AppContext, p: Principal, projectId: number, q: ListQuery) {
  await requireProjectPermission(ctx, p, projectId, 'read');
  const search = parseSearch(q.query ?? '');
  const status = q.status ?? (search.statuses ? undefined : 'unresolved');
  let statuses = search.statuses;
  if (status && status !== 'all') {
    const list = status.split(',').map((s) => s.trim());
    for (const s of list)
      if (!['unresolved', 'resolved', 'ignored'].includes(s)) throw badRequest(`unknown status "${s}"`);
    statuses = list;
  }
  const lv = q.level ? q.level.split(',').map((s) => s.trim()) : search.levels;
  for (const l of lv ?? [])
    if (!(levels as readonly string[]).includes(l)) throw badRequest(`unknown level "${l}"`);
  const tags = [...search.tags];
  if (q.environment) tags.push({ key: 'environment', value: q.environment });
  if (q.release) tags.push({ key: 'release', value: q.release });
  for (const t of q.tag ?? []) {
    const kv = splitKeyValue(t);
    if (!kv?.key || !kv.value) throw badRequest(`tag filter "${t}" must be key:value`);
    tags.push(kv);
  }
  const assigneeRaw = q.assignee ?? search.assignee;
  let assigneeId: number | null | 'any' | undefined;
  if (assigneeRaw === 'me') assigneeId = p.userId;
  else if (assigneeRaw === 'none') assigneeId = null;
  else if (assigneeRaw === 'any') assigneeId = 'any';
  else if (assigneeRaw) {
    assigneeId = Number(assigneeRaw);
    if (!Number.isSafeInteger(assigneeId)) throw badRequest('assignee must be a user id, "me" or "none"');
  }
  const sort = q.sort ?? 'lastSeen';
  const limit = q.limit ?? 25;
  const byTime = sort === 'lastSeen' || sort === 'firstSeen';
  const after = q.cursor
    ? decodeCursor(
        q.cursor,
        (v): v is [string | number, number] =>
          Array.isArray(v) && v.length === 2 && isId(v[1]) && (byTime ? isTime(v[0]) : isCount(v[0])),
      )
    : undefined;
  const rows = await store.listIssues(ctx.db, {
    projectId,
    statuses,
    levels: lv,
    tags,
    text: search.text,
    assigneeId,
    sort,
    after: after ? { value: after[0], id: after[1] } : undefined,
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  const end = currentHour();
  const spark = sparklines(
    await store.hourlyCounts(
      ctx.db,
      page.map((r) => r.id),
      new Date(end - 23 * HOUR),
    ),
    24,
    end,
  );
  const last = page[page.length - 1];
  const sortValue = (r: store.IssueListRow) =>
    sort === 'lastSeen'
      ? r.lastSeen.toISOString()
      : sort === 'firstSeen'
        ? r.firstSeen.toISOString()
        : sort === 'count'
          ? r.count
          : r.userCount;
  return {
    items: page.map((r) => ({ ...issueOut(r), sparkline: spark(r.id) })),
    nextCursor: rows.length > limit && last ? encodeCursor([sortValue(last), last.id]) : null,
  };
}

export async function getIssue(ctx: AppContext, p: Principal, issueId: number, hours = 24 * 7) {
  await requireIssue(ctx, p, issueId, 'read');
  const issue = await store.issueById(ctx.db, issueId);
  if (!issue) throw notFound('issue');
  const end = currentHour();
  const series = sparklines(
    await store.hourlyCounts(ctx.db, [issueId], new Date(end - (hours - 1) * HOUR)),
    hours,
    end,
  )(issueId);
  const tagRows = await store.tagBreakdown(ctx.db, issueId, 10);
  const tags = new Map<
    string,
    {
      key: string;
      totalCount: number;
      uniqueValues: number;
      topValues: Array<{ value: string; count: number; firstSeen: string; lastSeen: string }>;
    }
  >();
  for (const t of tagRows) {
    let entry = tags.get(t.key);
    if (!entry) {
      entry = { key: t.key, totalCount: t.total, uniqueValues: t.distinct, topValues: [] };
      tags.set(t.key, entry);
    }
    entry.topValues.push({
      value: t.value,
      count: t.count,
      firstSeen: t.firstSeen.toISOString(),
      lastSeen: t.lastSeen.toISOString(),
    });
  }
  return {
    ...issueOut(issue),
    fingerprint: issue.fingerprint,
    grouping: issue.grouping as {
      method: string;
      components: string[];
      defaultComponents?: string[];
      rule?: string;
    },
    tags: [...tags.values()],
    hourly: series.map((count, i) => ({ hour: new Date(end - (hours - 1 - i) * HOUR).toISOString(), count })),
  };
}

function eventOut(e: store.EventListRow) {
  return {
    eventId: e.eventId,
    projectId: e.projectId,
    issueId: e.issueId,
    receivedAt: e.receivedAt.toISOString(),
    timestamp: e.timestamp.toISOString(),
    level: e.level,
    title: e.title,
    release: e.release,
    environment: e.environment,
  };
}

type EventCursor = [string, string];
const isEventCursor = (v: unknown): v is EventCursor =>
  Array.isArray(v) &&
  v.length === 2 &&
  isTime(v[0]) &&
  typeof v[1] === 'string' &&
  /^[0-9a-f]{32}$/.test(v[1]);

export async function listIssueEvents(
  ctx: AppContext,
  p: Principal,
  issueId: number,
  opts: { cursor?: string; limit?: number; full?: boolean },
) {
  await requireIssue(ctx, p, issueId, 'read');
  const limit = opts.limit ?? 50;
  const after = opts.cursor ? decodeCursor(opts.cursor, isEventCursor) : undefined;
  const rows = await store.listEvents(ctx.db, issueId, {
    after: after ? { receivedAt: after[0], eventId: after[1] } : undefined,
    limit: limit + 1,
    payload: opts.full,
  });
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map((e) => ({
      ...eventOut(e),
      ...(opts.full && e.payload ? { payload: JSON.parse(e.payload) as Record<string, unknown> } : {}),
    })),
    nextCursor:
      rows.length > limit && last ? encodeCursor([last.receivedAt.toISOString(), last.eventId]) : null,
  };
}

export async function getEvent(ctx: AppContext, p: Principal, eventId: string, projectId?: number) {
  const id = eventId.replaceAll('-', '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(id)) throw notFound('event');
  let projects: number[];
  if (projectId !== undefined) {
    await requireProjectPermission(ctx, p, projectId, 'read');
    projects = [projectId];
  } else projects = await accessibleProjectIds(ctx, p);
  if (projects.length === 0) throw notFound('event');
  const e = await store.eventById(ctx.db, projects, id);
  if (!e) throw notFound('event');
  const around = await store.eventNeighbours(ctx.db, e.issueId, e.receivedAt, e.eventId);
  return {
    ...eventOut(e),
    previousEventId: around.previous,
    nextEventId: around.next,
    payload: JSON.parse(e.payload) as Record<string, unknown>,
  };
}

export interface IssuePatch {
  status?: IssueStatus;
  resolveInNextRelease?: boolean;
  ignore?: { count?: number; until?: string; minutes?: number };
  assigneeId?: number | null;
}

function statusChange(patch: IssuePatch, userId: number): store.StatusChange | undefined {
  let status = patch.status;
  if (!status && patch.ignore) status = 'ignored';
  if (!status && patch.resolveInNextRelease) status = 'resolved';
  if (!status) return undefined;
  if (status !== 'ignored' && patch.ignore) throw badRequest('ignore rules need status "ignored"');
  if (status !== 'resolved' && patch.resolveInNextRelease)
    throw badRequest('resolveInNextRelease needs status "resolved"');
  let ignoreUntil: Date | null = null;
  if (patch.ignore?.until) {
    ignoreUntil = new Date(patch.ignore.until);
    if (Number.isNaN(ignoreUntil.getTime())) throw badRequest('ignore.until must be an ISO 8601 time');
  } else if (patch.ignore?.minutes) ignoreUntil = new Date(Date.now() + patch.ignore.minutes * 60_000);
  return {
    status,
    userId,
    resolveInNextRelease: patch.resolveInNextRelease ?? false,
    ignoreUntil,
    ignoreCount: patch.ignore?.count ?? null,
  };
}

export async function updateIssue(ctx: AppContext, p: Principal, issueId: number, patch: IssuePatch) {
  const { projectId, orgId } = await requireIssue(ctx, p, issueId, 'resolve');
  const change = statusChange(patch, p.userId);
  if (patch.assigneeId !== undefined && patch.assigneeId !== null) {
    const role = await orgRole(ctx.db, orgId, patch.assigneeId);
    if (!role) throw badRequest('the assignee must be a member of the organization');
  }
  await ctx.db.tx(async (q) => {
    if (change) await store.setStatus(q, projectId, [issueId], change);
    if (patch.assigneeId !== undefined) await store.setAssignee(q, issueId, patch.assigneeId);
  });
  const issue = await store.issueById(ctx.db, issueId);
  if (!issue) throw notFound('issue');
  return issueOut(issue);
}

export async function bulkUpdate(
  ctx: AppContext,
  p: Principal,
  projectId: number,
  ids: number[],
  patch: Omit<IssuePatch, 'assigneeId'>,
) {
  await requireProjectPermission(ctx, p, projectId, 'resolve');
  const change = statusChange(patch, p.userId);
  if (!change) throw badRequest('status is required');
  const updated = await store.setStatus(ctx.db, projectId, [...new Set(ids)], change);
  return { updated: updated.length, ids: updated.sort((a, b) => a - b) };
}

export async function mergeIssues(ctx: AppContext, p: Principal, targetId: number, otherIds: number[]) {
  const { projectId } = await requireIssue(ctx, p, targetId, 'write');
  const others = [...new Set(otherIds)].filter((id) => id !== targetId);
  if (others.length === 0) throw badRequest('otherIssueIds must name at least one other issue');
  const found = await store.issuesInProject(ctx.db, projectId, others);
  if (found.length !== others.length) throw notFound('issue');
  const merged = await ctx.db.tx((q) => store.mergeIssues(q, projectId, targetId, others));
  if (merged !== others.length) throw notFound('issue');
  const issue = await store.issueById(ctx.db, targetId);
  if (!issue) throw notFound('issue');
  return { merged: others, issue: issueOut(issue) };
}

export async function deleteIssue(ctx: AppContext, p: Principal, issueId: number): Promise<void> {
  await requireIssue(ctx, p, issueId, 'write');
  await ctx.db.tx((q) => store.deleteIssues(q, [issueId]));
}

const csvCell = (v: unknown) => {
  const s = v === null || v === undefined ? '' : String(v);
  // Quote always; neutralise spreadsheet formulas.
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return `"${safe.replaceAll('"', '""')}"`;
};

const EXPORT_PAGE_BYTES = 4 * 1024 * 1024;

/** The next export page's row count: about EXPORT_PAGE_BYTES of payloads, 1 to 1,000 rows. */
export function exportPageSize(rows: number, bytes: number): number {
  const perRow = Math.max(1, bytes / rows);
  return Math.max(1, Math.min(1000, Math.floor(EXPORT_PAGE_BYTES / perRow)));
}

/** The events of an issue, newest first, as JSON Lines (raw event payloads) or CSV rows. */
export async function exportEvents(
  ctx: AppContext,
  p: Principal,
  issueId: number,
  format: 'jsonl' | 'csv',
): Promise<AsyncIterable<string>> {
  await requireIssue(ctx, p, issueId, 'read');
  const db = ctx.db;
  return (async function* () {
    if (format === 'csv')
      yield `${['eventId', 'receivedAt', 'timestamp', 'level', 'title', 'release', 'environment', 'user', 'message'].join(',')}\n`;
    let after: { receivedAt: string; eventId: string } | undefined;
    // Pages sized by bytes, not rows: events reach 1 MiB each (INGEST_MAX_EVENT_BYTES), so a
    // fixed 1,000-row page could hold a gigabyte. Aim at a few MiB per page.
    let limit = 20;
    for (;;) {
      const rows = await store.listEvents(db, issueId, { after, limit, payload: true });
      if (rows.length === 0) return;
      let chunk = '';
      let bytes = 0;
      for (const r of rows) {
        bytes += r.payload?.length ?? 0;
        if (format === 'jsonl') chunk += `${r.payload}\n`;
        else {
          const ev = JSON.parse(r.payload ?? '{}') as { user?: Record<string, unknown>; message?: string };
          const user = ev.user
            ? (ev.user.id ?? ev.user.email ?? ev.user.username ?? ev.user.ip_address ?? '')
            : '';
          chunk += `${[r.eventId, r.receivedAt.toISOString(), r.timestamp.toISOString(), r.level, r.title, r.release, r.environment, user, ev.message ?? ''].map(csvCell).join(',')}\n`;
        }
      }
      yield chunk;
      if (rows.length < limit) return;
      const last = rows[rows.length - 1]!;
      after = { receivedAt: last.receivedAt.toISOString(), eventId: last.eventId };
      limit = exportPageSize(limit, bytes);
    }
  })();
}
