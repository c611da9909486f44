import type { Queryable } from '../platform/db/db.js';

/* SQL of the uptime domain. Rows are mapped to camelCase views here; timestamps leave as ISO strings. */

const iso = (v: unknown): string | null => (v == null ? null : (v as Date).toISOString());

export interface ServiceRow {
  id: number;
  orgId: number;
  projectId: number | null;
  name: string;
  description: string | null;
  createdAt: string;
  updatedAt: string;
}

const serviceCols = 'id, org_id, project_id, name, description, created_at, updated_at';
function service(r: Record<string, unknown>): ServiceRow {
  return {
    id: r.id as number,
    orgId: r.org_id as number,
    projectId: (r.project_id as number | null) ?? null,
    name: r.name as string,
    description: (r.description as string | null) ?? null,
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!,
  };
}

export async function insertService(
  q: Queryable,
  s: { orgId: number; projectId: number | null; name: string; description: string | null },
): Promise<ServiceRow> {
  const rows = await q.query(
    `INSERT INTO uptime_services (org_id, project_id, name, description) VALUES ($1, $2, $3, $4) RETURNING ${serviceCols}`,
    [s.orgId, s.projectId, s.name, s.description],
  );
  return service(rows[0]!);
}

export async function serviceById(q: Queryable, id: number): Promise<ServiceRow | undefined> {
  const rows = await q.query(`SELECT ${serviceCols} FROM uptime_services WHERE id = $1`, [id]);
  return rows[0] ? service(rows[0]) : undefined;
}

/** Services in the given organizations, or linked to the given projects. */
export async function listServices(
  q: Queryable,
  orgIds: number[],
  projectIds: number[],
): Promise<ServiceRow[]> {
  const rows = await q.query(
    `SELECT ${serviceCols} FROM uptime_services
      WHERE org_id = ANY($1::bigint[]) OR project_id = ANY($2::bigint[]) ORDER BY id`,
    [orgIds, projectIds],
  );
  return rows.map(service);
}

export async function updateService(
  q: Queryable,
  id: number,
  patch: { name?: string; description?: string | null; projectId?: number | null },
): Promise<ServiceRow | undefined> {
  const rows = await q.query(
    `UPDATE uptime_services SET
       name = COALESCE($2, name),
       description = CASE WHEN $3::boolean THEN $4 ELSE description END,
       project_id = CASE WHEN $5::boolean THEN $6::bigint ELSE project_id END,
       updated_at = now()
     WHERE id = $1 RETURNING ${serviceCols}`,
    [
      id,
      patch.name ?? null,
      patch.description !== undefined,
      patch.description ?? null,
      patch.projectId !== undefined,
      patch.projectId ?? null,
    ],
  );
  return rows[0] ? service(rows[0]) : undefined;
}

export async function deleteService(q: Queryable, id: number): Promise<boolean> {
  return (await q.query('DELETE FROM uptime_services WHERE id = $1 RETURNING id', [id])).length > 0;
}

/* -------------------------------- endpoints -------------------------------- */

export interface EndpointRow {
  id: number;
  serviceId: number;
  name: string;
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | null;
  interval: number;
  timeout: number;
  expectedStatus: number[] | null;
  keyword: string | null;
  degradedAfterMs: number | null;
  failureThreshold: number;
  recoveryThreshold: number;
  enabled: boolean;
  nextDueAt: string;
  lastStatus: string | null;
  lastCheckedAt: string | null;
  lastLatencyMs: number | null;
  openIncidentId: number | null;
  consecutiveFailures: number;
  createdAt: string;
  updatedAt: string;
}

const endpointCols = `id, service_id, name, url, method, headers, body, interval_s, timeout_ms, expected_status, keyword,
  degraded_after_ms, failure_threshold, recovery_threshold, enabled, next_due_at, last_status, last_checked_at,
  last_latency_ms, open_incident_id, consecutive_failures, created_at, updated_at`;

