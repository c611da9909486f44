/**
 * Removes secrets from anything that may be sent to an LLM provider: authorization headers,
 * cookies, passwords, API keys and tokens in headers, bodies, URLs and free text. Applied to the
 * whole prompt context before it leaves the process — a provider, local or not, never sees them.
 */
/**
 * Secret-ish words found anywhere in a key, so compound and camelCase names are caught too
 * (`db_password`, `accessToken`, `x-csrf-token`, `clientSecret`); `auth` only as a whole key, so
 * `author` stays.
 */
const SECRET_WORD =
  'passw(?:or)?d|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential|cookie|session|csrf|xsrf|signature|authori[sz]ation';
const SENSITIVE_KEY = new RegExp(`${SECRET_WORD}|^(?:auth|sid)$`, 'i');
const SENSITIVE_QUERY =
  /([?&;](?:access_token|refresh_token|id_token|token|api_key|apikey|key|secret|password|pwd|auth|sig|signature|session|code)=)[^&#\s"']*/gi;
const BEARER = /\b(Bearer|Basic|Token|Sentry)\s+[A-Za-z0-9._~+/=-]{8,}/g;
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\b/g;
/** `key = value`, `key: value`, `"key": "value"` (JSON inside text) where the key holds a secret word. */
const KV_SECRET = new RegExp(
  `([\\w.-]*(?:${SECRET_WORD})[\\w.-]*["']?)(\\s*[:=]\\s*)("[^"]*"|'[^']*'|[^\\s,;&"'}]+)`,
  'gi',
);
/** A Cookie / Set-Cookie header in text: every cookie on the line, whatever its name. */
const COOKIE_LINE = /\b((?:set-)?cookie\s*:\s*)[^\r\n]*/gi;
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^/\s:@]+):([^/\s@]+)@/gi;
const PREFIXED_KEYS =
  /\b(bcn_[A-Za-z0-9_-]{10,}|sk-[A-Za-z0-9_-]{16,}|gh[pousr]_[A-Za-z0-9]{20,}|xox[abposr]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16})\b/g;

export const REDACTED = '[redacted]';

export function scrubText(text: string): string {
  return text
    .replace(URL_CREDENTIALS, `$1${REDACTED}@`)
    .replace(SENSITIVE_QUERY, `$1${REDACTED}`)
    .replace(BEARER, `$1 ${REDACTED}`)
    .replace(JWT, REDACTED)
    .replace(PREFIXED_KEYS, REDACTED)
    .replace(COOKIE_LINE, `$1${REDACTED}`)
    .replace(KV_SECRET, `$1$2${REDACTED}`);
}

/** Deep copy of `value` with sensitive keys blanked and every string scrubbed. */
export function scrub<T>(value: T, depth = 0): T {
  if (depth > 20) return REDACTED as T;
  if (typeof value === 'string') return scrubText(value) as T;
  if (Array.isArray(value)) {
    // Header lists as [[name, value], …]
    return value.map((v) =>
      Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && SENSITIVE_KEY.test(v[0])
        ? [v[0], REDACTED]
        : scrub(v, depth + 1),
    ) as T;
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out[k] = SENSITIVE_KEY.test(k) ? REDACTED : scrub(v, depth + 1);
    }
    return out as T;
  }
  return value;
}
