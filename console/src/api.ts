// The console's only way to the server: the public CloudStack API at /client/api, with the session
// key as a parameter and the session cookie (CloudStack's CookieAndParameter), exactly as cmk could.

export type Params = Record<string, string | number | boolean | undefined | null>;

/** An error envelope from the server; `text` is the server's own `errortext`. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly text: string,
  ) {
    super(text);
  }
}

export interface Session {
  sessionkey: string;
  username: string;
  account: string;
  /** "1" is the root admin, "2" a domain admin, "0" a user. */
  type: string;
  domainid: string;
}

const SESSION_KEY = 'cks.session';
let session: Session | null = loadSession();
let onExpired: () => void = () => {};

function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

export function currentSession(): Session | null {
  return session;
}

/** Called when the server no longer accepts the session (401 on an authenticated call). */
export function setOnExpired(callback: () => void) {
  onExpired = callback;
}

async function post(command: string, params: Params, withSession: boolean): Promise<any> {
  const form = new URLSearchParams();
  form.set('command', command);
  form.set('response', 'json');
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') form.set(key, String(value));
  }
  if (withSession && session) form.set('sessionkey', session.sessionkey);
  let response: Response;
  try {
    response = await fetch('/client/api', {
      method: 'POST',
      body: form,
      credentials: 'same-origin',
      headers: { Accept: 'application/json' },
    });
  } catch (e) {
    throw new ApiError(0, `The server cannot be reached (${(e as Error).message})`);
  }
  let body: any;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(response.status, `The server answered ${response.status} without JSON`);
  }
  const inner = body[`${command.toLowerCase()}response`] ?? body.errorresponse ?? Object.values(body)[0];
  if (!response.ok || (inner && inner.errorcode)) {
    const code = inner?.errorcode ?? response.status;
    const text = inner?.errortext ?? `HTTP ${response.status}`;
    if (withSession && code === 401 && session) {
      clearSession();
      onExpired();
    }
    throw new ApiError(code, text);
  }
  return inner ?? {};
}

/** Calls `command` with the session. Resolves to the inside of `<command>response`. */
export function api(command: string, params: Params = {}): Promise<any> {
  return post(command, params, true);
}

/** Lists `command`'s `key` array (absent when empty), all pages up to 500 items. */
export async function list<T = any>(command: string, key: string, params: Params = {}): Promise<T[]> {
  const inner = await api(command, { listall: true, pagesize: 500, page: 1, ...params });
  return (inner[key] as T[]) ?? [];
}

export async function login(username: string, password: string, domain: string): Promise<Session> {
  const r = await post('login', { username, password, domain: domain || '/' }, false);
  session = {
    sessionkey: r.sessionkey,
    username: r.username,
    account: r.account,
    type: String(r.type),
    domainid: r.domainid,
  };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return session;
}

function clearSession() {
  session = null;
  sessionStorage.removeItem(SESSION_KEY);
}

export async function logout() {
  try {
    await api('logout');
  } catch {
    // The session may have expired already; the console forgets it either way.
  }
  clearSession();
}

export interface JobResult {
  jobstatus: number;
  jobresult?: any;
  jobresultcode?: number;
}

/** Polls `queryAsyncJobResult` until the job ends; rejects with the job's error text when it fails. */
export async function waitForJob(jobid: string, intervalMs = 1000): Promise<any> {
  for (;;) {
    const r: JobResult = await api('queryAsyncJobResult', { jobid });
    if (r.jobstatus === 1) return r.jobresult;
    if (r.jobstatus === 2) {
      throw new ApiError(r.jobresult?.errorcode ?? 530, r.jobresult?.errortext ?? 'The job failed');
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
