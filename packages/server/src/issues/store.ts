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

/** Insert events idempotently; returns the keys (`projectId:eventId`) actually inserted. */
export async function insertEvents(q: Queryable, events: EventRow[]): Promise<Set<string>> {
  if (events.length === 0) return new Set();
  const rows = await q.query<{ k: string }>(
    `INSERT INTO events (project_id, event_id, received_at, issue_id, timestamp, level, release,
                         environment, user_key, title, payload)
     SELECT p, e, r, i, t, l, rel, env, u, ti, pl::json
       FROM unnest($1::bigint[], $2::uuid[], $3::timestamptz[], $4::bigint[], $5::timestamptz[], $6::text[],
                   $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
            AS x(p, e, r, i, t, l, rel, env, u, ti, pl)
     ON CONFLICT DO NOTHING
     RETURNING project_id || ':' || replace(event_id::text, '-', '') AS k`,
    [
      events.map((e) => e.projectId),
      events.map((e) => e.eventId),
      events.map((e) => e.receivedAt),
      events.map((e) => e.issueId),
      events.map((e) => e.timestamp),
      events.map((e) => e.level),
      events.map((e) => e.release),
      events.map((e) => e.environment),
      events.map((e) => e.userKey),
      events.map((e) => e.title),
      events.map((e) => e.payload),
    ],
  );
  return new Set(rows.map((r) => r.k));
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
  await q.query(
    `INSERT INTO issue_tags (issue_id, key, value, project_id, count, first_seen, last_seen)
     SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::bigint[],
                          $6::timestamptz[], $7::timestamptz[])
     ON CONFLICT (issue_id, key, value) DO UPDATE SET
       count = issue_tags.count + excluded.count,
       first_seen = LEAST(issue_tags.first_seen, excluded.first_seen),
       last_seen = GREATEST(issue_tags.last_seen, excluded.last_seen)`,
    [
      tags.map((t) => t.issueId),
      tags.map((t) => t.key),
      tags.map((t) => t.value),
      tags.map((t) => t.projectId),
      tags.map((t) => t.count),
      tags.map((t) => t.firstSeen),
      tags.map((t) => t.lastSeen),
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
  await q.query(
    `INSERT INTO issue_outbox (update_id, project_id, payload)
     SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[]) ON CONFLICT (update_id) DO NOTHING`,
    [rows.map((r) => r.updateId), rows.map((r) => r.projectId), rows.map((r) => r.payload)],
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
  // Fingerprints, tags, hourly counts and users go with the issue (ON DELETE CASCADE).
  await q.query('DELETE FROM issues WHERE id = ANY($1::bigint[])', [ids]);
}
