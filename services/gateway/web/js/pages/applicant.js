// The applicant organisation's pages: its profile and users, applying to a
// call (checked as typed, saved as a draft, documents uploaded with
// progress, submitted), each application's status and timeline. Its awards
// are in funding.js, its works in ip.js, the quarterly report of a
// designated cluster in reports.js.
import { h, clear } from '../dom.js';
import { t, te } from '../i18n.js';
import * as api from '../api.js';
import { Field, Form } from '../form.js';
import { heading, section, table, facts, notice, link, badge, timeline } from '../ui.js';
import { usccCheck, phoneCheck, emailCheck, textCheck } from '../validate.js';
import { DISTRICTS, districtName, dateTime, money, yuanToFen, bytes, uscc as fmtUscc } from '../format.js';
import { lang } from '../i18n.js';

const ORG_TYPES = ['DISTRICT_GOVERNMENT', 'MUNICIPAL_COMMISSION', 'ENTERPRISE', 'INSTITUTION'];

function s_districtOptions(withDefault) {
  const opts = DISTRICTS.map(([code, zh, en]) => [code, lang() === 'zh-CN' ? zh : en]);
  return withDefault ? [['', t('apply.district_default')], ...opts] : [['', t('common.choose')], ...opts];
}

function s_amountCheck(v) {
  return yuanToFen(v) === null ? { rule: 'amount', params: {} } : null;
}

/* The applicant's status as a badge. */
export function applicantBadge(status) {
  const kind = {
    APPLICANT_APPROVED: 'ok', APPLICANT_FUNDED: 'ok', APPLICANT_ACTION_REQUIRED: 'warn',
    APPLICANT_NOT_ACCEPTED: 'bad', APPLICANT_NOT_APPROVED: 'bad', APPLICANT_NOT_FUNDED: 'bad',
  }[status];
  return badge(te('ApplicantStatus', status || 'APPLICANT_STATUS_UNSPECIFIED'), kind);
}

/* intake's sentences for the applicant (intake_view.c), in the language in
 * force: [pattern, message]; the reason a person typed stays as typed. A
 * sentence not listed here is shown as the service wrote it (English). */
const SENTENCES = [
  [/^draft created; complete it and submit it while the call is open$/, () => t('timeline.draft')],
  [/^submitted; the center checks it for completeness$/, () => t('timeline.submitted')],
  [/^submitted again after correction; the center checks it for completeness$/, () => t('timeline.resubmitted')],
  [/^returned for correction: (.*); correct it and submit again$/s, (m) => t('timeline.returned', { reason: m[1] })],
  [/^accepted as complete; the evaluation follows$/, () => t('timeline.accepted')],
  [/^not accepted: (.*)$/s, (m) => t('timeline.not_accepted', { reason: m[1] })],
  [/^withdrawn by the applicant$/, () => t('timeline.withdrawn')],
  [/^withdrawn by the applicant: (.*)$/s, (m) => t('timeline.withdrawn_because', { reason: m[1] })],
  [/^the expert review has started$/, () => t('timeline.review_started')],
  [/^an on-site investigation has been scheduled$/, () => t('timeline.investigation_scheduled')],
  [/^the expert review is complete; a decision follows$/, () => t('timeline.review_completed')],
  [/^approved$/, () => t('timeline.approved')],
  [/^not approved$/, () => t('timeline.not_approved')],
  [/^funds have been awarded$/, () => t('timeline.award_granted')],
  [/^the award agreement has been signed$/, () => t('timeline.award_signed')],
  [/^payments are on hold$/, () => t('timeline.award_suspended')],
  [/^payments have resumed$/, () => t('timeline.award_resumed')],
  [/^all funds have been paid$/, () => t('timeline.award_completed')],
  [/^funding was not granted$/, () => t('timeline.award_rejected')],
  [/^the award was terminated$/, () => t('timeline.award_terminated')],
];

