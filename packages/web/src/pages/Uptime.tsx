import { type FormEvent, useEffect, useState } from 'react';
import { del, get, listOf, patch, post } from '../api.js';
import { BarChart, LineChart } from '../charts.js';
import { live } from '../live.js';
import { Link, navigate } from '../router.js';
import { useApp, useCan } from '../state.js';
import { ActionButton, Badge, Empty, Field, FormError, Load, Time, useAction, useAsync } from '../ui.js';

interface Service {
  id: number;
  name: string;
  description?: string | null;
  projectId?: number | null;
  orgId?: number;
  status?: string;
}
/** `GET /api/v1/services/:id/status`: 24-hour figures from the raw checks (windows lag 5 minutes). */
interface ServiceStatus {
  endpoints: Array<{ id: number; maintenance: boolean; availability24h: number | null; checks24h: number }>;
}
const percent = (a: number | null | undefined) =>
  a == null ? '—' : `${(a * 100).toFixed(a === 1 ? 0 : 2)}%`;
/** The status of each of these services, by service id. */
function useServiceStatus(serviceIds: number[]) {
  const key = serviceIds.join(',');
  return useAsync(
    async () =>
      new Map(
        await Promise.all(
          serviceIds.map(
            async (id) => [id, await get<ServiceStatus>(`/api/v1/services/${id}/status`)] as const,
          ),
        ),
      ),
    [key],
  );
}
const endpointFigures = (m: Map<number, ServiceStatus> | undefined, e: { id: number; serviceId: number }) =>
  m?.get(e.serviceId)?.endpoints.find((x) => x.id === e.id);

interface Endpoint {
  id: number;
  serviceId: number;
  name: string;
  url: string;
  method?: string;
  interval?: number;
  intervalS?: number;
  timeout?: number;
  timeoutMs?: number;
  expectedStatus?: number | number[] | null;
  keyword?: string | null;
  enabled?: boolean;
  status?: string;
  lastStatus?: string | null;
  lastCheckedAt?: string | null;
  lastLatencyMs?: number | null;
  openIncidentId?: number | null;
  availability24h?: number | null;
}
interface Ping {
  id: number;
  slotAt?: string;
  checkedAt?: string;
  startedAt?: string;
  ok: boolean;
  status: string;
  statusCode?: number | null;
  httpStatus?: number | null;
  errorKind?: string | null;
  error?: string | null;
  latencyMs?: number | null;
}
interface Window {
  windowStart?: string;
  start?: string;
  checks?: number;
  failures?: number;
  availability: number;
  latencyAvg?: number | null;
  latencyP50?: number | null;
  latencyP95?: number | null;
}
interface Incident {
  id: number;
  endpointId: number;
  serviceId?: number;
  status: 'open' | 'resolved';
  cause: string;
  startedAt: string;
  resolvedAt?: string | null;
}

const endpointState = (e: Endpoint) =>
  e.status ?? e.lastStatus ?? (e.enabled === false ? 'paused' : 'pending');
const stateKind = (s: string) =>
  s === 'up' || s === 'ok'
    ? 'up'
    : s === 'down' || s === 'failing'
      ? 'down'
      : s === 'degraded'
        ? 'warning'
        : 'muted';

/** Refetch when a monitor event arrives and every 20 s: statuses change without incidents too. */
function useLiveReload(reload: () => void, ms = 20_000) {
  useEffect(() => {
    const off = live.subscribe((m) => m.type === 'monitor' && reload());
    const iv = setInterval(reload, ms);
    return () => {
      off();
      clearInterval(iv);
    };
  }, [reload, ms]);
}

