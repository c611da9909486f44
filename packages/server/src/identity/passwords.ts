import argon2 from 'argon2';
import { badRequest } from '../platform/errors.js';

export const MIN_PASSWORD_LENGTH = 8;
/** Bounds the hashing work an attacker can request per call. */
export const MAX_PASSWORD_LENGTH = 1024;

export function checkPasswordPolicy(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH)
    throw badRequest(`password must be at least ${MIN_PASSWORD_LENGTH} characters`);
  if (password.length > MAX_PASSWORD_LENGTH)
    throw badRequest(`password must be at most ${MAX_PASSWORD_LENGTH} characters`);
}

/**
 * OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): the library default (64 MiB, 4 lanes)
 * costs several times more CPU per signin on a small server for little extra resistance.
 * Parameters are stored in each hash, so raising them later still verifies old hashes.
 */
const params = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, params);
}

let dummy: Promise<string> | undefined;

/** Verifies against `hash`, or against a throwaway hash when the account does not exist, so the
 *  response time does not reveal which emails have accounts. */
export async function verifyPassword(hash: string | undefined, password: string): Promise<boolean> {
  if (!hash) {
    dummy ??= argon2.hash('beacon-dummy-password', params);
    await argon2.verify(await dummy, password).catch(() => false);
    return false;
  }
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

/** Trim and lower-case; the same address always maps to the same account. */
export const canonicalEmail = (email: string): string => email.normalize('NFC').trim().toLowerCase();

/** canonicalEmail, refusing what is not an address (400). */
export function normalizeEmail(email: string): string {
  const e = canonicalEmail(email);
  if (e.length > 254 || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(e)) throw badRequest('invalid email address');
  return e;
}
