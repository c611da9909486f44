/**
 * The bus: the only way Beacon's roles talk to each other besides the database.
 * Two adapters implement it (embedded log table in PostgreSQL, Apache Kafka) and pass one
 * shared contract suite (ordering per key, consumer groups, at-least-once, restart resume).
 */
export interface BusMessage {
  /** Partitioning key: messages with the same key are consumed in publish order. */
  key: string;
  value: Buffer;
  headers?: Record<string, string>;
}

export interface ConsumedMessage extends BusMessage {
  topic: string;
  partition: number;
  /** Offset within the partition, as a decimal string (Kafka offsets exceed 2^53 in theory). */
  offset: string;
  timestamp: Date;
}

export interface ConsumeOptions {
  topic: string;
  /** Consumer group: each group sees every message; members of a group share partitions. */
  group: string;
  /** Largest batch handed to the handler. */
  maxBatch?: number;
  /**
   * Where a group with no committed offsets starts: 'earliest' (default: the oldest retained
   * message) or 'latest' (only what is published after it joined; the start is committed at once,
   * so a rebalance does not skip ahead again).
   */
  startAt?: 'earliest' | 'latest';
  /**
   * A group that lives only as long as this consumer (e.g. per-process live fan-out): it never
   * holds back the embedded log's retention, and its offsets are dropped when it stops.
   */
  ephemeral?: boolean;
  /**
   * Called with a batch from one partition. When it resolves, the batch's offsets are committed.
   * When it throws, nothing is committed and the batch is redelivered after a back-off.
   */
  handler: (batch: ConsumedMessage[]) => Promise<void>;
}

export interface Consumer {
  /** Stop fetching; resolves after the in-flight batch finished (and committed) or failed. */
  stop(): Promise<void>;
  pause(): void;
  resume(): void;
}

export interface Bus {
  readonly kind: 'embedded' | 'kafka';
  /** Resolves only when every message is durable (committed row / acks=all). */
  publish(topic: string, messages: BusMessage[]): Promise<void>;
  consume(options: ConsumeOptions): Promise<Consumer>;
  /** Create topics if missing (idempotent). */
  ensureTopics(topics: string[]): Promise<void>;
  close(): Promise<void>;
}

export const topicNames = (prefix: string) => ({
  events: `${prefix}events`,
  issueUpdates: `${prefix}issue-updates`,
  monitorEvents: `${prefix}monitor-events`,
  alertsDlq: `${prefix}alerts-dlq`,
});
export type Topics = ReturnType<typeof topicNames>;
