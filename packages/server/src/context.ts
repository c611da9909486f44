import type { Config } from './config.js';
import type { Bus, Topics } from './platform/bus/types.js';
import type { Db } from './platform/db/db.js';
import type { Logger } from './platform/logger.js';
import type { Metrics } from './platform/metrics.js';

/** What the entry point wires and hands to every domain: adapters, never globals. */
export interface AppContext {
  config: Config;
  log: Logger;
  db: Db;
  bus: Bus;
  topics: Topics;
  metrics: Metrics;
}

/** A long-running part of a role (a bus consumer, a scheduler). */
export interface Worker {
  name: string;
  start(): Promise<void>;
  /** Stop taking work and drain what is in flight. */
  stop(): Promise<void>;
}
