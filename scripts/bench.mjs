#!/usr/bin/env node
// Runs every benchmark in bench/*.bench.ts (or the ones named on the command line), each in its own
// process, bounded in time, and writes the table to bench-results/latest.{md,json}.
// Usage: npm run bench [-- ingest uptime]   (names match bench/<name>.bench.ts)
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const benchDir = path.join(root, 'bench');
const wanted = process.argv.slice(2);
const files = readdirSync(benchDir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.includes(f.replace('.bench.ts', '')))
  .sort();
const perBenchTimeoutMs = Number(process.env.BENCH_TIMEOUT_SECONDS ?? 420) * 1000;

const machine = {
  cores: os.availableParallelism(),
  memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
  cpu: os.cpus()[0]?.model ?? 'unknown',
  node: process.version,
  date: new Date().toISOString(),
};
console.log(
  `Beacon benchmarks on ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.cpu}, Node ${machine.node}`,
);

function run(file) {
  return new Promise((resolve) => {
    const started = Date.now();
    console.log(`\n=== ${file} ===`);
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(benchDir, file)], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
    });
    let result;
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      let i = buf.indexOf('\n');
      while (i >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.startsWith('BENCH_RESULT ')) {
          try {
            result = JSON.parse(line.slice('BENCH_RESULT '.length));
          } catch {
            console.log(`  (unparseable result line) ${line}`);
          }
        } else console.log(`  ${line}`);
        i = buf.indexOf('\n');
      }
    });
    const timer = setTimeout(() => {
      console.log(`  ${file} exceeded ${perBenchTimeoutMs / 1000}s: stopping it`);
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    }, perBenchTimeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const seconds = Math.round((Date.now() - started) / 100) / 10;
      resolve({ file, code, seconds, result });
    });
  });
}

const outcomes = [];
for (const f of files) outcomes.push(await run(f));

const rows = [];
for (const o of outcomes) {
  if (!o.result) {
    rows.push(`| ${o.file.replace('.bench.ts', '')} | (failed, exit ${o.code}) | | | |`);
    continue;
  }
  if (o.result.skipped) rows.push(`| ${o.result.name} | skipped: ${o.result.skipped} | | | |`);
  for (const m of o.result.metrics ?? [])
    rows.push(
      `| ${o.result.name} | ${m.label} | ${typeof m.value === 'number' ? Number(m.value.toFixed(2)) : m.value} | ${m.unit ?? ''} | ${m.target ?? ''} |`,
    );
}
const md = [
  `Measured ${machine.date.slice(0, 10)} on ${machine.cores} cores, ${machine.memoryGiB} GiB (${machine.cpu}), Node ${machine.node}.`,
  '',
  '| benchmark | metric | value | unit | target |',
  '| --- | --- | --- | --- | --- |',
  ...rows,
].join('\n');
mkdirSync(path.join(root, 'bench-results'), { recursive: true });
writeFileSync(path.join(root, 'bench-results/latest.md'), `${md}\n`);
writeFileSync(
  path.join(root, 'bench-results/latest.json'),
  `${JSON.stringify({ machine, outcomes }, null, 2)}\n`,
);
console.log(`\n${md}\n\nWritten to bench-results/latest.md and latest.json`);
process.exit(outcomes.every((o) => o.result) ? 0 : 1);
