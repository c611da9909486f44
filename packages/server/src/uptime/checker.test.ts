import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, waitFor } from '../test-support/index.js';
import { Checker, type CheckSpec } from './checker.js';
import { startTestTarget, type TestTarget } from './test-target.js';

const spec = (url: string, over: Partial<CheckSpec> = {}): CheckSpec => ({
  url,
  method: 'GET',
  headers: {},
  body: null,
  timeoutMs: 2_000,
  expectedStatus: null,
  keyword: null,
  degradedAfterMs: null,
  ...over,
});

describe('checker', () => {
  let target: TestTarget;
  const checker = new Checker({ maxRedirects: 3 });
  beforeAll(async () => {
    target = await startTestTarget();
  });
  afterAll(async () => {
    await checker.close();
    await target.close();
  });

  it('reports a healthy target as up with timings, then reuses the kept-alive connection', async () => {
    target.mode = 'healthy';
    const first = await checker.check(spec(`${target.url}/health`, { keyword: 'ok' }));
    expect(first).toMatchObject({ ok: true, status: 'up', httpStatus: 200, errorKind: null });
    expect(first.connectMs).not.toBeNull();
    expect(first.ttfbMs).not.toBeNull();
    expect(first.latencyMs).toBeGreaterThanOrEqual(first.ttfbMs!);
    // Later checks reuse the kept-alive connection: no connection phases of their own.
    const reused = await waitFor(async () => {
      const r = await checker.check(spec(`${target.url}/health`));
      return r.connectMs === null ? r : undefined;
    });
    expect(reused).toMatchObject({ ok: true, dnsMs: null, tlsMs: null });
  });

  it('classifies status, keyword, timeout and refused failures', async () => {
    target.mode = 'failing';
    expect(await checker.check(spec(target.url))).toMatchObject({
      ok: false,
      status: 'down',
      errorKind: 'status',
      httpStatus: 500,
    });
    expect(await checker.check(spec(target.url, { expectedStatus: [500] }))).toMatchObject({ ok: true });
    target.mode = 'wrong-keyword';
    expect(await checker.check(spec(target.url, { keyword: 'status: ok' }))).toMatchObject({
      ok: false,
      errorKind: 'assertion',
      httpStatus: 200,
    });
    target.mode = 'slow';
    target.slowMs = 1_000;
    expect(await checker.check(spec(target.url, { timeoutMs: 200 }))).toMatchObject({
      ok: false,
      errorKind: 'timeout',
    });
    const slowOk = await checker.check(spec(target.url, { timeoutMs: 3_000, degradedAfterMs: 100 }));
    expect(slowOk).toMatchObject({ ok: true, status: 'degraded' });
    const refused = await checker.check(spec('http://127.0.0.1:1/'));
    expect(refused).toMatchObject({ ok: false, errorKind: 'refused' });
    const dns = await checker.check(spec('http://no-such-host.invalid/'));
    expect(dns).toMatchObject({ ok: false, errorKind: 'dns' });
  });

  it('follows redirects up to the limit', async () => {
    target.mode = 'healthy';
    expect(await checker.check(spec(`${target.url}/redirect/2`))).toMatchObject({ ok: true, redirects: 3 });
    expect(await checker.check(spec(`${target.url}/redirect/3`))).toMatchObject({
      ok: false,
      errorKind: 'status',
    });
  });

  it('sends URL credentials as Basic auth and keeps credentials from another origin on a redirect', async () => {
    // Two origins (ports): `first` redirects to `second`; each answers with the Authorization it got.
    const seen: Array<{ port: number; auth?: string; cookie?: string }> = [];
    const listen = async (handler: http.RequestListener) => {
      const server = http.createServer(handler);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return { server, port: (server.address() as AddressInfo).port };
    };
    const second = await listen((req, res) => {
      seen.push({ port: second.port, auth: req.headers.authorization, cookie: req.headers.cookie });
      res.end('ok');
    });
    const first = await listen((req, res) => {
      seen.push({ port: first.port, auth: req.headers.authorization, cookie: req.headers.cookie });
      if (req.url === '/same') res.writeHead(302, { location: '/end' }).end();
      else if (req.url === '/other')
        res.writeHead(302, { location: `http://127.0.0.1:${second.port}/` }).end();
      else res.end('ok');
    });
    try {
      const basic = `Basic ${Buffer.from('ops:s3cr t').toString('base64')}`;
      expect(await checker.check(spec(`http://ops:s3cr%20t@127.0.0.1:${first.port}/same`))).toMatchObject({
        ok: true,
        redirects: 1,
      });
      expect(seen).toEqual([
        { port: first.port, auth: basic, cookie: undefined },
        { port: first.port, auth: basic, cookie: undefined },
      ]);
      seen.length = 0;
      const withHeaders = spec(`http://127.0.0.1:${first.port}/other`, {
        headers: { Authorization: 'Bearer t0ken', Cookie: 'sid=1' },
      });
      expect(await checker.check(withHeaders)).toMatchObject({ ok: true, redirects: 1 });
      expect(seen).toEqual([
        { port: first.port, auth: 'Bearer t0ken', cookie: 'sid=1' },
        { port: second.port, auth: undefined, cookie: undefined },
      ]);
    } finally {
      for (const s of [first.server, second.server]) {
        s.closeAllConnections();
        s.close();
      }
    }
  });

  it('captures TLS certificate expiry and classifies an untrusted certificate as tls', async () => {
    const dir = tempDir();
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '30',
          '-subj',
          '/CN=127.0.0.1',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
          '-keyout',
          path.join(dir.path, 'key.pem'),
          '-out',
          path.join(dir.path, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      const cert = readFileSync(path.join(dir.path, 'cert.pem'));
      const server = https.createServer(
        { key: readFileSync(path.join(dir.path, 'key.pem')), cert },
        (_q, r) => r.end('ok'),
      );
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const res = await checker.check(spec(url));
      expect(res).toMatchObject({ ok: false, errorKind: 'tls' });
      const trusting = new Checker({ ca: cert });
      const trusted = await trusting.check(spec(url));
      await trusting.close();
      expect(trusted).toMatchObject({ ok: true, status: 'up' });
      expect(trusted.tlsMs).not.toBeNull();
      const days = (trusted.certExpiresAt!.getTime() - Date.now()) / 86_400_000;
      expect(Math.round(days)).toBe(30);
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    } finally {
      dir.remove();
    }
  });
});
