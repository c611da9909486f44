// Bus throughput: publish → consume of 1 KB messages, published in batches of 100 by 4 concurrent
// publishers (keys spread over 32 project ids), consumed by one consumer group with 2 members,
// for each adapter: the embedded log on PostgreSQL (127.0.0.1:5432, or BENCH_PG_URL, a scratch
// database) and Apache Kafka (a broker on 127.0.0.1:9092, started with scripts/kafka when none
// listens and stopped afterwards). Each adapter: BENCH_BUS_SECONDS of publishing (default 10),
// then up to 20 s to drain. Prints messages/s acknowledged and consumed, with the core count.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { EmbeddedBus } from '../packages/server/src/platform/bus/embedded.js';
import type { Bus } from '../packages/server/src/platform/bus/types.js';
import { Db } from '../packages/server/src/platform/db/db.js';
import { migrate } from '../packages/server/src/platform/db/migrate.js';
import { createLogger } from '../packages/server/src/platform/logger.js';

const root = path.resolve(import.meta.dirname, '..');
const seconds = Number(process.env.BENCH_BUS_SECONDS ?? 10);
const drainSeconds = 20;
const publishers = 4;
const batchSize = 100;
const messageBytes = 1024;
const cores = os.availableParallelism();
const log = createLogger(process.env.LOG_LEVEL === 'debug' ? 'debug' : 'error', process.stderr as never);

interface Outcome {
  published: number;
  publishRate: number;
  consumed: number;
  endToEndRate: number;
}

async function measure(name: string, open: () => Promise<Bus>): Promise<Outcome> {
  const topic = `bench-${randomBytes(4).toString('hex')}`;
  const producer = await open();
  const consumerA = await open();
  const consumerB = await open();
  await producer.ensureTopics([topic]);
  const seen = new Set<string>();
  let consumed = 0;
  let lastConsumedAt = 0;
  const handler = async (batch: { value: Buffer }[]) => {
    for (const m of batch) {
      const id = m.value.subarray(0, 16).toString();
      if (!seen.has(id)) {
        seen.add(id);
        consumed++;
      }
    }
    lastConsumedAt = Date.now();
  };
  const group = `${topic}-g`;
  const c1 = await consumerA.consume({ topic, group, handler, maxBatch: 500 });
  const c2 = await consumerB.consume({ topic, group, handler, maxBatch: 500 });

  const filler = randomBytes(messageBytes)
    .toString('base64')
    .slice(0, messageBytes - 16);
  let published = 0;
  let seq = 0;
  const started = Date.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: publishers }, async () => {
      while (Date.now() < deadline) {
        const batch = Array.from({ length: batchSize }, () => {
          const n = seq++;
          return { key: `project-${n % 32}`, value: Buffer.from(`${String(n).padStart(16, '0')}${filler}`) };
        });
        await producer.publish(topic, batch);
        published += batch.length;
      }
    }),
  );
  const publishSeconds = (Date.now() - started) / 1000;
  console.log(`${name}: published ${published} messages in ${publishSeconds.toFixed(1)} s; draining`);
  const drainDeadline = Date.now() + drainSeconds * 1000;
  while (consumed < published && Date.now() < drainDeadline) await new Promise((r) => setTimeout(r, 100));
  if (consumed < published)
    console.log(`${name}: only ${consumed} of ${published} consumed within the drain limit`);
  const endToEnd = consumed / ((Math.max(lastConsumedAt, started + 1) - started) / 1000);
  await Promise.all([c1.stop(), c2.stop()]);
  await (producer as { deleteTopics?: (t: string[]) => Promise<void> })
    .deleteTopics?.([topic])
    .catch(() => {});
  await Promise.all([producer.close(), consumerA.close(), consumerB.close()]);
  const out = { published, publishRate: published / publishSeconds, consumed, endToEndRate: endToEnd };
  console.log(
    `${name}: ${Math.round(out.publishRate)} msg/s acknowledged, ${Math.round(out.endToEndRate)} msg/s published→consumed (${cores} cores)`,
  );
  return out;
}

async function embedded(): Promise<Outcome | undefined> {
  const adminUrl = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `beacon_bench_bus_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  try {
    await admin.connect();
  } catch (err) {
    console.log(`embedded: PostgreSQL not reachable at ${adminUrl} (${(err as Error).message}); skipped`);
    return undefined;
  }
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const dbs: Db[] = [];
  try {
    const setup = new Db(url.toString(), 2);
    dbs.push(setup);
    await migrate(setup, log);
    return await measure('embedded', async () => {
      const db = new Db(url.toString(), 8);
      dbs.push(db);
      return new EmbeddedBus(db, { partitions: 8, retentionHours: 72, log });
    });
  } finally {
    for (const db of dbs) await db.close().catch(() => {});
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
}

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.setTimeout(2000, () => {
      s.destroy();
      resolve(false);
    });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

async function kafka(): Promise<Outcome | undefined> {
  let started = false;
  if (!(await portOpen(9092))) {
    console.log('kafka: no broker on 127.0.0.1:9092; starting one with scripts/kafka');
    try {
      execFileSync('bash', [path.join(root, 'scripts/kafka'), 'start'], {
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      started = true;
    } catch {
      console.log('kafka: could not start a broker; skipped');
      return undefined;
    }
  }
  try {
    const { KafkaBus } = await import('../packages/server/src/platform/bus/kafka.js');
    return await measure(
      'kafka',
      async () => new KafkaBus({ brokers: ['127.0.0.1:9092'], partitions: 8, log, sessionTimeout: 10_000 }),
    );
  } finally {
    if (started)
      execFileSync('bash', [path.join(root, 'scripts/kafka'), 'stop'], {
        stdio: ['ignore', 'inherit', 'inherit'],
      });
  }
}

console.log(
  `bus benchmark on ${cores} cores: ${publishers} publishers, batches of ${batchSize} × ${messageBytes} B, ${seconds} s each`,
);
const metrics: { label: string; value: number; unit: string }[] = [
  { label: 'cores', value: cores, unit: 'cores' },
];
const e = await embedded();
if (e) {
  metrics.push({ label: 'embedded publish (acknowledged)', value: Math.round(e.publishRate), unit: 'msg/s' });
  metrics.push({ label: 'embedded publish→consume', value: Math.round(e.endToEndRate), unit: 'msg/s' });
}
const k = await kafka();
if (k) {
  metrics.push({ label: 'kafka publish (acknowledged)', value: Math.round(k.publishRate), unit: 'msg/s' });
  metrics.push({ label: 'kafka publish→consume', value: Math.round(k.endToEndRate), unit: 'msg/s' });
}
console.log(`BENCH_RESULT ${JSON.stringify({ name: 'bus', metrics })}`);
process.exit(0);
