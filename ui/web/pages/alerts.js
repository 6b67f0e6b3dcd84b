// Alerts: the firing ones first (severity, rule, summary, since when,
// silenced by a maintenance window), then the history (resolved, how long
// they lasted). An alert can be acknowledged, links to its records in the
// search, shows its sample records and, opened, its delivery log.
// /alerts/ID (the url sent to receivers) or /alerts?id=ID points at one.

import { h, clear } from '../dom.js';
import { api, request, isAbort } from '../api.js';
import { RecordList } from '../records.js';
import { refine, columnTerm } from '../query.js';
import { fmtTime, fmtAge, fmtSpan, fmtCount, plural } from '../format.js';

export const title = 'Alerts';

const REFRESH_MS = 10_000;
const LIMIT = 200;
const PAYLOAD_CHARS = 20_000;

const SEVERITY = { critical: 'asev-critical', warning: 'asev-warning', info: 'asev-info' };

// targetID is the alert the URL points at, 0 when none.
function targetID() {
  const m = /^\/alerts\/([0-9]+)$/.exec(location.pathname);
  const id = Number(m ? m[1] : new URLSearchParams(location.search).get('id'));
  return Number.isInteger(id) && id > 0 ? id : 0;
}

// recordsLink is the search for the records behind an alert: the query
// the server gives (the rule's, narrowed to the group), else the host and
// app labels; over the window that fired it until it resolved.
export function recordsLink(a) {
  let q = a.query || '';
  if (!q) {
    for (const k of ['host', 'app']) {
      if (a.labels?.[k]) q = refine(q, columnTerm(k, a.labels[k]));
    }
  }
  if (!q) return null;
  const p = new URLSearchParams({ q });
  const from = a.query_from ? Date.parse(a.query_from) : Date.parse(a.started_at) - 3600e3;
  p.set('from', new Date(from).toISOString());
  // A second after it resolved: records arrive slightly after their time.
  if (a.resolved_at) p.set('to', new Date(Date.parse(a.resolved_at) + 1000).toISOString());
  return `/search?${p}`;
}

