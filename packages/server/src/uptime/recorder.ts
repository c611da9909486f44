import type { MonitorEvent } from '../events/updates.js';
import type { Db, Queryable } from '../platform/db/db.js';
import type { CheckResult } from './checker.js';
import { nextSlot } from './schedule.js';
import * as store from './store.js';

/** One finished check: which slot of which endpoint it fills. */
export interface CheckOutcome {
  endpointId: number;
  slot: number;
  result: CheckResult;
}

interface EndpointState {
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  failingSince: number | null;
  openIncidentId: number | null;
}

export type Transition = 'open' | 'resolve' | null;

/**
 * The incident state machine for one ping: an incident opens on exactly the failureThreshold-th
 * consecutive failure and resolves on the recoveryThreshold-th consecutive success. Under
 * maintenance the counters still move but nothing opens or resolves; when maintenance ends, the
 * next ping applies whatever the counters say.
 */
export function evaluate(
  s: EndpointState,
  ok: boolean,
  at: number,
  thresholds: { failure: number; recovery: number },
  maintenance: boolean,
): { state: EndpointState; transition: Transition } {
  const state: EndpointState = ok
    ? { ...s, consecutiveSuccesses: s.consecutiveSuccesses + 1, consecutiveFailures: 0, failingSince: null }
    : {
        ...s,
        consecutiveFailures: s.consecutiveFailures + 1,
        consecutiveSuccesses: 0,
        failingSince: s.failingSince ?? at,
      };
  let transition: Transition = null;
  if (!maintenance) {
    if (!ok && s.openIncidentId == null && state.consecutiveFailures >= thresholds.failure)
      transition = 'open';
    if (ok && s.openIncidentId != null && state.consecutiveSuccesses >= thresholds.recovery)
      transition = 'resolve';
  }
  return { state, transition };
}

/** The bus message for an incident transition (the recorder's, a manual resolve's, a deletion's). */
export function monitorEvent(
  type: MonitorEvent['type'],
  at: number,
  service: { id: number; name: string; projectId: number | null },
  endpoint: { id: number; name: string; url: string },
  inc: store.IncidentRow,
): MonitorEvent {
  return {
    eventId: `incident:${inc.id}:${type === 'incident_start' ? 'start' : 'resolved'}`,
    type,
    at: new Date(at).toISOString(),
    projectId: service.projectId,
    service: { id: service.id, name: service.name },
    endpoint: { id: endpoint.id, name: endpoint.name, url: endpoint.url },
    incident: { id: inc.id, startedAt: inc.startedAt, resolvedAt: inc.resolvedAt, cause: inc.cause },
  };
}

export interface RecordDeps {
  db: Db;
  monitorTopic: string;
}

export interface RecordSummary {
  recorded: number;
  duplicates: number;
  opened: number[];
  resolved: number[];
}

const MAX_ERROR = 500;

/**
 * Store a batch of finished checks in one transaction: pings (idempotent on the endpoint's
 * slot, so a slot retaken after an expired lease never counts twice), the endpoints' counters
 * and next due time, incident transitions, and their monitor events in the outbox.
 */
