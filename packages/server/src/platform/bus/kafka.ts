import {
  type Admin,
  Kafka,
  type Consumer as KConsumer,
  type LogEntry,
  logLevel,
  Partitioners,
  type Producer,
} from 'kafkajs';
import { finishesWithin } from '../async.js';
import type { Logger } from '../logger.js';
import { PublishCoalescer } from './coalesce.js';
import { DEFAULT_STOP_TIMEOUT_MS, handlerFailed, memoize } from './shared.js';
import type { Bus, BusMessage, ConsumedMessage, ConsumeOptions, Consumer } from './types.js';

/**
 * The Kafka adapter on kafkajs 2.2.4 (see docs/bus.md for why this client).
 *
 * - publish: an idempotent producer (`acks=all`, one request in flight, unlimited retries), so
 *   a resolved publish is on every in-sync replica and a retried send is not duplicated.
 * - consume: a consumer group per `consume()` call, `eachBatch` with auto-commit and
 *   auto-resolve off: the handler gets chunks of at most `maxBatch` messages of one partition;
 *   after it resolves the chunk's offsets are resolved and committed explicitly. When it throws,
 *   the same chunk is retried in place with a back-off (heartbeating meanwhile); on a rebalance
 *   or stop nothing more is committed, so the next owner of the partition gets it again.
 * - reconnection: kafkajs retries requests and, through `restartOnFailure`, restarts a crashed
 *   consumer (broker restart, coordinator moves) from its last committed offsets.
 */
export interface KafkaBusOptions {
  brokers: string[];
  partitions: number;
  log: Logger;
  clientId?: string;
  /** Consumer group session timeout (ms): how long a silent member keeps its partitions. */
  sessionTimeout?: number;
  heartbeatInterval?: number;
  /** Longest wait of an idle fetch (ms); kafkajs heartbeats between fetches, so keep it well below the session timeout. */
  maxWaitMs?: number;
  /** Replication factor for created topics; default min(3, brokers in the cluster). */
  replicationFactor?: number;
  /** How long a consumer's `stop()` waits for an in-flight handler before abandoning it (ms). */
  stopTimeoutMs?: number;
  /**
   * Prepended to every consumer group id (Beacon passes BUS_TOPIC_PREFIX), so two deployments
   * sharing a broker never share a group such as `issues`.
   */
  groupPrefix?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function logCreator(log: Logger) {
  return () =>
    ({ level, log: entry }: LogEntry) => {
      const { message, timestamp: _t, logger: _l, ...extra } = entry;
      const fields = { kafkajs: entry.logger, ...extra };
      // kafkajs logs every protocol error response at ERROR, including the routine "group is
      // rebalancing" and "coordinator is loading" answers it then handles itself.
      const routine = /rebalanc|coordinator is loading|not the correct coordinator|leadership election/i.test(
        `${message} ${String((extra as { error?: unknown }).error ?? '')}`,
      );
      if (routine) log.debug(fields, message);
      else if (level <= logLevel.ERROR) log.error(fields, message);
      else if (level === logLevel.WARN) log.warn(fields, message);
      else if (level === logLevel.INFO) log.debug(fields, message);
      else log.trace(fields, message);
    };
}

export class KafkaBus implements Bus {
  readonly kind = 'kafka' as const;
  readonly kafka: Kafka;
  private producer?: Promise<Producer>;
  private admin?: Promise<Admin>;
  private readonly ensured = new Map<string, Promise<void>>();
  private readonly consumers = new Set<KafkaConsumer>();
  private closed = false;
  // Kept under the broker's default message.max.bytes (1 MB) for a partition's record batch.
  private readonly coalescer = new PublishCoalescer((topic, messages) => this.write(topic, messages), {
    maxMessages: 2_000,
    maxBytes: 900 * 1024,
  });

  constructor(readonly opts: KafkaBusOptions) {
    this.kafka = new Kafka({
      clientId: opts.clientId ?? 'beacon',
      brokers: opts.brokers,
      logLevel: logLevel.WARN,
      logCreator: logCreator(opts.log),
      connectionTimeout: 3_000,
      requestTimeout: 30_000,
      retry: { initialRetryTime: 300, maxRetryTime: 5_000, retries: 15 },
    });
  }

  /**
   * One short, quiet attempt to reach the cluster (boot uses it to fail fast with one line):
   * the shared client retries for about a minute and logs every failed attempt.
   */
  async probe(timeoutMs = 10_000): Promise<void> {
    const admin = new Kafka({
      clientId: this.opts.clientId ?? 'beacon',
      brokers: this.opts.brokers,
      logLevel: logLevel.NOTHING,
      connectionTimeout: Math.min(3_000, timeoutMs),
      requestTimeout: timeoutMs,
      retry: { initialRetryTime: 200, maxRetryTime: 1_000, retries: 2 },
    }).admin();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        admin.connect().then(() => admin.describeCluster()),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
      await admin.disconnect().catch(() => {});
    }
  }

