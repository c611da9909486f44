import type { AppContext, Worker } from '../context.js';
import type { Consumer } from '../platform/bus/types.js';
import { IssueProcessor } from './processor.js';
import * as store from './store.js';

const DAY = 86_400_000;
const MAINTENANCE_LOCK = 0x6973_6d61; // "isma"

export interface IssuesWorkerOptions {
  maxBatch?: number;
  /** Safety relay of the outbox when no batch triggered one (ms). */
  relayIntervalMs?: number;
  /** Partitions ahead, retention and orphan clean-up (ms); 0 disables the timer. */
  maintenanceIntervalMs?: number;
}

export interface IssuesWorker extends Worker {
  processor: IssueProcessor;
  /** Publish what the outbox holds; resolves when it is empty (or another process relays). */
  relay(): Promise<void>;
  /** Create partitions ahead and apply retention now. */
  maintain(): Promise<{ droppedPartitions: string[]; deletedEvents: number }>;
}

/**
 * The `issues` role: consumes `beacon.events` in batches (consumer group `issues`), groups them
 * into issues, and relays the issue updates from the outbox to `beacon.issue-updates`. A bad
 * message is logged and counted, never retried forever; a failing batch (database down) throws,
 * so the bus redelivers it after a back-off.
 */
export function createIssuesWorker(ctx: AppContext, opts: IssuesWorkerOptions = {}): IssuesWorker {
  const log = ctx.log.child({ component: 'issues-worker' });
  const eventsCounter = ctx.metrics.counter(
    'beacon_issues_events_total',
    'Events seen by the issues worker',
    ['result'],
  );
  const batchSeconds = ctx.metrics.histogram('beacon_issues_batch_seconds', 'Issues worker batch duration');
  const relayed = ctx.metrics.counter('beacon_issues_updates_published_total', 'Issue updates published');
  const processor = new IssueProcessor(ctx.db, log, {
    counters: { events: (result, n) => eventsCounter.inc({ result }, n) },
  });
  let consumer: Consumer | undefined;
  let relayTimer: NodeJS.Timeout | undefined;
  let maintenanceTimer: NodeJS.Timeout | undefined;
  let firstMaintenance: NodeJS.Timeout | undefined;
  let maintaining: Promise<unknown> | undefined;
  let relaying: Promise<void> | undefined;
  let relayAgain = false;
  let stopped = false;

  const relayOnce = async (): Promise<void> => {
    for (;;) {
      const n = await store.relayOutbox(ctx.db, 500, async (rows) => {
        await ctx.bus.publish(
          ctx.topics.issueUpdates,
          rows.map((r) => ({ key: String(r.projectId), value: Buffer.from(r.payload) })),
        );
      });
      relayed.inc(n);
      if (n < 500) return;
    }
  };

  const relay = async (): Promise<void> => {
    if (relaying) {
      relayAgain = true;
      return relaying;
    }
    relaying = (async () => {
      try {
        do {
          relayAgain = false;
          await relayOnce();
        } while (relayAgain);
      } finally {
        relaying = undefined;
      }
    })();
    return relaying;
  };

  const maintain = async () => {
    await processor.ensurePartitionsAhead();
    const result = { droppedPartitions: [] as string[], deletedEvents: 0 };
    // A session lock on one held connection: one maintainer across processes.
    const holder = await ctx.db.pool.connect();
    const lock = await holder.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [
      MAINTENANCE_LOCK,
    ]);
    if (!lock.rows[0]?.ok) {
      holder.release();
      return result;
    }
    try {
      const projects = await store.projectRetentions(ctx.db);
      const maxDays = Math.max(90, ...projects.map((p) => p.retentionDays));
      const now = Date.now();
      // Whole days older than every project's retention: drop their partitions.
      result.droppedPartitions = await store.dropPartitionsBefore(ctx.db, new Date(now - maxDays * DAY));
      // Projects with a shorter retention: delete in small slices (row locks only, ingest goes on).
      for (const p of projects) {
        if (p.retentionDays >= maxDays) continue;
        const cutoff = new Date(now - p.retentionDays * DAY);
        for (;;) {
          const n = await store.deleteProjectEventsBefore(ctx.db, p.id, cutoff, 5000);
          result.deletedEvents += n;
          if (n < 5000 || stopped) break;
        }
      }
      await store.deleteHourlyBefore(ctx.db, new Date(now - maxDays * DAY));
      while (!stopped && (await store.deleteOrphans(ctx.db, 100)) === 100) {}
    } finally {
      await holder.query('SELECT pg_advisory_unlock($1)', [MAINTENANCE_LOCK]).catch(() => {});
      holder.release();
    }
    if (result.droppedPartitions.length > 0 || result.deletedEvents > 0)
      log.info(result, 'retention applied');
    return result;
  };

  return {
    name: 'issues',
    processor,
    relay,
    maintain,
    async start() {
      await processor.ensurePartitionsAhead();
      consumer = await ctx.bus.consume({
        topic: ctx.topics.events,
        group: 'issues',
        maxBatch: opts.maxBatch ?? 500,
        handler: async (batch) => {
          const end = batchSeconds.startTimer();
          try {
            const r = await processor.processBatch(batch);
            if (r.updates.length > 0)
              relay().catch((err) => log.warn({ err }, 'issue update relay failed; will retry'));
          } catch (err) {
            log.error(
              { err, partition: batch[0]?.partition, offset: batch[0]?.offset },
              'issues batch failed; will be redelivered',
            );
            throw err;
          } finally {
            end();
          }
        },
      });
      relayTimer = setInterval(() => {
        relay().catch((err) => log.warn({ err }, 'issue update relay failed; will retry'));
      }, opts.relayIntervalMs ?? 2000);
      relayTimer.unref();
      const every = opts.maintenanceIntervalMs ?? 3_600_000;
      if (every > 0) {
        const run = () => {
          if (stopped || maintaining) return;
          maintaining = maintain()
            .catch((err) => log.warn({ err }, 'issues maintenance failed'))
            .finally(() => {
              maintaining = undefined;
            });
        };
        maintenanceTimer = setInterval(run, every);
        maintenanceTimer.unref();
        firstMaintenance = setTimeout(run, 5_000);
        firstMaintenance.unref();
      }
      relay().catch(() => {});
    },
    async stop() {
      stopped = true;
      clearInterval(relayTimer);
      clearInterval(maintenanceTimer);
      clearTimeout(firstMaintenance);
      await consumer?.stop();
      await maintaining;
      await relaying?.catch(() => {});
      await relay().catch(() => {});
    },
  };
}
