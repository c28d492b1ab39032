// chart.js: bar charts drawn as SVG elements (no library, no inline style:
// colours come from the style sheet), each with a title and a description
// for screen readers, and the numbers also in a table beside it.
import { svg } from './dom.js';

/* Horizontal bars: items [{label, value (Number), text}] largest first. */
export function barChart(title, items, desc) {
  const rowH = 24;
  const labelW = 120;
  const width = 560;
  const max = Math.max(1, ...items.map((i) => i.value));
  const height = items.length * rowH + 8;
  const id = `c${Math.random().toString(36).slice(2, 8)}`;
  return svg('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-labelledby': `${id}t ${id}d` },
    svg('title', { id: `${id}t` }, title),
    svg('desc', { id: `${id}d` }, desc || items.map((i) => `${i.label}: ${i.text}`).join('; ')),
    items.map((it, n) => {
      const y = n * rowH + 4;
      const w = Math.max(1, Math.round(((width - labelW - 110) * it.value) / max));
      return svg('g', null,
        svg('text', { x: 0, y: y + 15 }, it.label),
        svg('rect', { class: `bar${it.prev ? ' prev' : ''}`, x: labelW, y: y + 3, width: w, height: rowH - 8 }),
        svg('text', { x: labelW + w + 6, y: y + 15 }, it.text));
    }));
}
