// The whole pipeline under load: time from an ingest 200 until the event is counted in its issue,
// and the backlog (events acknowledged minus events stored in issues), in two deployments:
//
// 1. embedded: `beacon start` (built server) with the embedded PostgreSQL in a temp dir, all roles
//    in one process. A fixed-rate load (BENCH_E2E_RATE, default 1,500 events/s, 30 s), then a
//    full-speed load (50 connections, BENCH_FULL_SECONDS, default 20 s), each with the probe.
// 2. at scale: PostgreSQL (a scratch database on 127.0.0.1:5432) + Kafka (scripts/kafka), with
//    `--roles ingest,api` and `--roles issues` as two processes; a full-speed load (50 keep-alive
//    connections, BENCH_KAFKA_SECONDS, default 20 s) with the probe, then the same load against a
//    bare node:http server that reads and parses the same body and answers 200.
//
// Load: autocannon in its own process, real-shaped ~2 KB Sentry envelopes over 36 distinct errors,
// key in the `sentry_key` query, every request with a fresh event_id. Probe: this process sends a
// tagged event every 100 ms and polls the events table (every 25 ms, by event id) for the
// transaction of the issues worker that stored it and counted it in its issue; the latency is
// measured from the 200 to the start of the first poll that sees it (error < 25 ms + one query).
//
// Settings: BENCH_PHASES (embedded,kafka), BENCH_E2E_RATE (1500; 0 = full speed),
// BENCH_E2E_SECONDS (30), BENCH_FULL_SECONDS (20; 0 skips the embedded full-speed run),
// BENCH_KAFKA_SECONDS (20), BENCH_DRAIN_SECONDS (60), BENCH_DATABASE_URL (admin URL,
// default postgres://postgres@127.0.0.1:5432/postgres), BENCH_KAFKA_BROKERS (127.0.0.1:9092),
// BENCH_REBUILD=1 (rebuild dist first), BENCH_CPU_PROF=<dir> (run the Beacon processes with
// --cpu-prof, a folder per process in <dir>, a profile per thread).
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { bodies, PLACEHOLDER, sdk } from './envelopes.js';

const root = path.resolve(import.meta.dirname, '..');
const mainJs = path.join(root, 'packages/server/dist/main.js');
const num = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
const phases = (process.env.BENCH_PHASES ?? 'embedded,kafka').split(',').map((s) => s.trim());
const e2eRate = num('BENCH_E2E_RATE', 1500);
const e2eSeconds = num('BENCH_E2E_SECONDS', 30);
const fullSeconds = num('BENCH_FULL_SECONDS', 20);
const kafkaSeconds = num('BENCH_KAFKA_SECONDS', 20);
const drainLimitS = num('BENCH_DRAIN_SECONDS', 60);
const warmupSeconds = 3;
const connections = 50;
const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const brokers = process.env.BENCH_KAFKA_BROKERS ?? '127.0.0.1:9092';
const profileDir = process.env.BENCH_CPU_PROF ? path.resolve(process.env.BENCH_CPU_PROF) : undefined;
const HZ = 100; // clock ticks per second in /proc/<pid>/stat

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (msg: string) => console.log(msg);
const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;

// ------------------------------------------------------------------ processes and clean-up

const children = new Set<ChildProcess>();
const cleanups: Array<{ name: string; fn: () => Promise<void> | void }> = [];
const atCleanup = (name: string, fn: () => Promise<void> | void) => cleanups.push({ name, fn });
let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const c of children) await stopChild(c);
    for (const { name, fn } of cleanups.reverse()) {
      try {
        await fn();
      } catch (err) {
        console.error(`clean-up "${name}" failed: ${(err as Error).message}`);
      }
    }
  })();
  return cleaning;
}
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
// Anything that fails while processes are being stopped is expected; anything else still cleans up.
process.on('unhandledRejection', (err) => {
  if (cleaning) return;
  console.error(`unexpected failure: ${(err as Error)?.stack ?? err}`);
  cleanup().finally(() => process.exit(1));
});
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    console.error(`${sig}: cleaning up`);
    cleanup().finally(() => process.exit(1));
  });

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    children.delete(child);
    return;
  }
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(t);
  children.delete(child);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

interface Started {
  child: ChildProcess;
  port: number;
  tail: () => string;
}

