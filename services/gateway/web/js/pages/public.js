// What anyone may see without signing in: open calls and what they
// require, published statistical bulletins with their charts, the IP
// listings and the service providers, and the check of an IP receipt.
import { h, clear } from '../dom.js';
import { t, te } from '../i18n.js';
import * as api from '../api.js';
import { Field, Form } from '../form.js';
import { heading, section, table, facts, notice, link } from '../ui.js';
import { dateTime, money, districtName } from '../format.js';
import { barChart } from '../chart.js';
import { parseReceipt, parsePublicKey, verifyReceipt, ReceiptError } from '../receipt.js';
import { tryGet } from './applicant.js';
import { indicatorName, valueText } from './reports.js';

export async function home(page, ctx) {
  ctx.title(t('home.title'));
  const r = await api.get('/api/v1/intake/calls', { accepting_only: true });
  page.append(heading(t('home.title'), t('home.lead')), section(t('home.open_calls'), table(t('home.open_calls'), [
    [t('field.call'), (c) => link(`#/calls/${c.id}`, c.title)],
    [t('app.kind'), (c) => te('CallKind', c.kind)],
    [t('call.year'), (c) => String(c.year)],
    [t('call.closes'), (c) => dateTime(c.closesAtUs)],
  ], r.calls || [], t('home.no_calls'))));
}

export async function call(page, ctx) {
  const c = (await api.get(`/api/v1/intake/calls/${encodeURIComponent(ctx.params.id)}`)).call;
  ctx.title(c.title);
  page.append(heading(c.title, te('CallKind', c.kind)), section(t('call.requirements'), facts([
    [t('call.year'), String(c.year)], [t('call.opens'), dateTime(c.opensAtUs)], [t('call.closes'), dateTime(c.closesAtUs)],
    [t('call.state'), c.accepting ? t('call.accepting') : t('call.not_accepting')],
    [t('call.required_docs'), (c.requiredDocuments || []).join(', ') || t('common.none')],
    [t('call.eligible'), (c.eligibleTypes || []).map((x) => te('OrganisationType', x)).join(', ') || t('call.anyone')],
    [t('call.max_request'), c.maxRequestFen && c.maxRequestFen !== '0' ? money(c.maxRequestFen) : ''],
    [t('calls.programme'), c.fundProgrammeCode || ''],
  ])));
  if (c.accepting && ctx.kind === 'ORGANISATION') page.append(h('p', null, link(`#/apply/${c.id}`, t('call.apply'))));
  else if (c.accepting && !ctx.session.data) page.append(h('p', null, t('call.sign_in_to_apply'), ' ', link('#/sign-in', t('nav.sign_in'))));
}

export async function bulletins(page, ctx) {
  ctx.title(t('bulletins.title'));
  page.append(heading(t('bulletins.title'), t('bulletins.lead')));
  const r = await tryGet('/api/v1/stats/releases');
  if (r.err) {
    page.append(notice(r.err.detail, 'warn'));
    return;
  }
  page.append(section(t('bulletins.title'), table(t('bulletins.title'), [
    [t('bulletins.quarter'), (x) => link(`#/bulletins/${x.quarter}`, x.quarter)],
    [t('bulletins.name'), (x) => x.title], [t('bulletins.version'), (x) => String(x.version)],
    [t('bulletins.published'), (x) => dateTime(x.publishedAtUs)], [t('bulletins.licence'), (x) => x.licence],
  ], r.data.releases || [], t('bulletins.none'))));
}

/* Charts of one indicator by district, from the release's analysis.json. */
function s_charts(analysis) {
  // A chart of each indicator some district reported (none: nothing to draw).
  const rows = (analysis.rows || []).filter((x) => x.dimension === 'district' && Number(x.reporting) > 0);
  const by = new Map();
  for (const x of rows) {
    if (!by.has(x.indicator)) by.set(x.indicator, []);
    by.get(x.indicator).push(x);
  }
  const out = [];
  for (const [code, list] of by) {
    const indicator = indicatorName(code);
    list.sort((a, b) => Number(BigInt(b.value) - BigInt(a.value)));
    const fmt = (x) => valueText(x.unit, x.value);
    out.push(h('figure', { class: 'card' },
      barChart(t('bulletins.chart_title', { indicator }), list.map((x) => ({ label: districtName(x.key), value: Number(x.value), text: fmt(x) }))),
      h('figcaption', null, t('bulletins.chart_title', { indicator }))));
  }
  return out;
}

export async function bulletin(page, ctx) {
  const q = ctx.params.quarter;
  const rel = (await api.get(`/api/v1/stats/releases/${encodeURIComponent(q)}`)).release;
  ctx.title(rel.title);
  page.append(heading(rel.title, t('bulletins.of', { quarter: rel.quarter, version: rel.version })));
  page.append(section(t('bulletins.about'), facts([
    [t('bulletins.published'), dateTime(rel.publishedAtUs)], [t('bulletins.licence'), rel.licence],
    [t('bulletins.embargo'), rel.embargoUntilUs !== '0' ? dateTime(rel.embargoUntilUs) : ''],
    [t('bulletins.change'), rel.changeNote || ''], [t('bulletins.summary'), rel.summary ? h('span', { lang: 'en' }, rel.summary) : ''],
  ])));
  const files = rel.files || [];
  const an = files.find((f) => f.name === 'analysis.json');
  if (an) {
    let analysis = null;
    try {
      analysis = JSON.parse(an.content);
    } catch (e) {
      analysis = null;
    }
    if (analysis) page.append(section(t('bulletins.charts'), s_charts(analysis)));
  }
  page.append(section(t('bulletins.files'), h('ul', null, files.map((f) => h('li', null,
    h('a', { href: URL.createObjectURL(new Blob([f.content], { type: f.mediaType })), download: f.name }, f.name), ` (${f.mediaType})`)))));
}

