// Footprint of the all-in-one process: cold start time to /readyz (first start with initdb, and a
// warm restart) and RSS of `beacon start` when idle, with the embedded PostgreSQL's RSS beside it.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const main = path.join(root, 'packages/server/dist/main.js');
if (!existsSync(main))
  execFileSync('npm', ['run', 'build', '-w', '@beacon/server'], { cwd: root, stdio: 'inherit' });

const rssKb = (pid: number): number => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
};
const childrenOf = (pid: number): number[] => {
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
};
/** RSS of the embedded PostgreSQL: its postmaster and every backend under it. */
const postgresRssKb = (dataDir: string): number => {
  const pidFile = path.join(dataDir, 'pg', 'postmaster.pid');
  if (!existsSync(pidFile)) return 0;
  const pm = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  return [pm, ...childrenOf(pm)].reduce((s, p) => s + (existsSync(`/proc/${p}`) ? rssKb(p) : 0), 0);
};

async function startOnce(dataDir: string, port: number) {
  const t0 = performance.now();
  const child = spawn(process.execPath, [main, 'start'], {
    env: {
      ...process.env,
      BEACON_DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (res.status === 200) break;
    } catch {}
    if (child.exitCode !== null) throw new Error(`beacon exited with ${child.exitCode}`);
    if (performance.now() - t0 > 60_000) throw new Error('beacon did not become ready in 60 s');
    await new Promise((r) => setTimeout(r, 20));
  }
  return { child, ms: performance.now() - t0 };
}

async function stop(child: ReturnType<typeof spawn>) {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

const dir = mkdtempSync(path.join(tmpdir(), 'beacon-footprint-'));
const port = 18000 + Math.floor(Math.random() * 1000);
try {
  console.log('first start (initialises the embedded PostgreSQL)…');
  const first = await startOnce(dir, port);
  await stop(first.child);
  console.log(`  ready in ${first.ms.toFixed(0)} ms`);
  console.log('warm start…');
  const warm = await startOnce(dir, port);
  console.log(`  ready in ${warm.ms.toFixed(0)} ms; idling 10 s before measuring RSS…`);
  await new Promise((r) => setTimeout(r, 10_000));
  const nodeRss = rssKb(warm.child.pid!) / 1024;
  const pgRss = postgresRssKb(dir) / 1024;
  console.log(
    `  beacon process RSS ${nodeRss.toFixed(1)} MB, embedded PostgreSQL RSS ${pgRss.toFixed(1)} MB`,
  );
  await stop(warm.child);
  console.log(
    `BENCH_RESULT ${JSON.stringify({
      name: 'footprint',
      metrics: [
        { label: 'cold start to /readyz, first run (initdb)', value: first.ms, unit: 'ms' },
        { label: 'cold start to /readyz, existing data', value: warm.ms, unit: 'ms' },
        { label: 'idle RSS of beacon start (all roles)', value: nodeRss, unit: 'MB', target: '< 200 MB' },
        { label: 'idle RSS of embedded PostgreSQL (all its processes)', value: pgRss, unit: 'MB' },
      ],
    })}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
