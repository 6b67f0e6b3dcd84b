// The JSON API, with the session cookie and, on state-changing requests, the
// session's CSRF token.

let csrfToken = '';

export function setCSRF(token) {
  csrfToken = token || '';
}

export class APIError extends Error {
  constructor(status, message, column) {
    super(message);
    this.status = status;
    this.column = column || 0;
  }
}

// loginURL is the login page, coming back here afterwards.
export function loginURL() {
  return '/login?next=' + encodeURIComponent(location.pathname + location.search);
}

export function toLogin() {
  location.assign(loginURL());
}

// request answers {data, date}: the body and the server's clock (Date).
export async function request(path, { method = 'GET', params, body, signal } = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== '' && v != null) url.searchParams.set(k, String(v));
  }
  const headers = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrfToken;
  const resp = await fetch(url, { method, headers, body, signal, credentials: 'same-origin', cache: 'no-store' });
  if (resp.status === 401) {
    toLogin();
    throw new APIError(401, 'logged out');
  }
  let data = null;
  try {
    data = await resp.json();
  } catch {
    data = null;
  }
  if (!resp.ok) {
    throw new APIError(resp.status, (data && data.error) || `${resp.status} ${resp.statusText}`, data && data.column);
  }
  const date = Date.parse(resp.headers.get('Date') || '');
  return { data, date: Number.isNaN(date) ? Date.now() : date };
}

export async function api(path, opts) {
  return (await request(path, opts)).data;
}

// isAbort tells a request cancelled on purpose from a failure.
export function isAbort(err) {
  return err && err.name === 'AbortError';
}
