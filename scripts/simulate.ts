#!/usr/bin/env -S node --import tsx
/**
 * A small shop under load, to give the dashboard, alerts and uptime something real to show.
 * Four services (auth, orders, payments, notifications) send errors through the official
 * @sentry/node SDK and @beacon/sdk with realistic patterns — steady noise, bursts, a new bug
 * after a deploy, a regression after a fix — and serve health endpoints that go slow and down.
 * Everything runs on 127.0.0.1 and stops by itself.
 *
 *   npm run simulate -- [--url http://127.0.0.1:8000] [--duration 180] [--email sim@beacon.local --password …]
 */
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.BEACON_URL ?? 'http://127.0.0.1:8000' },
    duration: { type: 'string', default: '180' },
    email: { type: 'string', default: 'simulator@beacon.local' },
    password: { type: 'string', default: 'simulate-a-small-shop' },
  },
});
const base = args.url.replace(/\/+$/, '');
if (!/^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/.test(base)) {
  console.error(`simulate: refusing to send load to ${base}: only 127.0.0.0/8, localhost or [::1]`);
  process.exit(2);
}
const durationS = Number(args.duration);
const started = Date.now();
const elapsed = () => (Date.now() - started) / 1000;
const say = (msg: string) => console.log(`[${elapsed().toFixed(0).padStart(4)}s] ${msg}`);

let token = '';
async function api<T = Record<string, unknown>>(method: string, p: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${p}`, {
    method,
    headers: {
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p}: HTTP ${res.status} ${text.slice(0, 200)}`);
  return (text ? JSON.parse(text) : {}) as T;
}

// ------------------------------------------------------------------ local targets and receivers
type Mode = 'healthy' | 'slow' | 'down';
const modes: Record<string, Mode> = {
  auth: 'healthy',
  orders: 'healthy',
  payments: 'healthy',
  notifications: 'healthy',
};
let notifications = 0;
const target: Server = createServer((req, res) => {
  if (req.url === '/hooks/beacon') {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      notifications += 1;
      let summary = body.slice(0, 120);
      try {
        const j = JSON.parse(body) as Record<string, unknown>;
        summary = String(
          j.text ?? j.reason ?? j.type ?? (j.alert as Record<string, unknown> | undefined)?.reason ?? summary,
        );
      } catch {}
      say(`📣 notification received: ${summary.replace(/\s+/g, ' ').slice(0, 120)}`);
      res.writeHead(200).end('ok');
    });
    return;
  }
  const service = (req.url ?? '').split('/')[1] ?? '';
  const mode = modes[service] ?? 'healthy';
  if (mode === 'down') return void res.writeHead(503, { 'content-type': 'text/plain' }).end('unavailable');
  const reply = () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
  if (mode === 'slow') setTimeout(reply, 2500);
  else reply();
});
await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
const targetPort = (target.address() as { port: number }).port;
say(`local service endpoints and alert receiver on http://127.0.0.1:${targetPort}`);

// ------------------------------------------------------------------ account, projects, rules, monitors
try {
  token = (
    await api<{ accessToken: string }>('POST', '/api/v1/auth/signup', {
      email: args.email,
      password: args.password,
      name: 'Shop simulator',
    })
  ).accessToken;
  say(`signed up ${args.email}`);
} catch {
  token = (
    await api<{ accessToken: string }>('POST', '/api/v1/auth/signin', {
      email: args.email,
      password: args.password,
    })
  ).accessToken;
  say(`signed in as ${args.email}`);
}

const services = ['auth', 'orders', 'payments', 'notifications'] as const;
type Service = (typeof services)[number];
const existing = await api<Array<{ id: number; name: string; dsn: string }>>('GET', '/api/v1/projects');
const projects = {} as Record<Service, { id: number; dsn: string }>;
for (const s of services) {
  const name = `shop-${s}`;
  let p = existing.find((x) => x.name === name);
  if (!p) {
    p = await api<{ id: number; name: string; dsn: string }>('POST', '/api/v1/projects', {
      name,
      platform: 'node',
    });
    say(`created project ${name} (id ${p.id})`);
    try {
      await api('POST', `/api/v1/projects/${p.id}/rules`, {
        name: 'New issue → local receiver',
        trigger: { type: 'new_issue' },
        actions: [{ type: 'webhook', url: `http://127.0.0.1:${targetPort}/hooks/beacon` }],
        cooldownMinutes: 1,
      });
    } catch (err) {
      say(`(alert rules not available: ${(err as Error).message})`);
    }
  }
  projects[s] = { id: p.id, dsn: p.dsn };
}

try {
  const svc = await api<{ id: number }>('POST', '/api/v1/services', {
    name: `shop (${new Date().toISOString().slice(11, 19)})`,
    description: 'simulated shop',
  });
  for (const s of services)
    await api('POST', '/api/v1/endpoints', {
      serviceId: svc.id,
      name: `${s} health`,
      url: `http://127.0.0.1:${targetPort}/${s}/health`,
      interval: 10,
      timeout: 2000,
      failureThreshold: 2,
      recoveryThreshold: 2,
    });
  await api('POST', '/api/v1/webhooks', {
    serviceId: svc.id,
    url: `http://127.0.0.1:${targetPort}/hooks/beacon`,
    events: ['incident_start', 'incident_resolved'],
  });
  say(`monitoring 4 endpoints every 10 s (service ${svc.id})`);
} catch (err) {
  say(`(uptime not available: ${(err as Error).message})`);
}

