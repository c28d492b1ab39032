// The center's staff: the intake queue, verification of organisations,
// calls, evaluation cases (assignment with the conflict check shown,
// submission to the office), invitations and disputes (payments: funding.js).
import { h, clear } from '../dom.js';
import { t, te } from '../i18n.js';
import * as api from '../api.js';
import { Field, Form } from '../form.js';
import { heading, section, table, facts, notice, link, badge } from '../ui.js';
import { usccCheck } from '../validate.js';
import { districtName, dateTime, dateToUs, yuanToFen, score, uscc as fmtUscc } from '../format.js';
import { caseFacts, caseHistory, criteriaTitles, reviewsTable, investigationsTable, aggregateFacts } from './office.js';

const KINDS = ['CLUSTER_IDENTIFICATION', 'TALENT_BASE_IDENTIFICATION', 'SPECIAL_FUND_PROJECT'];

export async function queue(page, ctx) {
  ctx.title(t('queue.title'));
  const r = await api.get('/api/v1/intake/applications', { status: 'SUBMITTED' });
  page.append(heading(t('queue.title'), t('queue.lead')), section(t('queue.title'), table(t('queue.title'), [
    [t('app.title_col'), (a) => link(`#/applications/${a.id}`, a.title)],
    [t('field.applicant'), (a) => `${a.applicantName} (${fmtUscc(a.applicantUscc)})`],
    [t('app.kind'), (a) => te('CallKind', a.kind)],
    [t('app.updated'), (a) => dateTime(a.updatedAtUs)],
  ], r.applications || [], t('queue.none'))));
}

export async function orgs(page, ctx) {
  ctx.title(t('orgs.title'));
  page.append(heading(t('orgs.title'), t('orgs.lead')));
  const out = h('div');
  const find = new Form({
    label: t('orgs.find'),
    submitLabel: t('orgs.find'),
    fields: [new Field({ name: 'uscc', label: t('field.uscc'), required: true, maxlength: 18, check: usccCheck, value: ctx.query.uscc || '' })],
    onSubmit: async (v) => {
      const code = v.uscc.trim();
      const o = (await api.get(`/api/v1/intake/organisations/${encodeURIComponent(code)}`)).organisation;
      clear(out).append(section(o.name, facts([
        [t('field.uscc'), h('span', { class: 'code' }, fmtUscc(o.uscc))], [t('field.org_type'), te('OrganisationType', o.type)],
        [t('field.district'), districtName(o.districtCode)], [t('field.legal_rep'), o.legalRepresentative],
        [t('field.contact_name'), o.contactName], [t('field.contact_phone'), o.contactPhone],
        [t('field.contact_email'), o.contactEmail], [t('field.address'), o.address],
        [t('orgs.registered'), `${dateTime(o.registeredAtUs)} ${o.registeredBy}`],
        [t('orgs.verified'), o.verified ? `${dateTime(o.verifiedAtUs)} ${o.verifiedBy}` : t('common.no')],
      ]), o.verified ? notice(t('orgs.already_verified'), 'ok') : s_verifyForm(o, out)));
    },
  });
  page.append(section(t('orgs.find'), find.el), out);
}

function s_verifyForm(o, out) {
  const f = new Form({
    label: t('orgs.verify'),
    submitLabel: t('orgs.verify'),
    fields: [new Field({ name: 'note', label: t('orgs.note'), type: 'textarea', rows: 2, required: true })],
    onSubmit: async (v) => {
      await api.post(`/api/v1/intake/organisations/${encodeURIComponent(o.uscc)}/verify`, { note: v.note.trim() });
      clear(out).append(notice(t('orgs.verified_done', { name: o.name }), 'ok'));
    },
  });
  return f.el;
}

