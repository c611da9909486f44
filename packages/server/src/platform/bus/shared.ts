import type { Logger } from '../logger.js';

/** What both bus adapters do alike: caching topic set-up, retry back-off, the default stop bound. */

/** One promise per key, created on first use; a rejected one is forgotten so the next call retries. */
export function memoize<K, V>(cache: Map<K, Promise<V>>, key: K, create: () => Promise<V>): Promise<V> {
  let p = cache.get(key);
  if (!p) {
    p = create();
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

/** A handler threw: log it and return how long to wait before redelivery (250 ms doubling to 30 s). */
export function handlerFailed(
  log: Logger,
  err: unknown,
  where: { partition: number; offset: string; attempt: number },
): number {
  const retryInMs = Math.min(30_000, 250 * 2 ** (where.attempt - 1));
  log.warn({ err, ...where, retryInMs }, 'bus handler failed; the batch will be redelivered');
  return retryInMs;
}

/** How long a consumer's `stop()` waits for a running handler by default (ms). */
export const DEFAULT_STOP_TIMEOUT_MS = 15_000;