// ------------------------------------------------------------------ SDK processes
const worker = path.join(import.meta.dirname, 'simulate', 'sentry-service.mjs');
const beaconSdkBuilt = existsSync(path.join(import.meta.dirname, '..', 'packages', 'sdk', 'dist'));
const children: Partial<Record<Service, ChildProcess>> = {};
let sent = 0;
function startService(s: Service, release: string): void {
  children[s]?.disconnect();
  const sdk = s === 'notifications' && beaconSdkBuilt ? 'beacon' : 'sentry';
  children[s] = fork(worker, [sdk, projects[s].dsn, s, release], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
}
function error(s: Service, p: string, count = 1): void {
  sent += count;
  children[s]?.send({ type: 'error', path: p, count });
}
for (const s of services) startService(s, `${s}@1.0.0`);
say(
  `SDKs running: auth/orders/payments on @sentry/node, notifications on ${beaconSdkBuilt ? '@beacon/sdk' : '@sentry/node (build @beacon/sdk to use it)'}`,
);

// ------------------------------------------------------------------ the script of the day
const timers: NodeJS.Timeout[] = [];
const every = (ms: number, fn: () => void) => timers.push(setInterval(fn, ms));
const at = (s: number, fn: () => void | Promise<void>) =>
  timers.push(
    setTimeout(() => {
      Promise.resolve(fn()).catch((err) => say(`step failed: ${(err as Error).message}`));
    }, s * 1000),
  );

every(1000, () => {
  error('auth', Math.random() < 0.7 ? 'invalidToken' : 'sessionMissing');
  error('orders', 'orderValidation');
  if (Math.random() < 0.5) error('payments', 'cardDeclined');
  if (Math.random() < 0.3) error('notifications', 'smtpDown');
});
const cycle = (t: number) => t % 120;
at(15, () => say('steady noise running: ~3 events/s across the shop'));
every(30_000, () => {
  say('orders: burst of 60 inventory timeouts');
  error('orders', 'inventoryTimeout', 60);
});
at(Math.min(40, durationS * 0.3), () => {
  say('payments: deploy 1.1.0 — it ships a new bug (reading currency of undefined)');
  startService('payments', 'payments@1.1.0');
  every(700, () => error('payments', 'currencyBug'));
});
at(Math.min(25, durationS * 0.2), async () => {
  const issues = await api<{ items: Array<{ id: number; title: string }> }>(
    'GET',
    `/api/v1/projects/${projects.auth.id}/issues?limit=50`,
  );
  const session = issues.items.find((i) => /sessionMissing|userId/.test(i.title));
  if (session) {
    await api('PATCH', `/api/v1/issues/${session.id}`, { status: 'resolved' });
    say(`auth: marked issue ${session.id} resolved ("${session.title.slice(0, 60)}") — it will regress`);
  }
});
every(10_000, () => {
  const t = cycle(elapsed());
  const next: Record<string, Mode> = {
    orders: t >= 30 && t < 70 ? 'slow' : 'healthy',
    payments: t >= 60 && t < 100 ? 'down' : 'healthy',
  };
  for (const [s, m] of Object.entries(next))
    if (modes[s] !== m) {
      modes[s] = m;
      say(`${s} health endpoint is now ${m}`);
    }
});
every(10_000, async () => {
  try {
    let issues = 0;
    for (const s of services)
      issues += (
        await api<{ items: unknown[] }>('GET', `/api/v1/projects/${projects[s].id}/issues?limit=100`)
      ).items.length;
    let open = 0;
    try {
      open =
        (
          (await api<unknown[] | { items: unknown[] }>('GET', '/api/v1/incidents?status=open')) as {
            items?: unknown[];
          }
        ).items?.length ?? 0;
    } catch {}
    say(
      `progress: ${sent} errors sent, ${issues} issues, ${open} open incidents, ${notifications} notifications received`,
    );
  } catch (err) {
    say(`progress check failed: ${(err as Error).message}`);
  }
});

await new Promise((r) => setTimeout(r, durationS * 1000));
say('time is up: flushing SDKs and stopping');
for (const t of timers) {
  clearInterval(t);
  clearTimeout(t);
}
await Promise.all(
  Object.values(children).map(
    (c) =>
      new Promise<void>((resolve) => {
        const done = setTimeout(resolve, 6000);
        c!.once('message', () => {
          clearTimeout(done);
          resolve();
        });
        c!.send({ type: 'flush' });
      }),
  ),
);
for (const c of Object.values(children)) c?.disconnect();
target.closeAllConnections();
target.close();
say(`done: ${sent} errors sent, ${notifications} notifications received. Open ${base} to look around.`);
