/**
 * The one error type of Beacon. Domain code throws AppError with a fixed code; each transport
 * translates the code once (HTTP status in platform/http, retry-or-dead-letter on the bus).
 */
export type ErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'rate_limited'
  | 'unavailable'
  | 'internal';

export const httpStatusOf: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
};

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra response headers (e.g. Retry-After) or details safe to show to the client. */
    readonly extra: { headers?: Record<string, string>; details?: unknown } = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const badRequest = (msg: string, details?: unknown) => new AppError('bad_request', msg, { details });
export const notFound = (what = 'resource') => new AppError('not_found', `${what} not found`);
export const forbidden = (msg = 'forbidden') => new AppError('forbidden', msg);
export const unauthorized = (msg = 'authentication required') => new AppError('unauthorized', msg);
export const conflict = (msg: string) => new AppError('conflict', msg);

/**
 * A failure at boot that a setting explains (an unreachable DATABASE_URL or KAFKA_BROKERS, a
 * taken EMBEDDED_PG_PORT). `beacon start` prints its message as one line and exits non-zero, so
 * the message names the setting and fits on one line.
 */
export class StartupError extends Error {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(message.replace(/\s*\n\s*/g, ' '));
    this.name = 'StartupError';
  }
}
