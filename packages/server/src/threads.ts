import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker as Thread } from 'node:worker_threads';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { Config, RoleName } from './config.js';
import { finishesWithin } from './platform/async.js';
import type { Logger } from './platform/logger.js';

/** What the main thread hands a role thread (structured-cloned). */
export interface RoleThreadData {
  config: Config;
  /** The database the main thread opened (the embedded server's URL, or DATABASE_URL). */
  dbUrl: string;
}

export type ThreadMetrics = MetricObjectWithValues<MetricValue<string>>[];

/** Messages from a role thread to the main thread. */
export type FromThread =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'metrics'; id: number; metrics: ThreadMetrics }
  | { type: 'stopped' };

/** Messages from the main thread to a role thread. */
export type ToThread = { type: 'metrics'; id: number } | { type: 'stop' };

// Built code runs dist/thread-main.js. From source (tests, `tsx`) the thread registers tsx
// first: a worker thread does not inherit the parent's `--import tsx`.
const fromSource = import.meta.url.endsWith('.ts');
function threadEntry(): { entry: string | URL; eval: boolean } {
  if (!fromSource) return { entry: new URL('./thread-main.js', import.meta.url), eval: false };
  // The package's ESM build of its API (require.resolve names the CommonJS one beside it).
  const api = createRequire(import.meta.url)
    .resolve('tsx/esm/api')
    .replace(/\.cjs$/, '.mjs');
  const tsx = pathToFileURL(api).href;
  const main = new URL('./thread-main.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(main)}); })`;
  return { entry: code, eval: true };
}

/**
 * Worker roles in a worker thread of their own (BEACON_THREAD_ROLES, default `issues`): in the
 * all-in-one process, grouping a batch of hundreds of events would otherwise hold the event loop
 * that answers ingest requests, and the second core would stay idle. The thread opens its own
 * pool to the same database and its own bus client; everything it shares with the main thread
 * goes through them, exactly as between separate processes. It is restarted with back-off if it
 * dies; its metrics are served by the main thread's /metrics.
 */
export class RoleThread {
  private thread?: Thread;
  private stopping = false;
  private restartDelayMs = 1_000;
  private restartTimer?: NodeJS.Timeout;
  private nextId = 1;
  private readonly pending = new Map<number, (m: ThreadMetrics) => void>();

  constructor(
    readonly roles: RoleName[],
    private readonly data: RoleThreadData,
    private readonly log: Logger,
  ) {}

  /** Start the thread; resolves once its workers run, rejects with the reason they did not. */
  async start(): Promise<void> {
    const { entry, eval: isCode } = threadEntry();
    const thread = new Thread(entry, {
      eval: isCode,
      workerData: { ...this.data, config: { ...this.data.config, roles: this.roles, threadRoles: [] } },
    });
    this.thread = thread;
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: FromThread) => {
        if (m.type === 'ready') done();
        else if (m.type === 'failed') done(new Error(m.message));
      };
      const onExit = (code: number) => done(new Error(`the ${this.roles.join(',')} thread exited (${code})`));
      const onError = (err: Error) => done(err);
      const done = (err?: Error) => {
        thread.off('message', onMessage).off('exit', onExit).off('error', onError);
        if (err) reject(err);
        else resolve();
      };
      thread.on('message', onMessage).once('exit', onExit).once('error', onError);
    });
    thread.on('message', (m: FromThread) => {
      if (m.type !== 'metrics') return;
      this.pending.get(m.id)?.(m.metrics);
      this.pending.delete(m.id);
    });
    thread.on('error', (err) => this.log.error({ err, roles: this.roles }, 'role thread failed'));
    const startedAt = Date.now();
    thread.once('exit', (code) => {
      if (this.thread !== thread) return;
      this.thread = undefined;
      // Back-off grows while the thread keeps dying soon after starting; a long run resets it.
      if (Date.now() - startedAt > 60_000) this.restartDelayMs = 1_000;
      for (const [id, resolve] of this.pending) {
        resolve([]);
        this.pending.delete(id);
      }
      if (!this.stopping) this.restartLater(code);
    });
  }

  private restartLater(code: number): void {
    const delay = this.restartDelayMs;
    this.restartDelayMs = Math.min(30_000, delay * 2);
    this.log.error({ roles: this.roles, code, restartInMs: delay }, 'role thread exited; restarting it');
    this.restartTimer = setTimeout(() => {
      this.start().catch((err) => {
        this.log.error({ err, roles: this.roles }, 'role thread did not restart');
        if (!this.stopping) this.restartLater(1);
      });
    }, delay);
    this.restartTimer.unref();
  }

  /** The thread's metrics (none while it is down or slow to answer). */
  metrics(timeoutMs = 2_000): Promise<ThreadMetrics> {
    const thread = this.thread;
    if (!thread) return Promise.resolve([]);
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve([]);
      }, timeoutMs);
      this.pending.set(id, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      thread.postMessage({ type: 'metrics', id } satisfies ToThread);
    });
  }

  /** Ask the workers to drain and stop; terminate the thread if that takes longer than `timeoutMs`. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const thread = this.thread;
    if (!thread) return;
    const exited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
    thread.postMessage({ type: 'stop' } satisfies ToThread);
    if (await finishesWithin(exited, timeoutMs)) return;
    this.log.warn({ roles: this.roles }, 'role thread did not stop in time; terminating it');
    await thread.terminate();
  }
}
