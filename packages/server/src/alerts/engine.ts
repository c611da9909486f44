import { levels } from '../events/schema.js';
import type { IssueUpdate, MonitorEvent } from '../events/updates.js';
import type { Db, Queryable } from '../platform/db/db.js';
import { scoreWindow } from './anomaly.js';
import type { NotificationPayload, Target } from './channels.js';
import type { Filters, Rule, Trigger } from './schemas.js';
import * as store from './store.js';

/**
 * Rule evaluation. Each bus message is evaluated in one transaction that (1) records the message
 * id (a redelivery finds it and does nothing), (2) locks the project's enabled rules in id order
 * (several alert workers never evaluate one rule at once), (3) updates the per-window counts,
 * (4) creates or folds alerts and enqueues their deliveries. A crash anywhere rolls all of it
 * back, and the bus redelivers the message: no notification is lost or doubled.
 *
 * Every function takes the evaluation time explicitly so tests can simulate a day in milliseconds.
 */

const rank = (l: string) => levels.indexOf(l as (typeof levels)[number]);

export type FireOutcome = 'fired' | 'folded' | 'notified_again' | 'silenced';

export interface EngineOptions {
  publicUrl: string;
  /** Called once per outcome, for metrics. */
  onOutcome?: (trigger: string, outcome: FireOutcome) => void;
}

/** Events of the update that pass the rule's filters (0 when the update does not match). */
export function matchedEvents(u: IssueUpdate, f: Filters): number {
  if (f.environment && !f.environment.includes(u.event.environment ?? '')) return 0;
  if (f.release && !f.release.includes(u.event.release ?? '')) return 0;
  if (f.tags) for (const [k, v] of Object.entries(f.tags)) if (u.event.tags[k] !== v) return 0;
  if (f.issueStatus && !f.issueStatus.includes(u.issue.status)) return 0;
  return eventsAtOrAbove(u, f.level ?? 'debug');
}

export function eventsAtOrAbove(u: IssueUpdate, min: string): number {
  const entries = Object.entries(u.levels).filter(([, n]) => n > 0);
  if (entries.length === 0) return rank(u.event.level) >= rank(min) ? Math.max(u.newEvents, 1) : 0;
  let n = 0;
  for (const [level, count] of entries) if (rank(level) >= rank(min)) n += count;
  return n;
}

const floorTo = (t: Date, ms: number) => new Date(Math.floor(t.getTime() / ms) * ms);

/** What one batch adds to a counting rule (frequency, anomaly) for one subject. */
interface Accumulated {
  rule: Rule;
  subject: string;
  n: number;
  users: Set<string>;
  /** The latest matching update: the context of the notification. */
  u: IssueUpdate;
}

interface Firing {
  subject: string;
  issueId: number | null;
  serviceId?: number | null;
  endpointId?: number | null;
  reason: string;
  details: Record<string, unknown>;
  title: string;
  lines: string[];
  url?: string;
  data: Record<string, unknown>;
}

export class AlertEngine {
  constructor(
    private readonly db: Db,
    private readonly opts: EngineOptions,
  ) {}

  private issueUrl(projectId: number, issueId: number) {
    return `${this.opts.publicUrl}/p/${projectId}/issues/${issueId}`;
  }

  /** Evaluate one issue update. Returns the outcomes (for tests and logs). */
  async handleIssueUpdate(u: IssueUpdate, now: Date = new Date()): Promise<FireOutcome[]> {
    return this.handleIssueUpdates([u], now);
  }

