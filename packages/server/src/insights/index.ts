import type { Domain } from '../domain.js';
import { registerInsightRoutes } from './routes.js';
import { InsightsWorker } from './worker.js';

export const insightsDomain: Domain = {
  name: 'insights',
  routes: [{ role: 'api', register: registerInsightRoutes }],
  workers: [{ role: 'insights', create: (ctx) => new InsightsWorker(ctx) }],
};