function endpoint(r: Record<string, unknown>): EndpointRow {
  return {
    id: r.id as number,
    serviceId: r.service_id as number,
    name: r.name as string,
    url: r.url as string,
    method: r.method as string,
    headers: (r.headers as Record<string, string>) ?? {},
    body: (r.body as string | null) ?? null,
    interval: r.interval_s as number,
    timeout: r.timeout_ms as number,
    expectedStatus: (r.expected_status as number[] | null) ?? null,
    keyword: (r.keyword as string | null) ?? null,
    degradedAfterMs: (r.degraded_after_ms as number | null) ?? null,
    failureThreshold: r.failure_threshold as number,
    recoveryThreshold: r.recovery_threshold as number,
    enabled: r.enabled as boolean,
    nextDueAt: iso(r.next_due_at)!,
    lastStatus: (r.last_status as string | null) ?? null,
    lastCheckedAt: iso(r.last_checked_at),
    lastLatencyMs: (r.last_latency_ms as number | null) ?? null,
    openIncidentId: (r.open_incident_id as number | null) ?? null,
    consecutiveFailures: r.consecutive_failures as number,
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!,
  };
}

export interface EndpointInput {
  serviceId: number;
  name: string;
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | null;
  interval: number;
  timeout: number;
  expectedStatus: number[] | null;
  keyword: string | null;
  degradedAfterMs: number | null;
  failureThreshold: number;
  recoveryThreshold: number;
  enabled: boolean;
}

export async function nextEndpointId(q: Queryable): Promise<number> {
  const rows = await q.query<{ id: number }>(
    `SELECT nextval(pg_get_serial_sequence('uptime_endpoints', 'id')) AS id`,
  );
  return rows[0]!.id;
}

export async function insertEndpoint(
  q: Queryable,
  id: number,
  e: EndpointInput,
  nextDueAt: Date,
): Promise<EndpointRow> {
  const rows = await q.query(
    `INSERT INTO uptime_endpoints (id, service_id, name, url, method, headers, body, interval_s, timeout_ms,
       expected_status, keyword, degraded_after_ms, failure_threshold, recovery_threshold, enabled, next_due_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING ${endpointCols}`,
    [
      id,
      e.serviceId,
      e.name,
      e.url,
      e.method,
      JSON.stringify(e.headers),
      e.body,
      e.interval,
      e.timeout,
      e.expectedStatus,
      e.keyword,
      e.degradedAfterMs,
      e.failureThreshold,
      e.recoveryThreshold,
      e.enabled,
      nextDueAt,
    ],
  );
  return endpoint(rows[0]!);
}

