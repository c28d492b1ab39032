// Special-fund awards (services/funding through the gateway): the grantee
// follows its award, its tranches and payments, and files its use-of-funds
// reports; staff confirm and sign awards, request the payment of a tranche
// whose condition holds, review the reports, schedule inspections and
// record their findings, suspend, resume or terminate an award, cancel a
// pending payment; finance approves payments, a second person approving
// those above the four-eyes limit; staff and finance record what was
// recovered of a clawback. Each of those last actions asks to be confirmed
// first (s_confirming), and each needs its reason (funding refuses it
// without, at the field). Who may do
// what is funding's rule (proto/ccip/funding.proto): the page offers the
// actions of the binding in force, and the service refuses the rest.
import { h, clear } from '../dom.js';
import { t, te } from '../i18n.js';
import * as api from '../api.js';
import { Field, Form } from '../form.js';
import { heading, section, table, facts, notice, link, badge } from '../ui.js';
import { dateTime, date, dateToUs, money, yuanToFen } from '../format.js';
import { tryGet } from './applicant.js';

const REPORT_LINES = 3; // spend lines offered by the form (the service takes 1..100)

const s_staff = (ctx) => ctx.kind === 'STAFF' || ctx.kind === 'ADMIN';
const s_finance = (ctx) => ctx.kind === 'FINANCE' || ctx.kind === 'ADMIN';
const s_path = (id) => `/api/v1/funding/awards/${encodeURIComponent(id)}`;
const s_money = (fen) => h('span', { class: 'money' }, money(fen || '0'));
const s_set = (us) => Boolean(us) && us !== '0'; // a time recorded (the JSON writes 0 as "0")

export function awardBadge(status) {
  const kind = { AWARD_COMMITTED: 'ok', AWARD_COMPLETED: 'ok', AWARD_SUSPENDED: 'warn', AWARD_TERMINATED: 'bad', AWARD_REJECTED: 'bad' }[status];
  return badge(te('AwardStatus', status || 'AWARD_STATUS_UNSPECIFIED'), kind);
}

/* The awards of the grantee (its own only: funding answers so) or of all. */
export async function awards(page, ctx) {
  ctx.title(t('awards.title'));
  page.append(heading(t('awards.title'), t('awards.lead')));
  const r = await tryGet('/api/v1/funding/awards');
  if (r.err) {
    page.append(notice(r.err.detail, 'warn'));
    return;
  }
  page.append(section(t('awards.title'), awardsTable(r.data.awards || [])));
}

export function awardsTable(rows) {
  return table(t('awards.title'), [
    [t('app.title_col'), (x) => link(`#/awards/${x.id}`, x.title || x.applicationId)],
    [t('field.applicant'), (x) => x.granteeName || ''],
    [t('awards.amount'), (x) => s_money(x.amountFen)],
    [t('payments.disbursed'), (x) => s_money(x.disbursedFen)],
    [t('app.status'), (x) => awardBadge(x.status)],
  ], rows, t('awards.none'));
}

/* "first approved by x at y", or what a pending payment still waits for. */
function s_approvals(p) {
  if (p.status !== 'PAYMENT_PENDING') {
    return [p.firstApprover ? t('payment.approved_by', { who: p.firstApprover, at: dateTime(p.firstApprovedAtUs) }) : '',
      p.secondApprover ? ` ${t('payment.approved_by', { who: p.secondApprover, at: dateTime(p.secondApprovedAtUs) })}` : ''];
  }
  if (!p.firstApprover) return p.needsSecondApproval ? t('payment.waits_two') : t('payment.waits_one');
  return [t('payment.approved_by', { who: p.firstApprover, at: dateTime(p.firstApprovedAtUs) }), ' ', badge(t('payment.waits_second'), 'warn')];
}

