import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { listMigrations } from './platform/db/migrate.js';
import { createTestDatabase, requirePg, spawnBeacon, tempDir, waitFor } from './test-support/index.js';

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function postgresAlive(pgdata: string): boolean {
  try {
    const pid = Number(readFileSync(path.join(pgdata, 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('boot', () => {
  it('stops with one clear line naming PORT and a non-zero exit for PORT=abc', async () => {
    const p = spawnBeacon(['start'], { PORT: 'abc' });
    expect(await p.exited).toBe(1);
    const lines = p.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^beacon: invalid configuration: PORT: must be a whole number/);
  });

  it('stops with a line naming DATABASE_URL when the database is unreachable', async () => {
    const p = spawnBeacon(['start'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere' });
    expect(await p.exited).toBe(1);
    expect(p.stderr().trim()).toMatch(
      /^beacon: cannot connect to PostgreSQL at 127\.0\.0\.1:1\/nowhere \(DATABASE_URL\): /,
    );
    expect(p.stderr().trim().split('\n')).toHaveLength(1);
  });

  it('gives up on a database server that accepts connections but never answers, naming the setting', async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const p = spawnBeacon(['start'], {
        DB_HOST: '127.0.0.1',
        DB_PORT: String(port),
        CONNECT_TIMEOUT_SECONDS: '1',
      });
      expect(await p.exited).toBe(1);
      expect(p.stderr().trim().split('\n')).toHaveLength(1);
      expect(p.stderr()).toMatch(
        /^beacon: cannot connect to PostgreSQL at 127\.0\.0\.1:\d+\/beacon \(DB_HOST\): .*timeout/,
      );
    } finally {
      silent.close();
    }
  });

  it('refuses an unknown role', async () => {
    const p = spawnBeacon(['start', '--roles', 'ingest,nope'], {});
    expect(await p.exited).toBe(1);
    expect(p.stderr()).toMatch(/BEACON_ROLES: unknown role "nope"/);
  });
});

describe.runIf(requirePg())('boot against PostgreSQL', () => {
  it('stops with one line naming KAFKA_BROKERS when no broker listens there', async () => {
    const db = await createTestDatabase();
    try {
      const p = spawnBeacon(['start'], { DATABASE_URL: db.url, KAFKA_BROKERS: '127.0.0.1:1' });
      expect(await p.exited).toBe(1);
      expect(p.stderr().trim().split('\n')).toHaveLength(1);
      expect(p.stderr()).toMatch(
        /^beacon: cannot connect to Kafka at 127\.0\.0\.1:1 \(KAFKA_BROKERS\): .*ECONNREFUSED/,
      );
    } finally {
      await db.drop();
    }
  });

  it('runs two `beacon migrate` processes at once: both exit 0 and the schema is applied once', async () => {
    const db = await createTestDatabase();
    try {
      const a = spawnBeacon(['migrate'], { DATABASE_URL: db.url });
      const b = spawnBeacon(['migrate'], { DATABASE_URL: db.url });
      expect([await a.exited, await b.exited]).toEqual([0, 0]);
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      const rows = (await c.query('SELECT name FROM schema_migrations ORDER BY name')).rows.map(
        (r) => r.name,
      );
      await c.end();
      expect(rows).toEqual(listMigrations().map((m) => m.name));
      const applyingLogs = (a.stdout() + b.stdout())
        .split('\n')
        .filter((l) => l.includes('"applying migration"'));
      expect(applyingLogs).toHaveLength(listMigrations().length);
    } finally {
      await db.drop();
    }
  });

  it('finishes a request in flight when SIGTERM arrives, then exits 0', async () => {
    const db = await createTestDatabase();
    const p = spawnBeacon(['start', '--roles', 'api'], { DATABASE_URL: db.url });
    try {
      const url = await p.ready();
      const { port } = new URL(url);
      const body = JSON.stringify({
        email: 'drain@example.com',
        password: 'correct horse battery',
        name: 'D',
      });
      const sock = net.connect(Number(port), '127.0.0.1');
      let answer = '';
      sock.on('data', (d) => {
        answer += d;
      });
      await new Promise((r) => sock.once('connect', r));
      // Headers and half the body: the request is being read when the signal comes.
      sock.write(
        `POST /api/v1/auth/signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
      );
      // A round trip on another connection: the server has read those bytes by then.
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      p.child.kill('SIGTERM');
      await waitFor(() => p.stdout().includes('"shutting down: draining in-flight work"'), {
        what: 'shutdown',
      });
      sock.write(body.slice(10)); // (not end(): a half-closed client aborts its own request)
      expect(await p.exited).toBe(0);
      expect(answer).toMatch(/^HTTP\/1\.1 201 /);
      expect(answer).toContain('"drain@example.com"');
    } finally {
      p.child.kill('SIGKILL');
      await db.drop();
    }
  });

  it('serves /healthz and /readyz with roles on an external database', async () => {
    const db = await createTestDatabase();
    const p = spawnBeacon(['start', '--roles', 'ingest,api'], { DATABASE_URL: db.url });
    try {
      const url = await p.ready();
      expect(await getJson(`${url}/healthz`)).toEqual({
        status: 200,
        body: { status: 'ok', roles: ['ingest', 'api'] },
      });
      expect(await getJson(`${url}/readyz`)).toEqual({
        status: 200,
        body: { status: 'ready', database: true, migrations: true },
      });
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/beacon_http_requests_total\{method="GET",route="\/healthz",status="200"\} 1/);
      expect(metrics).toMatch(/nodejs_eventloop_lag_seconds/);
      const openapi = await getJson(`${url}/api/v1/openapi.json`);
      expect(openapi.body.openapi).toBe('3.0.3');
      p.child.kill('SIGTERM');
      expect(await p.exited).toBe(0);
    } finally {
      p.child.kill('SIGKILL');
      await db.drop();
    }
  });
});

describe('embedded storage', () => {
  const dir = tempDir();
  const pgdata = path.join(dir.path, 'pg');
  afterAll(() => dir.remove());

  it('keeps data across a clean restart and recovers after SIGKILL without an orphaned server', async () => {
    const env = { BEACON_DATA_DIR: dir.path };
    // First start: initialise, write a row, stop cleanly.
    let p = spawnBeacon(['start'], env);
    await p.ready(60_000);
    const password = readFileSync(path.join(dir.path, 'pg-password'), 'utf8').trim();
    const port = () => Number(readFileSync(path.join(pgdata, 'postmaster.pid'), 'utf8').split('\n')[3]);
    const client = async () => {
      const c = new pg.Client({
        host: '127.0.0.1',
        port: port(),
        user: 'postgres',
        password,
        database: 'beacon',
      });
      await c.connect();
      return c;
    };
    let c = await client();
    await c.query(`INSERT INTO settings (key, value) VALUES ('probe', '"before-restart"')`);
    await c.end();
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(postgresAlive(pgdata)).toBe(false);

    // Second start: the row is still there. Then SIGKILL Beacon: its PostgreSQL is orphaned.
    p = spawnBeacon(['start'], env);
    await p.ready(60_000);
    c = await client();
    expect((await c.query(`SELECT value FROM settings WHERE key = 'probe'`)).rows).toEqual([
      { value: 'before-restart' },
    ]);
    await c.query(`INSERT INTO settings (key, value) VALUES ('probe2', '"before-kill"')`);
    await c.end();
    const orphanPid = Number(readFileSync(path.join(pgdata, 'postmaster.pid'), 'utf8').split('\n')[0]);
    p.child.kill('SIGKILL');
    await p.exited;

    // Third start: the orphan is stopped, a new server starts, data is intact.
    p = spawnBeacon(['start'], env);
    const url = await p.ready(60_000);
    expect((await getJson(`${url}/readyz`)).status).toBe(200);
    const newPid = Number(readFileSync(path.join(pgdata, 'postmaster.pid'), 'utf8').split('\n')[0]);
    expect(newPid).not.toBe(orphanPid);
    expect(() => process.kill(orphanPid, 0)).toThrow();
    c = await client();
    expect((await c.query(`SELECT key FROM settings WHERE key LIKE 'probe%' ORDER BY key`)).rows).toEqual([
      { key: 'probe' },
      { key: 'probe2' },
    ]);
    await c.end();
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    await waitFor(() => !postgresAlive(pgdata), { what: 'embedded PostgreSQL to stop' });
  }, 180_000);
});
