import { type FormEvent, useEffect, useState } from 'react';
import { del, get, listOf, post, put } from '../api.js';
import { live } from '../live.js';
import { Link, navigate } from '../router.js';
import { useApp, useCan } from '../state.js';
import {
  ActionButton,
  Badge,
  Empty,
  Field,
  FormError,
  Load,
  Tabs,
  Time,
  useAction,
  useAsync,
} from '../ui.js';

interface Alert {
  id: number;
  projectId: number;
  ruleId: number | null;
  ruleName: string;
  subject: string;
  issueId: number | null;
  endpointId?: number | null;
  triggerType: string;
  reason: string;
  state: 'firing' | 'acknowledged' | 'resolved';
  count: number;
  firstFiredAt: string;
  lastFiredAt: string;
  acknowledgedAt?: string | null;
}
interface Silence {
  id: number;
  ruleId: number | null;
  issueId: number | null;
  until: string;
  comment: string;
  createdAt?: string;
}
type Trigger = { type: string } & Record<string, unknown>;
type Action =
  | { type: 'webhook'; url: string; secret?: string }
  | { type: 'slack'; url: string }
  | { type: 'email'; to: string[] };
interface Rule {
  id: number;
  projectId: number;
  name: string;
  trigger: Trigger;
  filters: Record<string, unknown>;
  actions: Action[];
  cooldownMinutes: number;
  enabled: boolean;
  createdAt?: string;
}

