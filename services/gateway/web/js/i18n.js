// i18n.js: the two message catalogues (i18n/zh-CN.json, i18n/en.json).
// Simplified Chinese is the default; the choice is kept in localStorage.
// Every text the console shows comes from t() or te(); a key missing from
// the catalogue in force is reported on the console (which the browser
// tests treat as a failure) and shown as the key itself.
// tests/web/test_i18n_keys.py checks the catalogues against the code.

export const LANGS = ['zh-CN', 'en'];
const STORE = 'ccip.lang';
let s_lang = 'zh-CN';
let s_messages = {};

export function lang() {
  return s_lang;
}

/* Loads the catalogue of the stored (or given) language. */
export async function loadLang(wanted) {
  let l = wanted || null;
  if (!l) {
    try {
      l = localStorage.getItem(STORE);
    } catch (e) {
      l = null; // storage refused (private mode): the default
    }
  }
  if (!LANGS.includes(l)) l = 'zh-CN';
  const r = await fetch(new URL(`../i18n/${l}.json`, import.meta.url));
  if (!r.ok) throw new Error(`could not load the ${l} messages: HTTP ${r.status}`);
  s_messages = await r.json();
  s_lang = l;
  document.documentElement.lang = l;
  try {
    localStorage.setItem(STORE, l);
  } catch (e) {
    // not kept: the next visit starts in Chinese again
  }
}

/* The message `key` with {name} placeholders filled from params. */
export function t(key, params) {
  let m = s_messages[key];
  if (typeof m !== 'string') {
    console.error(`i18n: no message "${key}" in ${s_lang}`);
    return key;
  }
  if (params) m = m.replace(/\{(\w+)\}/g, (all, n) => (n in params ? String(params[n]) : all));
  return m;
}

/* The label of value `value` of protobuf enum `enumName` (key
 * enum.<Enum>.<VALUE>); the test checks every value of every enum named
 * in a te() call against proto/. */
export function te(enumName, value) {
  return t(`enum.${enumName}.${value}`);
}
