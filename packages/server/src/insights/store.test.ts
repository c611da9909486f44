import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db } from '../platform/db/db.js';
import { migrate } from '../platform/db/migrate.js';
import { createTestDatabase, requirePg, type TestDatabase } from '../test-support/index.js';
import { claimDue, complete, enqueue } from './store.js';

describe.runIf(requirePg())('insight jobs', () => {
  let tdb: TestDatabase;
  let db: Db;
  let other: Db;
  beforeAll(async () => {
    tdb = await createTestDatabase();
    db = new Db(tdb.url, 3);
    other = new Db(tdb.url, 3);
    await migrate(db);
  });
  afterAll(async () => {
    await db?.close();
    await other?.close();
    await tdb?.drop();
  });

  const job = (updateId: string, issueCount: number, reason = 'created') => ({
    issueId: 1,
    projectId: 1,
    reason,
    updateId,
    issueCount,
  });

  it('runs one analysis per update however often updates are redelivered, and one worker claims it', async () => {
    expect(await enqueue(db, job('a', 1))).toBe(true);
    expect(await enqueue(db, job('a', 1))).toBe(false);
    // Two workers poll at once: one gets the job.
    const claims = await Promise.all([claimDue(db, 1, 60), claimDue(other, 1, 60)]);
    expect(claims.map((c) => c.length).sort()).toEqual([0, 1]);
    await complete(db, 1, { kind: 'builtin', content: {}, coveredCount: 1 });

    // A regression re-opens it; its analysis covers the issue at count 5.
    expect(await enqueue(db, job('b', 5, 'regressed'))).toBe(true);
    expect((await claimDue(db, 1, 60)).length).toBe(1);
    await complete(db, 1, { kind: 'builtin', content: {}, coveredCount: 5 });

    // The batch [a, b] is redelivered: neither re-opens the finished analysis.
    expect(await enqueue(db, job('a', 1))).toBe(false);
    expect(await enqueue(db, job('b', 5, 'regressed'))).toBe(false);
    expect(await claimDue(db, 1, 60)).toEqual([]);

    // A later regression does.
    expect(await enqueue(db, job('c', 9, 'regressed'))).toBe(true);
  });
});
