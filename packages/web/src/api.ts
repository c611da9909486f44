/**
 * The one HTTP client of the dashboard: JSON in and out, the access token in `Authorization`,
 * one shared refresh when the API answers 401, and the API's `{error:{code,message}}` turned
 * into an ApiError the screens can show.
 */
export interface User {
  id: number;
  email: string;
  name?: string;
}
export interface Session {
  user: User;
  accessToken: string;
  refreshToken: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const STORAGE_KEY = 'beacon.session';
type Listener = (s: Session | null) => void;
const listeners = new Set<Listener>();

function readSession(): Session | null {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}
let session: Session | null = readSession();

export const getSession = () => session;
export function setSession(s: Session | null): void {
  session = s;
  if (s) localStorage.setItem(STORAGE_KEY, JSON.stringify(s));
  else localStorage.removeItem(STORAGE_KEY);
  for (const l of listeners) l(s);
}
export function onSession(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}
// Another tab signed in or out.
window.addEventListener('storage', (e) => {
  if (e.key !== STORAGE_KEY) return;
  session = readSession();
  for (const l of listeners) l(session);
});

let refreshing: Promise<boolean> | null = null;
/** Exchange the refresh token once for all concurrent callers; false means signed out. */
export function refreshSession(): Promise<boolean> {
  refreshing ??= (async () => {
    const current = session;
    if (!current?.refreshToken) return false;
    try {
      const res = await fetch('/api/v1/auth/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refreshToken: current.refreshToken }),
      });
      if (!res.ok) {
        if (res.status === 401 || res.status === 400) setSession(null);
        return false;
      }
      const body = (await res.json()) as Partial<Session>;
      setSession({
        user: body.user ?? current.user,
        accessToken: body.accessToken ?? current.accessToken,
        refreshToken: body.refreshToken ?? current.refreshToken,
      });
      return true;
    } catch {
      return false;
    }
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

async function toError(res: Response): Promise<ApiError> {
  let code = 'http_error';
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = body.error.message;
  } catch {
    /* not JSON */
  }
  return new ApiError(res.status, code, message);
}

export async function api<T = unknown>(
  method: string,
  path: string,
  body?: unknown,
  retried = false,
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (session) headers.authorization = `Bearer ${session.accessToken}`;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'network', 'Cannot reach the Beacon server. Check your connection.');
  }
  if (res.status === 401 && session && !retried && !path.startsWith('/api/v1/auth/')) {
    if (await refreshSession()) return api<T>(method, path, body, true);
  }
  if (!res.ok) throw await toError(res);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export const get = <T>(path: string) => api<T>('GET', path);
export const post = <T>(path: string, body: unknown = {}) => api<T>('POST', path, body);
export const patch = <T>(path: string, body: unknown) => api<T>('PATCH', path, body);
export const put = <T>(path: string, body: unknown) => api<T>('PUT', path, body);
export const del = <T>(path: string) => api<T>('DELETE', path);

/** `?a=1&b=2` from an object, skipping empty values. */
export function qs(params: Record<string, string | number | boolean | undefined | null | string[]>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) for (const x of v) u.append(k, x);
    else u.set(k, String(v));
  }
  const s = u.toString();
  return s ? `?${s}` : '';
}

/** Lists come back bare or wrapped (`{items}`, `{data}`, `{projects}`…): accept each. */
export function listOf<T>(body: unknown, ...keys: string[]): T[] {
  if (Array.isArray(body)) return body as T[];
  if (body && typeof body === 'object') {
    for (const k of [...keys, 'items', 'data', 'results']) {
      const v = (body as Record<string, unknown>)[k];
      if (Array.isArray(v)) return v as T[];
    }
  }
  return [];
}
