import type { Domain } from '../domain.js';
import { registerWebRoutes } from './routes.js';

/** Serves the React dashboard (packages/web/dist) at `/` beside the API. */
export const webDomain: Domain = {
  name: 'web',
  routes: [{ role: 'api', register: (app, ctx) => registerWebRoutes(app, ctx) }],
};
