import type { Queryable, Row } from '../platform/db/db.js';
import type { Role } from './access.js';
import type { ProjectKeyInfo } from './keys.js';

/** Interfaces lack an index signature; this lets them type query rows. */
type R<T> = T & Row;

/** SQL of the identity domain. Column aliases give camelCase rows; timestamps leave as ISO strings. */

const iso = (d: unknown): string => (d instanceof Date ? d.toISOString() : String(d));
const isoOrNull = (d: unknown): string | null => (d == null ? null : iso(d));

export function slugify(name: string, fallback: string): string {
  const s = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/['’]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/g, '');
  return s || fallback;
}

export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string };
  return e?.code === '23505' && (constraint === undefined || e.constraint === constraint);
}

/* ---------------------------------- users --------------------------------- */

export interface UserRow {
  id: number;
  email: string;
  name: string;
}

export async function anyUserExists(q: Queryable): Promise<boolean> {
  const rows = await q.query<{ e: boolean }>('SELECT EXISTS (SELECT 1 FROM users) AS e');
  return rows[0]!.e;
}

/** Undefined when the email is taken. */
export async function insertUser(
  q: Queryable,
  u: { email: string; name: string; passwordHash: string },
): Promise<UserRow | undefined> {
  const rows = await q.query<R<UserRow>>(
    `INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3)
     ON CONFLICT (email) DO NOTHING RETURNING id, email, name`,
    [u.email, u.name, u.passwordHash],
  );
  return rows[0];
}

export async function userByEmail(
  q: Queryable,
  email: string,
): Promise<(UserRow & { passwordHash: string }) | undefined> {
  const rows = await q.query<R<UserRow & { passwordHash: string }>>(
    'SELECT id, email, name, password_hash AS "passwordHash" FROM users WHERE email = $1',
    [email],
  );
  return rows[0];
}

export async function userById(q: Queryable, id: number): Promise<UserRow | undefined> {
  const rows = await q.query<R<UserRow>>('SELECT id, email, name FROM users WHERE id = $1', [id]);
  return rows[0];
}

export async function passwordHashOf(q: Queryable, id: number): Promise<string | undefined> {
  const rows = await q.query<{ h: string }>('SELECT password_hash AS h FROM users WHERE id = $1', [id]);
  return rows[0]?.h;
}

export async function updateUser(q: Queryable, id: number, patch: { name?: string; passwordHash?: string }) {
  await q.query(
    `UPDATE users SET name = COALESCE($2, name), password_hash = COALESCE($3, password_hash), updated_at = now()
     WHERE id = $1`,
    [id, patch.name ?? null, patch.passwordHash ?? null],
  );
}

/* ------------------------------ organizations ----------------------------- */

export interface OrgRow {
  id: number;
  name: string;
  slug: string;
}

/** Insert with a unique slug (suffixing -2, -3, … on collision). */
export async function insertOrg(q: Queryable, name: string): Promise<OrgRow> {
  const base = slugify(name, 'org');
  for (let i = 1; ; i++) {
    const slug = i === 1 ? base : `${base}-${i}`;
    const rows = await q.query<R<OrgRow>>(
      `INSERT INTO organizations (name, slug) VALUES ($1, $2) ON CONFLICT (slug) DO NOTHING RETURNING id, name, slug`,
      [name, slug],
    );
    if (rows[0]) return rows[0];
  }
}

export async function orgById(
  q: Queryable,
  id: number,
): Promise<(OrgRow & { createdAt: string }) | undefined> {
  const rows = await q.query<R<OrgRow & { createdAt: Date }>>(
    'SELECT id, name, slug, created_at AS "createdAt" FROM organizations WHERE id = $1',
    [id],
  );
  return rows[0] && { ...rows[0], createdAt: iso(rows[0].createdAt) };
}

export async function updateOrgName(q: Queryable, id: number, name: string): Promise<void> {
  await q.query('UPDATE organizations SET name = $2 WHERE id = $1', [id, name]);
}

export async function addMembership(
  q: Queryable,
  orgId: number,
  userId: number,
  role: Role,
): Promise<boolean> {
  const rows = await q.query(
    `INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, $3)
     ON CONFLICT (org_id, user_id) DO NOTHING RETURNING org_id`,
    [orgId, userId, role],
  );
  return rows.length > 0;
}

