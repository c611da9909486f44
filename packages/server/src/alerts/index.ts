import type { Domain } from '../domain.js';
import { registerAlertRoutes } from './routes.js';
import { AlertsWorker, optionsFromConfig } from './worker.js';

export { AlertsWorker, type AlertsWorkerOptions } from './worker.js';

export const alertsDomain: Domain = {
  name: 'alerts',
  routes: [{ role: 'api', register: registerAlertRoutes }],
  workers: [{ role: 'alerts', create: (ctx) => new AlertsWorker(ctx, optionsFromConfig(ctx)) }],
};
