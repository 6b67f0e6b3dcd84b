// DOM helpers. Everything shown comes from logs that an attacker may write,
// so text only ever reaches the page as text nodes: no HTML parsing anywhere
// (ui/sinks_test.go fails the build if an HTML sink appears in web/).

const SVG_NS = 'http://www.w3.org/2000/svg';

function apply(el, props) {
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') {
      el.setAttribute('class', v);
    } else if (k === 'text') {
      el.textContent = String(v);
    } else if (k.startsWith('on')) {
      if (typeof v !== 'function') throw new TypeError(`${k}: a function is required`);
      el.addEventListener(k.slice(2), v);
    } else if (k === 'style') {
      throw new TypeError(`${k}: not allowed (strict CSP; text only)`);
    } else if ((k === 'href' || k === 'src' || k === 'action') && !/^\/(?![/\\])/.test(String(v))) {
      // Only our own paths: never a URL built from log data.
      throw new TypeError(`${k}: only same-site paths are allowed`);
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
}

function add(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// h('button', {class: 'x', onclick: fn}, 'label', child...) builds an element.
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  apply(el, props);
  add(el, children);
  return el;
}

// s('rect', {x: 1}) builds an SVG element.
export function s(tag, props, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, props);
  add(el, children);
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

// show/hide without inline styles (the CSP forbids them).
export function shown(el, yes) {
  el.hidden = !yes;
  return el;
}
