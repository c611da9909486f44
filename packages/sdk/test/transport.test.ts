import { afterEach, describe, expect, it } from 'vitest';
import { Transport } from '../src/transport.js';
import { parseEnvelope, type Receiver, startReceiver } from './receiver.js';

// The transport against a real HTTP receiver on 127.0.0.1.
const receivers: Receiver[] = [];
const transports: Transport[] = [];
afterEach(async () => {
  for (const t of transports.splice(0)) t.close();
  for (const r of receivers.splice(0)) await r.close();
});

async function receiver(reply?: Receiver['reply'], port?: number) {
  const r = await startReceiver(port, reply);
  receivers.push(r);
  return r;
}
function transport(url: string, options: ConstructorParameters<typeof Transport>[1] = {}) {
  const t = new Transport(url, options);
  transports.push(t);
  return t;
}
const envelope = (id: string) =>
  `{"event_id":"${id}"}\n{"type":"event"}\n${JSON.stringify({ event_id: id, message: id })}\n`;
const ids = (r: Receiver) => r.requests.map((q) => parseEnvelope(q.body).header.event_id);

async function waitFor<T>(fn: () => T, timeout = 15_000): Promise<NonNullable<T>> {
  const end = Date.now() + timeout;
  for (;;) {
    const v = fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('transport', () => {
  it('sends nothing for the 5 s of a 429 Retry-After: 5, then resumes with everything held', async () => {
    const r = await receiver((_req, i) => (i === 0 ? { status: 429, headers: { 'retry-after': '5' } } : {}));
    const t = transport(`${r.url}/api/1/envelope/`);
    t.send(envelope('a'));
    await waitFor(() => r.requests.length === 1);
    await waitFor(() => t.getStats().rateLimitedUntil > 0);
    const limitedAt = r.requests[0]!.at;
    expect(t.getStats().rateLimitedUntil - Date.now()).toBeGreaterThan(3000);
    t.send(envelope('b'));
    t.send(envelope('c'));
    // Nothing while the window is open; then the refused envelope and the two held ones.
    await waitFor(() => r.requests.length === 4, 12_000);
    expect(r.requests[1]!.at - limitedAt).toBeGreaterThanOrEqual(4900);
    expect(ids(r)).toEqual(['a', 'a', 'b', 'c']);
    expect(await t.flush(1000)).toBe(true);
    expect(t.getStats()).toMatchObject({ sent: 3, queued: 0 });
  });

  it('honours X-Sentry-Rate-Limits for the error category and ignores other categories', async () => {
    const r = await receiver((_req, i) =>
      i === 0
        ? { headers: { 'x-sentry-rate-limits': '60:transaction:key, 2:error;default:organization' } }
        : {},
    );
    const t = transport(`${r.url}/api/1/envelope/`);
    t.send(envelope('a'));
    await waitFor(() => t.getStats().rateLimitedUntil > 0);
    t.send(envelope('b'));
    await waitFor(() => r.requests.length === 2);
    expect(r.requests[1]!.at - r.requests[0]!.at).toBeGreaterThanOrEqual(1900);
    // The 60 s transaction limit does not hold error events back.
    expect(r.requests[1]!.at - r.requests[0]!.at).toBeLessThan(30_000);
  });

  it('retries an envelope answered 500 with backoff until it is accepted', async () => {
    const r = await receiver((_req, i) => (i < 2 ? { status: 500 } : {}));
    const t = transport(`${r.url}/api/1/envelope/`, { retryBaseDelayMs: 100 });
    t.send(envelope('x'));
    expect(await t.flush(10_000)).toBe(true);
    expect(ids(r)).toEqual(['x', 'x', 'x']);
    expect(t.getStats()).toMatchObject({ sent: 1, retried: 2, queued: 0 });
  });

  it('drops a refused envelope (400) without retrying it', async () => {
    const r = await receiver(() => ({ status: 400 }));
    const t = transport(`${r.url}/api/1/envelope/`);
    t.send(envelope('bad'));
    expect(await t.flush(5000)).toBe(true);
    expect(r.requests).toHaveLength(1);
    expect(t.getStats().dropped.send_error).toBe(1);
  });

  it('keeps the app running and the queue within its bound while the receiver is down, then delivers', async () => {
    const down = await startReceiver();
    const port = down.port;
    await down.close();
    const t = transport(`http://127.0.0.1:${port}/api/1/envelope/`, {
      maxQueueSize: 10,
      retryBaseDelayMs: 50,
      maxRetryDelayMs: 200,
      maxRetries: 1000,
    });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    try {
      for (let i = 0; i < 50; i++) {
        t.send(envelope(`e${i}`));
        expect(t.getStats().queued).toBeLessThanOrEqual(10);
        await new Promise((r) => setTimeout(r, 5));
      }
      await waitFor(() => t.getStats().retried >= 3);
      const stats = t.getStats();
      expect(stats.queued).toBe(10);
      expect(stats.dropped.queue_overflow).toBe(40);
      expect(ticks).toBeGreaterThan(10);
      // The receiver comes back on the same port: the held envelopes go out.
      const r = await receiver(undefined, port);
      expect(await t.flush(10_000)).toBe(true);
      expect(ids(r).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `e${i}`).sort());
    } finally {
      clearInterval(timer);
    }
  });

  it('gives up after maxRetries and counts the drop', async () => {
    const down = await startReceiver();
    await down.close();
    const t = transport(`http://127.0.0.1:${down.port}/x`, { retryBaseDelayMs: 10, maxRetries: 2 });
    t.send(envelope('lost'));
    expect(await t.flush(5000)).toBe(true);
    expect(t.getStats()).toMatchObject({ queued: 0, sent: 0, retried: 2, dropped: { network_error: 1 } });
  });

  it.each([
    ['drop-oldest', ['e15', 'e16', 'e17', 'e18', 'e19']],
    ['drop-newest', ['e0', 'e1', 'e2', 'e3', 'e4']],
  ] as const)('with %s keeps %j of 20 when the bound is 5', async (overflow, kept) => {
    const r = await receiver();
    const t = transport(`${r.url}/x`, { maxQueueSize: 5, overflow, batchDelayMs: 60_000 });
    for (let i = 0; i < 20; i++) t.send(envelope(`e${i}`));
    expect(t.getStats().dropped.queue_overflow).toBe(15);
    expect(await t.flush(5000)).toBe(true);
    expect(ids(r)).toEqual(kept);
  });

  it('sends a batch of queued envelopes together and reports flush timeouts as false', async () => {
    const r = await receiver((_req, i) => (i === 0 ? { status: 429, headers: { 'retry-after': '30' } } : {}));
    const t = transport(`${r.url}/x`, { batchSize: 5 });
    for (let i = 0; i < 3; i++) t.send(envelope(`b${i}`));
    expect(await t.flush(300)).toBe(false);
    // The three went out in one batch; the one answered 429 is held for the window, with nothing after it.
    expect(ids(r).sort()).toEqual(['b0', 'b1', 'b2']);
    expect(t.getStats()).toMatchObject({ sent: 2, queued: 1 });
    t.send(envelope('b3'));
    expect(await t.flush(200)).toBe(false);
    expect(r.requests).toHaveLength(3);
    expect(t.getStats().queued).toBe(2);
  });
});
