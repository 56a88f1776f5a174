// The cks web console: a Preact app over the public CloudStack API, routed by the URL's hash.
//   #/clusters                  the cluster list
//   #/clusters/new              "Add Kubernetes Cluster"
//   #/clusters/<id>/<tab>       a cluster: details, access, instances
//   #/versions                  the Kubernetes version catalog (root admins)

import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';

import { ApiError, currentSession, login, logout, setOnExpired, type Session } from './api';
import { ClusterDetail, ClusterList, CreateCluster } from './clusters';
import { Alert, Field, navigate, Toasts } from './ui';
import { Versions } from './versions';

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const onChange = () => setHash(location.hash);
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return hash;
}

function Login({ onLogin, notice }: { onLogin: (s: Session) => void; notice?: string }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [domain, setDomain] = useState('/');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!username.trim() || !password) {
      setError('Enter a username and a password.');
      return;
    }
    setBusy(true);
    setError('');
    try {
      onLogin(await login(username.trim(), password, domain));
    } catch (err) {
      setError(err instanceof ApiError ? err.text : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login-page">
      <form class="login-card" onSubmit={submit} noValidate>
        <div class="brand brand-large">
          <Logo />
          <span>cks</span>
        </div>
        <p class="muted">CloudStack Kubernetes Service</p>
        {notice && <Alert kind="info">{notice}</Alert>}
        {error && <Alert>{error}</Alert>}
        <Field label="Username">
          <input
            name="username"
            autocomplete="username"
            value={username}
            onInput={(e) => setUsername(e.currentTarget.value)}
            autofocus
          />
        </Field>
        <Field label="Password">
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </Field>
        <Field label="Domain" hint="/ is the root domain">
          <input name="domain" value={domain} onInput={(e) => setDomain(e.currentTarget.value)} />
        </Field>
        <button class="button button-primary button-block" type="submit" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}

function Logo() {
  return (
    <svg viewBox="0 0 32 32" width="28" height="28" aria-hidden="true">
      <path fill="#326ce5" d="M16 2l12 6v16l-12 6-12-6V8z" />
      <circle cx="16" cy="16" r="5" fill="white" />
    </svg>
  );
}

function Shell({ session, onLogout }: { session: Session; onLogout: () => void }) {
  const hash = useHash();
  const path = hash.replace(/^#/, '') || '/clusters';
  const parts = path.split('/').filter(Boolean);
  const isRootAdmin = session.type === '1';
  let page;
  if (parts[0] === 'versions') {
    page = isRootAdmin ? <Versions /> : <Alert>Only root administrators manage Kubernetes versions.</Alert>;
  } else if (parts[0] === 'clusters' && parts[1] === 'new') {
    page = <CreateCluster />;
  } else if (parts[0] === 'clusters' && parts[1]) {
    page = <ClusterDetail key={parts[1]} id={parts[1]} tab={parts[2] ?? 'details'} />;
  } else {
    page = <ClusterList />;
  }
  const section = parts[0] === 'versions' ? 'versions' : 'clusters';
  return (
    <div class="shell">
      <nav class="sidebar">
        <a class="brand" href="#/clusters">
          <Logo />
          <span>cks</span>
        </a>
        <div class="nav-group">Kubernetes</div>
        <a class={`nav-link${section === 'clusters' ? ' active' : ''}`} href="#/clusters">
          Clusters
        </a>
        {isRootAdmin && (
          <a class={`nav-link${section === 'versions' ? ' active' : ''}`} href="#/versions">
            Kubernetes versions
          </a>
        )}
      </nav>
      <div class="main">
        <header class="topbar">
          <span class="muted">{isRootAdmin ? 'Root admin' : session.type === '2' ? 'Domain admin' : 'User'}</span>
          <span class="user" data-testid="user">
            {session.username}
          </span>
          <button type="button" class="button button-small" onClick={onLogout}>
            Log out
          </button>
        </header>
        <main class="content">{page}</main>
      </div>
    </div>
  );
}

function App() {
  const [session, setSession] = useState<Session | null>(currentSession());
  const [notice, setNotice] = useState<string | undefined>();
  useEffect(() => {
    setOnExpired(() => {
      setNotice('Your session has ended; log in again.');
      setSession(null);
    });
  }, []);
  return (
    <>
      {session ? (
        <Shell
          session={session}
          onLogout={async () => {
            await logout();
            setNotice(undefined);
            setSession(null);
          }}
        />
      ) : (
        <Login
          notice={notice}
          onLogin={(s) => {
            setNotice(undefined);
            setSession(s);
            if (!location.hash || location.hash === '#/') navigate('/clusters');
          }}
        />
      )}
      <Toasts />
    </>
  );
}

render(<App />, document.getElementById('app')!);
