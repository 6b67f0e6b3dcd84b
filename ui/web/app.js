// The dashboard's shell: who is logged in, the navigation, log out, and the
// page module for this path. A page is one module in pages/ exporting
// `title` and `mount(root)`, which returns a function that stops it.

import { api, request, setCSRF } from './api.js';

// Pages by path. A nav entry whose page is not listed here stays hidden.
const PAGES = {
  search: () => import('./pages/search.js'),
  live: () => import('./pages/live.js'),
  checks: () => import('./pages/checks.js'),
  alerts: () => import('./pages/alerts.js'),
  sources: () => import('./pages/sources.js'),
};

function fatal(msg) {
  const p = document.getElementById('fatal');
  p.textContent = msg;
  p.hidden = false;
}

async function main() {
  const name = location.pathname.split('/')[1] || 'search';
  for (const a of document.querySelectorAll('#nav a[data-page]')) {
    a.parentElement.hidden = !(a.dataset.page in PAGES);
    if (a.dataset.page === name) a.setAttribute('aria-current', 'page');
  }
  let session;
  try {
    session = await api('/api/v1/session');
  } catch (e) {
    if (e.status !== 401) fatal(`Cannot reach the server: ${e.message}`);
    return;
  }
  setCSRF(session.csrf);
  document.getElementById('user').textContent = session.user;
  document.getElementById('logout').addEventListener('click', async () => {
    try {
      await request('/logout', { method: 'POST' });
    } catch (e) {
      // Logged out already, or the server is gone: the login page says which.
    }
    location.assign('/login');
  });
  const load = PAGES[name];
  if (!load) {
    fatal(`No page ${name}.`);
    return;
  }
  const mod = await load();
  document.title = `vigie · ${mod.title}`;
  mod.mount(document.getElementById('main'));
}

main().catch((e) => fatal(`The page failed to start: ${e.message}`));
