// Issue API query latency on a large project: 10,000 issues and 1,000,000 events (BENCH_EVENTS),
// generated inside PostgreSQL (generate_series) in the real schema, with tag counts and hourly
// counters. Measures p95 of the issue list (default, tag filter, environment+release filter,
// free text, sort by count, third page), the issue detail, the events list and the event lookup, by calling
// the issues service in-process (permission check included, HTTP excluded), on the embedded
// PostgreSQL and on an external one (127.0.0.1:5432 or BENCH_PG_URL; a scratch database).
// Before generating, it also measures the grouping worker's batch path (BENCH_WORKER_EVENTS events).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadConfig } from '../packages/server/src/config.js';
import type { AppContext } from '../packages/server/src/context.js';
import type { Principal } from '../packages/server/src/identity/access.js';
import { IssueProcessor } from '../packages/server/src/issues/processor.js';
import * as service from '../packages/server/src/issues/service.js';
import * as store from '../packages/server/src/issues/store.js';
import { type ConsumedMessage, topicNames } from '../packages/server/src/platform/bus/types.js';
import { Db } from '../packages/server/src/platform/db/db.js';
import { EmbeddedPostgres } from '../packages/server/src/platform/db/embedded.js';
import { migrate } from '../packages/server/src/platform/db/migrate.js';
import { createLogger } from '../packages/server/src/platform/logger.js';
import { Metrics } from '../packages/server/src/platform/metrics.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const ISSUES = Number(process.env.BENCH_ISSUES ?? 10_000);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 100);
const WORKER_EVENTS = Number(process.env.BENCH_WORKER_EVENTS ?? 5_000);
const DAYS = 7;
/** Which servers to measure: "embedded,external" (default); BENCH_KEEP_DB=1 keeps the external database. */
const TARGETS = (process.env.BENCH_TARGETS ?? 'embedded,external').split(',');
const log = createLogger('error', process.stderr as never);
const t0 = Date.now();
const say = (msg: string) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);

/**
 * The grouping worker's hot path on its own: WORKER_EVENTS realistic events (~3 KB: 200 distinct
 * bugs, tags, users, releases, contexts, 15 breadcrumbs, a request) through IssueProcessor.processBatch in batches of 500.
 */
async function workerThroughput(db: Db, projectId: number): Promise<number> {
  const processor = new IssueProcessor(db, log);
  const now = Date.now();
  const batches: ConsumedMessage[][] = [];
  let offset = 0;
  for (let done = 0; done < WORKER_EVENTS; done += 500) {
    const batch: ConsumedMessage[] = [];
    for (let i = done; i < Math.min(done + 500, WORKER_EVENTS); i++) {
      const at = new Date(now - (WORKER_EVENTS - i) * 10).toISOString();
      const bug = i % 200;
      const event = {
        eventId: randomBytes(16).toString('hex'),
        projectId,
        timestamp: at,
        receivedAt: at,
        platform: 'node',
        level: 'error',
        release: `shop@1.${i % 5}.0`,
        environment: i % 3 ? 'production' : 'staging',
        exceptions: [
          {
            type: `Error${bug % 20}`,
            value: `order ${i} failed for user ${i % 977}`,
            stacktrace: {
              frames: [
                {
                  filename: '/srv/app/node_modules/express/lib/router/layer.js',
                  function: 'handle',
                  lineno: 95,
                  in_app: false,
                },
                {
                  filename: '/srv/app/src/routes/orders.js',
                  function: `route${bug}`,
                  lineno: 10 + (i % 7),
                  in_app: true,
                },
                {
                  filename: '/srv/app/src/services/orders.js',
                  function: 'load',
                  lineno: 42,
                  colno: 7,
                  in_app: true,
                },
              ],
            },
          },
        ],
        tags: { region: ['eu', 'us', 'ap'][i % 3]!, feature: `f${i % 11}` },
        user: { id: `u${i % 977}` },
        contexts: {
          browser: { name: ['Chrome', 'Firefox', 'Safari'][i % 3], version: '120' },
          runtime: { name: 'node', version: 'v20.11.0' },
          trace: { trace_id: randomBytes(16).toString('hex'), span_id: randomBytes(8).toString('hex') },
        },
        // What SDKs send besides the exception (breadcrumbs, request): stored, not grouped.
        breadcrumbs: Array.from({ length: 15 }, (_, k) => ({
          timestamp: at,
          category: 'http',
          type: 'http',
          level: 'info',
          data: { url: `https://api.example.com/orders/${i}/${k}`, method: 'GET', status_code: 200 },
        })),
        request: {
          url: `https://shop.example.com/orders/${i}`,
          method: 'GET',
          headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64)', accept: 'application/json' },
        },
        source: 'envelope',
      };
      batch.push({
        topic: 'beacon.events',
        partition: 0,
        offset: String(offset++),
        timestamp: new Date(),
        key: String(projectId),
        value: Buffer.from(JSON.stringify(event)),
      });
    }
    batches.push(batch);
  }
  const started = performance.now();
  for (const b of batches) await processor.processBatch(b);
  const rate = Math.round(WORKER_EVENTS / ((performance.now() - started) / 1000));
  say(`grouping worker: ${WORKER_EVENTS} events in batches of 500 -> ${rate} events/s`);
  return rate;
}

