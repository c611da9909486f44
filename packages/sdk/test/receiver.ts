import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

// biome-ignore lint/suspicious/noExplicitAny: assertions walk arbitrary event JSON
export type Json = any;

export interface Received {
  at: number;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
}

/** A real HTTP server on 127.0.0.1 recording every request; `reply` decides each answer. */
export interface Receiver {
  port: number;
  url: string;
  requests: Received[];
  reply: (req: Received, index: number) => Reply;
  /** DSN pointing at this receiver. */
  dsn(projectId?: number, key?: string): string;
  /** Event payloads of the envelopes received so far (only answered-2xx ones unless `all`). */
  events(all?: boolean): Json[];
  close(): Promise<void>;
}

export interface Envelope {
  header: Record<string, unknown>;
  items: Array<{ header: Record<string, unknown>; payload: string }>;
}

export function parseEnvelope(body: string): Envelope {
  const lines = body.split('\n');
  const header = JSON.parse(lines.shift() ?? '{}');
  const items: Envelope['items'] = [];
  while (lines.length) {
    const h = lines.shift();
    if (!h) continue;
    const itemHeader = JSON.parse(h);
    items.push({ header: itemHeader, payload: lines.shift() ?? '' });
  }
  return { header, items };
}

export async function startReceiver(port = 0, reply: Receiver['reply'] = () => ({})): Promise<Receiver> {
  const requests: Received[] = [];
  const statuses: number[] = [];
  let server: Server;
  const r: Receiver = {
    port: 0,
    url: '',
    requests,
    reply,
    dsn: (projectId = 7, key = 'publickey') => `http://${key}@127.0.0.1:${r.port}/${projectId}`,
    events: (all = false) =>
      requests.flatMap((req, i) => {
        if (!req.url.includes('/envelope/')) return [];
        if (!all && (statuses[i] ?? 0) >= 300) return [];
        return parseEnvelope(req.body)
          .items.filter((it) => it.header.type === 'event')
          .map((it) => JSON.parse(it.payload) as Json);
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let buf = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') buf = gunzipSync(buf);
      const rec: Received = {
        at: Date.now(),
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: buf.toString('utf8'),
      };
      const index = requests.push(rec) - 1;
      const out = r.reply(rec, index);
      statuses[index] = out.status ?? 200;
      res.writeHead(out.status ?? 200, { 'access-control-allow-origin': '*', ...out.headers });
      res.end(out.body ?? '{}');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  r.port = (server.address() as AddressInfo).port;
  r.url = `http://127.0.0.1:${r.port}`;
  return r;
}
