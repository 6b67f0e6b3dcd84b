// Checks: every check with its status, last run, failing step and error,
// and availability over 1h/24h/7d/30d against its target, refreshed every
// 10 s while the tab is visible. A check opens its detail: response times
// per step over the range, the recent runs, "Run now" and the SLA report.
// The check and the range are the URL's check, from and to.

import { h, clear } from '../dom.js';
import { api, request, isAbort } from '../api.js';
import { TimeRange } from '../timerange.js';
import { quote } from '../query.js';
import { drawStepChart, stepPoints } from '../rtchart.js';
import { fmtTime, fmtAge, fmtMS, fmtPct, fmtCount, relSpan } from '../format.js';

export const title = 'Checks';

const REFRESH_MS = 10_000;
const WINDOWS = ['1h', '24h', '7d', '30d'];
const DEFAULT_FROM = '-24h';
const CHART_RUNS = 5000; // the newest runs of the range the chart draws
const TABLE_RUNS = 50;

function readURL() {
  const p = new URLSearchParams(location.search);
  return { check: p.get('check') || '', from: p.has('from') ? p.get('from') : DEFAULT_FROM, to: p.get('to') || '' };
}

// verdict is what a status or a run shows: a word and its colour class
// (the word is always there: colour is never the only sign).
export function verdict(status, slow) {
  if (status === 'down') return { text: 'down', cls: 'st-down' };
  if (status === 'up') return slow ? { text: 'slow', cls: 'st-slow' } : { text: 'up', cls: 'st-up' };
  return { text: 'unknown', cls: 'st-unknown' };
}

function badge(v) {
  return h('span', { class: `st ${v.cls}` }, v.text);
}

function runVerdict(run) {
  return verdict(run.success ? 'up' : 'down', run.slow);
}

// ago is a relative time whose title is the absolute one.
function ago(iso, now) {
  return h('time', { datetime: iso, title: fmtTime(iso) }, `${fmtAge(now - Date.parse(iso))} ago`);
}

// timeAt reads a time of the API's syntax ("", now, -24h, RFC 3339) as
// milliseconds, against the server's clock; NaN when it cannot.
function timeAt(v, now) {
  if (!v || v === 'now') return now;
  if (v.startsWith('-')) return now - relSpan(v);
  return Date.parse(v);
}

function checkPath(name, tail) {
  return `/api/v1/checks/${encodeURIComponent(name)}/${tail}`;
}

// slaCell shows one window's availability; below the target it stands out
// in colour, with a mark and words for those who do not see the colour.
function slaCell(label, v, target) {
  if (v == null) return h('td', { class: 'num sla', 'data-label': label, title: 'no run in this window' }, '–');
  const below = target != null && target > 0 && v < target;
  return h('td', { class: below ? 'num sla below' : 'num sla', 'data-label': label, title: below ? `below the ${target} % target` : null },
    below ? h('span', { 'aria-hidden': 'true' }, '▼ ') : null, fmtPct(v),
    below ? h('span', { class: 'vh' }, ' (below target)') : null);
}

// failure is the failing step and error of a down check. Probe errors
// name their step already ("step 2 \"log in\": …"); others get it prefixed.
function failure(c) {
  if (c.status !== 'down') return '';
  const err = c.last_error || '';
  return c.failed_step && !/^step [0-9]+/.test(err) ? `${c.failed_step}: ${err}` : err;
}

