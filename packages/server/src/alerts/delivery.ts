import type { Db } from '../platform/db/db.js';
import type { Logger } from '../platform/logger.js';
import type { Channels } from './channels.js';
import * as store from './store.js';

export interface DeliveryOptions {
  /** Deliveries sent at once by one worker. */
  concurrency: number;
  /** Attempts before a delivery is dead-lettered. */
  maxAttempts: number;
  /** Backoff: attempt n waits base·2^(n−1), capped at retryMaxMs, with equal jitter (between half and all of it). */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Longest Retry-After honoured (a receiver asking for more gets this). */
  retryAfterMaxMs: number;
  /** Poll interval when idle (NOTIFY wakes the worker earlier). */
  pollMs: number;
  /** A delivery whose worker died is retried after this lease. */
  leaseMs: number;
}

export const defaultDeliveryOptions: DeliveryOptions = {
  concurrency: 8,
  maxAttempts: 8,
  retryBaseMs: 2_000,
  retryMaxMs: 15 * 60_000,
  retryAfterMaxMs: 60 * 60_000,
  pollMs: 1_000,
  leaseMs: 60_000,
};

export function backoffMs(
  attempt: number,
  o: Pick<DeliveryOptions, 'retryBaseMs' | 'retryMaxMs'>,
  rnd = Math.random,
) {
  const d = Math.min(o.retryMaxMs, o.retryBaseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(d / 2 + rnd() * (d / 2));
}

/**
 * The delivery loop: claims due rows with FOR UPDATE SKIP LOCKED under a lease (so several
 * workers share the queue and a dead worker's deliveries come back), sends them, records each
 * attempt, then marks delivered, reschedules with backoff, or dead-letters.
 */
export class Deliverer {
  private stopping = false;
  private loopDone?: Promise<void>;
  private readonly inflight = new Set<Promise<void>>();
  private wakeUp?: () => void;
  /** A wake-up that arrived while the loop was busy: the next sleep returns at once. */
  private woken = false;
  private unlisten?: () => void;

  constructor(
    private readonly db: Db,
    private readonly channels: Channels,
    private readonly opts: DeliveryOptions,
    private readonly log: Logger,
    private readonly hooks: {
      onDead?: (row: store.DeliveryRow) => Promise<void>;
      onResult?: (channel: string, result: 'delivered' | 'retry' | 'dead') => void;
    } = {},
  ) {}

  async start(): Promise<void> {
    this.unlisten = await this.db.listen(store.DELIVERY_CHANNEL, () => this.wake());
    this.loopDone = this.loop();
  }

  wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    if (w) w();
    else this.woken = true;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.unlisten?.();
    this.wake();
    await this.loopDone;
    await Promise.allSettled([...this.inflight]);
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = undefined;
        resolve();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      try {
        const free = this.opts.concurrency - this.inflight.size;
        // Claim in chunks (when idle or at least half the slots are free), not once per completion.
        if (free > 0 && (this.inflight.size === 0 || free * 2 >= this.opts.concurrency)) {
          const rows = await store.claimDeliveries(this.db, free, this.opts.leaseMs);
          for (const row of rows) {
            const p: Promise<void> = this.run(row).finally(() => {
              this.inflight.delete(p);
              this.wake();
            });
            this.inflight.add(p);
          }
          if (rows.length === free) continue;
          if (this.stopping) break;
          // Due rows we did not get are being claimed by another worker: look again shortly.
          const due = await store.nextDueInMs(this.db);
          await this.sleep(Math.max(10, Math.min(this.opts.pollMs, due ?? this.opts.pollMs)));
        } else {
          // Busy: a completion wakes the loop.
          await this.sleep(this.opts.pollMs);
        }
      } catch (err) {
        if (this.stopping) break;
        this.log.error({ err }, 'delivery loop failed; retrying');
        await this.sleep(this.opts.pollMs);
      }
    }
  }

  private async run(row: store.DeliveryRow): Promise<void> {
    const attempt = row.attempts;
    const started = Date.now();
    const result = await this.channels.send(row.target, row.payload, { deliveryId: row.id, attempt });
    const durationMs = Date.now() - started;
    const maxAttempts = (row.max_attempts as number | null) ?? this.opts.maxAttempts;
    let outcome: Parameters<typeof store.finishDelivery>[4];
    if (result.ok) outcome = { state: 'delivered', status: result.status };
    else if (result.permanent || attempt >= maxAttempts)
      outcome = { state: 'dead', status: result.status, error: result.error };
    else {
      const delayMs =
        result.retryAfterMs !== undefined
          ? Math.min(result.retryAfterMs, this.opts.retryAfterMaxMs)
          : backoffMs(attempt, this.opts);
      outcome = { state: 'pending', delayMs, status: result.status, error: result.error };
    }
    try {
      const finished = await store.finishDelivery(this.db, row.id, attempt, durationMs, outcome);
      if (!finished) {
        this.log.warn({ deliveryId: row.id, attempt }, 'delivery lease was lost; result not recorded');
        return;
      }
      this.hooks.onResult?.(
        row.channel,
        outcome.state === 'delivered' ? 'delivered' : outcome.state === 'dead' ? 'dead' : 'retry',
      );
      if (outcome.state === 'dead') {
        this.log.warn(
          { deliveryId: row.id, channel: row.channel, attempts: attempt, error: result.error },
          'delivery dead-lettered',
        );
        await this.hooks
          .onDead?.(finished)
          .catch((err) => this.log.error({ err }, 'dead-letter publish failed'));
      }
    } catch (err) {
      // The lease expires and another attempt follows: at-least-once, never lost.
      this.log.error({ err, deliveryId: row.id }, 'recording a delivery result failed');
    }
  }
}
