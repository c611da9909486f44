import { type ReactNode, useEffect, useState } from 'react';
import { ApiError, get, listOf, post } from '../api.js';
import { BarChart, ShareBars } from '../charts.js';
import { updateIssue } from '../issues-api.js';
import { live } from '../live.js';
import { Link } from '../router.js';
import { useApp, useCan } from '../state.js';
import type { BeaconEvent, Breadcrumb, ExceptionValue, Frame, Issue, IssueStatus } from '../types.js';
import {
  Badge,
  Empty,
  ErrorBox,
  FormError,
  fmt,
  Load,
  Spinner,
  Tabs,
  Time,
  useAction,
  useAsync,
} from '../ui.js';

interface TagBreakdown {
  key: string;
  values: Array<{ value: string; count: number }>;
  totalCount?: number;
  uniqueValues?: number;
}
interface ApiTag {
  key: string;
  totalCount?: number;
  uniqueValues?: number;
  topValues?: Array<{ value: string; count: number }>;
  values?: Array<{ value: string; count: number }>;
}
interface EventEnvelope {
  eventId: string;
  issueId?: number;
  timestamp: string;
  level?: string;
  release?: string | null;
  environment?: string | null;
  payload?: Record<string, unknown>;
  previousEventId?: string | null;
  nextEventId?: string | null;
}
interface IssueDetailBody extends Issue {
  tags?: ApiTag[] | Record<string, Array<{ value: string; count: number }>>;
  series?: Array<Record<string, unknown>>;
  hourly?: Array<Record<string, unknown>>;
  grouping?: { method?: string; components?: string[]; defaultComponents?: string[]; rule?: string } & Record<
    string,
    unknown
  >;
  fingerprint?: string[] | string;
  lastEventId?: string | null;
  latestEvent?: BeaconEvent;
}

function tagsOf(b: IssueDetailBody): TagBreakdown[] {
  const t = b.tags;
  if (!t) return [];
  if (Array.isArray(t))
    return t.map((x) => ({
      key: x.key,
      values: x.topValues ?? x.values ?? [],
      totalCount: x.totalCount,
      uniqueValues: x.uniqueValues,
    }));
  return Object.entries(t).map(([key, values]) => ({ key, values }));
}
function seriesOf(b: IssueDetailBody) {
  const s = b.series ?? b.hourly ?? [];
  return s.map((p) => ({
    t: String(p.t ?? p.bucket ?? p.hour ?? p.time ?? p.ts ?? ''),
    v: Number(p.count ?? p.v ?? p.events ?? 0),
  }));
}