/* {text, lang} of a service's sentence for the applicant. */
export function applicantSentence(message) {
  for (const [re, f] of SENTENCES) {
    const m = re.exec(message || '');
    if (m) return { text: f(m), lang: null };
  }
  return { text: message || '', lang: 'en' };
}

/* ---- the organisation ------------------------------------------------------------ */

function s_orgFields(o, fixedUscc) {
  return [
    new Field({ name: 'uscc', label: t('field.uscc'), hint: t('org.uscc_hint'), required: true, maxlength: 18, value: o.uscc || fixedUscc || '', check: usccCheck, readonly: Boolean(o.uscc) }),
    new Field({ name: 'name', label: t('field.org_name'), required: true, value: o.name || '', check: (v) => textCheck(v, 1, 200) }),
    new Field({ name: 'type', label: t('field.org_type'), type: 'select', required: true, value: o.type || '', options: [['', t('common.choose')], ...ORG_TYPES.map((x) => [x, te('OrganisationType', x)])] }),
    new Field({ name: 'district', label: t('field.district'), type: 'select', required: true, value: o.districtCode || '', options: s_districtOptions(false) }),
    new Field({ name: 'legal_representative', label: t('field.legal_rep'), required: true, value: o.legalRepresentative || '', check: (v) => textCheck(v, 1, 100) }),
    new Field({ name: 'contact_name', label: t('field.contact_name'), required: true, value: o.contactName || '', check: (v) => textCheck(v, 1, 100) }),
    new Field({ name: 'contact_phone', label: t('field.contact_phone'), type: 'tel', required: true, hint: t('org.phone_hint'), value: o.contactPhone || '', check: phoneCheck }),
    new Field({ name: 'contact_email', label: t('field.contact_email'), type: 'email', value: o.contactEmail || '', check: emailCheck }),
    new Field({ name: 'address', label: t('field.address'), value: o.address || '', check: (v) => textCheck(v, 0, 500) }),
  ];
}

function s_orgBody(v) {
  return {
    uscc: v.uscc.trim(),
    name: v.name.trim(), type: v.type || 'ORGANISATION_TYPE_UNSPECIFIED', district: v.district,
    legalRepresentative: v.legal_representative.trim(), contactName: v.contact_name.trim(),
    contactPhone: v.contact_phone.trim(), contactEmail: v.contact_email.trim(), address: v.address.trim(),
  };
}

export async function org(page, ctx) {
  ctx.title(t('org.title'));
  const code = ctx.binding.subject;
  let o = null;
  try {
    o = (await api.get(`/api/v1/intake/organisations/${encodeURIComponent(code)}`)).organisation;
  } catch (err) {
    if (err.status !== 404 && err.status !== 403) throw err;
  }
  page.append(heading(t('org.title'), o ? o.name : fmtUscc(code)));
  if (!o) {
    const f = new Form({
      label: t('org.register'),
      submitLabel: t('org.register_submit'),
      fields: s_orgFields({}, code),
      onSubmit: async (v) => {
        await api.post('/api/v1/intake/organisations', s_orgBody(v));
        ctx.redraw();
      },
    });
    page.append(notice(t('org.register_lead')), section(t('org.register'), f.el));
    return;
  }
  page.append(o.verified ? notice(t('org.verified', { at: dateTime(o.verifiedAtUs) }), 'ok') : notice(t('org.unverified'), 'warn'));
  page.append(section(t('org.details'), facts([
    [t('field.uscc'), h('span', { class: 'code' }, fmtUscc(o.uscc))], [t('field.org_name'), o.name],
    [t('field.org_type'), te('OrganisationType', o.type)], [t('field.district'), districtName(o.districtCode)],
    [t('field.legal_rep'), o.legalRepresentative], [t('field.contact_name'), o.contactName],
    [t('field.contact_phone'), o.contactPhone], [t('field.contact_email'), o.contactEmail], [t('field.address'), o.address],
  ])));
  const upd = new Form({
    label: t('org.update'),
    submitLabel: t('org.update_submit'),
    fields: [...s_orgFields(o), new Field({ name: 'reason', label: t('field.reason'), required: true, type: 'textarea', rows: 2 })],
    onSubmit: async (v) => {
      await api.post(`/api/v1/intake/organisations/${encodeURIComponent(o.uscc)}`, { details: s_orgBody(v), reason: v.reason.trim() });
      ctx.redraw();
    },
  });
  page.append(section(t('org.update'), h('p', { class: 'hint' }, t('org.update_lead')), upd.el));
  if (!ctx.session.pending()) {
    const out = h('div');
    const inv = new Form({
      label: t('org.invite'),
      submitLabel: t('org.invite_submit'),
      fields: [new Field({ name: 'email', label: t('field.email'), type: 'email', required: true, check: emailCheck })],
      onSubmit: async (v) => {
        const r = await api.post('/api/v1/gateway/invitations', { email: v.email.trim(), kind: 'ORGANISATION', subject: o.uscc });
        const url = `${location.origin}/#/invitations/${r.token}`;
        clear(out).append(notice(t('org.invite_done', { until: dateTime(r.expiresAtUs) }), 'ok'), h('p', null, h('a', { href: `#/invitations/${r.token}`, class: 'code' }, url)));
      },
    });
    page.append(section(t('org.users'), h('p', null, t('org.users_lead')), inv.el, out));
  }
}

