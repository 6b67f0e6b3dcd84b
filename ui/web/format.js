// Names, times and the query-language quoting the pages share.

export const SEVERITIES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];
export const FACILITIES = ['kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron',
  'authpriv', 'ftp', 'ntp', 'security', 'console', 'clock',
  'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7'];

export function sevName(n) {
  return SEVERITIES[Number(n)] ?? String(n);
}

export function facName(n) {
  return FACILITIES[Number(n)] ?? String(n);
}

// sevClass is the CSS class colouring a severity (0-7; anything else as info).
export function sevClass(n) {
  const v = Number(n);
  return `sev-${Number.isInteger(v) && v >= 0 && v <= 7 ? v : 6}`;
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

// fmtTime writes a time in the browser's zone, to the millisecond.
export function fmtTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso ?? '');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

// fmtAge writes how long ago a time was: "12 s", "4 min", "3 h", "2 d".
export function fmtAge(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86400)} d`;
}

export function fmtCount(n) {
  return Number(n).toLocaleString('en-US');
}

// plural writes "1 record", "2,000 records".
export function plural(n, word) {
  return `${fmtCount(n)} ${word}${Number(n) === 1 ? '' : 's'}`;
}

// toLocalInput turns a time into a datetime-local input's value.
export function toLocalInput(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// fromLocalInput reads a datetime-local value (the browser's zone) as RFC 3339.
export function fromLocalInput(v) {
  if (!v) return '';
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}
