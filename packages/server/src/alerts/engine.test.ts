import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IssueUpdate } from '../events/updates.js';
import { Db } from '../platform/db/db.js';
import { migrate } from '../platform/db/migrate.js';
import { createTestDatabase, requirePg, type TestDatabase } from '../test-support/index.js';
import { AlertEngine } from './engine.js';
import { ruleBodySchema } from './schemas.js';
import * as store from './store.js';
import { issueUpdate, monitorEvent } from './testing.js';

describe.runIf(requirePg())('alert rule evaluation', () => {
  let tdb: TestDatabase;
  let db: Db;
  let engine: AlertEngine;
  let nextProject = 1000;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    db = new Db(tdb.url, 6);
    await migrate(db);
    engine = new AlertEngine(db, { publicUrl: 'http://beacon.test' });
  });
  afterAll(async () => {
    await db?.close();
    await tdb?.drop();
  });

  async function rule(body: Record<string, unknown>) {
    const projectId = nextProject++;
    const input = ruleBodySchema.parse({
      name: 'r',
      actions: [{ type: 'webhook', url: 'http://127.0.0.1:9/hook' }],
      ...body,
    });
    return { projectId, rule: await store.insertRule(db, projectId, input, null) };
  }
  const alertsOf = (ruleId: number) =>
    db.query<{ id: number; state: string; count: number; subject: string; reason: string }>(
      'SELECT id, state, count, subject, reason FROM alerts WHERE rule_id = $1 ORDER BY id',
      [ruleId],
    );
  const deliveriesOf = async (ruleId: number) =>
    (await db.query('SELECT id FROM alert_deliveries WHERE rule_id = $1', [ruleId])).length;
  const at = (base: number, minutes: number) => new Date(base + minutes * 60_000);
  const T0 = Date.UTC(2026, 0, 5, 0, 0, 0);

  it('new_issue fires once for a created issue, never for occurrences, and ignores a redelivered update', async () => {
    const { projectId, rule: r } = await rule({ trigger: { type: 'new_issue' } });
    expect(await engine.handleIssueUpdate(issueUpdate(projectId, 1, { type: 'occurrence' }))).toEqual([]);
    const created = issueUpdate(projectId, 2, { type: 'created' });
    expect(await engine.handleIssueUpdate(created)).toEqual(['fired']);
    expect(await engine.handleIssueUpdate(created)).toEqual([]);
    expect(await alertsOf(r.id)).toMatchObject([{ state: 'firing', count: 1, subject: 'issue:2' }]);
    expect(await deliveriesOf(r.id)).toBe(1);
  });

  it('regression fires for a regressed issue only', async () => {
    const { projectId, rule: r } = await rule({ trigger: { type: 'regression' } });
    await engine.handleIssueUpdate(issueUpdate(projectId, 1, { type: 'created' }));
    await engine.handleIssueUpdate(issueUpdate(projectId, 1, { type: 'occurrence' }));
    expect(await alertsOf(r.id)).toEqual([]);
    expect(await engine.handleIssueUpdate(issueUpdate(projectId, 1, { type: 'regressed' }))).toEqual([
      'fired',
    ]);
    expect(await alertsOf(r.id)).toHaveLength(1);
  });

  it('level fires at or above the level, and a repeat within the cooldown folds into the open alert', async () => {
    const { projectId, rule: r } = await rule({
      trigger: { type: 'level', level: 'error' },
      cooldownMinutes: 30,
    });
    expect(
      await engine.handleIssueUpdate(issueUpdate(projectId, 1, { level: 'warning', newEvents: 5 })),
    ).toEqual([]);
    expect(await engine.handleIssueUpdate(issueUpdate(projectId, 1, { level: 'error' }), at(T0, 0))).toEqual([
      'fired',
    ]);
    expect(await engine.handleIssueUpdate(issueUpdate(projectId, 1, { level: 'fatal' }), at(T0, 10))).toEqual(
      ['folded'],
    );
    expect(await alertsOf(r.id)).toMatchObject([{ count: 2, state: 'firing' }]);
    expect(await deliveriesOf(r.id)).toBe(1);
    // After the cooldown the open alert notifies again (still one alert record).
    expect(await engine.handleIssueUpdate(issueUpdate(projectId, 1, { level: 'error' }), at(T0, 31))).toEqual(
      ['notified_again'],
    );
    expect(await alertsOf(r.id)).toMatchObject([{ count: 3 }]);
    expect(await deliveriesOf(r.id)).toBe(2);
    // A mixed batch counts only its events at or above the level.
    const { projectId: p2, rule: r2 } = await rule({ trigger: { type: 'level', level: 'fatal' } });
    await engine.handleIssueUpdate(issueUpdate(p2, 1, { levels: { error: 10, warning: 3 }, newEvents: 13 }));
    expect(await alertsOf(r2.id)).toEqual([]);
    await engine.handleIssueUpdate(issueUpdate(p2, 1, { levels: { error: 10, fatal: 1 }, newEvents: 11 }));
    expect(await alertsOf(r2.id)).toHaveLength(1);
  });

  it('count_threshold fires once when the total count crosses N', async () => {
    const { projectId, rule: r } = await rule({ trigger: { type: 'count_threshold', threshold: 100 } });
    await engine.handleIssueUpdate(issueUpdate(projectId, 7, { newEvents: 9, count: 99 }));
    expect(await alertsOf(r.id)).toEqual([]);
    await engine.handleIssueUpdate(issueUpdate(projectId, 7, { newEvents: 3, count: 102 }));
    await engine.handleIssueUpdate(issueUpdate(projectId, 7, { newEvents: 50, count: 152 }));
    expect(await alertsOf(r.id)).toMatchObject([{ count: 1, subject: 'issue:7' }]);
    expect(await deliveriesOf(r.id)).toBe(1);
  });

  it('frequency fires on more than N events in M minutes, not at N, and once per crossing', async () => {
    const { projectId, rule: r } = await rule({
      trigger: { type: 'frequency', threshold: 10, windowMinutes: 5, per: 'project' },
      cooldownMinutes: 60,
    });
    // 10 events spread over the window: not more than 10.
    for (let i = 0; i < 5; i++)
      await engine.handleIssueUpdate(issueUpdate(projectId, 1 + (i % 2), { newEvents: 2 }), at(T0, i));
    expect(await alertsOf(r.id)).toEqual([]);
    // The 11th within 5 minutes of the first crosses.
    expect(await engine.handleIssueUpdate(issueUpdate(projectId, 3), at(T0, 4.5))).toEqual(['fired']);
    // Further events while above change nothing.
    expect(await engine.handleIssueUpdate(issueUpdate(projectId, 3, { newEvents: 5 }), at(T0, 4.6))).toEqual(
      [],
    );
    // 11 events spread over 11 minutes never exceed 10 in any 5-minute window.
    const { projectId: p2, rule: r2 } = await rule({
      trigger: { type: 'frequency', threshold: 10, windowMinutes: 5, per: 'project' },
    });
    for (let i = 0; i < 11; i++)
      await engine.handleIssueUpdate(issueUpdate(p2, 1, { newEvents: 2 }), at(T0, i * 3));
    expect(await alertsOf(r2.id)).toEqual([]);
    // Crossing again later within the cooldown folds; after the cooldown it notifies again.
    await engine.handleIssueUpdate(issueUpdate(projectId, 3, { newEvents: 11 }), at(T0, 30));
    expect(await alertsOf(r.id)).toMatchObject([{ count: 2 }]);
    expect(await deliveriesOf(r.id)).toBe(1);
    await engine.handleIssueUpdate(issueUpdate(projectId, 3, { newEvents: 11 }), at(T0, 120));
    expect(await alertsOf(r.id)).toMatchObject([{ count: 3 }]);
    expect(await deliveriesOf(r.id)).toBe(2);
  });

  it('editing what a counting rule counts drops its old counts; editing only the threshold keeps them', async () => {
    const { projectId, rule: r } = await rule({
      trigger: { type: 'frequency', threshold: 5, windowMinutes: 10, per: 'project' },
    });
    const update = (patch: Record<string, unknown>) =>
      store.updateRule(db, r.id, ruleBodySchema.parse({ name: 'r', actions: r.actions, ...patch }));
    await engine.handleIssueUpdate(
      issueUpdate(projectId, 1, { newEvents: 4, environment: 'staging' }),
      at(T0, 0),
    );
    // Threshold only: the 4 counted events still count, 4 + 3 > 6.
    await update({ trigger: { type: 'frequency', threshold: 6, windowMinutes: 10, per: 'project' } });
    expect(
      await engine.handleIssueUpdate(
        issueUpdate(projectId, 1, { newEvents: 3, environment: 'staging' }),
        at(T0, 1),
      ),
    ).toEqual(['fired']);
    // New filters: the 7 staging events must not count towards the production-only rule.
    await update({
      trigger: { type: 'frequency', threshold: 6, windowMinutes: 10, per: 'project' },
      filters: { environment: 'production' },
    });
    expect(await store.sumEvents(db, r.id, 'project', at(T0, -10), at(T0, 10))).toBe(0);
    expect(
      await engine.handleIssueUpdate(
        issueUpdate(projectId, 1, { newEvents: 2, environment: 'production' }),
        at(T0, 2),
      ),
    ).toEqual([]);
    // A new window width drops them too.
    await update({
      trigger: { type: 'frequency', threshold: 6, windowMinutes: 5, per: 'project' },
      filters: { environment: 'production' },
    });
    expect(await store.sumEvents(db, r.id, 'project', at(T0, -10), at(T0, 10))).toBe(0);
  });

  it('frequency per issue by distinct users', async () => {
    const { projectId, rule: r } = await rule({
      trigger: { type: 'frequency', threshold: 3, windowMinutes: 10, metric: 'users', per: 'issue' },
    });
    await engine.handleIssueUpdate(issueUpdate(projectId, 1, { userIds: ['a', 'b'] }), at(T0, 0));
    await engine.handleIssueUpdate(issueUpdate(projectId, 1, { userIds: ['b', 'c'] }), at(T0, 1));
    await engine.handleIssueUpdate(issueUpdate(projectId, 2, { userIds: ['d', 'e'] }), at(T0, 1));
    expect(await alertsOf(r.id)).toEqual([]);
    await engine.handleIssueUpdate(issueUpdate(projectId, 1, { userIds: ['a', 'd'] }), at(T0, 2));
    expect(await alertsOf(r.id)).toMatchObject([{ subject: 'issue:1', count: 1 }]);
  });

  it('filters on environment, release, level, tags and issue status', async () => {
    const { projectId, rule: r } = await rule({
      trigger: { type: 'new_issue' },
      filters: {
        environment: ['production'],
        release: 'v2',
        level: 'error',
        tags: { region: 'eu' },
        issueStatus: ['unresolved'],
      },
    });
    const ok = { type: 'created' as const, environment: 'production', release: 'v2', tags: { region: 'eu' } };
    const misses: Array<Partial<Parameters<typeof issueUpdate>[2]>> = [
      { environment: 'staging' },
      { release: 'v1' },
      { level: 'warning' },
      { tags: { region: 'us' } },
      { status: 'ignored' },
    ];
    let issue = 1;
    for (const m of misses) await engine.handleIssueUpdate(issueUpdate(projectId, issue++, { ...ok, ...m }));
    expect(await alertsOf(r.id)).toEqual([]);
    await engine.handleIssueUpdate(issueUpdate(projectId, issue, ok));
    expect(await alertsOf(r.id)).toHaveLength(1);
  });

  it('silences mute a rule, an issue or the whole project until their end', async () => {
    const { projectId, rule: r } = await rule({
      trigger: { type: 'level', level: 'error' },
      cooldownMinutes: 0,
    });
    const until = at(T0, 60);
    const s1 = await store.insertSilence(db, { projectId, issueId: 1, until, comment: '', userId: null });
    expect(await engine.handleIssueUpdate(issueUpdate(projectId, 1), at(T0, 1))).toEqual(['silenced']);
    expect(await engine.handleIssueUpdate(issueUpdate(projectId, 2), at(T0, 1))).toEqual(['fired']);
    await store.deleteSilence(db, projectId, s1.id);
    await store.insertSilence(db, { projectId, ruleId: r.id, until, comment: '', userId: null });
    expect(await engine.handleIssueUpdate(issueUpdate(projectId, 3), at(T0, 2))).toEqual(['silenced']);
    // After `until` the rule fires again.
    expect(await engine.handleIssueUpdate(issueUpdate(projectId, 3), at(T0, 61))).toEqual(['fired']);
    const { projectId: p2 } = await rule({ trigger: { type: 'new_issue' } });
    await store.insertSilence(db, { projectId: p2, until, comment: '', userId: null });
    expect(await engine.handleIssueUpdate(issueUpdate(p2, 1, { type: 'created' }), at(T0, 5))).toEqual([
      'silenced',
    ]);
  });

  it('uptime rules open an alert on incident start and resolve it (notifying) on resolution', async () => {
    const { projectId, rule: r } = await rule({ trigger: { type: 'uptime' } });
    const { rule: other } = await rule({ trigger: { type: 'uptime', serviceId: 99 } });
    expect(await engine.handleMonitorEvent(monitorEvent(projectId, 5, 50, 'incident_start', 1))).toEqual([
      'fired',
    ]);
    expect(await engine.handleMonitorEvent(monitorEvent(projectId, 5, 50, 'incident_start', 1))).toEqual([]);
    expect(await alertsOf(r.id)).toMatchObject([{ state: 'firing', subject: 'endpoint:50' }]);
    expect(await engine.handleMonitorEvent(monitorEvent(projectId, 5, 50, 'incident_resolved', 1))).toEqual([
      'fired',
    ]);
    expect(await alertsOf(r.id)).toMatchObject([{ state: 'resolved', subject: 'endpoint:50' }]);
    expect(await deliveriesOf(r.id)).toBe(2);
    expect(await alertsOf(other.id)).toEqual([]);
    // A monitor of another project never reaches this project's rules.
    await engine.handleMonitorEvent(monitorEvent(projectId + 1, 5, 50, 'incident_start', 2));
    expect(await alertsOf(r.id)).toHaveLength(1);
  });

  it('a bus batch is evaluated once per update id, across projects, counting each event once', async () => {
    const { projectId: p1, rule: r1 } = await rule({
      trigger: { type: 'frequency', threshold: 10, windowMinutes: 5, per: 'project' },
    });
    const { projectId: p2, rule: r2 } = await rule({ trigger: { type: 'new_issue' } });
    const dup = issueUpdate(p1, 1, { newEvents: 5 });
    const batch = [
      dup,
      dup,
      issueUpdate(p2, 9, { type: 'created' }),
      issueUpdate(p1, 2, { newEvents: 5 }),
      issueUpdate(1_000_000, 1, { newEvents: 50 }), // a project without rules
    ];
    expect(await engine.handleIssueUpdates(batch, at(T0, 0))).toEqual(['fired']);
    expect(await alertsOf(r1.id)).toEqual([]); // 10 events: not more than 10
    expect(await alertsOf(r2.id)).toHaveLength(1);
    expect(await engine.handleIssueUpdates([dup, issueUpdate(p1, 3)], at(T0, 1))).toEqual(['fired']);
    expect(await alertsOf(r1.id)).toMatchObject([{ reason: '11 events in 5 min (threshold 10)' }]);
  });

  it('two workers evaluating the same and concurrent updates create one alert', async () => {
    const { projectId, rule: r } = await rule({
      trigger: { type: 'frequency', threshold: 5, windowMinutes: 5, per: 'project' },
    });
    const other = new AlertEngine(db, { publicUrl: 'http://beacon.test' });
    const u = issueUpdate(projectId, 1, { newEvents: 3 });
    const updates: IssueUpdate[] = [u, u, ...Array.from({ length: 6 }, () => issueUpdate(projectId, 2))];
    await Promise.all(updates.map((x, i) => (i % 2 ? engine : other).handleIssueUpdate(x, at(T0, 0))));
    const [sum] = await db.query<{ n: number }>(
      'SELECT sum(events)::int AS n FROM alert_counts WHERE rule_id = $1',
      [r.id],
    );
    expect(sum?.n).toBe(9);
    expect(await alertsOf(r.id)).toMatchObject([{ count: 1 }]);
  });

  describe('anomaly', () => {
    const trigger = {
      type: 'anomaly',
      per: 'project',
      windowMinutes: 5,
      baselineWindows: 24,
      minHistoryWindows: 6,
    };
    // A deterministic pseudo-random generator so the simulated day is the same on every run.
    const rng = (seed: number) => () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };

    /** Feed `count` events spread over window `w` (5 minutes each) as several updates. */
    async function feed(projectId: number, w: number, count: number, parts = 4) {
      for (let i = 0; i < parts; i++) {
        const n = Math.floor(count / parts) + (i < count % parts ? 1 : 0);
        if (n > 0)
          await engine.handleIssueUpdate(
            issueUpdate(projectId, 1 + i, { newEvents: n }),
            at(T0, w * 5 + i + 0.5),
          );
      }
    }

    it('a steady baseline then a 5× spike raises exactly one alert', async () => {
      const { projectId, rule: r } = await rule({ trigger });
      const rand = rng(7);
      for (let w = 0; w < 24; w++) await feed(projectId, w, 18 + Math.floor(rand() * 5)); // 18..22
      expect(await alertsOf(r.id)).toEqual([]);
      await feed(projectId, 24, 100);
      const alerts = await alertsOf(r.id);
      expect(alerts).toHaveLength(1);
      expect(alerts[0]!.reason).toMatch(/events in 5 min vs baseline median 20/);
      expect(await deliveriesOf(r.id)).toBe(1);
    });

    it('noise within the baseline spread over a simulated day raises none', async () => {
      const { projectId, rule: r } = await rule({ trigger });
      const rand = rng(42);
      // 288 five-minute windows, a slow daily curve (10..30) plus ±30% noise.
      for (let w = 0; w < 288; w++) {
        const base = 20 + 10 * Math.sin((2 * Math.PI * w) / 288);
        await feed(projectId, w, Math.round(base * (0.7 + 0.6 * rand())), 1);
      }
      expect(await alertsOf(r.id)).toEqual([]);
    });

    it('needs history and k consecutive windows', async () => {
      const { projectId, rule: r } = await rule({ trigger: { ...trigger, consecutiveWindows: 2 } });
      // No history: a burst in the first windows is not an anomaly.
      await feed(projectId, 0, 200);
      for (let w = 1; w < 12; w++) await feed(projectId, w, 10);
      expect(await alertsOf(r.id)).toEqual([]);
      await feed(projectId, 12, 80);
      expect(await alertsOf(r.id)).toEqual([]);
      await feed(projectId, 13, 80);
      expect(await alertsOf(r.id)).toHaveLength(1);
    });
  });
});
