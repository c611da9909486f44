import type { AppContext } from '../context.js';
import { AppError } from '../platform/errors.js';

/**
 * Brute-force limits for signin, signup and refresh: fixed windows counted in memory, per
 * process (a multi-process install multiplies the allowance by the number of API processes).
 */
export const limits = {
  /** Failed signins per account (email) and per client IP. */
  signinAccount: { max: 10, windowMs: 15 * 60_000 },
  signinIp: { max: 50, windowMs: 15 * 60_000 },
  /** Signup attempts per client IP and per email. */
  signupIp: { max: 30, windowMs: 60 * 60_000 },
  signupAccount: { max: 5, windowMs: 60 * 60_000 },
  /** Refresh attempts per client IP (all) and per account (successful rotations). */
  refreshIp: { max: 120, windowMs: 60_000 },
  refreshFailIp: { max: 30, windowMs: 15 * 60_000 },
  refreshAccount: { max: 60, windowMs: 60_000 },
} as const;
export type LimitName = keyof typeof limits;

type Window = { count: number; resetAt: number };

export class Limiter {
  private readonly windows = new Map<string, Window>();

  private window(name: LimitName, key: string, now: number): Window {
    const id = `${name}:${key}`;
    let w = this.windows.get(id);
    if (!w || w.resetAt <= now) {
      if (this.windows.size > 100_000) this.sweep(now);
      w = { count: 0, resetAt: now + limits[name].windowMs };
      this.windows.set(id, w);
    }
    return w;
  }

  private sweep(now: number): void {
    for (const [k, w] of this.windows) if (w.resetAt <= now) this.windows.delete(k);
    if (this.windows.size > 100_000) this.windows.clear();
  }

  /** Throws 429 with Retry-After when the window is already full. */
  check(name: LimitName, key: string): void {
    const now = Date.now();
    const w = this.window(name, key, now);
    if (w.count >= limits[name].max) {
      const retryAfter = Math.max(1, Math.ceil((w.resetAt - now) / 1000));
      throw new AppError('rate_limited', `too many attempts; retry in ${retryAfter} s`, {
        headers: { 'retry-after': String(retryAfter) },
      });
    }
  }

  record(name: LimitName, key: string): void {
    this.window(name, key, Date.now()).count += 1;
  }

  /** check, then count this attempt. */
  take(name: LimitName, key: string): void {
    this.check(name, key);
    this.record(name, key);
  }

  reset(name: LimitName, key: string): void {
    this.windows.delete(`${name}:${key}`);
  }
}

const limiters = new WeakMap<AppContext, Limiter>();

export function limiterOf(ctx: AppContext): Limiter {
  let l = limiters.get(ctx);
  if (!l) {
    l = new Limiter();
    limiters.set(ctx, l);
  }
  return l;
}
