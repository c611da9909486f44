import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, requirePg } from '../../server/src/test-support/index.js';
import { type BeaconProject, startBeaconServer } from './beacon.js';
import { bundleForBrowser, launchChromium, requireChromium, type Site, startSite } from './chromium.js';
import type { Json } from './receiver.js';

// The official Sentry SDKs (the packages installed at the repo root), unchanged, pointed at a
// real Beacon: everything they send arrives and groups as it would in Sentry.
const here = path.dirname(fileURLToPath(import.meta.url));
const sentryVersion = (await import('@sentry/node/package.json', { with: { type: 'json' } })).default.version;

const frames = (payload: Json): Json[] => payload.exceptions.at(-1).stacktrace.frames;

// One Beacon for the file (a project per suite): starting one costs seconds.
let server: Awaited<ReturnType<typeof startBeaconServer>> | undefined;
const beaconProject = async (name: string) => {
  server ??= await startBeaconServer();
  return server.project(name);
};
afterAll(async () => server?.close());

describe.runIf(requirePg())(`official @sentry/node ${sentryVersion} → Beacon`, () => {
  let b: BeaconProject;
  let ids: Json;
  let issues: Json[];
  beforeAll(async () => {
    b = await beaconProject('sentry-node');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [path.join(here, 'fixtures/sentry-node-app.mjs')],
      { cwd: repoRoot, env: { ...process.env, DSN: b.dsn }, timeout: 30_000 },
    );
    ids = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(ids.flushed).toBe(true);
    issues = await b.issues(
      (items) => items.reduce((n, i) => n + i.count, 0) >= 6,
      'the six @sentry/node events grouped',
    );
  });

  it('groups the same exception from the same code into one issue, with frames', async () => {
    const charge = issues.filter((i) => /card declined/.test(i.title));
    expect(charge).toHaveLength(1);
    expect(charge[0]).toMatchObject({
      count: 2,
      level: 'error',
      platform: 'node',
      lastRelease: 'compat-node@1.0.0',
    });
    expect(charge[0].title).toMatch(/^TypeError/);
    const { items } = await b.api(`/api/v1/issues/${charge[0].id}/events`);
    expect(items.map((e: Json) => e.eventId).sort()).toEqual([...ids.charge].sort());
    const event = await b.event(ids.charge[0]);
    expect(frames(event.payload).at(-1)).toMatchObject({ function: 'chargeCard', in_app: true });
    expect(frames(event.payload).at(-1).filename).toMatch(/sentry-node-app\.mjs$/);
    expect(event.payload.exceptions.at(-1)).toMatchObject({
      type: 'TypeError',
      value: 'card declined for order 101',
    });
  });

  it('keeps tags, user, release, environment, breadcrumbs and SDK name', async () => {
    const event = await b.event(ids.charge[1]);
    expect(event).toMatchObject({ release: 'compat-node@1.0.0', environment: 'compat' });
    const p = event.payload;
    expect(p.tags).toMatchObject({ feature: 'checkout' });
    expect(p.user).toMatchObject({ id: 'node-user-1', email: 'grace@example.com' });
    expect(p.breadcrumbs).toContainEqual(
      expect.objectContaining({ category: 'cart', message: 'added 3 items' }),
    );
    expect(p.sdk.name).toBe('sentry.javascript.node');
    const detail = await b.api(`/api/v1/issues/${event.issueId}`);
    expect(detail.tags.find((t: Json) => t.key === 'feature')?.topValues[0].value).toBe('checkout');
    expect(detail.userCount).toBe(1);
  });

  it('groups by a custom fingerprint, whether passed to capture or set on a scope', async () => {
    const [a, c] = await Promise.all(ids.fingerprint.map((id: string) => b.event(id)));
    expect(a.issueId).toBe(c.issueId);
    expect(a.payload.fingerprint).toEqual(['db-outage']);
    const detail = await b.api(`/api/v1/issues/${a.issueId}`);
    expect(detail).toMatchObject({
      count: 2,
      grouping: { method: 'fingerprint', components: ['fingerprint:db-outage'] },
    });
  });

  it('receives messages with their level as their own issue', async () => {
    const event = await b.event(ids.message);
    expect(event).toMatchObject({ level: 'warning' });
    expect(event.payload.message).toBe('disk space low on worker-3');
    const issue = issues.find((i) => i.id === event.issueId);
    expect(issue).toMatchObject({ level: 'warning', count: 1 });
    expect(issue.title).toContain('disk space low');
  });

  it('receives `cause` chains as chained exceptions', async () => {
    const event = await b.event(ids.cause);
    expect(event.payload.exceptions.map((e: Json) => e.value)).toEqual(['upstream 503', 'sync failed']);
  });
});

