import { type Dsn, dsnToString } from './dsn.js';
import type { BeaconEvent } from './types.js';

/** Serialise one event as a Sentry envelope (header line, item header with byte length, payload). */
export function eventEnvelope(event: BeaconEvent, dsn: Dsn): string {
  const header = JSON.stringify({
    event_id: event.event_id,
    sent_at: new Date().toISOString(),
    dsn: dsnToString(dsn),
    sdk: event.sdk,
  });
  const payload = safeStringify(event);
  const length = new TextEncoder().encode(payload).length;
  return `${header}\n${JSON.stringify({ type: 'event', length })}\n${payload}\n`;
}

/** JSON.stringify that survives cycles, BigInt, functions and throwing getters. */
export function safeStringify(value: unknown): string {
  const seen = new WeakSet<object>();
  try {
    return JSON.stringify(value, (_k, v: unknown) => {
      if (typeof v === 'bigint') return v.toString();
      if (typeof v === 'function') return `[Function${v.name ? `: ${v.name}` : ''}]`;
      if (typeof v === 'symbol') return v.toString();
      if (v && typeof v === 'object') {
        if (seen.has(v)) return '[Circular]';
        seen.add(v);
        if (v instanceof Error) return { name: v.name, message: v.message };
      }
      return v;
    });
  } catch {
    return JSON.stringify({ event_id: (value as BeaconEvent)?.event_id, message: '[unserialisable event]' });
  }
}
