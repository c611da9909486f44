import type { Queryable } from '../platform/db/db.js';
import type { NotificationPayload, Target } from './channels.js';
import { redactSlackUrl, redactWebhookUrl } from './redact.js';
import type { Action, AlertState, DeliveryState, Filters, Rule, RuleInput, Trigger } from './schemas.js';

/** SQL of the alerts domain. Timestamps of evaluation are passed in (tests simulate time). */

export const DELIVERY_CHANNEL = 'beacon_alert_deliveries';

interface RuleRow {
  id: number;
  project_id: number;
  name: string;
  trigger: Trigger;
  filters: Filters;
  actions: Action[];
  cooldown_minutes: number;
  digest_minutes: number;
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
  [k: string]: unknown;
}

const toRule = (r: RuleRow): Rule => ({
  id: r.id,
  projectId: r.project_id,
  name: r.name,
  trigger: r.trigger,
  filters: r.filters,
  actions: r.actions,
  cooldownMinutes: r.cooldown_minutes,
  digestMinutes: r.digest_minutes,
  enabled: r.enabled,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

export async function insertRule(q: Queryable, projectId: number, input: RuleInput, userId: number | null) {
  const [row] = await q.query<RuleRow>(
    `INSERT INTO alert_rules (project_id, name, trigger, filters, actions, cooldown_minutes, enabled, created_by,
       digest_minutes)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
    [
      projectId,
      input.name,
      JSON.stringify(input.trigger),
      JSON.stringify(input.filters),
      JSON.stringify(input.actions),
      input.cooldownMinutes,
      input.enabled,
      userId,
      input.digestMinutes,
    ],
  );
  return toRule(row!);
}

/**
 * Replace a rule. When what the rule counts changes (filters, or the trigger's type, per, metric or
 * window width), its per-window counts and anomaly state are dropped in the same statement: counts
 * gathered under the old definition would otherwise fire the new one early (or skew its baseline).
 */
export async function updateRule(q: Queryable, id: number, input: RuleInput) {
  const [row] = await q.query<RuleRow>(
    `WITH old AS (SELECT id, trigger, filters FROM alert_rules WHERE id = $1 FOR UPDATE),
     changed AS (
       SELECT id FROM old WHERE filters <> $4::jsonb
         OR (trigger->'type', trigger->'per', trigger->'metric', trigger->'windowMinutes')
            IS DISTINCT FROM ($3::jsonb->'type', $3::jsonb->'per', $3::jsonb->'metric', $3::jsonb->'windowMinutes')),
     c AS (DELETE FROM alert_counts WHERE rule_id IN (SELECT id FROM changed)),
     u AS (DELETE FROM alert_users WHERE rule_id IN (SELECT id FROM changed)),
     a AS (DELETE FROM alert_anomaly_state WHERE rule_id IN (SELECT id FROM changed))
     UPDATE alert_rules SET name = $2, trigger = $3, filters = $4, actions = $5, cooldown_minutes = $6,
       enabled = $7, digest_minutes = $8, updated_at = now() WHERE id = (SELECT id FROM old) RETURNING *`,
    [
      id,
      input.name,
      JSON.stringify(input.trigger),
      JSON.stringify(input.filters),
      JSON.stringify(input.actions),
      input.cooldownMinutes,
      input.enabled,
      input.digestMinutes,
    ],
  );
  return row ? toRule(row) : undefined;
}

export async function getRule(q: Queryable, id: number): Promise<Rule | undefined> {
  const [row] = await q.query<RuleRow>('SELECT * FROM alert_rules WHERE id = $1', [id]);
  return row ? toRule(row) : undefined;
}

export async function listRules(q: Queryable, projectId: number): Promise<Rule[]> {
  return (
    await q.query<RuleRow>('SELECT * FROM alert_rules WHERE project_id = $1 ORDER BY id', [projectId])
  ).map(toRule);
}

export async function deleteRule(q: Queryable, id: number): Promise<boolean> {
  return (await q.query('DELETE FROM alert_rules WHERE id = $1 RETURNING id', [id])).length > 0;
}

/** Which of these projects have enabled rules (uptime rules or the others): a cheap pre-check outside a transaction. */
export async function projectsWithRules(
  q: Queryable,
  projectIds: number[],
  uptime: boolean,
): Promise<Set<number>> {
  if (projectIds.length === 0) return new Set();
  const rows = await q.query<{ project_id: number }>(
    `SELECT DISTINCT project_id FROM alert_rules WHERE project_id = ANY($1::bigint[]) AND enabled
       AND ((trigger->>'type' = 'uptime') = $2)`,
    [projectIds, uptime],
  );
  return new Set(rows.map((r) => r.project_id));
}

/** Lock and return the enabled rules: row locks in id order serialise evaluation across workers. */
export async function lockRules(q: Queryable, projectId: number, uptime: boolean): Promise<Rule[]> {
  const rows = await q.query<RuleRow>(
    `SELECT * FROM alert_rules WHERE project_id = $1 AND enabled AND ((trigger->>'type' = 'uptime') = $2)
     ORDER BY id FOR UPDATE`,
    [projectId, uptime],
  );
  return rows.map(toRule);
}

/** Record a bus message as processed; false when it already was (a redelivery). */
export async function markProcessed(q: Queryable, messageId: string): Promise<boolean> {
  return (await markProcessedMany(q, [messageId])).size > 0;
}

/** Record messages as processed; returns the ids that were new. Sorted inserts keep concurrent workers deadlock-free. */
export async function markProcessedMany(q: Queryable, messageIds: string[]): Promise<Set<string>> {
  const ids = [...new Set(messageIds)].sort();
  const rows = await q.query<{ message_id: string }>(
    `INSERT INTO alert_processed (message_id) SELECT unnest($1::text[]) ORDER BY 1
     ON CONFLICT DO NOTHING RETURNING message_id`,
    [ids],
  );
  return new Set(rows.map((r) => r.message_id));
}

export async function addCount(q: Queryable, ruleId: number, subject: string, bucket: Date, n: number) {
  await q.query(
    `INSERT INTO alert_counts (rule_id, subject, bucket, events) VALUES ($1, $2, $3, $4)
     ON CONFLICT (rule_id, subject, bucket) DO UPDATE SET events = alert_counts.events + EXCLUDED.events`,
    [ruleId, subject, bucket, n],
  );
}

export async function addCounts(
  q: Queryable,
  ruleId: number,
  bucket: Date,
  subjects: string[],
  ns: number[],
) {
  await q.query(
    `INSERT INTO alert_counts (rule_id, subject, bucket, events)
     SELECT $1, s, $2, n FROM unnest($3::text[], $4::bigint[]) AS x(s, n) ORDER BY s
     ON CONFLICT (rule_id, subject, bucket) DO UPDATE SET events = alert_counts.events + EXCLUDED.events`,
    [ruleId, bucket, subjects, ns],
  );
}

export async function sumEventsBySubject(
  q: Queryable,
  ruleId: number,
  subjects: string[],
  from: Date,
  to: Date,
) {
  const rows = await q.query<{ subject: string; n: number }>(
    `SELECT subject, sum(events)::bigint AS n FROM alert_counts
     WHERE rule_id = $1 AND subject = ANY($2::text[]) AND bucket >= $3 AND bucket <= $4 GROUP BY subject`,
    [ruleId, subjects, from, to],
  );
  return new Map(rows.map((r) => [r.subject, r.n]));
}

export async function addUsers(
  q: Queryable,
  ruleId: number,
  subject: string,
  bucket: Date,
  userIds: string[],
) {
  if (userIds.length === 0) return;
  await q.query(
    `INSERT INTO alert_users (rule_id, subject, bucket, user_id)
     SELECT $1, $2, $3, u FROM unnest($4::text[]) AS u ON CONFLICT DO NOTHING`,
    [ruleId, subject, bucket, userIds],
  );
}

export async function sumEvents(q: Queryable, ruleId: number, subject: string, from: Date, to: Date) {
  const [r] = await q.query<{ n: number }>(
    `SELECT COALESCE(sum(events), 0)::bigint AS n FROM alert_counts
     WHERE rule_id = $1 AND subject = $2 AND bucket >= $3 AND bucket <= $4`,
    [ruleId, subject, from, to],
  );
  return r?.n ?? 0;
}

export async function distinctUsers(q: Queryable, ruleId: number, subject: string, from: Date, to: Date) {
  const [r] = await q.query<{ n: number }>(
    `SELECT count(DISTINCT user_id)::bigint AS n FROM alert_users
     WHERE rule_id = $1 AND subject = $2 AND bucket >= $3 AND bucket <= $4`,
    [ruleId, subject, from, to],
  );
  return r?.n ?? 0;
}

export async function windowCounts(q: Queryable, ruleId: number, subject: string, from: Date, to: Date) {
  const rows = await q.query<{ bucket: Date; events: number }>(
    `SELECT bucket, events FROM alert_counts WHERE rule_id = $1 AND subject = $2 AND bucket >= $3 AND bucket <= $4`,
    [ruleId, subject, from, to],
  );
  return new Map(rows.map((r) => [r.bucket.getTime(), r.events]));
}

export interface AnomalyState {
  since: Date;
  lastWindow: Date | null;
  streak: number;
  firedWindow: Date | null;
}

export async function anomalyState(
  q: Queryable,
  ruleId: number,
  subject: string,
  since: Date,
): Promise<AnomalyState> {
  // The no-op DO UPDATE returns the existing row: one round trip for "get or create".
  const [r] = await q.query<{
    since: Date;
    last_window: Date | null;
    streak: number;
    fired_window: Date | null;
  }>(
    `INSERT INTO alert_anomaly_state (rule_id, subject, since) VALUES ($1, $2, $3)
     ON CONFLICT (rule_id, subject) DO UPDATE SET since = alert_anomaly_state.since
     RETURNING since, last_window, streak, fired_window`,
    [ruleId, subject, since],
  );
  return { since: r!.since, lastWindow: r!.last_window, streak: r!.streak, firedWindow: r!.fired_window };
}

export async function saveAnomalyState(q: Queryable, ruleId: number, subject: string, s: AnomalyState) {
  await q.query(
    `UPDATE alert_anomaly_state SET last_window = $3, streak = $4, fired_window = $5 WHERE rule_id = $1 AND subject = $2`,
    [ruleId, subject, s.lastWindow, s.streak, s.firedWindow],
  );
}

export async function isSilenced(
  q: Queryable,
  projectId: number,
  ruleId: number,
  issueId: number | null,
  at: Date,
): Promise<boolean> {
  const rows = await q.query(
    `SELECT 1 FROM alert_silences WHERE project_id = $1 AND until > $4
       AND (rule_id IS NULL OR rule_id = $2) AND (issue_id IS NULL OR issue_id = $3) LIMIT 1`,
    [projectId, ruleId, issueId, at],
  );
  return rows.length > 0;
}

// ---- alerts ----

export interface AlertRow {
  id: number;
  project_id: number;
  rule_id: number | null;
  rule_name: string;
  subject: string;
  issue_id: number | null;
  service_id: number | null;
  endpoint_id: number | null;
  trigger_type: string;
  reason: string;
  state: AlertState;
  count: number;
  details: Record<string, unknown>;
  first_fired_at: Date;
  last_fired_at: Date;
  last_notified_at: Date | null;
  acknowledged_at: Date | null;
  acknowledged_by: number | null;
  resolved_at: Date | null;
  resolved_by: number | null;
  [k: string]: unknown;
}

export const toAlert = (r: AlertRow) => ({
  id: r.id,
  projectId: r.project_id,
  ruleId: r.rule_id,
  ruleName: r.rule_name,
  subject: r.subject,
  issueId: r.issue_id,
  serviceId: r.service_id,
  endpointId: r.endpoint_id,
  triggerType: r.trigger_type,
  reason: r.reason,
  state: r.state,
  count: r.count,
  details: r.details,
  firstFiredAt: r.first_fired_at.toISOString(),
  lastFiredAt: r.last_fired_at.toISOString(),
  lastNotifiedAt: r.last_notified_at?.toISOString() ?? null,
  acknowledgedAt: r.acknowledged_at?.toISOString() ?? null,
  acknowledgedBy: r.acknowledged_by,
  resolvedAt: r.resolved_at?.toISOString() ?? null,
  resolvedBy: r.resolved_by,
});
export type Alert = ReturnType<typeof toAlert>;

export async function openAlertForUpdate(q: Queryable, ruleId: number, subject: string) {
  const [r] = await q.query<AlertRow>(
    `SELECT * FROM alerts WHERE rule_id = $1 AND subject = $2 AND state <> 'resolved' FOR UPDATE`,
    [ruleId, subject],
  );
  return r;
}

export interface NewAlert {
  projectId: number;
  ruleId: number;
  ruleName: string;
  subject: string;
  issueId: number | null;
  serviceId: number | null;
  endpointId: number | null;
  triggerType: string;
  reason: string;
  details: Record<string, unknown>;
  state?: AlertState;
  at: Date;
}

export async function insertAlert(q: Queryable, a: NewAlert): Promise<AlertRow> {
  const [r] = await q.query<AlertRow>(
    `INSERT INTO alerts (project_id, rule_id, rule_name, subject, issue_id, service_id, endpoint_id, trigger_type,
       reason, details, state, first_fired_at, last_fired_at, last_notified_at, resolved_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $12, CASE WHEN $11 = 'resolved' THEN $12::timestamptz END)
     RETURNING *`,
    [
      a.projectId,
      a.ruleId,
      a.ruleName,
      a.subject,
      a.issueId,
      a.serviceId,
      a.endpointId,
      a.triggerType,
      a.reason,
      JSON.stringify(a.details),
      a.state ?? 'firing',
      a.at,
    ],
  );
  return r!;
}

export async function foldAlert(q: Queryable, id: number, at: Date, reason: string, notified: boolean) {
  const [r] = await q.query<AlertRow>(
    `UPDATE alerts SET count = count + 1, last_fired_at = GREATEST(last_fired_at, $2), reason = $3,
       last_notified_at = CASE WHEN $4 THEN $2 ELSE last_notified_at END
     WHERE id = $1 RETURNING *`,
    [id, at, reason, notified],
  );
  return r!;
}

export async function getAlert(q: Queryable, id: number) {
  const [r] = await q.query<AlertRow>('SELECT * FROM alerts WHERE id = $1', [id]);
  return r;
}

export interface AlertFilter {
  /** `open`: firing or acknowledged. */
  state?: AlertState | 'open';
  ruleId?: number;
  issueId?: number;
  limit: number;
  beforeId?: number;
}

export async function listAlerts(q: Queryable, projectId: number, opts: AlertFilter) {
  return q.query<AlertRow>(
    `SELECT * FROM alerts WHERE project_id = $1
       AND ($2::text IS NULL OR state = $2 OR ($2 = 'open' AND state <> 'resolved'))
       AND ($3::bigint IS NULL OR id < $3) AND ($5::bigint IS NULL OR rule_id = $5)
       AND ($6::bigint IS NULL OR issue_id = $6)
     ORDER BY id DESC LIMIT $4`,
    [
      projectId,
      opts.state ?? null,
      opts.beforeId ?? null,
      opts.limit,
      opts.ruleId ?? null,
      opts.issueId ?? null,
    ],
  );
}

export async function setAlertState(
  q: Queryable,
  id: number,
  state: 'acknowledged' | 'resolved',
  userId: number | null,
  at: Date,
) {
  const sql =
    state === 'acknowledged'
      ? `UPDATE alerts SET state = 'acknowledged', acknowledged_at = $2, acknowledged_by = $3
         WHERE id = $1 AND state = 'firing' RETURNING *`
      : `UPDATE alerts SET state = 'resolved', resolved_at = $2, resolved_by = $3
         WHERE id = $1 AND state <> 'resolved' RETURNING *`;
  const [r] = await q.query<AlertRow>(sql, [id, at, userId]);
  return r;
}

// ---- silences ----

interface SilenceRow {
  id: number;
  project_id: number;
  rule_id: number | null;
  issue_id: number | null;
  until: Date;
  comment: string;
  created_by: number | null;
  created_at: Date;
  [k: string]: unknown;
}
const toSilence = (r: SilenceRow) => ({
  id: r.id,
  projectId: r.project_id,
  ruleId: r.rule_id,
  issueId: r.issue_id,
  until: r.until.toISOString(),
  comment: r.comment,
  createdBy: r.created_by,
  createdAt: r.created_at.toISOString(),
});

export async function insertSilence(
  q: Queryable,
  s: {
    projectId: number;
    ruleId?: number;
    issueId?: number;
    until: Date;
    comment: string;
    userId: number | null;
  },
) {
  const [r] = await q.query<SilenceRow>(
    `INSERT INTO alert_silences (project_id, rule_id, issue_id, until, comment, created_by)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
    [s.projectId, s.ruleId ?? null, s.issueId ?? null, s.until, s.comment, s.userId],
  );
  return toSilence(r!);
}

export async function listSilences(q: Queryable, projectId: number, includeExpired: boolean) {
  return (
    await q.query<SilenceRow>(
      `SELECT * FROM alert_silences WHERE project_id = $1 AND ($2 OR until > now()) ORDER BY id DESC LIMIT 500`,
      [projectId, includeExpired],
    )
  ).map(toSilence);
}

export async function deleteSilence(q: Queryable, projectId: number, id: number): Promise<boolean> {
  return (
    (
      await q.query('DELETE FROM alert_silences WHERE id = $1 AND project_id = $2 RETURNING id', [
        id,
        projectId,
      ])
    ).length > 0
  );
}

// ---- deliveries ----

export interface NewDelivery {
  projectId: number | null;
  alertId: number | null;
  ruleId: number | null;
  kind: 'alert' | 'test' | 'uptime_webhook' | 'digest';
  target: Target;
  payload: NotificationPayload;
}

/** Enqueue in the caller's transaction; NOTIFY reaches the delivery workers on commit. */
export async function enqueueDeliveries(q: Queryable, ds: NewDelivery[]): Promise<number[]> {
  if (ds.length === 0) return [];
  const rows = await q.query<{ id: number }>(
    `INSERT INTO alert_deliveries (project_id, alert_id, rule_id, kind, channel, target, payload)
     SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::jsonb[], $7::jsonb[])
     RETURNING id`,
    [
      ds.map((d) => d.projectId),
      ds.map((d) => d.alertId),
      ds.map((d) => d.ruleId),
      ds.map((d) => d.kind),
      ds.map((d) => d.target.type),
      ds.map((d) => JSON.stringify(d.target)),
      ds.map((d) => JSON.stringify(d.payload)),
    ],
  );
  await q.query(`SELECT pg_notify($1, '')`, [DELIVERY_CHANNEL]);
  return rows.map((r) => r.id);
}

export interface DigestItem {
  alertId: number;
  title: string;
  reason: string;
  count: number;
  at: string;
  url?: string;
}

/**
 * Add an alert to the rule's open digest for this target (created on first use, sent
 * `digestMinutes` later). A digest being sent is no longer open: the next item starts a new one.
 */
export async function addToDigest(
  q: Queryable,
  d: {
    projectId: number;
    ruleId: number;
    ruleName: string;
    target: Target;
    digestMinutes: number;
    item: DigestItem;
  },
) {
  const [open] = await q.query<{ id: number; payload: NotificationPayload }>(
    `SELECT id, payload FROM alert_deliveries
     WHERE rule_id = $1 AND kind = 'digest' AND state = 'pending' AND attempts = 0 AND target = $2::jsonb
     ORDER BY id LIMIT 1 FOR UPDATE`,
    [d.ruleId, JSON.stringify(d.target)],
  );
  const items = [...(((open?.payload.data.items as DigestItem[] | undefined) ?? []) as DigestItem[]), d.item];
  const payload: NotificationPayload = {
    kind: 'digest',
    title: `${items.length} alert${items.length === 1 ? '' : 's'} from rule "${d.ruleName}"`,
    lines: items.slice(-50).map((i) => `${i.title} (${i.reason}${i.count > 1 ? `, ${i.count}×` : ''})`),
    data: { rule: { id: d.ruleId, name: d.ruleName }, projectId: d.projectId, items },
  };
  if (open) {
    await q.query('UPDATE alert_deliveries SET payload = $2, updated_at = now() WHERE id = $1', [
      open.id,
      JSON.stringify(payload),
    ]);
    return open.id;
  }
  const [row] = await q.query<{ id: number }>(
    `INSERT INTO alert_deliveries (project_id, rule_id, kind, channel, target, payload, next_attempt_at)
     VALUES ($1, $2, 'digest', $3, $4, $5, now() + make_interval(mins => $6)) RETURNING id`,
    [
      d.projectId,
      d.ruleId,
      d.target.type,
      JSON.stringify(d.target),
      JSON.stringify(payload),
      d.digestMinutes,
    ],
  );
  return row!.id;
}

export interface DeliveryRow {
  id: number;
  project_id: number | null;
  alert_id: number | null;
  rule_id: number | null;
  kind: string;
  channel: string;
  target: Target;
  payload: NotificationPayload;
  state: DeliveryState;
  attempts: number;
  next_attempt_at: Date;
  last_status: number | null;
  last_error: string | null;
  created_at: Date;
  delivered_at: Date | null;
  dead_at: Date | null;
  [k: string]: unknown;
}

/** Claim due deliveries (and ones whose lease expired: their worker died) under a lease. */
export async function claimDeliveries(q: Queryable, limit: number, leaseMs: number): Promise<DeliveryRow[]> {
  return q.query<DeliveryRow>(
    `UPDATE alert_deliveries d SET state = 'delivering', attempts = d.attempts + 1,
       locked_until = now() + make_interval(secs => $2::double precision / 1000), updated_at = now()
     WHERE d.id IN (
       SELECT id FROM alert_deliveries
       WHERE (state = 'pending' AND next_attempt_at <= now()) OR (state = 'delivering' AND locked_until < now())
       ORDER BY next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED)
     RETURNING d.*`,
    [limit, leaseMs],
  );
}

/** Milliseconds until the next pending delivery is due (undefined when none). */
export async function nextDueInMs(q: Queryable): Promise<number | undefined> {
  const [r] = await q.query<{ ms: number | null }>(
    `SELECT (EXTRACT(EPOCH FROM (min(t) - now())) * 1000)::float8 AS ms FROM (
       SELECT min(next_attempt_at) AS t FROM alert_deliveries WHERE state = 'pending'
       UNION ALL SELECT min(locked_until) FROM alert_deliveries WHERE state = 'delivering') x`,
  );
  return r?.ms == null ? undefined : Math.max(0, r.ms);
}

/**
 * Finish an attempt and log it in one statement (one round trip, one commit). Fenced by the
 * attempt number: a worker whose lease expired and was taken over cannot overwrite the newer attempt.
 */
export async function finishDelivery(
  q: Queryable,
  id: number,
  attempt: number,
  durationMs: number,
  outcome:
    | { state: 'delivered'; status?: number }
    | { state: 'pending'; delayMs: number; status?: number; error?: string }
    | { state: 'dead'; status?: number; error?: string },
): Promise<DeliveryRow | undefined> {
  const [r] = await q.query<DeliveryRow>(
    `WITH f AS (
       UPDATE alert_deliveries SET state = $3, locked_until = NULL, updated_at = now(),
         last_status = $4, last_error = $5,
         next_attempt_at = CASE WHEN $3 = 'pending' THEN now() + make_interval(secs => $6::double precision / 1000) ELSE next_attempt_at END,
         delivered_at = CASE WHEN $3 = 'delivered' THEN now() ELSE delivered_at END,
         dead_at = CASE WHEN $3 = 'dead' THEN now() ELSE NULL END
       WHERE id = $1 AND attempts = $2 AND state = 'delivering' RETURNING *),
     a AS (
       INSERT INTO alert_delivery_attempts (delivery_id, attempt, duration_ms, status, error)
       SELECT id, $2, $7, $4, $5 FROM f)
     SELECT * FROM f`,
    [
      id,
      attempt,
      outcome.state,
      outcome.status ?? null,
      outcome.state === 'delivered' ? null : (outcome.error ?? null),
      outcome.state === 'pending' ? outcome.delayMs : 0,
      durationMs,
    ],
  );
  return r;
}

export const toDelivery = (r: DeliveryRow) => ({
  id: r.id,
  projectId: r.project_id,
  alertId: r.alert_id,
  ruleId: r.rule_id,
  kind: r.kind,
  channel: r.channel,
  target: redactTarget(r.target),
  title: r.payload.title,
  state: r.state,
  attempts: r.attempts,
  nextAttemptAt: r.state === 'pending' ? r.next_attempt_at.toISOString() : null,
  lastStatus: r.last_status,
  lastError: r.last_error,
  createdAt: r.created_at.toISOString(),
  deliveredAt: r.delivered_at?.toISOString() ?? null,
  deadAt: r.dead_at?.toISOString() ?? null,
});
export type Delivery = ReturnType<typeof toDelivery>;

/** What the API shows of a target: never the secret, a URL password, or custom header values. */
export function redactTarget(t: Target): Record<string, unknown> {
  if (t.type === 'email') return { type: 'email', to: t.to };
  if (t.type === 'slack') return { type: 'slack', url: redactSlackUrl(t.url) };
  return {
    type: 'webhook',
    url: redactWebhookUrl(t.url),
    secretSet: Boolean(t.secret),
    headers: Object.keys(t.headers ?? {}),
  };
}

export async function getDelivery(q: Queryable, id: number) {
  const [r] = await q.query<DeliveryRow>('SELECT * FROM alert_deliveries WHERE id = $1', [id]);
  return r;
}

export async function listDeliveries(
  q: Queryable,
  projectId: number,
  opts: { state?: DeliveryState; alertId?: number; limit: number; beforeId?: number },
) {
  return q.query<DeliveryRow>(
    `SELECT * FROM alert_deliveries WHERE project_id = $1 AND ($2::text IS NULL OR state = $2)
       AND ($3::bigint IS NULL OR alert_id = $3) AND ($4::bigint IS NULL OR id < $4) ORDER BY id DESC LIMIT $5`,
    [projectId, opts.state ?? null, opts.alertId ?? null, opts.beforeId ?? null, opts.limit],
  );
}

export async function listAttempts(q: Queryable, deliveryId: number) {
  return q.query<{
    attempt: number;
    at: Date;
    duration_ms: number;
    status: number | null;
    error: string | null;
  }>(
    'SELECT attempt, at, duration_ms, status, error FROM alert_delivery_attempts WHERE delivery_id = $1 ORDER BY id',
    [deliveryId],
  );
}

/** Put a dead (or delivered) delivery back in the queue with a fresh attempt budget. */
export async function replayDelivery(q: Queryable, id: number) {
  const [r] = await q.query<DeliveryRow>(
    `UPDATE alert_deliveries SET state = 'pending', attempts = 0, next_attempt_at = now(), locked_until = NULL,
       dead_at = NULL, updated_at = now()
     WHERE id = $1 AND state IN ('dead', 'delivered') RETURNING *`,
    [id],
  );
  if (r) await q.query(`SELECT pg_notify($1, '')`, [DELIVERY_CHANNEL]);
  return r;
}

/** Drop counting rows and processed-message markers older than `before`. */
export async function sweep(q: Queryable, before: Date, processedBefore: Date) {
  await q.query('DELETE FROM alert_counts WHERE bucket < $1', [before]);
  await q.query('DELETE FROM alert_users WHERE bucket < $1', [before]);
  await q.query('DELETE FROM alert_processed WHERE processed_at < $1', [processedBefore]);
}

/** Uptime webhooks of a service subscribed to an event type (table owned by the uptime domain). */
export async function uptimeWebhooks(q: Queryable, serviceId: number, eventType: string) {
  const [exists] = await q.query<{ t: string | null }>(`SELECT to_regclass('uptime_webhooks')::text AS t`);
  if (!exists?.t) return [];
  return q.query<{ id: number; url: string; secret: string | null }>(
    `SELECT id, url, secret FROM uptime_webhooks WHERE service_id = $1 AND $2 = ANY(events) ORDER BY id`,
    [serviceId, eventType],
  );
}
