/** A thin client for Beacon's HTTP API; every failure becomes a CliError with an exit code. */
export const exitCodes = { error: 1, usage: 2, auth: 3, notFound: 4, unreachable: 5 } as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = exitCodes.error,
  ) {
    super(message);
  }
}

export class Api {
  constructor(
    readonly baseUrl: string,
    private readonly token?: string,
  ) {}

  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    query?: Record<string, unknown>,
  ): Promise<T> {
    const url = new URL(path, this.baseUrl);
    for (const [k, v] of Object.entries(query ?? {}))
      if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      const c = (err as { cause?: { code?: string; message?: string } }).cause;
      const cause = c?.code ?? c?.message ?? (err as Error).message;
      throw new CliError(`cannot reach Beacon at ${this.baseUrl} (${cause})`, exitCodes.unreachable);
    }
    const text = await res.text();
    let data: unknown;
    try {
      data = text ? JSON.parse(text) : undefined;
    } catch {
      data = text;
    }
    if (!res.ok) {
      const e = (data as { error?: { code?: string; message?: string } } | undefined)?.error;
      const message = e?.message ?? `HTTP ${res.status}`;
      const code =
        res.status === 401 || res.status === 403
          ? exitCodes.auth
          : res.status === 404
            ? exitCodes.notFound
            : res.status === 400 || res.status === 409 || res.status === 422
              ? exitCodes.usage
              : exitCodes.error;
      throw new CliError(`${message} (HTTP ${res.status}${e?.code ? `, ${e.code}` : ''})`, code);
    }
    // A proxy, a login page or a wrong --url answers 200 with HTML: that is not an answer.
    if (typeof data === 'string')
      throw new CliError(
        `unexpected answer from ${url.origin}: not JSON (is this a Beacon server?)`,
        exitCodes.error,
      );
    return data as T;
  }

  get<T = unknown>(path: string, query?: Record<string, unknown>) {
    return this.request<T>('GET', path, undefined, query);
  }
  post<T = unknown>(path: string, body: unknown = {}) {
    return this.request<T>('POST', path, body);
  }
  patch<T = unknown>(path: string, body: unknown) {
    return this.request<T>('PATCH', path, body);
  }
  put<T = unknown>(path: string, body: unknown) {
    return this.request<T>('PUT', path, body);
  }
  delete<T = unknown>(path: string) {
    return this.request<T>('DELETE', path);
  }
}
