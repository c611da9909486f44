import { randomBytes } from 'node:crypto';
import type { AppContext } from '../context.js';
import type { InternalEvent } from '../events/schema.js';
import type { ConsumedMessage } from '../platform/bus/types.js';

/** Shared by the ingest suites: a project through the HTTP API, and a fresh-group reader of the events topic. */
export interface TestProject {
  token: string;
  projectId: number;
  publicKey: string;
  secretKey: string;
  keyId: number;
}

async function post(url: string, body: unknown, token?: string): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${url}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

export async function createProject(baseUrl: string, name = 'app'): Promise<TestProject> {
  const email = `ingest-${randomBytes(4).toString('hex')}@example.com`;
  const { accessToken } = (await post(`${baseUrl}/api/v1/auth/signup`, {
    email,
    password: 'correct horse battery',
    name: 'Ingest Tester',
  })) as { accessToken: string };
  const p = (await post(`${baseUrl}/api/v1/projects`, { name }, accessToken)) as {
    id: number;
    keys: Array<{ id: number; publicKey: string; secretKey: string }>;
  };
  const k = p.keys[0]!;
  return { token: accessToken, projectId: p.id, publicKey: k.publicKey, secretKey: k.secretKey, keyId: k.id };
}

export async function createKey(
  baseUrl: string,
  project: TestProject,
  body: Record<string, unknown>,
): Promise<{ id: number; publicKey: string; secretKey: string }> {
  return (await post(`${baseUrl}/api/v1/projects/${project.projectId}/keys`, body, project.token)) as {
    id: number;
    publicKey: string;
    secretKey: string;
  };
}

/** Read `beacon.events` from the beginning with a fresh consumer group. */
export async function readEvents(ctx: Pick<AppContext, 'bus' | 'topics'>) {
  const events: InternalEvent[] = [];
  const raw: ConsumedMessage[] = [];
  const consumer = await ctx.bus.consume({
    topic: ctx.topics.events,
    group: `ingest-test-${randomBytes(4).toString('hex')}`,
    maxBatch: 500,
    handler: async (batch) => {
      raw.push(...batch);
      for (const m of batch) events.push(JSON.parse(m.value.toString()) as InternalEvent);
    },
  });
  return { events, raw, stop: () => consumer.stop() };
}

export const sentryAuth = (publicKey: string) =>
  `Sentry sentry_version=7, sentry_key=${publicKey}, sentry_client=test/1.0`;
