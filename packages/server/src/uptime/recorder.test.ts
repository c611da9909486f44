import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../platform/db/db.js';
import { requirePg } from '../test-support/index.js';
import type { CheckResult } from './checker.js';
import { evaluate, recordOutcomes } from './recorder.js';
import { type UptimeTestDb, uptimeTestDb } from './test-db.js';

const result = (ok: boolean, at: number): CheckResult => ({
  ok,
  status: ok ? 'up' : 'down',
  httpStatus: ok ? 200 : 500,
  errorKind: ok ? null : 'status',
  error: ok ? null : 'status 500 (expected 2xx)',
  startedAt: at,
  latencyMs: 3,
  ttfbMs: 2,
  dnsMs: null,
  connectMs: null,
  tlsMs: null,
  certExpiresAt: null,
  redirects: 0,
});

describe('incident state machine', () => {
  const t = { failure: 3, recovery: 2 };
  const fresh = { consecutiveFailures: 0, consecutiveSuccesses: 0, failingSince: null, openIncidentId: null };

  it('opens on exactly the failure threshold and remembers when the streak began', () => {
    let s = evaluate(fresh, false, 100, t, false);
    expect(s.transition).toBeNull();
    s = evaluate(s.state, false, 200, t, false);
    expect(s.transition).toBeNull();
    s = evaluate(s.state, false, 300, t, false);
    expect(s).toMatchObject({ transition: 'open', state: { consecutiveFailures: 3, failingSince: 100 } });
  });

  it('resolves on exactly the recovery threshold, and a failure in between starts the count again', () => {
    const open = { ...fresh, consecutiveFailures: 5, failingSince: 1, openIncidentId: 9 };
    let s = evaluate(open, true, 1, t, false);
    expect(s.transition).toBeNull();
    s = evaluate({ ...s.state }, false, 2, t, false);
    expect(s.transition).toBeNull(); // still open: no second incident
    s = evaluate(s.state, true, 3, t, false);
    expect(s.transition).toBeNull();
    s = evaluate(s.state, true, 4, t, false);
    expect(s.transition).toBe('resolve');
  });

  it('moves the counters but never transitions under maintenance', () => {
    const s = evaluate({ ...fresh, consecutiveFailures: 2 }, false, 1, t, true);
    expect(s).toEqual({ transition: null, state: expect.objectContaining({ consecutiveFailures: 3 }) });
    expect(evaluate(s.state, false, 2, t, false).transition).toBe('open');
  });
});

describe.runIf(requirePg())('recording checks', () => {
  let tdb: UptimeTestDb;
  let db: Db;
  const ids: number[] = [];

  beforeAll(async () => {
    tdb = await uptimeTestDb();
    db = tdb.db;
    for (const n of ['a', 'b'])
      ids.push(
        (
          await db.query<{ id: number }>(
            `INSERT INTO uptime_endpoints (service_id, name, url, interval_s, next_due_at, lease_owner, lease_until)
             VALUES ($1, $2, 'http://127.0.0.1:1/', 10, '2026-01-01T00:00:00Z', 'w1', now() + interval '1 minute')
             RETURNING id`,
            [tdb.serviceId, n],
          )
        )[0]!.id,
      );
  });
  afterAll(async () => {
    await tdb?.drop();
  });

  it('records a slot once, whoever reports it, and drops results of deleted endpoints', async () => {
    const slot = Date.parse('2026-01-01T00:00:00Z');
    const [a, b] = ids as [number, number];
    await db.query('DELETE FROM uptime_endpoints WHERE id = $1', [b]);
    const first = await recordOutcomes(
      { db, monitorTopic: 't' },
      'w1',
      [
        { endpointId: a, slot, result: result(true, slot + 5) },
        { endpointId: b, slot, result: result(true, slot + 5) },
      ],
      slot + 10,
    );
    expect(first).toMatchObject({ recorded: 1, duplicates: 0 });
    // A worker that took the lease over reports the same slot: nothing changes.
    const again = await recordOutcomes(
      { db, monitorTopic: 't' },
      'w2',
      [{ endpointId: a, slot, result: result(false, slot + 9) }],
      slot + 20,
    );
    expect(again).toMatchObject({ recorded: 0, duplicates: 1, opened: [] });
    const pings = await db.query('SELECT ok, worker FROM uptime_pings WHERE endpoint_id = $1', [a]);
    expect(pings).toEqual([{ ok: true, worker: 'w1' }]);
    const [row] = await db.query<{
      next_due_at: Date;
      lease_owner: string | null;
      consecutive_failures: number;
    }>('SELECT next_due_at, lease_owner, consecutive_failures FROM uptime_endpoints WHERE id = $1', [a]);
    expect(row!.lease_owner).toBeNull();
    expect(row!.consecutive_failures).toBe(0);
    expect(row!.next_due_at.getTime()).toBeGreaterThan(slot);
  });
});
