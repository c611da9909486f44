/**
 * Slot arithmetic. Every endpoint's checks fall on a fixed grid: `offset + k × interval` (ms since
 * the epoch), where the offset is a stable hash of the endpoint id. The grid spreads endpoints
 * with one interval evenly over it (no stampede at :00), keeps every worker agreeing on which
 * slot is next, and lets a test or a report list exactly which slots were due in a time range.
 */

/** Stable per-endpoint offset within the interval (a 32-bit integer hash of the id). */
export function jitterOffsetMs(endpointId: number, intervalMs: number): number {
  let h = (endpointId ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  return h % intervalMs;
}

/** The first slot of the endpoint at or after `t`. */
export function firstSlotAtOrAfter(endpointId: number, intervalMs: number, t: number): number {
  const offset = jitterOffsetMs(endpointId, intervalMs);
  const k = Math.ceil((t - offset) / intervalMs);
  return k * intervalMs + offset;
}

/**
 * The slot after `slot`, computed from the schedule (not from when the check finished). A slot
 * that is already more than one whole interval in the past was missed (workers were down or
 * saturated) and is skipped rather than run in a burst; a slot that is merely late still runs.
 * After an interval change the grid itself moves, so the next slot is re-derived from `now`.
 */
export function nextSlot(endpointId: number, intervalMs: number, slot: number, now: number): number {
  const offset = jitterOffsetMs(endpointId, intervalMs);
  if ((((slot - offset) % intervalMs) + intervalMs) % intervalMs !== 0)
    return firstSlotAtOrAfter(endpointId, intervalMs, now + 1);
  let next = slot + intervalMs;
  if (next <= now - intervalMs) next += (Math.floor((now - intervalMs - next) / intervalMs) + 1) * intervalMs;
  return next;
}

/** Every slot of the endpoint in [from, to). */
export function slotsBetween(endpointId: number, intervalMs: number, from: number, to: number): number[] {
  const out: number[] = [];
  for (let s = firstSlotAtOrAfter(endpointId, intervalMs, from); s < to; s += intervalMs) out.push(s);
  return out;
}
