import { describe, expect, it } from 'vitest';
import { firstSlotAtOrAfter, jitterOffsetMs, nextSlot, slotsBetween } from './schedule.js';

const I = 60_000;

describe('slot schedule', () => {
  it('gives each endpoint a stable offset inside its interval, spread over it', () => {
    const offsets = Array.from({ length: 1000 }, (_, i) => jitterOffsetMs(i + 1, I));
    for (const o of offsets) {
      expect(o).toBeGreaterThanOrEqual(0);
      expect(o).toBeLessThan(I);
    }
    expect(jitterOffsetMs(42, I)).toBe(jitterOffsetMs(42, I));
    // Roughly uniform: every 6-second tenth of the minute holds 60–140 of the 1000 endpoints.
    const buckets = new Array(10).fill(0);
    for (const o of offsets) buckets[Math.floor(o / 6_000)]++;
    for (const b of buckets) {
      expect(b).toBeGreaterThan(60);
      expect(b).toBeLessThan(140);
    }
  });

  it('advances from the previous due time, not from when the check finished', () => {
    const slot = firstSlotAtOrAfter(7, I, Date.parse('2026-01-01T00:00:00Z'));
    expect(nextSlot(7, I, slot, slot + 1_500)).toBe(slot + I); // the check took 1.5 s
    expect(nextSlot(7, I, slot, slot + 59_000)).toBe(slot + I); // late, but the next slot is still ahead
    expect(nextSlot(7, I, slot, slot + 90_000)).toBe(slot + I); // the next slot is merely late: it still runs
  });

  it('skips slots missed by more than an interval after downtime', () => {
    const slot = firstSlotAtOrAfter(7, I, Date.parse('2026-01-01T00:00:00Z'));
    const now = slot + 10 * I + 5_000; // down for ten minutes
    const next = nextSlot(7, I, slot, now);
    expect(next).toBe(slot + 10 * I); // 5 s late, within one interval: runs now
    expect(next).toBeGreaterThan(now - I);
    expect((next - slot) % I).toBe(0); // still on the endpoint's grid
  });

  it('puts an off-grid slot (a new endpoint, a changed interval) back on the grid after now', () => {
    const now = Date.parse('2026-01-01T00:00:10.123Z');
    const next = nextSlot(7, I, now - 3, now);
    expect(next).toBeGreaterThan(now);
    expect(next - now).toBeLessThanOrEqual(I);
    expect((next - jitterOffsetMs(7, I)) % I).toBe(0);
  });

  it('lists the slots due in a range', () => {
    const from = Date.parse('2026-01-01T00:00:00Z');
    const slots = slotsBetween(3, 10_000, from, from + 60_000);
    expect(slots).toHaveLength(6);
    for (let i = 1; i < slots.length; i++) expect(slots[i]! - slots[i - 1]!).toBe(10_000);
  });
});
