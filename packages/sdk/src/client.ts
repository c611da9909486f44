import { type Dsn, envelopeUrl, parseDsn } from './dsn.js';
import { eventEnvelope } from './envelope.js';
import type { Scope } from './scope.js';
import { exceptionChain, type ModuleResolver } from './stack.js';
import { Transport, type TransportOptions, type TransportStats } from './transport.js';
import type { BeaconEvent, Breadcrumb, EventHint, Level, Mechanism, RequestData } from './types.js';
import { SDK_NAME, SDK_VERSION } from './version.js';

export interface Options {
  /** Where to send events: `https://<publicKey>@<host>/<projectId>`. Without it nothing is sent. */
  dsn?: string;
  release?: string;
  /** Default 'production'. */
  environment?: string;
  dist?: string;
  serverName?: string;
  /** Share of error events sent, 0..1. Default 1. */
  sampleRate?: number;
  /** Last chance to change or drop (return null) an event before it is queued. */
  beforeSend?: (event: BeaconEvent, hint: EventHint) => BeaconEvent | null | Promise<BeaconEvent | null>;
  /** Change or drop (return null) a breadcrumb before it is recorded. */
  beforeBreadcrumb?: (breadcrumb: Breadcrumb) => Breadcrumb | null;
  /** Breadcrumbs kept per scope. Default 100. */
  maxBreadcrumbs?: number;
  /** Queue, batching, retry and fetch settings. */
  transport?: TransportOptions;
  /** Default true; false turns the SDK into a no-op. */
  enabled?: boolean;
  /** Log the SDK's own problems to the console. */
  debug?: boolean;
  /** Capture uncaught errors and unhandled rejections. Default true. */
  captureUnhandled?: boolean;
  /** Record console calls as breadcrumbs. Default true. */
  consoleBreadcrumbs?: boolean;
  /** Record fetch requests as breadcrumbs. Default true. */
  fetchBreadcrumbs?: boolean;
  /** How long to wait for delivery before a fatal error ends the process, in ms. Default 2000. */
  shutdownTimeout?: number;
}

/** What differs between Node and browsers. */
export interface Platform {
  name: string;
  resolveModule?: ModuleResolver;
  contexts?(): Record<string, Record<string, unknown>>;
  request?(): RequestData | undefined;
  serverName?: string;
  /** Install automatic instrumentation; returns its teardown. */
  setup?(client: Client): () => void;
}

const hex = (n: number) => n.toString(16).padStart(2, '0');

/** 32 lowercase hex characters. */
export function uuid4(): string {
  const bytes = new Uint8Array(16);
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (c?.getRandomValues) c.getRandomValues(bytes);
  else for (let i = 0; i < 16; i++) bytes[i] = (Math.random() * 256) | 0;
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  return Array.from(bytes, hex).join('');
}

export class Client {
  readonly dsn: Dsn | undefined;
  readonly transport: Transport | undefined;
  private pending = new Set<Promise<void>>();
  private captured = new WeakMap<object, string>();
  private teardown: (() => void) | undefined;
  private closed = false;
  lastEventId: string | undefined;

  constructor(
    readonly options: Options,
    readonly platform: Platform,
  ) {
    try {
      this.dsn = options.dsn ? parseDsn(options.dsn) : undefined;
    } catch (err) {
      this.log('invalid DSN, nothing will be sent:', err);
    }
    if (this.dsn && options.enabled !== false) {
      this.transport = new Transport(envelopeUrl(this.dsn, `${SDK_NAME}/${SDK_VERSION}`), options.transport);
    }
  }

  /** Install the platform's automatic instrumentation (once). */
  setup(): void {
    if (this.options.enabled === false || this.teardown) return;
    try {
      this.teardown = this.platform.setup?.(this);
    } catch (err) {
      this.log('instrumentation failed:', err);
    }
  }

  get enabled(): boolean {
    return !this.closed && this.options.enabled !== false;
  }

  /** Whether this error object was already captured (the uncaught handler and middleware may both see it). */
  wasCaptured(err: unknown): boolean {
    return typeof err === 'object' && err !== null && this.captured.has(err);
  }

  /** Remember that `err` was reported as event `id`. */
  markCaptured(err: unknown, id: string): void {
    if (typeof err === 'object' && err !== null && id) this.captured.set(err, id);
  }

