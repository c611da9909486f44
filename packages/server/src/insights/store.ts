import type { Db, Queryable } from '../platform/db/db.js';
import type { IssueContext } from './analysis.js';

export type InsightStatus = 'pending' | 'ready' | 'failed';

export interface InsightRow {
  issue_id: number;
  project_id: number;
  status: InsightStatus;
  kind: 'ai' | 'builtin' | 'text';
  provider: string | null;
  model: string | null;
  content: Record<string, unknown> | null;
  error: string | null;
  reason: string;
  attempts: number;
  requested_at: Date;
  completed_at: Date | null;
}

/**
 * Enqueue an analysis unless one is already pending for the issue, this very update was handled,
 * or the last analysis already covered the issue at this count (`issueCount` only grows, so a
 * redelivered older update — say `created` after a later `regressed` was analysed — is ignored).
 * Returns true when a job was created or re-opened.
 */
export async function enqueue(
  q: Queryable,
  job: { issueId: number; projectId: number; reason: string; updateId: string; issueCount: number },
): Promise<boolean> {
  const rows = await q.query(
    `INSERT INTO insights (issue_id, project_id, status, reason, last_update_id)
     VALUES ($1, $2, 'pending', $3, $4)
     ON CONFLICT (issue_id) DO UPDATE
       SET status = 'pending', reason = EXCLUDED.reason, last_update_id = EXCLUDED.last_update_id,
           attempts = 0, next_attempt_at = now(), locked_until = NULL, error = NULL,
           requested_at = now(), updated_at = now()
       WHERE insights.status <> 'pending' AND insights.last_update_id IS DISTINCT FROM EXCLUDED.last_update_id
         AND $5::bigint > insights.covered_count
     RETURNING issue_id`,
    [job.issueId, job.projectId, job.reason, job.updateId, job.issueCount],
  );
  return rows.length > 0;
}

/** Claim due jobs with a lease; a worker that dies leaves them to be taken over after it expires. */
export async function claimDue(db: Db, limit: number, leaseSeconds: number): Promise<InsightRow[]> {
  return db.query<InsightRow & Record<string, unknown>>(
    `UPDATE insights SET locked_until = now() + make_interval(secs => $2), attempts = attempts + 1, updated_at = now()
     WHERE issue_id IN (
       SELECT issue_id FROM insights
       WHERE status = 'pending' AND next_attempt_at <= now() AND (locked_until IS NULL OR locked_until < now())
       ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
     RETURNING *`,
    [limit, leaseSeconds],
  );
}

export async function complete(
  db: Db,
  issueId: number,
  r: {
    kind: 'ai' | 'builtin' | 'text';
    provider?: string;
    model?: string;
    content: unknown;
    /** The issue's event count in the context analysed. */
    coveredCount: number;
  },
): Promise<void> {
  await db.query(
    `UPDATE insights SET status = 'ready', kind = $2, provider = $3, model = $4, content = $5::jsonb, error = NULL,
       locked_until = NULL, completed_at = now(), updated_at = now(),
       covered_count = GREATEST(covered_count, $6)
     WHERE issue_id = $1`,
    [issueId, r.kind, r.provider ?? null, r.model ?? null, JSON.stringify(r.content), r.coveredCount],
  );
}

export async function retryLater(
  db: Db,
  issueId: number,
  error: string,
  delaySeconds: number,
): Promise<void> {
  await db.query(
    `UPDATE insights SET next_attempt_at = now() + make_interval(secs => $3), locked_until = NULL, error = $2, updated_at = now()
     WHERE issue_id = $1`,
    [issueId, error, delaySeconds],
  );
}

export async function fail(
  db: Db,
  issueId: number,
  error: string,
  content: unknown,
  coveredCount = 0,
): Promise<void> {
  await db.query(
    `UPDATE insights SET status = 'failed', error = $2, content = $3::jsonb, locked_until = NULL,
       completed_at = now(), updated_at = now(), covered_count = GREATEST(covered_count, $4)
     WHERE issue_id = $1`,
    [issueId, error, JSON.stringify(content), coveredCount],
  );
}

export async function getInsight(db: Db, issueId: number): Promise<InsightRow | undefined> {
  return db.one<InsightRow & Record<string, unknown>>('SELECT * FROM insights WHERE issue_id = $1', [
    issueId,
  ]);
}

export async function issueProject(db: Db, issueId: number): Promise<number | undefined> {
  return (await db.one<{ project_id: number }>('SELECT project_id FROM issues WHERE id = $1', [issueId]))
    ?.project_id;
}

const iso = (d: unknown) => (d instanceof Date ? d.toISOString() : String(d));

/** Everything an analysis looks at, read from the issues tables. */
export async function loadContext(
  db: Db,
  issueId: number,
  now = new Date(),
): Promise<IssueContext | undefined> {
  const issue = await db.one<Record<string, unknown>>(
    `SELECT id, project_id, title, culprit, level, platform, event_count, user_count, first_seen, last_seen,
            first_release, last_release FROM issues WHERE id = $1`,
    [issueId],
  );
  if (!issue) return undefined;
  const latest = await db.one<{ payload: IssueContext['latestEvent'] }>(
    'SELECT payload FROM events WHERE issue_id = $1 ORDER BY received_at DESC LIMIT 1',
    [issueId],
  );
  const hourStart = new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000);
  const from = new Date(hourStart.getTime() - 47 * 3_600_000);
  const hours = await db.query<{ hour: Date; count: number }>(
    'SELECT hour, count FROM issue_hourly WHERE issue_id = $1 AND hour >= $2 ORDER BY hour',
    [issueId, from],
  );
  const hourly = Array.from({ length: 48 }, () => 0);
  for (const h of hours) {
    const i = Math.round((h.hour.getTime() - from.getTime()) / 3_600_000);
    if (i >= 0 && i < 48) hourly[i] = Number(h.count);
  }
  const title = String(issue.title);
  const type = title.includes(':') ? title.slice(0, title.indexOf(':')) : null;
  const related = await db.query<{
    id: number;
    title: string;
    culprit: string | null;
    count: number;
    reason: string;
  }>(
    `SELECT id, title, culprit, event_count AS count,
            CASE WHEN culprit IS NOT DISTINCT FROM $3 AND $3 IS NOT NULL THEN 'same culprit' ELSE 'same exception type' END AS reason
     FROM issues
     WHERE project_id = $1 AND id <> $2
       AND ((culprit = $3) OR ($4::text IS NOT NULL AND title LIKE $4::text || ':%'))
     ORDER BY last_seen DESC LIMIT 5`,
    [issue.project_id, issueId, issue.culprit, type],
  );
  return {
    issue: {
      id: Number(issue.id),
      projectId: Number(issue.project_id),
      title,
      culprit: (issue.culprit as string | null) ?? null,
      level: String(issue.level),
      platform: (issue.platform as string | null) ?? null,
      count: Number(issue.event_count),
      userCount: Number(issue.user_count),
      firstSeen: iso(issue.first_seen),
      lastSeen: iso(issue.last_seen),
      firstRelease: (issue.first_release as string | null) ?? null,
      lastRelease: (issue.last_release as string | null) ?? null,
    },
    latestEvent: latest?.payload,
    hourly,
    related: related.map((r) => ({ ...r, count: Number(r.count) })),
  };
}