/** `node dist/main.js start` with the given roles/env; resolves once /readyz answers 200. */
async function startBeacon(name: string, cwd: string, env: Record<string, string>): Promise<Started> {
  const port = await freePort();
  const base = { ...process.env };
  for (const k of Object.keys(base))
    if (/^(DATABASE_URL|DB_|KAFKA_|BUS_|BEACON_|JWT_KEY|JwtKey|EMBEDDED_PG_)/.test(k)) delete base[k];
  // One folder per process: each thread (the issues role runs in one) writes its own profile there.
  const prof = profileDir
    ? ['--cpu-prof', `--cpu-prof-dir=${path.join(profileDir, `${name}-${Date.now()}`)}`]
    : [];
  const child = spawn(process.execPath, [...prof, mainJs, 'start'], {
    cwd,
    env: { ...base, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const t0 = Date.now();
  for (;;) {
    if (child.exitCode !== null) {
      children.delete(child);
      throw new Error(`${name} exited with ${child.exitCode}:\n${out}`);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {}
    if (Date.now() - t0 > 120_000) {
      await stopChild(child);
      throw new Error(`${name} not ready after 120 s:\n${out}`);
    }
    await sleep(100);
  }
  log(
    `  ${name} ready on 127.0.0.1:${port} in ${((Date.now() - t0) / 1000).toFixed(1)} s (pid ${child.pid})`,
  );
  return { child, port, tail: () => out };
}

// ------------------------------------------------------------------ CPU accounting

function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // utime + stime (fields 14 and 15)
  } catch {
    return 0;
  }
}
function childPids(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)])
      .toString()
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}
/** CPU seconds of a group of processes (re-resolved at each sample: backends come and go). */
type Group = { label: string; pids: () => number[] | Promise<number[]> };
async function cpuSample(groups: Group[]): Promise<Map<string, number>> {
  const m = new Map<string, number>();
  for (const g of groups) {
    const pids = await g.pids();
    m.set(g.label, pids.reduce((s, p) => s + cpuTicks(p), 0) / HZ);
  }
  return m;
}
function cpuReport(a: Map<string, number>, b: Map<string, number>, seconds: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of b) out[k] = round(((v - (a.get(k) ?? 0)) / seconds) * 100, 0);
  return out;
}
const fmtCpu = (r: Record<string, number>) =>
  Object.entries(r)
    .map(([k, v]) => `${k} ${v}%`)
    .join(', ');

// ------------------------------------------------------------------ payloads

function probeEnvelope(id: string, seq: number): string {
  const now = Date.now() / 1000;
  const event = {
    event_id: id,
    timestamp: now,
    platform: 'node',
    level: 'error',
    release: 'shop@1.4.2',
    environment: 'production',
    exception: {
      values: [
        {
          type: 'ProbeError',
          value: 'end-to-end latency probe',
          stacktrace: {
            frames: [
              { filename: '/srv/app/src/probe.js', function: 'probe', lineno: 1, colno: 1, in_app: true },
            ],
          },
        },
      ],
    },
    tags: { probe: 'e2e', seq: String(seq) },
    sdk,
  };
  return `${JSON.stringify({ event_id: id, sent_at: new Date().toISOString(), sdk })}\n{"type":"event"}\n${JSON.stringify(event)}\n`;
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
  cpuS: number;
}

/**
 * autocannon in its own process. Every request carries a fresh event_id (setupRequest), so the
 * issues worker stores every accepted event. Reports the running 2xx count each second.
 */