async function generate(db: Db): Promise<{
  workerRate: number;
  projectId: number;
  principal: Principal;
  bigIssue: number;
  eventId: string;
}> {
  await migrate(db, log);
  const [user] = await db.query<{ id: number }>(
    `INSERT INTO users (email, name, password_hash) VALUES ('bench@example.com', 'Bench', 'x') RETURNING id`,
  );
  const [org] = await db.query<{ id: number }>(
    `INSERT INTO organizations (name, slug) VALUES ('bench', 'bench') RETURNING id`,
  );
  await db.query(`INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, 'owner')`, [
    org!.id,
    user!.id,
  ]);
  const [project] = await db.query<{ id: number }>(
    `INSERT INTO projects (org_id, name, slug) VALUES ($1, 'shop', 'shop'), ($1, 'other', 'other') RETURNING id`,
    [org!.id],
  );
  const projectId = project!.id;
  const days: string[] = [];
  for (let i = -DAYS; i <= 1; i++) days.push(store.dayOf(new Date(Date.now() + i * 86_400_000)));
  await store.createPartitions(db, days);

  const [other] = await db.query<{ id: number }>(`SELECT id FROM projects WHERE slug = 'other'`);
  const workerRate = await workerThroughput(db, other!.id);

  say(`generating ${ISSUES} issues`);
  await db.query(
    `INSERT INTO issues (project_id, fingerprint, grouping, title, culprit, level, platform, status,
                         first_seen, last_seen, first_release, last_release, event_count, user_count)
     SELECT $1, md5(g::text), '{"method":"exception","components":["type:Error","frame:src/app.js:handler"]}',
            'Error' || (g % 50) || ': something failed in handler ' || g,
            'src/module' || (g % 200) || '.js in fn' || g,
            (ARRAY['error', 'warning', 'fatal', 'info'])[1 + g % 4], 'node',
            CASE WHEN g % 10 < 8 THEN 'unresolved' WHEN g % 10 = 8 THEN 'resolved' ELSE 'ignored' END,
            now() - interval '30 days' + (g % 1000) * interval '1 minute',
            now() - ((g * 37) % 10000) * interval '1 minute',
            'app@1.' || (g % 10), 'app@1.' || (g % 10), 0, (g * 7) % 300
       FROM generate_series(1, $2::int) g`,
    [projectId, ISSUES],
  );
  await db.query(
    `INSERT INTO issue_fingerprints (project_id, fingerprint, issue_id)
     SELECT project_id, fingerprint, id FROM issues WHERE project_id = $1`,
    [projectId],
  );
  const [range] = await db.query<{ lo: number }>(
    'SELECT min(id)::int AS lo FROM issues WHERE project_id = $1',
    [projectId],
  );
  const lo = range!.lo;

  // Events: issue popularity is skewed (random()^3), arrival spread over the last DAYS days.
  // Bulk load without the indexes, then build them (the same end state, several times faster).
  await db.query('ALTER TABLE events DROP CONSTRAINT events_pkey');
  await db.query('DROP INDEX events_issue_received');
  const chunk = 250_000;
  for (let done = 0; done < EVENTS; done += chunk) {
    const n = Math.min(chunk, EVENTS - done);
    await db.query(
      `INSERT INTO events (project_id, event_id, received_at, issue_id, timestamp, level, release, environment,
                           user_key, title, payload)
       SELECT $1::bigint, md5(g::text || 'e')::uuid, ts, $2::bigint + idx, ts, 'error', 'app@1.' || (g % 10),
              (ARRAY['production', 'staging', 'development'])[1 + g % 3], md5((g % 5000)::text),
              'Error: something failed',
              ('{"eventId":"' || md5(g::text || 'e') || '","projectId":' || $1::bigint || ',"level":"error",'
               || '"exceptions":[{"type":"Error","value":"something failed for order ' || g || '","stacktrace":{"frames":['
               || '{"filename":"/srv/app/src/routes/orders.js","function":"handler","lineno":' || (g % 300) || ',"in_app":true}]}}],'
               || '"tags":{"browser":"Chrome"},"user":{"id":"u' || (g % 5000) || '"},"source":"envelope"}')::json
         FROM (SELECT g, now() - random() * interval '${DAYS - 1} days' AS ts,
                      floor(power(random(), 3) * $3::int)::int AS idx
                 FROM generate_series($4::int, $5::int) g) s`,
      [projectId, lo, ISSUES, done + 1, done + n],
    );
    say(`  ${done + n} events`);
  }
  say('building event indexes');
  await db.query('ALTER TABLE events ADD PRIMARY KEY (project_id, event_id, received_at)');
  await db.query('CREATE INDEX events_issue_received ON events (issue_id, received_at DESC, event_id DESC)');
  await db.query(
    `UPDATE issues i SET event_count = c.n FROM (SELECT issue_id, count(*) AS n FROM events GROUP BY issue_id) c
      WHERE i.id = c.issue_id`,
  );
  say('generating tag counts and hourly counters');
  await db.query(
    `INSERT INTO issue_tags (issue_id, key, value, project_id, count, first_seen, last_seen)
     SELECT i.id, t.key, t.value, i.project_id, greatest(1, i.event_count / t.share), i.first_seen, i.last_seen
       FROM issues i,
            LATERAL (VALUES
              ('environment', (ARRAY['production', 'staging', 'development'])[1 + i.id % 3], 1),
              ('release', i.last_release, 1),
              ('level', i.level, 1),
              ('browser', (ARRAY['Chrome', 'Firefox', 'Safari', 'Edge', 'Opera'])[1 + i.id % 5], 2),
              ('browser', (ARRAY['Chrome', 'Firefox', 'Safari', 'Edge', 'Opera'])[1 + (i.id + 1) % 5], 2),
              ('region', (ARRAY['eu', 'us', 'ap'])[1 + i.id % 3], 1),
              ('server_name', 'web-' || (i.id % 20), 1)
            ) AS t(key, value, share)
      WHERE i.project_id = $1`,
    [projectId],
  );
  await db.query(
    `INSERT INTO issue_hourly (issue_id, hour, count)
     SELECT i.id, date_trunc('hour', now()) - h * interval '1 hour', 1 + (i.id * h) % 7
       FROM issues i, generate_series(0, 23) h WHERE i.id % 3 = 0 AND i.project_id = $1`,
    [projectId],
  );
  say('analyze');
  // A small statistics sample: the plans only need row counts and the skew, not fine histograms.
  await db.tx(async (q) => {
    await q.query('SET LOCAL default_statistics_target = 20');
    await q.query('ANALYZE issues, issue_fingerprints, issue_tags, issue_hourly, events');
  });
  const [big] = await db.query<{ id: number }>('SELECT id FROM issues ORDER BY event_count DESC LIMIT 1');
  const [ev] = await db.query<{ id: string }>(
    `SELECT replace(event_id::text, '-', '') AS id FROM events WHERE issue_id = $1 LIMIT 1`,
    [big!.id],
  );
  const [size] = await db.query<{ s: string }>(
    `SELECT pg_size_pretty(pg_database_size(current_database())) AS s`,
  );
  say(`data set ready: ${ISSUES} issues, ${EVENTS} events, database ${size!.s}`);
  return {
    workerRate,
    projectId,
    principal: { userId: user!.id, email: 'bench@example.com', via: 'jwt', scope: 'write' },
    bigIssue: big!.id,
    eventId: ev!.id,
  };
}

