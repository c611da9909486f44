import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { IssueUpdate, MonitorEvent } from '../events/updates.js';
import { signingKey } from '../identity/jwt.js';
import { requirePg, startTestBeacon, type TestBeacon, waitFor } from '../test-support/index.js';

interface Account {
  token: string;
  projectId: number;
}

function update(projectId: number, issueId: number, title: string): IssueUpdate {
  const now = new Date().toISOString();
  return {
    updateId: `u-${issueId}-${Math.random()}`,
    type: 'created',
    projectId,
    issue: {
      id: issueId,
      title,
      culprit: null,
      level: 'error',
      status: 'unresolved',
      count: 1,
      userCount: 0,
      firstSeen: now,
      lastSeen: now,
    },
    newEvents: 1,
    levels: { error: 1 },
    userIds: [],
    event: { eventId: 'a'.repeat(32), level: 'error', timestamp: now, tags: {} },
  };
}

/** A socket that records every JSON message it receives. */
function connect(url: string): {
  ws: WebSocket;
  messages: Array<Record<string, unknown>>;
  closed: Promise<number>;
} {
  const ws = new WebSocket(url);
  const messages: Array<Record<string, unknown>> = [];
  ws.on('message', (d) => messages.push(JSON.parse(String(d))));
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  return { ws, messages, closed };
}

describe.runIf(requirePg())('live: WebSocket fan-out', () => {
  let beacon: TestBeacon;
  let alice: Account;
  let bob: Account;
  let wsUrl: string;

  const post = async (path: string, body: unknown, token?: string) => {
    const res = await fetch(`${beacon.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    expect(res.status).toBeLessThan(300);
    return (await res.json()) as Record<string, unknown>;
  };
  const account = async (email: string): Promise<Account> => {
    const s = (await post('/api/v1/auth/signup', { email, password: 'long enough password' })) as {
      accessToken: string;
    };
    const p = (await post('/api/v1/projects', { name: `${email} app` }, s.accessToken)) as { id: number };
    return { token: s.accessToken, projectId: p.id };
  };

  beforeAll(async () => {
    beacon = await startTestBeacon({ BEACON_ROLES: 'api' });
    wsUrl = `${beacon.url.replace('http', 'ws')}/api/v1/live`;
    alice = await account('alice@example.com');
    bob = await account('bob@example.com');
  });
  afterAll(async () => {
    await beacon?.close();
  });

  it('delivers issue updates only to sockets whose user may read the project', async () => {
    const a = connect(`${wsUrl}?token=${alice.token}`);
    const b = connect(wsUrl);
    b.ws.on('open', () => b.ws.send(JSON.stringify({ type: 'auth', token: bob.token })));
    await waitFor(() => a.messages.some((m) => m.type === 'hello'), { what: 'alice hello' });
    await waitFor(() => b.messages.some((m) => m.type === 'hello'), { what: 'bob hello' });
    expect(a.messages[0]).toEqual({ type: 'hello', projects: [alice.projectId] });
    expect(b.messages[0]).toEqual({ type: 'hello', projects: [bob.projectId] });

    const topic = beacon.ctx.topics.issueUpdates;
    const pub = (u: IssueUpdate) =>
      beacon.ctx.bus.publish(topic, [{ key: String(u.projectId), value: Buffer.from(JSON.stringify(u)) }]);
    await pub(update(alice.projectId, 101, 'TypeError: alice only'));
    await pub(update(bob.projectId, 202, 'RangeError: bob only'));
    await waitFor(() => a.messages.some((m) => m.type === 'issue'), { what: 'alice update' });
    await waitFor(() => b.messages.some((m) => m.type === 'issue'), { what: 'bob update' });
    const titles = (ms: Array<Record<string, unknown>>) =>
      ms.filter((m) => m.type === 'issue').map((m) => (m.update as IssueUpdate).issue.title);
    expect(titles(a.messages)).toEqual(['TypeError: alice only']);
    expect(titles(b.messages)).toEqual(['RangeError: bob only']);
    a.ws.close();
    b.ws.close();
  });

  it('sends monitor events of org-level services to members of that org only', async () => {
    const [svc] = await beacon.ctx.db.query<{ id: string }>(
      `INSERT INTO uptime_services (org_id, name) SELECT org_id, 'payments' FROM projects WHERE id = $1 RETURNING id`,
      [alice.projectId],
    );
    const a = connect(`${wsUrl}?token=${alice.token}`);
    const b = connect(`${wsUrl}?token=${bob.token}`);
    await waitFor(() => a.messages.length > 0 && b.messages.length > 0, { what: 'both hellos' });
    const event: MonitorEvent = {
      eventId: 'm-1',
      type: 'incident_start',
      at: new Date().toISOString(),
      projectId: null,
      service: { id: Number(svc!.id), name: 'payments' },
      endpoint: { id: 9, name: 'health', url: 'http://127.0.0.1:1/health' },
      incident: { id: 3, startedAt: new Date().toISOString(), resolvedAt: null, cause: 'connection refused' },
    };
    await beacon.ctx.bus.publish(beacon.ctx.topics.monitorEvents, [
      { key: '9', value: Buffer.from(JSON.stringify(event)) },
    ]);
    await waitFor(() => a.messages.some((m) => m.type === 'monitor'), { what: 'alice monitor event' });
    expect(a.messages.find((m) => m.type === 'monitor')).toEqual({ type: 'monitor', event });
    // Bob's socket stays open and receives nothing for alice's organization.
    await new Promise<void>((r) => b.ws.ping(undefined, undefined, () => r()));
    expect(b.messages.filter((m) => m.type === 'monitor')).toEqual([]);
    a.ws.close();
    b.ws.close();
  });

  it('closes with 4001 when the access token expires, unless the client sent a fresh one', async () => {
    const [{ id }] = (await beacon.ctx.db.query(
      `SELECT user_id AS id FROM memberships m JOIN projects p ON p.org_id = m.org_id WHERE p.id = $1`,
      [alice.projectId],
    )) as [{ id: string }];
    const key = await signingKey(beacon.ctx);
    const shortLived = () =>
      new SignJWT({ email: 'alice@example.com' })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(String(id))
        .setIssuer('beacon')
        .setAudience('beacon-api')
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + 2)
        .sign(key);
    const expiring = connect(`${wsUrl}?token=${await shortLived()}`);
    // The second socket sends a long-lived token before the first expires and stays open.
    const renewed = connect(`${wsUrl}?token=${await shortLived()}`);
    await waitFor(() => expiring.messages.length > 0 && renewed.messages.length > 0, { what: 'hellos' });
    expect(expiring.messages[0]).toEqual({ type: 'hello', projects: [alice.projectId] });
    renewed.ws.send(JSON.stringify({ type: 'auth', token: alice.token }));
    await waitFor(() => renewed.messages.length > 1, { what: 'second hello' });
    expect(await expiring.closed).toBe(4001);
    expect(expiring.messages.at(-1)).toMatchObject({ type: 'error', message: 'access token expired' });
    await new Promise<void>((r) => renewed.ws.ping(undefined, undefined, () => r()));
    expect(renewed.ws.readyState).toBe(WebSocket.OPEN);
    renewed.ws.close();
  });

  it('closes with 4001 on a bad token', async () => {
    const c = connect(`${wsUrl}?token=not-a-token`);
    expect(await c.closed).toBe(4001);
    expect(c.messages[0]).toMatchObject({ type: 'error', code: 'unauthorized' });
  });
});
