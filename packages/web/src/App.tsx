import { lazy, type ReactNode, Suspense, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { get, getSession, listOf, onSession, post, type Session, setSession } from './api.js';
import { type LiveState, live } from './live.js';
import { AuthScreen } from './pages/Auth.js';
import { IssuesPage } from './pages/Issues.js';
import { Link, match, navigate, useLocation } from './router.js';
import { AppContext, type AppState } from './state.js';
import type { Org, Project } from './types.js';
import { ErrorBox, Spinner } from './ui.js';

// Screens off the first-load path are split into their own chunks.
const IssueDetail = lazy(() => import('./pages/IssueDetail.js').then((m) => ({ default: m.IssueDetail })));
const AlertsPage = lazy(() => import('./pages/Alerts.js').then((m) => ({ default: m.AlertsPage })));
const RulesPage = lazy(() => import('./pages/Alerts.js').then((m) => ({ default: m.RulesPage })));
const UptimePage = lazy(() => import('./pages/Uptime.js').then((m) => ({ default: m.UptimePage })));
const EndpointPage = lazy(() => import('./pages/Uptime.js').then((m) => ({ default: m.EndpointPage })));
const SettingsPage = lazy(() => import('./pages/Settings.js').then((m) => ({ default: m.SettingsPage })));
const Onboarding = lazy(() => import('./pages/Onboarding.js').then((m) => ({ default: m.Onboarding })));
const NewProject = lazy(() => import('./pages/Onboarding.js').then((m) => ({ default: m.NewProject })));

export function App() {
  const [session, setS] = useState<Session | null>(getSession());
  useEffect(() => onSession(setS), []);
  const { path, query } = useLocation();
  if (!session) return <AuthScreen />;
  const invite = query.get('invite');
  if (path === '/signup' && invite) return <AcceptInvite token={invite} />;
  if (path === '/signin' || path === '/signup') {
    navigate('/', { replace: true });
    return null;
  }
  return <Shell key={session.user.id} session={session} />;
}

/** A signed-in user opened an invitation link: join the organization, then go home. */
function AcceptInvite({ token }: { token: string }) {
  const [error, setError] = useState<Error>();
  useEffect(() => {
    post(`/api/v1/invitations/${encodeURIComponent(token)}/accept`, {}).then(
      () => navigate('/', { replace: true }),
      (e: Error) => setError(e),
    );
  }, [token]);
  if (!error) return <Spinner label="Joining the organization…" />;
  return (
    <main className="page narrow" id="main">
      <h1>Invitation</h1>
      <ErrorBox error={error} />
      <Link to="/">Continue to Beacon</Link>
    </main>
  );
}

const LAST_PROJECT = 'beacon.project';

function Shell({ session }: { session: Session }) {
  const { path } = useLocation();
  const [orgs, setOrgs] = useState<Org[]>();
  const [projects, setProjects] = useState<Project[]>();
  const [orgId, setOrgId] = useState<number>();
  const [error, setError] = useState<Error>();
  const [liveState, setLiveState] = useState<LiveState>(live.state);

  const load = useCallback(async () => {
    try {
      const [o, p] = await Promise.all([get<unknown>('/api/v1/orgs'), get<unknown>('/api/v1/projects')]);
      setOrgs(listOf<Org>(o, 'orgs'));
      setProjects(listOf<Project>(p, 'projects'));
      setError(undefined);
    } catch (e) {
      setError(e as Error);
    }
  }, []);
  useEffect(() => {
    void load();
    live.start();
    const off = live.onState(setLiveState);
    return () => {
      off();
      live.stop();
    };
  }, [load]);

  const pid = routeProject(path) ?? Number.NaN;
  const project = projects?.find((p) => p.id === pid);
  useEffect(() => {
    if (project) localStorage.setItem(LAST_PROJECT, String(project.id));
  }, [project]);
  const org = orgs?.find((o) => o.id === (project?.orgId ?? orgId)) ?? orgs?.[0];

  const state = useMemo<AppState | null>(
    () =>
      orgs && projects
        ? {
            user: session.user,
            orgs,
            projects,
            org,
            project,
            reloadProjects: async () => {
              await load();
              live.refresh();
            },
            selectOrg: (id) => {
              setOrgId(id);
              const first = projects.find((p) => p.orgId === id);
              navigate(first ? `/p/${first.id}/issues` : '/projects/new');
            },
          }
        : null,
    [orgs, projects, org, project, session.user, load],
  );

  // Each screen gets its own document title, and focus moves to the new content for screen readers.
  const section = path.split('/')[3] ?? (path === '/projects/new' ? 'new project' : path.slice(1));
  useEffect(() => {
    const name = section ? section.charAt(0).toUpperCase() + section.slice(1) : '';
    document.title = [name, project?.name, 'Beacon'].filter(Boolean).join(' · ');
  }, [section, project?.name]);
  const first = useRef(true);
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs on each navigation
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById('main')?.focus({ preventScroll: true });
  }, [path]);

  if (error && !state) return <ErrorBox error={error} retry={load} />;
  if (!state) return <Spinner label="Loading your projects…" />;

  // `/` goes to the last project used, or onboarding when there is none.
  if (path === '/' || path === '/index.html') {
    const last = Number(localStorage.getItem(LAST_PROJECT));
    const target = state.projects.find((p) => p.id === last) ?? state.projects[0];
    navigate(target ? `/p/${target.id}/issues` : '/projects/new', { replace: true });
    return null;
  }

  return (
    <AppContext.Provider value={state}>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <Header state={state} liveState={liveState} />
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<Spinner />}>
          <Routes path={path} state={state} />
        </Suspense>
      </main>
    </AppContext.Provider>
  );
}

