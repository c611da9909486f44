import { z } from 'zod';
import {
  breadcrumbSchema,
  frameSchema,
  type InternalEvent,
  internalEventSchema,
  levels,
} from '../events/schema.js';
import {
  clampTimestamp,
  finalize,
  newEventId,
  normalizeEventId,
  normalizeRequest,
  normalizeTags,
} from './normalize.js';

/**
 * Beacon's native event shape for `POST /api/v1/events` (what @beacon/sdk sends). Close to Sentry's
 * event payload but flatter and camelCase at the top level; frames use Sentry's field names so a
 * stack parser can serve both. Validated strictly enough to give clear 400s, leniently enough
 * that unknown extra fields are ignored rather than refused.
 */
const nativeExceptionSchema = z.object({
  type: z.string().max(1000).optional(),
  value: z.string().max(100_000).optional(),
  module: z.string().max(1000).optional(),
  mechanism: z
    .object({ type: z.string().optional(), handled: z.boolean().optional() })
    .passthrough()
    .optional(),
  stacktrace: z.object({ frames: z.array(frameSchema).max(1000) }).optional(),
});

export const nativeEventSchema = z
  .object({
    eventId: z
      .string()
      .regex(
        /^[0-9a-fA-F]{32}$|^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
        {
          message: 'must be 32 hex characters or a UUID',
        },
      )
      .optional(),
    timestamp: z.union([z.string(), z.number()]).optional(),
    level: z.enum(levels).optional(),
    message: z.string().max(100_000).optional(),
    messageTemplate: z.string().max(100_000).optional(),
    /** One exception, or a chain with the outermost last (Sentry's order). */
    exception: z.union([nativeExceptionSchema, z.array(nativeExceptionSchema).max(50)]).optional(),
    stacktrace: z.object({ frames: z.array(frameSchema).max(1000) }).optional(),
    platform: z.string().max(64).optional(),
    logger: z.string().max(256).optional(),
    transaction: z.string().max(1000).optional(),
    serverName: z.string().max(256).optional(),
    release: z.string().max(256).optional(),
    environment: z.string().max(256).optional(),
    dist: z.string().max(64).optional(),
    tags: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
    user: z
      .object({
        id: z.union([z.string(), z.number()]).optional(),
        email: z.string().optional(),
        username: z.string().optional(),
        ip_address: z.string().optional(),
      })
      .passthrough()
      .optional(),
    request: internalEventSchema.shape.request,
    contexts: z.record(z.string(), z.unknown()).optional(),
    breadcrumbs: z.array(breadcrumbSchema).max(200).optional(),
    extra: z.record(z.string(), z.unknown()).optional(),
    fingerprint: z.array(z.string()).max(50).optional(),
    sdk: z.object({ name: z.string().optional(), version: z.string().optional() }).optional(),
  })
  .refine((e) => e.message !== undefined || e.exception !== undefined, {
    message: 'an event needs a message or an exception',
  });
export type NativeEvent = z.infer<typeof nativeEventSchema>;

/** The batch form: an array of events (at most `config.ingest.maxItems`). */
export const nativeBatchSchema = z
  .array(nativeEventSchema)
  .min(1, { message: 'a batch needs at least one event' });

/** One event or a batch; validated with the matching schema so messages point at the field. */
export const nativeBodySchema = {
  safeParse: (v: unknown) =>
    Array.isArray(v) ? nativeBatchSchema.safeParse(v) : nativeEventSchema.safeParse(v),
  parse: (v: unknown) => (Array.isArray(v) ? nativeBatchSchema.parse(v) : nativeEventSchema.parse(v)),
};

export function normalizeNativeEvent(e: NativeEvent, projectId: number, receivedMs: number): InternalEvent {
  const exceptions =
    e.exception === undefined ? [] : Array.isArray(e.exception) ? e.exception : [e.exception];
  const candidate: Record<string, unknown> = {
    eventId: normalizeEventId(e.eventId) ?? newEventId(),
    projectId,
    timestamp: clampTimestamp(e.timestamp, receivedMs),
    receivedAt: new Date(receivedMs).toISOString(),
    platform: e.platform ?? 'javascript',
    level: e.level ?? (exceptions.length > 0 ? 'error' : 'info'),
    message: e.message,
    messageTemplate: e.messageTemplate,
    logger: e.logger,
    transaction: e.transaction,
    serverName: e.serverName,
    release: e.release,
    environment: e.environment,
    dist: e.dist,
    exceptions,
    stacktrace: exceptions.length === 0 ? e.stacktrace : undefined,
    tags: normalizeTags(e.tags),
    user: e.user ? { ...e.user, id: e.user.id === undefined ? undefined : String(e.user.id) } : undefined,
    // The same filtering as Sentry events: secret headers [Filtered], cookies dropped.
    request: normalizeRequest(e.request),
    contexts: e.contexts ?? {},
    breadcrumbs: e.breadcrumbs ?? [],
    extra: e.extra ?? {},
    fingerprint: e.fingerprint,
    sdk: e.sdk,
    attachments: [],
    source: 'native',
  };
  for (const k of Object.keys(candidate)) if (candidate[k] === undefined) delete candidate[k];
  return finalize(candidate);
}