export async function calls(page, ctx) {
  ctx.title(t('calls.title'));
  const r = await api.get('/api/v1/intake/calls');
  page.append(heading(t('calls.title'), t('calls.lead')));
  const closeFor = (c) => {
    if (!c.accepting) return badge(c.closedAtUs !== '0' ? t('calls.closed') : t('calls.not_open'));
    const reason = new Field({ name: 'reason', label: t('calls.close_reason', { title: c.title }) });
    const f = new Form({
      label: t('calls.close'),
      submitLabel: t('calls.close'),
      fields: [reason],
      onSubmit: async (v) => {
        await api.post(`/api/v1/intake/calls/${encodeURIComponent(c.id)}/close`, { reason: v.reason.trim() });
        ctx.redraw();
      },
    });
    f.el.classList.add('inline');
    return f.el;
  };
  page.append(section(t('calls.list'), table(t('calls.list'), [
    [t('field.call'), (c) => link(`#/calls/${c.id}`, c.title)],
    [t('app.kind'), (c) => te('CallKind', c.kind)],
    [t('call.closes'), (c) => dateTime(c.closesAtUs)],
    [t('calls.state'), closeFor],
  ], r.calls || [], t('calls.none'))));
  const f = new Form({
    label: t('calls.open'),
    submitLabel: t('calls.open'),
    fields: [
      new Field({ name: 'kind', label: t('app.kind'), type: 'select', required: true, options: [['', t('common.choose')], ...KINDS.map((k) => [k, te('CallKind', k)])] }),
      new Field({ name: 'year', label: t('call.year'), type: 'number', required: true, value: new Date().getFullYear() }),
      new Field({ name: 'title', label: t('calls.call_title'), required: true }),
      new Field({ name: 'opens_at_us', label: t('call.opens'), type: 'date', required: true, hint: t('calls.date_hint') }),
      new Field({ name: 'closes_at_us', label: t('call.closes'), type: 'date', required: true, hint: t('calls.date_hint') }),
      new Field({ name: 'required_documents', label: t('call.required_docs'), hint: t('calls.docs_hint') }),
      new Field({ name: 'fund_programme_code', label: t('calls.programme'), hint: t('calls.funds_only') }),
      new Field({ name: 'max_request_fen', label: t('call.max_request'), hint: t('apply.yuan_hint'), inputmode: 'decimal' }),
    ],
    onSubmit: async (v) => {
      const r2 = await api.post('/api/v1/intake/calls', {
        kind: v.kind || 'CALL_KIND_UNSPECIFIED', year: Number.parseInt(v.year, 10) || 0, title: v.title.trim(),
        opensAtUs: dateToUs(v.opens_at_us) || '0', closesAtUs: dateToUs(v.closes_at_us) || '0',
        requiredDocuments: v.required_documents.split(/[,，\s]+/).filter(Boolean),
        fundProgrammeCode: v.fund_programme_code.trim(), maxRequestFen: yuanToFen(v.max_request_fen) || '0',
      });
      ctx.go(`#/calls/${r2.call.id}`);
    },
  });
  page.append(section(t('calls.open'), f.el));
}

export async function cases(page, ctx) {
  ctx.title(t('cases.title'));
  const r = await api.get('/api/v1/evaluation/cases', ctx.query.status ? { status: ctx.query.status } : undefined);
  page.append(heading(t('cases.title'), t('cases.lead')), section(t('cases.title'), table(t('cases.title'), [
    [t('app.title_col'), (c) => link(`#/staff/cases/${c.id}`, c.title)],
    [t('field.applicant'), (c) => c.applicantName],
    [t('app.kind'), (c) => te('CallKind', c.kind)],
    [t('app.status'), (c) => te('CaseStatus', c.status)],
    [t('case.score'), (c) => (c.scoreCenti ? score(c.scoreCenti) : '—')],
    [t('case.opened'), (c) => dateTime(c.openedAtUs)],
  ], r.cases || [], t('cases.none'))));
}

