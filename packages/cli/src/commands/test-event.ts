import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { type Api, CliError, exitCodes } from '../api.js';
import { api, example, int, print, program, type Row } from '../program.js';

/** Parse `http(s)://<publicKey>@<host>/<projectId>` into the envelope URL. */
export function parseDsn(dsn: string): {
  envelopeUrl: string;
  publicKey: string;
  projectId: number;
  origin: string;
} {
  let u: URL;
  try {
    u = new URL(dsn);
  } catch {
    throw new CliError(`not a DSN: "${dsn}"`, exitCodes.usage);
  }
  const projectId = Number(u.pathname.split('/').filter(Boolean).pop());
  if (!u.username || !Number.isInteger(projectId) || projectId <= 0)
    throw new CliError(`not a DSN (expected http(s)://<key>@<host>/<projectId>): "${dsn}"`, exitCodes.usage);
  const base = u.pathname.replace(/\/[^/]*\/?$/, '');
  const origin = `${u.protocol}//${u.host}`;
  return {
    envelopeUrl: `${origin}${base}/api/${projectId}/envelope/?sentry_key=${u.username}&sentry_version=7`,
    publicKey: u.username,
    projectId,
    origin,
  };
}

example(
  program
    .command('send-test-event')
    .description('send a test error to a DSN and, when logged in, wait until Beacon has grouped it')
    .option('--dsn <dsn>', 'the DSN to test')
    .option('--project <id>', 'take the DSN of this project (needs login)', int('--project'))
    .option(
      '--wait <seconds>',
      'how long to wait for the event to be processed (0: do not wait)',
      int('--wait'),
      20,
    )
    .action(async (o: { dsn?: string; project?: number; wait: number }) => {
      let dsn = o.dsn;
      if (!dsn && o.project) dsn = String((await api().get<Row>(`/api/v1/projects/${o.project}`)).dsn ?? '');
      if (!dsn) throw new CliError('pass --dsn <dsn> or --project <id>', exitCodes.usage);
      const target = parseDsn(dsn);
      const eventId = randomUUID().replaceAll('-', '');
      const now = new Date().toISOString();
      const event = {
        event_id: eventId,
        timestamp: now,
        platform: 'node',
        level: 'error',
        server_name: hostname(),
        environment: 'test',
        tags: { source: 'beacon-cli' },
        exception: {
          values: [
            {
              type: 'BeaconTestError',
              value: 'This is a test event sent by `beacon send-test-event`',
              stacktrace: {
                frames: [
                  {
                    function: 'sendTestEvent',
                    filename: 'beacon-cli/send-test-event.js',
                    lineno: 1,
                    in_app: true,
                  },
                ],
              },
            },
          ],
        },
      };
      const payload = JSON.stringify(event);
      const body = `${JSON.stringify({ event_id: eventId, dsn, sent_at: now })}\n${JSON.stringify({ type: 'event', length: Buffer.byteLength(payload) })}\n${payload}\n`;
      let res: Response;
      try {
        res = await fetch(target.envelopeUrl, { method: 'POST', body, signal: AbortSignal.timeout(15_000) });
      } catch (err) {
        throw new CliError(
          `cannot reach ${target.origin} (${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message})`,
          exitCodes.unreachable,
        );
      }
      if (!res.ok) {
        const text = await res.text();
        let message = text;
        try {
          message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text;
        } catch {}
        throw new CliError(
          `the server refused the event: ${message} (HTTP ${res.status})`,
          res.status === 401 || res.status === 403 ? exitCodes.auth : exitCodes.error,
        );
      }
      let processed: Row | undefined;
      let client: Api | undefined;
      try {
        client = o.wait > 0 ? api() : undefined;
      } catch {
        client = undefined; // not logged in: accepted is all we can check
      }
      if (client) {
        const end = Date.now() + o.wait * 1000;
        while (!processed && Date.now() < end) {
          try {
            processed = await client.get<Row>(`/api/v1/events/${eventId}`, { projectId: target.projectId });
          } catch (err) {
            if (!(err instanceof CliError) || err.exitCode !== exitCodes.notFound) throw err;
            await new Promise((r) => setTimeout(r, 300));
          }
        }
        if (!processed)
          throw new CliError(
            `event ${eventId} was accepted but not processed within ${o.wait}s`,
            exitCodes.error,
          );
      }
      const issueId = processed?.issueId;
      print({ eventId, accepted: true, processed: Boolean(processed), issueId }, () =>
        processed
          ? `Event ${eventId} accepted and grouped into issue ${issueId}.`
          : `Event ${eventId} accepted by ${target.origin} (log in to also wait for processing).`,
      );
    }),
  'beacon send-test-event --dsn http://abc123@localhost:8000/1',
);
