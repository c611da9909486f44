import { createHash } from 'node:crypto';
import type { AppContext } from '../context.js';
import type { InternalEvent } from '../events/schema.js';
import { findProjectKeyByAny, findProjectKeyByPublic, type ProjectKeyInfo } from '../identity/keys.js';
import type { BusMessage } from '../platform/bus/types.js';
import { AppError } from '../platform/errors.js';
import { keyFromDsn } from './auth.js';
import { Batcher } from './batcher.js';
import { decodeBody, decodeStorePayload } from './decode.js';
import { type EnvelopeItem, itemJson, parseEnvelope } from './envelope.js';
import { nativeBodySchema, normalizeNativeEvent } from './native.js';
import { isObj, normalizeEventId, normalizeSentryEvent } from './normalize.js';
import { Quotas, sentryRateLimitHeader } from './quotas.js';
import { IngestStats } from './stats.js';
import { type AttachmentRow, deleteExpiredAttachments, insertAttachments } from './store.js';

/**
 * The ingest pipeline, transport-free: authenticate the key, undo compression within limits,
 * parse (envelope / store / native), apply quotas, normalise every event into the internal
 * schema, keep attachments, and hand events to the bus through the group-commit batcher. Each
 * method resolves only when its events are durable; failures are AppErrors with a reason.
 */
export interface IngestOptions {
  /** Quota window (a minute; tests shorten it). */
  windowMs?: number;
  lingerMs?: number;
  maxBatch?: number;
  maxInFlight?: number;
  /** Events waiting for the bus beyond which requests get 503 instead of queueing without bound. */
  maxQueued?: number;
  statsIntervalMs?: number;
}

export interface RawRequest {
  body: Buffer;
  contentEncoding?: string;
}

/** Item types Sentry SDKs send that Beacon accepts and counts as dropped (by type). */
const KNOWN_ITEM_TYPES = new Set([
  'transaction',
  'session',
  'sessions',
  'client_report',
  'check_in',
  'log',
  'otel_log',
  'span',
  'otel_span',
  'profile',
  'profile_chunk',
  'replay_event',
  'replay_recording',
  'replay_video',
  'statsd',
  'metric_buckets',
  'user_report',
  'feedback',
  'security',
  'raw_security',
  'unreal_report',
  'form_data',
  'nel',
]);

const unauthorizedKey = () => new AppError('unauthorized', 'invalid or disabled project key');

