// The volume histogram: one SVG bar per bucket. Clicking a bar (or picking
// it with ←/→ and Enter) zooms the range into it.

import { h, s, clear } from './dom.js';
import { fmtTime, fmtCount, plural } from './format.js';

const W = 1000;
const H = 100;

// drawHistogram renders buckets ([{time, count}]) into container and calls
// onZoom(fromISO, toISO) for the bar chosen.
export function drawHistogram(container, buckets, onZoom) {
  clear(container);
  if (!buckets.length) {
    container.append(h('p', { class: 'muted' }, 'No volume to show.'));
    return;
  }
  const times = buckets.map((b) => Date.parse(b.time));
  const step = times.length > 1 ? times[1] - times[0] : 60_000;
  const max = Math.max(1, ...buckets.map((b) => b.count));
  const total = buckets.reduce((n, b) => n + b.count, 0);
  const bw = W / buckets.length;
  const label = (i) => `${fmtTime(new Date(times[i]).toISOString())} – ${fmtTime(new Date(times[i] + step).toISOString())}: ${plural(buckets[i].count, 'record')}`;
  const zoom = (i) => onZoom(new Date(times[i]).toISOString(), new Date(times[i] + step - 1).toISOString());

  const svg = s('svg', {
    class: 'hist', viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', tabindex: '0', role: 'img',
    'aria-label': `Volume: ${plural(total, 'record')}. Use the left and right arrows to pick a bar, Enter to zoom into it.`,
  });
  const bars = buckets.map((b, i) => {
    const bh = b.count ? Math.max(1.5, (b.count / max) * (H - 2)) : 0;
    const g = s('g', { class: 'bucket' },
      s('rect', { class: 'hit', x: i * bw, y: 0, width: bw, height: H }),
      s('rect', { class: 'bar', x: i * bw + bw * 0.1, y: H - bh, width: bw * 0.8, height: bh }),
      s('title', null, label(i)));
    g.addEventListener('click', () => zoom(i));
    svg.append(g);
    return g;
  });
  const status = h('p', { class: 'hist-status', 'aria-live': 'polite' });
  let sel = -1;
  const pick = (i) => {
    if (sel >= 0) bars[sel].classList.remove('sel');
    sel = Math.max(0, Math.min(buckets.length - 1, i));
    bars[sel].classList.add('sel');
    status.textContent = label(sel);
  };
  svg.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowRight') pick(sel + 1);
    else if (e.key === 'ArrowLeft') pick(sel < 0 ? buckets.length - 1 : sel - 1);
    else if (e.key === 'Home') pick(0);
    else if (e.key === 'End') pick(buckets.length - 1);
    else if ((e.key === 'Enter' || e.key === ' ') && sel >= 0) zoom(sel);
    else return;
    e.preventDefault();
  });
  svg.addEventListener('blur', () => {
    if (sel >= 0) bars[sel].classList.remove('sel');
    sel = -1;
    status.textContent = '';
  });
  container.append(
    h('div', { class: 'hist-head' },
      h('span', null, plural(total, 'record')),
      h('span', { class: 'muted' }, `max ${fmtCount(max)} per bar`)),
    svg,
    h('div', { class: 'hist-axis muted' },
      h('span', null, fmtTime(new Date(times[0]).toISOString())),
      h('span', null, fmtTime(new Date(times[times.length - 1] + step).toISOString()))),
    status);
}