/* The approval of one pending payment (finance), as a small form. */
function s_approveForm(p, done) {
  const second = Boolean(p.firstApprover);
  const f = new Form({
    label: t('payment.approve_label', { n: p.trancheNumber }),
    fields: [new Field({ name: 'payment_ref', label: t('payment.ref'), hint: t('payment.ref_hint') })],
    submitLabel: second ? t('payment.approve_second') : t('payment.approve'),
    onSubmit: async (v) => {
      const r = await api.post(`/api/v1/funding/payments/${encodeURIComponent(p.id)}/approve`, { paymentRef: v.payment_ref.trim() });
      done(r.payment);
    },
  });
  f.el.classList.add('inline');
  return f.el;
}

/* An action that asks before it acts: the first press shows what it will
 * do with a button that does it and one that does not; only the first of
 * those sends. getForm() is the Form the action belongs to (made after the
 * action), whose fields show the service's refusal as for any form. */
function s_confirming(getForm, question, yesLabel, send) {
  return async (v) => {
    const f = getForm();
    const old = f.el.querySelector('.confirm');
    if (old) old.remove();
    const text = question(v);
    const yes = h('button', { type: 'button', class: 'danger' }, yesLabel);
    const no = h('button', { type: 'button', class: 'secondary' }, t('confirm.no'));
    const box = h('div', { class: 'confirm', role: 'group', 'aria-label': t('confirm.label') },
      h('p', null, text), h('div', { class: 'form-actions' }, yes, no));
    yes.addEventListener('click', () => {
      box.remove();
      f.run(send, yes);
    });
    no.addEventListener('click', () => {
      box.remove();
      f.buttons[0].focus();
    });
    f.el.querySelector('.form-actions').before(box);
    yes.focus();
  };
}

/* Staff's cancellation of a pending payment (finance's too): the tranche
 * can be requested again. */
function s_cancelForm(p, ctx) {
  let f = null;
  f = new Form({
    label: t('payment.cancel_label', { n: p.trancheNumber }),
    fields: [new Field({ name: 'cancel.reason', label: t('payment.cancel_reason'), type: 'textarea', rows: 2, required: true })],
    extraButtons: [[t('payment.cancel'), s_confirming(() => f, () => t('payment.cancel_ask', { n: p.trancheNumber, amount: money(p.amountFen || '0') }),
      t('payment.cancel_yes'), async (v) => {
        await api.post(`/api/v1/funding/payments/${encodeURIComponent(p.id)}/cancel`, { reason: v['cancel.reason'].trim() });
        ctx.redraw();
      }), 'danger']],
  });
  f.el.classList.add('inline');
  return f.el;
}

/* Staff's suspension, resumption and termination of a confirmed award,
 * each with its reason (recorded with the award's status and its event). */
function s_manageForm(a, ctx) {
  if (a.status !== 'AWARD_COMMITTED' && a.status !== 'AWARD_SUSPENDED') return null;
  const path = s_path(a.id);
  const send = (verb) => async (v) => {
    await api.post(`${path}/${verb}`, { reason: v['award.reason'].trim() });
    ctx.redraw();
  };
  let f = null;
  const buttons = [];
  if (a.status === 'AWARD_COMMITTED') {
    buttons.push([t('award.suspend'), s_confirming(() => f, () => t('award.suspend_ask', { title: a.title }), t('award.suspend_yes'), send('suspend')), 'secondary']);
  } else {
    buttons.push([t('award.resume'), s_confirming(() => f, () => t('award.resume_ask', { title: a.title }), t('award.resume_yes'), send('resume')), 'primary']);
  }
  buttons.push([t('award.terminate'), s_confirming(() => f, () => t('award.terminate_ask', { title: a.title, amount: money(a.amountFen || '0'), paid: money(a.disbursedFen || '0') }),
    t('award.terminate_yes'), send('terminate')), 'danger']);
  f = new Form({
    label: t('award.manage'),
    fields: [new Field({ name: 'award.reason', label: t('award.manage_reason'), type: 'textarea', rows: 2, required: true, hint: t('award.manage_reason_hint') })],
    extraButtons: buttons,
  });
  return section(t('award.manage'), h('p', { class: 'hint' }, a.status === 'AWARD_COMMITTED' ? t('award.manage_lead') : t('award.manage_lead_suspended')), f.el);
}

/* The clawbacks ordered on the award (an inspection that found misuse) and
 * what was recovered of each. */
