// Alerts: one alerts worker (in this process) on a scratch PostgreSQL database (BENCH_PG_URL,
// default postgres://postgres@127.0.0.1:5432/postgres) with the embedded bus and a local webhook
// receiver on 127.0.0.1. Three measurements:
//  1. evaluation: ALERTS_BENCH_UPDATES issue updates (default 20,000) over 20 projects and 500
//     issues, each project with 4 rules (new_issue, level, frequency per issue, anomaly per
//     project), published first, then consumed: updates evaluated per second;
//  2. delivery: ALERTS_BENCH_DELIVERIES webhook notifications (default 3,000) queued at once:
//     deliveries per second to the receiver (concurrency 16);
//  3. latency: 50 new issues published one at a time: publish → webhook received, p50/p95.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { ruleBodySchema } from '../packages/server/src/alerts/schemas.js';
import * as store from '../packages/server/src/alerts/store.js';
import { issueUpdate } from '../packages/server/src/alerts/testing.js';
import { AlertsWorker } from '../packages/server/src/alerts/worker.js';
import { loadConfig } from '../packages/server/src/config.js';
import type { AppContext } from '../packages/server/src/context.js';
import { EmbeddedBus } from '../packages/server/src/platform/bus/embedded.js';
import { topicNames } from '../packages/server/src/platform/bus/types.js';
import { Db } from '../packages/server/src/platform/db/db.js';
import { migrate } from '../packages/server/src/platform/db/migrate.js';
import { createLogger } from '../packages/server/src/platform/logger.js';
import { Metrics } from '../packages/server/src/platform/metrics.js';

const adminUrl = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const UPDATES = Number(process.env.ALERTS_BENCH_UPDATES ?? 20_000);
const DELIVERIES = Number(process.env.ALERTS_BENCH_DELIVERIES ?? 3_000);
const PROJECTS = 20;
const ISSUES = 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const name = `bench_alerts_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;

  let received = 0;
  const arrivals = new Map<string, number>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      received++;
      try {
        const t = (JSON.parse(body) as { issue?: { title?: string } }).issue?.title;
        if (t?.startsWith('latency')) arrivals.set(t, Date.now());
      } catch {}
      res.writeHead(200).end('ok');
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const hook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;

  const log = createLogger('error', process.stderr as never);
  const config = loadConfig({ DATABASE_URL: url.toString(), LOG_LEVEL: 'error', BEACON_ENV: 'test' });
  const db = new Db(url.toString(), 10);
  const bus = new EmbeddedBus(db, { partitions: 8, retentionHours: 24, log, retentionIntervalMs: 0 });
  let worker: AlertsWorker | undefined;
  try {
    await migrate(db);
    const topics = topicNames('beacon.');
    await bus.ensureTopics(Object.values(topics));
    const ctx: AppContext = { config, log, db, bus, topics, metrics: new Metrics() };
    const actions = [{ type: 'webhook', url: hook }];
    for (let p = 1; p <= PROJECTS; p++)
      for (const trigger of [
        { type: 'new_issue' },
        { type: 'level', level: 'fatal' },
        { type: 'frequency', threshold: 1_000_000, windowMinutes: 5, per: 'issue' },
        { type: 'anomaly', per: 'project' },
      ])
        await store.insertRule(db, p, ruleBodySchema.parse({ name: trigger.type, trigger, actions }), null);

    // 1. evaluation
    process.stdout.write(`evaluation: publishing ${UPDATES} issue updates… `);
    for (let i = 0; i < UPDATES; i += 500) {
      const batch = Array.from({ length: Math.min(500, UPDATES - i) }, (_, j) => {
        const n = i + j;
        const projectId = 1 + (n % PROJECTS);
        return {
          key: String(projectId),
          value: Buffer.from(JSON.stringify(issueUpdate(projectId, n % ISSUES))),
        };
      });
      await bus.publish(topics.issueUpdates, batch);
    }
    process.stdout.write('consuming… ');
    worker = new AlertsWorker(ctx, { deliver: false });
    const t0 = Date.now();
    await worker.start();
    for (;;) {
      const [r] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM alert_processed');
      if ((r?.n ?? 0) >= UPDATES) break;
      if (Date.now() - t0 > 300_000) throw new Error(`evaluation did not finish: ${r?.n}/${UPDATES}`);
      await sleep(100);
    }
    const evalRate = Math.round(UPDATES / ((Date.now() - t0) / 1000));
    console.log(`${evalRate} updates/s`);
    await worker.stop();
    await db.query('DELETE FROM alert_deliveries');

    // 2. delivery
    process.stdout.write(`delivery: ${DELIVERIES} webhook notifications… `);
    const payload = { kind: 'test' as const, title: 'bench', lines: ['a line'], data: { n: 1 } };
    for (let i = 0; i < DELIVERIES; i += 1000)
      await store.enqueueDeliveries(
        db,
        Array.from({ length: Math.min(1000, DELIVERIES - i) }, () => ({
          projectId: 1,
          alertId: null,
          ruleId: null,
          kind: 'test' as const,
          target: { type: 'webhook' as const, url: hook, secret: 'bench-secret' },
          payload,
        })),
      );
    received = 0;
    worker = new AlertsWorker(ctx, { evaluate: false, concurrency: 16, pollMs: 50 });
    const t1 = Date.now();
    await worker.start();
    while (received < DELIVERIES) {
      if (Date.now() - t1 > 300_000) throw new Error(`delivery did not finish: ${received}/${DELIVERIES}`);
      await sleep(20);
    }
    const deliveryRate = Math.round(DELIVERIES / ((Date.now() - t1) / 1000));
    console.log(`${deliveryRate} deliveries/s`);
    await worker.stop();

    // 3. latency, with a worker that evaluates and delivers
    process.stdout.write('latency: 50 new issues, publish → webhook… ');
    worker = new AlertsWorker(ctx, { pollMs: 1000 });
    await worker.start();
    const lat: number[] = [];
    for (let i = 0; i < 50; i++) {
      const u = issueUpdate(1, 100_000 + i, { type: 'created' });
      u.issue.title = `latency ${i}`;
      const sent = Date.now();
      await bus.publish(topics.issueUpdates, [{ key: '1', value: Buffer.from(JSON.stringify(u)) }]);
      const deadline = Date.now() + 30_000;
      while (!arrivals.has(u.issue.title)) {
        if (Date.now() > deadline) throw new Error('latency sample timed out');
        await sleep(2);
      }
      lat.push(arrivals.get(u.issue.title)! - sent);
    }
    lat.sort((a, b) => a - b);
    const p50 = lat[Math.floor(lat.length * 0.5)]!;
    const p95 = lat[Math.floor(lat.length * 0.95)]!;
    console.log(`p50 ${p50} ms, p95 ${p95} ms`);

    console.log(
      `BENCH_RESULT ${JSON.stringify({
        name: 'alerts',
        metrics: [
          { label: 'issue updates evaluated (4 rules per project)', value: evalRate, unit: 'updates/s' },
          { label: 'webhook deliveries (concurrency 16)', value: deliveryRate, unit: 'deliveries/s' },
          { label: 'publish → webhook latency p50', value: p50, unit: 'ms' },
          { label: 'publish → webhook latency p95', value: p95, unit: 'ms' },
        ],
      })}`,
    );
  } finally {
    await worker?.stop().catch(() => {});
    await bus.close().catch(() => {});
    await db.close().catch(() => {});
    server.closeAllConnections();
    server.close();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
