import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { createLogger } from '../logger.js';
import { Metrics } from '../metrics.js';
import { createHttpServer, type HttpApp } from './server.js';

describe('HTTP platform', () => {
  let app: HttpApp;
  const metrics = new Metrics();
  beforeAll(async () => {
    app = await createHttpServer({ log: createLogger('silent'), metrics, bodyLimit: 1024 });
    app.post('/things', { schema: { body: z.object({ n: z.number() }) } }, async (req) => ({
      n: req.body.n,
    }));
    app.get('/things/:id', async () => {
      throw new AppError('conflict', 'already there', { headers: { 'retry-after': '3' } });
    });
    app.get('/boom', async () => {
      throw new Error('password authentication failed at /var/lib/postgres');
    });
    await app.ready();
  });
  afterAll(() => app.close());

  const json = { 'content-type': 'application/json' };
  const cases: Array<[string, Parameters<HttpApp['inject']>[0] & object, number, string]> = [
    [
      'malformed JSON',
      { method: 'POST', url: '/things', headers: json, payload: '{"n":' },
      400,
      'bad_request',
    ],
    [
      'an empty JSON body',
      { method: 'POST', url: '/things', headers: json, payload: '' },
      400,
      'bad_request',
    ],
    [
      'a schema violation',
      { method: 'POST', url: '/things', headers: json, payload: '{"n":"x"}' },
      400,
      'bad_request',
    ],
    [
      'an unsupported media type',
      { method: 'POST', url: '/things', headers: { 'content-type': 'text/xml' }, payload: '<n/>' },
      415,
      'unsupported_media_type',
    ],
    [
      'a body over the limit',
      {
        method: 'POST',
        url: '/things',
        headers: json,
        payload: JSON.stringify({ n: 1, pad: 'x'.repeat(2000) }),
      },
      413,
      'payload_too_large',
    ],
    ['an unknown route', { method: 'GET', url: '/nothing/here?x=1' }, 404, 'not_found'],
    ['a malformed %-escape in the path', { method: 'GET', url: '/things/%E0%A4%A' }, 400, 'bad_request'],
    ['an AppError', { method: 'GET', url: '/things/7' }, 409, 'conflict'],
    ['an unexpected error', { method: 'GET', url: '/boom' }, 500, 'internal'],
  ];
  for (const [what, req, status, code] of cases)
    it(`answers ${what} with ${status} in the one error shape and a request id`, async () => {
      const res = await app.inject(req);
      expect(res.statusCode).toBe(status);
      const body = res.json() as { error: { code: string; message: string } };
      expect(Object.keys(body)).toEqual(['error']);
      expect(body.error.code).toBe(code);
      expect(typeof body.error.message).toBe('string');
      expect(res.headers['x-request-id']).toMatch(/^[\w.-]+$/);
    });

  it('keeps internals out of a 500 and echoes a well-formed x-request-id', async () => {
    const res = await app.inject({ method: 'GET', url: '/boom', headers: { 'x-request-id': 'req-42' } });
    expect(res.json()).toEqual({ error: { code: 'internal', message: 'internal error (request req-42)' } });
    expect(res.headers['x-request-id']).toBe('req-42');
    const other = await app.inject({
      method: 'GET',
      url: '/boom',
      headers: { 'x-request-id': 'bad id\u0001' },
    });
    expect(other.headers['x-request-id']).not.toBe('bad id\u0001');
  });

  it('passes AppError headers through', async () => {
    expect((await app.inject({ method: 'GET', url: '/things/1' })).headers['retry-after']).toBe('3');
  });

  it('labels metrics by route pattern, and every unmatched URL as one label', async () => {
    for (let i = 0; i < 5; i++) await app.inject({ method: 'GET', url: `/random-${i}` });
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/beacon_http_requests_total\{method="GET",route="unmatched",status="404"\} [6-9]/);
    expect(text).toMatch(/route="\/things\/:id",status="409"/);
    expect(text).not.toMatch(/random-/);
  });
});
