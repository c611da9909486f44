import { type FormEvent, useEffect, useState } from 'react';
import { get, post, type Session, setSession } from '../api.js';
import { Link, navigate, useLocation } from '../router.js';
import { Field, FormError, Spinner, useAction } from '../ui.js';

/** First run (no account yet), sign up and sign in. */
export function AuthScreen() {
  const { path, query } = useLocation();
  const [needsSetup, setNeedsSetup] = useState<boolean>();
  useEffect(() => {
    get<{ needsSetup: boolean }>('/api/v1/setup').then(
      (r) => setNeedsSetup(r.needsSetup),
      () => setNeedsSetup(false),
    );
  }, []);
  const invite = query.get('invite') ?? undefined;
  const [invitation, setInvitation] = useState<Invitation | null>();
  useEffect(() => {
    if (!invite) return;
    get<Invitation>(`/api/v1/invitations/${encodeURIComponent(invite)}`).then(setInvitation, () =>
      setInvitation(null),
    );
  }, [invite]);
  if (needsSetup === undefined) return <Spinner />;
  const mode = needsSetup ? 'setup' : path === '/signup' ? 'signup' : 'signin';
  return (
    <main className="auth" id="main">
      <div className="auth-card">
        <div className="auth-logo" aria-hidden="true">
          <svg width="40" height="40" viewBox="0 0 32 32" aria-hidden="true">
            <circle cx="16" cy="16" r="14" fill="currentColor" />
            <circle cx="16" cy="16" r="6" fill="#fff" />
          </svg>
        </div>
        {mode === 'setup' ? (
          <>
            <h1>Welcome to Beacon</h1>
            <p className="muted">
              Create the first account. It owns a new organization; invite your team later.
            </p>
          </>
        ) : mode === 'signup' ? (
          <h1>Create your account</h1>
        ) : (
          <h1>Sign in to Beacon</h1>
        )}
        {invite && invitation && (
          <p className="muted center">
            You are invited to join <strong>{invitation.orgName}</strong> as {invitation.role}.
          </p>
        )}
        {invite && invitation === null && (
          <p className="form-error center" role="alert">
            This invitation is invalid or has expired.
          </p>
        )}
        <AuthForm key={mode} mode={mode} invite={invite} email={invitation?.email} />
        {mode === 'signin' && (
          <p className="muted center">
            New here?{' '}
            <Link to={`/signup${invite ? `?invite=${encodeURIComponent(invite)}` : ''}`}>
              Create an account
            </Link>
          </p>
        )}
        {mode === 'signup' && (
          <p className="muted center">
            Have an account?{' '}
            <Link to={`/signin${invite ? `?invite=${encodeURIComponent(invite)}` : ''}`}>Sign in</Link>
          </p>
        )}
      </div>
    </main>
  );
}

interface Invitation {
  orgId: number;
  orgName: string;
  email: string;
  role: string;
}

function AuthForm({
  mode,
  invite,
  email: invited,
}: {
  mode: 'setup' | 'signup' | 'signin';
  invite?: string;
  email?: string;
}) {
  const [email, setEmail] = useState(invited ?? '');
  useEffect(() => {
    if (invited) setEmail(invited);
  }, [invited]);
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const action = useAction();
  const signup = mode !== 'signin';
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    await action.run(async () => {
      const s = signup
        ? await post<Session>('/api/v1/auth/signup', {
            email,
            password,
            name: name || undefined,
            inviteToken: invite,
          })
        : await post<Session>('/api/v1/auth/signin', { email, password });
      // An existing account follows an invitation link: accept it right after signing in.
      if (!signup && invite)
        await fetch(`/api/v1/invitations/${encodeURIComponent(invite)}/accept`, {
          method: 'POST',
          headers: { authorization: `Bearer ${s.accessToken}`, 'content-type': 'application/json' },
          body: '{}',
        }).catch(() => {});
      setSession({ user: s.user, accessToken: s.accessToken, refreshToken: s.refreshToken });
      navigate('/', { replace: true });
    });
  };
  return (
    <form onSubmit={submit} className="stack" aria-label={signup ? 'Sign up' : 'Sign in'}>
      {signup && (
        <Field label="Name">
          <input name="name" autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
      )}
      <Field label="Email">
        <input
          name="email"
          type="email"
          required
          autoComplete="email"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
        />
      </Field>
      <Field label="Password" hint={signup ? 'At least 8 characters.' : undefined}>
        <input
          name="password"
          type="password"
          required
          minLength={signup ? 8 : undefined}
          autoComplete={signup ? 'new-password' : 'current-password'}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </Field>
      <FormError error={action.error} />
      <button type="submit" className="btn primary" disabled={action.busy}>
        {action.busy ? 'Please wait…' : signup ? 'Create account' : 'Sign in'}
      </button>
    </form>
  );
}
