import { z } from 'zod';
import { exceptionSchema, frameSchema, internalEventSchema, type Level } from '../events/schema.js';
import type { IssueUpdate } from '../events/updates.js';
import type { ConsumedMessage } from '../platform/bus/types.js';
import type { Db } from '../platform/db/db.js';
import type { Logger } from '../platform/logger.js';
import {
  computeGrouping,
  type FingerprintRule,
  type Grouping,
  parseFingerprintRules,
} from './fingerprint.js';
import { type GroupingEvent, type NormalizedEvent, normalizeEvent } from './normalize.js';
import * as store from './store.js';

/**
 * The grouping worker's batch step: parse → normalise → fingerprint (in memory), then one
 * transaction: resolve/create issues, insert the events idempotently, and apply the counts of
 * the rows actually inserted as multi-row upserts (issues, tags, hours, users), plus one outbox
 * row per touched issue. Publishing happens after commit from the outbox (see relay), so a crash
 * between commit and publish loses no update and a redelivered batch counts nothing twice.
 */

export interface ProcessorCounters {
  /** result: inserted | duplicate | invalid | expired | unknown_project */
  events(result: string, n: number): void;
}

export interface BatchResult {
  inserted: number;
  duplicates: number;
  invalid: number;
  skipped: number;
  updates: IssueUpdate[];
}

interface Prepared {
  n: NormalizedEvent;
  grouping: Grouping;
  raw: string;
  key: string;
}

interface ProjectInfo {
  rules: FingerprintRule[];
  retentionDays: number;
  at: number;
}

/**
 * The event as the worker reads it: the fields normalisation and grouping use, checked as ingest
 * checked them; breadcrumbs, extra, request, SDK info and frames' source context are stored as
 * they came (ingest validated them before publishing) — validating them again cost more than
 * the rest of the worker's JavaScript.
 */
const leanFrames = z.object({
  frames: z.array(
    frameSchema.pick({
      function: true,
      module: true,
      filename: true,
      abs_path: true,
      lineno: true,
      colno: true,
      in_app: true,
    }),
  ),
});
const workerEventSchema = internalEventSchema.extend({
  exceptions: z.array(exceptionSchema.extend({ stacktrace: leanFrames.optional() })).default([]),
  stacktrace: leanFrames.optional(),
  request: z.unknown().optional(),
  breadcrumbs: z.unknown().optional(),
  extra: z.unknown().optional(),
  attachments: z.unknown().optional(),
  sdk: z.unknown().optional(),
});

const HOUR = 3_600_000;
const DAY = 86_400_000;

export interface ProcessorOptions {
  /** How long project settings (fingerprint rules, retention) are cached. */
  projectCacheMs?: number;
  counters?: ProcessorCounters;
  now?: () => Date;
}

