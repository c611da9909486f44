import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, requirePg, type TestDatabase, waitFor } from '../../test-support/index.js';
import { Db } from '../db/db.js';
import { migrate } from '../db/migrate.js';
import { createLogger } from '../logger.js';
import { EmbeddedBus, partitionFor } from './embedded.js';
import type { ConsumedMessage, Consumer } from './types.js';

const log = createLogger('silent');
const here = path.dirname(fileURLToPath(import.meta.url));
const uid = () => randomBytes(4).toString('hex');
const ids = (batch: ConsumedMessage[]) => batch.map((m) => m.value.toString());

describe.runIf(requirePg())('embedded bus (PostgreSQL specifics)', () => {
  let tdb: TestDatabase;
  let db: Db;
  let bus: EmbeddedBus;
  const consumers: Consumer[] = [];

  beforeAll(async () => {
    tdb = await createTestDatabase();
    db = new Db(tdb.url, 10);
    await migrate(db, log);
    bus = new EmbeddedBus(db, {
      partitions: 4,
      retentionHours: 1,
      log,
      rebalanceMs: 300,
      retentionIntervalMs: 0,
      stopTimeoutMs: 500,
    });
  });
  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((c) => c.stop()));
  });

  /** A consumer of `group` on `topic` (stopped after the test) that appends every value to `into`. */
  async function collect(topic: string, group: string, into: string[], on: EmbeddedBus = bus) {
    const c = await on.consume({
      topic,
      group,
      handler: async (b) => {
        into.push(...ids(b));
      },
    });
    consumers.push(c);
    return c;
  }
  afterAll(async () => {
    await bus?.close();
    await db?.close();
    await tdb?.drop();
  });

  it('spreads keys over partitions and keeps one key on one partition', () => {
    const parts = new Set(Array.from({ length: 100 }, (_, i) => partitionFor(`project-${i}`, 8)));
    expect(parts.size).toBe(8);
    expect(partitionFor('project-42', 8)).toBe(partitionFor('project-42', 8));
  });

  it('never skips a row when publishers of one partition commit concurrently', async () => {
    const topic = `gap-${uid()}`;
    const seen: string[] = [];
    await collect(topic, 'g', seen);
    // 8 publishers, one key (one partition), publishing while the consumer reads.
    await Promise.all(
      Array.from({ length: 8 }, async (_, p) => {
        for (let n = 0; n < 15; n++) {
          await bus.publish(
            topic,
            Array.from({ length: 3 }, (_, i) => ({
              key: 'one-key',
              value: Buffer.from(`${p}:${n * 3 + i}`),
            })),
          );
        }
      }),
    );
    await waitFor(() => seen.length >= 8 * 45, { what: 'every message' });
    expect(new Set(seen).size).toBe(8 * 45);
    for (let p = 0; p < 8; p++) {
      const mine = seen.filter((s) => s.startsWith(`${p}:`)).map((s) => Number(s.split(':')[1]));
      expect(mine).toEqual(Array.from({ length: 45 }, (_, i) => i));
    }
    const offsets = await db.query<{ n: number; lo: number; hi: number }>(
      `SELECT count(*)::int AS n, min("offset") AS lo, max("offset") AS hi FROM bus_log l
       JOIN bus_topics t ON t.id = l.topic_id WHERE t.name = $1`,
      [topic],
    );
    expect(offsets[0]).toEqual({ n: 360, lo: 0, hi: 359 });
  });

  it('redelivers a failed batch in-process after a back-off, then commits it', async () => {
    const topic = `retry-${uid()}`;
    await bus.publish(topic, [{ key: 'k', value: Buffer.from('x'), headers: { trace: 't1' } }]);
    const attempts: ConsumedMessage[][] = [];
    consumers.push(
      await bus.consume({
        topic,
        group: 'g',
        handler: async (b) => {
          attempts.push(b);
          if (attempts.length < 3) throw new Error('transient failure (expected by the test)');
        },
      }),
    );
    await waitFor(() => attempts.length >= 3, { what: 'three attempts' });
    expect(attempts.map((a) => ids(a))).toEqual([['x'], ['x'], ['x']]);
    expect(attempts[2]![0]).toMatchObject({ topic, key: 'k', offset: '0', headers: { trace: 't1' } });
    await waitFor(async () => {
      const r = await db.one<{ next_offset: number }>(
        `SELECT o.next_offset FROM bus_offsets o JOIN bus_groups g ON g.id = o.group_id
         JOIN bus_topics t ON t.id = g.topic_id WHERE t.name = $1 AND g.name = 'g'`,
        [topic],
      );
      return r?.next_offset === 1;
    });
  });

  it('bounds stop() when a handler never returns; the batch stays uncommitted for the next consumer', async () => {
    const topic = `hang-${uid()}`;
    await bus.publish(topic, [{ key: 'k', value: Buffer.from('stuck') }]);
    let started = false;
    const hung = await bus.consume({
      topic,
      group: 'g',
      handler: async () => {
        started = true;
        await new Promise(() => {});
      },
    });
    await waitFor(() => started, { what: 'the handler to start' });
    await hung.stop();
    const seen: string[] = [];
    await collect(topic, 'g', seen);
    await waitFor(() => seen.length === 1, { what: 'redelivery to the next consumer' });
    expect(seen).toEqual(['stuck']);
  });

  it('pauses and resumes a consumer', async () => {
    const topic = `pause-${uid()}`;
    const seen: string[] = [];
    const c = await collect(topic, 'g', seen);
    await bus.publish(topic, [{ key: 'k', value: Buffer.from('before') }]);
    await waitFor(() => seen.length === 1);
    c.pause();
    await bus.publish(topic, [{ key: 'k', value: Buffer.from('while-paused') }]);
    // The paused consumer must not take it: a second group shows the message is there.
    const other: string[] = [];
    await collect(topic, 'witness', other);
    await waitFor(() => other.length === 2, { what: 'the witness group' });
    expect(seen).toEqual(['before']);
    c.resume();
    await waitFor(() => seen.length === 2, { what: 'delivery after resume' });
    expect(seen).toEqual(['before', 'while-paused']);
  });

  it('gives the partitions of a killed member to the surviving member, with its uncommitted batch', async () => {
    const topic = `takeover-${uid()}`;
    await bus.ensureTopics([topic]);
    const got: string[] = [];
    await collect(topic, 'g', got);
    const proc = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'contract-child.ts')], {
      env: {
        ...process.env,
        BUS_KIND: 'embedded',
        BUS_DB_URL: tdb.url,
        BUS_PARTITIONS: '4',
        BUS_CHILD_MODE: 'consume-hang',
        BUS_TOPIC: topic,
        BUS_GROUP: 'g',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
    });
    const exited = new Promise((r) => proc.once('exit', r));
    try {
      await waitFor(() => out.includes('READY'), { what: 'child consumer' });
      // Wait until the two members split the 4 partitions (each holds some).
      await waitFor(
        async () => {
          const rows = await db.query<{ pid: number; n: number }>(
            `SELECT l.pid, count(*)::int AS n FROM pg_locks l
             JOIN bus_groups g ON l.classid = (${0x4255_0000} + g.id)::oid
             JOIN bus_topics t ON t.id = g.topic_id AND t.name = $1
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.objid < 1000
               AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
             GROUP BY l.pid`,
            [topic],
          );
          return rows.length === 2 && rows.every((r) => r.n === 2);
        },
        { what: 'the members to share the partitions' },
      );
      // Publish one message per partition; the child hangs on its first batch.
      const keys = Array.from({ length: 64 }, (_, i) => `k${i}`);
      const perPartition = new Map<number, string>();
      for (const k of keys)
        if (!perPartition.has(partitionFor(k, 4))) perPartition.set(partitionFor(k, 4), k);
      await bus.publish(
        topic,
        [...perPartition.entries()].map(([p, key]) => ({ key, value: Buffer.from(`p${p}`) })),
      );
      await waitFor(() => out.includes('BATCH'), { what: 'the child to take a batch' });
      const childBatch = JSON.parse(out.split('BATCH ')[1]!.split('\n')[0]!) as string[];
      expect(got).not.toContain(childBatch[0]);
      proc.kill('SIGKILL');
      await exited;
      await waitFor(() => got.length >= 4, { what: 'the survivor to take over' });
      expect([...got].sort()).toEqual(['p0', 'p1', 'p2', 'p3']);
    } finally {
      proc.kill('SIGKILL');
    }
  });

  it('reconnects a consumer whose database connection was killed, and resumes from its commits', async () => {
    const topic = `reconnect-${uid()}`;
    const seen: string[] = [];
    await collect(topic, 'g', seen);
    await bus.publish(topic, [{ key: 'k', value: Buffer.from('one') }]);
    await waitFor(() => seen.length === 1);
    const killed = await db.query<{ ok: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
       WHERE datname = current_database() AND application_name = 'beacon-bus-consumer'`,
    );
    expect(killed.length).toBeGreaterThan(0);
    await bus.publish(topic, [{ key: 'k', value: Buffer.from('two') }]);
    await waitFor(() => seen.length >= 2, { what: 'delivery after the reconnect' });
    expect(seen).toEqual(['one', 'two']);
  });

  it('trims rows every group committed once they are older than the retention', async () => {
    const topic = `trim-${uid()}`;
    const trimmer = new EmbeddedBus(db, { partitions: 4, retentionHours: 0, log, retentionIntervalMs: 0 });
    await trimmer.publish(
      topic,
      Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: Buffer.from(`m${i}`) })),
    );
    const fast: string[] = [];
    await collect(topic, 'fast', fast, trimmer);
    await waitFor(() => fast.length === 10);
    // A second group that has not read anything yet holds every row back.
    const slow = await trimmer.consume({
      topic,
      group: 'slow',
      handler: async () => {
        throw new Error('not yet (expected by the test)');
      },
    });
    await slow.stop();
    const count = async () =>
      (
        await db.one<{ n: number }>(
          'SELECT count(*)::int AS n FROM bus_log l JOIN bus_topics t ON t.id = l.topic_id WHERE t.name = $1',
          [topic],
        )
      )?.n;
    await waitFor(async () => (await trimmer.trim()) === 0 && (await count()) === 10, {
      what: 'nothing trimmed',
    });
    const slowSeen: string[] = [];
    await collect(topic, 'slow', slowSeen, trimmer);
    await waitFor(() => slowSeen.length === 10);
    await waitFor(async () => {
      await trimmer.trim();
      return (await count()) === 0;
    });
    expect(await count()).toBe(0);

    // An ephemeral group (per-process, e.g. live fan-out) never holds rows back, and is gone
    // once its consumer stops.
    const live = await trimmer.consume({
      topic,
      group: 'live-1234',
      ephemeral: true,
      startAt: 'latest',
      handler: async () => {
        throw new Error('never done (expected by the test)');
      },
    });
    await trimmer.publish(topic, [{ key: 'k', value: Buffer.from('late') }]);
    await waitFor(
      async () => {
        await trimmer.trim();
        return (await count()) === 0;
      },
      { what: 'trimmed despite the ephemeral group' },
    );
    await live.stop();
    expect(await db.query("SELECT 1 FROM bus_groups WHERE name = 'live-1234'")).toEqual([]);
    await trimmer.close();
  });
});
