/**
 * A bus client in its own process, for the contract tests that kill a process with SIGKILL.
 * Not part of the server: tests run it with `node --import tsx contract-child.ts`.
 *
 * BUS_CHILD_MODE=consume-hang: consume TOPIC as GROUP, print `BATCH <json ids>` for the first
 *   batch and never resolve the handler (nothing is committed), waiting to be killed.
 * BUS_CHILD_MODE=publish: publish batches of 10 messages to TOPIC forever, printing
 *   `ACKED <json ids>` after each publish resolved, waiting to be killed.
 */
import { Db } from '../db/db.js';
import { createLogger } from '../logger.js';
import { EmbeddedBus } from './embedded.js';
import type { Bus } from './types.js';

const env = process.env;
const log = createLogger('warn', process.stderr as never);
const topic = env.BUS_TOPIC!;

async function open(): Promise<Bus> {
  if (env.BUS_KIND === 'kafka') {
    const { KafkaBus } = await import('./kafka.js');
    return new KafkaBus({
      brokers: env.BUS_BROKERS!.split(','),
      partitions: Number(env.BUS_PARTITIONS),
      log,
      sessionTimeout: Number(env.BUS_SESSION_TIMEOUT ?? 30_000),
      heartbeatInterval: 500,
    });
  }
  const db = new Db(env.BUS_DB_URL!, 2);
  return new EmbeddedBus(db, { partitions: Number(env.BUS_PARTITIONS), retentionHours: 1, log });
}

const bus = await open();
if (env.BUS_CHILD_MODE === 'consume-hang') {
  await bus.consume({
    topic,
    group: env.BUS_GROUP!,
    maxBatch: Number(env.BUS_MAX_BATCH ?? 100),
    handler: async (batch) => {
      process.stdout.write(`BATCH ${JSON.stringify(batch.map((m) => m.value.toString()))}\n`);
      await new Promise(() => {});
    },
  });
  process.stdout.write('READY\n');
} else {
  process.stdout.write('READY\n');
  for (let n = 0; ; n++) {
    const ids = Array.from({ length: 10 }, (_, i) => `p${n}-${i}`);
    await bus.publish(
      topic,
      ids.map((id, i) => ({ key: `k${i % 3}`, value: Buffer.from(id) })),
    );
    process.stdout.write(`ACKED ${JSON.stringify(ids)}\n`);
  }
}
