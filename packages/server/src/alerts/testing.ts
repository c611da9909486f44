// Test helpers of the alerts domain: real receivers on 127.0.0.1 (HTTP and SMTP) and message factories.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { IssueUpdate, MonitorEvent } from '../events/updates.js';

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: Record<string, unknown>;
  answered: number;
}

/** An HTTP receiver that records requests; `respond` picks each answer (default 200). */
export class Receiver {
  readonly requests: ReceivedRequest[] = [];
  respond: (
    n: number,
    req: ReceivedRequest,
  ) => { status: number; headers?: Record<string, string> } | 'hang' = () => ({
    status: 200,
  });
  private server: Server;
  url = '';

  constructor() {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        let json: Record<string, unknown> = {};
        try {
          json = JSON.parse(body);
        } catch {}
        const r: ReceivedRequest = { path: req.url ?? '/', headers: req.headers, body, json, answered: 0 };
        this.requests.push(r);
        const answer = this.respond(this.requests.length, r);
        if (answer === 'hang') return;
        r.answered = answer.status;
        res.writeHead(answer.status, { 'content-type': 'text/plain', ...(answer.headers ?? {}) });
        res.end(answer.status < 300 ? 'ok' : 'nope');
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Requests answered 2xx (what "delivered" means to the receiver). */
  delivered(path?: string): ReceivedRequest[] {
    return this.requests.filter((r) => r.answered >= 200 && r.answered < 300 && (!path || r.path === path));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

export interface ReceivedMail {
  to: string[];
  raw: string;
}

/** A real SMTP server on 127.0.0.1 (no TLS, no auth) that keeps every message. */
export class MailSink {
  readonly mails: ReceivedMail[] = [];
  private server: SMTPServer;
  port = 0;

  constructor() {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData: (stream, session, cb) => {
        let raw = '';
        stream.on('data', (d) => {
          raw += d;
        });
        stream.on('end', () => {
          this.mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw });
          cb();
        });
      },
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.server.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

let seq = 0;

export function issueUpdate(
  projectId: number,
  issueId: number,
  o: Partial<{
    type: IssueUpdate['type'];
    newEvents: number;
    count: number;
    level: IssueUpdate['event']['level'];
    levels: Record<string, number>;
    status: IssueUpdate['issue']['status'];
    environment: string;
    release: string;
    tags: Record<string, string>;
    userIds: string[];
    updateId: string;
  }> = {},
): IssueUpdate {
  const newEvents = o.newEvents ?? 1;
  const level = o.level ?? 'error';
  const now = new Date().toISOString();
  return {
    updateId: o.updateId ?? `${issueId}:${randomUUID()}:${++seq}`,
    type: o.type ?? 'occurrence',
    projectId,
    issue: {
      id: issueId,
      title: `TypeError: boom ${issueId}`,
      culprit: 'app.js in handler',
      level,
      status: o.status ?? 'unresolved',
      count: o.count ?? newEvents,
      userCount: o.userIds?.length ?? 0,
      firstSeen: now,
      lastSeen: now,
    },
    newEvents,
    levels: o.levels ?? { [level]: newEvents },
    userIds: o.userIds ?? [],
    event: {
      eventId: randomUUID().replaceAll('-', ''),
      level,
      timestamp: now,
      environment: o.environment ?? 'production',
      release: o.release,
      tags: o.tags ?? {},
      message: 'boom',
    },
  };
}

export function monitorEvent(
  projectId: number | null,
  serviceId: number,
  endpointId: number,
  type: MonitorEvent['type'],
  incidentId = 1,
): MonitorEvent {
  const now = new Date().toISOString();
  return {
    eventId: `${incidentId}:${type}`,
    type,
    at: now,
    projectId,
    service: { id: serviceId, name: 'Checkout' },
    endpoint: { id: endpointId, name: 'checkout-api', url: 'https://example.test/health' },
    incident: {
      id: incidentId,
      startedAt: now,
      resolvedAt: type === 'incident_resolved' ? now : null,
      cause: type === 'incident_start' ? 'HTTP 503' : 'recovered',
    },
  };
}
