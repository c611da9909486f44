import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { internalEventSchema } from '../events/schema.js';
import { AppError } from '../platform/errors.js';
import { repoRoot } from '../test-support/index.js';
import { parseSentryAuthHeader, sentryKeyFromRequest } from './auth.js';
import { decodeBody, decodeStorePayload } from './decode.js';
import { itemJson, parseEnvelope } from './envelope.js';
import { nativeBodySchema, normalizeNativeEvent } from './native.js';
import { clampTimestamp, normalizeSentryEvent, normalizeTags } from './normalize.js';
import { Quotas, sentryRateLimitHeader } from './quotas.js';

export const fixturesDir = path.resolve(repoRoot, '../shared/fixtures/envelopes');
const limits = { maxItems: 100 };
const now = Date.parse('2026-01-01T00:00:00Z');
const code = async (p: Promise<unknown> | (() => unknown)) => {
  try {
    await (typeof p === 'function' ? p() : p);
    return 'ok';
  } catch (err) {
    return err instanceof AppError ? `${err.code}: ${err.message}` : `other: ${String(err)}`;
  }
};

describe('envelope parser', () => {
  const files = readdirSync(fixturesDir).sort();

  it('parses every captured fixture envelope', () => {
    expect(files.length).toBeGreaterThan(30);
    for (const f of files) {
      const env = parseEnvelope(readFileSync(path.join(fixturesDir, f)), limits);
      expect(typeof env.headers, f).toBe('object');
      for (const item of env.items) expect(typeof item.headers.type, f).toBe('string');
    }
  });

  it('normalizes every event item of the fixtures into a valid internal event', () => {
    let events = 0;
    for (const f of files) {
      const env = parseEnvelope(readFileSync(path.join(fixturesDir, f)), limits);
      env.items.forEach((item, i) => {
        if (item.headers.type !== 'event') return;
        const ev = normalizeSentryEvent(itemJson(item, i), {
          projectId: 7,
          source: 'envelope',
          receivedMs: now,
          fallbackEventId: env.headers.event_id as string,
        });
        expect(internalEventSchema.parse(ev)).toEqual(ev);
        expect(ev.exceptions.length > 0 || ev.message !== undefined, f).toBe(true);
        events++;
      });
    }
    expect(events).toBe(19);
  });

  it('reads framing with and without length, binary payloads and empty payloads', () => {
    const bin = parseEnvelope(readFileSync(path.join(fixturesDir, 'envelope_binary.bin')), limits);
    expect(bin.items.map((i) => [i.headers.type, i.payload.length])).toEqual([
      ['attachment', 10],
      ['event', 41],
    ]);
    expect(itemJson(bin.items[1]!, 1)).toEqual({ message: 'hello world', level: 'error' });
    const empty = parseEnvelope(readFileSync(path.join(fixturesDir, 'envelope_empty_payload.txt')), limits);
    expect(empty.items.map((i) => i.payload.length)).toEqual([0, 0]);
    const eof = parseEnvelope(readFileSync(path.join(fixturesDir, 'envelope_no_len_w_eof.txt')), limits);
    expect(eof.items[0]!.payload.toString()).toBe('helloworld');
    expect(parseEnvelope(Buffer.from('{}'), limits).items).toEqual([]);
  });

  it('keeps a javascript error with its exception, frames oldest first, release and sdk', () => {
    const env = parseEnvelope(readFileSync(path.join(fixturesDir, 'envelope_javascript.txt')), limits);
    const ev = normalizeSentryEvent(itemJson(env.items[0]!, 0), {
      projectId: 1,
      source: 'envelope',
      receivedMs: now,
    });
    expect(ev.eventId).toBe('3c29c134e36d48cdb8f7b11b4e696077');
    expect(ev.exceptions[0]).toMatchObject({ type: 'SyntaxError', value: 'Unexpected end of JSON input' });
    expect(ev.exceptions[0]!.stacktrace!.frames.length).toBe(5);
    expect(ev.level).toBe('error');
    expect(ev.platform).toBe('javascript');
    expect(ev.sdk?.name).toBe('sentry.javascript.react');
  });

  it('takes the formatted message and template from logentry, and a thread stacktrace (Java)', () => {
    const env = parseEnvelope(
      readFileSync(path.join(fixturesDir, 'envelope_java_formatted_message.txt')),
      limits,
    );
    const raw = itemJson(env.items[0]!, 0);
    const ev = normalizeSentryEvent(raw, { projectId: 1, source: 'envelope', receivedMs: now });
    expect(ev.level).toBe('info');
    expect(ev.message).toMatch(/^Started SentryDemoApplication/);
    expect(ev.stacktrace?.frames.length).toBe(14);
  });

  it('refuses malformed framing with a reason', async () => {
    const cases: Array<[string, string]> = [
      ['', 'empty body'],
      ['not json\n', 'envelope header is not valid JSON'],
      ['{}\n{"type":"event"}\n{"message":"x"', 'ok'],
      ['{}\n{"length":3}\nabc', 'has no type'],
      [
        '{}\n{"type":"event","length":20}\n{"message":"x"}\n{"type":"session"}\n{}',
        'does not end at its length',
      ],
      ['{}\n{"type":"event","length":5}\n{"message":"x"}\n', 'does not end at its length'],
      ['{}\n{"type":"event","length":-1}\n{}', 'invalid length'],
    ];
    for (const [body, want] of cases) {
      const got = await code(() => parseEnvelope(Buffer.from(body), limits));
      expect(got, body).toContain(want);
    }
    const truncated = parseEnvelope(
      Buffer.from('{}\n{"type":"event","length":500}\n{"message":"x"}'),
      limits,
    );
    expect(await code(() => itemJson(truncated.items[0]!, 0))).toMatch(
      /bad_request: .*item 1 \(event\) is truncated/,
    );
    const many = `{}\n${'{"type":"session"}\n{}\n'.repeat(5)}`;
    expect(await code(() => parseEnvelope(Buffer.from(many), { maxItems: 4 }))).toMatch(/more than 4 items/);
    const bad = parseEnvelope(Buffer.from('{}\n{"type":"event"}\n{"message": oops}'), limits);
    expect(await code(() => itemJson(bad.items[0]!, 0))).toMatch(/item 1 \(event\) is not valid JSON/);
  });
});

