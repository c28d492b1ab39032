// Intellectual property (services/ip through the gateway): the
// organisation's works (registered here with a signed receipt), their
// listings, the offers on a listing (the seller accepts one: a contract;
// another organisation makes one), the contracts (an organisation's own,
// or all for staff) and one contract (the seller records its settlement). The organisation acts as the party "org:<credit code>"; ip
// decides who may do what (proto/ccip/ip.proto).
import { h, clear } from '../dom.js';
import { t, te } from '../i18n.js';
import * as api from '../api.js';
import { Field, Form } from '../form.js';
import { heading, section, table, facts, notice, link } from '../ui.js';
import { dateTime, date, today, money, yuanToFen } from '../format.js';
import { tryGet } from './applicant.js';

const WORK_KINDS = ['COPYRIGHT_LITERARY', 'COPYRIGHT_FINE_ART', 'COPYRIGHT_MUSIC', 'COPYRIGHT_FILM',
  'COPYRIGHT_SOFTWARE', 'COPYRIGHT_DESIGN', 'TRADEMARK', 'PATENT'];
const DEALS = ['TRANSFER', 'EXCLUSIVE_LICENCE', 'NON_EXCLUSIVE_LICENCE'];
// Content sent along with its digest (ip checks UTF-8 text for near
// duplicates) up to this size; a larger file is registered by digest only.
const CONTENT_SENT_MAX = 64 * 1024;

const s_party = (ctx) => `org:${ctx.binding.subject}`;
const s_money = (fen) => h('span', { class: 'money' }, money(fen || '0'));
const s_amountCheck = (v) => (yuanToFen(v) === null ? { rule: 'amount', params: {} } : null);

async function s_digest(file) {
  const buf = await file.arrayBuffer();
  const d = await crypto.subtle.digest('SHA-256', buf);
  return { buf, sha256: Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, '0')).join('') };
}

function s_base64(buf) {
  let s = '';
  const b = new Uint8Array(buf);
  for (let i = 0; i < b.length; i += 1) s += String.fromCharCode(b[i]);
  return btoa(s);
}

/* A signed receipt as text and as a file to keep (checked on #/verify). */
function s_receipt(text, serial) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
  return h('div', { class: 'receipt' },
    h('p', null, h('a', { href: url, download: `receipt-${serial}.txt`, id: 'receipt-download' }, t('works.receipt_download'))),
    h('pre', { class: 'code', tabindex: '0', 'aria-label': t('works.receipt') }, text));
}

export async function works(page, ctx) {
  ctx.title(t('works.title'));
  page.append(heading(t('works.title'), t('works.lead')));
  const r = await tryGet('/api/v1/ip/works', { owner: s_party(ctx) });
  if (r.err) {
    page.append(notice(r.err.detail, 'warn'));
    return;
  }
  page.append(section(t('works.title'), table(t('works.title'), [
    [t('works.serial'), (x) => x.serialText || ''], [t('works.name'), (x) => link(`#/works/${x.id}`, x.title || x.id)],
    [t('works.kind'), (x) => te('WorkKind', x.kind)], [t('works.registered'), (x) => date(x.registeredAtUs)],
  ], (r.data.works || []).filter((x) => x.kind !== 'AUDIT_ANCHOR'), t('works.none'))));
  if (ctx.session.pending()) return;
  const out = h('div');
  const f = new Form({
    label: t('works.register'),
    fields: [
      new Field({ name: 'kind', label: t('works.kind'), type: 'select', required: true, options: [['', t('common.choose')], ...WORK_KINDS.map((k) => [k, te('WorkKind', k)])] }),
      new Field({ name: 'title', label: t('works.name'), required: true }),
      new Field({ name: 'creators', label: t('works.creators'), hint: t('works.creators_hint') }),
      new Field({ name: 'created_on', label: t('works.created_on'), type: 'date', required: true, max: today() }),
      new Field({ name: 'content_sha256', label: t('works.file'), type: 'file', required: true, hint: t('works.file_hint') }),
    ],
    submitLabel: t('works.register'),
    onSubmit: async (v) => {
      const file = (v.content_sha256 || [])[0];
      const d = file ? await s_digest(file) : { sha256: '', buf: null };
      const r2 = await api.post('/api/v1/ip/works', {
        kind: v.kind || 'WORK_KIND_UNSPECIFIED', title: v.title.trim(), createdOn: v.created_on,
        creators: v.creators.split(/[,，、]+/).map((x) => x.trim()).filter(Boolean), contentSha256: d.sha256,
        content: d.buf && d.buf.byteLength <= CONTENT_SENT_MAX ? s_base64(d.buf) : '',
      });
      const said = r2.existing ? t('works.existing', { serial: r2.work.serialText }) : t('works.registered_done', { serial: r2.work.serialText });
      clear(out).append(notice(said, 'ok'),
        h('p', null, link(`#/works/${r2.work.id}`, r2.work.title)), s_receipt(r2.receipt, r2.work.serialText));
    },
  });
  page.append(section(t('works.register'), h('p', { class: 'hint' }, t('works.register_lead')), f.el, out));
}

