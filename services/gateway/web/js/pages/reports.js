// The quarterly statistical reports of the designated clusters and talent
// bases (the stats service): the operating organisation fills in and
// submits its report with the catalogue's indicators, checked as typed and
// with the service's findings shown at their indicators; the district's
// statistics office reviews it, the center accepts it, analysts read it.
import { h } from '../dom.js';
import { t, te } from '../i18n.js';
import * as api from '../api.js';
import { Field, Form } from '../form.js';
import { heading, section, table, facts, notice, link, badge, timeline } from '../ui.js';
import { districtName, dateTime, money } from '../format.js';

/* The current quarter in Beijing time, "2027Q1". */
export function thisQuarter(now = Date.now()) {
  const d = new Date(now + 8 * 3600 * 1000);
  return `${d.getUTCFullYear()}Q${Math.floor(d.getUTCMonth() / 3) + 1}`;
}

/* The catalogue's indicators by code, in the language in force; an
 * indicator a later catalogue adds shows the service's own name. */
const INDICATORS = {
  enterprises: () => t('indicator.enterprises'),
  employees: () => t('indicator.employees'),
  operating_revenue: () => t('indicator.operating_revenue'),
  total_profit: () => t('indicator.total_profit'),
  taxes_paid: () => t('indicator.taxes_paid'),
  fixed_asset_investment: () => t('indicator.fixed_asset_investment'),
  new_ip_registrations: () => t('indicator.new_ip_registrations'),
  export_value: () => t('indicator.export_value'),
  floor_area: () => t('indicator.floor_area'),
  occupancy_rate: () => t('indicator.occupancy_rate'),
  trainees: () => t('indicator.trainees'),
};

export function indicatorName(code, fallback) {
  return INDICATORS[code] ? INDICATORS[code]() : (fallback || code);
}

/* A value of `unit` as people read it. */
export function valueText(unit, v) {
  const n = BigInt(v || 0);
  if (unit === 'FEN') return money(n);
  if (unit === 'PERCENT') return `${(Number(n) / 100).toFixed(2)}%`;
  if (unit === 'SQUARE_METRES') return `${n.toString()} m²`;
  return n.toString();
}

/* What a person types -> the stored integer as a string, or null. FEN is
 * yuan with at most two decimals (negative only where allowed), PERCENT a
 * percentage with at most two decimals, the others whole numbers. */
export function parseValue(unit, text, allowNegative) {
  const s = String(text || '').trim().replace(/[,，]/g, '').replace(/^¥/, '').replace(/%$/, '');
  const m = /^(-?)(\d{1,13})(?:\.(\d{1,2}))?$/.exec(s);
  if (!m || (m[1] && !allowNegative)) return null;
  if (unit === 'FEN' || unit === 'PERCENT') {
    const v = BigInt(m[2]) * 100n + BigInt((m[3] || '').padEnd(2, '0'));
    if (unit === 'PERCENT' && v > 10000n) return null;
    return (m[1] ? -v : v).toString();
  }
  if (m[3]) return null;
  return (m[1] ? -BigInt(m[2]) : BigInt(m[2])).toString();
}

/* The typed form of a stored value (the inverse of parseValue). */
function s_typed(unit, v) {
  if (v === undefined || v === null) return '';
  const n = BigInt(v);
  if (unit !== 'FEN' && unit !== 'PERCENT') return n.toString();
  const a = n < 0n ? -n : n;
  return `${n < 0n ? '-' : ''}${a / 100n}.${(a % 100n).toString().padStart(2, '0')}`;
}

function s_unitHint(ind) {
  return {
    FEN: () => t('sreport.unit_fen'), PERCENT: () => t('sreport.unit_percent'),
    SQUARE_METRES: () => t('sreport.unit_m2'), COUNT: () => t('sreport.unit_count'),
  }[ind.unit]();
}

/* A finding of the service's validation in the language in force: the
 * rules stats names itself, else the service's own sentence. */
function s_finding(f, names) {
  const p = { indicator: names[f.indicator] || f.indicator };
  const known = {
    compulsory: () => t('finding.compulsory', p),
    negative: () => t('finding.negative', p),
    out_of_range: () => t('finding.out_of_range', p),
    change_qoq: () => t('finding.change_qoq', p),
    change_yoy: () => t('finding.change_yoy', p),
    profit_within_revenue: () => t('finding.profit_within_revenue', p),
    exports_within_revenue: () => t('finding.exports_within_revenue', p),
  }[f.rule];
  return known ? known() : h('span', { lang: 'en' }, f.message);
}

