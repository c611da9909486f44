import { statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePg, startTestBeacon, type TestBeacon, tempDir } from '../../server/src/test-support/index.js';
import { buildCli, runCli } from './helpers.js';

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
