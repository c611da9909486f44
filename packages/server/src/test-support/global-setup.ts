import { execSync } from 'node:child_process';
import pg from 'pg';
import type { TestProject } from 'vitest/node';

/**
 * Finds the services the suites need before any test runs. PostgreSQL on 127.0.0.1:5432 is
 * expected on every machine; if it is down we try to start the local cluster. Under CI=true a
 * missing server fails the run; elsewhere the suites that need it skip with a loud message.
 */
export const PG_ADMIN_URL = process.env.BEACON_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function pgReachable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}

export default async function setup(project: TestProject) {
  let ok = await pgReachable();
  if (!ok) {
    try {
      execSync('pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql | head -1) main start', { stdio: 'ignore' });
      for (let i = 0; i < 50 && !ok; i++) {
        await new Promise((r) => setTimeout(r, 200));
        ok = await pgReachable();
      }
    } catch {
      // fall through: reported below
    }
  }
  if (!ok) {
    const msg = `PostgreSQL is not reachable at ${PG_ADMIN_URL}`;
    if (process.env.CI === 'true') throw new Error(`${msg}: CI=true forbids skipping the suites that need it`);
    process.stderr.write(`\n\n!!! ${msg}: suites that need PostgreSQL will SKIP !!!\n\n`);
  }
  project.provide('pgAdminUrl', ok ? PG_ADMIN_URL : '');
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    kafkaBrokers: string;
  }
}