describe('body decoding', () => {
  const json = Buffer.from(JSON.stringify({ message: 'hi', level: 'info' }));

  it('undoes gzip, deflate (zlib and raw) and br', async () => {
    expect(await decodeBody(zlib.gzipSync(json), 'gzip', 1e6)).toEqual(json);
    expect(await decodeBody(zlib.deflateSync(json), 'deflate', 1e6)).toEqual(json);
    expect(await decodeBody(zlib.deflateRawSync(json), 'deflate', 1e6)).toEqual(json);
    expect(await decodeBody(zlib.brotliCompressSync(json), 'br', 1e6)).toEqual(json);
    expect(await decodeBody(json, undefined, 1e6)).toEqual(json);
    expect(await decodeBody(json, 'identity', 1e6)).toEqual(json);
    expect(await code(decodeBody(json, 'zstd', 1e6))).toMatch(/unsupported content-encoding "zstd"/);
    expect(await code(decodeBody(json, 'gzip', 1e6))).toMatch(/bad_request: body is not valid gzip data/);
  });

  it('stops a gzip bomb that would expand to 1 GB at the cap with 413', async () => {
    // 1024 concatenated gzip members of 1 MiB of zeros each: ~1 MB on the wire, 1 GiB inflated.
    const member = zlib.gzipSync(Buffer.alloc(1024 * 1024));
    const bomb = Buffer.concat(Array.from({ length: 1024 }, () => member));
    expect(bomb.length).toBeLessThan(2 * 1024 * 1024);
    expect(await code(decodeBody(bomb, 'gzip', 8 * 1024 * 1024))).toBe(
      'payload_too_large: body decompresses to more than 8388608 bytes',
    );
  });

  it('refuses many concurrent bombs while still decoding normal bodies', async () => {
    const member = zlib.gzipSync(Buffer.alloc(1024 * 1024));
    const bomb = Buffer.concat(Array.from({ length: 64 }, () => member));
    const results = await Promise.all([
      ...Array.from({ length: 10 }, () => code(decodeBody(bomb, 'gzip', 4 * 1024 * 1024))),
      decodeBody(zlib.gzipSync(json), 'gzip', 4 * 1024 * 1024).then((b) => b.toString()),
    ]);
    expect(results.slice(0, 10)).toEqual(
      Array(10).fill('payload_too_large: body decompresses to more than 4194304 bytes'),
    );
    expect(results[10]).toBe(json.toString());
  });

  it('reads the store endpoint forms: JSON, base64+zlib, raw zlib and gzip', async () => {
    expect(await decodeStorePayload(json, 1e6)).toEqual(json);
    expect(await decodeStorePayload(Buffer.from(zlib.deflateSync(json).toString('base64')), 1e6)).toEqual(
      json,
    );
    expect(await decodeStorePayload(zlib.deflateSync(json), 1e6)).toEqual(json);
    expect(await decodeStorePayload(zlib.gzipSync(json), 1e6)).toEqual(json);
  });
});

