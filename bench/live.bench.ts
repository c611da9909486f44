// Live latency of the dashboard: an event posted to the Sentry envelope endpoint until the issue
// list in Chromium shows the new count, with no reload (ingest → bus → issues worker → bus →
// live WebSocket → React). One Beacon in-process on a scratch database, embedded bus, loopback.
// Env: BENCH_DATABASE_URL (admin URL, default postgres://postgres@127.0.0.1:5432/postgres),
// BENCH_SAMPLES (20), CHROMIUM_PATH (/usr/bin/chromium).
// Run: node --import tsx bench/live.bench.ts
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { chromium } from 'playwright-core';
import { startBeacon } from '../packages/server/src/beacon.js';
import { loadConfig } from '../packages/server/src/config.js';
import { createLogger } from '../packages/server/src/platform/logger.js';

const root = path.resolve(import.meta.dirname, '..');
const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const samples = Number(process.env.BENCH_SAMPLES ?? 20);
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(path.join(root, 'packages/web/dist/index.html')))
  throw new Error('build the dashboard first: npm run build');
if (!existsSync(chromiumPath)) {
  // Not a failure of Beacon: say what is missing and how to get it, and let the other benches run.
  const why = `no Chromium at ${chromiumPath} (apt-get install chromium, or set CHROMIUM_PATH)`;
  console.log(`skipped: ${why}`);
  console.log(`BENCH_RESULT ${JSON.stringify({ name: 'live', skipped: why, metrics: [] })}`);
  process.exit(0);
}

const dbName = `beacon_bench_live_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`CREATE DATABASE "${dbName}"`);
const dbUrl = new URL(adminUrl);
dbUrl.pathname = `/${dbName}`;

const config = loadConfig({
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'warn',
  BEACON_ENV: 'test',
  DATABASE_URL: dbUrl.toString(),
  JWT_KEY: randomBytes(24).toString('hex'),
});
const beacon = await startBeacon(config, createLogger('warn'));
const browser = await chromium.launch({
  executablePath: chromiumPath,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
});
try {
  const post = async (p: string, body: unknown, token?: string) => {
    const res = await fetch(`${beacon.url}${p}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${p}: ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, unknown>;
  };
  const session = await post('/api/v1/auth/signup', {
    email: 'bench@example.com',
    password: 'bench password 123',
  });
  const project = (await post('/api/v1/projects', { name: 'bench' }, session.accessToken as string)) as {
    id: number;
    keys: Array<{ publicKey: string }>;
  };
  const key = project.keys[0]!.publicKey;
  const sendEvent = async () => {
    const eventId = randomUUID().replaceAll('-', '');
    const body = [
      JSON.stringify({ event_id: eventId, sent_at: new Date().toISOString() }),
      JSON.stringify({ type: 'event' }),
      JSON.stringify({
        event_id: eventId,
        level: 'error',
        platform: 'node',
        timestamp: Date.now() / 1000,
        exception: {
          values: [
            {
              type: 'Error',
              value: 'live bench',
              stacktrace: { frames: [{ function: 'tick', filename: 'bench.js', lineno: 1, in_app: true }] },
            },
          ],
        },
      }),
    ].join('\n');
    const res = await fetch(`${beacon.url}/api/${project.id}/envelope/?sentry_key=${key}`, {
      method: 'POST',
      body,
    });
    if (!res.ok) throw new Error(`envelope: ${res.status} ${await res.text()}`);
  };

  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(beacon.url);
  await page.evaluate((s) => localStorage.setItem('beacon.session', s), JSON.stringify(session));
  await page.goto(`${beacon.url}/p/${project.id}/issues`);
  await page.getByText('No unresolved issues').waitFor({ timeout: 20_000 });
  await page.getByRole('status').filter({ hasText: 'Live' }).waitFor({ timeout: 20_000 });

  // Warm-up: the first event creates the issue row.
  await sendEvent();
  await page.locator('tr[data-issue-id]').first().waitFor({ timeout: 20_000 });
  const countCell = page.locator('tr[data-issue-id] td.num').first();
  const latencies: number[] = [];
  for (let i = 2; i <= samples + 1; i++) {
    const t0 = performance.now();
    await sendEvent();
    await page.waitForFunction(
      (n) => document.querySelector('tr[data-issue-id] td.num')?.textContent?.trim() === String(n),
      i,
      { timeout: 15_000, polling: 'raf' },
    );
    latencies.push(performance.now() - t0);
    process.stdout.write(`event ${i - 1}/${samples}: ${Math.round(latencies.at(-1)!)} ms\n`);
  }
  if ((await countCell.textContent())?.trim() !== String(samples + 1)) throw new Error('count mismatch');
  const sorted = latencies.slice().sort((a, b) => a - b);
  const pct = (p: number) =>
    Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!);
  console.log(
    `send → visible in the browser: p50 ${pct(50)} ms, p95 ${pct(95)} ms, max ${Math.round(sorted.at(-1)!)} ms`,
  );
  console.log(
    `BENCH_RESULT ${JSON.stringify({
      name: 'live',
      metrics: [
        { label: 'event → dashboard count update, p50', value: pct(50), unit: 'ms' },
        { label: 'event → dashboard count update, p95', value: pct(95), unit: 'ms', target: '< 2000' },
        { label: 'samples', value: samples, unit: 'events' },
      ],
    })}`,
  );
} finally {
  await browser.close();
  await beacon.stop();
  await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  await admin.end();
}
