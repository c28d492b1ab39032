// app.js: the console's shell. It loads the language, asks the gateway who
// is signed in (GET /api/v1/session), draws the header with the links of the
// active role binding, and shows the page of the address after '#'
// (#/applications/<id>): each page is a module loaded when first needed.
import { h, clear } from './dom.js';
import { t, te, lang, loadLang } from './i18n.js';
import * as api from './api.js';
import { heading, notice, link, loading } from './ui.js';

const PUBLIC = 'public';
const SIGNED = 'signed';

/* [pattern, module, page function, who may open it]. Who: PUBLIC, SIGNED,
 * or the binding kinds (gateway.proto BindingKind) that may. */
const ROUTES = [
  ['/', 'public', 'home', PUBLIC],
  ['/calls/:id', 'public', 'call', PUBLIC],
  ['/bulletins', 'public', 'bulletins', PUBLIC],
  ['/bulletins/:quarter', 'public', 'bulletin', PUBLIC],
  ['/ip', 'public', 'listings', PUBLIC],
  ['/providers', 'public', 'providers', PUBLIC],
  ['/verify', 'public', 'verify', PUBLIC],
  ['/sign-in', 'account', 'signIn', PUBLIC],
  ['/sign-up', 'account', 'signUp', PUBLIC],
  ['/invitations/:token', 'account', 'invitation', PUBLIC],
  ['/account', 'account', 'account', SIGNED],
  ['/org', 'applicant', 'org', ['ORGANISATION']],
  ['/applications', 'applicant', 'applications', ['ORGANISATION']],
  ['/apply', 'applicant', 'apply', ['ORGANISATION']],
  ['/apply/:callId', 'applicant', 'apply', ['ORGANISATION']],
  ['/applications/:id', 'applicant', 'application', ['ORGANISATION', 'STAFF', 'ADMIN']],
  ['/applications/:id/edit', 'applicant', 'edit', ['ORGANISATION']],
  ['/awards', 'funding', 'awards', ['ORGANISATION', 'STAFF', 'ADMIN', 'FINANCE']],
  ['/awards/:id', 'funding', 'award', ['ORGANISATION', 'STAFF', 'ADMIN', 'FINANCE']],
  ['/cluster-reports', 'reports', 'clusterReports', ['ORGANISATION']],
  ['/cluster-reports/:rosterId/:quarter', 'reports', 'clusterReport', ['ORGANISATION']],
  ['/works', 'ip', 'works', ['ORGANISATION']],
  ['/works/:id', 'ip', 'work', ['ORGANISATION', 'STAFF', 'ADMIN']],
  ['/ip/listings/:id', 'ip', 'listing', PUBLIC],
  ['/ip/contracts', 'ip', 'contracts', ['ORGANISATION', 'STAFF', 'ADMIN']],
  ['/ip/contracts/:id', 'ip', 'contract', ['ORGANISATION', 'STAFF', 'ADMIN']],
  ['/staff/queue', 'staff', 'queue', ['STAFF', 'ADMIN']],
  ['/staff/orgs', 'staff', 'orgs', ['STAFF', 'ADMIN']],
  ['/staff/calls', 'staff', 'calls', ['STAFF', 'ADMIN']],
  ['/staff/cases', 'staff', 'cases', ['STAFF', 'ADMIN']],
  ['/staff/cases/:id', 'staff', 'case', ['STAFF', 'ADMIN']],
  ['/staff/invitations', 'staff', 'invitations', ['STAFF', 'ADMIN']],
  ['/staff/payments', 'funding', 'payments', ['STAFF', 'ADMIN', 'FINANCE']],
  ['/staff/disputes', 'staff', 'disputes', ['STAFF', 'ADMIN']],
  ['/staff/disputes/:id', 'staff', 'dispute', ['STAFF', 'ADMIN']],
  ['/expert', 'expert', 'tasks', ['EXPERT']],
  ['/expert/cases/:id', 'expert', 'review', ['EXPERT']],
  ['/agency', 'agency', 'tasks', ['AGENCY']],
  ['/agency/cases/:id', 'agency', 'report', ['AGENCY']],
  ['/office', 'office', 'cases', ['OFFICE']],
  ['/office/cases/:id', 'office', 'dossier', ['OFFICE']],
  ['/office/designations', 'office', 'designations', ['OFFICE']],
  ['/analyst', 'analyst', 'completeness', ['ANALYST', 'DISTRICT']],
  ['/stats/reports', 'reports', 'reports', ['ANALYST', 'DISTRICT', 'STAFF', 'ADMIN']],
  ['/stats/reports/:id', 'reports', 'report', ['ANALYST', 'DISTRICT', 'STAFF', 'ADMIN']],
  ['/analyst/analysis', 'analyst', 'analysis', ['ANALYST', 'DISTRICT']],
  ['/analyst/releases', 'analyst', 'releases', ['ANALYST']],
];