function s_clawbacksTable(a) {
  return table(t('award.clawbacks'), [
    [t('clawback.ordered'), (c) => `${dateTime(c.orderedAtUs)} ${c.orderedBy || ''}`],
    [t('awards.amount'), (c) => s_money(c.amountFen)],
    [t('clawback.recovered'), (c) => s_money(c.recoveredFen)],
    [t('app.status'), (c) => te('ClawbackStatus', c.status)],
    [t('field.reason'), (c) => c.reason || ''],
    [t('clawback.recoveries'), (c) => (c.recoveries || []).map((r) => `${date(r.atUs)} ${money(r.amountFen || '0')} ${r.reference}`).join('；')],
  ], a.clawbacks || [], t('award.no_clawbacks'));
}

/* Staff's or finance's record of money recovered on an open clawback. */
function s_recoverForm(c, ctx) {
  const owed = BigInt(c.amountFen || '0') - BigInt(c.recoveredFen || '0');
  let f = null;
  f = new Form({
    label: t('clawback.recover_label', { amount: money(String(owed)) }),
    fields: [
      new Field({ name: 'amount_fen', label: t('clawback.amount'), inputmode: 'decimal', required: true, hint: t('clawback.amount_hint', { owed: money(String(owed)) }), check: (v) => (yuanToFen(v) === null ? { rule: 'amount', params: {} } : null) }),
      new Field({ name: 'reference', label: t('clawback.reference'), required: true, hint: t('clawback.reference_hint') }),
    ],
    extraButtons: [[t('clawback.recover'), s_confirming(() => f, (v) => t('clawback.recover_ask', { amount: money(yuanToFen(v.amount_fen) || '0'), reference: v.reference.trim() }),
      t('clawback.recover_yes'), async (v) => {
        await api.post(`/api/v1/funding/clawbacks/${encodeURIComponent(c.id)}/recover`, { amountFen: yuanToFen(v.amount_fen) || '0', reference: v.reference.trim() });
        ctx.redraw();
      }), 'primary']],
  });
  return section(t('clawback.recover_label', { amount: money(String(owed)) }), f.el);
}

function s_paymentsTable(a, ctx, redraw) {
  return table(t('award.payments'), [
    [t('award.tranche'), (p) => String(p.trancheNumber)],
    [t('awards.amount'), (p) => s_money(p.amountFen)],
    [t('app.status'), (p) => te('PaymentStatus', p.status)],
    [t('payment.requested'), (p) => `${dateTime(p.requestedAtUs)} ${p.requestedBy || ''}`],
    [t('payment.approvals'), (p) => s_approvals(p)],
    [t('payment.ref'), (p) => p.paymentRef || p.cancelReason || ''],
    ...(s_finance(ctx) || s_staff(ctx) ? [[t('payment.action'), (p) => (p.status === 'PAYMENT_PENDING'
      ? [s_finance(ctx) ? s_approveForm(p, redraw) : null, s_cancelForm(p, ctx)] : '')]] : []),
  ], a.payments || [], t('award.no_payments'));
}

function s_tranchesTable(a, ctx) {
  const mayRequest = s_staff(ctx) && a.status === 'AWARD_COMMITTED' && !a.ipHold;
  return table(t('award.tranches'), [
    [t('award.tranche'), (x) => `${x.number} (${x.percent}%)${x.label ? ` ${x.label}` : ''}`],
    [t('awards.amount'), (x) => s_money(x.amountFen)],
    [t('award.condition'), (x) => [te('Condition', x.condition), ' ', x.conditionMet ? badge(t('award.condition_met'), 'ok') : badge(t('award.condition_open'))]],
    [t('app.status'), (x) => te('TrancheStatus', x.status)],
    [t('award.paid_at'), (x) => dateTime(x.paidAtUs)],
    ...(mayRequest ? [[t('payment.action'), (x) => (x.status === 'TRANCHE_PLANNED' && x.conditionMet ? h('button', {
      type: 'button', class: 'secondary',
      onclick: async (e) => {
        e.target.disabled = true;
        try {
          await api.post(`${s_path(a.id)}/payments`, { trancheNumber: x.number });
          ctx.redraw();
        } catch (err) {
          e.target.disabled = false;
          e.target.after(notice(err.detail, 'error'));
        }
      },
    }, t('award.request_payment', { n: x.number })) : '')]] : []),
  ], a.tranches || [], t('award.no_tranches'));
}

