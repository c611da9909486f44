import { gzipSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  bundleForBrowser,
  launchChromium,
  requireChromium,
  type Site,
  sdkRoot,
  startSite,
} from './chromium.js';
import { type Json, type Receiver, startReceiver } from './receiver.js';

// The browser bundle in real Chromium (Debian's), served from one origin and reporting to a
// receiver on another, as in production.
let bundle = '';
let browser: Browser;
let site: Site;
let siteUrl = '';
let r: Receiver;

const APP_JS = `
export function renderCart(items) {
  return items.map((i) => i.price.toFixed(2));
}
export function onCheckoutClick() {
  renderCart([{ price: 1 }, { cost: 2 }]);
}
export async function loadProfile() {
  await null;
  throw new Error('profile service unavailable', { cause: new TypeError('Failed to parse JSON') });
}
`;

function page(dsn: string, options: Record<string, unknown> = {}) {
  return `<!doctype html><html><head><title>shop</title></head><body><button id="buy">buy</button>
<script type="module">
import * as Beacon from '/beacon.min.js';
import * as App from '/app.js';
Beacon.init({ dsn: ${JSON.stringify(dsn)}, release: 'web@2.0.0', environment: 'browser-test', ...${JSON.stringify(options)} });
Beacon.setUser({ id: 'browser-user' });
Beacon.setTag('page', 'cart');
window.Beacon = Beacon;
window.App = App;
document.getElementById('buy').addEventListener('click', () => setTimeout(App.onCheckoutClick));
window.ready = true;
</script></body></html>`;
}

describe.runIf(requireChromium())('browser bundle in Chromium', () => {
  beforeAll(async () => {
    bundle = await bundleForBrowser({ file: `${sdkRoot}/src/browser.ts` });
    r = await startReceiver();
    site = await startSite();
    siteUrl = site.url;
    site.files.set('/beacon.min.js', ['text/javascript', bundle]);
    site.files.set('/app.js', ['text/javascript', APP_JS]);
    site.files.set('/blank', ['text/html', '<!doctype html><p>bye</p>']);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await r?.close();
  });
  beforeEach(() => {
    r.requests.length = 0;
  });

  async function open(options: Record<string, unknown> = {}) {
    site.files.set('/', ['text/html', page(r.dsn(3, 'browserkey'), options)]);
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    await p.goto(`${siteUrl}/`);
    await p.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
    return { p, ctx };
  }
  async function eventsWhen(n: number): Promise<Json[]> {
    const end = Date.now() + 15_000;
    while (r.events().length < n) {
      if (Date.now() > end) throw new Error(`expected ${n} events, got ${r.events().length}`);
      await new Promise((res) => setTimeout(res, 50));
    }
    return r.events();
  }

  it('is small: the minified ESM bundle is under 12 KB gzipped', () => {
    expect(gzipSync(bundle).length).toBeLessThan(12 * 1024);
  });

  it('reports an uncaught error from a click handler with frames, page context and breadcrumbs', async () => {
    const { p, ctx } = await open();
    await p.evaluate(() => console.warn('about to buy'));
    await p.click('#buy');
    const [event] = await eventsWhen(1);
    await ctx.close();
    expect(event).toMatchObject({
      platform: 'javascript',
      level: 'error',
      release: 'web@2.0.0',
      environment: 'browser-test',
      user: { id: 'browser-user' },
      tags: { page: 'cart' },
      request: { url: `${siteUrl}/` },
      sdk: { name: 'beacon.javascript' },
    });
    expect(event.request.headers['User-Agent']).toMatch(/Chrome/);
    const ex = event.exception.values.at(-1);
    expect(ex).toMatchObject({ type: 'TypeError', mechanism: { type: 'onerror', handled: false } });
    expect(ex.value).toMatch(/toFixed/);
    const frames = ex.stacktrace.frames;
    expect(frames.at(-1)).toMatchObject({ filename: `${siteUrl}/app.js`, lineno: 3, in_app: true });
    expect(frames.map((f: Json) => f.function)).toEqual(
      expect.arrayContaining(['renderCart', 'onCheckoutClick']),
    );
    expect(event.breadcrumbs).toContainEqual(
      expect.objectContaining({ category: 'console', level: 'warning', message: 'about to buy' }),
    );
  });

  it('reports unhandled rejections with their cause chain, and fetch breadcrumbs', async () => {
    const { p, ctx } = await open();
    await p.evaluate(async (url) => {
      await fetch(`${url}/nowhere`).catch(() => {});
      const w = window as unknown as { App: { loadProfile(): Promise<void> } };
      void w.App.loadProfile();
    }, r.url);
    const [event] = await eventsWhen(1);
    await ctx.close();
    expect(event.exception.values.map((v: Json) => [v.type, v.value])).toEqual([
      ['TypeError', 'Failed to parse JSON'],
      ['Error', 'profile service unavailable'],
    ]);
    expect(event.exception.values.at(-1).mechanism).toMatchObject({
      type: 'onunhandledrejection',
      handled: false,
    });
    expect(event.exception.values.at(-1).stacktrace.frames.at(-1)).toMatchObject({
      function: 'Module.loadProfile',
      filename: `${siteUrl}/app.js`,
      lineno: 10,
    });
    expect(event.breadcrumbs).toContainEqual(
      expect.objectContaining({
        category: 'fetch',
        data: { method: 'GET', url: `${r.url}/nowhere`, status_code: 200 },
      }),
    );
  });

  it('reports an error event without an error object (cross-origin "Script error.") with one frame', async () => {
    const { p, ctx } = await open();
    await p.evaluate(() => {
      window.dispatchEvent(
        new ErrorEvent('error', {
          message: 'Script error.',
          filename: 'https://cdn.example.com/w.js',
          lineno: 7,
          colno: 3,
        }),
      );
    });
    const [event] = await eventsWhen(1);
    await ctx.close();
    expect(event.exception.values).toEqual([
      {
        type: 'Error',
        value: 'Script error.',
        mechanism: { type: 'onerror', handled: false },
        stacktrace: {
          frames: [
            {
              function: '?',
              filename: 'https://cdn.example.com/w.js',
              abs_path: 'https://cdn.example.com/w.js',
              lineno: 7,
              colno: 3,
              in_app: true,
            },
          ],
        },
      },
    ]);
    expect(event.user).toEqual({ id: 'browser-user' });
  });

  it('captures explicitly and delivers queued events when the page goes away (keepalive / sendBeacon)', async () => {
    const { p, ctx } = await open({ transport: { batchDelayMs: 60_000 } });
    const id = await p.evaluate(() => {
      const w = window as unknown as { Beacon: { captureMessage(m: string, l: string): string } };
      return w.Beacon.captureMessage('left the page', 'warning');
    });
    await new Promise((res) => setTimeout(res, 200));
    expect(r.events()).toHaveLength(0);
    await p.goto(`${siteUrl}/blank`);
    const [event] = await eventsWhen(1);
    await ctx.close();
    expect(event).toMatchObject({ event_id: id, message: 'left the page', level: 'warning' });
  });
});
