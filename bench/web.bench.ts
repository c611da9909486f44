// The dashboard's weight: a fresh production build of packages/web, then the gzipped JavaScript the
// browser loads up front (index.html's entry script and modulepreloads), all JavaScript chunks and
// the stylesheet. Budget: first-load JS under 350 KB gzipped.
// Run: node --import tsx bench/web.bench.ts
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'packages/web/dist');
const gz = (file: string) => gzipSync(readFileSync(file), { level: 9 }).length;
const kb = (n: number) => Math.round((n / 1024) * 10) / 10;

console.log('building packages/web…');
const started = Date.now();
execFileSync('npm', ['run', 'build', '-w', '@beacon/web'], {
  cwd: root,
  stdio: ['ignore', 'ignore', 'inherit'],
});
const buildMs = Date.now() - started;

const html = readFileSync(path.join(dist, 'index.html'), 'utf8');
const firstLoad = new Set<string>();
for (const m of html.matchAll(/<script[^>]+src="([^"]+\.js)"/g)) firstLoad.add(m[1]!);
for (const m of html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+\.js)"/g)) firstLoad.add(m[1]!);
const firstLoadGz = [...firstLoad].reduce((s, src) => s + gz(path.join(dist, src.replace(/^\//, ''))), 0);
const assets = readdirSync(path.join(dist, 'assets'));
const allJsGz = assets
  .filter((f) => f.endsWith('.js'))
  .reduce((s, f) => s + gz(path.join(dist, 'assets', f)), 0);
const cssGz = assets
  .filter((f) => f.endsWith('.css'))
  .reduce((s, f) => s + gz(path.join(dist, 'assets', f)), 0);
const chunks = assets.filter((f) => f.endsWith('.js')).length;

console.log(`build ${buildMs} ms; ${chunks} JS chunks`);
console.log(`first-load JS ${kb(firstLoadGz)} KB gz (${[...firstLoad].join(', ')})`);
console.log(`all JS ${kb(allJsGz)} KB gz; CSS ${kb(cssGz)} KB gz`);
console.log(
  `BENCH_RESULT ${JSON.stringify({
    name: 'web',
    metrics: [
      { label: 'first-load JS (gzip)', value: kb(firstLoadGz), unit: 'KB', target: '< 350' },
      { label: 'all JS chunks (gzip)', value: kb(allJsGz), unit: 'KB' },
      { label: 'CSS (gzip)', value: kb(cssGz), unit: 'KB' },
      { label: 'production build time', value: buildMs, unit: 'ms' },
    ],
  })}`,
);
