/** A parsed DSN: `http(s)://<publicKey>@<host>[:port][/path]/<projectId>`. */
export interface Dsn {
  protocol: 'http' | 'https';
  publicKey: string;
  host: string;
  port: string;
  /** Path prefix before the project id ('' or '/prefix'). */
  path: string;
  projectId: string;
}

/**
 * Parse a Beacon (or Sentry) DSN. Throws on a malformed DSN.
 *
 * @example parseDsn('https://abc123@beacon.example.com/42').projectId // '42'
 */
export function parseDsn(dsn: string): Dsn {
  const m = /^(https?):\/\/([^:@/]+)(?::[^@/]*)?@([^:/?#]+|\[[^\]]+\])(?::(\d+))?(\/[^?#]*)?$/.exec(
    dsn.trim(),
  );
  if (!m) throw new Error(`Invalid DSN: ${dsn}`);
  const segments = (m[5] ?? '').split('/').filter(Boolean);
  const projectId = segments.pop();
  if (!projectId || !/^\w+$/.test(projectId)) throw new Error(`Invalid DSN (no project id): ${dsn}`);
  return {
    protocol: m[1] as 'http' | 'https',
    publicKey: m[2]!,
    host: m[3]!,
    port: m[4] ?? '',
    path: segments.length ? `/${segments.join('/')}` : '',
    projectId,
  };
}

/** The envelope endpoint for a DSN, with the key in the query string (no CORS preflight needed). */
export function envelopeUrl(dsn: Dsn, client: string): string {
  const port = dsn.port ? `:${dsn.port}` : '';
  const q = `sentry_version=7&sentry_key=${encodeURIComponent(dsn.publicKey)}&sentry_client=${encodeURIComponent(client)}`;
  return `${dsn.protocol}://${dsn.host}${port}${dsn.path}/api/${dsn.projectId}/envelope/?${q}`;
}

export function dsnToString(dsn: Dsn): string {
  const port = dsn.port ? `:${dsn.port}` : '';
  return `${dsn.protocol}://${dsn.publicKey}@${dsn.host}${port}${dsn.path}/${dsn.projectId}`;
}