function runLoad(
  opts: { port: number; path: string; seconds: number; rate?: number },
  onProgress?: (ok: number) => void,
  onStart?: () => void,
): { pid: number; done: Promise<LoadResult> } {
  const code = `
    import autocannon from 'autocannon';
    import { randomBytes } from 'node:crypto';
    const o = JSON.parse(process.env.LOAD);
    const prefix = randomBytes(10).toString('hex');
    let n = 0;
    const requests = o.bodies.map((body) => ({
      method: 'POST', path: o.path, headers: { 'content-type': 'application/x-sentry-envelope' }, body,
      setupRequest: (req) => {
        req.body = body.replaceAll(o.placeholder, prefix + (n++).toString(16).padStart(12, '0'));
        return req;
      },
    }));
    let ok = 0;
    const inst = autocannon({
      url: 'http://127.0.0.1:' + o.port, connections: o.connections, duration: o.seconds, pipelining: 1,
      requests, ...(o.rate ? { overallRate: o.rate } : {}),
    }, (err, r) => {
      clearInterval(t);
      if (err) { console.error(err); process.exit(1); }
      const cpu = process.cpuUsage();
      process.stdout.write('RESULT ' + JSON.stringify({
        ok: r['2xx'], non2xx: r.non2xx, errors: r.errors + r.timeouts, durationS: r.duration,
        p50: r.latency.p50, p99: r.latency.p99, rps: r['2xx'] / r.duration, cpuS: (cpu.user + cpu.system) / 1e6,
      }) + '\\n');
    });
    inst.on('response', (_c, status) => { if (status >= 200 && status < 300) ok++; });
    process.stdout.write('STARTED\\n');
    const t = setInterval(() => process.stdout.write('P ' + ok + '\\n'), 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    cwd: root,
    env: {
      ...process.env,
      LOAD: JSON.stringify({ ...opts, bodies, connections, placeholder: PLACEHOLDER }),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
    const lines = out.split('\n');
    out = lines.pop()!;
    for (const line of lines) {
      if (line === 'STARTED') onStart?.();
      else if (line.startsWith('P ')) onProgress?.(Number(line.slice(2)));
      else if (line.startsWith('RESULT ')) result = JSON.parse(line.slice(7)) as LoadResult;
    }
  });
  let result: LoadResult | undefined;
  const done = new Promise<LoadResult>((resolve, reject) => {
    child.once('exit', (c) => {
      children.delete(child);
      if (result) resolve(result);
      else reject(new Error(`load generator exited with ${c}`));
    });
  });
  return { pid: child.pid!, done };
}

// ------------------------------------------------------------------ probe

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** Sends a tagged event every 100 ms; polls the events table for the ones acknowledged. */
class Probe {
  readonly e2e: number[] = [];
  readonly ack: number[] = [];
  sent = 0;
  acked = 0;
  failed = 0;
  private readonly pending = new Map<string, number>();
  private sending?: NodeJS.Timeout;
  private polling = true;
  private poller?: Promise<void>;
  private inflight = new Set<Promise<void>>();
  private seq = 0;

  constructor(
    private readonly url: string,
    private readonly projectId: number,
    private readonly db: pg.Client,
  ) {}

  start(): void {
    this.sending = setInterval(() => {
      const p = this.sendOne().finally(() => this.inflight.delete(p));
      this.inflight.add(p);
    }, 100);
    this.poller = this.poll();
  }

  private async sendOne(): Promise<void> {
    const id = randomUUID().replaceAll('-', '');
    const body = probeEnvelope(id, this.seq++);
    this.sent++;
    const t0 = performance.now();
    try {
      const res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-sentry-envelope' },
        body,
      });
      await res.arrayBuffer();
      const t1 = performance.now();
      if (res.status !== 200) {
        this.failed++;
        return;
      }
      this.acked++;
      this.ack.push(t1 - t0);
      this.pending.set(id, t1);
    } catch {
      this.failed++;
    }
  }

  /** A failed poll (the database went away) ends polling; measuredRun reports it. */
  failure?: Error;
  private async poll(): Promise<void> {
    try {
      await this.pollLoop();
    } catch (err) {
      this.failure = err as Error;
      this.polling = false;
    }
  }

  private async pollLoop(): Promise<void> {
    while (this.polling) {
      if (this.pending.size > 0) {
        const ids = [...this.pending.keys()];
        const t = performance.now();
        const r = await this.db.query<{ id: string }>(
          `SELECT replace(event_id::text, '-', '') AS id FROM events WHERE project_id = $1 AND event_id = ANY($2::uuid[])`,
          [this.projectId, ids],
        );
        for (const { id } of r.rows) {
          const acked = this.pending.get(id);
          if (acked === undefined) continue;
          this.e2e.push(Math.max(0, t - acked));
          this.pending.delete(id);
        }
      }
      await sleep(25);
    }
  }

  async stopSending(): Promise<void> {
    clearInterval(this.sending);
    await Promise.all(this.inflight);
  }

  get outstanding(): number {
    return this.pending.size;
  }

  async stop(): Promise<void> {
    await this.stopSending();
    this.polling = false;
    await this.poller;
  }
}

// ------------------------------------------------------------------ one measured run

interface RunResult {
  load: LoadResult;
  e2eP50: number;
  e2eP99: number;
  e2eMax: number;
  probes: number;
  probesUnseen: number;
  probeAckP99: number;
  backlogAtEnd: number;
  backlogMax: number;
  backlogSlope: number;
  drainS: number;
  residual: number;
  cpu: Record<string, number>;
  /** CPU µs per accepted event, per process group. */
  cpuPerEvent: Record<string, number>;
  /** Group commit of ingest (bus writes) and batches of the issues worker, load and drain. */
  pipeline: {
    busWrites: number;
    eventsPerWrite: number;
    msPerWrite: number;
    issueBatches: number;
    eventsPerBatch: number;
    msPerBatch: number;
  };
}

/** Events the ingest process acknowledged (its Prometheus counter, incremented right before the 200). */
const acceptedCounter = (port: number, projectId: number) => async (): Promise<number> => {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  const text = await res.text();
  let n = 0;
  for (const line of text.split('\n'))
    if (
      line.startsWith('beacon_ingest_events_total{') &&
      line.includes(`project="${projectId}"`) &&
      line.includes('outcome="accepted"')
    )
      n += Number(line.slice(line.lastIndexOf(' ') + 1));
  return n;
};

/** Sums and counts of the ingest group-commit and issues-worker histograms, from /metrics. */
async function pipelineStats(ports: number[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const port of ports) {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (const line of text.split('\n')) {
      const m =
        /^(beacon_(?:ingest_publish_batch_size|ingest_publish_seconds|issues_batch_seconds)_(?:sum|count)) ([\d.e+-]+)$/.exec(
          line,
        );
      if (m) out[m[1]!] = (out[m[1]!] ?? 0) + Number(m[2]);
    }
  }
  return out;
}

async function storedCount(db: pg.Client, projectId: number): Promise<number> {
  const r = await db.query<{ n: string | null }>(
    'SELECT sum(event_count) AS n FROM issues WHERE project_id = $1',
    [projectId],
  );
  return Number(r.rows[0]?.n ?? 0);
}

/** Least-squares slope (events/s) of the backlog samples of the second half of the run. */
function slope(samples: Array<{ t: number; backlog: number }>): number {
  const s = samples.slice(Math.floor(samples.length / 2));
  if (s.length < 3) return 0;
  const mt = s.reduce((a, x) => a + x.t, 0) / s.length;
  const mb = s.reduce((a, x) => a + x.backlog, 0) / s.length;
  const num = s.reduce((a, x) => a + (x.t - mt) * (x.backlog - mb), 0);
  const den = s.reduce((a, x) => a + (x.t - mt) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

async function measuredRun(o: {
  label: string;
  port: number;
  path: string;
  projectId: number;
  db: pg.Client;
  seconds: number;
  rate?: number;
  /** The ingest process's count of accepted events (every run so far, warm-up included). */
  accepted: () => Promise<number>;
  /** Ports whose /metrics carry the ingest and issues-worker histograms. */
  metricsPorts: number[];
  cpuGroups: Group[];
}): Promise<RunResult> {
  const probe = new Probe(`http://127.0.0.1:${o.port}${o.path}`, o.projectId, o.db);
  const samples: Array<{ t: number; backlog: number }> = [];
  let onStart!: () => void;
  const started = new Promise<void>((r) => {
    onStart = r;
  });
  // The probe and the clocks start once autocannon runs (its process takes a while to load).
  const load = runLoad({ port: o.port, path: o.path, seconds: o.seconds, rate: o.rate }, undefined, onStart);
  await Promise.race([started, load.done]);
  const t0 = performance.now();
  const cpu0 = await cpuSample(o.cpuGroups);
  const accepted0 = await o.accepted();
  const stats0 = await pipelineStats(o.metricsPorts);
  probe.start();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      await sleep(1000);
      if (!sampling) break;
      const accepted = await o.accepted();
      const backlog = accepted - (await storedCount(o.db, o.projectId));
      const t = (performance.now() - t0) / 1000;
      samples.push({ t, backlog });
      if (Math.round(t) % 5 === 0)
        log(
          `    t=${t.toFixed(0)}s  accepted so far ${accepted}  backlog ${backlog}  e2e samples ${probe.e2e.length}`,
        );
    }
  })();
  let result: LoadResult;
  try {
    result = await load.done;
  } finally {
    sampling = false;
    await sampler;
  }
  const elapsed = (performance.now() - t0) / 1000;
  const cpu1 = await cpuSample(o.cpuGroups);
  await probe.stopSending();
  // The generator reports its own CPU time (process.cpuUsage) as it exits.
  const cpu = {
    ...cpuReport(cpu0, cpu1, elapsed),
    'load generator': round((result.cpuS / elapsed) * 100, 0),
  };

  // Drain: until every acknowledged event is counted in its issue (or the limit).
  let acked = await o.accepted();
  const tEnd = performance.now();
  let stored = await storedCount(o.db, o.projectId);
  const backlogAtEnd = acked - stored;
  while ((stored < acked || probe.outstanding > 0) && performance.now() - tEnd < drainLimitS * 1000) {
    await sleep(100);
    acked = await o.accepted(); // requests still in flight when the load stopped count too
    stored = await storedCount(o.db, o.projectId);
  }
  const drainS = (performance.now() - tEnd) / 1000;
  if (probe.failure) throw new Error(`probe polling failed: ${probe.failure.message}`);
  const stats1 = await pipelineStats(o.metricsPorts);
  const d = (k: string) => (stats1[k] ?? 0) - (stats0[k] ?? 0);
  const writes = d('beacon_ingest_publish_batch_size_count');
  const batches = d('beacon_issues_batch_seconds_count');
  const pipeline = {
    busWrites: writes,
    eventsPerWrite: d('beacon_ingest_publish_batch_size_sum') / Math.max(1, writes),
    msPerWrite: (d('beacon_ingest_publish_seconds_sum') * 1000) / Math.max(1, writes),
    issueBatches: batches,
    eventsPerBatch: (acked - accepted0) / Math.max(1, batches),
    msPerBatch: (d('beacon_issues_batch_seconds_sum') * 1000) / Math.max(1, batches),
  };
  // CPU time per accepted event, load and drain included (the issues worker catches up after the
  // load): unlike events/s, this does not depend on what else runs on the machine.
  const cpu2 = await cpuSample(o.cpuGroups);
  const events = Math.max(1, acked - accepted0);
  const cpuPerEvent: Record<string, number> = {};
  for (const [k, v] of cpu2) cpuPerEvent[k] = round(((v - (cpu0.get(k) ?? 0)) / events) * 1e6, 0);
  await probe.stop();
  const r: RunResult = {
    load: result,
    e2eP50: percentile(probe.e2e, 50),
    e2eP99: percentile(probe.e2e, 99),
    e2eMax: percentile(probe.e2e, 100),
    probes: probe.acked,
    probesUnseen: probe.outstanding,
    probeAckP99: percentile(probe.ack, 99),
    backlogAtEnd,
    backlogMax: Math.max(backlogAtEnd, ...samples.map((s) => s.backlog)),
    backlogSlope: slope(samples),
    drainS,
    residual: acked - stored,
    cpu,
    cpuPerEvent,
    pipeline,
  };
  log(
    `  ${o.label}: ${result.rps.toFixed(0)} accepted events/s, ingest p50 ${result.p50} ms, p99 ${result.p99} ms ` +
      `(${result.ok} ok, ${result.non2xx} non-2xx, ${result.errors} errors)`,
  );
  log(
    `    end-to-end (200 → counted in its issue), ${r.probes} probes: p50 ${r.e2eP50.toFixed(0)} ms, p99 ${r.e2eP99.toFixed(0)} ms, ` +
      `max ${r.e2eMax.toFixed(0)} ms${r.probesUnseen ? `, ${r.probesUnseen} never seen` : ''}`,
  );
  log(
    `    backlog at end of load ${r.backlogAtEnd} events (max ${r.backlogMax}, trend over the 2nd half ${r.backlogSlope.toFixed(0)} events/s); ` +
      `drained in ${r.drainS.toFixed(1)} s, residual ${r.residual}`,
  );
  log(`    CPU over the load (100% = one core): ${fmtCpu(r.cpu)}`);
  const pl = r.pipeline;
  log(
    `    ingest bus writes: ${pl.busWrites}, ${pl.eventsPerWrite.toFixed(1)} events and ${pl.msPerWrite.toFixed(1)} ms each; ` +
      `issues worker batches: ${pl.issueBatches}, ~${pl.eventsPerBatch.toFixed(1)} events and ${pl.msPerBatch.toFixed(1)} ms each`,
  );
  log(
    `    CPU per accepted event (load + drain): ${Object.entries(r.cpuPerEvent)
      .map(([k, v]) => `${k} ${v} µs`)
      .join(', ')}`,
  );
  return r;
}

