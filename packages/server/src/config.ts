import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { z } from 'zod';

/**
 * The one place that reads the environment. Everything else receives a `Config` through its
 * constructor, so tests pass their own. Values come from the process environment, then an
 * optional `.env` file in the working directory (the environment wins).
 */
export const allRoles = ['api', 'ingest', 'issues', 'alerts', 'uptime', 'insights'] as const;
export type RoleName = (typeof allRoles)[number];
/** Roles made only of workers (no HTTP routes): they can run in a worker thread. */
export const threadableRoles = ['issues', 'alerts', 'uptime', 'insights'] as const;

export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(`invalid configuration: ${setting}: ${message}`);
    this.name = 'ConfigError';
  }
}

const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
const bool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'].includes(v), 'must be true or false')
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));
const url = (protocols: string[]) =>
  z
    .string()
    .trim()
    .refine(
      (v) => {
        try {
          return protocols.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      },
      `must be a URL (${protocols.join(' or ')})`,
    );

const envSchema = z.object({
  NODE_ENV: z.string().optional(),
  BEACON_ENV: z.enum(['development', 'production', 'test']).optional(),
  PORT: int(0, 65535).default(8000),
  HOST: z.string().default('0.0.0.0'),
  BEACON_PUBLIC_URL: url(['http:', 'https:']).optional(),
  BEACON_DATA_DIR: z.string().default('./data'),
  BEACON_ROLES: z.string().optional(),
  BEACON_THREAD_ROLES: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  DB_HOST: z.string().optional(),
  DB_PORT: int(1, 65535).optional(),
  DB_USERNAME: z.string().optional(),
  DB_PASSWORD: z.string().optional(),
  DB_NAME: z.string().optional(),
  DB_POOL_MAX: int(1, 500).default(10),
  CONNECT_TIMEOUT_SECONDS: int(1, 600).default(10),
  SHUTDOWN_TIMEOUT_SECONDS: int(1, 3600).default(30),
  EMBEDDED_PG_PORT: int(0, 65535).default(0),
  JWT_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  JwtKey: z.string().min(32, 'must be at least 32 characters').optional(),
  ACCESS_TOKEN_TTL_SECONDS: int(30, 86_400).default(900),
  REFRESH_TOKEN_TTL_DAYS: int(1, 365).default(30),
  KAFKA_BROKERS: z.string().optional(),
  KAFKA_PARTITIONS: int(1, 1024).default(6),
  BUS_TOPIC_PREFIX: z.string().default('beacon.'),
  BUS_PARTITIONS: int(1, 256).default(8),
  BUS_RETENTION_HOURS: int(1, 24 * 365).default(72),
  BODY_LIMIT_BYTES: int(1024, 1024 ** 3).default(20 * 1024 * 1024),
  TRUST_PROXY: bool.default(false),
  INGEST_MAX_DECOMPRESSED_BYTES: int(1024, 1024 ** 3).default(50 * 1024 * 1024),
  INGEST_MAX_EVENT_BYTES: int(1024, 100 * 1024 ** 2).default(1024 * 1024),
  INGEST_MAX_ITEMS: int(1, 10_000).default(100),
  INGEST_MAX_ATTACHMENT_BYTES: int(0, 1024 ** 3).default(10 * 1024 * 1024),
  INGEST_PROJECT_RATE_PER_MINUTE: int(0, 1e9).default(0),
  SMTP_URL: url(['smtp:', 'smtps:']).optional(),
  SMTP_FROM: z.string().default('Beacon <beacon@localhost>'),
  WORKER_CONCURRENCY: int(1, 10_000).default(200),
  UPTIME_PING_RETENTION_DAYS: int(1, 3650).default(7),
  UPTIME_WINDOW_RETENTION_DAYS: int(1, 36_500).default(400),
  ALERTS_MAX_ATTEMPTS: int(1, 100).default(8),
  ALERTS_RETRY_BASE_MS: int(10, 3_600_000).default(2000),
  ALERTS_RETRY_MAX_MS: int(10, 86_400_000).default(900_000),
  ALERTS_DELIVERY_CONCURRENCY: int(1, 1000).default(8),
  ALERTS_WEBHOOK_TIMEOUT_MS: int(100, 300_000).default(10_000),
  ALERTS_WEBHOOK_MAX_RESPONSE_BYTES: int(0, 100 * 1024 ** 2).default(64 * 1024),
  ALERTS_WEBHOOK_DENY_CIDRS: z.string().optional(),
  ALERTS_WEBHOOK_ALLOW_LOOPBACK: bool.default(true),
  ALERTS_WEBHOOK_ALLOW_PRIVATE: bool.default(true),
  OLLAMA_URL: url(['http:', 'https:']).optional(),
  OLLAMA_MODEL: z.string().default('llama3.2:3b'),
  INSIGHTS_URL: url(['http:', 'https:']).optional(),
  INSIGHTS_MODEL: z.string().optional(),
  INSIGHTS_API_KEY: z.string().optional(),
  INSIGHTS_TIMEOUT_SECONDS: int(1, 3600).default(120),
  INSIGHTS_RETRY_BASE_SECONDS: int(0, 3600).default(5),
  INSIGHTS_MAX_ATTEMPTS: int(1, 100).default(5),
});

export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  publicUrl: string;
  /** False when publicUrl was derived from PORT rather than given as BEACON_PUBLIC_URL. */
  publicUrlExplicit: boolean;
  dataDir: string;
  roles: RoleName[];
  /**
   * Worker roles that run in a worker thread of their own when this process also runs other
   * roles (default: issues, so grouping never stalls ingest's event loop). Empty: one thread.
   */
  threadRoles: RoleName[];
  logLevel: string;
  /** setting: which variable named the server (DATABASE_URL or DB_HOST), for boot errors. */
  database: { kind: 'embedded'; port: number } | { kind: 'external'; url: string; setting?: string };
  dbPoolMax: number;
  /** How long boot waits for PostgreSQL and Kafka to answer before it gives up. */
  connectTimeoutMs: number;
  /** How long a signalled shutdown may drain before the process exits anyway. */
  shutdownTimeoutMs: number;
  jwtKey?: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlDays: number;
  bus: {
    kind: 'embedded' | 'kafka';
    brokers: string[];
    topicPrefix: string;
    kafkaPartitions: number;
    embeddedPartitions: number;
    retentionHours: number;
  };
  /** trustProxy: take the client address from X-Forwarded-For (only behind a proxy that sets it). */
  http: { bodyLimit: number; trustProxy: boolean };
  ingest: {
    maxDecompressedBytes: number;
    maxEventBytes: number;
    maxItems: number;
    maxAttachmentBytes: number;
    projectRatePerMinute: number;
  };
  smtp?: { url: string; from: string };
  uptime: { workerConcurrency: number; pingRetentionDays: number; windowRetentionDays: number };
  alerts: {
    maxAttempts: number;
    retryBaseMs: number;
    retryMaxMs: number;
    concurrency: number;
    timeoutMs: number;
    maxResponseBytes: number;
    /** Webhook/Slack targets: denied CIDRs (default: link-local and cloud metadata), loopback/private allowed. */
    targetPolicy: { deny: string[]; allowLoopback: boolean; allowPrivate: boolean };
  };
  insights: {
    ollama?: { url: string; model: string };
    openai?: { url: string; model: string; apiKey?: string };
    timeoutMs: number;
    retryBaseSeconds: number;
    maxAttempts: number;
  };
}

