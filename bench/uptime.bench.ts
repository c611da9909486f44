// Uptime checks of one worker process (`beacon start --roles uptime`) against a local target on
// 127.0.0.1: 1,000 and 10,000 endpoints at a 60 s interval. Reports the checks per second it
// sustained, the lateness of checks against their due slot (p50/p99), the worker's CPU (share of
// one core, and CPU time per check) and its peak RSS, next to Uptime Kuma 2.5.3 measured on this
// machine: 1,000 monitors at 20 s (50 checks/s) with 42% of a core, 306 MB RSS, 40 ms p99 lateness.
// A third run puts Kuma's own load (1,000 at 20 s) on Beacon for a like-for-like comparison.
// Needs PostgreSQL (BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/postgres).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { Db } from '../packages/server/src/platform/db/db.js';
import { migrate } from '../packages/server/src/platform/db/migrate.js';
import { firstSlotAtOrAfter } from '../packages/server/src/uptime/schedule.js';

const root = path.resolve(import.meta.dirname, '..');
const main = path.join(root, 'packages/server/src/main.ts');
const adminUrl = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
// endpoints@interval: the two sizes of the issue, then Kuma's own load (1,000 at 20 s) for a like-for-like row.
const runs = (process.env.UPTIME_BENCH_RUNS ?? '1000@60,10000@60,1000@20').split(',').map((r) => {
  const [n, interval] = r.split('@').map(Number);
  return { n: n!, interval: interval ?? 60 };
});
const WARMUP_S = Number(process.env.UPTIME_BENCH_WARMUP_S ?? 20);
const MEASURE_S = Number(process.env.UPTIME_BENCH_MEASURE_S ?? 60);
const CLK_TCK = 100; // Linux USER_HZ

