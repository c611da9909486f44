import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Worker } from '../context.js';
import type { Db } from '../platform/db/db.js';
import type { Logger } from '../platform/logger.js';
import type { Metrics } from '../platform/metrics.js';
import { Checker, type CheckResult, type CheckSpec } from './checker.js';
import { type CheckOutcome, type RecordSummary, recordOutcomes, releaseLeases } from './recorder.js';

export interface SchedulerOptions {
  db: Db;
  log: Logger;
  monitorTopic: string;
  metrics?: Metrics;
  /** Most checks this worker runs (or holds claimed) at once. */
  concurrency: number;
  workerId?: string;
  /** Most rows one claim takes. */
  batchSize?: number;
  /**
   * Claim slots due this far ahead and start each on a timer at its due time: a database that
   * stalls for less than this delays no check.
   */
  lookaheadMs?: number;
  /** Pause between claims when nothing more is due. */
  pollMs?: number;
  /** Lease = time until due + the endpoint's timeout + this margin. */
  leaseMarginMs?: number;
  /** Finished checks are recorded in batches at most this old. */
  flushMs?: number;
  /** Injectable clock (tests); defaults to Date.now. */
  now?: () => number;
  checker?: Checker;
  /** Called after each recorded batch (tests, metrics). */
  onRecorded?: (s: RecordSummary) => void;
}

interface Claimed {
  endpointId: number;
  slot: number;
  spec: CheckSpec;
}

/**
 * A stateless check worker with the schedule in PostgreSQL. Each loop claims due endpoints
 * (`FOR UPDATE SKIP LOCKED`, so workers never take the same row) by writing a lease; a slot due
 * within the lookahead is started on a local timer at its due time, which keeps lateness to
 * timer precision without polling fast. Results are recorded in small batches that also set the
 * next due time from the schedule and release the lease. A worker that dies leaves leases that
 * expire; any worker then takes the slot over, and the ping's uniqueness on (endpoint, slot)
 * makes the takeover unable to double it.
 */
export class UptimeScheduler implements Worker {
  readonly name = 'uptime-scheduler';
  readonly workerId: string;
  private readonly o: Required<Omit<SchedulerOptions, 'metrics' | 'checker' | 'onRecorded' | 'workerId'>> &
    SchedulerOptions;
  private readonly checker: Checker;
  private readonly ownChecker: boolean;
  private running = false;
  private loopDone?: Promise<void>;
  private wakeUp?: () => void;
  /** Claimed and not yet finished (waiting for their due time, queued or running). */
  private inflight = 0;
  /** Checks running now (at most `concurrency`). */
  private active = 0;
  private readonly waiting = new Map<number, NodeJS.Timeout>();
  /** Due, but every concurrency slot is busy: started as soon as one frees. */
  private readonly ready: Claimed[] = [];
  private readonly running_ = new Set<Promise<void>>();
  private buffer: CheckOutcome[] = [];
  private draining?: Promise<void>;
  private readonly checks?: import('prom-client').Counter<'status'>;
  private readonly lateness?: import('prom-client').Histogram;

