import pg from 'pg';
import { finishesWithin } from '../async.js';
import type { Db } from '../db/db.js';
import type { Logger } from '../logger.js';
import { PublishCoalescer } from './coalesce.js';
import { DEFAULT_STOP_TIMEOUT_MS, handlerFailed, memoize } from './shared.js';
import type { Bus, BusMessage, ConsumedMessage, ConsumeOptions, Consumer } from './types.js';

/**
 * The embedded bus: a durable, partitioned log in PostgreSQL (tables from migration 0100_bus).
 *
 * - publish: one round trip to `bus_publish_blob()`, which locks the touched partition heads, assigns
 *   contiguous offsets and appends the rows; it resolves after COMMIT, so a resolved publish is
 *   durable. Because a partition's head stays locked until commit, rows of one partition become
 *   visible in offset order: a consumer reading "offset >= next" can never skip a lower offset.
 * - consumers: each holds one dedicated connection. Partition ownership within a group is a
 *   session-level advisory lock per (group, partition) on that connection, so it dies with the
 *   process (SIGKILL included) and the survivors take the partitions over. Members announce
 *   themselves with a shared advisory lock; each member claims about partitions/members.
 *   Offsets are committed on the same connection after the handler resolved, so a consumer that
 *   lost its locks (connection gone) cannot commit.
 * - wake-ups: NOTIFY on channel `beacon_bus` from publish (payload `t:<topic id>`) and from
 *   joining/leaving members (`r:<group id>`), plus a slow safety poll.
 * - retention: a periodic job deletes rows older than `retentionHours` that every active group
 *   of the topic has committed.
 */
export interface EmbeddedBusOptions {
  partitions: number;
  retentionHours: number;
  log: Logger;
  /** Safety poll when no notification arrives (ms). */
  pollMs?: number;
  /** How often a consumer re-checks group membership to take over partitions of dead members (ms). */
  rebalanceMs?: number;
  /** How often the retention job runs (ms); 0 disables the timer (call `trim()` yourself). */
  retentionIntervalMs?: number;
  /** How long `stop()` waits for an in-flight handler before abandoning its batch (ms). */
  stopTimeoutMs?: number;
}

const CHANNEL = 'beacon_bus';
/** Advisory lock namespace: key1 = LOCK_BASE + group id, key2 = partition or MEMBER_SLOT. */
const LOCK_BASE = 0x4255_0000;
const MEMBER_SLOT = 1_000_000;

interface TopicInfo {
  id: number;
  partitions: number;
}

