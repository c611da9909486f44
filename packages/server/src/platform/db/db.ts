import pg from 'pg';

// int8 (bigint) columns come back as JS numbers: counts and ids stay far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

export type Row = Record<string, unknown>;

/** Anything that can run a query: the pool or a client inside a transaction. */
export interface Queryable {
  query<T extends Row = Row>(sql: string, params?: unknown[]): Promise<T[]>;
}

/**
 * The query layer: plain SQL with typed results over a `pg` pool. Beacon's hot paths are
 * batch upserts with `unnest`, `FOR UPDATE SKIP LOCKED` leases and LISTEN/NOTIFY, which read
 * most clearly as the SQL they are; a query builder would add a layer without removing any.
 */
export class Db implements Queryable {
  readonly pool: pg.Pool;
  private listener?: pg.Client;
  private readonly channels = new Map<string, Set<(payload: string) => void>>();
  private closed = false;

  constructor(
    readonly url: string,
    poolMax = 10,
  ) {
    this.pool = new pg.Pool({ connectionString: url, max: poolMax, idleTimeoutMillis: 30_000 });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    this.pool.on('error', () => {});
  }

  async query<T extends Row = Row>(sql: string, params: unknown[] = []): Promise<T[]> {
    const res = await this.pool.query(sql, params);
    return res.rows as T[];
  }

  async one<T extends Row = Row>(sql: string, params: unknown[] = []): Promise<T | undefined> {
    return (await this.query<T>(sql, params))[0];
  }

  /** Run `fn` in a transaction; commits when it resolves, rolls back when it throws. */
  async tx<R>(fn: (q: Queryable & { client: pg.PoolClient }) => Promise<R>): Promise<R> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const q = {
        client,
        query: async <T extends Row>(sql: string, params: unknown[] = []) =>
          (await client.query(sql, params)).rows as T[],
      };
      const result = await fn(q);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  /** Subscribe to a NOTIFY channel over one shared listening connection (reconnects on loss). */
  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => void> {
    let set = this.channels.get(channel);
    if (!set) {
      set = new Set();
      this.channels.set(channel, set);
      if (this.listener) await this.listener.query(`LISTEN "${channel.replaceAll('"', '')}"`);
    }
    set.add(onNotify);
    if (!this.listener) await this.connectListener();
    return () => set.delete(onNotify);
  }

  private async connectListener(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on('notification', (n) => {
      for (const cb of this.channels.get(n.channel) ?? []) cb(n.payload ?? '');
    });
    // Lost (server restart, terminated backend): reconnect until it works again. A failed
    // attempt retries with back-off rather than leaving listeners deaf for good.
    const lost = () => {
      if (this.listener !== client) return;
      this.listener = undefined;
      client.end().catch(() => {});
      this.reconnectListener(500);
    };
    client.on('error', lost);
    client.on('end', lost);
    try {
      await client.connect();
      for (const ch of this.channels.keys()) await client.query(`LISTEN "${ch.replaceAll('"', '')}"`);
    } catch (err) {
      await client.end().catch(() => {});
      throw err;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    this.listener = client;
    // Wake every subscriber once: notifications sent while disconnected were lost.
    for (const set of this.channels.values()) for (const cb of set) cb('');
  }

  private reconnectListener(delayMs: number): void {
    if (this.closed) return;
    setTimeout(() => {
      if (this.closed || this.listener) return;
      this.connectListener().catch(() => this.reconnectListener(Math.min(delayMs * 2, 10_000)));
    }, delayMs).unref();
  }

  async ping(): Promise<boolean> {
    try {
      await this.pool.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.listener?.end().catch(() => {});
    this.listener = undefined;
    await this.pool.end();
  }
}