  private getProducer(): Promise<Producer> {
    if (!this.producer) {
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
        retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 5_000 },
      });
      const p = producer.connect().then(() => producer);
      p.catch(() => {
        if (this.producer === p) this.producer = undefined;
      });
      this.producer = p;
    }
    return this.producer;
  }

  /** The shared admin client (connected lazily). */
  getAdmin(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      const p = admin.connect().then(() => admin);
      p.catch(() => {
        if (this.admin === p) this.admin = undefined;
      });
      this.admin = p;
    }
    return this.admin;
  }

  async ensureTopics(topics: string[]): Promise<void> {
    await Promise.all(topics.map((t) => this.ensureTopic(t)));
  }

  private ensureTopic(topic: string): Promise<void> {
    return memoize(this.ensured, topic, () => this.createTopic(topic));
  }

  private async createTopic(topic: string): Promise<void> {
    const admin = await this.getAdmin();
    const existing = await admin.listTopics();
    if (existing.includes(topic)) return;
    const replicationFactor =
      this.opts.replicationFactor ?? Math.min(3, (await admin.describeCluster()).brokers.length || 1);
    const created = await admin
      .createTopics({
        topics: [{ topic, numPartitions: this.opts.partitions, replicationFactor }],
        waitForLeaders: false,
      })
      .catch((err: { type?: string }) => {
        if (err.type === 'TOPIC_ALREADY_EXISTS') return false;
        throw err;
      });
    // Wait until every partition has a leader. kafkajs's own waitForLeaders gives up on
    // UNKNOWN_TOPIC_OR_PARTITION, which a loaded KRaft broker answers for a moment after creation.
    const deadline = Date.now() + 60_000;
    for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
      try {
        const meta = await admin.fetchTopicMetadata({ topics: [topic] });
        const parts = meta.topics[0]?.partitions ?? [];
        if (parts.length > 0 && parts.every((p) => p.leader >= 0)) break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
      }
      if (Date.now() > deadline) throw new Error(`Kafka topic ${topic} has no leader after 60 s`);
      await sleep(delay);
    }
    if (created)
      this.opts.log.info(
        { topic, partitions: this.opts.partitions, replicationFactor },
        'created Kafka topic',
      );
  }

  /** Delete topics (tests and benchmarks clean up with it; not part of the Bus interface). */
  async deleteTopics(topics: string[]): Promise<void> {
    if (topics.length === 0) return;
    const admin = await this.getAdmin();
    const existing = new Set(await admin.listTopics());
    const doomed = topics.filter((t) => existing.has(t));
    for (const t of topics) this.ensured.delete(t);
    if (doomed.length > 0) await admin.deleteTopics({ topics: doomed });
  }

  /** Forget an ephemeral consumer group's offsets (best effort). */
  async dropGroup(group: string): Promise<void> {
    try {
      const admin = await this.getAdmin();
      await admin.deleteGroups([group]);
    } catch (err) {
      this.opts.log.debug({ err, group }, 'could not delete an ephemeral Kafka consumer group');
    }
  }

  /** Concurrent publishes to one topic go out as one produce request (see PublishCoalescer). */
  publish(topic: string, messages: BusMessage[]): Promise<void> {
    return this.coalescer.publish(topic, messages);
  }

  private async write(topic: string, messages: BusMessage[]): Promise<void> {
    await this.ensureTopic(topic);
    const producer = await this.getProducer();
    await producer.send({
      topic,
      acks: -1,
      messages: messages.map((m) => ({ key: m.key, value: m.value, headers: m.headers })),
    });
  }

  async consume(options: ConsumeOptions): Promise<Consumer> {
    if (this.closed) throw new Error('bus is closed');
    await this.ensureTopic(options.topic);
    const c = new KafkaConsumer(this, options, () => this.consumers.delete(c));
    this.consumers.add(c);
    try {
      await c.start();
    } catch (err) {
      this.consumers.delete(c);
      throw err;
    }
    return c;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.consumers].map((c) => c.stop()));
    const producer = this.producer;
    const admin = this.admin;
    this.producer = undefined;
    this.admin = undefined;
    await Promise.all([
      producer?.then((p) => p.disconnect()).catch(() => {}),
      admin?.then((a) => a.disconnect()).catch(() => {}),
    ]);
  }
}

class KafkaConsumer implements Consumer {
  private readonly consumer: KConsumer;
  private readonly log: Logger;
  /** The group id on the broker: BUS_TOPIC_PREFIX + the caller's group name. */
  private readonly groupId: string;
  private stopping?: Promise<void>;
  /** Set when stop() gave up waiting for the handler: its late result must not be committed. */
  private abandoned = false;

