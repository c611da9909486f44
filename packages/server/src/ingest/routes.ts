import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { authenticate, requireProjectPermission } from '../identity/access.js';
import { notFound } from '../platform/errors.js';
import type { HttpApp } from '../platform/http/server.js';
import { sentryKeyFromRequest } from './auth.js';
import { ingestServiceFor } from './service.js';
import { listAttachments, readAttachment } from './store.js';

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

    // The two Sentry endpoints differ only in how the service reads the body.
    for (const [kind, summary] of [
      ['envelope', 'Sentry envelope endpoint (any Sentry SDK)'],
      ['store', 'Sentry store endpoint (legacy SDKs)'],
    ] as const)
      scope.post(
        `/api/:projectId/${kind}/`,
        { schema: { tags: ['ingest'], summary, params: projectParams, response: { 200: idResponse } } },
        async (req) => {
          const key = sentryKeyFromRequest(req.headers, req.query as Record<string, unknown>);
          return svc[kind](req.params.projectId, key, raw(req.body, req.headers['content-encoding']));
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

export async function registerIngestApiRoutes(app: HttpApp, ctx: AppContext): Promise<void> {
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

  const attachmentParams = z.object({
    id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    eventId: z.string().regex(/^[0-9a-fA-F]{32}$/, { message: 'must be 32 hex characters' }),
  });
  app.get(
    '/api/v1/projects/:id/events/:eventId/attachments',
    {
      schema: {
        tags: ['ingest'],
        summary: 'Attachments stored with an event',
        params: attachmentParams,
        response: {
          200: z.array(
            z.object({
              id: z.string(),
              filename: z.string(),
              contentType: z.string().nullable(),
              attachmentType: z.string().nullable(),
              size: z.number(),
            }),
          ),
        },
      },
    },
    async (req) => {
      const principal = await authenticate(ctx, req.headers.authorization);
      await requireProjectPermission(ctx, principal, req.params.id, 'read');
      return listAttachments(ctx.db, req.params.id, req.params.eventId.toLowerCase());
    },
  );
  app.get(
    '/api/v1/projects/:id/events/:eventId/attachments/:attachmentId',
    {
      schema: {
        tags: ['ingest'],
        summary: 'Download one attachment (always as a download, never rendered inline)',
        params: attachmentParams.extend({ attachmentId: z.string().regex(/^[0-9a-f]{32}$/) }),
      },
    },
    async (req, reply) => {
      const principal = await authenticate(ctx, req.headers.authorization);
      await requireProjectPermission(ctx, principal, req.params.id, 'read');
      const a = await readAttachment(
        ctx.db,
        req.params.id,
        req.params.eventId.toLowerCase(),
        req.params.attachmentId,
      );
      if (!a) throw notFound('attachment');
      // Uploaded content is untrusted: never let a browser render it on Beacon's origin.
      const type =
        a.contentType && SAFE_TYPES.test(a.contentType) ? a.contentType : 'application/octet-stream';
      reply.header('content-type', type);
      reply.header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(a.filename)}`);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('content-security-policy', "sandbox; default-src 'none'");
      return reply.send(a.data);
    },
  );
}

const SAFE_TYPES = /^(image\/(png|jpeg|gif|webp)|text\/plain|application\/json)(;.*)?$/i;
