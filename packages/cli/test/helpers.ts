import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../../server/src/test-support/index.js';

export const cliMain = path.join(repoRoot, 'packages/cli/dist/index.js');

/** Build the CLI once per test file so the suite runs the real, current binary. */
export function buildCli(): void {
  execFileSync(
    process.execPath,
    [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'packages/cli/tsconfig.json'],
    {
      cwd: repoRoot,
      stdio: 'inherit',
    },
  );
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  json<T = unknown>(): T;
}

/** Run `beacon <args>` as a child process with its own config dir. */
export function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliMain, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: env.BEACON_CONFIG_DIR ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('exit', (code) =>
      resolve({
        code,
        stdout,
        stderr,
        json: <T>() => {
          try {
            return JSON.parse(stdout) as T;
          } catch {
            throw new Error(`not JSON (exit ${code}): ${stdout}\n${stderr}`);
          }
        },
      }),
    );
  });
}

/** A local HTTP receiver on 127.0.0.1 answering every request with `status` (and `body`, if given). */
export async function startReceiver(
  status = 200,
  body?: { type: string; text: string },
): Promise<{ url: string; hits: number; close(): Promise<void> }> {
  const { createServer } = await import('node:http');
  const state = { url: '', hits: 0, close: async () => {} };
  const server = createServer((req, res) => {
    state.hits += 1;
    req.resume();
    req.on('end', () =>
      res
        .writeHead(status, { 'content-type': body?.type ?? 'text/plain' })
        .end(body?.text ?? (status === 200 ? 'ok' : 'unavailable')),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  state.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return state;
}
