// The list of records shared by Search and Live: one line per record
// (time, severity, host, app, message), a click opens every field, and a
// click on a field value refines the query.

import { h, clear } from './dom.js';
import { fmtTime, sevName, facName, sevClass } from './format.js';
import { columnTerm, fieldTerm } from './query.js';

export class RecordList {
  // onRefine(term) is called with a query term such as host:"erp1".
  constructor({ onRefine, label = 'Records' }) {
    this.onRefine = onRefine;
    this.el = h('ol', { class: 'records', 'aria-label': label });
    this.data = new WeakMap(); // row → record, refine button → term
    this.el.addEventListener('click', (e) => this.click(e));
  }

  get size() {
    return this.el.childElementCount;
  }

  clear() {
    clear(this.el);
  }

  // append adds older records at the end (search pages).
  append(recs) {
    const frag = document.createDocumentFragment();
    for (const r of recs) frag.append(this.row(r));
    this.el.append(frag);
  }

  // prepend adds records (oldest first, as they arrive) above the others,
  // so the newest is on top; one DOM operation for the whole batch.
  prepend(recs) {
    const frag = document.createDocumentFragment();
    for (let i = recs.length - 1; i >= 0; i--) frag.append(this.row(recs[i]));
    this.el.prepend(frag);
  }

  // trim keeps the first n rows.
  trim(n) {
    while (this.el.childElementCount > n) this.el.lastElementChild.remove();
  }

  row(r) {
    const li = h('li', { class: `rec ${sevClass(r.severity)}` },
      h('button', { type: 'button', class: 'line', 'aria-expanded': 'false' },
        h('time', { class: 'time', datetime: r.time }, fmtTime(r.time)),
        h('span', { class: 'sev' }, sevName(r.severity)),
        h('span', { class: 'host' }, r.host || '-'),
        h('span', { class: 'app' }, r.app || '-'),
        h('span', { class: 'msg' }, r.message ?? '')));
    this.data.set(li, r);
    return li;
  }

  click(e) {
    const btn = e.target.closest('button');
    if (!btn || !this.el.contains(btn)) return;
    const term = this.data.get(btn);
    if (term) {
      this.onRefine(term);
      return;
    }
    if (btn.classList.contains('line')) this.toggle(btn.parentElement, btn);
  }

  toggle(li, btn) {
    const open = btn.getAttribute('aria-expanded') === 'true';
    btn.setAttribute('aria-expanded', String(!open));
    let details = li.querySelector('.details');
    if (open) {
      if (details) details.hidden = true;
      return;
    }
    if (!details) {
      details = this.details(this.data.get(li));
      li.append(details);
    }
    details.hidden = false;
  }

  // details lists every field; values that can be queried are buttons.
  details(r) {
    const dl = h('dl', { class: 'details' });
    const item = (name, shown, term, cls) => {
      let value;
      if (term) {
        value = h('button', { type: 'button', class: 'refine', title: `Refine: ${term}` }, shown);
        this.data.set(value, term);
      } else {
        value = h('span', null, shown);
      }
      dl.append(h('dt', null, name), h('dd', { class: cls || null, 'data-field': name }, value));
    };
    item('time', fmtTime(r.time));
    item('received', fmtTime(r.received));
    item('host', r.host ?? '', columnTerm('host', r.host ?? ''));
    item('app', r.app ?? '', columnTerm('app', r.app ?? ''));
    if (r.procid) item('procid', r.procid, columnTerm('procid', r.procid));
    if (r.msgid) item('msgid', r.msgid, columnTerm('msgid', r.msgid));
    item('severity', `${sevName(r.severity)} (${r.severity})`, columnTerm('severity', r.severity));
    item('facility', `${facName(r.facility)} (${r.facility})`, columnTerm('facility', r.facility));
    item('source', r.source ?? '', r.source ? columnTerm('source', r.source) : null);
    item('message', r.message ?? '', null, 'message');
    for (const k of Object.keys(r.fields || {}).sort()) {
      item(k, r.fields[k], fieldTerm(k, r.fields[k]));
    }
    if (r.id) item('id', String(r.id));
    return dl;
  }
}
