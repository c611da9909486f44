import type { BlockList } from 'node:net';
import type { AppContext } from '../context.js';
import {
  authenticate,
  type Permission,
  type Principal,
  requireProjectPermission,
} from '../identity/access.js';
import { badRequest, conflict, notFound } from '../platform/errors.js';
import { AlertEngine } from './engine.js';
import { isRedactedWebhookUrl, REDACTED, redactSlackUrl, redactWebhookUrl } from './redact.js';
import type { Action, DeliveryState, Rule, RuleInput } from './schemas.js';
import * as store from './store.js';
import { buildBlockList, defaultTargetPolicy, validateTargetUrl } from './targets.js';

export { REDACTED, redactSlackUrl };

/** What the API shows of a rule: secrets, URL passwords and custom header values are redacted. */
export function publicRule(r: Rule) {
  return {
    ...r,
    actions: r.actions.map((a) =>
      a.type === 'webhook'
        ? {
            type: a.type,
            url: redactWebhookUrl(a.url),
            ...(a.secret ? { secret: REDACTED } : {}),
            ...(a.headers
              ? { headers: Object.fromEntries(Object.keys(a.headers).map((k) => [k, REDACTED])) }
              : {}),
          }
        : a.type === 'slack'
          ? { type: a.type, url: redactSlackUrl(a.url) }
          : a,
    ),
  };
}

/**
 * The alerts API's domain logic: permission checks, rule validation, alert state changes,
 * silences and the dead-letter list. Routes call these and nothing else.
 */
export class AlertsService {
  private readonly blockList: BlockList;
  private readonly engine: AlertEngine;

  constructor(private readonly ctx: AppContext) {
    this.blockList = buildBlockList(ctx.config.alerts?.targetPolicy ?? defaultTargetPolicy);
    this.engine = new AlertEngine(ctx.db, { publicUrl: ctx.config.publicUrl });
  }

  authenticate(authorization: string | undefined): Promise<Principal> {
    return authenticate(this.ctx, authorization);
  }

  /**
   * Load a row of a project and check the caller's permission on that project. A row in a project
   * the caller cannot see answers "<what> not found", so its existence is not revealed.
   */
  private async inProject<T>(
    p: Principal,
    what: string,
    row: T | undefined,
    projectIdOf: (row: T) => number | null,
    perm: Permission,
  ): Promise<T> {
    const projectId = row === undefined ? null : projectIdOf(row);
    if (row === undefined || projectId === null) throw notFound(what);
    try {
      await requireProjectPermission(this.ctx, p, projectId, perm);
    } catch (err) {
      if ((err as { code?: string }).code === 'not_found') throw notFound(what);
      throw err;
    }
    return row;
  }

  private async ruleWithPermission(p: Principal, id: number, perm: 'read' | 'write') {
    return this.inProject(p, 'rule', await store.getRule(this.ctx.db, id), (r) => r.projectId, perm);
  }

  private checkActions(actions: Action[]) {
    for (const a of actions) if (a.type !== 'email') validateTargetUrl(a.url, this.blockList);
    if (actions.some((a) => a.type === 'email') && !this.ctx.config.smtp)
      throw badRequest('email actions need SMTP to be configured (SMTP_URL)');
  }

  async createRule(p: Principal, projectId: number, input: RuleInput) {
    await requireProjectPermission(this.ctx, p, projectId, 'write');
    this.checkActions(input.actions);
    return publicRule(await store.insertRule(this.ctx.db, projectId, normaliseActions(input, []), p.userId));
  }

  async listRules(p: Principal, projectId: number) {
    await requireProjectPermission(this.ctx, p, projectId, 'read');
    return (await store.listRules(this.ctx.db, projectId)).map(publicRule);
  }

  async getRule(p: Principal, id: number) {
    return publicRule(await this.ruleWithPermission(p, id, 'read'));
  }

  async updateRule(p: Principal, id: number, input: RuleInput) {
    const existing = await this.ruleWithPermission(p, id, 'write');
    const next = normaliseActions(input, existing.actions);
    this.checkActions(next.actions);
    const rule = await store.updateRule(this.ctx.db, id, next);
    if (!rule) throw notFound('rule');
    return publicRule(rule);
  }

  async deleteRule(p: Principal, id: number) {
    await this.ruleWithPermission(p, id, 'write');
    await store.deleteRule(this.ctx.db, id);
  }

  async testRule(p: Principal, id: number) {
    const rule = await this.ruleWithPermission(p, id, 'write');
    const ids = await this.engine.sendTest(rule, p.email);
    return { deliveryIds: ids };
  }

  async listAlerts(p: Principal, projectId: number, opts: store.AlertFilter) {
    await requireProjectPermission(this.ctx, p, projectId, 'read');
    return (await store.listAlerts(this.ctx.db, projectId, opts)).map(store.toAlert);
  }

  private async alertWithPermission(p: Principal, id: number, perm: 'read' | 'resolve') {
    return this.inProject(p, 'alert', await store.getAlert(this.ctx.db, id), (r) => r.project_id, perm);
  }

  async getAlert(p: Principal, id: number) {
    return store.toAlert(await this.alertWithPermission(p, id, 'read'));
  }

