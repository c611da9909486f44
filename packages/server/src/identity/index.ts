import type { Domain } from '../domain.js';

export const identityDomain: Domain = { name: 'identity' };
