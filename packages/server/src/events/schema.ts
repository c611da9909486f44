import { z } from 'zod';

/**
 * The internal event: what ingest puts on `beacon.events` after normalising a Sentry envelope,
 * a Sentry store payload or a native Beacon event. The issues worker consumes only this shape.
 * Field names follow Sentry's event payload where one exists, so Sentry users recognise them.
 */
export const levels = ['debug', 'info', 'warning', 'error', 'fatal'] as const;
export type Level = (typeof levels)[number];

export const frameSchema = z.object({
  function: z.string().optional(),
  module: z.string().optional(),
  filename: z.string().optional(),
  abs_path: z.string().optional(),
  lineno: z.number().int().optional(),
  colno: z.number().int().optional(),
  in_app: z.boolean().optional(),
  context_line: z.string().optional(),
  pre_context: z.array(z.string()).optional(),
  post_context: z.array(z.string()).optional(),
  platform: z.string().optional(),
});
export type Frame = z.infer<typeof frameSchema>;

export const exceptionSchema = z.object({
  type: z.string().optional(),
  value: z.string().optional(),
  module: z.string().optional(),
  mechanism: z
    .object({ type: z.string().optional(), handled: z.boolean().optional() })
    .passthrough()
    .optional(),
  /** Frames oldest first, innermost (where it was thrown) last — Sentry's order. */
  stacktrace: z.object({ frames: z.array(frameSchema) }).optional(),
});
export type ExceptionValue = z.infer<typeof exceptionSchema>;

export const breadcrumbSchema = z.object({
  timestamp: z.union([z.number(), z.string()]).optional(),
  type: z.string().optional(),
  category: z.string().optional(),
  message: z.string().optional(),
  level: z.string().optional(),
  data: z.record(z.string(), z.unknown()).optional(),
});

export const internalEventSchema = z.object({
  /** 32 lowercase hex chars, as in Sentry. Unique per project; the idempotency key downstream. */
  eventId: z.string().regex(/^[0-9a-f]{32}$/),
  projectId: z.number().int().positive(),
  /** ISO 8601 time the event happened (client clock, clamped by ingest). */
  timestamp: z.string(),
  /** ISO 8601 time ingest accepted it. */
  receivedAt: z.string(),
  platform: z.string().default('other'),
  level: z.enum(levels).default('error'),
  /** Plain message (captureMessage, logentry.formatted/message). */
  message: z.string().optional(),
  /** Unformatted message template when the SDK sent one (logentry.message with params). */
  messageTemplate: z.string().optional(),
  logger: z.string().optional(),
  transaction: z.string().optional(),
  serverName: z.string().optional(),
  release: z.string().optional(),
  environment: z.string().optional(),
  dist: z.string().optional(),
  /** Chained exceptions, outermost last (Sentry's `exception.values` order). */
  exceptions: z.array(exceptionSchema).default([]),
  /** A thread's stacktrace when there is no exception (e.g. attachStacktrace on messages). */
  stacktrace: z.object({ frames: z.array(frameSchema) }).optional(),
  tags: z.record(z.string(), z.string()).default({}),
  user: z
    .object({
      id: z.string().optional(),
      email: z.string().optional(),
      username: z.string().optional(),
      ip_address: z.string().optional(),
    })
    .passthrough()
    .optional(),
  request: z
    .object({
      url: z.string().optional(),
      method: z.string().optional(),
      headers: z.record(z.string(), z.string()).optional(),
      query_string: z.unknown().optional(),
      data: z.unknown().optional(),
    })
    .passthrough()
    .optional(),
  contexts: z.record(z.string(), z.unknown()).default({}),
  breadcrumbs: z.array(breadcrumbSchema).default([]),
  extra: z.record(z.string(), z.unknown()).default({}),
  /** Sentry `fingerprint` semantics: `{{ default }}` stands for the default grouping. */
  fingerprint: z.array(z.string()).optional(),
  sdk: z.object({ name: z.string().optional(), version: z.string().optional() }).optional(),
  /** Names and sizes of attachments stored alongside the event (content kept by ingest). */
  attachments: z
    .array(
      z.object({
        id: z.string(),
        filename: z.string(),
        contentType: z.string().optional(),
        size: z.number(),
      }),
    )
    .default([]),
  /** Where the event came from: `envelope`, `store` or `native`. */
  source: z.enum(['envelope', 'store', 'native']),
});
export type InternalEvent = z.infer<typeof internalEventSchema>;
