import type { Queryable } from '../platform/db/db.js';

/** Organizations the user belongs to (monitors without a project are visible to their org). */
export async function userOrgIds(db: Queryable, userId: number): Promise<number[]> {
  const r = await db.query<{ org_id: string }>('SELECT org_id FROM memberships WHERE user_id = $1', [userId]);
  return r.map((x) => Number(x.org_id));
}

/** The organization owning an uptime service, or undefined when it is gone. */
export async function serviceOrgId(db: Queryable, serviceId: number): Promise<number | undefined> {
  const r = await db.query<{ org_id: string }>('SELECT org_id FROM uptime_services WHERE id = $1', [
    serviceId,
  ]);
  return r[0] ? Number(r[0].org_id) : undefined;
}