export function IssueDetail({ issueId }: { issueId: number }) {
  const { project, org } = useApp();
  const canResolve = useCan()('resolve');
  const issue = useAsync(() => get<IssueDetailBody>(`/api/v1/issues/${issueId}`), [issueId]);
  const events = useAsync(
    async () =>
      listOf<EventEnvelope>(await get<unknown>(`/api/v1/issues/${issueId}/events?limit=100`), 'events'),
    [issueId],
  );
  // The event on screen is remembered by id, so new events arriving live do not shift it.
  const [selectedEvent, setSelectedEvent] = useState<string>();
  const found = selectedEvent ? (events.data?.findIndex((e) => e.eventId === selectedEvent) ?? -1) : 0;
  const eventIndex = Math.max(0, found);
  const setEventIndex = (next: number | ((x: number) => number)) => {
    const n = typeof next === 'function' ? next(eventIndex) : next;
    setSelectedEvent(n === 0 ? undefined : events.data?.[n]?.eventId);
  };
  const action = useAction();

  // Live count and last-seen updates for this issue.
  useEffect(
    () =>
      live.subscribe((m) => {
        if (m.type !== 'issue' || m.update.issue.id !== issueId) return;
        issue.set((d) => (d ? { ...d, ...m.update.issue } : d));
        if (m.update.newEvents > 0) events.reload();
      }),
    [issueId, issue.set, events.reload],
  );

  const setStatus = (status: IssueStatus) =>
    action.run(async () => {
      const r = await updateIssue(issueId, { status });
      issue.set((d) => (d ? { ...d, ...(r && typeof r === 'object' ? r : {}), status } : d));
    });

  const ignore = (how: string) =>
    action.run(async () => {
      const body: Record<string, unknown> = { status: 'ignored' };
      if (how.startsWith('count:')) body.ignore = { count: Number(how.slice(6)) };
      else if (how !== 'forever') body.ignore = { minutes: Number(how) };
      const r = await updateIssue(issueId, body);
      issue.set((d) => (d ? { ...d, ...(r && typeof r === 'object' ? r : {}), status: 'ignored' } : d));
    });

  const members = useAsync(
    async () =>
      org
        ? await get<Array<{ userId: number; email: string; name: string }>>(`/api/v1/orgs/${org.id}/members`)
        : [],
    [org?.id],
  );
  const assign = (value: string) =>
    action.run(async () => {
      const assigneeId = value ? Number(value) : null;
      await updateIssue(issueId, { assigneeId });
      issue.set((d) => (d ? { ...d, assigneeId } : d));
    });

  return (
    <div className="page">
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to={`/p/${project!.id}/issues`}>Issues</Link> <span aria-hidden="true">/</span>{' '}
        <span>#{issueId}</span>
      </nav>
      <Load a={issue}>
        {(i) => {
          const assigneeId =
            i.assigneeId ??
            (typeof i.assignee === 'object' && i.assignee
              ? i.assignee.id
              : typeof i.assignee === 'number'
                ? i.assignee
                : null);
          return (
            <>
              <div className="issue-head">
                <div className="issue-head-main">
                  <h1>
                    <Badge kind={i.level}>{i.level}</Badge> {i.title}
                  </h1>
                  {i.culprit && <p className="mono muted">{i.culprit}</p>}
                </div>
                <div className="issue-actions">
                  <Badge kind={i.status}>{i.status}</Badge>
                  {canResolve && (
                    <>
                      {i.status !== 'resolved' ? (
                        <button
                          type="button"
                          className="btn primary"
                          disabled={action.busy}
                          onClick={() => setStatus('resolved')}
                        >
                          Resolve
                        </button>
                      ) : (
                        <button
                          type="button"
                          className="btn"
                          disabled={action.busy}
                          onClick={() => setStatus('unresolved')}
                        >
                          Unresolve
                        </button>
                      )}
                      {i.status === 'ignored' && (
                        <button
                          type="button"
                          className="btn"
                          disabled={action.busy}
                          onClick={() => setStatus('unresolved')}
                        >
                          Unignore
                        </button>
                      )}
                      {i.status !== 'ignored' && (
                        <label>
                          <span className="sr-only">Ignore</span>
                          <select
                            aria-label="Ignore"
                            className="btn-select"
                            value=""
                            disabled={action.busy}
                            onChange={(e) => ignore(e.target.value)}
                          >
                            <option value="" disabled>
                              Ignore…
                            </option>
                            <option value="forever">Ignore until it is unignored</option>
                            <option value="60">Ignore for 1 hour</option>
                            <option value="1440">Ignore for 24 hours</option>
                            <option value="count:100">Ignore until 100 more events</option>
                          </select>
                        </label>
                      )}
                      <label>
                        <span className="sr-only">Assignee</span>
                        <select
                          aria-label="Assignee"
                          value={assigneeId ?? ''}
                          onChange={(e) => assign(e.target.value)}
                          disabled={action.busy}
                        >
                          <option value="">Unassigned</option>
                          {(members.data ?? []).map((m) => (
                            <option key={m.userId} value={m.userId}>
                              {m.name || m.email}
                            </option>
                          ))}
                        </select>
                      </label>
                    </>
                  )}
                </div>
              </div>
              <FormError error={action.error} />
              <dl className="stats">
                <div>
                  <dt>Events</dt>
                  <dd data-testid="issue-count">{fmt(i.count)}</dd>
                </div>
                <div>
                  <dt>Users</dt>
                  <dd>{fmt(i.userCount)}</dd>
                </div>
                <div>
                  <dt>First seen</dt>
                  <dd>
                    <Time iso={i.firstSeen} />
                  </dd>
                </div>
                <div>
                  <dt>Last seen</dt>
                  <dd>
                    <Time iso={i.lastSeen} />
                  </dd>
                </div>
              </dl>
              <div className="grid-2">
                <section className="card" aria-labelledby="volume-h">
                  <h2 id="volume-h">Event volume</h2>
                  {seriesOf(i).length ? (
                    <BarChart points={seriesOf(i)} label="Events per hour" />
                  ) : (
                    <Empty title="No volume data yet" />
                  )}
                </section>
                <section className="card" aria-labelledby="tags-h">
                  <h2 id="tags-h">Tags</h2>
                  {tagsOf(i).length === 0 ? (
                    <Empty title="No tags" />
                  ) : (
                    <div className="tags-grid">
                      {tagsOf(i)
                        .slice(0, 8)
                        .map((t) => (
                          <div key={t.key}>
                            <h3 className="tag-key">
                              {t.key}
                              {t.uniqueValues ? (
                                <span className="muted">
                                  {' '}
                                  · {t.uniqueValues} value{t.uniqueValues === 1 ? '' : 's'}
                                </span>
                              ) : null}
                            </h3>
                            <ShareBars items={t.values.slice(0, 5)} label={`Values of ${t.key}`} />
                          </div>
                        ))}
                    </div>
                  )}
                </section>
              </div>
              <InsightPanel issueId={issueId} />
              <section className="card" aria-labelledby="event-h">
                <div className="event-nav">
                  <h2 id="event-h">{eventIndex === 0 ? 'Latest event' : 'Event'}</h2>
                  {events.data && events.data.length > 0 && (
                    <fieldset className="row bare">
                      <legend className="sr-only">Event navigation</legend>
                      <button
                        type="button"
                        className="btn small"
                        disabled={eventIndex >= events.data.length - 1}
                        onClick={() => setEventIndex(events.data!.length - 1)}
                      >
                        Oldest
                      </button>
                      <button
                        type="button"
                        className="btn small"
                        disabled={eventIndex >= events.data.length - 1}
                        onClick={() => setEventIndex((x) => x + 1)}
                      >
                        ‹ Older
                      </button>
                      <span className="muted small">
                        {eventIndex + 1} of {events.data.length}
                        {events.data.length >= 100 ? '+' : ''}
                      </span>
                      <button
                        type="button"
                        className="btn small"
                        disabled={eventIndex === 0}
                        onClick={() => setEventIndex((x) => x - 1)}
                      >
                        Newer ›
                      </button>
                      <button
                        type="button"
                        className="btn small"
                        disabled={eventIndex === 0}
                        onClick={() => setEventIndex(0)}
                      >
                        Latest
                      </button>
                    </fieldset>
                  )}
                </div>
                {events.error && !events.data ? (
                  <ErrorBox error={events.error} retry={events.reload} />
                ) : !events.data ? (
                  <Spinner label="Loading events…" />
                ) : events.data.length === 0 && !i.lastEventId ? (
                  <Empty title="No events stored for this issue" />
                ) : (
                  <EventView
                    key={events.data[eventIndex]?.eventId ?? i.lastEventId!}
                    eventId={events.data[eventIndex]?.eventId ?? i.lastEventId!}
                    projectId={project!.id}
                  />
                )}
              </section>
              <Grouping issue={i} />
            </>
          );
        }}
      </Load>
    </div>
  );
}