function s_listingsTable(rows) {
  return table(t('listings.title'), [
    [t('listings.deal'), (x) => link(`#/ip/listings/${x.id}`, te('DealType', x.deal))],
    [t('listings.territory'), (x) => (x.territory || []).join(', ')],
    [t('listings.term'), (x) => (x.termStart ? `${x.termStart} – ${x.termEnd}` : '')],
    [t('listings.price'), (x) => s_money(x.priceFen)],
    [t('app.status'), (x) => x.status],
    [t('listings.offers'), (x) => String(x.openOffers || 0)],
  ], rows, t('listings.none'));
}

export async function work(page, ctx) {
  const w = (await api.get(`/api/v1/ip/works/${encodeURIComponent(ctx.params.id)}`)).work;
  ctx.title(w.title);
  page.append(heading(w.title, `${w.serialText} · ${te('WorkKind', w.kind)}`));
  if (w.frozen) page.append(notice(t('works.frozen'), 'warn'));
  page.append(section(t('works.facts'), facts([
    [t('works.serial'), w.serialText], [t('works.owners'), (w.owners || []).map((o) => `${o.party} (${(o.shareBp / 100).toFixed(2)}%)`).join(', ')],
    [t('works.creators'), (w.creators || []).join(', ')], [t('works.created_on'), w.createdOn],
    [t('works.registered'), dateTime(w.registeredAtUs)], [t('doc.sha256'), h('span', { class: 'code' }, w.contentSha256)],
  ])));
  const l = await api.get('/api/v1/ip/listings', { work_id: w.id });
  page.append(section(t('listings.title'), s_listingsTable(l.listings || [])));
  const mine = ctx.kind === 'ORGANISATION' && (w.owners || []).some((o) => o.party === s_party(ctx));
  if (!mine || w.frozen) return;
  const f = new Form({
    label: t('listings.create'),
    fields: [
      new Field({ name: 'deal', label: t('listings.deal'), type: 'select', required: true, options: [['', t('common.choose')], ...DEALS.map((d) => [d, te('DealType', d)])] }),
      new Field({ name: 'territory', label: t('listings.territory'), hint: t('listings.territory_hint') }),
      new Field({ name: 'term_start', label: t('listings.term_start'), type: 'date', hint: t('listings.term_hint') }),
      new Field({ name: 'term_end', label: t('listings.term_end'), type: 'date' }),
      new Field({ name: 'price_fen', label: t('listings.price'), required: true, inputmode: 'decimal', hint: t('apply.yuan_hint'), check: s_amountCheck }),
    ],
    submitLabel: t('listings.create'),
    onSubmit: async (v) => {
      const r = await api.post('/api/v1/ip/listings', {
        workId: w.id, deal: v.deal || 'DEAL_TYPE_UNSPECIFIED', territory: v.territory.split(/[,，\s]+/).filter(Boolean),
        termStart: v.term_start, termEnd: v.term_end, priceFen: yuanToFen(v.price_fen) || '0',
      });
      ctx.go(`#/ip/listings/${r.listing.id}`);
    },
  });
  page.append(section(t('listings.create'), f.el));
}

