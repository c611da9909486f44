// A stand-alone alerts worker for crash tests: `node --import tsx testing-child.ts` with DATABASE_URL and
// ALERTS_WORKER_OPTIONS (JSON). Prints "ready" once consuming; tests SIGKILL it mid-work.
import { loadConfig } from '../config.js';
import type { AppContext } from '../context.js';
import { createBus } from '../platform/bus/index.js';
import { topicNames } from '../platform/bus/types.js';
import { Db } from '../platform/db/db.js';
import { createLogger } from '../platform/logger.js';
import { Metrics } from '../platform/metrics.js';
import { AlertsWorker } from './worker.js';

const config = loadConfig({
  DATABASE_URL: process.env.DATABASE_URL,
  LOG_LEVEL: 'silent',
  BEACON_ENV: 'test',
});
if (config.database.kind !== 'external') throw new Error('DATABASE_URL is required');
const log = createLogger('silent');
const db = new Db(config.database.url, 4);
const bus = await createBus(config, db, log);
const ctx: AppContext = {
  config,
  log,
  db,
  bus,
  topics: topicNames(config.bus.topicPrefix),
  metrics: new Metrics(),
};
const worker = new AlertsWorker(ctx, JSON.parse(process.env.ALERTS_WORKER_OPTIONS ?? '{}'));
await worker.start();
process.stdout.write('ready\n');
