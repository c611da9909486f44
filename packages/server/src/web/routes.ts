import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppContext } from '../context.js';
import type { HttpApp } from '../platform/http/server.js';

/** packages/web/dist, found from both src/web (tsx) and dist/web (compiled): same depth. */
export const defaultDistDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../web/dist');

/** Paths the dashboard's index.html fallback never answers: the API and the operational endpoints. */
const reserved = /^\/(api|healthz|readyz|metrics)(\/|$)/;

const types: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

const securityHeaders = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
};

/**
 * Serves the built dashboard: `/assets/*` (content-hashed by Vite) with a one-year immutable
 * cache, other top-level files (favicon…) with a short cache, and `index.html` (never cached) for
 * every other GET so client-side routes survive a reload. API and operational paths are never
 * shadowed: an unknown `/api/...` still gets the JSON 404. Without a build, `/` explains how to
 * make one and the server runs anyway.
 */
export function registerWebRoutes(app: HttpApp, ctx: AppContext, distDir = defaultDistDir): void {
  const indexFile = path.join(distDir, 'index.html');
  const built = existsSync(indexFile);
  if (!built)
    ctx.log.warn({ distDir }, 'dashboard build missing: run `npm run build` to serve the web dashboard at /');
  let indexHtml: Buffer | undefined;
  const index = (): Buffer | undefined => {
    if (indexHtml && ctx.config.env === 'production') return indexHtml;
    if (!existsSync(indexFile)) return undefined;
    indexHtml = readFileSync(indexFile);
    return indexHtml;
  };

  /** A file under distDir, or undefined for anything else (traversal, directories, missing). */
  const resolveFile = (urlPath: string): string | undefined => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(urlPath);
    } catch {
      return undefined;
    }
    // No NUL bytes and no dot-segments or dotfiles (.vite/manifest.json stays private).
    if (decoded.includes('\0') || decoded.split('/').some((seg) => seg.startsWith('.'))) return undefined;
    const file = path.resolve(distDir, `.${path.posix.normalize(`/${decoded}`)}`);
    if (!file.startsWith(distDir + path.sep)) return undefined;
    try {
      return statSync(file).isFile() ? file : undefined;
    } catch {
      return undefined;
    }
  };

  app.get('/*', { schema: { hide: true } }, async (req, reply) => {
    const urlPath = req.url.split('?')[0] ?? '/';
    if (reserved.test(urlPath)) return reply.callNotFound();
    const html = index();
    if (!html) {
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .header('cache-control', 'no-store')
        .send('Beacon is running, but the web dashboard is not built. Run `npm run build` and reload.\n');
    }
    if (urlPath !== '/' && urlPath !== '/index.html') {
      const file = resolveFile(urlPath);
      if (file) {
        const immutable = urlPath.startsWith('/assets/');
        reply
          .type(types[path.extname(file)] ?? 'application/octet-stream')
          .header('x-content-type-options', 'nosniff')
          .header(
            'cache-control',
            immutable ? 'public, max-age=31536000, immutable' : 'public, max-age=3600',
          );
        return reply.send(createReadStream(file));
      }
      // A missing hashed asset is a real 404 (an old tab after a deploy), not the app shell.
      if (urlPath.startsWith('/assets/')) return reply.callNotFound();
    }
    reply.headers(securityHeaders).header('cache-control', 'no-cache').type('text/html; charset=utf-8');
    return reply.send(html);
  });
}