export async function recordOutcomes(
  deps: RecordDeps,
  workerId: string,
  outcomes: CheckOutcome[],
  now: number,
): Promise<RecordSummary> {
  const summary: RecordSummary = { recorded: 0, duplicates: 0, opened: [], resolved: [] };
  if (outcomes.length === 0) return summary;
  // One outcome per endpoint per transaction: the state machine reads the row once.
  const seen = new Set<number>();
  const first: CheckOutcome[] = [];
  const rest: CheckOutcome[] = [];
  for (const o of outcomes) {
    if (seen.has(o.endpointId)) rest.push(o);
    else {
      seen.add(o.endpointId);
      first.push(o);
    }
  }
  if (rest.length) {
    const a = await recordOutcomes(deps, workerId, first, now);
    const b = await recordOutcomes(deps, workerId, rest, now);
    return {
      recorded: a.recorded + b.recorded,
      duplicates: a.duplicates + b.duplicates,
      opened: [...a.opened, ...b.opened],
      resolved: [...a.resolved, ...b.resolved],
    };
  }
  const sorted = [...outcomes].sort((a, b) => a.endpointId - b.endpointId);
  await deps.db.tx(async (q) => {
    // Lock the endpoints first (in id order, like every writer of these rows); an endpoint deleted
    // meanwhile is simply gone, and its result is dropped.
    const states = await q.query(
      `SELECT e.id, e.name, e.url, e.interval_s, e.failure_threshold, e.recovery_threshold, e.consecutive_failures,
              e.consecutive_successes, e.failing_since, e.open_incident_id, e.next_due_at, e.service_id,
              s.name AS service_name, s.project_id,
              EXISTS (SELECT 1 FROM uptime_maintenance m
                       WHERE (m.endpoint_id = e.id OR m.service_id = e.service_id) AND m.starts_at <= $2 AND m.ends_at > $2)
                AS maintenance
         FROM uptime_endpoints e JOIN uptime_services s ON s.id = e.service_id
        WHERE e.id = ANY($1::bigint[]) ORDER BY e.id FOR UPDATE OF e`,
      [sorted.map((o) => o.endpointId), new Date(now)],
    );
    const byId = new Map(states.map((s) => [s.id as number, s]));
    const maintenance = new Set(states.filter((s) => s.maintenance).map((s) => s.id as number));
    const present = sorted.filter((o) => byId.has(o.endpointId));
    if (present.length === 0) return;
    const r = present.map((o) => o.result);
    const inserted = await q.query<{ id: number; endpoint_id: number }>(
      `WITH ins AS (
         INSERT INTO uptime_pings (endpoint_id, slot_at, started_at, ok, status, http_status, error_kind, error,
           latency_ms, dns_ms, connect_ms, tls_ms, ttfb_ms, cert_expires_at, worker)
         SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::timestamptz[], $4::boolean[], $5::text[], $6::int[],
           $7::text[], $8::text[], $9::real[], $10::real[], $11::real[], $12::real[], $13::real[], $14::timestamptz[],
           $15::text[])
         ON CONFLICT (endpoint_id, slot_at) DO NOTHING
         RETURNING id, endpoint_id, slot_at),
       late AS (
         INSERT INTO uptime_window_dirty (endpoint_id, window_start)
         SELECT DISTINCT endpoint_id, to_timestamp(floor(extract(epoch FROM slot_at) / 300) * 300) FROM ins
          WHERE slot_at < (SELECT watermark FROM uptime_aggregation WHERE id = 1)
         ON CONFLICT DO NOTHING)
       SELECT id, endpoint_id FROM ins`,
      [
        present.map((o) => o.endpointId),
        present.map((o) => new Date(o.slot)),
        r.map((x) => new Date(x.startedAt)),
        r.map((x) => x.ok),
        r.map((x) => x.status),
        r.map((x) => x.httpStatus),
        r.map((x) => x.errorKind),
        r.map((x) => (x.error ? x.error.slice(0, MAX_ERROR) : null)),
        r.map((x) => x.latencyMs),
        r.map((x) => x.dnsMs),
        r.map((x) => x.connectMs),
        r.map((x) => x.tlsMs),
        r.map((x) => x.ttfbMs),
        r.map((x) => x.certExpiresAt),
        present.map(() => workerId),
      ],
    );
    const pingIdOf = new Map(inserted.map((p) => [p.endpoint_id, p.id]));
    summary.recorded = inserted.length;
    summary.duplicates = present.length - inserted.length;

    const fresh = present.filter((o) => pingIdOf.has(o.endpointId));

    const upd = {
      id: [] as number[],
      cf: [] as number[],
      cs: [] as number[],
      since: [] as (Date | null)[],
      incident: [] as (number | null)[],
      status: [] as string[],
      at: [] as Date[],
      latency: [] as (number | null)[],
      slot: [] as Date[],
      next: [] as Date[],
    };
    const linkPing: number[] = [];
    const linkIncident: number[] = [];
    for (const o of fresh) {
      const row = byId.get(o.endpointId);
      if (!row) continue; // deleted meanwhile
      const at = o.result.startedAt;
      const { state, transition } = evaluate(
        {
          consecutiveFailures: row.consecutive_failures as number,
          consecutiveSuccesses: row.consecutive_successes as number,
          failingSince: row.failing_since ? (row.failing_since as Date).getTime() : null,
          openIncidentId: (row.open_incident_id as number | null) ?? null,
        },
        o.result.ok,
        at,
        { failure: row.failure_threshold as number, recovery: row.recovery_threshold as number },
        maintenance.has(o.endpointId),
      );
      const event = (type: MonitorEvent['type'], inc: store.IncidentRow): MonitorEvent =>
        monitorEvent(
          type,
          at,
          {
            id: row.service_id as number,
            name: row.service_name as string,
            projectId: (row.project_id as number | null) ?? null,
          },
          { id: o.endpointId, name: row.name as string, url: row.url as string },
          inc,
        );
      if (transition === 'open') {
        const inc = await store.insertIncident(q, {
          endpointId: o.endpointId,
          serviceId: row.service_id as number,
          cause: o.result.error ?? o.result.errorKind ?? 'check failed',
          errorKind: o.result.errorKind,
          startedAt: new Date(state.failingSince ?? at),
          openedAt: new Date(at),
        });
        state.openIncidentId = inc.id;
        // The failing pings of the streak that opened it (this one is linked below).
        await q.query(
          `UPDATE uptime_pings SET incident_id = $1
            WHERE endpoint_id = $2 AND started_at >= $3 AND NOT ok AND incident_id IS NULL`,
          [inc.id, o.endpointId, new Date(state.failingSince ?? at)],
        );
        await store.insertOutbox(
          q,
          deps.monitorTopic,
          String(o.endpointId),
          JSON.stringify(event('incident_start', inc)),
        );
        summary.opened.push(inc.id);
      } else if (transition === 'resolve') {
        const inc = await store.resolveIncident(q, state.openIncidentId!, new Date(at), 'recovery');
        state.openIncidentId = null;
        if (inc) {
          await store.insertOutbox(
            q,
            deps.monitorTopic,
            String(o.endpointId),
            JSON.stringify(event('incident_resolved', inc)),
          );
          summary.resolved.push(inc.id);
        }
      }
      if (!o.result.ok && state.openIncidentId != null) {
        linkPing.push(pingIdOf.get(o.endpointId)!);
        linkIncident.push(state.openIncidentId);
      }
      const intervalMs = (row.interval_s as number) * 1000;
      const due = (row.next_due_at as Date).getTime();
      upd.id.push(o.endpointId);
      upd.cf.push(state.consecutiveFailures);
      upd.cs.push(state.consecutiveSuccesses);
      upd.since.push(state.failingSince != null ? new Date(state.failingSince) : null);
      upd.incident.push(state.openIncidentId);
      upd.status.push(o.result.status);
      upd.at.push(new Date(at));
      upd.latency.push(o.result.ok ? o.result.latencyMs : null);
      upd.slot.push(new Date(o.slot));
      // Advance only when the row is still at this slot (an edit may have moved the schedule).
      upd.next.push(new Date(due === o.slot ? nextSlot(o.endpointId, intervalMs, o.slot, now) : due));
    }
    if (linkPing.length)
      await q.query(
        `UPDATE uptime_pings p SET incident_id = v.incident FROM unnest($1::bigint[], $2::bigint[]) AS v(id, incident)
          WHERE p.id = v.id`,
        [linkPing, linkIncident],
      );
    if (upd.id.length)
      await q.query(
        `UPDATE uptime_endpoints e SET consecutive_failures = v.cf, consecutive_successes = v.cs, failing_since = v.since,
           open_incident_id = v.incident, last_status = v.status, last_checked_at = v.at, last_latency_ms = v.latency,
           next_due_at = v.next,
           lease_owner = CASE WHEN e.lease_owner = $11 THEN NULL ELSE e.lease_owner END,
           lease_until = CASE WHEN e.lease_owner = $11 THEN NULL ELSE e.lease_until END
          FROM unnest($1::bigint[], $2::int[], $3::int[], $4::timestamptz[], $5::bigint[], $6::text[], $7::timestamptz[],
                      $8::real[], $9::timestamptz[], $10::timestamptz[])
               AS v(id, cf, cs, since, incident, status, at, latency, slot, next)
         WHERE e.id = v.id`,
        [
          upd.id,
          upd.cf,
          upd.cs,
          upd.since,
          upd.incident,
          upd.status,
          upd.at,
          upd.latency,
          upd.slot,
          upd.next,
          workerId,
        ],
      );
    // Duplicates (the slot was already recorded by a worker that took the lease over): just let go.
    const dup = present.filter((o) => !pingIdOf.has(o.endpointId)).map((o) => o.endpointId);
    if (dup.length)
      await q.query(
        `UPDATE uptime_endpoints SET lease_owner = NULL, lease_until = NULL
          WHERE id = ANY($1::bigint[]) AND lease_owner = $2`,
        [dup, workerId],
      );
  });
  return summary;
}

/** Release leases without recording (a worker stopping before it ran the claimed checks). */
export async function releaseLeases(q: Queryable, workerId: string, endpointIds: number[]): Promise<void> {
  if (endpointIds.length === 0) return;
  await q.query(
    `UPDATE uptime_endpoints SET lease_owner = NULL, lease_until = NULL WHERE id = ANY($1::bigint[]) AND lease_owner = $2`,
    [endpointIds, workerId],
  );
}