export class IngestService {
  readonly quotas: Quotas;
  readonly stats: IngestStats;
  readonly batcher: Batcher;
  private readonly maxQueued: number;
  private queued = 0;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: AppContext,
    opts: IngestOptions = {},
  ) {
    this.quotas = new Quotas(opts.windowMs ?? 60_000);
    const counter = ctx.metrics.counter(
      'beacon_ingest_events_total',
      'Events received by ingest, by outcome',
      ['project', 'outcome', 'reason'],
    );
    this.stats = new IngestStats(
      ctx.db,
      ctx.log.child({ component: 'ingest-stats' }),
      counter,
      opts.statsIntervalMs,
    );
    const batchSize = ctx.metrics.histogram(
      'beacon_ingest_publish_batch_size',
      'Events per group-commit write to the bus',
      [],
      [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
    );
    const batchSeconds = ctx.metrics.histogram(
      'beacon_ingest_publish_seconds',
      'Duration of a group-commit write',
    );
    this.batcher = new Batcher(ctx.bus, ctx.topics.events, {
      lingerMs: opts.lingerMs ?? 2,
      maxBatch: opts.maxBatch ?? 500,
      maxInFlight: opts.maxInFlight ?? 1,
      onBatch: (size, ms) => {
        batchSize.observe(size);
        batchSeconds.observe(ms / 1000);
      },
    });
    this.maxQueued = opts.maxQueued ?? 50_000;
  }

  start(): void {
    this.stats.start();
    const sweep = async () => {
      try {
        while ((await deleteExpiredAttachments(this.ctx.db)) === 1000);
      } catch (err) {
        this.ctx.log.warn({ err }, 'expiring attachments failed');
      }
    };
    this.sweeper = setInterval(sweep, 3600_000);
    this.sweeper.unref();
  }

  async stop(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    await this.batcher.drain();
    await this.stats.stop();
  }

  // ---------------------------------------------------------------- authentication

  /** A Sentry public key for `projectId`: unknown and disabled keys get the same 401. */
  async authorizeSentryKey(projectId: number, publicKey: string | undefined): Promise<ProjectKeyInfo> {
    if (!publicKey)
      throw new AppError(
        'unauthorized',
        'missing project key: send X-Sentry-Auth (sentry_key=…), Authorization: Sentry …, or ?sentry_key=',
      );
    const info = await findProjectKeyByPublic(this.ctx, publicKey);
    if (!info?.enabled) throw unauthorizedKey();
    if (info.projectId !== projectId)
      throw new AppError('forbidden', `this key is not valid for project ${projectId}`);
    return info;
  }

  async authorizeApiKey(apiKey: string | undefined): Promise<ProjectKeyInfo> {
    if (!apiKey)
      throw new AppError('unauthorized', 'missing X-API-Key header (a project secret or public key)');
    const info = await findProjectKeyByAny(this.ctx, apiKey);
    if (!info?.enabled) throw unauthorizedKey();
    return info;
  }

  // ---------------------------------------------------------------- Sentry envelope

  async envelope(
    projectId: number,
    headerKey: string | undefined,
    req: RawRequest,
  ): Promise<{ id: string | null }> {
    // With the key in a header or the query we authenticate before touching the body.
    let key = headerKey ? await this.authorizeSentryKey(projectId, headerKey) : undefined;
    try {
      const body = await decodeBody(
        req.body,
        req.contentEncoding,
        this.ctx.config.ingest.maxDecompressedBytes,
      );
      let env: ReturnType<typeof parseEnvelope>;
      try {
        env = parseEnvelope(body, { maxItems: this.ctx.config.ingest.maxItems });
      } catch (err) {
        if (!key) throw new AppError('unauthorized', 'missing project key');
        throw err;
      }
      key ??= await this.authorizeSentryKey(projectId, keyFromDsn(env.headers.dsn));
      return await this.processEnvelope(key, env);
    } catch (err) {
      if (key) this.countFailure(projectId, err);
      throw err;
    }
  }

  private async processEnvelope(
    key: ProjectKeyInfo,
    env: ReturnType<typeof parseEnvelope>,
  ): Promise<{ id: string | null }> {
    const projectId = key.projectId;
    const limits = this.ctx.config.ingest;
    const headerEventId = normalizeEventId(env.headers.event_id);
    const eventItems = env.items.filter((i) => i.headers.type === 'event');
    for (const item of eventItems)
      if (item.payload.length > limits.maxEventBytes)
        throw new AppError('payload_too_large', `event is larger than ${limits.maxEventBytes} bytes`);

    const receivedMs = Date.now();
    const attachments: EnvelopeItem[] = [];
    const events: Array<{ payload: Record<string, unknown> }> = [];
    const dropped = new Map<string, number>();
    const drop = (reason: string) => dropped.set(reason, (dropped.get(reason) ?? 0) + 1);
    env.items.forEach((item, index) => {
      const type = item.headers.type;
      if (type === 'event') events.push({ payload: itemJson(item, index) });
      else if (type === 'attachment') {
        if (item.truncated) drop('attachment_truncated');
        else if (item.payload.length > limits.maxAttachmentBytes) drop('attachment_too_large');
        else attachments.push(item);
      } else drop(`unsupported:${KNOWN_ITEM_TYPES.has(type) ? type : 'other'}`);
    });

    const normalized = events.map((e, i) =>
      normalizeSentryEvent(e.payload, {
        projectId,
        source: 'envelope',
        fallbackEventId: i === 0 ? headerEventId : undefined,
        receivedMs,
        sentAt: env.headers.sent_at,
      }),
    );
    // Attachments belong to the envelope's event; without one, to the event named in the header
    // (SDKs may send attachments after their event).
    const ownerId = normalized[0]?.eventId ?? headerEventId;
    const attachmentRows: AttachmentRow[] = [];
    for (const item of attachments) {
      if (ownerId) attachmentRows.push(attachmentRow(projectId, ownerId, item));
      else drop('attachment_without_event');
    }
    if (normalized[0])
      normalized[0].attachments = attachmentRows.map((a) => ({
        id: a.id,
        filename: a.filename,
        contentType: a.contentType,
        size: a.data.length,
      }));

    // Quota is taken once the events are known to be valid: refused events cost nothing.
    if (normalized.length > 0) this.takeQuota(key, normalized.length);
    // Attachments are durable before their event is on the bus, so the worker can rely on them.
    await insertAttachments(this.ctx.db, attachmentRows);
    await this.publish(normalized);
    this.stats.count(projectId, 'accepted', normalized.length);
    for (const [reason, n] of dropped) this.stats.count(projectId, 'dropped', n, reason);
    return { id: normalized[0]?.eventId ?? headerEventId ?? null };
  }

  // ---------------------------------------------------------------- Sentry store

  async store(projectId: number, headerKey: string | undefined, req: RawRequest): Promise<{ id: string }> {
    const key = await this.authorizeSentryKey(projectId, headerKey);
    try {
      const limits = this.ctx.config.ingest;
      const body = await decodeBody(req.body, req.contentEncoding, limits.maxDecompressedBytes);
      const json = await decodeStorePayload(body, limits.maxDecompressedBytes);
      if (json.length > limits.maxEventBytes)
        throw new AppError('payload_too_large', `event is larger than ${limits.maxEventBytes} bytes`);
      const payload = parseJsonObject(json, 'event');
      const ev = normalizeSentryEvent(payload, { projectId, source: 'store', receivedMs: Date.now() });
      this.takeQuota(key, 1);
      await this.publish([ev]);
      this.stats.count(projectId, 'accepted', 1);
      return { id: ev.eventId };
    } catch (err) {
      this.countFailure(projectId, err);
      throw err;
    }
  }

  // ---------------------------------------------------------------- native

  async native(apiKey: string | undefined, req: RawRequest): Promise<{ id: string } | { ids: string[] }> {
    const key = await this.authorizeApiKey(apiKey);
    const projectId = key.projectId;
    try {
      const limits = this.ctx.config.ingest;
      const body = await decodeBody(req.body, req.contentEncoding, limits.maxDecompressedBytes);
      let value: unknown;
      try {
        value = JSON.parse(body.toString('utf8'));
      } catch {
        throw new AppError('bad_request', 'body is not valid JSON');
      }
      const batch = Array.isArray(value);
      if (Array.isArray(value) && value.length > limits.maxItems)
        throw new AppError(
          'bad_request',
          `a batch holds at most ${limits.maxItems} events (got ${value.length})`,
        );
      const items = batch ? (value as unknown[]) : [value];
      if (items.length === 0) throw new AppError('bad_request', 'a batch needs at least one event');
      if (batch ? body.length > limits.maxEventBytes * items.length : body.length > limits.maxEventBytes)
        throw new AppError('payload_too_large', `event is larger than ${limits.maxEventBytes} bytes`);
      // Only a body larger than one event can hold an oversized event: skip re-serialising otherwise.
      if (batch && body.length > limits.maxEventBytes)
        for (const [i, it] of items.entries())
          if (Buffer.byteLength(JSON.stringify(it)) > limits.maxEventBytes)
            throw new AppError(
              'payload_too_large',
              `event [${i}] is larger than ${limits.maxEventBytes} bytes`,
            );
      const parsed = nativeBodySchema.safeParse(value);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
        const where = batch ? `event${path}` : `event${path}`;
        throw new AppError('bad_request', `invalid ${where}: ${issue.message}`, {
          details: {
            issues: parsed.error.issues.slice(0, 10).map((i) => ({ path: i.path, message: i.message })),
          },
        });
      }
      const list = Array.isArray(parsed.data) ? parsed.data : [parsed.data];
      const receivedMs = Date.now();
      const events = list.map((e) => normalizeNativeEvent(e, projectId, receivedMs));
      this.takeQuota(key, events.length);
      await this.publish(events);
      this.stats.count(projectId, 'accepted', events.length);
      return batch ? { ids: events.map((e) => e.eventId) } : { id: events[0]!.eventId };
    } catch (err) {
      this.countFailure(projectId, err);
      throw err;
    }
  }

  // ---------------------------------------------------------------- shared steps

  private takeQuota(key: ProjectKeyInfo, n: number): void {
    const denial = this.quotas.take(
      [
        { scope: 'key', id: String(key.keyId), limit: key.rateLimitPerMinute },
        { scope: 'project', id: String(key.projectId), limit: this.ctx.config.ingest.projectRatePerMinute },
      ],
      n,
    );
    if (!denial) return;
    this.stats.count(
      key.projectId,
      'rate_limited',
      n,
      denial.scope === 'key' ? 'key_quota' : 'project_quota',
    );
    throw new AppError(
      'rate_limited',
      `${denial.scope} quota exceeded, retry in ${denial.retryAfterSeconds} s`,
      {
        headers: {
          'retry-after': String(denial.retryAfterSeconds),
          'x-sentry-rate-limits': sentryRateLimitHeader(denial),
        },
      },
    );
  }

  private async publish(events: InternalEvent[]): Promise<void> {
    if (events.length === 0) return;
    if (this.queued + events.length > this.maxQueued)
      throw new AppError('unavailable', 'ingest is overloaded, retry later', {
        headers: { 'retry-after': '1' },
      });
    const messages: BusMessage[] = events.map((e) => ({
      key: String(e.projectId),
      value: Buffer.from(JSON.stringify(e)),
      headers: { 'event-id': e.eventId, source: e.source },
    }));
    this.queued += events.length;
    try {
      await this.batcher.submit(messages);
    } catch (err) {
      this.ctx.log.error({ err }, 'publishing events to the bus failed');
      throw new AppError('unavailable', 'events could not be stored, retry later', {
        headers: { 'retry-after': '5' },
      });
    } finally {
      this.queued -= events.length;
    }
  }

  private countFailure(projectId: number, err: unknown): void {
    if (!(err instanceof AppError)) return;
    if (err.code === 'bad_request') this.stats.count(projectId, 'invalid', 1, 'malformed');
    else if (err.code === 'payload_too_large') this.stats.count(projectId, 'invalid', 1, 'too_large');
    else if (err.code === 'unavailable') this.stats.count(projectId, 'dropped', 1, 'bus_unavailable');
  }
}

