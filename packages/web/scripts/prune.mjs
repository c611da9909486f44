// After `vite build` (which keeps old files: emptyOutDir is off), delete hashed assets that the new
// build does not use and that are older than an hour. Keeping recent ones means a tab (or a test)
// still running the previous build can lazy-load its chunks while a rebuild or deploy happens.
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const manifest = JSON.parse(readFileSync(path.join(dist, '.vite', 'manifest.json'), 'utf8'));
const used = new Set();
for (const entry of Object.values(manifest)) {
  used.add(entry.file);
  for (const f of [...(entry.css ?? []), ...(entry.assets ?? [])]) used.add(f);
}
const cutoff = Date.now() - 60 * 60 * 1000;
let removed = 0;
for (const name of readdirSync(path.join(dist, 'assets'))) {
  const rel = `assets/${name}`;
  const file = path.join(dist, rel);
  if (used.has(rel) || statSync(file).mtimeMs > cutoff) continue;
  rmSync(file, { force: true });
  removed++;
}
if (removed) process.stdout.write(`pruned ${removed} stale asset(s) from packages/web/dist\n`);
