import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { internalEventSchema } from '../events/schema.js';
import type { Bus } from '../platform/bus/types.js';
import { repoRoot, requirePg, startTestBeacon, type TestBeacon, waitFor } from '../test-support/index.js';
import { Batcher } from './batcher.js';
import { ingestServiceFor } from './service.js';
import { deleteExpiredAttachments } from './store.js';
import { createKey, createProject, readEvents, sentryAuth, type TestProject } from './test-helpers.js';

const fixturesDir = path.resolve(repoRoot, '../shared/fixtures/envelopes');

describe.runIf(requirePg())('ingest over HTTP', () => {
  let b: TestBeacon;
  let p: TestProject;
  let reader: Awaited<ReturnType<typeof readEvents>>;

  const envelope = (
    body: string | Buffer,
    headers: Record<string, string> = {},
    projectId = p.projectId,
    path = 'envelope/',
  ) =>
    fetch(`${b.url}/api/${projectId}/${path}`, {
      method: 'POST',
      headers: { 'x-sentry-auth': sentryAuth(p.publicKey), ...headers },
      body,
    });
  const errorOf = async (res: Response) => ({
    status: res.status,
    ...((await res.json()) as { error: { message: string } }).error,
  });
  const healthy = async () => expect((await fetch(`${b.url}/healthz`)).status).toBe(200);
  const eventEnvelope = (event: Record<string, unknown>) => {
    const payload = JSON.stringify(event);
    return `{"event_id":"${event.event_id}"}\n{"type":"event","length":${Buffer.byteLength(payload)}}\n${payload}\n`;
  };
  const hex = () => crypto.randomUUID().replaceAll('-', '');

  beforeAll(async () => {
    b = await startTestBeacon({
      BODY_LIMIT_BYTES: String(4 * 1024 * 1024),
      INGEST_MAX_DECOMPRESSED_BYTES: String(16 * 1024 * 1024),
      INGEST_MAX_EVENT_BYTES: String(256 * 1024),
    });
    p = await createProject(b.url);
    reader = await readEvents(b.ctx);
  });
  afterAll(async () => {
    await reader?.stop();
    await b?.close();
  });

  it('accepts every fixture envelope; each error event reaches the bus with what the issues worker needs', async () => {
    const files = readdirSync(fixturesDir).sort();
    const expectedIds: string[] = [];
    for (const f of files) {
      const body = readFileSync(path.join(fixturesDir, f));
      const res = await envelope(body);
      expect(res.status, `${f}: ${await res.clone().text()}`).toBe(200);
      const json = (await res.json()) as { id: string | null };
      if (body.includes('{"type":"event"') || body.includes('"type":"event",'))
        expect(json.id, f).toMatch(/^[0-9a-f]{32}$/);
      if (json.id && /"type":"event"/.test(body.toString('latin1'))) expectedIds.push(json.id);
    }
    await waitFor(() => expectedIds.every((id) => reader.events.some((e) => e.eventId === id)), {
      what: 'fixture events on the bus',
    });
    const fixtureEvents = reader.events.filter((e) => expectedIds.includes(e.eventId));
    expect(fixtureEvents).toHaveLength(19);
    for (const e of fixtureEvents) {
      expect(internalEventSchema.parse(e)).toEqual(e);
      expect(e.projectId).toBe(p.projectId);
      expect(e.source).toBe('envelope');
      expect(e.exceptions.length > 0 || (e.message ?? '') !== '').toBe(true);
    }
    const msg = reader.raw.find((m) => JSON.parse(m.value.toString()).eventId === expectedIds[0])!;
    expect(msg.key).toBe(String(p.projectId));

    const js = fixtureEvents.find((e) => e.eventId === '3c29c134e36d48cdb8f7b11b4e696077')!;
    expect(js.exceptions[0]).toMatchObject({ type: 'SyntaxError', value: 'Unexpected end of JSON input' });
    expect(js.exceptions[0]!.stacktrace!.frames.length).toBe(5);
    expect(js.release).toBeTruthy();
    const php = fixtureEvents.find((e) => e.platform === 'php')!;
    expect(php.exceptions.at(-1)!.type).toBe('Exception');
    const java = fixtureEvents.find((e) => e.eventId === '1c76b36752b2470db429d7c8214f8210')!;
    expect(java.level).toBe('info');
    expect(java.stacktrace?.frames.length).toBe(14);

    // The text attachment is kept with its event and listed on it.
    const withText = fixtureEvents.find((e) => e.eventId === '7f88639e68f0491ebf2f78c4f474bc7f')!;
    expect(withText.attachments).toHaveLength(1);
    const rows = await b.ctx.db.query<{ filename: string; size: number; data: Buffer }>(
      'SELECT filename, size, data FROM ingest_attachments WHERE project_id = $1 AND event_id = $2',
      [p.projectId, withText.eventId],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.size).toBe(withText.attachments[0]!.size);
    expect(rows[0]!.data.length).toBe(rows[0]!.size);

    // ...and served by the API: listed, downloadable, never rendered inline.
    const auth = { authorization: `Bearer ${p.token}` };
    const base = `${b.url}/api/v1/projects/${p.projectId}/events`;
    const list = (await (
      await fetch(`${base}/${withText.eventId}/attachments`, { headers: auth })
    ).json()) as Array<{
      id: string;
      filename: string;
    }>;
    expect(list).toEqual([
      {
        id: withText.attachments[0]!.id,
        filename: 'attachment.txt',
        contentType: 'text/plain',
        attachmentType: null,
        size: 13,
      },
    ]);
    const text = await fetch(`${base}/${withText.eventId}/attachments/${list[0]!.id}`, { headers: auth });
    expect(text.status).toBe(200);
    expect(await text.text()).toBe('Hello, world!');
    expect(text.headers.get('content-disposition')).toBe("attachment; filename*=UTF-8''attachment.txt");
    const html = fixtureEvents.find((e) => e.eventId === 'a8c9114986b5466fa89617fc415cbeba')!;
    const page = await fetch(`${base}/${html.eventId}/attachments/${html.attachments[0]!.id}`, {
      headers: auth,
    });
    expect(page.headers.get('content-type')).toBe('application/octet-stream');
    expect(await page.text()).toBe('<html><body><h1>Hello, world!</h1></body></html>');
    expect((await fetch(`${base}/${withText.eventId}/attachments`)).status).toBe(401);
  });

  it("expires attachments older than their project's retention", async () => {
    const old = hex();
    await b.ctx.db.query(
      `INSERT INTO ingest_attachments (project_id, event_id, id, filename, size, data, created_at)
       VALUES ($1, $2, 'old', 'old.txt', 1, '\\x00', now() - interval '91 days')`,
      [p.projectId, old],
    );
    const before = await b.ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM ingest_attachments');
    expect(await deleteExpiredAttachments(b.ctx.db)).toBe(1);
    const after = await b.ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM ingest_attachments');
    expect(after[0]!.n).toBe(before[0]!.n - 1);
  });

  it('takes the chunked, Content-Type-less, gzip body of @sentry/node, the query key, Authorization: Sentry, and no trailing slash', async () => {
    const a = hex();
    const gz = zlib.gzipSync(eventEnvelope({ event_id: a, message: 'gzip chunked', level: 'warning' }));
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(gz.subarray(0, 10));
        c.enqueue(gz.subarray(10));
        c.close();
      },
    });
    const res = await fetch(
      `${b.url}/api/${p.projectId}/envelope/?sentry_key=${p.publicKey}&sentry_version=7`,
      {
        method: 'POST',
        headers: { 'content-encoding': 'gzip' },
        body: stream,
        duplex: 'half',
      } as RequestInit,
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: a });

    const c = hex();
    const viaAuthorization = await fetch(`${b.url}/api/${p.projectId}/envelope`, {
      method: 'POST',
      headers: {
        authorization: `Sentry sentry_key=${p.publicKey}`,
        'content-type': 'text/plain;charset=UTF-8',
        'content-encoding': 'br',
      },
      body: zlib.brotliCompressSync(eventEnvelope({ event_id: c, message: 'br' })),
    }).then(async (r) => {
      expect(r.headers.get('access-control-allow-origin')).toBe('*');
      return r;
    });
    expect(viaAuthorization.status).toBe(200);

    // Legacy store endpoint: base64 of zlib-deflated JSON, and plain JSON without trailing slash.
    const d = hex();
    const store = await envelope(
      zlib.deflateSync(JSON.stringify({ event_id: d, message: 'stored' })).toString('base64'),
      {},
      p.projectId,
      'store/',
    );
    expect(store.status).toBe(200);
    expect(await store.json()).toEqual({ id: d });
    const e = hex();
    expect(
      (
        await envelope(
          JSON.stringify({ event_id: e, exception: { values: [{ type: 'E', value: 'v' }] } }),
          {},
          p.projectId,
          'store',
        )
      ).status,
    ).toBe(200);

    // Envelope auth from the dsn in its own header.
    const f = hex();
    const dsnBody = `{"event_id":"${f}","dsn":"http://${p.publicKey}@example.com/${p.projectId}"}\n{"type":"event"}\n{"message":"dsn"}\n`;
    expect(
      (await fetch(`${b.url}/api/${p.projectId}/envelope/`, { method: 'POST', body: dsnBody })).status,
    ).toBe(200);

    await waitFor(() => [a, c, d, e, f].every((id) => reader.events.some((ev) => ev.eventId === id)), {
      what: 'events',
    });
    expect(reader.events.find((ev) => ev.eventId === a)).toMatchObject({
      message: 'gzip chunked',
      level: 'warning',
    });
    expect(reader.events.find((ev) => ev.eventId === d)).toMatchObject({
      message: 'stored',
      source: 'store',
    });
  });

  it('answers the CORS preflight of browser SDKs', async () => {
    const res = await fetch(`${b.url}/api/${p.projectId}/envelope/`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, x-sentry-auth',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-headers')).toBe('content-type, x-sentry-auth');
  });

  it('answers bad input with a 4xx and a reason, and stays healthy', async () => {
    const id = hex();
    expect(
      await errorOf(await envelope(`{"event_id":"${id}"}\n{"type":"event"}\n{"message": nope}\n`)),
    ).toMatchObject({
      status: 400,
      message: 'invalid envelope: item 1 (event) is not valid JSON',
    });
    expect(
      await errorOf(await envelope(`{"event_id":"${id}"}\n{"type":"event","length":400}\n{"message":"cut"}`)),
    ).toMatchObject({
      status: 400,
      message: expect.stringMatching(/item 1 \(event\) is truncated/),
    });
    expect(
      await errorOf(
        await envelope(`{}\n{"type":"event","length":4}\n{"message":"x"}\n{"type":"session"}\n{}\n`),
      ),
    ).toMatchObject({ status: 400, message: 'invalid envelope: item 1 payload does not end at its length' });
    expect(await errorOf(await envelope('garbage'))).toMatchObject({ status: 400 });
    expect(await errorOf(await envelope('{"message":', {}, p.projectId, 'store/'))).toMatchObject({
      status: 400,
      message: 'event is not valid JSON',
    });

    // Oversized: a body past BODY_LIMIT_BYTES, and an event past INGEST_MAX_EVENT_BYTES.
    expect(await errorOf(await envelope(Buffer.alloc(5 * 1024 * 1024, 0x61)))).toMatchObject({ status: 413 });
    const big = eventEnvelope({ event_id: id, message: 'x'.repeat(300 * 1024) });
    expect(await errorOf(await envelope(big))).toMatchObject({
      status: 413,
      message: 'event is larger than 262144 bytes',
    });

    // A gzip bomb: ~1 MB on the wire, 1 GiB inflated. Stopped at INGEST_MAX_DECOMPRESSED_BYTES.
    const member = zlib.gzipSync(Buffer.alloc(1024 * 1024));
    const bomb = Buffer.concat(Array.from({ length: 1024 }, () => member));
    expect(await errorOf(await envelope(bomb, { 'content-encoding': 'gzip' }))).toMatchObject({
      status: 413,
      message: 'body decompresses to more than 16777216 bytes',
    });
    await healthy();

    // Auth: wrong project for the key, no key, unknown key, disabled key (same answer as unknown).
    expect(
      await errorOf(await envelope(eventEnvelope({ event_id: id }), {}, p.projectId + 1000)),
    ).toMatchObject({
      status: 403,
      message: `this key is not valid for project ${p.projectId + 1000}`,
    });
    const noAuth = await fetch(`${b.url}/api/${p.projectId}/envelope/`, {
      method: 'POST',
      body: eventEnvelope({ event_id: id }),
    });
    expect(await errorOf(noAuth)).toMatchObject({
      status: 401,
      message: expect.stringMatching(/missing project key/),
    });
    const unknown = await errorOf(
      await envelope(eventEnvelope({ event_id: id }), { 'x-sentry-auth': sentryAuth('0'.repeat(32)) }),
    );
    const disabledKey = await createKey(b.url, p, { label: 'off' });
    await fetch(`${b.url}/api/v1/projects/${p.projectId}/keys/${disabledKey.id}/disable`, {
      method: 'POST',
      headers: { authorization: `Bearer ${p.token}` },
    });
    const disabled = await errorOf(
      await envelope(eventEnvelope({ event_id: id }), { 'x-sentry-auth': sentryAuth(disabledKey.publicKey) }),
    );
    expect(unknown).toMatchObject({ status: 401, message: 'invalid or disabled project key' });
    expect(disabled).toEqual(unknown);
    await healthy();
    expect(reader.events.some((e) => e.eventId === id)).toBe(false);
  });

  it('keeps events whose free-form data nests thousands deep, cut off at a depth (no 500)', async () => {
    let deep = '1';
    for (let i = 0; i < 20_000; i++) deep = `{"a":${deep}}`;
    const ids = [hex(), hex(), hex()];
    const res = [
      await envelope(
        `{}\n{"type":"event"}\n{"event_id":"${ids[0]}","message":"deep","extra":{"d":${deep}}}\n`,
      ),
      await envelope(
        `{"event_id":"${ids[1]}","exception":{"values":[{"type":"E","value":${deep}}]}}`,
        {},
        p.projectId,
        'store/',
      ),
      await fetch(`${b.url}/api/v1/events`, {
        method: 'POST',
        headers: { 'x-api-key': p.secretKey },
        body: `{"eventId":"${ids[2]}","message":"deep","contexts":{"c":${deep}}}`,
      }),
    ];
    expect(res.map((r) => r.status)).toEqual([200, 200, 200]);
    await waitFor(() => ids.every((x) => reader.events.some((e) => e.eventId === x)), {
      what: 'deep events',
    });
    let d: unknown = reader.events.find((e) => e.eventId === ids[0])!.extra.d;
    let depth = 0;
    while (typeof d === 'object' && d !== null) {
      d = (d as { a: unknown }).a;
      depth++;
    }
    expect(depth).toBeLessThan(32);
    expect(d).toBe('[Filtered: nested too deeply]');
    await healthy();
  });

  it('keeps an attachment whose header strings carry NUL or run long (no 500)', async () => {
    const id = hex();
    const res = await envelope(
      `{"event_id":"${id}"}\n{"type":"event"}\n{"message":"att"}\n` +
        `{"type":"attachment","length":3,"filename":"a\\u0000b${'f'.repeat(1000)}","content_type":"text/pl\\u0000ain"}\nabc\n`,
    );
    expect(res.status).toBe(200);
    const rows = await b.ctx.db.query<{ filename: string; content_type: string }>(
      'SELECT filename, content_type FROM ingest_attachments WHERE project_id = $1 AND event_id = $2',
      [p.projectId, id],
    );
    expect(rows).toEqual([{ filename: `ab${'f'.repeat(253)}`, content_type: 'text/plain' }]);
  });

  it('answers 429 with Retry-After and X-Sentry-Rate-Limits past a key quota, and accepts again after the window', async () => {
    const svc = ingestServiceFor(b.ctx);
    svc.quotas.windowMs = 1500;
    const limited = await createKey(b.url, p, { label: 'limited', rateLimitPerMinute: 3 });
    const send = () =>
      envelope(eventEnvelope({ event_id: hex(), message: 'quota' }), {
        'x-sentry-auth': sentryAuth(limited.publicKey),
      });
    // Refused events take nothing from the allowance.
    for (let i = 0; i < 3; i++) {
      const bad = await envelope(`{}\n{"type":"event"}\n{"message": nope}\n`, {
        'x-sentry-auth': sentryAuth(limited.publicKey),
      });
      expect(bad.status).toBe(400);
    }
    for (let i = 0; i < 3; i++) expect((await send()).status).toBe(200);
    const res = await send();
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(res.headers.get('x-sentry-rate-limits')).toMatch(
      /^\d+:error;default;security;transaction:key:rate_limited$/,
    );
    expect((await res.json()).error.code).toBe('rate_limited');
    // Other keys of the project are not limited by this key's quota.
    expect((await envelope(eventEnvelope({ event_id: hex(), message: 'other key' }))).status).toBe(200);
    await waitFor(async () => (await send()).status === 200, {
      interval: 250,
      what: 'the quota window to pass',
    });
    svc.quotas.windowMs = 60_000;
  });

  it('applies the per-project quota across keys with scope project', async () => {
    const svc = ingestServiceFor(b.ctx);
    svc.quotas.windowMs = 1500;
    b.ctx.config.ingest.projectRatePerMinute = 2;
    try {
      const other = await createKey(b.url, p, { label: 'second' });
      const send = (key: string) =>
        envelope(eventEnvelope({ event_id: hex(), message: 'project quota' }), {
          'x-sentry-auth': sentryAuth(key),
        });
      expect((await send(p.publicKey)).status).toBe(200);
      expect((await send(other.publicKey)).status).toBe(200);
      const res = await send(other.publicKey);
      expect(res.status).toBe(429);
      expect(res.headers.get('x-sentry-rate-limits')).toMatch(
        /^\d+:error;default;security;transaction:project:rate_limited$/,
      );
      await waitFor(async () => (await send(p.publicKey)).status === 200, {
        interval: 250,
        what: 'the project window to pass',
      });
    } finally {
      b.ctx.config.ingest.projectRatePerMinute = 0;
      svc.quotas.windowMs = 60_000;
    }
  });

  it("accepts Beacon's native events with X-API-Key, single and batch, with clear 400s", async () => {
    const native = (body: unknown, key = p.secretKey) =>
      fetch(`${b.url}/api/v1/events`, {
        method: 'POST',
        headers: { 'x-api-key': key, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const one = await native({
      message: 'native hello',
      level: 'warning',
      tags: { region: 'eu' },
      user: { id: 7 },
      release: '2.0.0',
      environment: 'production',
      breadcrumbs: [{ message: 'clicked' }],
      fingerprint: ['custom'],
    });
    expect(one.status).toBe(200);
    const { id } = (await one.json()) as { id: string };
    const batch = await native(
      [
        {
          exception: {
            type: 'TypeError',
            value: 'a is undefined',
            stacktrace: { frames: [{ function: 'f', filename: 'app.js', lineno: 3, in_app: true }] },
          },
        },
        { message: 'second', level: 'info' },
      ],
      p.publicKey,
    );
    expect(batch.status).toBe(200);
    const { ids } = (await batch.json()) as { ids: string[] };
    expect(ids).toHaveLength(2);
    expect(await errorOf(await native({ message: 'x', level: 'loud' }))).toMatchObject({
      status: 400,
      message: expect.stringMatching(/^invalid event\.level: /),
    });
    expect(await errorOf(await native([{ message: 'ok' }, { level: 'error' }]))).toMatchObject({
      status: 400,
      message: 'invalid event[1]: an event needs a message or an exception',
    });
    expect(await errorOf(await native([]))).toMatchObject({
      status: 400,
      message: 'a batch needs at least one event',
    });
    expect(await errorOf(await native({ message: 'x' }, 'nope'))).toMatchObject({ status: 401 });
    await waitFor(() => [id, ...ids].every((x) => reader.events.some((e) => e.eventId === x)), {
      what: 'native events',
    });
    expect(reader.events.find((e) => e.eventId === id)).toMatchObject({
      projectId: p.projectId,
      message: 'native hello',
      level: 'warning',
      tags: { region: 'eu' },
      user: { id: '7' },
      fingerprint: ['custom'],
      source: 'native',
    });
    expect(reader.events.find((e) => e.eventId === ids[0])!.exceptions[0]).toMatchObject({
      type: 'TypeError',
      stacktrace: { frames: [{ function: 'f', filename: 'app.js', lineno: 3, in_app: true }] },
    });
  });

  it('counts outcomes per project, visible through the API and /metrics', async () => {
    await ingestServiceFor(b.ctx).stats.flush();
    const res = await fetch(`${b.url}/api/v1/projects/${p.projectId}/ingest-stats?hours=2`, {
      headers: { authorization: `Bearer ${p.token}` },
    });
    expect(res.status).toBe(200);
    const stats = (await res.json()) as {
      totals: Record<string, number>;
      reasons: Array<{ outcome: string; reason: string; count: number }>;
      hourly: unknown[];
    };
    expect(stats.totals.accepted).toBeGreaterThanOrEqual(19 + 5 + 3);
    expect(stats.totals.rateLimited).toBeGreaterThanOrEqual(1);
    expect(stats.totals.invalid).toBeGreaterThanOrEqual(5);
    expect(stats.reasons).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ outcome: 'dropped', reason: 'unsupported:transaction' }),
        expect.objectContaining({ outcome: 'dropped', reason: 'attachment_truncated' }),
        expect.objectContaining({ outcome: 'rate_limited', reason: 'key_quota' }),
        expect.objectContaining({ outcome: 'invalid', reason: 'too_large' }),
      ]),
    );
    expect(stats.hourly).toHaveLength(2);
    const stored = await b.ctx.db.query<{ n: number }>(
      `SELECT sum(count)::int AS n FROM ingest_stats WHERE project_id = $1 AND outcome = 'accepted'`,
      [p.projectId],
    );
    expect(stored[0]!.n).toBe(stats.totals.accepted);
    expect((await fetch(`${b.url}/api/v1/projects/${p.projectId}/ingest-stats`)).status).toBe(401);
    const metrics = await (await fetch(`${b.url}/metrics`)).text();
    expect(metrics).toMatch(
      new RegExp(
        `beacon_ingest_events_total\\{project="${p.projectId}",outcome="accepted",reason=""\\} \\d+`,
      ),
    );
  });

  it('writes the events of concurrent requests with one bus publish (group commit), in batches of at most maxBatch', async () => {
    const sizes: number[] = [];
    const counting: Bus = Object.create(b.ctx.bus, {
      publish: {
        value: (topic: string, m: Parameters<Bus['publish']>[1]) => {
          sizes.push(m.length);
          return b.ctx.bus.publish(topic, m);
        },
      },
    });
    const submitAll = (batcher: Batcher, ids: string[]) =>
      Promise.all(
        ids.map((id) =>
          batcher.submit([
            { key: String(p.projectId), value: Buffer.from(JSON.stringify({ eventId: id, group: true })) },
          ]),
        ),
      );
    const ids = Array.from({ length: 100 }, () => hex());
    await submitAll(
      new Batcher(counting, b.ctx.topics.events, { lingerMs: 5, maxBatch: 1000, maxInFlight: 2 }),
      ids,
    );
    expect(sizes).toEqual([100]);

    sizes.length = 0;
    const more = Array.from({ length: 35 }, () => hex());
    await submitAll(
      new Batcher(counting, b.ctx.topics.events, { lingerMs: 5, maxBatch: 10, maxInFlight: 1 }),
      more,
    );
    expect(sizes).toEqual([10, 10, 10, 5]);
    await waitFor(() => [...ids, ...more].every((id) => reader.events.some((e) => e.eventId === id)), {
      what: 'batched messages',
    });
  });
});
