import { describe, expect, it } from 'vitest';
import { PublishCoalescer } from './coalesce.js';
import type { BusMessage } from './types.js';

const m = (id: string): BusMessage => ({ key: 'k', value: Buffer.from(id) });

describe('publish coalescing', () => {
  it('writes concurrent publishes of a topic together, in call order, within the limits', async () => {
    const writes: string[][] = [];
    let release: () => void = () => {};
    const c = new PublishCoalescer(
      async (_topic, messages) => {
        writes.push(messages.map((x) => x.value.toString()));
        if (writes.length === 1) await new Promise<void>((r) => (release = r));
      },
      { maxMessages: 3, maxBytes: 1_000_000 },
    );
    const first = c.publish('t', [m('a')]);
    const rest = ['b', 'c', 'd', 'e'].map((id) => c.publish('t', [m(id)]));
    release();
    await Promise.all([first, ...rest]);
    expect(writes).toEqual([['a'], ['b', 'c', 'd'], ['e']]);
  });

  it('rejects every caller whose messages were in a failed write, and goes on with the next', async () => {
    let calls = 0;
    let release: () => void = () => {};
    const c = new PublishCoalescer(
      async () => {
        calls++;
        if (calls === 1) await new Promise<void>((r) => (release = r));
        if (calls === 2) throw new Error('write failed');
      },
      { maxMessages: 2, maxBytes: 1_000_000 },
    );
    const a = c.publish('t', [m('a')]);
    const b = c.publish('t', [m('b')]);
    const d = c.publish('t', [m('d')]);
    const e = c.publish('t', [m('e')]);
    release();
    await expect(a).resolves.toBeUndefined();
    await expect(b).rejects.toThrow('write failed');
    await expect(d).rejects.toThrow('write failed');
    await expect(e).resolves.toBeUndefined();
  });
});
