import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../context.js';
import type { InternalEvent } from '../events/schema.js';
import type { ConsumedMessage } from '../platform/bus/types.js';
import { topicNames } from '../platform/bus/types.js';
import { Db } from '../platform/db/db.js';
import { migrate } from '../platform/db/migrate.js';
import { createLogger } from '../platform/logger.js';
import { Metrics } from '../platform/metrics.js';
import { createTestDatabase, requirePg, type TestDatabase } from '../test-support/index.js';
import { IssueProcessor } from './processor.js';
import * as store from './store.js';
import { createIssuesWorker } from './worker.js';

const log = createLogger('silent');
let offset = 0;
let seq = 0;

const newId = () => (++seq).toString(16).padStart(32, 'a');

function msg(e: Record<string, unknown> | string): ConsumedMessage {
  const value = typeof e === 'string' ? e : JSON.stringify(e);
  return {
    topic: 'beacon.events',
    partition: 0,
    offset: String(offset++),
    timestamp: new Date(),
    key: '1',
    value: Buffer.from(value),
  };
}

function ev(projectId: number, over: Partial<InternalEvent> = {}): InternalEvent {
  const now = new Date().toISOString();
  return {
    eventId: newId(),
    projectId,
    timestamp: now,
    receivedAt: now,
    platform: 'node',
    level: 'error',
    exceptions: [
      {
        type: 'TypeError',
        value: `cannot read id of undefined (user ${seq})`,
        stacktrace: {
          frames: [{ filename: '/srv/app/src/users.js', function: 'load', lineno: seq, in_app: true }],
        },
      },
    ],
    tags: {},
    contexts: {},
    breadcrumbs: [],
    extra: {},
    attachments: [],
    source: 'envelope',
    ...over,
  };
}