/* ---- applications --------------------------------------------------------------- */

export async function applications(page, ctx) {
  ctx.title(t('apps.title'));
  const r = await api.get('/api/v1/intake/applications');
  const rows = r.applications || [];
  page.append(heading(t('apps.title'), t('apps.lead')),
    h('p', null, link('#/apply', t('apps.new'), 'button-link')),
    section(t('apps.title'), table(t('apps.title'), [
      [t('app.title_col'), (a) => link(`#/applications/${a.id}`, a.title || t('apps.untitled'))],
      [t('app.kind'), (a) => te('CallKind', a.kind)],
      [t('app.status'), (a) => applicantBadge(a.applicantStatus)],
      [t('app.requested'), (a) => (a.requestedFen !== '0' ? h('span', { class: 'money' }, money(a.requestedFen)) : '—')],
      [t('app.updated'), (a) => dateTime(a.updatedAtUs)],
    ], rows, t('apps.none'))));
}

/* The content fields of an application for a call of `kind`. */
function s_contentFields(kind, c, call) {
  c = c || {};
  const fields = [
    new Field({ name: 'content.title', label: t('field.app_title'), required: true, value: c.title || '', check: (v) => textCheck(v, 1, 200) }),
    new Field({ name: 'content.summary', label: t('field.summary'), type: 'textarea', rows: 5, required: true, hint: t('apply.summary_hint'), value: c.summary || '', check: (v) => textCheck(v, 1, 4000) }),
    new Field({ name: 'content.district', label: t('field.project_district'), type: 'select', value: c.district || '', options: s_districtOptions(true) }),
  ];
  if (kind === 'SPECIAL_FUND_PROJECT') {
    const max = call && call.maxRequestFen && call.maxRequestFen !== '0' ? t('apply.max', { max: money(call.maxRequestFen) }) : null;
    fields.push(new Field({ name: 'content.requested_fen', label: t('field.requested'), hint: max || t('apply.yuan_hint'), required: true, inputmode: 'decimal', value: c.requestedFen && c.requestedFen !== '0' ? money(c.requestedFen).replace('¥', '') : '', check: s_amountCheck }));
    const lines = (c.project && c.project.budgetLines) || [];
    for (let i = 0; i < 3; i += 1) {
      const l = lines[i] || {};
      fields.push(new Field({ name: `content.project.budget_lines[${i}].item`, label: t('apply.budget_item', { n: i + 1 }), value: l.item || '' }));
      fields.push(new Field({ name: `content.project.budget_lines[${i}].amount_fen`, label: t('apply.budget_amount', { n: i + 1 }), inputmode: 'decimal', hint: t('apply.yuan_hint'), value: l.amountFen ? money(l.amountFen).replace('¥', '') : '', check: s_amountCheck }));
    }
  } else if (kind === 'TALENT_BASE_IDENTIFICATION') {
    const tb = c.talentBase || {};
    const p = (tb.programmes || [])[0] || {};
    fields.push(
      new Field({ name: 'content.talent_base.programmes[0].name', label: t('field.programme_name'), value: p.name || '' }),
      new Field({ name: 'content.talent_base.programmes[0].capacity', label: t('field.programme_capacity'), type: 'number', min: 0, value: p.capacity || '' }),
      new Field({ name: 'content.talent_base.annual_capacity', label: t('field.annual_capacity'), type: 'number', min: 0, value: tb.annualCapacity || '' }));
  } else {
    const cl = c.cluster || {};
    fields.push(
      new Field({ name: 'content.cluster.cluster_name', label: t('field.cluster_name'), required: true, value: cl.clusterName || '' }),
      new Field({ name: 'content.cluster.location', label: t('field.location'), required: true, value: cl.location || '' }),
      new Field({ name: 'content.cluster.area_m2', label: t('field.area_m2'), type: 'number', min: 0, value: cl.areaM2 && cl.areaM2 !== '0' ? cl.areaM2 : '' }),
      new Field({ name: 'content.cluster.enterprise_count', label: t('field.enterprise_count'), type: 'number', min: 0, value: cl.enterpriseCount || '' }),
      new Field({ name: 'content.cluster.employee_count', label: t('field.employee_count'), type: 'number', min: 0, value: cl.employeeCount || '' }),
      new Field({ name: 'content.cluster.lead_operator', label: t('field.lead_operator'), value: cl.leadOperator || '' }));
  }
  return fields;
}

