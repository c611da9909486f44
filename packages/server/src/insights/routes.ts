import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { authenticate, requireProjectPermission } from '../identity/access.js';
import { notFound } from '../platform/errors.js';
import type { HttpApp } from '../platform/http/server.js';
import { builtInSummary } from './analysis.js';
import { enqueue, getInsight, issueProject, loadContext } from './store.js';

const insightResponse = z.object({
  issueId: z.number(),
  status: z.enum(['pending', 'ready', 'failed']),
  kind: z.enum(['ai', 'builtin', 'text']),
  /** False for the built-in, data-only analysis: the UI labels it as not AI. */
  ai: z.boolean(),
  provider: z.string().nullable(),
  model: z.string().nullable(),
  content: z.record(z.string(), z.unknown()).nullable(),
  error: z.string().nullable(),
  requestedAt: z.string().nullable(),
  completedAt: z.string().nullable(),
});

export function registerInsightRoutes(app: HttpApp, ctx: AppContext): void {
  const params = z.object({ id: z.coerce.number().int().positive() });

  app.get(
    '/api/v1/issues/:id/insight',
    { schema: { tags: ['insights'], params, response: { 200: insightResponse } } },
    async (req) => {
      const principal = await authenticate(ctx, req.headers.authorization);
      const projectId = await issueProject(ctx.db, req.params.id);
      if (!projectId) throw notFound('issue');
      await requireProjectPermission(ctx, principal, projectId, 'read');
      const row = await getInsight(ctx.db, req.params.id);
      if (row)
        return {
          issueId: req.params.id,
          status: row.status,
          kind: row.kind,
          ai: row.kind !== 'builtin',
          provider: row.provider,
          model: row.model,
          content: row.content,
          error: row.error,
          requestedAt: row.requested_at.toISOString(),
          completedAt: row.completed_at?.toISOString() ?? null,
        };
      // No job (e.g. a warning-level issue): the data-only summary, computed now.
      const context = await loadContext(ctx.db, req.params.id);
      if (!context) throw notFound('issue');
      return {
        issueId: req.params.id,
        status: 'ready' as const,
        kind: 'builtin' as const,
        ai: false,
        provider: null,
        model: null,
        content: { builtin: builtInSummary(context) },
        error: null,
        requestedAt: null,
        completedAt: null,
      };
    },
  );

  app.post(
    '/api/v1/issues/:id/insight',
    {
      schema: {
        tags: ['insights'],
        params,
        response: { 202: z.object({ status: z.literal('pending'), queued: z.boolean() }) },
      },
    },
    async (req, reply) => {
      const principal = await authenticate(ctx, req.headers.authorization);
      const projectId = await issueProject(ctx.db, req.params.id);
      if (!projectId) throw notFound('issue');
      await requireProjectPermission(ctx, principal, projectId, 'resolve');
      const queued = await enqueue(ctx.db, {
        issueId: req.params.id,
        projectId,
        reason: 'manual',
        updateId: `manual-${randomUUID()}`,
        // Asked for by a person: re-run whatever the last analysis covered.
        issueCount: Number.MAX_SAFE_INTEGER,
      });
      return reply.code(202).send({ status: 'pending' as const, queued });
    },
  );
}