export class IssueProcessor {
  private readonly projects = new Map<number, ProjectInfo | null>();
  private readonly partitions = new Set<string>();
  private readonly releases = new Set<string>();
  private readonly cacheMs: number;
  private readonly now: () => Date;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly opts: ProcessorOptions = {},
  ) {
    this.cacheMs = opts.projectCacheMs ?? 10_000;
    this.now = opts.now ?? (() => new Date());
  }

  /** Forget cached project settings (tests change fingerprint rules and expect them at once). */
  invalidateProjects(): void {
    this.projects.clear();
  }

  private async projectInfo(ids: number[]): Promise<Map<number, ProjectInfo | null>> {
    const now = Date.now();
    const stale = ids.filter((id) => {
      const p = this.projects.get(id);
      return p === undefined || (p === null ? true : now - p.at > this.cacheMs);
    });
    if (stale.length > 0) {
      const rows = await store.projectSettings(this.db, stale);
      for (const id of stale) this.projects.set(id, null);
      for (const r of rows)
        this.projects.set(r.id, {
          rules: parseFingerprintRules(r.rules),
          retentionDays: r.retentionDays,
          at: now,
        });
    }
    return new Map(ids.map((id) => [id, this.projects.get(id) ?? null]));
  }

  /** Make sure the partitions for these days exist (and the next days', created ahead). */
  async ensurePartitions(days: Iterable<string>): Promise<void> {
    const missing = [...new Set(days)].filter((d) => !this.partitions.has(d));
    if (missing.length === 0) return;
    await store.createPartitions(this.db, missing);
    for (const d of missing) this.partitions.add(d);
  }

  async ensurePartitionsAhead(daysAhead = 3): Promise<void> {
    const today = Date.parse(`${store.dayOf(this.now())}T00:00:00Z`);
    const days: string[] = [];
    for (let i = -1; i <= daysAhead; i++) days.push(store.dayOf(new Date(today + i * DAY)));
    this.partitions.clear(); // retention may have dropped some
    await this.ensurePartitions(days);
  }

  private parse(messages: ConsumedMessage[]): {
    events: Array<{ e: GroupingEvent; raw: string }>;
    invalid: number;
  } {
    const events: Array<{ e: GroupingEvent; raw: string }> = [];
    let invalid = 0;
    for (const m of messages) {
      let raw = m.value.toString('utf8');
      let event: GroupingEvent | undefined;
      let problem = 'not JSON';
      try {
        // PostgreSQL text cannot hold NUL: drop it from every string before it reaches a column.
        let value = JSON.parse(raw) as unknown;
        if (raw.includes('\\u0000')) {
          value = stripNul(value);
          raw = JSON.stringify(value);
        }
        const parsed = workerEventSchema.safeParse(value);
        if (!parsed.success) {
          const first = parsed.error.issues[0];
          problem = first ? `${first.path.join('.')}: ${first.message}` : 'invalid';
        } else if (!saneTimes(parsed.data)) problem = 'receivedAt: out of range';
        else event = parsed.data;
      } catch {}
      if (!event) {
        invalid++;
        this.log.warn(
          { topic: m.topic, partition: m.partition, offset: m.offset, problem },
          'skipping an unparseable event message',
        );
        continue;
      }
      events.push({ e: event, raw });
    }
    return { events, invalid };
  }

  async processBatch(messages: ConsumedMessage[]): Promise<BatchResult> {
    const { events, invalid } = this.parse(messages);
    const counters = this.opts.counters;
    if (invalid > 0) counters?.events('invalid', invalid);
    const projects = await this.projectInfo([...new Set(events.map((x) => x.e.projectId))]);
    const now = this.now().getTime();
    const prepared: Prepared[] = [];
    const seen = new Set<string>();
    let skipped = 0;
    let inBatchDuplicates = 0;
    for (const { e, raw } of events) {
      const project = projects.get(e.projectId);
      if (!project) {
        skipped++;
        counters?.events('unknown_project', 1);
        continue;
      }
      const n = normalizeEvent(e);
      if (n.receivedAt.getTime() < now - project.retentionDays * DAY) {
        skipped++;
        counters?.events('expired', 1);
        continue;
      }
      const key = `${e.projectId}:${e.eventId}`;
      if (seen.has(key)) {
        inBatchDuplicates++; // same event twice in one batch: the first one counts
        continue;
      }
      seen.add(key);
      prepared.push({ n, grouping: computeGrouping(n, project.rules), raw, key });
    }
    if (inBatchDuplicates > 0) counters?.events('duplicate', inBatchDuplicates);
    if (prepared.length === 0)
      return { inserted: 0, duplicates: inBatchDuplicates, invalid, skipped, updates: [] };
    const skippedBefore = skipped;
    await this.ensurePartitions(prepared.map((p) => store.dayOf(p.n.receivedAt)));

    let result: { inserted: number; updates: IssueUpdate[] };
    try {
      result = await this.write(prepared);
    } catch (err) {
      if (!isDataError(err)) throw err; // transient (connection, deadlock…): the bus redelivers
      // A concurrent creator of the same fingerprint (rebalance overlap) or a merge/delete of an
      // issue while this batch was writing: retry with fresh lookups. Should the batch still fail
      // on its data, write the events one by one and skip the poisonous ones, so a single bad
      // event never blocks the partition.
      try {
        result = await this.write(prepared);
      } catch (again) {
        if (!isDataError(again)) throw again;
        result = { inserted: 0, updates: [] };
        for (const p of prepared) {
          try {
            const r = await this.write([p]);
            result.inserted += r.inserted;
            result.updates.push(...r.updates);
          } catch (one) {
            if (!isDataError(one)) throw one;
            skipped++;
            counters?.events('rejected', 1);
            this.log.warn(
              {
                eventId: p.n.event.eventId,
                projectId: p.n.event.projectId,
                code: (one as { code?: string }).code,
              },
              'skipping an event the database rejected',
            );
          }
        }
      }
    }
    const duplicates = prepared.length - result.inserted - (skipped - skippedBefore);
    counters?.events('inserted', result.inserted);
    if (duplicates > 0) counters?.events('duplicate', duplicates);
    return {
      inserted: result.inserted,
      duplicates: duplicates + inBatchDuplicates,
      invalid,
      skipped,
      updates: result.updates,
    };
  }

  private async write(prepared: Prepared[]): Promise<{ inserted: number; updates: IssueUpdate[] }> {
    return this.db.tx(async (q) => {
      // 1. fingerprint → issue, creating the missing issues
      const groups = new Map<string, Prepared[]>();
      for (const p of prepared) {
        const g = `${p.n.event.projectId}:${p.grouping.fingerprint}`;
        const list = groups.get(g);
        if (list) list.push(p);
        else groups.set(g, [p]);
      }
      const keys = [...groups.keys()].map((k) => {
        const i = k.indexOf(':');
        return { projectId: Number(k.slice(0, i)), fingerprint: k.slice(i + 1) };
      });
      const issueIds = await store.issueIdsByFingerprint(q, keys);
      const newIssues: store.NewIssue[] = [];
      for (const [g, list] of groups) {
        if (issueIds.has(g)) continue;
        const first = list.reduce((a, b) => (b.n.timestamp < a.n.timestamp ? b : a));
        newIssues.push({
          projectId: first.n.event.projectId,
          fingerprint: first.grouping.fingerprint,
          grouping: groupingJson(first.grouping),
          title: first.n.title,
          culprit: first.n.culprit,
          level: first.n.level,
          platform: first.n.platform,
          firstSeen: first.n.timestamp,
          lastSeen: first.n.timestamp,
          release: first.n.release ?? null,
        });
      }
      const created = await store.insertIssues(q, newIssues);
      for (const [k, v] of created) issueIds.set(k, v);
      const createdIds = new Set(created.values());
      const issueOf = (p: Prepared) => issueIds.get(`${p.n.event.projectId}:${p.grouping.fingerprint}`)!;

      // 2. events, idempotently: only rows actually inserted count
      const inserted = await store.insertEvents(
        q,
        prepared.map((p) => ({
          projectId: p.n.event.projectId,
          eventId: p.n.event.eventId,
          receivedAt: p.n.receivedAt,
          issueId: issueOf(p),
          timestamp: p.n.timestamp,
          level: p.n.level,
          release: p.n.release ?? null,
          environment: p.n.environment,
          userKey: p.n.userKey ?? null,
          title: p.n.title,
          payload: p.raw,
        })),
      );
      const fresh = prepared.filter((p) => inserted.has(p.key));
      // An issue created here whose every event turned out to be stored already (a redelivery
      // after a rule change) would stay empty: remove it.
      const used = new Set(fresh.map(issueOf));
      const empty = [...createdIds].filter((id) => !used.has(id));
      if (empty.length > 0) await store.deleteIssues(q, empty);
      if (fresh.length === 0) return { inserted: 0, updates: [] };

      // 3. aggregate per issue in memory
      const agg = new Map<number, Agg>();
      for (const p of fresh) {
        const id = issueOf(p);
        let a = agg.get(id);
        if (!a) {
          a = newAgg(p);
          agg.set(id, a);
        }
        addToAgg(a, p);
      }
      const ids = [...agg.keys()].sort((a, b) => a - b);
      const locked = await store.lockIssues(q, ids);
      if (locked.size !== ids.length) {
        // Merged away or deleted between the fingerprint lookup and now: redo with fresh lookups.
        throw Object.assign(new Error('an issue of this batch disappeared'), { code: '23503' });
      }

      // releases: record new ones; their first sight decides "resolved in next release" regressions
      const releasePairs: Array<{ projectId: number; version: string }> = [];
      const needed = new Set<string>();
      for (const [id, a] of agg) {
        const st = locked.get(id);
        for (const r of a.releases) {
          const k = `${a.projectId}:${r}`;
          if (st?.status === 'resolved' && st.resolveInNextRelease) needed.add(k);
          if (!this.releases.has(k) || needed.has(k))
            releasePairs.push({ projectId: a.projectId, version: r });
        }
      }
      const releaseSeen = await store.touchReleases(q, dedupe(releasePairs));
      for (const p of releasePairs) this.releases.add(`${p.projectId}:${p.version}`);
      if (this.releases.size > 50_000) this.releases.clear();

      const newUsers = await store.insertIssueUsers(
        q,
        ids.flatMap((id) => [...agg.get(id)!.userKeys].sort().map((u) => [id, u] as [number, string])),
      );

      // 4. lifecycle: regressions and expired ignores
      const now = this.now();
      const types = new Map<number, IssueUpdate['type']>();
      const deltas: store.IssueDelta[] = [];
      for (const id of ids) {
        const a = agg.get(id)!;
        const st = locked.get(id);
        let status: string = st?.status ?? 'unresolved';
        let reopen = false;
        let type: IssueUpdate['type'] = createdIds.has(id) ? 'created' : 'occurrence';
        if (st?.status === 'resolved') {
          const resolvedAt = st.resolvedAt?.getTime() ?? 0;
          const regressed = st.resolveInNextRelease
            ? [...a.releases].some((r) => {
                if (r === st.resolvedRelease) return false;
                const first = releaseSeen.get(`${a.projectId}:${r}`);
                return first !== undefined && first.getTime() > resolvedAt;
              })
            : a.maxReceived >= resolvedAt;
          if (regressed) {
            status = 'unresolved';
            reopen = true;
            type = 'regressed';
          }
        } else if (st?.status === 'ignored') {
          const untilPassed = st.ignoreUntil !== null && st.ignoreUntil.getTime() <= now.getTime();
          const countReached =
            st.ignoreCount !== null && st.eventCount + a.count >= (st.ignoreCountBase ?? 0) + st.ignoreCount;
          if (untilPassed || countReached) {
            status = 'unresolved';
            reopen = true;
          }
        }
        types.set(id, type);
        deltas.push({
          id,
          count: a.count,
          users: newUsers.get(id) ?? 0,
          firstSeen: a.firstSeen,
          lastSeen: a.lastSeen,
          firstRelease: a.firstRelease,
          lastRelease: a.lastRelease,
          level: a.latest.n.level,
          lastEventId: a.latest.n.event.eventId,
          status,
          reopen,
        });
      }
      const rows = await store.applyIssueDeltas(q, deltas);

      // 5. tag values and hourly counts, in key order (no lock-order deadlocks)
      const tags: store.TagDelta[] = [];
      const hourly: Array<{ issueId: number; hour: Date; count: number }> = [];
      for (const id of ids) {
        const a = agg.get(id)!;
        for (const [k, t] of [...a.tags].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
          const sep = k.indexOf('\u0000');
          tags.push({
            issueId: id,
            projectId: a.projectId,
            key: k.slice(0, sep),
            value: k.slice(sep + 1),
            ...t,
          });
        }
        for (const [h, count] of [...a.hours].sort((x, y) => x[0] - y[0]))
          hourly.push({ issueId: id, hour: new Date(h), count });
      }
      await store.upsertTags(q, tags);
      await store.upsertHourly(q, hourly);

      // 6. one update per issue, into the outbox in this same transaction
      const updates: IssueUpdate[] = rows
        .sort((x, y) => x.id - y.id)
        .map((r) => {
          const a = agg.get(r.id)!;
          const ev = a.latest.n;
          return {
            updateId: `issue-${r.id}-${a.firstEventId}`,
            type: types.get(r.id)!,
            projectId: r.projectId,
            issue: {
              id: r.id,
              title: r.title,
              culprit: r.culprit,
              level: r.level as Level,
              status: r.status,
              count: r.eventCount,
              userCount: r.userCount,
              firstSeen: r.firstSeen.toISOString(),
              lastSeen: r.lastSeen.toISOString(),
            },
            newEvents: a.count,
            levels: a.levels,
            userIds: [...a.userLabels].slice(0, 100),
            event: {
              eventId: ev.event.eventId,
              level: ev.level,
              timestamp: ev.timestamp.toISOString(),
              environment: ev.environment,
              release: ev.release,
              tags: ev.tags,
              message: ev.title,
            },
          };
        });
      await store.insertOutbox(
        q,
        updates.map((u) => ({ updateId: u.updateId, projectId: u.projectId, payload: JSON.stringify(u) })),
      );
      return { inserted: fresh.length, updates };
    });
  }
}

