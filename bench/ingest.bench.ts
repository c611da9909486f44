// Ingest throughput: real-shaped Sentry envelopes of ~2 KB (a few dozen distinct errors), 50
// keep-alive connections from autocannon in its own process (a fresh event_id in every request), against `beacon start` in another
// process; then the same load against a bare node:http server that reads and parses the same
// body and answers 200. Prints accepted events/s, p50/p99 latency, and the ratio Beacon / bare.
//
// Storage: the embedded PostgreSQL in a temp dir (default, all roles in one process), or
// BENCH_DATABASE_URL (an admin URL: a scratch database is created and dropped). BENCH_ROLES picks
// the roles (default: all), BENCH_SECONDS the duration of each run (default 30), BENCH_CPU_PROF a
// directory for a CPU profile of the server.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createProject } from '../packages/server/src/ingest/test-helpers.js';
import { bodies, PLACEHOLDER } from './envelopes.js';

const root = path.resolve(import.meta.dirname, '..');
const seconds = Number(process.env.BENCH_SECONDS ?? 30);
const connections = 50;
const roles = process.env.BENCH_ROLES ?? 'all';

const children: ChildProcess[] = [];
const cleanups: Array<() => Promise<void> | void> = [];
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

/** Start a child and resolve with the port it reports on stdout (`PORT <n>` or beacon's start log). */
function startChild(
  args: string[],
  env: Record<string, string>,
): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    let err = '';
    const timer = setTimeout(
      () => reject(new Error(`child did not start in 90 s:\n${err}\n${out.slice(-2000)}`)),
      90_000,
    );
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /^PORT (\d+)$/m.exec(out) ?? /"port":(\d+)[^\n]*"beacon started"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]) });
      }
    });
    child.stderr!.on('data', (d) => {
      err += d;
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child exited with ${code}:\n${err}\n${out.slice(-2000)}`));
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(t);
}

// ------------------------------------------------------------------ load generator

interface LoadResult {
  ok: number;
  non2xx: number;
  errors: number;
  durationS: number;
  p50: number;
  p99: number;
  rps: number;
}

/**
 * Runs autocannon in its own process so it does not share a core's event loop with anything.
 * Every request carries a fresh event_id, so the issues worker stores (not dedupes) each event.
 */
function load(
  url: string,
  headers: Record<string, string>,
  bodies: string[],
  s = seconds,
): Promise<LoadResult> {
  const code = `
    import autocannon from 'autocannon';
    import { randomBytes } from 'node:crypto';
    const o = JSON.parse(process.env.LOAD);
    const prefix = randomBytes(10).toString('hex');
    let n = 0;
    const r = await autocannon({
      url: o.url, connections: o.connections, duration: o.seconds, pipelining: 1,
      requests: o.bodies.map((body) => ({
        method: 'POST', path: new URL(o.url).pathname + new URL(o.url).search, headers: o.headers, body,
        setupRequest: (req) => {
          req.body = body.replaceAll(o.placeholder, prefix + (n++).toString(16).padStart(12, '0'));
          return req;
        },
      })),
    });
    process.stdout.write('RESULT ' + JSON.stringify({
      ok: r['2xx'], non2xx: r.non2xx, errors: r.errors + r.timeouts, durationS: r.duration,
      p50: r.latency.p50, p99: r.latency.p99, rps: r['2xx'] / r.duration,
    }) + '\\n');
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      cwd: root,
      env: {
        ...process.env,
        LOAD: JSON.stringify({ url, headers, bodies, connections, seconds: s, placeholder: PLACEHOLDER }),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.once('exit', (c) => {
      const m = /^RESULT (.*)$/m.exec(out);
      if (m) resolve(JSON.parse(m[1]!) as LoadResult);
      else reject(new Error(`load generator exited with ${c}: ${out}`));
    });
  });
}

