import type { AppContext } from '../context.js';
import { badRequest, conflict, forbidden, notFound } from '../platform/errors.js';
import {
  type Principal,
  type Role,
  requireOrgPermission,
  requireProjectPermission,
  roleAllows,
} from './access.js';
import { dsnFor, invalidateKeyCache, newKeyMaterial } from './keys.js';
import * as store from './store.js';

export interface ProjectView {
  id: number;
  orgId: number;
  slug: string;
  name: string;
  platform: string | null;
  retentionDays: number;
  createdAt: string;
  /** DSN of the project's first enabled key (null when it has no key). */
  dsn: string | null;
}

export interface KeyView {
  id: number;
  projectId: number;
  label: string;
  publicKey: string;
  enabled: boolean;
  rateLimitPerMinute: number | null;
  createdAt: string;
  rotatedAt: string | null;
  dsn: string;
}

const view = (ctx: AppContext, r: store.ProjectRow): ProjectView => ({
  id: r.id,
  orgId: r.orgId,
  slug: r.slug,
  name: r.name,
  platform: r.platform,
  retentionDays: r.retentionDays,
  createdAt: r.createdAt,
  dsn: r.publicKey ? dsnFor(ctx.config.publicUrl, r.publicKey, r.id) : null,
});

const keyView = (ctx: AppContext, k: store.KeyRow): KeyView => ({
  ...k,
  dsn: dsnFor(ctx.config.publicUrl, k.publicKey, k.projectId),
});

/** The organization a new project goes to when none is named: the first one the user may write to. */
async function defaultOrg(ctx: AppContext, p: Principal): Promise<number> {
  const orgs = await store.orgsOfUser(ctx.db, p.userId);
  const org = orgs.find((o) => roleAllows(o.role as Role, 'write'));
  if (!org)
    throw forbidden(
      orgs.length ? 'your role does not allow creating projects' : 'you belong to no organization',
    );
  return org.id;
}

export async function createProject(
  ctx: AppContext,
  p: Principal,
  input: { name: string; platform?: string | null; orgId?: number },
): Promise<ProjectView & { keys: Array<KeyView & { secretKey: string }> }> {
  const orgId = input.orgId ?? (await defaultOrg(ctx, p));
  await requireOrgPermission(ctx, p, orgId, 'write');
  if (p.scope !== 'write') throw forbidden('this API token is read-only');
  const name = input.name.trim();
  if (!name) throw badRequest('name must not be empty');
  const { projectId, key, secretKey } = await ctx.db.tx(async (q) => {
    const { id } = await store.insertProject(q, { orgId, name, platform: input.platform ?? null });
    const m = newKeyMaterial();
    const key = await store.insertKey(q, {
      projectId: id,
      label: 'Default',
      publicKey: m.publicKey,
      secretHash: m.secretHash,
      rateLimitPerMinute: null,
    });
    return { projectId: id, key, secretKey: m.secretKey };
  });
  invalidateKeyCache(ctx);
  const project = (await store.projectById(ctx.db, projectId))!;
  ctx.log.info({ projectId, orgId, userId: p.userId }, 'project created');
  return { ...view(ctx, project), keys: [{ ...keyView(ctx, key), secretKey }] };
}

export async function listProjects(ctx: AppContext, p: Principal, orgId?: number): Promise<ProjectView[]> {
  if (orgId !== undefined) await requireOrgPermission(ctx, p, orgId, 'read');
  return (await store.listProjects(ctx.db, p.userId, orgId)).map((r) => view(ctx, r));
}

export async function getProject(
  ctx: AppContext,
  p: Principal,
  id: number,
): Promise<ProjectView & { role: Role }> {
  const { role } = await requireProjectPermission(ctx, p, id, 'read');
  const row = await store.projectById(ctx.db, id);
  if (!row) throw notFound('project');
  return { ...view(ctx, row), role };
}

export async function updateProject(
  ctx: AppContext,
  p: Principal,
  id: number,
  patch: { name?: string; platform?: string | null; retentionDays?: number; slug?: string },
): Promise<ProjectView> {
  await requireProjectPermission(ctx, p, id, 'write');
  if (patch.name !== undefined && !patch.name.trim()) throw badRequest('name must not be empty');
  try {
    await store.updateProject(ctx.db, id, { ...patch, name: patch.name?.trim() });
  } catch (err) {
    if (store.isUniqueViolation(err)) throw conflict('another project of this organization has that slug');
    throw err;
  }
  return view(ctx, (await store.projectById(ctx.db, id))!);
}

export async function deleteProject(ctx: AppContext, p: Principal, id: number): Promise<void> {
  await requireProjectPermission(ctx, p, id, 'admin');
  await store.deleteProject(ctx.db, id);
  invalidateKeyCache(ctx);
  ctx.log.info({ projectId: id, userId: p.userId }, 'project deleted');
}

/* ---------------------------------- keys ---------------------------------- */

export async function listKeys(ctx: AppContext, p: Principal, projectId: number): Promise<KeyView[]> {
  await requireProjectPermission(ctx, p, projectId, 'read');
  return (await store.listKeys(ctx.db, projectId)).map((k) => keyView(ctx, k));
}

export async function createKey(
  ctx: AppContext,
  p: Principal,
  projectId: number,
  input: { label?: string; rateLimitPerMinute?: number | null },
): Promise<KeyView & { secretKey: string }> {
  await requireProjectPermission(ctx, p, projectId, 'manage_keys');
  const m = newKeyMaterial();
  const key = await store.insertKey(ctx.db, {
    projectId,
    label: input.label?.trim() || 'Default',
    publicKey: m.publicKey,
    secretHash: m.secretHash,
    rateLimitPerMinute: input.rateLimitPerMinute ?? null,
  });
  invalidateKeyCache(ctx);
  return { ...keyView(ctx, key), secretKey: m.secretKey };
}

export async function updateKey(
  ctx: AppContext,
  p: Principal,
  projectId: number,
  keyId: number,
  patch: { label?: string; enabled?: boolean; rateLimitPerMinute?: number | null },
): Promise<KeyView> {
  await requireProjectPermission(ctx, p, projectId, 'manage_keys');
  const key = await store.updateKey(ctx.db, projectId, keyId, {
    ...patch,
    label: patch.label?.trim() || undefined,
  });
  if (!key) throw notFound('key');
  invalidateKeyCache(ctx);
  return keyView(ctx, key);
}

/** A new secret for the key; the public key (and so the DSN) stays the same. */
export async function rotateKey(
  ctx: AppContext,
  p: Principal,
  projectId: number,
  keyId: number,
): Promise<KeyView & { secretKey: string }> {
  await requireProjectPermission(ctx, p, projectId, 'manage_keys');
  const m = newKeyMaterial();
  const key = await store.rotateKeySecret(ctx.db, projectId, keyId, m.secretHash);
  if (!key) throw notFound('key');
  invalidateKeyCache(ctx);
  ctx.log.info({ projectId, keyId, userId: p.userId }, 'project key secret rotated');
  return { ...keyView(ctx, key), secretKey: m.secretKey };
}

export async function deleteKey(
  ctx: AppContext,
  p: Principal,
  projectId: number,
  keyId: number,
): Promise<void> {
  await requireProjectPermission(ctx, p, projectId, 'manage_keys');
  if (!(await store.deleteKey(ctx.db, projectId, keyId))) throw notFound('key');
  invalidateKeyCache(ctx);
}
