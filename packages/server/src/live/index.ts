import type { Domain } from '../domain.js';
import { registerLiveRoutes } from './routes.js';
import { createLiveWorker } from './worker.js';

/** WebSocket fan-out of issue updates and monitor events to the dashboard. */
export const liveDomain: Domain = {
  name: 'live',
  routes: [{ role: 'api', register: registerLiveRoutes }],
  workers: [{ role: 'api', create: createLiveWorker }],
};
