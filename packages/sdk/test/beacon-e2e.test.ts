import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePg } from '../../server/src/test-support/index.js';
import * as Beacon from '../src/node.js';
import { type BeaconProject, startBeaconProject } from './beacon.js';
import type { Json } from './receiver.js';

// @beacon/sdk from Node against a real Beacon: events become grouped issues with correct frames.
describe.runIf(requirePg())('@beacon/sdk against a real Beacon', () => {
  let b: BeaconProject;
  beforeAll(async () => {
    b = await startBeaconProject('sdk-e2e');
    Beacon.init({ dsn: b.dsn, release: 'shop@3.1.0', environment: 'e2e', captureUnhandled: false });
  });
  afterAll(async () => {
    await Beacon.close(2000);
    await b?.close();
  });

  function loadCart(id: string): never {
    throw new TypeError(`cart ${id} has no items`, { cause: new Error('inventory timeout') });
  }
  function checkout(id: string) {
    loadCart(id);
  }

  it('groups repeated errors into one issue, separate from a different error, with frames', async () => {
    const ids: string[] = [];
    for (const cart of ['a', 'b', 'c']) {
      try {
        checkout(cart);
      } catch (err) {
        ids.push(Beacon.captureException(err, { tags: { cart } }));
      }
    }
    Beacon.setUser({ id: 'u-7', email: 'ada@example.com' });
    const other = Beacon.captureException(new RangeError('quantity out of range'));
    expect(await Beacon.flush(10_000)).toBe(true);

    const issues = await b.issues(
      (items) => items.reduce((n, i) => n + i.count, 0) >= 4,
      'four events grouped into issues',
    );
    expect(issues).toHaveLength(2);
    const cartIssue = issues.find((i) => i.count === 3)!;
    const rangeIssue = issues.find((i) => i.count === 1)!;
    expect(cartIssue.title).toMatch(/TypeError/);
    expect(cartIssue).toMatchObject({ level: 'error', lastRelease: 'shop@3.1.0' });
    expect(rangeIssue.title).toMatch(/RangeError/);
    expect(ids).toContain(cartIssue.lastEventId);

    const detail = await b.api(`/api/v1/issues/${cartIssue.id}`);
    expect(detail.tags.find((t: Json) => t.key === 'cart')?.uniqueValues).toBe(3);

    const { items: events } = await b.api(`/api/v1/issues/${cartIssue.id}/events`);
    expect(events.map((e: Json) => e.eventId).sort()).toEqual([...ids].sort());

    const event = await b.event(ids[0]!);
    const payload = event.payload;
    const exceptions: Json[] = payload.exceptions;
    expect(exceptions).toHaveLength(2);
    const top = exceptions.at(-1);
    expect(top).toMatchObject({ type: 'TypeError', value: 'cart a has no items' });
    const frames = top.stacktrace.frames;
    expect(frames.at(-1)).toMatchObject({ function: 'loadCart', in_app: true, lineno: expect.any(Number) });
    expect(frames.at(-2)).toMatchObject({ function: 'checkout', in_app: true });
    expect(frames.at(-1).filename).toMatch(/beacon-e2e\.test\.ts$/);
    expect(exceptions[0]).toMatchObject({ type: 'Error', value: 'inventory timeout' });

    const rangeEvent = await b.event(other);
    expect(rangeEvent.payload.user).toMatchObject({ id: 'u-7', email: 'ada@example.com' });
    expect(rangeEvent).toMatchObject({ release: 'shop@3.1.0', environment: 'e2e' });
  });

  it('sends messages and honours a custom fingerprint', async () => {
    const a = Beacon.captureMessage('payment provider slow', 'warning');
    const x = Beacon.captureException(new Error('timeout talking to stripe'), {
      fingerprint: ['stripe-down'],
    });
    const y = Beacon.captureException(new Error('stripe returned 502'), { fingerprint: ['stripe-down'] });
    expect(await Beacon.flush(10_000)).toBe(true);
    const issues = await b.issues(
      (items) =>
        items.some((i) => i.title.includes('payment provider slow')) &&
        items.some((i) => i.count === 2 && /stripe/.test(i.title)),
      'message and fingerprinted issues',
    );
    const msg = issues.find((i) => i.title.includes('payment provider slow'))!;
    expect(msg).toMatchObject({ level: 'warning', lastEventId: a });
    const stripe = issues.find((i) => i.count === 2 && /stripe/.test(i.title))!;
    expect([x, y]).toContain(stripe.lastEventId);
    const detail = await b.api(`/api/v1/issues/${stripe.id}`);
    expect(detail.grouping).toMatchObject({ method: 'fingerprint', components: ['fingerprint:stripe-down'] });
  });
});
