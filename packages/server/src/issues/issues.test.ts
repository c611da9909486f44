import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InternalEvent } from '../events/schema.js';
import { type IssueUpdate, issueUpdateSchema } from '../events/updates.js';
import type { Consumer } from '../platform/bus/types.js';
import { repoRoot, requirePg, startTestBeacon, type TestBeacon, waitFor } from '../test-support/index.js';
import { exportPageSize } from './service.js';

const here = path.dirname(fileURLToPath(import.meta.url));

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
type Body = any;

interface Json {
  status: number;
  body: Body;
  text: string;
  headers: Headers;
}

async function call(
  b: TestBeacon,
  method: string,
  url: string,
  token?: string,
  body?: unknown,
): Promise<Json> {
  const res = await fetch(`${b.url}${url}`, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}

async function signup(
  b: TestBeacon,
  inviteToken?: string,
  email = `u-${randomBytes(4).toString('hex')}@example.com`,
) {
  const r = await call(b, 'POST', '/api/v1/auth/signup', undefined, {
    email,
    password: 'correct horse battery staple',
    name: 'Tester',
    inviteToken,
  });
  if (r.status !== 201) throw new Error(`signup: ${r.status} ${r.text}`);
  return { token: r.body.accessToken as string, userId: r.body.user.id as number, email };
}

function internalEvent(projectId: number, over: Partial<InternalEvent> = {}): InternalEvent {
  const now = new Date().toISOString();
  return {
    eventId: randomBytes(16).toString('hex'),
    projectId,
    timestamp: now,
    receivedAt: now,
    platform: 'node',
    level: 'error',
    exceptions: [],
    tags: {},
    contexts: {},
    breadcrumbs: [],
    extra: {},
    attachments: [],
    source: 'native',
    ...over,
  };
}

describe('export pages', () => {
  it('hold a few MiB of payloads: fewer rows for big events, at most 1,000', () => {
    expect(exportPageSize(20, 20 * 1024 * 1024)).toBe(4);
    expect(exportPageSize(20, 20 * 100 * 1024 * 1024)).toBe(1);
    expect(exportPageSize(20, 20 * 2000)).toBe(1000);
  });
});

describe.runIf(requirePg())('issues API and worker', () => {
  let b: TestBeacon;
  let owner: { token: string; userId: number };
  let viewer: { token: string; userId: number };
  let outsider: { token: string; userId: number };
  let project: { id: number; orgId: number; publicKey: string };
  const updates: IssueUpdate[] = [];
  let updatesConsumer: Consumer;

  const publish = (events: InternalEvent[]) =>
    b.ctx.bus.publish(
      b.ctx.topics.events,
      events.map((e) => ({ key: String(e.projectId), value: Buffer.from(JSON.stringify(e)) })),
    );
  const issues = async (query = '') =>
    (await call(b, 'GET', `/api/v1/projects/${project.id}/issues${query}`, owner.token)).body as {
      items: Body[];
      nextCursor: string | null;
    };

  beforeAll(async () => {
    b = await startTestBeacon({ BEACON_ROLES: 'api,ingest,issues' });
    owner = await signup(b);
    const p = await call(b, 'POST', '/api/v1/projects', owner.token, { name: 'shop' });
    project = { id: p.body.id, orgId: p.body.orgId, publicKey: p.body.keys[0].publicKey };
    const viewerEmail = `viewer-${randomBytes(4).toString('hex')}@example.com`;
    const inv = await call(b, 'POST', `/api/v1/orgs/${project.orgId}/invitations`, owner.token, {
      email: viewerEmail,
      role: 'viewer',
    });
    expect(inv.status).toBe(201);
    viewer = await signup(b, new URL(inv.body.link).searchParams.get('invite')!, viewerEmail);
    outsider = await signup(b);
    updatesConsumer = await b.ctx.bus.consume({
      topic: b.ctx.topics.issueUpdates,
      group: `issues-test-${randomBytes(4).toString('hex')}`,
      handler: async (batch) => {
        for (const m of batch) updates.push(issueUpdateSchema.parse(JSON.parse(m.value.toString())));
      },
    });
  });
  afterAll(async () => {
    await updatesConsumer?.stop();
    await b?.close();
  });

  it('groups 50 events from 3 bugs sent by @sentry/node into exactly 3 issues whose counts add up to 50', async () => {
    const dsn = `${b.url.replace('//', `//${project.publicKey}@`)}/${project.id}`;
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(here, 'sentry-child.mjs')], {
      cwd: repoRoot,
      env: { ...process.env, DSN: dsn, MODE: 'burst' },
      timeout: 40_000,
    });
    const sent = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      flushed: boolean;
      counts: Record<string, number>;
    };
    expect(sent.flushed).toBe(true);
    expect(sent.counts).toEqual({ loadUser: 20, applyDiscount: 20, message: 10 });

    const list = await waitFor(
      async () => {
        const l = await issues('?sort=count');
        const total = l.items.reduce((n, i) => n + i.count, 0);
        return total >= 50 ? l : undefined;
      },
      { what: '50 events grouped', timeout: 30_000 },
    );
    expect(list.items).toHaveLength(3);
    expect(list.items.map((i) => i.count)).toEqual([20, 20, 10]);
    // Titles come from the first event of each issue (ids in the values differ per event).
    const titles = list.items.map((i) => i.title).sort();
    expect(titles[0]).toMatch(/^CheckoutError: discount code SAVE\d+XYZ expired for cart \d+$/);
    expect(titles[1]).toBe("TypeError: Cannot read properties of undefined (reading 'profile')");
    expect(titles[2]).toMatch(/^payment provider slow: \d+ ms$/);
    const typeError = list.items.find((i) => i.title.startsWith('TypeError'))!;
    expect(typeError).toMatchObject({
      status: 'unresolved',
      level: 'error',
      userCount: 7,
      culprit: 'sentry-child in loadUser',
    });
    expect(typeError.sparkline).toHaveLength(24);
    expect(typeError.sparkline.at(-1)).toBe(20);

    // Every issue was announced as created, and the occurrences add up to 50.
    await waitFor(() => updates.reduce((n, u) => n + u.newEvents, 0) >= 50, { what: 'issue updates' });
    expect(
      updates
        .filter((u) => u.type === 'created')
        .map((u) => u.issue.id)
        .sort(),
    ).toEqual(list.items.map((i) => i.id).sort());
    expect(updates.reduce((n, u) => n + u.newEvents, 0)).toBe(50);
  });

  it('resolve → new event → unresolved again, with exactly one regressed update', async () => {
    const typeError = (await issues('?query=TypeError')).items[0]!;
    const resolved = await call(b, 'PATCH', `/api/v1/issues/${typeError.id}/resolve`, owner.token, {});
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ status: 'resolved', resolveInNextRelease: false });
    expect((await issues()).items.map((i) => i.id)).not.toContain(typeError.id);

    const dsn = `${b.url.replace('//', `//${project.publicKey}@`)}/${project.id}`;
    await promisify(execFile)(process.execPath, [path.join(here, 'sentry-child.mjs')], {
      cwd: repoRoot,
      env: { ...process.env, DSN: dsn, MODE: 'one' },
      timeout: 40_000,
    });
    const reopened = await waitFor(
      async () => {
        const r = await call(b, 'GET', `/api/v1/issues/${typeError.id}`, owner.token);
        return r.body.status === 'unresolved' ? r.body : undefined;
      },
      { what: 'the issue to reopen' },
    );
    expect(reopened).toMatchObject({ count: 21, resolvedAt: null });
    await waitFor(() => updates.some((u) => u.type === 'regressed'), { what: 'the regressed update' });
    await waitFor(async () => (await b.ctx.db.query('SELECT 1 FROM issue_outbox')).length === 0, {
      what: 'outbox drained',
    });
    const regressed = updates.filter((u) => u.type === 'regressed');
    expect(regressed).toHaveLength(1);
    expect(regressed[0]).toMatchObject({
      projectId: project.id,
      newEvents: 1,
      issue: { id: typeError.id, status: 'unresolved', count: 21 },
    });
  });

  it('counts a redelivered event once and skips unparseable messages without blocking the partition', async () => {
    const e = internalEvent(project.id, { message: `idempotent ${randomBytes(3).toString('hex')}` });
    await b.ctx.bus.publish(b.ctx.topics.events, [
      { key: String(project.id), value: Buffer.from('{not json') },
      {
        key: String(project.id),
        value: Buffer.from(JSON.stringify({ eventId: 'nope', projectId: project.id })),
      },
    ]);
    await publish([e, e]);
    await publish([e]);
    const found = await waitFor(
      async () => (await issues(`?query=${encodeURIComponent(e.message!)}`)).items[0],
      {
        what: 'the issue',
      },
    );
    // A later event on the same partition proves the duplicates were consumed.
    const marker = internalEvent(project.id, { message: 'marker event' });
    await publish([marker]);
    await waitFor(async () => (await issues('?query=marker')).items.length === 1, { what: 'marker' });
    const again = await call(b, 'GET', `/api/v1/issues/${found.id}`, owner.token);
    expect(again.body.count).toBe(1);
    // Served by the main thread; counted by the issues worker (in its own thread by default).
    const metrics = await (await fetch(`${b.url}/metrics`)).text();
    expect(metrics).toMatch(/beacon_issues_events_total\{result="invalid"\} 2/);
    expect(metrics).toMatch(/beacon_issues_events_total\{result="duplicate"\} 2/);
  });

  it('filters, sorts, searches and paginates the issue list', async () => {
    const mk = (i: number, over: Partial<InternalEvent>) =>
      internalEvent(project.id, {
        exceptions: [
          {
            type: `FilterError${i}`,
            value: `thing ${i} broke`,
            stacktrace: {
              frames: [{ filename: '/srv/app/src/filter.js', function: `step${i}`, lineno: i, in_app: true }],
            },
          },
        ],
        ...over,
      });
    await publish([
      mk(1, { environment: 'staging', tags: { region: 'eu' }, level: 'warning' }),
      mk(2, { environment: 'staging', tags: { region: 'us' } }),
      mk(2, { environment: 'staging', tags: { region: 'us' } }),
      mk(3, { release: 'shop@2.0.0', tags: { region: 'eu' }, level: 'fatal' }),
    ]);
    await waitFor(async () => (await issues('?query=FilterError')).items.length === 3, {
      what: 'filter issues',
    });
    const titles = (l: { items: Body[] }) => l.items.map((i) => i.title.split(':')[0]).sort();
    expect(titles(await issues('?query=FilterError&environment=staging'))).toEqual([
      'FilterError1',
      'FilterError2',
    ]);
    expect(titles(await issues('?query=FilterError&tag=region:eu'))).toEqual([
      'FilterError1',
      'FilterError3',
    ]);
    expect(titles(await issues('?query=FilterError region:eu'))).toEqual(['FilterError1', 'FilterError3']);
    expect(titles(await issues('?query=FilterError&tag=region:eu&tag=environment:staging'))).toEqual([
      'FilterError1',
    ]);
    expect(titles(await issues('?query=FilterError&release=shop@2.0.0'))).toEqual(['FilterError3']);
    expect(titles(await issues('?query=FilterError&level=warning,fatal'))).toEqual([
      'FilterError1',
      'FilterError3',
    ]);
    expect(titles(await issues('?query=filter.js in step2'))).toEqual(['FilterError2']);
    const byCount = await issues('?query=FilterError&sort=count');
    expect(byCount.items[0].title).toMatch(/^FilterError2/);

    // Cursor pagination walks every unresolved issue once, whatever the sort (many share a count).
    for (const sort of ['lastSeen', 'firstSeen', 'count', 'users']) {
      const all = await issues(`?limit=100&sort=${sort}`);
      const seen: number[] = [];
      let cursor: string | null = null;
      do {
        const page = await issues(`?limit=2&sort=${sort}${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((i) => i.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen, sort).toEqual(all.items.map((i) => i.id));
      expect(new Set(seen).size).toBe(seen.length);
    }
    expect(
      (await call(b, 'GET', `/api/v1/projects/${project.id}/issues?cursor=garbage`, owner.token)).status,
    ).toBe(400);
  });

  it('shows an issue with grouping components, tags, hourly series, events and exports', async () => {
    const typeError = (await issues('?query=TypeError')).items[0]!;
    const d = (await call(b, 'GET', `/api/v1/issues/${typeError.id}?hours=48`, owner.token)).body;
    expect(d.grouping.method).toBe('exception');
    expect(d.grouping.components[0]).toBe('type:TypeError');
    expect(d.grouping.components).toContain('frame:sentry-child:loadUser');
    expect(d.grouping.components.join()).not.toMatch(/\d{2,}/);
    expect(d.hourly).toHaveLength(48);
    expect(d.hourly.reduce((n: number, h: { count: number }) => n + h.count, 0)).toBe(21);
    const release = d.tags.find((t: { key: string }) => t.key === 'release');
    expect(release).toMatchObject({
      totalCount: 21,
      uniqueValues: 1,
      topValues: [{ value: 'shop@1.0.0', count: 21 }],
    });
    expect(d.tags.find((t: { key: string }) => t.key === 'user').uniqueValues).toBe(7);

    const page1 = (await call(b, 'GET', `/api/v1/issues/${typeError.id}/events?limit=15`, owner.token)).body;
    expect(page1.items).toHaveLength(15);
    const page2 = (
      await call(
        b,
        'GET',
        `/api/v1/issues/${typeError.id}/events?limit=15&cursor=${page1.nextCursor}`,
        owner.token,
      )
    ).body;
    expect(page2.items).toHaveLength(6);
    expect(page2.nextCursor).toBeNull();
    const received = [...page1.items, ...page2.items].map((e: { receivedAt: string }) => e.receivedAt);
    expect(received).toEqual([...received].sort().reverse());

    const latest = page1.items[0];
    const ev = await call(b, 'GET', `/api/v1/events/${latest.eventId}`, owner.token);
    expect(ev.status).toBe(200);
    expect(ev.body).toMatchObject({ eventId: latest.eventId, issueId: typeError.id, nextEventId: null });
    expect(ev.body.payload.exceptions[0].type).toBe('TypeError');
    expect(
      (await call(b, 'GET', `/api/v1/events/${latest.eventId}?projectId=${project.id}`, owner.token)).status,
    ).toBe(200);

    const jsonl = await call(b, 'GET', `/api/v1/issues/${typeError.id}/events.jsonl`, owner.token);
    expect(jsonl.status).toBe(200);
    expect(jsonl.headers.get('content-type')).toMatch(/ndjson/);
    const lines = jsonl.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(21);
    // Two export pages (the first holds 20 events): every event once, newest first.
    expect(lines.map((l) => l.eventId)).toEqual(
      [...page1.items, ...page2.items].map((e: { eventId: string }) => e.eventId),
    );
    const csv = await call(b, 'GET', `/api/v1/issues/${typeError.id}/events.csv`, owner.token);
    const rows = csv.text.trim().split('\n');
    expect(rows[0]).toBe('eventId,receivedAt,timestamp,level,title,release,environment,user,message');
    expect(rows).toHaveLength(22);
    expect(rows[1]).toContain(`"${latest.eventId}"`);
  });

  it('changes status, ignore rules and assignee; bulk-resolves; merges; deletes', async () => {
    const list = (await issues('?query=FilterError')).items;
    const [one, two, three] = list.map((i) => i.id as number).sort((a, c) => a - c);

    const ignored = await call(b, 'PATCH', `/api/v1/issues/${one}`, owner.token, {
      status: 'ignored',
      ignore: { count: 2 },
    });
    expect(ignored.body).toMatchObject({ status: 'ignored', ignoreCount: 2 });
    expect(
      (await call(b, 'PATCH', `/api/v1/issues/${one}`, owner.token, { assigneeId: outsider.userId })).status,
    ).toBe(400);
    const assigned = await call(b, 'PATCH', `/api/v1/issues/${one}`, owner.token, {
      assigneeId: viewer.userId,
    });
    expect(assigned.body.assigneeId).toBe(viewer.userId);
    expect((await issues(`?status=ignored&assignee=${viewer.userId}`)).items.map((i) => i.id)).toEqual([one]);

    const bulk = await call(b, 'POST', `/api/v1/projects/${project.id}/issues/bulk`, owner.token, {
      ids: [two, three, 999_999],
      status: 'resolved',
    });
    expect(bulk.body).toEqual({ updated: 2, ids: [two, three] });
    expect((await issues('?status=resolved&query=FilterError')).items).toHaveLength(2);

    const merged = await call(b, 'POST', `/api/v1/issues/${two}/merge`, owner.token, {
      otherIssueIds: [three],
    });
    expect(merged.status).toBe(200);
    expect(merged.body.issue.count).toBe(3);
    expect((await call(b, 'GET', `/api/v1/issues/${three}`, owner.token)).status).toBe(404);
    // New events with the merged-away fingerprint land in the surviving issue.
    await publish([
      internalEvent(project.id, {
        exceptions: [
          {
            type: 'FilterError3',
            value: 'thing 3 broke',
            stacktrace: {
              frames: [{ filename: '/srv/app/src/filter.js', function: 'step3', lineno: 3, in_app: true }],
            },
          },
        ],
      }),
    ]);
    await waitFor(async () => (await call(b, 'GET', `/api/v1/issues/${two}`, owner.token)).body.count === 4, {
      what: 'merged issue to count the new event',
    });
    const events = (await call(b, 'GET', `/api/v1/issues/${two}/events`, owner.token)).body.items;
    expect(events).toHaveLength(4);

    expect((await call(b, 'DELETE', `/api/v1/issues/${two}`, owner.token)).status).toBe(204);
    expect((await call(b, 'GET', `/api/v1/issues/${two}`, owner.token)).status).toBe(404);
    expect((await call(b, 'GET', `/api/v1/events/${events[0].eventId}`, owner.token)).status).toBe(404);
    for (const table of ['issue_tags', 'issue_hourly', 'issue_users', 'issue_fingerprints'])
      expect([
        table,
        await b.ctx.db.query(`SELECT 1 FROM ${table} WHERE issue_id = ANY($1)`, [[two, three]]),
      ]).toEqual([table, []]);
  });

  it('answers 404 to another organization and 403 to a viewer who tries to change anything', async () => {
    const target = (await issues('?query=TypeError')).items[0]!;
    const eventId = target.lastEventId as string;
    const before = (await call(b, 'GET', `/api/v1/issues/${target.id}`, owner.token)).body;
    const routes: Array<[string, string, unknown?]> = [
      ['GET', `/api/v1/projects/${project.id}/issues`],
      ['GET', `/api/v1/issues/${target.id}`],
      ['GET', `/api/v1/issues/${target.id}/events`],
      ['GET', `/api/v1/issues/${target.id}/events.jsonl`],
      ['GET', `/api/v1/issues/${target.id}/events.csv`],
      ['GET', `/api/v1/events/${eventId}?projectId=${project.id}`],
      ['GET', `/api/v1/events/${eventId}`],
      ['PATCH', `/api/v1/issues/${target.id}/resolve`, {}],
      ['PATCH', `/api/v1/issues/${target.id}`, { status: 'ignored' }],
      ['POST', `/api/v1/projects/${project.id}/issues/bulk`, { ids: [target.id], status: 'resolved' }],
      ['POST', `/api/v1/issues/${target.id}/merge`, { otherIssueIds: [target.id + 1] }],
      ['DELETE', `/api/v1/issues/${target.id}`],
    ];
    for (const [method, url, body] of routes) {
      const r = await call(b, method, url, outsider.token, body);
      expect([method, url, r.status]).toEqual([method, url, 404]);
    }
    for (const [method, url, body] of routes) {
      const r = await call(b, method, url, viewer.token, body);
      expect([method, url, r.status]).toEqual([method, url, method === 'GET' ? 200 : 403]);
    }
    expect((await call(b, 'GET', `/api/v1/issues/${target.id}`, undefined)).status).toBe(401);
    const after = (await call(b, 'GET', `/api/v1/issues/${target.id}`, owner.token)).body;
    expect(after).toEqual(before);
  });
  it('answers 4xx, never 5xx, to odd input at every route', async () => {
    await publish([internalEvent(project.id, { exceptions: [{ type: 'ProbeError', value: 'probe' }] })]);
    await waitFor(async () => (await issues('?query=ProbeError')).items.length === 1, {
      what: 'probe issue',
    });
    const target = (await issues('?query=ProbeError')).items[0]!;
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const list = `/api/v1/projects/${project.id}/issues`;
    const ev = `/api/v1/issues/${target.id}/events`;
    const probes: Array<[string, string, unknown?, number?]> = [
      ['GET', '/api/v1/issues/99999999999999999999'],
      ['GET', '/api/v1/issues/9223372036854775808'],
      ['GET', '/api/v1/issues/1e3'],
      ['GET', '/api/v1/projects/99999999999999999999/issues'],
      ['GET', `${list}?cursor=${enc(['not a time', 1])}`, undefined, 400],
      ['GET', `${list}?sort=count&cursor=${enc(['many', 1])}`, undefined, 400],
      ['GET', `${list}?sort=count&cursor=${enc([1e300, 1])}`, undefined, 400],
      ['GET', `${list}?cursor=${enc([new Date().toISOString(), 1.5])}`, undefined, 400],
      ['GET', `${list}?cursor=${enc([new Date().toISOString(), 1e30])}`, undefined, 400],
      ['GET', `${list}?cursor=${enc([{}, 1])}`, undefined, 400],
      ['GET', `${list}?limit=100000000000000000000000`],
      ['GET', `${list}?query=${encodeURIComponent('a\u0000b')}`, undefined, 400],
      ['GET', `${list}?tag=${encodeURIComponent('region:\u0000')}`, undefined, 400],
      ['GET', `${list}?environment=${encodeURIComponent('\u0000')}`, undefined, 400],
      [
        'GET',
        `${list}?query=${encodeURIComponent('is:whatever level:nope assigned:99999999999999999999 😀:😀')}`,
      ],
      ['GET', `${list}?assignee=99999999999999999999`],
      ['GET', `${list}?assignee=1.5`],
      ['GET', `${ev}?cursor=${enc(['yesterday', '0'.repeat(32)])}`, undefined, 400],
      ['GET', `${ev}?cursor=${enc(['275760-09-13T00:00:00.000Z', '0'.repeat(32)])}`, undefined, 400],
      ['GET', `${ev}?limit=0`],
      ['GET', `/api/v1/events/${'f'.repeat(32)}?projectId=99999999999999999999`],
      ['GET', '/api/v1/events/%00'],
      ['GET', `/api/v1/issues/${target.id}?hours=1e9`],
      [
        'PATCH',
        `/api/v1/issues/${target.id}`,
        { status: 'ignored', ignore: { until: '+275760-09-13T00:00:00Z' } },
      ],
      [
        'PATCH',
        `/api/v1/issues/${target.id}`,
        { status: 'ignored', ignore: { until: '9999-12-31T23:59:59Z' } },
      ],
      ['PATCH', `/api/v1/issues/${target.id}`, { assigneeId: 99999999999999 }],
      ['POST', `${list}/bulk`, { ids: [2 ** 63], status: 'resolved' }],
      ['POST', `/api/v1/issues/${target.id}/merge`, { otherIssueIds: [9007199254740991] }],
    ];
    const failed: string[] = [];
    for (const [method, url, body, expected] of probes) {
      const r = await call(b, method, url, owner.token, body);
      if (r.status >= 500 || (expected !== undefined && r.status !== expected))
        failed.push(`${method} ${url} → ${r.status}`);
    }
    expect(failed).toEqual([]);
    // The probes changed nothing they should not have: the issue is still there and readable.
    expect((await call(b, 'GET', `/api/v1/issues/${target.id}`, owner.token)).status).toBe(200);
    await call(b, 'PATCH', `/api/v1/issues/${target.id}`, owner.token, {
      status: 'unresolved',
      assigneeId: null,
    });
  });
});
