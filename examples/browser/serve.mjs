// Serves the browser sample: bundles @beacon/sdk and @sentry/browser with esbuild at start-up.
//   DSN=http://<key>@127.0.0.1:8000/<project> node examples/browser/serve.mjs   → http://127.0.0.1:5050
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { build } from 'esbuild';

const here = import.meta.dirname;
const bundle = async (source) =>
  (
    await build({
      stdin: { contents: source, resolveDir: here, loader: 'js' },
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      define: { 'process.env.NODE_ENV': '"production"' },
    })
  ).outputFiles[0].text;

const files = {
  '/': ['text/html', readFileSync(path.join(here, 'index.html'), 'utf8')],
  '/main.js': ['text/javascript', readFileSync(path.join(here, 'main.js'), 'utf8')],
  '/sdk/beacon.js': ['text/javascript', await bundle("export * from '@beacon/sdk/browser';")],
  '/sdk/sentry.js': ['text/javascript', await bundle("export * from '@sentry/browser';")],
  '/config.json': ['application/json', JSON.stringify({ dsn: process.env.DSN ?? '' })],
};

const server = createServer((req, res) => {
  const f = files[(req.url ?? '/').split('?')[0]];
  res.writeHead(f ? 200 : 404, { 'content-type': f?.[0] ?? 'text/plain' });
  res.end(f?.[1] ?? 'not found');
});
server.listen(Number(process.env.PORT ?? 5050), '127.0.0.1', () => {
  console.log(`browser sample on http://127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
