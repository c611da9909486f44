import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsumedMessage, Consumer } from '../platform/bus/types.js';
import { requirePg, startTestBeacon, type TestBeacon, waitFor } from '../test-support/index.js';
import { Channels } from './channels.js';
import { buildBlockList, defaultDenyList, defaultTargetPolicy } from './targets.js';
import { issueUpdate, Receiver } from './testing.js';
import { AlertsWorker, type AlertsWorkerOptions } from './worker.js';

const childScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'testing-child.ts');
const fast: AlertsWorkerOptions = { retryBaseMs: 50, retryMaxMs: 200, pollMs: 50, maxAttempts: 4 };

describe.runIf(requirePg())('alert delivery', () => {
  let beacon: TestBeacon;
  let worker: AlertsWorker | undefined;
  let hook: Receiver;
  let token = '';
  let projectId = 0;
  let issue = 1;
  const dlq: ConsumedMessage[] = [];
  let dlqConsumer: Consumer;
  /** Per-path answers: the receiver calls `plan[path](n)` with that path's request number. */
  const plan: Record<string, (n: number) => { status: number; headers?: Record<string, string> } | 'hang'> =
    {};

  async function api(method: string, p: string, body?: unknown) {
    const res = await fetch(`${beacon.url}${p}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    // biome-ignore lint/suspicious/noExplicitAny: asserted field by field
    return { status: res.status, body: (await res.json().catch(() => ({}))) as any };
  }
  /** A new_issue rule posting to `hook.url + p`, then a created issue: one notification to deliver. */
  async function fireTo(p: string): Promise<number> {
    const rule = await api('POST', `/api/v1/projects/${projectId}/rules`, {
      name: p,
      trigger: { type: 'new_issue' },
      filters: { tags: { route: p } },
      actions: [{ type: 'webhook', url: `${hook.url}${p}` }],
    });
    expect(rule.status).toBe(201);
    await beacon.ctx.bus.publish(beacon.ctx.topics.issueUpdates, [
      {
        key: String(projectId),
        value: Buffer.from(
          JSON.stringify(issueUpdate(projectId, issue++, { type: 'created', tags: { route: p } })),
        ),
      },
    ]);
    const row = await waitFor(
      () =>
        beacon.ctx.db.one<{ id: number }>('SELECT id FROM alert_deliveries WHERE rule_id = $1', [
          rule.body.id,
        ]),
      { what: 'the delivery row' },
    );
    return row.id;
  }
  const delivery = async (id: number) => (await api('GET', `/api/v1/deliveries/${id}`)).body;

  beforeAll(async () => {
    hook = await new Receiver().start();
    const seen: Record<string, number> = {};
    hook.respond = (_n, r) => {
      seen[r.path] = (seen[r.path] ?? 0) + 1;
      return plan[r.path]?.(seen[r.path]!) ?? { status: 200 };
    };
    beacon = await startTestBeacon({ BEACON_ROLES: 'api' });
    const signup = await fetch(`${beacon.url}/api/v1/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'ops@example.test', password: 'correct-horse-battery', name: 'Ops' }),
    });
    token = ((await signup.json()) as { accessToken: string }).accessToken;
    projectId = (await api('POST', '/api/v1/projects', { name: 'Deliveries' })).body.id;
    dlqConsumer = await beacon.ctx.bus.consume({
      topic: beacon.ctx.topics.alertsDlq,
      group: 'test-dlq',
      handler: async (batch) => {
        dlq.push(...batch);
      },
    });
    worker = new AlertsWorker(beacon.ctx, fast);
    await worker.start();
  });
  afterAll(async () => {
    await worker?.stop();
    await dlqConsumer?.stop();
    await beacon?.close();
    await hook?.close();
  });

  it('a receiver failing 3 times then answering 200 gets the notification once, with 4 attempts recorded', async () => {
    plan['/flaky'] = (n) => ({ status: n <= 3 ? 500 : 200 });
    const id = await fireTo('/flaky');
    await waitFor(async () => (await delivery(id)).state === 'delivered', { what: 'delivery' });
    const d = await delivery(id);
    expect(d.attempts).toBe(4);
    expect(d.attemptLog.map((a: { status: number }) => a.status)).toEqual([500, 500, 500, 200]);
    expect(hook.requests.filter((r) => r.path === '/flaky')).toHaveLength(4);
    expect(hook.delivered('/flaky')).toHaveLength(1);
    // Every attempt carries the same delivery id so receivers can deduplicate.
    expect(
      new Set(hook.requests.filter((r) => r.path === '/flaky').map((r) => r.headers['x-beacon-delivery'])),
    ).toEqual(new Set([String(id)]));
  });

  it('an always-failing receiver ends in the dead-letter list and on the DLQ topic; replay delivers it', async () => {
    let healthy = false;
    plan['/down'] = () => ({ status: healthy ? 200 : 503 });
    const id = await fireTo('/down');
    await waitFor(async () => (await delivery(id)).state === 'dead', { what: 'dead letter' });
    const dead = await api('GET', `/api/v1/projects/${projectId}/deliveries?state=dead`);
    expect(dead.body.deliveries).toMatchObject([{ id, state: 'dead', attempts: 4, lastStatus: 503 }]);
    const msg = await waitFor(() => dlq.find((m) => JSON.parse(m.value.toString()).deliveryId === id), {
      what: 'the DLQ message',
    });
    expect(JSON.parse(msg.value.toString())).toMatchObject({
      deliveryId: id,
      projectId,
      attempts: 4,
      channel: 'webhook',
    });
    expect(hook.delivered('/down')).toHaveLength(0);
    const metrics = await beacon.ctx.metrics.registry.metrics();
    expect(metrics).toMatch(/beacon_alerts_deliveries_queued\{state="dead"\} 1\n/);
    expect(metrics).toMatch(/beacon_alerts_deliveries_total\{channel="webhook",result="dead"\} 1\n/);

    healthy = true;
    const replay = await api('POST', `/api/v1/deliveries/${id}/replay`);
    expect(replay.status).toBe(200);
    expect(replay.body.state).toBe('pending');
    await waitFor(async () => (await delivery(id)).state === 'delivered', { what: 'replayed delivery' });
    expect(hook.delivered('/down')).toHaveLength(1);
    expect((await api('GET', `/api/v1/projects/${projectId}/deliveries?state=dead`)).body.deliveries).toEqual(
      [],
    );
    expect((await api('POST', `/api/v1/deliveries/${id}/replay`)).status).toBe(200);
    expect((await api('POST', `/api/v1/deliveries/${id + 1000}/replay`)).status).toBe(404);
  });

  it('honours 429 Retry-After', async () => {
    plan['/busy'] = (n) => (n === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 });
    const id = await fireTo('/busy');
    await waitFor(async () => (await delivery(id)).state === 'delivered', { what: 'delivery' });
    const rows = await beacon.ctx.db.query<{ at: Date }>(
      'SELECT at FROM alert_delivery_attempts WHERE delivery_id = $1 ORDER BY attempt',
      [id],
    );
    expect(rows).toHaveLength(2);
    // The backoff alone would have retried after ~50 ms; the receiver asked for a second.
    expect(rows[1]!.at.getTime() - rows[0]!.at.getTime()).toBeGreaterThanOrEqual(900);
  });

  it('refuses denied targets at connect time, whatever the name resolves to', async () => {
    const strict = new Channels({
      blockList: buildBlockList({ deny: defaultDenyList, allowLoopback: false, allowPrivate: true }),
      timeoutMs: 2000,
      maxResponseBytes: 1024,
    });
    const open = new Channels({
      blockList: buildBlockList(defaultTargetPolicy),
      timeoutMs: 2000,
      maxResponseBytes: 16,
    });
    try {
      const payload = { kind: 'test' as const, title: 't', lines: [], data: {} };
      const meta = { deliveryId: 1, attempt: 1 };
      const port = new URL(hook.url).port;
      const before = hook.requests.length;
      const byName = await strict.send(
        { type: 'webhook', url: `http://localhost:${port}/deny` },
        payload,
        meta,
      );
      expect(byName).toMatchObject({
        ok: false,
        permanent: true,
        error: expect.stringMatching(/not allowed/),
      });
      const literal = await strict.send(
        { type: 'webhook', url: `http://127.0.0.1:${port}/deny` },
        payload,
        meta,
      );
      expect(literal).toMatchObject({ ok: false, permanent: true });
      const metadata = await open.send(
        { type: 'webhook', url: 'http://[fd00:ec2::254]/latest' },
        payload,
        meta,
      );
      expect(metadata).toMatchObject({
        ok: false,
        permanent: true,
        error: expect.stringMatching(/not allowed/),
      });
      expect(hook.requests.length).toBe(before);
      // Loopback stays allowed by default; a large answer is cut at maxResponseBytes.
      expect(
        await open.send({ type: 'webhook', url: `http://localhost:${port}/ok` }, payload, meta),
      ).toMatchObject({
        ok: true,
        status: 200,
      });
    } finally {
      await strict.close();
      await open.close();
    }
  });

  it('two workers share evaluation and the queue: every notification is sent exactly once', async () => {
    const second = new AlertsWorker(beacon.ctx, fast);
    await second.start();
    try {
      const rule = await api('POST', `/api/v1/projects/${projectId}/rules`, {
        name: 'shared',
        trigger: { type: 'new_issue' },
        filters: { tags: { route: '/shared' } },
        actions: [{ type: 'webhook', url: `${hook.url}/shared` }],
      });
      expect(rule.status).toBe(201);
      const updates = Array.from({ length: 30 }, () =>
        issueUpdate(projectId, issue++, { type: 'created', tags: { route: '/shared' } }),
      );
      // Each update twice (a redelivery), spread over several keys so both workers consume.
      for (const u of [...updates, ...updates])
        await beacon.ctx.bus.publish(beacon.ctx.topics.issueUpdates, [
          { key: String(u.issue.id), value: Buffer.from(JSON.stringify(u)) },
        ]);
      await waitFor(() => hook.delivered('/shared').length >= 30, { what: '30 notifications' });
      await waitFor(
        async () =>
          (
            await beacon.ctx.db.query(
              `SELECT 1 FROM alert_deliveries WHERE rule_id = $1 AND state <> 'delivered'`,
              [rule.body.id],
            )
          ).length === 0,
        { what: 'the queue to drain' },
      );
      const ids = hook.requests
        .filter((r) => r.path === '/shared')
        .map((r) => r.headers['x-beacon-delivery']);
      expect(ids).toHaveLength(30);
      expect(new Set(ids).size).toBe(30);
    } finally {
      await second.stop();
    }
  });

  it('a digest rule batches its alerts into one message per period', async () => {
    const rule = await api('POST', `/api/v1/projects/${projectId}/rules`, {
      name: 'digest',
      trigger: { type: 'new_issue' },
      filters: { tags: { route: '/digest' } },
      actions: [{ type: 'webhook', url: `${hook.url}/digest` }],
      digestMinutes: 15,
    });
    expect(rule.status).toBe(201);
    expect(rule.body.digestMinutes).toBe(15);
    const publish = async (n: number) => {
      const updates = Array.from({ length: n }, () =>
        issueUpdate(projectId, issue++, { type: 'created', tags: { route: '/digest' } }),
      );
      await beacon.ctx.bus.publish(
        beacon.ctx.topics.issueUpdates,
        updates.map((u) => ({ key: String(projectId), value: Buffer.from(JSON.stringify(u)) })),
      );
    };
    const digests = () =>
      beacon.ctx.db.query<{ id: number; state: string; n: number }>(
        `SELECT id, state, jsonb_array_length(payload->'data'->'items')::int AS n FROM alert_deliveries
         WHERE rule_id = $1 ORDER BY id`,
        [rule.body.id],
      );
    await publish(3);
    await waitFor(async () => (await digests())[0]?.n === 3, { what: 'three alerts in one digest' });
    expect(await digests()).toMatchObject([{ state: 'pending', n: 3 }]);
    expect(hook.requests.filter((r) => r.path === '/digest')).toHaveLength(0);
    // Let the period end now instead of in 15 minutes.
    await beacon.ctx.db.query(`UPDATE alert_deliveries SET next_attempt_at = now() WHERE rule_id = $1`, [
      rule.body.id,
    ]);
    await waitFor(() => hook.delivered('/digest').length === 1, { what: 'the digest' });
    const body = hook.delivered('/digest')[0]!.json as { kind: string; title: string; items: unknown[] };
    expect(body.kind).toBe('digest');
    expect(body.title).toBe('3 alerts from rule "digest"');
    expect(body.items).toHaveLength(3);
    // The next alert starts a new digest.
    await publish(1);
    await waitFor(async () => (await digests()).length === 2, { what: 'a second digest' });
    expect(await digests()).toMatchObject([{ state: 'delivered' }, { state: 'pending', n: 1 }]);
  });

  describe('crash safety', () => {
    let child: ChildProcess | undefined;
    afterAll(() => {
      child?.kill('SIGKILL');
    });

    async function spawnWorker(options: AlertsWorkerOptions): Promise<ChildProcess> {
      const c = spawn(process.execPath, ['--import', 'tsx', childScript], {
        env: { ...process.env, DATABASE_URL: beacon.db.url, ALERTS_WORKER_OPTIONS: JSON.stringify(options) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      c.stdout!.on('data', (d) => {
        out += d;
      });
      c.stderr!.on('data', (d) => {
        err += d;
      });
      await waitFor(
        () => {
          if (c.exitCode !== null) throw new Error(`worker exited: ${err}`);
          return out.includes('ready');
        },
        { timeout: 30_000, what: 'the child worker' },
      );
      return c;
    }
    async function kill(c: ChildProcess) {
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await exited;
    }

    it('a worker killed after committing the alert and before delivering: after restart, delivered once', async () => {
      await worker!.stop();
      worker = undefined;
      // The child evaluates but has not delivered yet when it dies.
      child = await spawnWorker({ ...fast, deliver: false });
      const id = await fireTo('/crash');
      expect((await delivery(id)).state).toBe('pending');
      await kill(child);
      child = undefined;
      expect(hook.requests.filter((r) => r.path === '/crash')).toHaveLength(0);
      worker = new AlertsWorker(beacon.ctx, fast);
      await worker.start();
      await waitFor(async () => (await delivery(id)).state === 'delivered', {
        what: 'delivery after restart',
      });
      expect(hook.requests.filter((r) => r.path === '/crash')).toHaveLength(1);
      const [alerts] = await beacon.ctx.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM alerts a JOIN alert_rules r ON r.id = a.rule_id WHERE r.name = '/crash'`,
      );
      expect(alerts?.n).toBe(1);
    });

    it('a worker killed in the middle of a send: the lease expires and another worker delivers it', async () => {
      await worker!.stop();
      worker = undefined;
      plan['/midsend'] = (n) => (n === 1 ? 'hang' : { status: 200 });
      child = await spawnWorker({ ...fast, leaseMs: 1000 });
      const id = await fireTo('/midsend');
      await waitFor(() => hook.requests.some((r) => r.path === '/midsend'), { what: 'the first attempt' });
      await kill(child);
      child = undefined;
      worker = new AlertsWorker(beacon.ctx, fast);
      await worker.start();
      await waitFor(async () => (await delivery(id)).state === 'delivered', {
        what: 'delivery after lease expiry',
      });
      expect(hook.delivered('/midsend')).toHaveLength(1);
    });
  });
});