function s_candidates(reply) {
  const rows = [];
  if (reply.agency) rows.push(reply.agency);
  rows.push(...(reply.experts || []));
  return h('div', null,
    table(t('assign.chosen'), [
      [t('assign.kind'), (c) => te('SubjectKind', c.kind)], [t('assign.id'), (c) => c.id], [t('assign.name'), (c) => c.name],
      [t('assign.load'), (c) => `${c.load} / ${c.capacity}`],
      [t('assign.conflicts'), (c) => (c.conflicts || []).map((x) => te('ConflictType', x)).join(', ') || '—'],
      [t('assign.picked'), (c) => (c.picked ? t('common.yes') : '')],
    ], rows, t('assign.none_chosen')),
    (reply.skipped || []).length ? table(t('assign.skipped'), [
      [t('assign.kind'), (c) => te('SubjectKind', c.kind)], [t('assign.id'), (c) => c.id],
      [t('assign.conflicts'), (c) => (c.conflicts || []).map((x) => te('ConflictType', x)).join(', ') || '—'],
      [t('assign.reason'), (c) => c.reason],
    ], reply.skipped) : null,
    reply.expertsMissing ? notice(t('assign.missing', { n: reply.expertsMissing }), 'warn') : null,
    reply.agencyMissing ? notice(t('assign.agency_missing'), 'warn') : null);
}

/* A seat of the current round is empty: no live investigation, or fewer
 * live reviews than the panel's size. */
function s_needsAssignment(c) {
  if (c.status === 'CASE_OPEN') return true;
  if (c.status !== 'CASE_IN_EVALUATION') return false;
  const live = (x) => x.round === c.round && ['TASK_ASSIGNED', 'TASK_ACCEPTED', 'TASK_DONE'].includes(x.status);
  return !(c.investigations || []).some(live) || (c.reviews || []).filter(live).length < (c.panelSize || 1);
}

export async function case_(page, ctx) {
  const id = ctx.params.id;
  const c = (await api.get(`/api/v1/evaluation/cases/${encodeURIComponent(id)}`)).case;
  ctx.title(c.title);
  page.append(heading(c.title, `${c.applicantName} · ${te('CaseStatus', c.status)}`));
  page.append(section(t('case.facts'), caseFacts(c)));
  const path = `/api/v1/evaluation/cases/${encodeURIComponent(id)}`;
  if (s_needsAssignment(c)) {
    const out = h('div');
    const picks = (v) => {
      const p = [];
      if (v.pick_agency.trim()) p.push({ kind: 'AGENCY', id: v.pick_agency.trim(), overrideReason: v.override_reason.trim() });
      for (const e of v.pick_experts.split(/[,，\s]+/).filter(Boolean)) p.push({ kind: 'EXPERT', id: e, overrideReason: v.override_reason.trim() });
      return p;
    };
    const f = new Form({
      label: t('assign.title'),
      fields: [
        new Field({ name: 'pick_agency', label: t('assign.pick_agency'), hint: t('assign.pick_hint') }),
        new Field({ name: 'pick_experts', label: t('assign.pick_experts'), hint: t('assign.pick_hint') }),
        new Field({ name: 'override_reason', label: t('assign.override'), hint: t('assign.override_hint') }),
      ],
      submitLabel: t('assign.propose'),
      onSubmit: async (v) => {
        const r = await api.post(`${path}/assignment/propose`, { picks: picks(v) });
        clear(out).append(h('h3', null, t('assign.proposal')), s_candidates(r));
      },
      extraButtons: [[t('assign.make'), async (v) => {
        const r = await api.post(`${path}/assignment`, { picks: picks(v) });
        clear(out).append(h('h3', null, t('assign.made')), s_candidates(r));
        ctx.redraw();
      }, 'primary']],
    });
    page.append(section(t('assign.title'), h('p', { class: 'hint' }, t('assign.lead')), f.el, out));
  }
  page.append(section(t('case.investigations'), investigationsTable(c)));
  page.append(section(t('case.reviews'), reviewsTable(c, await criteriaTitles(c))));
  if (c.aggregate && c.aggregate.reviews) page.append(section(t('case.aggregate'), aggregateFacts(c.aggregate)));
  if (c.status === 'CASE_IN_EVALUATION') {
    const f = new Form({
      label: t('case.submit'),
      submitLabel: t('case.submit'),
      fields: [new Field({ name: 'note', label: t('case.note'), type: 'textarea', rows: 2 })],
      onSubmit: async (v) => {
        await api.post(`${path}/submit`, { note: v.note.trim() });
        ctx.redraw();
      },
    });
    page.append(section(t('case.submit'), h('p', { class: 'hint' }, t('case.submit_lead')), f.el));
  }
  page.append(section(t('case.history'), caseHistory(c)));
}
export { case_ as case };

