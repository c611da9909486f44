import type { BeaconEvent, Breadcrumb, CaptureContext, Level, RequestData, User } from './types.js';

/**
 * Context applied to every event captured while the scope is current: user, tags, contexts,
 * extra data, breadcrumbs, fingerprint, level, request. `withScope` forks a copy; changes to the
 * copy do not leak into the parent.
 *
 * @example getCurrentScope().setFingerprint(['{{ default }}', 'tenant-a']).setLevel('warning');
 */
export class Scope {
  user?: User;
  tags: Record<string, string> = {};
  extra: Record<string, unknown> = {};
  contexts: Record<string, Record<string, unknown>> = {};
  breadcrumbs: Breadcrumb[] = [];
  fingerprint?: string[];
  level?: Level;
  transaction?: string;
  request?: RequestData;
  maxBreadcrumbs = 100;

  /** An independent copy (breadcrumbs and maps are copied, not shared). */
  clone(): Scope {
    const s = new Scope();
    s.user = this.user ? { ...this.user } : undefined;
    s.tags = { ...this.tags };
    s.extra = { ...this.extra };
    s.contexts = { ...this.contexts };
    s.breadcrumbs = [...this.breadcrumbs];
    s.fingerprint = this.fingerprint ? [...this.fingerprint] : undefined;
    s.level = this.level;
    s.transaction = this.transaction;
    s.request = this.request;
    s.maxBreadcrumbs = this.maxBreadcrumbs;
    return s;
  }

  setUser(user: User | null): this {
    this.user = user ?? undefined;
    return this;
  }
  setTag(key: string, value: string | number | boolean): this {
    this.tags[key] = String(value);
    return this;
  }
  setTags(tags: Record<string, string | number | boolean>): this {
    for (const [k, v] of Object.entries(tags)) this.tags[k] = String(v);
    return this;
  }
  setExtra(key: string, value: unknown): this {
    this.extra[key] = value;
    return this;
  }
  setContext(name: string, context: Record<string, unknown> | null): this {
    if (context === null) delete this.contexts[name];
    else this.contexts[name] = context;
    return this;
  }
  setFingerprint(fingerprint: string[] | undefined): this {
    this.fingerprint = fingerprint;
    return this;
  }
  setLevel(level: Level | undefined): this {
    this.level = level;
    return this;
  }
  setTransactionName(name: string | undefined): this {
    this.transaction = name;
    return this;
  }
  setRequest(request: RequestData | undefined): this {
    this.request = request;
    return this;
  }
  addBreadcrumb(crumb: Breadcrumb, max = this.maxBreadcrumbs): this {
    if (max <= 0) return this;
    this.breadcrumbs.push({ timestamp: Date.now() / 1000, ...crumb });
    if (this.breadcrumbs.length > max) this.breadcrumbs.splice(0, this.breadcrumbs.length - max);
    return this;
  }
  clearBreadcrumbs(): this {
    this.breadcrumbs = [];
    return this;
  }
  clear(): this {
    const max = this.maxBreadcrumbs;
    Object.assign(this, new Scope());
    this.maxBreadcrumbs = max;
    return this;
  }

  /** Merge a per-capture context over this scope (in place; call on a clone). */
  update(ctx: CaptureContext | undefined): this {
    if (!ctx) return this;
    if (ctx.user) this.user = { ...this.user, ...ctx.user };
    if (ctx.tags) this.setTags(ctx.tags);
    if (ctx.extra) Object.assign(this.extra, ctx.extra);
    if (ctx.contexts) Object.assign(this.contexts, ctx.contexts);
    if (ctx.level) this.level = ctx.level;
    if (ctx.fingerprint) this.fingerprint = ctx.fingerprint;
    if (ctx.request) this.request = ctx.request;
    if (ctx.transaction) this.transaction = ctx.transaction;
    return this;
  }

  /** Apply this scope to an event; values already on the event win over the scope's. */
  applyToEvent(event: BeaconEvent): BeaconEvent {
    if (Object.keys(this.tags).length) event.tags = { ...this.tags, ...event.tags };
    if (Object.keys(this.extra).length) event.extra = { ...this.extra, ...event.extra };
    if (Object.keys(this.contexts).length) event.contexts = { ...this.contexts, ...event.contexts };
    if (this.user && Object.keys(this.user).length) event.user = { ...this.user, ...event.user };
    if (this.level) event.level = this.level;
    if (this.fingerprint?.length && !event.fingerprint) event.fingerprint = [...this.fingerprint];
    if (this.transaction && !event.transaction) event.transaction = this.transaction;
    if (this.request) event.request = { ...this.request, ...event.request };
    const crumbs = [...this.breadcrumbs, ...(event.breadcrumbs ?? [])];
    if (crumbs.length) event.breadcrumbs = crumbs.slice(-Math.max(this.maxBreadcrumbs, 0));
    if (event.breadcrumbs && !event.breadcrumbs.length) delete event.breadcrumbs;
    return event;
  }
}
