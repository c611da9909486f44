import type { AppContext } from '../context.js';
import {
  type Permission,
  type Principal,
  requireOrgPermission,
  requireProjectPermission,
  roleAllows,
} from '../identity/access.js';
import type { Queryable } from '../platform/db/db.js';
import { AppError, badRequest, conflict, forbidden, notFound } from '../platform/errors.js';
import { monitorEvent } from './recorder.js';
import { firstSlotAtOrAfter } from './schedule.js';
import * as store from './store.js';
import { aggregateWindows } from './windows.js';

/* The uptime control plane: services, endpoints, incidents, maintenance and webhooks, with access checks. */

async function orgAccess(
  ctx: AppContext,
  p: Principal,
  orgId: number,
  perm: Permission,
  what: string,
): Promise<void> {
  try {
    await requireOrgPermission(ctx, p, orgId, perm);
  } catch (err) {
    // Another tenant's object is indistinguishable from a missing one.
    if (err instanceof AppError && err.code === 'not_found') throw notFound(what);
    throw err;
  }
}

export async function requireService(
  ctx: AppContext,
  p: Principal,
  serviceId: number,
  perm: Permission,
  what = 'service',
): Promise<store.ServiceRow> {
  const s = await store.serviceById(ctx.db, serviceId);
  if (!s) throw notFound(what);
  await orgAccess(ctx, p, s.orgId, perm, what);
  return s;
}

async function requireEndpoint(
  ctx: AppContext,
  p: Principal,
  endpointId: number,
  perm: Permission,
): Promise<{ endpoint: store.EndpointRow; service: store.ServiceRow }> {
  const endpoint = await store.endpointById(ctx.db, endpointId);
  if (!endpoint) throw notFound('endpoint');
  const service = await requireService(ctx, p, endpoint.serviceId, perm, 'endpoint');
  return { endpoint, service };
}

/** Service ids the principal may read (every service of every organization they belong to). */
async function readableServiceIds(ctx: AppContext, p: Principal): Promise<number[]> {
  const orgs = await store.membershipsOf(ctx.db, p.userId);
  return store.serviceIdsOfOrgs(
    ctx.db,
    orgs.map((o) => o.orgId),
  );
}

/* --------------------------------- services -------------------------------- */

export interface ServiceInput {
  name: string;
  description?: string | null;
  projectId?: number | null;
  orgId?: number;
}

export async function createService(
  ctx: AppContext,
  p: Principal,
  input: ServiceInput,
): Promise<store.ServiceRow> {
  let orgId = input.orgId;
  if (input.projectId != null) {
    const project = await requireProjectPermission(ctx, p, input.projectId, 'write');
    if (orgId !== undefined && orgId !== project.orgId)
      throw badRequest('projectId belongs to another organization than orgId');
    orgId = project.orgId;
  }
  if (orgId === undefined) {
    const orgs = await store.membershipsOf(ctx.db, p.userId);
    const writable = orgs.find((o) => roleAllows(o.role as 'member', 'write'));
    if (!writable)
      throw forbidden(
        orgs.length ? 'your role does not allow creating services' : 'you belong to no organization',
      );
    orgId = writable.orgId;
  }
  await orgAccess(ctx, p, orgId, 'write', 'organization');
  return store.insertService(ctx.db, {
    orgId,
    projectId: input.projectId ?? null,
    name: input.name,
    description: input.description ?? null,
  });
}

export async function listServices(
  ctx: AppContext,
  p: Principal,
  orgId?: number,
): Promise<store.ServiceRow[]> {
  const orgs = (await store.membershipsOf(ctx.db, p.userId)).map((o) => o.orgId);
  return store.listServices(ctx.db, orgId !== undefined ? orgs.filter((o) => o === orgId) : orgs, []);
}

export const getService = (ctx: AppContext, p: Principal, id: number) => requireService(ctx, p, id, 'read');

export async function updateService(
  ctx: AppContext,
  p: Principal,
  id: number,
  patch: { name?: string; description?: string | null; projectId?: number | null },
): Promise<store.ServiceRow> {
  const s = await requireService(ctx, p, id, 'write');
  if (patch.projectId != null) {
    const project = await requireProjectPermission(ctx, p, patch.projectId, 'write');
    if (project.orgId !== s.orgId) throw badRequest('projectId belongs to another organization');
  }
  const updated = await store.updateService(ctx.db, id, patch);
  if (!updated) throw notFound('service');
  return updated;
}

