// dom.js: building the page without innerHTML. Text always goes in as text
// (textContent), so nothing a service or a person typed can become markup.

/* h('p', {class: 'x', onclick: fn}, 'text', child, [more]) -> element.
 * Attributes: class, for, id, aria-*, data-*, ...; on* take functions;
 * boolean true sets an empty attribute, false/null/undefined leaves it out. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value' && 'value' in el) el.value = v;
    else if (k === 'checked' || k === 'selected' || k === 'disabled') el[k] = Boolean(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

let s_ids = 0;
/* A fresh element id ("f12"). */
export function uid(prefix = 'f') {
  s_ids += 1;
  return `${prefix}${s_ids}`;
}

/* An SVG element (charts). */
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null && v !== undefined && v !== false) el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}
