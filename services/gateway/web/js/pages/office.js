// The leading-group office: cases awaiting decision, the whole dossier
// (application, on-site report, scores and their aggregate, the
// recommendation), the decision with reasons or a return to an earlier
// step; designations. The dossier's pieces are shared with staff's case page.
import { h } from '../dom.js';
import { t, te } from '../i18n.js';
import * as api from '../api.js';
import { Field, Form } from '../form.js';
import { heading, section, table, facts, notice, link, timeline } from '../ui.js';
import { districtName, dateTime, date, money, yuanToFen, score, uscc as fmtUscc } from '../format.js';

/* The case log's actions (evaluation_case_log) in the language in force;
 * an action not listed is shown as evaluation wrote it. */
const ACTIONS = {
  opened: () => t('caselog.opened'),
  assigned: () => t('caselog.assigned'),
  override: () => t('caselog.override'),
  declined: () => t('caselog.declined'),
  reassigned: () => t('caselog.reassigned'),
  'declared no conflict': () => t('caselog.no_conflict'),
  'declared a conflict': () => t('caselog.conflict'),
  'review submitted': () => t('caselog.review_submitted'),
  'reviews complete': () => t('caselog.reviews_complete'),
  reported: () => t('caselog.reported'),
  'submitted to the office': () => t('caselog.submitted'),
  decided: () => t('caselog.decided'),
  designated: () => t('caselog.designated'),
};

/* The case's history as a timeline: the action, who, and evaluation's
 * detail (a person's note, or a service's English sentence). */
export function caseHistory(c) {
  return timeline((c.history || []).map((e) => ({
    at: e.atUs, title: `${ACTIONS[e.action] ? ACTIONS[e.action]() : e.action} · ${e.actorId}`, text: e.detail,
    textLang: /[\u3400-\u9fff]/.test(e.detail || '') ? null : 'en',
  })), t('case.history'));
}

export function caseFacts(c) {
  return facts([
    [t('field.applicant'), `${c.applicantName} (${fmtUscc(c.applicantUscc)})`],
    [t('field.call'), c.callTitle], [t('app.kind'), te('CallKind', c.kind)], [t('call.year'), String(c.year)],
    [t('field.project_district'), districtName(c.districtCode)], [t('field.summary'), c.summary],
    [t('field.requested'), c.requestedFen && c.requestedFen !== '0' ? money(c.requestedFen) : ''],
    [t('case.round'), String(c.round)], [t('case.opened'), dateTime(c.openedAtUs)],
    [t('case.fields'), (c.fields || []).join(', ')],
  ]);
}

export function investigationsTable(c) {
  return table(t('case.investigations'), [
    [t('case.agency'), (i) => `${i.agencyName} (${i.agencyId})`],
    [t('app.status'), (i) => te('evaluation.TaskStatus', i.status)],
    [t('case.due'), (i) => date(i.dueAtUs)],
    [t('report.visit'), (i) => date(i.visitDateUs)],
    [t('report.verdict'), (i) => (i.verdict && i.verdict !== 'VERDICT_UNSPECIFIED' ? te('Verdict', i.verdict) : '—')],
    [t('report.findings'), (i) => i.findings || ''],
    [t('report.attachments'), (i) => (i.documents || []).map((d) => `${d.name} (${d.sha256.slice(0, 12)})`).join(', ')],
  ], c.investigations || [], t('case.no_investigations'));
}

/* The criteria's titles of the score sheet the case was scored on, by
 * code ({} when there is none to read: the codes are shown then). */
export async function criteriaTitles(c) {
  if (!c.sheetVersion) return {};
  try {
    const s = (await api.get(`/api/v1/evaluation/sheets/${encodeURIComponent(c.kind)}`, { version: c.sheetVersion })).sheet;
    return Object.fromEntries((s.criteria || []).map((x) => [x.code, x.title]));
  } catch (err) {
    if (err.status === 404) return {};
    throw err;
  }
}

export function reviewsTable(c, titles = {}) {
  return table(t('case.reviews'), [
    [t('case.expert'), (r) => `${r.expertName} (${r.expertId})`],
    [t('app.status'), (r) => te('evaluation.TaskStatus', r.status)],
    [t('case.score'), (r) => (r.submittedAtUs !== '0' ? score(r.scoreCenti) : '—')],
    [t('review.scores'), (r) => (r.scores || []).map((s) => `${titles[s.criterion] || s.criterion} ${s.score}`).join(t('common.list_sep'))],
    [t('review.comment'), (r) => r.comment || ''],
  ], c.reviews || [], t('case.no_reviews'));
}