export async function endpointById(q: Queryable, id: number, lock = false): Promise<EndpointRow | undefined> {
  const rows = await q.query(
    `SELECT ${endpointCols} FROM uptime_endpoints WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0] ? endpoint(rows[0]) : undefined;
}

export async function listEndpoints(q: Queryable, serviceIds: number[]): Promise<EndpointRow[]> {
  const rows = await q.query(
    `SELECT ${endpointCols} FROM uptime_endpoints WHERE service_id = ANY($1::bigint[]) ORDER BY id`,
    [serviceIds],
  );
  return rows.map(endpoint);
}

/** Replace the editable fields; `nextDueAt` moves the schedule (interval changed, re-enabled). */
export async function updateEndpoint(
  q: Queryable,
  id: number,
  e: Omit<EndpointInput, 'serviceId'>,
  nextDueAt: Date | null,
): Promise<EndpointRow | undefined> {
  const rows = await q.query(
    `UPDATE uptime_endpoints SET name = $2, url = $3, method = $4, headers = $5, body = $6, interval_s = $7,
       timeout_ms = $8, expected_status = $9, keyword = $10, degraded_after_ms = $11, failure_threshold = $12,
       recovery_threshold = $13, enabled = $14, next_due_at = COALESCE($15, next_due_at), updated_at = now()
     WHERE id = $1 RETURNING ${endpointCols}`,
    [
      id,
      e.name,
      e.url,
      e.method,
      JSON.stringify(e.headers),
      e.body,
      e.interval,
      e.timeout,
      e.expectedStatus,
      e.keyword,
      e.degradedAfterMs,
      e.failureThreshold,
      e.recoveryThreshold,
      e.enabled,
      nextDueAt,
    ],
  );
  return rows[0] ? endpoint(rows[0]) : undefined;
}

export async function deleteEndpoint(q: Queryable, id: number): Promise<boolean> {
  return (await q.query('DELETE FROM uptime_endpoints WHERE id = $1 RETURNING id', [id])).length > 0;
}

/* ---------------------------------- pings ---------------------------------- */

export interface PingRow {
  id: number;
  endpointId: number;
  slotAt: string;
  checkedAt: string;
  ok: boolean;
  status: string;
  statusCode: number | null;
  errorKind: string | null;
  error: string | null;
  latencyMs: number | null;
  dnsMs: number | null;
  connectMs: number | null;
  tlsMs: number | null;
  ttfbMs: number | null;
  certExpiresAt: string | null;
  incidentId: number | null;
}

const pingCols = `id, endpoint_id, slot_at, started_at, ok, status, http_status, error_kind, error, latency_ms, dns_ms,
  connect_ms, tls_ms, ttfb_ms, cert_expires_at, incident_id`;
function ping(r: Record<string, unknown>): PingRow {
  return {
    id: r.id as number,
    endpointId: r.endpoint_id as number,
    slotAt: iso(r.slot_at)!,
    checkedAt: iso(r.started_at)!,
    ok: r.ok as boolean,
    status: r.status as string,
    statusCode: (r.http_status as number | null) ?? null,
    errorKind: (r.error_kind as string | null) ?? null,
    error: (r.error as string | null) ?? null,
    latencyMs: (r.latency_ms as number | null) ?? null,
    dnsMs: (r.dns_ms as number | null) ?? null,
    connectMs: (r.connect_ms as number | null) ?? null,
    tlsMs: (r.tls_ms as number | null) ?? null,
    ttfbMs: (r.ttfb_ms as number | null) ?? null,
    certExpiresAt: iso(r.cert_expires_at),
    incidentId: (r.incident_id as number | null) ?? null,
  };
}

export async function listPings(q: Queryable, endpointId: number, limit: number): Promise<PingRow[]> {
  const rows = await q.query(
    `SELECT ${pingCols} FROM uptime_pings WHERE endpoint_id = $1 ORDER BY slot_at DESC LIMIT $2`,
    [endpointId, limit],
  );
  return rows.map(ping);
}

export async function pingsOfIncident(q: Queryable, incidentId: number, limit = 200): Promise<PingRow[]> {
  const rows = await q.query(
    `SELECT ${pingCols} FROM uptime_pings WHERE incident_id = $1 ORDER BY slot_at LIMIT $2`,
    [incidentId, limit],
  );
  return rows.map(ping);
}

/** Checks, failures and availability of each endpoint since `since` (for the status summary). */
export async function availabilitySince(
  q: Queryable,
  endpointIds: number[],
  since: Date,
): Promise<Map<number, { checks: number; failures: number }>> {
  const rows = await q.query<{ endpoint_id: number; checks: number; failures: number }>(
    `SELECT endpoint_id, count(*)::int AS checks, count(*) FILTER (WHERE NOT ok)::int AS failures
       FROM uptime_pings WHERE endpoint_id = ANY($1::bigint[]) AND slot_at >= $2 GROUP BY endpoint_id`,
    [endpointIds, since],
  );
  return new Map(rows.map((r) => [r.endpoint_id, { checks: r.checks, failures: r.failures }]));
}

/* -------------------------------- incidents -------------------------------- */

export interface IncidentRow {
  id: number;
  endpointId: number;
  serviceId: number;
  status: 'open' | 'resolved';
  cause: string;
  errorKind: string | null;
  startedAt: string;
  openedAt: string;
  resolvedAt: string | null;
  resolvedBy: string | null;
}

const incidentCols =
  'id, endpoint_id, service_id, status, cause, error_kind, started_at, opened_at, resolved_at, resolved_by';
function incident(r: Record<string, unknown>): IncidentRow {
  return {
    id: r.id as number,
    endpointId: r.endpoint_id as number,
    serviceId: r.service_id as number,
    status: r.status as 'open' | 'resolved',
    cause: r.cause as string,
    errorKind: (r.error_kind as string | null) ?? null,
    startedAt: iso(r.started_at)!,
    openedAt: iso(r.opened_at)!,
    resolvedAt: iso(r.resolved_at),
    resolvedBy: (r.resolved_by as string | null) ?? null,
  };
}

export async function listIncidents(
  q: Queryable,
  f: { serviceIds: number[]; status?: 'open' | 'resolved'; endpointId?: number; limit: number },
): Promise<IncidentRow[]> {
  const rows = await q.query(
    `SELECT ${incidentCols} FROM uptime_incidents
      WHERE service_id = ANY($1::bigint[]) AND ($2::text IS NULL OR status = $2) AND ($3::bigint IS NULL OR endpoint_id = $3)
      ORDER BY started_at DESC, id DESC LIMIT $4`,
    [f.serviceIds, f.status ?? null, f.endpointId ?? null, f.limit],
  );
  return rows.map(incident);
}

export async function incidentById(q: Queryable, id: number, lock = false): Promise<IncidentRow | undefined> {
  const rows = await q.query(
    `SELECT ${incidentCols} FROM uptime_incidents WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0] ? incident(rows[0]) : undefined;
}