function s_reportsTable(a) {
  return table(t('award.reports'), [
    [t('usereport.kind'), (r) => te('funding.ReportKind', r.kind)],
    [t('usereport.period'), (r) => r.period],
    [t('usereport.spent'), (r) => s_money(r.spentFen)],
    [t('app.status'), (r) => te('funding.ReportStatus', r.status)],
    [t('usereport.submitted_at'), (r) => dateTime(r.submittedAtUs)],
    [t('usereport.review_note'), (r) => r.reviewNote || ''],
  ], a.reports || [], t('award.no_reports'));
}

async function s_sha256(file) {
  const d = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, '0')).join('');
}

/* The grantee's use-of-funds report: a new one, or the draft or returned
 * one it edits (saved, then submitted). */
function s_reportForm(a, ctx) {
  const open = (a.reports || []).filter((r) => r.status === 'REPORT_DRAFT' || r.status === 'REPORT_RETURNED').pop() || null;
  const r = open || {};
  const fields = [
    new Field({ name: 'kind', label: t('usereport.kind'), type: 'select', required: true, value: r.kind || '', options: [['', t('common.choose')], ...['INTERIM', 'FINAL'].map((k) => [k, te('funding.ReportKind', k)])] }),
    new Field({ name: 'period', label: t('usereport.period'), required: true, hint: t('usereport.period_hint'), value: r.period || '' }),
  ];
  for (let i = 0; i < REPORT_LINES; i += 1) {
    const l = (r.lines || [])[i] || {};
    fields.push(
      new Field({ name: `lines[${i}].item`, label: t('usereport.line_item', { n: i + 1 }), value: l.item || '' }),
      new Field({ name: `lines[${i}].spent_fen`, label: t('usereport.line_spent', { n: i + 1 }), hint: t('apply.yuan_hint'), inputmode: 'decimal', value: l.spentFen ? money(l.spentFen).replace('¥', '') : '', check: (v) => (yuanToFen(v) === null ? { rule: 'amount', params: {} } : null) }));
  }
  fields.push(
    new Field({ name: 'progress', label: t('usereport.progress'), type: 'textarea', rows: 4, required: true, value: r.progress || '' }),
    new Field({ name: 'documents', label: t('report.attachments'), type: 'file', multiple: true, hint: t('usereport.documents_hint') }));
  let reportId = r.id || '';
  const save = async (v) => {
    const lines = [];
    for (let i = 0; i < REPORT_LINES; i += 1) {
      const item = v[`lines[${i}].item`].trim();
      if (item) lines.push({ item, spentFen: yuanToFen(v[`lines[${i}].spent_fen`]) || '0' });
    }
    const docs = [...(r.documents || [])];
    for (const file of Array.from(v.documents || [])) docs.push({ name: file.name, sha256: await s_sha256(file) });
    const saved = await api.post(`${s_path(a.id)}/reports`, {
      reportId, kind: v.kind || 'REPORT_KIND_UNSPECIFIED', period: v.period.trim(), lines, progress: v.progress.trim(), documents: docs,
    });
    reportId = saved.report.id;
    return saved.report;
  };
  const f = new Form({
    label: t('usereport.use_form'),
    fields,
    submitLabel: t('usereport.save'),
    onSubmit: async (v) => {
      await save(v);
      f.status.textContent = t('usereport.saved');
    },
    extraButtons: [[t('usereport.submit_use'), async (v) => {
      const saved = await save(v);
      await api.post(`/api/v1/funding/reports/${encodeURIComponent(saved.id)}/submit`, {});
      ctx.redraw();
    }, 'primary']],
  });
  return section(open ? t('usereport.edit_use') : t('usereport.new_use'),
    open && open.status === 'REPORT_RETURNED' ? notice(t('usereport.returned', { note: open.reviewNote || '' }), 'warn') : null,
    h('p', { class: 'hint' }, t('usereport.use_lead')), f.el);
}