describe('normalizer', () => {
  const base = { projectId: 3, source: 'store' as const, receivedMs: now };

  it('accepts tags as an object or as pairs, and breadcrumbs as an array or {values}', () => {
    expect(normalizeTags({ a: 'x', n: 1, bad: { o: 1 } })).toEqual({ a: 'x', n: '1' });
    expect(normalizeTags([['a', 'x'], ['b', 2], ['broken']])).toEqual({ a: 'x', b: '2' });
    const a = normalizeSentryEvent({ message: 'm', breadcrumbs: [{ message: 'one' }] }, base);
    const b = normalizeSentryEvent({ message: 'm', breadcrumbs: { values: [{ message: 'one' }] } }, base);
    expect(a.breadcrumbs).toEqual([{ message: 'one' }]);
    expect(b.breadcrumbs).toEqual(a.breadcrumbs);
  });

  it('builds a schema-valid event from hostile payloads, dropping fields of the wrong type', () => {
    const hostile: Array<Record<string, unknown>> = [
      {
        exception: {
          values: [
            {
              type: { a: 1 },
              value: 5,
              module: [],
              mechanism: { type: 3, handled: 'yes', synthetic: 'x' },
              stacktrace: {
                frames: [
                  null,
                  1,
                  { lineno: 1e300, colno: '7', in_app: 'yes', pre_context: 'x', function: 9 },
                ],
              },
            },
          ],
        },
        tags: 'x',
        user: { id: { x: 1 }, email: 5, __proto__: { admin: true } },
        breadcrumbs: { values: [1, { timestamp: {}, data: [1], level: 3 }] },
        fingerprint: 'x',
        level: 7,
        timestamp: 'garbage',
        request: { headers: 5, url: 3, method: null, cookies: 'c' },
        contexts: [1, 2],
        extra: 'x',
        sdk: { name: 1 },
        platform: {},
        logentry: { message: 5, params: 'x' },
        threads: { values: [{ crashed: true, stacktrace: { frames: 'x' } }] },
        event_id: 7,
        release: ['1'],
      },
      { message: { params: { a: 1 }, message: '%s %d', formatted: null }, exception: 'x', stacktrace: [] },
      { message: null, threads: [{ current: true, stacktrace: { frames: [{ lineno: -1.5 }] } }] },
    ];
    for (const event of hostile) {
      const ev = normalizeSentryEvent(event, { projectId: 3, source: 'store', receivedMs: now });
      expect(internalEventSchema.parse(ev)).toEqual(JSON.parse(JSON.stringify(ev)));
    }
    const first = normalizeSentryEvent(hostile[0]!, { projectId: 3, source: 'store', receivedMs: now });
    expect(first.exceptions[0]!.stacktrace!.frames[0]).toMatchObject({
      function: '9',
      colno: 7,
      lineno: undefined,
    });
  });

  it('clamps timestamps to the receive time when far in the future or past, and reads seconds or ISO', () => {
    expect(clampTimestamp(now / 1000 - 10, now)).toBe(new Date(now - 10_000).toISOString());
    expect(clampTimestamp('2025-12-31T23:59:00', now)).toBe('2025-12-31T23:59:00.000Z');
    expect(clampTimestamp(now / 1000 + 3600, now)).toBe(new Date(now).toISOString());
    expect(clampTimestamp(now / 1000 - 90 * 86400, now)).toBe(new Date(now).toISOString());
    expect(clampTimestamp('garbage', now)).toBe(new Date(now).toISOString());
    // A client clock two hours behind: sent_at reveals the drift and the event time is shifted.
    const behind = now - 2 * 3600_000;
    const drifted = normalizeSentryEvent(
      { message: 'm', timestamp: (behind - 5000) / 1000 },
      { ...base, sentAt: new Date(behind).toISOString() },
    );
    expect(drifted.timestamp).toBe(new Date(now - 5000).toISOString());
  });

  it('maps levels, formats logentry params, accepts exception arrays and filters secrets in headers', () => {
    const ev = normalizeSentryEvent(
      {
        event_id: '6F2B1D5A-0C1E-4D2B-9E3F-1A2B3C4D5E6F',
        level: 'warn',
        logentry: { message: 'user %s failed %s times', params: ['bob', 3] },
        exception: [
          { type: 'E', value: 'v', stacktrace: { frames: [{ function: 'f', lineno: '12', in_app: true }] } },
        ],
        request: {
          url: 'http://x',
          headers: [
            ['Cookie', 'secret'],
            ['Accept', 'text/html'],
          ],
        },
        user: { id: 42 },
        fingerprint: ['{{ default }}', 7],
      },
      base,
    );
    expect(ev.eventId).toBe('6f2b1d5a0c1e4d2b9e3f1a2b3c4d5e6f');
    expect(ev.level).toBe('warning');
    expect(ev.message).toBe('user bob failed 3 times');
    expect(ev.messageTemplate).toBe('user %s failed %s times');
    expect(ev.exceptions).toEqual([
      { type: 'E', value: 'v', stacktrace: { frames: [{ function: 'f', lineno: 12, in_app: true }] } },
    ]);
    expect(ev.request?.headers).toEqual({ Cookie: '[Filtered]', Accept: 'text/html' });
    expect(ev.user).toEqual({ id: '42' });
    expect(ev.fingerprint).toEqual(['{{ default }}', '7']);
    expect(ev.eventId).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('synthetic exceptions', () => {
  it("turns captureMessage's type-less synthetic exception into the message's stacktrace", () => {
    const ev = normalizeSentryEvent(
      {
        message: 'slow',
        level: 'warning',
        exception: {
          values: [
            {
              value: 'slow',
              mechanism: { type: 'generic', synthetic: true },
              stacktrace: { frames: [{ function: 'f' }] },
            },
          ],
        },
      },
      { projectId: 1, source: 'envelope', receivedMs: now },
    );
    expect(ev.exceptions).toEqual([]);
    expect(ev.stacktrace).toEqual({ frames: [{ function: 'f' }] });
    expect(ev.message).toBe('slow');
  });
});

describe('native events', () => {
  it('validates with clear messages and normalizes into the internal schema', () => {
    const bad = nativeBodySchema.safeParse({ level: 'loud', message: 'x' });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]!.path).toEqual(['level']);
    expect(nativeBodySchema.safeParse({ level: 'error' }).error?.issues[0]?.message).toBe(
      'an event needs a message or an exception',
    );
    const ok = nativeBodySchema.parse({
      exception: {
        type: 'TypeError',
        value: 'x is undefined',
        stacktrace: { frames: [{ function: 'a', lineno: 3 }] },
      },
      tags: { region: 'eu', n: 2 },
      release: '1.0.0',
    });
    const ev = normalizeNativeEvent(Array.isArray(ok) ? ok[0]! : ok, 9, now);
    expect(ev).toMatchObject({
      projectId: 9,
      level: 'error',
      release: '1.0.0',
      tags: { region: 'eu', n: '2' },
      exceptions: [{ type: 'TypeError', value: 'x is undefined' }],
      source: 'native',
    });
  });

  it('filters secret request headers and drops cookies of native events as it does for Sentry events', () => {
    const ok = nativeBodySchema.parse({
      message: 'x',
      request: {
        url: 'https://app.example/a',
        headers: { 'X-Sentry-Auth': 'Sentry sentry_key=k', 'Set-Cookie': 's=1', Accept: 'text/html' },
        cookies: { session: 'secret' },
      },
    });
    const ev = normalizeNativeEvent(Array.isArray(ok) ? ok[0]! : ok, 9, now);
    expect(ev.request).toEqual({
      url: 'https://app.example/a',
      headers: { 'X-Sentry-Auth': '[Filtered]', 'Set-Cookie': '[Filtered]', Accept: 'text/html' },
    });
  });
});

describe('auth and quotas', () => {
  it('finds the key in X-Sentry-Auth, Authorization: Sentry or the query', () => {
    expect(parseSentryAuthHeader('Sentry sentry_version=7, sentry_key=abc, sentry_client=x/1')).toBe('abc');
    expect(sentryKeyFromRequest({ authorization: 'Sentry sentry_key=def' }, {})).toBe('def');
    expect(sentryKeyFromRequest({}, { sentry_key: 'ghi', sentry_version: '7' })).toBe('ghi');
    expect(sentryKeyFromRequest({ authorization: 'Bearer x' }, {})).toBeUndefined();
  });

  it('allows a window of events, refuses all-or-nothing with Retry-After, and opens again', () => {
    let t = 1_000_000;
    const q = new Quotas(10_000, () => t);
    const rules = [{ scope: 'key' as const, id: '1', limit: 3 }];
    expect(q.take(rules, 2)).toBeUndefined();
    expect(q.take(rules, 2)).toEqual({ scope: 'key', retryAfterSeconds: 10 });
    expect(q.take(rules, 1)).toBeUndefined();
    t += 4_100;
    const d = q.take(rules, 1)!;
    expect(d.retryAfterSeconds).toBe(6);
    expect(sentryRateLimitHeader(d)).toBe('6:error;default;security;transaction:key:rate_limited');
    t += 6_000;
    expect(q.take(rules, 3)).toBeUndefined();
    expect(q.take([{ scope: 'project', id: '1', limit: 0 }], 1000)).toBeUndefined();
  });
});