/** Read `.env` (if any) under the process environment; the environment wins. */
export function readEnvironment(
  cwd = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const file = path.join(cwd, '.env');
  const fromFile = existsSync(file) ? parseDotenv(readFileSync(file)) : {};
  const merged: Record<string, string> = { ...fromFile };
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') merged[k] = v;
  return merged;
}

/** A comma list of role names, each one of `allowed`; `refuse(name)` words the error. */
function roleList(
  value: string,
  allowed: readonly RoleName[],
  setting: string,
  refuse: (name: string) => string,
): RoleName[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of names)
    if (!(allowed as readonly string[]).includes(n)) throw new ConfigError(setting, refuse(n));
  return names as RoleName[];
}

/** BEACON_THREAD_ROLES: unset means `issues`; `none` (or empty) keeps every role on the main thread. */
export function parseThreadRoles(value: string | undefined): RoleName[] {
  if (value === undefined) return ['issues'];
  if (value.trim() === '' || value.trim() === 'none') return [];
  return roleList(
    value,
    threadableRoles,
    'BEACON_THREAD_ROLES',
    (n) => `"${n}" cannot run in a thread of its own (possible: ${threadableRoles.join(', ')}, or none)`,
  );
}

export function parseRoles(value: string | undefined): RoleName[] {
  if (!value || value.trim() === '' || value.trim() === 'all') return [...allRoles];
  return roleList(
    value,
    allRoles,
    'BEACON_ROLES',
    (n) => `unknown role "${n}" (known: ${allRoles.join(', ')})`,
  );
}

