import { randomBytes } from 'node:crypto';
import type { AppContext, Worker } from '../context.js';
import { issueUpdateSchema, monitorEventSchema } from '../events/updates.js';
import type { ConsumedMessage, Consumer } from '../platform/bus/types.js';
import { hubFor } from './hub.js';
import { serviceOrgId } from './store.js';

/** Messages older than this at start are history a fresh consumer group may replay: not live. */
const REPLAY_GRACE_MS = 10_000;
const RETRY_MS = 5_000;

/**
 * Consumes `issue-updates` and `monitor-events` with a consumer group unique to this process, so
 * every API process sees every message and fans it out to its own sockets. Delivery to browsers
 * is best-effort (a socket that reconnects refetches over HTTP), so the handler never throws.
 */
export function createLiveWorker(ctx: AppContext): Worker {
  const group = `live-${randomBytes(6).toString('hex')}`;
  const log = ctx.log.child({ component: 'live', group });
  const hub = hubFor(ctx);
  const consumers: Consumer[] = [];
  let startedAt = 0;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;

  const fresh = (m: ConsumedMessage) => m.timestamp.getTime() >= startedAt - REPLAY_GRACE_MS;
  const parse = <T>(
    schema: { safeParse(v: unknown): { success: boolean; data?: T } },
    m: ConsumedMessage,
  ) => {
    try {
      const r = schema.safeParse(JSON.parse(m.value.toString('utf8')));
      return r.success ? r.data : undefined;
    } catch {
      return undefined;
    }
  };

  const subscribe = async (): Promise<void> => {
    const pending: Array<[string, (batch: ConsumedMessage[]) => Promise<void>]> = [
      [
        ctx.topics.issueUpdates,
        async (batch) => {
          for (const m of batch) {
            if (!fresh(m)) continue;
            const u = parse(issueUpdateSchema, m);
            if (u) hub.publishIssue(u);
          }
        },
      ],
      [
        ctx.topics.monitorEvents,
        async (batch) => {
          for (const m of batch) {
            if (!fresh(m)) continue;
            const e = parse(monitorEventSchema, m);
            if (!e) continue;
            const orgId =
              e.projectId === null
                ? await serviceOrgId(ctx.db, e.service.id).catch(() => undefined)
                : undefined;
            hub.publishMonitor(e, orgId);
          }
        },
      ],
    ];
    for (const [topic, handler] of pending.slice(consumers.length)) {
      consumers.push(
        await ctx.bus.consume({ topic, group, maxBatch: 200, handler, startAt: 'latest', ephemeral: true }),
      );
    }
  };

  const attempt = async (): Promise<void> => {
    if (stopped) return;
    try {
      await subscribe();
      log.debug('live fan-out subscribed');
    } catch (err) {
      // The API still works without live updates; keep trying rather than failing the process.
      log.warn({ err: (err as Error).message }, 'live fan-out cannot subscribe to the bus yet; retrying');
      retry = setTimeout(() => void attempt(), RETRY_MS);
      retry.unref();
    }
  };

  return {
    name: 'live',
    async start() {
      startedAt = Date.now();
      await attempt();
    },
    async stop() {
      stopped = true;
      clearTimeout(retry);
      await Promise.all(consumers.map((c) => c.stop().catch(() => {})));
      for (const c of hub.clients) c.close(1001, 'server shutting down');
      hub.clients.clear();
    },
  };
}
