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

// fmtMS writes milliseconds: "0.4 ms", "412 ms", "4.1 s".
export function fmtMS(ms) {
  const v = Number(ms);
  if (!Number.isFinite(v)) return '–';
  if (v < 10) return `${v.toFixed(1)} ms`;
  if (v < 10_000) return `${Math.round(v)} ms`;
  return `${(v / 1000).toFixed(1)} s`;
}

// fmtPct writes an availability in percent, rounded down so that 99.996
// never reads as 100.
export function fmtPct(v) {
  if (v == null || !Number.isFinite(Number(v))) return '–';
  const f = Math.floor(Number(v) * 100 + 1e-6) / 100; // 99.95 * 100 is 9994.999…
  return `${Number.isInteger(f) ? f : f.toFixed(2)} %`;
}

// fmtSpan writes a duration: "45 s", "12 min", "3 h 20 min", "2 d 4 h".
export function fmtSpan(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const hh = Math.floor(m / 60);
  if (hh < 24) return m % 60 ? `${hh} h ${m % 60} min` : `${hh} h`;
  return hh % 24 ? `${Math.floor(hh / 24)} d ${hh % 24} h` : `${Math.floor(hh / 24)} d`;
}

// relSpan reads a relative time of the API ("-15m", "-24h", "-7d", "-2w")
// as milliseconds; NaN for anything else.
export function relSpan(v) {
  const m = /^-([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d|w)$/.exec(v || '');
  if (!m) return NaN;
  const unit = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 }[m[2]];
  return Number(m[1]) * unit;
}
