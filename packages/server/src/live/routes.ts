import websocket from '@fastify/websocket';
import { decodeJwt } from 'jose';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { accessibleProjectIds, authenticate } from '../identity/access.js';
import { AppError } from '../platform/errors.js';
import type { HttpApp } from '../platform/http/server.js';
import { hubFor, type LiveClient, type LiveMessage } from './hub.js';
import { userOrgIds } from './store.js';

const AUTH_TIMEOUT_MS = 10_000;
const PING_MS = 30_000;
/** Project access is re-read this often, so removed members stop receiving. */
const ACCESS_REFRESH_MS = 60_000;

const clientMessage = z.discriminatedUnion('type', [
  /** First message (unless `?token=` was given), and again after each token refresh. */
  z.object({ type: z.literal('auth'), token: z.string().min(1).max(4096) }),
  /** Re-read project access now (e.g. after creating a project). */
  z.object({ type: z.literal('refresh') }),
  z.object({ type: z.literal('ping') }),
]);

/** When a JWT expires (ms since the epoch), read without verifying (the caller just verified it). */
function expiryOf(token: string): number | undefined {
  try {
    const { exp } = decodeJwt(token);
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `GET /api/v1/live`: a WebSocket that pushes issue updates and monitor events for the projects
 * the user may read. Authenticate with `?token=<access token>` or a first message
 * `{"type":"auth","token":"..."}`; unauthenticated sockets are closed with 4001 after 10 s.
 */
export async function registerLiveRoutes(app: HttpApp, ctx: AppContext): Promise<void> {
  await app.register(websocket, { options: { maxPayload: 16 * 1024 } });
  const hub = hubFor(ctx);
  const gauge = ctx.metrics.gauge('beacon_live_sockets', 'Authenticated dashboard WebSockets');

  app.get(
    '/api/v1/live',
    {
      websocket: true,
      schema: {
        tags: ['live'],
        summary: 'WebSocket of live issue updates and monitor events (auth: ?token= or first message)',
      },
    },
    (socket, req) => {
      let closed = false;
      let authing: Promise<void> = Promise.resolve();
      let refreshTimer: NodeJS.Timeout | undefined;
      let expiryTimer: NodeJS.Timeout | undefined;
      let alive = true;

      const client: LiveClient = {
        projects: undefined,
        orgs: new Set(),
        send: (data) => socket.send(data),
        bufferedAmount: () => socket.bufferedAmount,
        close: (code, reason) => socket.close(code, reason),
      };
      const send = (m: LiveMessage) => {
        if (!closed) socket.send(JSON.stringify(m));
      };

      const loadProjects = async (token: string | undefined): Promise<void> => {
        try {
          const principal = await authenticate(ctx, token === undefined ? undefined : `Bearer ${token}`);
          // An access token is good until its expiry, not until the next access check: check
          // again just after it (the client refreshes and sends a new `auth` before, or reconnects).
          clearTimeout(expiryTimer);
          const exp = principal.via === 'jwt' && token ? expiryOf(token) : undefined;
          if (exp !== undefined)
            expiryTimer = setTimeout(
              () => void auth(currentToken ?? ''),
              Math.max(0, exp - Date.now()) + 1_000,
            );
          const [ids, orgs] = await Promise.all([
            accessibleProjectIds(ctx, principal),
            userOrgIds(ctx.db, principal.userId),
          ]);
          if (closed) return;
          client.orgs = new Set(orgs);
          const first = !client.projects;
          client.projects = new Set(ids);
          if (first) {
            hub.add(client);
            gauge.inc();
          }
          send({ type: 'hello', projects: ids });
        } catch (err) {
          if (closed) return;
          const message = err instanceof AppError ? err.message : 'authentication failed';
          if (!(err instanceof AppError)) req.log.warn({ err: (err as Error).message }, 'live auth failed');
          send({ type: 'error', code: 'unauthorized', message });
          socket.close(4001, 'unauthorized');
        }
      };

      let currentToken: string | undefined;
      const auth = (token: string) => {
        currentToken = token;
        authing = authing.then(() => loadProjects(token));
        clearInterval(refreshTimer);
        refreshTimer = setInterval(() => void auth(currentToken ?? ''), ACCESS_REFRESH_MS);
        return authing;
      };

      const authTimer = setTimeout(() => {
        if (!client.projects) socket.close(4001, 'authentication timeout');
      }, AUTH_TIMEOUT_MS);
      const ping = setInterval(() => {
        if (!alive) return socket.terminate();
        alive = false;
        socket.ping();
      }, PING_MS);
      socket.on('pong', () => {
        alive = true;
      });

      const query = req.query as Record<string, unknown>;
      if (typeof query.token === 'string' && query.token) void auth(query.token);

      socket.on('message', (raw: Buffer, isBinary: boolean) => {
        if (isBinary) return socket.close(1003, 'text frames only');
        let parsed: z.infer<typeof clientMessage>;
        try {
          const r = clientMessage.safeParse(JSON.parse(raw.toString('utf8')));
          if (!r.success) return send({ type: 'error', code: 'bad_request', message: 'unknown message' });
          parsed = r.data;
        } catch {
          return send({ type: 'error', code: 'bad_request', message: 'messages are JSON' });
        }
        if (parsed.type === 'auth') void auth(parsed.token);
        else if (parsed.type === 'refresh') {
          if (currentToken) void auth(currentToken);
        } else socket.send('{"type":"pong"}');
      });

      socket.on('close', () => {
        closed = true;
        clearTimeout(authTimer);
        clearInterval(ping);
        clearInterval(refreshTimer);
        clearTimeout(expiryTimer);
        if (hub.clients.has(client)) gauge.dec();
        hub.remove(client);
      });
    },
  );
}
