import pg from 'pg';
import type { Config, RoleName } from './config.js';
import type { AppContext, Worker } from './context.js';
import { domains } from './domains.js';
import { createBus } from './platform/bus/index.js';
import { topicNames } from './platform/bus/types.js';
import { Db } from './platform/db/db.js';
import { EmbeddedPostgres } from './platform/db/embedded.js';
import { migrate, migrationsApplied } from './platform/db/migrate.js';
import { StartupError } from './platform/errors.js';
import { createHttpServer, type HttpApp } from './platform/http/server.js';
import { createLogger, type Logger } from './platform/logger.js';
import { Metrics } from './platform/metrics.js';
import { RoleThread } from './threads.js';

export { StartupError };

export interface Storage {
  db: Db;
  embedded?: EmbeddedPostgres;
  close(): Promise<void>;
}

/** Open the configured PostgreSQL (starting the embedded server when none is configured). */
export async function openStorage(config: Config, log: Logger): Promise<Storage> {
  let embedded: EmbeddedPostgres | undefined;
  let url: string;
  if (config.database.kind === 'embedded') {
    embedded = new EmbeddedPostgres(
      config.dataDir,
      log.child({ component: 'embedded-pg' }),
      config.database.port,
    );
    url = await embedded.start();
  } else {
    url = config.database.url;
  }
  // One bounded attempt first: a server that accepts connections but never answers would
  // otherwise hold boot forever (the pool has no connect timeout).
  const probe = new pg.Client({ connectionString: url, connectionTimeoutMillis: config.connectTimeoutMs });
  try {
    await probe.connect();
    await probe.query('SELECT 1');
  } catch (err) {
    await embedded?.stop();
    const safe = new URL(url);
    safe.password = '';
    const setting =
      config.database.kind === 'external' ? (config.database.setting ?? 'DATABASE_URL') : 'BEACON_DATA_DIR';
    throw new StartupError(
      setting,
      `cannot connect to PostgreSQL at ${safe.host}${safe.pathname} (${setting}): ${(err as Error).message || (err as NodeJS.ErrnoException).code}`,
    );
  } finally {
    await probe.end().catch(() => {});
  }
  const db = new Db(url, config.dbPoolMax);
  return {
    db,
    embedded,
    close: async () => {
      await db.close().catch(() => {});
      await embedded?.stop();
    },
  };
}

export interface Beacon {
  ctx: AppContext;
  app: HttpApp;
  url: string;
  /** Worker roles running in threads of their own (BEACON_THREAD_ROLES). */
  threads: RoleThread[];
  stop(): Promise<void>;
}

/** Create and start the workers of `roles`; each one's stop is pushed onto `stack`. */
export async function startWorkers(
  ctx: AppContext,
  roles: RoleName[],
  stack: Array<() => Promise<void>>,
): Promise<void> {
  const workers: Worker[] = [];
  for (const d of domains)
    for (const w of d.workers ?? []) if (roles.includes(w.role)) workers.push(w.create(ctx));
  for (const w of workers) {
    await w.start();
    stack.push(() => w.stop());
  }
}

/**
 * Wire adapters into roles and start them: storage → migrations → bus → HTTP routes and
 * workers of the enabled roles → listen. `stop()` drains in reverse order.
 */
export async function startBeacon(
  config: Config,
  log: Logger = createLogger(config.logLevel),
): Promise<Beacon> {
  const started = Date.now();
  const storage = await openStorage(config, log);
  const stack: Array<() => Promise<void>> = [() => storage.close()];
  const unwind = async () => {
    for (const fn of stack.reverse()) await fn().catch((err) => log.error({ err }, 'shutdown step failed'));
  };
  try {
    await migrate(storage.db, log);
    const bus = await createBus(config, storage.db, log.child({ component: 'bus' }));
    stack.push(() => bus.close());
    const topics = topicNames(config.bus.topicPrefix);
    await bus.ensureTopics(Object.values(topics));
    const metrics = new Metrics();
    const ctx: AppContext = { config, log, db: storage.db, bus, topics, metrics };

    const app = await createHttpServer({
      log,
      metrics,
      bodyLimit: config.http.bodyLimit,
      trustProxy: config.http.trustProxy,
    });
    app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok', roles: config.roles }));
    app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
      const database = await storage.db.ping();
      const migrations = database && (await migrationsApplied(storage.db));
      const ok = database && migrations;
      return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready', database, migrations });
    });
    // Worker roles of their own thread (see RoleThread) when this process runs other roles too.
    const threaded = config.threadRoles.filter((r) => config.roles.includes(r));
    const thread =
      threaded.length > 0 && config.roles.some((r) => !threaded.includes(r))
        ? new RoleThread(threaded, { config, dbUrl: storage.db.url }, log.child({ component: 'threads' }))
        : undefined;
    app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
      reply.header('content-type', metrics.registry.contentType);
      return metrics.text(thread ? [await thread.metrics()] : []);
    });
    for (const d of domains)
      for (const r of d.routes ?? []) if (config.roles.includes(r.role)) await r.register(app, ctx);

    const local = thread ? config.roles.filter((r) => !thread.roles.includes(r)) : config.roles;
    await startWorkers(ctx, local, stack);
    if (thread) {
      await thread.start();
      stack.push(() => thread.stop(config.shutdownTimeoutMs));
    }

    await app.listen({ port: config.port, host: config.host });
    stack.push(() => app.close());
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : config.port;
    const url = `http://127.0.0.1:${port}`;
    // With a random port (tests) and no public URL given, DSNs and links must name the real port.
    if (!config.publicUrlExplicit && config.port === 0)
      config.publicUrl = `http://${config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host}:${port}`;
    log.info(
      { port, roles: config.roles, storage: config.database.kind, bus: bus.kind, ms: Date.now() - started },
      'beacon started',
    );
    let stopping: Promise<void> | undefined;
    return { ctx, app, url, threads: thread ? [thread] : [], stop: () => (stopping ??= unwind()) };
  } catch (err) {
    await unwind();
    throw err;
  }
}
