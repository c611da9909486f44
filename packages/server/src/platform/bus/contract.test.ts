import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, requirePg, type TestDatabase, waitFor } from '../../test-support/index.js';
import { Db } from '../db/db.js';
import { migrate } from '../db/migrate.js';
import { createLogger } from '../logger.js';
import { EmbeddedBus } from './embedded.js';
import type { Bus, ConsumedMessage, Consumer } from './types.js';

const log = createLogger('silent');
const here = path.dirname(fileURLToPath(import.meta.url));
const PARTITIONS = 4;

interface Backend {
  /** A new bus client on the shared backend (closed by the suite). */
  open(): Promise<Bus>;
  /** Env for contract-child.ts so a child process reaches the same backend. */
  childEnv: Record<string, string>;
}

const uid = () => randomBytes(4).toString('hex');
const msg = (id: string, key = 'k') => ({ key, value: Buffer.from(id) });
const ids = (batch: ConsumedMessage[]) => batch.map((m) => m.value.toString());

/** Run contract-child.ts; resolves lines as they arrive. */
function child(env: Record<string, string>): { proc: ChildProcess; lines: string[]; exited: Promise<void> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'contract-child.ts')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let buf = '';
  proc.stdout!.on('data', (d) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
  });
  let err = '';
  proc.stderr!.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.once('exit', (code, signal) => {
    if (code) process.stderr.write(`contract-child exited ${code} ${signal}: ${err}\n`);
  });
  return { proc, lines, exited };
}

