import { randomUUID } from 'node:crypto';
import type { AppContext } from '../context.js';
import type { Queryable } from '../platform/db/db.js';
import { badRequest, conflict, forbidden, unauthorized } from '../platform/errors.js';
import type { Principal, Role } from './access.js';
import { signAccessToken } from './jwt.js';
import {
  canonicalEmail,
  checkPasswordPolicy,
  hashPassword,
  normalizeEmail,
  verifyPassword,
} from './passwords.js';
import { limiterOf } from './ratelimit.js';
import { REFRESH_TOKEN_PREFIX, randomToken, sha256Hex } from './secrets.js';
import * as store from './store.js';

export interface Session {
  user: { id: number; email: string; name: string };
  accessToken: string;
  refreshToken: string;
  /** Access token lifetime in seconds. */
  expiresIn: number;
}

/** A new refresh token in `familyId` (a new family per signin); only its SHA-256 is stored. */
async function issueRefresh(
  ctx: AppContext,
  q: Queryable,
  userId: number,
  familyId: string,
): Promise<string> {
  const token = randomToken(REFRESH_TOKEN_PREFIX);
  await store.insertRefreshToken(q, {
    userId,
    familyId,
    tokenHash: sha256Hex(token),
    ttlDays: ctx.config.refreshTokenTtlDays,
  });
  return token;
}

async function session(ctx: AppContext, user: store.UserRow, refreshToken: string): Promise<Session> {
  const { token, expiresIn } = await signAccessToken(ctx, user);
  return {
    user: { id: user.id, email: user.email, name: user.name },
    accessToken: token,
    refreshToken,
    expiresIn,
  };
}

export async function needsSetup(ctx: AppContext): Promise<boolean> {
  return !(await store.anyUserExists(ctx.db));
}

/**
 * Create an account. With a valid `inviteToken` (for the same email) the user joins the inviting
 * organization; otherwise they become owner of a new organization of their own.
 */
export async function signup(
  ctx: AppContext,
  input: { email: string; password: string; name?: string; inviteToken?: string },
  ip: string,
): Promise<Session> {
  const limiter = limiterOf(ctx);
  limiter.take('signupIp', ip);
  const email = normalizeEmail(input.email);
  limiter.take('signupAccount', email);
  checkPasswordPolicy(input.password);
  const name = (input.name ?? '').trim() || email.split('@')[0]!;
  const passwordHash = await hashPassword(input.password);
  const { user, refreshToken } = await ctx.db.tx(async (q) => {
    const user = await store.insertUser(q, { email, name, passwordHash });
    if (!user) throw conflict('an account with this email already exists');
    if (input.inviteToken) {
      const inv = await store.pendingInvitation(q, sha256Hex(input.inviteToken), true);
      if (!inv || inv.email !== email)
        throw badRequest('the invitation is invalid, expired or for another email');
      await store.addMembership(q, inv.orgId, user.id, inv.role);
      await store.markInvitationAccepted(q, inv.id, user.id);
    } else {
      const org = await store.insertOrg(q, `${name}'s organization`);
      await store.addMembership(q, org.id, user.id, 'owner');
    }
    return { user, refreshToken: await issueRefresh(ctx, q, user.id, randomUUID()) };
  });
  ctx.log.info({ userId: user.id }, 'account created');
  return session(ctx, user, refreshToken);
}

export async function signin(
  ctx: AppContext,
  input: { email: string; password: string },
  ip: string,
): Promise<Session> {
  const limiter = limiterOf(ctx);
  const email = canonicalEmail(input.email);
  limiter.check('signinIp', ip);
  limiter.check('signinAccount', email);
  const user = input.password.length <= 1024 ? await store.userByEmail(ctx.db, email) : undefined;
  const ok = await verifyPassword(user?.passwordHash, input.password);
  if (!user || !ok) {
    limiter.record('signinIp', ip);
    limiter.record('signinAccount', email);
    throw unauthorized('wrong email or password');
  }
  limiter.reset('signinAccount', email);
  const refreshToken = await issueRefresh(ctx, ctx.db, user.id, randomUUID());
  return session(ctx, user, refreshToken);
}