/** One full event: the stored payload (Sentry-shaped) under the API's metadata. */
function EventView({ eventId, projectId }: { eventId: string; projectId: number }) {
  const full = useAsync(async () => {
    const e = await get<EventEnvelope>(`/api/v1/events/${eventId}?projectId=${projectId}`);
    const { payload, ...meta } = e;
    return { ...(payload ?? {}), ...meta } as unknown as BeaconEvent;
  }, [eventId, projectId]);
  const [tab, setTab] = useState('stack');
  return (
    <Load a={full}>
      {(e) => {
        const ev = e;
        const tags = Array.isArray(ev.tags)
          ? ev.tags
          : Object.entries(ev.tags ?? {}).map(([key, value]) => ({ key, value }));
        return (
          <div className="event">
            <p className="muted small">
              <span className="mono">{ev.eventId}</span> · <Time iso={ev.timestamp} />
              {ev.environment && (
                <>
                  {' '}
                  · env <strong>{ev.environment}</strong>
                </>
              )}
              {ev.release && (
                <>
                  {' '}
                  · release <strong>{ev.release}</strong>
                </>
              )}
              {ev.sdk?.name && (
                <>
                  {' '}
                  · {ev.sdk.name} {ev.sdk.version}
                </>
              )}
            </p>
            {ev.message && <p className="event-message">{ev.message}</p>}
            {tags.length > 0 && (
              <ul className="pills" aria-label="Event tags">
                {tags.map((t) => (
                  <li key={t.key}>
                    <span>{t.key}</span>
                    {t.value}
                  </li>
                ))}
              </ul>
            )}
            <Tabs
              label="Event details"
              value={tab}
              onChange={setTab}
              tabs={[
                ['stack', 'Stack trace'],
                ['breadcrumbs', `Breadcrumbs (${ev.breadcrumbs?.length ?? 0})`],
                ['context', 'User, request & contexts'],
                ['json', 'Raw JSON'],
              ]}
            />
            <div role="tabpanel">
              {tab === 'stack' && <StackTrace event={ev} />}
              {tab === 'breadcrumbs' && <Breadcrumbs items={ev.breadcrumbs ?? []} />}
              {tab === 'context' && <Contexts event={ev} />}
              {tab === 'json' && <pre className="json">{JSON.stringify(ev, null, 2)}</pre>}
            </div>
          </div>
        );
      }}
    </Load>
  );
}

