import type { Domain } from '../domain.js';

export const ingestDomain: Domain = { name: 'ingest' };