/* The links of the header for each binding kind (and for nobody). */
function s_nav(kind) {
  const pub = [['#/', t('nav.calls')], ['#/bulletins', t('nav.bulletins')], ['#/ip', t('nav.ip')],
    ['#/providers', t('nav.providers')], ['#/verify', t('nav.verify')]];
  const by = {
    ORGANISATION: [['#/org', t('nav.org')], ['#/applications', t('nav.applications')],
      ['#/apply', t('nav.apply')], ['#/awards', t('nav.awards')],
      ['#/cluster-reports', t('nav.cluster_reports')], ['#/works', t('nav.works')],
      ['#/ip/contracts', t('nav.contracts')]],
    STAFF: [['#/staff/queue', t('nav.queue')], ['#/staff/orgs', t('nav.orgs')],
      ['#/staff/calls', t('nav.staff_calls')], ['#/staff/cases', t('nav.cases')], ['#/stats/reports', t('nav.reports')],
      ['#/staff/payments', t('nav.payments')], ['#/ip/contracts', t('nav.contracts')], ['#/staff/disputes', t('nav.disputes')],
      ['#/staff/invitations', t('nav.invitations')]],
    ADMIN: [['#/staff/invitations', t('nav.invitations')], ['#/staff/queue', t('nav.queue')]],
    FINANCE: [['#/staff/payments', t('nav.payments')]],
    EXPERT: [['#/expert', t('nav.reviews')]],
    AGENCY: [['#/agency', t('nav.investigations')]],
    OFFICE: [['#/office', t('nav.decisions')], ['#/office/designations', t('nav.designations')]],
    ANALYST: [['#/analyst', t('nav.completeness')], ['#/stats/reports', t('nav.reports')],
      ['#/analyst/analysis', t('nav.analysis')], ['#/analyst/releases', t('nav.releases')]],
    DISTRICT: [['#/stats/reports', t('nav.reports')], ['#/analyst', t('nav.completeness')],
      ['#/analyst/analysis', t('nav.analysis')]],
  };
  return kind ? [...(by[kind] || []), ...pub.slice(0, 2)] : pub;
}

/* ---- the session ------------------------------------------------------------- */

export const session = {
  data: null, // SessionReply, or null when nobody is signed in
  binding() {
    const d = this.data;
    if (!d || !d.account) return null;
    return (d.account.bindings || []).find((b) => b.id === d.activeBindingId) || null;
  },
  kind() {
    const b = this.binding();
    return b && (b.status === 'ACTIVE' || b.status === 'PENDING') ? b.kind : null;
  },
  /* True while the organisation binding waits for staff to verify it. */
  pending() {
    const b = this.binding();
    return Boolean(b && b.status === 'PENDING');
  },
  set(d) {
    this.data = d;
    api.setCsrf(d ? d.csrfToken : '');
  },
  async load() {
    try {
      this.set(await api.get('/api/v1/session'));
    } catch (e) {
      if (e.status !== 401) throw e;
      this.set(null);
    }
  },
};

/* ---- the shell ------------------------------------------------------------------ */

const header = () => document.getElementById('top');
const main = () => document.getElementById('main');

function s_bindingLabel(b) {
  return b.subject ? `${te('BindingKind', b.kind)} ${b.subject}` : te('BindingKind', b.kind);
}