/**
 * An item-header string fit for a text column: PostgreSQL refuses NUL in text (that was a 500),
 * and a name longer than `max` is of no use to anyone.
 */
function headerText(v: unknown, max: number): string | undefined {
  if (typeof v !== 'string') return undefined;
  return v.replaceAll('\0', '').slice(0, max) || undefined;
}

function attachmentRow(projectId: number, eventId: string, item: EnvelopeItem): AttachmentRow {
  const filename = headerText(item.headers.filename, 255) ?? 'attachment';
  const contentType = headerText(item.headers.content_type, 255);
  const attachmentType = headerText(item.headers.attachment_type, 64);
  const id = createHash('sha256')
    .update(filename)
    .update('\0')
    .update(contentType ?? '')
    .update('\0')
    .update(item.payload)
    .digest('hex')
    .slice(0, 32);
  return { projectId, eventId, id, filename, contentType, attachmentType, data: item.payload };
}

function parseJsonObject(buf: Buffer, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(buf.toString('utf8'));
  } catch {
    throw new AppError('bad_request', `${what} is not valid JSON`);
  }
  if (!isObj(v)) throw new AppError('bad_request', `${what} is not a JSON object`);
  return v;
}

const services = new WeakMap<AppContext, IngestService>();

/** One ingest service per AppContext (routes, the stats API and the flusher share it). */
export function ingestServiceFor(ctx: AppContext, opts?: IngestOptions): IngestService {
  let s = services.get(ctx);
  if (!s) {
    s = new IngestService(ctx, opts);
    services.set(ctx, s);
  }
  return s;
}
