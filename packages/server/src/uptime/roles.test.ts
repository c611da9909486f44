import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MonitorEvent, monitorEventSchema } from '../events/updates.js';
import type { Consumer } from '../platform/bus/types.js';
import { requirePg, startTestBeacon, type TestBeacon, waitFor } from '../test-support/index.js';
import { startTestTarget, type TestTarget } from './test-target.js';

describe.runIf(requirePg())('uptime role wired into beacon start', () => {
  let beacon: TestBeacon;
  let target: TestTarget;
  let consumer: Consumer;
  const events: MonitorEvent[] = [];

  beforeAll(async () => {
    beacon = await startTestBeacon({ BEACON_ROLES: 'api,uptime' });
    target = await startTestTarget('failing');
    consumer = await beacon.ctx.bus.consume({
      topic: beacon.ctx.topics.monitorEvents,
      group: 'roles-test',
      handler: async (batch) => {
        for (const m of batch) events.push(monitorEventSchema.parse(JSON.parse(m.value.toString())));
      },
    });
  });
  afterAll(async () => {
    await consumer?.stop();
    await target?.close();
    await beacon?.close();
  });

  it('checks a new endpoint at once, opens the incident and publishes it on the bus, then recovers', async () => {
    const post = async (path: string, token: string | null, body: unknown) => {
      const res = await fetch(`${beacon.url}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      });
      // biome-ignore lint/suspicious/noExplicitAny: JSON bodies in tests
      return (await res.json()) as Record<string, any>;
    };
    const { accessToken } = await post('/api/v1/auth/signup', null, {
      email: `r-${randomBytes(4).toString('hex')}@example.com`,
      password: 'correct horse battery',
      name: 'R',
    });
    const service = await post('/api/v1/services', accessToken, { name: 'api' });
    const endpoint = await post('/api/v1/endpoints', accessToken, {
      serviceId: service.id,
      name: 'health',
      url: `${target.url}/health`,
      interval: 10,
      timeout: 1000,
      failureThreshold: 1,
      recoveryThreshold: 1,
    });
    const start = await waitFor(() => events.find((e) => e.endpoint.id === endpoint.id), {
      what: 'incident_start on the bus',
    });
    expect(start).toMatchObject({
      type: 'incident_start',
      service: { id: service.id },
      incident: { resolvedAt: null },
    });
    expect(start.incident.cause).toBe('status 500 (expected 2xx)');

    target.mode = 'healthy'; // the next slot is at most one interval away
    const resolved = await waitFor(
      () => events.find((e) => e.endpoint.id === endpoint.id && e.type === 'incident_resolved'),
      { what: 'incident_resolved on the bus', timeout: 20_000, interval: 100 },
    );
    expect(resolved.incident.id).toBe(start.incident.id);
    const metrics = await (await fetch(`${beacon.url}/metrics`)).text();
    expect(metrics).toMatch(/beacon_uptime_checks_total\{status="down"\} 1/);
    expect(metrics).toMatch(/beacon_uptime_checks_total\{status="up"\} 1/);
  }, 40_000);
});
