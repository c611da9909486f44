import type { Domain } from '../domain.js';
import { createIssuesWorker } from './worker.js';

export const issuesDomain: Domain = {
  name: 'issues',
  workers: [{ role: 'issues', create: (ctx) => createIssuesWorker(ctx) }],
};
