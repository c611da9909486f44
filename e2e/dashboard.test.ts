import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  repoRoot,
  requirePg,
  startTestBeacon,
  type TestBeacon,
  waitFor,
} from '../packages/server/src/test-support/index.js';
import { chromiumArgs, chromiumPath, ensureWebBuild, screenshotDir } from './support.js';

const run = promisify(execFile);

/**
 * The dashboard end to end, in Debian's Chromium against a real Beacon: each `it` is one step of
 * a user's first session, in order, sharing the page. Screenshots of every main screen are saved
 * to test-results/screenshots (the path is printed).
 */
const haveChromium = existsSync(chromiumPath);
if (!haveChromium) {
  // Under CI the browser suite must run: fail loudly instead of skipping.
  if (process.env.CI) throw new Error(`Chromium not found at ${chromiumPath}: apt-get install -y chromium`);
  process.stderr.write(`!!! SKIPPING browser e2e: no Chromium at ${chromiumPath}\n`);
}

describe.runIf(haveChromium && requirePg())('dashboard in Chromium', () => {
  let beacon: TestBeacon;
  let browser: Browser;
  let page: Page;
  let shots: string;
  let target: http.Server;
  let targetUrl: string;
  let hook: http.Server;
  let hookUrl: string;
  const hookBodies: unknown[] = [];
  const state: { projectId?: number; dsn?: string; issueId?: number } = {};

  const shot = async (name: string, p: Page = page) => {
    await p.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
  };
  const token = () =>
    page.evaluate(() => JSON.parse(localStorage.getItem('beacon.session') ?? '{}').accessToken as string);
  const apiGet = async <T>(p: string): Promise<T> => {
    const res = await fetch(`${beacon.url}${p}`, { headers: { authorization: `Bearer ${await token()}` } });
    if (!res.ok) throw new Error(`${p}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  const sendErrors = async (message: string, count = 1, kind = 'checkout') => {
    await run(process.execPath, [path.join(repoRoot, 'e2e/send-errors.mjs')], {
      env: { ...process.env, DSN: state.dsn, MESSAGE: message, COUNT: String(count), KIND: kind },
      timeout: 30_000,
    });
  };

  beforeAll(async () => {
    ensureWebBuild();
    shots = screenshotDir();
    process.stdout.write(`screenshots: ${shots}\n`);
    beacon = await startTestBeacon();
    // A local uptime target and a local webhook receiver for the alert rule.
    target = http.createServer((_req, res) => res.end('ok: healthy'));
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}/health`;
    hook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        try {
          hookBodies.push(JSON.parse(body));
        } catch {
          hookBodies.push(body);
        }
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(15_000);
  });

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail' && page) {
      const name = `fail-${ctx.task.name.replace(/\W+/g, '-').slice(0, 60)}`;
      await shot(name).catch(() => {});
      process.stdout.write(`failure screenshot: ${path.join(shots, `${name}.png`)} at ${page.url()}\n`);
    }
  });

  afterAll(async () => {
    await browser?.close();
    await beacon?.close();
    target?.close();
    hook?.close();
  });

  it('shows the first-run screen and signs up', async () => {
    await page.goto(beacon.url);
    await page.getByRole('heading', { name: 'Welcome to Beacon' }).waitFor();
    await shot('01-first-run');
    await page.getByLabel('Name').fill('Ada Admin');
    await page.getByLabel('Email').fill('ada@example.com');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Create your first project' }).waitFor();
    expect(await token()).toMatch(/\S{20,}/);
  });

  it('creates a project and shows its DSN with SDK snippets', async () => {
    await page.getByLabel('Project name').fill('Shop API');
    await page.getByRole('button', { name: 'Create project' }).click();
    const dsn = page.getByTestId('dsn');
    await dsn.waitFor();
    const text = (await dsn.textContent())!;
    expect(text).toMatch(/^https?:\/\/[0-9a-f]{32}@/);
    state.projectId = Number(/\/p\/(\d+)\//.exec(page.url())![1]);
    // The server's public URL is a placeholder in tests (PORT=0): point the DSN at the real port.
    const u = new URL(text);
    const real = new URL(beacon.url);
    u.host = real.host;
    u.protocol = real.protocol;
    state.dsn = u.toString().replace(/\/$/, '');
    await page.getByRole('tab', { name: '@sentry/node' }).click();
    await page.getByText("import * as Sentry from '@sentry/node'").waitFor();
    await shot('02-onboarding');
  });

  it('shows a new issue live, without a reload, after @sentry/node sends errors', async () => {
    await page.getByRole('link', { name: 'Issues' }).click();
    await page.getByText('No unresolved issues').waitFor();
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    await page.evaluate(() => {
      (window as unknown as { __noReload: boolean }).__noReload = true;
    });
    await sendErrors('Payment failed: card declined', 3);
    const row = page.locator('tr', { hasText: 'Payment failed: card declined' });
    await row.waitFor({ timeout: 30_000 });
    expect(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(true);
    state.issueId = Number(await row.getAttribute('data-issue-id'));
    await waitFor(async () => (await row.locator('td.num').first().textContent())?.trim() === '3', {
      what: 'the live count to reach 3',
    });
    await shot('03-issues');
  });

  it('opens the issue and reads the stack trace', async () => {
    await page.getByRole('link', { name: /Payment failed: card declined/ }).click();
    await page.locator('h1', { hasText: 'Payment failed: card declined' }).waitFor();
    await page.locator('.exc-type', { hasText: 'Error' }).first().waitFor();
    const inApp = page.locator('.frame.in-app');
    await inApp.first().waitFor();
    const frames = await inApp.allTextContents();
    expect(frames.join('\n')).toMatch(/chargeCard/);
    expect(frames.join('\n')).toMatch(/send-errors\.mjs/);
    // The innermost in-app frame is open with its source line highlighted.
    await expect(page.locator('.ctx.current').first().textContent()).resolves.toMatch(/throw new Error/);
    await shot('04-issue-detail');
    await page.getByRole('tab', { name: /Breadcrumbs/ }).click();
    await page.getByText('checkout started').first().waitFor();
    await page.getByRole('tab', { name: /User, request/ }).click();
    await page.getByText('buyer@example.com').waitFor();
    await page.getByRole('tab', { name: 'Stack trace' }).click();
  });

  it('resolves the issue', async () => {
    await page.getByRole('button', { name: 'Resolve', exact: true }).click();
    await page.getByRole('button', { name: 'Unresolve' }).waitFor();
    const issue = await apiGet<{ status: string }>(`/api/v1/issues/${state.issueId}`);
    expect(issue.status).toBe('resolved');
  });

  it('creates an alert rule and sends a test notification', async () => {
    await page.getByRole('link', { name: 'Rules' }).click();
    await page.getByRole('link', { name: 'New rule' }).click();
    await page.getByLabel('Name').fill('New issues to the webhook');
    await page.getByLabel('Trigger').selectOption('new_issue');
    await page.getByLabel('Channel target 1').fill(hookUrl);
    await shot('05-rule-form');
    await page.getByRole('button', { name: 'Create rule' }).click();
    const row = page.locator('tr', { hasText: 'New issues to the webhook' });
    await row.waitFor();
    await row.getByRole('button', { name: 'Send test' }).click();
    await row.getByText(/Test notification queued/).waitFor();
    await waitFor(() => hookBodies.length > 0, { what: 'the test webhook', timeout: 20_000 });
    await shot('06-rules');
    await page.getByRole('tab', { name: 'Channels' }).click();
    await page.getByRole('cell', { name: hookUrl }).waitFor();
    await shot('06b-channels');
    await page.getByRole('tab', { name: 'Rules' }).click();
  });

  it('shows an alert when a new issue fires the rule, and acknowledges it', async () => {
    await sendErrors('Inventory sync timed out', 1, 'inventory');
    await page.getByRole('link', { name: 'Alerts' }).click();
    const row = page.locator('tr', { hasText: 'New issues to the webhook' });
    await row.waitFor({ timeout: 30_000 });
    await row.getByText('firing').waitFor();
    await shot('07-alerts');
    await row.getByRole('button', { name: 'Acknowledge' }).click();
    await row.getByText('acknowledged').waitFor();
  });

  it('creates an uptime endpoint against a local target and shows it up', async () => {
    await page.getByRole('link', { name: 'Uptime' }).click();
    await page.getByRole('button', { name: 'New endpoint' }).click();
    await page.getByLabel('New service name').fill('Storefront');
    await page.getByLabel('Endpoint name').fill('Health');
    await page.getByLabel('URL').fill(targetUrl);
    await page.getByLabel('Interval (seconds)').fill('10');
    // A URL the API refuses: the error shows and no empty service is left behind.
    await page.getByLabel('URL').fill('ftp://127.0.0.1/health');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: /http\(s\) URL/ })
      .waitFor();
    expect(await apiGet<unknown[]>('/api/v1/services')).toEqual([]);
    await page.getByLabel('URL').fill(targetUrl);
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await page.getByRole('heading', { name: /Health/ }).waitFor();
    await page.locator('.pings .badge-up').first().waitFor({ timeout: 40_000 });
    await page.getByRole('heading', { name: /up\s+Health/i }).waitFor({ timeout: 20_000 });
    // The 24-hour figures come from the checks themselves: no wait for the first 5-minute window.
    await page
      .locator('.stats > div', { hasText: 'Availability (24 h)' })
      .getByText('100%')
      .waitFor({ timeout: 20_000 });
    // Windows are aggregated every 5 minutes; to see the charts now, store three hours of them
    // (with a dip) the way the aggregator does, then reload.
    const endpointId = Number(/\/uptime\/(\d+)/.exec(page.url())![1]);
    // Several expected status codes survive an edit.
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Expected status').fill('200, 204');
    await page.getByRole('button', { name: 'Save endpoint' }).click();
    await page.getByRole('button', { name: 'Edit' }).waitFor();
    expect(
      (await apiGet<{ expectedStatus: number[] }>(`/api/v1/endpoints/${endpointId}`)).expectedStatus,
    ).toEqual([200, 204]);
    await beacon.ctx.db.query(
      `INSERT INTO uptime_windows (endpoint_id, window_start, checks, failures, degraded, availability,
         latency_min, latency_avg, latency_p50, latency_p95, latency_p99)
       SELECT $1, date_trunc('hour', now()) - (n * interval '5 minutes'), 30, f, 0, (30 - f) / 30.0,
              5, 20 + (n % 7) * 3, 18 + (n % 7) * 3, 40 + (n % 5) * 9, 60 + n
       FROM (SELECT n, CASE WHEN n BETWEEN 10 AND 12 THEN 6 ELSE 0 END AS f FROM generate_series(1, 36) n) s
       ON CONFLICT DO NOTHING`,
      [endpointId],
    );
    await page.reload();
    await page.getByRole('img', { name: /Availability per 5 minutes/ }).waitFor();
    await page.getByRole('img', { name: /p95 latency per 5 minutes/ }).waitFor();
    await shot('08-endpoint');
    await page.getByRole('link', { name: 'Uptime' }).first().click();
    await page.locator('tr', { hasText: 'Health' }).getByText('up').waitFor();
    await page.locator('tr', { hasText: 'Health' }).getByText('100%').waitFor();
    await shot('09-uptime');
  });

  it('reveals a new API token once in settings', async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('tab', { name: 'Project keys' }).waitFor();
    await shot('10-settings-keys');
    await page.getByRole('tab', { name: 'API tokens' }).click();
    await page.getByLabel('Token name').fill('CI');
    await page.getByRole('button', { name: 'Create token' }).click();
    await page.getByText('Your new API token').waitFor();
    await shot('11-settings-tokens');
    await page.getByRole('tab', { name: 'Members' }).click();
    await page.getByText('ada@example.com').first().waitFor();
  });

  it('shows a viewer only what the role allows, without calls that answer 403', async () => {
    const owner = await token();
    const call = async <T>(method: string, p: string, body: unknown, auth?: string): Promise<T> => {
      const res = await fetch(`${beacon.url}${p}`, {
        method,
        headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${p}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };
    const [org] = await apiGet<Array<{ id: number }>>('/api/v1/orgs');
    const inv = await call<{ link: string }>(
      'POST',
      `/api/v1/orgs/${org!.id}/invitations`,
      { email: 'vic@example.com', role: 'viewer' },
      owner,
    );
    const session = await call<Record<string, unknown>>('POST', '/api/v1/auth/signup', {
      email: 'vic@example.com',
      password: 'correct horse battery',
      name: 'Vic Viewer',
      inviteToken: new URL(inv.link).searchParams.get('invite'),
    });
    const viewer = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const refused: string[] = [];
    viewer.on('response', (r) => {
      if (r.status() === 403) refused.push(r.url());
    });
    await viewer.goto(beacon.url);
    await viewer.evaluate((s) => localStorage.setItem('beacon.session', s), JSON.stringify(session));
    const p = `${beacon.url}/p/${state.projectId}`;
    // Settings: keys without key controls; members without invitations (that route needs manage_members).
    await viewer.goto(`${p}/settings`);
    await viewer.locator('td', { hasText: 'Default' }).first().waitFor();
    expect(await viewer.getByRole('button', { name: /Create key|Rotate secret|Disable/ }).count()).toBe(0);
    await viewer.getByRole('tab', { name: 'Members' }).click();
    await viewer.getByText('vic@example.com').first().waitFor();
    expect(await viewer.getByText('Invite someone').count()).toBe(0);
    await shot('18-viewer-members', viewer);
    await viewer.goto(`${p}/issues?status=all`);
    await viewer.locator('tr', { hasText: 'Payment failed' }).waitFor();
    expect(await viewer.getByRole('checkbox').count()).toBe(0);
    await viewer.goto(`${p}/issues/${state.issueId}`);
    await viewer.locator('.frame.in-app').first().waitFor();
    expect(await viewer.getByRole('button', { name: /^(Resolve|Unresolve)$/ }).count()).toBe(0);
    await viewer.goto(`${p}/rules`);
    await viewer.getByText('New issues to the webhook').waitFor();
    expect(await viewer.getByRole('button', { name: /Send test|Delete/ }).count()).toBe(0);
    expect(await viewer.getByRole('link', { name: 'New rule' }).count()).toBe(0);
    await viewer.goto(`${p}/uptime`);
    await viewer.getByText('Storefront').first().waitFor();
    expect(await viewer.getByRole('button', { name: 'New endpoint' }).count()).toBe(0);
    await shot('19-viewer-uptime', viewer);
    expect(refused).toEqual([]);
    await viewer.close();
  });

  it('works at phone width', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
    await phone.goto(beacon.url);
    await phone.evaluate(
      (s) => localStorage.setItem('beacon.session', s),
      await page.evaluate(() => localStorage.getItem('beacon.session')!),
    );
    await phone.goto(`${beacon.url}/p/${state.projectId}/issues?status=all`);
    await phone.locator('tr', { hasText: 'Payment failed' }).waitFor();
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(1);
    await shot('12-phone-issues', phone);
    await phone.goto(`${beacon.url}/p/${state.projectId}/issues/${state.issueId}`);
    await phone.locator('.frame.in-app').first().waitFor();
    await shot('13-phone-issue', phone);
    for (const [name, url, ready] of [
      ['14-phone-alerts', `/p/${state.projectId}/alerts`, 'New issues to the webhook'],
      ['15-phone-rule-form', `/p/${state.projectId}/rules/new`, 'New alert rule'],
      ['16-phone-uptime', `/p/${state.projectId}/uptime`, 'Storefront'],
      ['17-phone-settings', `/p/${state.projectId}/settings`, 'Create key'],
    ] as const) {
      await phone.goto(`${beacon.url}${url}`);
      await phone.getByText(ready).first().waitFor();
      expect(
        await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth),
      ).toBeLessThanOrEqual(1);
      await shot(name, phone);
    }
    await phone.close();
  });
});
