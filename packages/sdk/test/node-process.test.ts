import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Receiver, startReceiver } from './receiver.js';

// Automatic capture in real Node processes: the SDK reports the crash and the process still
// ends exactly as it would without the SDK.
const app = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/node-app.ts');
let r: Receiver;
beforeAll(async () => {
  r = await startReceiver();
});
afterAll(() => r.close());
beforeEach(() => {
  r.requests.length = 0;
});

function run(scenario: string, nodeArgs: string[] = [], dsn = r.dsn()) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...nodeArgs, app], {
      env: { ...process.env, BEACON_DSN: dsn, SCENARIO: scenario },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('Node automatic capture', () => {
  it('reports an uncaught exception, then prints it and exits 1 like Node does', async () => {
    const res = await run('uncaught');
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('Error: uncaught in uncaught');
    expect(res.stderr).toMatch(/at Timeout.failDeep \(.*node-app\.ts:9:9\)/);
    const [event] = r.events();
    expect(r.events()).toHaveLength(1);
    expect(event).toMatchObject({ level: 'fatal', release: 'child@1', tags: { scenario: 'uncaught' } });
    const ex = event.exception.values.at(-1);
    expect(ex).toMatchObject({
      type: 'Error',
      value: 'uncaught in uncaught',
      mechanism: { type: 'onuncaughtexception', handled: false },
    });
    expect(ex.stacktrace.frames.at(-1)).toMatchObject({
      function: 'Timeout.failDeep',
      lineno: 9,
      colno: 9,
      in_app: true,
    });
  });

  it("leaves the decision to the app's own uncaughtException listener", async () => {
    const res = await run('uncaught-with-listener');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('app handled: uncaught in uncaught-with-listener');
    expect(res.stdout).toContain('still running');
    expect(r.events()).toHaveLength(1);
  });

  it('reports an unhandled rejection and keeps Node’s default: crash with exit code 1', async () => {
    const res = await run('rejection');
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('Error: rejected in rejection');
    const events = r.events();
    expect(events).toHaveLength(1);
    expect(events[0].exception.values.at(-1).mechanism).toMatchObject({
      type: 'onunhandledrejection',
      handled: false,
    });
  });

  it('wraps a non-Error rejection reason the way Node does', async () => {
    const res = await run('rejection-string');
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('The promise rejected with the reason "plain string reason"');
    expect(r.events().map((e) => e.exception.values.at(-1).value)).toEqual(['plain string reason']);
  });

  it('follows --unhandled-rejections=warn: warns and keeps running', async () => {
    const res = await run('rejection-warn', ['--unhandled-rejections=warn']);
    expect(res.code).toBe(0);
    expect(res.stderr).toContain('UnhandledPromiseRejectionWarning');
    expect(res.stdout).toContain('still running');
    expect(r.events()).toHaveLength(1);
  });

  it('delivers events queued right before the process would exit on its own', async () => {
    const res = await run('exit-normally');
    expect(res.code).toBe(0);
    expect(r.events().map((e) => e.message)).toEqual(['queued just before the loop empties']);
  });

  it('still crashes normally when Beacon is unreachable (after the shutdown timeout at most)', async () => {
    const down = await startReceiver();
    const dsn = down.dsn();
    await down.close();
    const res = await run('uncaught', [], dsn);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('Error: uncaught in uncaught');
  });
});
