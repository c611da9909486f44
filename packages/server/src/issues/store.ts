import type { Db, Queryable } from '../platform/db/db.js';

/**
 * SQL of the issues domain. The worker's hot path is a handful of multi-row statements per
 * batch (`unnest` arrays), never one statement per event.
 */

// ---------------------------------------------------------------- partitions & retention

const DAY = 86_400_000;
export const dayOf = (d: Date): string => d.toISOString().slice(0, 10);
const partitionName = (day: string) => `events_p${day.replaceAll('-', '')}`;
const PARTITION_LOCK = 0x6973_7375; // "issu"

/** Create the daily event partitions for `days` (YYYY-MM-DD, UTC) that do not exist yet. */
export async function createPartitions(db: Db, days: string[]): Promise<void> {
  if (days.length === 0) return;
  await db.tx(async (q) => {
    // Serialise creators across processes: concurrent CREATE ... IF NOT EXISTS can still collide.
    await q.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
    const existing = new Set(await listPartitionNames(q));
    for (const day of days) {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || existing.has(partitionName(day))) continue;
      const next = dayOf(new Date(Date.parse(`${day}T00:00:00Z`) + DAY));
      await q.query(
        `CREATE TABLE IF NOT EXISTS ${partitionName(day)} PARTITION OF events
           FOR VALUES FROM ('${day} 00:00:00+00') TO ('${next} 00:00:00+00')`,
      );
    }
  });
}

