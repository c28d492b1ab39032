// An expert's assigned reviews: the case and the application's facts as the
// task gives them, the conflict declaration, then the score sheet and its
// criteria.
import { h } from '../dom.js';
import { t, te } from '../i18n.js';
import * as api from '../api.js';
import { Field, Form } from '../form.js';
import { heading, section, table, facts, notice, link } from '../ui.js';
import { districtName, date } from '../format.js';
import { contentFacts, documentsTable } from './applicant.js';

export async function tasks(page, ctx) {
  ctx.title(t('expert.title'));
  const r = await api.get('/api/v1/evaluation/tasks');
  page.append(heading(t('expert.title'), t('expert.lead')), section(t('expert.tasks'), taskTable(r.tasks || [], '#/expert/cases/')));
}

export function taskTable(rows, base) {
  return table(t('expert.tasks'), [
    [t('app.title_col'), (x) => link(`${base}${x.caseId}`, x.caseTitle)],
    [t('field.applicant'), (x) => x.applicantName],
    [t('app.kind'), (x) => te('CallKind', x.callKind)],
    [t('app.status'), (x) => te('evaluation.TaskStatus', x.status)],
    [t('case.due'), (x) => [date(x.dueAtUs), x.overdue ? ` ${t('expert.overdue')}` : '']],
  ], rows, t('expert.none'));
}

/* The task of this case among the caller's, or a 404-like error. */
export async function taskOf(caseId) {
  const r = await api.get('/api/v1/evaluation/tasks');
  const task = (r.tasks || []).find((x) => x.caseId === caseId);
  if (!task) {
    const e = new api.ApiError(404, t('expert.no_task'), 'NOT_FOUND');
    throw e;
  }
  return task;
}

/* The application's content and documents, read from intake, which lets an
 * assignee read them while it is assigned: an agency from its assignment,
 * an expert once it declared no conflict, until the case is decided (the
 * readers rule, intake_readers.h). Intake learns of an assignment from
 * evaluation's event a moment after evaluation answered, so a refusal
 * while the task says it may read is asked again for a few seconds. */
export async function applicationSection(task) {
  const title = t('expert.application');
  if (task.kind === 'EXPERT' && task.status === 'TASK_ASSIGNED') {
    return section(title, notice(t('expert.documents_after_declaring'), 'info'));
  }
  const open = task.status === 'TASK_ASSIGNED' || task.status === 'TASK_ACCEPTED';
  const path = `/api/v1/intake/applications/${encodeURIComponent(task.applicationId)}`;
  for (let tries = open ? 10 : 1; ; tries--) {
    try {
      const a = (await api.get(path)).application;
      return section(title, contentFacts(a), h('h3', null, t('edit.documents')), documentsTable(a));
    } catch (err) {
      if (err.status !== 403) throw err;
      if (tries <= 1) return section(title, notice(t('expert.documents_not_readable'), 'info'));
    }
    await new Promise((ok) => setTimeout(ok, 500));
  }
}

export function taskFacts(task) {
  return facts([
    [t('field.applicant'), task.applicantName], [t('app.kind'), te('CallKind', task.callKind)],
    [t('field.project_district'), districtName(task.districtCode)], [t('field.summary'), task.summary],
    [t('case.due'), date(task.dueAtUs)], [t('app.status'), te('evaluation.TaskStatus', task.status)],
  ]);
}

export async function review(page, ctx) {
  const task = await taskOf(ctx.params.id);
  ctx.title(t('review.title', { title: task.caseTitle }));
  page.append(heading(t('review.title', { title: task.caseTitle }), t('review.lead')));
  page.append(section(t('review.case'), taskFacts(task)), await applicationSection(task));
  const path = `/api/v1/evaluation/cases/${encodeURIComponent(task.caseId)}`;
  if (task.status === 'TASK_ASSIGNED') {
    const f = new Form({
      label: t('review.declare'),
      fields: [new Field({ name: 'statement', label: t('review.statement'), type: 'textarea', rows: 2, hint: t('review.statement_hint') })],
      submitLabel: t('review.no_conflict'),
      onSubmit: async () => {
        await api.post(`${path}/review/declare`, { conflict: false });
        ctx.redraw();
      },
      extraButtons: [[t('review.conflict'), async (v) => {
        await api.post(`${path}/review/declare`, { conflict: true, statement: v.statement.trim() });
        ctx.go('#/expert');
      }, 'danger']],
    });
    page.append(section(t('review.declare'), h('p', null, t('review.declare_lead')), f.el));
    return;
  }
  if (task.status !== 'TASK_ACCEPTED') {
    page.append(notice(t('review.done', { status: te('evaluation.TaskStatus', task.status) }), 'ok'));
    return;
  }
  const sheet = (await api.get(`/api/v1/evaluation/sheets/${encodeURIComponent(task.callKind)}`)).sheet;
  const fields = [];
  for (const c of sheet.criteria || []) {
    fields.push(new Field({
      name: `scores.${c.code}.score`, label: t('review.criterion_score', { title: c.title, max: c.maxScore }),
      hint: t('review.weight', { weight: c.weight }), type: 'number', min: 0, required: true,
      check: (v) => (/^\d+$/.test(v) && Number(v) <= c.maxScore ? null : { rule: 'too_long', params: { max: c.maxScore } }),
    }));
    fields.push(new Field({ name: `scores.${c.code}.comment`, label: t('review.criterion_comment', { title: c.title }), type: 'textarea', rows: 2, required: true }));
  }
  fields.push(new Field({ name: 'comment', label: t('review.comment'), type: 'textarea', rows: 3 }));
  const f = new Form({
    label: t('review.sheet'),
    fields,
    submitLabel: t('review.submit'),
    onSubmit: async (v) => {
      await api.post(path + '/review', {
        sheetVersion: sheet.version,
        scores: (sheet.criteria || []).map((c) => ({
          criterion: c.code, score: Number.parseInt(v[`scores.${c.code}.score`], 10) || 0, comment: v[`scores.${c.code}.comment`].trim(),
        })),
        comment: v.comment.trim(),
      });
      ctx.go('#/expert');
    },
  });
  page.append(section(t('review.sheet'), h('p', { class: 'hint' }, t('review.sheet_lead', { version: sheet.version, threshold: (sheet.passThresholdCenti / 100).toFixed(2) })), f.el));
}
