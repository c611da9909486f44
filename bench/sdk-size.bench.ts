// Gzipped size of a minimal `init + captureException` browser app bundled with @beacon/sdk,
// beside the same app with @sentry/browser. esbuild, minified, ESM, browser platform, gzip -9.
// Run: node --import tsx bench/sdk-size.bench.ts
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const entries = {
  '@beacon/sdk': `import { init, captureException } from './packages/sdk/src/browser.ts';
init({ dsn: 'https://key@beacon.example.com/1' });
captureException(new Error('boom'));`,
  '@sentry/browser': `import { init, captureException } from '@sentry/browser';
init({ dsn: 'https://key@sentry.example.com/1' });
captureException(new Error('boom'));`,
  '@beacon/sdk (whole API)': `export * from './packages/sdk/src/browser.ts';`,
};

async function measure(name: string, contents: string) {
  const out = await build({
    stdin: { contents, resolveDir: root, sourcefile: 'entry.ts', loader: 'ts' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    write: false,
    logLevel: 'error',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const code = out.outputFiles[0]!.contents;
  const gz = gzipSync(code, { level: 9 }).length;
  console.log(
    `${name.padEnd(26)} minified ${(code.length / 1024).toFixed(1).padStart(6)} KB   gzipped ${(gz / 1024).toFixed(2).padStart(6)} KB`,
  );
  return { raw: code.length, gz };
}

const results: Record<string, { raw: number; gz: number }> = {};
for (const [name, contents] of Object.entries(entries)) results[name] = await measure(name, contents);

const beacon = results['@beacon/sdk']!;
const sentry = results['@sentry/browser']!;
console.log(
  `@beacon/sdk is ${((beacon.gz / sentry.gz) * 100).toFixed(0)}% of @sentry/browser's gzipped size`,
);
const kb = (n: number) => Math.round((n / 1024) * 100) / 100;
console.log(
  `BENCH_RESULT ${JSON.stringify({
    name: 'sdk-size',
    metrics: [
      {
        label: '@beacon/sdk init+captureException, gzipped',
        value: kb(beacon.gz),
        unit: 'KB',
        target: '< 12',
      },
      { label: '@sentry/browser init+captureException, gzipped', value: kb(sentry.gz), unit: 'KB' },
      {
        label: '@beacon/sdk whole browser API, gzipped',
        value: kb(results['@beacon/sdk (whole API)']!.gz),
        unit: 'KB',
        target: '< 12',
      },
      { label: '@beacon/sdk minified (not gzipped)', value: kb(beacon.raw), unit: 'KB' },
    ],
  })}`,
);
