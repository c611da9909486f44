import type { Domain } from '../domain.js';
import { registerIngestApiRoutes, registerIngestRoutes } from './routes.js';
import { ingestServiceFor } from './service.js';

/**
 * Ingest: Sentry envelope/store endpoints and Beacon's native events API (role `ingest`), the
 * per-project ingest stats and attachment APIs (role `api`), and a background part that flushes counters, expires old attachments
 * and drains the group-commit batcher on shutdown.
 */
export const ingestDomain: Domain = {
  name: 'ingest',
  routes: [
    { role: 'ingest', register: registerIngestRoutes },
    { role: 'api', register: registerIngestApiRoutes },
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