function s_int(v) {
  const s = String(v || '').trim();
  return s === '' ? 0 : Number.parseInt(s, 10);
}

/* The ApplicationContent JSON of the form's values. */
function s_content(kind, v) {
  const c = { title: v['content.title'].trim(), summary: v['content.summary'].trim(), district: v['content.district'] };
  if (kind === 'SPECIAL_FUND_PROJECT') {
    c.requestedFen = yuanToFen(v['content.requested_fen']) || '0';
    const lines = [];
    for (let i = 0; i < 3; i += 1) {
      const item = v[`content.project.budget_lines[${i}].item`].trim();
      if (item) lines.push({ item, amountFen: yuanToFen(v[`content.project.budget_lines[${i}].amount_fen`]) || '0' });
    }
    c.project = { budgetLines: lines };
  } else if (kind === 'TALENT_BASE_IDENTIFICATION') {
    const name = v['content.talent_base.programmes[0].name'].trim();
    c.talentBase = {
      programmes: name ? [{ name, capacity: s_int(v['content.talent_base.programmes[0].capacity']) }] : [],
      annualCapacity: s_int(v['content.talent_base.annual_capacity']),
    };
  } else {
    c.cluster = {
      clusterName: v['content.cluster.cluster_name'].trim(), location: v['content.cluster.location'].trim(),
      areaM2: String(s_int(v['content.cluster.area_m2'])), enterpriseCount: s_int(v['content.cluster.enterprise_count']),
      employeeCount: s_int(v['content.cluster.employee_count']), leadOperator: v['content.cluster.lead_operator'].trim(),
    };
  }
  return c;
}

/* A refusal about the call's window names no field: it belongs to the call. */
function s_fieldFor(err) {
  return /^call "/.test(err.detail || '') || /\bcall\b.*\b(closed|opens)\b/.test(err.detail || '') ? 'call_id' : '';
}

