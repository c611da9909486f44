import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, requirePg, startTestBeacon, type TestBeacon, waitFor } from '../test-support/index.js';
import { createProject, readEvents } from './test-helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));

describe.runIf(requirePg())('the official @sentry/node SDK', () => {
  let b: TestBeacon;
  beforeAll(async () => {
    b = await startTestBeacon({ BEACON_ROLES: 'ingest,api' });
  });
  afterAll(async () => b?.close());

  it('sends an exception and a message that arrive on the bus with project, level, type, value and frames', async () => {
    const p = await createProject(b.url, 'sdk');
    const dsn = `${b.url.replace('//', `//${p.publicKey}@`)}/${p.projectId}`;
    // A separate process: the SDK's global state and instrumentation stay out of the test runner.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [path.join(here, 'sentry-node-child.mjs')],
      {
        cwd: repoRoot,
        env: { ...process.env, DSN: dsn },
        timeout: 30_000,
      },
    );
    const { exceptionId, messageId, flushed } = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<
      string,
      string
    >;
    expect(flushed).toBe(true);

    const reader = await readEvents(b.ctx);
    try {
      await waitFor(
        () => [exceptionId, messageId].every((id) => reader.events.some((e) => e.eventId === id)),
        {
          what: 'both SDK events on the bus',
        },
      );
      const exc = reader.events.find((e) => e.eventId === exceptionId)!;
      const msg = reader.events.find((e) => e.eventId === messageId)!;
      expect(exc).toMatchObject({
        projectId: p.projectId,
        level: 'error',
        platform: 'node',
        release: 'sdk-test@1.2.3',
        environment: 'staging',
      });
      expect(exc.exceptions).toHaveLength(1);
      expect(exc.exceptions[0]).toMatchObject({ type: 'TypeError', value: 'cart total is NaN' });
      const frames = exc.exceptions[0]!.stacktrace!.frames;
      // Oldest first: the throwing function is the innermost, last frame.
      expect(frames.at(-1)).toMatchObject({
        function: 'explodeInCheckout',
        lineno: expect.any(Number),
        in_app: true,
      });
      expect(frames.at(-1)!.filename).toMatch(/sentry-node-child\.mjs$/);
      expect(exc.sdk?.name).toBe('sentry.javascript.node');
      expect(msg).toMatchObject({
        projectId: p.projectId,
        level: 'warning',
        message: 'payment provider slow',
        exceptions: [],
      });
      // The SDK attaches the call-site stack to messages; it arrives as the event's stacktrace.
      expect(msg.stacktrace?.frames.at(-1)?.filename).toMatch(/sentry-node-child\.mjs$/);
    } finally {
      await reader.stop();
    }
  });
});