export async function orgsOfUser(q: Queryable, userId: number): Promise<Array<OrgRow & { role: Role }>> {
  return q.query<R<OrgRow & { role: Role }>>(
    `SELECT o.id, o.name, o.slug, m.role FROM memberships m JOIN organizations o ON o.id = m.org_id
     WHERE m.user_id = $1 ORDER BY o.id`,
    [userId],
  );
}

export async function orgRole(q: Queryable, orgId: number, userId: number): Promise<Role | undefined> {
  const rows = await q.query<{ role: Role }>(
    'SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2',
    [orgId, userId],
  );
  return rows[0]?.role;
}

export interface MemberRow {
  userId: number;
  email: string;
  name: string;
  role: Role;
  joinedAt: string;
}

export async function members(q: Queryable, orgId: number): Promise<MemberRow[]> {
  const rows = await q.query<R<MemberRow & { joinedAt: Date }>>(
    `SELECT u.id AS "userId", u.email, u.name, m.role, m.created_at AS "joinedAt"
     FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 ORDER BY m.created_at, u.id`,
    [orgId],
  );
  return rows.map((r) => ({ ...r, joinedAt: iso(r.joinedAt) }));
}

/** Locks the organization's memberships (owner-count invariants are checked under this lock). */
export async function lockMemberships(
  q: Queryable,
  orgId: number,
): Promise<Array<{ userId: number; role: Role }>> {
  return q.query<{ userId: number; role: Role }>(
    'SELECT user_id AS "userId", role FROM memberships WHERE org_id = $1 ORDER BY user_id FOR UPDATE',
    [orgId],
  );
}

export async function setMemberRole(q: Queryable, orgId: number, userId: number, role: Role): Promise<void> {
  await q.query('UPDATE memberships SET role = $3 WHERE org_id = $1 AND user_id = $2', [orgId, userId, role]);
}

export async function deleteMember(q: Queryable, orgId: number, userId: number): Promise<void> {
  await q.query('DELETE FROM memberships WHERE org_id = $1 AND user_id = $2', [orgId, userId]);
}

/* -------------------------------- projects -------------------------------- */

export async function projectRole(
  q: Queryable,
  projectId: number,
  userId: number,
): Promise<{ orgId: number; role: Role } | undefined> {
  const rows = await q.query<{ orgId: number; role: Role }>(
    `SELECT p.org_id AS "orgId", m.role FROM projects p
     JOIN memberships m ON m.org_id = p.org_id AND m.user_id = $2 WHERE p.id = $1`,
    [projectId, userId],
  );
  return rows[0];
}

export async function accessibleProjectIds(q: Queryable, userId: number): Promise<number[]> {
  const rows = await q.query<{ id: number }>(
    `SELECT p.id FROM projects p JOIN memberships m ON m.org_id = p.org_id WHERE m.user_id = $1 ORDER BY p.id`,
    [userId],
  );
  return rows.map((r) => r.id);
}

export interface ProjectRow {
  id: number;
  orgId: number;
  name: string;
  slug: string;
  platform: string | null;
  retentionDays: number;
  createdAt: string;
  /** Public key of the oldest enabled key (the one the DSN shows), if any. */
  publicKey: string | null;
}

const projectCols = `p.id, p.org_id AS "orgId", p.name, p.slug, p.platform, p.retention_days AS "retentionDays",
  p.created_at AS "createdAt",
  (SELECT k.public_key FROM project_keys k WHERE k.project_id = p.id ORDER BY k.enabled DESC, k.id LIMIT 1) AS "publicKey"`;

const mapProject = (r: ProjectRow): ProjectRow => ({ ...r, createdAt: iso(r.createdAt) });

export async function insertProject(
  q: Queryable,
  p: { orgId: number; name: string; platform: string | null },
): Promise<{ id: number; slug: string }> {
  const base = slugify(p.name, 'project');
  for (let i = 1; ; i++) {
    const slug = i === 1 ? base : `${base}-${i}`;
    const rows = await q.query<{ id: number; slug: string }>(
      `INSERT INTO projects (org_id, name, slug, platform) VALUES ($1, $2, $3, $4)
       ON CONFLICT (org_id, slug) DO NOTHING RETURNING id, slug`,
      [p.orgId, p.name, slug, p.platform],
    );
    if (rows[0]) return rows[0];
  }
}