export function reportBadge(status) {
  const kind = { ACCEPTED: 'ok', DISTRICT_APPROVED: 'ok', RETURNED: 'warn' }[status];
  return badge(te('stats.ReportStatus', status || 'REPORT_STATUS_UNSPECIFIED'), kind);
}

/* ---- the operator's reports ---------------------------------------------------------- */

export async function clusterReports(page, ctx) {
  ctx.title(t('creports.title'));
  const quarter = thisQuarter();
  page.append(heading(t('creports.title'), t('creports.lead')));
  const [roster, reports] = await Promise.all([
    api.get('/api/v1/stats/roster', { quarter }), api.get('/api/v1/stats/reports')]);
  const entries = roster.entries || [];
  const mine = (reports.reports || []);
  const current = (e) => mine.find((r) => r.rosterId === e.id && r.quarter === quarter);
  page.append(section(t('creports.due', { quarter }), table(t('creports.due', { quarter }), [
    [t('creports.entry'), (e) => e.name], [t('field.district'), (e) => districtName(e.districtCode)],
    [t('designations.certificate'), (e) => h('span', { class: 'code' }, e.certificateNo || e.id)],
    [t('app.status'), (e) => (current(e) ? reportBadge(current(e).status) : t('creports.not_started'))],
    [t('creports.action'), (e) => {
      const open = !current(e) || ['DRAFT', 'RETURNED'].includes(current(e).status);
      return link(`#/cluster-reports/${encodeURIComponent(e.id)}/${quarter}`,
        open ? t('creports.fill', { quarter }) : t('creports.view', { quarter }));
    }],
  ], entries, t('creports.no_entries'))));
  page.append(section(t('creports.all'), table(t('creports.all'), [
    [t('creports.quarter'), (x) => link(`#/cluster-reports/${encodeURIComponent(x.rosterId)}/${x.quarter}`, x.quarter)],
    [t('creports.entry'), (x) => x.rosterName],
    [t('app.status'), (x) => reportBadge(x.status)],
    [t('creports.submitted'), (x) => dateTime(x.firstSubmittedAtUs)],
  ], mine, t('creports.none'))));
}

/* The report of one roster entry for one quarter (null when none yet). */
async function s_reportOf(rosterId, quarter) {
  const l = await api.get('/api/v1/stats/reports', { roster_id: rosterId, quarter });
  const s = (l.reports || [])[0];
  return s ? api.get(`/api/v1/stats/reports/${encodeURIComponent(s.id)}`) : null;
}

function s_valuesTable(report, indicators) {
  const byCode = Object.fromEntries((report.values || []).map((v) => [v.code, v]));
  return table(t('sreport.values'), [
    [t('analysis.indicator'), (i) => indicatorName(i.code, i.name)],
    [t('analysis.value'), (i) => (byCode[i.code] ? h('span', { class: 'money' }, valueText(i.unit, byCode[i.code].value)) : '—')],
    [t('sreport.explanation'), (i) => (byCode[i.code] && byCode[i.code].explanation) || ''],
  ], indicators);
}

function s_history(report) {
  return timeline((report.history || []).map((x) => ({
    at: x.atUs, title: `${te('stats.ReportStatus', x.toStatus)} · ${x.actorId}`, text: x.reason || '',
  })), t('sreport.history'));
}

