import type { Domain } from '../domain.js';

export const uptimeDomain: Domain = { name: 'uptime' };