  constructor(opts: SchedulerOptions) {
    this.o = {
      batchSize: 100,
      lookaheadMs: 3_000,
      pollMs: 500,
      leaseMarginMs: 2_000,
      flushMs: 200,
      now: Date.now,
      ...opts,
    };
    this.workerId = opts.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.checker = opts.checker ?? new Checker();
    this.ownChecker = !opts.checker;
    this.checks = opts.metrics?.counter('beacon_uptime_checks_total', 'Uptime checks run, by result', [
      'status',
    ]);
    this.lateness = opts.metrics?.histogram(
      'beacon_uptime_check_lateness_seconds',
      'How long after its due time a check started',
      [],
      [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    );
  }

  async start(): Promise<void> {
    this.running = true;
    this.loopDone = this.loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wakeUp?.();
    await this.loopDone;
    // Claimed but not started: give the slots back at once rather than letting leases expire.
    const unstarted = [...this.waiting.keys(), ...this.ready.map((c) => c.endpointId)];
    for (const t of this.waiting.values()) clearTimeout(t);
    this.waiting.clear();
    this.ready.length = 0;
    await releaseLeases(this.o.db, this.workerId, unstarted).catch(() => {});
    await Promise.allSettled([...this.running_]);
    await this.flush();
    if (this.ownChecker) await this.checker.close();
  }

  /**
   * Run every slot due at `now()` to completion and record it (tests with an injected clock; no
   * lookahead, no timers). Returns how many checks ran.
   */
  async runDue(): Promise<number> {
    let total = 0;
    for (;;) {
      const claimed = await this.claim(this.o.batchSize, 0);
      if (claimed.length === 0) return total;
      const outcomes = await Promise.all(claimed.map((c) => this.execute(c)));
      await this.record(outcomes);
      total += claimed.length;
    }
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (this.running) {
      let full = false;
      // Claimed slots wait on timers; the cap on running checks applies when they start. A
      // saturated worker (due checks queued behind the cap) claims nothing more, so the other
      // workers take the excess: capacity grows with every worker added.
      const free = this.ready.length > 0 ? 0 : 10 * this.o.concurrency - this.inflight;
      if (free > 0) {
        try {
          const want = Math.min(this.o.batchSize, free);
          const t0 = Date.now();
          const claimed = await this.claim(want, this.o.lookaheadMs);
          const took = Date.now() - t0;
          if (took > this.o.lookaheadMs / 2)
            this.o.log.warn({ ms: took }, 'slow uptime claim: checks may start late');
          for (const c of claimed) this.schedule(c);
          full = claimed.length === want;
          failures = 0;
        } catch (err) {
          if (failures++ % 20 === 0) this.o.log.warn({ err, failures }, 'uptime claim failed; retrying');
        }
      }
      if (!full && this.running)
        await this.sleep(failures ? Math.min(5_000, this.o.pollMs * 2 ** failures) : this.o.pollMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wakeUp = done;
    });
  }

  private async claim(limit: number, lookaheadMs: number): Promise<Claimed[]> {
    const now = this.o.now();
    const rows = await this.o.db.query(
      `WITH due AS (
         SELECT id FROM uptime_endpoints
          WHERE enabled AND next_due_at <= $2 AND (lease_until IS NULL OR lease_until < $1)
          ORDER BY next_due_at LIMIT $3 FOR UPDATE SKIP LOCKED)
       UPDATE uptime_endpoints e SET lease_owner = $4,
              lease_until = greatest(e.next_due_at, $1) + (e.timeout_ms + $5) * interval '1 millisecond'
         FROM due WHERE e.id = due.id
       RETURNING e.id, e.next_due_at, e.url, e.method, e.headers, e.body, e.timeout_ms, e.expected_status, e.keyword,
                 e.degraded_after_ms`,
      [new Date(now), new Date(now + lookaheadMs), limit, this.workerId, this.o.leaseMarginMs],
    );
    return rows.map((r) => ({
      endpointId: r.id as number,
      slot: (r.next_due_at as Date).getTime(),
      spec: {
        url: r.url as string,
        method: r.method as string,
        headers: (r.headers as Record<string, string>) ?? {},
        body: (r.body as string | null) ?? null,
        timeoutMs: r.timeout_ms as number,
        expectedStatus: (r.expected_status as number[] | null) ?? null,
        keyword: (r.keyword as string | null) ?? null,
        degradedAfterMs: (r.degraded_after_ms as number | null) ?? null,
      },
    }));
  }

  private schedule(c: Claimed): void {
    this.inflight++;
    const delay = c.slot - this.o.now();
    if (delay <= 0) this.begin(c);
    else
      this.waiting.set(
        c.endpointId,
        setTimeout(() => {
          this.waiting.delete(c.endpointId);
          this.begin(c);
        }, delay),
      );
  }

  private begin(c: Claimed): void {
    if (this.active >= this.o.concurrency) {
      this.ready.push(c);
      return;
    }
    this.active++;
    const p = this.execute(c)
      .then((outcome) => this.enqueue(outcome))
      .finally(() => {
        this.active--;
        this.inflight--;
        this.running_.delete(p);
        const next = this.running ? this.ready.shift() : undefined;
        if (next) this.begin(next);
      });
    this.running_.add(p);
  }

  private async execute(c: Claimed): Promise<CheckOutcome> {
    const startedAt = this.o.now();
    let result: CheckResult;
    try {
      result = await this.checker.check(c.spec);
    } catch (err) {
      result = {
        ok: false,
        status: 'down',
        httpStatus: null,
        errorKind: 'network',
        error: (err as Error).message,
        startedAt,
        latencyMs: 0,
        ttfbMs: null,
        dnsMs: null,
        connectMs: null,
        tlsMs: null,
        certExpiresAt: null,
        redirects: 0,
      };
    }
    result.startedAt = startedAt;
    this.checks?.inc({ status: result.status });
    this.lateness?.observe(Math.max(0, startedAt - c.slot) / 1000);
    return { endpointId: c.endpointId, slot: c.slot, result };
  }

  /**
   * Results are recorded by one drain loop: while a batch is being written, the next results
   * accumulate and go together in the following transaction, so the batch size follows the load.
   */
  private enqueue(o: CheckOutcome): void {
    this.buffer.push(o);
    this.draining ??= (async () => {
      await new Promise((r) => setTimeout(r, this.o.flushMs));
      while (this.buffer.length > 0) await this.record(this.buffer.splice(0, 500));
      this.draining = undefined;
    })();
  }

  private async flush(): Promise<void> {
    await this.draining;
    while (this.buffer.length > 0) await this.record(this.buffer.splice(0, 500));
  }

  private async record(batch: CheckOutcome[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const s = await recordOutcomes(
          { db: this.o.db, monitorTopic: this.o.monitorTopic },
          this.workerId,
          batch,
          this.o.now(),
        );
        this.o.onRecorded?.(s);
        return;
      } catch (err) {
        if (attempt >= 3) {
          // The leases expire and another claim re-runs these slots.
          this.o.log.error(
            { err, checks: batch.length },
            'recording uptime checks failed; slots will be retried',
          );
          return;
        }
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
  }
}
