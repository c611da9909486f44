import { z } from 'zod';
import { levels } from '../events/schema.js';

/**
 * Rule bodies: `{ name, trigger: { type, ...settings }, filters?, actions, cooldownMinutes?, enabled? }`.
 * Each trigger type is one member of a discriminated union, so a bad body gets a 400 naming the field.
 */
/** Path of the first string (key or value) holding NUL: PostgreSQL text and jsonb cannot store it. */
export function nulPath(v: unknown, path: Array<string | number> = []): Array<string | number> | undefined {
  if (typeof v === 'string') return v.includes('\u0000') ? path : undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = nulPath(v[i], [...path, i]);
      if (p) return p;
    }
  } else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) {
      if (k.includes('\u0000')) return [...path, k];
      const p = nulPath(x, [...path, k]);
      if (p) return p;
    }
  return undefined;
}

const refuseNul = (v: unknown, ctx: z.RefinementCtx) => {
  const path = nulPath(v);
  if (path) ctx.addIssue({ code: 'custom', path, message: 'must not contain NUL characters' });
};

export const levelSchema = z.enum(levels);
const per = z.enum(['issue', 'project']);

export const triggerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('new_issue') }).strict(),
  z.object({ type: z.literal('regression') }).strict(),
  z
    .object({
      type: z.literal('level'),
      /** Fires for an event at or above this level. */
      level: levelSchema,
    })
    .strict(),
  z
    .object({
      type: z.literal('count_threshold'),
      /** Fires when an issue's total count crosses this value. */
      threshold: z.number().int().min(1),
    })
    .strict(),
  z
    .object({
      type: z.literal('frequency'),
      /** Fires when more than `threshold` events (or distinct users) happen within `windowMinutes`. */
      threshold: z.number().int().min(0),
      windowMinutes: z.number().int().min(1).max(1440),
      metric: z.enum(['events', 'users']).default('events'),
      per: per.default('issue'),
    })
    .strict(),
  z
    .object({
      type: z.literal('anomaly'),
      per: per.default('project'),
      /** Width of a counting window, in minutes. */
      windowMinutes: z.number().int().min(1).max(60).default(5),
      /** How many past windows form the baseline. */
      baselineWindows: z.number().int().min(3).max(2016).default(24),
      /** Windows of history needed before the rule may fire. */
      minHistoryWindows: z.number().int().min(1).max(2016).default(6),
      /** Robust z-score (count − median) / scale needed. */
      zThreshold: z.number().min(1).max(100).default(6),
      /** Floor: a window with fewer matching events is never anomalous. */
      minCount: z.number().int().min(1).default(10),
      /** The count must also be at least this multiple of the baseline median. */
      minRatio: z.number().min(1).max(1000).default(2),
      /** Anomalous windows in a row before firing. */
      consecutiveWindows: z.number().int().min(1).max(100).default(1),
    })
    .strict()
    .refine((t) => t.baselineWindows * t.windowMinutes <= 7 * 24 * 60, {
      message: 'baselineWindows × windowMinutes must cover at most 7 days',
      path: ['baselineWindows'],
    }),
  z
    .object({
      type: z.literal('uptime'),
      /** Limit to one uptime service; all services of the project when omitted. */
      serviceId: z.number().int().positive().optional(),
      events: z
        .array(z.enum(['incident_start', 'incident_resolved']))
        .min(1)
        .default(['incident_start', 'incident_resolved']),
    })
    .strict(),
]);
export type Trigger = z.infer<typeof triggerSchema>;
export type TriggerType = Trigger['type'];

const oneOrMany = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
  .transform((v) => (Array.isArray(v) ? v : [v]));

export const filtersSchema = z
  .object({
    /** The event's environment is one of these. */
    environment: oneOrMany.optional(),
    /** The event's release is one of these. */
    release: oneOrMany.optional(),
    /** Count only events at or above this level. */
    level: levelSchema.optional(),
    /** Every listed tag has this value on the event. */
    tags: z.record(z.string().min(1), z.string()).optional(),
    /** The issue's status is one of these. */
    issueStatus: z
      .array(z.enum(['unresolved', 'resolved', 'ignored']))
      .min(1)
      .optional(),
  })
  .strict();
export type Filters = z.infer<typeof filtersSchema>;

const httpUrl = z
  .string()
  .max(2048)
  .refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'must be an http or https URL');

const forbiddenHeaders = new Set([
  'host',
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'proxy-authorization',
  'x-beacon-signature',
  'x-beacon-delivery',
  'x-beacon-event',
]);
const headerName = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/, 'must be a valid header name')
  .refine((h) => !forbiddenHeaders.has(h.toLowerCase()), 'is set by Beacon and cannot be overridden');