export async function apply(page, ctx) {
  ctx.title(t('apply.title'));
  const calls = ((await api.get('/api/v1/intake/calls', { accepting_only: true })).calls || []);
  page.append(heading(t('apply.title'), t('apply.lead')));
  if (ctx.session.pending()) {
    page.append(notice(t('apply.pending'), 'warn'));
    return;
  }
  if (calls.length === 0) {
    page.append(notice(t('apply.no_calls')));
    return;
  }
  const chosen = ctx.params.callId || ctx.query.call || '';
  const call = calls.find((c) => c.id === chosen);
  const pick = new Field({
    name: 'call_id', label: t('field.call'), type: 'select', required: true, value: chosen,
    options: [['', t('common.choose')], ...calls.map((c) => [c.id, `${c.title} (${te('CallKind', c.kind)})`])],
  });
  pick.input.addEventListener('change', () => ctx.go(`#/apply/${pick.value()}`));
  if (!call) {
    page.append(section(t('apply.choose_call'), h('form', { 'aria-label': t('apply.choose_call') }, pick.el)));
    return;
  }
  page.append(section(t('apply.call'), s_callFacts(call)));
  const key = api.newKey();
  const f = new Form({
    label: t('apply.title'),
    fields: [pick, ...s_contentFields(call.kind, {}, call)],
    submitLabel: t('apply.save_draft'),
    fieldFor: s_fieldFor,
    onSubmit: async (v) => {
      const r = await api.post('/api/v1/intake/applications', {
        callId: call.id, applicantUscc: ctx.binding.subject, content: s_content(call.kind, v),
      }, { key });
      ctx.go(`#/applications/${r.application.id}/edit`);
    },
  });
  page.append(section(t('apply.content'), h('p', { class: 'hint' }, t('apply.draft_lead')), f.el));
}

function s_callFacts(c) {
  return facts([
    [t('field.call'), c.title], [t('app.kind'), te('CallKind', c.kind)], [t('call.year'), String(c.year)],
    [t('call.opens'), dateTime(c.opensAtUs)], [t('call.closes'), dateTime(c.closesAtUs)],
    [t('call.required_docs'), (c.requiredDocuments || []).join(', ') || t('common.none')],
    [t('call.eligible'), (c.eligibleTypes || []).map((x) => te('OrganisationType', x)).join(', ') || t('call.anyone')],
    [t('call.max_request'), c.maxRequestFen && c.maxRequestFen !== '0' ? money(c.maxRequestFen) : ''],
  ]);
}

/* The upload of one document, with its progress. */
function s_uploadRow(appId, docType, onDone) {
  const file = new Field({ name: `documents.${docType}`, label: t('apply.doc_file', { type: docType }), type: 'file' });
  const bar = h('progress', { max: 100, value: 0, 'aria-label': t('apply.progress', { type: docType }) });
  const msg = h('span', { role: 'status', 'aria-live': 'polite' });
  const btn = h('button', {
    type: 'button', class: 'secondary',
    onclick: async () => {
      const files = file.value();
      file.clearError();
      if (!files || files.length === 0) {
        file.setError(t('apply.pick_file'));
        return;
      }
      const one = files[0];
      btn.disabled = true;
      msg.textContent = t('apply.uploading');
      try {
        await api.upload(`/api/v1/intake/applications/${encodeURIComponent(appId)}/documents`, one,
          { doc_type: docType, name: one.name }, (p) => { bar.value = Math.round(p * 100); });
        msg.textContent = t('apply.uploaded', { name: one.name });
        onDone();
      } catch (err) {
        msg.textContent = '';
        bar.value = 0;
        file.setError(err.detail || String(err), true);
      } finally {
        btn.disabled = false;
      }
    },
  }, t('apply.upload', { type: docType }));
  return h('div', { class: 'upload' }, file.el, h('div', { class: 'upload-row' }, btn, bar, msg));
}

