// The response-time chart of one check step: over the range, one bar per
// time slot, its height the mean of the slot's successful runs, stacked by
// phase (DNS, connect, TLS, time to first byte, transfer). Slots with a
// failed run get a red mark under the axis: a failed step's time (a
// timeout) says nothing about response time, so it is not averaged in.

import { h, s, clear } from './dom.js';
import { fmtTime, fmtMS, plural } from './format.js';

export const PHASES = [
  ['dns_ms', 'DNS', 'ph-dns'],
  ['connect_ms', 'Connect', 'ph-connect'],
  ['tls_ms', 'TLS', 'ph-tls'],
  ['ttfb_ms', 'First byte', 'ph-ttfb'],
  ['transfer_ms', 'Transfer', 'ph-transfer'],
];

const W = 1000;
const H = 150; // bars
const MARK = 8; // the failure strip under them
const SLOTS = 120;

// niceMax rounds up to 1, 2 or 5 times a power of ten.
export function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) {
    if (v <= m * p) return m * p;
  }
  return 10 * p;
}

// slots groups the step's results ({t, ok, phases}) of runs in [from, to)
// into n slots: the mean phases of the successful ones, and counts.
export function slots(points, from, to, n = SLOTS) {
  const width = Math.max(1, (to - from) / n);
  const out = Array.from({ length: n }, (_, i) => ({
    from: from + i * width, to: from + (i + 1) * width, ok: 0, failed: 0, sum: PHASES.map(() => 0),
  }));
  for (const p of points) {
    const i = Math.floor((p.t - from) / width);
    if (i < 0 || i >= n) continue;
    const sl = out[i];
    if (!p.ok) {
      sl.failed++;
      continue;
    }
    sl.ok++;
    PHASES.forEach(([k], j) => { sl.sum[j] += Math.max(0, Number(p.phases[k]) || 0); });
  }
  for (const sl of out) sl.mean = sl.sum.map((v) => (sl.ok ? v / sl.ok : 0));
  return out;
}

// stepPoints is one step's results from runs (the API's): the step at
// that index, or of that name when the scenario changed. A run that failed
// before any step (no connection at all) counts as a failure of the first.
export function stepPoints(runs, name, index) {
  const pts = [];
  for (const r of runs) {
    const t = Date.parse(r.start);
    const steps = r.steps || [];
    const st = steps[index]?.name === name ? steps[index] : steps.find((x) => x.name === name);
    if (st) pts.push({ t, ok: st.success, phases: st.phases || {} });
    else if (!r.success && index === 0 && steps.length === 0) pts.push({ t, ok: false, phases: {} });
  }
  return pts;
}

let seq = 0;

// drawStepChart renders the chart of one step into container.
export function drawStepChart(container, { title, points, from, to }) {
  clear(container);
  const sl = slots(points, from, to);
  const totals = sl.map((x) => x.mean.reduce((a, b) => a + b, 0));
  const max = niceMax(Math.max(0, ...totals));
  const okRuns = points.filter((p) => p.ok).length;
  const failedRuns = points.length - okRuns;
  const id = `rt-${++seq}`;
  const bw = W / sl.length;

  const svg = s('svg', {
    class: 'rt', viewBox: `0 0 ${W} ${H + MARK}`, preserveAspectRatio: 'none', role: 'img',
    'aria-labelledby': `${id}-title ${id}-desc`,
  },
  s('title', { id: `${id}-title` }, `Response time of ${title}`),
  s('desc', { id: `${id}-desc` },
    `${plural(points.length, 'run')} from ${fmtTime(new Date(from).toISOString())} to ${fmtTime(new Date(to).toISOString())}, ` +
    `${failedRuns} failed. Highest slot mean ${fmtMS(Math.max(0, ...totals))}. The runs table below lists the runs.`));
  for (const y of [0, H / 2, H]) {
    svg.append(s('line', { class: 'grid', x1: 0, x2: W, y1: y, y2: y, 'vector-effect': 'non-scaling-stroke' }));
  }
  sl.forEach((x, i) => {
    if (!x.ok && !x.failed) return;
    const g = s('g', { class: 'rt-slot' });
    let y = H;
    x.mean.forEach((v, j) => {
      const bh = (v / max) * H;
      if (bh <= 0) return;
      y -= bh;
      g.append(s('rect', { class: `seg ${PHASES[j][2]}`, x: i * bw + bw * 0.1, y, width: bw * 0.8, height: bh }));
    });
    if (x.ok && y === H) {
      // Runs that took no measurable time still show.
      g.append(s('rect', { class: 'seg ph-ttfb', x: i * bw + bw * 0.1, y: H - 1, width: bw * 0.8, height: 1 }));
    }
    if (x.failed) {
      g.append(s('rect', { class: 'fail-mark', x: i * bw, y: H + 2, width: Math.max(bw, 3), height: MARK - 2 }));
    }
    const parts = x.ok ? PHASES.map(([, label], j) => `${label} ${fmtMS(x.mean[j])}`).join(', ') : '';
    g.append(s('title', null,
      `${fmtTime(new Date(x.from).toISOString())} – ${fmtTime(new Date(x.to).toISOString())}: ` +
      (x.ok ? `${plural(x.ok, 'successful run')}, mean ${fmtMS(totals[i])} (${parts})` : 'no successful run') +
      (x.failed ? `; ${plural(x.failed, 'failed run')}` : '')));
    svg.append(g);
  });

  const legend = h('ul', { class: 'legend', 'aria-label': 'Phases' },
    PHASES.map(([, label, cls]) => h('li', null, h('span', { class: `swatch ${cls}`, 'aria-hidden': 'true' }), label)),
    h('li', null, h('span', { class: 'swatch fail-mark', 'aria-hidden': 'true' }), 'failed run'));
  container.append(
    h('h4', { class: 'rt-title' }, title,
      h('span', { class: 'muted' }, ` · ${plural(okRuns, 'successful run')}${failedRuns ? `, ${failedRuns} failed` : ''}`)),
    h('div', { class: 'rt-chart' },
      h('div', { class: 'rt-y muted', 'aria-hidden': 'true' },
        h('span', null, fmtMS(max)), h('span', null, fmtMS(max / 2)), h('span', null, '0')),
      svg,
      h('div', { class: 'rt-x muted', 'aria-hidden': 'true' },
        h('span', null, fmtTime(new Date(from).toISOString()).slice(0, 16)),
        h('span', null, fmtTime(new Date((from + to) / 2).toISOString()).slice(0, 16)),
        h('span', null, fmtTime(new Date(to).toISOString()).slice(0, 16)))),
    legend);
}
