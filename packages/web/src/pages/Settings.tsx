import { type FormEvent, useState } from 'react';
import { del, get, patch, post } from '../api.js';
import { navigate } from '../router.js';
import { useApp, useCan } from '../state.js';
import type { ProjectKey, Role } from '../types.js';
import {
  ActionButton,
  Badge,
  Empty,
  Field,
  FormError,
  Load,
  SecretReveal,
  Tabs,
  Time,
  useAction,
  useAsync,
} from '../ui.js';

interface Member {
  userId: number;
  email: string;
  name: string;
  role: Role;
  joinedAt: string;
}
interface Invitation {
  id: number;
  email: string;
  role: Role;
  createdAt: string;
  expiresAt: string;
  link?: string;
}
interface ApiToken {
  id: number;
  name: string;
  hint: string;
  scope: 'read' | 'write';
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  token?: string;
}

export function SettingsPage() {
  const { project } = useApp();
  const [tab, setTab] = useState(project ? 'keys' : 'members');
  const tabs: Array<[string, string]> = [
    ...(project
      ? [['project', 'Project'] as [string, string], ['keys', 'Project keys'] as [string, string]]
      : []),
    ['members', 'Members'],
    ['tokens', 'API tokens'],
  ];
  return (
    <div className="page">
      <h1>Settings</h1>
      <Tabs label="Settings" value={tab} onChange={setTab} tabs={tabs} />
      <div role="tabpanel">
        {tab === 'project' && project && <ProjectSettings />}
        {tab === 'keys' && project && <Keys />}
        {tab === 'members' && <Members />}
        {tab === 'tokens' && <Tokens />}
      </div>
    </div>
  );
}

function ProjectSettings() {
  const { project, reloadProjects } = useApp();
  const p = project!;
  const [name, setName] = useState(p.name);
  const [retention, setRetention] = useState(String(p.retentionDays ?? 90));
  const [saved, setSaved] = useState(false);
  const action = useAction();
  const can = useCan();
  const save = (e: FormEvent) => {
    e.preventDefault();
    setSaved(false);
    void action.run(async () => {
      await patch(`/api/v1/projects/${p.id}`, { name, retentionDays: Number(retention) });
      await reloadProjects();
      setSaved(true);
    });
  };
  return (
    <div className="stack-lg">
      <form className="card stack" onSubmit={save} aria-label="Project settings">
        {!can('write') && <p className="muted">Your role can see these settings but not change them.</p>}
        <fieldset className="bare stack" disabled={!can('write')}>
          <Field label="Name">
            <input required value={name} onChange={(e) => setName(e.target.value)} />
          </Field>
          <Field
            label="Keep events for (days)"
            hint="Older events are deleted; issues and their counts stay."
          >
            <input
              type="number"
              min={1}
              max={3650}
              required
              value={retention}
              onChange={(e) => setRetention(e.target.value)}
            />
          </Field>
        </fieldset>
        <p className="muted small">
          Slug <code>{p.slug}</code> · project id <code>{p.id}</code>
        </p>
        <FormError error={action.error} />
        <div className="row">
          {can('write') && (
            <button type="submit" className="btn primary" disabled={action.busy}>
              Save
            </button>
          )}
          {saved && (
            <span className="ok small" role="status">
              Saved.
            </span>
          )}
        </div>
      </form>
      {can('admin') && (
        <section className="card">
          <h2>Delete project</h2>
          <p className="muted">
            Deletes the project with its keys, issues and events. This cannot be undone.
          </p>
          <ActionButton
            action={action}
            className="btn danger"
            guard={() => prompt(`Type the project name (${p.name}) to delete it`) === p.name}
            run={async () => {
              await del(`/api/v1/projects/${p.id}`);
              localStorage.removeItem('beacon.project');
              await reloadProjects();
              navigate('/', { replace: true });
            }}
          >
            Delete {p.name}
          </ActionButton>
        </section>
      )}
    </div>
  );
}