export function StackTrace({ event }: { event: BeaconEvent }) {
  const [newestFirst, setNewestFirst] = useState(true);
  const [fullStack, setFullStack] = useState(false);
  const excs: ExceptionValue[] = event.exceptions?.length
    ? [...event.exceptions].reverse()
    : event.stacktrace
      ? [{ type: 'Stack trace', stacktrace: event.stacktrace }]
      : [];
  if (excs.length === 0) return <Empty title="This event has no stack trace" />;
  return (
    <div className="stack">
      <div className="row">
        <label className="check-label">
          <input type="checkbox" checked={newestFirst} onChange={(e) => setNewestFirst(e.target.checked)} />{' '}
          Most recent call first
        </label>
        <label className="check-label">
          <input type="checkbox" checked={fullStack} onChange={(e) => setFullStack(e.target.checked)} /> Show
          library frames
        </label>
      </div>
      {excs.map((x, n) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: chained exceptions have no id
        <div key={n} className="exception">
          <h3 className="exc-title">
            <span className="exc-type">{x.type ?? 'Error'}</span>
            {x.value && <span className="exc-value">: {x.value}</span>}
          </h3>
          {x.mechanism && (
            <p className="muted small">
              mechanism {x.mechanism.type ?? 'unknown'} ·{' '}
              {x.mechanism.handled === false ? <Badge kind="error">unhandled</Badge> : 'handled'}
            </p>
          )}
          <Frames frames={x.stacktrace?.frames ?? []} newestFirst={newestFirst} fullStack={fullStack} />
          {n < excs.length - 1 && <p className="muted small caused">caused by</p>}
        </div>
      ))}
    </div>
  );
}

function Frames({
  frames,
  newestFirst,
  fullStack,
}: {
  frames: Frame[];
  newestFirst: boolean;
  fullStack: boolean;
}) {
  const ordered = newestFirst ? [...frames].reverse() : frames;
  const anyInApp = frames.some((f) => f.in_app);
  const firstInApp = ordered.findIndex((f) => f.in_app);
  const [openGroups, setOpenGroups] = useState<Set<number>>(new Set());
  if (frames.length === 0) return <p className="muted">No frames.</p>;
  // Runs of library frames collapse into one toggle (unless every frame is library code).
  const blocks: Array<{ start: number; frames: Frame[]; library: boolean }> = [];
  ordered.forEach((f, i) => {
    const library = anyInApp && !f.in_app && !fullStack;
    const last = blocks[blocks.length - 1];
    if (last?.library && library) last.frames.push(f);
    else blocks.push({ start: i, frames: [f], library });
  });
  return (
    <ol className="frames">
      {blocks.map((b) =>
        b.library && !openGroups.has(b.start) ? (
          <li key={b.start} className="frame-group">
            <button
              type="button"
              className="linklike"
              aria-expanded="false"
              onClick={() => setOpenGroups((s) => new Set(s).add(b.start))}
            >
              {b.frames.length} library frame{b.frames.length === 1 ? '' : 's'} hidden — show
            </button>
          </li>
        ) : (
          b.frames
            .map((f, k) => ({ f, pos: b.start + k }))
            .map(({ f, pos }) => (
              <FrameRow key={pos} frame={f} defaultOpen={pos === Math.max(firstInApp, 0)} />
            ))
        ),
      )}
    </ol>
  );
}

function FrameRow({ frame: f, defaultOpen }: { frame: Frame; defaultOpen: boolean }) {
  const hasContext = !!f.context_line;
  const [open, setOpen] = useState(defaultOpen && hasContext);
  const file = f.filename ?? f.abs_path ?? f.module ?? '<unknown>';
  const head = (
    <>
      <span className="frame-file">{file}</span>
      {f.function && (
        <>
          {' in '}
          <span className="frame-fn">{f.function === '?' ? '(anonymous)' : f.function}</span>
        </>
      )}
      {f.lineno !== undefined && (
        <span className="frame-line">
          {' '}
          at line {f.lineno}
          {f.colno !== undefined ? `:${f.colno}` : ''}
        </span>
      )}
      {f.in_app && <span className="badge badge-inapp">in app</span>}
    </>
  );
  return (
    <li className={`frame ${f.in_app ? 'in-app' : 'library'}`}>
      {hasContext ? (
        <button type="button" className="frame-head" aria-expanded={open} onClick={() => setOpen(!open)}>
          <span className="chev" aria-hidden="true">
            {open ? '▾' : '▸'}
          </span>
          {head}
        </button>
      ) : (
        <div className="frame-head">{head}</div>
      )}
      {open && hasContext && <Context frame={f} />}
    </li>
  );
}

