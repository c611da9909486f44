import { createHmac } from 'node:crypto';
import type { BlockList } from 'node:net';
import nodemailer, { type Transporter } from 'nodemailer';
import { Agent, request } from 'undici';
import { guardedLookup, TargetDeniedError, validateTargetUrl } from './targets.js';

/** What a delivery sends: the notification content, rendered per channel. */
export interface NotificationPayload {
  kind: 'alert' | 'test' | 'monitor_event' | 'digest';
  /** One-line summary, used as Slack text and email subject. */
  title: string;
  /** Plain-text body lines. */
  lines: string[];
  /** Link to the dashboard, when known. */
  url?: string;
  /** Structured data for webhook receivers. */
  data: Record<string, unknown>;
}

export type Target =
  | { type: 'webhook'; url: string; secret?: string; headers?: Record<string, string> }
  | { type: 'slack'; url: string }
  | { type: 'email'; to: string[] };

export interface SendResult {
  ok: boolean;
  status?: number;
  error?: string;
  /** Do not retry (a denied target, a 4xx the receiver will answer again, no SMTP). */
  permanent?: boolean;
  /** The receiver asked for this delay (429/503 Retry-After). */
  retryAfterMs?: number;
}

export interface ChannelOptions {
  blockList: BlockList;
  timeoutMs: number;
  maxResponseBytes: number;
  smtp?: { url: string; from: string };
  userAgent?: string;
}

export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Parse Retry-After: delta seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

export function slackMessage(p: NotificationPayload): Record<string, unknown> {
  const title = p.url ? `<${p.url}|${escapeSlack(p.title)}>` : escapeSlack(p.title);
  return {
    text: p.title,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${title}*` } },
      ...(p.lines.length
        ? [
            {
              type: 'section',
              text: { type: 'mrkdwn', text: p.lines.map(escapeSlack).join('\n').slice(0, 2900) },
            },
          ]
        : []),
      { type: 'context', elements: [{ type: 'mrkdwn', text: `Beacon · ${p.kind.replace('_', ' ')}` }] },
    ],
  };
}

function escapeSlack(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function escapeHtml(s: string): string {
  return s
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

export function emailMessage(p: NotificationPayload): { subject: string; text: string; html: string } {
  const text = [p.title, '', ...p.lines, ...(p.url ? ['', p.url] : [])].join('\n');
  const html = `<!doctype html><html><body style="font-family:sans-serif">
<h2 style="margin:0 0 12px">${escapeHtml(p.title)}</h2>
<ul>${p.lines.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>
${p.url ? `<p><a href="${escapeHtml(p.url)}">Open in Beacon</a></p>` : ''}
<p style="color:#888;font-size:12px">Sent by Beacon alerts</p></body></html>`;
  return { subject: `[Beacon] ${p.title}`.slice(0, 250), text, html };
}

/** Sends notifications over webhook, Slack and SMTP; one instance per worker (shared agent and transport). */
export class Channels {
  private readonly agent: Agent;
  private transport?: Transporter;

  constructor(private readonly opts: ChannelOptions) {
    this.agent = new Agent({
      connect: { lookup: guardedLookup(opts.blockList) as never, timeout: opts.timeoutMs },
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      keepAliveTimeout: 4000,
    });
  }

  async send(target: Target, payload: NotificationPayload, meta: { deliveryId: number; attempt: number }) {
    try {
      if (target.type === 'email') return await this.sendEmail(target.to, payload);
      const body =
        target.type === 'slack'
          ? JSON.stringify(slackMessage(payload))
          : JSON.stringify({ kind: payload.kind, title: payload.title, url: payload.url, ...payload.data });
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': this.opts.userAgent ?? 'Beacon-Alerts/1.0',
      };
      if (target.type === 'webhook') {
        Object.assign(headers, target.headers ?? {});
        headers['x-beacon-delivery'] = String(meta.deliveryId);
        headers['x-beacon-event'] = payload.kind;
        headers['x-beacon-attempt'] = String(meta.attempt);
        if (target.secret) headers['x-beacon-signature'] = signBody(target.secret, body);
      }
      return await this.post(target.url, body, headers);
    } catch (err) {
      if (err instanceof TargetDeniedError || (err as { code?: string }).code === 'EBEACONDENIED')
        return { ok: false, permanent: true, error: (err as Error).message };
      if ((err as { code?: string }).code === 'bad_request')
        return { ok: false, permanent: true, error: (err as Error).message };
      return { ok: false, error: describe(err) };
    }
  }

  private async post(rawUrl: string, body: string, headers: Record<string, string>): Promise<SendResult> {
    const url = validateTargetUrl(rawUrl, this.opts.blockList);
    // undici drops a URL's user-info silently: send it as Basic auth (a custom Authorization header wins).
    if (url.username || url.password) {
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')) {
        const userPass = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
        headers.authorization = `Basic ${Buffer.from(userPass).toString('base64')}`;
      }
      url.username = '';
      url.password = '';
    }
    const res = await request(url, {
      method: 'POST',
      body,
      headers,
      dispatcher: this.agent,
      signal: AbortSignal.timeout(this.opts.timeoutMs),
    });
    // Read at most maxResponseBytes of the answer: enough for an error hint, never a memory hazard.
    let received = 0;
    let snippet = '';
    try {
      for await (const chunk of res.body) {
        received += (chunk as Buffer).length;
        if (snippet.length < 200) snippet += (chunk as Buffer).toString('utf8', 0, 200);
        if (received > this.opts.maxResponseBytes) {
          res.body.destroy();
          break;
        }
      }
    } catch {
      // A broken body after a status line still tells us the status.
    }
    const status = res.statusCode;
    if (status >= 200 && status < 300) return { ok: true, status };
    const retryAfterMs =
      status === 429 || status === 503 ? parseRetryAfter(res.headers['retry-after']) : undefined;
    const retryable = status >= 500 || status === 408 || status === 425 || status === 429;
    return {
      ok: false,
      status,
      permanent: !retryable,
      retryAfterMs,
      error: `HTTP ${status}${snippet ? `: ${snippet.replace(/\s+/g, ' ').slice(0, 200)}` : ''}`,
    };
  }

  private async sendEmail(to: string[], payload: NotificationPayload): Promise<SendResult> {
    if (!this.opts.smtp)
      return { ok: false, permanent: true, error: 'email is not configured (set SMTP_URL)' };
    this.transport ??= nodemailer.createTransport(this.opts.smtp.url, { from: this.opts.smtp.from });
    const m = emailMessage(payload);
    await this.transport.sendMail({ to, subject: m.subject, text: m.text, html: m.html });
    return { ok: true };
  }

  async close(): Promise<void> {
    this.transport?.close();
    await this.agent.close().catch(() => {});
  }
}

function describe(err: unknown): string {
  const e = err as {
    name?: string;
    code?: string;
    message?: string;
    cause?: { code?: string; message?: string };
  };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timed out';
  const cause = e.cause as { code?: string; message?: string } | undefined;
  if (cause?.code === 'EBEACONDENIED') return cause.message ?? 'target denied';
  return [e.code ?? cause?.code, e.message].filter(Boolean).join(': ').slice(0, 300) || 'failed';
}
