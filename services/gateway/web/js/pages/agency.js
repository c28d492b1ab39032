// An intermediary agency's investigations: the case and the application's
// facts as the task gives them, and the on-site report with its attachments
// (each named by its SHA-256, computed here).
import { h } from '../dom.js';
import { t, te } from '../i18n.js';
import * as api from '../api.js';
import { Field, Form } from '../form.js';
import { heading, section, notice } from '../ui.js';
import { dateToUs, today } from '../format.js';
import { taskTable, taskOf, taskFacts, applicationSection } from './expert.js';

export async function tasks(page, ctx) {
  ctx.title(t('agency.title'));
  const r = await api.get('/api/v1/evaluation/tasks');
  page.append(heading(t('agency.title'), t('agency.lead')), section(t('expert.tasks'), taskTable(r.tasks || [], '#/agency/cases/')));
}

async function s_sha256(file) {
  const d = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function report(page, ctx) {
  const task = await taskOf(ctx.params.id);
  ctx.title(t('report.title', { title: task.caseTitle }));
  page.append(heading(t('report.title', { title: task.caseTitle }), t('report.lead')));
  page.append(section(t('review.case'), taskFacts(task)), await applicationSection(task));
  if (task.status !== 'TASK_ASSIGNED' && task.status !== 'TASK_ACCEPTED') {
    page.append(notice(t('review.done', { status: te('evaluation.TaskStatus', task.status) }), 'ok'));
    return;
  }
  const f = new Form({
    label: t('report.form'),
    fields: [
      new Field({ name: 'visit_date_us', label: t('report.visit'), type: 'date', required: true, value: today(), max: today(), hint: t('report.visit_hint') }),
      new Field({ name: 'findings', label: t('report.findings'), type: 'textarea', rows: 6, required: true }),
      new Field({ name: 'verdict', label: t('report.verdict'), type: 'select', required: true, options: [['', t('common.choose')], ...['VERDICT_MEETS', 'VERDICT_MEETS_WITH_CONDITIONS', 'VERDICT_DOES_NOT_MEET'].map((v) => [v, te('Verdict', v)])] }),
      new Field({ name: 'documents', label: t('report.attachments'), type: 'file', multiple: true, hint: t('report.attachments_hint') }),
    ],
    submitLabel: t('report.submit'),
    onSubmit: async (v) => {
      const docs = [];
      for (const file of Array.from(v.documents || [])) {
        docs.push({ name: file.name, sha256: await s_sha256(file), mediaType: file.type || 'application/octet-stream' });
      }
      await api.post(`/api/v1/evaluation/cases/${encodeURIComponent(task.caseId)}/investigation/report`, {
        visitDateUs: dateToUs(v.visit_date_us) || '0', findings: v.findings.trim(),
        verdict: v.verdict || 'VERDICT_UNSPECIFIED', documents: docs,
      });
      ctx.go('#/agency');
    },
  });
  page.append(section(t('report.form'), h('p', { class: 'hint' }, t('report.form_lead')), f.el));
}