function s_drawHeader() {
  const el = clear(header());
  const kind = session.kind();
  const here = location.hash || '#/';
  const nav = h('nav', { 'aria-label': t('nav.label') },
    h('ul', null, s_nav(kind).map(([href, text]) =>
      h('li', null, h('a', { href, 'aria-current': here === href ? 'page' : null }, text)))));
  const langBtn = h('button', {
    type: 'button', class: 'link-button', lang: lang() === 'zh-CN' ? 'en' : 'zh-CN',
    onclick: async () => {
      const kept = s_typed();
      await loadLang(lang() === 'zh-CN' ? 'en' : 'zh-CN');
      s_drawSkip();
      s_drawHeader();
      await route();
      s_retype(kept);
    },
  }, t('lang.switch'));
  const d = session.data;
  let who;
  if (d && d.account) {
    const bindings = (d.account.bindings || []).filter((b) => b.status !== 'REVOKED');
    const sel = bindings.length > 1 ? h('label', { class: 'binding-switch' }, t('nav.acting_as'), ' ',
      h('select', {
        id: 'binding-switch',
        onchange: async (e) => {
          try {
            session.set(await api.post('/api/v1/session/binding', { bindingId: e.target.value }));
          } catch (err) {
            console.warn(err.detail);
          }
          location.hash = '#/';
          s_drawHeader();
          route();
        },
      }, bindings.map((b) => h('option', { value: b.id, selected: b.id === d.activeBindingId }, s_bindingLabel(b)))))
      : (bindings[0] ? h('span', { class: 'acting' }, s_bindingLabel(bindings[0])) : null);
    who = h('div', { class: 'who' },
      h('a', { href: '#/account' }, d.account.name || d.account.login), sel,
      h('button', {
        type: 'button', class: 'link-button',
        onclick: async () => {
          try {
            await api.del('/api/v1/session');
          } catch (err) {
            console.warn(err.detail);
          }
          session.set(null);
          location.hash = '#/';
          s_drawHeader();
          route();
        },
      }, t('nav.sign_out')));
  } else {
    who = h('div', { class: 'who' }, link('#/sign-in', t('nav.sign_in')), link('#/sign-up', t('nav.sign_up')));
  }
  el.append(h('div', { class: 'bar' },
    h('a', { class: 'brand', href: '#/' }, h('img', { src: new URL('../img/icon.svg', import.meta.url).href, alt: '', width: 28, height: 28 }), t('app.name')),
    who, langBtn), nav);
}

/* What the person typed on the page, by control name (passwords and files
 * are never kept), so that switching the language does not lose it. */
function s_typed() {
  const kept = {};
  const all = Array.from(main().querySelectorAll('input[name], select[name], textarea[name]'));
  const once = (el) => all.filter((x) => x.name === el.name).length === 1; // not one of several forms'
  for (const el of all) {
    if (el.type === 'password' || el.type === 'file' || el.readOnly || !once(el)) continue;
    if (el.value !== el.defaultValue || el.tagName === 'SELECT') kept[el.name] = el.value;
  }
  return kept;
}

/* Puts kept values back into the page drawn again (and checks them). */
function s_retype(kept) {
  for (const [name, value] of Object.entries(kept)) {
    const el = main().querySelector(`[name="${CSS.escape(name)}"]`);
    if (!el || el.value === value) continue;
    el.value = value;
    el.dispatchEvent(new Event('input'));
  }
}

function s_drawSkip() {
  const s = document.getElementById('skip');
  s.textContent = t('app.skip');
  s.onclick = (e) => {
    e.preventDefault(); // the address after '#' is the page: keep it
    main().focus();
  };
  document.getElementById('foot').textContent = t('app.footer');
}

/* ---- routing --------------------------------------------------------------------- */

function s_match(pattern, path) {
  const a = pattern.split('/');
  const b = path.split('/');
  if (a.length !== b.length) return null;
  const params = {};
  for (let i = 0; i < a.length; i += 1) {
    if (a[i].startsWith(':')) params[a[i].slice(1)] = decodeURIComponent(b[i]);
    else if (a[i] !== b[i]) return null;
  }
  return params;
}

const s_modules = {
  public: () => import('./pages/public.js'),
  account: () => import('./pages/account.js'),
  applicant: () => import('./pages/applicant.js'),
  staff: () => import('./pages/staff.js'),
  expert: () => import('./pages/expert.js'),
  agency: () => import('./pages/agency.js'),
  office: () => import('./pages/office.js'),
  analyst: () => import('./pages/analyst.js'),
  reports: () => import('./pages/reports.js'),
  funding: () => import('./pages/funding.js'),
  ip: () => import('./pages/ip.js'),
};