  captureException(err: unknown, scope: Scope, mechanism: Mechanism, level: Level = 'error'): string {
    if (typeof err === 'object' && err !== null) {
      const previous = this.captured.get(err);
      if (previous) return previous;
    }
    const id = uuid4();
    if (typeof err === 'object' && err !== null) this.captured.set(err, id);
    try {
      const event = this.baseEvent(id, level);
      event.exception = { values: exceptionChain(err, mechanism, this.platform.resolveModule) };
      this.process(event, { originalException: err, mechanism }, scope);
    } catch (e) {
      this.log('capture failed:', e);
    }
    return id;
  }

  captureMessage(message: string, level: Level, scope: Scope): string {
    const id = uuid4();
    try {
      const event = this.baseEvent(id, level);
      event.message = String(message);
      this.process(event, { originalException: message }, scope);
    } catch (e) {
      this.log('capture failed:', e);
    }
    return id;
  }

  /** Capture a fully built event (fields left out get defaults). */
  captureEvent(partial: Partial<BeaconEvent>, scope: Scope, hint: EventHint = {}): string {
    const event = { ...this.baseEvent(partial.event_id ?? uuid4(), partial.level ?? 'error'), ...partial };
    this.process(event, hint, scope);
    return event.event_id;
  }

  /** Wait until queued events are sent; false if `timeoutMs` passed first. */
  async flush(timeoutMs = 2000): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    if (this.pending.size) {
      const timedOut = await Promise.race([
        Promise.allSettled([...this.pending]).then(() => false),
        new Promise<boolean>((r) => {
          const t = setTimeout(() => r(true), timeoutMs);
          (t as { unref?: () => void }).unref?.();
        }),
      ]);
      if (timedOut) return false;
    }
    return this.transport ? this.transport.flush(Math.max(0, end - Date.now())) : true;
  }

  /** Flush, remove instrumentation and stop sending. */
  async close(timeoutMs = 2000): Promise<boolean> {
    const ok = await this.flush(timeoutMs);
    this.retire();
    this.transport?.close();
    return ok;
  }

  /** Stop capturing and remove instrumentation now; already queued events are still delivered. */
  retire(): void {
    this.closed = true;
    try {
      this.teardown?.();
    } catch {
      // ignore
    }
    this.teardown = undefined;
  }

  getTransportStats(): TransportStats | undefined {
    return this.transport?.getStats();
  }

  log(...args: unknown[]): void {
    if (this.options.debug) consoleWarn('[beacon]', ...args);
  }

  private baseEvent(id: string, level: Level): BeaconEvent {
    return { event_id: id, timestamp: Date.now() / 1000, platform: this.platform.name, level };
  }

  private process(event: BeaconEvent, hint: EventHint, scope: Scope): void {
    if (!this.enabled || !this.transport || !this.dsn) return;
    this.lastEventId = event.event_id;
    const rate = this.options.sampleRate ?? 1;
    if (rate < 1 && Math.random() >= rate) return;
    // Apply the scope now: it describes the moment of capture, not of sending.
    const o = this.options;
    event.release ??= o.release;
    event.environment ??= o.environment ?? 'production';
    if (o.dist) event.dist ??= o.dist;
    const serverName = o.serverName ?? this.platform.serverName;
    if (serverName) event.server_name ??= serverName;
    event.sdk = { name: SDK_NAME, version: SDK_VERSION };
    const platformRequest = this.platform.request?.();
    if (platformRequest) event.request = { ...platformRequest, ...event.request };
    scope.applyToEvent(event);
    const contexts = this.platform.contexts?.();
    if (contexts) event.contexts = { ...contexts, ...event.contexts };
    if (!event.release) delete event.release;

    const task = (async () => {
      let final: BeaconEvent | null = event;
      if (o.beforeSend) final = await o.beforeSend(event, hint);
      if (!final) return;
      this.transport!.send(eventEnvelope(final, this.dsn!));
    })()
      .catch((err) => this.log('beforeSend or send failed, event dropped:', err))
      .finally(() => this.pending.delete(task));
    this.pending.add(task);
  }
}

// The SDK's own warnings must not become console breadcrumbs.
const consoleWarn: (...args: unknown[]) => void =
  typeof console !== 'undefined' ? console.warn.bind(console) : () => {};

export type { Breadcrumb };
