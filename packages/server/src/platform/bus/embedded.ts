// Placeholder until the embedded log adapter lands.
import type { Db } from '../db/db.js';
import type { Logger } from '../logger.js';
import type { Bus, BusMessage, ConsumeOptions, Consumer } from './types.js';

export class EmbeddedBus implements Bus {
  readonly kind = 'embedded' as const;
  constructor(
    readonly db: Db,
    readonly opts: { partitions: number; retentionHours: number; log: Logger },
  ) {}
  async publish(_topic: string, _messages: BusMessage[]): Promise<void> {
    throw new Error('embedded bus not implemented');
  }
  async consume(_o: ConsumeOptions): Promise<Consumer> {
    throw new Error('embedded bus not implemented');
  }
  async ensureTopics(_t: string[]): Promise<void> {}
  async close(): Promise<void> {}
}