/** SQLSTATE classes caused by the data itself (retrying the same data fails the same way). */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^(22|23|54)/.test(code);
}

function stripNul(v: unknown): unknown {
  if (typeof v === 'string') return v.replaceAll('\u0000', '');
  if (Array.isArray(v)) return v.map(stripNul);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k.replaceAll('\u0000', '')] = stripNul(x);
    return out;
  }
  return v;
}

const MIN_TIME = Date.parse('2000-01-01T00:00:00Z');

/** Arrival time decides the partition: it must be a real time, not far in the future. */
function saneTimes(e: GroupingEvent): boolean {
  const r = Date.parse(e.receivedAt);
  return Number.isFinite(r) && r >= MIN_TIME && r <= Date.now() + 86_400_000;
}

interface Agg {
  projectId: number;
  count: number;
  firstSeen: Date;
  lastSeen: Date;
  maxReceived: number;
  firstRelease: string | null;
  lastRelease: string | null;
  releases: Set<string>;
  latest: Prepared;
  firstEventId: string;
  levels: Record<string, number>;
  userKeys: Set<string>;
  userLabels: Set<string>;
  tags: Map<string, { count: number; firstSeen: Date; lastSeen: Date }>;
  hours: Map<number, number>;
}

function newAgg(p: Prepared): Agg {
  return {
    projectId: p.n.event.projectId,
    count: 0,
    firstSeen: p.n.timestamp,
    lastSeen: p.n.timestamp,
    maxReceived: 0,
    firstRelease: null,
    lastRelease: null,
    releases: new Set(),
    latest: p,
    firstEventId: p.n.event.eventId,
    levels: {},
    userKeys: new Set(),
    userLabels: new Set(),
    tags: new Map(),
    hours: new Map(),
  };
}

