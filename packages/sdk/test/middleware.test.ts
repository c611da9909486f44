import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as Beacon from '../src/node.js';
import { type Json, type Receiver, startReceiver } from './receiver.js';

let r: Receiver;
beforeAll(async () => {
  r = await startReceiver();
  Beacon.init({ dsn: r.dsn(), captureUnhandled: false, transport: { batchDelayMs: 0 } });
  Beacon.setTag('service', 'api');
});
afterAll(async () => {
  await Beacon.close(1000);
  await r.close();
});
beforeEach(() => {
  r.requests.length = 0;
});

const tick = (ms: number) => new Promise((res) => setTimeout(res, ms));

describe('Express middleware', () => {
  // Express itself is not a dependency: this is Express's calling convention over node:http
  // (req.originalUrl/baseUrl/route, `next(err)` into four-argument error middleware).
  let server: Server;
  let base = '';
  beforeAll(async () => {
    const requestHandler = Beacon.expressRequestHandler();
    const errorHandler = Beacon.expressErrorHandler();
    const route = async (req: IncomingMessage & Record<string, Json>) => {
      Beacon.setUser({ id: req.headers['x-user'] as string });
      Beacon.addBreadcrumb({ message: `handling ${req.url}` });
      await tick(Number(req.headers['x-delay'] ?? 0));
      if (req.url?.startsWith('/missing')) throw Object.assign(new Error('not found'), { status: 404 });
      throw new Error(`user lookup failed for ${req.headers['x-user']}`);
    };
    server = createServer((req: IncomingMessage & Record<string, Json>, res: ServerResponse) => {
      req.originalUrl = req.url;
      req.baseUrl = '/api';
      req.route = { path: '/users/:id' };
      req.protocol = 'http';
      const finalHandler = (err?: unknown) => {
        res.statusCode = (err as { status?: number })?.status ?? 500;
        res.end(String((res as unknown as { beaconEventId?: string }).beaconEventId ?? ''));
      };
      requestHandler(req, res, () => {
        route(req).catch((err) => errorHandler(err, req, res, finalHandler));
      });
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((res) => server.close(() => res())));

  it('reports route errors with request context, each request in its own scope', async () => {
    const get = (user: string, delay: number) =>
      fetch(`${base}/users/${user}?full=1`, {
        headers: {
          'x-user': user,
          'x-delay': String(delay),
          authorization: 'Bearer secret',
          cookie: 'sid=1',
        },
      });
    const [a, b] = await Promise.all([get('alice', 40), get('bob', 5)]);
    expect([a.status, b.status]).toEqual([500, 500]);
    const idA = await a.text();
    expect(await Beacon.flush(5000)).toBe(true);
    const events = r.events();
    expect(events).toHaveLength(2);
    const alice = events.find((e) => e.user?.id === 'alice');
    const bob = events.find((e) => e.user?.id === 'bob');
    expect(alice.event_id).toBe(idA);
    expect(alice).toMatchObject({
      transaction: 'GET /api/users/:id',
      tags: { service: 'api' },
      request: { method: 'GET', url: `${base}/users/alice`, query_string: 'full=1' },
    });
    expect(alice.request.headers['x-user']).toBe('alice');
    expect(alice.request.headers.authorization).toBeUndefined();
    expect(alice.request.headers.cookie).toBeUndefined();
    expect(alice.exception.values.at(-1)).toMatchObject({
      value: 'user lookup failed for alice',
      mechanism: { type: 'express', handled: false },
    });
    expect(
      alice.breadcrumbs.map((c: Json) => c.message).filter((m: string) => m?.startsWith('handling')),
    ).toEqual(['/users/alice?full=1'].map((u) => `handling ${u}`));
    expect(
      bob.breadcrumbs.map((c: Json) => c.message).filter((m: string) => m?.startsWith('handling')),
    ).toEqual(['handling /users/bob?full=1']);
  });

  it('does not report 4xx errors', async () => {
    const res = await fetch(`${base}/missing`);
    expect(res.status).toBe(404);
    await Beacon.flush(2000);
    expect(r.events()).toHaveLength(0);
  });
});

describe('Fastify plugin', () => {
  const app = Fastify();
  let base = '';
  beforeAll(async () => {
    await app.register(Beacon.beaconFastify);
    app.get('/orders/:id', async (req) => {
      Beacon.setTag('order', (req.params as { id: string }).id);
      Beacon.addBreadcrumb({ message: `loading ${(req.params as { id: string }).id}` });
      await tick(Number(req.headers['x-delay'] ?? 0));
      throw new TypeError(`order ${(req.params as { id: string }).id} is corrupt`);
    });
    app.get('/bad', { schema: { querystring: { type: 'object', required: ['q'] } } }, async () => 'ok');
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => app.close());

  it('reports handler errors with the route and request context, scoped per request', async () => {
    const [a, b] = await Promise.all([
      fetch(`${base}/orders/1`, { headers: { 'x-delay': '40' } }),
      fetch(`${base}/orders/2?x=y`, { headers: { 'x-delay': '5' } }),
    ]);
    expect([a.status, b.status]).toEqual([500, 500]);
    expect(await Beacon.flush(5000)).toBe(true);
    const events = r.events();
    expect(events).toHaveLength(2);
    const one = events.find((e) => e.tags?.order === '1');
    const two = events.find((e) => e.tags?.order === '2');
    expect(one).toMatchObject({
      transaction: 'GET /orders/:id',
      tags: { service: 'api', order: '1' },
      request: { method: 'GET', url: `${base}/orders/1` },
    });
    expect(two.request).toMatchObject({ url: `${base}/orders/2`, query_string: 'x=y' });
    expect(one.exception.values.at(-1)).toMatchObject({
      type: 'TypeError',
      value: 'order 1 is corrupt',
      mechanism: { type: 'fastify', handled: false },
    });
    expect(
      one.breadcrumbs.map((c: Json) => c.message).filter((m: string) => m?.startsWith('loading')),
    ).toEqual(['loading 1']);
    expect(
      two.breadcrumbs.map((c: Json) => c.message).filter((m: string) => m?.startsWith('loading')),
    ).toEqual(['loading 2']);
  });

  it('does not report validation errors (400)', async () => {
    expect((await fetch(`${base}/bad`)).status).toBe(400);
    await Beacon.flush(2000);
    expect(r.events()).toHaveLength(0);
  });
});
