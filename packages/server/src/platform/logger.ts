import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs; pretty when stdout is a terminal. Secrets are redacted by path so a
 * careless `log.info({ headers })` never writes a key or token.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const redact = {
    paths: [
      'password',
      '*.password',
      'token',
      '*.token',
      'secret',
      '*.secret',
      'secretKey',
      '*.secretKey',
      'refreshToken',
      '*.refreshToken',
      'accessToken',
      '*.accessToken',
      'req.headers.authorization',
      'req.headers["x-sentry-auth"]',
      'req.headers["x-api-key"]',
      'req.headers.cookie',
      'headers.authorization',
      'headers.cookie',
    ],
    censor: '[redacted]',
  };
  if (destination) return pino({ level, redact }, destination);
  const transport =
    process.stdout.isTTY && process.env.CI !== 'true'
      ? { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname' } }
      : undefined;
  return pino({ level, redact, transport });
}
