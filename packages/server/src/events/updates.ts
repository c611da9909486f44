import { z } from 'zod';
import { levels } from './schema.js';

/**
 * `beacon.issue-updates` (key = project id): published by the issues worker after it stored a
 * batch. One message per issue per processed batch — `newEvents` says how many events of this
 * batch landed in the issue, `event` summarises the latest one. Consumers (alerts, insights,
 * live) must be idempotent: `updateId` is unique per (issue, batch) and repeats on redelivery.
 */
export const issueUpdateSchema = z.object({
  updateId: z.string(),
  type: z.enum(['created', 'regressed', 'occurrence']),
  projectId: z.number().int(),
  issue: z.object({
    id: z.number().int(),
    title: z.string(),
    culprit: z.string().nullable(),
    level: z.enum(levels),
    status: z.enum(['unresolved', 'resolved', 'ignored']),
    count: z.number().int(),
    userCount: z.number().int(),
    firstSeen: z.string(),
    lastSeen: z.string(),
  }),
  /** Events of this batch in this issue, by level, and the distinct user ids among them (capped). */
  newEvents: z.number().int(),
  levels: z.record(z.string(), z.number().int()).default({}),
  userIds: z.array(z.string()).default([]),
  event: z.object({
    eventId: z.string(),
    level: z.enum(levels),
    timestamp: z.string(),
    environment: z.string().optional(),
    release: z.string().optional(),
    tags: z.record(z.string(), z.string()).default({}),
    message: z.string().optional(),
  }),
});
export type IssueUpdate = z.infer<typeof issueUpdateSchema>;

/**
 * `beacon.monitor-events` (key = endpoint id): published by uptime when an incident opens or
 * resolves. `eventId` is unique per transition so consumers can deduplicate.
 */
export const monitorEventSchema = z.object({
  eventId: z.string(),
  type: z.enum(['incident_start', 'incident_resolved']),
  at: z.string(),
  projectId: z.number().int().nullable(),
  service: z.object({ id: z.number().int(), name: z.string() }),
  endpoint: z.object({ id: z.number().int(), name: z.string(), url: z.string() }),
  incident: z.object({
    id: z.number().int(),
    startedAt: z.string(),
    resolvedAt: z.string().nullable(),
    cause: z.string(),
  }),
});
export type MonitorEvent = z.infer<typeof monitorEventSchema>;
