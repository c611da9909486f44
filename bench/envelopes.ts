// Envelopes the ingest and pipeline benches send: 36 distinct errors shaped like @sentry/node's,
// padded to 2 KB, with PLACEHOLDER where the load generator writes a fresh event id per request.

/** 32 characters in every body, replaced by a fresh event id (32 hex digits) per request. */
export const PLACEHOLDER = 'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee';
export const sdk = { name: 'sentry.javascript.node', version: '11.12.0' };

const errorTypes = ['TypeError', 'ReferenceError', 'RangeError', 'Error', 'SyntaxError', 'DatabaseError'];
const files = ['checkout', 'cart', 'auth', 'orders', 'payments', 'search', 'profile', 'mailer'];

/** One ~2 KB Sentry envelope per distinct error, shaped like @sentry/node's. */
export function envelopeFor(i: number): string {
  const type = errorTypes[i % errorTypes.length]!;
  const file = files[i % files.length]!;
  const frames = Array.from({ length: 8 }, (_, f) => ({
    filename:
      f < 4
        ? `node:internal/modules/m${f}`
        : `/srv/app/src/${file}/${['index', 'service', 'store', 'handler'][f % 4]}.js`,
    module: f < 4 ? `m${f}` : `${file}:${f}`,
    function: f < 4 ? `internalFn${f}` : `${file}Step${i % 5}${f}`,
    lineno: 10 + f * 7 + (i % 3),
    colno: 5 + f,
    in_app: f >= 4,
  }));
  const event = {
    event_id: PLACEHOLDER,
    timestamp: Date.now() / 1000,
    platform: 'node',
    level: 'error',
    server_name: 'web-1',
    release: 'shop@1.4.2',
    environment: 'production',
    exception: {
      values: [
        {
          type,
          value: `failure ${i} in ${file}: order ${1000 + i} could not be processed`,
          mechanism: { type: 'generic', handled: true },
          stacktrace: { frames },
        },
      ],
    },
    tags: { service: file, region: 'eu-west-1' },
    user: { id: String(i), ip_address: '10.0.0.1' },
    contexts: { runtime: { name: 'node', version: 'v20.20.2' }, os: { name: 'linux' } },
    breadcrumbs: [
      { timestamp: Date.now() / 1000, category: 'http', message: `GET /api/${file}`, level: 'info' },
    ],
    sdk,
  };
  const header = JSON.stringify({ event_id: PLACEHOLDER, sent_at: new Date().toISOString(), sdk });
  let body = `${header}\n{"type":"event"}\n${JSON.stringify(event)}\n`;
  if (body.length < 2048) {
    const padded = { ...event, extra: { note: 'x'.repeat(2048 - body.length - 20) } };
    body = `${header}\n{"type":"event"}\n${JSON.stringify(padded)}\n`;
  }
  return body;
}
/** The 36 bodies every run of the ingest and pipeline benches cycles through. */
export const bodies = Array.from({ length: 36 }, (_, i) => envelopeFor(i));