export async function clusterReport(page, ctx) {
  const { rosterId, quarter } = ctx.params;
  const roster = await api.get('/api/v1/stats/roster', { quarter });
  const entry = (roster.entries || []).find((e) => e.id === rosterId);
  if (!entry) throw new api.ApiError(404, t('sreport.not_on_roster', { quarter }), 'NOT_FOUND');
  const [cat, existing] = await Promise.all([
    api.get('/api/v1/stats/catalogue', { quarter }), s_reportOf(rosterId, quarter)]);
  const indicators = (cat.catalogue.indicators || []).filter((i) => (i.kinds || []).includes(entry.kind));
  const names = Object.fromEntries(indicators.map((i) => [i.code, indicatorName(i.code, i.name)]));
  const title = t('sreport.title', { name: entry.name, quarter });
  ctx.title(title);
  page.append(heading(title, t('sreport.lead', { version: cat.catalogue.version })));
  const report = existing ? existing.report : null;
  if (report) {
    page.append(h('p', { class: 'status-line' }, t('app.status'), t('common.colon'), reportBadge(report.status)));
    if (report.status === 'RETURNED' && report.returnReason) page.append(notice(t('sreport.returned', { reason: report.returnReason }), 'warn'));
  }
  if (report && !['DRAFT', 'RETURNED'].includes(report.status)) {
    page.append(section(t('sreport.values'), s_valuesTable(report, indicators)), section(t('sreport.history'), s_history(report)));
    return;
  }
  const values = Object.fromEntries(((report && report.values) || []).map((v) => [v.code, v]));
  const fields = [];
  for (const i of indicators) {
    fields.push(new Field({
      name: `values.${i.code}`, label: names[i.code], required: i.compulsory, inputmode: 'decimal',
      hint: s_unitHint(i), value: values[i.code] ? s_typed(i.unit, values[i.code].value) : '',
      check: (v) => (parseValue(i.unit, v, i.allowNegative) === null ? { rule: `value_${i.unit === 'FEN' || i.unit === 'PERCENT' ? i.unit.toLowerCase() : 'whole'}`, params: {} } : null),
    }));
    fields.push(new Field({ name: `explanations.${i.code}`, label: t('sreport.explain', { indicator: names[i.code] }), type: 'textarea', rows: 2, value: values[i.code] ? values[i.code].explanation || '' : '' }));
  }
  const note = new Field({ name: 'note', label: t('sreport.note'), type: 'textarea', rows: 2, value: (report && report.note) || '' });
  const body = (v) => {
    const out = { rosterId, quarter, values: [], remove: [], note: v.note.trim() };
    for (const i of indicators) {
      const typed = String(v[`values.${i.code}`] || '').trim();
      const x = typed === '' ? null : parseValue(i.unit, typed, i.allowNegative);
      if (x !== null) out.values.push({ code: i.code, unit: i.unit, value: x, explanation: v[`explanations.${i.code}`].trim() });
      else if (typed === '' && values[i.code]) out.remove.push(i.code);
    }
    return out;
  };
  let f = null;
  /* Shows the findings at their indicators; true when one blocks. */
  const showFindings = (findings) => {
    let blocking = false;
    let first = null;
    for (const x of findings || []) {
      if (x.importance === 'WARNING' && x.explained) continue;
      blocking = true;
      const field = f.field(x.importance === 'WARNING' ? `explanations.${x.indicator}` : `values.${x.indicator}`) || f.field(`values.${x.indicator}`);
      const text = s_finding(x, names);
      if (field) {
        field.setError(typeof text === 'string' ? text : text.textContent);
        first = first || field;
      } else {
        f.showAlert(text.textContent || text, t('sreport.finding'));
      }
    }
    if (first) first.input.focus();
    return blocking;
  };
  f = new Form({
    label: title,
    fields: [...fields, note],
    submitLabel: t('sreport.save'),
    onSubmit: async (v) => {
      const r = await api.post('/api/v1/stats/reports', body(v));
      showFindings(r.findings);
      f.status.textContent = t('sreport.saved', { at: dateTime(String(BigInt(Date.now()) * 1000n)) });
    },
    extraButtons: [[t('sreport.submit'), async (v) => {
      const r = await api.post('/api/v1/stats/reports', body(v));
      if (showFindings(r.findings)) {
        f.showAlert(t('sreport.fix_first'), t('sreport.finding'));
        return;
      }
      await api.post(`/api/v1/stats/reports/${encodeURIComponent(r.report.id)}/submit`, { explanations: [] });
      ctx.redraw();
    }, 'primary']],
  });
  // Each indicator's value beside its explanation.
  for (const i of indicators) {
    const pair = h('div', { class: 'pair' });
    note.el.before(pair);
    pair.append(f.field(`values.${i.code}`).el, f.field(`explanations.${i.code}`).el);
  }
  f.el.classList.add('wide');
  page.append(section(t('sreport.form'), h('p', { class: 'hint' }, t('sreport.form_lead')), f.el));
  if (existing) showFindings(existing.findings);
  if (report) page.append(section(t('sreport.history'), s_history(report)));
}

