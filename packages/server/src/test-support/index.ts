import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { inject } from 'vitest';
import { type Beacon, startBeacon } from '../beacon.js';
import { type Config, loadConfig } from '../config.js';
import { createLogger } from '../platform/logger.js';

/** Admin URL of the PostgreSQL server the tests use ('' when unavailable outside CI). */
export const pgAdminUrl = (): string => inject('pgAdminUrl');
export const hasPg = (): boolean => pgAdminUrl() !== '';

/** Skip-reason helper: loud outside CI; under CI the global setup already failed instead. */
export function requirePg(): boolean {
  if (!hasPg()) process.stderr.write('!!! SKIPPING: PostgreSQL is not available on 127.0.0.1:5432\n');
  return hasPg();
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh database on the test PostgreSQL server, dropped by `drop()`. */
export async function createTestDatabase(prefix = 'beacon_test'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: pgAdminUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(pgAdminUrl());
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: pgAdminUrl() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A Config for tests: loopback, random port, quiet logs, plus the given overrides. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', BEACON_ENV: 'test', ...env });
}

export interface TestBeacon extends Beacon {
  db: TestDatabase;
  close(): Promise<void>;
}

/** Start Beacon in-process on a fresh test database (all roles unless BEACON_ROLES is given). */
export async function startTestBeacon(env: Record<string, string> = {}): Promise<TestBeacon> {
  const db = await createTestDatabase();
  const config = testConfig({
    DATABASE_URL: db.url,
    JWT_KEY: 'test-jwt-key-0123456789-abcdefghijklmnop',
    ...env,
  });
  const beacon = await startBeacon(config, createLogger(config.logLevel));
  return {
    ...beacon,
    db,
    close: async () => {
      await beacon.stop();
      await db.drop();
    },
  };
}

/** Poll until `fn` returns a truthy value (returned), or throw after the timeout. */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  { timeout = 15_000, interval = 50, what = 'condition' } = {},
): Promise<NonNullable<T>> {
  const end = Date.now() + timeout;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, interval));
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
export const serverMain = path.join(repoRoot, 'packages/server/src/main.ts');

export function tempDir(prefix = 'beacon-'): { path: string; remove(): void } {
  const p = mkdtempSync(path.join(tmpdir(), prefix));
  return { path: p, remove: () => rmSync(p, { recursive: true, force: true }) };
}

export interface BeaconProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
  /** Resolves with the HTTP URL once the process logged that it started (generous default: tsx start-up on a loaded 2-core machine). */
  ready(timeoutMs?: number): Promise<string>;
}

/** Run the real `beacon` entry point (from source, through tsx) as a child process. */
export function spawnBeacon(args: string[], env: Record<string, string>, cwd = repoRoot): BeaconProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', serverMain, ...args], {
    cwd,
    env: { ...process.env, LOG_LEVEL: 'info', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    ready: async (timeoutMs = 90_000) => {
      const port = await Promise.race([
        waitFor(
          () => {
            for (const line of out.split('\n')) {
              if (!line.includes('"beacon started"')) continue;
              return (JSON.parse(line) as { port: number }).port;
            }
            return undefined;
          },
          { timeout: timeoutMs, what: 'beacon to start' },
        ),
        exited.then((code) => {
          throw new Error(`beacon exited with ${code} before starting:\n${err}\n${out.slice(-2000)}`);
        }),
      ]);
      return `http://127.0.0.1:${port}`;
    },
  };
}
