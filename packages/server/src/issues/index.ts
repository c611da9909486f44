import type { Domain } from '../domain.js';

export const issuesDomain: Domain = { name: 'issues' };