export async function insertIncident(
  q: Queryable,
  i: {
    endpointId: number;
    serviceId: number;
    cause: string;
    errorKind: string | null;
    startedAt: Date;
    openedAt: Date;
  },
): Promise<IncidentRow> {
  const rows = await q.query(
    `INSERT INTO uptime_incidents (endpoint_id, service_id, cause, error_kind, started_at, opened_at)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${incidentCols}`,
    [i.endpointId, i.serviceId, i.cause, i.errorKind, i.startedAt, i.openedAt],
  );
  return incident(rows[0]!);
}

export async function resolveIncident(
  q: Queryable,
  id: number,
  at: Date,
  by: string,
): Promise<IncidentRow | undefined> {
  const rows = await q.query(
    `UPDATE uptime_incidents SET status = 'resolved', resolved_at = $2, resolved_by = $3
      WHERE id = $1 AND status = 'open' RETURNING ${incidentCols}`,
    [id, at, by],
  );
  return rows[0] ? incident(rows[0]) : undefined;
}

/** After a manual resolve: the endpoint starts counting failures afresh. */
export async function clearOpenIncident(q: Queryable, endpointId: number, incidentId: number): Promise<void> {
  await q.query(
    `UPDATE uptime_endpoints SET open_incident_id = NULL, consecutive_failures = 0, failing_since = NULL
      WHERE id = $1 AND open_incident_id = $2`,
    [endpointId, incidentId],
  );
}

/* ------------------------------ monitor events ----------------------------- */

export async function insertOutbox(q: Queryable, topic: string, key: string, payload: string): Promise<void> {
  // The NOTIFY is delivered at commit, together with the row: relays wake exactly when it is visible.
  await q.query(
    `WITH o AS (INSERT INTO uptime_outbox (topic, key, payload) VALUES ($1, $2, $3) RETURNING id)
     SELECT pg_notify('uptime_outbox', '') FROM o`,
    [topic, key, payload],
  );
}

/* -------------------------------- maintenance ------------------------------ */

export interface MaintenanceRow {
  id: number;
  serviceId: number | null;
  endpointId: number | null;
  title: string;
  startsAt: string;
  endsAt: string;
  createdAt: string;
}
const maintenanceCols = 'id, service_id, endpoint_id, title, starts_at, ends_at, created_at';
function maintenance(r: Record<string, unknown>): MaintenanceRow {
  return {
    id: r.id as number,
    serviceId: (r.service_id as number | null) ?? null,
    endpointId: (r.endpoint_id as number | null) ?? null,
    title: r.title as string,
    startsAt: iso(r.starts_at)!,
    endsAt: iso(r.ends_at)!,
    createdAt: iso(r.created_at)!,
  };
}

