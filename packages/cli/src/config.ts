import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

/** Where `beacon login` keeps the server URL and token: the user's config dir, mode 0600. */
export interface Credentials {
  url: string;
  token: string;
}

export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BEACON_CONFIG_DIR) return env.BEACON_CONFIG_DIR;
  const base = env.XDG_CONFIG_HOME || path.join(homedir(), '.config');
  return path.join(base, 'beacon');
}

const file = (env?: NodeJS.ProcessEnv) => path.join(configDir(env), 'credentials.json');

export function saveCredentials(c: Credentials, env?: NodeJS.ProcessEnv): string {
  const dir = configDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const f = file(env);
  writeFileSync(f, `${JSON.stringify(c, null, 2)}\n`, { mode: 0o600 });
  chmodSync(f, 0o600);
  return f;
}

export function removeCredentials(env?: NodeJS.ProcessEnv): boolean {
  const f = file(env);
  if (!existsSync(f)) return false;
  rmSync(f);
  return true;
}

/** Stored credentials, overridden field by field by BEACON_URL / BEACON_TOKEN. */
export function loadCredentials(env: NodeJS.ProcessEnv = process.env): Partial<Credentials> {
  let stored: Partial<Credentials> = {};
  try {
    stored = JSON.parse(readFileSync(file(env), 'utf8')) as Partial<Credentials>;
  } catch {
    stored = {};
  }
  return { url: env.BEACON_URL || stored.url, token: env.BEACON_TOKEN || stored.token };
}