/**
 * Resolve the open incidents of endpoints about to be deleted and announce it, in the deleting
 * transaction: otherwise the alerts for them would stay firing for ever (no check will ever
 * resolve them). Locks the endpoints in id order, as the recorder does.
 */
async function resolveBeforeDelete(
  q: Queryable,
  ctx: AppContext,
  service: store.ServiceRow,
  endpointIds: number[],
  by: string,
  now: number,
): Promise<void> {
  for (const id of [...endpointIds].sort((a, b) => a - b)) {
    const endpoint = await store.endpointById(q, id, true);
    if (endpoint?.openIncidentId == null) continue;
    const inc = await store.resolveIncident(q, endpoint.openIncidentId, new Date(now), by);
    if (!inc) continue;
    const event = monitorEvent('incident_resolved', now, service, endpoint, inc);
    await store.insertOutbox(q, ctx.topics.monitorEvents, String(endpoint.id), JSON.stringify(event));
  }
}

export async function deleteService(
  ctx: AppContext,
  p: Principal,
  id: number,
  now = Date.now(),
): Promise<void> {
  const service = await requireService(ctx, p, id, 'write');
  await ctx.db.tx(async (q) => {
    const endpoints = await store.listEndpoints(q, [id]);
    await resolveBeforeDelete(
      q,
      ctx,
      service,
      endpoints.map((e) => e.id),
      'deleted',
      now,
    );
    await store.deleteService(q, id);
  });
}

export type EndpointHealth = 'up' | 'degraded' | 'down' | 'unknown' | 'paused';

export function healthOf(e: store.EndpointRow): EndpointHealth {
  if (!e.enabled) return 'paused';
  if (e.openIncidentId != null) return 'down';
  if (e.lastStatus == null) return 'unknown';
  // Failing below the threshold is not an outage yet: shown as degraded.
  return e.lastStatus === 'up' ? 'up' : 'degraded';
}

export async function serviceStatus(ctx: AppContext, p: Principal, id: number, now = Date.now()) {
  const service = await requireService(ctx, p, id, 'read');
  const endpoints = await store.listEndpoints(ctx.db, [id]);
  const ids = endpoints.map((e) => e.id);
  const avail = await store.availabilitySince(ctx.db, ids, new Date(now - 86_400_000));
  const maint = await store.inMaintenance(ctx.db, ids, new Date(now));
  const open = new Map(
    (await store.listIncidents(ctx.db, { serviceIds: [id], status: 'open', limit: 1000 })).map((i) => [
      i.endpointId,
      i,
    ]),
  );
  let checks = 0;
  let failures = 0;
  const items = endpoints.map((e) => {
    const a = avail.get(e.id);
    checks += a?.checks ?? 0;
    failures += a?.failures ?? 0;
    const inc = open.get(e.id);
    return {
      id: e.id,
      name: e.name,
      url: e.url,
      status: healthOf(e),
      enabled: e.enabled,
      maintenance: maint.has(e.id),
      lastCheckedAt: e.lastCheckedAt,
      lastLatencyMs: e.lastLatencyMs,
      availability24h: a?.checks ? (a.checks - a.failures) / a.checks : null,
      checks24h: a?.checks ?? 0,
      incident: inc ? { id: inc.id, startedAt: inc.startedAt, cause: inc.cause } : null,
    };
  });
  const states = items.map((i) => i.status).filter((s) => s !== 'paused');
  const status: EndpointHealth = states.includes('down')
    ? 'down'
    : states.includes('degraded')
      ? 'degraded'
      : states.length > 0 && states.every((s) => s === 'up')
        ? 'up'
        : 'unknown';
  return {
    service: { id: service.id, name: service.name, projectId: service.projectId },
    status,
    openIncidents: open.size,
    availability24h: checks ? (checks - failures) / checks : null,
    endpoints: items,
  };
}

/* -------------------------------- endpoints -------------------------------- */

export type EndpointFields = Omit<store.EndpointInput, 'serviceId'>;

export async function createEndpoint(
  ctx: AppContext,
  p: Principal,
  input: store.EndpointInput,
  now = Date.now(),
): Promise<store.EndpointRow> {
  await requireService(ctx, p, input.serviceId, 'write');
  if (input.timeout > input.interval * 1000) throw badRequest('timeout must not exceed the interval');
  return ctx.db.tx(async (q) => {
    const id = await store.nextEndpointId(q);
    // The first check runs at once; later ones settle on the endpoint's slot grid.
    return store.insertEndpoint(q, id, input, new Date(now));
  });
}

