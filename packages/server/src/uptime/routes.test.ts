import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePg, startTestBeacon, type TestBeacon } from '../test-support/index.js';

/** Malformed input at every uptime route answers 400 with the error shape, never a 5xx. */
describe.runIf(requirePg())('uptime routes reject bad input', () => {
  let beacon: TestBeacon;
  let token: string;
  let serviceId: number;
  let endpointId: number;

  async function api(method: string, path: string, body?: unknown) {
    const res = await fetch(`${beacon.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    // biome-ignore lint/suspicious/noExplicitAny: JSON bodies in tests
    return { status: res.status, body: (text ? JSON.parse(text) : null) as any };
  }

  beforeAll(async () => {
    beacon = await startTestBeacon();
    const res = await fetch(`${beacon.url}/api/v1/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        email: `u-${randomBytes(4).toString('hex')}@example.com`,
        password: 'correct horse battery',
        name: 'U',
      }),
    });
    token = ((await res.json()) as { accessToken: string }).accessToken;
    serviceId = (await api('POST', '/api/v1/services', { name: 'api' })).body.id;
    endpointId = (
      await api('POST', '/api/v1/endpoints', {
        serviceId,
        name: 'health',
        url: 'http://127.0.0.1:1/',
        interval: 60,
        enabled: false,
      })
    ).body.id;
  });
  afterAll(async () => {
    await beacon?.stop();
  });

  it('answers 400 for NUL in text, bad headers and out-of-range times', async () => {
    const ep = (over: object) => ({
      serviceId,
      name: 'e',
      url: 'http://127.0.0.1:1/',
      interval: 60,
      ...over,
    });
    const cases: Array<[string, string, unknown]> = [
      // PostgreSQL text cannot hold NUL: these were 500s.
      ['POST', '/api/v1/services', { name: 'a\u0000b' }],
      ['POST', '/api/v1/services', { name: 'x', description: '\u0000' }],
      ['PATCH', `/api/v1/services/${serviceId}`, { name: 'a\u0000' }],
      ['POST', '/api/v1/endpoints', ep({ url: 'http://127.0.0.1:1/\u0000' })],
      ['POST', '/api/v1/endpoints', ep({ keyword: '\u0000' })],
      ['POST', '/api/v1/endpoints', ep({ body: 'a\u0000' })],
      ['POST', '/api/v1/endpoints', ep({ headers: { a: '\u0000' } })],
      ['PATCH', `/api/v1/endpoints/${endpointId}`, { name: 'x\u0000' }],
      ['POST', '/api/v1/maintenance', { serviceId, startsAt: 0, endsAt: 1, title: '\u0000' }],
      ['POST', '/api/v1/webhooks', { serviceId, url: 'http://127.0.0.1/', secret: '\u0000' }],
      // Headers the checker could never send: every check would fail (were accepted).
      ['POST', '/api/v1/endpoints', ep({ headers: { 'bad name': 'x' } })],
      ['POST', '/api/v1/endpoints', ep({ headers: { '': 'x' } })],
      ['POST', '/api/v1/endpoints', ep({ headers: { a: 'x\r\nb: y' } })],
      ['POST', '/api/v1/endpoints', ep({ headers: { a: 'é😀' } })],
      ['POST', '/api/v1/endpoints', ep({ headers: { 'Content-Length': '5' } })],
      ['PATCH', `/api/v1/endpoints/${endpointId}`, { headers: { 'transfer-encoding': 'chunked' } }],
      // Times PostgreSQL or Date cannot hold: these were 500s.
      ['POST', '/api/v1/maintenance', { serviceId, startsAt: 1e20, endsAt: 1e21 }],
      ['POST', '/api/v1/maintenance', { serviceId, startsAt: -1e15, endsAt: 0 }],
      ['POST', '/api/v1/maintenance', { serviceId, startsAt: '0', endsAt: '99999999999999999999999' }],
    ];
    const got = [];
    for (const [method, path, body] of cases) {
      const r = await api(method, path, body);
      got.push([method, path, JSON.stringify(body), r.status, r.body?.error?.code]);
    }
    expect(got).toEqual(cases.map(([m, p, b]) => [m, p, JSON.stringify(b), 400, 'bad_request']));
  });

  it('still accepts the edges of the valid ranges', async () => {
    const ok = await api('POST', '/api/v1/endpoints', {
      serviceId,
      name: 'édge 😀',
      url: 'http://user:p%40ss@[::1]:1/päth?q=ü',
      interval: 86_400,
      timeout: 120_000,
      enabled: false,
      headers: { 'X-Api-Key': 'k\tv', Host: 'example.com', Authorization: 'Basic Zm9vOmJhcg==' },
    });
    expect(ok.status).toBe(201);
    const m = await api('POST', '/api/v1/maintenance', {
      endpointId,
      startsAt: 0,
      endsAt: '9999-12-31T23:59:59.999Z',
    });
    expect(m.status).toBe(201);
    expect(m.body).toMatchObject({
      startsAt: '1970-01-01T00:00:00.000Z',
      endsAt: '9999-12-31T23:59:59.999Z',
    });
  });
});