  /**
   * Evaluate a batch of issue updates in one transaction (one commit for the whole bus batch).
   * Rule locks are taken project by project in ascending id order, so concurrent workers never
   * deadlock; a failure rolls the whole batch back and the bus redelivers it.
   */
  async handleIssueUpdates(updates: IssueUpdate[], now: Date = new Date()): Promise<FireOutcome[]> {
    const withRules = await store.projectsWithRules(
      this.db,
      [...new Set(updates.map((u) => u.projectId))],
      false,
    );
    const relevant = updates.filter((u) => withRules.has(u.projectId));
    if (relevant.length === 0) return [];
    return this.db.tx(async (q) => {
      const fresh = await store.markProcessedMany(
        q,
        relevant.map((u) => `u:${u.updateId}`),
      );
      const projects = [
        ...new Set(relevant.filter((u) => fresh.has(`u:${u.updateId}`)).map((u) => u.projectId)),
      ];
      const rulesByProject = new Map<number, Rule[]>();
      for (const p of projects.sort((a, b) => a - b))
        rulesByProject.set(p, await store.lockRules(q, p, false));
      const outcomes: FireOutcome[] = [];
      const acc = new Map<string, Accumulated>();
      for (const u of relevant) {
        // Once per update id, even when the batch itself holds a duplicate.
        if (!fresh.delete(`u:${u.updateId}`)) continue;
        for (const rule of rulesByProject.get(u.projectId) ?? []) {
          const firing = this.evaluate(rule, u, acc);
          if (firing) outcomes.push(await this.fire(q, rule, firing, now));
        }
      }
      const byRule = new Map<number, Accumulated[]>();
      for (const a of acc.values()) {
        const list = byRule.get(a.rule.id);
        if (list) list.push(a);
        else byRule.set(a.rule.id, [a]);
      }
      for (const list of byRule.values()) {
        const rule = list[0]!.rule;
        const firings: Array<Firing | undefined> = [];
        if (rule.trigger.type === 'frequency' && rule.trigger.metric === 'events')
          firings.push(...(await this.frequencyEvents(q, list, now)));
        else for (const a of list) firings.push(await this.evaluateCounts(q, a, now));
        for (const f of firings) if (f) outcomes.push(await this.fire(q, rule, f, now));
      }
      return outcomes;
    });
  }

  private base(rule: Rule, u: IssueUpdate, subject: string, reason: string, title: string): Firing {
    const issueSubject = subject.startsWith('issue:');
    const lines = [
      `Rule: ${rule.name}`,
      `Reason: ${reason}`,
      ...(issueSubject || subject === 'project'
        ? [
            `Issue: ${u.issue.title}${u.issue.culprit ? ` (${u.issue.culprit})` : ''}`,
            `Level: ${u.event.level}`,
            `Events: ${u.issue.count} total, ${u.issue.userCount} users`,
          ]
        : []),
      ...(u.event.environment ? [`Environment: ${u.event.environment}`] : []),
      ...(u.event.release ? [`Release: ${u.event.release}`] : []),
    ];
    return {
      subject,
      issueId: issueSubject ? u.issue.id : null,
      reason,
      details: {},
      title,
      lines,
      url: issueSubject ? this.issueUrl(u.projectId, u.issue.id) : undefined,
      data: { projectId: u.projectId, issue: u.issue, event: u.event },
    };
  }

  /** Non-counting triggers answer at once; counting ones accumulate into `acc`. */
  private evaluate(rule: Rule, u: IssueUpdate, acc: Map<string, Accumulated>): Firing | undefined {
    const t: Trigger = rule.trigger;
    const n = matchedEvents(u, rule.filters);
    const issueSubject = `issue:${u.issue.id}`;
    switch (t.type) {
      case 'new_issue':
        if (u.type !== 'created' || n === 0) return;
        return this.base(rule, u, issueSubject, 'new issue', `New issue: ${u.issue.title}`);
      case 'regression':
        if (u.type !== 'regressed' || n === 0) return;
        return this.base(rule, u, issueSubject, 'resolved issue regressed', `Regression: ${u.issue.title}`);
      case 'level': {
        if (n === 0) return;
        const atLevel = Math.min(n, eventsAtOrAbove(u, t.level));
        if (atLevel === 0) return;
        return this.base(
          rule,
          u,
          issueSubject,
          `${atLevel} event(s) at or above ${t.level}`,
          `[${u.event.level}] ${u.issue.title}`,
        );
      }
      case 'count_threshold': {
        if (n === 0) return;
        const before = u.issue.count - u.newEvents;
        if (!(before < t.threshold && u.issue.count >= t.threshold)) return;
        const f = this.base(
          rule,
          u,
          issueSubject,
          `issue count reached ${u.issue.count} (threshold ${t.threshold})`,
          `Issue passed ${t.threshold} events: ${u.issue.title}`,
        );
        f.details = { count: u.issue.count, threshold: t.threshold };
        return f;
      }
      case 'frequency':
      case 'anomaly': {
        // Counting triggers: accumulate the batch per rule and subject, evaluated once in evaluateCounts.
        if (n === 0 && t.type === 'frequency') return;
        const subject = t.per === 'issue' ? issueSubject : 'project';
        const key = `${rule.id}|${subject}`;
        const a = acc.get(key);
        if (!a) acc.set(key, { rule, subject, n, users: new Set(n > 0 ? u.userIds : []), u });
        else if (n > 0) {
          a.n += n;
          for (const id of u.userIds) a.users.add(id);
          a.u = u;
        }
        return;
      }
      case 'uptime':
        return;
    }
  }

