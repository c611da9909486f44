import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createProject, type TestProject } from '../ingest/test-helpers.js';
import { requirePg, startTestBeacon, type TestBeacon, waitFor } from '../test-support/index.js';
import { type Behaviour, type FakeLlm, goodAnswer, startFakeLlm } from './test-provider-server.js';

const PLANTED = {
  bearer: 'PLANTEDBEARERtoken9f8e7d6c5b4a',
  cookie: 'PLANTEDCOOKIEvalue123456',
  password: 'PLANTEDPASSWORDhunter2x',
  urlToken: 'PLANTEDURLTOKENabcdef',
};

type Project = TestProject;

async function sendEvent(beacon: TestBeacon, p: Project, event: Record<string, unknown>): Promise<string> {
  const eventId = randomUUID().replaceAll('-', '');
  const payload = JSON.stringify({
    event_id: eventId,
    timestamp: Date.now() / 1000,
    platform: 'node',
    ...event,
  });
  const body = `${JSON.stringify({ event_id: eventId })}\n${JSON.stringify({ type: 'event' })}\n${payload}\n`;
  const res = await fetch(`${beacon.url}/api/${p.projectId}/envelope/?sentry_key=${p.publicKey}`, {
    method: 'POST',
    body,
  });
  expect(res.status).toBe(200);
  return eventId;
}

const errorEvent = (type: string, fn: string) => ({
  level: 'error',
  exception: {
    values: [
      {
        type,
        value: `something broke in ${fn}`,
        stacktrace: {
          frames: [
            { function: 'main', filename: 'src/index.js', lineno: 3, in_app: true },
            {
              function: fn,
              filename: 'src/cart.js',
              lineno: 42,
              in_app: true,
              pre_context: ['function checkout(cart) {'],
              context_line: '  return cart.items.length;',
              post_context: ['}'],
            },
          ],
        },
      },
    ],
  },
});

async function issueIdOf(beacon: TestBeacon, p: Project, eventId: string): Promise<number> {
  return waitFor(
    async () => {
      const res = await fetch(`${beacon.url}/api/v1/events/${eventId}?projectId=${p.projectId}`, {
        headers: { authorization: `Bearer ${p.token}` },
      });
      if (res.status !== 200) return undefined;
      return ((await res.json()) as { issueId: number }).issueId;
    },
    { what: `event ${eventId} to be grouped`, timeout: 20_000 },
  );
}