/** The behaviour every bus adapter must show. */
export function busContract(
  name: string,
  setup: () => Promise<Backend & { teardown(topics: string[]): Promise<void> }>,
) {
  describe(`bus contract: ${name}`, () => {
    let backend: Backend & { teardown(topics: string[]): Promise<void> };
    const topics: string[] = [];
    const newTopic = (what: string) => {
      const t = `t-${what}-${uid()}`;
      topics.push(t);
      return t;
    };
    const opened: Bus[] = [];
    const consumers: Consumer[] = [];
    let bus: Bus;
    const open = async () => {
      const b = await backend.open();
      opened.push(b);
      return b;
    };
    const consume = async (
      b: Bus,
      topic: string,
      group: string,
      handler: (batch: ConsumedMessage[]) => Promise<void>,
    ) => {
      const c = await b.consume({ topic, group, handler, maxBatch: 50 });
      consumers.push(c);
      return c;
    };

    beforeAll(async () => {
      backend = await setup();
      bus = await open();
    });
    afterEach(async () => {
      await Promise.all(consumers.splice(0).map((c) => c.stop().catch(() => {})));
    });
    afterAll(async () => {
      for (const b of opened) await b.close().catch(() => {});
      await backend?.teardown(topics);
    });

    it('keeps publish order per key', async () => {
      const topic = newTopic('order');
      await bus.ensureTopics([topic]);
      const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
      const expected = new Map<string, number[]>();
      for (let round = 0; round < 5; round++) {
        const batch = [];
        for (let i = 0; i < 40; i++) {
          const key = keys[i % keys.length]!;
          batch.push(msg(`${key}:${round * 40 + i}`, key));
          expected.set(key, [...(expected.get(key) ?? []), round * 40 + i]);
        }
        await bus.publish(topic, batch);
      }
      const seen = new Map<string, number[]>();
      let total = 0;
      await consume(bus, topic, `${topic}-g`, async (batch) => {
        for (const m of batch) {
          const [key, n] = m.value.toString().split(':') as [string, string];
          expect(m.key).toBe(key);
          seen.set(key, [...(seen.get(key) ?? []), Number(n)]);
          total++;
        }
      });
      await waitFor(() => total >= 200, { what: '200 messages' });
      expect(total).toBe(200);
      expect(seen).toEqual(expected);
    });

    it('keeps call order for concurrent publishes of one key (they are written together)', async () => {
      const topic = newTopic('concurrent');
      await bus.ensureTopics([topic]);
      const sent = Array.from({ length: 120 }, (_, i) => `c-${i}`);
      // Not awaited one by one: the adapter coalesces them into few writes.
      await Promise.all(sent.map((id) => bus.publish(topic, [msg(id, 'same-key')])));
      const got: string[] = [];
      await consume(bus, topic, `${topic}-g`, async (b) => {
        got.push(...ids(b));
      });
      await waitFor(() => got.length >= sent.length, { what: 'every message' });
      expect(got).toEqual(sent);
    });

    it('shares the partitions between two consumers of one group (each message handled once)', async () => {
      const topic = newTopic('share');
      await bus.ensureTopics([topic]);
      const byConsumer: Record<'a' | 'b', string[]> = { a: [], b: [] };
      const other = await open();
      await consume(bus, topic, `${topic}-g`, async (batch) => {
        byConsumer.a.push(...ids(batch));
      });
      await consume(other, topic, `${topic}-g`, async (batch) => {
        byConsumer.b.push(...ids(batch));
      });
      // Warm up until both members got partitions (group rebalances may redeliver here).
      let w = 0;
      await waitFor(
        async () => {
          await bus.publish(
            topic,
            Array.from({ length: 16 }, (_, i) => msg(`warm-${w++}`, `key-${i}`)),
          );
          return byConsumer.a.length > 0 && byConsumer.b.length > 0;
        },
        { interval: 300, what: 'both consumers to receive messages' },
      );
      await waitFor(() => byConsumer.a.length + byConsumer.b.length >= w, { what: 'warm-up drained' });
      const before = { a: byConsumer.a.length, b: byConsumer.b.length };
      const sent = Array.from({ length: 200 }, (_, i) => `m-${i}`);
      await bus.publish(
        topic,
        sent.map((id, i) => msg(id, `key-${i % 16}`)),
      );
      const phase = () => [...byConsumer.a.slice(before.a), ...byConsumer.b.slice(before.b)];
      await waitFor(() => phase().length >= 200, { what: '200 messages across the group' });
      expect([...phase()].sort()).toEqual([...sent].sort());
      expect(byConsumer.a.length - before.a).toBeGreaterThan(0);
      expect(byConsumer.b.length - before.b).toBeGreaterThan(0);
    });

    it('delivers every message to each of two groups', async () => {
      const topic = newTopic('groups');
      await bus.ensureTopics([topic]);
      const sent = Array.from({ length: 100 }, (_, i) => `m-${i}`);
      await bus.publish(
        topic,
        sent.map((id, i) => msg(id, `key-${i % 7}`)),
      );
      const g1: string[] = [];
      const g2: string[] = [];
      await consume(bus, topic, `${topic}-g1`, async (b) => {
        g1.push(...ids(b));
      });
      await consume(bus, topic, `${topic}-g2`, async (b) => {
        g2.push(...ids(b));
      });
      await waitFor(() => g1.length >= 100 && g2.length >= 100, { what: 'both groups' });
      expect([...g1].sort()).toEqual([...sent].sort());
      expect([...g2].sort()).toEqual([...sent].sort());
    });

    it("starts a new group at the end of the topic with startAt: 'latest'", async () => {
      const topic = newTopic('latest');
      await bus.publish(
        topic,
        ['old-1', 'old-2'].map((id) => msg(id)),
      );
      const got: string[] = [];
      const c = await bus.consume({
        topic,
        group: `${topic}-g`,
        startAt: 'latest',
        ephemeral: true,
        handler: async (b) => {
          got.push(...ids(b));
        },
      });
      consumers.push(c);
      await bus.publish(
        topic,
        ['new-1', 'new-2'].map((id) => msg(id)),
      );
      await waitFor(() => got.length >= 2, { what: 'the new messages' });
      expect(got).toEqual(['new-1', 'new-2']);
    });

    it('redelivers uncommitted messages after a consumer restart, never committed ones', async () => {
      const topic = newTopic('restart');
      await bus.ensureTopics([topic]);
      const first = Array.from({ length: 5 }, (_, i) => `first-${i}`);
      const second = Array.from({ length: 5 }, (_, i) => `second-${i}`);
      await bus.publish(
        topic,
        first.map((id) => msg(id)),
      );
      const got1: string[] = [];
      let failing = false;
      let failedSeen: string[] = [];
      const c1 = await consume(bus, topic, `${topic}-g`, async (b) => {
        if (failing) {
          failedSeen = ids(b);
          throw new Error('handler failure (expected by the test)');
        }
        got1.push(...ids(b));
      });
      await waitFor(() => got1.length >= 5, { what: 'first messages' });
      failing = true;
      await bus.publish(
        topic,
        second.map((id) => msg(id)),
      );
      await waitFor(() => failedSeen.length > 0, { what: 'the failing batch' });
      await c1.stop();
      expect(got1).toEqual(first);

      const other = await open();
      const got2: string[] = [];
      await consume(other, topic, `${topic}-g`, async (b) => {
        got2.push(...ids(b));
      });
      await waitFor(() => got2.length >= 5, { what: 'redelivery' });
      expect(got2).toEqual(second);
    });

    it('acknowledges a publish only once it is durable (publisher killed right after acks)', async () => {
      const topic = newTopic('durable');
      await bus.ensureTopics([topic]);
      const c = child({ ...backend.childEnv, BUS_CHILD_MODE: 'publish', BUS_TOPIC: topic });
      try {
        await waitFor(() => c.lines.filter((l) => l.startsWith('ACKED')).length >= 5, {
          timeout: 30_000,
          what: 'child publisher acks',
        });
        c.proc.kill('SIGKILL');
        await c.exited;
      } finally {
        c.proc.kill('SIGKILL');
      }
      const acked = c.lines
        .filter((l) => l.startsWith('ACKED'))
        .flatMap((l) => JSON.parse(l.slice(6)) as string[]);
      const got = new Set<string>();
      await consume(bus, topic, `${topic}-g`, async (b) => {
        for (const id of ids(b)) got.add(id);
      });
      await waitFor(() => acked.every((id) => got.has(id)), { what: 'every acknowledged message' });
      expect(acked.filter((id) => !got.has(id))).toEqual([]);
    });

    it('hands a batch that a killed consumer never committed to the next consumer of the group', async () => {
      const topic = newTopic('kill');
      await bus.ensureTopics([topic]);
      const sent = Array.from({ length: 20 }, (_, i) => `m-${i}`);
      await bus.publish(
        topic,
        sent.map((id) => msg(id)),
      );
      const c = child({
        ...backend.childEnv,
        BUS_CHILD_MODE: 'consume-hang',
        BUS_TOPIC: topic,
        BUS_GROUP: `${topic}-g`,
      });
      let inFlight: string[] = [];
      try {
        const line = await waitFor(() => c.lines.find((l) => l.startsWith('BATCH')), {
          timeout: 45_000,
          what: 'the child to receive a batch',
        });
        inFlight = JSON.parse(line.slice(6)) as string[];
        expect(inFlight.length).toBeGreaterThan(0);
        c.proc.kill('SIGKILL');
        await c.exited;
      } finally {
        c.proc.kill('SIGKILL');
      }
      const got: string[] = [];
      await consume(bus, topic, `${topic}-g`, async (b) => {
        got.push(...ids(b));
      });
      await waitFor(() => got.length >= 20, { timeout: 45_000, what: 'the next consumer to get the batch' });
      expect(got).toEqual(sent);
      expect(inFlight).toEqual(sent.slice(0, inFlight.length));
    });
  });
}

