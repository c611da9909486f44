import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MonitorEvent, monitorEventSchema } from '../events/updates.js';
import type { Consumer } from '../platform/bus/types.js';
import { requirePg, startTestBeacon, type TestBeacon, waitFor } from '../test-support/index.js';
import { OutboxRelay, relayOutbox } from './outbox.js';
import { UptimeScheduler } from './scheduler.js';
import { startTestTarget, type TestTarget } from './test-target.js';
import { aggregateWindows } from './windows.js';

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies in tests
type Json = Record<string, any>;

describe.runIf(requirePg())('uptime monitoring', () => {
  let beacon: TestBeacon;
  const events: MonitorEvent[] = [];
  let consumer: Consumer;
  let owner: string;
  let stranger: string;
  const targets: TestTarget[] = [];
  let clock = Date.now();
  let scheduler: UptimeScheduler;

  async function api(method: string, path: string, token: string | null, body?: unknown) {
    const res = await fetch(`${beacon.url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    // biome-ignore lint/suspicious/noExplicitAny: JSON bodies in tests
    return { status: res.status, body: (text ? JSON.parse(text) : null) as any };
  }

  async function signup(): Promise<string> {
    const email = `u-${randomBytes(4).toString('hex')}@example.com`;
    const r = await api('POST', '/api/v1/auth/signup', null, {
      email,
      password: 'correct horse battery',
      name: 'U',
    });
    expect(r.status).toBe(201);
    return r.body.accessToken as string;
  }

  async function target(): Promise<TestTarget> {
    const t = await startTestTarget('healthy', 3_000);
    targets.push(t);
    return t;
  }

  /** A service with one endpoint (10 s interval) on a fresh local target. */
  async function monitored(over: Json = {}) {
    const t = await target();
    const service = await api('POST', '/api/v1/services', owner, {
      name: `svc-${randomBytes(3).toString('hex')}`,
    });
    expect(service.status).toBe(201);
    const endpoint = await api('POST', '/api/v1/endpoints', owner, {
      serviceId: service.body.id,
      name: 'health',
      url: `${t.url}/health`,
      interval: 10,
      timeout: 1_000,
      keyword: 'status: ok',
      ...over,
    });
    expect(endpoint.status).toBe(201);
    return { t, service: service.body as Json, endpoint: endpoint.body as Json };
  }

  /** Advance the injected clock by one interval and run every due check, then relay the outbox. */
  async function step(): Promise<void> {
    clock += 10_000;
    await scheduler.runDue();
    await relayOutbox(beacon.ctx.db, beacon.ctx.bus);
  }

  const eventsOf = (endpointId: number) => events.filter((e) => e.endpoint.id === endpointId);

  beforeAll(async () => {
    beacon = await startTestBeacon({ BEACON_ROLES: 'api' });
    owner = await signup();
    stranger = await signup();
    scheduler = new UptimeScheduler({
      db: beacon.ctx.db,
      log: beacon.ctx.log,
      monitorTopic: beacon.ctx.topics.monitorEvents,
      concurrency: 50,
      now: () => clock,
    });
    consumer = await beacon.ctx.bus.consume({
      topic: beacon.ctx.topics.monitorEvents,
      group: 'uptime-test',
      handler: async (batch) => {
        for (const m of batch) events.push(monitorEventSchema.parse(JSON.parse(m.value.toString())));
      },
    });
  });

  afterAll(async () => {
    await consumer?.stop();
    for (const t of targets) await t.close();
    await beacon?.close();
  });

  it('creates endpoints with the defaults and refuses intervals under 10 s', async () => {
    const { endpoint, service } = await monitored();
    expect(endpoint).toMatchObject({
      id: expect.any(Number),
      serviceId: service.id,
      method: 'GET',
      interval: 10,
      failureThreshold: 3,
      recoveryThreshold: 2,
      enabled: true,
      status: 'unknown',
    });
    const bad = await api('POST', '/api/v1/endpoints', owner, {
      serviceId: service.id,
      name: 'x',
      url: 'http://a/',
      interval: 5,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('bad_request');
    const list = await api('GET', `/api/v1/endpoints?serviceId=${service.id}`, owner);
    expect(list.body.map((e: Json) => e.id)).toEqual([endpoint.id]);
    await api('DELETE', `/api/v1/services/${service.id}`, owner);
  });

  it('opens an incident after exactly the failure threshold and resolves it after the recovery threshold', async () => {
    clock = Date.now() + 10_000;
    const { t, endpoint, service } = await monitored();
    const openIncidents = async () =>
      (await api('GET', `/api/v1/incidents?status=open&endpointId=${endpoint.id}`, owner)).body as Json[];

    await step(); // healthy
    t.mode = 'failing';
    await step();
    t.mode = 'wrong-keyword';
    await step();
    expect(await openIncidents()).toEqual([]);
    t.mode = 'slow'; // 3 s answer, 1 s timeout
    await step();
    const open = await openIncidents();
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ status: 'open', errorKind: 'timeout', cause: 'timed out after 1000 ms' });

    t.mode = 'failing';
    await step(); // still failing: the same incident
    t.mode = 'healthy';
    await step(); // one success: not yet recovered
    expect(await openIncidents()).toHaveLength(1);
    await step(); // second success: resolved
    expect(await openIncidents()).toEqual([]);

    const pings = (await api('GET', `/api/v1/endpoints/${endpoint.id}/pings?limit=3`, owner)).body as Json[];
    expect(pings).toHaveLength(3);
    expect(pings.map((p) => p.ok)).toEqual([true, true, false]);
    expect(Date.parse(pings[0]!.slotAt)).toBeGreaterThan(Date.parse(pings[1]!.slotAt));
    const all = (await api('GET', `/api/v1/endpoints/${endpoint.id}/pings`, owner)).body as Json[];
    expect(all.map((p) => p.errorKind).reverse()).toEqual([
      null,
      'status',
      'assertion',
      'timeout',
      'status',
      null,
      null,
    ]);

    const incident = (await api('GET', `/api/v1/incidents/${open[0]!.id}`, owner)).body;
    expect(incident.status).toBe('resolved');
    expect(incident.resolvedBy).toBe('recovery');
    // start = the first failing check; the failing pings are attached
    const firstFailure = all[all.length - 2]!;
    expect(incident.startedAt).toBe(firstFailure.checkedAt);
    expect(incident.pings.map((p: Json) => p.errorKind)).toEqual([
      'status',
      'assertion',
      'timeout',
      'status',
    ]);
    expect(Date.parse(incident.resolvedAt)).toBe(Date.parse(all[0]!.checkedAt));

    await waitFor(() => eventsOf(endpoint.id).length >= 2, { what: 'two monitor events' });
    const got = eventsOf(endpoint.id);
    expect(got.map((e) => e.type)).toEqual(['incident_start', 'incident_resolved']);
    expect(got[0]).toMatchObject({
      eventId: `incident:${incident.id}:start`,
      service: { id: service.id, name: service.name },
      endpoint: { id: endpoint.id, name: 'health', url: endpoint.url },
      incident: { id: incident.id, resolvedAt: null, cause: 'timed out after 1000 ms' },
    });
    expect(got[1]!.incident.resolvedAt).toBe(incident.resolvedAt);

    const status = (await api('GET', `/api/v1/services/${service.id}/status`, owner)).body;
    expect(status).toMatchObject({ status: 'up', openIncidents: 0 });
    expect(status.endpoints[0]).toMatchObject({
      id: endpoint.id,
      status: 'up',
      checks24h: 7,
      incident: null,
    });
    expect(status.endpoints[0].availability24h).toBeCloseTo(3 / 7, 10);

    // The windows of these pings, through the API.
    const range = { from: clock - 3_600_000, to: clock + 600_000 };
    await aggregateWindows(beacon.ctx.db, { range });
    const windows = (
      await api(
        'GET',
        `/api/v1/endpoints/${endpoint.id}/windows?from=${range.from}&to=${new Date(range.to).toISOString()}`,
        owner,
      )
    ).body as Json[];
    expect(windows.reduce((n, w) => n + w.checks, 0)).toBe(7);
    expect(windows.reduce((n, w) => n + w.failures, 0)).toBe(4);
    await api('PATCH', `/api/v1/endpoints/${endpoint.id}`, owner, { enabled: false });
  });

  it('opens nothing when failures flap below the threshold', async () => {
    clock = Date.now() + 10_000;
    const { t, endpoint } = await monitored();
    for (const mode of [
      'failing',
      'failing',
      'healthy',
      'wrong-keyword',
      'failing',
      'healthy',
      'failing',
      'failing',
    ] as const) {
      t.mode = mode;
      await step();
    }
    const incidents = (await api('GET', `/api/v1/incidents?endpointId=${endpoint.id}`, owner)).body;
    expect(incidents).toEqual([]);
    const pings = (await api('GET', `/api/v1/endpoints/${endpoint.id}/pings`, owner)).body as Json[];
    expect(pings).toHaveLength(8);
    const status = (await api('GET', `/api/v1/endpoints/${endpoint.id}`, owner)).body;
    expect(status.status).toBe('degraded'); // failing, but below the threshold
    expect(eventsOf(endpoint.id)).toEqual([]);
    await api('PATCH', `/api/v1/endpoints/${endpoint.id}`, owner, { enabled: false });
  });

  it('runs checks but suppresses incidents and events during maintenance', async () => {
    clock = Date.now() + 10_000;
    const { t, endpoint, service } = await monitored({ failureThreshold: 2 });
    const m = await api('POST', '/api/v1/maintenance', owner, {
      serviceId: service.id,
      title: 'deploy',
      startsAt: new Date(clock - 60_000).toISOString(),
      endsAt: new Date(clock + 45_000).toISOString(),
    });
    expect(m.status).toBe(201);
    t.mode = 'failing';
    for (let i = 0; i < 4; i++) await step();
    expect((await api('GET', `/api/v1/endpoints/${endpoint.id}/pings`, owner)).body).toHaveLength(4);
    expect((await api('GET', `/api/v1/incidents?endpointId=${endpoint.id}`, owner)).body).toEqual([]);
    const st = (await api('GET', `/api/v1/services/${service.id}/status`, owner)).body;
    expect(st.endpoints[0].maintenance).toBe(true);
    await step(); // the window has ended: the failures on record open the incident now
    const open = (await api('GET', `/api/v1/incidents?status=open&endpointId=${endpoint.id}`, owner))
      .body as Json[];
    expect(open).toHaveLength(1);
    await waitFor(() => eventsOf(endpoint.id).length >= 1, { what: 'incident_start' });
    expect(eventsOf(endpoint.id).map((e) => e.type)).toEqual(['incident_start']);

    // Resolved by hand: published once (by the running relay, woken by NOTIFY), and the endpoint
    // counts failures afresh.
    const relay = new OutboxRelay(beacon.ctx.db, beacon.ctx.bus, beacon.ctx.log, 60_000);
    await relay.start();
    const resolved = await api('POST', `/api/v1/incidents/${open[0]!.id}/resolve`, owner, {});
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ status: 'resolved', resolvedBy: expect.stringMatching(/^user:/) });
    expect((await api('POST', `/api/v1/incidents/${open[0]!.id}/resolve`, owner, {})).status).toBe(409);
    await waitFor(() => eventsOf(endpoint.id).length >= 2, { what: 'incident_resolved' });
    await relay.stop();
    await step(); // one failure after the manual resolve: below the threshold again
    expect((await api('GET', `/api/v1/incidents?status=open&endpointId=${endpoint.id}`, owner)).body).toEqual(
      [],
    );
    expect(eventsOf(endpoint.id).map((e) => e.type)).toEqual(['incident_start', 'incident_resolved']);
    await api('PATCH', `/api/v1/endpoints/${endpoint.id}`, owner, { enabled: false });
  });

  it('resolves and announces an open incident when its endpoint or service is deleted', async () => {
    clock = Date.now() + 10_000;
    const a = await monitored({ failureThreshold: 1 });
    const b = await monitored({ failureThreshold: 1 });
    a.t.mode = 'failing';
    b.t.mode = 'failing';
    await step();
    await waitFor(() => eventsOf(a.endpoint.id).length + eventsOf(b.endpoint.id).length >= 2, {
      what: 'two incident_start',
    });
    expect((await api('DELETE', `/api/v1/endpoints/${a.endpoint.id}`, owner)).status).toBe(204);
    expect((await api('DELETE', `/api/v1/services/${b.service.id}`, owner)).status).toBe(204);
    await relayOutbox(beacon.ctx.db, beacon.ctx.bus);
    // Without these the alerts raised for the incidents would stay firing for ever.
    for (const { endpoint } of [a, b]) {
      await waitFor(() => eventsOf(endpoint.id).length >= 2, { what: 'incident_resolved after delete' });
      expect(eventsOf(endpoint.id).map((e) => e.type)).toEqual(['incident_start', 'incident_resolved']);
      expect(eventsOf(endpoint.id)[1]!.incident.resolvedAt).not.toBeNull();
    }
    await api('DELETE', `/api/v1/services/${a.service.id}`, owner);
  });

  it("keeps every tenant's services, endpoints, incidents, maintenance and webhooks to itself", async () => {
    const { endpoint, service } = await monitored({ enabled: false });
    const hook = await api('POST', '/api/v1/webhooks', owner, {
      serviceId: service.id,
      url: 'https://hooks.example.com/up',
      events: ['incident_start', 'incident_resolved'],
      secret: 's3cret',
    });
    expect(hook.status).toBe(201);
    expect(hook.body).toMatchObject({
      serviceId: service.id,
      events: ['incident_start', 'incident_resolved'],
      hasSecret: true,
    });
    expect(JSON.stringify(hook.body)).not.toContain('s3cret');
    const maint = await api('POST', '/api/v1/maintenance', owner, {
      endpointId: endpoint.id,
      startsAt: Date.now(),
      endsAt: Date.now() + 60_000,
    });
    expect(maint.status).toBe(201);
    const [incident] = (await api('GET', '/api/v1/incidents', owner)).body as Json[];
    expect(incident).toBeDefined();

    const forbidden: Array<[string, string, unknown?]> = [
      ['GET', `/api/v1/services/${service.id}`],
      ['PATCH', `/api/v1/services/${service.id}`, { name: 'mine' }],
      ['DELETE', `/api/v1/services/${service.id}`],
      ['GET', `/api/v1/services/${service.id}/status`],
      ['GET', `/api/v1/endpoints/${endpoint.id}`],
      ['PATCH', `/api/v1/endpoints/${endpoint.id}`, { enabled: true }],
      ['DELETE', `/api/v1/endpoints/${endpoint.id}`],
      ['GET', `/api/v1/endpoints/${endpoint.id}/pings`],
      ['GET', `/api/v1/endpoints/${endpoint.id}/windows`],
      ['GET', `/api/v1/endpoints?serviceId=${service.id}`],
      [
        'POST',
        '/api/v1/endpoints',
        { serviceId: service.id, name: 'x', url: 'http://127.0.0.1/', interval: 10 },
      ],
      ['GET', `/api/v1/incidents/${incident!.id}`],
      ['POST', `/api/v1/incidents/${incident!.id}/resolve`, {}],
      ['GET', `/api/v1/incidents?serviceId=${service.id}`],
      ['GET', `/api/v1/webhooks/${hook.body.id}`],
      ['PATCH', `/api/v1/webhooks/${hook.body.id}`, { url: 'https://evil.example.com/' }],
      ['DELETE', `/api/v1/webhooks/${hook.body.id}`],
      [
        'POST',
        '/api/v1/webhooks',
        { serviceId: service.id, url: 'https://evil.example.com/', events: ['incident_start'] },
      ],
      ['GET', `/api/v1/maintenance/${maint.body.id}`],
      ['DELETE', `/api/v1/maintenance/${maint.body.id}`],
      ['POST', '/api/v1/maintenance', { serviceId: service.id, startsAt: 0, endsAt: 1 }],
    ];
    for (const [method, path, body] of forbidden) {
      const r = await api(method, path, stranger, body);
      expect({ method, path, status: r.status }).toEqual({ method, path, status: 404 });
    }
    for (const path of [
      '/api/v1/services',
      '/api/v1/endpoints',
      '/api/v1/incidents',
      '/api/v1/webhooks',
      '/api/v1/maintenance',
    ])
      expect((await api('GET', path, stranger)).body).toEqual([]);
    expect((await api('GET', '/api/v1/services', null)).status).toBe(401);
    // The owner still has everything.
    expect((await api('GET', `/api/v1/webhooks/${hook.body.id}`, owner)).body.url).toBe(
      'https://hooks.example.com/up',
    );
    expect((await api('GET', `/api/v1/services/${service.id}`, owner)).body.name).toBe(service.name);
  });

  it('updates and deletes services, endpoints, webhooks and maintenance windows', async () => {
    const { endpoint, service } = await monitored({ enabled: false });
    const renamed = await api('PATCH', `/api/v1/services/${service.id}`, owner, {
      name: 'payments',
      description: 'EU',
    });
    expect(renamed.body).toMatchObject({ id: service.id, name: 'payments', description: 'EU' });
    const changed = await api('PUT', `/api/v1/endpoints/${endpoint.id}`, owner, {
      interval: 30,
      expectedStatus: 204,
    });
    expect(changed.body).toMatchObject({ interval: 30, expectedStatus: [204], status: 'paused' });
    const hook = await api('POST', '/api/v1/webhooks', owner, {
      serviceId: service.id,
      url: 'https://h.example.com/a',
    });
    expect(hook.body.events).toEqual(['incident_start', 'incident_resolved']);
    const patched = await api('PATCH', `/api/v1/webhooks/${hook.body.id}`, owner, {
      events: ['incident_resolved'],
    });
    expect(patched.body).toMatchObject({ events: ['incident_resolved'], hasSecret: false });
    expect((await api('GET', `/api/v1/webhooks?serviceId=${service.id}`, owner)).body).toHaveLength(1);
    expect((await api('DELETE', `/api/v1/webhooks/${hook.body.id}`, owner)).status).toBe(204);
    expect((await api('DELETE', `/api/v1/endpoints/${endpoint.id}`, owner)).status).toBe(204);
    expect((await api('GET', `/api/v1/endpoints/${endpoint.id}`, owner)).status).toBe(404);
    expect((await api('DELETE', `/api/v1/services/${service.id}`, owner)).status).toBe(204);
    expect((await api('GET', `/api/v1/services/${service.id}`, owner)).status).toBe(404);
  });
});
