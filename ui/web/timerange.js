// The time range: presets relative to now, or absolute from/to. It lives in
// the URL as from= and to= (API syntax), so a link shows the same range.

import { h } from './dom.js';
import { toLocalInput, fromLocalInput } from './format.js';

export const PRESETS = [
  ['-15m', 'Last 15 minutes'],
  ['-1h', 'Last hour'],
  ['-4h', 'Last 4 hours'],
  ['-24h', 'Last 24 hours'],
  ['-7d', 'Last 7 days'],
  ['-30d', 'Last 30 days'],
];
export const DEFAULT_FROM = '-1h';

// TimeRange renders the picker; value() is {from, to}.
export class TimeRange {
  constructor(idPrefix) {
    this.select = h('select', { id: `${idPrefix}-range`, name: 'range' },
      PRESETS.map(([v, label]) => h('option', { value: v }, label)),
      h('option', { value: 'custom' }, 'Custom range…'));
    this.from = h('input', { id: `${idPrefix}-from`, type: 'datetime-local', step: '1' });
    this.to = h('input', { id: `${idPrefix}-to`, type: 'datetime-local', step: '1' });
    this.custom = h('span', { class: 'custom-range', hidden: true },
      h('label', { for: this.from.id }, 'From'), this.from,
      h('label', { for: this.to.id }, 'To'), this.to);
    this.el = h('span', { class: 'timerange' },
      h('label', { for: this.select.id, class: 'vh' }, 'Time range'), this.select, this.custom);
    this.select.addEventListener('change', () => {
      const custom = this.select.value === 'custom';
      this.custom.hidden = !custom;
      if (custom && !this.from.value) {
        const now = new Date();
        this.from.value = toLocalInput(new Date(now.getTime() - 3600_000).toISOString());
        this.to.value = toLocalInput(now.toISOString());
      }
    });
  }

  // set shows a range read from the URL.
  set(from, to) {
    const relative = /^-[0-9a-z.]+$/.test(from || '') && !to;
    if (relative && ![...this.select.options].some((o) => o.value === from)) {
      // A relative range written by hand in the URL: offered as it is.
      this.select.prepend(h('option', { value: from }, `Last ${from.slice(1)}`));
    }
    if (relative) {
      this.select.value = from;
      this.custom.hidden = true;
      return;
    }
    this.select.value = 'custom';
    this.custom.hidden = false;
    this.from.value = from && !from.startsWith('-') ? toLocalInput(from) : '';
    this.to.value = to && to !== 'now' && !to.startsWith('-') ? toLocalInput(to) : '';
  }

  value() {
    if (this.select.value !== 'custom') return { from: this.select.value, to: '' };
    return { from: fromLocalInput(this.from.value), to: fromLocalInput(this.to.value) };
  }
}
