import { Gauge } from 'prom-client';
import type { AppContext, Worker } from '../context.js';
import { issueUpdateSchema, monitorEventSchema } from '../events/updates.js';
import type { ConsumedMessage, Consumer } from '../platform/bus/types.js';
import { Channels } from './channels.js';
import { Deliverer, type DeliveryOptions, defaultDeliveryOptions } from './delivery.js';
import { AlertEngine } from './engine.js';
import * as store from './store.js';
import { buildBlockList, defaultTargetPolicy, type TargetPolicy } from './targets.js';

export interface AlertsWorkerOptions extends Partial<DeliveryOptions> {
  /** Consume issue updates and monitor events (default true). */
  evaluate?: boolean;
  /** Run the delivery loop (default true). */
  deliver?: boolean;
  /** Consumer group on the bus. */
  group?: string;
  /** Per-request timeout of webhook and Slack deliveries. */
  timeoutMs?: number;
  /** Bytes of a receiver's answer read at most. */
  maxResponseBytes?: number;
  targetPolicy?: TargetPolicy;
  /** How often old window counts and processed-message markers are swept. */
  sweepIntervalMs?: number;
}

/** Settings from `config.alerts` (ALERTS_* environment variables, see docs/alerts.md). */
export function optionsFromConfig(ctx: AppContext): AlertsWorkerOptions {
  const a = ctx.config.alerts;
  return {
    maxAttempts: a.maxAttempts,
    retryBaseMs: a.retryBaseMs,
    retryMaxMs: a.retryMaxMs,
    concurrency: a.concurrency,
    timeoutMs: a.timeoutMs,
    maxResponseBytes: a.maxResponseBytes,
    targetPolicy: a.targetPolicy,
  };
}

/**
 * The `alerts` role: evaluates rules from `beacon.issue-updates` and `beacon.monitor-events`
 * and delivers notifications from the database queue.
 */
export class AlertsWorker implements Worker {
  readonly name = 'alerts';
  readonly engine: AlertEngine;
  readonly channels: Channels;
  readonly deliverer: Deliverer;
  private consumers: Consumer[] = [];
  private sweepTimer?: NodeJS.Timeout;
  private readonly opts: AlertsWorkerOptions & DeliveryOptions;

  constructor(
    private readonly ctx: AppContext,
    options: AlertsWorkerOptions = {},
  ) {
    const timeoutMs = options.timeoutMs ?? 10_000;
    this.opts = {
      ...defaultDeliveryOptions,
      leaseMs: Math.max(defaultDeliveryOptions.leaseMs, timeoutMs * 3),
      ...options,
    };
    const m = ctx.metrics;
    const fired = m.counter('beacon_alerts_evaluations_total', 'Alert rule firings by outcome', [
      'trigger',
      'outcome',
    ]);
    const delivered = m.counter('beacon_alerts_deliveries_total', 'Notification attempts by result', [
      'channel',
      'result',
    ]);
    if (!m.registry.getSingleMetric('beacon_alerts_deliveries_queued')) {
      // Read at scrape time: the queue is shared by every alert worker, so any one can report it.
      new Gauge({
        name: 'beacon_alerts_deliveries_queued',
        help: 'Deliveries in the queue by state (pending, delivering, dead)',
        labelNames: ['state'],
        registers: [m.registry],
        async collect() {
          const rows = await ctx.db
            .query<{ state: string; n: number }>(
              `SELECT state, count(*)::int AS n FROM alert_deliveries
               WHERE state IN ('pending', 'delivering', 'dead') GROUP BY state`,
            )
            .catch(() => []);
          this.reset();
          for (const st of ['pending', 'delivering', 'dead'])
            this.set({ state: st }, rows.find((r) => r.state === st)?.n ?? 0);
        },
      });
    }
    this.engine = new AlertEngine(ctx.db, {
      publicUrl: ctx.config.publicUrl,
      onOutcome: (trigger, outcome) => fired.inc({ trigger, outcome }),
    });
    this.channels = new Channels({
      blockList: buildBlockList(options.targetPolicy ?? defaultTargetPolicy),
      timeoutMs,
      maxResponseBytes: options.maxResponseBytes ?? 64 * 1024,
      smtp: ctx.config.smtp,
    });
    this.deliverer = new Deliverer(
      ctx.db,
      this.channels,
      this.opts,
      ctx.log.child({ component: 'alerts-delivery' }),
      {
        onResult: (channel, result) => delivered.inc({ channel, result }),
        onDead: async (row) => {
          await ctx.bus.publish(ctx.topics.alertsDlq, [
            {
              key: String(row.project_id ?? 0),
              value: Buffer.from(
                JSON.stringify({
                  deliveryId: row.id,
                  projectId: row.project_id,
                  alertId: row.alert_id,
                  ruleId: row.rule_id,
                  kind: row.kind,
                  channel: row.channel,
                  attempts: row.attempts,
                  lastStatus: row.last_status,
                  lastError: row.last_error,
                  title: row.payload.title,
                  deadAt: row.dead_at?.toISOString() ?? new Date().toISOString(),
                }),
              ),
            },
          ]);
        },
      },
    );
  }

  async start(): Promise<void> {
    const log = this.ctx.log.child({ component: 'alerts' });
    if (this.opts.evaluate !== false) {
      const group = this.opts.group ?? 'alerts';
      this.consumers.push(
        await this.ctx.bus.consume({
          topic: this.ctx.topics.issueUpdates,
          group,
          maxBatch: 100,
          handler: async (batch) => {
            const updates = batch.map((m) => parse(m, issueUpdateSchema, log)).filter((u) => u !== undefined);
            if (updates.length > 0) await this.engine.handleIssueUpdates(updates);
          },
        }),
      );
      this.consumers.push(
        await this.ctx.bus.consume({
          topic: this.ctx.topics.monitorEvents,
          group,
          maxBatch: 50,
          handler: async (batch) => {
            for (const msg of batch) {
              const e = parse(msg, monitorEventSchema, log);
              if (e) await this.engine.handleMonitorEvent(e);
            }
          },
        }),
      );
    }
    if (this.opts.deliver !== false) await this.deliverer.start();
    const every = this.opts.sweepIntervalMs ?? 10 * 60_000;
    this.sweepTimer = setInterval(() => {
      const now = Date.now();
      // Windows never span more than 7 days (schema limit); processed markers outlive bus retention.
      const keepProcessedMs = Math.max(2 * 24, this.ctx.config.bus.retentionHours * 2) * 3_600_000;
      store
        .sweep(this.ctx.db, new Date(now - 8 * 24 * 3_600_000), new Date(now - keepProcessedMs))
        .catch((err) => log.warn({ err }, 'alerts sweep failed'));
    }, every);
    this.sweepTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.sweepTimer);
    await Promise.allSettled(this.consumers.map((c) => c.stop()));
    this.consumers = [];
    await this.deliverer.stop();
    await this.channels.close();
  }
}

function parse<T>(
  msg: ConsumedMessage,
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } },
  log: AppContext['log'],
): T | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(msg.value.toString('utf8'));
  } catch {
    raw = undefined;
  }
  const res = schema.safeParse(raw);
  if (res.success) return res.data;
  // A malformed message can never succeed: skip it rather than block the partition forever.
  log.warn({ topic: msg.topic, partition: msg.partition, offset: msg.offset }, 'skipping malformed message');
  return undefined;
}
