import { type FormEvent, useState } from 'react';
import { get, post } from '../api.js';
import { navigate } from '../router.js';
import { useApp } from '../state.js';
import type { Project, ProjectKey } from '../types.js';
import { CopyButton, Field, FormError, Load, Tabs, useAction, useAsync } from '../ui.js';

export function NewProject() {
  const { orgs, org, reloadProjects, projects } = useApp();
  const [name, setName] = useState('');
  const [platform, setPlatform] = useState('node');
  const [orgId, setOrgId] = useState(String(org?.id ?? orgs[0]?.id ?? ''));
  const action = useAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      const p = await post<Project>('/api/v1/projects', {
        name,
        platform,
        orgId: orgId ? Number(orgId) : undefined,
      });
      await reloadProjects();
      navigate(`/p/${p.id}/setup`);
    });
  };
  return (
    <div className="page narrow">
      <h1>{projects.length === 0 ? 'Create your first project' : 'New project'}</h1>
      <p className="muted">
        A project receives the errors of one application. You get a DSN to give its SDK.
      </p>
      <form className="card stack" onSubmit={submit} aria-label="New project">
        {orgs.length > 1 && (
          <Field label="Organization">
            <select value={orgId} onChange={(e) => setOrgId(e.target.value)}>
              {orgs.map((o) => (
                <option key={o.id} value={o.id}>
                  {o.name}
                </option>
              ))}
            </select>
          </Field>
        )}
        <Field label="Project name">
          <input required value={name} onChange={(e) => setName(e.target.value)} placeholder="checkout-api" />
        </Field>
        <Field label="Platform">
          <select value={platform} onChange={(e) => setPlatform(e.target.value)}>
            <option value="node">Node.js</option>
            <option value="javascript">Browser JavaScript</option>
            <option value="python">Python</option>
            <option value="other">Other</option>
          </select>
        </Field>
        <FormError error={action.error} />
        <button type="submit" className="btn primary" disabled={action.busy}>
          Create project
        </button>
      </form>
    </div>
  );
}

function snippets(dsn: string): Array<[string, string, string, string]> {
  return [
    [
      'beacon',
      '@beacon/sdk',
      'npm install @beacon/sdk',
      `import { init, captureException } from '@beacon/sdk';

init({ dsn: '${dsn}', environment: 'production', release: 'my-app@1.0.0' });

try {
  doSomething();
} catch (err) {
  captureException(err);
}`,
    ],
    [
      'node',
      '@sentry/node',
      'npm install @sentry/node',
      `import * as Sentry from '@sentry/node';

// Beacon speaks Sentry's protocol: the official SDK works unchanged.
Sentry.init({ dsn: '${dsn}', environment: 'production', release: 'my-app@1.0.0' });

Sentry.captureException(new Error('Something broke'));`,
    ],
    [
      'browser',
      '@sentry/browser',
      'npm install @sentry/browser',
      `import * as Sentry from '@sentry/browser';

Sentry.init({ dsn: '${dsn}', environment: 'production' });

// Uncaught errors and unhandled rejections are reported automatically.
Sentry.captureMessage('Hello from the browser');`,
    ],
  ];
}

export function Onboarding() {
  const { project } = useApp();
  const keys = useAsync(() => get<ProjectKey[]>(`/api/v1/projects/${project!.id}/keys`), [project!.id]);
  const [tab, setTab] = useState('beacon');
  return (
    <div className="page narrow">
      <h1>Send errors to {project!.name}</h1>
      <Load a={keys}>
        {(list) => {
          const dsn = project!.dsn ?? list.find((k) => k.enabled)?.dsn ?? '';
          const s = snippets(dsn || '<create a key in Settings>');
          const current = s.find((x) => x[0] === tab) ?? s[0]!;
          return (
            <>
              <section className="card" aria-labelledby="dsn-h">
                <h2 id="dsn-h">Your DSN</h2>
                <p className="muted">
                  The DSN tells an SDK where to send events. It is not a secret: browsers see it.
                </p>
                <div className="row">
                  <code className="dsn" data-testid="dsn">
                    {dsn || 'No enabled key: create one in Settings.'}
                  </code>
                  {dsn && <CopyButton text={dsn} label="Copy DSN" />}
                </div>
              </section>
              <section className="card" aria-labelledby="sdk-h">
                <h2 id="sdk-h">Install an SDK</h2>
                <Tabs label="SDK" value={tab} onChange={setTab} tabs={s.map(([id, label]) => [id, label])} />
                <div role="tabpanel" className="stack">
                  <div className="code-block">
                    <pre>
                      <code>{current[2]}</code>
                    </pre>
                    <CopyButton text={current[2]} />
                  </div>
                  <div className="code-block">
                    <pre>
                      <code>{current[3]}</code>
                    </pre>
                    <CopyButton text={current[3]} />
                  </div>
                </div>
              </section>
              <p className="muted">
                Send an error, then open Issues: it shows up within a second, no reload needed.
              </p>
            </>
          );
        }}
      </Load>
    </div>
  );
}
