import type { Domain } from '../domain.js';
import { OutboxRelay } from './outbox.js';
import { registerUptimeRoutes } from './routes.js';
import { UptimeScheduler } from './scheduler.js';
import { WindowsWorker } from './windows.js';

export { aggregateWindows, pruneUptime } from './windows.js';

/**
 * Uptime monitoring: the control plane (services, endpoints, incidents, maintenance, webhooks)
 * on the API role; the check scheduler, the monitor-event relay and the window aggregation on
 * the `uptime` role. Any number of `uptime` processes share the work through the database.
 */
export const uptimeDomain: Domain = {
  name: 'uptime',
  routes: [{ role: 'api', register: registerUptimeRoutes }],
  workers: [
    {
      role: 'uptime',
      create: (ctx) =>
        new UptimeScheduler({
          db: ctx.db,
          log: ctx.log.child({ component: 'uptime' }),
          metrics: ctx.metrics,
          monitorTopic: ctx.topics.monitorEvents,
          concurrency: ctx.config.uptime.workerConcurrency,
        }),
    },
    {
      role: 'uptime',
      create: (ctx) => new OutboxRelay(ctx.db, ctx.bus, ctx.log.child({ component: 'uptime-outbox' })),
    },
    {
      role: 'uptime',
      create: (ctx) =>
        new WindowsWorker(ctx.db, ctx.log.child({ component: 'uptime-windows' }), {
          pingDays: ctx.config.uptime.pingRetentionDays,
          windowDays: ctx.config.uptime.windowRetentionDays,
        }),
    },
  ],
};
