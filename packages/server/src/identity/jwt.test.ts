import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../context.js';
import { Db } from '../platform/db/db.js';
import { migrate } from '../platform/db/migrate.js';
import { createLogger } from '../platform/logger.js';
import {
  createTestDatabase,
  requirePg,
  type TestDatabase,
  tempDir,
  testConfig,
} from '../test-support/index.js';
import { signAccessToken, verifyAccessToken } from './jwt.js';

const log = createLogger('silent');
const user = { id: 7, email: 'k@example.com' };

/** Only what key resolution touches: config, log and (for external storage) the database. */
const fakeCtx = (config: AppContext['config'], db?: Db) => ({ config, log, db }) as unknown as AppContext;

describe('JWT signing key without JWT_KEY', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  it('embedded storage: generates <dataDir>/jwt-key with mode 0600 once and reuses it after a restart', async () => {
    const config = { ...testConfig({ BEACON_DATA_DIR: dir.path }), jwtKey: undefined };
    expect(config.database.kind).toBe('embedded');
    const first = fakeCtx(config);
    const { token } = await signAccessToken(first, user);
    const file = path.join(dir.path, 'jwt-key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim().length).toBeGreaterThanOrEqual(32);
    // A new context (a restarted process) reads the same key: earlier tokens stay valid.
    expect(await verifyAccessToken(fakeCtx(config), token)).toEqual({ userId: 7, email: 'k@example.com' });
    // Another data dir means another key.
    const other = tempDir();
    try {
      const ctx2 = fakeCtx({ ...testConfig({ BEACON_DATA_DIR: other.path }), jwtKey: undefined });
      await expect(verifyAccessToken(ctx2, token)).rejects.toMatchObject({ code: 'unauthorized' });
    } finally {
      other.remove();
    }
  });
});

describe.runIf(requirePg())('JWT signing key on an external database without JWT_KEY', () => {
  let tdb: TestDatabase;
  let a: Db;
  let b: Db;
  beforeAll(async () => {
    tdb = await createTestDatabase();
    a = new Db(tdb.url, 2);
    b = new Db(tdb.url, 2);
    await migrate(a, log);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await tdb?.drop();
  });

  it('generates one key into the settings table that every process agrees on', async () => {
    const config = { ...testConfig({ DATABASE_URL: tdb.url }), jwtKey: undefined };
    const [t1, t2] = await Promise.all([
      signAccessToken(fakeCtx(config, a), user),
      signAccessToken(fakeCtx(config, b), user),
    ]);
    expect(await verifyAccessToken(fakeCtx(config, b), t1.token)).toMatchObject({ userId: 7 });
    expect(await verifyAccessToken(fakeCtx(config, a), t2.token)).toMatchObject({ userId: 7 });
    const rows = await a.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM settings WHERE key = 'identity.jwt_key'`,
    );
    expect(rows).toEqual([{ n: 1 }]);
  });
});