const bareServer = `
  import http from 'node:http';
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      // Same work as the minimum an envelope endpoint does: split the lines and parse each JSON.
      let id = null;
      try { for (const line of text.split('\\n')) if (line) { const v = JSON.parse(line); id ??= v.event_id ?? null; } }
      catch { res.writeHead(400).end(); return; }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id }));
    });
  });
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1', () => process.stdout.write('PORT ' + server.address().port + '\\n'));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

// ------------------------------------------------------------------ main

async function main() {
  const env: Record<string, string> = {
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    BEACON_ROLES: roles,
  };
  let mode: string;
  if (process.env.BENCH_DATABASE_URL) {
    const admin = new URL(process.env.BENCH_DATABASE_URL);
    const name = `beacon_bench_${randomBytes(4).toString('hex')}`;
    const c = new pg.Client({ connectionString: admin.toString() });
    await c.connect();
    await c.query(`CREATE DATABASE "${name}"`);
    await c.end();
    cleanups.push(async () => {
      const d = new pg.Client({ connectionString: admin.toString() });
      await d.connect();
      await d.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await d.end();
    });
    const url = new URL(admin.toString());
    url.pathname = `/${name}`;
    env.DATABASE_URL = url.toString();
    mode = 'external PostgreSQL';
  } else {
    const dir = mkdtempSync(path.join(tmpdir(), 'beacon-ingest-bench-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    env.BEACON_DATA_DIR = dir;
    mode = 'embedded PostgreSQL';
  }

  console.log(`starting beacon (${mode}, roles: ${roles})…`);
  // BENCH_CPU_PROF=<dir>: write a V8 CPU profile of the server process there (open in Chrome DevTools).
  const prof = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : [];
  const beacon = await startChild([...prof, '--import', 'tsx', 'packages/server/src/main.ts', 'start'], env);
  const base = `http://127.0.0.1:${beacon.port}`;
  // The ingest tests' helper: sign up a user, create a project, return its first key.
  const { token: accessToken, projectId, publicKey } = await createProject(base, 'bench');
  const avg = Math.round(bodies.reduce((s, b) => s + b.length, 0) / bodies.length);
  console.log(
    `${bodies.length} distinct envelopes, ~${avg} bytes each; ${connections} connections, ${seconds} s per run`,
  );

  const headers = {
    'x-sentry-auth': `Sentry sentry_version=7, sentry_key=${publicKey}, sentry_client=bench/1.0`,
  };
  console.log('warming up beacon (3 s)…');
  // A short warm-up so JIT and connection pools are hot; its numbers are discarded.
  await load(`${base}/api/${projectId}/envelope/`, headers, bodies, 3);
  console.log('loading beacon…');
  const b = await load(`${base}/api/${projectId}/envelope/`, headers, bodies);
  console.log(
    `  beacon: ${b.rps.toFixed(0)} accepted events/s, p50 ${b.p50} ms, p99 ${b.p99} ms (${b.ok} ok, ${b.non2xx} non-2xx, ${b.errors} errors)`,
  );

  // The stats API counts what ingest accepted (flushed every few seconds).
  let accepted = 0;
  for (let i = 0; i < 40; i++) {
    const r = await fetch(`${base}/api/v1/projects/${projectId}/ingest-stats`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    accepted = ((await r.json()) as { totals: { accepted: number } }).totals.accepted;
    if (accepted >= b.ok) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  console.log(`  ingest-stats reports ${accepted} accepted events`);
  await stopChild(beacon.child);

  console.log('loading a bare node:http server with the same bodies…');
  const bare = await startChild(['--input-type=module', '-e', bareServer], {});
  await load(`http://127.0.0.1:${bare.port}/api/1/envelope/`, headers, bodies, 3);
  const r = await load(`http://127.0.0.1:${bare.port}/api/1/envelope/`, headers, bodies);
  console.log(`  bare: ${r.rps.toFixed(0)} requests/s, p50 ${r.p50} ms, p99 ${r.p99} ms`);
  await stopChild(bare.child);
  const ratio = b.rps / r.rps;
  console.log(`  ratio beacon / bare: ${(ratio * 100).toFixed(1)}%`);

  console.log(
    `BENCH_RESULT ${JSON.stringify({
      name: 'ingest',
      metrics: [
        {
          label: `ingest accepted events/s (${mode}, ${connections} conns, 2 KB envelopes)`,
          value: Math.round(b.rps),
          unit: 'events/s',
          target: '>= 5000',
        },
        { label: 'ingest p50 latency', value: b.p50, unit: 'ms' },
        { label: 'ingest p99 latency', value: b.p99, unit: 'ms', target: '< 100 ms' },
        { label: 'ingest non-2xx + errors', value: b.non2xx + b.errors, unit: 'responses' },
        { label: 'bare node:http requests/s (same bodies)', value: Math.round(r.rps), unit: 'req/s' },
        { label: 'bare node:http p99 latency', value: r.p99, unit: 'ms' },
        {
          label: 'beacon / bare node:http',
          value: Math.round(ratio * 1000) / 10,
          unit: '%',
          target: '>= 50%',
        },
      ],
    })}`,
  );
}

try {
  await main();
} finally {
  for (const c of children) if (c.exitCode === null) await stopChild(c);
  for (const fn of cleanups.reverse()) await fn();
}