describe.runIf(requirePg())('embedded bus', () => {
  let tdb: TestDatabase;
  busContract('embedded log on PostgreSQL', async () => {
    tdb = await createTestDatabase();
    const admin = new Db(tdb.url, 2);
    await migrate(admin, log);
    const dbs: Db[] = [admin];
    return {
      childEnv: { BUS_KIND: 'embedded', BUS_DB_URL: tdb.url, BUS_PARTITIONS: String(PARTITIONS) },
      open: async () => {
        const db = new Db(tdb.url, 4);
        dbs.push(db);
        const bus = new EmbeddedBus(db, { partitions: PARTITIONS, retentionHours: 1, log, rebalanceMs: 300 });
        const close = bus.close.bind(bus);
        bus.close = async () => {
          await close();
          await db.close();
        };
        return bus;
      },
      teardown: async () => {
        for (const db of dbs) await db.close().catch(() => {});
        await tdb.drop();
      },
    };
  });
});

const kafkaBrokers = inject('kafkaBrokers');
const requireKafka = () => {
  if (!kafkaBrokers) {
    if (process.env.CI === 'true') throw new Error('CI=true: the Kafka suites must not skip');
    process.stderr.write(
      '\n!!! SKIPPING the Kafka bus suites: no broker on 127.0.0.1:9092 (scripts/kafka start) !!!\n\n',
    );
  }
  return kafkaBrokers !== '';
};
const kafkaScript = path.resolve(here, '../../../../../scripts/kafka');
const run = promisify(execFile);

