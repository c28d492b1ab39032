// ui.js: the console's recurring pieces: page headings, tables with
// captions, definition lists, status badges, timelines, notices.
import { h } from './dom.js';
import { t } from './i18n.js';
import { dateTime } from './format.js';

/* The page's heading (focused after navigation, for screen readers). */
export function heading(text, sub) {
  return h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, text), sub ? h('p', { class: 'lead' }, sub) : null);
}

export function section(title, ...children) {
  return h('section', { class: 'card' }, h('h2', null, title), children);
}

/* A table: columns [[label, row => cell]], rows, caption (required: it
 * names the table for screen readers), empty text. */
export function table(caption, columns, rows, empty) {
  if (!rows || rows.length === 0) return h('p', { class: 'empty' }, empty || t('common.none'));
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption },
    h('table', null,
      h('caption', null, caption),
      h('thead', null, h('tr', null, columns.map(([l]) => h('th', { scope: 'col' }, l)))),
      h('tbody', null, rows.map((r) => h('tr', null, columns.map(([, f]) => h('td', null, f(r))))))));
}

/* A definition list of [[term, value], ...]; empty values are left out. */
export function facts(pairs) {
  return h('dl', { class: 'facts' },
    pairs.filter(([, v]) => v !== '' && v !== null && v !== undefined)
      .map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
}

export function badge(text, kind) {
  return h('span', { class: `badge ${kind || ''}` }, text);
}

export function notice(text, kind) {
  return h('p', { class: `notice ${kind || 'info'}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

export function link(href, text, cls) {
  return h('a', { href, class: cls || null }, text);
}

/* A timeline of [{at (us), title, text, textLang}] oldest first; textLang
 * marks a text in another language than the page's (a service's English
 * sentence). */
export function timeline(items, label) {
  return h('ol', { class: 'timeline', 'aria-label': label },
    items.map((i) => h('li', null,
      h('time', { datetime: i.iso || null }, dateTime(i.at)),
      h('strong', null, i.title),
      i.text ? h('p', { lang: i.textLang || null }, i.text) : null)));
}

export function loading() {
  return h('p', { class: 'loading', role: 'status' }, t('common.loading'));
}