  /**
   * Frequency (events) for every subject the batch touched of one rule, in two statements: the
   * window sums before the batch, then one multi-row upsert of the batch's counts.
   */
  private async frequencyEvents(
    q: Queryable,
    list: Accumulated[],
    now: Date,
  ): Promise<Array<Firing | undefined>> {
    const rule = list[0]!.rule;
    const t = rule.trigger;
    if (t.type !== 'frequency') return [];
    const touched = list.filter((a) => a.n > 0);
    if (touched.length === 0) return [];
    const bucket = floorTo(now, 60_000);
    const from = new Date(bucket.getTime() - (t.windowMinutes - 1) * 60_000);
    const subjects = touched.map((a) => a.subject);
    const before = await store.sumEventsBySubject(q, rule.id, subjects, from, bucket);
    await store.addCounts(
      q,
      rule.id,
      bucket,
      subjects,
      touched.map((a) => a.n),
    );
    return touched.map((a) => {
      const b = before.get(a.subject) ?? 0;
      return this.frequencyCrossing(a, b, b + a.n);
    });
  }

  /** A frequency firing when the window's value went from `before` to `after` across the threshold. */
  private frequencyCrossing(a: Accumulated, before: number, after: number): Firing | undefined {
    const { rule, subject, u } = a;
    const t = rule.trigger;
    if (t.type !== 'frequency') return;
    // Fire on the crossing only: later events while above the threshold change nothing.
    if (!(before <= t.threshold && after > t.threshold)) return;
    const what = t.metric === 'users' ? 'users' : 'events';
    const reason = `${after} ${what} in ${t.windowMinutes} min (threshold ${t.threshold})`;
    const title =
      t.per === 'issue'
        ? `${after} ${what} in ${t.windowMinutes} min: ${u.issue.title}`
        : `${after} ${what} in ${t.windowMinutes} min in project ${u.projectId}`;
    const f = this.base(rule, u, subject, reason, title);
    f.details = { value: after, metric: t.metric, windowMinutes: t.windowMinutes, threshold: t.threshold };
    return f;
  }

  /** Evaluate a counting trigger once for everything the batch added to one rule and subject. */
  private async evaluateCounts(q: Queryable, a: Accumulated, now: Date): Promise<Firing | undefined> {
    const { rule, subject, n, u } = a;
    const t = rule.trigger;
    if (t.type === 'frequency') {
      // Distinct users (event counts go through frequencyEvents, a whole batch at once).
      if (n === 0) return;
      const bucket = floorTo(now, 60_000);
      const from = new Date(bucket.getTime() - (t.windowMinutes - 1) * 60_000);
      const before = await store.distinctUsers(q, rule.id, subject, from, bucket);
      await store.addUsers(q, rule.id, subject, bucket, [...a.users]);
      const after = await store.distinctUsers(q, rule.id, subject, from, bucket);
      await store.addCount(q, rule.id, subject, bucket, n);
      return this.frequencyCrossing(a, before, after);
    }
    if (t.type === 'anomaly') {
      const W = t.windowMinutes * 60_000;
      const cur = floorTo(now, W);
      const state = await store.anomalyState(q, rule.id, subject, cur);
      if (n === 0) return;
      await store.addCount(q, rule.id, subject, cur, n);
      const from = new Date(cur.getTime() - t.baselineWindows * W);
      const counts = await store.windowCounts(q, rule.id, subject, from, cur);
      const baseline: number[] = [];
      const start = Math.max(from.getTime(), state.since.getTime());
      for (let w = start; w < cur.getTime(); w += W) baseline.push(counts.get(w) ?? 0);
      const score = scoreWindow(counts.get(cur.getTime()) ?? n, baseline, t);
      if (!score.anomalous) return;
      if (state.lastWindow?.getTime() !== cur.getTime()) {
        state.streak = state.lastWindow?.getTime() === cur.getTime() - W ? state.streak + 1 : 1;
        state.lastWindow = cur;
      }
      let firing: Firing | undefined;
      if (state.streak >= t.consecutiveWindows && state.firedWindow?.getTime() !== cur.getTime()) {
        state.firedWindow = cur;
        const reason = `${score.count} events in ${t.windowMinutes} min vs baseline median ${score.median} (z ${score.z})`;
        const title =
          t.per === 'issue'
            ? `Anomalous event rate: ${u.issue.title}`
            : `Anomalous event rate in project ${u.projectId}`;
        firing = this.base(rule, u, subject, reason, title);
        firing.details = { ...score, window: cur.toISOString(), streak: state.streak };
      }
      await store.saveAnomalyState(q, rule.id, subject, state);
      return firing;
    }
    return undefined;
  }

