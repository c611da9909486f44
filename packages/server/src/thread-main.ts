import { parentPort, workerData } from 'node:worker_threads';
import { startWorkers } from './beacon.js';
import type { AppContext } from './context.js';
import { createBus } from './platform/bus/index.js';
import { topicNames } from './platform/bus/types.js';
import { Db } from './platform/db/db.js';
import { createLogger } from './platform/logger.js';
import { Metrics } from './platform/metrics.js';
import type { FromThread, RoleThreadData, ToThread } from './threads.js';

/**
 * Entry point of a role thread (see RoleThread): open a pool to the main thread's database and a
 * bus client, start the workers of the roles it was given, answer metrics requests, and drain
 * on `stop`.
 */
const port = parentPort!;
const send = (m: FromThread) => port.postMessage(m);
const { config, dbUrl } = workerData as RoleThreadData;
const log = createLogger(config.logLevel).child({ thread: config.roles.join(',') });
const stack: Array<() => Promise<void>> = [];
const unwind = async () => {
  for (const fn of stack.reverse()) await fn().catch((err) => log.error({ err }, 'shutdown step failed'));
};

try {
  const db = new Db(dbUrl, config.dbPoolMax);
  stack.push(() => db.close());
  const bus = await createBus(config, db, log.child({ component: 'bus' }));
  stack.push(() => bus.close());
  const topics = topicNames(config.bus.topicPrefix);
  const metrics = new Metrics({ defaults: false });
  const ctx: AppContext = { config, log, db, bus, topics, metrics };
  await startWorkers(ctx, config.roles, stack);
  let stopping = false;
  port.on('message', (m: ToThread) => {
    if (m.type === 'metrics')
      void metrics.registry
        .getMetricsAsJSON()
        .then((json) => send({ type: 'metrics', id: m.id, metrics: json }));
    else if (m.type === 'stop' && !stopping) {
      stopping = true;
      void unwind().then(() => {
        send({ type: 'stopped' });
        port.close();
      });
    }
  });
  log.info({ roles: config.roles }, 'role thread started');
  send({ type: 'ready' });
} catch (err) {
  await unwind();
  send({ type: 'failed', message: (err as Error).message });
  port.close();
}
