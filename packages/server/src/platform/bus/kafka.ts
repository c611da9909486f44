// Placeholder until the Kafka adapter lands.
import type { Logger } from '../logger.js';
import type { Bus, BusMessage, ConsumeOptions, Consumer } from './types.js';

export class KafkaBus implements Bus {
  readonly kind = 'kafka' as const;
  constructor(readonly opts: { brokers: string[]; partitions: number; log: Logger }) {}
  async publish(_topic: string, _messages: BusMessage[]): Promise<void> {
    throw new Error('kafka bus not implemented');
  }
  async consume(_o: ConsumeOptions): Promise<Consumer> {
    throw new Error('kafka bus not implemented');
  }
  async ensureTopics(_t: string[]): Promise<void> {}
  async close(): Promise<void> {}
}