/** FNV-1a over the key's UTF-8 bytes: stable across processes and versions. */
export function partitionFor(key: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(key, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitions;
}

export class EmbeddedBus implements Bus {
  readonly kind = 'embedded' as const;
  private readonly topics = new Map<string, Promise<TopicInfo>>();
  private readonly consumers = new Set<EmbeddedConsumer>();
  private unlisten?: Promise<() => void>;
  private retentionTimer?: NodeJS.Timeout;
  private closed = false;
  private readonly coalescer = new PublishCoalescer((topic, messages) => this.write(topic, messages), {
    maxMessages: 5_000,
    maxBytes: 8 * 1024 * 1024,
  });

  constructor(
    readonly db: Db,
    readonly opts: EmbeddedBusOptions,
  ) {
    const every = opts.retentionIntervalMs ?? 10 * 60_000;
    if (every > 0) {
      this.retentionTimer = setInterval(() => {
        this.trim().catch((err) => opts.log.warn({ err }, 'bus retention failed'));
      }, every);
      this.retentionTimer.unref();
    }
  }

  async ensureTopics(topics: string[]): Promise<void> {
    for (const t of topics) await this.topic(t);
  }

  /** The topic's id and partition count; created on first use. The stored count wins. */
  topic(name: string): Promise<TopicInfo> {
    return memoize(this.topics, name, () => this.createTopic(name));
  }

  private async createTopic(name: string): Promise<TopicInfo> {
    await this.db.query(
      'INSERT INTO bus_topics (name, partitions) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING',
      [name, this.opts.partitions],
    );
    const row = await this.db.one<{ id: number; partitions: number }>(
      'SELECT id, partitions FROM bus_topics WHERE name = $1',
      [name],
    );
    if (!row) throw new Error(`bus topic ${name} vanished`);
    await this.db.query(
      `INSERT INTO bus_heads (topic_id, partition) SELECT $1, generate_series(0, $2::int - 1)
       ON CONFLICT DO NOTHING`,
      [row.id, row.partitions],
    );
    if (row.partitions !== this.opts.partitions)
      this.opts.log.warn(
        { topic: name, partitions: row.partitions, configured: this.opts.partitions },
        'bus topic keeps the partition count it was created with',
      );
    return { id: row.id, partitions: row.partitions };
  }

  /** Concurrent publishes to one topic are written together (see PublishCoalescer). */
  publish(topic: string, messages: BusMessage[]): Promise<void> {
    return this.coalescer.publish(topic, messages);
  }

  private async write(topic: string, messages: BusMessage[]): Promise<void> {
    const t = await this.topic(topic);
    const n = messages.length;
    const parts = new Array<number>(n);
    const keys = new Array<string>(n);
    const lens = new Array<number>(n);
    const values = new Array<Buffer>(n);
    const headers = new Array<string | null>(n);
    for (let i = 0; i < n; i++) {
      const m = messages[i]!;
      parts[i] = partitionFor(m.key, t.partitions);
      keys[i] = m.key;
      values[i] = m.value;
      lens[i] = m.value.length;
      headers[i] = m.headers ? JSON.stringify(m.headers) : null;
    }
    // Every value in one bytea parameter, which node-postgres sends in binary: a bytea[] would
    // travel as hex text and cost PostgreSQL an array parse (about twice slower for 1 KB values).
    await this.db.query(
      'SELECT bus_publish_blob($1, $2::int[], $3::text[], $4::bytea, $5::int[], $6::text[])',
      [t.id, parts, keys, Buffer.concat(values), lens, headers],
    );
  }

  async consume(options: ConsumeOptions): Promise<Consumer> {
    if (this.closed) throw new Error('bus is closed');
    const t = await this.topic(options.topic);
    const g = await this.db.one<{ id: number }>(
      `INSERT INTO bus_groups (name, topic_id, ephemeral) VALUES ($1, $2, $3)
       ON CONFLICT (name, topic_id) DO UPDATE SET last_seen_at = now(), ephemeral = EXCLUDED.ephemeral
       RETURNING id`,
      [options.group, t.id, options.ephemeral === true],
    );
    await this.listenOnce();
    const consumer = new EmbeddedConsumer(this, options, t, g!.id, () => this.consumers.delete(consumer));
    this.consumers.add(consumer);
    await consumer.start();
    return consumer;
  }

  private listenOnce(): Promise<() => void> {
    this.unlisten ??= this.db.listen(CHANNEL, (payload) => {
      for (const c of this.consumers) c.onNotify(payload);
    });
    return this.unlisten;
  }

  /**
   * Delete rows older than `retentionHours` that every group of their topic has committed.
   * A group with no running consumer for max(retentionHours, 7 days) no longer holds rows back;
   * topics without any group keep their rows (nothing has read them yet). Returns the count.
   */
  async trim(): Promise<number> {
    const deleted = await this.db.tx(async (q) => {
      const [lock] = await q.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1, 0) AS ok', [
        LOCK_BASE - 1,
      ]);
      if (!lock?.ok) return 0;
      // Count in the database: RETURNING every deleted row would ship millions of rows to Node.
      const [res] = await q.query<{ n: number }>(
        `WITH lim AS (
           SELECT h.topic_id, h.partition, min(coalesce(o.next_offset, 0)) AS upto
           FROM bus_heads h
           JOIN bus_groups g ON g.topic_id = h.topic_id AND NOT g.ephemeral
             AND g.last_seen_at > now() - greatest($1::int, 168) * interval '1 hour'
           LEFT JOIN bus_offsets o ON o.group_id = g.id AND o.partition = h.partition
           GROUP BY h.topic_id, h.partition
         ), gone AS (
           DELETE FROM bus_log l USING lim
           WHERE l.topic_id = lim.topic_id AND l.partition = lim.partition AND l."offset" < lim.upto
             AND l.created_at < now() - $1::int * interval '1 hour'
           RETURNING 1
         )
         SELECT count(*)::int AS n FROM gone`,
        [this.opts.retentionHours],
      );
      return res?.n ?? 0;
    });
    // Ephemeral groups of processes that died without stopping their consumers.
    await this.db.query(`DELETE FROM bus_groups WHERE ephemeral AND last_seen_at < now() - interval '1 day'`);
    if (deleted > 0) this.opts.log.info({ deleted }, 'bus retention trimmed the log');
    return deleted;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    await Promise.all([...this.consumers].map((c) => c.stop()));
    if (this.unlisten) (await this.unlisten.catch(() => () => {}))();
  }
}

