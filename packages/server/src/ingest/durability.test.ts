import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { InternalEvent } from '../events/schema.js';
import { createBus } from '../platform/bus/index.js';
import { topicNames } from '../platform/bus/types.js';
import { Db } from '../platform/db/db.js';
import { createLogger } from '../platform/logger.js';
import { createTestDatabase, requirePg, spawnBeacon, testConfig, waitFor } from '../test-support/index.js';
import { createProject, sentryAuth } from './test-helpers.js';

describe.runIf(requirePg())('ingest durability', () => {
  it('keeps every event that got a 200 when the server is SIGKILLed mid-traffic', async () => {
    const db = await createTestDatabase();
    const env = { DATABASE_URL: db.url, BEACON_ROLES: 'ingest,api' };
    let proc = spawnBeacon(['start'], env);
    const reader = new Db(db.url, 2);
    try {
      let url = await proc.ready();
      const p = await createProject(url, 'durable');
      const acked: string[] = [];
      let stop = false;
      const sender = async () => {
        while (!stop) {
          const id = randomUUID().replaceAll('-', '');
          const payload = JSON.stringify({ event_id: id, message: 'durable', level: 'error' });
          try {
            const res = await fetch(`${url}/api/${p.projectId}/envelope/`, {
              method: 'POST',
              headers: { 'x-sentry-auth': sentryAuth(p.publicKey) },
              body: `{"event_id":"${id}"}\n{"type":"event"}\n${payload}\n`,
            });
            if (res.status === 200) acked.push(((await res.json()) as { id: string }).id);
          } catch {
            // connection reset by the kill: not acknowledged, so no promise was made
          }
        }
      };
      const senders = Array.from({ length: 8 }, sender);
      await waitFor(() => acked.length >= 60, { what: '60 acknowledged events' });
      proc.child.kill('SIGKILL');
      await proc.exited;
      stop = true;
      await Promise.all(senders);
      const ackedBeforeKill = [...acked];

      proc = spawnBeacon(['start'], env);
      url = await proc.ready();
      const config = testConfig({ DATABASE_URL: db.url });
      const bus = await createBus(config, reader, createLogger('silent'));
      const seen = new Set<string>();
      const consumer = await bus.consume({
        topic: topicNames(config.bus.topicPrefix).events,
        group: 'durability-check',
        handler: async (batch) => {
          for (const m of batch) seen.add((JSON.parse(m.value.toString()) as InternalEvent).eventId);
        },
      });
      try {
        await waitFor(() => ackedBeforeKill.every((id) => seen.has(id)), {
          what: `all ${ackedBeforeKill.length} acknowledged events on the bus`,
        });
        expect(ackedBeforeKill.filter((id) => !seen.has(id))).toEqual([]);
        // And the restarted server takes events again.
        const res = await fetch(`${url}/api/${p.projectId}/envelope/`, {
          method: 'POST',
          headers: { 'x-sentry-auth': sentryAuth(p.publicKey) },
          body: '{}\n{"type":"event"}\n{"message":"after restart"}\n',
        });
        expect(res.status).toBe(200);
        const { id } = (await res.json()) as { id: string };
        await waitFor(() => seen.has(id), { what: 'the post-restart event' });
      } finally {
        await consumer.stop();
        await bus.close();
      }
    } finally {
      proc.child.kill('SIGKILL');
      await proc.exited;
      await reader.close();
      await db.drop();
    }
  }, 120_000);
});