export async function listPartitionNames(q: Queryable): Promise<string[]> {
  const rows = await q.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'events'::regclass`,
  );
  return rows.map((r) => r.name);
}

/**
 * Detach (concurrently, so inserts into current partitions never wait) and drop the daily
 * partitions that end before `cutoff`. Returns the dropped names.
 */
export async function dropPartitionsBefore(db: Db, cutoff: Date): Promise<string[]> {
  const dropped: string[] = [];
  for (const name of await listPartitionNames(db)) {
    const m = /^events_p(\d{4})(\d{2})(\d{2})$/.exec(name);
    if (!m) continue;
    const end = Date.parse(`${m[1]}-${m[2]}-${m[3]}T00:00:00Z`) + DAY;
    if (end > cutoff.getTime()) continue;
    await db.query(`ALTER TABLE events DETACH PARTITION ${name} CONCURRENTLY`).catch(async (err: Error) => {
      // A detach interrupted earlier leaves the partition "pending": finish it.
      if (/pending detach/i.test(err.message))
        await db.query(`ALTER TABLE events DETACH PARTITION ${name} FINALIZE`);
      else throw err;
    });
    await db.query(`DROP TABLE IF EXISTS ${name}`);
    dropped.push(name);
  }
  return dropped;
}

/** Delete up to `limit` events of one project received before `cutoff`; returns how many. */
export async function deleteProjectEventsBefore(
  q: Queryable,
  projectId: number,
  cutoff: Date,
  limit: number,
): Promise<number> {
  const rows = await q.query(
    `DELETE FROM events e USING (
       SELECT project_id, event_id, received_at FROM events
        WHERE project_id = $1 AND received_at < $2 LIMIT $3) d
      WHERE e.project_id = d.project_id AND e.event_id = d.event_id AND e.received_at = d.received_at
      RETURNING 1`,
    [projectId, cutoff, limit],
  );
  return rows.length;
}

export interface ProjectRetention {
  id: number;
  retentionDays: number;
}

export async function projectRetentions(q: Queryable): Promise<ProjectRetention[]> {
  return q.query<ProjectRetention & Record<string, unknown>>(
    'SELECT id::int AS id, retention_days AS "retentionDays" FROM projects',
  );
}

export async function deleteHourlyBefore(q: Queryable, cutoff: Date): Promise<number> {
  return (await q.query('DELETE FROM issue_hourly WHERE hour < $1 RETURNING 1', [cutoff])).length;
}

/** Issues (and their events) of projects that no longer exist, a bounded slice at a time. */
export async function deleteOrphans(q: Queryable, limit: number): Promise<number> {
  const ids = await q.query<{ id: number }>(
    `SELECT i.id FROM issues i WHERE NOT EXISTS (SELECT 1 FROM projects p WHERE p.id = i.project_id) LIMIT $1`,
    [limit],
  );
  if (ids.length === 0) return 0;
  await deleteIssues(
    q,
    ids.map((r) => r.id),
  );
  return ids.length;
}

// ---------------------------------------------------------------- worker hot path

export interface ProjectSettingsRow {
  id: number;
  retentionDays: number;
  rules: unknown;
}

export async function projectSettings(q: Queryable, ids: number[]): Promise<ProjectSettingsRow[]> {
  return q.query<ProjectSettingsRow & Record<string, unknown>>(
    `SELECT id::int AS id, retention_days AS "retentionDays", settings -> 'fingerprintRules' AS rules
       FROM projects WHERE id = ANY($1::bigint[])`,
    [ids],
  );
}

export async function issueIdsByFingerprint(
  q: Queryable,
  keys: Array<{ projectId: number; fingerprint: string }>,
): Promise<Map<string, number>> {
  const rows = await q.query<{ project_id: number; fingerprint: string; issue_id: number }>(
    `SELECT f.project_id, f.fingerprint, f.issue_id FROM issue_fingerprints f
       JOIN unnest($1::bigint[], $2::text[]) AS k(p, fp) ON f.project_id = k.p AND f.fingerprint = k.fp`,
    [keys.map((k) => k.projectId), keys.map((k) => k.fingerprint)],
  );
  return new Map(rows.map((r) => [`${r.project_id}:${r.fingerprint}`, r.issue_id]));
}

export interface NewIssue {
  projectId: number;
  fingerprint: string;
  grouping: unknown;
  title: string;
  culprit: string | null;
  level: string;
  platform: string;
  firstSeen: Date;
  lastSeen: Date;
  release: string | null;
}

/** Insert issues and their fingerprints. A concurrent creator makes the fingerprint insert fail (retried). */
export async function insertIssues(q: Queryable, issues: NewIssue[]): Promise<Map<string, number>> {
  if (issues.length === 0) return new Map();
  const rows = await q.query<{ id: number; project_id: number; fingerprint: string }>(
    `INSERT INTO issues (project_id, fingerprint, grouping, title, culprit, level, platform,
                         first_seen, last_seen, first_release, last_release)
     SELECT p, fp, g::jsonb, t, c, l, pl, fs, ls, r, r
       FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                   $8::timestamptz[], $9::timestamptz[], $10::text[]) AS x(p, fp, g, t, c, l, pl, fs, ls, r)
     RETURNING id, project_id, fingerprint`,
    [
      issues.map((i) => i.projectId),
      issues.map((i) => i.fingerprint),
      issues.map((i) => JSON.stringify(i.grouping)),
      issues.map((i) => i.title),
      issues.map((i) => i.culprit),
      issues.map((i) => i.level),
      issues.map((i) => i.platform),
      issues.map((i) => i.firstSeen),
      issues.map((i) => i.lastSeen),
      issues.map((i) => i.release),
    ],
  );
  await q.query(
    `INSERT INTO issue_fingerprints (project_id, fingerprint, issue_id)
     SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[])`,
    [rows.map((r) => r.project_id), rows.map((r) => r.fingerprint), rows.map((r) => r.id)],
  );
  return new Map(rows.map((r) => [`${r.project_id}:${r.fingerprint}`, r.id]));
}

export interface EventRow {
  projectId: number;
  eventId: string;
  receivedAt: Date;
  issueId: number;
  timestamp: Date;
  level: string;
  release: string | null;
  environment: string | null;
  userKey: string | null;
  title: string;
  payload: string;
}

const q1 = (v: string | null) => (v === null ? 'null' : JSON.stringify(v));

/**
 * Insert events idempotently; returns the keys (`projectId:eventId`) actually inserted.
 * The rows travel as one JSON document with each payload embedded verbatim (it is JSON already):
 * node-postgres' array literal encoding escapes every character of every payload, which cost
 * more than the insert itself.
 */
export async function insertEvents(q: Queryable, events: EventRow[]): Promise<Set<string>> {
  if (events.length === 0) return new Set();
  const rows = events.map(
    (e) =>
      `{"p":${e.projectId},"e":"${e.eventId}","r":"${e.receivedAt.toISOString()}","i":${e.issueId},` +
      `"t":"${e.timestamp.toISOString()}","l":${q1(e.level)},"rel":${q1(e.release)},"env":${q1(e.environment)},` +
      `"u":${q1(e.userKey)},"ti":${q1(e.title)},"pl":${e.payload}}`,
  );
  const inserted = await q.query<{ k: string }>(
    `INSERT INTO events (project_id, event_id, received_at, issue_id, timestamp, level, release,
                         environment, user_key, title, payload)
     SELECT p, e, r, i, t, l, rel, env, u, ti, pl
       FROM json_to_recordset($1::json)
            AS x(p bigint, e uuid, r timestamptz, i bigint, t timestamptz, l text, rel text, env text, u text,
                 ti text, pl json)
     ON CONFLICT DO NOTHING
     RETURNING project_id || ':' || replace(event_id::text, '-', '') AS k`,
    [`[${rows.join(',')}]`],
  );
  return new Set(inserted.map((r) => r.k));
}

export interface LockedIssue {
  id: number;
  projectId: number;
  status: 'unresolved' | 'resolved' | 'ignored';
  resolvedAt: Date | null;
  resolveInNextRelease: boolean;
  resolvedRelease: string | null;
  ignoreUntil: Date | null;
  ignoreCount: number | null;
  ignoreCountBase: number | null;
  eventCount: number;
}

export async function lockIssues(q: Queryable, ids: number[]): Promise<Map<number, LockedIssue>> {
  const rows = await q.query<LockedIssue & Record<string, unknown>>(
    `SELECT id, project_id::int AS "projectId", status, resolved_at AS "resolvedAt",
            resolve_in_next_release AS "resolveInNextRelease", resolved_release AS "resolvedRelease",
            ignore_until AS "ignoreUntil", ignore_count AS "ignoreCount", ignore_count_base AS "ignoreCountBase",
            event_count AS "eventCount"
       FROM issues WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE`,
    [ids],
  );
  return new Map(rows.map((r) => [r.id, r]));
}

/** Record releases on first sight; returns the first-seen time of each requested release. */
export async function touchReleases(
  q: Queryable,
  pairs: Array<{ projectId: number; version: string }>,
): Promise<Map<string, Date>> {
  if (pairs.length === 0) return new Map();
  await q.query(
    `INSERT INTO project_releases (project_id, version)
     SELECT * FROM unnest($1::bigint[], $2::text[]) ON CONFLICT DO NOTHING`,
    [pairs.map((p) => p.projectId), pairs.map((p) => p.version)],
  );
  const rows = await q.query<{ project_id: number; version: string; first_seen: Date }>(
    `SELECT r.project_id, r.version, r.first_seen FROM project_releases r
       JOIN unnest($1::bigint[], $2::text[]) AS k(p, v) ON r.project_id = k.p AND r.version = k.v`,
    [pairs.map((p) => p.projectId), pairs.map((p) => p.version)],
  );
  return new Map(rows.map((r) => [`${r.project_id}:${r.version}`, r.first_seen]));
}

/** Insert (issue, user) pairs; returns how many were new per issue. */
export async function insertIssueUsers(
  q: Queryable,
  pairs: Array<[number, string]>,
): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  if (pairs.length === 0) return out;
  const rows = await q.query<{ issue_id: number }>(
    `INSERT INTO issue_users (issue_id, user_key) SELECT * FROM unnest($1::bigint[], $2::text[])
     ON CONFLICT DO NOTHING RETURNING issue_id`,
    [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
  );
  for (const r of rows) out.set(r.issue_id, (out.get(r.issue_id) ?? 0) + 1);
  return out;
}

export interface IssueDelta {
  id: number;
  count: number;
  users: number;
  firstSeen: Date;
  lastSeen: Date;
  firstRelease: string | null;
  lastRelease: string | null;
  level: string;
  lastEventId: string;
  status: string;
  /** Clear resolution and ignore state (regression or expired ignore). */
  reopen: boolean;
}

export interface IssueRow {
  id: number;
  projectId: number;
  title: string;
  culprit: string | null;
  level: string;
  status: 'unresolved' | 'resolved' | 'ignored';
  eventCount: number;
  userCount: number;
  firstSeen: Date;
  lastSeen: Date;
}

export async function applyIssueDeltas(q: Queryable, deltas: IssueDelta[]): Promise<IssueRow[]> {
  if (deltas.length === 0) return [];
  return q.query<IssueRow & Record<string, unknown>>(
    `UPDATE issues i SET
        event_count = i.event_count + d.n,
        user_count = i.user_count + d.u,
        first_seen = LEAST(i.first_seen, d.fs),
        last_seen = GREATEST(i.last_seen, d.ls),
        first_release = COALESCE(i.first_release, d.fr),
        last_release = COALESCE(d.lr, i.last_release),
        level = d.lvl,
        last_event_id = d.ev,
        status = d.st,
        resolved_at = CASE WHEN d.re THEN NULL ELSE i.resolved_at END,
        resolved_by = CASE WHEN d.re THEN NULL ELSE i.resolved_by END,
        resolve_in_next_release = CASE WHEN d.re THEN false ELSE i.resolve_in_next_release END,
        resolved_release = CASE WHEN d.re THEN NULL ELSE i.resolved_release END,
        ignore_until = CASE WHEN d.re THEN NULL ELSE i.ignore_until END,
        ignore_count = CASE WHEN d.re THEN NULL ELSE i.ignore_count END,
        ignore_count_base = CASE WHEN d.re THEN NULL ELSE i.ignore_count_base END,
        updated_at = now()
       FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::timestamptz[], $5::timestamptz[], $6::text[],
                   $7::text[], $8::text[], $9::text[], $10::text[], $11::boolean[])
            AS d(id, n, u, fs, ls, fr, lr, lvl, ev, st, re)
      WHERE i.id = d.id
      RETURNING i.id, i.project_id::int AS "projectId", i.title, i.culprit, i.level, i.status,
                i.event_count AS "eventCount", i.user_count AS "userCount", i.first_seen AS "firstSeen",
                i.last_seen AS "lastSeen"`,
    [
      deltas.map((d) => d.id),
      deltas.map((d) => d.count),
      deltas.map((d) => d.users),
      deltas.map((d) => d.firstSeen),
      deltas.map((d) => d.lastSeen),
      deltas.map((d) => d.firstRelease),
      deltas.map((d) => d.lastRelease),
      deltas.map((d) => d.level),
      deltas.map((d) => d.lastEventId),
      deltas.map((d) => d.status),
      deltas.map((d) => d.reopen),
    ],
  );
}

export interface TagDelta {
  issueId: number;
  projectId: number;
  key: string;
  value: string;
  count: number;
  firstSeen: Date;
  lastSeen: Date;
}

export async function upsertTags(q: Queryable, tags: TagDelta[]): Promise<void> {
  if (tags.length === 0) return;
  // Thousands of rows per batch: one JSON document is cheaper to build than seven pg array
  // literals (which escape every element and format every Date with the local time zone).
  await q.query(
    `INSERT INTO issue_tags (issue_id, key, value, project_id, count, first_seen, last_seen)
     SELECT i, k, v, p, n, f, l
       FROM json_to_recordset($1::json)
            AS x(i bigint, k text, v text, p bigint, n bigint, f timestamptz, l timestamptz)
     ON CONFLICT (issue_id, key, value) DO UPDATE SET
       count = issue_tags.count + excluded.count,
       first_seen = LEAST(issue_tags.first_seen, excluded.first_seen),
       last_seen = GREATEST(issue_tags.last_seen, excluded.last_seen)`,
    [
      JSON.stringify(
        tags.map((t) => ({
          i: t.issueId,
          k: t.key,
          v: t.value,
          p: t.projectId,
          n: t.count,
          f: t.firstSeen.toISOString(),
          l: t.lastSeen.toISOString(),
        })),
      ),
    ],
  );
}

export async function upsertHourly(
  q: Queryable,
  rows: Array<{ issueId: number; hour: Date; count: number }>,
): Promise<void> {
  if (rows.length === 0) return;
  await q.query(
    `INSERT INTO issue_hourly (issue_id, hour, count)
     SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::bigint[])
     ON CONFLICT (issue_id, hour) DO UPDATE SET count = issue_hourly.count + excluded.count`,
    [rows.map((r) => r.issueId), rows.map((r) => r.hour), rows.map((r) => r.count)],
  );
}

// ---------------------------------------------------------------- outbox

export async function insertOutbox(
  q: Queryable,
  rows: Array<{ updateId: string; projectId: number; payload: string }>,
): Promise<void> {
  if (rows.length === 0) return;
  // Payloads are JSON: embedded verbatim in one JSON document (see insertEvents).
  await q.query(
    `INSERT INTO issue_outbox (update_id, project_id, payload)
     SELECT u, p, pl::text FROM json_to_recordset($1::json) AS x(u text, p bigint, pl json)
     ON CONFLICT (update_id) DO NOTHING`,
    [
      `[${rows.map((r) => `{"u":${JSON.stringify(r.updateId)},"p":${r.projectId},"pl":${r.payload}}`).join(',')}]`,
    ],
  );
}

const RELAY_LOCK = 0x6973_7265; // "isre"

/**
 * Take the oldest outbox rows under a global lock (one relayer at a time keeps per-project
 * order), hand them to `publish`, delete them when it resolved. Returns how many were relayed.
 */
export async function relayOutbox(
  db: Db,
  limit: number,
  publish: (rows: Array<{ projectId: number; payload: string }>) => Promise<void>,
): Promise<number> {
  return db.tx(async (q) => {
    const [lock] = await q.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [RELAY_LOCK]);
    if (!lock?.ok) return 0;
    const rows = await q.query<{ id: number; project_id: number; payload: string }>(
      'SELECT id, project_id, payload FROM issue_outbox ORDER BY id LIMIT $1',
      [limit],
    );
    if (rows.length === 0) return 0;
    await publish(rows.map((r) => ({ projectId: r.project_id, payload: r.payload })));
    await q.query('DELETE FROM issue_outbox WHERE id = ANY($1::bigint[])', [rows.map((r) => r.id)]);
    return rows.length;
  });
}

// ---------------------------------------------------------------- deletion & merge

export async function deleteIssues(q: Queryable, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await q.query('DELETE FROM events WHERE issue_id = ANY($1::bigint[])', [ids]);
  await deleteCounters(q, ids);
  // Fingerprints go with the issue (ON DELETE CASCADE).
  await q.query('DELETE FROM issues WHERE id = ANY($1::bigint[])', [ids]);
}

/** Tag, hourly and user rows of issues (no foreign keys there: they are the worker's hot path). */
async function deleteCounters(q: Queryable, ids: number[]): Promise<void> {
  await q.query('DELETE FROM issue_tags WHERE issue_id = ANY($1::bigint[])', [ids]);
  await q.query('DELETE FROM issue_hourly WHERE issue_id = ANY($1::bigint[])', [ids]);
  await q.query('DELETE FROM issue_users WHERE issue_id = ANY($1::bigint[])', [ids]);
}

// ---------------------------------------------------------------- API reads

export type IssueSort = 'lastSeen' | 'firstSeen' | 'count' | 'users';
const sortColumn: Record<IssueSort, { col: string; cast: string }> = {
  lastSeen: { col: 'i.last_seen', cast: 'timestamptz' },
  firstSeen: { col: 'i.first_seen', cast: 'timestamptz' },
  count: { col: 'i.event_count', cast: 'bigint' },
  users: { col: 'i.user_count', cast: 'bigint' },
};

export interface IssueFilter {
  projectId: number;
  statuses?: string[];
  levels?: string[];
  tags: Array<{ key: string; value: string }>;
  text?: string;
  assigneeId?: number | null | 'any';
  sort: IssueSort;
  after?: { value: string | number; id: number };
  limit: number;
}

const issueColumns = `i.id, i.project_id::int AS "projectId", i.title, i.culprit, i.level, i.platform, i.status,
  i.event_count AS count, i.user_count AS "userCount", i.first_seen AS "firstSeen", i.last_seen AS "lastSeen",
  i.first_release AS "firstRelease", i.last_release AS "lastRelease", i.assignee_id::int AS "assigneeId",
  i.resolved_at AS "resolvedAt", i.resolve_in_next_release AS "resolveInNextRelease",
  i.resolved_release AS "resolvedRelease", i.ignore_until AS "ignoreUntil", i.ignore_count AS "ignoreCount",
  i.last_event_id AS "lastEventId"`;

export interface IssueListRow {
  id: number;
  projectId: number;
  title: string;
  culprit: string | null;
  level: string;
  platform: string;
  status: 'unresolved' | 'resolved' | 'ignored';
  count: number;
  userCount: number;
  firstSeen: Date;
  lastSeen: Date;
  firstRelease: string | null;
  lastRelease: string | null;
  assigneeId: number | null;
  resolvedAt: Date | null;
  resolveInNextRelease: boolean;
  resolvedRelease: string | null;
  ignoreUntil: Date | null;
  ignoreCount: number | null;
  lastEventId: string | null;
}

export async function listIssues(q: Queryable, f: IssueFilter): Promise<IssueListRow[]> {
  const params: unknown[] = [f.projectId];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  const conds = ['i.project_id = $1'];
  if (f.statuses && f.statuses.length > 0)
    conds.push(
      f.statuses.length === 1 ? `i.status = ${p(f.statuses[0])}` : `i.status = ANY(${p(f.statuses)}::text[])`,
    );
  if (f.levels && f.levels.length > 0) conds.push(`i.level = ANY(${p(f.levels)}::text[])`);
  if (f.assigneeId !== undefined)
    conds.push(
      f.assigneeId === null
        ? 'i.assignee_id IS NULL'
        : f.assigneeId === 'any'
          ? 'i.assignee_id IS NOT NULL'
          : `i.assignee_id = ${p(f.assigneeId)}`,
    );
  for (const t of f.tags)
    conds.push(
      `EXISTS (SELECT 1 FROM issue_tags t WHERE t.project_id = $1 AND t.key = ${p(t.key)} AND t.value = ${p(t.value)} AND t.issue_id = i.id)`,
    );
  if (f.text) {
    const like = p(`%${f.text.replace(/[\\%_]/g, '\\$&')}%`);
    conds.push(`(i.title ILIKE ${like} OR i.culprit ILIKE ${like})`);
  }
  const { col, cast } = sortColumn[f.sort];
  if (f.after) conds.push(`(${col}, i.id) < (${p(f.after.value)}::${cast}, ${p(f.after.id)}::bigint)`);
  return q.query<IssueListRow & Record<string, unknown>>(
    `SELECT ${issueColumns} FROM issues i WHERE ${conds.join(' AND ')}
      ORDER BY ${col} DESC, i.id DESC LIMIT ${p(f.limit)}`,
    params,
  );
}

export async function issueById(
  q: Queryable,
  id: number,
): Promise<(IssueListRow & { fingerprint: string; grouping: unknown }) | undefined> {
  const rows = await q.query<
    IssueListRow & { fingerprint: string; grouping: unknown } & Record<string, unknown>
  >(`SELECT ${issueColumns}, i.fingerprint, i.grouping FROM issues i WHERE i.id = $1`, [id]);
  return rows[0];
}

export async function issueProject(q: Queryable, id: number): Promise<number | undefined> {
  const rows = await q.query<{ p: number }>('SELECT project_id::int AS p FROM issues WHERE id = $1', [id]);
  return rows[0]?.p;
}

/** Hourly counts of issues since `since`, for sparklines and charts. */
export async function hourlyCounts(
  q: Queryable,
  ids: number[],
  since: Date,
): Promise<Array<{ issueId: number; hour: Date; count: number }>> {
  if (ids.length === 0) return [];
  return q.query(
    `SELECT issue_id AS "issueId", hour, count FROM issue_hourly
      WHERE issue_id = ANY($1::bigint[]) AND hour >= $2 ORDER BY issue_id, hour`,
    [ids, since],
  );
}

export async function tagBreakdown(
  q: Queryable,
  issueId: number,
  top: number,
): Promise<
  Array<{
    key: string;
    value: string;
    count: number;
    firstSeen: Date;
    lastSeen: Date;
    total: number;
    distinct: number;
  }>
> {
  return q.query(
    `SELECT key, value, count, first_seen AS "firstSeen", last_seen AS "lastSeen", total::int, distinct_values::int AS distinct
       FROM (SELECT key, value, count, first_seen, last_seen,
                    sum(count) OVER (PARTITION BY key) AS total,
                    count(*) OVER (PARTITION BY key) AS distinct_values,
                    row_number() OVER (PARTITION BY key ORDER BY count DESC, value) AS rn
               FROM issue_tags WHERE issue_id = $1) t
      WHERE rn <= $2 ORDER BY key, count DESC, value`,
    [issueId, top],
  );
}

export interface EventListRow {
  eventId: string;
  projectId: number;
  issueId: number;
  receivedAt: Date;
  timestamp: Date;
  level: string;
  title: string;
  release: string | null;
  environment: string | null;
  payload?: string;
}

const eventColumns = `replace(e.event_id::text, '-', '') AS "eventId", e.project_id::int AS "projectId",
  e.issue_id::int AS "issueId", e.received_at AS "receivedAt", e.timestamp, e.level, e.title, e.release, e.environment`;

export async function listEvents(
  q: Queryable,
  issueId: number,
  opts: { after?: { receivedAt: string; eventId: string }; limit: number; payload?: boolean },
): Promise<EventListRow[]> {
  const params: unknown[] = [issueId, opts.limit];
  let cond = '';
  if (opts.after) {
    params.push(opts.after.receivedAt, opts.after.eventId);
    cond = 'AND (e.received_at, e.event_id) < ($3::timestamptz, $4::uuid)';
  }
  return q.query<EventListRow & Record<string, unknown>>(
    `SELECT ${eventColumns}${opts.payload ? ', e.payload::text AS payload' : ''} FROM events e
      WHERE e.issue_id = $1 ${cond} ORDER BY e.received_at DESC, e.event_id DESC LIMIT $2`,
    params,
  );
}

export async function eventById(
  q: Queryable,
  projectIds: number[],
  eventId: string,
): Promise<(EventListRow & { payload: string }) | undefined> {
  const rows = await q.query<EventListRow & { payload: string } & Record<string, unknown>>(
    `SELECT ${eventColumns}, e.payload::text AS payload FROM events e
      WHERE e.project_id = ANY($1::bigint[]) AND e.event_id = $2::uuid LIMIT 1`,
    [projectIds, eventId],
  );
  return rows[0];
}

/** The neighbouring events of one issue (newest-first order: previous = older, next = newer). */
export async function eventNeighbours(
  q: Queryable,
  issueId: number,
  receivedAt: Date,
  eventId: string,
): Promise<{ previous: string | null; next: string | null }> {
  const [older] = await q.query<{ id: string }>(
    `SELECT replace(event_id::text, '-', '') AS id FROM events WHERE issue_id = $1
       AND (received_at, event_id) < ($2, $3::uuid) ORDER BY received_at DESC, event_id DESC LIMIT 1`,
    [issueId, receivedAt, eventId],
  );
  const [newer] = await q.query<{ id: string }>(
    `SELECT replace(event_id::text, '-', '') AS id FROM events WHERE issue_id = $1
       AND (received_at, event_id) > ($2, $3::uuid) ORDER BY received_at, event_id LIMIT 1`,
    [issueId, receivedAt, eventId],
  );
  return { previous: older?.id ?? null, next: newer?.id ?? null };
}

// ---------------------------------------------------------------- API writes

export interface StatusChange {
  status: 'unresolved' | 'resolved' | 'ignored';
  userId: number;
  resolveInNextRelease?: boolean;
  ignoreUntil?: Date | null;
  ignoreCount?: number | null;
}

/** Change the status of issues of one project; returns the ids changed. */
export async function setStatus(
  q: Queryable,
  projectId: number,
  ids: number[],
  c: StatusChange,
): Promise<number[]> {
  const rows = await q.query<{ id: number }>(
    `WITH locked AS (
       -- Lock in id order, as the worker does: concurrent bulk changes and batches never deadlock.
       SELECT id FROM issues WHERE project_id = $1 AND id = ANY($2::bigint[]) ORDER BY id FOR UPDATE
     )
     UPDATE issues SET
        status = $3,
        resolved_at = CASE WHEN $3 = 'resolved' THEN now() END,
        resolved_by = CASE WHEN $3 = 'resolved' THEN $4::bigint END,
        resolve_in_next_release = ($3 = 'resolved' AND $5::boolean),
        resolved_release = CASE WHEN $3 = 'resolved' AND $5::boolean THEN last_release END,
        ignore_until = CASE WHEN $3 = 'ignored' THEN $6::timestamptz END,
        ignore_count = CASE WHEN $3 = 'ignored' THEN $7::bigint END,
        ignore_count_base = CASE WHEN $3 = 'ignored' THEN event_count END,
        updated_at = now()
      WHERE id IN (SELECT id FROM locked)
      RETURNING id`,
    [
      projectId,
      ids,
      c.status,
      c.userId,
      c.resolveInNextRelease ?? false,
      c.ignoreUntil ?? null,
      c.ignoreCount ?? null,
    ],
  );
  return rows.map((r) => r.id);
}

export async function setAssignee(q: Queryable, id: number, assigneeId: number | null): Promise<void> {
  await q.query('UPDATE issues SET assignee_id = $2, updated_at = now() WHERE id = $1', [id, assigneeId]);
}

/** Merge `others` into `target` (same project): events, fingerprints, counters; the others are deleted. */
export async function mergeIssues(
  q: Queryable,
  projectId: number,
  target: number,
  others: number[],
): Promise<number> {
  const locked = await q.query<{ id: number }>(
    'SELECT id FROM issues WHERE project_id = $1 AND id = ANY($2::bigint[]) ORDER BY id FOR UPDATE',
    [projectId, [target, ...others]],
  );
  if (locked.length !== others.length + 1) return 0;
  await q.query('UPDATE events SET issue_id = $1 WHERE issue_id = ANY($2::bigint[])', [target, others]);
  await q.query('UPDATE issue_fingerprints SET issue_id = $1 WHERE issue_id = ANY($2::bigint[])', [
    target,
    others,
  ]);
  await q.query(
    `INSERT INTO issue_tags (issue_id, key, value, project_id, count, first_seen, last_seen)
     SELECT $1, key, value, project_id, sum(count), min(first_seen), max(last_seen)
       FROM issue_tags WHERE issue_id = ANY($2::bigint[]) GROUP BY key, value, project_id
     ON CONFLICT (issue_id, key, value) DO UPDATE SET count = issue_tags.count + excluded.count,
       first_seen = LEAST(issue_tags.first_seen, excluded.first_seen),
       last_seen = GREATEST(issue_tags.last_seen, excluded.last_seen)`,
    [target, others],
  );
  await q.query(
    `INSERT INTO issue_hourly (issue_id, hour, count)
     SELECT $1, hour, sum(count) FROM issue_hourly WHERE issue_id = ANY($2::bigint[]) GROUP BY hour
     ON CONFLICT (issue_id, hour) DO UPDATE SET count = issue_hourly.count + excluded.count`,
    [target, others],
  );
  await q.query(
    `INSERT INTO issue_users (issue_id, user_key) SELECT $1, user_key FROM issue_users WHERE issue_id = ANY($2::bigint[])
     ON CONFLICT DO NOTHING`,
    [target, others],
  );
  await q.query(
    `UPDATE issues t SET
        event_count = t.event_count + o.n,
        first_seen = LEAST(t.first_seen, o.fs),
        last_seen = GREATEST(t.last_seen, o.ls),
        user_count = (SELECT count(*) FROM issue_users WHERE issue_id = $1),
        updated_at = now()
       FROM (SELECT sum(event_count) AS n, min(first_seen) AS fs, max(last_seen) AS ls
               FROM issues WHERE id = ANY($2::bigint[])) o
      WHERE t.id = $1`,
    [target, others],
  );
  await deleteCounters(q, others);
  await q.query('DELETE FROM issues WHERE id = ANY($1::bigint[])', [others]);
  return others.length;
}

export async function issuesInProject(q: Queryable, projectId: number, ids: number[]): Promise<number[]> {
  const rows = await q.query<{ id: number }>(
    'SELECT id FROM issues WHERE project_id = $1 AND id = ANY($2::bigint[])',
    [projectId, ids],
  );
  return rows.map((r) => r.id);
}
