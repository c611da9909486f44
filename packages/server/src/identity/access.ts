import type { AppContext } from '../context.js';
import { forbidden, notFound, unauthorized } from '../platform/errors.js';
import { verifyAccessToken } from './jwt.js';
import { API_TOKEN_PREFIX, sha256Hex } from './secrets.js';
import * as store from './store.js';

export type Role = 'owner' | 'admin' | 'member' | 'viewer';
export type Permission = 'read' | 'resolve' | 'write' | 'manage_keys' | 'manage_members' | 'admin';
export interface Principal {
  userId: number;
  email: string;
  via: 'jwt' | 'token';
  scope: 'read' | 'write';
}

export const roles: readonly Role[] = ['owner', 'admin', 'member', 'viewer'];

/**
 * The permission table (docs/identity.md shows the same):
 * read — see projects, issues, events, monitors, rules; resolve — resolve/ignore/assign/comment issues;
 * write — create and edit projects, alert rules, monitors; manage_keys — project DSN keys;
 * manage_members — invite, change roles, remove members; admin — delete projects, edit the organization.
 */
export const permissionTable: Record<Role, readonly Permission[]> = {
  owner: ['read', 'resolve', 'write', 'manage_keys', 'manage_members', 'admin'],
  admin: ['read', 'resolve', 'write', 'manage_keys', 'manage_members', 'admin'],
  member: ['read', 'resolve', 'write'],
  viewer: ['read'],
};

export function roleAllows(role: Role, perm: Permission): boolean {
  return permissionTable[role].includes(perm);
}

/** Authenticates an `Authorization: Bearer <jwt or personal API token>` header; throws AppError('unauthorized'). */
export async function authenticate(ctx: AppContext, authorization: string | undefined): Promise<Principal> {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!m) throw unauthorized('missing bearer token');
  const token = m[1]!;
  if (token.startsWith(API_TOKEN_PREFIX)) {
    const row = await store.findActiveApiToken(ctx.db, sha256Hex(token));
    if (!row) throw unauthorized('invalid or revoked API token');
    store.touchApiToken(ctx.db, row.id).catch(() => {});
    return { userId: row.userId, email: row.email, via: 'token', scope: row.scope };
  }
  const { userId, email } = await verifyAccessToken(ctx, token);
  return { userId, email, via: 'jwt', scope: 'write' };
}

function check(p: Principal, role: Role, perm: Permission): void {
  if (p.scope === 'read' && perm !== 'read') throw forbidden('this API token is read-only');
  if (!roleAllows(role, perm))
    throw forbidden(`your role (${role}) does not allow ${perm.replace('_', ' ')}`);
}

/** Throws AppError not_found when the project does not exist or the principal is not in its organization,
 *  forbidden when the principal's role (or a read-scoped token) lacks `perm`. */
export async function requireProjectPermission(
  ctx: AppContext,
  p: Principal,
  projectId: number,
  perm: Permission,
): Promise<{ orgId: number; role: Role }> {
  if (!Number.isSafeInteger(projectId) || projectId <= 0) throw notFound('project');
  const row = await store.projectRole(ctx.db, projectId, p.userId);
  if (!row) throw notFound('project');
  check(p, row.role, perm);
  return row;
}

export async function requireOrgPermission(
  ctx: AppContext,
  p: Principal,
  orgId: number,
  perm: Permission,
): Promise<{ role: Role }> {
  if (!Number.isSafeInteger(orgId) || orgId <= 0) throw notFound('organization');
  const role = await store.orgRole(ctx.db, orgId, p.userId);
  if (!role) throw notFound('organization');
  check(p, role, perm);
  return { role };
}

/** Ids of every project the principal may read. */
export async function accessibleProjectIds(ctx: AppContext, p: Principal): Promise<number[]> {
  return store.accessibleProjectIds(ctx.db, p.userId);
}
