// Analysts and district statistics offices: completeness by district and
// cluster, the quarterly analysis with charts, and releases with their
// embargo time and versions (the reports themselves: reports.js).
import { h, clear } from '../dom.js';
import { t, te } from '../i18n.js';
import * as api from '../api.js';
import { Field, Form } from '../form.js';
import { heading, section, table, notice, link } from '../ui.js';
import { districtName, dateTime } from '../format.js';
import { barChart } from '../chart.js';
import { thisQuarter, indicatorName, valueText } from './reports.js';

function s_pct(bp) {
  return `${(Number(bp || 0) / 100).toFixed(2)}%`;
}

/* A small form choosing the quarter shown (kept in the address). */
function s_quarterForm(ctx, base) {
  const q = new Field({ name: 'quarter', label: t('analyst.quarter'), value: ctx.query.quarter || thisQuarter(), hint: t('analyst.quarter_hint') });
  const f = new Form({
    label: t('analyst.quarter'),
    submitLabel: t('analyst.show'),
    fields: [q],
    onSubmit: async (v) => ctx.go(`${base}?quarter=${encodeURIComponent(v.quarter.trim())}`),
  });
  f.el.classList.add('inline');
  return f.el;
}

export async function completeness(page, ctx) {
  ctx.title(t('completeness.title'));
  const quarter = ctx.query.quarter || thisQuarter();
  page.append(heading(t('completeness.title'), t('completeness.lead', { quarter })), s_quarterForm(ctx, '#/analyst'));
  const r = await api.get('/api/v1/stats/completeness', { quarter });
  const rows = [...(r.districts || []), ...(r.total ? [{ ...r.total, districtName: t('completeness.total') }] : [])];
  page.append(section(t('completeness.by_district'), table(t('completeness.by_district'), [
    [t('field.district'), (x) => (x.districtCode ? districtName(x.districtCode) : x.districtName)],
    [t('completeness.expected'), (x) => String(x.expected)], [t('completeness.on_time'), (x) => String(x.onTime)],
    [t('completeness.late'), (x) => String(x.late)], [t('completeness.missing'), (x) => String(x.missing)],
    [t('completeness.accepted'), (x) => String(x.accepted)],
    [t('completeness.rate'), (x) => s_pct(x.completenessBp)], [t('completeness.timeliness'), (x) => s_pct(x.timelinessBp)],
  ], rows, t('completeness.none'))));
  page.append(section(t('completeness.by_cluster'), table(t('completeness.by_cluster'), [
    [t('creports.entry'), (x) => x.name], [t('field.district'), (x) => districtName(x.districtCode)],
    [t('completeness.timeliness'), (x) => te('stats.Timeliness', x.timeliness)],
  ], r.clusters || [], t('completeness.none'))));
}

export async function analysis(page, ctx) {
  ctx.title(t('analysis.title'));
  const quarter = ctx.query.quarter || thisQuarter();
  page.append(heading(t('analysis.title'), t('analysis.lead', { quarter })), s_quarterForm(ctx, '#/analyst/analysis'));
  const r = await api.get('/api/v1/stats/analysis', { quarter });
  page.append(r.complete ? notice(t('analysis.complete'), 'ok') : notice(t('analysis.partial', { accepted: r.accepted, expected: r.expected }), 'warn'));
  const totals = (r.rows || []).filter((x) => x.dimension === 'total');
  const fmt = (x) => valueText(x.unit, x.value);
  page.append(section(t('analysis.totals'), table(t('analysis.totals'), [
    [t('analysis.indicator'), (x) => indicatorName(x.indicator)], [t('analysis.value'), fmt],
    [t('analysis.reporting'), (x) => `${x.reporting} / ${x.expected}`],
    [t('analysis.qoq'), (x) => (x.hasQoq ? s_pct(x.qoqBp) : '—')], [t('analysis.yoy'), (x) => (x.hasYoy ? s_pct(x.yoyBp) : '—')],
  ], totals, t('analysis.none'))));
  const by = new Map();
  // A chart of each indicator some district reported (none: nothing to draw).
  for (const x of (r.rows || []).filter((y) => y.dimension === 'district' && Number(y.reporting) > 0)) {
    if (!by.has(x.indicator)) by.set(x.indicator, []);
    by.get(x.indicator).push(x);
  }
  const charts = [];
  for (const [code, list] of by) {
    const indicator = indicatorName(code);
    list.sort((a, b) => Number(BigInt(b.value) - BigInt(a.value)));
    charts.push(h('figure', { class: 'card' }, barChart(t('bulletins.chart_title', { indicator }),
      list.map((x) => ({ label: districtName(x.key), value: Number(x.value), text: fmt(x) }))), h('figcaption', null, t('bulletins.chart_title', { indicator }))));
  }
  page.append(section(t('analysis.charts'), charts.length ? charts : h('p', { class: 'empty' }, t('analysis.none'))));
}

export async function releases(page, ctx) {
  ctx.title(t('releases.title'));
  const list = h('div');
  const drawList = async () => {
    const r = await api.get('/api/v1/stats/releases');
    clear(list).append(table(t('releases.title'), [
      [t('bulletins.quarter'), (x) => link(`#/bulletins/${x.quarter}`, x.quarter)], [t('bulletins.version'), (x) => String(x.version)],
      [t('bulletins.name'), (x) => x.title],
      [t('bulletins.embargo'), (x) => (x.embargoUntilUs !== '0' ? dateTime(x.embargoUntilUs) : t('releases.at_once'))],
      [t('bulletins.published'), (x) => dateTime(x.publishedAtUs)],
    ], r.releases || [], t('bulletins.none')));
  };
  await drawList();
  page.append(heading(t('releases.title'), t('releases.lead')), section(t('releases.title'), list));
  const out = h('div');
  const f = new Form({
    label: t('releases.publish'),
    submitLabel: t('releases.publish'),
    fields: [
      new Field({ name: 'quarter', label: t('analyst.quarter'), required: true, value: thisQuarter() }),
      new Field({ name: 'title', label: t('bulletins.name'), required: true }),
      new Field({ name: 'licence', label: t('bulletins.licence'), required: true, value: 'CC-BY-4.0' }),
      new Field({ name: 'embargo_until_us', label: t('bulletins.embargo'), type: 'datetime-local', hint: t('releases.embargo_hint') }),
      new Field({ name: 'change_note', label: t('bulletins.change'), hint: t('releases.change_hint') }),
    ],
    onSubmit: async (v) => {
      let embargo = '0';
      if (v.embargo_until_us) {
        const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(v.embargo_until_us);
        if (m) embargo = ((BigInt(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5])) - 8n * 3600000n) * 1000n).toString();
      }
      const rel = (await api.post('/api/v1/stats/releases', {
        quarter: v.quarter.trim(), title: v.title.trim(), licence: v.licence.trim(), embargoUntilUs: embargo, changeNote: v.change_note.trim(),
      })).release;
      clear(out).append(notice(t('releases.done', { quarter: rel.quarter, version: rel.version }), 'ok'));
      await drawList();
    },
  });
  page.append(section(t('releases.publish'), f.el, out));
}