  /** Create (or fold into the open) alert for the rule and subject and enqueue its notifications. */
  private async fire(q: Queryable, rule: Rule, f: Firing, now: Date): Promise<FireOutcome> {
    const outcome = await this.fireInner(q, rule, f, now);
    this.opts.onOutcome?.(rule.trigger.type, outcome);
    return outcome;
  }

  private async fireInner(q: Queryable, rule: Rule, f: Firing, now: Date): Promise<FireOutcome> {
    if (await store.isSilenced(q, rule.projectId, rule.id, f.issueId, now)) return 'silenced';
    const open = await store.openAlertForUpdate(q, rule.id, f.subject);
    if (open) {
      const last = open.last_notified_at?.getTime() ?? 0;
      const notify = open.state === 'firing' && now.getTime() - last >= rule.cooldownMinutes * 60_000;
      const row = await store.foldAlert(q, open.id, now, f.reason, notify);
      if (!notify) return 'folded';
      await this.enqueue(q, rule, row, f, `(repeated ${row.count}×) `);
      return 'notified_again';
    }
    const row = await store.insertAlert(q, {
      projectId: rule.projectId,
      ruleId: rule.id,
      ruleName: rule.name,
      subject: f.subject,
      issueId: f.issueId,
      serviceId: f.serviceId ?? null,
      endpointId: f.endpointId ?? null,
      triggerType: rule.trigger.type,
      reason: f.reason,
      details: f.details,
      at: now,
    });
    await this.enqueue(q, rule, row, f, '');
    return 'fired';
  }

  private async enqueue(q: Queryable, rule: Rule, alert: store.AlertRow, f: Firing, prefix: string) {
    if (rule.digestMinutes > 0) {
      for (const a of rule.actions)
        await store.addToDigest(q, {
          projectId: rule.projectId,
          ruleId: rule.id,
          ruleName: rule.name,
          target: a as Target,
          digestMinutes: rule.digestMinutes,
          item: {
            alertId: alert.id,
            title: f.title,
            reason: f.reason,
            count: alert.count,
            at: alert.last_fired_at.toISOString(),
            url: f.url,
          },
        });
      return;
    }
    const payload: NotificationPayload = {
      kind: 'alert',
      title: `${prefix}${f.title}`,
      lines: alert.count > 1 ? [...f.lines, `Occurrences: ${alert.count}`] : f.lines,
      url: f.url,
      data: { alert: store.toAlert(alert), rule: { id: rule.id, name: rule.name }, ...f.data },
    };
    await store.enqueueDeliveries(
      q,
      rule.actions.map((a) => ({
        projectId: rule.projectId,
        alertId: alert.id,
        ruleId: rule.id,
        kind: 'alert' as const,
        target: a as Target,
        payload,
      })),
    );
  }

