// format.js: how values are shown. Times are UTC microseconds (int64, a
// string in proto3 JSON) shown in Beijing time; money is integer fen shown
// as yuan with two decimals, computed with BigInt (never a float); credit
// codes in capitals; districts by their names.
import { lang, t } from './i18n.js';

export const DISTRICTS = [
  ['110101', '东城区', 'Dongcheng'], ['110102', '西城区', 'Xicheng'],
  ['110105', '朝阳区', 'Chaoyang'], ['110106', '丰台区', 'Fengtai'],
  ['110107', '石景山区', 'Shijingshan'], ['110108', '海淀区', 'Haidian'],
  ['110109', '门头沟区', 'Mentougou'], ['110111', '房山区', 'Fangshan'],
  ['110112', '通州区', 'Tongzhou'], ['110113', '顺义区', 'Shunyi'],
  ['110114', '昌平区', 'Changping'], ['110115', '大兴区', 'Daxing'],
  ['110116', '怀柔区', 'Huairou'], ['110117', '平谷区', 'Pinggu'],
  ['110118', '密云区', 'Miyun'], ['110119', '延庆区', 'Yanqing'],
];

/* The district's name in the language in force ("朝阳区" / "Chaoyang"),
 * or the code itself when it is not one of Beijing's 16. */
export function districtName(code) {
  const d = DISTRICTS.find((x) => x[0] === code);
  if (!d) return code || '';
  return lang() === 'zh-CN' ? d[1] : d[2];
}

function s_big(v) {
  if (typeof v === 'bigint') return v;
  if (v === undefined || v === null || v === '') return 0n;
  return BigInt(v); // int64 arrives as a decimal string
}

/* UTC microseconds -> "2027-03-01 14:05" in Beijing time; "" for 0. */
export function dateTime(us) {
  const n = s_big(us);
  if (n === 0n) return '';
  const d = new Date(Number(n / 1000n));
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(d);
  const p = Object.fromEntries(parts.map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

/* UTC microseconds -> "2027-03-01" (Beijing date). */
export function date(us) {
  return dateTime(us).slice(0, 10);
}

/* Today's date in Beijing, "2027-03-01" (the default and the latest of
 * date fields about what happened, such as a visit). */
export function today(now = Date.now()) {
  return date(BigInt(now) * 1000n);
}

/* "2027-03-01" (a Beijing date) -> UTC microseconds of its 00:00 as a
 * string, or "" when the text is not a date. */
export function dateToUs(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text || '');
  if (!m) return '';
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) - 8 * 3600 * 1000;
  return (BigInt(ms) * 1000n).toString();
}

function s_group(digits) {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/* Fen -> "¥1,234.56" (any int64, negative too). */
export function money(fen) {
  const n = s_big(fen);
  const neg = n < 0n;
  const a = neg ? -n : n;
  const yuan = s_group((a / 100n).toString());
  const cents = (a % 100n).toString().padStart(2, '0');
  return `${neg ? '-' : ''}¥${yuan}.${cents}`;
}

/* "1234.5" or "1,234.56" (yuan typed by a person) -> fen as a decimal
 * string, or null when it is not an amount with at most two decimals. */
export function yuanToFen(text) {
  const s = String(text || '').trim().replace(/,/g, '').replace(/^¥/, '');
  const m = /^(\d{1,13})(?:\.(\d{1,2}))?$/.exec(s);
  if (!m) return null;
  return (BigInt(m[1]) * 100n + BigInt((m[2] || '').padEnd(2, '0'))).toString();
}

/* Centipoints (0..10000) -> "87.50". */
export function score(centi) {
  const n = Number(centi || 0);
  return `${Math.trunc(n / 100)}.${String(n % 100).padStart(2, '0')}`;
}

/* A unified social credit code as people write it: 18 capitals and digits. */
export function uscc(code) {
  return String(code || '').toUpperCase();
}

/* "123" bytes -> "123 B", "1.2 KiB"... (sizes only: not money). */
export function bytes(n) {
  const v = Number(n || 0);
  if (v < 1024) return `${v} B`;
  if (v < 1024 * 1024) return `${(v / 1024).toFixed(1)} KiB`;
  return `${(v / 1024 / 1024).toFixed(1)} MiB`;
}

/* "yes"/"no" in the language in force. */
export function yesNo(b) {
  return b ? t('common.yes') : t('common.no');
}