export async function listProjects(q: Queryable, userId: number, orgId?: number): Promise<ProjectRow[]> {
  const rows = await q.query<R<ProjectRow>>(
    `SELECT ${projectCols} FROM projects p JOIN memberships m ON m.org_id = p.org_id AND m.user_id = $1
     WHERE ($2::bigint IS NULL OR p.org_id = $2) ORDER BY p.org_id, p.name, p.id`,
    [userId, orgId ?? null],
  );
  return rows.map(mapProject);
}

export async function projectById(q: Queryable, id: number): Promise<ProjectRow | undefined> {
  const rows = await q.query<R<ProjectRow>>(`SELECT ${projectCols} FROM projects p WHERE p.id = $1`, [id]);
  return rows[0] && mapProject(rows[0]);
}

export async function updateProject(
  q: Queryable,
  id: number,
  patch: { name?: string; platform?: string | null; retentionDays?: number; slug?: string },
): Promise<void> {
  await q.query(
    `UPDATE projects SET
       name = COALESCE($2, name),
       platform = CASE WHEN $3::boolean THEN $4 ELSE platform END,
       retention_days = COALESCE($5, retention_days),
       slug = COALESCE($6, slug),
       updated_at = now()
     WHERE id = $1`,
    [
      id,
      patch.name ?? null,
      patch.platform !== undefined,
      patch.platform ?? null,
      patch.retentionDays ?? null,
      patch.slug ?? null,
    ],
  );
}

export async function deleteProject(q: Queryable, id: number): Promise<void> {
  await q.query('DELETE FROM projects WHERE id = $1', [id]);
}

/* ------------------------------ project keys ------------------------------ */

export interface KeyRow {
  id: number;
  projectId: number;
  label: string;
  publicKey: string;
  enabled: boolean;
  rateLimitPerMinute: number | null;
  createdAt: string;
  rotatedAt: string | null;
}

const keyCols = `id, project_id AS "projectId", label, public_key AS "publicKey", enabled,
  rate_limit_per_minute AS "rateLimitPerMinute", created_at AS "createdAt", rotated_at AS "rotatedAt"`;
const mapKey = (r: KeyRow): KeyRow => ({
  ...r,
  createdAt: iso(r.createdAt),
  rotatedAt: isoOrNull(r.rotatedAt),
});

export async function insertKey(
  q: Queryable,
  k: {
    projectId: number;
    label: string;
    publicKey: string;
    secretHash: string;
    rateLimitPerMinute: number | null;
  },
): Promise<KeyRow> {
  const rows = await q.query<R<KeyRow>>(
    `INSERT INTO project_keys (project_id, label, public_key, secret_hash, rate_limit_per_minute)
     VALUES ($1, $2, $3, $4, $5) RETURNING ${keyCols}`,
    [k.projectId, k.label, k.publicKey, k.secretHash, k.rateLimitPerMinute],
  );
  return mapKey(rows[0]!);
}

export async function listKeys(q: Queryable, projectId: number): Promise<KeyRow[]> {
  const rows = await q.query<R<KeyRow>>(
    `SELECT ${keyCols} FROM project_keys WHERE project_id = $1 ORDER BY id`,
    [projectId],
  );
  return rows.map(mapKey);
}

export async function keyById(q: Queryable, projectId: number, keyId: number): Promise<KeyRow | undefined> {
  const rows = await q.query<R<KeyRow>>(
    `SELECT ${keyCols} FROM project_keys WHERE project_id = $1 AND id = $2`,
    [projectId, keyId],
  );
  return rows[0] && mapKey(rows[0]);
}

export async function updateKey(
  q: Queryable,
  projectId: number,
  keyId: number,
  patch: { label?: string; enabled?: boolean; rateLimitPerMinute?: number | null },
): Promise<KeyRow | undefined> {
  const rows = await q.query<R<KeyRow>>(
    `UPDATE project_keys SET
       label = COALESCE($3, label),
       enabled = COALESCE($4, enabled),
       rate_limit_per_minute = CASE WHEN $5::boolean THEN $6 ELSE rate_limit_per_minute END
     WHERE project_id = $1 AND id = $2 RETURNING ${keyCols}`,
    [
      projectId,
      keyId,
      patch.label ?? null,
      patch.enabled ?? null,
      patch.rateLimitPerMinute !== undefined,
      patch.rateLimitPerMinute ?? null,
    ],
  );
  return rows[0] && mapKey(rows[0]);
}

