import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { repoRoot } from '../packages/server/src/test-support/index.js';

export const webDist = path.join(repoRoot, 'packages/web/dist');
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Build the dashboard once when packages/web/dist is missing (a fresh checkout without `npm install`). */
export function ensureWebBuild(): void {
  if (existsSync(path.join(webDist, 'index.html'))) return;
  execFileSync('npm', ['run', 'build', '-w', '@beacon/web'], { cwd: repoRoot, stdio: 'inherit' });
}

export function screenshotDir(): string {
  const dir = path.join(repoRoot, 'test-results/screenshots');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Gzipped bytes of the JavaScript index.html loads up front (entry script + modulepreloads). */
export function firstLoadJs(): { files: Array<{ file: string; raw: number; gzip: number }>; gzip: number } {
  const html = readFileSync(path.join(webDist, 'index.html'), 'utf8');
  const srcs = new Set<string>();
  for (const m of html.matchAll(/<script[^>]+src="([^"]+\.js)"/g)) srcs.add(m[1]!);
  for (const m of html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+\.js)"/g)) srcs.add(m[1]!);
  const files = [...srcs].map((src) => {
    const buf = readFileSync(path.join(webDist, src.replace(/^\//, '')));
    return { file: src, raw: buf.length, gzip: gzipSync(buf, { level: 9 }).length };
  });
  return { files, gzip: files.reduce((s, f) => s + f.gzip, 0) };
}