export function UptimePage() {
  const { project } = useApp();
  const canWrite = useCan()('write');
  const pid = project!.id;
  const services = useAsync(
    async () => listOf<Service>(await get<unknown>(`/api/v1/services?orgId=${project!.orgId}`), 'services'),
    [project!.orgId],
  );
  const endpoints = useAsync(
    async () => listOf<Endpoint>(await get<unknown>('/api/v1/endpoints'), 'endpoints'),
    [],
  );
  const incidents = useAsync(
    async () => listOf<Incident>(await get<unknown>('/api/v1/incidents?limit=20'), 'incidents'),
    [],
  );
  const [creating, setCreating] = useState(false);
  const mine = (services.data ?? []).filter((s) => s.projectId === pid || s.projectId == null);
  const mineIds = new Set(mine.map((s) => s.id));
  const statuses = useServiceStatus(mine.map((s) => s.id));
  useLiveReload(endpoints.reload);
  useLiveReload(incidents.reload);
  useLiveReload(statuses.reload, 60_000);
  return (
    <div className="page">
      <div className="page-head">
        <h1>Uptime</h1>
        {canWrite && (
          <button
            type="button"
            className="btn primary"
            onClick={() => setCreating((c) => !c)}
            aria-expanded={creating}
          >
            {creating ? 'Close' : 'New endpoint'}
          </button>
        )}
      </div>
      {creating && (
        <EndpointForm
          services={mine}
          pid={pid}
          onSaved={(e) => {
            setCreating(false);
            services.reload();
            endpoints.reload();
            navigate(`/p/${pid}/uptime/${e.id}`);
          }}
        />
      )}
      <Load a={services}>
        {() =>
          mine.length === 0 ? (
            <Empty title="No services monitored yet">
              Create an endpoint: Beacon checks it on a schedule and opens incidents when it fails.
            </Empty>
          ) : (
            <div className="stack-lg">
              {mine.map((s) => {
                const eps = (endpoints.data ?? []).filter((e) => e.serviceId === s.id);
                // The worst state of the running endpoints wins: degraded or not yet checked is not "operational".
                const active = eps
                  .map((e) => stateKind(endpointState(e)))
                  .filter((_, i) => endpointState(eps[i]!) !== 'paused');
                const down = active.filter((k) => k === 'down').length;
                const [badgeKind, badgeText] = down
                  ? ['down', `${down} down`]
                  : active.includes('warning')
                    ? ['warning', 'degraded']
                    : active.length === 0
                      ? ['muted', 'paused']
                      : active.every((k) => k === 'up')
                        ? ['up', 'operational']
                        : ['muted', 'pending'];
                return (
                  <section key={s.id} className="card" aria-label={`Service ${s.name}`}>
                    <div className="page-head">
                      <h2>
                        {s.name} {eps.length > 0 && <Badge kind={badgeKind}>{badgeText}</Badge>}
                      </h2>
                      {s.description && <span className="muted">{s.description}</span>}
                    </div>
                    {eps.length === 0 ? (
                      <p className="muted">No endpoints in this service.</p>
                    ) : (
                      <table className="table">
                        <thead>
                          <tr>
                            <th>Status</th>
                            <th>Endpoint</th>
                            <th className="num">Uptime 24 h</th>
                            <th className="num hide-sm">Latency</th>
                            <th className="hide-sm">Checked</th>
                          </tr>
                        </thead>
                        <tbody>
                          {eps.map((e) => {
                            const st = endpointState(e);
                            const fig = endpointFigures(statuses.data, e);
                            return (
                              <tr key={e.id} data-endpoint-id={e.id}>
                                <td>
                                  <Badge kind={stateKind(st)}>{st}</Badge>
                                  {fig?.maintenance && (
                                    <div>
                                      <Badge kind="info">maintenance</Badge>
                                    </div>
                                  )}
                                </td>
                                <td>
                                  <Link to={`/p/${pid}/uptime/${e.id}`}>
                                    <strong>{e.name}</strong>
                                  </Link>
                                  <div className="muted small mono break">
                                    {e.method ?? 'GET'} {e.url}
                                  </div>
                                </td>
                                <td
                                  className="num"
                                  title={fig ? `${fig.checks24h} checks in the last 24 hours` : undefined}
                                >
                                  {percent(fig?.availability24h)}
                                </td>
                                <td className="num hide-sm">
                                  {e.lastLatencyMs != null ? `${Math.round(e.lastLatencyMs)} ms` : '—'}
                                </td>
                                <td className="hide-sm">
                                  <Time iso={e.lastCheckedAt} />
                                </td>
                              </tr>
                            );
                          })}
                        </tbody>
                      </table>
                    )}
                  </section>
                );
              })}
            </div>
          )
        }
      </Load>
      <section aria-labelledby="inc-h">
        <h2 id="inc-h">Recent incidents</h2>
        <Load a={incidents}>
          {(list) => (
            // Incidents of this project's services (and of services tied to no project) only.
            <IncidentTimeline
              items={list.filter((i) => i.serviceId === undefined || mineIds.has(i.serviceId))}
              endpoints={endpoints.data ?? []}
              pid={pid}
            />
          )}
        </Load>
      </section>
    </div>
  );
}

