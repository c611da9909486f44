/**
 * Where a Sentry SDK puts its key: `X-Sentry-Auth: Sentry sentry_key=…, sentry_version=7`,
 * `Authorization: Sentry …` (or `DSN …`), the `sentry_key` query parameter (browsers, to avoid a
 * CORS preflight), or — for envelopes only — the `dsn` in the envelope header.
 */
export function parseSentryAuthHeader(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const m = /^\s*(?:sentry|dsn)\s+(.*)$/i.exec(value);
  if (!m) return undefined;
  for (const part of m[1]!.split(',')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const k = part.slice(0, eq).trim().toLowerCase();
    if (k === 'sentry_key') return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

export function keyFromDsn(dsn: unknown): string | undefined {
  if (typeof dsn !== 'string' || dsn === '') return undefined;
  try {
    return decodeURIComponent(new URL(dsn).username) || undefined;
  } catch {
    return undefined;
  }
}

export function sentryKeyFromRequest(
  headers: Record<string, string | string[] | undefined>,
  query: Record<string, unknown> | undefined,
): string | undefined {
  const h = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const q = query?.sentry_key;
  return (
    parseSentryAuthHeader(h('x-sentry-auth')) ??
    parseSentryAuthHeader(h('authorization')) ??
    (typeof q === 'string' && q !== '' ? q : undefined)
  );
}
