import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../context.js';
import { createHttpServer, type HttpApp } from '../platform/http/server.js';
import { createLogger } from '../platform/logger.js';
import { Metrics } from '../platform/metrics.js';
import { tempDir, testConfig } from '../test-support/index.js';
import { registerWebRoutes } from './routes.js';

async function serve(distDir: string, warnings: string[]): Promise<HttpApp> {
  const log = createLogger('silent');
  const ctx = {
    config: testConfig(),
    log: { ...log, warn: (o: unknown, msg?: string) => warnings.push(msg ?? String(o)) },
  } as unknown as AppContext;
  const app = await createHttpServer({ log, metrics: new Metrics(), bodyLimit: 1024 * 1024 });
  app.get('/api/v1/thing', async () => ({ ok: true }));
  app.get('/healthz', async () => ({ status: 'ok' }));
  registerWebRoutes(app, ctx, distDir);
  await app.ready();
  return app;
}

describe('web: serving the built dashboard', () => {
  const dir = tempDir('beacon-web-');
  const dist = path.join(dir.path, 'dist');
  let app: HttpApp;
  beforeAll(async () => {
    mkdirSync(path.join(dist, 'assets'), { recursive: true });
    writeFileSync(path.join(dist, 'index.html'), '<!doctype html><div id="root"></div>');
    writeFileSync(path.join(dist, 'assets', 'index-abc123.js'), 'console.log(1)');
    writeFileSync(path.join(dist, 'favicon.svg'), '<svg/>');
    writeFileSync(path.join(dir.path, 'secret.txt'), 'nope');
    mkdirSync(path.join(dist, '.vite'));
    writeFileSync(path.join(dist, '.vite', 'manifest.json'), '{"nope":1}');
    app = await serve(dist, []);
  });
  afterAll(async () => {
    await app.close();
    dir.remove();
  });

  it('serves index.html at / without caching it, with security headers', async () => {
    const r = await app.inject({ method: 'GET', url: '/' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/text\/html/);
    expect(r.headers['cache-control']).toBe('no-cache');
    expect(r.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(r.body).toContain('<div id="root">');
  });

  it('serves hashed assets with a one-year immutable cache', async () => {
    const r = await app.inject({ method: 'GET', url: '/assets/index-abc123.js' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/javascript/);
    expect(r.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(r.body).toBe('console.log(1)');
    expect((await app.inject({ method: 'GET', url: '/favicon.svg' })).headers['cache-control']).toBe(
      'public, max-age=3600',
    );
  });

  it('answers client-side routes with index.html, but a missing asset with 404', async () => {
    const route = await app.inject({ method: 'GET', url: '/p/12/issues/7?status=all' });
    expect(route.statusCode).toBe(200);
    expect(route.body).toContain('<div id="root">');
    const missing = await app.inject({ method: 'GET', url: '/assets/index-old.js' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({
      error: { code: 'not_found', message: 'no route for GET /assets/index-old.js' },
    });
  });

  it('never shadows the API or operational paths', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/v1/thing' })).json()).toEqual({ ok: true });
    const unknown = await app.inject({ method: 'GET', url: '/api/v1/nope' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({
      error: { code: 'not_found', message: 'no route for GET /api/v1/nope' },
    });
    expect((await app.inject({ method: 'GET', url: '/api' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await app.inject({ method: 'POST', url: '/p/1/issues' })).statusCode).toBe(404);
  });

  it('does not serve files outside the build folder', async () => {
    for (const url of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/%00',
      '/.vite/manifest.json',
    ]) {
      const r = await app.inject({ method: 'GET', url });
      expect(r.body).not.toContain('nope');
    }
  });

  it('starts without a build: a warning, and / explains how to build', async () => {
    const warnings: string[] = [];
    const empty = tempDir('beacon-web-empty-');
    const bare = await serve(empty.path, warnings);
    try {
      expect(warnings.join('\n')).toMatch(/dashboard build missing/);
      const r = await bare.inject({ method: 'GET', url: '/' });
      expect(r.statusCode).toBe(503);
      expect(r.headers['content-type']).toMatch(/text\/plain/);
      expect(r.body).toMatch(/npm run build/);
      expect((await bare.inject({ method: 'GET', url: '/api/v1/nope' })).statusCode).toBe(404);
    } finally {
      await bare.close();
      empty.remove();
    }
  });
});