export function mount(root) {
  const summary = h('p', { class: 'summary', 'aria-live': 'polite' }, 'Loading…');
  const firing = h('ol', { class: 'alerts', 'aria-labelledby': 'firing-title' });
  const past = h('ol', { class: 'alerts past', 'aria-labelledby': 'history-title' });
  const firingNone = h('p', { class: 'muted', hidden: true }, 'Nothing is firing.');
  const pastNone = h('p', { class: 'muted', hidden: true }, 'No resolved alert yet.');
  const pinned = h('section', { class: 'pinned', 'aria-label': 'The alert asked for', hidden: true });
  root.append(h('h1', null, 'Alerts'), summary, pinned,
    h('section', { class: 'alerts-firing' }, h('h2', { id: 'firing-title' }, 'Firing'), firingNone, firing),
    h('section', { class: 'alerts-history' }, h('h2', { id: 'history-title' }, 'History'), pastNone, past));

  const target = targetID();
  let timer = 0;
  let stopped = false;
  let ctl = null;
  let last = ''; // the previous answer: unchanged, only the times move
  let now = Date.now();
  let alerts = [];
  const times = []; // [element, iso, suffix] of relative times to update
  const open = { samples: new Set(), deliveries: new Set() }; // alert ids, kept over refreshes
  const refills = new Map(); // alert id → reload of its open delivery log
  let scrolled = false;

  async function load() {
    clearTimeout(timer);
    if (ctl) ctl.abort();
    ctl = new AbortController();
    let res;
    try {
      res = await request('/api/v1/alerts', { params: { state: 'all', limit: LIMIT }, signal: ctl.signal });
    } catch (e) {
      if (isAbort(e)) return;
      summary.textContent = e.status === 404 ? 'No rules are configured on this server.' : `Cannot load the alerts: ${e.message}`;
      schedule();
      return;
    }
    now = res.date;
    const list = res.data?.alerts || [];
    const text = JSON.stringify(list);
    if (text !== last) {
      last = text;
      alerts = list;
      render();
    } else {
      tick();
      // Retries change a delivery log, not the alert.
      for (const fill of refills.values()) fill();
    }
    schedule();
    if (target && !scrolled) await point();
  }

  function schedule() {
    clearTimeout(timer);
    if (!stopped && document.visibilityState === 'visible') timer = setTimeout(load, REFRESH_MS);
  }

  // tick rewrites the relative times against the server's clock.
  function tick() {
    for (const [el, iso, suffix] of times) el.textContent = `${fmtAge(now - Date.parse(iso))}${suffix}`;
  }

  function ago(iso, suffix = ' ago') {
    const el = h('time', { datetime: iso, title: fmtTime(iso) });
    times.push([el, iso, suffix]);
    return el;
  }

  function render() {
    const focusKey = document.activeElement?.closest?.('[data-focus-key]')?.dataset.focusKey;
    times.length = 0;
    refills.clear();
    clear(firing);
    clear(past);
    const nFiring = alerts.filter((a) => a.state === 'firing').length;
    for (const a of alerts) (a.state === 'firing' ? firing : past).append(card(a));
    firingNone.hidden = nFiring > 0;
    pastNone.hidden = alerts.length - nFiring > 0;
    const acked = alerts.filter((a) => a.state === 'firing' && a.acked_by).length;
    summary.textContent = `${plural(nFiring, 'alert')} firing${nFiring ? ` (${acked} acknowledged)` : ''}, ` +
      `${fmtCount(alerts.length - nFiring)} resolved shown. Refreshed every 10 s.`;
    tick();
    if (focusKey) root.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`)?.focus();
  }

  // point scrolls to the alert the URL names, fetching it when the list
  // does not hold it (older than the newest LIMIT).
  async function point() {
    scrolled = true;
    let li = root.querySelector(`.alerts li[data-id="${target}"]`);
    if (!li) {
      try {
        const a = await api(`/api/v1/alerts/${target}`);
        clear(pinned).append(h('h2', null, 'This alert'), h('ol', { class: 'alerts' }, li = card(a)));
        pinned.hidden = false;
        tick();
      } catch (e) {
        if (isAbort(e)) return;
        clear(pinned).append(h('p', { class: 'error' }, `Alert ${target}: ${e.message}`));
        pinned.hidden = false;
        return;
      }
    }
    li.classList.add('targeted');
    li.scrollIntoView({ block: 'start' });
    li.querySelector('.alert-title')?.focus({ preventScroll: true });
  }

  function card(a) {
    const firingNow = a.state === 'firing';
    const sev = h('span', { class: `asev ${SEVERITY[a.severity] || 'asev-other'}` }, a.severity || 'warning');
    const when = firingNow ?
      h('span', { class: 'when' }, 'firing for ', ago(a.started_at, '')) :
      h('span', { class: 'when' }, 'resolved ', ago(a.resolved_at), ` · lasted ${fmtSpan(Date.parse(a.resolved_at) - Date.parse(a.started_at))}`);
    const badges = h('p', { class: 'alert-badges' });
    if (a.silenced) badges.append(h('span', { class: 'badge warn silenced' }, `silenced by maintenance ${a.silenced}`));
    const ackBox = h('span', { class: 'ack' });
    showAck(ackBox, a);
    badges.append(ackBox);
    const link = recordsLink(a);
    const actions = h('p', { class: 'alert-actions' },
      link ? h('a', { class: 'button records-link', href: link }, 'Matching records') : null,
      h('span', { class: 'muted' }, `#${a.id} · started `, h('time', { datetime: a.started_at }, fmtTime(a.started_at))));
    const labels = Object.entries(a.labels || {}).sort(([x], [y]) => (x < y ? -1 : 1));
    return h('li', { class: `alert ${firingNow ? 'firing' : 'resolved'} ${SEVERITY[a.severity] || ''}`.trim(), 'data-id': a.id },
      h('div', { class: 'alert-head' }, sev,
        h('h3', { class: 'alert-title', tabindex: '-1' }, a.rule), h('span', { class: 'key muted' }, a.key !== a.rule ? a.key : ''),
        h('span', { class: firingNow ? 'state firing' : 'state resolved' }, firingNow ? 'firing' : 'resolved'), when),
      h('p', { class: 'alert-summary' }, a.summary),
      badges,
      labels.length ? h('ul', { class: 'labels', 'aria-label': 'Labels' }, labels.map(([k, v]) => h('li', null, `${k}=${v}`))) : null,
      actions,
      samples(a),
      deliveries(a));
  }

  function showAck(box, a) {
    clear(box);
    if (a.acked_by) {
      box.append(h('span', { class: 'badge ok acked' }, `acked by ${a.acked_by}`),
        a.acked_at ? h('span', { class: 'muted' }, ' ', ago(a.acked_at)) : null);
      tick();
      return;
    }
    if (a.state !== 'firing') return;
    const btn = h('button', { type: 'button', class: 'ack-button', 'data-focus-key': `ack-${a.id}` }, 'Acknowledge');
    btn.addEventListener('click', async () => {
      btn.disabled = true;
      btn.textContent = 'Acknowledging…';
      try {
        const updated = await api(`/api/v1/alerts/${a.id}/ack`, { method: 'POST' });
        Object.assign(a, updated);
        showAck(box, a);
        box.setAttribute('tabindex', '-1');
        box.focus();
        last = ''; // the next refresh redraws from the server
      } catch (e) {
        btn.disabled = false;
        btn.textContent = 'Acknowledge';
        box.append(h('span', { class: 'error' }, ` ${e.message}`));
      }
    });
    box.append(btn);
  }

  function samples(a) {
    const recs = a.samples || [];
    if (!recs.length) return null;
    const list = new RecordList({
      label: `Sample records of alert ${a.id}`,
      onRefine: (term) => {
        const p = new URLSearchParams({ q: refine(a.query || '', term), from: new Date(Date.parse(a.started_at) - 86400e3).toISOString() });
        location.assign(`/search?${p}`);
      },
    });
    list.append(recs);
    const d = h('details', { class: 'samples' },
      h('summary', { 'data-focus-key': `samples-${a.id}` }, `Sample records (${recs.length})`), list.el);
    d.open = open.samples.has(a.id) || (a.state === 'firing' && !open.samples.has(-a.id));
    d.addEventListener('toggle', () => {
      open.samples.delete(d.open ? -a.id : a.id);
      open.samples.add(d.open ? a.id : -a.id);
    });
    return d;
  }

  function deliveries(a) {
    const box = h('div', { class: 'deliveries-body' });
    const d = h('details', { class: 'deliveries' },
      h('summary', { 'data-focus-key': `deliveries-${a.id}` }, 'Delivery log'), box);
    let shown = null; // the answer on screen: a refresh that brings the same leaves it (and its open payloads)
    const fill = async () => {
      if (shown === null) box.textContent = 'Loading…';
      try {
        const res = await api(`/api/v1/alerts/${a.id}/deliveries`);
        const text = JSON.stringify(res?.deliveries || []);
        if (text !== shown) {
          shown = text;
          showDeliveries(box, res?.deliveries || []);
        }
      } catch (e) {
        if (!isAbort(e)) box.textContent = `Cannot load the deliveries: ${e.message}`;
        shown = null;
      }
    };
    d.addEventListener('toggle', () => {
      if (d.open) {
        open.deliveries.add(a.id);
        refills.set(a.id, fill);
        fill();
      } else {
        open.deliveries.delete(a.id);
        refills.delete(a.id);
      }
    });
    d.open = open.deliveries.has(a.id); // fires toggle, which loads
    return d;
  }

  function showDeliveries(box, ds) {
    clear(box);
    if (!ds.length) {
      box.append(h('p', { class: 'muted' }, 'No delivery: the rule notifies nobody, or a maintenance window held it back.'));
      return;
    }
    const rows = ds.map((d) => {
      const done = d.delivered_at || d.given_up_at;
      const payload = JSON.stringify(d.payload, null, 2) ?? '';
      return h('tr', { class: `dl-${d.status}` },
        h('td', null, h('time', { datetime: d.created_at }, fmtTime(d.created_at))),
        h('td', null, d.notifier),
        h('td', null, d.kind),
        h('td', null, h('span', { class: `badge ${d.status === 'delivered' ? 'ok' : d.status === 'given_up' ? 'bad' : 'warn'}` }, d.status.replace('_', ' '))),
        h('td', { class: 'num' }, String(d.attempts)),
        h('td', { class: 'num' }, d.last_status ? String(d.last_status) : '–'),
        h('td', { class: 'err' }, d.last_error || (done ? '' : d.next_attempt_at ? `next attempt ${fmtTime(d.next_attempt_at)}` : '')),
        h('td', null, done ? h('time', { datetime: done }, fmtTime(done)) : '–'),
        h('td', null, h('details', { class: 'payload' }, h('summary', { title: `delivery ${d.id}` }, 'payload'),
          h('pre', null, payload.length > PAYLOAD_CHARS ? `${payload.slice(0, PAYLOAD_CHARS)}\n… (cut)` : payload))));
    });
    box.append(h('div', { class: 'table-wrap' }, h('table', { class: 'deliveries-table' },
      h('caption', { class: 'vh' }, 'Deliveries, newest first'),
      h('thead', null, h('tr', null, ['Queued', 'Notifier', 'Kind', 'Status', 'Attempts', 'HTTP', 'Last error', 'Done', 'Payload']
        .map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', null, rows))));
  }

  const onVisible = () => {
    if (document.visibilityState === 'visible') load();
    else clearTimeout(timer);
  };
  document.addEventListener('visibilitychange', onVisible);
  load();
  return () => {
    stopped = true;
    clearTimeout(timer);
    if (ctl) ctl.abort();
    document.removeEventListener('visibilitychange', onVisible);
  };
}
