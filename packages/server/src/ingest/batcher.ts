import type { Bus, BusMessage } from '../platform/bus/types.js';

/**
 * Group commit: messages from concurrent requests are collected for up to `lingerMs` (or until
 * `maxBatch`) and written with ONE `bus.publish`; every request's promise settles with its batch,
 * so a request is answered only once its events are durable. While `maxInFlight` writes are
 * pending, new messages keep accumulating — under load batches grow instead of writes queueing.
 */
export interface BatcherOptions {
  lingerMs: number;
  maxBatch: number;
  maxInFlight: number;
  onBatch?: (size: number, ms: number) => void;
}

interface Pending {
  messages: BusMessage[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class Batcher {
  private queue: Pending[] = [];
  private queued = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private readonly idle = new Set<() => void>();

  constructor(
    private readonly bus: Bus,
    private readonly topic: string,
    private readonly opts: BatcherOptions,
  ) {}

  submit(messages: BusMessage[]): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ messages, resolve, reject });
      this.queued += messages.length;
      if (this.queued >= this.opts.maxBatch) this.flush();
      else if (!this.timer) this.timer = setTimeout(() => this.flush(), this.opts.lingerMs);
    });
  }

  private flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.queue.length > 0 && this.inFlight < this.opts.maxInFlight) this.write();
  }

  private write(): void {
    // Take whole requests up to maxBatch messages (at least one request, however large).
    let n = 0;
    let take = 0;
    while (
      take < this.queue.length &&
      (take === 0 || n + this.queue[take]!.messages.length <= this.opts.maxBatch)
    ) {
      n += this.queue[take]!.messages.length;
      take++;
    }
    const batch = this.queue.splice(0, take);
    this.queued -= n;
    this.inFlight++;
    const messages = batch.length === 1 ? batch[0]!.messages : batch.flatMap((p) => p.messages);
    const started = Date.now();
    this.bus
      .publish(this.topic, messages)
      .then(
        () => {
          this.opts.onBatch?.(messages.length, Date.now() - started);
          for (const p of batch) p.resolve();
        },
        (err) => {
          for (const p of batch) p.reject(err);
        },
      )
      .finally(() => {
        this.inFlight--;
        if (this.queued >= this.opts.maxBatch) this.flush();
        else if (this.queue.length > 0) {
          // Linger once more before writing what accumulated: the clients this write just
          // answered are about to send their next events, and catching them in the same batch
          // doubles the batch size when throughput is bound by the write's latency.
          this.timer ??= setTimeout(() => this.flush(), this.opts.lingerMs);
        } else if (this.inFlight === 0) for (const fn of this.idle) fn();
      });
  }

  /** Resolve once everything submitted so far is written (or failed). */
  async drain(): Promise<void> {
    if (this.queue.length > 0) this.flush();
    if (this.inFlight === 0 && this.queue.length === 0) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        if (this.inFlight === 0 && this.queue.length === 0) {
          this.idle.delete(done);
          resolve();
        }
      };
      this.idle.add(done);
    });
  }
}
