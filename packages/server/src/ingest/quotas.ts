/**
 * Events-per-window quotas, per key and per project, in memory. A fixed window per counter:
 * cheap (one map lookup per request), and `Retry-After` is exact — the window's end. The window
 * is a minute in production and injectable so tests need not wait one. Each ingest process
 * counts on its own: with N processes behind a balancer the effective limit is up to N× (noted
 * in docs/ingest.md).
 */
export interface QuotaRule {
  scope: 'key' | 'project';
  id: string;
  /** Events allowed per window; 0 or null = unlimited. */
  limit: number | null | undefined;
}

export interface QuotaDenial {
  scope: 'key' | 'project';
  retryAfterSeconds: number;
}

interface Window {
  start: number;
  used: number;
}

export class Quotas {
  private readonly windows = new Map<string, Window>();
  private sweepAt = 0;

  constructor(
    public windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Take `n` events from every rule's allowance, all or nothing: when any rule would go over, nothing
   * is taken and the denial names the scope with the longest wait.
   */
  take(rules: QuotaRule[], n: number): QuotaDenial | undefined {
    const now = this.now();
    this.sweep(now);
    const active = rules.filter((r) => r.limit !== null && r.limit !== undefined && r.limit > 0);
    let denial: QuotaDenial | undefined;
    const wins: Window[] = [];
    for (const r of active) {
      const k = `${r.scope}:${r.id}`;
      let w = this.windows.get(k);
      if (!w || now - w.start >= this.windowMs) {
        w = { start: now, used: 0 };
        this.windows.set(k, w);
      }
      wins.push(w);
      if (w.used + n > r.limit!) {
        const retryAfterSeconds = Math.max(1, Math.ceil((w.start + this.windowMs - now) / 1000));
        if (!denial || retryAfterSeconds > denial.retryAfterSeconds)
          denial = { scope: r.scope, retryAfterSeconds };
      }
    }
    if (denial) return denial;
    for (const w of wins) w.used += n;
    return undefined;
  }

  /** Drop expired windows now and then so idle keys do not accumulate. */
  private sweep(now: number): void {
    if (now < this.sweepAt) return;
    this.sweepAt = now + Math.max(this.windowMs, 10_000);
    for (const [k, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(k);
  }
}

/** Sentry's `X-Sentry-Rate-Limits` value: `retry_after:categories:scope:reason_code`. */
export function sentryRateLimitHeader(d: QuotaDenial): string {
  return `${d.retryAfterSeconds}:error;default;security;transaction:${d.scope}:rate_limited`;
}
