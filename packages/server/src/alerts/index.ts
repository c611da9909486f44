import type { Domain } from '../domain.js';

export const alertsDomain: Domain = { name: 'alerts' };