export function mount(root) {
  const summary = h('p', { class: 'summary', 'aria-live': 'polite' }, 'Loading…');
  const body = h('tbody');
  const table = h('table', { class: 'checks' },
    h('caption', { class: 'vh' }, 'Checks, their status and availability'),
    h('thead', null, h('tr', null,
      ['Check', 'Status', 'Last run', 'Duration', 'Failing step and error', ...WINDOWS, 'Target']
        .map((t) => h('th', { scope: 'col', class: WINDOWS.includes(t) || t === 'Target' ? 'num' : null }, t)))),
    body);
  const detail = h('section', { id: 'check-detail', class: 'check-detail', 'aria-labelledby': 'check-title', hidden: true });
  root.append(h('h1', null, 'Checks'), summary,
    h('div', { class: 'table-wrap', role: 'region', 'aria-label': 'Checks table', tabindex: '0' }, table), detail);

  let state = readURL();
  let checks = [];
  let loaded = false;
  let now = Date.now();
  let timer = 0;
  let stopped = false;
  let listCtl = null;
  let view = null; // the open detail

  async function load() {
    clearTimeout(timer);
    if (listCtl) listCtl.abort();
    listCtl = new AbortController();
    let res;
    try {
      res = await request('/api/v1/checks', { signal: listCtl.signal });
    } catch (e) {
      if (isAbort(e)) return;
      summary.textContent = e.status === 404 ? 'No checks are configured on this server.' : `Cannot load the checks: ${e.message}`;
      schedule();
      return;
    }
    now = res.date; // the server's clock: a skewed browser clock does not matter
    checks = Array.isArray(res.data) ? res.data : [];
    loaded = true;
    render();
    schedule();
    if (view) view.listed(checks.find((c) => c.name === view.name), now);
  }

  function schedule() {
    clearTimeout(timer);
    if (!stopped && document.visibilityState === 'visible') timer = setTimeout(load, REFRESH_MS);
  }

  function render() {
    const focused = document.activeElement?.closest?.('tr[data-check]')?.dataset.check;
    clear(body);
    for (const c of checks) {
      const v = verdict(c.status, c.slow);
      const open = view && view.name === c.name;
      const btn = h('button', {
        type: 'button', class: 'check-open', 'aria-expanded': String(Boolean(open)), 'aria-controls': 'check-detail',
        title: `Response times, runs and SLA report of ${c.name}`,
      }, c.name);
      btn.addEventListener('click', () => go({ check: open ? '' : c.name }));
      body.append(h('tr', { 'data-check': c.name, class: [v.cls, open ? 'open' : ''].join(' ').trim() },
        h('th', { scope: 'row' }, btn, c.enabled ? null : h('span', { class: 'badge quiet' }, 'disabled')),
        h('td', { 'data-label': 'Status' }, badge(v)),
        h('td', { 'data-label': 'Last run' }, c.last_run ? ago(c.last_run, now) : 'never'),
        h('td', { class: 'num', 'data-label': 'Duration' }, c.duration_ms != null ? fmtMS(c.duration_ms) : '–'),
        h('td', { class: 'err', 'data-label': 'Error' }, failure(c)),
        WINDOWS.map((w) => slaCell(w, c.sla?.[w], c.sla_target)),
        h('td', { class: 'num', 'data-label': 'Target' }, c.sla_target ? `${c.sla_target} %` : '–')));
    }
    if (focused) body.querySelector(`tr[data-check="${CSS.escape(focused)}"] .check-open`)?.focus();
    const n = (st) => checks.filter((c) => c.status === st).length;
    const slow = checks.filter((c) => c.status === 'up' && c.slow).length;
    summary.textContent = checks.length === 0 ? 'No checks are configured.' :
      `${fmtCount(checks.length)} checks: ${n('down')} down, ${n('up')} up${slow ? ` (${slow} slow)` : ''}, ` +
      `${n('unknown')} not run yet. Refreshed every 10 s.`;
  }

  function go(patch) {
    state = { ...state, ...patch };
    const p = new URLSearchParams();
    if (state.check) {
      p.set('check', state.check);
      p.set('from', state.from || '');
      if (state.to) p.set('to', state.to);
    }
    const qs = p.toString();
    history.pushState(null, '', location.pathname + (qs ? `?${qs}` : ''));
    sync(true);
  }

  // sync opens, changes or closes the detail to match the state.
  function sync(focus) {
    if (!state.check) {
      if (view) view.stop();
      view = null;
      clear(detail);
      detail.hidden = true;
    } else if (view && view.name === state.check) {
      view.setRange(state.from, state.to);
    } else {
      if (view) view.stop();
      view = new Detail(detail, state, {
        onRange: (from, to) => go({ from, to }),
        onClose: () => {
          const name = state.check;
          go({ check: '' });
          body.querySelector(`tr[data-check="${CSS.escape(name)}"] .check-open`)?.focus();
        },
        onRun: () => load(),
      });
      if (loaded) view.listed(checks.find((c) => c.name === state.check), now);
      if (focus) view.focus();
    }
    render();
  }

  const onPop = () => {
    state = readURL();
    sync(false);
  };
  window.addEventListener('popstate', onPop);
  const onVisible = () => {
    if (document.visibilityState === 'visible') load();
    else clearTimeout(timer);
  };
  document.addEventListener('visibilitychange', onVisible);

  load();
  sync(false);
  return () => {
    stopped = true;
    clearTimeout(timer);
    if (listCtl) listCtl.abort();
    if (view) view.stop();
    window.removeEventListener('popstate', onPop);
    document.removeEventListener('visibilitychange', onVisible);
  };
}