  async setAlertState(p: Principal, id: number, state: 'acknowledged' | 'resolved') {
    const row = await this.alertWithPermission(p, id, 'resolve');
    const updated = await store.setAlertState(this.ctx.db, id, state, p.userId, new Date());
    if (updated) return store.toAlert(updated);
    if (row.state === state) return store.toAlert(row);
    throw conflict(`alert is ${row.state} and cannot become ${state}`);
  }

  async createSilence(
    p: Principal,
    projectId: number,
    s: { ruleId?: number; issueId?: number; until: string; comment: string },
  ) {
    await requireProjectPermission(this.ctx, p, projectId, 'write');
    const until = new Date(s.until);
    if (until.getTime() <= Date.now()) throw badRequest('until must be in the future');
    if (s.ruleId !== undefined) {
      const rule = await store.getRule(this.ctx.db, s.ruleId);
      if (!rule || rule.projectId !== projectId) throw badRequest('ruleId is not a rule of this project');
    }
    return store.insertSilence(this.ctx.db, { projectId, ...s, until, userId: p.userId });
  }

  async listSilences(p: Principal, projectId: number, includeExpired: boolean) {
    await requireProjectPermission(this.ctx, p, projectId, 'read');
    return store.listSilences(this.ctx.db, projectId, includeExpired);
  }

  async deleteSilence(p: Principal, projectId: number, id: number) {
    await requireProjectPermission(this.ctx, p, projectId, 'write');
    if (!(await store.deleteSilence(this.ctx.db, projectId, id))) throw notFound('silence');
  }

  async listDeliveries(
    p: Principal,
    projectId: number,
    opts: { state?: DeliveryState; alertId?: number; limit: number; beforeId?: number },
  ) {
    await requireProjectPermission(this.ctx, p, projectId, 'read');
    return (await store.listDeliveries(this.ctx.db, projectId, opts)).map(store.toDelivery);
  }

  private async deliveryWithPermission(p: Principal, id: number, perm: 'read' | 'write') {
    return this.inProject(p, 'delivery', await store.getDelivery(this.ctx.db, id), (r) => r.project_id, perm);
  }

  async getDelivery(p: Principal, id: number) {
    const row = await this.deliveryWithPermission(p, id, 'read');
    const attempts = await store.listAttempts(this.ctx.db, id);
    return {
      ...store.toDelivery(row),
      attemptLog: attempts.map((a) => ({
        attempt: a.attempt,
        at: a.at.toISOString(),
        durationMs: a.duration_ms,
        status: a.status,
        error: a.error,
      })),
    };
  }

  async replayDelivery(p: Principal, id: number) {
    const row = await this.deliveryWithPermission(p, id, 'write');
    const replayed = await store.replayDelivery(this.ctx.db, id);
    if (!replayed)
      throw conflict(`delivery is ${row.state}; only dead or delivered deliveries can be replayed`);
    return store.toDelivery(replayed);
  }
}

/**
 * On update, a webhook action that omits its secret (or shows a header value or its URL's password
 * as "[redacted]") keeps what the existing action with the same URL had, and a Slack URL shown redacted keeps the
 * stored one, so GET → edit → PUT does not drop secrets. An empty secret removes it.
 */
export function normaliseActions(input: RuleInput, previous: Action[]): RuleInput {
  // Slack URLs come back redacted: each redacted one maps to the next unused stored URL it stands for.
  const unusedSlack = previous.filter((x): x is Extract<Action, { type: 'slack' }> => x.type === 'slack');
  const actions = input.actions.map((a): Action => {
    if (a.type === 'slack') {
      if (!a.url.endsWith(`/${REDACTED}`)) return a;
      const i = unusedSlack.findIndex((x) => redactSlackUrl(x.url) === a.url);
      if (i < 0) throw badRequest(`slack url "${a.url}" is redacted but has no stored value to keep`);
      return { type: 'slack', url: unusedSlack.splice(i, 1)[0]!.url };
    }
    if (a.type !== 'webhook') return a;
    // A URL shown with its password redacted stands for the stored URL it was made from.
    const prev = previous.find(
      (x): x is Extract<Action, { type: 'webhook' }> =>
        x.type === 'webhook' && (x.url === a.url || redactWebhookUrl(x.url) === a.url),
    );
    const redacted = isRedactedWebhookUrl(a.url);
    if (redacted && !prev)
      throw badRequest(`webhook url "${a.url}" is redacted but has no stored value to keep`);
    const out: Extract<Action, { type: 'webhook' }> = { type: 'webhook', url: redacted ? prev!.url : a.url };
    const secret = a.secret === undefined || a.secret === REDACTED ? prev?.secret : a.secret;
    if (secret) out.secret = secret;
    if (a.headers) {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(a.headers)) {
        if (v !== REDACTED) headers[k] = v;
        else {
          const old = Object.entries(prev?.headers ?? {}).find(
            ([pk]) => pk.toLowerCase() === k.toLowerCase(),
          );
          if (!old) throw badRequest(`header ${k} is "${REDACTED}" but has no stored value to keep`);
          headers[k] = old[1];
        }
      }
      out.headers = headers;
    }
    return out;
  });
  return { ...input, actions };
}
