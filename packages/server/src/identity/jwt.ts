import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { AppContext } from '../context.js';
import { unauthorized } from '../platform/errors.js';
import { randomToken } from './secrets.js';

const ISSUER = 'beacon';
const AUDIENCE = 'beacon-api';
const SETTINGS_KEY = 'identity.jwt_key';

/** One signing key per AppContext (resolved once; every process of an install agrees on it). */
const keys = new WeakMap<AppContext, Promise<Uint8Array>>();

/**
 * The HS256 key: `JWT_KEY` when set. Otherwise embedded storage keeps a generated key in
 * `<dataDir>/jwt-key` (mode 0600); an external database keeps it in the `settings` table, so
 * every process of a multi-process install signs and verifies with the same key.
 */
export function signingKey(ctx: AppContext): Promise<Uint8Array> {
  let k = keys.get(ctx);
  if (!k) {
    k = resolveKey(ctx).then((s) => new TextEncoder().encode(s));
    k.catch(() => keys.delete(ctx));
    keys.set(ctx, k);
  }
  return k;
}

async function resolveKey(ctx: AppContext): Promise<string> {
  if (ctx.config.jwtKey) return ctx.config.jwtKey;
  if (ctx.config.database.kind === 'embedded') {
    const file = path.join(ctx.config.dataDir, 'jwt-key');
    mkdirSync(ctx.config.dataDir, { recursive: true });
    try {
      writeFileSync(file, `${randomToken('', 48)}\n`, { flag: 'wx', mode: 0o600 });
      ctx.log.info({ file }, 'generated a JWT signing key');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    chmodSync(file, 0o600);
    const s = readFileSync(file, 'utf8').trim();
    if (s.length < 32) throw new Error(`${file} holds a key shorter than 32 characters`);
    return s;
  }
  await ctx.db.query(
    `INSERT INTO settings (key, value) VALUES ($1, to_jsonb($2::text)) ON CONFLICT (key) DO NOTHING`,
    [SETTINGS_KEY, randomToken('', 48)],
  );
  const row = await ctx.db.one<{ value: string }>('SELECT value FROM settings WHERE key = $1', [
    SETTINGS_KEY,
  ]);
  return row!.value;
}

export async function signAccessToken(
  ctx: AppContext,
  user: { id: number; email: string },
): Promise<{ token: string; expiresIn: number }> {
  const ttl = ctx.config.accessTokenTtlSeconds;
  const token = await new SignJWT({ email: user.email })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(String(user.id))
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttl)
    .sign(await signingKey(ctx));
  return { token, expiresIn: ttl };
}

/** Verifies signature, algorithm, issuer, audience and expiry; any failure is 401. */
export async function verifyAccessToken(
  ctx: AppContext,
  token: string,
): Promise<{ userId: number; email: string }> {
  try {
    const { payload } = await jwtVerify(token, await signingKey(ctx), {
      algorithms: ['HS256'],
      issuer: ISSUER,
      audience: AUDIENCE,
      requiredClaims: ['sub', 'exp'],
    });
    const userId = Number(payload.sub);
    if (!Number.isSafeInteger(userId) || userId <= 0 || typeof payload.email !== 'string')
      throw unauthorized('invalid access token');
    return { userId, email: payload.email };
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw unauthorized('access token expired');
    throw unauthorized('invalid access token');
  }
}
