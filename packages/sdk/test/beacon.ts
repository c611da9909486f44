import { randomBytes } from 'node:crypto';
import { startTestBeacon, type TestBeacon, waitFor } from '../../server/src/test-support/index.js';
import type { Json } from './receiver.js';

/** A real Beacon (ingest, api and the issues worker) with one project created through its API. */
export interface BeaconProject {
  beacon: TestBeacon;
  url: string;
  token: string;
  projectId: number;
  /** The project's DSN, pointing at this Beacon. */
  dsn: string;
  api(path: string): Promise<Json>;
  /** Issues of the project (all statuses), polled until `until` accepts them. */
  issues(until: (items: Json[]) => boolean, what?: string): Promise<Json[]>;
  /** Full event payload by id, polled until stored. */
  event(eventId: string): Promise<Json>;
  close(): Promise<void>;
}

async function call(url: string, init: RequestInit & { token?: string } = {}): Promise<Json> {
  const res = await fetch(url, {
    ...init,
    headers: {
      ...(init.body ? { 'content-type': 'application/json' } : {}),
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
    },
  });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** A real Beacon; `project()` adds projects to it. */
export async function startBeaconServer(): Promise<{
  beacon: TestBeacon;
  project(name: string): Promise<BeaconProject>;
  close(): Promise<void>;
}> {
  const beacon = await startTestBeacon({ BEACON_ROLES: 'api,ingest,issues' });
  return { beacon, project: (name) => createProject(beacon, name), close: () => beacon.close() };
}

/** A real Beacon with one project; closing it stops the server. */
export async function startBeaconProject(name: string): Promise<BeaconProject> {
  const beacon = await startTestBeacon({ BEACON_ROLES: 'api,ingest,issues' });
  return createProject(beacon, name);
}

async function createProject(beacon: TestBeacon, name: string): Promise<BeaconProject> {
  const url = beacon.url;
  const { accessToken: token } = await call(`${url}/api/v1/auth/signup`, {
    method: 'POST',
    body: JSON.stringify({
      email: `sdk-${randomBytes(4).toString('hex')}@example.com`,
      password: 'correct horse battery staple',
      name: 'SDK Tester',
    }),
  });
  const project = await call(`${url}/api/v1/projects`, {
    method: 'POST',
    token,
    body: JSON.stringify({ name }),
  });
  // The DSN names the configured public URL; point it at this test server instead.
  const given = new URL(project.dsn ?? `http://${project.keys[0].publicKey}@x/${project.id}`);
  const dsn = `${url.replace('//', `//${given.username}@`)}${given.pathname}`;
  const api = (path: string) => call(`${url}${path}`, { token });
  return {
    beacon,
    url,
    token,
    projectId: project.id,
    dsn,
    api,
    issues: (until, what = 'issues') =>
      waitFor(
        async () => {
          const { items } = await api(`/api/v1/projects/${project.id}/issues?status=all&limit=100`);
          return until(items) ? (items as Json[]) : undefined;
        },
        { timeout: 20_000, interval: 200, what },
      ),
    event: (eventId) =>
      waitFor(() => api(`/api/v1/events/${eventId}?projectId=${project.id}`), {
        timeout: 20_000,
        interval: 200,
        what: `event ${eventId}`,
      }),
    close: () => beacon.close(),
  };
}
