import type { Config } from '../../config.js';
import type { Db } from '../db/db.js';
import { StartupError } from '../errors.js';
import type { Logger } from '../logger.js';
import { EmbeddedBus } from './embedded.js';
import type { Bus } from './types.js';

/** Kafka when KAFKA_BROKERS is set, otherwise the embedded log table in PostgreSQL. */
export async function createBus(config: Config, db: Db, log: Logger): Promise<Bus> {
  if (config.bus.kind === 'kafka') {
    const { KafkaBus } = await import('./kafka.js');
    const bus = new KafkaBus({
      brokers: config.bus.brokers,
      partitions: config.bus.kafkaPartitions,
      groupPrefix: config.bus.topicPrefix,
      log,
    });
    try {
      await bus.probe(config.connectTimeoutMs);
    } catch (err) {
      const brokers = config.bus.brokers.join(',');
      throw new StartupError(
        'KAFKA_BROKERS',
        `cannot connect to Kafka at ${brokers} (KAFKA_BROKERS): ${(err as Error).message}`,
      );
    }
    return bus;
  }
  return new EmbeddedBus(db, {
    partitions: config.bus.embeddedPartitions,
    retentionHours: config.bus.retentionHours,
    log,
  });
}