export async function rotateKeySecret(
  q: Queryable,
  projectId: number,
  keyId: number,
  secretHash: string,
): Promise<KeyRow | undefined> {
  const rows = await q.query<R<KeyRow>>(
    `UPDATE project_keys SET secret_hash = $3, rotated_at = now() WHERE project_id = $1 AND id = $2 RETURNING ${keyCols}`,
    [projectId, keyId, secretHash],
  );
  return rows[0] && mapKey(rows[0]);
}

export async function deleteKey(q: Queryable, projectId: number, keyId: number): Promise<boolean> {
  const rows = await q.query('DELETE FROM project_keys WHERE project_id = $1 AND id = $2 RETURNING id', [
    projectId,
    keyId,
  ]);
  return rows.length > 0;
}

const keyInfoCols = `id AS "keyId", project_id AS "projectId", public_key AS "publicKey", enabled,
  rate_limit_per_minute AS "rateLimitPerMinute"`;

export async function projectKeyByPublic(
  q: Queryable,
  publicKey: string,
): Promise<ProjectKeyInfo | undefined> {
  const rows = await q.query<R<ProjectKeyInfo>>(
    `SELECT ${keyInfoCols} FROM project_keys WHERE public_key = $1`,
    [publicKey],
  );
  return rows[0];
}

export async function projectKeyBySecretHash(
  q: Queryable,
  secretHash: string,
): Promise<(ProjectKeyInfo & { secretHash: string }) | undefined> {
  const rows = await q.query<R<ProjectKeyInfo & { secretHash: string }>>(
    `SELECT ${keyInfoCols}, secret_hash AS "secretHash" FROM project_keys WHERE secret_hash = $1`,
    [secretHash],
  );
  return rows[0];
}

/* ----------------------------- refresh tokens ----------------------------- */

export async function insertRefreshToken(
  q: Queryable,
  t: { userId: number; familyId: string; tokenHash: string; ttlDays: number },
): Promise<void> {
  await q.query(
    `INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)
     VALUES ($1, $2, $3, now() + make_interval(days => $4))`,
    [t.userId, t.familyId, t.tokenHash, t.ttlDays],
  );
}

export interface RefreshRow {
  id: number;
  userId: number;
  familyId: string;
  expired: boolean;
  usedAt: Date | null;
  revokedAt: Date | null;
}

export async function lockRefreshToken(q: Queryable, tokenHash: string): Promise<RefreshRow | undefined> {
  const rows = await q.query<R<RefreshRow>>(
    `SELECT id, user_id AS "userId", family_id AS "familyId", expires_at <= now() AS expired,
            used_at AS "usedAt", revoked_at AS "revokedAt"
     FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`,
    [tokenHash],
  );
  return rows[0];
}

export async function markRefreshUsed(q: Queryable, id: number): Promise<void> {
  await q.query('UPDATE refresh_tokens SET used_at = now() WHERE id = $1', [id]);
}

export async function revokeRefreshFamily(q: Queryable, familyId: string): Promise<void> {
  await q.query('UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL', [
    familyId,
  ]);
}

export async function revokeUserRefreshTokens(q: Queryable, userId: number): Promise<void> {
  await q.query('UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL', [
    userId,
  ]);
}

/* ---------------------------- personal API tokens ------------------------- */

