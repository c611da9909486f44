import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Beacon, startBeacon } from '../beacon.js';
import { createLogger } from '../platform/logger.js';
import {
  createTestDatabase,
  requirePg,
  type TestDatabase,
  testConfig,
  waitFor,
} from '../test-support/index.js';
import { findProjectKeyByAny, findProjectKeyByPublic } from './keys.js';

const JWT_KEY = 'identity-test-jwt-key-0123456789-abcdefgh';
const PUBLIC_URL = 'https://beacon.example.com';

interface Res {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: test responses are checked field by field
  body: any;
}

interface Session {
  user: { id: number; email: string; name: string };
  accessToken: string;
  refreshToken: string;
}

describe.runIf(requirePg())('identity', () => {
  let beacon: Beacon;
  let db: TestDatabase;
  let smtp: SMTPServer;
  const mails: string[] = [];
  const logLines: string[] = [];
  /** Every secret handed out during the suite; none may be stored or logged in clear. */
  const secrets: string[] = [];

  beforeAll(async () => {
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, _session, cb) {
        let data = '';
        stream.on('data', (d) => {
          data += d;
        });
        stream.on('end', () => {
          mails.push(data);
          cb();
        });
      },
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
    const smtpPort = (smtp.server.address() as AddressInfo).port;
    db = await createTestDatabase();
    const config = testConfig({
      DATABASE_URL: db.url,
      JWT_KEY,
      BEACON_ROLES: 'api',
      BEACON_PUBLIC_URL: PUBLIC_URL,
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      LOG_LEVEL: 'trace',
    });
    const log = createLogger('trace', {
      write: (s: string) => {
        logLines.push(s);
      },
    });
    beacon = await startBeacon(config, log);
  });

  afterAll(async () => {
    await beacon?.stop();
    await db?.drop();
    await new Promise<void>((r) => (smtp ? smtp.close(() => r()) : r()));
  });

  async function call(
    method: string,
    path: string,
    opts: { token?: string; body?: unknown; ip?: string } = {},
  ): Promise<Res> {
    const headers: Record<string, string> = {};
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.ip) headers['x-forwarded-for'] = opts.ip;
    const res = await fetch(beacon.url + path, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  }

  async function signup(
    email: string,
    password: string,
    extra: Record<string, unknown> = {},
  ): Promise<Session> {
    secrets.push(password);
    const r = await call('POST', '/api/v1/auth/signup', {
      body: { email, password, name: email.split('@')[0], ...extra },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    secrets.push(r.body.refreshToken);
    return r.body;
  }

  async function createProject(token: string, name: string, orgId?: number) {
    const r = await call('POST', '/api/v1/projects', { token, body: { name, orgId } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    for (const k of r.body.keys) secrets.push(k.secretKey);
    return r.body;
  }

  it('reports needsSetup until the first account exists', async () => {
    expect((await call('GET', '/api/v1/setup')).body).toEqual({ needsSetup: true });
    await signup('first@example.com', 'first-password-1');
    expect((await call('GET', '/api/v1/setup')).body).toEqual({ needsSetup: false });
  });

  it('walks signup → signin → refresh → reuse of the old refresh token (401, family revoked) → signout', async () => {
    const a = await signup('alice@example.com', 'alice-password-1');
    expect(a.user).toEqual({ id: expect.any(Number), email: 'alice@example.com', name: 'alice' });
    const me = await call('GET', '/api/v1/me', { token: a.accessToken });
    expect(me.status).toBe(200);
    expect(me.body.orgs).toEqual([
      { id: expect.any(Number), name: "alice's organization", slug: expect.any(String), role: 'owner' },
    ]);

    const signin = await call('POST', '/api/v1/auth/signin', {
      body: { email: 'alice@example.com', password: 'alice-password-1' },
    });
    expect(signin.status).toBe(200);
    expect(signin.body.user.id).toBe(a.user.id);
    const b: Session = signin.body;
    secrets.push(b.refreshToken);

    const r1 = await call('POST', '/api/v1/auth/refresh', { body: { refreshToken: b.refreshToken } });
    expect(r1.status).toBe(200);
    expect(r1.body.refreshToken).not.toBe(b.refreshToken);
    secrets.push(r1.body.refreshToken);
    expect((await call('GET', '/api/v1/me', { token: r1.body.accessToken })).status).toBe(200);

    // The old token again: refused, and the whole family (including the newer token) is revoked.
    const reuse = await call('POST', '/api/v1/auth/refresh', { body: { refreshToken: b.refreshToken } });
    expect(reuse.status).toBe(401);
    expect(reuse.body.error.code).toBe('unauthorized');
    expect(
      (await call('POST', '/api/v1/auth/refresh', { body: { refreshToken: r1.body.refreshToken } })).status,
    ).toBe(401);

    // The signup session is another family: unaffected. Signing out ends it.
    const r2 = await call('POST', '/api/v1/auth/refresh', { body: { refreshToken: a.refreshToken } });
    expect(r2.status).toBe(200);
    secrets.push(r2.body.refreshToken);
    expect(
      (await call('POST', '/api/v1/auth/signout', { body: { refreshToken: r2.body.refreshToken } })).status,
    ).toBe(204);
    expect(
      (await call('POST', '/api/v1/auth/refresh', { body: { refreshToken: r2.body.refreshToken } })).status,
    ).toBe(401);

    expect(
      (await call('POST', '/api/v1/auth/refresh', { body: { refreshToken: 'bcr_unknown' } })).status,
    ).toBe(401);
  });

  it('normalises emails, requires 8-character passwords and refuses duplicate accounts', async () => {
    const s = await signup('  Bob@Example.COM ', 'bob-password-1');
    expect(s.user.email).toBe('bob@example.com');
    const dup = await call('POST', '/api/v1/auth/signup', {
      body: { email: 'bob@example.com', password: 'x-password-2' },
    });
    expect(dup.status).toBe(409);
    const short = await call('POST', '/api/v1/auth/signup', {
      body: { email: 'carl@example.com', password: 'short12' },
    });
    expect(short.status).toBe(400);
    expect(short.body.error.message).toMatch(/at least 8/);
    expect(
      (await call('POST', '/api/v1/auth/signup', { body: { email: 'nope', password: 'long-enough' } }))
        .status,
    ).toBe(400);
    const ok = await call('POST', '/api/v1/auth/signin', {
      body: { email: 'BOB@example.com ', password: 'bob-password-1' },
    });
    expect(ok.status).toBe(200);
    secrets.push(ok.body.refreshToken);
    const wrong = await call('POST', '/api/v1/auth/signin', {
      body: { email: 'bob@example.com', password: 'wrong-pass' },
    });
    expect(wrong.status).toBe(401);
    const nobody = await call('POST', '/api/v1/auth/signin', {
      body: { email: 'x@example.com', password: 'wrong-pass' },
    });
    expect(nobody.status).toBe(401);
    expect(nobody.body.error.message).toBe(wrong.body.error.message);
  });

  it('rejects tampered, expired, wrongly-signed and unsigned JWTs with 401', async () => {
    const s = await signup('jwt@example.com', 'jwt-password-1');
    const other = await signup('jwt-other@example.com', 'jwt-password-2');
    expect((await call('GET', '/api/v1/me', { token: s.accessToken })).status).toBe(200);

    const [h, p, sig] = s.accessToken.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    const tamperedPayload = Buffer.from(JSON.stringify({ ...payload, sub: String(other.user.id) })).toString(
      'base64url',
    );
    const tampered = `${h}.${tamperedPayload}.${sig}`;
    const flipped = `${h}.${p}.${sig.slice(0, -2)}${sig.endsWith('AA') ? 'BB' : 'AA'}`;
    const key = new TextEncoder().encode(JWT_KEY);
    const sign = (claims: Record<string, unknown>, k = key) =>
      new SignJWT({ email: s.user.email, ...claims })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(String(s.user.id))
        .setIssuer('beacon')
        .setAudience('beacon-api')
        .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
        .setExpirationTime((claims.exp as number) ?? Math.floor(Date.now() / 1000) + 600)
        .sign(k);
    const expired = await sign({ exp: Math.floor(Date.now() / 1000) - 3600 });
    const wrongKey = await sign({}, new TextEncoder().encode('another-key-0123456789-0123456789-abcdef'));
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${p}.`;
    // Control: a token signed correctly by hand is accepted, so the failures below are the tampering.
    expect((await call('GET', '/api/v1/me', { token: await sign({}) })).status).toBe(200);

    for (const [what, token] of [
      ['tampered payload', tampered],
      ['altered signature', flipped],
      ['expired', expired],
      ['wrong key', wrongKey],
      ['alg none', unsigned],
      ['garbage', 'not-a-jwt'],
    ] as const) {
      const r = await call('GET', '/api/v1/me', { token });
      expect(r.status, what).toBe(401);
      expect(r.body.error.code, what).toBe('unauthorized');
    }
    expect((await call('GET', '/api/v1/me')).status).toBe(401);
  });

  it('creates projects with a DSN and a once-shown secret; keys resolve for ingest, rotate, disable and delete', async () => {
    const s = await signup('keys@example.com', 'keys-password-1');
    const t = s.accessToken;
    const p = await createProject(t, 'Web Shop');
    const k0 = p.keys[0];
    expect(p).toMatchObject({
      id: expect.any(Number),
      slug: 'web-shop',
      name: 'Web Shop',
      retentionDays: 90,
    });
    expect(k0.publicKey).toMatch(/^[0-9a-f]{32}$/);
    expect(k0.secretKey).toMatch(/^[0-9a-f]{32}$/);
    expect(p.dsn).toBe(`https://${k0.publicKey}@beacon.example.com/${p.id}`);

    const got = await call('GET', `/api/v1/projects/${p.id}`, { token: t });
    expect(got.body).toMatchObject({ id: p.id, dsn: p.dsn, role: 'owner' });
    expect(JSON.stringify(got.body)).not.toContain(k0.secretKey);
    const listed = await call('GET', `/api/v1/projects/${p.id}/keys`, { token: t });
    expect(listed.body).toHaveLength(1);
    expect(listed.body[0].secretKey).toBeUndefined();
    expect(JSON.stringify(listed.body)).not.toContain(k0.secretKey);
    expect(
      (await call('GET', '/api/v1/projects', { token: t })).body.map((x: { id: number }) => x.id),
    ).toEqual([p.id]);

    const ctx = beacon.ctx;
    const info = {
      keyId: k0.id,
      projectId: p.id,
      publicKey: k0.publicKey,
      enabled: true,
      rateLimitPerMinute: null,
    };
    expect(await findProjectKeyByPublic(ctx, k0.publicKey)).toEqual(info);
    expect(await findProjectKeyByAny(ctx, k0.secretKey)).toEqual(info);
    expect(await findProjectKeyByAny(ctx, k0.publicKey)).toEqual(info);
    expect(await findProjectKeyByAny(ctx, 'f'.repeat(32))).toBeUndefined();
    expect(await findProjectKeyByPublic(ctx, 'not-hex')).toBeUndefined();

    const rotated = await call('POST', `/api/v1/projects/${p.id}/keys/${k0.id}/rotate`, { token: t });
    expect(rotated.status).toBe(200);
    secrets.push(rotated.body.secretKey);
    expect(rotated.body.publicKey).toBe(k0.publicKey);
    expect(rotated.body.secretKey).not.toBe(k0.secretKey);
    expect(await findProjectKeyByAny(ctx, k0.secretKey)).toBeUndefined();
    expect(await findProjectKeyByAny(ctx, rotated.body.secretKey)).toEqual(info);

    const limited = await call('PATCH', `/api/v1/projects/${p.id}/keys/${k0.id}`, {
      token: t,
      body: { rateLimitPerMinute: 600, label: 'Prod' },
    });
    expect(limited.body).toMatchObject({ label: 'Prod', rateLimitPerMinute: 600, enabled: true });
    const disabled = await call('POST', `/api/v1/projects/${p.id}/keys/${k0.id}/disable`, { token: t });
    expect(disabled.body.enabled).toBe(false);
    expect(await findProjectKeyByPublic(ctx, k0.publicKey)).toEqual({
      ...info,
      enabled: false,
      rateLimitPerMinute: 600,
    });

    const k1 = await call('POST', `/api/v1/projects/${p.id}/keys`, { token: t, body: { label: 'Second' } });
    expect(k1.status).toBe(201);
    secrets.push(k1.body.secretKey);
    expect(k1.body.dsn).toBe(`https://${k1.body.publicKey}@beacon.example.com/${p.id}`);
    // The DSN shown for the project now comes from the enabled key.
    expect((await call('GET', `/api/v1/projects/${p.id}`, { token: t })).body.dsn).toBe(k1.body.dsn);
    expect((await call('DELETE', `/api/v1/projects/${p.id}/keys/${k0.id}`, { token: t })).status).toBe(204);
    expect(await findProjectKeyByPublic(ctx, k0.publicKey)).toBeUndefined();
    expect((await call('DELETE', `/api/v1/projects/${p.id}/keys/${k0.id}`, { token: t })).status).toBe(404);

    const patched = await call('PATCH', `/api/v1/projects/${p.id}`, {
      token: t,
      body: { name: 'Web Shop 2', platform: 'javascript', retentionDays: 30 },
    });
    expect(patched.body).toMatchObject({
      name: 'Web Shop 2',
      platform: 'javascript',
      retentionDays: 30,
      slug: 'web-shop',
    });
    const row = await ctx.db.one('SELECT retention_days, settings FROM projects WHERE id = $1', [p.id]);
    expect(row).toEqual({ retention_days: 30, settings: {} });

    expect((await call('DELETE', `/api/v1/projects/${p.id}`, { token: t })).status).toBe(204);
    expect((await call('GET', `/api/v1/projects/${p.id}`, { token: t })).status).toBe(404);
    expect(await findProjectKeyByPublic(ctx, k1.body.publicKey)).toBeUndefined();
  });

  it('accepts personal API tokens as Bearer: shown once, read scope cannot write, revocable', async () => {
    const s = await signup('tokens@example.com', 'tokens-password-1');
    const read = await call('POST', '/api/v1/tokens', {
      token: s.accessToken,
      body: { name: 'ci', scope: 'read' },
    });
    const write = await call('POST', '/api/v1/tokens', {
      token: s.accessToken,
      body: { name: 'cli', scope: 'write' },
    });
    expect(read.status).toBe(201);
    expect(read.body.token).toMatch(/^bcn_[\w-]{43}$/);
    secrets.push(read.body.token, write.body.token);

    const list = await call('GET', '/api/v1/tokens', { token: s.accessToken });
    expect(list.body.map((x: { name: string; scope: string }) => [x.name, x.scope])).toEqual([
      ['ci', 'read'],
      ['cli', 'write'],
    ]);
    expect(JSON.stringify(list.body)).not.toContain(read.body.token);

    const me = await call('GET', '/api/v1/me', { token: read.body.token });
    expect(me.body).toMatchObject({ user: { id: s.user.id }, via: 'token', scope: 'read' });
    const p = await createProject(write.body.token, 'Via Token');
    expect((await call('GET', `/api/v1/projects/${p.id}`, { token: read.body.token })).status).toBe(200);
    expect(
      (await call('PATCH', `/api/v1/projects/${p.id}`, { token: read.body.token, body: { name: 'x' } }))
        .status,
    ).toBe(403);
    expect(
      (await call('POST', '/api/v1/projects', { token: read.body.token, body: { name: 'nope' } })).status,
    ).toBe(403);
    expect(
      (
        await call('POST', '/api/v1/tokens', {
          token: read.body.token,
          body: { name: 'esc', scope: 'write' },
        })
      ).status,
    ).toBe(403);

    expect((await call('DELETE', `/api/v1/tokens/${read.body.id}`, { token: s.accessToken })).status).toBe(
      204,
    );
    expect((await call('GET', '/api/v1/me', { token: read.body.token })).status).toBe(401);
    expect((await call('GET', '/api/v1/me', { token: 'bcn_forged' })).status).toBe(401);
  });

  it('invites by email with a link from the public URL; the invitee joins with the given role', async () => {
    const owner = await signup('inviter@example.com', 'inviter-password-1');
    const orgId = (await call('GET', '/api/v1/orgs', { token: owner.accessToken })).body[0].id;
    const inv = await call('POST', `/api/v1/orgs/${orgId}/invitations`, {
      token: owner.accessToken,
      body: { email: 'Invitee@Example.com', role: 'viewer' },
    });
    expect(inv.status).toBe(201);
    expect(inv.body).toMatchObject({ email: 'invitee@example.com', role: 'viewer', emailed: true });
    expect(inv.body.link).toMatch(/^https:\/\/beacon\.example\.com\/signup\?invite=bci_[\w-]+$/);
    const token = inv.body.link.split('invite=').pop();
    secrets.push(token);
    const mail = await waitFor(() => mails.find((m) => m.includes('invitee@example.com')), {
      what: 'invitation email',
    });
    expect(mail.replace(/=\r?\n/g, '')).toContain(token);

    expect((await call('GET', `/api/v1/invitations/${token}`)).body).toMatchObject({
      orgId,
      email: 'invitee@example.com',
      role: 'viewer',
    });
    const joined = await signup('invitee@example.com', 'invitee-password-1', { inviteToken: token });
    const me = await call('GET', '/api/v1/me', { token: joined.accessToken });
    expect(me.body.orgs.map((o: { id: number; role: string }) => [o.id, o.role])).toEqual([
      [orgId, 'viewer'],
    ]);
    // Single use.
    expect((await call('GET', `/api/v1/invitations/${token}`)).status).toBe(404);

    // An existing user accepts a second invitation with their session; the email must match.
    const other = await signup('existing@example.com', 'existing-password-1');
    const inv2 = await call('POST', `/api/v1/orgs/${orgId}/invitations`, {
      token: owner.accessToken,
      body: { email: 'existing@example.com', role: 'member' },
    });
    const token2 = inv2.body.link.split('invite=').pop();
    secrets.push(token2);
    expect(
      (await call('POST', `/api/v1/invitations/${token2}/accept`, { token: joined.accessToken })).status,
    ).toBe(403);
    const acc = await call('POST', `/api/v1/invitations/${token2}/accept`, { token: other.accessToken });
    expect(acc.body).toEqual({ orgId, orgName: "inviter's organization", role: 'member' });
    const members = await call('GET', `/api/v1/orgs/${orgId}/members`, { token: owner.accessToken });
    expect(members.body.map((m: { email: string; role: string }) => [m.email, m.role])).toEqual([
      ['inviter@example.com', 'owner'],
      ['invitee@example.com', 'viewer'],
      ['existing@example.com', 'member'],
    ]);

    // The last owner can be neither demoted nor removed; an admin cannot touch owners.
    expect(
      (
        await call('PATCH', `/api/v1/orgs/${orgId}/members/${owner.user.id}`, {
          token: owner.accessToken,
          body: { role: 'admin' },
        })
      ).status,
    ).toBe(409);
    await call('PATCH', `/api/v1/orgs/${orgId}/members/${other.user.id}`, {
      token: owner.accessToken,
      body: { role: 'admin' },
    });
    expect(
      (await call('DELETE', `/api/v1/orgs/${orgId}/members/${owner.user.id}`, { token: other.accessToken }))
        .status,
    ).toBe(403);
    expect(
      (
        await call('PATCH', `/api/v1/orgs/${orgId}/members/${other.user.id}`, {
          token: other.accessToken,
          body: { role: 'owner' },
        })
      ).status,
    ).toBe(403);
  });

  it('answers 404 to other organizations and 403 to viewers on every project- and org-scoped route, changing nothing', async () => {
    const owner = await signup('tenant-owner@example.com', 'tenant-password-1');
    const orgId = (await call('GET', '/api/v1/orgs', { token: owner.accessToken })).body[0].id;
    const p = await createProject(owner.accessToken, 'Tenant App');
    const keyId = p.keys[0].id;
    const inv = await call('POST', `/api/v1/orgs/${orgId}/invitations`, {
      token: owner.accessToken,
      body: { email: 'tenant-viewer@example.com', role: 'viewer' },
    });
    const inviteToken = inv.body.link.split('invite=').pop();
    secrets.push(inviteToken);
    const viewer = await signup('tenant-viewer@example.com', 'viewer-password-1', { inviteToken });
    const pending = await call('POST', `/api/v1/orgs/${orgId}/invitations`, {
      token: owner.accessToken,
      body: { email: 'pending@example.com', role: 'member' },
    });
    secrets.push(pending.body.link.split('invite=').pop());
    const outsider = await signup('outsider@example.com', 'outsider-password-1');
    const outsiderRead = await call('POST', '/api/v1/tokens', {
      token: outsider.accessToken,
      body: { name: 'r', scope: 'write' },
    });
    secrets.push(outsiderRead.body.token);

    const snapshot = async () => {
      const out: Record<string, string[]> = {};
      for (const [table, where] of [
        ['organizations', `id = ${orgId}`],
        ['memberships', `org_id = ${orgId}`],
        ['invitations', `org_id = ${orgId}`],
        ['projects', `org_id = ${orgId}`],
        ['project_keys', `project_id = ${p.id}`],
      ])
        out[table] = (
          await beacon.ctx.db.query<{ t: string }>(
            `SELECT t::text AS t FROM ${table} t WHERE ${where} ORDER BY 1`,
          )
        ).map((r) => r.t);
      return out;
    };
    const before = await snapshot();

    // [method, path, body, viewer may do it]
    const routes: Array<[string, string, unknown, boolean]> = [
      ['GET', `/api/v1/projects/${p.id}`, undefined, true],
      ['PATCH', `/api/v1/projects/${p.id}`, { name: 'hijacked' }, false],
      ['DELETE', `/api/v1/projects/${p.id}`, undefined, false],
      ['GET', `/api/v1/projects/${p.id}/keys`, undefined, true],
      ['POST', `/api/v1/projects/${p.id}/keys`, { label: 'stolen' }, false],
      ['PATCH', `/api/v1/projects/${p.id}/keys/${keyId}`, { enabled: false }, false],
      ['POST', `/api/v1/projects/${p.id}/keys/${keyId}/disable`, undefined, false],
      ['POST', `/api/v1/projects/${p.id}/keys/${keyId}/enable`, undefined, false],
      ['POST', `/api/v1/projects/${p.id}/keys/${keyId}/rotate`, undefined, false],
      ['DELETE', `/api/v1/projects/${p.id}/keys/${keyId}`, undefined, false],
      ['GET', `/api/v1/projects?orgId=${orgId}`, undefined, true],
      ['POST', '/api/v1/projects', { name: 'intruder', orgId }, false],
      ['GET', `/api/v1/orgs/${orgId}`, undefined, true],
      ['PATCH', `/api/v1/orgs/${orgId}`, { name: 'hijacked' }, false],
      ['GET', `/api/v1/orgs/${orgId}/members`, undefined, true],
      ['PATCH', `/api/v1/orgs/${orgId}/members/${owner.user.id}`, { role: 'viewer' }, false],
      ['DELETE', `/api/v1/orgs/${orgId}/members/${owner.user.id}`, undefined, false],
      ['POST', `/api/v1/orgs/${orgId}/invitations`, { email: 'evil@example.com', role: 'owner' }, false],
      ['GET', `/api/v1/orgs/${orgId}/invitations`, undefined, false],
      ['DELETE', `/api/v1/orgs/${orgId}/invitations/${pending.body.id}`, undefined, false],
    ];
    for (const [method, path, body, viewerMay] of routes) {
      for (const token of [outsider.accessToken, outsiderRead.body.token]) {
        const r = await call(method, path, { token, body });
        expect([`outsider ${method} ${path}`, r.status, r.body.error?.code]).toEqual([
          `outsider ${method} ${path}`,
          404,
          'not_found',
        ]);
      }
      const v = await call(method, path, { token: viewer.accessToken, body });
      expect([`viewer ${method} ${path}`, v.status]).toEqual([
        `viewer ${method} ${path}`,
        viewerMay ? 200 : 403,
      ]);
      if (!viewerMay) expect(v.body.error.code).toBe('forbidden');
    }
    expect((await call('GET', '/api/v1/projects', { token: outsider.accessToken })).body).toEqual([]);
    expect(await snapshot()).toEqual(before);
  });

  it('changes the password: the old password and every earlier session stop working', async () => {
    const s = await signup('pw@example.com', 'pw-old-password');
    const wrong = await call('POST', '/api/v1/me/password', {
      token: s.accessToken,
      body: { currentPassword: 'not-it-at-all', newPassword: 'pw-new-password' },
    });
    expect(wrong.status).toBe(403);
    secrets.push('pw-new-password');
    const changed = await call('POST', '/api/v1/me/password', {
      token: s.accessToken,
      body: { currentPassword: 'pw-old-password', newPassword: 'pw-new-password' },
    });
    expect(changed.status).toBe(200);
    secrets.push(changed.body.refreshToken);
    expect(
      (await call('POST', '/api/v1/auth/refresh', { body: { refreshToken: s.refreshToken } })).status,
    ).toBe(401);
    const r = await call('POST', '/api/v1/auth/refresh', {
      body: { refreshToken: changed.body.refreshToken },
    });
    expect(r.status).toBe(200);
    secrets.push(r.body.refreshToken);
    const signin = (password: string) =>
      call('POST', '/api/v1/auth/signin', { body: { email: 'pw@example.com', password } });
    expect((await signin('pw-old-password')).status).toBe(401);
    const ok = await signin('pw-new-password');
    expect(ok.status).toBe(200);
    secrets.push(ok.body.refreshToken);
    const renamed = await call('PATCH', '/api/v1/me', { token: s.accessToken, body: { name: 'Pat' } });
    expect(renamed.body.user).toEqual({ id: s.user.id, email: 'pw@example.com', name: 'Pat' });
  });

  it('refuses expired refresh tokens and API tokens, and a second concurrent use of one refresh token', async () => {
    const s = await signup('expiry@example.com', 'expiry-password-1');
    const tok = await call('POST', '/api/v1/tokens', {
      token: s.accessToken,
      body: { name: 'short', scope: 'read', expiresInDays: 1 },
    });
    secrets.push(tok.body.token);
    expect(tok.body.expiresAt).not.toBeNull();
    expect((await call('GET', '/api/v1/me', { token: tok.body.token })).status).toBe(200);
    await beacon.ctx.db.query(
      `UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`,
      [tok.body.id],
    );
    expect((await call('GET', '/api/v1/me', { token: tok.body.token })).status).toBe(401);

    await beacon.ctx.db.query(
      `UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1`,
      [s.user.id],
    );
    expect(
      (await call('POST', '/api/v1/auth/refresh', { body: { refreshToken: s.refreshToken } })).status,
    ).toBe(401);

    const fresh = await call('POST', '/api/v1/auth/signin', {
      body: { email: 'expiry@example.com', password: 'expiry-password-1' },
    });
    secrets.push(fresh.body.refreshToken);
    const both = await Promise.all(
      [1, 2].map(() =>
        call('POST', '/api/v1/auth/refresh', { body: { refreshToken: fresh.body.refreshToken } }),
      ),
    );
    expect(both.map((r) => r.status).sort()).toEqual([200, 401]);
    const winner = both.find((r) => r.status === 200)!;
    secrets.push(winner.body.refreshToken);
    // The second use counts as reuse: the family, including the winner's new token, is revoked.
    expect(
      (await call('POST', '/api/v1/auth/refresh', { body: { refreshToken: winner.body.refreshToken } }))
        .status,
    ).toBe(401);

    const p1 = await createProject(s.accessToken, 'Slug One');
    const p2 = await createProject(s.accessToken, 'Slug Two');
    expect(
      (await call('PATCH', `/api/v1/projects/${p2.id}`, { token: s.accessToken, body: { slug: p1.slug } }))
        .status,
    ).toBe(409);
  });

  it('answers 400, not 500, to text fields holding a NUL character (PostgreSQL text cannot store it)', async () => {
    const s = await signup('nul@example.com', 'nul-password-1');
    const token = s.accessToken;
    const p = await createProject(token, 'Nul project');
    const orgId = p.orgId;
    const keyId = p.keys[0].id;
    const NUL = 'a\u0000b';
    const cases: Array<[string, string, unknown, string?]> = [
      ['POST', '/api/v1/auth/signup', { email: 'nul2@example.com', password: 'nul-password-2', name: NUL }],
      ['POST', '/api/v1/auth/signin', { email: NUL, password: 'whatever-1' }],
      ['PATCH', '/api/v1/me', { name: NUL }, token],
      ['POST', '/api/v1/orgs', { name: NUL }, token],
      ['PATCH', `/api/v1/orgs/${orgId}`, { name: NUL }, token],
      ['POST', `/api/v1/orgs/${orgId}/invitations`, { email: `x${NUL}@example.com` }, token],
      ['POST', '/api/v1/projects', { name: NUL }, token],
      ['POST', '/api/v1/projects', { name: 'ok', platform: NUL }, token],
      ['PATCH', `/api/v1/projects/${p.id}`, { name: NUL }, token],
      ['POST', `/api/v1/projects/${p.id}/keys`, { label: NUL }, token],
      ['PATCH', `/api/v1/projects/${p.id}/keys/${keyId}`, { label: NUL }, token],
      ['POST', '/api/v1/tokens', { name: NUL }, token],
    ];
    for (const [method, path, body, tok] of cases) {
      const r = await call(method, path, { body, token: tok });
      expect(`${method} ${path} ${r.status} ${r.body?.error?.code}`).toBe(
        `${method} ${path} 400 bad_request`,
      );
    }
    expect((await call('GET', `/api/v1/projects/${p.id}`, { token })).body.name).toBe('Nul project');
  });

  it('documents its routes in OpenAPI under the auth, orgs, projects, keys and tokens tags', async () => {
    const doc = (await call('GET', '/api/v1/openapi.json')).body;
    const tagOf = (path: string, method: string) => doc.paths[path]?.[method]?.tags;
    expect(tagOf('/api/v1/auth/signup', 'post')).toEqual(['auth']);
    expect(tagOf('/api/v1/orgs/{orgId}/members', 'get')).toEqual(['orgs']);
    expect(tagOf('/api/v1/projects/{id}', 'patch')).toEqual(['projects']);
    expect(tagOf('/api/v1/projects/{id}/keys/{keyId}/rotate', 'post')).toEqual(['keys']);
    expect(tagOf('/api/v1/tokens', 'post')).toEqual(['tokens']);
  });

  it('rate-limits signin per account and signup per IP with 429 and Retry-After', async () => {
    await signup('limited@example.com', 'limited-password-1');
    for (let i = 0; i < 10; i++) {
      const r = await call('POST', '/api/v1/auth/signin', {
        body: { email: 'limited@example.com', password: `wrong-${i}-password` },
        ip: `198.51.100.${i + 1}`,
      });
      expect(r.status).toBe(401);
    }
    const blocked = await call('POST', '/api/v1/auth/signin', {
      body: { email: 'limited@example.com', password: 'limited-password-1' },
      ip: '198.51.100.200',
    });
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe('rate_limited');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    // Other accounts are unaffected.
    const other = await call('POST', '/api/v1/auth/signin', {
      body: { email: 'alice@example.com', password: 'alice-password-1' },
      ip: '198.51.100.201',
    });
    expect(other.status).toBe(200);
    secrets.push(other.body.refreshToken);

    let last: Res | undefined;
    for (let i = 0; i < 31; i++)
      last = await call('POST', '/api/v1/auth/signup', {
        body: { email: `flood${i}@example.com`, password: 'short' },
        ip: '203.0.113.7',
      });
    expect(last!.status).toBe(429);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('keeps no secret key, refresh token, API token, invitation token or password in clear text in any table or the log', async () => {
    expect(secrets.length).toBeGreaterThan(30);
    const tables = await beacon.ctx.db.query<{ name: string }>(
      `SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) AS name FROM information_schema.tables
       WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE'`,
    );
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining(['public.users', 'public.project_keys']),
    );
    let dump = '';
    for (const { name } of tables)
      for (const r of await beacon.ctx.db.query<{ t: string }>(`SELECT t::text AS t FROM ${name} t`))
        dump += `${r.t}\n`;
    expect(dump).toContain('alice@example.com');
    const log = logLines.join('');
    expect(log).toContain('project created');
    for (const s of secrets) {
      expect(dump.includes(s), `table dump contains ${s.slice(0, 6)}…`).toBe(false);
      expect(log.includes(s), `log contains ${s.slice(0, 6)}…`).toBe(false);
    }
  });
});
