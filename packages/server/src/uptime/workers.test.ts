import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../platform/db/db.js';
import { type BeaconProcess, requirePg, spawnBeacon, waitFor } from '../test-support/index.js';
import { firstSlotAtOrAfter, slotsBetween } from './schedule.js';
import { type UptimeTestDb, uptimeTestDb } from './test-db.js';
import { startTestTarget, type TestTarget } from './test-target.js';

const ENDPOINTS = 40;
const INTERVAL_MS = 4_000; // below the API's 10 s minimum, allowed by the table for tests

describe.runIf(requirePg())('uptime workers sharing one database', () => {
  let tdb: UptimeTestDb;
  let db: Db;
  let target: TestTarget;
  const procs: BeaconProcess[] = [];

  beforeAll(async () => {
    tdb = await uptimeTestDb();
    db = tdb.db;
    // Slow enough that checks are in flight when a worker dies, well inside the 1 s timeout.
    target = await startTestTarget('slow', 400);
  });
  afterAll(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await target?.close();
    await tdb?.drop();
  });

  it('runs every due slot exactly once when one of two workers is SIGKILLed mid-batch', async () => {
    const ids = (
      await db.query<{ id: number }>(
        `INSERT INTO uptime_endpoints (service_id, name, url, interval_s, timeout_ms, next_due_at, enabled)
         SELECT $1, 'e' || g, $2 || '/e' || g, $3, 1000, now(), false FROM generate_series(1, $4) g RETURNING id`,
        [tdb.serviceId, target.url, INTERVAL_MS / 1000, ENDPOINTS],
      )
    ).map((r) => r.id);

    const env = { DATABASE_URL: tdb.url };
    const a = spawnBeacon(['start', '--roles', 'uptime'], env);
    const b = spawnBeacon(['start', '--roles', 'uptime'], env);
    procs.push(a, b);
    await Promise.all([a.ready(60_000), b.ready(60_000)]);

    // Put every endpoint on its slot grid, starting shortly.
    const windowStart = Date.now() + 500;
    for (const id of ids)
      await db.query('UPDATE uptime_endpoints SET enabled = true, next_due_at = $2 WHERE id = $1', [
        id,
        new Date(firstSlotAtOrAfter(id, INTERVAL_MS, windowStart)),
      ]);

    // Kill A after it recorded some checks, while it holds leases on slots whose checks are running.
    const ownerA = `%:${a.child.pid}:%`;
    await waitFor(
      async () =>
        (await db.query('SELECT 1 FROM uptime_pings WHERE worker LIKE $1 LIMIT 3', [ownerA])).length === 3 &&
        (
          await db.query(
            `SELECT 1 FROM uptime_endpoints WHERE lease_owner LIKE $1 AND next_due_at <= now() AND lease_until > now()`,
            [ownerA],
          )
        ).length >= 2,
      // Generous: under a full parallel test run the two workers start and claim slots slowly.
      { what: 'worker A to run checks', timeout: 45_000, interval: 10 },
    );
    a.child.kill('SIGKILL');
    await a.exited;
    const killedAt = Date.now();
    const orphans = await db.query<{ id: number; next_due_at: Date }>(
      'SELECT id, next_due_at FROM uptime_endpoints WHERE lease_owner LIKE $1',
      [ownerA],
    );
    expect(orphans.length).toBeGreaterThanOrEqual(2);
    const windowEnd = killedAt + 8_000;

    // Wait until B has recorded every slot due in the window (leases of A expire after ~3 s).
    const expected = new Map(ids.map((id) => [id, slotsBetween(id, INTERVAL_MS, windowStart, windowEnd)]));
    const total = [...expected.values()].reduce((n, s) => n + s.length, 0);
    const inWindow = () =>
      db.query<{ endpoint_id: number; slot: number; worker: string }>(
        `SELECT endpoint_id, (extract(epoch FROM slot_at) * 1000)::bigint AS slot, worker FROM uptime_pings
          WHERE slot_at >= $1 AND slot_at < $2 ORDER BY endpoint_id, slot_at`,
        [new Date(windowStart), new Date(windowEnd)],
      );
    await waitFor(async () => Date.now() > windowEnd + 1_000 && (await inWindow()).length >= total, {
      what: `${total} pings in the test window`,
      timeout: 30_000,
      interval: 200,
    });

    const pings = await inWindow();
    const got = new Map<number, number[]>();
    for (const p of pings) got.set(p.endpoint_id, [...(got.get(p.endpoint_id) ?? []), Number(p.slot)]);
    for (const id of ids) expect({ id, slots: got.get(id) ?? [] }).toEqual({ id, slots: expected.get(id) });
    expect(pings).toHaveLength(total);

    // Both workers did work, and the slots A died holding were run by B.
    const workers = new Set(pings.map((p) => p.worker.split(':')[1]));
    expect(workers).toEqual(new Set([String(a.child.pid), String(b.child.pid)]));
    for (const o of orphans) {
      const rows = await db.query<{ worker: string }>(
        'SELECT worker FROM uptime_pings WHERE endpoint_id = $1 AND slot_at = $2',
        [o.id, o.next_due_at],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]!.worker).toContain(`:${b.child.pid}:`);
    }

    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
    // A clean stop leaves no lease behind.
    expect(
      await db.query('SELECT id FROM uptime_endpoints WHERE lease_owner LIKE $1', [`%:${b.child.pid}:%`]),
    ).toEqual([]);
  }, 150_000);
});
