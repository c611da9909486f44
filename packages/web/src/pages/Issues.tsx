import { type FormEvent, useEffect, useMemo, useRef, useState } from 'react';
import { Sparkline } from '../charts.js';
import { listIssues, setStatus, sparkValues } from '../issues-api.js';
import { type IssueUpdateMsg, live } from '../live.js';
import { Link, setQuery, useLocation } from '../router.js';
import { useApp, useCan } from '../state.js';
import type { Issue, IssueStatus } from '../types.js';
import { Badge, Empty, ErrorBox, FormError, fmt, Spinner, Time, useAction } from '../ui.js';

const sorts: Array<[string, string]> = [
  ['lastSeen', 'Last seen'],
  ['firstSeen', 'First seen'],
  ['count', 'Events'],
  ['users', 'Users'],
];

export function IssuesPage() {
  const { project } = useApp();
  // Viewers may not change an issue's status: no selection, no bulk actions.
  const canResolve = useCan()('resolve');
  const pid = project!.id;
  const { query } = useLocation();
  const status = query.get('status') ?? 'unresolved';
  const level = query.get('level') ?? '';
  const environment = query.get('environment') ?? '';
  const release = query.get('release') ?? '';
  const tag = query.get('tag') ?? '';
  const search = query.get('query') ?? '';
  const sort = query.get('sort') ?? 'lastSeen';
  const apiQuery = useMemo(() => {
    const p = new URLSearchParams();
    p.set('status', status);
    for (const [k, v] of [
      ['level', level],
      ['environment', environment],
      ['release', release],
      ['tag', tag],
      ['query', search],
      ['sort', sort],
    ] as const)
      if (v) p.set(k, v);
    p.set('limit', '50');
    return `?${p}`;
  }, [status, level, environment, release, tag, search, sort]);

  const [items, setItems] = useState<Issue[]>();
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<Error>();
  const [fresh, setFresh] = useState<Set<number>>(new Set());
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [reloadTick, setReloadTick] = useState(0);
  const bulk = useAction();

  // biome-ignore lint/correctness/useExhaustiveDependencies: reloadTick forces a refetch
  useEffect(() => {
    let stale = false;
    setItems(undefined);
    setSelected(new Set());
    listIssues(pid, apiQuery).then(
      (r) => {
        if (stale) return;
        setItems(r.items);
        setNext(r.nextCursor);
        setError(undefined);
      },
      (e: Error) => !stale && setError(e),
    );
    return () => {
      stale = true;
    };
  }, [pid, apiQuery, reloadTick]);

  // Live: update counts in place; new and regressed issues go on top when they match the status filter.
  useEffect(
    () =>
      live.subscribe((m) => {
        if (m.type !== 'issue' || m.update.projectId !== pid) return;
        const u = (m as IssueUpdateMsg).update;
        setItems((list) => {
          if (!list) return list;
          const i = list.findIndex((x) => x.id === u.issue.id);
          if (i >= 0) {
            const copy = list.slice();
            const old = copy[i]!;
            const spark = sparkValues(old.sparkline);
            if (spark.length) spark[spark.length - 1] = (spark[spark.length - 1] ?? 0) + u.newEvents;
            copy[i] = { ...old, ...u.issue, sparkline: spark.length ? spark : old.sparkline };
            return copy;
          }
          const matches =
            (status === 'all' || status === u.issue.status) && (!level || level === u.issue.level);
          if (!matches || search || tag || environment || release) return list;
          const spark = Array.from({ length: 24 }, (_, k) => (k === 23 ? u.newEvents : 0));
          return [{ ...u.issue, sparkline: spark }, ...list];
        });
        setFresh((s) => new Set(s).add(u.issue.id));
      }),
    [pid, status, level, search, tag, environment, release],
  );

  const update = (k: string, v: string) => {
    const q = new URLSearchParams(location.search);
    if (v) q.set(k, v);
    else q.delete(k);
    setQuery(q);
  };
  const [searchText, setSearchText] = useState(search);
  const searchRef = useRef<HTMLInputElement>(null);
  // "/" jumps to the search box, as in most dashboards.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (e.key !== '/' || e.ctrlKey || e.metaKey || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)) return;
      e.preventDefault();
      searchRef.current?.focus();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  const onSearch = (e: FormEvent) => {
    e.preventDefault();
    update('query', searchText.trim());
  };
  const loadMore = async () => {
    if (!next) return;
    const p = new URLSearchParams(apiQuery);
    p.set('cursor', next);
    const r = await listIssues(pid, `?${p}`);
    setItems((l) => [...(l ?? []), ...r.items]);
    setNext(r.nextCursor);
  };
  const doBulk = (s: IssueStatus) =>
    bulk.run(async () => {
      const ids = [...selected];
      await setStatus(pid, ids, s);
      setSelected(new Set());
      setItems((l) =>
        status === 'all' || status === s
          ? l?.map((x) => (ids.includes(x.id) ? { ...x, status: s } : x))
          : l?.filter((x) => !ids.includes(x.id)),
      );
    });
  const allChecked = !!items?.length && items.every((i) => selected.has(i.id));

  return (
    <div className="page">
      <div className="page-head">
        <h1>Issues</h1>
        <span className="muted">{project!.name}</span>
      </div>
      <form className="filters" onSubmit={onSearch} aria-label="Filter issues">
        <label className="grow">
          <span className="sr-only">Search</span>
          <input
            type="search"
            ref={searchRef}
            placeholder="Search title, culprit, tag:value, is:resolved…  ( / )"
            value={searchText}
            onChange={(e) => setSearchText(e.target.value)}
          />
        </label>
        <Select
          label="Status"
          value={status}
          onChange={(v) => update('status', v === 'unresolved' ? '' : v)}
          options={[
            ['unresolved', 'Unresolved'],
            ['resolved', 'Resolved'],
            ['ignored', 'Ignored'],
            ['all', 'All statuses'],
          ]}
        />
        <Select
          label="Level"
          value={level}
          onChange={(v) => update('level', v)}
          options={[
            ['', 'All levels'],
            ['fatal', 'Fatal'],
            ['error', 'Error'],
            ['warning', 'Warning'],
            ['info', 'Info'],
            ['debug', 'Debug'],
          ]}
        />
        <TextFilter
          label="Environment"
          value={environment}
          onCommit={(v) => update('environment', v)}
          placeholder="environment"
        />
        <TextFilter
          label="Release"
          value={release}
          onCommit={(v) => update('release', v)}
          placeholder="release"
        />
        <TextFilter label="Tag" value={tag} onCommit={(v) => update('tag', v)} placeholder="key:value" />
        <Select
          label="Sort"
          value={sort}
          onChange={(v) => update('sort', v === 'lastSeen' ? '' : v)}
          options={sorts}
        />
        <button type="submit" className="btn">
          Search
        </button>
      </form>

      {selected.size > 0 && canResolve && (
        <section className="bulkbar" aria-label="Bulk actions">
          <span>{selected.size} selected</span>
          <button type="button" className="btn small" disabled={bulk.busy} onClick={() => doBulk('resolved')}>
            Resolve
          </button>
          <button type="button" className="btn small" disabled={bulk.busy} onClick={() => doBulk('ignored')}>
            Ignore
          </button>
          <button
            type="button"
            className="btn small"
            disabled={bulk.busy}
            onClick={() => doBulk('unresolved')}
          >
            Unresolve
          </button>
          <FormError error={bulk.error} />
        </section>
      )}

      {error ? (
        <ErrorBox error={error} retry={() => setReloadTick((t) => t + 1)} />
      ) : !items ? (
        <Spinner label="Loading issues…" />
      ) : items.length === 0 ? (
        <Empty
          title={
            status === 'unresolved' && !search ? 'No unresolved issues' : 'No issues match these filters'
          }
        >
          {status === 'unresolved' && !search ? (
            <>
              Errors sent to this project appear here as they arrive.{' '}
              <Link to={`/p/${pid}/setup`}>Set up an SDK</Link>.
            </>
          ) : null}
        </Empty>
      ) : (
        <table className="table issues">
          <thead>
            <tr>
              {canResolve && (
                <th className="check">
                  <input
                    type="checkbox"
                    aria-label="Select all issues"
                    checked={allChecked}
                    onChange={() => setSelected(allChecked ? new Set() : new Set(items.map((i) => i.id)))}
                  />
                </th>
              )}
              <th>Issue</th>
              <th className="hide-sm">Trend</th>
              <th className="num">Events</th>
              <th className="num hide-sm">Users</th>
              <th className="hide-sm">Last seen</th>
            </tr>
          </thead>
          <tbody>
            {items.map((i) => (
              <tr key={i.id} className={fresh.has(i.id) ? 'fresh' : undefined} data-issue-id={i.id}>
                {canResolve && (
                  <td className="check">
                    <input
                      type="checkbox"
                      aria-label={`Select ${i.title}`}
                      checked={selected.has(i.id)}
                      onChange={() =>
                        setSelected((s) => {
                          const n = new Set(s);
                          if (n.has(i.id)) n.delete(i.id);
                          else n.add(i.id);
                          return n;
                        })
                      }
                    />
                  </td>
                )}
                <td className="issue-cell">
                  <Link to={`/p/${pid}/issues/${i.id}`} className="issue-title">
                    <Badge kind={i.level}>{i.level}</Badge> {i.title}
                  </Link>
                  <div className="muted small">
                    {i.culprit && <span className="mono">{i.culprit}</span>}
                    {i.status !== 'unresolved' && <Badge kind={i.status}>{i.status}</Badge>}
                    <span className="show-sm">
                      {' '}
                      · <Time iso={i.lastSeen} />
                    </span>
                  </div>
                </td>
                <td className="hide-sm">
                  <Sparkline
                    values={sparkValues(i.sparkline)}
                    label={`Events over the last 24 hours for ${i.title}`}
                  />
                </td>
                <td className="num" aria-label={`${i.count} events`}>
                  {fmt(i.count)}
                </td>
                <td className="num hide-sm">{fmt(i.userCount)}</td>
                <td className="hide-sm">
                  <Time iso={i.lastSeen} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next && (
        <button type="button" className="btn" onClick={loadMore}>
          Load more
        </button>
      )}
    </div>
  );
}

function Select({
  label,
  value,
  onChange,
  options,
}: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  options: Array<[string, string]>;
}) {
  return (
    <label>
      <span className="sr-only">{label}</span>
      <select aria-label={label} value={value} onChange={(e) => onChange(e.target.value)}>
        {options.map(([v, t]) => (
          <option key={v} value={v}>
            {t}
          </option>
        ))}
      </select>
    </label>
  );
}

function TextFilter({
  label,
  value,
  onCommit,
  placeholder,
}: {
  label: string;
  value: string;
  onCommit: (v: string) => void;
  placeholder: string;
}) {
  const [v, setV] = useState(value);
  useEffect(() => setV(value), [value]);
  return (
    <label className="small-input">
      <span className="sr-only">{label}</span>
      <input
        aria-label={label}
        placeholder={placeholder}
        value={v}
        onChange={(e) => setV(e.target.value)}
        onBlur={() => v !== value && onCommit(v.trim())}
        onKeyDown={(e) => e.key === 'Enter' && v !== value && onCommit(v.trim())}
      />
    </label>
  );
}