function addToAgg(a: Agg, p: Prepared): void {
  const n = p.n;
  a.count++;
  if (n.timestamp < a.firstSeen) a.firstSeen = n.timestamp;
  if (n.timestamp >= a.lastSeen) a.lastSeen = n.timestamp;
  if (n.timestamp >= a.latest.n.timestamp) a.latest = p;
  a.maxReceived = Math.max(a.maxReceived, n.receivedAt.getTime());
  if (n.release) {
    a.releases.add(n.release);
    a.firstRelease ??= n.release;
    a.lastRelease = n.release;
  }
  a.levels[n.level] = (a.levels[n.level] ?? 0) + 1;
  if (n.userKey) a.userKeys.add(n.userKey);
  if (n.userLabel && a.userLabels.size < 100) a.userLabels.add(n.userLabel);
  for (const [k, v] of Object.entries(n.tags)) {
    const key = `${k}\u0000${v}`;
    const t = a.tags.get(key);
    if (t) {
      t.count++;
      if (n.timestamp < t.firstSeen) t.firstSeen = n.timestamp;
      if (n.timestamp > t.lastSeen) t.lastSeen = n.timestamp;
    } else a.tags.set(key, { count: 1, firstSeen: n.timestamp, lastSeen: n.timestamp });
  }
  const hour = Math.floor(n.receivedAt.getTime() / HOUR) * HOUR;
  a.hours.set(hour, (a.hours.get(hour) ?? 0) + 1);
}

function dedupe(pairs: Array<{ projectId: number; version: string }>) {
  const m = new Map(pairs.map((p) => [`${p.projectId}:${p.version}`, p]));
  return [...m.values()];
}

export function groupingJson(g: Grouping) {
  return {
    method: g.method,
    components: g.components,
    ...(g.defaultComponents ? { defaultComponents: g.defaultComponents } : {}),
    ...(g.rule ? { rule: g.rule } : {}),
  };
}
