import type { IssueUpdate, MonitorEvent } from '../events/updates.js';

/** What the hub needs from a connected socket; the WebSocket route adapts `ws` to it. */
export interface LiveClient {
  /** Projects the socket's user may read; undefined until authenticated. */
  projects: Set<number> | undefined;
  /** Organizations the user belongs to (for monitors not tied to a project). */
  orgs: Set<number>;
  send(data: string): void;
  /** Bytes queued but not yet written (slow-consumer guard). */
  bufferedAmount(): number;
  close(code: number, reason: string): void;
}

/** Messages the dashboard receives. */
export type LiveMessage =
  | { type: 'hello'; projects: number[] }
  | { type: 'issue'; update: IssueUpdate }
  | { type: 'monitor'; event: MonitorEvent }
  | { type: 'error'; code: string; message: string };

/** A client whose send queue grows beyond this is dropped (it reconnects and refetches). */
export const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/**
 * In-process fan-out: the bus consumer hands every issue update and monitor event here, and the
 * hub writes it to each authenticated socket whose user may read the project. One hub per
 * running Beacon (keyed by its context), so two Beacons in one test process stay apart.
 */
export class LiveHub {
  readonly clients = new Set<LiveClient>();
  delivered = 0;
  dropped = 0;

  add(c: LiveClient): void {
    this.clients.add(c);
  }
  remove(c: LiveClient): void {
    this.clients.delete(c);
  }

  private sendTo(c: LiveClient, data: string): void {
    if (c.bufferedAmount() > MAX_BUFFERED_BYTES) {
      this.dropped++;
      this.clients.delete(c);
      c.close(1013, 'too slow: reconnect and refetch');
      return;
    }
    c.send(data);
    this.delivered++;
  }

  private fanOut(allowed: (c: LiveClient) => boolean, msg: LiveMessage): number {
    let n = 0;
    let data: string | undefined;
    for (const c of this.clients) {
      if (!c.projects || !allowed(c)) continue;
      data ??= JSON.stringify(msg);
      this.sendTo(c, data);
      n++;
    }
    return n;
  }

  publishIssue(update: IssueUpdate): number {
    return this.fanOut((c) => c.projects?.has(update.projectId) === true, { type: 'issue', update });
  }

  /** A monitor tied to a project goes to that project's readers, otherwise to its organization's members. */
  publishMonitor(event: MonitorEvent, orgId: number | undefined): number {
    const pid = event.projectId;
    const allowed =
      pid !== null
        ? (c: LiveClient) => c.projects?.has(pid) === true
        : (c: LiveClient) => orgId !== undefined && c.orgs.has(orgId);
    return this.fanOut(allowed, { type: 'monitor', event });
  }
}

const hubs = new WeakMap<object, LiveHub>();
export function hubFor(ctx: object): LiveHub {
  let h = hubs.get(ctx);
  if (!h) {
    h = new LiveHub();
    hubs.set(ctx, h);
  }
  return h;
}
