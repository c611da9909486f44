/** What the transport does with a new event when its queue is full. */
export type OverflowPolicy = 'drop-oldest' | 'drop-newest';

export interface TransportOptions {
  /** Most envelopes held in memory (queued + in flight). Default 100. */
  maxQueueSize?: number;
  /** Which envelope to drop when the queue is full. Default 'drop-newest' (keeps the first errors). */
  overflow?: OverflowPolicy;
  /** Most envelopes sent at once in one batch. Default 10. */
  batchSize?: number;
  /** How long to gather envelopes before sending a batch, in ms. Default 20. */
  batchDelayMs?: number;
  /** Retries per envelope on network errors and 5xx before it is dropped. Default 4. */
  maxRetries?: number;
  /** First retry delay in ms (doubled on each consecutive failure, with jitter). Default 1000. */
  retryBaseDelayMs?: number;
  /** Longest retry delay in ms. Default 30000. */
  maxRetryDelayMs?: number;
  /** Abort a request after this many ms (counts as a network error). Default 30000. */
  requestTimeoutMs?: number;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** fetch implementation (defaults to the global fetch). */
  fetch?: typeof fetch;
}

export interface TransportStats {
  /** Envelopes waiting or in flight. */
  queued: number;
  sent: number;
  retried: number;
  dropped: {
    /** The queue was full. */
    queue_overflow: number;
    /** Gave up after retries on network errors / 5xx. */
    network_error: number;
    /** The server refused the envelope (4xx other than 429). */
    send_error: number;
  };
  /** Time (ms since epoch) until which nothing is sent because of 429 / X-Sentry-Rate-Limits, or 0. */
  rateLimitedUntil: number;
}

interface Item {
  body: string;
  category: string;
  attempts: number;
}

const unref = (t: unknown): void => {
  (t as { unref?: () => void } | undefined)?.unref?.();
};

/**
 * Sends envelopes to one URL from a bounded in-memory queue: batches, retries with exponential
 * backoff on network errors and 5xx, holds everything while the server's 429 `Retry-After` or
 * `X-Sentry-Rate-Limits` window is open, and never throws into the caller.
 */
export class Transport {
  private queue: Item[] = [];
  private inFlight = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = 0;
  private backoffUntil = 0;
  private failures = 0;
  private limits = new Map<string, number>();
  private waiters = new Set<() => void>();
  private readonly o: Required<Omit<TransportOptions, 'fetch' | 'headers'>>;
  private readonly fetchImpl: typeof fetch | undefined;
  private readonly stats = {
    sent: 0,
    retried: 0,
    dropped: { queue_overflow: 0, network_error: 0, send_error: 0 },
  };

  constructor(
    readonly url: string,
    private readonly options: TransportOptions = {},
  ) {
    this.o = {
      maxQueueSize: options.maxQueueSize ?? 100,
      overflow: options.overflow ?? 'drop-newest',
      batchSize: options.batchSize ?? 10,
      batchDelayMs: options.batchDelayMs ?? 20,
      maxRetries: options.maxRetries ?? 4,
      retryBaseDelayMs: options.retryBaseDelayMs ?? 1000,
      maxRetryDelayMs: options.maxRetryDelayMs ?? 30_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    };
    // Bind the fetch we were given now, so later instrumentation of globalThis.fetch (our own
    // breadcrumbs or the app's) never sees the SDK's requests.
    this.fetchImpl = options.fetch ?? (typeof fetch === 'function' ? fetch.bind(globalThis) : undefined);
  }

  /** Queue an envelope for sending. Never throws. */
  send(body: string, category = 'error'): void {
    try {
      if (this.size() >= this.o.maxQueueSize) {
        this.stats.dropped.queue_overflow++;
        if (this.o.overflow === 'drop-newest' || !this.queue.length) return;
        this.queue.shift();
      }
      this.queue.push({ body, category, attempts: 0 });
      this.schedule(this.o.batchDelayMs);
    } catch {
      // never throw into the host application
    }
  }

  /** Counters and queue length. */
  getStats(): TransportStats {
    return {
      ...this.stats,
      dropped: { ...this.stats.dropped },
      queued: this.size(),
      rateLimitedUntil: Math.max(0, ...this.limits.values()),
    };
  }