// ------------------------------------------------------------------ helpers: account, build

async function postJson(url: string, body: unknown, token?: string): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${url}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function createProject(port: number): Promise<{ projectId: number; path: string }> {
  const base = `http://127.0.0.1:${port}`;
  const { accessToken } = (await postJson(`${base}/api/v1/auth/signup`, {
    email: `bench-${randomBytes(3).toString('hex')}@example.com`,
    password: 'benchmark password',
    name: 'Bench',
  })) as { accessToken: string };
  const project = (await postJson(`${base}/api/v1/projects`, { name: 'pipeline bench' }, accessToken)) as {
    id: number;
    keys: Array<{ publicKey: string }>;
  };
  const key = project.keys[0]!.publicKey;
  return { projectId: project.id, path: `/api/${project.id}/envelope/?sentry_key=${key}&sentry_version=7` };
}

function warmup(port: number, p: string, rate?: number): Promise<LoadResult> {
  return runLoad({ port, path: p, seconds: warmupSeconds, rate }).done;
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
      newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function ensureBuilt(): void {
  if (!existsSync(mainJs) || process.env.BENCH_REBUILD === '1') {
    log('building @beacon/server…');
    const r = spawnSync('npm', ['run', 'build', '-w', '@beacon/server'], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (!existsSync(mainJs)) throw new Error(`build failed (exit ${r.status})`);
    if (r.status !== 0) log(`  the build reported errors (exit ${r.status}); running what it emitted`);
  } else if (newestSource(path.join(root, 'packages/server/src')) > statSync(mainJs).mtimeMs) {
    log('note: packages/server/src has changes newer than dist (set BENCH_REBUILD=1 to rebuild first)');
  }
}

// ------------------------------------------------------------------ phase 1: embedded

type Metric = { label: string; value: number; unit: string; target?: string };
const metrics: Metric[] = [];
const m = (label: string, value: number, unit: string, target?: string) =>
  metrics.push({
    label,
    value: Number.isFinite(value) ? round(value, 1) : -1,
    unit,
    ...(target ? { target } : {}),
  });

function pushRun(prefix: string, r: RunResult, targets: { rps?: string; p99?: string; e2e?: boolean }) {
  m(`${prefix}: accepted events/s`, Math.round(r.load.rps), 'events/s', targets.rps);
  m(`${prefix}: ingest p50 latency`, r.load.p50, 'ms');
  m(`${prefix}: ingest p99 latency`, r.load.p99, 'ms', targets.p99);
  m(`${prefix}: non-2xx + errors`, r.load.non2xx + r.load.errors, 'responses');
  m(`${prefix}: end-to-end p50 (200 → counted in issue)`, r.e2eP50, 'ms');
  m(
    `${prefix}: end-to-end p99 (200 → counted in issue)`,
    r.e2eP99,
    'ms',
    targets.e2e ? '< 2000 ms' : undefined,
  );
  m(`${prefix}: backlog at end of load`, r.backlogAtEnd, 'events');
  m(`${prefix}: backlog trend, 2nd half of load`, r.backlogSlope, 'events/s', '~0 (bounded)');
  m(`${prefix}: drain time after load`, r.drainS, 's');
  m(`${prefix}: backlog after drain`, r.residual, 'events', '0');
  for (const [k, v] of Object.entries(r.cpuPerEvent)) m(`${prefix}: CPU per accepted event, ${k}`, v, 'µs');
  m(`${prefix}: events per ingest bus write (group commit)`, r.pipeline.eventsPerWrite, 'events');
  m(`${prefix}: ingest bus write duration (mean)`, r.pipeline.msPerWrite, 'ms');
  m(`${prefix}: issues worker batch duration (mean)`, r.pipeline.msPerBatch, 'ms');
}

const postgresPids = (dataDir: string) => (): number[] => {
  const f = path.join(dataDir, 'pg', 'postmaster.pid');
  if (!existsSync(f)) return [];
  const pm = Number(readFileSync(f, 'utf8').split('\n')[0]);
  return [pm, ...childPids(pm)];
};

async function embeddedPhase(): Promise<void> {
  log('\n## embedded: one process, all roles, embedded PostgreSQL');
  const dir = mkdtempSync(path.join(tmpdir(), 'beacon-pipeline-bench-'));
  atCleanup('embedded data dir', async () => {
    // An orphaned embedded PostgreSQL (beacon killed) would keep the directory busy.
    const pids = postgresPids(dir)();
    if (pids[0] && existsSync(`/proc/${pids[0]}`)) {
      process.kill(pids[0], 'SIGINT');
      for (let i = 0; i < 100 && existsSync(`/proc/${pids[0]}`); i++) await sleep(100);
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const beacon = await startBeacon('beacon (all roles)', dir, { BEACON_DATA_DIR: dir });
  const { projectId, path: p } = await createProject(beacon.port);
  const dataDir = dir;
  const pgPort = Number(readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[3]);
  const password = readFileSync(path.join(dataDir, 'pg-password'), 'utf8').trim();
  const db = new pg.Client({
    connectionString: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${pgPort}/beacon`,
  });
  db.on('error', () => {}); // the server going away during clean-up is expected
  await db.connect();
  const groups: Group[] = [
    { label: 'beacon', pids: () => [beacon.child.pid!] },
    { label: 'embedded PostgreSQL', pids: postgresPids(dataDir) },
  ];
  try {
    const rateLabel = e2eRate > 0 ? `${e2eRate}/s` : 'full speed';
    log(`  warm-up ${warmupSeconds} s at ${rateLabel}…`);
    await warmup(beacon.port, p, e2eRate || undefined);
    const accepted = acceptedCounter(beacon.port, projectId);
    log(`  load: ${rateLabel} for ${e2eSeconds} s over ${connections} connections, with the probe…`);
    const fixed = await measuredRun({
      label: `embedded, ${rateLabel}`,
      port: beacon.port,
      path: p,
      projectId,
      db,
      seconds: e2eSeconds,
      rate: e2eRate || undefined,
      accepted,
      metricsPorts: [beacon.port],
      cpuGroups: groups,
    });
    pushRun(`embedded @ ${rateLabel}`, fixed, {
      e2e: true,
      ...(e2eRate > 0 ? {} : { rps: '>= 5000', p99: '< 100 ms' }),
    });
    if (fullSeconds > 0 && e2eRate > 0) {
      log(`  load: full speed for ${fullSeconds} s over ${connections} connections, with the probe…`);
      const full = await measuredRun({
        label: 'embedded, full speed',
        port: beacon.port,
        path: p,
        projectId,
        db,
        seconds: fullSeconds,
        accepted,
        metricsPorts: [beacon.port],
        cpuGroups: groups,
      });
      pushRun('embedded @ full speed', full, { rps: '>= 5000', p99: '< 100 ms', e2e: true });
    }
  } finally {
    await db.end().catch(() => {});
    await stopChild(beacon.child);
  }
}

// ------------------------------------------------------------------ phase 2: PostgreSQL + Kafka

const bareServer = `
  import http from 'node:http';
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
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

function startBare(): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', bareServer], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.add(child);
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const found = /^PORT (\d+)$/m.exec(out);
      if (found) resolve({ child, port: Number(found[1]) });
    });
    child.once('exit', (c) => reject(new Error(`bare server exited with ${c}`)));
  });
}

async function kafkaPhase(): Promise<void> {
  log('\n## at scale: PostgreSQL + Kafka, ingest,api and issues as separate processes');
  const [kHost, kPort] = brokers.split(',')[0]!.split(':');
  if (!(await portOpen(Number(kPort)))) {
    if (kHost !== '127.0.0.1' && kHost !== 'localhost') throw new Error(`no Kafka on ${brokers}`);
    log('  starting Kafka (scripts/kafka start)…');
    const kafkaStart = () =>
      spawnSync('bash', [path.join(root, 'scripts/kafka'), 'start'], {
        cwd: root,
        stdio: ['ignore', 'inherit', 'inherit'],
      }).status;
    let status = kafkaStart();
    if (status !== 0) {
      log('  retrying scripts/kafka start once in 5 s…');
      await sleep(5000);
      status = kafkaStart();
    }
    if (status !== 0) throw new Error(`scripts/kafka start failed (exit ${status})`);
    atCleanup('stop Kafka (started by this bench)', () => {
      spawnSync('bash', [path.join(root, 'scripts/kafka'), 'stop'], {
        cwd: root,
        stdio: ['ignore', 'inherit', 'inherit'],
      });
    });
  } else log(`  Kafka already listens on ${brokers}: using it (and leaving it running)`);

  const dbName = `beacon_bench_pipeline_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  await admin.end();
  atCleanup('drop scratch database', async () => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await c.end();
  });
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${dbName}`;
  const prefix = `bench-${randomBytes(4).toString('hex')}.`;
  atCleanup('delete Kafka topics', async () => {
    const kafka = new Kafka({
      clientId: 'beacon-bench',
      brokers: brokers.split(','),
      logLevel: logLevel.NOTHING,
    });
    const ka = kafka.admin();
    await ka.connect();
    try {
      const topics = (await ka.listTopics()).filter((t) => t.startsWith(prefix));
      if (topics.length) await ka.deleteTopics({ topics });
    } finally {
      await ka.disconnect();
    }
  });
  const cwd = mkdtempSync(path.join(tmpdir(), 'beacon-pipeline-bench-'));
  atCleanup('kafka phase temp dir', () => rmSync(cwd, { recursive: true, force: true }));
  const env = {
    DATABASE_URL: dbUrl.toString(),
    KAFKA_BROKERS: brokers,
    BUS_TOPIC_PREFIX: prefix,
    JWT_KEY: randomBytes(32).toString('hex'),
    BEACON_DATA_DIR: path.join(cwd, 'data'),
  };
  log(`  scratch database ${dbName}, topic prefix ${prefix}`);
  // One retry: a shared local broker that is being restarted answers metadata errors for a while.
  const start = (name: string, roles: string) =>
    startBeacon(name, cwd, { ...env, BEACON_ROLES: roles }).catch(async (err) => {
      log(`  ${name} failed to start (${(err as Error).message.split('\n')[1] ?? ''}); retrying once in 5 s`);
      await sleep(5000);
      return startBeacon(name, cwd, { ...env, BEACON_ROLES: roles });
    });
  const ingest = await start('beacon --roles ingest,api', 'ingest,api');
  const issues = await start('beacon --roles issues', 'issues');
  const { projectId, path: p } = await createProject(ingest.port);
  const db = new pg.Client({ connectionString: dbUrl.toString() });
  db.on('error', () => {}); // the database is dropped during clean-up
  await db.connect();
  // The broker's pid from its listening socket (it may have been started by anyone).
  const kafkaPid = (): number[] => {
    try {
      const out = execFileSync('ss', ['-ltnpH', `sport = :${kPort}`]).toString();
      return [...new Set([...out.matchAll(/pid=(\d+)/g)].map((x) => Number(x[1])))];
    } catch {
      return [];
    }
  };
  const pgBackends = async () => {
    const r = await db.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [
      dbName,
    ]);
    return r.rows.map((x) => x.pid);
  };
  let run: RunResult;
  try {
    log(`  warm-up ${warmupSeconds} s at full speed…`);
    await warmup(ingest.port, p);
    log(`  load: full speed for ${kafkaSeconds} s over ${connections} connections, with the probe…`);
    run = await measuredRun({
      label: 'Kafka mode, full speed',
      port: ingest.port,
      path: p,
      projectId,
      db,
      seconds: kafkaSeconds,
      accepted: acceptedCounter(ingest.port, projectId),
      metricsPorts: [ingest.port, issues.port],
      cpuGroups: [
        { label: 'ingest,api', pids: () => [ingest.child.pid!] },
        { label: 'issues', pids: () => [issues.child.pid!] },
        { label: 'Kafka broker', pids: kafkaPid },
        { label: 'PostgreSQL backends', pids: pgBackends },
      ],
    });
  } finally {
    await db.end().catch(() => {});
    await stopChild(ingest.child);
    await stopChild(issues.child);
  }

  log('  loading a bare node:http server with the same bodies…');
  const bare = await startBare();
  let b: LoadResult;
  let bareUs: number;
  try {
    await warmup(bare.port, p);
    const c0 = cpuTicks(bare.child.pid!);
    b = await runLoad({ port: bare.port, path: p, seconds: kafkaSeconds }).done;
    bareUs = (((cpuTicks(bare.child.pid!) - c0) / HZ) * 1e6) / Math.max(1, b.ok);
  } finally {
    await stopChild(bare.child);
  }
  log(
    `  bare node:http: ${b.rps.toFixed(0)} requests/s, p50 ${b.p50} ms, p99 ${b.p99} ms, ${bareUs.toFixed(0)} µs CPU per request`,
  );
  const ratio = run.load.rps / b.rps;
  const ingestUs = run.cpuPerEvent['ingest,api'] ?? Number.NaN;
  log(`  ratio Beacon (Kafka mode) / bare: ${(ratio * 100).toFixed(1)}%`);
  log(
    `  CPU per request, bare / Beacon's ingest process: ${((bareUs / ingestUs) * 100).toFixed(1)}% ` +
      '(the throughput ratio if CPU were the only limit and the ingest process had a core to itself)',
  );
  pushRun('Kafka mode @ full speed', run, { e2e: true });
  m('bare node:http requests/s (same bodies, same load)', Math.round(b.rps), 'req/s');
  m('bare node:http p99 latency', b.p99, 'ms');
  m('Kafka mode Beacon / bare node:http', ratio * 100, '%', '>= 50%');
  m('bare node:http CPU per request', bareUs, 'µs');
  m('CPU per request: bare node:http / Beacon ingest process', (bareUs / ingestUs) * 100, '%');
}

// ------------------------------------------------------------------ main

let failed = false;
try {
  ensureBuilt();
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const load1 = os.loadavg()[0]!;
  log(
    `machine: ${os.availableParallelism()} cores, load average ${load1.toFixed(1)}` +
      (load1 > os.availableParallelism()
        ? ' (busy: other processes compete for the CPU, figures will be low)'
        : ''),
  );
  m('machine load average (1 min) when the bench started', load1, '');
  log(
    `${bodies.length} distinct envelopes of ~${Math.round(bodies.reduce((s, b) => s + b.length, 0) / bodies.length)} bytes, ` +
      `fresh event_id per request, key in the sentry_key query; probe every 100 ms`,
  );
  for (const phase of phases) {
    try {
      if (phase === 'embedded') await embeddedPhase();
      else if (phase === 'kafka') await kafkaPhase();
      else throw new Error(`unknown phase ${phase}`);
    } catch (err) {
      failed = true;
      console.error(`phase ${phase} failed: ${(err as Error).stack ?? err}`);
    }
  }
} finally {
  await cleanup();
}
console.log(`BENCH_RESULT ${JSON.stringify({ name: 'pipeline', metrics })}`);
process.exit(failed ? 1 : 0);
