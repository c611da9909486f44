import type { Worker } from '../context.js';
import type { Db, Queryable } from '../platform/db/db.js';
import type { Logger } from '../platform/logger.js';

export const WINDOW_MS = 5 * 60_000;
const AGGREGATE_LOCK = 0x7570_7769; // "upwi"
const PRUNE_LOCK = 0x7570_7072; // "uppr"

export const floorWindow = (t: number) => Math.floor(t / WINDOW_MS) * WINDOW_MS;

/*
 * One 5-minute window per endpoint: checks, failures, degraded, availability (successful / all
 * checks) and latency min/avg/p50/p95/p99 over the successful checks (a timeout's "latency" is
 * the timeout, not the service's speed). Percentiles are continuous (linear interpolation between
 * the two nearest ranks, as PostgreSQL's percentile_cont). A ping belongs to the window of its
 * slot (due time), so a late check still counts where it was scheduled.
 */
const UPSERT_WINDOWS = `
  INSERT INTO uptime_windows AS w (endpoint_id, window_start, checks, failures, degraded, availability,
    latency_min, latency_avg, latency_p50, latency_p95, latency_p99)
  SELECT p.endpoint_id, to_timestamp(floor(extract(epoch FROM p.slot_at) / 300) * 300) AS ws,
         count(*)::int, (count(*) FILTER (WHERE NOT p.ok))::int, (count(*) FILTER (WHERE p.status = 'degraded'))::int,
         (count(*) FILTER (WHERE p.ok))::float8 / count(*),
         min(p.latency_ms) FILTER (WHERE p.ok), avg(p.latency_ms::float8) FILTER (WHERE p.ok),
         percentile_cont(0.5) WITHIN GROUP (ORDER BY p.latency_ms::float8) FILTER (WHERE p.ok),
         percentile_cont(0.95) WITHIN GROUP (ORDER BY p.latency_ms::float8) FILTER (WHERE p.ok),
         percentile_cont(0.99) WITHIN GROUP (ORDER BY p.latency_ms::float8) FILTER (WHERE p.ok)
    FROM uptime_pings p
   WHERE %WHERE%
   GROUP BY 1, 2
  ON CONFLICT (endpoint_id, window_start) DO UPDATE SET
    checks = EXCLUDED.checks, failures = EXCLUDED.failures, degraded = EXCLUDED.degraded,
    availability = EXCLUDED.availability, latency_min = EXCLUDED.latency_min, latency_avg = EXCLUDED.latency_avg,
    latency_p50 = EXCLUDED.latency_p50, latency_p95 = EXCLUDED.latency_p95, latency_p99 = EXCLUDED.latency_p99,
    computed_at = now()
  WHERE (w.checks, w.failures, w.degraded, w.availability, w.latency_min, w.latency_avg, w.latency_p50, w.latency_p95,
         w.latency_p99)
        IS DISTINCT FROM
        (EXCLUDED.checks, EXCLUDED.failures, EXCLUDED.degraded, EXCLUDED.availability, EXCLUDED.latency_min,
         EXCLUDED.latency_avg, EXCLUDED.latency_p50, EXCLUDED.latency_p95, EXCLUDED.latency_p99)`;

async function upsertRange(q: Queryable, from: Date, to: Date): Promise<number> {
  const rows = await q.query(
    `${UPSERT_WINDOWS.replace('%WHERE%', 'p.slot_at >= $1 AND p.slot_at < $2')} RETURNING 1`,
    [from, to],
  );
  return rows.length;
}

export interface AggregateOptions {
  now?: number;
  /** Windows are closed this long after they end (late checks of their slots still land). */
  graceMs?: number;
  /** Largest span aggregated per transaction while catching up. */
  chunkMs?: number;
  /** Recompute exactly this range instead of continuing from the watermark. */
  range?: { from: number; to: number };
}

export interface AggregateResult {
  /** Window rows inserted or changed. */
  changed: number;
  /** Where the watermark ended (ms), when it moved. */
  watermark: number | null;
}

/**
 * The idempotent background aggregation: continues from the stored watermark up to the last
 * closed window, in chunks (so a long downtime is caught up in bounded transactions), then
 * recomputes windows that late pings marked dirty. Rerunning over the same pings changes nothing:
 * rows are upserted only when a value differs. Concurrent runs are serialised by an advisory lock.
 */