function p95(samples: number[]): number {
  const s = [...samples].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor(s.length * 0.95))]! * 100) / 100;
}

async function measure(db: Db, label: string) {
  const data = await generate(db);
  const ctx = {
    db,
    log,
    config: loadConfig({ LOG_LEVEL: 'silent' }),
    metrics: new Metrics(),
    topics: topicNames('beacon.'),
  } as unknown as AppContext;
  const p = data.principal;
  const page3 = async () => {
    let cursor: string | undefined;
    for (let i = 0; i < 3; i++)
      cursor = (await service.listIssues(ctx, p, data.projectId, { cursor })).nextCursor ?? undefined;
  };
  const cases: Array<[string, () => Promise<unknown>]> = [
    ['issue list (default: unresolved, last seen)', () => service.listIssues(ctx, p, data.projectId, {})],
    [
      'issue list (tag browser:Firefox)',
      () => service.listIssues(ctx, p, data.projectId, { tag: ['browser:Firefox'] }),
    ],
    [
      'issue list (environment + release)',
      () => service.listIssues(ctx, p, data.projectId, { environment: 'staging', release: 'app@1.3' }),
    ],
    ['issue list (free text)', () => service.listIssues(ctx, p, data.projectId, { query: 'handler 42' })],
    ['issue list (sort by count)', () => service.listIssues(ctx, p, data.projectId, { sort: 'count' })],
    ['issue list (third page by cursor)', () => page3()],
    ['issue detail (largest issue)', () => service.getIssue(ctx, p, data.bigIssue)],
    [
      'events list (largest issue, newest 50)',
      () => service.listIssueEvents(ctx, p, data.bigIssue, { limit: 50 }),
    ],
    ['event by id', () => service.getEvent(ctx, p, data.eventId, data.projectId)],
  ];
  const metrics: Metric[] = [
    {
      label: `${label}: grouping worker throughput (batches of 500)`,
      value: data.workerRate,
      unit: 'events/s',
    },
  ];
  for (const [name, fn] of cases) {
    for (let i = 0; i < 10; i++) await fn();
    const samples: number[] = [];
    for (let i = 0; i < ITERATIONS; i++) {
      const s = performance.now();
      await fn();
      samples.push(performance.now() - s);
    }
    const v = p95(samples);
    say(`  ${label}: ${name}: p95 ${v} ms`);
    metrics.push({ label: `${label}: ${name} p95`, value: v, unit: 'ms', target: '< 100' });
  }
  return metrics;
}

