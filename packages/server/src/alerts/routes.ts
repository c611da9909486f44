import { z } from 'zod';
import type { AppContext } from '../context.js';
import type { HttpApp } from '../platform/http/server.js';
import {
  alertOut,
  alertStates,
  deliveryDetailOut,
  deliveryOut,
  deliveryStates,
  ruleBodySchema,
  ruleOut,
  silenceBodySchema,
  silenceOut,
} from './schemas.js';
import { AlertsService } from './service.js';

const id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const projectParams = z.object({ id });
const idParams = z.object({ id });
const page = {
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: id.optional(),
};
const security = [{ bearer: [] }];

/** HTTP face of the alerts domain: validate, authenticate, call the service. */
export function registerAlertRoutes(app: HttpApp, ctx: AppContext): void {
  const svc = new AlertsService(ctx);
  const who = (req: { headers: { authorization?: string } }) => svc.authenticate(req.headers.authorization);

  // ---- rules ----
  app.post(
    '/api/v1/projects/:id/rules',
    {
      schema: {
        response: { 201: ruleOut },
        tags: ['alerts'],
        security,
        params: projectParams,
        body: ruleBodySchema,
      },
    },
    async (req, reply) => reply.code(201).send(await svc.createRule(await who(req), req.params.id, req.body)),
  );
  app.get(
    '/api/v1/projects/:id/rules',
    {
      schema: {
        response: { 200: z.object({ rules: z.array(ruleOut) }) },
        tags: ['alerts'],
        security,
        params: projectParams,
      },
    },
    async (req) => ({ rules: await svc.listRules(await who(req), req.params.id) }),
  );
  app.get(
    '/api/v1/rules/:id',
    { schema: { response: { 200: ruleOut }, tags: ['alerts'], security, params: idParams } },
    async (req) => svc.getRule(await who(req), req.params.id),
  );
  app.put(
    '/api/v1/rules/:id',
    {
      schema: {
        response: { 200: ruleOut },
        tags: ['alerts'],
        security,
        params: idParams,
        body: ruleBodySchema,
      },
    },
    async (req) => svc.updateRule(await who(req), req.params.id, req.body),
  );
  app.delete(
    '/api/v1/rules/:id',
    { schema: { tags: ['alerts'], security, params: idParams } },
    async (req, reply) => {
      await svc.deleteRule(await who(req), req.params.id);
      return reply.code(204).send();
    },
  );
  app.post(
    '/api/v1/rules/:id/test',
    {
      schema: {
        response: { 202: z.object({ deliveryIds: z.array(z.number()) }) },
        tags: ['alerts'],
        security,
        params: idParams,
      },
    },
    async (req, reply) => reply.code(202).send(await svc.testRule(await who(req), req.params.id)),
  );

  // ---- alerts ----
  app.get(
    '/api/v1/projects/:id/alerts',
    {
      schema: {
        response: { 200: z.object({ alerts: z.array(alertOut) }) },
        tags: ['alerts'],
        security,
        params: projectParams,
        querystring: z.object({
          /** `open`: firing or acknowledged (not yet resolved). */
          state: z.enum([...alertStates, 'open']).optional(),
          ruleId: id.optional(),
          issueId: id.optional(),
          ...page,
        }),
      },
    },
    async (req) => ({
      alerts: await svc.listAlerts(await who(req), req.params.id, {
        state: req.query.state,
        ruleId: req.query.ruleId,
        issueId: req.query.issueId,
        limit: req.query.limit,
        beforeId: req.query.before,
      }),
    }),
  );
  app.get(
    '/api/v1/alerts/:id',
    { schema: { response: { 200: alertOut }, tags: ['alerts'], security, params: idParams } },
    async (req) => svc.getAlert(await who(req), req.params.id),
  );
  app.post(
    '/api/v1/alerts/:id/acknowledge',
    { schema: { response: { 200: alertOut }, tags: ['alerts'], security, params: idParams } },
    async (req) => svc.setAlertState(await who(req), req.params.id, 'acknowledged'),
  );
  app.post(
    '/api/v1/alerts/:id/resolve',
    { schema: { response: { 200: alertOut }, tags: ['alerts'], security, params: idParams } },
    async (req) => svc.setAlertState(await who(req), req.params.id, 'resolved'),
  );

  // ---- silences ----
  app.post(
    '/api/v1/projects/:id/silences',
    {
      schema: {
        response: { 201: silenceOut },
        tags: ['alerts'],
        security,
        params: projectParams,
        body: silenceBodySchema,
      },
    },
    async (req, reply) =>
      reply.code(201).send(await svc.createSilence(await who(req), req.params.id, req.body)),
  );
  app.get(
    '/api/v1/projects/:id/silences',
    {
      schema: {
        response: { 200: z.object({ silences: z.array(silenceOut) }) },
        tags: ['alerts'],
        security,
        params: projectParams,
        querystring: z.object({ expired: z.enum(['true', 'false']).default('false') }),
      },
    },
    async (req) => ({
      silences: await svc.listSilences(await who(req), req.params.id, req.query.expired === 'true'),
    }),
  );
  app.delete(
    '/api/v1/projects/:id/silences/:silenceId',
    {
      schema: { tags: ['alerts'], security, params: z.object({ id, silenceId: id }) },
    },
    async (req, reply) => {
      await svc.deleteSilence(await who(req), req.params.id, req.params.silenceId);
      return reply.code(204).send();
    },
  );

  // ---- deliveries ----
  app.get(
    '/api/v1/projects/:id/deliveries',
    {
      schema: {
        response: { 200: z.object({ deliveries: z.array(deliveryOut) }) },
        tags: ['alerts'],
        security,
        params: projectParams,
        querystring: z.object({ state: z.enum(deliveryStates).optional(), alertId: id.optional(), ...page }),
      },
    },
    async (req) => ({
      deliveries: await svc.listDeliveries(await who(req), req.params.id, {
        state: req.query.state,
        alertId: req.query.alertId,
        limit: req.query.limit,
        beforeId: req.query.before,
      }),
    }),
  );
  app.get(
    '/api/v1/deliveries/:id',
    { schema: { response: { 200: deliveryDetailOut }, tags: ['alerts'], security, params: idParams } },
    async (req) => svc.getDelivery(await who(req), req.params.id),
  );
  app.post(
    '/api/v1/deliveries/:id/replay',
    { schema: { response: { 200: deliveryOut }, tags: ['alerts'], security, params: idParams } },
    async (req) => svc.replayDelivery(await who(req), req.params.id),
  );
}