export async function listEndpoints(
  ctx: AppContext,
  p: Principal,
  serviceId?: number,
): Promise<store.EndpointRow[]> {
  if (serviceId !== undefined) {
    await requireService(ctx, p, serviceId, 'read');
    return store.listEndpoints(ctx.db, [serviceId]);
  }
  return store.listEndpoints(ctx.db, await readableServiceIds(ctx, p));
}

export async function getEndpoint(ctx: AppContext, p: Principal, id: number) {
  return (await requireEndpoint(ctx, p, id, 'read')).endpoint;
}

export async function updateEndpoint(
  ctx: AppContext,
  p: Principal,
  id: number,
  patch: Partial<EndpointFields>,
  now = Date.now(),
): Promise<store.EndpointRow> {
  const { endpoint: e } = await requireEndpoint(ctx, p, id, 'write');
  const merged: EndpointFields = {
    name: patch.name ?? e.name,
    url: patch.url ?? e.url,
    method: patch.method ?? e.method,
    headers: patch.headers ?? e.headers,
    body: patch.body !== undefined ? patch.body : e.body,
    interval: patch.interval ?? e.interval,
    timeout: patch.timeout ?? e.timeout,
    expectedStatus: patch.expectedStatus !== undefined ? patch.expectedStatus : e.expectedStatus,
    keyword: patch.keyword !== undefined ? patch.keyword : e.keyword,
    degradedAfterMs: patch.degradedAfterMs !== undefined ? patch.degradedAfterMs : e.degradedAfterMs,
    failureThreshold: patch.failureThreshold ?? e.failureThreshold,
    recoveryThreshold: patch.recoveryThreshold ?? e.recoveryThreshold,
    enabled: patch.enabled ?? e.enabled,
  };
  if (merged.timeout > merged.interval * 1000) throw badRequest('timeout must not exceed the interval');
  const reschedule =
    merged.interval !== e.interval || (merged.enabled && !e.enabled)
      ? new Date(firstSlotAtOrAfter(id, merged.interval * 1000, now))
      : null;
  const updated = await store.updateEndpoint(ctx.db, id, merged, reschedule);
  if (!updated) throw notFound('endpoint');
  return updated;
}

export async function deleteEndpoint(
  ctx: AppContext,
  p: Principal,
  id: number,
  now = Date.now(),
): Promise<void> {
  const { service } = await requireEndpoint(ctx, p, id, 'write');
  await ctx.db.tx(async (q) => {
    await resolveBeforeDelete(q, ctx, service, [id], 'deleted', now);
    await store.deleteEndpoint(q, id);
  });
}

export async function listPings(ctx: AppContext, p: Principal, id: number, limit: number) {
  await requireEndpoint(ctx, p, id, 'read');
  return store.listPings(ctx.db, id, limit);
}

export async function listWindows(ctx: AppContext, p: Principal, id: number, from: number, to: number) {
  await requireEndpoint(ctx, p, id, 'read');
  if (to <= from) throw badRequest('`to` must be after `from`');
  return store.listWindows(ctx.db, id, new Date(from), new Date(to));
}

export { aggregateWindows };

/* -------------------------------- incidents -------------------------------- */

export async function listIncidents(
  ctx: AppContext,
  p: Principal,
  f: { status?: 'open' | 'resolved'; serviceId?: number; endpointId?: number; limit: number },
) {
  let serviceIds: number[];
  if (f.endpointId !== undefined)
    serviceIds = [(await requireEndpoint(ctx, p, f.endpointId, 'read')).service.id];
  else if (f.serviceId !== undefined) serviceIds = [(await requireService(ctx, p, f.serviceId, 'read')).id];
  else serviceIds = await readableServiceIds(ctx, p);
  return store.listIncidents(ctx.db, {
    serviceIds,
    status: f.status,
    endpointId: f.endpointId,
    limit: f.limit,
  });
}

export async function getIncident(ctx: AppContext, p: Principal, id: number) {
  const inc = await store.incidentById(ctx.db, id);
  if (!inc) throw notFound('incident');
  await requireService(ctx, p, inc.serviceId, 'read', 'incident');
  return { ...inc, pings: await store.pingsOfIncident(ctx.db, id) };
}

