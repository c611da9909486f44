import type { Domain } from '../domain.js';

export const insightsDomain: Domain = { name: 'insights' };
