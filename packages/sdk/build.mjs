// Builds @beacon/sdk: per-file ESM and CJS (tree-shakeable; one module graph so the scope state is
// shared between entry points), minified browser bundles (ESM and a <script> IIFE exposing
// `Beacon`), and type declarations (tsc).
import { execFileSync } from 'node:child_process';
import { copyFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const root = new URL('.', import.meta.url).pathname;
rmSync(`${root}dist`, { recursive: true, force: true });
const files = readdirSync(`${root}src`)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
  .map((f) => `${root}src/${f}`);
const common = {
  entryPoints: files,
  bundle: false,
  platform: 'neutral',
  target: 'es2020',
  sourcemap: true,
  logLevel: 'warning',
};

await build({ ...common, format: 'esm', outdir: `${root}dist/esm` });
await build({ ...common, format: 'cjs', outdir: `${root}dist/cjs` });
writeFileSync(`${root}dist/cjs/package.json`, '{"type":"commonjs"}\n');
const browser = {
  entryPoints: [`${root}src/browser.ts`],
  bundle: true,
  minify: true,
  platform: 'browser',
  target: 'es2020',
  sourcemap: true,
  logLevel: 'warning',
};
await build({ ...browser, format: 'esm', outfile: `${root}dist/browser/beacon.min.js` });
await build({
  ...browser,
  format: 'iife',
  globalName: 'Beacon',
  outfile: `${root}dist/browser/beacon.iife.min.js`,
});
execFileSync(
  process.execPath,
  [`${root}../../node_modules/typescript/bin/tsc`, '-p', `${root}tsconfig.json`],
  {
    stdio: 'inherit',
  },
);
// CommonJS consumers need declarations that TypeScript reads as CommonJS: the same files, placed
// beside the CJS code (dist/cjs has "type": "commonjs").
for (const f of readdirSync(`${root}dist/types`))
  copyFileSync(`${root}dist/types/${f}`, `${root}dist/cjs/${f}`);
