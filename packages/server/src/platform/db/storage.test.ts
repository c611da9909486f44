import { type AddressInfo, createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  requirePg,
  type TestDatabase,
  tempDir,
  waitFor,
} from '../../test-support/index.js';
import { StartupError } from '../errors.js';
import { createLogger } from '../logger.js';
import { Db } from './db.js';
import { EmbeddedPostgres } from './embedded.js';
import { listMigrations, migrate, migrationsApplied } from './migrate.js';

const log = createLogger('silent');

/** The same storage behaviour, run against the embedded server and an external one. */
function storageSuite(name: string, open: () => Promise<{ db: Db; close(): Promise<void> }>) {
  describe(`storage on ${name}`, () => {
    let db: Db;
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ db, close } = await open());
    });
    afterAll(async () => close?.());

    it('applies every migration once and reports them applied', async () => {
      const first = await migrate(db, log);
      expect(first).toEqual(listMigrations().map((m) => m.name));
      expect(await migrate(db, log)).toEqual([]);
      expect(await migrationsApplied(db)).toBe(true);
    });

    it('commits transactions and rolls back failed ones', async () => {
      await db.query('CREATE TABLE t_tx (v int)');
      await db.tx(async (q) => q.query('INSERT INTO t_tx VALUES (1)'));
      await expect(
        db.tx(async (q) => {
          await q.query('INSERT INTO t_tx VALUES (2)');
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await db.query('SELECT v FROM t_tx')).toEqual([{ v: 1 }]);
    });

    it('delivers NOTIFY to listeners', async () => {
      const got: string[] = [];
      await db.listen('beacon_test_channel', (p) => got.push(p));
      await db.query("SELECT pg_notify('beacon_test_channel', 'hello')");
      await waitFor(() => got.includes('hello'), { what: 'notification' });
      expect(got).toContain('hello');
    });

    it('lets two transactions claim disjoint rows with FOR UPDATE SKIP LOCKED', async () => {
      await db.query('CREATE TABLE t_jobs (id int PRIMARY KEY)');
      await db.query('INSERT INTO t_jobs SELECT generate_series(1, 10)');
      const claim = 'SELECT id FROM t_jobs ORDER BY id LIMIT 5 FOR UPDATE SKIP LOCKED';
      const [a, b] = await db.tx(async (q1) => {
        const a = await q1.query<{ id: number }>(claim);
        const b = await db.tx(async (q2) => q2.query<{ id: number }>(claim));
        return [a, b];
      });
      expect(a.map((r) => r.id)).toEqual([1, 2, 3, 4, 5]);
      expect(b.map((r) => r.id)).toEqual([6, 7, 8, 9, 10]);
    });
  });
}

describe.runIf(requirePg())('storage', () => {
  storageSuite('an external PostgreSQL server', async () => {
    const tdb: TestDatabase = await createTestDatabase();
    const db = new Db(tdb.url, 5);
    return {
      db,
      close: async () => {
        await db.close();
        await tdb.drop();
      },
    };
  });

  storageSuite('the embedded PostgreSQL server', async () => {
    const dir = tempDir();
    const pg = new EmbeddedPostgres(dir.path, log);
    const db = new Db(await pg.start(), 5);
    return {
      db,
      close: async () => {
        await db.close();
        await pg.stop();
        dir.remove();
      },
    };
  });
});

describe.runIf(requirePg())('embedded PostgreSQL supervision', () => {
  const dir = tempDir('beacon pg ');
  let pg: EmbeddedPostgres | undefined;
  let db: Db | undefined;
  afterAll(async () => {
    await db?.close();
    await pg?.stop();
    dir.remove();
  });

  it('refuses a taken EMBEDDED_PG_PORT with one line naming it', async () => {
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    const { port } = holder.address() as AddressInfo;
    try {
      const taken = new EmbeddedPostgres(dir.path, log, port);
      const err = await taken.start().then(
        () => undefined,
        (e: Error) => e,
      );
      await taken.stop();
      expect(err).toBeInstanceOf(StartupError);
      expect(err?.message).toBe(
        `the embedded PostgreSQL cannot listen on 127.0.0.1:${port} (EMBEDDED_PG_PORT): the port is in use`,
      );
    } finally {
      holder.close();
    }
  });

  it('restarts a server that died under it; queries and NOTIFY listeners come back', async () => {
    pg = new EmbeddedPostgres(dir.path, log);
    db = new Db(await pg.start(), 3);
    const got: string[] = [];
    await db.listen('beacon_restart_channel', (p) => got.push(p));
    const before = pg.serverProcess.pid;
    pg.serverProcess.kill('SIGKILL');
    await waitFor(() => pg?.serverProcess && pg.serverProcess.pid !== before, {
      what: 'a new server process',
    });
    await waitFor(() => db?.ping(), { what: 'queries to work again', timeout: 30_000 });
    await waitFor(
      async () => {
        await db?.query("SELECT pg_notify('beacon_restart_channel', 'after-restart')");
        return got.includes('after-restart');
      },
      { what: 'notifications after the restart', timeout: 30_000 },
    );
    expect(await db.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });
});
