/** Shapes of the API as documented by `/api/v1/openapi.json`; optional where a domain may omit them. */
export type Role = 'owner' | 'admin' | 'member' | 'viewer';
export interface Org {
  id: number;
  name: string;
  slug: string;
  role: Role;
}
export interface Project {
  id: number;
  orgId: number;
  slug: string;
  name: string;
  platform: string | null;
  dsn: string | null;
  createdAt?: string;
  retentionDays?: number;
  role?: Role;
}
export interface ProjectKey {
  id: number;
  projectId: number;
  label: string;
  publicKey: string;
  enabled: boolean;
  rateLimitPerMinute: number | null;
  createdAt: string;
  rotatedAt: string | null;
  dsn: string;
  secretKey?: string;
}
export type Level = 'debug' | 'info' | 'warning' | 'error' | 'fatal';
export type IssueStatus = 'unresolved' | 'resolved' | 'ignored';
export interface Issue {
  id: number;
  projectId?: number;
  title: string;
  culprit: string | null;
  level: Level | string;
  status: IssueStatus;
  count: number;
  userCount?: number;
  firstSeen: string;
  lastSeen: string;
  type?: string;
  value?: string;
  assignee?: { id: number; email: string; name?: string } | number | string | null;
  assigneeId?: number | null;
  sparkline?: number[] | Array<{ t?: string; bucket?: string; count: number }>;
  shortId?: string;
}
export interface Frame {
  function?: string;
  module?: string;
  filename?: string;
  abs_path?: string;
  lineno?: number;
  colno?: number;
  in_app?: boolean;
  context_line?: string;
  pre_context?: string[];
  post_context?: string[];
}
export interface ExceptionValue {
  type?: string;
  value?: string;
  module?: string;
  mechanism?: { type?: string; handled?: boolean };
  stacktrace?: { frames: Frame[] };
}
export interface Breadcrumb {
  timestamp?: number | string;
  type?: string;
  category?: string;
  message?: string;
  level?: string;
  data?: Record<string, unknown>;
}
export interface BeaconEvent {
  eventId: string;
  id?: string | number;
  projectId?: number;
  issueId?: number;
  timestamp: string;
  receivedAt?: string;
  platform?: string;
  level?: string;
  message?: string;
  release?: string;
  environment?: string;
  serverName?: string;
  transaction?: string;
  exceptions?: ExceptionValue[];
  stacktrace?: { frames: Frame[] };
  tags?: Record<string, string> | Array<{ key: string; value: string }>;
  user?: Record<string, unknown>;
  request?: {
    url?: string;
    method?: string;
    headers?: Record<string, string>;
    query_string?: unknown;
    data?: unknown;
  };
  contexts?: Record<string, unknown>;
  breadcrumbs?: Breadcrumb[];
  extra?: Record<string, unknown>;
  sdk?: { name?: string; version?: string };
  previousEventId?: string | null;
  nextEventId?: string | null;
}