export function AlertsPage() {
  const { project } = useApp();
  const can = useCan();
  const pid = project!.id;
  const [tab, setTab] = useState('alerts');
  const [state, setState] = useState('open');
  const alerts = useAsync(
    async () =>
      listOf<Alert>(
        await get<unknown>(`/api/v1/projects/${pid}/alerts${state === 'open' ? '' : `?state=${state}`}`),
        'alerts',
      ),
    [pid, state],
  );
  const silences = useAsync(
    async () => listOf<Silence>(await get<unknown>(`/api/v1/projects/${pid}/silences`), 'silences'),
    [pid, tab],
  );
  const action = useAction();

  // Alerts are raised by the alerts worker from the same issue updates and incidents the live
  // socket carries: refetch shortly after each (twice, as the worker may lag), and every 15 s.
  useEffect(() => {
    const timers: Array<ReturnType<typeof setTimeout>> = [];
    const off = live.subscribe((m) => {
      if (m.type === 'hello') return;
      for (const t of timers.splice(0)) clearTimeout(t);
      timers.push(setTimeout(alerts.reload, 1000), setTimeout(alerts.reload, 4000));
    });
    const iv = setInterval(alerts.reload, 15_000);
    return () => {
      off();
      for (const t of timers) clearTimeout(t);
      clearInterval(iv);
    };
  }, [alerts.reload]);

  const ack = (a: Alert) =>
    action.run(async () => {
      await post(`/api/v1/alerts/${a.id}/acknowledge`, {});
      alerts.set((l) => l?.map((x) => (x.id === a.id ? { ...x, state: 'acknowledged' } : x)));
    });
  const silence = (a: Alert, hours: number) =>
    action.run(async () => {
      await post(`/api/v1/projects/${pid}/silences`, {
        ruleId: a.ruleId ?? undefined,
        issueId: a.issueId ?? undefined,
        until: new Date(Date.now() + hours * 3600_000).toISOString(),
        comment: `Silenced from the dashboard for ${hours} h`,
      });
      silences.reload();
    });
  const filtered = (alerts.data ?? []).filter((a) => state !== 'open' || a.state !== 'resolved');

  return (
    <div className="page">
      <div className="page-head">
        <h1>Alerts</h1>
        <Link to={`/p/${pid}/rules`} className="btn">
          Manage rules
        </Link>
      </div>
      <Tabs
        label="Alerts"
        value={tab}
        onChange={setTab}
        tabs={[
          ['alerts', 'Alerts'],
          ['silences', 'Silences'],
        ]}
      />
      <FormError error={action.error} />
      {tab === 'alerts' && (
        <>
          <div className="filters">
            <label>
              <span className="sr-only">State</span>
              <select aria-label="Alert state" value={state} onChange={(e) => setState(e.target.value)}>
                <option value="open">Open (firing or acknowledged)</option>
                <option value="firing">Firing</option>
                <option value="acknowledged">Acknowledged</option>
                <option value="resolved">Resolved</option>
              </select>
            </label>
          </div>
          <Load a={alerts}>
            {() =>
              filtered.length === 0 ? (
                <Empty title="No alerts">
                  Alerts appear when a <Link to={`/p/${pid}/rules`}>rule</Link> fires.
                </Empty>
              ) : (
                <table className="table">
                  <thead>
                    <tr>
                      <th>State</th>
                      <th>Alert</th>
                      <th className="num hide-sm">Times</th>
                      <th className="hide-sm">Last fired</th>
                      <th>
                        <span className="sr-only">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {filtered.map((a) => (
                      <tr key={a.id} data-alert-id={a.id}>
                        <td>
                          <Badge kind={a.state}>{a.state}</Badge>
                        </td>
                        <td>
                          <strong>{a.ruleName}</strong>
                          <div className="muted small">
                            {a.reason}
                            {a.issueId && (
                              <>
                                {' · '}
                                <Link to={`/p/${pid}/issues/${a.issueId}`}>issue #{a.issueId}</Link>
                              </>
                            )}
                            {a.endpointId && (
                              <>
                                {' · '}
                                <Link to={`/p/${pid}/uptime/${a.endpointId}`}>endpoint #{a.endpointId}</Link>
                              </>
                            )}
                          </div>
                        </td>
                        <td className="num hide-sm">{a.count}</td>
                        <td className="hide-sm">
                          <Time iso={a.lastFiredAt} />
                        </td>
                        <td className="actions">
                          {a.state === 'firing' && can('resolve') && (
                            <button
                              type="button"
                              className="btn small"
                              disabled={action.busy}
                              onClick={() => ack(a)}
                            >
                              Acknowledge
                            </button>
                          )}
                          {a.state !== 'resolved' && can('write') && (
                            <button
                              type="button"
                              className="btn small ghost"
                              disabled={action.busy}
                              onClick={() => silence(a, 24)}
                            >
                              Silence 24 h
                            </button>
                          )}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )
            }
          </Load>
        </>
      )}
      {tab === 'silences' && <Silences pid={pid} silences={silences} />}
    </div>
  );
}

function Silences({ pid, silences }: { pid: number; silences: ReturnType<typeof useAsync<Silence[]>> }) {
  const rules = useAsync(
    async () => listOf<Rule>(await get<unknown>(`/api/v1/projects/${pid}/rules`), 'rules'),
    [pid],
  );
  const [ruleId, setRuleId] = useState('');
  const [hours, setHours] = useState('24');
  const [comment, setComment] = useState('');
  const action = useAction();
  const canWrite = useCan()('write');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      await post(`/api/v1/projects/${pid}/silences`, {
        ruleId: ruleId ? Number(ruleId) : undefined,
        until: new Date(Date.now() + Number(hours) * 3600_000).toISOString(),
        comment,
      });
      setComment('');
      silences.reload();
    });
  };
  return (
    <div className="stack-lg">
      {canWrite && (
        <form className="card form-inline" onSubmit={submit} aria-label="New silence">
          <Field label="Rule">
            <select value={ruleId} onChange={(e) => setRuleId(e.target.value)}>
              <option value="">All rules of this project</option>
              {(rules.data ?? []).map((r) => (
                <option key={r.id} value={r.id}>
                  {r.name}
                </option>
              ))}
            </select>
          </Field>
          <Field label="For">
            <select value={hours} onChange={(e) => setHours(e.target.value)}>
              <option value="1">1 hour</option>
              <option value="4">4 hours</option>
              <option value="24">1 day</option>
              <option value="168">1 week</option>
            </select>
          </Field>
          <Field label="Comment">
            <input
              value={comment}
              onChange={(e) => setComment(e.target.value)}
              placeholder="Deploy in progress"
            />
          </Field>
          <button type="submit" className="btn primary" disabled={action.busy}>
            Silence
          </button>
          <FormError error={action.error} />
        </form>
      )}
      <Load a={silences}>
        {(list) =>
          list.length === 0 ? (
            <Empty title="No silences" />
          ) : (
            <table className="table">
              <thead>
                <tr>
                  <th>Scope</th>
                  <th>Until</th>
                  <th>Comment</th>
                  <th>
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.map((s) => (
                  <tr key={s.id}>
                    <td>
                      {s.ruleId ? `rule #${s.ruleId}` : s.issueId ? `issue #${s.issueId}` : 'all rules'}
                    </td>
                    <td>{new Date(s.until).toLocaleString()}</td>
                    <td>{s.comment}</td>
                    <td className="actions">
                      {canWrite && (
                        <button
                          type="button"
                          className="btn small ghost"
                          onClick={() =>
                            action.run(async () => {
                              await del(`/api/v1/projects/${pid}/silences/${s.id}`);
                              silences.reload();
                            })
                          }
                        >
                          End
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Load>
    </div>
  );
}

const triggerLabels: Record<string, string> = {
  new_issue: 'A new issue is created',
  regression: 'A resolved issue comes back',
  level: 'An event at or above a level',
  count_threshold: "An issue's total count crosses a threshold",
  frequency: 'More than N events (or users) in a window',
  anomaly: 'Event volume is anomalous',
  uptime: 'An uptime incident opens or resolves',
};

function describeTrigger(t: Trigger): string {
  switch (t.type) {
    case 'level':
      return `event level ≥ ${t.level}`;
    case 'count_threshold':
      return `issue count ≥ ${t.threshold}`;
    case 'frequency':
      return `> ${t.threshold} ${t.metric ?? 'events'} in ${t.windowMinutes} min per ${t.per ?? 'issue'}`;
    case 'anomaly':
      return `anomalous volume (${t.windowMinutes ?? 5} min windows)`;
    default:
      return triggerLabels[t.type] ?? t.type;
  }
}

function describeAction(a: Action): string {
  if (a.type === 'email') return `email ${a.to.join(', ')}`;
  return `${a.type} ${a.url.replace(/^https?:\/\//, '').slice(0, 48)}`;
}

export function RulesPage({ ruleId }: { ruleId?: string }) {
  const { project } = useApp();
  const can = useCan();
  const pid = project!.id;
  const rules = useAsync(
    async () => listOf<Rule>(await get<unknown>(`/api/v1/projects/${pid}/rules`), 'rules'),
    [pid],
  );
  const [tab, setTab] = useState('rules');
  if (ruleId) {
    const editing = ruleId === 'new' ? undefined : rules.data?.find((r) => r.id === Number(ruleId));
    if (ruleId !== 'new' && !editing)
      return (
        <div className="page">
          <Load a={rules}>{() => <Empty title="Rule not found" />}</Load>
        </div>
      );
    return (
      <div className="page narrow">
        <nav className="crumbs" aria-label="Breadcrumb">
          <Link to={`/p/${pid}/rules`}>Rules</Link> <span aria-hidden="true">/</span>{' '}
          <span>{editing ? editing.name : 'New rule'}</span>
        </nav>
        <h1>{editing ? 'Edit rule' : 'New alert rule'}</h1>
        <RuleForm
          pid={pid}
          rule={editing}
          onSaved={() => {
            rules.reload();
            navigate(`/p/${pid}/rules`);
          }}
        />
      </div>
    );
  }
  return (
    <div className="page">
      <div className="page-head">
        <h1>Alert rules</h1>
        {can('write') && (
          <Link to={`/p/${pid}/rules/new`} className="btn primary">
            New rule
          </Link>
        )}
      </div>
      <Tabs
        label="Rules and channels"
        value={tab}
        onChange={setTab}
        tabs={[
          ['rules', 'Rules'],
          ['channels', 'Channels'],
        ]}
      />
      <Load a={rules}>
        {(list) =>
          tab === 'channels' ? (
            <Channels rules={list} pid={pid} />
          ) : list.length === 0 ? (
            <Empty title="No rules yet">
              Rules decide when Beacon notifies you.{' '}
              <Link to={`/p/${pid}/rules/new`}>Create the first one</Link>.
            </Empty>
          ) : (
            <table className="table">
              <thead>
                <tr>
                  <th>Rule</th>
                  <th className="hide-sm">When</th>
                  <th className="hide-sm">Notify</th>
                  <th>
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.map((r) => (
                  <RuleRow key={r.id} rule={r} pid={pid} onChange={rules.reload} />
                ))}
              </tbody>
            </table>
          )
        }
      </Load>
    </div>
  );
}

function RuleRow({ rule: r, pid, onChange }: { rule: Rule; pid: number; onChange: () => void }) {
  const action = useAction();
  const canWrite = useCan()('write');
  const [tested, setTested] = useState<string>();
  return (
    <tr data-rule-id={r.id}>
      <td>
        <Link to={`/p/${pid}/rules/${r.id}`}>
          <strong>{r.name}</strong>
        </Link>{' '}
        {!r.enabled && <Badge kind="ignored">disabled</Badge>}
        <div className="muted small show-sm">{describeTrigger(r.trigger)}</div>
        {tested && (
          <div className="small ok" role="status">
            {tested}
          </div>
        )}
        <FormError error={action.error} />
      </td>
      <td className="hide-sm">{describeTrigger(r.trigger)}</td>
      <td className="hide-sm small">{r.actions.map(describeAction).join('; ')}</td>
      <td className="actions">
        {canWrite && (
          <>
            <ActionButton
              action={action}
              run={async () => {
                const res = await post<{ deliveryIds?: unknown[] }>(`/api/v1/rules/${r.id}/test`, {});
                const n = Array.isArray(res?.deliveryIds) ? res.deliveryIds.length : undefined;
                setTested(
                  `Test notification queued${n === undefined ? '' : ` to ${n} channel${n === 1 ? '' : 's'}`}.`,
                );
              }}
            >
              Send test
            </ActionButton>
            <ActionButton
              action={action}
              className="btn small ghost"
              run={async () => {
                await saveRule(r, { enabled: !r.enabled });
                onChange();
              }}
            >
              {r.enabled ? 'Disable' : 'Enable'}
            </ActionButton>
            <ActionButton
              action={action}
              className="btn small danger"
              guard={() => confirm(`Delete the rule "${r.name}"?`)}
              run={async () => {
                await del(`/api/v1/rules/${r.id}`);
                onChange();
              }}
            >
              Delete
            </ActionButton>
          </>
        )}
      </td>
    </tr>
  );
}

/** Rules are replaced whole (PUT); a partial change is merged onto the current rule. */
async function saveRule(rule: Rule, change: Record<string, unknown>): Promise<void> {
  const { name, trigger, filters, actions, cooldownMinutes, enabled } = rule;
  await put(`/api/v1/rules/${rule.id}`, {
    name,
    trigger,
    filters,
    actions,
    cooldownMinutes,
    enabled,
    ...change,
  });
}

function Channels({ rules, pid }: { rules: Rule[]; pid: number }) {
  const channels = new Map<string, { action: Action; rules: string[] }>();
  for (const r of rules)
    for (const a of r.actions) {
      const key = a.type === 'email' ? `email:${a.to.join(',')}` : `${a.type}:${a.url}`;
      const c = channels.get(key) ?? { action: a, rules: [] };
      c.rules.push(r.name);
      channels.set(key, c);
    }
  const deliveries = useAsync(
    async () =>
      listOf<Record<string, unknown>>(await get<unknown>(`/api/v1/projects/${pid}/deliveries`), 'deliveries'),
    [pid],
  );
  const action = useAction();
  return (
    <div className="stack-lg">
      {channels.size === 0 ? (
        <Empty title="No channels">Channels (webhook, Slack, email) are added to rules.</Empty>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>Type</th>
              <th>Target</th>
              <th className="hide-sm">Used by</th>
            </tr>
          </thead>
          <tbody>
            {[...channels.entries()].map(([k, c]) => (
              <tr key={k}>
                <td>
                  <Badge kind="info">{c.action.type}</Badge>
                </td>
                <td className="break mono small">
                  {c.action.type === 'email' ? c.action.to.join(', ') : c.action.url}
                </td>
                <td className="hide-sm">{c.rules.join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {deliveries.data && deliveries.data.length > 0 && (
        <section>
          <h2>Recent deliveries</h2>
          <FormError error={action.error} />
          <table className="table">
            <thead>
              <tr>
                <th>Channel</th>
                <th>State</th>
                <th className="num">Attempts</th>
                <th className="hide-sm">Last error</th>
                <th className="hide-sm">Created</th>
                <th>
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {deliveries.data.slice(0, 50).map((d) => (
                <tr key={String(d.id)}>
                  <td>{String(d.channel ?? '')}</td>
                  <td>
                    <Badge kind={String(d.state)}>{String(d.state)}</Badge>
                  </td>
                  <td className="num">{String(d.attempts ?? '')}</td>
                  <td className="hide-sm small break">{String(d.lastError ?? '')}</td>
                  <td className="hide-sm">
                    <Time iso={typeof d.createdAt === 'string' ? d.createdAt : null} />
                  </td>
                  <td className="actions">
                    {d.state === 'dead' && (
                      <ActionButton
                        action={action}
                        run={async () => {
                          await post(`/api/v1/deliveries/${String(d.id)}/replay`, {});
                          deliveries.reload();
                        }}
                      >
                        Replay
                      </ActionButton>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </div>
  );
}

interface FormState {
  name: string;
  type: string;
  level: string;
  threshold: string;
  windowMinutes: string;
  metric: string;
  per: string;
  zThreshold: string;
  minCount: string;
  serviceId: string;
  environment: string;
  filterLevel: string;
  cooldownMinutes: string;
  enabled: boolean;
  actions: Array<{ type: 'webhook' | 'slack' | 'email'; target: string }>;
}

function toForm(r?: Rule): FormState {
  const t = (r?.trigger ?? { type: 'new_issue' }) as Record<string, unknown>;
  const s = (v: unknown, d: string) => (v === undefined || v === null ? d : String(v));
  const env = r?.filters?.environment;
  return {
    name: r?.name ?? '',
    type: String(t.type),
    level: s(t.level, 'error'),
    threshold: s(t.threshold, '100'),
    windowMinutes: s(t.windowMinutes, t.type === 'anomaly' ? '5' : '60'),
    metric: s(t.metric, 'events'),
    per: s(t.per, t.type === 'anomaly' ? 'project' : 'issue'),
    zThreshold: s(t.zThreshold, '6'),
    minCount: s(t.minCount, '10'),
    serviceId: s(t.serviceId, ''),
    environment: Array.isArray(env) ? env.join(',') : s(env, ''),
    filterLevel: s(r?.filters?.level, ''),
    cooldownMinutes: s(r?.cooldownMinutes, '60'),
    enabled: r?.enabled ?? true,
    actions: r?.actions.map((a) => ({
      type: a.type,
      target: a.type === 'email' ? a.to.join(', ') : a.url,
    })) ?? [{ type: 'webhook', target: '' }],
  };
}

function fromForm(f: FormState) {
  const n = (v: string) => Number(v);
  let trigger: Record<string, unknown> = { type: f.type };
  if (f.type === 'level') trigger = { type: 'level', level: f.level };
  if (f.type === 'count_threshold') trigger = { type: f.type, threshold: n(f.threshold) };
  if (f.type === 'frequency')
    trigger = {
      type: f.type,
      threshold: n(f.threshold),
      windowMinutes: n(f.windowMinutes),
      metric: f.metric,
      per: f.per,
    };
  if (f.type === 'anomaly')
    trigger = {
      type: f.type,
      windowMinutes: n(f.windowMinutes),
      per: f.per,
      zThreshold: n(f.zThreshold),
      minCount: n(f.minCount),
    };
  if (f.type === 'uptime')
    trigger = f.serviceId ? { type: f.type, serviceId: n(f.serviceId) } : { type: f.type };
  const filters: Record<string, unknown> = {};
  const envs = f.environment
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (envs.length) filters.environment = envs;
  if (f.filterLevel) filters.level = f.filterLevel;
  return {
    name: f.name.trim(),
    trigger,
    filters,
    actions: f.actions
      .filter((a) => a.target.trim())
      .map((a) =>
        a.type === 'email'
          ? {
              type: 'email',
              to: a.target
                .split(',')
                .map((s) => s.trim())
                .filter(Boolean),
            }
          : { type: a.type, url: a.target.trim() },
      ),
    cooldownMinutes: n(f.cooldownMinutes),
    enabled: f.enabled,
  };
}

function ServicePicker({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  const { project } = useApp();
  const services = useAsync(
    async () =>
      listOf<{ id: number; name: string }>(
        await get<unknown>(`/api/v1/services?orgId=${project!.orgId}`),
        'services',
      ),
    [project!.orgId],
  );
  return (
    <Field label="Service" hint="Incidents of this service (or of every service linked to this project).">
      <select value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">Every service of this project</option>
        {(services.data ?? []).map((s) => (
          <option key={s.id} value={s.id}>
            {s.name}
          </option>
        ))}
      </select>
    </Field>
  );
}

function RuleForm({ pid, rule, onSaved }: { pid: number; rule?: Rule; onSaved: () => void }) {
  const [f, setF] = useState<FormState>(() => toForm(rule));
  const set = <K extends keyof FormState>(k: K, v: FormState[K]) => setF((s) => ({ ...s, [k]: v }));
  const action = useAction();
  const levels = ['debug', 'info', 'warning', 'error', 'fatal'];
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      const body = fromForm(f);
      if (rule) await saveRule(rule, body);
      else await post(`/api/v1/projects/${pid}/rules`, body);
      onSaved();
    });
  };
  return (
    <form className="card stack" onSubmit={submit} aria-label="Alert rule">
      <Field label="Name">
        <input
          required
          value={f.name}
          onChange={(e) => set('name', e.target.value)}
          placeholder="New errors in production"
        />
      </Field>
      <Field label="Trigger">
        <select value={f.type} onChange={(e) => set('type', e.target.value)}>
          {Object.entries(triggerLabels).map(([k, v]) => (
            <option key={k} value={k}>
              {v}
            </option>
          ))}
        </select>
      </Field>
      {f.type === 'level' && (
        <Field label="Minimum level">
          <select value={f.level} onChange={(e) => set('level', e.target.value)}>
            {levels.map((l) => (
              <option key={l}>{l}</option>
            ))}
          </select>
        </Field>
      )}
      {(f.type === 'count_threshold' || f.type === 'frequency') && (
        <Field label={f.type === 'frequency' ? 'More than' : 'Threshold (events)'}>
          <input
            type="number"
            min={f.type === 'frequency' ? 0 : 1}
            required
            value={f.threshold}
            onChange={(e) => set('threshold', e.target.value)}
          />
        </Field>
      )}
      {f.type === 'frequency' && (
        <div className="grid-3">
          <Field label="Count">
            <select value={f.metric} onChange={(e) => set('metric', e.target.value)}>
              <option value="events">events</option>
              <option value="users">distinct users</option>
            </select>
          </Field>
          <Field label="Within (minutes)">
            <input
              type="number"
              min={1}
              max={1440}
              value={f.windowMinutes}
              onChange={(e) => set('windowMinutes', e.target.value)}
            />
          </Field>
          <Field label="Per">
            <select value={f.per} onChange={(e) => set('per', e.target.value)}>
              <option value="issue">issue</option>
              <option value="project">project</option>
            </select>
          </Field>
        </div>
      )}
      {f.type === 'anomaly' && (
        <div className="grid-3">
          <Field label="Window (minutes)">
            <input
              type="number"
              min={1}
              max={60}
              value={f.windowMinutes}
              onChange={(e) => set('windowMinutes', e.target.value)}
            />
          </Field>
          <Field label="Sensitivity (z-score)" hint="Lower fires more often.">
            <input
              type="number"
              min={1}
              max={100}
              step="0.5"
              value={f.zThreshold}
              onChange={(e) => set('zThreshold', e.target.value)}
            />
          </Field>
          <Field label="Minimum events">
            <input
              type="number"
              min={1}
              value={f.minCount}
              onChange={(e) => set('minCount', e.target.value)}
            />
          </Field>
        </div>
      )}
      {f.type === 'uptime' && <ServicePicker value={f.serviceId} onChange={(v) => set('serviceId', v)} />}
      {f.type !== 'uptime' && (
        <fieldset className="fieldset">
          <legend>Filters</legend>
          <div className="grid-2">
            <Field label="Environments" hint="Comma-separated; empty means all.">
              <input
                value={f.environment}
                onChange={(e) => set('environment', e.target.value)}
                placeholder="production"
              />
            </Field>
            <Field label="Only events at or above">
              <select value={f.filterLevel} onChange={(e) => set('filterLevel', e.target.value)}>
                <option value="">any level</option>
                {levels.map((l) => (
                  <option key={l}>{l}</option>
                ))}
              </select>
            </Field>
          </div>
        </fieldset>
      )}
      <fieldset className="fieldset">
        <legend>Notify</legend>
        {f.actions.map((a, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: editable rows
          <div className="row action-row" key={i}>
            <label>
              <span className="sr-only">Channel type {i + 1}</span>
              <select
                aria-label={`Channel type ${i + 1}`}
                value={a.type}
                onChange={(e) =>
                  set(
                    'actions',
                    f.actions.map((x, j) => (j === i ? { ...x, type: e.target.value as 'webhook' } : x)),
                  )
                }
              >
                <option value="webhook">Webhook</option>
                <option value="slack">Slack</option>
                <option value="email">Email</option>
              </select>
            </label>
            <label className="grow">
              <span className="sr-only">Channel target {i + 1}</span>
              <input
                aria-label={`Channel target ${i + 1}`}
                value={a.target}
                required={i === 0}
                placeholder={a.type === 'email' ? 'oncall@example.com, dev@example.com' : 'https://…'}
                onChange={(e) =>
                  set(
                    'actions',
                    f.actions.map((x, j) => (j === i ? { ...x, target: e.target.value } : x)),
                  )
                }
              />
            </label>
            {f.actions.length > 1 && (
              <button
                type="button"
                className="btn small ghost"
                onClick={() =>
                  set(
                    'actions',
                    f.actions.filter((_, j) => j !== i),
                  )
                }
              >
                Remove
              </button>
            )}
          </div>
        ))}
        <button
          type="button"
          className="btn small"
          onClick={() => set('actions', [...f.actions, { type: 'webhook', target: '' }])}
        >
          Add channel
        </button>
      </fieldset>
      <div className="grid-2">
        <Field label="Cooldown (minutes)" hint="Minimum time between notifications for one alert.">
          <input
            type="number"
            min={0}
            max={10080}
            value={f.cooldownMinutes}
            onChange={(e) => set('cooldownMinutes', e.target.value)}
          />
        </Field>
        <label className="check-label">
          <input type="checkbox" checked={f.enabled} onChange={(e) => set('enabled', e.target.checked)} />{' '}
          Enabled
        </label>
      </div>
      <FormError error={action.error} />
      <div className="row">
        <button type="submit" className="btn primary" disabled={action.busy}>
          {rule ? 'Save rule' : 'Create rule'}
        </button>
        <Link to={`/p/${pid}/rules`} className="btn ghost">
          Cancel
        </Link>
      </div>
    </form>
  );
}
