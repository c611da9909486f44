import type { Domain } from '../domain.js';
import { registerIngestRoutes, registerIngestStatsRoutes } from './routes.js';
import { ingestServiceFor } from './service.js';

/**
 * Ingest: Sentry envelope/store endpoints and Beacon's native events API (role `ingest`), the
 * per-project ingest stats API (role `api`), and a background part that flushes counters and
 * drains the group-commit batcher on shutdown.
 */
export const ingestDomain: Domain = {
  name: 'ingest',
  routes: [
    { role: 'ingest', register: registerIngestRoutes },
    { role: 'api', register: registerIngestStatsRoutes },
  ],
  workers: [
    {
      role: 'ingest',
      create: (ctx) => ({
        name: 'ingest-flusher',
        start: async () => ingestServiceFor(ctx).start(),
        stop: () => ingestServiceFor(ctx).stop(),
      }),
    },
  ],
};