describe.runIf(requirePg())('issue processor', () => {
  let tdb: TestDatabase;
  let db: Db;
  let p: IssueProcessor;
  let projectId: number;
  let otherProject: number;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    db = new Db(tdb.url, 4);
    await migrate(db, log);
    const [org] = await db.query<{ id: number }>(
      `INSERT INTO organizations (name, slug) VALUES ('o', 'o') RETURNING id`,
    );
    const rows = await db.query<{ id: number }>(
      `INSERT INTO projects (org_id, name, slug, settings) VALUES ($1, 'a', 'a', '{}'), ($1, 'b', 'b', $2) RETURNING id`,
      [org!.id, JSON.stringify({ fingerprintRules: ['error.type:DbError -> database'] })],
    );
    projectId = rows[0]!.id;
    otherProject = rows[1]!.id;
    p = new IssueProcessor(db, log);
  });
  afterAll(async () => {
    await db?.close();
    await tdb?.drop();
  });

  it('groups a batch into issues with counts, tags, hours, users and one outbox update per issue', async () => {
    const batch = [
      ev(projectId, { user: { id: 'u1' }, tags: { region: 'eu' }, release: 'app@1' }),
      ev(projectId, { user: { id: 'u2' }, tags: { region: 'us' }, release: 'app@1' }),
      ev(projectId, { user: { id: 'u1' }, tags: { region: 'eu' }, release: 'app@2', level: 'fatal' }),
      ev(projectId, { exceptions: [{ type: 'RangeError', value: 'bad' }] }),
    ];
    const r = await p.processBatch(batch.map(msg));
    expect(r).toMatchObject({ inserted: 4, duplicates: 0, invalid: 0 });
    expect(r.updates.map((u) => [u.type, u.newEvents])).toEqual([
      ['created', 3],
      ['created', 1],
    ]);
    const first = r.updates[0]!;
    expect(first.issue).toMatchObject({ count: 3, userCount: 2, status: 'unresolved', level: 'fatal' });
    expect(first.levels).toEqual({ error: 2, fatal: 1 });
    expect(first.userIds.sort()).toEqual(['u1', 'u2']);
    const issue = await db.one(`SELECT * FROM issues WHERE id = $1`, [first.issue.id]);
    expect(issue).toMatchObject({
      event_count: 3,
      user_count: 2,
      first_release: 'app@1',
      last_release: 'app@2',
    });
    expect((issue!.grouping as { components: string[] }).components).toEqual([
      'type:TypeError',
      'frame:src/users.js:load',
    ]);
    const tags = await db.query(
      `SELECT key, value, count FROM issue_tags WHERE issue_id = $1 AND key = 'region' ORDER BY value`,
      [first.issue.id],
    );
    expect(tags).toEqual([
      { key: 'region', value: 'eu', count: 2 },
      { key: 'region', value: 'us', count: 1 },
    ]);
    const hourly = await db.query<{ n: number }>(
      `SELECT sum(count)::int AS n FROM issue_hourly WHERE issue_id = $1`,
      [first.issue.id],
    );
    expect(hourly[0]!.n).toBe(3);
    const outbox = await db.query<{ update_id: string }>('SELECT update_id FROM issue_outbox ORDER BY id');
    expect(outbox.map((o) => o.update_id)).toEqual(r.updates.map((u) => u.updateId));
  });

  it('counts an event delivered twice (same or later batch) once', async () => {
    const e = ev(projectId, { exceptions: [{ type: 'DupError', value: 'x' }] });
    const a = await p.processBatch([msg(e), msg(e)]);
    expect(a.inserted).toBe(1);
    const b = await p.processBatch([msg(e)]);
    expect(b).toMatchObject({ inserted: 0, duplicates: 1, updates: [] });
    const [row] = await db.query(`SELECT event_count FROM issues WHERE title = 'DupError: x'`);
    expect(row).toEqual({ event_count: 1 });
    const [n] = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM events WHERE title = 'DupError: x'`,
    );
    expect(n!.n).toBe(1);
  });

  it('two workers on the same messages at once (rebalance overlap) count every event once', async () => {
    const other = new IssueProcessor(db, log);
    const events = Array.from({ length: 60 }, (_, i) =>
      ev(projectId, {
        exceptions: [{ type: `OverlapError${i % 3}`, value: 'x' }],
        user: { id: `u${i % 4}` },
      }),
    );
    // Overlapping batches, both creating the same three issues.
    const [a, b] = await Promise.all([
      p.processBatch(events.slice(0, 40).map(msg)),
      other.processBatch(events.slice(20).map(msg)),
    ]);
    expect(a.inserted + b.inserted).toBe(60);
    const issues = await db.query<{ id: number; event_count: number; user_count: number }>(
      `SELECT id, event_count, user_count FROM issues WHERE title LIKE 'OverlapError%' ORDER BY title`,
    );
    expect(issues.map((i) => [i.event_count, i.user_count])).toEqual([
      [20, 4],
      [20, 4],
      [20, 4],
    ]);
    const created = [...a.updates, ...b.updates].filter((u) => u.type === 'created');
    expect(created.map((u) => u.issue.id).sort()).toEqual(issues.map((i) => i.id).sort());
    const [tagSum] = await db.query<{ n: number }>(
      `SELECT sum(count)::int AS n FROM issue_tags WHERE key = 'level' AND issue_id = ANY($1::bigint[])`,
      [issues.map((i) => i.id)],
    );
    expect(tagSum!.n).toBe(60);
  });

  it('skips unparseable messages and events of unknown projects without failing the batch', async () => {
    const good = ev(projectId, { exceptions: [{ type: 'GoodError', value: 'x' }] });
    const r = await p.processBatch([msg('not json'), msg({ eventId: 'nope' }), msg(ev(999_999)), msg(good)]);
    expect(r).toMatchObject({ inserted: 1, invalid: 2, skipped: 1 });
  });

  it('stores events with NUL characters and rejects absurd arrival times', async () => {
    const nul = ev(projectId, {
      exceptions: [{ type: 'Nul\u0000Error', value: 'bad \u0000 byte' }],
      tags: { 'k\u0000': 'v\u0000' },
      release: 'r\u00001',
    });
    const r = await p.processBatch([msg(nul), msg(ev(projectId, { receivedAt: '1970-01-01T00:00:00Z' }))]);
    expect(r).toMatchObject({ inserted: 1, invalid: 1 });
    expect(r.updates[0]!.issue.title).toBe('NulError: bad  byte');
    const [row] = await db.query<{ payload: string }>(
      'SELECT payload::text AS payload FROM events WHERE title = $1',
      ['NulError: bad  byte'],
    );
    expect(JSON.parse(row!.payload).eventId).toBe(nul.eventId);
  });

  it('applies project fingerprint rules', async () => {
    const a = ev(otherProject, { exceptions: [{ type: 'DbError', value: 'conn refused' }] });
    const b = ev(otherProject, { exceptions: [{ type: 'DbError', value: 'pool exhausted' }] });
    const r = await p.processBatch([msg(a), msg(b)]);
    expect(r.updates).toHaveLength(1);
    expect(r.updates[0]!.newEvents).toBe(2);
  });

  it('reopens a resolved issue once, and resolved-in-next-release only for a newer release', async () => {
    const base = { exceptions: [{ type: 'RegressError', value: 'x' }] };
    const r1 = await p.processBatch([msg(ev(projectId, { ...base, release: 'r@1' }))]);
    const id = r1.updates[0]!.issue.id;
    await db.query(`UPDATE issues SET status = 'resolved', resolved_at = now() WHERE id = $1`, [id]);
    const r2 = await p.processBatch([msg(ev(projectId, base)), msg(ev(projectId, base))]);
    expect(r2.updates.map((u) => [u.type, u.issue.status, u.newEvents])).toEqual([
      ['regressed', 'unresolved', 2],
    ]);
    const r3 = await p.processBatch([msg(ev(projectId, base))]);
    expect(r3.updates.map((u) => u.type)).toEqual(['occurrence']);

    await db.query(
      `UPDATE issues SET status = 'resolved', resolved_at = now(), resolve_in_next_release = true, resolved_release = 'r@1' WHERE id = $1`,
      [id],
    );
    const old = await p.processBatch([msg(ev(projectId, { ...base, release: 'r@1' }))]);
    expect(old.updates.map((u) => [u.type, u.issue.status])).toEqual([['occurrence', 'resolved']]);
    const newer = await p.processBatch([msg(ev(projectId, { ...base, release: 'r@2' }))]);
    expect(newer.updates.map((u) => [u.type, u.issue.status])).toEqual([['regressed', 'unresolved']]);
  });

  it('un-ignores after N more events or after the ignore time', async () => {
    const base = { exceptions: [{ type: 'IgnoreError', value: 'x' }] };
    const r1 = await p.processBatch([msg(ev(projectId, base))]);
    const id = r1.updates[0]!.issue.id;
    await db.query(
      `UPDATE issues SET status = 'ignored', ignore_count = 3, ignore_count_base = event_count WHERE id = $1`,
      [id],
    );
    const r2 = await p.processBatch([msg(ev(projectId, base)), msg(ev(projectId, base))]);
    expect(r2.updates[0]!.issue.status).toBe('ignored');
    const r3 = await p.processBatch([msg(ev(projectId, base))]);
    expect(r3.updates[0]!.issue.status).toBe('unresolved');
    await db.query(
      `UPDATE issues SET status = 'ignored', ignore_until = now() - interval '1 second' WHERE id = $1`,
      [id],
    );
    const r4 = await p.processBatch([msg(ev(projectId, base))]);
    expect(r4.updates[0]!.issue.status).toBe('unresolved');
  });

  it('relays the outbox and empties it', async () => {
    const published: string[] = [];
    let total = 0;
    for (;;) {
      const n = await store.relayOutbox(db, 500, async (rows) => {
        for (const r of rows) published.push(JSON.parse(r.payload).updateId);
      });
      total += n;
      if (n < 500) break;
    }
    expect(total).toBeGreaterThan(5);
    expect(new Set(published).size).toBe(published.length);
    expect(await db.query('SELECT 1 FROM issue_outbox')).toEqual([]);
  });

  it('drops partitions past retention and deletes per-project older events', async () => {
    const old = new Date(Date.now() - 100 * 86_400_000);
    await p.ensurePartitions([store.dayOf(old)]);
    expect(await store.listPartitionNames(db)).toContain(`events_p${store.dayOf(old).replaceAll('-', '')}`);
    const dropped = await store.dropPartitionsBefore(db, new Date(Date.now() - 90 * 86_400_000));
    expect(dropped).toEqual([`events_p${store.dayOf(old).replaceAll('-', '')}`]);
    const n = await store.deleteProjectEventsBefore(db, projectId, new Date(Date.now() + 60_000), 1000);
    expect(n).toBeGreaterThan(5);
    const [left] = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM events WHERE project_id = $1',
      [projectId],
    );
    expect(left!.n).toBe(0);
    // Issues keep their counters.
    const [c] = await db.query<{ n: number }>(
      'SELECT sum(event_count)::int AS n FROM issues WHERE project_id = $1',
      [projectId],
    );
    expect(c!.n).toBeGreaterThan(5);
  });

  it('applies retention in the worker: old partitions dropped, shorter project retention deleted, counters kept', async () => {
    await db.query('UPDATE projects SET retention_days = 1 WHERE id = $1', [otherProject]);
    p.invalidateProjects();
    const r = await p.processBatch([
      msg(ev(otherProject, { exceptions: [{ type: 'OldError', value: 'x' }] })),
    ]);
    const issueId = r.updates[0]!.issue.id;
    const threeDaysAgo = new Date(Date.now() - 3 * 86_400_000);
    const veryOld = new Date(Date.now() - 95 * 86_400_000);
    await p.ensurePartitions([store.dayOf(threeDaysAgo), store.dayOf(veryOld)]);
    await db.query('UPDATE events SET received_at = $2 WHERE issue_id = $1', [issueId, threeDaysAgo]);
    const ctx = { db, log, metrics: new Metrics(), topics: topicNames('beacon.') } as unknown as AppContext;
    const result = await createIssuesWorker(ctx, { maintenanceIntervalMs: 0 }).maintain();
    expect(result.droppedPartitions).toEqual([`events_p${store.dayOf(veryOld).replaceAll('-', '')}`]);
    expect(result.deletedEvents).toBe(1);
    expect(await db.query('SELECT 1 FROM events WHERE issue_id = $1', [issueId])).toEqual([]);
    expect(await db.one('SELECT event_count FROM issues WHERE id = $1', [issueId])).toEqual({
      event_count: 1,
    });
    // Today's and the next days' partitions exist.
    const names = await store.listPartitionNames(db);
    for (let i = 0; i <= 3; i++)
      expect(names).toContain(
        `events_p${store.dayOf(new Date(Date.now() + i * 86_400_000)).replaceAll('-', '')}`,
      );
  });
});
