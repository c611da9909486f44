import type { AppContext } from '../context.js';
import { digestsEqual, randomHex, sha256Hex } from './secrets.js';
import * as store from './store.js';

export interface ProjectKeyInfo {
  keyId: number;
  projectId: number;
  publicKey: string;
  enabled: boolean;
  rateLimitPerMinute: number | null;
}

const TTL_MS = 10_000;
const MAX_ENTRIES = 50_000;
type Entry = { at: number; value: ProjectKeyInfo | undefined };

/** Per-AppContext cache (no module globals): public key → key info, misses included. */
const caches = new WeakMap<AppContext, Map<string, Entry>>();

function cacheOf(ctx: AppContext): Map<string, Entry> {
  let c = caches.get(ctx);
  if (!c) {
    c = new Map();
    caches.set(ctx, c);
  }
  return c;
}

/** Forget cached lookups after a key changes in this process (others see it within TTL_MS). */
export function invalidateKeyCache(ctx: AppContext): void {
  caches.get(ctx)?.clear();
}

const isPublicKey = (k: string) => /^[0-9a-f]{32}$/.test(k);

/** Lookup by the DSN's public key; cached briefly (~10 s, per AppContext) so ingest does not hit
 *  the database per event; undefined when unknown. Disabled keys are returned with enabled=false. */
export async function findProjectKeyByPublic(
  ctx: AppContext,
  publicKey: string,
): Promise<ProjectKeyInfo | undefined> {
  const key = publicKey.trim().toLowerCase();
  if (!isPublicKey(key)) return undefined;
  const cache = cacheOf(ctx);
  const now = Date.now();
  const hit = cache.get(key);
  if (hit && now - hit.at < TTL_MS) return hit.value;
  const value = await store.projectKeyByPublic(ctx.db, key);
  if (cache.size >= MAX_ENTRIES) cache.clear();
  cache.set(key, { at: now, value });
  return value;
}

/** For the native API's X-API-Key: a project's secret key (compare SHA-256 digests, constant-time) or public key. */
export async function findProjectKeyByAny(ctx: AppContext, key: string): Promise<ProjectKeyInfo | undefined> {
  const k = key.trim();
  if (k === '') return undefined;
  const digest = sha256Hex(k);
  // Cached by digest so the secret itself is never held as a map key.
  const cache = cacheOf(ctx);
  const now = Date.now();
  const hit = cache.get(`s:${digest}`);
  let bySecret: ProjectKeyInfo | undefined;
  if (hit && now - hit.at < TTL_MS) bySecret = hit.value;
  else {
    const row = await store.projectKeyBySecretHash(ctx.db, digest);
    // The index lookup finds the row; the constant-time comparison is the actual check.
    if (row && digestsEqual(row.secretHash, digest)) {
      const { secretHash: _, ...info } = row;
      bySecret = info;
    }
    if (cache.size >= MAX_ENTRIES) cache.clear();
    cache.set(`s:${digest}`, { at: now, value: bySecret });
  }
  return bySecret ?? findProjectKeyByPublic(ctx, k);
}

/** Fresh key material: a 32-hex public key (goes in the DSN) and a 32-hex secret shown once. */
export function newKeyMaterial(): { publicKey: string; secretKey: string; secretHash: string } {
  const secretKey = randomHex(16);
  return { publicKey: randomHex(16), secretKey, secretHash: sha256Hex(secretKey) };
}

/** `http(s)://<publicKey>@<host>/<projectId>`, from the configured public URL. */
export function dsnFor(publicUrl: string, publicKey: string, projectId: number): string {
  const u = new URL(publicUrl);
  const base = u.pathname.replace(/\/+$/, '');
  return `${u.protocol}//${publicKey}@${u.host}${base}/${projectId}`;
}