/* Staff's review of a submitted report. */
function s_reviewForm(rep, ctx) {
  const path = `/api/v1/funding/reports/${encodeURIComponent(rep.id)}`;
  const f = new Form({
    label: t('usereport.review', { period: rep.period }),
    fields: [new Field({ name: 'note', label: t('usereport.review_note'), type: 'textarea', rows: 2, hint: t('usereport.review_hint') })],
    submitLabel: t('usereport.accept'),
    onSubmit: async (v) => {
      await api.post(`${path}/accept`, { note: v.note.trim() });
      ctx.redraw();
    },
    extraButtons: [[t('usereport.return'), async (v) => {
      await api.post(`${path}/return`, { note: v.note.trim() });
      ctx.redraw();
    }]],
  });
  return section(t('usereport.review', { period: rep.period }), facts([
    [t('usereport.kind'), te('funding.ReportKind', rep.kind)], [t('usereport.spent'), s_money(rep.spentFen)],
    [t('usereport.lines'), (rep.lines || []).map((l) => `${l.item} ${money(l.spentFen || '0')}`).join('；')],
    [t('usereport.progress'), rep.progress], [t('report.attachments'), (rep.documents || []).map((d) => d.name).join(', ')],
  ]), f.el);
}

function s_inspectionsTable(a) {
  return table(t('award.inspections'), [
    [t('inspection.kind'), (x) => te('InspectionKind', x.kind)],
    [t('inspection.date'), (x) => date(x.scheduledForUs)],
    [t('inspection.inspector'), (x) => x.inspector],
    [t('inspection.finding'), (x) => (x.finding && x.finding !== 'FINDING_UNSPECIFIED' ? te('Finding', x.finding) : t('inspection.not_recorded'))],
    [t('inspection.notes'), (x) => [x.notes || '', s_set(x.correctByUs) ? ` ${t('inspection.correct_by_at', { date: date(x.correctByUs) })}` : '',
      x.misusedFen && x.misusedFen !== '0' ? [' ', s_money(x.misusedFen)] : '']],
  ], a.inspections || [], t('award.no_inspections'));
}

/* Staff schedule an inspection of a confirmed award and record what one
 * found (ISSUES: a date to correct them by; MISUSE: the amount, which
 * suspends the award and orders its clawback). */
function s_inspectionForms(a, ctx) {
  const out = [];
  for (const x of (a.inspections || []).filter((i) => !i.finding || i.finding === 'FINDING_UNSPECIFIED')) {
    const f = new Form({
      label: t('inspection.record', { kind: te('InspectionKind', x.kind), date: date(x.scheduledForUs) }),
      fields: [
        new Field({ name: 'finding', label: t('inspection.finding'), type: 'select', required: true, options: [['', t('common.choose')], ...['COMPLIANT', 'ISSUES', 'MISUSE'].map((v) => [v, te('Finding', v)])] }),
        new Field({ name: 'notes', label: t('inspection.notes'), type: 'textarea', rows: 3, required: true }),
        new Field({ name: 'correct_by_us', label: t('inspection.correct_by'), type: 'date', hint: t('inspection.correct_by_hint') }),
        new Field({ name: 'misused_fen', label: t('inspection.misused'), inputmode: 'decimal', hint: t('inspection.misused_hint'), check: (v) => (yuanToFen(v) === null ? { rule: 'amount', params: {} } : null) }),
      ],
      submitLabel: t('inspection.record_submit'),
      onSubmit: async (v) => {
        await api.post(`/api/v1/funding/inspections/${encodeURIComponent(x.id)}`, {
          finding: v.finding || 'FINDING_UNSPECIFIED', notes: v.notes.trim(),
          correctByUs: dateToUs(v.correct_by_us) || '0', misusedFen: yuanToFen(v.misused_fen) || '0',
        });
        ctx.redraw();
      },
    });
    out.push(section(t('inspection.record', { kind: te('InspectionKind', x.kind), date: date(x.scheduledForUs) }), f.el));
  }
  if (a.status === 'AWARD_COMMITTED' || a.status === 'AWARD_SUSPENDED' || a.status === 'AWARD_COMPLETED') {
    const f = new Form({
      label: t('inspection.schedule'),
      fields: [
        new Field({ name: 'kind', label: t('inspection.kind'), type: 'select', required: true, options: [['', t('common.choose')], ...['MIDTERM', 'COMPLETION', 'AD_HOC'].map((v) => [v, te('InspectionKind', v)])] }),
        new Field({ name: 'scheduled_for_us', label: t('inspection.date'), type: 'date', required: true }),
        new Field({ name: 'inspector', label: t('inspection.inspector'), required: true, hint: t('inspection.inspector_hint') }),
      ],
      submitLabel: t('inspection.schedule'),
      onSubmit: async (v) => {
        await api.post(`${s_path(a.id)}/inspections`, {
          kind: v.kind || 'INSPECTION_KIND_UNSPECIFIED', scheduledForUs: dateToUs(v.scheduled_for_us) || '0', inspector: v.inspector.trim(),
        });
        ctx.redraw();
      },
    });
    out.push(section(t('inspection.schedule'), f.el));
  }
  return out;
}