export async function edit(page, ctx) {
  const id = ctx.params.id;
  const a = (await api.get(`/api/v1/intake/applications/${encodeURIComponent(id)}`)).application;
  const call = (await api.get(`/api/v1/intake/calls/${encodeURIComponent(a.callId)}`)).call;
  ctx.title(t('edit.title', { title: a.content.title }));
  page.append(heading(t('edit.title', { title: a.content.title }), t('edit.lead')));
  const st = a.applicantView && a.applicantView.status;
  if (st !== 'APPLICANT_DRAFT' && st !== 'APPLICANT_ACTION_REQUIRED') {
    page.append(notice(t('edit.not_editable')), h('p', null, link(`#/applications/${id}`, t('edit.back'))));
    return;
  }
  page.append(section(t('apply.call'), s_callFacts(call)));
  const callField = new Field({ name: 'call_id', label: t('field.call'), value: call.title, readonly: true });
  const f = new Form({
    label: t('edit.content'),
    fields: [callField, ...s_contentFields(a.kind, a.content, call)],
    submitLabel: t('edit.save'),
    fieldFor: s_fieldFor,
    onSubmit: async (v) => {
      await api.post(`/api/v1/intake/applications/${encodeURIComponent(id)}`, { content: s_content(a.kind, v) });
      f.status.textContent = t('edit.saved');
    },
    extraButtons: [[t('edit.submit'), async (v) => {
      await api.post(`/api/v1/intake/applications/${encodeURIComponent(id)}`, { content: s_content(a.kind, v) });
      await api.post(`/api/v1/intake/applications/${encodeURIComponent(id)}/submit`, {});
      ctx.go(`#/applications/${id}`);
    }, 'primary']],
  });
  const docs = h('div');
  const drawDocs = async () => {
    const cur = (await api.get(`/api/v1/intake/applications/${encodeURIComponent(id)}`)).application;
    clear(docs).append(table(t('edit.documents'), [
      [t('doc.type'), (d) => d.docType], [t('doc.name'), (d) => d.name], [t('doc.size'), (d) => bytes(d.size)],
      [t('doc.added'), (d) => dateTime(d.addedAtUs)],
      [t('doc.remove'), (d) => h('button', {
        type: 'button', class: 'danger', 'aria-label': t('doc.remove_named', { name: d.name }),
        onclick: async () => {
          try {
            await api.post(`/api/v1/intake/applications/${encodeURIComponent(id)}/documents/${encodeURIComponent(d.id)}/remove`, {});
            drawDocs();
          } catch (err) {
            f.showError(err);
          }
        },
      }, t('doc.remove'))],
    ], cur.documents || [], t('edit.no_documents')));
  };
  await drawDocs();
  const types = [...(call.requiredDocuments || [])];
  page.append(section(t('edit.documents'), h('p', { class: 'hint' }, t('edit.documents_lead')), docs,
    types.map((ty) => s_uploadRow(id, ty, drawDocs))));
  page.append(section(t('edit.content'), f.el));
}

export async function application(page, ctx) {
  const id = ctx.params.id;
  const a = (await api.get(`/api/v1/intake/applications/${encodeURIComponent(id)}`)).application;
  const c = a.content || {};
  const v = a.applicantView || {};
  ctx.title(c.title || t('apps.untitled'));
  const staff = ctx.kind === 'STAFF' || ctx.kind === 'ADMIN';
  page.append(heading(c.title || t('apps.untitled'), a.callTitle));
  const said = applicantSentence(v.message);
  page.append(h('p', { class: 'status-line' }, t('app.status'), t('common.colon'), applicantBadge(v.status), ' ',
    said.text ? h('span', { lang: said.lang, class: 'service-text' }, said.text) : null));
  if (!staff && (v.status === 'APPLICANT_DRAFT' || v.status === 'APPLICANT_ACTION_REQUIRED')) {
    page.append(h('p', null, link(`#/applications/${id}/edit`, t('app.edit'))));
  }
  if (staff) page.append(await s_staffActions(a, ctx));
  page.append(section(t('app.timeline'), timeline((v.timeline || []).map((e) => {
    const x = applicantSentence(e.message);
    return { at: e.atUs, title: te('ApplicantStatus', e.status), text: x.text, textLang: x.lang };
  }), t('app.timeline'))));
  page.append(section(t('app.content'), contentFacts(a)));
  page.append(section(t('edit.documents'), documentsTable(a)));
  if (staff && (a.history || []).length) {
    page.append(section(t('app.history'), table(t('app.history'), [
      [t('app.when'), (x) => dateTime(x.atUs)],
      [t('app.transition'), (x) => `${te('ApplicationStatus', x.fromStatus)} → ${te('ApplicationStatus', x.toStatus)}`],
      [t('app.by'), (x) => x.actorId], [t('field.reason'), (x) => x.reason || ''],
    ], a.history)));
  }
}