/* ---- reviewing: district, center, analysts ------------------------------------------------ */

/* What the signed-in binding does with a report of this status, if anything. */
function s_action(kind, status) {
  if (kind === 'DISTRICT' && status === 'SUBMITTED') return 'review';
  if ((kind === 'STAFF' || kind === 'ADMIN') && status === 'DISTRICT_APPROVED') return 'decide';
  return null;
}

export async function reports(page, ctx) {
  ctx.title(t('sreports.title'));
  const quarter = ctx.query.quarter || thisQuarter();
  page.append(heading(t('sreports.title'), t('sreports.lead')));
  const r = await api.get('/api/v1/stats/reports', { quarter });
  const rows = r.reports || [];
  const todo = rows.filter((x) => s_action(ctx.kind, x.status));
  if (s_action(ctx.kind, 'SUBMITTED') || s_action(ctx.kind, 'DISTRICT_APPROVED')) {
    page.append(todo.length ? notice(t('sreports.todo', { n: todo.length }), 'warn') : notice(t('sreports.nothing_to_do'), 'ok'));
  }
  page.append(section(t('sreports.of', { quarter }), table(t('sreports.of', { quarter }), [
    [t('creports.entry'), (x) => link(`#/stats/reports/${encodeURIComponent(x.id)}`, x.rosterName)],
    [t('field.district'), (x) => districtName(x.districtCode)],
    [t('app.status'), (x) => reportBadge(x.status)],
    [t('creports.submitted'), (x) => dateTime(x.firstSubmittedAtUs)],
    [t('sreports.decide'), (x) => (s_action(ctx.kind, x.status) ? link(`#/stats/reports/${encodeURIComponent(x.id)}`, t('sreports.open')) : '')],
  ], rows, t('creports.none'))));
}

export async function report(page, ctx) {
  const id = ctx.params.id;
  const r = await api.get(`/api/v1/stats/reports/${encodeURIComponent(id)}`);
  const rep = r.report;
  const cat = await api.get('/api/v1/stats/catalogue', { version: rep.catalogueVersion });
  const codes = new Set((rep.values || []).map((v) => v.code));
  const indicators = (cat.catalogue.indicators || []).filter((i) => codes.has(i.code) || i.compulsory);
  const names = Object.fromEntries(indicators.map((i) => [i.code, indicatorName(i.code, i.name)]));
  const title = t('sreport.title', { name: rep.rosterName, quarter: rep.quarter });
  ctx.title(title);
  page.append(heading(title, `${districtName(rep.districtCode)} · ${te('stats.ReportStatus', rep.status)}`));
  page.append(section(t('sreport.about'), facts([
    [t('app.status'), reportBadge(rep.status)], [t('creports.submitted'), dateTime(rep.firstSubmittedAtUs)],
    [t('sreport.timeliness'), te('stats.Timeliness', rep.timeliness)], [t('sreport.due'), dateTime(rep.dueAtUs)],
    [t('sreport.note'), rep.note || ''],
  ])));
  page.append(section(t('sreport.values'), s_valuesTable(rep, indicators)));
  if ((r.findings || []).length) {
    page.append(section(t('sreport.findings'), h('ul', null, r.findings.map((x) => h('li', null, s_finding(x, names))))));
  }
  const act = s_action(ctx.kind, rep.status);
  if (act) {
    const path = `/api/v1/stats/reports/${encodeURIComponent(id)}/${act}`;
    const f = new Form({
      label: t('sreports.decide'),
      fields: [new Field({ name: 'reason', label: t('sreports.reason', { name: rep.rosterName }), type: 'textarea', rows: 2, hint: t('sreports.reason_hint') })],
      submitLabel: act === 'review' ? t('sreports.approve') : t('sreports.accept'),
      onSubmit: async (v) => {
        await api.post(path, { decision: 'APPROVE', reason: v.reason.trim() });
        ctx.redraw();
      },
      extraButtons: [[t('sreports.return'), async (v) => {
        await api.post(path, { decision: 'RETURN', reason: v.reason.trim() });
        ctx.redraw();
      }, 'danger']],
    });
    page.append(section(t('sreports.decide'), f.el));
  }
  page.append(section(t('sreport.history'), s_history(rep)));
}
