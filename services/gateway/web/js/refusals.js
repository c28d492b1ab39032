// refusals.js: the services' refusals in the language in force.
//
// The services answer in English, one sentence that names the problem and
// the fix (common/ccip_validate.c, ccip_command_check_*, intake's call
// window, the gateway's account checks). The sentences that people meet at
// a form's fields are written out here once more in the catalogues, so that
// a Chinese page says them in Chinese; the service's own sentence stays
// beside the translation (what support and the logs quote). A sentence not
// listed is shown as the service wrote it, marked as English.
import { t, te, lang } from './i18n.js';
import { dateTime, money } from './format.js';

/* "'a'", "U+0007" or "byte 0xff" (ccip_validate.c s_describe_char) as shown. */
function s_ch(what) {
  const m = /^'(.*)'$/s.exec(what);
  return m ? m[1] : what;
}

/* A time the service wrote in UTC ("2027-03-01T09:00:00Z") in Beijing time. */
function s_bj(text) {
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? text : dateTime(String(ms * 1000));
}

/* [pattern, message]; each message's key is written out so that the
 * catalogue test sees it. The patterns follow the services' format strings:
 * a change there that no longer matches shows the English sentence, never
 * a wrong one. */
const RULES = [
  [/unified social credit code check character \(position \d+\) should be '(.)', got '(.)'/, (m) => t('check.uscc.check', { want: m[1], got: m[2] })],
  [/unified social credit code must be (\d+) characters, got (\d+)/, (m) => t('check.uscc.length', { want: m[1], got: m[2] })],
  [/unified social credit code is missing/, () => t('check.uscc.length', { want: 18, got: 0 })],
  [/unified social credit code has a lowercase (.+) at position (\d+)/, (m) => t('check.uscc.lowercase', { ch: s_ch(m[1]), pos: m[2] })],
  [/unified social credit code has (.+) at position (\d+), a letter codes never use/, (m) => t('check.uscc.never_letter', { ch: s_ch(m[1]), pos: m[2] })],
  [/unified social credit code has an invalid character (.+) at position (\d+);/, (m) => t('check.uscc.invalid_char', { ch: s_ch(m[1]), pos: m[2] })],
  [/unified social credit code characters \d+ to \d+ are the administrative division code and must be digits, got (.+) at position (\d+)/,
    (m) => t('check.uscc.division', { ch: s_ch(m[1]), pos: m[2] })],
  [/^field `[^`]+` (?:is missing|must not be empty)$/, () => t('check.required')],
  // Empty where at least one character is needed: the field is required.
  [/^field `[^`]+` must be (?:1 to \d+ characters(?: long)?|at least 1 character), got 0$/, () => t('check.required')],
  [/^field `[^`]+` must be at most (\d+) (?:characters?|bytes?), got (\d+)$/, (m) => t('refusal.too_long', { max: m[1], got: m[2] })],
  [/^field `[^`]+` must be at least (\d+) characters?, got (\d+)$/, (m) => t('refusal.too_short', { min: m[1], got: m[2] })],
  [/^field `[^`]+` must be exactly (\d+) characters?, got (\d+)$/, (m) => t('refusal.exactly', { n: m[1], got: m[2] })],
  [/^field `[^`]+` must be (\d+) to (\d+) characters(?: long)?, got (\d+)$/, (m) => t('refusal.between', { min: m[1], max: m[2], got: m[3] })],
  [/^field `[^`]+` contains a control character at character (\d+)$/, (m) => t('refusal.control', { pos: m[1] })],
  [/^field `[^`]+` must be an id \(a UUID/, () => t('refusal.uuid')],
  [/^field `email` must be an e-mail address/, () => t('check.email')],
  [/^field `login` /, () => t('check.login')],
  [/^field `mobile` must be a telephone number/, () => t('refusal.mobile')],
  [/^call "(.*)" \([^)]*\) closed for submissions at (\S+) UTC;/s, (m) => t('refusal.call_closed', { title: m[1], at: s_bj(m[2]) })],
  [/^call "(.*)" \([^)]*\) was closed by staff at (\S+) UTC(?: \((.*)\))?;/s,
    (m) => t('refusal.call_closed_by_staff', { title: m[1], at: s_bj(m[2]), reason: m[3] || '—' })],
  [/^call "(.*)" \([^)]*\) opens for submissions at (\S+) UTC;/s, (m) => t('refusal.call_not_open', { title: m[1], at: s_bj(m[2]) })],
  // funding (funding.c funding_check_amount, funding_awards.c, funding_tranches.c, funding_inspections.c)
  [/^field `[^`]+` must be a positive amount in fen/, () => t('refusal.amount_positive')],
  [/^field `[^`]+` must be at most (\S+) yuan/, (m) => t('refusal.amount_max', { max: m[1] })],
  [/^award \S+ is (AWARD_\w+) \(since (\S+) UTC.*\); only an award that is (.+?) can be \w+$/s,
    (m) => t('refusal.award_status', { status: te('AwardStatus', m[1]), at: s_bj(m[2]), allowed: m[3].split(' or ').map((x) => te('AwardStatus', x)).join(t('refusal.or')) })],
  [/^payment \S+ is (PAYMENT_\w+); only a pending payment can be cancelled$/, (m) => t('refusal.payment_not_pending', { status: te('PaymentStatus', m[1]) })],
  [/^field `amount_fen`: (\d+) fen is more than the \S+ yuan \((\d+) fen\) still owed on clawback/, (m) => t('refusal.clawback_over', { amount: money(m[1]), owed: money(m[2]) })],
  [/^clawback \S+ is recovered in full already$/, () => t('refusal.clawback_recovered')],
];

/* The refusal `detail` in the language in force: {text, original}. text is
 * the translation (null when there is none, or the page is in English: the
 * service's sentence is English already); original the service's sentence. */
export function refusal(detail) {
  const original = detail || '';
  if (lang() === 'en') return { text: null, original };
  // The sentence may be prefixed by where it applies ("field `uscc`: unified
  // social credit code ..."): the patterns search, the field ones anchor.
  for (const [re, f] of RULES) {
    const m = re.exec(original);
    if (m) return { text: f(m), original };
  }
  return { text: null, original };
}
