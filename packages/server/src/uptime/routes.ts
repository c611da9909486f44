import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { authenticate, type Principal } from '../identity/access.js';
import type { HttpApp } from '../platform/http/server.js';
import * as svc from './service.js';

const id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const params = z.object({ id });
const bearer = [{ bearer: [] }];
/** Text stored in PostgreSQL, which cannot hold NUL (it would fail the insert with a 500). */
const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((v) => !v.includes('\0'), 'must not contain NUL characters');
const name = text(200).trim().min(1);
const httpUrl = text(2048)
  .trim()
  .refine((v) => {
    try {
      return ['http:', 'https:'].includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, 'must be an http(s) URL');
/** Year 9999, the last instant both JavaScript dates and PostgreSQL timestamps agree on. */
const MAX_TIME = 253_402_300_799_999;
/** A time as ISO 8601 or milliseconds since the epoch (1970 to 9999). */
const time = z.union([z.number(), z.string()]).transform((v, c) => {
  const t = typeof v === 'number' || /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(t) || t < 0 || t > MAX_TIME) {
    c.addIssue({ code: 'custom', message: 'must be an ISO 8601 time or epoch milliseconds (1970 to 9999)' });
    return z.NEVER;
  }
  return Math.trunc(t);
});
/** RFC 9110 token: what undici accepts as a header name. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Headers undici sets itself and refuses from the caller, or that would break the request framing. */
const RESERVED_HEADERS = new Set([
  'connection',
  'content-length',
  'expect',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
]);
const headers = z
  .record(
    z
      .string()
      .max(256)
      .regex(HEADER_NAME, 'header names are HTTP tokens (letters, digits, -)')
      .refine((h) => !RESERVED_HEADERS.has(h.toLowerCase()), 'this header is set by the checker'),
    // Tab and visible characters only: CR/LF would split the request, NUL cannot be stored.
    z
      .string()
      .max(8192)
      .regex(/^[\t\x20-\x7e\x80-\xff]*$/, 'header values are Latin-1 text without control characters'),
  )
  .refine((h) => Object.keys(h).length <= 50, 'at most 50 headers');

const serviceOut = z.object({
  id: z.number(),
  orgId: z.number(),
  projectId: z.number().nullable(),
  name: z.string(),
  description: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const methods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
const status = z.number().int().min(100).max(599);
const endpointFields = {
  name,
  url: httpUrl,
  method: z
    .string()
    .transform((m) => m.toUpperCase())
    .pipe(z.enum(methods)),
  headers,
  body: text(65_536).nullable(),
  interval: z.number().int().min(10, 'interval is in seconds, 10 at least').max(86_400),
  timeout: z.number().int().min(100, 'timeout is in milliseconds, 100 at least').max(120_000),
  expectedStatus: z
    .union([status, z.array(status).min(1).max(50)])
    .nullable()
    .transform((v) => (v == null ? null : Array.isArray(v) ? v : [v])),
  keyword: text(1000).min(1).nullable(),
  degradedAfterMs: z.number().int().min(1).max(120_000).nullable(),
  failureThreshold: z.number().int().min(1).max(100),
  recoveryThreshold: z.number().int().min(1).max(100),
  enabled: z.boolean(),
};
const endpointCreate = z.object({
  serviceId: id,
  name: endpointFields.name,
  url: endpointFields.url,
  method: endpointFields.method.default('GET'),
  headers: endpointFields.headers.default({}),
  body: endpointFields.body.default(null),
  interval: endpointFields.interval,
  timeout: endpointFields.timeout.default(10_000),
  expectedStatus: endpointFields.expectedStatus.default(null),
  keyword: endpointFields.keyword.default(null),
  degradedAfterMs: endpointFields.degradedAfterMs.default(null),
  failureThreshold: endpointFields.failureThreshold.default(3),
  recoveryThreshold: endpointFields.recoveryThreshold.default(2),
  enabled: endpointFields.enabled.default(true),
});
const endpointPatch = z.object(endpointFields).partial();
const endpointOut = z.object({
  id: z.number(),
  serviceId: z.number(),
  name: z.string(),
  url: z.string(),
  method: z.string(),
  headers: z.record(z.string(), z.string()),
  body: z.string().nullable(),
  interval: z.number(),
  timeout: z.number(),
  expectedStatus: z.array(z.number()).nullable(),
  keyword: z.string().nullable(),
  degradedAfterMs: z.number().nullable(),
  failureThreshold: z.number(),
  recoveryThreshold: z.number(),
  enabled: z.boolean(),
  status: z.enum(['up', 'degraded', 'down', 'unknown', 'paused']),
  lastCheckedAt: z.string().nullable(),
  lastLatencyMs: z.number().nullable(),
  openIncidentId: z.number().nullable(),
  nextDueAt: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const endpointView = (e: Awaited<ReturnType<typeof svc.getEndpoint>>) => ({ ...e, status: svc.healthOf(e) });

const pingOut = z.object({
  id: z.number(),
  endpointId: z.number(),
  slotAt: z.string(),
  checkedAt: z.string(),
  ok: z.boolean(),
  status: z.string(),
  statusCode: z.number().nullable(),
  errorKind: z.string().nullable(),
  error: z.string().nullable(),
  latencyMs: z.number().nullable(),
  dnsMs: z.number().nullable(),
  connectMs: z.number().nullable(),
  tlsMs: z.number().nullable(),
  ttfbMs: z.number().nullable(),
  certExpiresAt: z.string().nullable(),
  incidentId: z.number().nullable(),
});
const windowOut = z.object({
  endpointId: z.number(),
  windowStart: z.string(),
  checks: z.number(),
  failures: z.number(),
  degraded: z.number(),
  availability: z.number(),
  latencyMin: z.number().nullable(),
  latencyAvg: z.number().nullable(),
  latencyP50: z.number().nullable(),
  latencyP95: z.number().nullable(),
  latencyP99: z.number().nullable(),
});
const incidentOut = z.object({
  id: z.number(),
  endpointId: z.number(),
  serviceId: z.number(),
  status: z.enum(['open', 'resolved']),
  cause: z.string(),
  errorKind: z.string().nullable(),
  startedAt: z.string(),
  openedAt: z.string(),
  resolvedAt: z.string().nullable(),
  resolvedBy: z.string().nullable(),
});
const statusOut = z.object({
  service: z.object({ id: z.number(), name: z.string(), projectId: z.number().nullable() }),
  status: z.enum(['up', 'degraded', 'down', 'unknown', 'paused']),
  openIncidents: z.number(),
  availability24h: z.number().nullable(),
  endpoints: z.array(
    z.object({
      id: z.number(),
      name: z.string(),
      url: z.string(),
      status: z.enum(['up', 'degraded', 'down', 'unknown', 'paused']),
      enabled: z.boolean(),
      maintenance: z.boolean(),
      lastCheckedAt: z.string().nullable(),
      lastLatencyMs: z.number().nullable(),
      availability24h: z.number().nullable(),
      checks24h: z.number(),
      incident: z.object({ id: z.number(), startedAt: z.string(), cause: z.string() }).nullable(),
    }),
  ),
});
const maintenanceOut = z.object({
  id: z.number(),
  serviceId: z.number().nullable(),
  endpointId: z.number().nullable(),
  title: z.string(),
  startsAt: z.string(),
  endsAt: z.string(),
  createdAt: z.string(),
});
const webhookEvents = z.array(z.enum(['incident_start', 'incident_resolved'])).min(1);
const webhookOut = z.object({
  id: z.number(),
  serviceId: z.number(),
  url: z.string(),
  events: z.array(z.string()),
  hasSecret: z.boolean(),
  createdAt: z.string(),
});
const deleted = z.null();

export function registerUptimeRoutes(app: HttpApp, ctx: AppContext): void {
  const principal = (req: FastifyRequest): Promise<Principal> => authenticate(ctx, req.headers.authorization);

  /* -------------------------------- services ------------------------------- */
  app.post(
    '/api/v1/services',
    {
      schema: {
        tags: ['uptime'],
        summary: 'Create a monitored service (in orgId, or your first organization)',
        security: bearer,
        body: z.object({
          name,
          description: text(2000).nullable().optional(),
          projectId: id.nullable().optional(),
          orgId: id.optional(),
        }),
        response: { 201: serviceOut },
      },
    },
    async (req, reply) => reply.code(201).send(await svc.createService(ctx, await principal(req), req.body)),
  );
  app.get(
    '/api/v1/services',
    {
      schema: {
        tags: ['uptime'],
        security: bearer,
        querystring: z.object({ orgId: id.optional() }),
        response: { 200: z.array(serviceOut) },
      },
    },
    async (req) => svc.listServices(ctx, await principal(req), req.query.orgId),
  );
  app.get(
    '/api/v1/services/:id',
    { schema: { tags: ['uptime'], security: bearer, params, response: { 200: serviceOut } } },
    async (req) => svc.getService(ctx, await principal(req), req.params.id),
  );
  const servicePatch = {
    schema: {
      tags: ['uptime'],
      security: bearer,
      params,
      body: z.object({
        name: name.optional(),
        description: text(2000).nullable().optional(),
        projectId: id.nullable().optional(),
      }),
      response: { 200: serviceOut },
    },
  };
  for (const method of ['PATCH', 'PUT'] as const)
    app.route({
      method,
      url: '/api/v1/services/:id',
      ...servicePatch,
      handler: async (req) => svc.updateService(ctx, await principal(req), req.params.id, req.body),
    });
  app.delete(
    '/api/v1/services/:id',
    { schema: { tags: ['uptime'], security: bearer, params, response: { 204: deleted } } },
    async (req, reply) => {
      await svc.deleteService(ctx, await principal(req), req.params.id);
      return reply.code(204).send(null);
    },
  );
  app.get(
    '/api/v1/services/:id/status',
    {
      schema: {
        tags: ['uptime'],
        summary: "The service's endpoints: up/down/degraded, current incident, 24 h availability",
        security: bearer,
        params,
        response: { 200: statusOut },
      },
    },
    async (req) => svc.serviceStatus(ctx, await principal(req), req.params.id),
  );

  /* -------------------------------- endpoints ------------------------------ */
  app.post(
    '/api/v1/endpoints',
    {
      schema: {
        tags: ['uptime'],
        summary: 'Check a URL every `interval` seconds (timeout and degradedAfterMs in milliseconds)',
        security: bearer,
        body: endpointCreate,
        response: { 201: endpointOut },
      },
    },
    async (req, reply) =>
      reply.code(201).send(endpointView(await svc.createEndpoint(ctx, await principal(req), req.body))),
  );
  app.get(
    '/api/v1/endpoints',
    {
      schema: {
        tags: ['uptime'],
        security: bearer,
        querystring: z.object({ serviceId: id.optional() }),
        response: { 200: z.array(endpointOut) },
      },
    },
    async (req) =>
      (await svc.listEndpoints(ctx, await principal(req), req.query.serviceId)).map(endpointView),
  );
  app.get(
    '/api/v1/endpoints/:id',
    { schema: { tags: ['uptime'], security: bearer, params, response: { 200: endpointOut } } },
    async (req) => endpointView(await svc.getEndpoint(ctx, await principal(req), req.params.id)),
  );
  for (const method of ['PATCH', 'PUT'] as const)
    app.route({
      method,
      url: '/api/v1/endpoints/:id',
      schema: {
        tags: ['uptime'],
        security: bearer,
        params,
        body: endpointPatch,
        response: { 200: endpointOut },
      },
      handler: async (req) =>
        endpointView(await svc.updateEndpoint(ctx, await principal(req), req.params.id, req.body)),
    });
  app.delete(
    '/api/v1/endpoints/:id',
    { schema: { tags: ['uptime'], security: bearer, params, response: { 204: deleted } } },
    async (req, reply) => {
      await svc.deleteEndpoint(ctx, await principal(req), req.params.id);
      return reply.code(204).send(null);
    },
  );
  app.get(
    '/api/v1/endpoints/:id/pings',
    {
      schema: {
        tags: ['uptime'],
        summary: "The endpoint's checks, newest first",
        security: bearer,
        params,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
        response: { 200: z.array(pingOut) },
      },
    },
    async (req) => svc.listPings(ctx, await principal(req), req.params.id, req.query.limit),
  );
  app.get(
    '/api/v1/endpoints/:id/windows',
    {
      schema: {
        tags: ['uptime'],
        summary: '5-minute windows in [from, to) (default: the last 24 hours)',
        security: bearer,
        params,
        querystring: z.object({ from: time.optional(), to: time.optional() }),
        response: { 200: z.array(windowOut) },
      },
    },
    async (req) => {
      const to = req.query.to ?? Date.now();
      const from = req.query.from ?? to - 86_400_000;
      return svc.listWindows(ctx, await principal(req), req.params.id, from, to);
    },
  );

  /* -------------------------------- incidents ------------------------------ */
  app.get(
    '/api/v1/incidents',
    {
      schema: {
        tags: ['uptime'],
        security: bearer,
        querystring: z.object({
          status: z.enum(['open', 'resolved']).optional(),
          serviceId: id.optional(),
          endpointId: id.optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
        response: { 200: z.array(incidentOut) },
      },
    },
    async (req) => svc.listIncidents(ctx, await principal(req), req.query),
  );
  app.get(
    '/api/v1/incidents/:id',
    {
      schema: {
        tags: ['uptime'],
        summary: 'An incident with its failing pings',
        security: bearer,
        params,
        response: { 200: incidentOut.extend({ pings: z.array(pingOut) }) },
      },
    },
    async (req) => svc.getIncident(ctx, await principal(req), req.params.id),
  );
  app.post(
    '/api/v1/incidents/:id/resolve',
    { schema: { tags: ['uptime'], security: bearer, params, response: { 200: incidentOut } } },
    async (req) => svc.resolveIncident(ctx, await principal(req), req.params.id),
  );

  /* ------------------------------- maintenance ----------------------------- */
  app.post(
    '/api/v1/maintenance',
    {
      schema: {
        tags: ['uptime'],
        summary: 'A maintenance window for a service or an endpoint: checks run, incidents are suppressed',
        security: bearer,
        body: z.object({
          serviceId: id.optional(),
          endpointId: id.optional(),
          title: text(500).optional(),
          startsAt: time,
          endsAt: time,
        }),
        response: { 201: maintenanceOut },
      },
    },
    async (req, reply) =>
      reply.code(201).send(await svc.createMaintenance(ctx, await principal(req), req.body)),
  );
  app.get(
    '/api/v1/maintenance',
    {
      schema: {
        tags: ['uptime'],
        security: bearer,
        querystring: z.object({ serviceId: id.optional() }),
        response: { 200: z.array(maintenanceOut) },
      },
    },
    async (req) => svc.listMaintenance(ctx, await principal(req), req.query.serviceId),
  );
  app.get(
    '/api/v1/maintenance/:id',
    { schema: { tags: ['uptime'], security: bearer, params, response: { 200: maintenanceOut } } },
    async (req) => svc.getMaintenance(ctx, await principal(req), req.params.id),
  );
  app.delete(
    '/api/v1/maintenance/:id',
    { schema: { tags: ['uptime'], security: bearer, params, response: { 204: deleted } } },
    async (req, reply) => {
      await svc.deleteMaintenance(ctx, await principal(req), req.params.id);
      return reply.code(204).send(null);
    },
  );

  /* --------------------------------- webhooks ------------------------------ */
  app.post(
    '/api/v1/webhooks',
    {
      schema: {
        tags: ['uptime'],
        summary:
          "Announce a service's incidents to a URL (delivered, signed and retried by the alerts worker)",
        security: bearer,
        body: z.object({
          serviceId: id,
          url: httpUrl,
          events: webhookEvents.default(['incident_start', 'incident_resolved']),
          secret: text(500).min(1).nullable().optional(),
        }),
        response: { 201: webhookOut },
      },
    },
    async (req, reply) => reply.code(201).send(await svc.createWebhook(ctx, await principal(req), req.body)),
  );
  app.get(
    '/api/v1/webhooks',
    {
      schema: {
        tags: ['uptime'],
        security: bearer,
        querystring: z.object({ serviceId: id.optional() }),
        response: { 200: z.array(webhookOut) },
      },
    },
    async (req) => svc.listWebhooks(ctx, await principal(req), req.query.serviceId),
  );
  app.get(
    '/api/v1/webhooks/:id',
    { schema: { tags: ['uptime'], security: bearer, params, response: { 200: webhookOut } } },
    async (req) => svc.getWebhook(ctx, await principal(req), req.params.id),
  );
  for (const method of ['PATCH', 'PUT'] as const)
    app.route({
      method,
      url: '/api/v1/webhooks/:id',
      schema: {
        tags: ['uptime'],
        security: bearer,
        params,
        body: z.object({
          url: httpUrl.optional(),
          events: webhookEvents.optional(),
          secret: text(500).min(1).nullable().optional(),
        }),
        response: { 200: webhookOut },
      },
      handler: async (req) => svc.updateWebhook(ctx, await principal(req), req.params.id, req.body),
    });
  app.delete(
    '/api/v1/webhooks/:id',
    { schema: { tags: ['uptime'], security: bearer, params, response: { 204: deleted } } },
    async (req, reply) => {
      await svc.deleteWebhook(ctx, await principal(req), req.params.id);
      return reply.code(204).send(null);
    },
  );
}
