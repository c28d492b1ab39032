// validate.js: the services' field rules, checked in the browser as people
// type, so that they see a mistake at once. The service stays the judge:
// these checks only inform (the form still sends), and the service's own
// sentence is shown at the field it names when it refuses.
//
// usccCheck is common/ccip_validate.c's ccip_uscc_check ported (GB
// 32100-2015); tests/web/uscc_cases.tsv holds the cases both are tested
// against (tests/web/test_uscc_cases.c and the browser test).

const CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
const LEN = 18;
const RADIX = 31;
const DIVISION_FIRST = 3; // characters 3..8: the administrative division code
const DIVISION_LAST = 8;

/* null when code is a valid unified social credit code, else
 * {rule, params}: rule is one of missing, length, lowercase, never_letter,
 * invalid_char, division, check (the message key is check.uscc.<rule>). */
export function usccCheck(code) {
  if (code === null || code === undefined) return { rule: 'missing', params: {} };
  const chars = Array.from(String(code)); // characters, as the C code counts UTF-8
  if (chars.length !== LEN) return { rule: 'length', params: { want: LEN, got: chars.length } };
  let sum = 0;
  for (let pos = 1; pos <= LEN; pos += 1) {
    const c = chars[pos - 1];
    const v = c.length === 1 ? CHARSET.indexOf(c) : -1;
    if (v < 0) {
      if (c >= 'a' && c <= 'z' && CHARSET.includes(c.toUpperCase())) {
        return { rule: 'lowercase', params: { ch: c, pos } };
      }
      if ('IOSVZiosvz'.includes(c) && c.length === 1) return { rule: 'never_letter', params: { ch: c, pos } };
      return { rule: 'invalid_char', params: { ch: c, pos } };
    }
    if (pos >= DIVISION_FIRST && pos <= DIVISION_LAST && v > 9) {
      return { rule: 'division', params: { ch: c, pos } };
    }
    if (pos < LEN) sum += v * WEIGHTS[pos - 1];
  }
  const expected = CHARSET[(RADIX - (sum % RADIX)) % RADIX];
  const got = chars[LEN - 1];
  if (got !== expected) return { rule: 'check', params: { want: expected, got } };
  return null;
}

/* intake's contact_phone rule: digits, spaces and + - ( ), at least 5
 * digits, at most 40 characters. */
export function phoneCheck(s) {
  const text = String(s || '');
  if (!text) return { rule: 'required', params: {} };
  if (Array.from(text).length > 40) return { rule: 'too_long', params: { max: 40 } };
  let digits = 0;
  for (const c of text) {
    if (c >= '0' && c <= '9') digits += 1;
    else if (!'+-() '.includes(c)) return { rule: 'phone_char', params: { ch: c } };
  }
  if (digits < 5) return { rule: 'phone_digits', params: { got: digits } };
  return null;
}

/* intake's contact_email rule ("" allowed). */
export function emailCheck(s) {
  const text = String(s || '');
  if (!text) return null;
  const at = text.indexOf('@');
  if (at <= 0 || at === text.length - 1 || text.indexOf('@', at + 1) >= 0 || text.includes(' ') ||
      !text.slice(at + 1).includes('.') || text.length < 3 || text.length > 254) {
    return { rule: 'email', params: {} };
  }
  return null;
}

/* A text of min..max characters (as the services count them). */
export function textCheck(s, min, max) {
  const n = Array.from(String(s || '')).length;
  if (n < min) return { rule: min === 1 ? 'required' : 'too_short', params: { min } };
  if (n > max) return { rule: 'too_long', params: { max } };
  return null;
}

/* The gateway's password rule: 10..128 characters. */
export function passwordCheck(s) {
  return textCheck(s, 10, 128);
}

/* The gateway's login rule: 3..64 of [a-z0-9._-], starting with a letter or digit. */
export function loginCheck(s) {
  if (!/^[a-z0-9][a-z0-9._-]{2,63}$/.test(String(s || ''))) return { rule: 'login', params: {} };
  return null;
}