const BINDING_KINDS = ['ORGANISATION', 'EXPERT', 'AGENCY', 'DISTRICT', 'STAFF', 'FINANCE', 'OFFICE', 'ANALYST', 'ADMIN'];

export async function invitations(page, ctx) {
  ctx.title(t('invites.title'));
  page.append(heading(t('invites.title'), t('invites.lead')));
  const out = h('div');
  const f = new Form({
    label: t('invites.title'),
    submitLabel: t('invites.create'),
    fields: [
      new Field({ name: 'email', label: t('field.email'), type: 'email', required: true }),
      new Field({ name: 'kind', label: t('binding.kind'), type: 'select', required: true, options: [['', t('common.choose')], ...BINDING_KINDS.map((k) => [k, te('BindingKind', k)])] }),
      new Field({ name: 'subject', label: t('binding.subject'), hint: t('invites.subject_hint') }),
      new Field({ name: 'note', label: t('invites.note') }),
    ],
    onSubmit: async (v) => {
      const r = await api.post('/api/v1/gateway/invitations', {
        email: v.email.trim(), kind: v.kind || 'BINDING_KIND_UNSPECIFIED', subject: v.subject.trim(), note: v.note.trim(),
      });
      const url = `${location.origin}/#/invitations/${r.token}`;
      clear(out).append(notice(t('invites.done', { until: dateTime(r.expiresAtUs) }), 'ok'),
        h('p', null, h('a', { href: `#/invitations/${r.token}`, class: 'code', id: 'invitation-link' }, url)));
    },
  });
  page.append(section(t('invites.create'), f.el, out));
}

const DISPUTE_STATUSES = ['FILED', 'ANSWERED', 'UPHELD', 'DISMISSED'];

/* A dispute's status (ip writes it as text) in the page's language. */
function s_disputeStatus(d) {
  const st = {
    FILED: t('disputes.status_filed'), ANSWERED: t('disputes.status_answered'),
    UPHELD: t('disputes.status_upheld'), DISMISSED: t('disputes.status_dismissed'),
  }[d.status] || d.status;
  const lifted = d.liftedAtUs && d.liftedAtUs !== '0';
  return badge(lifted ? `${st} · ${t('disputes.lifted')}` : st, { FILED: 'warn', ANSWERED: 'warn', UPHELD: lifted ? '' : 'bad' }[d.status] || '');
}

/* The disputes ip holds, newest first, by status (ip.dispute.list.v1). */
export async function disputes(page, ctx) {
  ctx.title(t('disputes.title'));
  page.append(heading(t('disputes.title'), t('disputes.lead')));
  const status = ctx.query.status || '';
  const r = await api.get('/api/v1/ip/disputes', status ? { status } : undefined);
  const f = new Form({
    label: t('disputes.filter'),
    submitLabel: t('disputes.filter'),
    fields: [new Field({ name: 'status', label: t('app.status'), type: 'select', value: status, options: [['', t('disputes.any')], ...DISPUTE_STATUSES.map((x) => [x, s_disputeStatus({ status: x }).textContent])] })],
    onSubmit: async (v) => ctx.go(v.status ? `#/staff/disputes?status=${encodeURIComponent(v.status)}` : '#/staff/disputes'),
  });
  f.el.classList.add('inline');
  page.append(section(t('disputes.title'), f.el, table(t('disputes.title'), [
    [t('disputes.filed'), (d) => link(`#/staff/disputes/${d.id}`, dateTime(d.filedAtUs))],
    [t('disputes.kind'), (d) => te('DisputeKind', d.kind)],
    [t('disputes.complainant'), (d) => d.complainant],
    [t('disputes.work'), (d) => link(`#/works/${d.workId}`, d.workId.slice(0, 8))],
    [t('app.status'), (d) => s_disputeStatus(d)],
    [t('disputes.answer_by'), (d) => (d.status === 'FILED' ? dateTime(d.answerByUs) : '')],
  ], r.disputes || [], t('disputes.none'))));
}