/* Staff's confirmation, rejection and signing of an award. */
function s_awardActions(a, ctx) {
  const path = s_path(a.id);
  if (a.status === 'AWARD_PROPOSED') {
    const f = new Form({
      label: t('award.confirm'),
      fields: [
        new Field({ name: 'amount_fen', label: t('award.confirm_amount'), hint: t('award.confirm_amount_hint', { amount: money(a.amountFen || '0') }), inputmode: 'decimal' }),
        new Field({ name: 'reason', label: t('award.note'), type: 'textarea', rows: 2 }),
      ],
      submitLabel: t('award.confirm'),
      onSubmit: async (v) => {
        await api.post(`${path}/confirm`, { amountFen: yuanToFen(v.amount_fen) || '0', note: v.reason.trim() });
        ctx.redraw();
      },
      extraButtons: [[t('award.reject'), async (v) => {
        await api.post(`${path}/reject`, { reason: v.reason.trim() });
        ctx.redraw();
      }, 'danger']],
    });
    return section(t('award.confirm'), f.el);
  }
  if (a.status === 'AWARD_COMMITTED' && !s_set(a.signedAtUs)) {
    const f = new Form({
      label: t('award.sign'),
      fields: [new Field({ name: 'reason', label: t('award.note'), type: 'textarea', rows: 2 })],
      submitLabel: t('award.sign'),
      onSubmit: async (v) => {
        await api.post(`${path}/sign`, { reason: v.reason.trim() });
        ctx.redraw();
      },
    });
    return section(t('award.sign'), h('p', { class: 'hint' }, t('award.sign_lead')), f.el);
  }
  return null;
}

