import type { Domain } from '../domain.js';

export const liveDomain: Domain = { name: 'live' };