  constructor(
    private readonly bus: KafkaBus,
    private readonly options: ConsumeOptions,
    private readonly onStopped: () => void,
  ) {
    this.groupId = `${bus.opts.groupPrefix ?? ''}${options.group}`;
    this.log = bus.opts.log.child({ topic: options.topic, group: this.groupId });
    const sessionTimeout = bus.opts.sessionTimeout ?? 30_000;
    this.consumer = bus.kafka.consumer({
      groupId: this.groupId,
      sessionTimeout,
      maxWaitTimeInMs: bus.opts.maxWaitMs ?? Math.min(5_000, Math.floor(sessionTimeout / 4)),
      heartbeatInterval: bus.opts.heartbeatInterval ?? 3_000,
      allowAutoTopicCreation: false,
      retry: {
        initialRetryTime: 300,
        maxRetryTime: 5_000,
        retries: 15,
        // Restart after any crash (broker restarts, coordinator moves): resume from the
        // committed offsets. Only stop() ends a consumer.
        restartOnFailure: async (err) => {
          this.log.warn({ err }, 'Kafka consumer crashed; restarting');
          return !this.stopping;
        },
      },
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      this.log.debug({ assignment: e.payload.memberAssignment }, 'Kafka consumer joined its group');
    });
  }

  async start(): Promise<void> {
    if (this.options.startAt === 'latest') await this.commitLatestForNewGroup();
    await this.consumer.connect();
    await this.consumer.subscribe({
      topics: [this.options.topic],
      fromBeginning: this.options.startAt !== 'latest',
    });
    const maxBatch = this.options.maxBatch ?? 100;
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({
        batch,
        resolveOffset,
        heartbeat,
        commitOffsetsIfNecessary,
        isRunning,
        isStale,
      }) => {
        const { topic, partition } = batch;
        for (let i = 0; i < batch.messages.length; i += maxBatch) {
          if (!isRunning() || isStale()) return;
          const chunk = batch.messages.slice(i, i + maxBatch);
          const messages: ConsumedMessage[] = chunk.map((m) => {
            const out: ConsumedMessage = {
              topic,
              partition,
              offset: m.offset,
              timestamp: new Date(Number(m.timestamp)),
              key: m.key?.toString() ?? '',
              value: m.value ?? Buffer.alloc(0),
            };
            if (m.headers && Object.keys(m.headers).length > 0) {
              const headers: Record<string, string> = {};
              for (const [k, v] of Object.entries(m.headers)) if (v != null) headers[k] = v.toString();
              out.headers = headers;
            }
            return out;
          });
          for (let attempt = 1; ; attempt++) {
            try {
              await this.options.handler(messages);
              if (this.abandoned) return;
              break;
            } catch (err) {
              const backoff = handlerFailed(this.log, err, { partition, offset: chunk[0]!.offset, attempt });
              // Wait in slices, heartbeating, so the group keeps us; leave uncommitted on stop.
              const until = Date.now() + backoff;
              while (Date.now() < until) {
                if (!isRunning() || isStale()) return;
                await sleep(Math.min(500, until - Date.now()));
                await heartbeat();
              }
            }
          }
          const last = chunk[chunk.length - 1]!.offset;
          resolveOffset(last);
          await commitOffsetsIfNecessary({
            topics: [{ topic, partitions: [{ partition, offset: (BigInt(last) + 1n).toString() }] }],
          });
          await heartbeat();
        }
      },
    });
  }

  /**
   * 'latest' means "from when consume() was called": commit the partitions' current ends for a
   * group that has no offsets yet (it is empty, so the admin API may), instead of leaving the
   * reset to the first fetch, which could come after messages published meanwhile.
   */
  private async commitLatestForNewGroup(): Promise<void> {
    const { topic } = this.options;
    const group = this.groupId;
    try {
      const admin = await this.bus.getAdmin();
      const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      const missing = (committed?.partitions ?? []).filter((p) => Number(p.offset) < 0);
      if (missing.length === 0) return;
      const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, p.high]));
      await admin.setOffsets({
        groupId: group,
        topic,
        partitions: missing.map((p) => ({ partition: p.partition, offset: ends.get(p.partition) ?? '0' })),
      });
    } catch (err) {
      this.log.warn({ err }, "could not pin startAt 'latest' offsets; the first fetch will reset to latest");
    }
  }

  pause(): void {
    this.consumer.pause([{ topic: this.options.topic }]);
  }

  resume(): void {
    this.consumer.resume([{ topic: this.options.topic }]);
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const timeoutMs = this.bus.opts.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
      const stopped = this.consumer
        .stop()
        .catch((err) => this.log.warn({ err }, 'Kafka consumer stop failed'));
      if (await finishesWithin(stopped, timeoutMs)) await this.consumer.disconnect().catch(() => {});
      else {
        // kafkajs waits for the running batch without limit. Leave it: nothing of it is
        // committed, and the group hands the partitions on once this member's session expires.
        this.abandoned = true;
        this.log.error(
          { timeoutMs },
          'bus consumer stop: the handler is still running; leaving its batch uncommitted for redelivery',
        );
      }
      if (this.options.ephemeral) await this.bus.dropGroup(this.groupId);
      this.onStopped();
    })();
    return this.stopping;
  }
}