const cpuTicks = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime
};
const statusKb = (pid: number, field: string): number => {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startTarget() {
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits++;
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' }).end('status: ok');
  });
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: () => hits,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function runSize(n: number, intervalS: number) {
  const name = `beacon_bench_uptime_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = new Db(url.toString(), 4);
  const target = await startTarget();
  let child: ReturnType<typeof spawn> | undefined;
  try {
    await migrate(db);
    const [org] = await db.query<{ id: number }>(
      `INSERT INTO organizations (name, slug) VALUES ('b', 'b') RETURNING id`,
    );
    const [svc] = await db.query<{ id: number }>(
      `INSERT INTO uptime_services (org_id, name) VALUES ($1, 'bench') RETURNING id`,
      [org!.id],
    );
    const ids = (
      await db.query<{ id: number }>(
        `INSERT INTO uptime_endpoints (service_id, name, url, interval_s, timeout_ms, keyword, next_due_at, enabled)
         SELECT $1, 'e' || g, $2 || '/e' || g, $3, 10000, 'ok', now(), false FROM generate_series(1, $4) g RETURNING id`,
        [svc!.id, target.url, intervalS, n],
      )
    ).map((r) => r.id);

    console.log(`${n} endpoints at ${intervalS} s: starting one uptime worker…`);
    child = spawn(process.execPath, ['--import', 'tsx', main, 'start', '--roles', 'uptime'], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: url.toString(), PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const pid = child.pid!;
    let out = '';
    child.stdout!.on('data', (d) => {
      if (out.length < 100_000) out += d;
      // Show the worker's warnings and errors (slow claims, failed recordings) as they happen.
      for (const line of String(d).split('\n'))
        if (/"level":(40|50|60)/.test(line)) console.log(`  worker: ${line.slice(0, 300)}`);
    });
    const bootDeadline = Date.now() + 60_000;
    while (!out.includes('"beacon started"')) {
      if (Date.now() > bootDeadline || child.exitCode !== null)
        throw new Error(`worker did not start:\n${out.slice(-2000)}`);
      await sleep(100);
    }
    await sleep(2_000);

    // Schedule every endpoint on its grid from now on: the load is N/60 checks per second from the start.
    const start = Date.now() + 1_000;
    await db.query(
      `UPDATE uptime_endpoints e SET enabled = true, next_due_at = v.due
         FROM unnest($1::bigint[], $2::timestamptz[]) AS v(id, due) WHERE e.id = v.id`,
      [ids, ids.map((id) => new Date(firstSlotAtOrAfter(id, intervalS * 1000, start)))],
    );
    await sleep(start - Date.now() + WARMUP_S * 1000);

    const from = Date.now();
    const ticks0 = cpuTicks(pid);
    const hits0 = target.hits();
    let rssMax = 0;
    console.log(`  measuring for ${MEASURE_S} s…`);
    for (let s = 0; s < MEASURE_S; s++) {
      await sleep(1_000);
      rssMax = Math.max(rssMax, statusKb(pid, 'VmRSS'));
      if ((s + 1) % 30 === 0)
        console.log(`  ${s + 1} s: ${target.hits() - hits0} checks served by the target`);
    }
    const to = Date.now();
    const cpuS = (cpuTicks(pid) - ticks0) / CLK_TCK;
    const peakRssMb = Math.max(statusKb(pid, 'VmHWM'), rssMax) / 1024;
    // Let checks started in the window be recorded before counting them.
    await sleep(1_500);
    const [m] = await db.query<{ checks: number; ok: number; p50: number; p99: number; max: number }>(
      `SELECT count(*)::int AS checks, count(*) FILTER (WHERE ok)::int AS ok,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM started_at - slot_at) * 1000) AS p50,
              percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM started_at - slot_at) * 1000) AS p99,
              max(extract(epoch FROM started_at - slot_at) * 1000)::float8 AS max
         FROM uptime_pings WHERE slot_at >= $1 AND slot_at < $2`,
      [new Date(from), new Date(to)],
    );
    const seconds = (to - from) / 1000;
    const rate = m!.checks / seconds;
    const cpuShare = cpuS / seconds;
    const res = {
      n,
      expectedRate: n / intervalS,
      rate,
      okShare: m!.checks ? m!.ok / m!.checks : 0,
      p50: Number(m!.p50),
      p99: Number(m!.p99),
      max: Number(m!.max),
      cpuPct: cpuShare * 100,
      cpuMsPerCheck: m!.checks ? (cpuS * 1000) / m!.checks : 0,
      peakRssMb,
    };
    console.log(
      `  ${rate.toFixed(1)} checks/s (due ${res.expectedRate.toFixed(1)}/s, ${(res.okShare * 100).toFixed(1)}% ok), ` +
        `lateness p50 ${res.p50.toFixed(1)} ms p99 ${res.p99.toFixed(1)} ms max ${res.max.toFixed(0)} ms, ` +
        `CPU ${res.cpuPct.toFixed(1)}% of a core (${res.cpuMsPerCheck.toFixed(2)} ms/check), peak RSS ${peakRssMb.toFixed(0)} MB`,
    );
    return res;
  } finally {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child!.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    }
    await target.close();
    await db.close();
    if (process.env.UPTIME_BENCH_KEEP_DB) console.log(`  kept database ${name}`);
    else await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
}

const KUMA_MS_PER_CHECK = (0.42 * 1000) / 50; // 42% of a core at 50 checks/s
const metrics: Array<{ label: string; value: number; unit: string; target?: string }> = [];
for (const { n, interval: intervalS } of runs) {
  const r = await runSize(n, intervalS);
  const k = `${n.toLocaleString('en-US')} endpoints @ ${intervalS} s`;
  metrics.push(
    {
      label: `${k}: checks/s sustained`,
      value: r.rate,
      unit: 'checks/s',
      target: `${r.expectedRate.toFixed(1)} (all due)`,
    },
    {
      label: `${k}: p99 lateness vs due time`,
      value: r.p99,
      unit: 'ms',
      target: '≤ 40 ms (Kuma at 1,000 @ 20 s)',
    },
    { label: `${k}: p50 lateness vs due time`, value: r.p50, unit: 'ms' },
    { label: `${k}: worker CPU`, value: r.cpuPct, unit: '% of a core' },
    {
      label: `${k}: worker CPU per check`,
      value: r.cpuMsPerCheck,
      unit: 'ms',
      target: `≤ ${(KUMA_MS_PER_CHECK / 3).toFixed(1)} ms (a third of Kuma's ${KUMA_MS_PER_CHECK.toFixed(1)})`,
    },
    {
      label: `${k}: worker peak RSS (tsx loader included)`,
      value: r.peakRssMb,
      unit: 'MB',
      target: '< 306 MB (Kuma)',
    },
  );
}
console.log(`BENCH_RESULT ${JSON.stringify({ name: 'uptime', metrics })}`);
