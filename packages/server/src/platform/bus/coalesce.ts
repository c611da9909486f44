import type { BusMessage } from './types.js';

interface Pending {
  messages: BusMessage[];
  bytes: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for publishers: while one write for a topic is in flight, later `publish` calls
 * for that topic queue up and go out together as the next write, each caller resolved when the
 * write holding its messages is durable. Many small concurrent publishes (one event per ingest
 * request) thus cost one round trip and one commit/ack per write instead of one each, and the
 * order of publish calls (hence per-key order) is kept.
 */
export class PublishCoalescer {
  private readonly queues = new Map<string, Pending[]>();
  private readonly running = new Set<string>();

  constructor(
    private readonly write: (topic: string, messages: BusMessage[]) => Promise<void>,
    private readonly limits: { maxMessages: number; maxBytes: number },
  ) {}

  publish(topic: string, messages: BusMessage[]): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    let bytes = 0;
    for (const m of messages) bytes += m.value.length + m.key.length;
    return new Promise<void>((resolve, reject) => {
      let q = this.queues.get(topic);
      if (!q) {
        q = [];
        this.queues.set(topic, q);
      }
      q.push({ messages, bytes, resolve, reject });
      if (!this.running.has(topic)) void this.drain(topic, q);
    });
  }

  private async drain(topic: string, q: Pending[]): Promise<void> {
    this.running.add(topic);
    try {
      while (q.length > 0) {
        // Take whole publish calls while within the limits (always at least one).
        let n = 0;
        let count = 0;
        let bytes = 0;
        while (n < q.length) {
          const p = q[n]!;
          if (
            n > 0 &&
            (count + p.messages.length > this.limits.maxMessages || bytes + p.bytes > this.limits.maxBytes)
          )
            break;
          count += p.messages.length;
          bytes += p.bytes;
          n++;
        }
        const group = q.splice(0, n);
        const messages = group.length === 1 ? group[0]!.messages : group.flatMap((p) => p.messages);
        try {
          await this.write(topic, messages);
          for (const p of group) p.resolve();
        } catch (err) {
          for (const p of group) p.reject(err);
        }
      }
    } finally {
      this.running.delete(topic);
      if (q.length === 0 && this.queues.get(topic) === q) this.queues.delete(topic);
    }
  }
}
