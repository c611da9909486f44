import { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { levels } from '../events/schema.js';
import { authenticate, type Principal } from '../identity/access.js';
import type { HttpApp } from '../platform/http/server.js';
import * as service from './service.js';

const id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const bearer = [{ bearer: [] }];
const status = z.enum(['unresolved', 'resolved', 'ignored']);
/** Query text: PostgreSQL text cannot hold NUL (a 500 otherwise), and nothing stored contains one. */
const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters');

const issueOut = z.object({
  id: z.number(),
  projectId: z.number(),
  title: z.string(),
  culprit: z.string().nullable(),
  level: z.string(),
  platform: z.string(),
  status,
  count: z.number(),
  userCount: z.number(),
  firstSeen: z.string(),
  lastSeen: z.string(),
  firstRelease: z.string().nullable(),
  lastRelease: z.string().nullable(),
  assigneeId: z.number().nullable(),
  resolvedAt: z.string().nullable(),
  resolveInNextRelease: z.boolean(),
  resolvedRelease: z.string().nullable(),
  ignoreUntil: z.string().nullable(),
  ignoreCount: z.number().nullable(),
  lastEventId: z.string().nullable(),
});
const listItemOut = issueOut.extend({
  sparkline: z.array(z.number()).describe('events per hour, last 24 hours, oldest first'),
});
const detailOut = issueOut.extend({
  fingerprint: z.string(),
  grouping: z.object({
    method: z.string(),
    components: z.array(z.string()),
    defaultComponents: z.array(z.string()).optional(),
    rule: z.string().optional(),
  }),
  tags: z.array(
    z.object({
      key: z.string(),
      totalCount: z.number(),
      uniqueValues: z.number(),
      topValues: z.array(
        z.object({ value: z.string(), count: z.number(), firstSeen: z.string(), lastSeen: z.string() }),
      ),
    }),
  ),
  hourly: z.array(z.object({ hour: z.string(), count: z.number() })),
});
const eventOut = z.object({
  eventId: z.string(),
  projectId: z.number(),
  issueId: z.number(),
  receivedAt: z.string(),
  timestamp: z.string(),
  level: z.string(),
  title: z.string(),
  release: z.string().nullable(),
  environment: z.string().nullable(),
  payload: z.record(z.string(), z.unknown()).optional(),
});
const eventDetailOut = eventOut.extend({
  payload: z.record(z.string(), z.unknown()),
  previousEventId: z.string().nullable(),
  nextEventId: z.string().nullable(),
});
const ignore = z
  .object({
    count: z.number().int().positive().max(1e12).optional().describe('un-ignore after this many more events'),
    until: z.iso.datetime({ offset: true }).optional().describe('un-ignore at this time'),
    minutes: z
      .number()
      .int()
      .positive()
      .max(525_600 * 10)
      .optional()
      .describe('un-ignore after this many minutes'),
  })
  .strict();
const statusBody = z
  .object({
    status: status.optional(),
    resolveInNextRelease: z.boolean().optional(),
    ignore: ignore.optional(),
  })
  .strict();

export function registerIssueRoutes(app: HttpApp, ctx: AppContext): void {
  const principal = (req: FastifyRequest): Promise<Principal> => authenticate(ctx, req.headers.authorization);

  app.get(
    '/api/v1/projects/:id/issues',
    {
      schema: {
        tags: ['issues'],
        summary: 'List issues of a project',
        description:
          'Filters combine with AND. `query` accepts free text over title and culprit plus `is:resolved`, `level:error`, `assigned:me` and `key:value` tag tokens.',
        security: bearer,
        params: z.object({ id }),
        querystring: z.object({
          status: text(100)
            .optional()
            .describe('unresolved (default), resolved, ignored, all, or a comma list'),
          level: text(100)
            .optional()
            .describe(`comma list of ${levels.join(', ')}`),
          environment: text(200).optional(),
          release: text(200).optional(),
          tag: z
            .union([text(500), z.array(text(500)).max(20)])
            .optional()
            .transform((v) => (v === undefined ? undefined : Array.isArray(v) ? v : [v]))
            .describe('key:value, repeatable'),
          query: text(500).optional(),
          assignee: text(50).optional().describe('user id, me, none or any'),
          sort: z.enum(['lastSeen', 'firstSeen', 'count', 'users']).optional(),
          cursor: text(500).optional(),
          limit: z.coerce.number().int().min(1).max(100).optional(),
        }),
        response: { 200: z.object({ items: z.array(listItemOut), nextCursor: z.string().nullable() }) },
      },
    },
    async (req) => service.listIssues(ctx, await principal(req), req.params.id, req.query),
  );

  app.post(
    '/api/v1/projects/:id/issues/bulk',
    {
      schema: {
        tags: ['issues'],
        summary: 'Change the status of several issues of a project',
        security: bearer,
        params: z.object({ id }),
        body: statusBody.extend({ ids: z.array(z.number().int().positive()).min(1).max(1000) }).strict(),
        response: { 200: z.object({ updated: z.number(), ids: z.array(z.number()) }) },
      },
    },
    async (req) => {
      const { ids, ...patch } = req.body;
      return service.bulkUpdate(ctx, await principal(req), req.params.id, ids, patch);
    },
  );

  app.get(
    '/api/v1/issues/:id',
    {
      schema: {
        tags: ['issues'],
        summary: 'An issue with its grouping components, tag breakdown and hourly series',
        security: bearer,
        params: z.object({ id }),
        querystring: z.object({
          hours: z.coerce
            .number()
            .int()
            .min(1)
            .max(24 * 90)
            .optional(),
        }),
        response: { 200: detailOut },
      },
    },
    async (req) => service.getIssue(ctx, await principal(req), req.params.id, req.query.hours),
  );

  app.get(
    '/api/v1/issues/:id/events',
    {
      schema: {
        tags: ['issues'],
        summary: 'Events of an issue, newest first',
        security: bearer,
        params: z.object({ id }),
        querystring: z.object({
          cursor: z.string().max(500).optional(),
          limit: z.coerce.number().int().min(1).max(100).optional(),
          full: z
            .enum(['true', 'false', '1', '0'])
            .optional()
            .transform((v) => v === 'true' || v === '1'),
        }),
        response: { 200: z.object({ items: z.array(eventOut), nextCursor: z.string().nullable() }) },
      },
    },
    async (req) => service.listIssueEvents(ctx, await principal(req), req.params.id, req.query),
  );

  for (const format of ['jsonl', 'csv'] as const) {
    app.get(
      `/api/v1/issues/:id/events.${format}`,
      {
        schema: {
          tags: ['issues'],
          summary: `Export the events of an issue as ${format === 'jsonl' ? 'JSON Lines (one event payload per line)' : 'CSV'}`,
          security: bearer,
          params: z.object({ id }),
        },
      },
      async (req, reply) => {
        const rows = await service.exportEvents(ctx, await principal(req), req.params.id, format);
        reply
          .type(format === 'jsonl' ? 'application/x-ndjson; charset=utf-8' : 'text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="issue-${req.params.id}-events.${format}"`);
        return reply.send(Readable.from(rows));
      },
    );
  }

  app.get(
    '/api/v1/events/:eventId',
    {
      schema: {
        tags: ['issues'],
        summary: 'One event with its full payload (searches every accessible project without projectId)',
        security: bearer,
        params: z.object({ eventId: z.string().max(64) }),
        querystring: z.object({ projectId: id.optional() }),
        response: { 200: eventDetailOut },
      },
    },
    async (req) => service.getEvent(ctx, await principal(req), req.params.eventId, req.query.projectId),
  );

  app.patch(
    '/api/v1/issues/:id/resolve',
    {
      schema: {
        tags: ['issues'],
        summary: 'Resolve an issue (optionally in the next release)',
        security: bearer,
        params: z.object({ id }),
        body: z.object({ inNextRelease: z.boolean().optional() }).strict().nullish(),
        response: { 200: issueOut },
      },
    },
    async (req) =>
      service.updateIssue(ctx, await principal(req), req.params.id, {
        status: 'resolved',
        resolveInNextRelease: req.body?.inNextRelease ?? false,
      }),
  );

  app.patch(
    '/api/v1/issues/:id',
    {
      schema: {
        tags: ['issues'],
        summary: 'Change status, assignee or ignore rules of an issue',
        security: bearer,
        params: z.object({ id }),
        body: statusBody.extend({ assigneeId: z.number().int().positive().nullable().optional() }).strict(),
        response: { 200: issueOut },
      },
    },
    async (req) => service.updateIssue(ctx, await principal(req), req.params.id, req.body),
  );

  app.post(
    '/api/v1/issues/:id/merge',
    {
      schema: {
        tags: ['issues'],
        summary: 'Merge other issues of the same project into this one',
        security: bearer,
        params: z.object({ id }),
        body: z.object({ otherIssueIds: z.array(z.number().int().positive()).min(1).max(100) }).strict(),
        response: { 200: z.object({ merged: z.array(z.number()), issue: issueOut }) },
      },
    },
    async (req) => service.mergeIssues(ctx, await principal(req), req.params.id, req.body.otherIssueIds),
  );

  app.delete(
    '/api/v1/issues/:id',
    {
      schema: {
        tags: ['issues'],
        summary: 'Delete an issue and its events (new events of the same kind open a new issue)',
        security: bearer,
        params: z.object({ id }),
      },
    },
    async (req, reply) => {
      await service.deleteIssue(ctx, await principal(req), req.params.id);
      return reply.code(204).send();
    },
  );
}
