import type { AppContext } from '../context.js';
import { forbidden, notFound } from '../platform/errors.js';
import type { Principal } from './access.js';
import { API_TOKEN_PREFIX, randomToken, sha256Hex } from './secrets.js';
import * as store from './store.js';

/** Personal API tokens: `bcn_` + 256 random bits, shown once, stored as SHA-256. */
export async function createApiToken(
  ctx: AppContext,
  p: Principal,
  input: { name: string; scope: 'read' | 'write'; expiresInDays?: number },
): Promise<store.ApiTokenRow & { token: string }> {
  if (p.scope !== 'write') throw forbidden('a read-only token cannot create tokens');
  const token = randomToken(API_TOKEN_PREFIX);
  const row = await store.insertApiToken(ctx.db, {
    userId: p.userId,
    name: input.name.trim() || 'token',
    hint: `${token.slice(0, API_TOKEN_PREFIX.length + 4)}…`,
    tokenHash: sha256Hex(token),
    scope: input.scope,
    expiresInDays: input.expiresInDays,
  });
  ctx.log.info({ userId: p.userId, tokenId: row.id, scope: row.scope }, 'API token created');
  return { ...row, token };
}

export function listApiTokens(ctx: AppContext, p: Principal): Promise<store.ApiTokenRow[]> {
  return store.listApiTokens(ctx.db, p.userId);
}

export async function revokeApiToken(ctx: AppContext, p: Principal, id: number): Promise<void> {
  if (p.scope !== 'write') throw forbidden('a read-only token cannot revoke tokens');
  if (!(await store.revokeApiToken(ctx.db, p.userId, id))) throw notFound('token');
}
