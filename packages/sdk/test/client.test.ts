import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as Beacon from '../src/node.js';
import { type Json, parseEnvelope, type Receiver, startReceiver } from './receiver.js';

// The Node entry in-process against a real local receiver. Process handlers stay off here (the
// test runner owns them); test/node-process.test.ts covers them in child processes.
let r: Receiver;
let other: Receiver;
const originalFetch = globalThis.fetch;
const originalLog = console.log;

beforeAll(async () => {
  r = await startReceiver();
  other = await startReceiver(0, () => ({ status: 503 }));
});
afterAll(async () => {
  await Beacon.close(1000);
  await r.close();
  await other.close();
});
beforeEach(() => {
  r.requests.length = 0;
  Beacon.init({
    dsn: r.dsn(7, 'pubkey'),
    release: 'api@1.2.3',
    environment: 'staging',
    captureUnhandled: false,
    transport: { batchDelayMs: 0 },
  });
  Beacon.getCurrentScope().clear();
});

async function sentEvents(n: number): Promise<Json[]> {
  expect(await Beacon.flush(5000)).toBe(true);
  const events = r.events();
  expect(events).toHaveLength(n);
  return events;
}

describe('Node client', () => {
  it('sends an exception with its cause chain, frames, scope data and defaults as a Sentry envelope', async () => {
    Beacon.setUser({ id: 'u1', email: 'ada@example.com' });
    Beacon.setTags({ region: 'eu', plan: 'pro' });
    Beacon.setTag('region', 'us');
    Beacon.setContext('order', { id: 'o1', total: 9.5 });
    Beacon.setExtra('attempt', 2);
    Beacon.addBreadcrumb({ category: 'auth', message: 'logged in' });
    function charge() {
      throw new Error('charge failed', { cause: new RangeError('card expired') });
    }
    let id = '';
    try {
      charge();
    } catch (err) {
      id = Beacon.captureException(err, {
        tags: { step: 'charge' },
        fingerprint: ['payments', '{{ default }}'],
      });
    }
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(Beacon.lastEventId()).toBe(id);
    const [event] = await sentEvents(1);
    const req = r.requests[0]!;
    expect(req.url).toBe(
      '/api/7/envelope/?sentry_version=7&sentry_key=pubkey&sentry_client=beacon.javascript%2F0.1.0',
    );
    const env = parseEnvelope(req.body);
    expect(env.header).toMatchObject({
      event_id: id,
      dsn: r.dsn(7, 'pubkey'),
      sdk: { name: 'beacon.javascript' },
    });
    expect(env.items[0]!.header).toEqual({ type: 'event', length: Buffer.byteLength(env.items[0]!.payload) });
    expect(event).toMatchObject({
      event_id: id,
      platform: 'node',
      level: 'error',
      release: 'api@1.2.3',
      environment: 'staging',
      sdk: { name: 'beacon.javascript', version: Beacon.SDK_VERSION },
      user: { id: 'u1', email: 'ada@example.com' },
      tags: { region: 'us', plan: 'pro', step: 'charge' },
      extra: { attempt: 2 },
      fingerprint: ['payments', '{{ default }}'],
      contexts: { order: { id: 'o1', total: 9.5 }, runtime: { name: 'node', version: process.version } },
    });
    expect(event.timestamp).toBeCloseTo(Date.now() / 1000, -2);
    expect(event.server_name).toEqual(expect.any(String));
    expect(event.breadcrumbs.map((b: Json) => b.message)).toContain('logged in');
    const values = event.exception.values;
    expect(values.map((v: Json) => [v.type, v.value])).toEqual([
      ['RangeError', 'card expired'],
      ['Error', 'charge failed'],
    ]);
    expect(values[1].mechanism).toEqual({ type: 'generic', handled: true, exception_id: 0 });
    const top = values[1].stacktrace.frames.at(-1);
    expect(top).toMatchObject({ function: 'charge', in_app: true, module: 'packages.sdk.test:client.test' });
    expect(top.filename).toMatch(/packages\/sdk\/test\/client\.test\.ts$/);
  });

  it('sends messages with their level', async () => {
    const id = Beacon.captureMessage('cache miss storm', 'warning');
    const [event] = await sentEvents(1);
    expect(event).toMatchObject({ event_id: id, message: 'cache miss storm', level: 'warning' });
    expect(event.exception).toBeUndefined();
  });

  it('records console and fetch breadcrumbs, but not its own requests', async () => {
    console.log('loading', { page: 2 });
    await fetch(`${other.url}/upstream?q=1`, { method: 'post' }).catch(() => {});
    Beacon.captureMessage('first');
    await Beacon.flush(5000);
    Beacon.captureMessage('second');
    const events = await sentEvents(2);
    const crumbs = events[1]!.breadcrumbs as Json[];
    expect(crumbs).toContainEqual(
      expect.objectContaining({ category: 'console', level: 'log', message: 'loading {"page":2}' }),
    );
    expect(crumbs).toContainEqual(
      expect.objectContaining({
        type: 'http',
        category: 'fetch',
        level: 'error',
        data: { method: 'POST', url: `${other.url}/upstream?q=1`, status_code: 503 },
      }),
    );
    expect(crumbs.filter((c) => c.category === 'fetch')).toHaveLength(1);
  });

  it('isolates withScope across concurrent async work', async () => {
    Beacon.setTag('global', 'yes');
    const job = (name: string, delay: number) =>
      Beacon.withScope(async (scope) => {
        scope.setTag('job', name);
        await new Promise((res) => setTimeout(res, delay));
        Beacon.setUser({ id: name });
        await new Promise((res) => setTimeout(res, delay));
        Beacon.captureMessage(`from ${name}`);
      });
    await Promise.all([job('a', 30), job('b', 10)]);
    Beacon.captureMessage('outside');
    const events = await sentEvents(3);
    const byMsg = Object.fromEntries(events.map((e) => [e.message, e]));
    expect(byMsg['from a']).toMatchObject({ tags: { global: 'yes', job: 'a' }, user: { id: 'a' } });
    expect(byMsg['from b']).toMatchObject({ tags: { global: 'yes', job: 'b' }, user: { id: 'b' } });
    expect(byMsg.outside!.tags).toEqual({ global: 'yes' });
    expect(byMsg.outside!.user).toBeUndefined();
  });

  it('lets beforeSend change or drop events, survives a throwing beforeSend, and samples', async () => {
    Beacon.init({
      dsn: r.dsn(),
      captureUnhandled: false,
      beforeSend: (event) => {
        if (event.message === 'drop me') return null;
        if (event.message === 'explode') throw new Error('bug in beforeSend');
        return { ...event, tags: { ...event.tags, scrubbed: 'true' } };
      },
    });
    expect(() => Beacon.captureMessage('explode')).not.toThrow();
    Beacon.captureMessage('drop me');
    Beacon.captureMessage('keep me');
    const [event] = await sentEvents(1);
    expect(event).toMatchObject({ message: 'keep me', tags: { scrubbed: 'true' } });

    Beacon.init({ dsn: r.dsn(), captureUnhandled: false, sampleRate: 0 });
    for (let i = 0; i < 20; i++) Beacon.captureMessage('sampled out');
    await sentEvents(1);
  });

  it('reports the same error object once', async () => {
    const err = new Error('twice');
    const a = Beacon.captureException(err);
    const b = Beacon.captureException(err);
    expect(b).toBe(a);
    await sentEvents(1);
  });

  it('close() flushes, restores console and fetch, and ignores later captures', async () => {
    expect(console.log).not.toBe(originalLog);
    expect(globalThis.fetch).not.toBe(originalFetch);
    Beacon.captureMessage('last');
    expect(await Beacon.close(5000)).toBe(true);
    expect(console.log).toBe(originalLog);
    expect(globalThis.fetch).toBe(originalFetch);
    expect(Beacon.captureMessage('after close')).toBe('');
    expect(r.events().map((e) => e.message)).toEqual(['last']);
  });

  it('keeps capturing without throwing while Beacon is down, holding at most maxQueueSize events', async () => {
    const down = await startReceiver();
    const dsn = down.dsn();
    await down.close();
    Beacon.init({
      dsn,
      captureUnhandled: false,
      transport: { maxQueueSize: 5, retryBaseDelayMs: 20, maxRetryDelayMs: 50, maxRetries: 1000 },
    });
    for (let i = 0; i < 100; i++) {
      expect(() => Beacon.captureException(new Error(`down ${i}`))).not.toThrow();
    }
    expect(await Beacon.flush(300)).toBe(false);
    while (Beacon.getTransportStats()!.retried === 0) await new Promise((res) => setTimeout(res, 20));
    const stats = Beacon.getTransportStats()!;
    expect(stats.queued).toBe(5);
    expect(stats.dropped.queue_overflow).toBe(95);
  });

  it('does nothing (and never throws) without a DSN or with a bad one', async () => {
    Beacon.init({ captureUnhandled: false });
    expect(() => Beacon.captureException(new Error('x'))).not.toThrow();
    Beacon.init({ dsn: 'not a dsn', captureUnhandled: false });
    expect(() => Beacon.captureMessage('y')).not.toThrow();
    expect(await Beacon.flush(100)).toBe(true);
    expect(r.requests).toHaveLength(0);
  });
});