// Detail is one check's view: range, run now, SLA report, charts, runs.
class Detail {
  constructor(el, state, { onRange, onClose, onRun }) {
    this.el = el;
    this.name = state.check;
    this.from = state.from;
    this.to = state.to;
    this.onRun = onRun;
    this.ctl = null;
    this.lastRun = undefined;

    this.heading = h('h2', { id: 'check-title', class: 'detail-title', tabindex: '-1' }, this.name);
    this.status = h('span', { class: 'detail-status' });
    this.range = new TimeRange('check');
    this.runBtn = h('button', { type: 'button', id: 'run-now' }, 'Run now');
    // Their hrefs follow the range (setRange). The session cookie
    // authorises the download: it is a plain link to the API.
    this.csv = h('a', { class: 'button', id: 'sla-csv', download: '' }, 'SLA report (CSV)');
    this.logs = h('a', { class: 'button', title: 'The log records of these runs (app:vigie-check)' }, 'Run records');
    const form = h('form', { class: 'querybar detail-bar', 'aria-label': 'Range' },
      this.range.el, h('button', { type: 'submit' }, 'Show'), this.runBtn, this.csv, this.logs);
    this.result = h('div', { class: 'run-result', 'aria-live': 'polite' });
    this.avail = h('p', { class: 'range-sla' });
    this.charts = h('div', { class: 'rt-charts' });
    this.runsBody = h('tbody');
    this.runsNote = h('p', { class: 'muted runs-note' });
    clear(el);
    el.append(
      h('div', { class: 'detail-head' }, this.heading, this.status,
        h('button', { type: 'button', class: 'quiet close', onclick: onClose }, 'Close')),
      form, this.result, this.avail,
      h('h3', null, 'Response time per step'), this.charts,
      h('h3', null, 'Recent runs'), this.runsNote,
      h('div', { class: 'table-wrap', role: 'region', 'aria-label': 'Recent runs', tabindex: '0' },
        h('table', { class: 'runs' },
          h('caption', { class: 'vh' }, `Recent runs of ${this.name}, newest first`),
          h('thead', null, h('tr', null, ['Time', 'Result', 'Duration', 'Attempts', 'Failing step', 'Error']
            .map((t) => h('th', { scope: 'col' }, t)))),
          this.runsBody)));
    el.hidden = false;
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const v = this.range.value();
      onRange(v.from || DEFAULT_FROM, v.to);
    });
    this.runBtn.addEventListener('click', () => this.runNow());
    this.setRange(this.from, this.to, true);
  }

  focus() {
    this.el.scrollIntoView({ block: 'start' });
    this.heading.focus({ preventScroll: true });
  }

  stop() {
    if (this.ctl) this.ctl.abort();
  }

  setRange(from, to, force) {
    // An empty from would be a different default per endpoint (24 hours
    // of runs, 30 days of SLA): both get the page's.
    from = from || DEFAULT_FROM;
    if (!force && from === this.from && to === this.to) return;
    this.from = from;
    this.to = to;
    this.range.set(from, to);
    const p = new URLSearchParams({ from });
    if (to) p.set('to', to);
    p.set('format', 'csv');
    this.csv.setAttribute('href', `${checkPath(this.name, 'sla')}?${p}`);
    const q = new URLSearchParams({ q: `app:vigie-check check:${quote(this.name)}`, from });
    if (to) q.set('to', to);
    this.logs.setAttribute('href', `/search?${q}`);
    this.load();
  }

  // listed gets the check's line of the list: a new run reloads the detail.
  listed(c, now) {
    if (!c) {
      clear(this.status).append(h('span', { class: 'error' }, 'no check of this name'));
      this.runBtn.disabled = true;
      return;
    }
    clear(this.status).append(badge(verdict(c.status, c.slow)),
      c.last_run ? h('span', { class: 'muted' }, ' last run ', ago(c.last_run, now)) : null);
    this.runBtn.disabled = this.running || !c.enabled;
    this.runBtn.title = c.enabled ? '' : 'The check is disabled (enabled: false)';
    if (this.lastRun !== undefined && c.last_run !== this.lastRun) this.load();
    this.lastRun = c.last_run;
  }

  async load() {
    if (this.ctl) this.ctl.abort();
    this.ctl = new AbortController();
    const { signal } = this.ctl;
    const params = { from: this.from, to: this.to };
    this.avail.textContent = 'Loading…';
    const slaP = api(checkPath(this.name, 'sla'), { params: { ...params, format: 'json' }, signal });
    slaP.catch(() => {});
    let res;
    try {
      res = await request(checkPath(this.name, 'runs'), { params: { ...params, limit: CHART_RUNS }, signal });
    } catch (e) {
      if (isAbort(e)) return;
      this.avail.textContent = `Cannot load the runs: ${e.message}`;
      clear(this.charts);
      clear(this.runsBody);
      return;
    }
    const runs = res.data?.runs || [];
    let to = timeAt(this.to, res.date);
    if (!Number.isFinite(to)) to = res.date;
    let from = timeAt(this.from, res.date);
    if (!Number.isFinite(from)) from = runs.length ? Date.parse(runs[runs.length - 1].start) : to - 86400e3;
    this.drawCharts(runs, runs.length >= CHART_RUNS ? Date.parse(runs[runs.length - 1].start) : from, to);
    this.drawRuns(runs);
    try {
      this.showSLA(await slaP);
    } catch (e) {
      if (!isAbort(e)) this.avail.textContent = `SLA report: ${e.message}`;
    }
  }

  showSLA(rep) {
    const a = rep.availability || {};
    const pct = a.known ? a.ratio * 100 : null;
    const parts = [`Availability over the range: ${a.known ? fmtPct(pct) : 'unknown (no run)'}`];
    if (rep.target) parts.push(`target ${rep.target} % ${rep.met == null ? '' : rep.met ? '(met)' : '(missed)'}`.trim());
    parts.push(`${fmtCount(rep.runs || 0)} runs, ${fmtCount(rep.runs_down || 0)} down`);
    if (rep.down_periods?.length) parts.push(`${rep.down_periods.length} down period${rep.down_periods.length > 1 ? 's' : ''}`);
    this.avail.textContent = parts.join(' · ') + '.';
    this.avail.classList.toggle('below', rep.met === false);
  }

  drawCharts(runs, from, to) {
    clear(this.charts);
    // Steps as the newest run has them, then any the older runs had.
    const steps = [];
    for (const r of runs) {
      (r.steps || []).forEach((st, i) => {
        if (!steps.some((x) => x.name === st.name)) steps.push({ name: st.name, index: i });
      });
    }
    if (!steps.length) {
      this.charts.append(h('p', { class: 'muted' }, runs.length ? 'These runs have no step timings.' : 'No run in this range.'));
      return;
    }
    if (runs.length >= CHART_RUNS) {
      this.charts.append(h('p', { class: 'muted' }, `The chart shows the newest ${fmtCount(CHART_RUNS)} runs of the range: narrow it to see older ones.`));
    }
    for (const st of steps) {
      const box = h('figure', { class: 'rt-step' });
      drawStepChart(box, { title: `step ${st.index + 1} "${st.name}"`, points: stepPoints(runs, st.name, st.index), from, to });
      this.charts.append(box);
    }
  }

  drawRuns(runs) {
    clear(this.runsBody);
    const shown = runs.slice(0, TABLE_RUNS);
    this.runsNote.textContent = runs.length === 0 ? 'No run in this range.' :
      `The newest ${fmtCount(shown.length)} of ${fmtCount(runs.length)}${runs.length >= CHART_RUNS ? '+' : ''} runs in the range.`;
    for (const r of shown) this.runsBody.append(this.runRow(r));
  }

  runRow(r) {
    const v = runVerdict(r);
    const step = r.failed_step >= 0 && r.steps?.[r.failed_step] ? `${r.failed_step + 1} "${r.steps[r.failed_step].name}"` : '';
    return h('tr', { class: v.cls },
      h('td', null, h('time', { datetime: r.start }, fmtTime(r.start))),
      h('td', null, badge(v)),
      h('td', { class: 'num' }, fmtMS(r.duration_ms)),
      h('td', { class: 'num attempts', 'data-label': 'Attempts' }, String(r.attempts ?? 1)),
      h('td', { class: 'step', 'data-label': 'Failing step' }, step),
      h('td', { class: 'err' }, r.error || ''));
  }

  async runNow() {
    this.running = true;
    this.runBtn.disabled = true;
    this.runBtn.textContent = 'Running…';
    clear(this.result).append(h('p', { class: 'muted' }, `Running ${this.name}…`));
    try {
      const r = await api(checkPath(this.name, 'run'), { method: 'POST' });
      const v = runVerdict(r);
      clear(this.result).append(h('p', { class: `run-outcome ${v.cls}` },
        badge(v), ` Run at ${fmtTime(r.start)}: `, r.success ? `${v.text} in ${fmtMS(r.duration_ms)}` :
          `down after ${fmtMS(r.duration_ms)}${r.attempts > 1 ? ` and ${r.attempts} attempts` : ''}: ${r.error || ''}`));
    } catch (e) {
      if (!isAbort(e)) clear(this.result).append(h('p', { class: 'error' }, `Run now failed: ${e.message}`));
    } finally {
      this.running = false;
      this.runBtn.disabled = false;
      this.runBtn.textContent = 'Run now';
    }
    this.onRun();
    this.load();
  }
}