describe.runIf(requirePg() && requireChromium())(
  'official @sentry/browser and @beacon/sdk in Chromium → Beacon',
  () => {
    let b: BeaconProject;
    let browser: Browser;
    let site: Site;
    const APP = `
export function applyCoupon(code) {
  const rules = { SAVE10: 10 };
  if (!(code in rules)) throw new TypeError('unknown coupon ' + code);
  return rules[code];
}
export function onApply(code) {
  applyCoupon(code);
}
`;
    beforeAll(async () => {
      b = await beaconProject('browser');
      site = await startSite();
      site.files.set('/app.js', ['text/javascript', APP]);
      site.files.set('/sentry.js', [
        'text/javascript',
        await bundleForBrowser({ source: "export * from '@sentry/browser';" }),
      ]);
      site.files.set('/beacon.js', [
        'text/javascript',
        await bundleForBrowser({ source: "export * from './src/browser.ts';" }),
      ]);
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
      await site?.close();
    });

    async function runPage(sdk: 'sentry' | 'beacon', release: string) {
      site.files.set(`/${sdk}.html`, [
        'text/html',
        `<!doctype html><html><body><script type="module">
import * as SDK from '/${sdk}.js';
import * as App from '/app.js';
SDK.init({ dsn: ${JSON.stringify(b.dsn)}, release: '${release}', environment: 'browser' });
SDK.setUser({ id: '${sdk}-user' });
SDK.setTag('sdk', '${sdk}');
SDK.addBreadcrumb({ category: 'ui', message: 'opened checkout' });
window.SDK = SDK;
window.App = App;
window.ready = true;
</script></body></html>`,
      ]);
      const ctx = await browser.newContext();
      const page = await ctx.newPage();
      await page.goto(`${site.url}/${sdk}.html`);
      await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
      // Two uncaught errors from the same code (a click-like task), a message, a fingerprinted capture.
      await page.evaluate(() => {
        const w = window as unknown as { App: { onApply(c: string): void } };
        setTimeout(() => w.App.onApply('BOGUS1'));
        setTimeout(() => w.App.onApply('BOGUS2'));
      });
      const ids = await page.evaluate(() => {
        const w = window as unknown as {
          SDK: {
            captureMessage(m: string, l: string): string;
            captureException(e: unknown, c?: unknown): string;
          };
        };
        return {
          message: w.SDK.captureMessage('coupon service slow', 'warning'),
          fingerprinted: w.SDK.captureException(new Error('coupon backend down'), {
            fingerprint: ['coupons-down'],
          }),
        };
      });
      return { ids, close: () => ctx.close() };
    }

    for (const sdk of ['sentry', 'beacon'] as const) {
      it(`${sdk === 'sentry' ? '@sentry/browser' : '@beacon/sdk'}: uncaught errors group with frames; message, fingerprint, user, tags, breadcrumbs arrive`, async () => {
        const release = `${sdk}-web@1.0.0`;
        const { ids, close } = await runPage(sdk, release);
        try {
          const ofRelease = (items: Json[]) => items.filter((i) => i.lastRelease === release);
          const issues = ofRelease(
            await b.issues(
              (items) => ofRelease(items).reduce((n, i) => n + i.count, 0) >= 4,
              `${sdk} browser events`,
            ),
          );
          const coupon = issues.find((i) => /TypeError/.test(i.title))!;
          expect(coupon).toMatchObject({ count: 2, platform: 'javascript' });
          const { items } = await b.api(`/api/v1/issues/${coupon.id}/events`);
          const event = await b.event(items[0].eventId);
          const f = frames(event.payload);
          expect(f.at(-1)).toMatchObject({
            function: expect.stringMatching(/applyCoupon$/),
            lineno: 4,
            in_app: true,
          });
          expect(f.at(-1).filename ?? f.at(-1).abs_path).toMatch(/\/app\.js$/);
          expect(f.map((x: Json) => x.function)).toEqual(
            expect.arrayContaining([expect.stringMatching(/onApply$/)]),
          );
          expect(event).toMatchObject({ release, environment: 'browser' });
          expect(event.payload).toMatchObject({ user: { id: `${sdk}-user` }, tags: { sdk } });
          expect(event.payload.sdk.name).toBe(
            sdk === 'sentry' ? 'sentry.javascript.browser' : 'beacon.javascript',
          );
          expect(event.payload.exceptions.at(-1).mechanism).toMatchObject({ handled: false });
          expect(event.payload.breadcrumbs).toContainEqual(
            expect.objectContaining({ category: 'ui', message: 'opened checkout' }),
          );

          const msg = await b.event(ids.message);
          expect(msg).toMatchObject({ level: 'warning' });
          expect(msg.payload.message).toBe('coupon service slow');
          const fp = await b.event(ids.fingerprinted);
          expect(fp.payload.fingerprint).toEqual(['coupons-down']);
        } finally {
          await close();
        }
      });
    }
  },
);