/* One dispute: the complaint, the answer, and staff's ruling (uphold:
 * the work is frozen; dismiss), then the lifting of an upheld one's freeze. */
export async function dispute(page, ctx) {
  const path = `/api/v1/ip/disputes/${encodeURIComponent(ctx.params.id)}`;
  const d = (await api.get(path)).dispute;
  ctx.title(t('disputes.one'));
  page.append(heading(t('disputes.one'), d.id), h('p', { class: 'status-line' }, t('app.status'), t('common.colon'), s_disputeStatus(d)));
  const ev = (xs) => (xs || []).map((e) => `${e.description} (${(e.sha256 || '').slice(0, 12)})`).join('；');
  page.append(section(t('disputes.complaint'), facts([
    [t('disputes.work'), link(`#/works/${d.workId}`, d.workId)], [t('disputes.complainant'), d.complainant],
    [t('disputes.kind'), te('DisputeKind', d.kind)], [t('disputes.filed'), dateTime(d.filedAtUs)],
    [t('disputes.statement'), d.statement], [t('disputes.evidence'), ev(d.evidence)],
    [t('disputes.answer_by'), dateTime(d.answerByUs)],
  ])));
  if (d.answer) {
    page.append(section(t('disputes.answer'), facts([
      [t('disputes.answered_by'), `${d.answeredBy} ${dateTime(d.answeredAtUs)}`], [t('disputes.answer'), d.answer],
      [t('disputes.evidence'), ev(d.answerEvidence)],
    ])));
  }
  if (d.ruledBy) {
    page.append(section(t('disputes.ruling'), facts([
      [t('disputes.ruled_by'), `${d.ruledBy} ${dateTime(d.ruledAtUs)}`], [t('disputes.reasons'), d.reasons],
      [t('disputes.lifted'), d.liftedAtUs && d.liftedAtUs !== '0' ? `${d.liftedBy} ${dateTime(d.liftedAtUs)}：${d.liftReasons}` : ''],
    ])));
  }
  if (d.status === 'FILED' || d.status === 'ANSWERED') {
    const rule = (ruling) => async (v) => {
      await api.post(`${path}/rule`, { ruling, reasons: v.reasons.trim() });
      ctx.redraw();
    };
    const f = new Form({
      label: t('disputes.rule'),
      fields: [new Field({ name: 'reasons', label: t('disputes.reasons'), type: 'textarea', rows: 3, required: true })],
      submitLabel: t('disputes.dismiss'),
      onSubmit: rule('DISMISS'),
      extraButtons: [[t('disputes.uphold'), rule('UPHOLD'), 'danger']],
    });
    page.append(section(t('disputes.rule'), h('p', { class: 'hint' }, t('disputes.rule_lead')), f.el));
  } else if (d.status === 'UPHELD' && !(d.liftedAtUs && d.liftedAtUs !== '0')) {
    const f = new Form({
      label: t('disputes.lift'),
      fields: [new Field({ name: 'reasons', label: t('disputes.reasons'), type: 'textarea', rows: 3, required: true })],
      submitLabel: t('disputes.lift'),
      onSubmit: async (v) => {
        await api.post(`${path}/lift`, { reasons: v.reasons.trim() });
        ctx.redraw();
      },
    });
    page.append(section(t('disputes.lift'), h('p', { class: 'hint' }, t('disputes.lift_lead')), f.el));
  }
}
