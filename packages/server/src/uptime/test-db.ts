import { Db } from '../platform/db/db.js';
import { migrate } from '../platform/db/migrate.js';
import { createTestDatabase } from '../test-support/index.js';

/** Tests below the API: a migrated scratch database with one organization and one uptime service. */
export interface UptimeTestDb {
  url: string;
  db: Db;
  serviceId: number;
  /** Close the pool and drop the database. */
  drop(): Promise<void>;
}

export async function uptimeTestDb(): Promise<UptimeTestDb> {
  const tdb = await createTestDatabase();
  const db = new Db(tdb.url, 4);
  await migrate(db);
  const [org] = await db.query<{ id: number }>(
    `INSERT INTO organizations (name, slug) VALUES ('o', 'o') RETURNING id`,
  );
  const [s] = await db.query<{ id: number }>(
    `INSERT INTO uptime_services (org_id, name) VALUES ($1, 'svc') RETURNING id`,
    [org!.id],
  );
  return {
    url: tdb.url,
    db,
    serviceId: s!.id,
    drop: async () => {
      await db.close();
      await tdb.drop();
    },
  };
}
