import type { Domain } from '../domain.js';
import { registerIssueRoutes } from './routes.js';
import { createIssuesWorker } from './worker.js';

export const issuesDomain: Domain = {
  name: 'issues',
  routes: [{ role: 'api', register: registerIssueRoutes }],
  workers: [{ role: 'issues', create: (ctx) => createIssuesWorker(ctx) }],
};
