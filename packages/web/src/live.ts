import { getSession, onSession, refreshSession } from './api.js';

/** What `/api/v1/live` pushes (see packages/server/src/live/hub.ts). */
export interface IssueUpdateMsg {
  type: 'issue';
  update: {
    updateId: string;
    type: 'created' | 'regressed' | 'occurrence';
    projectId: number;
    issue: {
      id: number;
      title: string;
      culprit: string | null;
      level: string;
      status: 'unresolved' | 'resolved' | 'ignored';
      count: number;
      userCount: number;
      firstSeen: string;
      lastSeen: string;
    };
    newEvents: number;
  };
}
export interface MonitorMsg {
  type: 'monitor';
  event: {
    type: 'incident_start' | 'incident_resolved';
    at: string;
    projectId: number | null;
    service: { id: number; name: string };
    endpoint: { id: number; name: string; url: string };
    incident: { id: number; startedAt: string; resolvedAt: string | null; cause: string };
  };
}
export type LiveMsg = IssueUpdateMsg | MonitorMsg | { type: 'hello'; projects: number[] };
export type LiveState = 'connecting' | 'open' | 'closed';

type Handler = (m: LiveMsg) => void;

/**
 * One WebSocket for the whole app. Authenticates with the first message, re-sends the token after
 * each refresh, and reconnects with exponential backoff (1 s doubling to 30 s, with jitter).
 */
class Live {
  private ws: WebSocket | null = null;
  private handlers = new Set<Handler>();
  private stateHandlers = new Set<(s: LiveState) => void>();
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private wanted = false;
  state: LiveState = 'closed';

  constructor() {
    onSession((s) => {
      if (!s) this.stop();
      else if (this.ws?.readyState === WebSocket.OPEN)
        this.ws.send(JSON.stringify({ type: 'auth', token: s.accessToken }));
      else if (this.wanted) this.connect();
    });
    window.addEventListener('online', () => this.wanted && this.connect());
  }

  private setState(s: LiveState) {
    this.state = s;
    for (const h of this.stateHandlers) h(s);
  }

  start() {
    this.wanted = true;
    if (!this.ws) this.connect();
  }

  stop() {
    this.wanted = false;
    clearTimeout(this.timer);
    this.ws?.close(1000);
    this.ws = null;
    this.setState('closed');
  }

  /** Ask the server to re-read which projects we may see (after creating one). */
  refresh() {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send('{"type":"refresh"}');
  }

  private connect() {
    clearTimeout(this.timer);
    const s = getSession();
    if (!s) return;
    if (this.ws) {
      this.ws.onclose = null;
      this.ws.close();
    }
    this.setState('connecting');
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${proto}//${location.host}/api/v1/live`);
    this.ws = ws;
    ws.onopen = () => {
      const current = getSession();
      if (current) ws.send(JSON.stringify({ type: 'auth', token: current.accessToken }));
    };
    ws.onmessage = (e) => {
      let m: LiveMsg;
      try {
        m = JSON.parse(String(e.data)) as LiveMsg;
      } catch {
        return;
      }
      if (m.type === 'hello') {
        this.attempt = 0;
        this.setState('open');
      }
      for (const h of this.handlers) h(m);
    };
    ws.onclose = async (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.setState('closed');
      if (!this.wanted) return;
      // 4001: our access token expired or was refused — refresh it before reconnecting.
      if (e.code === 4001 && !(await refreshSession()) && !getSession()) return;
      const delay = Math.min(30_000, 1000 * 2 ** this.attempt) * (0.75 + Math.random() * 0.5);
      this.attempt = Math.min(this.attempt + 1, 6);
      this.timer = setTimeout(() => this.connect(), delay);
    };
  }

  subscribe(h: Handler): () => void {
    this.handlers.add(h);
    return () => this.handlers.delete(h);
  }
  onState(h: (s: LiveState) => void): () => void {
    this.stateHandlers.add(h);
    return () => this.stateHandlers.delete(h);
  }
}

export const live = new Live();