export interface ApiTokenRow {
  id: number;
  name: string;
  hint: string;
  scope: 'read' | 'write';
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

const tokenCols = `id, name, token_hint AS hint, scope, created_at AS "createdAt", expires_at AS "expiresAt",
  last_used_at AS "lastUsedAt"`;
const mapToken = (r: ApiTokenRow): ApiTokenRow => ({
  ...r,
  createdAt: iso(r.createdAt),
  expiresAt: isoOrNull(r.expiresAt),
  lastUsedAt: isoOrNull(r.lastUsedAt),
});

export async function insertApiToken(
  q: Queryable,
  t: {
    userId: number;
    name: string;
    hint: string;
    tokenHash: string;
    scope: 'read' | 'write';
    expiresInDays?: number;
  },
): Promise<ApiTokenRow> {
  const rows = await q.query<R<ApiTokenRow>>(
    `INSERT INTO api_tokens (user_id, name, token_hint, token_hash, scope, expires_at)
     VALUES ($1, $2, $3, $4, $5, CASE WHEN $6::int IS NULL THEN NULL ELSE now() + make_interval(days => $6::int) END)
     RETURNING ${tokenCols}`,
    [t.userId, t.name, t.hint, t.tokenHash, t.scope, t.expiresInDays ?? null],
  );
  return mapToken(rows[0]!);
}

export async function listApiTokens(q: Queryable, userId: number): Promise<ApiTokenRow[]> {
  const rows = await q.query<R<ApiTokenRow>>(
    `SELECT ${tokenCols} FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL ORDER BY id`,
    [userId],
  );
  return rows.map(mapToken);
}

export async function revokeApiToken(q: Queryable, userId: number, id: number): Promise<boolean> {
  const rows = await q.query(
    'UPDATE api_tokens SET revoked_at = now() WHERE user_id = $1 AND id = $2 AND revoked_at IS NULL RETURNING id',
    [userId, id],
  );
  return rows.length > 0;
}

export async function findActiveApiToken(
  q: Queryable,
  tokenHash: string,
): Promise<{ id: number; userId: number; email: string; scope: 'read' | 'write' } | undefined> {
  const rows = await q.query<{ id: number; userId: number; email: string; scope: 'read' | 'write' }>(
    `SELECT t.id, t.user_id AS "userId", u.email, t.scope FROM api_tokens t JOIN users u ON u.id = t.user_id
     WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())`,
    [tokenHash],
  );
  return rows[0];
}

/** Record use at most once a minute per token (no write per request). */
export async function touchApiToken(q: Queryable, id: number): Promise<void> {
  await q.query(
    `UPDATE api_tokens SET last_used_at = now()
     WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
    [id],
  );
}

/* ------------------------------- invitations ------------------------------ */

export interface InvitationRow {
  id: number;
  orgId: number;
  email: string;
  role: Role;
  createdAt: string;
  expiresAt: string;
  acceptedAt: string | null;
}

const inviteCols = `id, org_id AS "orgId", email, role, created_at AS "createdAt", expires_at AS "expiresAt",
  accepted_at AS "acceptedAt"`;
const mapInvite = (r: InvitationRow): InvitationRow => ({
  ...r,
  createdAt: iso(r.createdAt),
  expiresAt: iso(r.expiresAt),
  acceptedAt: isoOrNull(r.acceptedAt),
});

export async function insertInvitation(
  q: Queryable,
  i: { orgId: number; email: string; role: Role; tokenHash: string; invitedBy: number; ttlDays: number },
): Promise<InvitationRow> {
  const rows = await q.query<R<InvitationRow>>(
    `INSERT INTO invitations (org_id, email, role, token_hash, invited_by, expires_at)
     VALUES ($1, $2, $3, $4, $5, now() + make_interval(days => $6)) RETURNING ${inviteCols}`,
    [i.orgId, i.email, i.role, i.tokenHash, i.invitedBy, i.ttlDays],
  );
  return mapInvite(rows[0]!);
}

export async function listInvitations(q: Queryable, orgId: number): Promise<InvitationRow[]> {
  const rows = await q.query<R<InvitationRow>>(
    `SELECT ${inviteCols} FROM invitations WHERE org_id = $1 AND accepted_at IS NULL AND expires_at > now() ORDER BY id`,
    [orgId],
  );
  return rows.map(mapInvite);
}

export async function deleteInvitation(q: Queryable, orgId: number, id: number): Promise<boolean> {
  const rows = await q.query('DELETE FROM invitations WHERE org_id = $1 AND id = $2 RETURNING id', [
    orgId,
    id,
  ]);
  return rows.length > 0;
}

/** A pending, unexpired invitation by token hash, locked for acceptance when `lock`. */
export async function pendingInvitation(
  q: Queryable,
  tokenHash: string,
  lock = false,
): Promise<(InvitationRow & { orgName: string }) | undefined> {
  const rows = await q.query<R<InvitationRow & { orgName: string }>>(
    `SELECT i.id, i.org_id AS "orgId", i.email, i.role, i.created_at AS "createdAt", i.expires_at AS "expiresAt",
            i.accepted_at AS "acceptedAt", o.name AS "orgName"
     FROM invitations i JOIN organizations o ON o.id = i.org_id
     WHERE i.token_hash = $1 AND i.accepted_at IS NULL AND i.expires_at > now()${lock ? ' FOR UPDATE OF i' : ''}`,
    [tokenHash],
  );
  return rows[0] && { ...mapInvite(rows[0]), orgName: rows[0].orgName };
}

export async function markInvitationAccepted(q: Queryable, id: number, userId: number): Promise<void> {
  await q.query('UPDATE invitations SET accepted_at = now(), accepted_by = $2 WHERE id = $1', [id, userId]);
}
