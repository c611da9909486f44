import { describe, expect, it } from 'vitest';
import { dsnToString, envelopeUrl, parseDsn } from '../src/dsn.js';
import { Scope } from '../src/scope.js';
import type { BeaconEvent } from '../src/types.js';

describe('DSN', () => {
  it('parses Beacon/Sentry DSNs with ports, path prefixes and secret keys', () => {
    expect(parseDsn('https://abc123@beacon.example.com/42')).toEqual({
      protocol: 'https',
      publicKey: 'abc123',
      host: 'beacon.example.com',
      port: '',
      path: '',
      projectId: '42',
    });
    expect(parseDsn('http://k:secret@127.0.0.1:8080/prefix/sub/7')).toMatchObject({
      publicKey: 'k',
      host: '127.0.0.1',
      port: '8080',
      path: '/prefix/sub',
      projectId: '7',
    });
  });

  it('builds the envelope URL with the key in the query string', () => {
    const dsn = parseDsn('http://k@127.0.0.1:8080/prefix/7');
    expect(envelopeUrl(dsn, 'beacon.javascript/0.1.0')).toBe(
      'http://127.0.0.1:8080/prefix/api/7/envelope/?sentry_version=7&sentry_key=k&sentry_client=beacon.javascript%2F0.1.0',
    );
    expect(dsnToString(dsn)).toBe('http://k@127.0.0.1:8080/prefix/7');
  });

  it.each([
    '',
    'beacon.example.com/1',
    'https://beacon.example.com/1',
    'ftp://k@h/1',
    'https://k@h/',
    'https://k@h',
  ])('rejects %j', (dsn) => {
    expect(() => parseDsn(dsn)).toThrow(/Invalid DSN/);
  });
});

const event = (over: Partial<BeaconEvent> = {}): BeaconEvent => ({
  event_id: 'e'.repeat(32),
  timestamp: 1,
  platform: 'node',
  level: 'error',
  ...over,
});

describe('scope merging', () => {
  it('applies tags, user, contexts, extra, fingerprint, level and breadcrumbs; the event wins on conflicts', () => {
    const s = new Scope()
      .setTags({ region: 'eu', plan: 'pro' })
      .setUser({ id: '1', email: 'a@example.com' })
      .setContext('order', { id: 'o1' })
      .setExtra('n', 3)
      .setFingerprint(['{{ default }}', 'checkout'])
      .setLevel('warning')
      .addBreadcrumb({ message: 'one' });
    const out = s.applyToEvent(event({ tags: { plan: 'free' }, user: { username: 'ada' } }));
    expect(out.tags).toEqual({ region: 'eu', plan: 'free' });
    expect(out.user).toEqual({ id: '1', email: 'a@example.com', username: 'ada' });
    expect(out.contexts).toEqual({ order: { id: 'o1' } });
    expect(out.extra).toEqual({ n: 3 });
    expect(out.fingerprint).toEqual(['{{ default }}', 'checkout']);
    expect(out.level).toBe('warning');
    expect(out.breadcrumbs?.map((b) => b.message)).toEqual(['one']);
    expect(out.breadcrumbs?.[0]?.timestamp).toEqual(expect.any(Number));
  });

  it('keeps only the newest maxBreadcrumbs', () => {
    const s = new Scope();
    for (let i = 0; i < 10; i++) s.addBreadcrumb({ message: String(i) }, 3);
    expect(s.breadcrumbs.map((b) => b.message)).toEqual(['7', '8', '9']);
    expect(new Scope().addBreadcrumb({ message: 'x' }, 0).breadcrumbs).toEqual([]);
  });

  it('clones independently: changes to a fork never reach the parent', () => {
    const parent = new Scope().setTag('a', '1').setUser({ id: 'p' }).addBreadcrumb({ message: 'p' });
    const child = parent.clone().setTag('b', '2').setUser({ id: 'c' }).addBreadcrumb({ message: 'c' });
    child.setContext('x', { y: 1 });
    expect(parent.tags).toEqual({ a: '1' });
    expect(parent.user).toEqual({ id: 'p' });
    expect(parent.breadcrumbs).toHaveLength(1);
    expect(parent.contexts).toEqual({});
    expect(child.tags).toEqual({ a: '1', b: '2' });
  });

  it('merges a per-capture context over the scope', () => {
    const s = new Scope().setTag('a', '1').setUser({ id: '1' }).setLevel('info');
    const merged = s
      .clone()
      .update({ tags: { b: '2' }, user: { email: 'e@x' }, level: 'fatal', fingerprint: ['f'] });
    expect(merged.applyToEvent(event())).toMatchObject({
      tags: { a: '1', b: '2' },
      user: { id: '1', email: 'e@x' },
      level: 'fatal',
      fingerprint: ['f'],
    });
    expect(s.level).toBe('info');
  });

  it('removes a context with null and a user with null; clear() keeps the breadcrumb limit', () => {
    const s = new Scope().setContext('a', { x: 1 }).setUser({ id: '1' });
    s.maxBreadcrumbs = 5;
    s.setContext('a', null).setUser(null);
    expect(s.contexts).toEqual({});
    expect(s.user).toBeUndefined();
    s.setTag('t', 'v').clear();
    expect(s.tags).toEqual({});
    expect(s.maxBreadcrumbs).toBe(5);
  });
});
