import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePg, startTestBeacon, type TestBeacon, waitFor } from '../test-support/index.js';
import { issueUpdate, MailSink, monitorEvent, Receiver } from './testing.js';
import { AlertsWorker } from './worker.js';

/**
 * The alerts API and the whole path: rules created over HTTP, issue updates and monitor events
 * published to the bus, notifications received by a real HTTP receiver and a real SMTP server.
 */
describe.runIf(requirePg())('alerts end to end', () => {
  let beacon: TestBeacon;
  let worker: AlertsWorker;
  let hook: Receiver;
  let mail: MailSink;
  let tokenA = '';
  let tokenB = '';
  let projectA = 0;
  let projectB = 0;
  let published = 0;

  async function api(method: string, path: string, token: string, body?: unknown) {
    const res = await fetch(`${beacon.url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    // biome-ignore lint/suspicious/noExplicitAny: test responses are asserted field by field
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as any };
  }
  async function signup(email: string) {
    const r = await api('POST', '/api/v1/auth/signup', '', {
      email,
      password: 'correct-horse-battery',
      name: email,
    });
    expect(r.status).toBe(201);
    return r.body.accessToken as string;
  }
  async function publish(topic: 'issueUpdates' | 'monitorEvents', key: number, values: unknown[]) {
    await beacon.ctx.bus.publish(
      beacon.ctx.topics[topic],
      values.map((v) => ({ key: String(key), value: Buffer.from(JSON.stringify(v)) })),
    );
  }
  /** Wait until every published message of projects with rules was evaluated and the queue is idle. */
  async function settle() {
    await waitFor(
      async () => {
        const [p] = await beacon.ctx.db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM alert_processed',
        );
        const [q] = await beacon.ctx.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM alert_deliveries WHERE state IN ('pending', 'delivering')`,
        );
        return p?.n === published && q?.n === 0;
      },
      { what: 'evaluation and deliveries to settle' },
    );
  }

  beforeAll(async () => {
    hook = await new Receiver().start();
    mail = await new MailSink().start();
    beacon = await startTestBeacon({ BEACON_ROLES: 'api', SMTP_URL: mail.url });
    worker = new AlertsWorker(beacon.ctx, { retryBaseMs: 50, pollMs: 100 });
    await worker.start();
    tokenA = await signup('alice@example.test');
    tokenB = await signup('bob@example.test');
    projectA = (await api('POST', '/api/v1/projects', tokenA, { name: 'Shop' })).body.id;
    projectB = (await api('POST', '/api/v1/projects', tokenB, { name: 'Other' })).body.id;
  });
  afterAll(async () => {
    await worker?.stop();
    await beacon?.close();
    await hook?.close();
    await mail?.close();
  });

  it('rejects invalid rule bodies with a 400 naming the problem', async () => {
    const base = { name: 'r', actions: [{ type: 'webhook', url: `${hook.url}/x` }] };
    const cases: Array<[unknown, RegExp]> = [
      [{ ...base, trigger: { type: 'nope' } }, /trigger/],
      [{ ...base, trigger: { type: 'frequency', threshold: 5 } }, /windowMinutes/],
      [{ ...base, trigger: { type: 'level', level: 'loud' } }, /level/],
      [{ ...base, trigger: { type: 'new_issue' }, actions: [] }, /actions/],
      [{ ...base, trigger: { type: 'new_issue' }, actions: [{ type: 'webhook', url: 'ftp://x/y' }] }, /http/],
      [{ ...base, trigger: { type: 'new_issue' }, actions: [{ type: 'email', to: ['not-an-email'] }] }, /to/],
      [{ ...base, trigger: { type: 'anomaly', baselineWindows: 3000 } }, /baselineWindows/],
      // PostgreSQL text and jsonb cannot hold NUL: a 400 naming the field, not a 500.
      [{ ...base, name: 'a\u0000b', trigger: { type: 'new_issue' } }, /name.*NUL/],
      [{ ...base, trigger: { type: 'new_issue' }, filters: { tags: { 'k\u0000': 'v' } } }, /tags.*NUL/],
      [
        { ...base, trigger: { type: 'new_issue' }, filters: { environment: ['ok', 'a\u0000'] } },
        /environment.*NUL/,
      ],
      [
        { ...base, trigger: { type: 'new_issue' }, actions: [{ ...base.actions[0], secret: '\u0000' }] },
        /actions.0.secret.*NUL/,
      ],
    ];
    for (const [body, message] of cases) {
      const r = await api('POST', `/api/v1/projects/${projectA}/rules`, tokenA, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe('bad_request');
      expect(r.body.error.message).toMatch(message);
    }
    const meta = await api('POST', `/api/v1/projects/${projectA}/rules`, tokenA, {
      ...base,
      trigger: { type: 'new_issue' },
      actions: [{ type: 'webhook', url: 'http://169.254.169.254/latest/meta-data' }],
    });
    expect(meta.status).toBe(400);
    expect(meta.body.error.message).toMatch(/169\.254\.169\.254 is not allowed/);
    const silence = await api('POST', `/api/v1/projects/${projectA}/silences`, tokenA, {
      until: new Date(Date.now() + 60_000).toISOString(),
      comment: 'a\u0000b',
    });
    expect(silence.status).toBe(400);
    expect(silence.body.error.message).toMatch(/comment.*NUL/);
    expect((await api('GET', '/api/v1/openapi.json', '')).status).toBe(200);
  });

  it('fires each trigger once for its condition and never below it, on webhook, Slack and email', async () => {
    const secret = 's3cret-signing-key';
    const hookTo = (path: string) => [{ type: 'webhook', url: `${hook.url}/${path}` }];
    const rules: Record<string, unknown> = {
      new_issue: {
        trigger: { type: 'new_issue' },
        actions: [
          { type: 'webhook', url: `${hook.url}/new_issue`, secret, headers: { 'X-Team': 'payments' } },
          { type: 'slack', url: `${hook.url}/slack` },
          { type: 'email', to: ['oncall@example.test'] },
        ],
      },
      regression: { trigger: { type: 'regression' }, actions: hookTo('regression') },
      level: { trigger: { type: 'level', level: 'fatal' }, actions: hookTo('level') },
      count_threshold: {
        trigger: { type: 'count_threshold', threshold: 50 },
        actions: hookTo('count_threshold'),
      },
      frequency: {
        trigger: { type: 'frequency', threshold: 49, windowMinutes: 60, per: 'issue' },
        actions: hookTo('frequency'),
      },
      users: {
        trigger: { type: 'frequency', threshold: 2, windowMinutes: 60, metric: 'users', per: 'project' },
        actions: hookTo('users'),
      },
      uptime: { trigger: { type: 'uptime', events: ['incident_start'] }, actions: hookTo('uptime') },
    };
    const ids: Record<string, number> = {};
    for (const [name, body] of Object.entries(rules)) {
      const r = await api('POST', `/api/v1/projects/${projectA}/rules`, tokenA, {
        name,
        ...(body as object),
      });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      ids[name] = r.body.id;
    }
    // Below every condition: occurrences of issue 1 at error level, count 10, one user.
    const below = [
      issueUpdate(projectA, 1, { newEvents: 10, count: 10, userIds: ['u1'] }),
      issueUpdate(projectA, 1, { newEvents: 10, count: 20, userIds: ['u1', 'u2'] }),
      issueUpdate(projectA, 1, { newEvents: 29, count: 49, level: 'error' }),
    ];
    await publish('issueUpdates', projectA, below);
    await publish('monitorEvents', 1, [monitorEvent(projectA, 1, 1, 'incident_resolved', 1)]);
    published += 4;
    await settle();
    expect(hook.requests).toEqual([]);
    expect(mail.mails).toEqual([]);

    // At each condition (and repeats that must fold).
    const created = issueUpdate(projectA, 2, { type: 'created' });
    const crossing = [
      issueUpdate(projectA, 1, { newEvents: 1, count: 50 }), // count 50 crosses 50; 50 events in the hour > 49
      issueUpdate(projectA, 1, { newEvents: 1, count: 51, userIds: ['u3'] }), // third distinct user > 2
      issueUpdate(projectA, 3, { type: 'regressed', level: 'fatal' }), // regression + fatal
      issueUpdate(projectA, 3, { level: 'fatal' }), // folds into the open fatal alert
      created,
      created, // a redelivery: ignored
    ];
    await publish('issueUpdates', projectA, crossing);
    await publish('monitorEvents', 1, [
      monitorEvent(projectA, 1, 1, 'incident_start', 2),
      monitorEvent(projectA, 1, 1, 'incident_start', 2), // same eventId: ignored
      monitorEvent(projectB, 2, 2, 'incident_start', 3), // another project's monitor
    ]);
    published += 5 + 2;
    await settle();
    const count = (p: string) => hook.delivered(`/${p}`).length;
    expect({
      new_issue: count('new_issue'),
      slack: count('slack'),
      regression: count('regression'),
      level: count('level'),
      count_threshold: count('count_threshold'),
      frequency: count('frequency'),
      users: count('users'),
      uptime: count('uptime'),
    }).toEqual({
      new_issue: 1,
      slack: 1,
      regression: 1,
      level: 1,
      count_threshold: 1,
      frequency: 1,
      users: 1,
      uptime: 1,
    });
    await waitFor(() => mail.mails.length === 1, { what: 'the email' });

    // The webhook carries the signature, custom headers and the alert.
    const wh = hook.delivered('/new_issue')[0]!;
    expect(wh.headers['x-beacon-signature']).toBe(
      `sha256=${createHmac('sha256', secret).update(wh.body).digest('hex')}`,
    );
    expect(wh.headers['x-team']).toBe('payments');
    expect(wh.headers['content-type']).toBe('application/json');
    expect(wh.json).toMatchObject({ kind: 'alert', alert: { ruleId: ids.new_issue, subject: 'issue:2' } });
    const slack = hook.delivered('/slack')[0]!.json as { text: string; blocks: unknown[] };
    expect(slack.text).toBe('New issue: TypeError: boom 2');
    expect(slack.blocks.length).toBeGreaterThan(1);
    const m = mail.mails[0]!;
    expect(m.to).toEqual(['oncall@example.test']);
    expect(m.raw).toMatch(/Subject: \[Beacon\] New issue: TypeError: boom 2/);
    expect(m.raw).toMatch(/text\/plain/);
    expect(m.raw).toMatch(/text\/html/);

    // The level alert folded the repeat.
    const alerts = await api('GET', `/api/v1/projects/${projectA}/alerts`, tokenA);
    expect(alerts.status).toBe(200);
    const levelAlert = alerts.body.alerts.find((a: { ruleId: number }) => a.ruleId === ids.level);
    expect(levelAlert).toMatchObject({ state: 'firing', count: 2, subject: 'issue:3' });
    expect(alerts.body.alerts).toHaveLength(7);

    // Secrets are never shown; GET → PUT keeps them.
    const got = await api('GET', `/api/v1/rules/${ids.new_issue}`, tokenA);
    expect(got.body.actions[0]).toEqual({
      type: 'webhook',
      url: `${hook.url}/new_issue`,
      secret: '[redacted]',
      headers: { 'X-Team': '[redacted]' },
    });
    const { id: _id, projectId: _p, createdAt: _c, updatedAt: _u, ...editable } = got.body;
    expect(got.body.actions[1]).toEqual({ type: 'slack', url: `${hook.url}/[redacted]` });
    const put = await api('PUT', `/api/v1/rules/${ids.new_issue}`, tokenA, {
      ...editable,
      name: 'new issues',
      actions: editable.actions.slice(0, 2),
    });
    expect(put.status).toBe(200);
    expect(put.body.name).toBe('new issues');
    const badSlack = await api('PUT', `/api/v1/rules/${ids.new_issue}`, tokenA, {
      ...editable,
      actions: [{ type: 'slack', url: 'https://elsewhere.test/[redacted]' }],
    });
    expect(badSlack.status).toBe(400);
    const test = await api('POST', `/api/v1/rules/${ids.new_issue}/test`, tokenA);
    expect(test.status).toBe(202);
    expect(test.body.deliveryIds).toHaveLength(2);
    await waitFor(() => hook.delivered('/new_issue').length === 2 && hook.delivered('/slack').length === 2, {
      what: 'the test notification',
    });
    expect(hook.delivered('/slack')[1]!.json.text).toMatch(/^Test notification/);
    const t = hook.delivered('/new_issue')[1]!;
    expect(t.json.kind).toBe('test');
    expect(t.headers['x-team']).toBe('payments');
    expect(t.headers['x-beacon-signature']).toBe(
      `sha256=${createHmac('sha256', secret).update(t.body).digest('hex')}`,
    );
  });

  it('never shows a webhook URL password or Slack path, sends the password as Basic auth, and keeps it on GET → PUT', async () => {
    const withPass = hook.url.replace('http://', 'http://hooker:s3cr%40t@');
    const created = await api('POST', `/api/v1/projects/${projectA}/rules`, tokenA, {
      name: 'basic auth',
      trigger: { type: 'new_issue' },
      actions: [
        { type: 'webhook', url: `${withPass}/basic` },
        { type: 'slack', url: `${hook.url}/slack-secret-path` },
      ],
    });
    expect(created.status).toBe(201);
    const ruleId = created.body.id;
    const test = await api('POST', `/api/v1/rules/${ruleId}/test`, tokenA);
    expect(test.status).toBe(202);
    await waitFor(() => hook.delivered('/basic').length === 1, { what: 'the basic-auth webhook' });
    expect(hook.delivered('/basic')[0]!.headers.authorization).toBe(
      `Basic ${Buffer.from('hooker:s3cr@t').toString('base64')}`,
    );
    await waitFor(() => hook.delivered('/slack-secret-path').length === 1, { what: 'the slack message' });
    const got = await api('GET', `/api/v1/rules/${ruleId}`, tokenA);
    const shown = JSON.stringify([
      created.body,
      got.body,
      (await api('GET', `/api/v1/projects/${projectA}/rules`, tokenA)).body,
      (await api('GET', `/api/v1/projects/${projectA}/deliveries`, tokenA)).body,
      (await api('GET', `/api/v1/deliveries/${test.body.deliveryIds[0]}`, tokenA)).body,
    ]);
    expect(shown).not.toMatch(/s3cr|slack-secret-path/);
    expect(got.body.actions[0].url).toBe(
      `${hook.url.replace('http://', 'http://hooker:%5Bredacted%5D@')}/basic`,
    );
    const { id: _i, projectId: _p, createdAt: _c, updatedAt: _u, ...editable } = got.body;
    expect(
      (await api('PUT', `/api/v1/rules/${ruleId}`, tokenA, { ...editable, name: 'renamed' })).status,
    ).toBe(200);
    const [stored] = await beacon.ctx.db.query<{ actions: Array<{ url: string }> }>(
      'SELECT actions FROM alert_rules WHERE id = $1',
      [ruleId],
    );
    expect(stored!.actions.map((a) => a.url)).toEqual([`${withPass}/basic`, `${hook.url}/slack-secret-path`]);
    const elsewhere = await api('PUT', `/api/v1/rules/${ruleId}`, tokenA, {
      ...editable,
      actions: [{ type: 'webhook', url: 'http://x:%5Bredacted%5D@elsewhere.test/' }],
    });
    expect(elsewhere.status).toBe(400);
    expect((await api('DELETE', `/api/v1/rules/${ruleId}`, tokenA)).status).toBe(204);
  });

  it('acknowledges and resolves alerts; silences mute until their end', async () => {
    const rule = await api('POST', `/api/v1/projects/${projectA}/rules`, tokenA, {
      name: 'fatal',
      trigger: { type: 'new_issue' },
      actions: [{ type: 'webhook', url: `${hook.url}/state` }],
    });
    await publish('issueUpdates', projectA, [issueUpdate(projectA, 100, { type: 'created' })]);
    published += 1;
    await settle();
    const list = await api('GET', `/api/v1/projects/${projectA}/alerts?state=firing`, tokenA);
    const alert = list.body.alerts.find((a: { ruleId: number }) => a.ruleId === rule.body.id);
    expect(alert.state).toBe('firing');
    const ack = await api('POST', `/api/v1/alerts/${alert.id}/acknowledge`, tokenA);
    expect(ack.body).toMatchObject({ state: 'acknowledged', acknowledgedAt: expect.any(String) });
    // Listing filters: open (firing or acknowledged), by rule, by issue.
    const ids = async (query: string) =>
      (await api('GET', `/api/v1/projects/${projectA}/alerts?${query}`, tokenA)).body.alerts.map(
        (a: { id: number }) => a.id,
      );
    expect(await ids(`state=open&ruleId=${rule.body.id}`)).toEqual([alert.id]);
    expect(await ids(`state=firing&ruleId=${rule.body.id}`)).toEqual([]);
    const byIssue = (await api('GET', `/api/v1/projects/${projectA}/alerts?issueId=100`, tokenA)).body.alerts;
    expect(byIssue.map((a: { id: number }) => a.id)).toContain(alert.id);
    expect(new Set(byIssue.map((a: { issueId: number }) => a.issueId))).toEqual(new Set([100]));
    expect(await ids('issueId=99999')).toEqual([]);
    expect((await api('POST', `/api/v1/alerts/${alert.id}/acknowledge`, tokenA)).status).toBe(200);
    expect((await api('POST', `/api/v1/alerts/${alert.id}/resolve`, tokenA)).body.state).toBe('resolved');
    expect((await api('POST', `/api/v1/alerts/${alert.id}/acknowledge`, tokenA)).status).toBe(409);
    expect(await ids(`state=open&ruleId=${rule.body.id}`)).toEqual([]);

    const past = await api('POST', `/api/v1/projects/${projectA}/silences`, tokenA, {
      until: new Date(Date.now() - 1000).toISOString(),
    });
    expect(past.status).toBe(400);
    const silence = await api('POST', `/api/v1/projects/${projectA}/silences`, tokenA, {
      ruleId: rule.body.id,
      until: new Date(Date.now() + 3_600_000).toISOString(),
      comment: 'deploying',
    });
    expect(silence.status).toBe(201);
    expect((await api('GET', `/api/v1/projects/${projectA}/silences`, tokenA)).body.silences).toHaveLength(1);
    await publish('issueUpdates', projectA, [issueUpdate(projectA, 101, { type: 'created' })]);
    published += 1;
    await settle();
    expect(hook.delivered('/state')).toHaveLength(1);
    expect(
      (await api('DELETE', `/api/v1/projects/${projectA}/silences/${silence.body.id}`, tokenA)).status,
    ).toBe(204);
    expect((await api('GET', `/api/v1/projects/${projectA}/silences`, tokenA)).body.silences).toHaveLength(0);
    await publish('issueUpdates', projectA, [issueUpdate(projectA, 102, { type: 'created' })]);
    published += 1;
    await settle();
    expect(hook.delivered('/state')).toHaveLength(2);
    expect((await api('DELETE', `/api/v1/rules/${rule.body.id}`, tokenA)).status).toBe(204);
    expect((await api('GET', `/api/v1/rules/${rule.body.id}`, tokenA)).status).toBe(404);
  });

  it("delivers a monitor event to the service's subscribed uptime webhooks exactly once, signed", async () => {
    const service = await api('POST', '/api/v1/services', tokenA, { name: 'Checkout', projectId: projectA });
    expect(service.status, JSON.stringify(service.body)).toBe(201);
    const secret = 'uptime-hook-secret';
    const wh = await api('POST', '/api/v1/webhooks', tokenA, {
      serviceId: service.body.id,
      url: `${hook.url}/uptime-hook`,
      events: ['incident_start'],
      secret,
    });
    expect(wh.status, JSON.stringify(wh.body)).toBe(201);
    const start = monitorEvent(projectA, service.body.id, 77, 'incident_start', 500);
    await publish('monitorEvents', 77, [
      start,
      start, // redelivered
      monitorEvent(projectA, service.body.id, 77, 'incident_resolved', 500), // not subscribed
      monitorEvent(projectA, service.body.id + 1000, 78, 'incident_start', 501), // another service
    ]);
    published += 3;
    await settle();
    const got = hook.delivered('/uptime-hook');
    expect(got).toHaveLength(1);
    expect(got[0]!.headers['x-beacon-signature']).toBe(
      `sha256=${createHmac('sha256', secret).update(got[0]!.body).digest('hex')}`,
    );
    expect(got[0]!.json).toMatchObject({
      kind: 'monitor_event',
      webhookId: wh.body.id,
      event: { eventId: start.eventId, type: 'incident_start', service: { id: service.body.id } },
    });
  });

  it('keeps every route closed to other tenants and to anonymous callers', async () => {
    const rules = await api('GET', `/api/v1/projects/${projectA}/rules`, tokenA);
    const ruleId = rules.body.rules[0].id;
    const alertId = (await api('GET', `/api/v1/projects/${projectA}/alerts`, tokenA)).body.alerts[0].id;
    const deliveryId = (await api('GET', `/api/v1/projects/${projectA}/deliveries`, tokenA)).body
      .deliveries[0].id;
    const body = {
      name: 'x',
      trigger: { type: 'new_issue' },
      actions: [{ type: 'webhook', url: `${hook.url}/x` }],
    };
    const calls: Array<[string, string, unknown?]> = [
      ['GET', `/api/v1/projects/${projectA}/rules`],
      ['POST', `/api/v1/projects/${projectA}/rules`, body],
      ['GET', `/api/v1/rules/${ruleId}`],
      ['PUT', `/api/v1/rules/${ruleId}`, body],
      ['POST', `/api/v1/rules/${ruleId}/test`],
      ['DELETE', `/api/v1/rules/${ruleId}`],
      ['GET', `/api/v1/projects/${projectA}/alerts`],
      ['GET', `/api/v1/alerts/${alertId}`],
      ['POST', `/api/v1/alerts/${alertId}/acknowledge`],
      ['POST', `/api/v1/alerts/${alertId}/resolve`],
      ['GET', `/api/v1/projects/${projectA}/silences`],
      [
        'POST',
        `/api/v1/projects/${projectA}/silences`,
        { until: new Date(Date.now() + 60_000).toISOString() },
      ],
      ['GET', `/api/v1/projects/${projectA}/deliveries?state=dead`],
      ['GET', `/api/v1/deliveries/${deliveryId}`],
      ['POST', `/api/v1/deliveries/${deliveryId}/replay`],
    ];
    for (const [method, path, b] of calls) {
      const asB = await api(method, path, tokenB, b);
      expect(asB.status, `${method} ${path} as another tenant`).toBe(404);
      const anon = await api(method, path, '', b);
      expect(anon.status, `${method} ${path} anonymously`).toBe(401);
    }
    // B's own project still works for B, and A's rule is untouched.
    expect((await api('GET', `/api/v1/projects/${projectB}/rules`, tokenB)).body.rules).toEqual([]);
    expect((await api('GET', `/api/v1/rules/${ruleId}`, tokenA)).status).toBe(200);
  });
});
