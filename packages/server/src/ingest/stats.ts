import type { Counter } from 'prom-client';
import type { Db } from '../platform/db/db.js';
import type { Logger } from '../platform/logger.js';
import { addStats, readStats, readTotals, type StatDelta } from './store.js';

/**
 * Per-project ingest outcomes (accepted, rate_limited, invalid, dropped with a reason), counted
 * in memory on the hot path and added to `ingest_stats` (hourly rows) every few seconds, so
 * counting costs no query per request. A crash loses at most one interval of counts — they are
 * statistics, not events. The same counts feed the `beacon_ingest_events_total` Prometheus counter.
 */
export type Outcome = 'accepted' | 'rate_limited' | 'invalid' | 'dropped';

export interface ProjectStats {
  projectId: number;
  totals: { accepted: number; rateLimited: number; invalid: number; dropped: number };
  /** Dropped and invalid counts by reason. */
  reasons: Array<{ outcome: Outcome; reason: string; count: number }>;
  hourly: Array<{ hour: string; accepted: number; rateLimited: number; invalid: number; dropped: number }>;
}

const HOUR = 3600_000;
const hourOf = (ms: number) => Math.floor(ms / HOUR) * HOUR;

export class IngestStats {
  /** key: `${projectId}|${hourMs}|${outcome}|${reason}` */
  private pending = new Map<string, StatDelta>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly counter: Counter<'project' | 'outcome' | 'reason'>,
    private readonly intervalMs = 5000,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.flush().catch((err) => this.log.warn({ err }, 'ingest stats flush failed'));
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush().catch((err) => this.log.warn({ err }, 'ingest stats flush failed'));
  }

  count(projectId: number, outcome: Outcome, n = 1, reason = ''): void {
    if (n <= 0) return;
    this.counter.inc({ project: String(projectId), outcome, reason }, n);
    const hour = hourOf(Date.now());
    const key = `${projectId}|${hour}|${outcome}|${reason}`;
    const d = this.pending.get(key);
    if (d) d.count += n;
    else this.pending.set(key, { projectId, hour: new Date(hour), outcome, reason, count: n });
  }

  /** Write pending counts; on failure they are merged back and retried next time. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing.then(() => this.flush());
    if (this.pending.size === 0) return Promise.resolve();
    const batch = this.pending;
    this.pending = new Map();
    this.flushing = addStats(this.db, [...batch.values()])
      .catch((err) => {
        for (const [k, d] of batch) {
          const cur = this.pending.get(k);
          if (cur) cur.count += d.count;
          else this.pending.set(k, d);
        }
        throw err;
      })
      .finally(() => {
        this.flushing = undefined;
      });
    return this.flushing;
  }

  /** Stored counts plus this process's not-yet-flushed ones. */
  async read(projectId: number, hours: number): Promise<ProjectStats> {
    const since = new Date(hourOf(Date.now()) - (hours - 1) * HOUR);
    const [rows, totals] = await Promise.all([
      readStats(this.db, projectId, since),
      readTotals(this.db, projectId),
    ]);
    const all = [...rows.map((r) => ({ ...r, hour: r.hour.getTime() }))];
    const totalRows = [...totals];
    for (const d of this.pending.values()) {
      if (d.projectId !== projectId) continue;
      if (d.hour.getTime() >= since.getTime())
        all.push({ hour: d.hour.getTime(), outcome: d.outcome, reason: d.reason, count: d.count });
      totalRows.push({ outcome: d.outcome, reason: d.reason, count: d.count });
    }
    const field = {
      accepted: 'accepted',
      rate_limited: 'rateLimited',
      invalid: 'invalid',
      dropped: 'dropped',
    } as const;
    const out: ProjectStats = {
      projectId,
      totals: { accepted: 0, rateLimited: 0, invalid: 0, dropped: 0 },
      reasons: [],
      hourly: [],
    };
    const reasons = new Map<string, { outcome: Outcome; reason: string; count: number }>();
    for (const r of totalRows) {
      const f = field[r.outcome as Outcome];
      if (!f) continue;
      out.totals[f] += Number(r.count);
      if (r.outcome === 'accepted') continue;
      const k = `${r.outcome}|${r.reason}`;
      const cur = reasons.get(k);
      if (cur) cur.count += Number(r.count);
      else reasons.set(k, { outcome: r.outcome as Outcome, reason: r.reason, count: Number(r.count) });
    }
    out.reasons = [...reasons.values()].sort((a, b) => b.count - a.count);
    const byHour = new Map<number, ProjectStats['hourly'][number]>();
    for (let h = since.getTime(); h <= hourOf(Date.now()); h += HOUR)
      byHour.set(h, { hour: new Date(h).toISOString(), accepted: 0, rateLimited: 0, invalid: 0, dropped: 0 });
    for (const r of all) {
      const slot = byHour.get(r.hour);
      const f = field[r.outcome as Outcome];
      if (slot && f) slot[f] += Number(r.count);
    }
    out.hourly = [...byHour.values()];
    return out;
  }
}
