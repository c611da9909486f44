import type { AppContext, Worker } from '../context.js';
import { issueUpdateSchema } from '../events/updates.js';
import type { Consumer } from '../platform/bus/types.js';
import { buildPrompt, builtInSummary } from './analysis.js';
import { parseAnswer } from './answer.js';
import { type InsightProvider, ProviderError, providerFromConfig } from './providers.js';
import { claimDue, complete, enqueue, fail, type InsightRow, loadContext, retryLater } from './store.js';

export interface InsightsWorkerOptions {
  provider?: InsightProvider;
  /** Jobs analysed at once by this worker (a local model is usually busy with one). */
  concurrency?: number;
  maxAttempts?: number;
  /** Delay before attempt n+1, in seconds. Default base × 4^(n-1) (INSIGHTS_RETRY_BASE_SECONDS, 5 s), at most 10 min, ±20% jitter. */
  backoffSeconds?: (attempt: number) => number;
  timeoutMs?: number;
  pollMs?: number;
}

const SERIOUS = new Set(['error', 'fatal']);

const backoff = (baseSeconds: number) => (attempt: number) => {
  const base = Math.min(600, baseSeconds * 4 ** Math.max(0, attempt - 1));
  return base * (0.8 + Math.random() * 0.4);
};

/**
 * Consumes issue updates and, for new or regressed issues at level error or above, runs one
 * analysis per issue from a durable job row. Analyses run beside the issues pipeline, never in
 * it: a slow or broken provider delays insights, not grouping.
 */
export class InsightsWorker implements Worker {
  readonly name = 'insights';
  private consumer?: Consumer;
  private stopped = false;
  /** Aborted on stop: a hanging provider call must not hold up shutdown. */
  private readonly shutdown = new AbortController();
  private wake?: () => void;
  private loops: Promise<void>[] = [];
  private readonly provider?: InsightProvider;
  private readonly opts: Required<Omit<InsightsWorkerOptions, 'provider'>>;

  constructor(
    private readonly ctx: AppContext,
    options: InsightsWorkerOptions = {},
  ) {
    this.provider = 'provider' in options ? options.provider : providerFromConfig(ctx.config.insights);
    this.opts = {
      concurrency: options.concurrency ?? 1,
      maxAttempts: options.maxAttempts ?? ctx.config.insights.maxAttempts,
      backoffSeconds: options.backoffSeconds ?? backoff(ctx.config.insights.retryBaseSeconds),
      timeoutMs: options.timeoutMs ?? ctx.config.insights.timeoutMs,
      pollMs: options.pollMs ?? 2_000,
    };
  }

  async start(): Promise<void> {
    const log = this.ctx.log.child({ component: 'insights' });
    const jobs = this.ctx.metrics.counter('beacon_insight_jobs_total', 'Insight analyses by outcome', [
      'outcome',
    ]);
    this.consumer = await this.ctx.bus.consume({
      topic: this.ctx.topics.issueUpdates,
      group: 'insights',
      maxBatch: 200,
      handler: async (batch) => {
        let queued = 0;
        for (const m of batch) {
          let value: unknown;
          try {
            value = JSON.parse(m.value.toString('utf8'));
          } catch {
            value = undefined;
          }
          const parsed = issueUpdateSchema.safeParse(value);
          if (!parsed.success) {
            log.warn({ offset: m.offset }, 'skipping an unreadable issue update');
            continue;
          }
          const u = parsed.data;
          if (u.type === 'occurrence' || !SERIOUS.has(u.issue.level)) continue;
          if (
            await enqueue(this.ctx.db, {
              issueId: u.issue.id,
              projectId: u.projectId,
              reason: u.type,
              updateId: u.updateId,
              issueCount: u.issue.count,
            })
          )
            queued += 1;
        }
        if (queued > 0) {
          jobs.inc({ outcome: 'queued' }, queued);
          this.wake?.();
        }
      },
    });
    for (let i = 0; i < this.opts.concurrency; i++) this.loops.push(this.loop());
    log.info(
      { provider: this.provider ? `${this.provider.name}:${this.provider.model}` : 'built-in only' },
      'insights worker started',
    );
  }