/** Project-less routes carry the project in the query (`?project=`) so the switcher stays put. */
function routeProject(path: string): number | undefined {
  if (path.startsWith('/p/')) return Number(path.split('/')[2]);
  const q = new URLSearchParams(location.search).get('project');
  return q ? Number(q) : undefined;
}

function Routes({ path, state }: { path: string; state: AppState }): ReactNode {
  if (path === '/projects/new') return <NewProject />;
  if (path === '/settings') return <SettingsPage />;
  const m = match('/p/:pid/:section', path) ?? match('/p/:pid/:section/:id', path);
  if (m) {
    if (!state.project)
      return (
        <div className="page">
          <ErrorBox error={new Error(`Project ${m.pid} does not exist or you are not a member.`)} />
          <Link to="/">Go to your projects</Link>
        </div>
      );
    const { section, id } = m;
    if (section === 'issues' && !id) return <IssuesPage key={state.project.id} />;
    if (section === 'issues' && id) return <IssueDetail key={id} issueId={Number(id)} />;
    if (section === 'setup') return <Onboarding />;
    if (section === 'alerts') return <AlertsPage />;
    if (section === 'rules') return <RulesPage ruleId={id} />;
    if (section === 'uptime' && !id) return <UptimePage />;
    if (section === 'uptime' && id) return <EndpointPage key={id} endpointId={id} />;
    if (section === 'settings') return <SettingsPage />;
  }
  return (
    <div className="page">
      <h1>Page not found</h1>
      <Link to="/">Back to Beacon</Link>
    </div>
  );
}

function Header({ state, liveState }: { state: AppState; liveState: LiveState }) {
  const { path } = useLocation();
  const { org, project, orgs, projects } = state;
  const inOrg = projects.filter((p) => p.orgId === org?.id);
  const base = project ? `/p/${project.id}` : '';
  const nav: Array<[string, string]> = project
    ? [
        [`${base}/issues`, 'Issues'],
        [`${base}/alerts`, 'Alerts'],
        [`${base}/rules`, 'Rules'],
        [`${base}/uptime`, 'Uptime'],
        [`${base}/setup`, 'Setup'],
        [`${base}/settings`, 'Settings'],
      ]
    : [['/settings', 'Settings']];
  const signOut = async () => {
    const s = getSession();
    if (s) await post('/api/v1/auth/signout', { refreshToken: s.refreshToken }).catch(() => {});
    setSession(null);
    navigate('/signin');
  };
  return (
    <header className="top">
      <div className="top-row">
        <Link to="/" className="logo" aria-label="Beacon home">
          <svg width="22" height="22" viewBox="0 0 32 32" aria-hidden="true">
            <circle cx="16" cy="16" r="14" fill="currentColor" />
            <circle cx="16" cy="16" r="6" fill="#fff" />
          </svg>
          <span>Beacon</span>
        </Link>
        <label className="switcher">
          <span className="sr-only">Organization</span>
          <select
            value={org?.id ?? ''}
            onChange={async (e) => {
              if (e.target.value !== 'new') return state.selectOrg(Number(e.target.value));
              const name = prompt('Name of the new organization')?.trim();
              if (!name) return;
              try {
                const created = await post<Org>('/api/v1/orgs', { name });
                await state.reloadProjects();
                state.selectOrg(created.id);
              } catch (err) {
                alert((err as Error).message);
              }
            }}
          >
            {orgs.map((o) => (
              <option key={o.id} value={o.id}>
                {o.name}
              </option>
            ))}
            <option value="new">+ New organization…</option>
          </select>
        </label>
        <label className="switcher">
          <span className="sr-only">Project</span>
          <select
            value={project?.id ?? ''}
            onChange={(e) => {
              if (e.target.value === 'new') return navigate('/projects/new');
              const section = path.split('/')[3] ?? 'issues';
              navigate(
                `/p/${e.target.value}/${['issues', 'alerts', 'rules', 'uptime', 'setup', 'settings'].includes(section) ? section : 'issues'}`,
              );
            }}
          >
            {!project && <option value="">Choose a project</option>}
            {inOrg.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
            <option value="new">+ New project…</option>
          </select>
        </label>
        <span className={`live live-${liveState}`} title={`Live updates: ${liveState}`} role="status">
          <span className="dot" aria-hidden="true" />
          <span className="live-text">
            {liveState === 'open' ? 'Live' : liveState === 'connecting' ? 'Connecting' : 'Offline'}
          </span>
        </span>
        <span className="spacer" />
        <span className="user" title={state.user.email}>
          {state.user.email}
        </span>
        <button type="button" className="btn small ghost" onClick={signOut}>
          Sign out
        </button>
      </div>
      <nav aria-label="Main">
        {nav.map(([to, label]) => (
          <Link
            key={to}
            to={to}
            className={path.startsWith(to) ? 'active' : ''}
            aria-current={path.startsWith(to) ? 'page' : undefined}
          >
            {label}
          </Link>
        ))}
      </nav>
    </header>
  );
}
