// Live: matching records as they are committed, over the websocket tail.
// Rendering is batched once per animation frame (at most 300 rows a frame)
// and the list keeps the newest 2,000 rows, so 2,000 records a second do not
// freeze the tab.
// Pause keeps the socket open: records wait (the newest 2,000) and show on
// resume. "Skipped" counts records never shown: those the server dropped
// because this browser fell behind, and those pushed out while waiting.

import { h } from '../dom.js';
import { api } from '../api.js';
import { RecordList } from '../records.js';
import { refine } from '../query.js';
import { fmtCount } from '../format.js';
import { queryError } from './search.js';

export const title = 'Live';

const CAP = 2000;
const PER_FRAME = 300;

export function mount(root) {
  const q = h('input', {
    id: 'q', name: 'q', type: 'search', class: 'q', autocomplete: 'off', spellcheck: 'false',
    placeholder: 'app:postgres severity<=err', 'aria-describedby': 'q-error',
  });
  const form = h('form', { class: 'querybar', role: 'search' },
    h('label', { for: 'q', class: 'vh' }, 'Query'), q,
    h('button', { type: 'submit', class: 'primary' }, 'Follow'));
  const qerror = h('div', { id: 'q-error', class: 'qerror', role: 'alert', hidden: true });
  const pause = h('button', { type: 'button', id: 'pause', 'aria-pressed': 'false' }, 'Pause');
  const status = h('span', { class: 'status', role: 'status' });
  const shownCount = h('span', { class: 'count' });
  const waiting = h('span', { class: 'waiting', hidden: true });
  const skipped = h('span', { class: 'skipped' });
  const list = new RecordList({ label: 'Live records', onRefine: (term) => follow(refine(q.value, term)) });
  root.append(form, qerror,
    h('div', { class: 'livebar' }, pause, status, shownCount, waiting, skipped),
    list.el);

  let ws = null;
  let pending = [];
  let paused = false;
  let droppedServer = 0;
  let droppedBrowser = 0;
  let raf = 0;
  let retry = 0;
  let timer = 0;
  let stopped = false;

  function setStatus(text, cls) {
    status.textContent = text;
    status.className = `status ${cls || ''}`;
  }

  // cut drops the oldest waiting records beyond n, counting them.
  function cut(n) {
    if (pending.length > n) {
      droppedBrowser += pending.length - n;
      pending = pending.slice(pending.length - n);
    }
  }

  function counters() {
    cut(CAP);
    shownCount.textContent = `${fmtCount(list.size)} shown`;
    waiting.hidden = !paused;
    waiting.textContent = `${fmtCount(pending.length)} waiting`;
    const total = droppedServer + droppedBrowser;
    skipped.textContent = `${fmtCount(total)} skipped`;
    skipped.title = `${fmtCount(droppedServer)} dropped by the server (this browser fell behind), ` +
      `${fmtCount(droppedBrowser)} pushed out while more than ${fmtCount(CAP)} waited`;
    skipped.classList.toggle('warn', total > 0);
  }

  function schedule() {
    if (!raf) raf = requestAnimationFrame(flush);
  }

  // flush shows what arrived since the last frame, at most PER_FRAME rows
  // (oldest first) so that one frame stays short when the tab was starved;
  // the rest waits for the next frame, and beyond CAP waiting is skipped.
  function flush() {
    raf = 0;
    if (!paused && pending.length) {
      cut(CAP);
      const batch = pending.length > PER_FRAME ? pending.slice(0, PER_FRAME) : pending;
      pending = pending.length > PER_FRAME ? pending.slice(PER_FRAME) : [];
      list.prepend(batch);
      list.trim(CAP);
      if (pending.length) schedule();
    }
    counters();
  }

  function connect() {
    clearTimeout(timer);
    const url = new URL('/api/v1/tail', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    if (q.value.trim()) url.searchParams.set('q', q.value.trim());
    const sock = new WebSocket(url);
    ws = sock;
    setStatus('connecting…');
    let badQuery = null;
    sock.onopen = () => {
      retry = 0;
      setStatus(paused ? 'paused' : 'live', paused ? 'paused' : 'ok');
    };
    sock.onmessage = (ev) => {
      let m;
      try {
        m = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (m.type === 'dropped') {
        droppedServer += m.count;
      } else if (m.type === 'error') {
        badQuery = m;
        return;
      } else if (!m.type) {
        pending.push(m);
        // Amortized: cut to CAP only once twice as many wait.
        if (pending.length >= 2 * CAP) cut(CAP);
      }
      schedule();
    };
    sock.onclose = (ev) => {
      if (sock !== ws || stopped) return;
      if (badQuery) {
        setStatus('stopped', 'bad');
        queryError(qerror, q, q.value.trim(), { message: badQuery.error, column: badQuery.column });
        return;
      }
      if (ev.code === 4001) {
        location.assign('/login?next=' + encodeURIComponent(location.pathname + location.search));
        return;
      }
      const wait = Math.min(30, 2 ** retry);
      retry++;
      setStatus(`disconnected; reconnecting in ${wait} s`, 'bad');
      // The session may be gone: api() then goes to the login page.
      api('/api/v1/session').then(() => {
        timer = setTimeout(connect, wait * 1000);
      }, () => {
        timer = setTimeout(connect, wait * 1000);
      });
    };
  }

  function disconnect() {
    if (ws) {
      const old = ws;
      ws = null;
      old.close(1000);
    }
  }

  function follow(query) {
    q.value = query;
    const p = new URLSearchParams();
    if (query) p.set('q', query);
    history.pushState(null, '', `${location.pathname}${query ? '?' + p : ''}`);
    restart();
  }

  function restart() {
    disconnect();
    qerror.hidden = true;
    q.removeAttribute('aria-invalid');
    pending = [];
    droppedServer = 0;
    droppedBrowser = 0;
    list.clear();
    counters();
    connect();
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    follow(q.value.trim());
  });
  pause.addEventListener('click', () => {
    paused = !paused;
    pause.textContent = paused ? 'Resume' : 'Pause';
    pause.setAttribute('aria-pressed', String(paused));
    if (ws && ws.readyState === WebSocket.OPEN) setStatus(paused ? 'paused' : 'live', paused ? 'paused' : 'ok');
    schedule();
  });
  const onPop = () => {
    q.value = new URLSearchParams(location.search).get('q') || '';
    restart();
  };
  window.addEventListener('popstate', onPop);

  q.value = new URLSearchParams(location.search).get('q') || '';
  counters();
  connect();
  return () => {
    stopped = true;
    clearTimeout(timer);
    cancelAnimationFrame(raf);
    disconnect();
    window.removeEventListener('popstate', onPop);
  };
}