export async function award(page, ctx) {
  const a = (await api.get(s_path(ctx.params.id))).award;
  ctx.title(a.title || t('awards.title'));
  page.append(heading(a.title || t('awards.title'), a.granteeName));
  page.append(h('p', { class: 'status-line' }, t('app.status'), t('common.colon'), awardBadge(a.status), ' ',
    a.statusReason ? h('span', { class: 'service-text' }, a.statusReason) : null));
  if (a.ipHold) page.append(notice(t('award.ip_hold', { why: a.ipHold }), 'warn'));
  page.append(section(t('award.facts'), facts([
    [t('awards.amount'), s_money(a.amountFen)], [t('field.requested'), s_money(a.requestedFen)],
    [t('payments.disbursed'), s_money(a.disbursedFen)],
    [t('award.programme'), `${a.programmeCode} · ${a.year}${a.category ? ` · ${a.category}` : ''}`],
    [t('award.confirmed'), s_set(a.confirmedAtUs) ? `${dateTime(a.confirmedAtUs)} ${a.confirmedBy || ''}` : ''],
    [t('award.signed'), s_set(a.signedAtUs) ? `${dateTime(a.signedAtUs)} ${a.signedBy || ''}` : t('common.no')],
    [t('award.application'), ctx.kind === 'FINANCE' ? a.applicationId : link(`#/applications/${a.applicationId}`, t('award.application_link'))],
  ])));
  if (s_staff(ctx)) {
    const act = s_awardActions(a, ctx);
    if (act) page.append(act);
  }
  page.append(section(t('award.tranches'), s_tranchesTable(a, ctx)));
  page.append(section(t('award.payments'), s_paymentsTable(a, ctx, () => ctx.redraw())));
  page.append(section(t('award.reports'), s_reportsTable(a)));
  if (ctx.kind === 'ORGANISATION' && (a.status === 'AWARD_COMMITTED' || a.status === 'AWARD_SUSPENDED')) {
    // One report at a time: while one waits for the center, nothing to file.
    const reps = a.reports || [];
    const waiting = reps.find((r) => r.status === 'REPORT_SUBMITTED');
    if (waiting) page.append(notice(t('usereport.waiting', { period: waiting.period }), 'info'));
    else if (!reps.some((r) => r.kind === 'FINAL' && r.status === 'REPORT_ACCEPTED')) page.append(s_reportForm(a, ctx));
  }
  if (s_staff(ctx)) {
    for (const rep of (a.reports || []).filter((x) => x.status === 'REPORT_SUBMITTED')) page.append(s_reviewForm(rep, ctx));
  }
  page.append(section(t('award.inspections'), s_inspectionsTable(a)));
  if (s_staff(ctx)) page.append(...s_inspectionForms(a, ctx));
  if ((a.clawbacks || []).length || s_staff(ctx) || s_finance(ctx)) page.append(section(t('award.clawbacks'), s_clawbacksTable(a)));
  if (s_staff(ctx) || s_finance(ctx)) {
    for (const c of (a.clawbacks || []).filter((x) => x.status === 'CLAWBACK_OPEN')) page.append(s_recoverForm(c, ctx));
  }
  if (s_staff(ctx)) {
    const m = s_manageForm(a, ctx);
    if (m) page.append(m);
  }
}

/* Finance's (and staff's) view of the payments waiting for approval across
 * the awards, the second approval of those above the four-eyes limit among
 * them; then every award. funding lists payments only inside an award, so
 * the awards that can have a pending one are read one by one. */
export async function payments(page, ctx) {
  ctx.title(t('payments.title'));
  page.append(heading(t('payments.title'), t('payments.lead')));
  const r = await tryGet('/api/v1/funding/awards');
  if (r.err) {
    page.append(notice(r.err.detail, 'warn'));
    return;
  }
  const all = r.data.awards || [];
  const live = all.filter((a) => (a.tranches || []).some((x) => x.status === 'TRANCHE_REQUESTED'));
  const full = await Promise.all(live.map(async (a) => (await api.get(s_path(a.id))).award));
  const pending = [];
  for (const a of full) for (const p of a.payments || []) if (p.status === 'PAYMENT_PENDING') pending.push({ a, p });
  const out = h('div');
  const draw = () => clear(out).append(table(t('payments.pending'), [
    [t('app.title_col'), ({ a }) => link(`#/awards/${a.id}`, a.title)],
    [t('field.applicant'), ({ a }) => a.granteeName],
    [t('award.tranche'), ({ p }) => String(p.trancheNumber)],
    [t('awards.amount'), ({ p }) => s_money(p.amountFen)],
    [t('payment.requested'), ({ p }) => `${dateTime(p.requestedAtUs)} ${p.requestedBy || ''}`],
    [t('payment.approvals'), ({ p }) => s_approvals(p)],
    ...(s_finance(ctx) ? [[t('payment.action'), (row) => (row.p.status === 'PAYMENT_PENDING' ? s_approveForm(row.p, (np) => {
      row.p = np;
      draw();
    }) : '')]] : []),
  ], pending, t('payments.none_pending')));
  draw();
  page.append(section(t('payments.pending'), s_finance(ctx) ? h('p', { class: 'hint' }, t('payments.approve_lead')) : null, out));
  page.append(section(t('payments.awards'), awardsTable(all)));
}