function Keys() {
  const { project } = useApp();
  const pid = project!.id;
  const keys = useAsync(() => get<ProjectKey[]>(`/api/v1/projects/${pid}/keys`), [pid]);
  const [secret, setSecret] = useState<{ title: string; value: string }>();
  const [label, setLabel] = useState('');
  const action = useAction();
  const canManage = useCan()('manage_keys');
  const create = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      const k = await post<ProjectKey>(`/api/v1/projects/${pid}/keys`, { label: label || undefined });
      setLabel('');
      if (k.secretKey) setSecret({ title: `Secret key of "${k.label}"`, value: k.secretKey });
      keys.reload();
    });
  };
  return (
    <div className="stack-lg">
      {secret && (
        <SecretReveal title={secret.title} secret={secret.value} onDone={() => setSecret(undefined)} />
      )}
      {canManage && (
        <form className="card form-inline" onSubmit={create} aria-label="New key">
          <Field label="Key label">
            <input value={label} onChange={(e) => setLabel(e.target.value)} placeholder="Staging" />
          </Field>
          <button type="submit" className="btn primary" disabled={action.busy}>
            Create key
          </button>
        </form>
      )}
      <FormError error={action.error} />
      <Load a={keys}>
        {(list) =>
          list.length === 0 ? (
            <Empty title="No keys" />
          ) : (
            <table className="table">
              <thead>
                <tr>
                  <th>Key</th>
                  <th>DSN</th>
                  <th className="hide-sm">Created</th>
                  <th>
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.map((k) => (
                  <tr key={k.id}>
                    <td>
                      <strong>{k.label}</strong> {!k.enabled && <Badge kind="ignored">disabled</Badge>}
                      <div className="mono small muted">{k.publicKey}</div>
                    </td>
                    <td className="mono small break">{k.dsn}</td>
                    <td className="hide-sm">
                      <Time iso={k.createdAt} />
                    </td>
                    <td className="actions">
                      {canManage && (
                        <>
                          <ActionButton
                            action={action}
                            run={async () => {
                              const r = await post<ProjectKey>(
                                `/api/v1/projects/${pid}/keys/${k.id}/rotate`,
                                {},
                              );
                              if (r.secretKey)
                                setSecret({ title: `New secret key of "${k.label}"`, value: r.secretKey });
                              keys.reload();
                            }}
                          >
                            Rotate secret
                          </ActionButton>
                          <ActionButton
                            action={action}
                            className="btn small ghost"
                            run={async () => {
                              await post(
                                `/api/v1/projects/${pid}/keys/${k.id}/${k.enabled ? 'disable' : 'enable'}`,
                                {},
                              );
                              keys.reload();
                            }}
                          >
                            {k.enabled ? 'Disable' : 'Enable'}
                          </ActionButton>
                        </>
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

const roleList: Role[] = ['owner', 'admin', 'member', 'viewer'];

function Members() {
  const { org, user } = useApp();
  const oid = org?.id;
  // Only roles with manage_members may list or send invitations (the route answers others 403).
  const canManage = useCan()('manage_members');
  const members = useAsync(async () => (oid ? get<Member[]>(`/api/v1/orgs/${oid}/members`) : []), [oid]);
  const invites = useAsync(
    async () => (oid && canManage ? get<Invitation[]>(`/api/v1/orgs/${oid}/invitations`) : []),
    [oid, canManage],
  );
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('member');
  const [link, setLink] = useState<string>();
  const action = useAction();
  if (!org) return <Empty title="No organization" />;
  const invite = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      const r = await post<Invitation & { emailed: boolean }>(`/api/v1/orgs/${org.id}/invitations`, {
        email,
        role,
      });
      setEmail('');
      setLink(r.emailed ? undefined : r.link);
      invites.reload();
    });
  };
  return (
    <div className="stack-lg">
      <FormError error={action.error} />
      <Load a={members}>
        {(list) => (
          <table className="table">
            <thead>
              <tr>
                <th>Member</th>
                <th>Role</th>
                <th className="hide-sm">Joined</th>
                <th>
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((m) => (
                <tr key={m.userId}>
                  <td>
                    <strong>{m.name || m.email}</strong>
                    <div className="muted small">{m.email}</div>
                  </td>
                  <td>
                    {canManage && m.userId !== user.id ? (
                      <select
                        aria-label={`Role of ${m.email}`}
                        value={m.role}
                        onChange={(e) =>
                          action.run(async () => {
                            await patch(`/api/v1/orgs/${org.id}/members/${m.userId}`, {
                              role: e.target.value,
                            });
                            members.reload();
                          })
                        }
                      >
                        {roleList.map((r) => (
                          <option key={r}>{r}</option>
                        ))}
                      </select>
                    ) : (
                      <Badge kind="info">{m.role}</Badge>
                    )}
                  </td>
                  <td className="hide-sm">
                    <Time iso={m.joinedAt} />
                  </td>
                  <td className="actions">
                    {canManage && m.userId !== user.id && (
                      <button
                        type="button"
                        className="btn small danger"
                        onClick={() =>
                          confirm(`Remove ${m.email} from ${org.name}?`) &&
                          action.run(async () => {
                            await del(`/api/v1/orgs/${org.id}/members/${m.userId}`);
                            members.reload();
                          })
                        }
                      >
                        Remove
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Load>
      {canManage && (
        <section className="card">
          <h2>Invite someone</h2>
          <form className="form-inline" onSubmit={invite} aria-label="Invite a member">
            <Field label="Email">
              <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
            </Field>
            <Field label="Role">
              <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
                {roleList.map((r) => (
                  <option key={r}>{r}</option>
                ))}
              </select>
            </Field>
            <button type="submit" className="btn primary" disabled={action.busy}>
              Invite
            </button>
          </form>
          {link && (
            <SecretReveal
              title="No mail server configured: send this invitation link yourself"
              secret={link}
              onDone={() => setLink(undefined)}
            />
          )}
          <Load a={invites}>
            {(list) =>
              list.length === 0 ? null : (
                <ul className="plain">
                  {list.map((i) => (
                    <li key={i.id} className="row">
                      <span>
                        {i.email} as <strong>{i.role}</strong>, expires <Time iso={i.expiresAt} />
                      </span>
                      <button
                        type="button"
                        className="btn small ghost"
                        onClick={() =>
                          action.run(async () => {
                            await del(`/api/v1/orgs/${org.id}/invitations/${i.id}`);
                            invites.reload();
                          })
                        }
                      >
                        Revoke
                      </button>
                    </li>
                  ))}
                </ul>
              )
            }
          </Load>
        </section>
      )}
    </div>
  );
}

function Tokens() {
  const tokens = useAsync(() => get<ApiToken[]>('/api/v1/tokens'), []);
  const [name, setName] = useState('');
  const [scope, setScope] = useState<'read' | 'write'>('read');
  const [secret, setSecret] = useState<string>();
  const action = useAction();
  const create = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      const t = await post<ApiToken>('/api/v1/tokens', { name, scope });
      setName('');
      setSecret(t.token);
      tokens.reload();
    });
  };
  return (
    <div className="stack-lg">
      {secret && (
        <SecretReveal title="Your new API token" secret={secret} onDone={() => setSecret(undefined)} />
      )}
      <form className="card form-inline" onSubmit={create} aria-label="New API token">
        <Field label="Token name">
          <input required value={name} onChange={(e) => setName(e.target.value)} placeholder="CI deploys" />
        </Field>
        <Field label="Scope">
          <select value={scope} onChange={(e) => setScope(e.target.value as 'read')}>
            <option value="read">read</option>
            <option value="write">write</option>
          </select>
        </Field>
        <button type="submit" className="btn primary" disabled={action.busy}>
          Create token
        </button>
      </form>
      <FormError error={action.error} />
      <Load a={tokens}>
        {(list) =>
          list.length === 0 ? (
            <Empty title="No API tokens">Tokens let the CLI and scripts call the API as you.</Empty>
          ) : (
            <table className="table">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Scope</th>
                  <th className="hide-sm">Last used</th>
                  <th>
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.map((t) => (
                  <tr key={t.id}>
                    <td>
                      <strong>{t.name}</strong>
                      <div className="mono small muted">{t.hint}</div>
                    </td>
                    <td>
                      <Badge kind="info">{t.scope}</Badge>
                    </td>
                    <td className="hide-sm">
                      <Time iso={t.lastUsedAt} />
                    </td>
                    <td className="actions">
                      <button
                        type="button"
                        className="btn small danger"
                        onClick={() =>
                          action.run(async () => {
                            await del(`/api/v1/tokens/${t.id}`);
                            tokens.reload();
                          })
                        }
                      >
                        Revoke
                      </button>
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