function Context({ frame: f }: { frame: Frame }) {
  const pre = f.pre_context ?? [];
  const post = f.post_context ?? [];
  const start = (f.lineno ?? pre.length + 1) - pre.length;
  const lines: Array<[number, string, boolean]> = [
    ...pre.map((l, i) => [start + i, l, false] as [number, string, boolean]),
    [f.lineno ?? start + pre.length, f.context_line ?? '', true],
    ...post.map((l, i) => [(f.lineno ?? 0) + 1 + i, l, false] as [number, string, boolean]),
  ];
  return (
    <pre className="context">
      {lines.map(([n, l, cur]) => (
        <div key={n} className={cur ? 'ctx current' : 'ctx'}>
          <span className="ln" aria-hidden="true">
            {n}
          </span>
          <code>{l}</code>
        </div>
      ))}
    </pre>
  );
}

function Breadcrumbs({ items }: { items: Breadcrumb[] }) {
  if (items.length === 0) return <Empty title="No breadcrumbs" />;
  return (
    <table className="table crumbs-table">
      <thead>
        <tr>
          <th>Time</th>
          <th>Category</th>
          <th>Message</th>
          <th className="hide-sm">Level</th>
        </tr>
      </thead>
      <tbody>
        {[...items].reverse().map((b, i) => {
          const t =
            typeof b.timestamp === 'number'
              ? new Date(b.timestamp * 1000)
              : b.timestamp
                ? new Date(b.timestamp)
                : undefined;
          return (
            // biome-ignore lint/suspicious/noArrayIndexKey: breadcrumbs have no id
            <tr key={i}>
              <td className="mono small">{t && !Number.isNaN(t.getTime()) ? t.toLocaleTimeString() : '—'}</td>
              <td>{b.category ?? b.type ?? '—'}</td>
              <td className="break">
                {b.message ?? ''}
                {b.data && <span className="mono muted small"> {JSON.stringify(b.data)}</span>}
              </td>
              <td className="hide-sm">{b.level ?? 'info'}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function KV({ title, data }: { title: string; data: Record<string, unknown> | undefined }): ReactNode {
  const entries = Object.entries(data ?? {}).filter(([, v]) => v !== undefined && v !== null && v !== '');
  if (entries.length === 0) return null;
  return (
    <div className="kv">
      <h3>{title}</h3>
      <dl>
        {entries.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd className="break">{typeof v === 'object' ? JSON.stringify(v) : String(v)}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}

function Contexts({ event: e }: { event: BeaconEvent }) {
  const req = e.request;
  const ctx = Object.entries(e.contexts ?? {});
  const empty = !e.user && !req && ctx.length === 0 && !e.extra;
  if (empty) return <Empty title="No user, request or context data" />;
  return (
    <div className="kv-grid">
      <KV title="User" data={e.user} />
      {req && (
        <KV
          title="Request"
          data={{
            method: req.method,
            url: req.url,
            query: req.query_string,
            data: req.data,
            ...Object.fromEntries(Object.entries(req.headers ?? {}).map(([k, v]) => [`header ${k}`, v])),
          }}
        />
      )}
      {ctx.map(([k, v]) => (
        <KV
          key={k}
          title={k}
          data={v && typeof v === 'object' ? (v as Record<string, unknown>) : { value: v }}
        />
      ))}
      <KV title="Extra" data={e.extra} />
      <KV
        title="Server"
        data={{ serverName: e.serverName, transaction: e.transaction, platform: e.platform }}
      />
    </div>
  );
}

/** "Why grouped": the fingerprint and the components that produced it, as the API reports them. */
function Grouping({ issue }: { issue: IssueDetailBody }) {
  const g = issue.grouping;
  if (!g && !issue.fingerprint) return null;
  const methods: Record<string, string> = {
    custom: 'a custom fingerprint sent by the SDK',
    exception: 'the exception type and its in-app stack frames',
    stacktrace: 'the stack frames',
    message: 'the message, with variable parts (numbers, ids) masked',
  };
  return (
    <section className="card" aria-labelledby="grouping-h">
      <h2 id="grouping-h">Why these events are grouped</h2>
      {g?.method && (
        <p>
          Grouped by <strong>{methods[g.method] ?? g.method}</strong>
          {g.rule && (
            <>
              {' '}
              (rule <code>{g.rule}</code>)
            </>
          )}
          .
        </p>
      )}
      {g?.components && g.components.length > 0 && (
        <ol className="components">
          {g.components.map((c, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: positional
            <li key={i}>
              <code>{c}</code>
            </li>
          ))}
        </ol>
      )}
      {g?.defaultComponents && g.defaultComponents.length > 0 && (
        <details>
          <summary>Default grouping components</summary>
          <ol className="components">
            {g.defaultComponents.map((c, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: positional
              <li key={i}>
                <code>{c}</code>
              </li>
            ))}
          </ol>
        </details>
      )}
      {issue.fingerprint && (
        <p className="muted small">
          Fingerprint{' '}
          <code className="break">
            {Array.isArray(issue.fingerprint) ? issue.fingerprint.join(' · ') : issue.fingerprint}
          </code>
        </p>
      )}
    </section>
  );
}

interface Insight {
  status: 'pending' | 'ready' | 'failed';
  kind?: 'ai' | 'builtin' | 'text';
  ai?: boolean;
  provider?: string | null;
  model?: string | null;
  content?: {
    answer?: { probableCause?: string; whereToLook?: string; suggestedFix?: string; confidence?: string };
    text?: string;
    builtin?: { summary?: string };
  } | null;
  error?: string | null;
  completedAt?: string | null;
}

/** The insight panel: an AI answer when a model is configured, else the built-in data summary (labelled). */
function InsightPanel({ issueId }: { issueId: number }) {
  const insight = useAsync(() => get<Insight>(`/api/v1/issues/${issueId}/insight`), [issueId]);
  const action = useAction();
  const i = insight.data;
  useEffect(() => {
    if (i?.status !== 'pending') return;
    const t = setTimeout(insight.reload, 3000);
    return () => clearTimeout(t);
  }, [i, insight.reload]);
  // No insights on this server (older build or role not mounted): no panel.
  if (insight.error instanceof ApiError && insight.error.status === 404) return null;
  if (!i) return null;
  const a = i.content?.answer;
  const title = i.ai ? 'AI insight' : 'Insight';
  return (
    <section className="card insight" aria-labelledby="insight-h" aria-busy={i.status === 'pending'}>
      <div className="page-head">
        <h2 id="insight-h">
          {title}{' '}
          <span className="muted small">
            {i.ai
              ? `${i.provider ?? ''} ${i.model ?? ''}`.trim()
              : i.status === 'ready'
                ? 'built-in analysis, no AI model'
                : ''}
          </span>
        </h2>
        <button
          type="button"
          className="btn small"
          disabled={action.busy || i.status === 'pending'}
          onClick={() =>
            action.run(async () => {
              await post(`/api/v1/issues/${issueId}/insight`, {});
              insight.reload();
            })
          }
        >
          {i.status === 'pending' ? 'Analyzing…' : 'Analyze again'}
        </button>
      </div>
      <FormError error={action.error} />
      {i.status === 'failed' && <p className="form-error">Analysis failed{i.error ? `: ${i.error}` : ''}.</p>}
      {i.status === 'pending' && !i.content && <p className="muted">Analysis pending…</p>}
      {a && (
        <dl className="insight-answer">
          {a.probableCause && (
            <div>
              <dt>Probable cause</dt>
              <dd>{a.probableCause}</dd>
            </div>
          )}
          {a.whereToLook && (
            <div>
              <dt>Where to look</dt>
              <dd>{a.whereToLook}</dd>
            </div>
          )}
          {a.suggestedFix && (
            <div>
              <dt>Suggested fix</dt>
              <dd>{a.suggestedFix}</dd>
            </div>
          )}
          {a.confidence && (
            <div>
              <dt>Confidence</dt>
              <dd>{a.confidence}</dd>
            </div>
          )}
        </dl>
      )}
      {i.content?.text && <p className="pre-wrap">{i.content.text}</p>}
      {i.content?.builtin?.summary && (
        <p className={a || i.content.text ? 'muted small' : undefined}>{i.content.builtin.summary}</p>
      )}
    </section>
  );
}
