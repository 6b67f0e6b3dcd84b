// Building queries from clicks: field:"value" terms quoted as the query
// language wants (docs/query-language.md), appended so they narrow.

import { SEVERITIES, FACILITIES } from './format.js';

const NAME = /^[A-Za-z0-9_.@-]+$/;
// Names that are record columns: a field of fields with one of these names
// cannot be named in a query.
const COLUMNS = new Set(['host', 'app', 'procid', 'msgid', 'source', 'severity', 'facility', 'message']);

// quote writes a value in double quotes: \ " and * escaped.
export function quote(v) {
  return '"' + String(v).replace(/[\\"*]/g, (c) => '\\' + c) + '"';
}

// columnTerm is the term for a record column, null when it cannot be queried.
export function columnTerm(name, value) {
  switch (name) {
    case 'severity': return SEVERITIES[Number(value)] ? `severity:${SEVERITIES[Number(value)]}` : null;
    case 'facility': return FACILITIES[Number(value)] ? `facility:${FACILITIES[Number(value)]}` : null;
    case 'host': case 'app': case 'procid': case 'msgid': case 'source':
      return `${name}:${quote(value)}`;
  }
  return null;
}

// fieldTerm is the term for a key of fields, null when the key cannot be
// written in a query (other characters, or a column's name).
export function fieldTerm(key, value) {
  if (!NAME.test(key) || COLUMNS.has(key)) return null;
  return `${key}:${quote(value)}`;
}

// topLevelOr reports whether q has an OR outside parentheses and quotes:
// appending a term to it needs parentheses, as AND binds tighter.
export function topLevelOr(q) {
  let depth = 0;
  let inQuote = false;
  const cs = Array.from(q);
  for (let i = 0; i < cs.length; i++) {
    const c = cs[i];
    if (c === '\\') { i++; continue; }
    if (inQuote) { if (c === '"') inQuote = false; continue; }
    if (c === '"') inQuote = true;
    else if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if (depth === 0 && c === 'O' && cs[i + 1] === 'R' &&
      (i === 0 || /[\s()]/.test(cs[i - 1])) && (i + 2 >= cs.length || /[\s()]/.test(cs[i + 2]))) {
      return true;
    }
  }
  return false;
}

// refine appends term to q, so the result matches q AND term.
export function refine(q, term) {
  const base = (q || '').trim();
  if (!base) return term;
  if (base.split(/\s+/).includes(term)) return base;
  return topLevelOr(base) ? `(${base}) ${term}` : `${base} ${term}`;
}

// codePointIndex turns a query-error column (runes from 1) into a string
// index for setSelectionRange.
export function codePointIndex(q, column) {
  return Array.from(q).slice(0, Math.max(0, column - 1)).join('').length;
}
