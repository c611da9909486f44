/** Severity of an event or breadcrumb (Sentry's levels). */
export type Level = 'fatal' | 'error' | 'warning' | 'log' | 'info' | 'debug';

/** One stack frame, Sentry's shape. */
export interface StackFrame {
  function?: string;
  module?: string;
  filename?: string;
  abs_path?: string;
  lineno?: number;
  colno?: number;
  in_app?: boolean;
}

export interface Mechanism {
  type: string;
  handled?: boolean;
  source?: string;
  exception_id?: number;
  parent_id?: number;
  data?: Record<string, unknown>;
}

export interface ExceptionValue {
  type?: string;
  value?: string;
  mechanism?: Mechanism;
  /** Frames oldest first, the frame that threw last. */
  stacktrace?: { frames: StackFrame[] };
}

export interface Breadcrumb {
  /** Unix time in seconds. */
  timestamp?: number;
  type?: string;
  category?: string;
  message?: string;
  level?: Level;
  data?: Record<string, unknown>;
}

export interface User {
  id?: string | number;
  email?: string;
  username?: string;
  ip_address?: string;
  [key: string]: unknown;
}

export interface RequestData {
  url?: string;
  method?: string;
  headers?: Record<string, string>;
  query_string?: string;
  data?: unknown;
}

/** The event payload sent to Beacon (and Sentry): Sentry's event schema. */
export interface BeaconEvent {
  event_id: string;
  /** Unix time in seconds. */
  timestamp: number;
  platform: string;
  level: Level;
  logger?: string;
  server_name?: string;
  release?: string;
  environment?: string;
  dist?: string;
  message?: string;
  exception?: { values: ExceptionValue[] };
  tags?: Record<string, string>;
  user?: User;
  contexts?: Record<string, Record<string, unknown>>;
  extra?: Record<string, unknown>;
  breadcrumbs?: Breadcrumb[];
  fingerprint?: string[];
  request?: RequestData;
  transaction?: string;
  sdk?: { name: string; version: string };
}

/** Extra information about how an event was produced, passed to `beforeSend`. */
export interface EventHint {
  originalException?: unknown;
  mechanism?: Mechanism;
}

/** Per-capture context: merged over the current scope for this one event. */
export interface CaptureContext {
  tags?: Record<string, string>;
  extra?: Record<string, unknown>;
  user?: User;
  contexts?: Record<string, Record<string, unknown>>;
  level?: Level;
  fingerprint?: string[];
  request?: RequestData;
  transaction?: string;
}