export function aggregateFacts(a) {
  return facts([
    [t('agg.score'), score(a.scoreCenti)], [t('agg.reviews'), String(a.reviews)],
    [t('agg.dropped'), String(a.dropped)], [t('agg.spread'), score(a.spreadCenti)],
    [t('agg.threshold'), score(a.passThresholdCenti)],
    [t('report.verdict'), te('Verdict', a.verdict)],
    [t('agg.recommendation'), te('Recommendation', a.recommendation)],
  ]);
}

export async function cases(page, ctx) {
  ctx.title(t('office.title'));
  const r = await api.get('/api/v1/evaluation/cases', { status: 'CASE_WITH_OFFICE' });
  page.append(heading(t('office.title'), t('office.lead')), section(t('office.waiting'), table(t('office.waiting'), [
    [t('app.title_col'), (c) => link(`#/office/cases/${c.id}`, c.title)],
    [t('field.applicant'), (c) => c.applicantName],
    [t('app.kind'), (c) => te('CallKind', c.kind)],
    [t('case.score'), (c) => score(c.scoreCenti)],
    [t('case.opened'), (c) => dateTime(c.openedAtUs)],
  ], r.cases || [], t('office.none'))));
}

export async function dossier(page, ctx) {
  const id = ctx.params.id;
  const c = (await api.get(`/api/v1/evaluation/cases/${encodeURIComponent(id)}`)).case;
  ctx.title(t('dossier.title', { title: c.title }));
  page.append(heading(t('dossier.title', { title: c.title }), `${c.applicantName} · ${te('CaseStatus', c.status)}`));
  page.append(section(t('dossier.application'), caseFacts(c)));
  page.append(section(t('case.investigations'), investigationsTable(c)));
  page.append(section(t('case.reviews'), reviewsTable(c, await criteriaTitles(c))));
  if (c.aggregate && c.aggregate.reviews) page.append(section(t('case.aggregate'), aggregateFacts(c.aggregate)));
  if ((c.decisions || []).length) {
    page.append(section(t('dossier.decisions'), table(t('dossier.decisions'), [
      [t('app.when'), (d) => dateTime(d.decidedAtUs)], [t('dossier.outcome'), (d) => te('Outcome', d.outcome)],
      [t('dossier.reasons'), (d) => d.reasons], [t('app.by'), (d) => d.decidedBy],
    ], c.decisions)));
  }
  if (c.status === 'CASE_WITH_OFFICE') {
    const funds = c.kind === 'SPECIAL_FUND_PROJECT';
    const f = new Form({
      label: t('dossier.decide'),
      submitLabel: t('dossier.decide_submit'),
      fields: [
        new Field({ name: 'outcome', label: t('dossier.outcome'), type: 'select', required: true, options: [['', t('common.choose')], ...['DECISION_APPROVED', 'DECISION_DECLINED', 'DECISION_RETURNED'].map((o) => [o, te('Outcome', o)])] }),
        new Field({ name: 'reasons', label: t('dossier.reasons'), type: 'textarea', rows: 3, required: true }),
        funds ? new Field({ name: 'recommended_fen', label: t('dossier.recommended'), hint: t('apply.yuan_hint'), inputmode: 'decimal' }) : null,
        new Field({ name: 'return_to', label: t('dossier.return_to'), type: 'select', hint: t('dossier.return_hint'), options: [['', t('common.none')], ...['RETURN_TO_INVESTIGATION', 'RETURN_TO_REVIEW', 'RETURN_TO_BOTH'].map((o) => [o, te('ReturnTo', o)])] }),
      ].filter(Boolean),
      onSubmit: async (v) => {
        await api.post(`/api/v1/evaluation/cases/${encodeURIComponent(id)}/decide`, {
          outcome: v.outcome || 'OUTCOME_UNSPECIFIED', reasons: v.reasons.trim(),
          recommendedFen: funds ? (yuanToFen(v.recommended_fen) || '0') : '0',
          returnTo: v.return_to || 'RETURN_TO_UNSPECIFIED',
        });
        ctx.redraw();
      },
    });
    page.append(section(t('dossier.decide'), f.el));
  } else {
    page.append(notice(t('dossier.not_waiting', { status: te('CaseStatus', c.status) })));
  }
  page.append(section(t('case.history'), caseHistory(c)));
}

export async function designations(page, ctx) {
  ctx.title(t('designations.title'));
  const r = await api.get('/api/v1/evaluation/designations');
  page.append(heading(t('designations.title'), t('designations.lead')), section(t('designations.title'), table(t('designations.title'), [
    [t('designations.certificate'), (d) => h('span', { class: 'code' }, d.certificateNo)],
    [t('designations.name'), (d) => d.name], [t('field.applicant'), (d) => d.holderName],
    [t('field.district'), (d) => districtName(d.districtCode)],
    [t('designations.valid'), (d) => `${date(d.validFromUs)} – ${date(d.validUntilUs)}`],
    [t('app.status'), (d) => te('DesignationStatus', d.status)],
  ], r.designations || [], t('designations.none'))));
}