  /** Resolves true once everything queued was sent (or given up on), false after `timeoutMs`. */
  flush(timeoutMs = 2000): Promise<boolean> {
    if (!this.size()) return Promise.resolve(true);
    this.schedule(0);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(t);
        this.waiters.delete(onEmpty);
        resolve(ok);
      };
      const onEmpty = () => done(true);
      // Referenced on purpose: whoever awaits flush wants the process to live until it settles.
      const t = setTimeout(() => done(false), Math.max(0, timeoutMs));
      this.waiters.add(onEmpty);
    });
  }

  /**
   * Page unload: hand every sendable envelope to the browser with `fetch(keepalive)` (64 KB budget)
   * or `navigator.sendBeacon`, which outlive the page. Rate limits are still honoured.
   */
  flushOnUnload(): void {
    try {
      const now = Date.now();
      let budget = 60_000;
      const nav = (globalThis as { navigator?: Navigator }).navigator;
      const rest: Item[] = [];
      for (const item of this.queue) {
        if (this.blockedUntil(item.category, true) > now) {
          rest.push(item);
          continue;
        }
        const size = item.body.length * 2;
        let ok = false;
        if (this.fetchImpl && size < budget) {
          budget -= size;
          this.fetchImpl(this.url, {
            method: 'POST',
            body: item.body,
            keepalive: true,
            headers: this.options.headers,
          }).catch(() => {});
          ok = true;
        } else if (nav?.sendBeacon) {
          ok = nav.sendBeacon(this.url, item.body);
        }
        if (ok) this.stats.sent++;
        else rest.push(item);
      }
      this.queue = rest;
    } catch {
      // never throw into the host application
    }
  }

  /** Send what can be sent right now (Node's beforeExit). Returns whether a request started. */
  kick(): boolean {
    if (!this.queue.length || this.inFlight) return false;
    const now = Date.now();
    if (!this.queue.some((i) => this.blockedUntil(i.category) <= now)) return false;
    this.drain();
    return this.inFlight > 0;
  }

  /** Stop timers; queued envelopes are discarded. */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue = [];
    for (const w of [...this.waiters]) w();
  }

  private size(): number {
    return this.queue.length + this.inFlight;
  }

  private schedule(delay: number): void {
    const at = Date.now() + delay;
    if (this.timer !== undefined && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain();
    }, delay);
    unref(this.timer);
  }

  private blockedUntil(category: string, ignoreBackoff = false): number {
    return Math.max(
      ignoreBackoff ? 0 : this.backoffUntil,
      this.limits.get('') ?? 0,
      this.limits.get(category) ?? 0,
    );
  }

  private drain(): void {
    if (this.inFlight) return; // the running batch drains again when it ends
    if (!this.queue.length) {
      for (const w of [...this.waiters]) w();
      return;
    }
    const now = Date.now();
    const batch: Item[] = [];
    let wait = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.queue.length && batch.length < this.o.batchSize; ) {
      const until = this.blockedUntil(this.queue[i]!.category);
      if (until > now) {
        wait = Math.min(wait, until - now);
        i++;
      } else batch.push(this.queue.splice(i, 1)[0]!);
    }
    if (!batch.length) {
      this.schedule(wait);
      return;
    }
    this.inFlight = batch.length;
    const retry: Item[] = [];
    Promise.all(batch.map((item) => this.post(item, retry)))
      .catch(() => {})
      .then(() => {
        this.queue.unshift(...retry);
        this.inFlight = 0;
        this.drain();
      });
  }

  private async post(item: Item, retry: Item[]): Promise<void> {
    if (!this.fetchImpl) {
      this.stats.dropped.send_error++;
      return;
    }
    let res: Response;
    const ctl = typeof AbortController === 'function' ? new AbortController() : undefined;
    const t = setTimeout(() => ctl?.abort(), this.o.requestTimeoutMs);
    unref(t);
    try {
      res = await this.fetchImpl(this.url, {
        method: 'POST',
        body: item.body,
        headers: this.options.headers,
        signal: ctl?.signal,
      });
      // Read the body so the connection is reused (undici) and nothing stays pending.
      await res.text().catch(() => '');
    } catch {
      this.failed(item, retry);
      return;
    } finally {
      clearTimeout(t);
    }
    this.updateRateLimits(res);
    if (res.status === 429) {
      // A 429 whose headers did not limit this category still means "not now": default to 60 s.
      if (this.blockedUntil(item.category, true) <= Date.now()) this.limits.set('', Date.now() + 60_000);
      retry.push(item);
    } else if (res.status >= 500) {
      this.failed(item, retry);
    } else if (res.status >= 400) {
      this.stats.dropped.send_error++;
    } else {
      this.stats.sent++;
      this.failures = 0;
      this.backoffUntil = 0;
    }
  }

  private failed(item: Item, retry: Item[]): void {
    item.attempts++;
    this.failures++;
    if (item.attempts > this.o.maxRetries) {
      this.stats.dropped.network_error++;
      return;
    }
    this.stats.retried++;
    retry.push(item);
    const base = Math.min(
      this.o.maxRetryDelayMs,
      this.o.retryBaseDelayMs * 2 ** Math.min(this.failures - 1, 20),
    );
    this.backoffUntil = Date.now() + base * (0.8 + Math.random() * 0.4);
  }

  /** Apply `X-Sentry-Rate-Limits` or (on 429) `Retry-After`. */
  private updateRateLimits(res: Response): void {
    const now = Date.now();
    const header = res.headers.get('x-sentry-rate-limits');
    if (header) {
      for (const entry of header.split(',')) {
        const [secs, categories = ''] = entry.trim().split(':');
        const seconds = Number.parseInt(secs ?? '', 10);
        if (!Number.isFinite(seconds)) continue;
        const until = now + seconds * 1000;
        for (const c of categories ? categories.split(';') : ['']) {
          if (c === '' || c === 'error' || c === 'default') {
            const key = c === 'default' ? 'error' : c;
            this.limits.set(key, Math.max(this.limits.get(key) ?? 0, until));
          }
        }
      }
      return;
    }
    const ra = res.status === 429 ? res.headers.get('retry-after') : null;
    if (!ra) return;
    const secs = Number(ra);
    const until = Number.isFinite(secs) ? now + secs * 1000 : Date.parse(ra);
    if (Number.isFinite(until)) this.limits.set('', Math.max(this.limits.get('') ?? 0, until));
  }
}