/* A listing: anyone reads it; its seller sees the offers and accepts one,
 * another organisation makes one. */
export async function listing(page, ctx) {
  const r = await api.get(`/api/v1/ip/listings/${encodeURIComponent(ctx.params.id)}`);
  const l = r.listing;
  // A work is read by people signed in only: the public sees the listing alone.
  const w = ctx.session.data ? await tryGet(`/api/v1/ip/works/${encodeURIComponent(l.workId)}`).catch(() => ({})) : {};
  const title = (w.data && w.data.work && w.data.work.title) || l.workId;
  ctx.title(t('listing.title', { title }));
  page.append(heading(t('listing.title', { title }), te('DealType', l.deal)));
  page.append(section(t('listing.facts'), facts([
    [t('listings.work'), ctx.kind ? link(`#/works/${l.workId}`, title) : title], [t('listing.seller'), l.seller],
    [t('listings.deal'), te('DealType', l.deal)], [t('listings.territory'), (l.territory || []).join(', ')],
    [t('listings.term'), l.termStart ? `${l.termStart} – ${l.termEnd}` : ''], [t('listings.price'), s_money(l.priceFen)],
    [t('app.status'), l.status], [t('listing.created'), dateTime(l.createdAtUs)],
  ])));
  const seller = ctx.kind === 'ORGANISATION' && l.seller === s_party(ctx);
  // ip returns every offer to anyone known; the page shows the seller all of
  // them and another organisation its own only.
  const mine = ctx.kind === 'ORGANISATION' ? s_party(ctx) : null;
  const offers = (r.offers || []).filter((o) => seller || (mine && o.buyer === mine));
  if (offers.length || seller) {
    page.append(section(t('listing.offers'), table(t('listing.offers'), [
      [t('listing.buyer'), (o) => o.buyer], [t('listings.price'), (o) => s_money(o.priceFen)],
      [t('listing.note'), (o) => o.note || ''], [t('app.status'), (o) => o.status], [t('app.when'), (o) => dateTime(o.createdAtUs)],
      [t('payment.action'), (o) => {
        if (o.status !== 'OPEN') return '';
        if (seller) {
          return h('button', {
            type: 'button', class: 'primary',
            onclick: async (e) => {
              e.target.disabled = true;
              try {
                const c = await api.post(`/api/v1/ip/offers/${encodeURIComponent(o.id)}/accept`, {});
                ctx.go(`#/ip/contracts/${c.contract.id}`);
              } catch (err) {
                e.target.disabled = false;
                e.target.after(notice(err.detail, 'error'));
              }
            },
          }, t('listing.accept'));
        }
        return o.buyer === mine ? h('button', {
          type: 'button', class: 'secondary',
          onclick: async (e) => {
            e.target.disabled = true;
            try {
              await api.post(`/api/v1/ip/offers/${encodeURIComponent(o.id)}/withdraw`, {});
              ctx.redraw();
            } catch (err) {
              e.target.disabled = false;
              e.target.after(notice(err.detail, 'error'));
            }
          },
        }, t('listing.withdraw_offer')) : '';
      }],
    ], offers, t('listing.no_offers'))));
  }
  if (seller && l.status === 'OPEN') {
    const f = new Form({
      label: t('listing.withdraw'),
      fields: [],
      submitLabel: t('listing.withdraw'),
      onSubmit: async () => {
        await api.post(`/api/v1/ip/listings/${encodeURIComponent(l.id)}/withdraw`, {});
        ctx.redraw();
      },
    });
    page.append(section(t('listing.withdraw'), f.el));
  }
  if (ctx.kind === 'ORGANISATION' && !seller && l.status === 'OPEN' && !ctx.session.pending()) {
    const f = new Form({
      label: t('listing.offer'),
      fields: [
        new Field({ name: 'price_fen', label: t('listing.offer_price'), required: true, inputmode: 'decimal', hint: t('apply.yuan_hint'), value: money(l.priceFen || '0').replace('¥', ''), check: s_amountCheck }),
        new Field({ name: 'note', label: t('listing.note'), type: 'textarea', rows: 2 }),
      ],
      submitLabel: t('listing.offer'),
      onSubmit: async (v) => {
        await api.post(`/api/v1/ip/listings/${encodeURIComponent(l.id)}/offers`, { priceFen: yuanToFen(v.price_fen) || '0', note: v.note.trim() });
        ctx.redraw();
      },
    });
    page.append(section(t('listing.offer'), f.el));
  } else if (!ctx.kind && l.status === 'OPEN') {
    page.append(notice(t('listing.sign_in_to_offer')));
  }
}