export async function listings(page, ctx) {
  ctx.title(t('listings.title'));
  page.append(heading(t('listings.title'), t('listings.lead')));
  const r = await tryGet('/api/v1/ip/listings');
  if (r.err) {
    page.append(notice(r.err.detail, 'warn'));
    return;
  }
  page.append(section(t('listings.title'), table(t('listings.title'), [
    [t('listings.work'), (x) => link(`#/ip/listings/${x.id}`, x.workTitle || x.workId)], [t('listings.deal'), (x) => te('DealType', x.deal)],
    [t('listings.territory'), (x) => (x.territory || []).join(', ')],
    [t('listings.term'), (x) => (x.termStart ? `${x.termStart} – ${x.termEnd}` : '')],
    [t('listings.price'), (x) => h('span', { class: 'money' }, money(x.priceFen))],
    [t('app.status'), (x) => x.status],
  ], r.data.listings || [], t('listings.none'))));
}

export async function providers(page, ctx) {
  ctx.title(t('providers.title'));
  page.append(heading(t('providers.title'), t('providers.lead')));
  const r = await tryGet('/api/v1/ip/providers');
  if (r.err) {
    page.append(notice(r.err.detail, 'warn'));
    return;
  }
  page.append(section(t('providers.title'), table(t('providers.title'), [
    [t('providers.name'), (x) => x.name],
    [t('providers.categories'), (x) => (x.categories || []).map((c) => te('ProviderCategory', c)).join(', ')],
    [t('providers.verified'), (x) => (x.verified ? t('common.yes') : t('common.no'))],
    [t('providers.rating'), (x) => (x.ratingCount ? (x.ratingSum / x.ratingCount).toFixed(1) : '—')],
    [t('providers.description'), (x) => x.description],
  ], r.data.providers || [], t('providers.none'))));
}

async function s_text(files) {
  return files && files.length ? files[0].text() : '';
}

export async function verify(page, ctx) {
  ctx.title(t('verify.title'));
  page.append(heading(t('verify.title'), t('verify.lead')));
  let published = '';
  const k = await tryGet('/api/v1/ip/keys');
  if (k.data) published = k.data.keyFile || k.data.publicKey || '';
  const out = h('div', { id: 'verify-result', 'aria-live': 'polite' });
  const f = new Form({
    label: t('verify.title'),
    submitLabel: t('verify.submit'),
    fields: [
      new Field({ name: 'receipt_file', label: t('verify.receipt_file'), type: 'file', accept: '.txt,text/plain' }),
      new Field({ name: 'receipt', label: t('verify.receipt_text'), type: 'textarea', rows: 9, hint: t('verify.receipt_hint') }),
      new Field({ name: 'public_key', label: t('verify.public_key'), type: 'textarea', rows: 4, value: published, hint: published ? t('verify.key_published') : t('verify.key_hint') }),
      new Field({ name: 'content', label: t('verify.content'), type: 'file', hint: t('verify.content_hint') }),
    ],
    onSubmit: async (v) => {
      clear(out);
      let text = (await s_text(v.receipt_file)) || v.receipt;
      if (text && !text.endsWith('\n')) text += '\n';
      let r;
      try {
        r = parseReceipt(text.replace(/\r\n/g, '\n'));
      } catch (e) {
        if (!(e instanceof ReceiptError)) throw e;
        f.field('receipt').setError(t('verify.bad_line', { line: e.line, field: e.field, what: e.what }));
        return;
      }
      const key = parsePublicKey(v.public_key);
      if (!key) {
        f.field('public_key').setError(t('verify.bad_key'));
        return;
      }
      const content = v.content && v.content.length ? await v.content[0].arrayBuffer() : null;
      const res = await verifyReceipt(r, key.hex, content);
      const reasons = {
        key_mismatch: () => t('verify.key_mismatch', { want: r.key_id, got: res.keyId }),
        signature: () => t('verify.bad_signature'),
        content: () => t('verify.bad_content'),
        unsupported: () => t('verify.unsupported'),
      };
      out.append(res.ok
        ? notice(t('verify.ok', { serial: r.serial, at: r.registered_at }), 'ok')
        : notice(reasons[res.reason](), 'error'),
      facts([[t('verify.serial'), r.serial], [t('verify.work'), r.work_id], [t('verify.sha'), h('span', { class: 'code' }, r.content_sha256)],
        [t('verify.registered'), r.registered_at], [t('verify.key_id'), r.key_id]]));
    },
  });
  page.append(section(t('verify.title'), h('p', { class: 'hint' }, t('verify.how')), f.el, out));
}