let s_seq = 0;

/* The page context handed to every page. */
function s_ctx(params, query, seq) {
  return {
    params,
    query,
    session,
    kind: session.kind(),
    binding: session.binding(),
    title(text) {
      document.title = `${text} · ${t('app.name')}`;
    },
    go(hash) {
      location.hash = hash;
    },
    stale: () => seq !== s_seq, // a newer navigation replaced this page
    redraw: () => route(),
    refreshSession: async () => {
      await session.load();
      s_drawHeader();
    },
  };
}

/* Where a person starts after signing in, by the kind of binding acting. */
export function homeOf(kind) {
  return {
    ORGANISATION: '#/applications', STAFF: '#/staff/queue', ADMIN: '#/staff/invitations',
    FINANCE: '#/staff/payments', EXPERT: '#/expert', AGENCY: '#/agency', OFFICE: '#/office',
    ANALYST: '#/analyst', DISTRICT: '#/stats/reports',
  }[kind] || '#/account';
}

/* The "not allowed" page: what the address needs, and nothing of the data. */
export function notAllowed(el, detail) {
  clear(el);
  document.title = `${t('denied.title')} · ${t('app.name')}`;
  el.append(heading(t('denied.title'), t('denied.text')),
    detail ? notice(detail, 'error') : null,
    h('p', null, link('#/', t('denied.home'))));
  el.dataset.page = 'denied';
}

export function notFound(el, detail) {
  clear(el);
  document.title = `${t('notfound.title')} · ${t('app.name')}`;
  el.append(heading(t('notfound.title'), detail || t('notfound.text')), h('p', null, link('#/', t('denied.home'))));
  el.dataset.page = 'notfound';
}

/* Shows a page's failure: refusals of access as pages of their own. */
export function pageError(el, err, ctx) {
  if (err && err.status === 401) {
    ctx.go(`#/sign-in?next=${encodeURIComponent(location.hash)}`);
    return;
  }
  if (err && err.status === 403) {
    notAllowed(el, err.detail);
    return;
  }
  if (err && err.status === 404) {
    notFound(el, err.detail);
    return;
  }
  if (!err || err.status === undefined) console.error(err);
  clear(el);
  document.title = `${t('error.title')} · ${t('app.name')}`;
  el.append(heading(t('error.title')), notice(err && err.detail ? err.detail : t('error.unexpected'), 'error'));
  el.dataset.page = 'error';
}

export async function route(focus) {
  s_seq += 1;
  const seq = s_seq;
  const raw = (location.hash || '#/').slice(1);
  const [path, qs] = raw.split('?');
  const query = Object.fromEntries(new URLSearchParams(qs || ''));
  const el = main();
  let found = null;
  for (const r of ROUTES) {
    const p = s_match(r[0], path || '/');
    if (p) {
      found = [r, p];
      break;
    }
  }
  s_drawHeader();
  if (!found) {
    notFound(el);
    return;
  }
  const [[, mod, fn, who], params] = found;
  const ctx = s_ctx(params, query, seq);
  if (who !== PUBLIC && !session.data) {
    ctx.go(`#/sign-in?next=${encodeURIComponent(`#${raw}`)}`);
    return;
  }
  if (Array.isArray(who) && !who.includes(ctx.kind)) {
    notAllowed(el);
    return;
  }
  clear(el).append(loading());
  el.dataset.page = 'loading';
  try {
    const m = await s_modules[mod]();
    const page = h('div', { class: 'page' });
    await m[fn](page, ctx);
    if (ctx.stale()) return;
    clear(el).append(page);
    el.dataset.page = `${mod}.${fn}`;
    const h1 = el.querySelector('h1');
    if (h1 && focus) h1.focus(); // after a link: where the page starts, for screen readers
  } catch (err) {
    if (!ctx.stale()) pageError(el, err, ctx);
  }
}

async function s_boot() {
  await loadLang();
  s_drawSkip();
  try {
    await session.load();
  } catch (err) {
    console.warn(err.detail || err);
  }
  window.addEventListener('hashchange', () => route(true));
  await route();
}

s_boot();