async function insight(beacon: TestBeacon, p: Project, issueId: number) {
  const res = await fetch(`${beacon.url}/api/v1/issues/${issueId}/insight`, {
    headers: { authorization: `Bearer ${p.token}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as {
    status: string;
    kind: string;
    ai: boolean;
    content: Record<string, unknown> | null;
    error: string | null;
    requestedAt: string | null;
  };
}

describe.runIf(requirePg())('insights over the real pipeline', () => {
  let beacon: TestBeacon | undefined;
  let fake: FakeLlm | undefined;
  afterEach(async () => {
    await beacon?.close();
    await fake?.close();
    beacon = undefined;
    fake = undefined;
  });

  async function start(behave: (n: number) => Behaviour, env: Record<string, string> = {}) {
    fake = await startFakeLlm(behave);
    beacon = await startTestBeacon({ OLLAMA_URL: fake.url, INSIGHTS_RETRY_BASE_SECONDS: '0', ...env });
    return { beacon, fake, project: await createProject(beacon.url, 'Shop') };
  }

  it('runs exactly one AI analysis for an error issue, none for a warning, and never sends planted secrets', async () => {
    const { beacon, fake, project } = await start(() => ({ kind: 'answer', content: goodAnswer }));
    const secretEvent = {
      ...errorEvent('TypeError', 'checkout'),
      request: {
        url: `https://shop.example.com/cart?token=${PLANTED.urlToken}&page=2`,
        method: 'POST',
        headers: { Authorization: `Bearer ${PLANTED.bearer}`, Cookie: `session=${PLANTED.cookie}` },
        data: { password: PLANTED.password },
      },
      breadcrumbs: [
        { category: 'http', message: `POST /login?password=${PLANTED.password}`, level: 'info' },
        { category: 'console', message: `auth header Bearer ${PLANTED.bearer}`, level: 'info' },
      ],
      tags: { session: PLANTED.cookie, region: 'eu' },
    };
    const first = await sendEvent(beacon, project, secretEvent);
    const errorIssue = await issueIdOf(beacon, project, first);
    // More events of the same issue are occurrences: no new job.
    await sendEvent(beacon, project, secretEvent);
    const warnId = await sendEvent(beacon, project, { level: 'warning', message: 'disk usage at 91%' });
    const warnIssue = await issueIdOf(beacon, project, warnId);

    const ready = await waitFor(
      async () => {
        const i = await insight(beacon, project, errorIssue);
        // requestedAt: a job row exists (without one the API answers a built-in summary at once).
        return i.status === 'ready' && i.requestedAt ? i : undefined;
      },
      { what: 'the insight', timeout: 20_000 },
    );
    expect(ready.kind).toBe('ai');
    expect(ready.ai).toBe(true);
    expect(ready.content?.answer).toEqual(JSON.parse(goodAnswer));
    expect((ready.content?.builtin as { summary: string } | undefined)?.summary).toMatch(
      /Raised in checkout \(src\/cart\.js:42\)/,
    );

    // Give a wrongly queued second job every chance to run before counting.
    await waitFor(
      async () => (await beacon.ctx.db.query("SELECT 1 FROM insights WHERE status = 'pending'")).length === 0,
    );
    expect(fake.requests).toHaveLength(1);
    const sent = fake.requests[0]!.raw;
    expect(sent).toContain('checkout');
    expect(sent).toContain('return cart.items.length;');
    for (const secret of Object.values(PLANTED)) expect(sent).not.toContain(secret);

    const rows = await beacon.ctx.db.query<{ issue_id: number }>(
      'SELECT issue_id FROM insights ORDER BY issue_id',
    );
    expect(rows.map((r) => r.issue_id)).toEqual([errorIssue]);
    const warn = await insight(beacon, project, warnIssue);
    expect([warn.status, warn.kind, warn.ai]).toEqual(['ready', 'builtin', false]);
  });

  it('retries a failing provider, retries an unparseable answer once, then stores the text', async () => {
    const { beacon, fake, project } = await start((n) =>
      n === 1 ? { kind: 'status', status: 503 } : { kind: 'answer', content: `not json, attempt ${n}` },
    );
    const issueId = await issueIdOf(
      beacon,
      project,
      await sendEvent(beacon, project, errorEvent('RangeError', 'pay')),
    );
    const done = await waitFor(
      async () => {
        const i = await insight(beacon, project, issueId);
        // requestedAt: a job row exists (without one the API answers a built-in summary at once).
        return i.status === 'ready' && i.requestedAt ? i : undefined;
      },
      { what: 'the insight', timeout: 20_000 },
    );
    expect(done.kind).toBe('text');
    expect(done.content?.text).toBe('not json, attempt 3');
    expect(fake.requests).toHaveLength(3);
  });

  it('keeps grouping events while the provider hangs', async () => {
    const { beacon, fake, project } = await start(
      () => ({ kind: 'slow', ms: 120_000, content: goodAnswer }),
      {
        INSIGHTS_TIMEOUT_SECONDS: '60',
      },
    );
    await issueIdOf(beacon, project, await sendEvent(beacon, project, errorEvent('TypeError', 'first')));
    await waitFor(() => fake.requests.length === 1, { what: 'the provider to be called' });
    const ids: string[] = [];
    for (let i = 0; i < 20; i++)
      ids.push(await sendEvent(beacon, project, errorEvent(`Error${i}`, `fn${i}`)));
    for (const id of ids) await issueIdOf(beacon, project, id);
    const res = await fetch(`${beacon.url}/api/v1/projects/${project.projectId}/issues?limit=100`, {
      headers: { authorization: `Bearer ${project.token}` },
    });
    expect(((await res.json()) as { items: unknown[] }).items).toHaveLength(21);
    // The provider is still working on the first analysis.
    expect(fake.requests).toHaveLength(1);
    const first = await beacon.ctx.db.query<{ status: string }>('SELECT status FROM insights');
    expect(first.map((r) => r.status)).toContain('pending');
  });
});
