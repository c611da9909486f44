import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../logger.js';
import type { Db } from './db.js';

/**
 * Forward-only SQL migrations in packages/server/migrations, applied in file-name order.
 * Numbering leaves a range per domain (0001 core, 0100 bus, 0200 identity, 0300 ingest,
 * 0400 issues, 0500 alerts, 0600 uptime, 0700 insights) so domains never collide.
 * A transaction-level advisory lock serialises concurrent migrators: the second waits, then
 * sees every file applied and does nothing.
 */
export const migrationsDir = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../migrations',
);
const LOCK_ID = 0x6265_6163; // "beac"

/** Migration file names in order (without reading them: /readyz asks on every probe). */
export function migrationNames(dir = migrationsDir): string[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f))
    .sort();
}

export function listMigrations(dir = migrationsDir): { name: string; sql: string }[] {
  return migrationNames(dir).map((name) => ({ name, sql: readFileSync(path.join(dir, name), 'utf8') }));
}

export async function migrate(db: Db, log?: Logger, dir = migrationsDir): Promise<string[]> {
  const files = listMigrations(dir);
  return db.tx(async (q) => {
    await q.query('SELECT pg_advisory_xact_lock($1)', [LOCK_ID]);
    await q.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set(
      (await q.query<{ name: string }>('SELECT name FROM schema_migrations')).map((r) => r.name),
    );
    const applied: string[] = [];
    for (const m of files) {
      if (done.has(m.name)) continue;
      log?.info({ migration: m.name }, 'applying migration');
      await q.query(m.sql);
      await q.query('INSERT INTO schema_migrations (name) VALUES ($1)', [m.name]);
      applied.push(m.name);
    }
    return applied;
  });
}

/** True when every migration file is recorded as applied (used by /readyz). */
export async function migrationsApplied(db: Db, dir = migrationsDir): Promise<boolean> {
  try {
    const rows = await db.query<{ name: string }>('SELECT name FROM schema_migrations');
    const done = new Set(rows.map((r) => r.name));
    return migrationNames(dir).every((name) => done.has(name));
  } catch {
    return false;
  }
}