/** Webhook deny list: comma-separated CIDRs; unset keeps the default (link-local and cloud metadata). */
const defaultAlertDenyCidrs = [
  '169.254.0.0/16',
  'fe80::/10',
  'fd00:ec2::254/128',
  '100.100.100.200/32',
  '0.0.0.0/8',
  '::/128',
];
function parseCidrs(value: string | undefined): string[] {
  if (value === undefined) return defaultAlertDenyCidrs;
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const c of list) {
    const [ip, bits, extra] = c.split('/');
    const v = isIP(ip ?? '');
    const max = v === 6 ? 128 : 32;
    if (
      v === 0 ||
      extra !== undefined ||
      (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= max))
    )
      throw new ConfigError('ALERTS_WEBHOOK_DENY_CIDRS', `"${c}" is not an IP address or CIDR`);
  }
  return list;
}

/** Parse and validate; throws ConfigError naming the first bad setting. */
export function loadConfig(raw: Record<string, string | undefined> = readEnvironment()): Config {
  const res = envSchema.safeParse(raw);
  if (!res.success) {
    const issue = res.error.issues[0]!;
    const setting = String(issue.path[0] ?? 'environment');
    throw new ConfigError(setting, `${issue.message} (got ${JSON.stringify(raw[setting] ?? '')})`);
  }
  const e = res.data;
  const env =
    e.BEACON_ENV ??
    (e.NODE_ENV === 'production' ? 'production' : e.NODE_ENV === 'test' ? 'test' : 'development');

  let database: Config['database'] = { kind: 'embedded', port: e.EMBEDDED_PG_PORT };
  if (e.DATABASE_URL) database = { kind: 'external', url: e.DATABASE_URL, setting: 'DATABASE_URL' };
  else if (e.DB_HOST) {
    const u = new URL('postgres://localhost');
    u.hostname = e.DB_HOST;
    u.port = String(e.DB_PORT ?? 5432);
    u.username = encodeURIComponent(e.DB_USERNAME ?? 'postgres');
    if (e.DB_PASSWORD) u.password = encodeURIComponent(e.DB_PASSWORD);
    u.pathname = `/${encodeURIComponent(e.DB_NAME ?? 'beacon')}`;
    database = { kind: 'external', url: u.toString(), setting: 'DB_HOST' };
  }

  const brokers = (e.KAFKA_BROKERS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const b of brokers)
    if (!/^[^:\s]+:\d+$/.test(b) || !(Number(b.split(':')[1]) >= 1 && Number(b.split(':')[1]) <= 65535))
      throw new ConfigError('KAFKA_BROKERS', `"${b}" is not host:port (port 1-65535)`);

  const jwtKey = e.JWT_KEY ?? e.JwtKey;
  if (env === 'production' && !jwtKey)
    throw new ConfigError('JWT_KEY', 'is required in production (at least 32 random characters)');

  return {
    env,
    port: e.PORT,
    host: e.HOST,
    publicUrl: (e.BEACON_PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    publicUrlExplicit: e.BEACON_PUBLIC_URL !== undefined,
    dataDir: path.resolve(e.BEACON_DATA_DIR),
    roles: parseRoles(e.BEACON_ROLES),
    threadRoles: parseThreadRoles(e.BEACON_THREAD_ROLES),
    logLevel: e.LOG_LEVEL,
    database,
    dbPoolMax: e.DB_POOL_MAX,
    connectTimeoutMs: e.CONNECT_TIMEOUT_SECONDS * 1000,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_SECONDS * 1000,
    jwtKey,
    accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlDays: e.REFRESH_TOKEN_TTL_DAYS,
    bus: {
      kind: brokers.length > 0 ? 'kafka' : 'embedded',
      brokers,
      topicPrefix: e.BUS_TOPIC_PREFIX,
      kafkaPartitions: e.KAFKA_PARTITIONS,
      embeddedPartitions: e.BUS_PARTITIONS,
      retentionHours: e.BUS_RETENTION_HOURS,
    },
    http: { bodyLimit: e.BODY_LIMIT_BYTES, trustProxy: e.TRUST_PROXY },
    ingest: {
      maxDecompressedBytes: e.INGEST_MAX_DECOMPRESSED_BYTES,
      maxEventBytes: e.INGEST_MAX_EVENT_BYTES,
      maxItems: e.INGEST_MAX_ITEMS,
      maxAttachmentBytes: e.INGEST_MAX_ATTACHMENT_BYTES,
      projectRatePerMinute: e.INGEST_PROJECT_RATE_PER_MINUTE,
    },
    smtp: e.SMTP_URL ? { url: e.SMTP_URL, from: e.SMTP_FROM } : undefined,
    uptime: {
      workerConcurrency: e.WORKER_CONCURRENCY,
      pingRetentionDays: e.UPTIME_PING_RETENTION_DAYS,
      windowRetentionDays: e.UPTIME_WINDOW_RETENTION_DAYS,
    },
    alerts: {
      maxAttempts: e.ALERTS_MAX_ATTEMPTS,
      retryBaseMs: e.ALERTS_RETRY_BASE_MS,
      retryMaxMs: e.ALERTS_RETRY_MAX_MS,
      concurrency: e.ALERTS_DELIVERY_CONCURRENCY,
      timeoutMs: e.ALERTS_WEBHOOK_TIMEOUT_MS,
      maxResponseBytes: e.ALERTS_WEBHOOK_MAX_RESPONSE_BYTES,
      targetPolicy: {
        deny: parseCidrs(e.ALERTS_WEBHOOK_DENY_CIDRS),
        allowLoopback: e.ALERTS_WEBHOOK_ALLOW_LOOPBACK,
        allowPrivate: e.ALERTS_WEBHOOK_ALLOW_PRIVATE,
      },
    },
    insights: {
      ollama: e.OLLAMA_URL ? { url: e.OLLAMA_URL, model: e.OLLAMA_MODEL } : undefined,
      openai: e.INSIGHTS_URL
        ? { url: e.INSIGHTS_URL, model: e.INSIGHTS_MODEL ?? 'gpt-4o-mini', apiKey: e.INSIGHTS_API_KEY }
        : undefined,
      timeoutMs: e.INSIGHTS_TIMEOUT_SECONDS * 1000,
      retryBaseSeconds: e.INSIGHTS_RETRY_BASE_SECONDS,
      maxAttempts: e.INSIGHTS_MAX_ATTEMPTS,
    },
  };
}
