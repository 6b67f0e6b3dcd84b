// Search: the query, the range, the volume histogram, facets and the
// records newest first, older pages loaded as the list scrolls. The query
// and range are the URL's q, from and to.

import { h, clear } from '../dom.js';
import { api, isAbort } from '../api.js';
import { RecordList } from '../records.js';
import { drawHistogram } from '../histogram.js';
import { TimeRange, DEFAULT_FROM } from '../timerange.js';
import { refine, codePointIndex, columnTerm } from '../query.js';
import { sevName, fmtCount, plural } from '../format.js';

export const title = 'Search';

const PAGE = 100;
const FACETS = ['host', 'app', 'severity'];

function readURL() {
  const p = new URLSearchParams(location.search);
  return { q: p.get('q') || '', from: p.has('from') ? p.get('from') : DEFAULT_FROM, to: p.get('to') || '' };
}

// queryError shows a query mistake under the box, pointing at its column.
export function queryError(box, input, q, err) {
  clear(box);
  box.append(h('p', null, err.message));
  if (err.column > 0) {
    const caret = ' '.repeat(err.column - 1) + '^';
    box.append(h('pre', { class: 'caret', 'aria-hidden': 'true' }, q, '\n', caret));
    const i = codePointIndex(q, err.column);
    input.focus();
    input.setSelectionRange(i, Math.min(q.length, i + 1));
  }
  input.setAttribute('aria-invalid', 'true');
  box.hidden = false;
}

export function mount(root) {
  const q = h('input', {
    id: 'q', name: 'q', type: 'search', class: 'q', autocomplete: 'off', spellcheck: 'false',
    placeholder: 'app:postgres severity<=err "connection refused"', 'aria-describedby': 'q-error',
  });
  const range = new TimeRange('search');
  const form = h('form', { class: 'querybar', role: 'search' },
    h('label', { for: 'q', class: 'vh' }, 'Query'), q, range.el,
    h('button', { type: 'submit', class: 'primary' }, 'Search'));
  const qerror = h('div', { id: 'q-error', class: 'qerror', role: 'alert', hidden: true });
  const hist = h('section', { class: 'histogram', 'aria-label': 'Volume over the range' });
  const facets = h('aside', { class: 'facets', 'aria-label': 'Facets' });
  const summary = h('p', { class: 'summary', 'aria-live': 'polite' });
  const list = new RecordList({ label: 'Search results', onRefine: (term) => go({ q: refine(q.value, term) }) });
  const more = h('button', { type: 'button', class: 'more', hidden: true }, 'Load older records');
  root.append(form, qerror, hist,
    h('div', { class: 'split' }, facets, h('section', { class: 'results', 'aria-label': 'Results' }, summary, list.el, more)));

  let state = readURL();
  let next = '';
  let loading = false;
  let ctl = null;
  let marked = false;

  function show() {
    q.value = state.q;
    range.set(state.from, state.to);
  }

  function go(patch) {
    state = { ...state, ...patch };
    const p = new URLSearchParams();
    if (state.q) p.set('q', state.q);
    p.set('from', state.from || '');
    if (state.to) p.set('to', state.to);
    history.pushState(null, '', `${location.pathname}?${p}`);
    show();
    run();
  }

  function params() {
    return { q: state.q, from: state.from, to: state.to };
  }

  async function run() {
    if (ctl) ctl.abort();
    ctl = new AbortController();
    const { signal } = ctl;
    next = '';
    loading = true;
    list.clear();
    more.hidden = true;
    qerror.hidden = true;
    q.removeAttribute('aria-invalid');
    summary.textContent = 'Searching…';
    const searchP = api('/api/v1/search', { params: { ...params(), limit: PAGE }, signal });
    const histP = api('/api/v1/histogram', { params: params(), signal });
    const facetP = Promise.all(FACETS.map((field) => api('/api/v1/facets', { params: { ...params(), field, limit: 10 }, signal })));
    // They fail together with the search on a bad query: said once, there.
    histP.catch(() => {});
    facetP.catch(() => {});
    try {
      const res = await searchP;
      list.append(res.records);
      next = res.next;
      if (!marked) {
        performance.mark('vigie:first-results');
        marked = true;
      }
      summarize();
    } catch (e) {
      if (isAbort(e)) return;
      clear(hist);
      clear(facets);
      if (e.status === 400 || e.status === 413) {
        summary.textContent = '';
        queryError(qerror, q, state.q, e);
      } else {
        summary.textContent = `Search failed: ${e.message}`;
      }
      return;
    } finally {
      if (!signal.aborted) loading = false;
    }
    histP.then((r) => drawHistogram(hist, r.buckets, (from, to) => go({ from, to })),
      (e) => { if (!isAbort(e)) hist.textContent = `Histogram: ${e.message}`; });
    facetP.then(renderFacets, (e) => { if (!isAbort(e)) facets.textContent = `Facets: ${e.message}`; });
    fillViewport();
  }

  function summarize() {
    const n = list.size;
    summary.textContent = n === 0 ? 'No record matches.' :
      `${plural(n, 'record')} shown, newest first${next ? '; scroll for older ones' : ''}.`;
    more.hidden = !next;
  }

  async function loadMore() {
    if (!next || loading) return;
    loading = true;
    const { signal } = ctl;
    more.disabled = true;
    try {
      const res = await api('/api/v1/search', { params: { ...params(), limit: PAGE, before: next }, signal });
      list.append(res.records);
      next = res.next;
      summarize();
    } catch (e) {
      if (!isAbort(e)) summary.textContent = `Loading older records failed: ${e.message}`;
      return;
    } finally {
      more.disabled = false;
      if (!signal.aborted) loading = false;
    }
    fillViewport();
  }

  // fillViewport keeps loading while the end of the list is in view (the
  // observer only reports changes).
  function fillViewport() {
    if (next && !more.hidden && more.getBoundingClientRect().top < window.innerHeight) loadMore();
  }

  function renderFacets(results) {
    clear(facets);
    for (const { field, counts } of results) {
      const items = counts.map((c) => {
        const term = columnTerm(field, c.value);
        const label = field === 'severity' ? sevName(c.value) : (c.value === '' ? '(empty)' : c.value);
        return h('li', null, h('button', { type: 'button', class: 'facet', title: `Refine: ${term}`, onclick: () => go({ q: refine(q.value, term) }) },
          h('span', { class: 'facet-value' }, label), h('span', { class: 'facet-count' }, fmtCount(c.count))));
      });
      facets.append(h('section', { class: 'facet-group' }, h('h2', null, field),
        items.length ? h('ol', null, items) : h('p', { class: 'muted' }, 'none')));
    }
  }

  const observer = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) loadMore();
  });
  observer.observe(more);
  more.addEventListener('click', loadMore);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    go({ q: q.value.trim(), ...range.value() });
  });
  const onPop = () => {
    state = readURL();
    show();
    run();
  };
  window.addEventListener('popstate', onPop);
  const onKey = (e) => {
    if (e.key === '/' && !/^(INPUT|SELECT|TEXTAREA)$/.test(document.activeElement.tagName)) {
      e.preventDefault();
      q.focus();
    }
  };
  document.addEventListener('keydown', onKey);

  show();
  run();
  return () => {
    if (ctl) ctl.abort();
    observer.disconnect();
    window.removeEventListener('popstate', onPop);
    document.removeEventListener('keydown', onKey);
  };
}
