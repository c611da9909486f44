import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sdkRoot } from './chromium.js';
import { type Json, type Receiver, startReceiver } from './receiver.js';

// The built package as users get it: ESM, CJS and type declarations through the package's
// exports, and the sample apps in examples/ running on it.
const run = promisify(execFile);
const repoRoot = path.resolve(sdkRoot, '../..');

beforeAll(async () => {
  await run(process.execPath, [path.join(sdkRoot, 'build.mjs')], { cwd: sdkRoot, timeout: 60_000 });
}, 90_000);

describe('built package', () => {
  it('loads through its exports as ESM and CommonJS, in Node and browser flavours', async () => {
    const esm = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import * as B from '@beacon/sdk'; import * as Br from '@beacon/sdk/browser';
         import { expressErrorHandler } from '@beacon/sdk/express'; import { beaconFastify } from '@beacon/sdk/fastify';
         console.log(JSON.stringify([typeof B.init, typeof B.expressRequestHandler, typeof Br.init, typeof Br.expressRequestHandler, typeof expressErrorHandler, typeof beaconFastify, B.SDK_VERSION]));`,
      ],
      { cwd: repoRoot },
    );
    expect(JSON.parse(esm.stdout)).toEqual([
      'function',
      'function',
      'function',
      'undefined',
      'function',
      'function',
      '0.1.0',
    ]);
    const cjs = await run(
      process.execPath,
      [
        '-e',
        `const B = require('@beacon/sdk'); console.log(JSON.stringify([typeof B.init, typeof B.captureException, typeof require('@beacon/sdk/fastify').beaconFastify]));`,
      ],
      { cwd: repoRoot },
    );
    expect(JSON.parse(cjs.stdout)).toEqual(['function', 'function', 'function']);
  });

  it('type-checks a consumer against the declarations', async () => {
    const dir = mkdtempSync(path.join(sdkRoot, '.tmp-consumer-'));
    try {
      writeFileSync(
        path.join(dir, 'index.ts'),
        `import { init, captureException, withScope, type BeaconEvent } from '@beacon/sdk';
import { expressErrorHandler } from '@beacon/sdk/express';
import { beaconFastify } from '@beacon/sdk/fastify';
import Fastify from 'fastify';
void Fastify().register(beaconFastify);
init({ dsn: 'https://k@h/1', beforeSend: (e: BeaconEvent) => e, transport: { maxQueueSize: 5, overflow: 'drop-oldest' } });
const id: string = captureException(new Error('x'), { tags: { a: 'b' } });
withScope((s) => s.setTag('k', 'v'));
export const h = expressErrorHandler();
// @ts-expect-error: options are type-checked
init({ sampleRate: 'all' });
export { id };
`,
      );
      // A CommonJS consumer resolves the `require` condition and its CommonJS declarations.
      writeFileSync(
        path.join(dir, 'cjs.cts'),
        `import { init, captureMessage } from '@beacon/sdk';
import { beaconFastify } from '@beacon/sdk/fastify';
init({ dsn: 'https://k@h/1' });
export const id: string = captureMessage('x', 'warning');
export const plugin = beaconFastify;
`,
      );
      writeFileSync(
        path.join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            strict: true,
            noEmit: true,
            skipLibCheck: true,
            types: ['node'],
            lib: ['ES2022', 'DOM'],
          },
          files: ['index.ts', 'cjs.cts'],
        }),
      );
      await run(process.execPath, [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', dir], {
        cwd: dir,
        timeout: 60_000,
      }).catch((err: { stdout?: string }) => {
        throw new Error(`tsc failed:\n${err.stdout}`);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('examples/shop-api', () => {
  let r: Receiver;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    r = await startReceiver();
  });
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await r.close();
  });

  async function start(variant: 'beacon' | 'sentry'): Promise<string> {
    const child = spawn(process.execPath, [path.join(repoRoot, `examples/shop-api/${variant}.mjs`)], {
      cwd: repoRoot,
      env: { ...process.env, PORT: '0', BEACON_DSN: r.dsn(9), SENTRY_DSN: r.dsn(9) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    return new Promise((resolve, reject) => {
      child.stdout!.on('data', (d) => {
        out += d;
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.stderr!.on('data', (d) => {
        out += d;
      });
      child.once('exit', (code) => reject(new Error(`${variant} exited with ${code}: ${out}`)));
    });
  }

  it.each(['beacon', 'sentry'] as const)(
    '%s variant reports the cart bug with frames and the checkout cause chain',
    async (variant) => {
      const url = await start(variant);
      const before = r.events().length;
      expect((await fetch(`${url}/cart`, { headers: { 'x-user': '42' } })).status).toBe(500);
      expect((await fetch(`${url}/checkout`, { method: 'POST' })).status).toBe(500);
      const end = Date.now() + 15_000;
      while (r.events().length < before + 2 && Date.now() < end)
        await new Promise((res) => setTimeout(res, 50));
      const events = r
        .events()
        .slice(before)
        .filter((e: Json) => e.exception);
      expect(events).toHaveLength(2);
      const cart = events.find((e: Json) => e.exception.values.at(-1).type === 'TypeError');
      expect(cart.exception.values.at(-1).value).toMatch(/reduce/);
      expect(cart.exception.values.at(-1).stacktrace.frames.at(-1)).toMatchObject({
        function: 'priceCart',
        in_app: true,
      });
      expect(cart).toMatchObject({
        release: 'shop-api@1.0.0',
        tags: { service: 'shop-api' },
        user: { id: '42' },
      });
      const checkout = events.find((e: Json) => e !== cart);
      expect(checkout.exception.values.map((v: Json) => v.type)).toEqual(['PaymentDeclinedError', 'Error']);
    },
  );
});