/** Resolve by hand: the endpoint counts failures afresh, and `incident_resolved` is published. */
export async function resolveIncident(ctx: AppContext, p: Principal, id: number, now = Date.now()) {
  const found = await store.incidentById(ctx.db, id);
  if (!found) throw notFound('incident');
  const service = await requireService(ctx, p, found.serviceId, 'resolve', 'incident');
  return ctx.db.tx(async (q) => {
    // Lock order endpoint → incident, as the recorder does.
    const endpoint = await store.endpointById(q, found.endpointId, true);
    const inc = await store.resolveIncident(q, id, new Date(now), `user:${p.userId}`);
    if (!inc || !endpoint) throw conflict('incident is already resolved');
    await store.clearOpenIncident(q, endpoint.id, id);
    const event = monitorEvent('incident_resolved', now, service, endpoint, inc);
    await store.insertOutbox(q, ctx.topics.monitorEvents, String(endpoint.id), JSON.stringify(event));
    return inc;
  });
}

/* ------------------------------- maintenance ------------------------------- */

export async function createMaintenance(
  ctx: AppContext,
  p: Principal,
  m: { serviceId?: number; endpointId?: number; title?: string; startsAt: number; endsAt: number },
) {
  if ((m.serviceId === undefined) === (m.endpointId === undefined))
    throw badRequest('give exactly one of serviceId and endpointId');
  if (m.endsAt <= m.startsAt) throw badRequest('endsAt must be after startsAt');
  if (m.serviceId !== undefined) await requireService(ctx, p, m.serviceId, 'write');
  else await requireEndpoint(ctx, p, m.endpointId!, 'write');
  return store.insertMaintenance(ctx.db, {
    serviceId: m.serviceId ?? null,
    endpointId: m.endpointId ?? null,
    title: m.title ?? '',
    startsAt: new Date(m.startsAt),
    endsAt: new Date(m.endsAt),
  });
}

export async function listMaintenance(ctx: AppContext, p: Principal, serviceId?: number) {
  const ids =
    serviceId !== undefined
      ? [(await requireService(ctx, p, serviceId, 'read')).id]
      : await readableServiceIds(ctx, p);
  return store.listMaintenance(ctx.db, ids);
}

async function requireMaintenance(ctx: AppContext, p: Principal, id: number, perm: Permission) {
  const m = await store.maintenanceById(ctx.db, id);
  if (!m) throw notFound('maintenance window');
  await requireService(ctx, p, m.ownerServiceId, perm, 'maintenance window');
  const { ownerServiceId: _, ...row } = m;
  return row;
}

export const getMaintenance = (ctx: AppContext, p: Principal, id: number) =>
  requireMaintenance(ctx, p, id, 'read');

export async function deleteMaintenance(ctx: AppContext, p: Principal, id: number): Promise<void> {
  await requireMaintenance(ctx, p, id, 'write');
  await store.deleteMaintenance(ctx.db, id);
}

/* --------------------------------- webhooks -------------------------------- */

export async function createWebhook(
  ctx: AppContext,
  p: Principal,
  w: { serviceId: number; url: string; events: string[]; secret?: string | null },
) {
  await requireService(ctx, p, w.serviceId, 'write');
  return store.insertWebhook(ctx.db, { ...w, events: [...new Set(w.events)], secret: w.secret ?? null });
}

export async function listWebhooks(ctx: AppContext, p: Principal, serviceId?: number) {
  const ids =
    serviceId !== undefined
      ? [(await requireService(ctx, p, serviceId, 'read')).id]
      : await readableServiceIds(ctx, p);
  return store.listWebhooks(ctx.db, ids);
}

async function requireWebhook(ctx: AppContext, p: Principal, id: number, perm: Permission) {
  const w = await store.webhookById(ctx.db, id);
  if (!w) throw notFound('webhook');
  await requireService(ctx, p, w.serviceId, perm, 'webhook');
  return w;
}

export const getWebhook = (ctx: AppContext, p: Principal, id: number) => requireWebhook(ctx, p, id, 'read');

export async function updateWebhook(
  ctx: AppContext,
  p: Principal,
  id: number,
  patch: { url?: string; events?: string[]; secret?: string | null },
) {
  await requireWebhook(ctx, p, id, 'write');
  const w = await store.updateWebhook(ctx.db, id, {
    ...patch,
    events: patch.events && [...new Set(patch.events)],
  });
  if (!w) throw notFound('webhook');
  return w;
}

export async function deleteWebhook(ctx: AppContext, p: Principal, id: number): Promise<void> {
  await requireWebhook(ctx, p, id, 'write');
  await store.deleteWebhook(ctx.db, id);
}
