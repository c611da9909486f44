import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { type Browser, chromium } from 'playwright-core';

/** Debian's chromium (Playwright's own browser download is not used). */
export const CHROMIUM = '/usr/bin/chromium';
export const sdkRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Whether the browser suites can run; under CI=true a missing browser is an error, not a skip. */
export function requireChromium(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  process.stderr.write(`!!! SKIPPING browser tests: ${CHROMIUM} is missing\n`);
  return false;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** Bundle a browser entry (file path or inline source) into one minified ESM script. */
export async function bundleForBrowser(entry: { file: string } | { source: string }): Promise<string> {
  const out = await build({
    ...('file' in entry
      ? { entryPoints: [entry.file] }
      : { stdin: { contents: entry.source, resolveDir: sdkRoot, loader: 'ts' as const } }),
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    write: false,
    logLevel: 'error',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  return out.outputFiles[0]!.text;
}

export interface Site {
  url: string;
  /** path → [content type, body]; change entries between tests. */
  files: Map<string, [string, string]>;
  close(): Promise<void>;
}

/** A static site on 127.0.0.1 (its own origin, apart from the server receiving events). */
export async function startSite(): Promise<Site> {
  const files = new Map<string, [string, string]>();
  const server = createServer((req, res) => {
    const f = files.get((req.url ?? '/').split('?')[0]!);
    res.writeHead(f ? 200 : 404, { 'content-type': f?.[0] ?? 'text/plain', 'cache-control': 'no-store' });
    res.end(f?.[1] ?? 'not found');
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    files,
    close: () =>
      new Promise<void>((res) => {
        server.closeAllConnections();
        server.close(() => res());
      }),
  };
}
