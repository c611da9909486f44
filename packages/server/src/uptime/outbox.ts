import type { Worker } from '../context.js';
import type { Bus } from '../platform/bus/types.js';
import type { Db } from '../platform/db/db.js';
import type { Logger } from '../platform/logger.js';

const RELAY_LOCK = 0x7570_6f62; // "upob"

/**
 * Relays monitor events from `uptime_outbox` (written in the same transaction as the incident
 * change) to the bus. One relay publishes at a time (transaction advisory lock), so events of an
 * endpoint reach the bus in the order they were written; a row is deleted only after the bus
 * acknowledged it, so a crash in between republishes it (consumers dedupe on `eventId`).
 */
export class OutboxRelay implements Worker {
  readonly name = 'uptime-outbox';
  private running = false;
  private loopDone?: Promise<void>;
  private wakeUp?: () => void;
  private pending = false;
  private unlisten?: () => void;

  constructor(
    private readonly db: Db,
    private readonly bus: Bus,
    private readonly log: Logger,
    private readonly pollMs = 2_000,
  ) {}

  async start(): Promise<void> {
    this.running = true;
    this.unlisten = await this.db.listen('uptime_outbox', () => this.wake());
    this.loopDone = this.loop();
  }

  wake(): void {
    this.pending = true;
    this.wakeUp?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unlisten?.();
    this.wakeUp?.();
    await this.loopDone;
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (this.running) {
      this.pending = false;
      let more = false;
      try {
        more = (await relayOutbox(this.db, this.bus)) > 0;
        failures = 0;
      } catch (err) {
        failures++;
        this.log.warn({ err, failures }, 'relaying monitor events failed; will retry');
      }
      if (!this.running) break;
      if (more && failures === 0) continue;
      if (this.pending && failures === 0) continue;
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, failures ? Math.min(30_000, 500 * 2 ** failures) : this.pollMs);
        function done() {
          clearTimeout(t);
          resolve();
        }
        this.wakeUp = done;
      });
    }
  }
}

/** Publish up to `limit` outbox rows in order and delete them; returns how many were relayed. */
export async function relayOutbox(db: Db, bus: Bus, limit = 200): Promise<number> {
  return db.tx(async (q) => {
    const [lock] = await q.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [RELAY_LOCK]);
    if (!lock?.ok) return 0;
    const rows = await q.query<{ id: number; topic: string; key: string; payload: string }>(
      'SELECT id, topic, key, payload FROM uptime_outbox ORDER BY id LIMIT $1',
      [limit],
    );
    if (rows.length === 0) return 0;
    const byTopic = new Map<string, typeof rows>();
    for (const r of rows) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r]);
    for (const [topic, list] of byTopic)
      await bus.publish(
        topic,
        list.map((r) => ({
          key: r.key,
          value: Buffer.from(r.payload),
          headers: { 'content-type': 'application/json' },
        })),
      );
    await q.query('DELETE FROM uptime_outbox WHERE id = ANY($1::bigint[])', [rows.map((r) => r.id)]);
    return rows.length;
  });
}