function IncidentTimeline({
  items,
  endpoints,
  pid,
}: {
  items: Incident[];
  endpoints: Endpoint[];
  pid: number;
}) {
  if (items.length === 0) return <Empty title="No incidents" />;
  return (
    <ol className="timeline">
      {items.map((i) => {
        const ep = endpoints.find((e) => e.id === i.endpointId);
        const dur =
          (i.resolvedAt ? new Date(i.resolvedAt).getTime() : Date.now()) - new Date(i.startedAt).getTime();
        return (
          <li key={i.id} className={i.status === 'open' ? 'open' : 'resolved'}>
            <Badge kind={i.status === 'open' ? 'down' : 'up'}>
              {i.status === 'open' ? 'ongoing' : 'resolved'}
            </Badge>{' '}
            <Link to={`/p/${pid}/uptime/${i.endpointId}`}>{ep?.name ?? `endpoint #${i.endpointId}`}</Link> —{' '}
            {i.cause}
            <div className="muted small">
              started <Time iso={i.startedAt} /> · {i.status === 'open' ? 'for' : 'lasted'} {duration(dur)}
            </div>
          </li>
        );
      })}
    </ol>
  );
}

/** Windows in time order with a gap (no checks: paused, maintenance) where a 5-minute slot is missing. */
function fillWindows(ws: Window[]): Array<{ t: number; w: Window | undefined }> {
  const STEP = 300_000;
  const byTime = new Map(ws.map((w) => [new Date(w.windowStart ?? w.start ?? 0).getTime(), w]));
  const times = [...byTime.keys()].filter(Number.isFinite).sort((a, b) => a - b);
  if (times.length === 0) return [];
  const out: Array<{ t: number; w: Window | undefined }> = [];
  for (let t = times[0]!; t <= times[times.length - 1]! && out.length < 2000; t += STEP)
    out.push({ t, w: byTime.get(t) });
  return out;
}

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86400) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} days`;
}

export function EndpointPage({ endpointId }: { endpointId: string }) {
  const { project } = useApp();
  const canWrite = useCan()('write');
  const pid = project!.id;
  const ep = useAsync(() => get<Endpoint>(`/api/v1/endpoints/${endpointId}`), [endpointId]);
  const windows = useAsync(
    async () => listOf<Window>(await get<unknown>(`/api/v1/endpoints/${endpointId}/windows`), 'windows'),
    [endpointId],
  );
  const pings = useAsync(
    async () => listOf<Ping>(await get<unknown>(`/api/v1/endpoints/${endpointId}/pings?limit=50`), 'pings'),
    [endpointId],
  );
  const incidents = useAsync(
    async () =>
      listOf<Incident>(
        await get<unknown>(`/api/v1/incidents?endpointId=${endpointId}&limit=20`),
        'incidents',
      ),
    [endpointId],
  );
  const [editing, setEditing] = useState(false);
  const action = useAction();
  const serviceId = ep.data?.serviceId;
  const status = useServiceStatus(serviceId === undefined ? [] : [serviceId]);
  useLiveReload(status.reload, 10_000);
  useLiveReload(ep.reload, 10_000);
  useLiveReload(pings.reload, 10_000);
  useLiveReload(windows.reload, 60_000);
  useLiveReload(incidents.reload);

  return (
    <div className="page">
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to={`/p/${pid}/uptime`}>Uptime</Link> <span aria-hidden="true">/</span>{' '}
        <span>Endpoint #{endpointId}</span>
      </nav>
      <Load a={ep}>
        {(e) => {
          const st = endpointState(e);
          const ws = windows.data ?? [];
          const timeline = fillWindows(ws);
          const pts = timeline.map(({ t, w }) => ({
            t,
            v: w ? (w.availability <= 1 ? w.availability * 100 : w.availability) : null,
          }));
          const lat = timeline.map(({ t, w }) => ({
            t,
            v: w ? (w.latencyP95 ?? w.latencyAvg ?? null) : null,
          }));
          const fig = endpointFigures(status.data, e);
          return (
            <>
              <div className="issue-head">
                <div className="issue-head-main">
                  <h1>
                    <Badge kind={stateKind(st)}>{st}</Badge> {e.name}
                  </h1>
                  <p className="mono muted break">
                    {e.method ?? 'GET'} {e.url} · every {e.interval ?? e.intervalS ?? '?'} s
                  </p>
                </div>
                {canWrite && (
                  <div className="issue-actions">
                    <button
                      type="button"
                      className="btn"
                      onClick={() => setEditing((x) => !x)}
                      aria-expanded={editing}
                    >
                      {editing ? 'Close' : 'Edit'}
                    </button>
                    <ActionButton
                      action={action}
                      className="btn ghost"
                      run={async () => {
                        await patch(`/api/v1/endpoints/${e.id}`, { enabled: e.enabled === false });
                        ep.reload();
                      }}
                    >
                      {e.enabled === false ? 'Resume' : 'Pause'}
                    </ActionButton>
                  </div>
                )}
              </div>
              <FormError error={action.error} />
              {editing && (
                <EndpointForm
                  endpoint={e}
                  services={[]}
                  pid={pid}
                  onSaved={() => {
                    setEditing(false);
                    ep.reload();
                  }}
                />
              )}
              <dl className="stats">
                <div>
                  <dt>Availability (24 h)</dt>
                  <dd>{percent(fig?.availability24h)}</dd>
                </div>
                <div>
                  <dt>Last latency</dt>
                  <dd>{e.lastLatencyMs != null ? `${Math.round(e.lastLatencyMs)} ms` : '—'}</dd>
                </div>
                <div>
                  <dt>Last check</dt>
                  <dd>
                    <Time iso={e.lastCheckedAt} />
                  </dd>
                </div>
                <div>
                  <dt>Checks (24 h)</dt>
                  <dd>{fig ? fig.checks24h : '—'}</dd>
                </div>
              </dl>
              <div className="grid-2">
                <section className="card">
                  <h2>Availability</h2>
                  {pts.length ? (
                    <BarChart
                      points={pts}
                      label="Availability per 5 minutes"
                      unit="%"
                      max={100}
                      colorFor={(v) => (v >= 99.9 ? '#16a34a' : v >= 95 ? '#f59e0b' : '#dc2626')}
                    />
                  ) : (
                    <Empty title="No 5-minute windows yet">
                      They appear a few minutes after the first checks.
                    </Empty>
                  )}
                </section>
                <section className="card">
                  <h2>Latency (p95)</h2>
                  {lat.some((p) => p.v !== null) ? (
                    <LineChart points={lat} label="p95 latency per 5 minutes" unit=" ms" />
                  ) : (
                    <Empty title="No latency data yet" />
                  )}
                </section>
              </div>
              <section className="card">
                <h2>Incidents</h2>
                <Load a={incidents}>
                  {(list) => (
                    <IncidentTimeline
                      items={list.filter((i) => i.endpointId === e.id)}
                      endpoints={[e]}
                      pid={pid}
                    />
                  )}
                </Load>
              </section>
              <section className="card">
                <h2>Recent checks</h2>
                <Load a={pings}>
                  {(list) =>
                    list.length === 0 ? (
                      <Empty title="No checks yet" />
                    ) : (
                      <table className="table pings">
                        <thead>
                          <tr>
                            <th>Time</th>
                            <th>Result</th>
                            <th className="num">HTTP</th>
                            <th className="num">Latency</th>
                            <th className="hide-sm">Error</th>
                          </tr>
                        </thead>
                        <tbody>
                          {list.map((p) => (
                            <tr key={p.id}>
                              <td className="small">
                                {new Date(p.checkedAt ?? p.startedAt ?? p.slotAt ?? '').toLocaleTimeString()}
                              </td>
                              <td>
                                <Badge kind={p.ok ? 'up' : 'down'}>{p.status}</Badge>
                              </td>
                              <td className="num">{p.statusCode ?? p.httpStatus ?? '—'}</td>
                              <td className="num">
                                {p.latencyMs != null ? `${Math.round(p.latencyMs)} ms` : '—'}
                              </td>
                              <td className="hide-sm small break">{p.error ?? p.errorKind ?? ''}</td>
                            </tr>
                          ))}
                        </tbody>
                      </table>
                    )
                  }
                </Load>
              </section>
            </>
          );
        }}
      </Load>
    </div>
  );
}

function EndpointForm({
  endpoint,
  services,
  pid,
  onSaved,
}: {
  endpoint?: Endpoint;
  services: Service[];
  pid: number;
  onSaved: (e: Endpoint) => void;
}) {
  const [serviceId, setServiceId] = useState(String(services[0]?.id ?? 'new'));
  const [serviceName, setServiceName] = useState('');
  const [name, setName] = useState(endpoint?.name ?? '');
  const [url, setUrl] = useState(endpoint?.url ?? 'https://');
  const [method, setMethod] = useState(endpoint?.method ?? 'GET');
  const [interval, setInterval] = useState(String(endpoint?.interval ?? endpoint?.intervalS ?? 60));
  const [expected, setExpected] = useState(
    endpoint?.expectedStatus == null
      ? ''
      : Array.isArray(endpoint.expectedStatus)
        ? endpoint.expectedStatus.join(', ')
        : String(endpoint.expectedStatus),
  );
  const [keyword, setKeyword] = useState(endpoint?.keyword ?? '');
  const action = useAction();
  useEffect(() => {
    if (services[0] && serviceId === 'new' && !serviceName) setServiceId(String(services[0].id));
  }, [services, serviceId, serviceName]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      const body: Record<string, unknown> = {
        name,
        url,
        method,
        interval: Number(interval),
        // "200" or "200, 204": every listed code is kept (the edit form used to keep the first only).
        expectedStatus: expected.trim()
          ? expected
              .split(/[\s,]+/)
              .filter(Boolean)
              .map(Number)
          : null,
        keyword: keyword || null,
      };
      if (endpoint) return onSaved(await patch<Endpoint>(`/api/v1/endpoints/${endpoint.id}`, body));
      if (serviceId !== 'new')
        return onSaved(await post<Endpoint>('/api/v1/endpoints', { ...body, serviceId: Number(serviceId) }));
      const service = await post<Service>('/api/v1/services', { name: serviceName || name, projectId: pid });
      try {
        onSaved(await post<Endpoint>('/api/v1/endpoints', { ...body, serviceId: service.id }));
      } catch (err) {
        // The endpoint was refused (bad URL…): leave no empty service behind for each attempt.
        await del(`/api/v1/services/${service.id}`).catch(() => {});
        throw err;
      }
    });
  };
  return (
    <form className="card stack" onSubmit={submit} aria-label={endpoint ? 'Edit endpoint' : 'New endpoint'}>
      {!endpoint && (
        <div className="grid-2">
          <Field label="Service">
            <select value={serviceId} onChange={(e) => setServiceId(e.target.value)}>
              {services.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
              <option value="new">+ New service…</option>
            </select>
          </Field>
          {serviceId === 'new' && (
            <Field label="New service name">
              <input
                value={serviceName}
                onChange={(e) => setServiceName(e.target.value)}
                placeholder="Payments API"
                required
              />
            </Field>
          )}
        </div>
      )}
      <div className="grid-2">
        <Field label="Endpoint name">
          <input value={name} onChange={(e) => setName(e.target.value)} required placeholder="Health check" />
        </Field>
        <Field label="URL">
          <input type="url" value={url} onChange={(e) => setUrl(e.target.value)} required />
        </Field>
      </div>
      <div className="grid-3">
        <Field label="Method">
          <select value={method} onChange={(e) => setMethod(e.target.value)}>
            {['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS'].map((m) => (
              <option key={m}>{m}</option>
            ))}
          </select>
        </Field>
        <Field label="Interval (seconds)" hint="10 seconds minimum.">
          <input
            type="number"
            min={10}
            max={86400}
            value={interval}
            onChange={(e) => setInterval(e.target.value)}
            required
          />
        </Field>
        <Field label="Expected status" hint="Empty: any 2xx. Several: 200, 204.">
          <input
            inputMode="numeric"
            pattern="\s*[1-5][0-9]{2}(\s*[,\s]\s*[1-5][0-9]{2})*\s*"
            value={expected}
            onChange={(e) => setExpected(e.target.value)}
          />
        </Field>
      </div>
      <Field label="Keyword" hint="The response body must contain this text (optional).">
        <input value={keyword} onChange={(e) => setKeyword(e.target.value)} />
      </Field>
      <FormError error={action.error} />
      <div className="row">
        <button type="submit" className="btn primary" disabled={action.busy}>
          {endpoint ? 'Save endpoint' : 'Create endpoint'}
        </button>
      </div>
    </form>
  );
}