async function main() {
  const metrics: Metric[] = [];

  if (TARGETS.includes('embedded')) await runEmbedded(metrics);
  if (TARGETS.includes('external')) await runExternal(metrics);
  say('done');
  console.log(`BENCH_RESULT ${JSON.stringify({ name: 'queries', metrics })}`);
}

type Metric = { label: string; value: number; unit: string; target?: string };

async function runEmbedded(metrics: Metric[]) {
  say('embedded PostgreSQL');
  const dir = mkdtempSync(path.join(tmpdir(), 'beacon-queries-bench-'));
  const embedded = new EmbeddedPostgres(dir, log);
  try {
    const url = await embedded.start();
    const db = new Db(url, 4);
    try {
      metrics.push(...(await measure(db, 'embedded')));
    } finally {
      await db.close();
    }
  } finally {
    await embedded.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runExternal(metrics: Metric[]) {
  const adminUrl = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `beacon_queries_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  let external = true;
  try {
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
  } catch (err) {
    say(`external PostgreSQL unavailable (${(err as Error).message}): skipped`);
    await admin.end().catch(() => {});
    external = false;
  }
  if (external) {
    const u = new URL(adminUrl);
    u.pathname = `/${name}`;
    say(`external PostgreSQL (${u.host})`);
    const db = new Db(u.toString(), 4);
    try {
      metrics.push(...(await measure(db, 'external')));
    } finally {
      await db.close();
      if (process.env.BENCH_KEEP_DB === '1') say(`kept database ${name}`);
      else await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => {});
      await admin.end().catch(() => {});
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