/**
 * Rotate a refresh token: the presented one is marked used and a new one of the same family is
 * returned. Presenting a used (or revoked) token again means it leaked: the whole family is
 * revoked, so the thief's and the owner's newer tokens both stop working.
 */
export async function refresh(ctx: AppContext, refreshToken: string, ip: string): Promise<Session> {
  const limiter = limiterOf(ctx);
  limiter.take('refreshIp', ip);
  limiter.check('refreshFailIp', ip);
  const outcome = await ctx.db.tx(async (q) => {
    const row = await store.lockRefreshToken(q, sha256Hex(refreshToken));
    if (!row) return { kind: 'invalid' as const };
    if (row.usedAt || row.revokedAt) {
      await store.revokeRefreshFamily(q, row.familyId);
      return { kind: 'reuse' as const, userId: row.userId, wasRevoked: row.revokedAt !== null };
    }
    if (row.expired) return { kind: 'invalid' as const };
    const user = await store.userById(q, row.userId);
    if (!user) return { kind: 'invalid' as const };
    limiter.take('refreshAccount', String(user.id));
    await store.markRefreshUsed(q, row.id);
    return { kind: 'ok' as const, user, next: await issueRefresh(ctx, q, user.id, row.familyId) };
  });
  if (outcome.kind !== 'ok') {
    limiter.record('refreshFailIp', ip);
    if (outcome.kind === 'reuse' && !outcome.wasRevoked)
      ctx.log.warn({ userId: outcome.userId }, 'refresh token reused: session family revoked');
    throw unauthorized('invalid refresh token');
  }
  return session(ctx, outcome.user, outcome.next);
}

/** Revoke the session (refresh token family) the token belongs to; unknown tokens are ignored. */
export async function signout(ctx: AppContext, refreshToken: string): Promise<void> {
  await ctx.db.tx(async (q) => {
    const row = await store.lockRefreshToken(q, sha256Hex(refreshToken));
    if (row) await store.revokeRefreshFamily(q, row.familyId);
  });
}

export async function me(
  ctx: AppContext,
  p: Principal,
): Promise<{
  user: { id: number; email: string; name: string };
  orgs: Array<{ id: number; name: string; slug: string; role: Role }>;
  via: Principal['via'];
  scope: Principal['scope'];
}> {
  const user = await store.userById(ctx.db, p.userId);
  if (!user) throw unauthorized('account no longer exists');
  return { user, orgs: await store.orgsOfUser(ctx.db, p.userId), via: p.via, scope: p.scope };
}

export async function updateProfile(ctx: AppContext, p: Principal, patch: { name: string }) {
  if (p.scope !== 'write') throw forbidden('this API token is read-only');
  await store.updateUser(ctx.db, p.userId, { name: patch.name.trim() });
  return me(ctx, p);
}

/**
 * Change the password (interactive sessions only, not API tokens). Every session of the account
 * is revoked; the caller receives a fresh one.
 */
export async function changePassword(
  ctx: AppContext,
  p: Principal,
  input: { currentPassword: string; newPassword: string },
  ip: string,
): Promise<Session> {
  if (p.via !== 'jwt') throw forbidden('sign in with your password to change it');
  const limiter = limiterOf(ctx);
  limiter.check('signinAccount', p.email);
  const user = await store.userById(ctx.db, p.userId);
  if (!user) throw unauthorized('account no longer exists');
  if (!(await verifyPassword(await store.passwordHashOf(ctx.db, p.userId), input.currentPassword))) {
    limiter.record('signinAccount', p.email);
    limiter.record('signinIp', ip);
    throw forbidden('the current password is wrong');
  }
  checkPasswordPolicy(input.newPassword);
  const passwordHash = await hashPassword(input.newPassword);
  const refreshToken = await ctx.db.tx(async (q) => {
    await store.updateUser(q, p.userId, { passwordHash });
    await store.revokeUserRefreshTokens(q, p.userId);
    return issueRefresh(ctx, q, p.userId, randomUUID());
  });
  ctx.log.info({ userId: p.userId }, 'password changed; other sessions revoked');
  return session(ctx, user, refreshToken);
}
