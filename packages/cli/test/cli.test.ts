import { statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  requirePg,
  startTestBeacon,
  type TestBeacon,
  tempDir,
  waitFor,
} from '../../server/src/test-support/index.js';
import { buildCli, runCli, startReceiver } from './helpers.js';

describe.runIf(requirePg())('beacon CLI against a real server', () => {
  let beacon: TestBeacon;
  const home = tempDir('beacon-cli-');
  const env = { BEACON_CONFIG_DIR: home.path };
  const beaconCli = (...args: string[]) => runCli(args, env);
  let projectId: number;

  beforeAll(async () => {
    buildCli();
    beacon = await startTestBeacon();
    const res = await fetch(`${beacon.url}/api/v1/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'cli@example.com', password: 'correct horse battery', name: 'CLI User' }),
    });
    expect(res.status).toBe(201);
  });
  afterAll(async () => {
    await beacon?.close();
    home.remove();
  });

  it('logs in with email and password, stores the token 0600, and whoami answers', async () => {
    const login = await beaconCli(
      'login',
      '--url',
      beacon.url,
      '--email',
      'cli@example.com',
      '--password',
      'correct horse battery',
    );
    expect(login.stderr).toBe('');
    expect(login.code).toBe(0);
    expect(login.stdout).toMatch(/Logged in to http:\/\/127\.0\.0\.1:\d+ as cli@example\.com/);
    const file = path.join(home.path, 'credentials.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const who = await beaconCli('whoami');
    expect(who.code).toBe(0);
    expect(who.stdout).toMatch(/email:\s+cli@example\.com/);
    const whoJson = await beaconCli('--json', 'whoami');
    expect(whoJson.json<{ user: { email: string } }>().user.email).toBe('cli@example.com');
  });

  it('creates, lists, gets and deletes projects in table and JSON modes', async () => {
    const created = await beaconCli(
      '--json',
      'projects',
      'create',
      '--name',
      'Checkout',
      '--platform',
      'node',
    );
    expect(created.code).toBe(0);
    const p = created.json<{ id: number; dsn: string; keys: Array<{ secretKey: string }> }>();
    projectId = p.id;
    expect(p.dsn).toMatch(
      new RegExp(`^http://[0-9a-f]{32}@localhost:\\d+/${p.id}$|^http://[0-9a-f]{32}@[^/]+/${p.id}$`),
    );
    expect(p.keys[0]!.secretKey.length).toBeGreaterThan(20);

    const table = await beaconCli('projects', 'list');
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+SLUG\s+NAME\s+PLATFORM\s+DSN$/);
    expect(lines[1]).toMatch(new RegExp(`^${p.id}\\s+checkout\\s+Checkout\\s+node\\s+http`));

    const list = await beaconCli('--json', 'projects', 'list');
    expect(list.json<Array<{ id: number }>>().map((x) => x.id)).toEqual([p.id]);

    const got = await beaconCli('projects', 'get', String(p.id));
    expect(got.stdout).toMatch(/name:\s+Checkout/);

    const extra = await beaconCli('--json', 'projects', 'create', '--name', 'Temp');
    const tempId = extra.json<{ id: number }>().id;
    const del = await beaconCli('projects', 'delete', String(tempId));
    expect([del.code, del.stdout.trim()]).toEqual([0, `Deleted project ${tempId}.`]);
    const gone = await beaconCli('projects', 'get', String(tempId));
    expect(gone.code).toBe(4);
    expect(gone.stderr).toMatch(/^beacon: .*not found.*\(HTTP 404/);
  });

  it('lists, creates, rotates and disables keys', async () => {
    const created = await beaconCli(
      '--json',
      'keys',
      'create',
      '--project',
      String(projectId),
      '--label',
      'ci',
      '--rate-limit',
      '600',
    );
    expect(created.code).toBe(0);
    const k = created.json<{
      id: number;
      publicKey: string;
      secretKey: string;
      rateLimitPerMinute: number;
    }>();
    expect(k.rateLimitPerMinute).toBe(600);
    const list = await beaconCli('keys', 'list', '--project', String(projectId));
    expect(list.stdout).toContain(k.publicKey);
    expect(list.stdout).not.toContain(k.secretKey);
    const rotated = await beaconCli('--json', 'keys', 'rotate', String(k.id), '--project', String(projectId));
    expect(rotated.json<{ secretKey: string }>().secretKey).not.toBe(k.secretKey);
    const disabled = await beaconCli('keys', 'disable', String(k.id), '--project', String(projectId));
    expect([disabled.code, disabled.stdout.trim()]).toEqual([0, `Disabled key ${k.id}.`]);
    const after = await beaconCli('--json', 'keys', 'list', '--project', String(projectId));
    expect(after.json<Array<{ id: number; enabled: boolean }>>().find((x) => x.id === k.id)?.enabled).toBe(
      false,
    );
  });

  it('sends a test event end to end, then lists, shows, resolves and ignores issues and their events', async () => {
    const dsn = (await beaconCli('--json', 'projects', 'get', String(projectId))).json<{ dsn: string }>().dsn;
    const sent = await beaconCli('--json', 'send-test-event', '--dsn', dsn);
    expect(sent.stderr).toBe('');
    const r = sent.json<{ eventId: string; accepted: boolean; processed: boolean; issueId: number }>();
    expect([r.accepted, r.processed, typeof r.issueId]).toEqual([true, true, 'number']);
    const human = await beaconCli('send-test-event', '--project', String(projectId));
    expect(human.stdout).toMatch(
      new RegExp(`^Event [0-9a-f]{32} accepted and grouped into issue ${r.issueId}.$`, 'm'),
    );

    const list = await beaconCli('issues', 'list', '--project', String(projectId));
    expect(list.stdout.split('\n')[0]).toMatch(/^ID\s+STATUS\s+LEVEL\s+COUNT\s+USERS\s+LAST SEEN\s+TITLE$/);
    expect(list.stdout).toMatch(
      new RegExp(`^${r.issueId}\\s+unresolved\\s+error\\s+2\\s+.*BeaconTestError`, 'm'),
    );
    const listJson = await beaconCli(
      '--json',
      'issues',
      'list',
      '--project',
      String(projectId),
      '--level',
      'error',
      '--query',
      'BeaconTest',
    );
    expect(listJson.json<{ items: Array<{ id: number; count: number }> }>().items).toEqual([
      expect.objectContaining({ id: r.issueId, count: 2 }),
    ]);
    const show = await beaconCli('issues', 'show', String(r.issueId));
    expect(show.stdout).toMatch(/title:\s+BeaconTestError: This is a test event/);
    const events = await beaconCli('--json', 'issues', 'events', String(r.issueId), '--limit', '5');
    expect(events.json<{ items: Array<{ eventId: string }> }>().items.map((e) => e.eventId)).toContain(
      r.eventId,
    );
    const resolved = await beaconCli('issues', 'resolve', String(r.issueId));
    expect([resolved.code, resolved.stdout.trim()]).toEqual([0, `Issue ${r.issueId} is now resolved.`]);
    const ignored = await beaconCli('--json', 'issues', 'ignore', String(r.issueId));
    expect(ignored.json<{ status: string }>().status).toBe('ignored');
    const unknown = await beaconCli('issues', 'show', '987654');
    expect(unknown.code).toBe(4);
  });

  it('creates, lists and deletes rules, and lists and acknowledges the alerts they raise', async () => {
    const receiver = await startReceiver();
    try {
      const rule = await beaconCli(
        '--json',
        'rules',
        'create',
        '--project',
        String(projectId),
        '--name',
        'new bugs',
        '--trigger',
        'new_issue',
        '--webhook',
        receiver.url,
      );
      expect(rule.stderr).toBe('');
      const ruleId = rule.json<{ id: number }>().id;
      const bad = await beaconCli(
        'rules',
        'create',
        '--project',
        String(projectId),
        '--name',
        'x',
        '--trigger',
        'nope',
        '--webhook',
        receiver.url,
      );
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/^beacon: .*trigger/);
      const rules = await beaconCli('rules', 'list', '--project', String(projectId));
      expect(rules.stdout).toMatch(
        new RegExp(`^${ruleId}\\s+new bugs\\s+new_issue\\s+webhook\\s+true$`, 'm'),
      );

      // A new issue fires the rule.
      const dsn = (await beaconCli('--json', 'projects', 'get', String(projectId))).json<{ dsn: string }>()
        .dsn;
      const env2 = { ...env };
      const body = `${JSON.stringify({})}\n${JSON.stringify({ type: 'event' })}\n${JSON.stringify({ level: 'error', exception: { values: [{ type: 'FreshError', value: 'brand new' }] } })}\n`;
      const u = new URL(dsn);
      const res = await fetch(
        `${u.protocol}//${u.host}/api/${projectId}/envelope/?sentry_key=${u.username}`,
        { method: 'POST', body },
      );
      expect(res.status).toBe(200);
      const alert = await waitFor(
        async () => {
          const a = await runCli(
            ['--json', 'alerts', 'list', '--project', String(projectId), '--state', 'firing'],
            env2,
          );
          return a
            .json<{ alerts: Array<{ id: number; ruleName: string }> }>()
            .alerts.find((x) => x.ruleName === 'new bugs');
        },
        { what: 'the alert', timeout: 20_000 },
      );
      const table = await beaconCli('alerts', 'list', '--project', String(projectId));
      expect(table.stdout).toMatch(new RegExp(`^${alert.id}\\s+firing\\s+new bugs\\s+1\\s+`, 'm'));
      const ack = await beaconCli('alerts', 'ack', String(alert.id));
      expect([ack.code, ack.stdout.trim()]).toEqual([0, `Alert ${alert.id} acknowledged.`]);
      const acked = await beaconCli(
        '--json',
        'alerts',
        'list',
        '--project',
        String(projectId),
        '--state',
        'acknowledged',
      );
      expect(acked.json<{ alerts: Array<{ id: number }> }>().alerts.map((a) => a.id)).toContain(alert.id);

      const del = await beaconCli('rules', 'delete', String(ruleId));
      expect([del.code, del.stdout.trim()]).toEqual([0, `Deleted rule ${ruleId}.`]);
      expect((await beaconCli('rules', 'delete', String(ruleId))).code).toBe(4);
    } finally {
      await receiver.close();
    }
  });

  it("runs the seed's monitoring commands: services, endpoints, pings, incidents, webhooks", async () => {
    const target = await startReceiver(503);
    try {
      const svc = await beaconCli(
        '--json',
        'services',
        'create',
        '--name',
        'payments',
        '--description',
        'Payments API',
      );
      const serviceId = svc.json<{ id: number; name: string }>().id;
      expect((await beaconCli('services', 'list')).stdout).toMatch(
        new RegExp(`^${serviceId}\\s+payments\\s+Payments API`, 'm'),
      );
      expect((await beaconCli('services', 'get', String(serviceId))).stdout).toMatch(/name:\s+payments/);
      const renamed = await beaconCli(
        '--json',
        'services',
        'update',
        String(serviceId),
        '--name',
        'payments-eu',
      );
      expect(renamed.json<{ name: string }>().name).toBe('payments-eu');
      expect((await beaconCli('services', 'update', String(serviceId))).code).toBe(2);

      const ep = await beaconCli(
        '--json',
        'endpoints',
        'create',
        '--service-id',
        String(serviceId),
        '--name',
        'health',
        '--url',
        target.url,
        '--interval',
        '10',
      );
      expect(ep.stderr).toBe('');
      const endpointId = ep.json<{ id: number }>().id;
      const tooFast = await beaconCli(
        'endpoints',
        'create',
        '--service-id',
        String(serviceId),
        '--name',
        'x',
        '--url',
        target.url,
        '--interval',
        '5',
      );
      expect(tooFast.code).toBe(2);
      expect(tooFast.stderr).toMatch(/interval/);
      const eps = await beaconCli('endpoints', 'list', '--service-id', String(serviceId));
      expect(eps.stdout).toMatch(
        new RegExp(
          `^${endpointId}\\s+${serviceId}\\s+health\\s+http://127\\.0\\.0\\.1:\\d+/\\s+10\\s+true`,
          'm',
        ),
      );
      expect((await beaconCli('endpoints', 'get', String(endpointId))).stdout).toMatch(/interval:\s+10/);

      const hook = await beaconCli(
        '--json',
        'webhooks',
        'create',
        '--service-id',
        String(serviceId),
        '--url',
        target.url,
        '--events',
        'incident_start,incident_resolved',
      );
      const hookId = hook.json<{ id: number; events: string[] }>().id;
      expect(hook.json<{ events: string[] }>().events).toEqual(['incident_start', 'incident_resolved']);
      expect(
        (
          await beaconCli(
            'webhooks',
            'create',
            '--service-id',
            String(serviceId),
            '--url',
            target.url,
            '--events',
            'bogus',
          )
        ).code,
      ).toBe(2);
      expect((await beaconCli('webhooks', 'list')).stdout).toMatch(
        new RegExp(`^${hookId}\\s+${serviceId}\\s+http`, 'm'),
      );

      // The target answers 503: pings fail and, after the threshold, an incident opens.
      const ping = await waitFor(
        async () => {
          const p = await beaconCli(
            '--json',
            'pings',
            'list',
            '--endpoint-id',
            String(endpointId),
            '--limit',
            '10',
          );
          return p.json<Array<{ ok: boolean; statusCode: number }>>()[0];
        },
        { what: 'a ping', timeout: 30_000 },
      );
      expect([ping.ok, ping.statusCode]).toEqual([false, 503]);
      const pings = await beaconCli('pings', 'list', '--endpoint-id', String(endpointId));
      expect(pings.stdout.split('\n')[0]).toMatch(/^CHECKED\s+OK\s+STATUS\s+HTTP\s+MS\s+ERROR$/);
      expect(pings.stdout).toMatch(/\s+false\s+\S+\s+503\s+/);

      await beaconCli('endpoints', 'update', String(endpointId), '--interval', '10');
      const incident = await waitFor(
        async () => {
          const i = await beaconCli('--json', 'incidents', 'list', '--status', 'open');
          return i.json<Array<{ id: number; endpointId: number }>>().find((x) => x.endpointId === endpointId);
        },
        { what: 'an open incident', timeout: 60_000 },
      );
      expect((await beaconCli('incidents', 'list', '--status', 'open')).stdout).toMatch(
        new RegExp(`^${incident.id}\\s+${endpointId}\\s+open\\s+`, 'm'),
      );
      const resolved = await beaconCli('incidents', 'resolve', String(incident.id));
      expect([resolved.code, resolved.stdout.trim()]).toEqual([0, `Incident ${incident.id} resolved.`]);

      const paused = await beaconCli('--json', 'endpoints', 'update', String(endpointId), '--enabled=false');
      expect(paused.json<{ enabled: boolean }>().enabled).toBe(false);
      expect((await beaconCli('endpoints', 'update', String(endpointId), '--enabled=maybe')).code).toBe(2);
      expect((await beaconCli('webhooks', 'delete', String(hookId))).stdout.trim()).toBe(
        `Deleted webhook ${hookId}.`,
      );
      expect((await beaconCli('endpoints', 'delete', String(endpointId))).stdout.trim()).toBe(
        `Deleted endpoint ${endpointId}.`,
      );
      expect((await beaconCli('services', 'delete', String(serviceId))).stdout.trim()).toBe(
        `Deleted service ${serviceId}.`,
      );
      expect((await beaconCli('services', 'get', String(serviceId))).code).toBe(4);
    } finally {
      await target.close();
    }
  });

  it('answers errors with one line and distinct exit codes', async () => {
    const badToken = await runCli(['projects', 'list'], {
      ...env,
      BEACON_TOKEN: 'bcn_not_a_real_token_000000',
    });
    expect(badToken.code).toBe(3);
    expect(badToken.stderr.trim().split('\n')).toHaveLength(1);
    const unknown = await beaconCli('projects', 'get', '999999');
    expect(unknown.code).toBe(4);
    const down = await runCli(['projects', 'list'], { ...env, BEACON_URL: 'http://127.0.0.1:59999' });
    expect(down.code).toBe(5);
    expect(down.stderr.trim()).toMatch(
      /^beacon: cannot reach Beacon at http:\/\/127\.0\.0\.1:59999 \(ECONNREFUSED\)$/,
    );
    // Something that is not Beacon answers 200: say so instead of printing an empty table.
    const page = await startReceiver(200, { type: 'text/html', text: '<html>login</html>' });
    const odd = await startReceiver(200, { type: 'application/json', text: '{"ok":true}' });
    try {
      const html = await runCli(['projects', 'list'], { ...env, BEACON_URL: page.url });
      expect([html.code, html.stderr.trim()]).toEqual([
        1,
        `beacon: unexpected answer from ${page.url.slice(0, -1)}: not JSON (is this a Beacon server?)`,
      ]);
      const shape = await runCli(['issues', 'list', '--project', '1'], { ...env, BEACON_URL: odd.url });
      expect([shape.code, shape.stderr.trim()]).toEqual([
        1,
        'beacon: unexpected answer from the server: expected a list',
      ]);
    } finally {
      await page.close();
      await odd.close();
    }
    const usage = await beaconCli('projects', 'get', 'abc');
    expect(usage.code).toBe(2);
    const missing = await beaconCli('keys', 'list');
    expect([missing.code, missing.stderr.trim()]).toEqual([
      2,
      'beacon: --project <id> is required (or set BEACON_PROJECT)',
    ]);
    const help = await beaconCli('projects', 'create', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Example:\n {2}beacon projects create --name checkout/);
  });

  it('logs out', async () => {
    const out = await beaconCli('logout');
    expect([out.code, out.stdout.trim()]).toEqual([0, 'Logged out.']);
    const who = await beaconCli('whoami');
    expect(who.code).toBe(2);
    expect(who.stderr).toMatch(/no server: run `beacon login/);
  });
});