  /** Evaluate one monitor transition: uptime webhooks of the service and `uptime` rules of its project. */
  async handleMonitorEvent(e: MonitorEvent, now: Date = new Date()): Promise<FireOutcome[]> {
    return this.db.tx(async (q) => {
      if (!(await store.markProcessed(q, `m:${e.eventId}`))) return [];
      const down = e.type === 'incident_start';
      const title = down
        ? `${e.endpoint.name} is down: ${e.incident.cause}`
        : `${e.endpoint.name} is back up after ${formatDuration(e.incident.startedAt, e.incident.resolvedAt ?? e.at)}`;
      const lines = [
        `Service: ${e.service.name}`,
        `Endpoint: ${e.endpoint.name} (${e.endpoint.url})`,
        `Incident #${e.incident.id} started ${e.incident.startedAt}${e.incident.resolvedAt ? `, resolved ${e.incident.resolvedAt}` : ''}`,
        `Cause: ${e.incident.cause}`,
      ];
      const hooks = await store.uptimeWebhooks(q, e.service.id, e.type);
      await store.enqueueDeliveries(
        q,
        hooks.map((h) => ({
          projectId: e.projectId,
          alertId: null,
          ruleId: null,
          kind: 'uptime_webhook' as const,
          target: { type: 'webhook' as const, url: h.url, ...(h.secret ? { secret: h.secret } : {}) },
          payload: { kind: 'monitor_event' as const, title, lines, data: { webhookId: h.id, event: e } },
        })),
      );
      if (e.projectId === null) return [];
      const rules = await store.lockRules(q, e.projectId, true);
      const outcomes: FireOutcome[] = [];
      for (const rule of rules) {
        const t = rule.trigger;
        if (t.type !== 'uptime' || (t.serviceId !== undefined && t.serviceId !== e.service.id)) continue;
        const subscribed = t.events.includes(e.type);
        const f: Firing = {
          subject: `endpoint:${e.endpoint.id}`,
          issueId: null,
          serviceId: e.service.id,
          endpointId: e.endpoint.id,
          reason: down ? `incident opened: ${e.incident.cause}` : 'incident resolved',
          details: { incidentId: e.incident.id, cause: e.incident.cause },
          title,
          lines: [`Rule: ${rule.name}`, ...lines],
          data: { projectId: e.projectId, monitorEvent: e },
        };
        if (down) {
          if (subscribed) outcomes.push(await this.fire(q, rule, f, now));
          continue;
        }
        // Resolution closes the open alert (quietly when the rule only wants incident starts).
        const open = await store.openAlertForUpdate(q, rule.id, f.subject);
        let alert = open ? await store.setAlertState(q, open.id, 'resolved', null, now) : undefined;
        if (!subscribed) continue;
        if (await store.isSilenced(q, rule.projectId, rule.id, null, now)) {
          outcomes.push('silenced');
          continue;
        }
        alert ??= await store.insertAlert(q, {
          projectId: rule.projectId,
          ruleId: rule.id,
          ruleName: rule.name,
          subject: f.subject,
          issueId: null,
          serviceId: e.service.id,
          endpointId: e.endpoint.id,
          triggerType: 'uptime',
          reason: f.reason,
          details: f.details,
          state: 'resolved',
          at: now,
        });
        await this.enqueue(q, rule, alert, f, '');
        outcomes.push('fired');
      }
      return outcomes;
    });
  }

  /** Enqueue a test notification to every action of the rule. */
  async sendTest(rule: Rule, by: string): Promise<number[]> {
    const payload: NotificationPayload = {
      kind: 'test',
      title: `Test notification for rule "${rule.name}"`,
      lines: [`Rule: ${rule.name}`, `Trigger: ${rule.trigger.type}`, `Requested by: ${by}`],
      data: { rule: { id: rule.id, name: rule.name }, projectId: rule.projectId, test: true },
    };
    return this.db.tx((q) =>
      store.enqueueDeliveries(
        q,
        rule.actions.map((a) => ({
          projectId: rule.projectId,
          alertId: null,
          ruleId: rule.id,
          kind: 'test' as const,
          target: a as Target,
          payload,
        })),
      ),
    );
  }
}

function formatDuration(from: string, to: string): string {
  const s = Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000));
  if (Number.isNaN(s)) return 'an unknown time';
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}
