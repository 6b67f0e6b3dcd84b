// Sources: every syslog sender and agent, with when it was last heard, its
// counts and rate. An agent silent for more than 10 minutes stands out:
// agents send continuously, so silence means it stopped or cannot reach us.

import { h, clear } from '../dom.js';
import { request } from '../api.js';
import { fmtTime, fmtAge, fmtCount } from '../format.js';

export const title = 'Sources';

const SILENT_MS = 10 * 60 * 1000;
const REFRESH_MS = 10 * 1000;

export function mount(root) {
  const summary = h('p', { class: 'summary', 'aria-live': 'polite' }, 'Loading…');
  const body = h('tbody');
  const table = h('table', { class: 'sources' },
    h('caption', { class: 'vh' }, 'Senders and agents'),
    h('thead', null, h('tr', null,
      ['Sender', 'Kind', 'Host', 'Last seen', 'Records', 'Rate', 'Parse errors', 'First seen']
        .map((t) => h('th', { scope: 'col' }, t)))),
    body);
  root.append(h('h1', null, 'Sources'), summary,
    h('div', { class: 'table-wrap', role: 'region', 'aria-label': 'Sources table', tabindex: '0' }, table));

  // The previous answer, for rates: records per minute between two loads.
  let prev = new Map();
  let prevAt = 0;
  let timer = 0;
  let stopped = false;

  async function load() {
    let res;
    try {
      res = await request('/api/v1/sources');
    } catch (e) {
      summary.textContent = `Cannot load the sources: ${e.message}`;
      return;
    } finally {
      if (!stopped) timer = setTimeout(load, REFRESH_MS);
    }
    const now = res.date; // the server's clock: a skewed browser clock does not matter
    const sources = res.data.sources || [];
    const silent = (src) => src.kind === 'agent' && now - Date.parse(src.last_seen) > SILENT_MS;
    // Silent agents first, then as the server sorts them (latest first).
    const sorted = [...sources.filter(silent), ...sources.filter((x) => !silent(x))];
    clear(body);
    for (const src of sorted) {
      const quiet = silent(src);
      const before = prev.get(src.source);
      let rate = '–';
      if (before !== undefined && now > prevAt) {
        rate = `${fmtCount(Math.round((src.records - before) / ((now - prevAt) / 60000)))}/min`;
      }
      const name = src.kind === 'agent' ? `${src.name} (${src.address})` :
        src.kind === 'syslog' ? `${src.address} (${src.transport})` : src.source;
      body.append(h('tr', { class: quiet ? 'silent' : null },
        h('th', { scope: 'row' }, name),
        h('td', null, src.kind),
        h('td', null, src.host || '–'),
        h('td', null,
          h('time', { datetime: src.last_seen, title: fmtTime(src.last_seen) }, `${fmtAge(now - Date.parse(src.last_seen))} ago`),
          quiet ? h('span', { class: 'badge bad' }, 'silent') : null),
        h('td', { class: 'num' }, fmtCount(src.records)),
        h('td', { class: 'num' }, rate),
        h('td', { class: src.parse_errors > 0 ? 'num warn' : 'num' }, fmtCount(src.parse_errors)),
        h('td', null, h('time', { datetime: src.first_seen }, fmtTime(src.first_seen)))));
    }
    prev = new Map(sources.map((x) => [x.source, x.records]));
    prevAt = now;
    const nSilent = sources.filter(silent).length;
    summary.textContent = sources.length === 0 ? 'Nothing received yet.' :
      `${fmtCount(sources.length)} senders` + (nSilent ? `; ${nSilent} agent${nSilent > 1 ? 's' : ''} silent for more than 10 minutes.` : '.') +
      ' Refreshed every 10 s.';
  }

  load();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
