import type { Domain } from '../domain.js';

export const webDomain: Domain = { name: 'web' };