/** A one-slot wake-up signal: `notify` before `wait` makes the next `wait` return at once. */
class Signal {
  private pending = false;
  private wake?: () => void;
  notify(): void {
    this.pending = true;
    this.wake?.();
  }
  async wait(ms: number): Promise<void> {
    if (!this.pending && ms > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    this.pending = false;
  }
}

interface Owned {
  next: number;
  failures: number;
  retryAt: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class EmbeddedConsumer implements Consumer {
  private client?: pg.Client;
  private readonly owned = new Map<number, Owned>();
  private readonly signal = new Signal();
  private readonly key1: number;
  private readonly log: Logger;
  private readonly maxBatch: number;
  private readonly pollMs: number;
  private readonly rebalanceMs: number;
  private members = 1;
  private rebalanceDue = true;
  private nextRebalanceAt = 0;
  private lastSeenAt = 0;
  private paused = false;
  private stopping = false;
  private loop?: Promise<void>;
  private cursor = 0;

  constructor(
    private readonly bus: EmbeddedBus,
    private readonly options: ConsumeOptions,
    private readonly topic: TopicInfo,
    private readonly groupId: number,
    private readonly onStopped: () => void,
  ) {
    this.key1 = LOCK_BASE + groupId;
    this.log = bus.opts.log.child({ topic: options.topic, group: options.group });
    this.maxBatch = options.maxBatch ?? 100;
    this.pollMs = bus.opts.pollMs ?? 5_000;
    this.rebalanceMs = bus.opts.rebalanceMs ?? 2_000;
  }

  /** Connect and claim a first share of partitions, so `consume()` resolves as a member. */
  async start(): Promise<void> {
    await this.connect();
    try {
      await this.rebalance();
    } catch (err) {
      await this.disconnect();
      throw err;
    }
    this.loop = this.run();
  }

  onNotify(payload: string): void {
    if (payload === '' || payload === `t:${this.topic.id}`) this.signal.notify();
    else if (payload === `r:${this.groupId}`) {
      this.rebalanceDue = true;
      this.signal.notify();
    }
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.signal.notify();
  }

  async stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      this.signal.notify();
    }
    const timeoutMs = this.bus.opts.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    if (await finishesWithin(this.loop, timeoutMs)) return;
    // A handler that never returns must not hold shutdown forever. Closing the connection gives
    // the partitions back and makes the late commit fail: the batch goes to the next consumer.
    this.log.error(
      { timeoutMs },
      'bus consumer stop: the handler is still running; leaving its batch uncommitted for redelivery',
    );
    await this.disconnect(true);
    this.onStopped();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.bus.db.url,
      application_name: 'beacon-bus-consumer',
    });
    client.on('error', (err) => this.log.warn({ err }, 'bus consumer connection lost'));
    await client.connect();
    try {
      await client.query('SELECT pg_advisory_lock_shared($1, $2)', [this.key1, MEMBER_SLOT]);
      await client.query(`SELECT pg_notify('${CHANNEL}', $1)`, [`r:${this.groupId}`]);
    } catch (err) {
      await client.end().catch(() => {});
      throw err;
    }
    this.client = client;
    this.owned.clear();
    this.rebalanceDue = true;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        if (!this.client) await this.connect();
        if (this.rebalanceDue || Date.now() >= this.nextRebalanceAt) await this.rebalance();
        if (!this.paused && !this.stopping && (await this.fetchAndHandle())) continue;
        await this.signal.wait(this.nextWakeIn());
      } catch (err) {
        if (this.stopping) break;
        this.log.warn({ err }, 'bus consumer lost its connection; reconnecting');
        await this.disconnect();
        await sleep(1000);
      }
    }
    await this.disconnect(true);
    if (this.options.ephemeral)
      await this.bus.db
        .query('DELETE FROM bus_groups WHERE id = $1 AND ephemeral', [this.groupId])
        .catch((err) => this.log.warn({ err }, 'could not drop an ephemeral consumer group'));
    this.onStopped();
  }

  private nextWakeIn(): number {
    let at = Math.min(Date.now() + this.pollMs, this.nextRebalanceAt);
    for (const o of this.owned.values()) if (o.retryAt > 0) at = Math.min(at, o.retryAt);
    return Math.max(0, at - Date.now());
  }

  private async disconnect(announce = false): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.owned.clear();
    if (!client) return;
    // Closing the session releases every advisory lock it held.
    if (announce)
      await client.query(`SELECT pg_notify('${CHANNEL}', $1)`, [`r:${this.groupId}`]).catch(() => {});
    await client.end().catch(() => {});
  }

  /** Claim about partitions/members partitions of the topic; give back the surplus. */
  private async rebalance(): Promise<void> {
    const client = this.client!;
    this.rebalanceDue = false;
    this.nextRebalanceAt = Date.now() + this.rebalanceMs;
    const res = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks
       WHERE locktype = 'advisory' AND granted AND objsubid = 2
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
         AND classid = $1::int::oid AND objid = $2::int::oid`,
      [this.key1, MEMBER_SLOT],
    );
    this.members = Math.max(1, res.rows[0]?.n ?? 1);
    const fair = Math.ceil(this.topic.partitions / this.members);
    let changed = false;
    if (this.owned.size > fair) {
      const surplus = [...this.owned.keys()].sort((a, b) => b - a).slice(0, this.owned.size - fair);
      for (const p of surplus) {
        await client.query('SELECT pg_advisory_unlock($1, $2)', [this.key1, p]);
        this.owned.delete(p);
      }
      changed = true;
    }
    if (this.owned.size < fair) {
      // Start at a random partition so members joining together do not race for the same ones.
      const n = this.topic.partitions;
      const start = Math.floor(Math.random() * n);
      const got: number[] = [];
      for (let i = 0; i < n && this.owned.size + got.length < fair; i++) {
        const p = (start + i) % n;
        if (this.owned.has(p)) continue;
        const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [
          this.key1,
          p,
        ]);
        if (r.rows[0]?.ok) got.push(p);
      }
      if (got.length > 0) {
        const offs = await client.query<{ partition: number; next_offset: number }>(
          'SELECT partition, next_offset FROM bus_offsets WHERE group_id = $1 AND partition = ANY($2::int[])',
          [this.groupId, got],
        );
        const committed = new Map(offs.rows.map((r) => [r.partition, Number(r.next_offset)]));
        const fresh = got.filter((p) => !committed.has(p));
        if (fresh.length > 0 && this.options.startAt === 'latest') {
          // Start at the partition's head and commit it, so the start survives a rebalance.
          const heads = await client.query<{ partition: number; next_offset: number }>(
            `INSERT INTO bus_offsets (group_id, partition, next_offset)
             SELECT $1, h.partition, h.next_offset FROM bus_heads h
             WHERE h.topic_id = $2 AND h.partition = ANY($3::int[])
             ON CONFLICT (group_id, partition) DO NOTHING
             RETURNING partition, next_offset`,
            [this.groupId, this.topic.id, fresh],
          );
          for (const r of heads.rows) committed.set(r.partition, Number(r.next_offset));
        }
        for (const p of got) this.owned.set(p, { next: committed.get(p) ?? 0, failures: 0, retryAt: 0 });
        changed = true;
      }
    }
    if (changed) {
      this.log.debug(
        { partitions: [...this.owned.keys()].sort((a, b) => a - b), members: this.members },
        'bus assignment',
      );
      // Others may be waiting for the partitions we gave back.
      await client.query(`SELECT pg_notify('${CHANNEL}', $1)`, [`r:${this.groupId}`]);
    }
    if (Date.now() - this.lastSeenAt > 60_000) {
      this.lastSeenAt = Date.now();
      await client.query('UPDATE bus_groups SET last_seen_at = now() WHERE id = $1', [this.groupId]);
    }
  }

  /** Fetch from every ready partition in one query, hand each partition's batch over. */
  private async fetchAndHandle(): Promise<boolean> {
    const now = Date.now();
    const parts: number[] = [];
    const nexts: number[] = [];
    for (const [p, o] of this.owned) {
      if (o.retryAt > now) continue;
      parts.push(p);
      nexts.push(o.next);
    }
    if (parts.length === 0) return false;
    const client = this.client!;
    const res = await client.query<{
      partition: number;
      offset: number;
      created_at: Date;
      key: string;
      headers: string | null;
      value: Buffer;
    }>(
      `SELECT l.partition, l."offset", l.created_at, l.key, l.headers, l.value
       FROM unnest($2::int[], $3::bigint[]) AS p(part, nxt)
       CROSS JOIN LATERAL (
         SELECT * FROM bus_log
         WHERE topic_id = $1 AND partition = p.part AND "offset" >= p.nxt
         ORDER BY "offset" LIMIT $4
       ) l`,
      [this.topic.id, parts, nexts, this.maxBatch],
    );
    if (res.rows.length === 0) return false;
    const batches = new Map<number, ConsumedMessage[]>();
    for (const r of res.rows) {
      let b = batches.get(r.partition);
      if (!b) {
        b = [];
        batches.set(r.partition, b);
      }
      const m: ConsumedMessage = {
        topic: this.options.topic,
        partition: r.partition,
        offset: String(r.offset),
        timestamp: r.created_at,
        key: r.key,
        value: r.value,
      };
      if (r.headers) m.headers = JSON.parse(r.headers) as Record<string, string>;
      b.push(m);
    }
    // Rotate the starting partition so one busy partition cannot starve the others.
    const order = [...batches.keys()].sort((a, b) => a - b);
    const first = this.cursor++ % order.length;
    for (let i = 0; i < order.length; i++) {
      if (this.stopping || this.paused || this.rebalanceDue) break;
      const p = order[(first + i) % order.length]!;
      const batch = batches.get(p)!;
      const own = this.owned.get(p);
      if (!own) continue;
      try {
        await this.options.handler(batch);
      } catch (err) {
        own.failures++;
        own.retryAt =
          Date.now() +
          handlerFailed(this.log, err, { partition: p, offset: batch[0]!.offset, attempt: own.failures });
        continue;
      }
      const next = Number(batch[batch.length - 1]!.offset) + 1;
      await client.query(
        `INSERT INTO bus_offsets (group_id, partition, next_offset) VALUES ($1, $2, $3)
         ON CONFLICT (group_id, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset, committed_at = now()`,
        [this.groupId, p, next],
      );
      own.next = next;
      own.failures = 0;
      own.retryAt = 0;
    }
    return true;
  }
}
