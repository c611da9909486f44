import { randomUUID } from 'node:crypto';
import type { Worker as Thread } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';
import { createProject, sentryAuth, type TestProject } from './ingest/test-helpers.js';
import { requirePg, startTestBeacon, type TestBeacon, waitFor } from './test-support/index.js';

// The all-in-one process runs the issues role in a worker thread (BEACON_THREAD_ROLES default).

describe('BEACON_THREAD_ROLES', () => {
  it('defaults to issues, accepts none, refuses roles with routes and unknown names', () => {
    expect(loadConfig({}).threadRoles).toEqual(['issues']);
    expect(loadConfig({ BEACON_THREAD_ROLES: 'none' }).threadRoles).toEqual([]);
    expect(loadConfig({ BEACON_THREAD_ROLES: 'issues,alerts' }).threadRoles).toEqual(['issues', 'alerts']);
    for (const bad of ['api', 'ingest', 'grouping'])
      expect(() => loadConfig({ BEACON_THREAD_ROLES: bad })).toThrow(ConfigError);
    expect(() => loadConfig({ BEACON_THREAD_ROLES: 'api' })).toThrow(/"api" cannot run in a thread/);
  });
});

describe.runIf(requirePg())('issues role in a worker thread', () => {
  let b: TestBeacon;
  let p: TestProject;

  beforeAll(async () => {
    b = await startTestBeacon();
    p = await createProject(b.url, 'threads');
  });
  afterAll(async () => {
    await b?.close();
  });

  async function send(value: string): Promise<string> {
    const id = randomUUID().replaceAll('-', '');
    const event = { event_id: id, level: 'error', exception: { values: [{ type: 'ThreadError', value }] } };
    const res = await fetch(`${b.url}/api/${p.projectId}/envelope/`, {
      method: 'POST',
      headers: { 'x-sentry-auth': sentryAuth(p.publicKey) },
      body: `${JSON.stringify({ event_id: id })}\n{"type":"event"}\n${JSON.stringify(event)}\n`,
    });
    expect(res.status).toBe(200);
    return id;
  }

  async function issueCount(): Promise<number> {
    const res = await fetch(`${b.url}/api/v1/projects/${p.projectId}/issues?status=all`, {
      headers: { authorization: `Bearer ${p.token}` },
    });
    const body = (await res.json()) as { items: Array<{ count: number }> };
    return body.items.reduce((n, i) => n + i.count, 0);
  }

  it('groups events off the main thread and serves the thread’s metrics on /metrics', async () => {
    expect(b.threads.map((t) => t.roles)).toEqual([['issues']]);
    await send('first');
    await send('second');
    await waitFor(async () => (await issueCount()) === 2, { what: 'two events counted' });
    const text = await (await fetch(`${b.url}/metrics`)).text();
    // Counted by the worker in the thread, served by the main thread, next to the main thread's own.
    expect(text).toMatch(/^beacon_issues_events_total\{result="inserted"\} 2$/m);
    expect(text).toMatch(/^beacon_http_requests_total\{/m);
    expect(text.match(/^# TYPE process_cpu_seconds_total counter$/gm)).toHaveLength(1);
  });

  it('restarts a thread that died, and grouping goes on', async () => {
    const [t] = b.threads;
    const before = await issueCount();
    await (t as unknown as { thread: Thread }).thread.terminate();
    await send('after the thread died');
    await waitFor(async () => (await issueCount()) === before + 1, {
      what: 'the event counted by the restarted thread',
      timeout: 30_000,
    });
  });
});