export async function insertMaintenance(
  q: Queryable,
  m: { serviceId: number | null; endpointId: number | null; title: string; startsAt: Date; endsAt: Date },
): Promise<MaintenanceRow> {
  const rows = await q.query(
    `INSERT INTO uptime_maintenance (service_id, endpoint_id, title, starts_at, ends_at)
     VALUES ($1, $2, $3, $4, $5) RETURNING ${maintenanceCols}`,
    [m.serviceId, m.endpointId, m.title, m.startsAt, m.endsAt],
  );
  return maintenance(rows[0]!);
}

export async function maintenanceById(
  q: Queryable,
  id: number,
): Promise<(MaintenanceRow & { ownerServiceId: number }) | undefined> {
  const rows = await q.query(
    `SELECT m.id, m.service_id, m.endpoint_id, m.title, m.starts_at, m.ends_at, m.created_at,
            COALESCE(m.service_id, e.service_id) AS owner_service_id
       FROM uptime_maintenance m LEFT JOIN uptime_endpoints e ON e.id = m.endpoint_id WHERE m.id = $1`,
    [id],
  );
  return rows[0]
    ? { ...maintenance(rows[0]), ownerServiceId: rows[0].owner_service_id as number }
    : undefined;
}

export async function listMaintenance(q: Queryable, serviceIds: number[]): Promise<MaintenanceRow[]> {
  const rows = await q.query(
    `SELECT m.id, m.service_id, m.endpoint_id, m.title, m.starts_at, m.ends_at, m.created_at
       FROM uptime_maintenance m LEFT JOIN uptime_endpoints e ON e.id = m.endpoint_id
      WHERE COALESCE(m.service_id, e.service_id) = ANY($1::bigint[]) ORDER BY m.starts_at DESC, m.id DESC`,
    [serviceIds],
  );
  return rows.map(maintenance);
}

export async function deleteMaintenance(q: Queryable, id: number): Promise<boolean> {
  return (await q.query('DELETE FROM uptime_maintenance WHERE id = $1 RETURNING id', [id])).length > 0;
}

/** Endpoint ids (among the given) under an active maintenance window at `at`. */
export async function inMaintenance(q: Queryable, endpointIds: number[], at: Date): Promise<Set<number>> {
  const rows = await q.query<{ id: number }>(
    `SELECT e.id FROM uptime_endpoints e
      WHERE e.id = ANY($1::bigint[]) AND EXISTS (
        SELECT 1 FROM uptime_maintenance m
         WHERE (m.endpoint_id = e.id OR m.service_id = e.service_id) AND m.starts_at <= $2 AND m.ends_at > $2)`,
    [endpointIds, at],
  );
  return new Set(rows.map((r) => r.id));
}

/* --------------------------------- webhooks -------------------------------- */

export interface WebhookRow {
  id: number;
  serviceId: number;
  url: string;
  events: string[];
  hasSecret: boolean;
  createdAt: string;
}
const webhookCols = 'id, service_id, url, events, secret IS NOT NULL AS has_secret, created_at';
function webhook(r: Record<string, unknown>): WebhookRow {
  return {
    id: r.id as number,
    serviceId: r.service_id as number,
    url: r.url as string,
    events: r.events as string[],
    hasSecret: r.has_secret as boolean,
    createdAt: iso(r.created_at)!,
  };
}

export async function insertWebhook(
  q: Queryable,
  w: { serviceId: number; url: string; events: string[]; secret: string | null },
): Promise<WebhookRow> {
  const rows = await q.query(
    `INSERT INTO uptime_webhooks (service_id, url, events, secret) VALUES ($1, $2, $3, $4) RETURNING ${webhookCols}`,
    [w.serviceId, w.url, w.events, w.secret],
  );
  return webhook(rows[0]!);
}