  private async loop(): Promise<void> {
    const log = this.ctx.log.child({ component: 'insights' });
    while (!this.stopped) {
      let job: InsightRow | undefined;
      try {
        job = (await claimDue(this.ctx.db, 1, Math.ceil(this.opts.timeoutMs / 1000) * 3 + 30))[0];
        if (job) await this.run(job);
      } catch (err) {
        log.error({ err, issueId: job?.issue_id }, 'insight job failed unexpectedly');
        // Capped like provider errors: a job that keeps failing here must not retry forever.
        if (job && job.attempts >= this.opts.maxAttempts)
          await fail(this.ctx.db, job.issue_id, 'internal error', null).catch(() => {});
        else if (job) await retryLater(this.ctx.db, job.issue_id, 'internal error', 30).catch(() => {});
      }
      if (!job && !this.stopped)
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.opts.pollMs);
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
    }
  }

  /** One analysis: always the built-in summary; the model's answer when a provider is set. */
  async run(job: InsightRow): Promise<void> {
    const outcome = this.ctx.metrics.counter('beacon_insight_jobs_total', 'Insight analyses by outcome', [
      'outcome',
    ]);
    const context = await loadContext(this.ctx.db, job.issue_id);
    if (!context) {
      await fail(this.ctx.db, job.issue_id, 'issue no longer exists', null);
      return;
    }
    const builtin = builtInSummary(context);
    const coveredCount = context.issue.count;
    if (!this.provider) {
      await complete(this.ctx.db, job.issue_id, { kind: 'builtin', content: { builtin }, coveredCount });
      outcome.inc({ outcome: 'builtin' });
      return;
    }
    const messages = buildPrompt(context);
    try {
      const first = await this.provider.chat(messages, {
        timeoutMs: this.opts.timeoutMs,
        signal: this.shutdown.signal,
      });
      let answer = parseAnswer(first);
      let text = first;
      if (!answer) {
        // One retry that insists on the format; then keep whatever text came back.
        text = await this.provider.chat(
          [
            ...messages,
            { role: 'assistant', content: first.slice(0, 4000) },
            {
              role: 'user',
              content:
                'Reply again with ONLY the JSON object with keys probableCause, whereToLook, suggestedFix, confidence.',
            },
          ],
          { timeoutMs: this.opts.timeoutMs, signal: this.shutdown.signal },
        );
        answer = parseAnswer(text);
      }
      const meta = { provider: this.provider.name, model: this.provider.model };
      if (answer) {
        await complete(this.ctx.db, job.issue_id, {
          kind: 'ai',
          ...meta,
          content: { answer, builtin },
          coveredCount,
        });
        outcome.inc({ outcome: 'ai' });
      } else {
        await complete(this.ctx.db, job.issue_id, {
          kind: 'text',
          ...meta,
          content: { text: text.slice(0, 8000), builtin },
          coveredCount,
        });
        outcome.inc({ outcome: 'text' });
      }
    } catch (err) {
      const retryable = err instanceof ProviderError ? err.retryable : true;
      const message = err instanceof Error ? err.message : String(err);
      if (this.shutdown.signal.aborted) {
        // Interrupted by shutdown: hand the job back at once, for this or another worker.
        await retryLater(this.ctx.db, job.issue_id, 'interrupted by shutdown', 0);
      } else if (retryable && job.attempts < this.opts.maxAttempts) {
        await retryLater(this.ctx.db, job.issue_id, message, this.opts.backoffSeconds(job.attempts));
        outcome.inc({ outcome: 'retry' });
      } else {
        await fail(this.ctx.db, job.issue_id, message, { builtin }, coveredCount);
        outcome.inc({ outcome: 'failed' });
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.shutdown.abort();
    await this.consumer?.stop();
    this.wake?.();
    await Promise.all(this.loops);
  }
}