/* An application's content as facts: what the applicant filed (the
 * applicant, staff and the experts and agencies assigned to it read it). */
export function contentFacts(a) {
  const c = a.content || {};
  const fx = [
    [t('field.applicant'), `${a.applicantName} (${fmtUscc(a.applicantUscc)})`],
    [t('app.kind'), te('CallKind', a.kind)], [t('field.project_district'), districtName(c.district)],
    [t('field.summary'), c.summary],
    [t('field.requested'), c.requestedFen && c.requestedFen !== '0' ? money(c.requestedFen) : ''],
    [t('app.submitted'), dateTime(a.submittedAtUs)],
  ];
  if (c.cluster) {
    fx.push([t('field.cluster_name'), c.cluster.clusterName], [t('field.location'), c.cluster.location],
      [t('field.area_m2'), c.cluster.areaM2], [t('field.enterprise_count'), String(c.cluster.enterpriseCount)],
      [t('field.employee_count'), String(c.cluster.employeeCount)], [t('field.lead_operator'), c.cluster.leadOperator]);
  }
  if (c.talentBase) {
    fx.push([t('field.annual_capacity'), String(c.talentBase.annualCapacity)],
      [t('field.programme_name'), (c.talentBase.programmes || []).map((p) => `${p.name} (${p.capacity})`).join(', ')]);
  }
  if (c.project) {
    fx.push([t('apply.budget'), (c.project.budgetLines || []).map((l) => `${l.item} ${money(l.amountFen)}`).join('; ')]);
  }
  return facts(fx);
}

/* An application's documents, each a link to its download (intake decides
 * who may read it). */
export function documentsTable(a) {
  return table(t('edit.documents'), [
    [t('doc.type'), (d) => d.docType],
    [t('doc.name'), (d) => h('a', { href: `/api/v1/intake/applications/${encodeURIComponent(a.id)}/documents/${encodeURIComponent(d.id)}` }, d.name)],
    [t('doc.size'), (d) => bytes(d.size)], [t('doc.sha256'), (d) => h('span', { class: 'code' }, d.sha256.slice(0, 16))],
  ], a.documents || [], t('edit.no_documents'));
}

/* Staff's accept, return and reject of a submitted application. */
async function s_staffActions(a, ctx) {
  if (a.status !== 'SUBMITTED') return notice(t('queue.status_is', { status: te('ApplicationStatus', a.status) }));
  const path = `/api/v1/intake/applications/${encodeURIComponent(a.id)}`;
  const reason = new Field({ name: 'reason', label: t('queue.reason'), type: 'textarea', rows: 2, hint: t('queue.reason_hint') });
  const f = new Form({
    label: t('queue.decide'),
    fields: [reason],
    submitLabel: t('queue.accept'),
    onSubmit: async (v) => {
      await api.post(`${path}/accept`, { reason: v.reason.trim() });
      ctx.redraw();
    },
    extraButtons: [
      [t('queue.return'), async (v) => {
        await api.post(`${path}/return`, { reason: v.reason.trim() });
        ctx.redraw();
      }],
      [t('queue.reject'), async (v) => {
        await api.post(`${path}/reject`, { reason: v.reason.trim() });
        ctx.redraw();
      }, 'danger'],
    ],
  });
  return section(t('queue.decide'), f.el);
}

/* ---- reading lists ------------------------------------------------------------------ */

/* Reads a list the page shows; a service that cannot answer yet (the
 * gateway's 501 for a command whose messages are not described) becomes a
 * notice with the gateway's sentence instead of the whole page failing. */
export async function tryGet(path, query) {
  try {
    return { data: await api.get(path, query) };
  } catch (err) {
    if (err.status === 501 || err.status === 503) return { err };
    throw err;
  }
}