/* The contracts: an organisation's own (ip answers a party with those it is
 * the seller or buyer of), any for staff, by status. */
export async function contracts(page, ctx) {
  ctx.title(t('contracts.title'));
  page.append(heading(t('contracts.title'), t('contracts.lead')));
  const status = ctx.query.status || '';
  const r = await api.get('/api/v1/ip/contracts', status ? { status } : undefined);
  const f = new Form({
    label: t('contracts.filter'),
    submitLabel: t('contracts.filter'),
    fields: [new Field({ name: 'status', label: t('app.status'), type: 'select', value: status, options: [['', t('contracts.any')], ['CONTRACTED', t('contracts.contracted')], ['SETTLED', t('contracts.settled')]] })],
    onSubmit: async (v) => ctx.go(v.status ? `#/ip/contracts?status=${encodeURIComponent(v.status)}` : '#/ip/contracts'),
  });
  f.el.classList.add('inline');
  page.append(section(t('contracts.title'), f.el, table(t('contracts.title'), [
    [t('contract.contracted'), (c) => link(`#/ip/contracts/${c.id}`, dateTime(c.contractedAtUs))],
    [t('listings.work'), (c) => link(`#/works/${c.workId}`, c.workId.slice(0, 8))],
    [t('listing.seller'), (c) => c.seller], [t('listing.buyer'), (c) => c.buyer],
    [t('listings.deal'), (c) => te('DealType', c.deal)], [t('listings.price'), (c) => s_money(c.priceFen)],
    [t('app.status'), (c) => (c.status === 'SETTLED' ? t('contracts.settled') : t('contracts.contracted'))],
  ], r.contracts || [], t('contracts.none'))));
}

export async function contract(page, ctx) {
  const c = (await api.get(`/api/v1/ip/contracts/${encodeURIComponent(ctx.params.id)}`)).contract;
  ctx.title(t('contract.title'));
  page.append(heading(t('contract.title'), `${te('DealType', c.deal)} · ${c.status}`));
  page.append(section(t('contract.facts'), facts([
    [t('listings.work'), link(`#/works/${c.workId}`, c.workId)], [t('listing.seller'), c.seller], [t('listing.buyer'), c.buyer],
    [t('listings.deal'), te('DealType', c.deal)], [t('listings.territory'), (c.territory || []).join(', ')],
    [t('listings.term'), c.termStart ? `${c.termStart} – ${c.termEnd}` : ''], [t('listings.price'), s_money(c.priceFen)],
    [t('contract.contracted'), dateTime(c.contractedAtUs)], [t('payment.ref'), c.paymentRef || ''],
  ])));
  const seller = ctx.kind === 'ORGANISATION' && c.seller === s_party(ctx);
  if ((seller || ctx.kind === 'STAFF' || ctx.kind === 'ADMIN') && c.status === 'CONTRACTED') {
    const f = new Form({
      label: t('contract.settle'),
      fields: [
        new Field({ name: 'payment_ref', label: t('payment.ref'), required: true }),
        new Field({ name: 'paid_fen', label: t('contract.paid'), required: true, inputmode: 'decimal', hint: t('contract.paid_hint', { price: money(c.priceFen || '0') }), check: s_amountCheck }),
      ],
      submitLabel: t('contract.settle'),
      onSubmit: async (v) => {
        await api.post(`/api/v1/ip/contracts/${encodeURIComponent(c.id)}/settle`, { paymentRef: v.payment_ref.trim(), paidFen: yuanToFen(v.paid_fen) || '0' });
        ctx.redraw();
      },
    });
    page.append(section(t('contract.settle'), f.el));
  }
}
