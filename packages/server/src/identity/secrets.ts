import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** SHA-256 hex digest: how high-entropy random secrets (keys, tokens) are stored. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex digests of equal length. */
export function digestsEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a, 'hex');
  const bb = Buffer.from(b, 'hex');
  return ba.length === bb.length && ba.length > 0 && timingSafeEqual(ba, bb);
}

export const randomHex = (bytes: number): string => randomBytes(bytes).toString('hex');

/** Opaque random token with a recognisable prefix (so secret scanners and humans can spot it). */
export const randomToken = (prefix: string, bytes = 32): string =>
  `${prefix}${randomBytes(bytes).toString('base64url')}`;

export const API_TOKEN_PREFIX = 'bcn_';
export const REFRESH_TOKEN_PREFIX = 'bcr_';
export const INVITE_TOKEN_PREFIX = 'bci_';