export async function webhookById(q: Queryable, id: number): Promise<WebhookRow | undefined> {
  const rows = await q.query(`SELECT ${webhookCols} FROM uptime_webhooks WHERE id = $1`, [id]);
  return rows[0] ? webhook(rows[0]) : undefined;
}

export async function listWebhooks(q: Queryable, serviceIds: number[]): Promise<WebhookRow[]> {
  const rows = await q.query(
    `SELECT ${webhookCols} FROM uptime_webhooks WHERE service_id = ANY($1::bigint[]) ORDER BY id`,
    [serviceIds],
  );
  return rows.map(webhook);
}

export async function updateWebhook(
  q: Queryable,
  id: number,
  w: { url?: string; events?: string[]; secret?: string | null },
): Promise<WebhookRow | undefined> {
  const rows = await q.query(
    `UPDATE uptime_webhooks SET url = COALESCE($2, url), events = COALESCE($3, events),
       secret = CASE WHEN $4::boolean THEN $5 ELSE secret END
     WHERE id = $1 RETURNING ${webhookCols}`,
    [id, w.url ?? null, w.events ?? null, w.secret !== undefined, w.secret ?? null],
  );
  return rows[0] ? webhook(rows[0]) : undefined;
}

export async function deleteWebhook(q: Queryable, id: number): Promise<boolean> {
  return (await q.query('DELETE FROM uptime_webhooks WHERE id = $1 RETURNING id', [id])).length > 0;
}

/* --------------------------------- windows --------------------------------- */

export interface WindowRow {
  endpointId: number;
  windowStart: string;
  checks: number;
  failures: number;
  degraded: number;
  availability: number;
  latencyMin: number | null;
  latencyAvg: number | null;
  latencyP50: number | null;
  latencyP95: number | null;
  latencyP99: number | null;
}

export async function listWindows(
  q: Queryable,
  endpointId: number,
  from: Date,
  to: Date,
  limit = 5000,
): Promise<WindowRow[]> {
  const rows = await q.query(
    `SELECT endpoint_id, window_start, checks, failures, degraded, availability, latency_min, latency_avg,
            latency_p50, latency_p95, latency_p99
       FROM uptime_windows WHERE endpoint_id = $1 AND window_start >= $2 AND window_start < $3
      ORDER BY window_start LIMIT $4`,
    [endpointId, from, to, limit],
  );
  return rows.map((r) => ({
    endpointId: r.endpoint_id as number,
    windowStart: iso(r.window_start)!,
    checks: r.checks as number,
    failures: r.failures as number,
    degraded: r.degraded as number,
    availability: r.availability as number,
    latencyMin: (r.latency_min as number | null) ?? null,
    latencyAvg: (r.latency_avg as number | null) ?? null,
    latencyP50: (r.latency_p50 as number | null) ?? null,
    latencyP95: (r.latency_p95 as number | null) ?? null,
    latencyP99: (r.latency_p99 as number | null) ?? null,
  }));
}

/* ------------------------------- organizations ------------------------------ */

/** The caller's organizations (identity's memberships table), oldest first. */
export async function membershipsOf(
  q: Queryable,
  userId: number,
): Promise<Array<{ orgId: number; role: string }>> {
  const rows = await q.query<{ org_id: number; role: string }>(
    'SELECT org_id, role FROM memberships WHERE user_id = $1 ORDER BY org_id',
    [userId],
  );
  return rows.map((r) => ({ orgId: r.org_id, role: r.role }));
}

/** Services of the given organizations (ids only). */
export async function serviceIdsOfOrgs(q: Queryable, orgIds: number[]): Promise<number[]> {
  const rows = await q.query<{ id: number }>(
    'SELECT id FROM uptime_services WHERE org_id = ANY($1::bigint[])',
    [orgIds],
  );
  return rows.map((r) => r.id);
}
