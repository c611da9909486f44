import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { authenticate, requireProjectPermission } from '../identity/access.js';
import type { HttpApp } from '../platform/http/server.js';
import { sentryKeyFromRequest } from './auth.js';
import { ingestServiceFor } from './service.js';

/**
 * HTTP face of ingest. The Sentry and native routes live in one encapsulated plugin that drops
 * Fastify's content-type parsers for a catch-all buffer parser: `@sentry/node` sends no
 * Content-Type at all, browsers send text/plain, and bodies may be gzip/deflate/br — the service
 * decodes them itself, within limits. CORS is answered here by hand so browser SDKs work
 * cross-origin (preflight and the simple `?sentry_key=` form).
 */
const EXPOSE = 'x-sentry-error, x-sentry-rate-limits, retry-after, x-request-id';
const ALLOW_HEADERS =
  'x-sentry-auth, x-api-key, x-requested-with, content-type, content-encoding, authorization, accept, origin, sentry-trace, baggage';

const projectParams = z.object({
  projectId: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER),
});
const idResponse = z.object({ id: z.string().nullable() });

const header = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

export async function registerIngestRoutes(app: HttpApp, ctx: AppContext): Promise<void> {
  const svc = ingestServiceFor(ctx);
  await app.register(async (plain) => {
    const scope = plain.withTypeProvider<ZodTypeProvider>();
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    scope.addHook('onRequest', async (req, reply) => {
      reply.header('access-control-allow-origin', header(req.headers.origin) ?? '*');
      reply.header('vary', 'Origin');
      reply.header('access-control-expose-headers', EXPOSE);
    });
    const preflight = async (
      req: { headers: Record<string, string | string[] | undefined> },
      reply: { code(n: number): { send(): unknown }; header(k: string, v: string): unknown },
    ) => {
      reply.header('access-control-allow-methods', 'POST, OPTIONS');
      reply.header(
        'access-control-allow-headers',
        header(req.headers['access-control-request-headers']) ?? ALLOW_HEADERS,
      );
      reply.header('access-control-max-age', '86400');
      return reply.code(204).send();
    };
    const raw = (body: unknown, encoding: string | string[] | undefined) => ({
      body: Buffer.isBuffer(body) ? body : Buffer.alloc(0),
      contentEncoding: header(encoding),
    });

    for (const path of ['/api/:projectId/envelope/', '/api/:projectId/store/', '/api/v1/events'])
      scope.options(path, { schema: { hide: true } }, preflight);

    scope.post(
      '/api/:projectId/envelope/',
      {
        schema: {
          tags: ['ingest'],
          summary: 'Sentry envelope endpoint (any Sentry SDK)',
          params: projectParams,
          response: { 200: idResponse },
        },
      },
      async (req) => {
        const key = sentryKeyFromRequest(req.headers, req.query as Record<string, unknown>);
        return svc.envelope(req.params.projectId, key, raw(req.body, req.headers['content-encoding']));
      },
    );

    scope.post(
      '/api/:projectId/store/',
      {
        schema: {
          tags: ['ingest'],
          summary: 'Sentry store endpoint (legacy SDKs)',
          params: projectParams,
          response: { 200: idResponse },
        },
      },
      async (req) => {
        const key = sentryKeyFromRequest(req.headers, req.query as Record<string, unknown>);
        return svc.store(req.params.projectId, key, raw(req.body, req.headers['content-encoding']));
      },
    );

    scope.post(
      '/api/v1/events',
      {
        schema: {
          tags: ['ingest'],
          summary: "Beacon's native events API: one event, or an array of events",
          description:
            'Authenticate with `X-API-Key: <project secret or public key>`. Body: an event ' +
            '{message | exception, level, tags, user, release, environment, contexts, breadcrumbs, fingerprint, …} ' +
            'or an array of them. Answers {id} or {ids}.',
          response: { 200: z.union([z.object({ id: z.string() }), z.object({ ids: z.array(z.string()) })]) },
        },
      },
      async (req) =>
        svc.native(header(req.headers['x-api-key']), raw(req.body, req.headers['content-encoding'])),
    );
  });
}

const statsResponse = z.object({
  projectId: z.number(),
  totals: z.object({
    accepted: z.number(),
    rateLimited: z.number(),
    invalid: z.number(),
    dropped: z.number(),
  }),
  reasons: z.array(z.object({ outcome: z.string(), reason: z.string(), count: z.number() })),
  hourly: z.array(
    z.object({
      hour: z.string(),
      accepted: z.number(),
      rateLimited: z.number(),
      invalid: z.number(),
      dropped: z.number(),
    }),
  ),
});

export async function registerIngestStatsRoutes(app: HttpApp, ctx: AppContext): Promise<void> {
  app.get(
    '/api/v1/projects/:id/ingest-stats',
    {
      schema: {
        tags: ['ingest'],
        summary: 'Ingest outcome counters of a project (totals, reasons, hourly series)',
        params: z.object({ id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) }),
        querystring: z.object({
          hours: z.coerce
            .number()
            .int()
            .min(1)
            .max(24 * 90)
            .default(24),
        }),
        response: { 200: statsResponse },
      },
    },
    async (req) => {
      const principal = await authenticate(ctx, req.headers.authorization);
      await requireProjectPermission(ctx, principal, req.params.id, 'read');
      return ingestServiceFor(ctx).stats.read(req.params.id, req.query.hours);
    },
  );
}