export async function aggregateWindows(db: Db, opts: AggregateOptions = {}): Promise<AggregateResult> {
  const now = opts.now ?? Date.now();
  const graceMs = opts.graceMs ?? 3 * 60_000;
  const chunkMs = opts.chunkMs ?? 6 * 60 * 60_000;
  const result: AggregateResult = { changed: 0, watermark: null };
  if (opts.range) {
    const from = floorWindow(opts.range.from);
    const to = Math.ceil(opts.range.to / WINDOW_MS) * WINDOW_MS;
    for (let a = from; a < to; a += chunkMs)
      result.changed += await db.tx((q) => upsertRange(q, new Date(a), new Date(Math.min(to, a + chunkMs))));
    return result;
  }
  const end = floorWindow(now - graceMs);
  for (;;) {
    const step = await db.tx(async (q) => {
      const [lock] = await q.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [
        AGGREGATE_LOCK,
      ]);
      if (!lock?.ok) return { changed: 0, done: true, watermark: null as number | null };
      const [row] = await q.query<{ watermark: Date }>(
        'SELECT watermark FROM uptime_aggregation WHERE id = 1 FOR UPDATE',
      );
      let start: number;
      if (row) start = row.watermark.getTime();
      else {
        const [first] = await q.query<{ t: Date | null }>('SELECT min(slot_at) AS t FROM uptime_pings');
        start = first?.t ? floorWindow(first.t.getTime()) : end;
        await q.query(
          'INSERT INTO uptime_aggregation (id, watermark) VALUES (1, $1) ON CONFLICT (id) DO NOTHING',
          [new Date(start)],
        );
      }
      let changed = 0;
      // Windows marked by pings recorded after the watermark had passed them.
      const dirty = await q.query<{ endpoint_id: number; window_start: Date }>(
        'DELETE FROM uptime_window_dirty RETURNING endpoint_id, window_start',
      );
      for (const d of dirty) {
        const rows = await q.query(
          `${UPSERT_WINDOWS.replace(
            '%WHERE%',
            'p.endpoint_id = $1 AND p.slot_at >= $2 AND p.slot_at < $3',
          )} RETURNING 1`,
          [d.endpoint_id, d.window_start, new Date(d.window_start.getTime() + WINDOW_MS)],
        );
        changed += rows.length;
      }
      if (start >= end) return { changed, done: true, watermark: null };
      const stop = Math.min(end, start + chunkMs);
      changed += await upsertRange(q, new Date(start), new Date(stop));
      await q.query('UPDATE uptime_aggregation SET watermark = $1 WHERE id = 1', [new Date(stop)]);
      return { changed, done: stop >= end, watermark: stop };
    });
    result.changed += step.changed;
    if (step.watermark != null) result.watermark = step.watermark;
    if (step.done) return result;
  }
}

export interface RetentionOptions {
  now?: number;
  pingDays: number;
  windowDays: number;
  /** Rows deleted per statement, so a large backlog never holds one long transaction. */
  batch?: number;
}

/** Delete pings and windows past their retention; returns how many rows went. */
export async function pruneUptime(
  db: Db,
  opts: RetentionOptions,
): Promise<{ pings: number; windows: number }> {
  const now = opts.now ?? Date.now();
  const batch = opts.batch ?? 10_000;
  const out = { pings: 0, windows: 0 };
  // Never drop pings the aggregation has not folded into windows yet.
  const [wm] = await db.query<{ watermark: Date | null }>(
    'SELECT (SELECT watermark FROM uptime_aggregation WHERE id = 1) AS watermark',
  );
  const pingCut = new Date(Math.min(now - opts.pingDays * 86_400_000, wm?.watermark?.getTime() ?? 0));
  const windowCut = new Date(now - opts.windowDays * 86_400_000);
  // One short transaction per batch; a second pruner finds the lock taken and leaves the work to the first.
  const deleteBatch = (table: 'uptime_pings' | 'uptime_windows', column: string, cut: Date) =>
    db.tx(async (q) => {
      const [lock] = await q.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [
        PRUNE_LOCK,
      ]);
      if (!lock?.ok) return -1;
      return (
        await q.query(
          `DELETE FROM ${table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${table} WHERE ${column} < $1 LIMIT $2)) RETURNING 1`,
          [cut, batch],
        )
      ).length;
    });
  for (;;) {
    const n = await deleteBatch('uptime_pings', 'slot_at', pingCut);
    if (n < 0) return out;
    out.pings += n;
    if (n < batch) break;
  }
  for (;;) {
    const n = await deleteBatch('uptime_windows', 'window_start', windowCut);
    if (n < 0) return out;
    out.windows += n;
    if (n < batch) break;
  }
  return out;
}

/** Aggregates windows every minute and prunes old rows every hour. */
export class WindowsWorker implements Worker {
  readonly name = 'uptime-windows';
  private timer?: NodeJS.Timeout;
  private busy?: Promise<void>;
  private lastPrune = 0;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly retention: { pingDays: number; windowDays: number },
    private readonly everyMs = 60_000,
  ) {}

  async start(): Promise<void> {
    this.timer = setInterval(() => void this.tick(), this.everyMs);
    this.timer.unref();
    void this.tick();
  }

  private tick(): Promise<void> {
    if (this.busy) return this.busy;
    this.busy = (async () => {
      try {
        await aggregateWindows(this.db);
        if (Date.now() - this.lastPrune > 60 * 60_000) {
          this.lastPrune = Date.now();
          const pruned = await pruneUptime(this.db, this.retention);
          if (pruned.pings || pruned.windows) this.log.info(pruned, 'pruned old uptime data');
        }
      } catch (err) {
        this.log.warn({ err }, 'uptime window aggregation failed; will retry');
      } finally {
        this.busy = undefined;
      }
    })();
    return this.busy;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.busy;
  }
}