export const actionSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('webhook'),
      url: httpUrl,
      /** HMAC-SHA256 key for X-Beacon-Signature; on update, omit to keep the stored one, "" to remove it. */
      secret: z.string().max(500).optional(),
      headers: z
        .record(
          headerName,
          z
            .string()
            .max(4000)
            .regex(/^[^\r\n]*$/, 'must not contain line breaks'),
        )
        .optional(),
    })
    .strict(),
  z.object({ type: z.literal('slack'), url: httpUrl }).strict(),
  z.object({ type: z.literal('email'), to: z.array(z.email()).min(1).max(50) }).strict(),
]);
export type Action = z.infer<typeof actionSchema>;

export const ruleBodySchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    trigger: triggerSchema,
    filters: filtersSchema.default({}),
    actions: z.array(actionSchema).min(1).max(20),
    cooldownMinutes: z.number().int().min(0).max(10_080).default(60),
    /** 0: notify at once. Otherwise the rule's notifications are batched into one message per this many minutes. */
    digestMinutes: z.number().int().min(0).max(1440).default(0),
    enabled: z.boolean().default(true),
  })
  .strict()
  .superRefine(refuseNul);
export type RuleInput = z.infer<typeof ruleBodySchema>;

export interface Rule {
  id: number;
  projectId: number;
  name: string;
  trigger: Trigger;
  filters: Filters;
  actions: Action[];
  cooldownMinutes: number;
  digestMinutes: number;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export const silenceBodySchema = z
  .object({
    ruleId: z.number().int().positive().optional(),
    issueId: z.number().int().positive().optional(),
    until: z.iso.datetime({ offset: true }),
    comment: z.string().max(1000).default(''),
  })
  .strict()
  .superRefine(refuseNul);

export const alertStates = ['firing', 'acknowledged', 'resolved'] as const;
export type AlertState = (typeof alertStates)[number];
export const deliveryStates = ['pending', 'delivering', 'delivered', 'dead'] as const;
export type DeliveryState = (typeof deliveryStates)[number];

// ---- responses (for the OpenAPI document and for clients sharing these types) ----

const iso = z.string();
const json = z.record(z.string(), z.unknown());
export const ruleOut = z.object({
  id: z.number(),
  projectId: z.number(),
  name: z.string(),
  trigger: json,
  filters: json,
  /** Webhook secrets and custom header values read "[redacted]". */
  actions: z.array(json),
  cooldownMinutes: z.number(),
  digestMinutes: z.number(),
  enabled: z.boolean(),
  createdAt: iso,
  updatedAt: iso,
});
export const alertOut = z.object({
  id: z.number(),
  projectId: z.number(),
  ruleId: z.number().nullable(),
  ruleName: z.string(),
  subject: z.string(),
  issueId: z.number().nullable(),
  serviceId: z.number().nullable(),
  endpointId: z.number().nullable(),
  triggerType: z.string(),
  reason: z.string(),
  state: z.enum(alertStates),
  count: z.number(),
  details: json,
  firstFiredAt: iso,
  lastFiredAt: iso,
  lastNotifiedAt: iso.nullable(),
  acknowledgedAt: iso.nullable(),
  acknowledgedBy: z.number().nullable(),
  resolvedAt: iso.nullable(),
  resolvedBy: z.number().nullable(),
});
export const silenceOut = z.object({
  id: z.number(),
  projectId: z.number(),
  ruleId: z.number().nullable(),
  issueId: z.number().nullable(),
  until: iso,
  comment: z.string(),
  createdBy: z.number().nullable(),
  createdAt: iso,
});
export const deliveryOut = z.object({
  id: z.number(),
  projectId: z.number().nullable(),
  alertId: z.number().nullable(),
  ruleId: z.number().nullable(),
  kind: z.string(),
  channel: z.string(),
  target: json,
  title: z.string(),
  state: z.enum(deliveryStates),
  attempts: z.number(),
  nextAttemptAt: iso.nullable(),
  lastStatus: z.number().nullable(),
  lastError: z.string().nullable(),
  createdAt: iso,
  deliveredAt: iso.nullable(),
  deadAt: iso.nullable(),
});
export const deliveryDetailOut = deliveryOut.extend({
  attemptLog: z.array(
    z.object({
      attempt: z.number(),
      at: iso,
      durationMs: z.number(),
      status: z.number().nullable(),
      error: z.string().nullable(),
    }),
  ),
});
