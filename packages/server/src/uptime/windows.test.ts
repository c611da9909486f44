import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../platform/db/db.js';
import { requirePg } from '../test-support/index.js';
import type { CheckResult } from './checker.js';
import { recordOutcomes } from './recorder.js';
import { type UptimeTestDb, uptimeTestDb } from './test-db.js';
import { aggregateWindows, pruneUptime, WINDOW_MS } from './windows.js';

const MIN = 60_000;

describe.runIf(requirePg())('5-minute windows', () => {
  let tdb: UptimeTestDb;
  let db: Db;
  let endpointId: number;
  // Two whole windows, far enough in the past to be closed.
  const t0 = Math.floor((Date.now() - 2 * 86_400_000) / WINDOW_MS) * WINDOW_MS;

  async function ping(slot: number, ok: boolean, latency: number, status = ok ? 'up' : 'down') {
    await db.query(
      `INSERT INTO uptime_pings (endpoint_id, slot_at, started_at, ok, status, latency_ms, error_kind)
       VALUES ($1, $2, $2, $3, $4, $5, $6)`,
      [endpointId, new Date(slot), ok, status, latency, ok ? null : 'timeout'],
    );
  }
  const windows = async () =>
    db.query(
      `SELECT (extract(epoch FROM window_start) * 1000)::bigint AS start, checks, failures, degraded, availability,
              latency_min, latency_avg, latency_p50, latency_p95, latency_p99, computed_at
         FROM uptime_windows WHERE endpoint_id = $1 ORDER BY window_start`,
      [endpointId],
    );

  beforeAll(async () => {
    tdb = await uptimeTestDb();
    db = tdb.db;
    const [e] = await db.query<{ id: number }>(
      `INSERT INTO uptime_endpoints (service_id, name, url, interval_s, next_due_at, enabled)
       VALUES ($1, 'e', 'http://127.0.0.1:1/', 10, now(), false) RETURNING id`,
      [tdb.serviceId],
    );
    endpointId = e!.id;
  });
  afterAll(async () => {
    await tdb?.drop();
  });

  it('computes exact availability and percentiles, and rerunning changes nothing', async () => {
    // Window 1: 8 successes (10..80 ms) and 2 timeouts; window 2: up, degraded, down.
    for (let i = 0; i < 8; i++) await ping(t0 + i * 20_000, true, (i + 1) * 10);
    await ping(t0 + 200_000, false, 1000);
    await ping(t0 + 220_000, false, 1000);
    await ping(t0 + WINDOW_MS, true, 100);
    await ping(t0 + WINDOW_MS + 10_000, true, 500, 'degraded');
    await ping(t0 + WINDOW_MS + 20_000, false, 2000);

    const first = await aggregateWindows(db, { now: t0 + 2 * WINDOW_MS + 3 * MIN });
    expect(first.changed).toBe(2);
    expect(first.watermark).toBe(t0 + 2 * WINDOW_MS);
    const rows = await windows();
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ start: t0, checks: 10, failures: 2, degraded: 0, availability: 0.8 });
    expect(rows[0]!.latency_min).toBe(10);
    expect(rows[0]!.latency_avg).toBe(45);
    expect(rows[0]!.latency_p50).toBe(45); // (40 + 50) / 2
    expect(rows[0]!.latency_p95).toBeCloseTo(76.5, 10); // rank 0.95 × 7 = 6.65 → 70 + 0.65 × 10
    expect(rows[0]!.latency_p99).toBeCloseTo(79.3, 10); // rank 6.93 → 70 + 0.93 × 10
    expect(rows[1]).toMatchObject({
      checks: 3,
      failures: 1,
      degraded: 1,
      latency_min: 100,
      latency_avg: 300,
      latency_p50: 300,
    });
    expect(rows[1]!.availability).toBeCloseTo(2 / 3, 12);

    // Again from the watermark, and a full recompute of the range: no row changes.
    expect((await aggregateWindows(db, { now: t0 + 2 * WINDOW_MS + 3 * MIN })).changed).toBe(0);
    expect((await aggregateWindows(db, { range: { from: t0, to: t0 + 2 * WINDOW_MS } })).changed).toBe(0);
    expect(await windows()).toEqual(rows);
  });

  it('recomputes a window when a late check lands after the aggregation passed it', async () => {
    const late: CheckResult = {
      ok: false,
      status: 'down',
      httpStatus: 500,
      errorKind: 'status',
      error: 'status 500',
      startedAt: t0 + 2 * WINDOW_MS + 4 * MIN,
      latencyMs: 5,
      ttfbMs: 5,
      dnsMs: null,
      connectMs: null,
      tlsMs: null,
      certExpiresAt: null,
      redirects: 0,
    };
    await recordOutcomes(
      { db, monitorTopic: 't' },
      'w',
      [{ endpointId, slot: t0 + 280_000, result: late }],
      late.startedAt,
    );
    expect((await db.query('SELECT * FROM uptime_window_dirty')).length).toBe(1);
    expect((await aggregateWindows(db, { now: t0 + 2 * WINDOW_MS + 5 * MIN })).changed).toBe(1);
    const [w1] = await windows();
    expect(w1).toMatchObject({ checks: 11, failures: 3 });
    expect(w1!.availability).toBeCloseTo(8 / 11, 12);
    expect((await db.query('SELECT * FROM uptime_window_dirty')).length).toBe(0);
  });

  it('catches up after downtime in bounded chunks, then prunes by retention', async () => {
    // A day of one ping per hour after a long pause of the aggregation.
    const start = t0 + 2 * WINDOW_MS;
    for (let h = 0; h < 24; h++) await ping(start + h * 60 * MIN, true, 20);
    const res = await aggregateWindows(db, { now: start + 25 * 60 * MIN, chunkMs: 60 * MIN });
    expect(res.changed).toBe(24);
    expect(res.watermark).toBe(Math.floor((start + 25 * 60 * MIN - 3 * MIN) / WINDOW_MS) * WINDOW_MS);
    expect(await windows()).toHaveLength(26);

    // Pings older than 1 day go (only those already aggregated); windows stay for their own retention.
    const now = start + 25 * 60 * MIN;
    const pruned = await pruneUptime(db, { now, pingDays: 1, windowDays: 400 });
    const [{ n }] = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM uptime_pings')) as [
      { n: number },
    ];
    // cut = now − 1 day = start + 1 h: the 14 pings of the first two windows and the first hourly one
    expect(pruned.pings).toBe(15);
    expect(n).toBe(23);
    expect(
      (await pruneUptime(db, { now: now + 400 * 86_400_000 + 1, pingDays: 1, windowDays: 400 })).windows,
    ).toBe(26);
  });
});
