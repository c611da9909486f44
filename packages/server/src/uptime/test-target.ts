import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type TargetMode = 'healthy' | 'slow' | 'failing' | 'wrong-keyword';

/**
 * A local HTTP target on 127.0.0.1 for tests and benchmarks, switchable between healthy (200
 * "status: ok"), slow (answers after `slowMs`), failing (500) and wrong-keyword (200 without
 * the keyword). Counts the requests it served.
 */
export interface TestTarget {
  url: string;
  mode: TargetMode;
  slowMs: number;
  hits: number;
  close(): Promise<void>;
}

export async function startTestTarget(mode: TargetMode = 'healthy', slowMs = 2_000): Promise<TestTarget> {
  const target = { mode, slowMs, hits: 0 } as TestTarget;
  const server = http.createServer((req, res) => {
    target.hits++;
    req.resume();
    if (req.url?.startsWith('/redirect/')) {
      const n = Number(req.url.split('/')[2] ?? '0');
      res.writeHead(302, { location: n > 0 ? `/redirect/${n - 1}` : '/' }).end();
      return;
    }
    const send = () => {
      if (target.mode === 'failing')
        res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error');
      else if (target.mode === 'wrong-keyword')
        res.writeHead(200, { 'content-type': 'text/plain' }).end('status: maintenance');
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('status: ok');
    };
    if (target.mode === 'slow') {
      const t = setTimeout(send, target.slowMs);
      res.on('close', () => clearTimeout(t));
    } else send();
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  target.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  target.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return target;
}