describe.runIf(requireKafka())('kafka bus', async () => {
  const { KafkaBus } = await import('./kafka.js');
  const open = (log = createLogger('silent')) =>
    new KafkaBus({
      brokers: kafkaBrokers.split(','),
      partitions: PARTITIONS,
      log,
      clientId: `beacon-test-${uid()}`,
      sessionTimeout: 4_000,
      heartbeatInterval: 500,
    });

  busContract('Apache Kafka via kafkajs', async () => ({
    childEnv: {
      BUS_KIND: 'kafka',
      BUS_BROKERS: kafkaBrokers,
      BUS_PARTITIONS: String(PARTITIONS),
      BUS_SESSION_TIMEOUT: '4000',
    },
    open: async () => open(),
    // Fewer partitions on disk keep the broker's restarts quick.
    teardown: async (topics) => {
      const admin = open();
      await admin.deleteTopics(topics).catch(() => {});
      await admin.close();
    },
  }));

  it('bounds stop() when a handler never returns; the batch is redelivered to the next member', async () => {
    const topic = `t-hang-${uid()}`;
    const bus = new KafkaBus({ ...open().opts, stopTimeoutMs: 500 });
    try {
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
      await waitFor(() => started, { what: 'the handler to start', timeout: 30_000 });
      await hung.stop();
      const seen: string[] = [];
      const next = await bus.consume({
        topic,
        group: 'g',
        handler: async (b) => {
          seen.push(...ids(b));
        },
      });
      // The abandoned member holds the partitions until its 4 s session expires.
      await waitFor(() => seen.length > 0, { what: 'redelivery to the next member', timeout: 45_000 });
      expect(seen).toEqual(['stuck']);
      await next.stop();
    } finally {
      await bus.deleteTopics([topic]).catch(() => {});
      await bus.close();
    }
  });

  describe('broker restart', () => {
    const buses: InstanceType<typeof KafkaBus>[] = [];
    afterAll(async () => {
      await buses[0]?.deleteTopics(restartTopics).catch(() => {});
      for (const b of buses) await b.close().catch(() => {});
    });
    const restartTopics: string[] = [];

    it('consumes every acknowledged message exactly once (deduplicated) across a broker restart', async () => {
      // Only a broker this project's script runs can be restarted; CI always starts it that way.
      const ours = await run('bash', [kafkaScript, 'status']).then(
        () => true,
        () => false,
      );
      if (!ours) {
        if (process.env.CI === 'true')
          throw new Error('CI=true: the broker must be the one scripts/kafka started');
        process.stderr.write(
          '!!! SKIPPING the broker restart test: the broker was not started by scripts/kafka\n',
        );
        return;
      }
      const topic = `t-broker-restart-${uid()}`;
      restartTopics.push(topic);
      const producerBus = open();
      const consumerBus = open();
      buses.push(producerBus, consumerBus);
      await producerBus.ensureTopics([topic]);

      const processed = new Map<string, number>(); // id -> times processed after dedupe (must be 1)
      const seen = new Set<string>();
      let deliveries = 0;
      const consumer = await consumerBus.consume({
        topic,
        group: `${topic}-g`,
        handler: async (batch) => {
          for (const id of ids(batch)) {
            deliveries++;
            if (seen.has(id)) continue; // the deduplicating consumer: by message id
            seen.add(id);
            processed.set(id, (processed.get(id) ?? 0) + 1);
          }
        },
      });

      const acked: string[] = [];
      let stopProducing = false;
      let failedPublishes = 0;
      const producing = (async () => {
        for (let n = 0; !stopProducing; n++) {
          const batch = Array.from({ length: 10 }, (_, i) => `r${n}-${i}`);
          try {
            await producerBus.publish(
              topic,
              batch.map((id, i) => msg(id, `key-${i % 5}`)),
            );
            acked.push(...batch);
          } catch {
            failedPublishes++;
          }
          await new Promise((r) => setTimeout(r, 20));
        }
      })();

      await waitFor(() => acked.length >= 100, { what: 'acks before the restart' });
      await run('bash', [kafkaScript, 'stop']);
      const ackedWhileDown = acked.length;
      await run('bash', [kafkaScript, 'start']);
      await waitFor(() => acked.length >= ackedWhileDown + 100, {
        timeout: 90_000,
        what: 'acks after the restart',
      });
      stopProducing = true;
      await producing;

      await waitFor(() => acked.every((id) => seen.has(id)), {
        timeout: 90_000,
        what: 'every acked message consumed',
      });
      await consumer.stop();
      expect(acked.filter((id) => !seen.has(id))).toEqual([]);
      expect([...processed.values()].every((n) => n === 1)).toBe(true);
      expect(new Set(acked).size).toBe(acked.length);
      process.stderr.write(
        `broker restart: ${acked.length} acked, ${deliveries} deliveries (${deliveries - seen.size} redelivered, deduplicated), ${failedPublishes} failed publishes\n`,
      );
    }, 240_000);
  });
});
