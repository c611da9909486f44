import type { Queryable } from '../platform/db/db.js';

/** SQL of the ingest domain: attachments and the hourly outcome counters. */

export interface AttachmentRow {
  projectId: number;
  eventId: string;
  id: string;
  filename: string;
  contentType?: string;
  attachmentType?: string;
  data: Buffer;
}

export async function insertAttachments(db: Queryable, rows: AttachmentRow[]): Promise<void> {
  if (rows.length === 0) return;
  const params: unknown[] = [];
  const values = rows.map((r, i) => {
    params.push(
      r.projectId,
      r.eventId,
      r.id,
      r.filename,
      r.contentType ?? null,
      r.attachmentType ?? null,
      r.data.length,
      r.data,
    );
    const b = i * 8;
    return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}, $${b + 7}, $${b + 8})`;
  });
  await db.query(
    `INSERT INTO ingest_attachments (project_id, event_id, id, filename, content_type, attachment_type, size, data)
     VALUES ${values.join(', ')}
     ON CONFLICT (project_id, event_id, id) DO NOTHING`,
    params,
  );
}

export interface StoredAttachment {
  id: string;
  filename: string;
  contentType: string | null;
  attachmentType: string | null;
  size: number;
}

export async function listAttachments(
  db: Queryable,
  projectId: number,
  eventId: string,
): Promise<StoredAttachment[]> {
  return db.query<StoredAttachment & Record<string, unknown>>(
    `SELECT id, filename, content_type AS "contentType", attachment_type AS "attachmentType", size
       FROM ingest_attachments WHERE project_id = $1 AND event_id = $2 ORDER BY created_at, id`,
    [projectId, eventId],
  );
}

export async function readAttachment(
  db: Queryable,
  projectId: number,
  eventId: string,
  id: string,
): Promise<(StoredAttachment & { data: Buffer }) | undefined> {
  const rows = await db.query<StoredAttachment & { data: Buffer } & Record<string, unknown>>(
    `SELECT id, filename, content_type AS "contentType", attachment_type AS "attachmentType", size, data
       FROM ingest_attachments WHERE project_id = $1 AND event_id = $2 AND id = $3`,
    [projectId, eventId, id],
  );
  return rows[0];
}

export interface StatDelta {
  projectId: number;
  hour: Date;
  outcome: string;
  reason: string;
  count: number;
}

/** Add deltas to the hourly counters in one statement; rows of deleted projects are skipped. */
export async function addStats(db: Queryable, deltas: StatDelta[]): Promise<void> {
  if (deltas.length === 0) return;
  await db.query(
    `INSERT INTO ingest_stats (project_id, hour, outcome, reason, count)
     SELECT u.project_id, u.hour, u.outcome, u.reason, u.count
       FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::bigint[])
            AS u (project_id, hour, outcome, reason, count)
       JOIN projects p ON p.id = u.project_id
     ON CONFLICT (project_id, hour, outcome, reason) DO UPDATE SET count = ingest_stats.count + EXCLUDED.count`,
    [
      deltas.map((d) => d.projectId),
      deltas.map((d) => d.hour.toISOString()),
      deltas.map((d) => d.outcome),
      deltas.map((d) => d.reason),
      deltas.map((d) => d.count),
    ],
  );
}

export interface StatRow {
  hour: Date;
  outcome: string;
  reason: string;
  count: number;
}

export async function readStats(db: Queryable, projectId: number, since: Date): Promise<StatRow[]> {
  return db.query<StatRow & Record<string, unknown>>(
    `SELECT hour, outcome, reason, count FROM ingest_stats
      WHERE project_id = $1 AND hour >= $2 ORDER BY hour`,
    [projectId, since.toISOString()],
  );
}

export async function readTotals(db: Queryable, projectId: number): Promise<Omit<StatRow, 'hour'>[]> {
  return db.query<Omit<StatRow, 'hour'> & Record<string, unknown>>(
    `SELECT outcome, reason, sum(count)::bigint AS count FROM ingest_stats
      WHERE project_id = $1 GROUP BY outcome, reason`,
    [projectId],
  );
}

/** Remove attachments older than their project's retention (projects.retention_days). */
export async function deleteExpiredAttachments(db: Queryable, limit = 1000): Promise<number> {
  const rows = await db.query<{ n: number }>(
    `WITH doomed AS (
       SELECT a.project_id, a.event_id, a.id FROM ingest_attachments a JOIN projects p ON p.id = a.project_id
        WHERE a.created_at < now() - make_interval(days => p.retention_days)
        LIMIT $1)
     , gone AS (
       DELETE FROM ingest_attachments a USING doomed d
        WHERE a.project_id = d.project_id AND a.event_id = d.event_id AND a.id = d.id RETURNING 1)
     SELECT count(*)::int AS n FROM gone`,
    [limit],
  );
  return rows[0]?.n ?? 0;
}
