import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePg, startTestBeacon, type TestBeacon, waitFor } from '../test-support/index.js';
import { Receiver } from './testing.js';

/**
 * The whole path with the real producers: events sent to ingest, grouped by the issues worker,
 * evaluated and delivered by the alerts role configured through ALERTS_* settings.
 */
describe.runIf(requirePg())('alerts from ingested events', () => {
  let beacon: TestBeacon;
  let hook: Receiver;
  let token = '';
  let projectId = 0;
  let publicKey = '';

  async function api(method: string, path: string, body?: unknown) {
    const res = await fetch(`${beacon.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    // biome-ignore lint/suspicious/noExplicitAny: asserted field by field
    return { status: res.status, body: (await res.json()) as any };
  }
  async function send(message: string, n = 1) {
    const events = Array.from({ length: n }, () => ({ message, level: 'error', environment: 'production' }));
    const res = await fetch(`${beacon.url}/api/v1/events`, {
      method: 'POST',
      headers: { 'x-api-key': publicKey, 'content-type': 'application/json' },
      body: JSON.stringify(events),
    });
    expect(res.status).toBe(200);
  }

  beforeAll(async () => {
    hook = await new Receiver().start();
    beacon = await startTestBeacon({
      BEACON_ROLES: 'api,ingest,issues,alerts',
      ALERTS_RETRY_BASE_MS: '50',
    });
    const signup = await fetch(`${beacon.url}/api/v1/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'pipeline@example.test', password: 'correct-horse-battery', name: 'P' }),
    });
    token = ((await signup.json()) as { accessToken: string }).accessToken;
    const project = await api('POST', '/api/v1/projects', { name: 'Pipeline' });
    projectId = project.body.id;
    publicKey = project.body.keys[0].publicKey;
  });
  afterAll(async () => {
    await beacon?.close();
    await hook?.close();
  });

  it('a new issue and a burst of its events each notify once', async () => {
    for (const [name, trigger] of [
      ['new', { type: 'new_issue' }],
      ['burst', { type: 'frequency', threshold: 3, windowMinutes: 10, per: 'issue' }],
    ] as const) {
      const r = await api('POST', `/api/v1/projects/${projectId}/rules`, {
        name,
        trigger,
        actions: [{ type: 'webhook', url: `${hook.url}/${name}` }],
      });
      expect(r.status).toBe(201);
    }
    await send('payment failed for order');
    await waitFor(() => hook.delivered('/new').length === 1, { what: 'the new-issue notification' });
    expect(hook.delivered('/new')[0]!.json).toMatchObject({
      kind: 'alert',
      issue: { title: expect.any(String) },
    });
    await send('payment failed for order', 3);
    await waitFor(() => hook.delivered('/burst').length === 1, { what: 'the frequency notification' });
    await send('another failure');
    await waitFor(() => hook.delivered('/new').length === 2, { what: 'the second new-issue notification' });
    const alerts = await api('GET', `/api/v1/projects/${projectId}/alerts`);
    expect(alerts.body.alerts.map((a: { ruleName: string }) => a.ruleName).sort()).toEqual([
      'burst',
      'new',
      'new',
    ]);
    // Nothing else arrives: every delivery is done and no more are queued.
    const deliveries = await api('GET', `/api/v1/projects/${projectId}/deliveries`);
    expect(deliveries.body.deliveries.map((d: { state: string }) => d.state)).toEqual([
      'delivered',
      'delivered',
      'delivered',
    ]);
    expect(hook.requests).toHaveLength(3);
  });
});
