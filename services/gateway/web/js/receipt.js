// receipt.js: an ip registration receipt checked in the browser, as
// `ccipctl ip verify` checks it (services/ip/ip_receipts.h): the text parsed
// strictly, the signed bytes rebuilt, the Ed25519 signature verified with
// WebCrypto (Ed25519 is in current Chromium, Firefox and Safari), and the
// content's SHA-256 compared when the file is given. Nothing leaves the
// browser.

const TAG = 'ccip.ip.receipt.v1';
const LINES = ['serial', 'work_id', 'content_sha256', 'chain_hash', 'registered_at', 'key_id', 'signature'];
const HEX = { content_sha256: 64, chain_hash: 64, key_id: 16, signature: 128 };

/* Thrown with the line and field at fault. */
export class ReceiptError extends Error {
  constructor(line, field, what) {
    super(`receipt line ${line} (\`${field}\`): ${what}`);
    this.line = line;
    this.field = field;
    this.what = what;
  }
}

function s_hex(s) {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i += 1) out[i] = Number.parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/* "2026-11-27T10:00:00.123456Z" -> BigInt microseconds, or null. */
function s_time(v) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{6})Z$/.exec(v);
  if (!m) return null;
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  const d = new Date(ms);
  if (d.getUTCFullYear() !== +m[1] || d.getUTCMonth() !== +m[2] - 1 || d.getUTCDate() !== +m[3] || +m[4] > 23) return null;
  return BigInt(ms) * 1000n + BigInt(m[7]);
}

/* Parses a receipt's text; throws ReceiptError naming the line. */
export function parseReceipt(text) {
  if (!text.endsWith('\n')) throw new ReceiptError(LINES.length + 1, 'signature', 'the text must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines[0] !== 'ccip ip receipt v1') throw new ReceiptError(1, 'header', 'must be "ccip ip receipt v1"');
  if (lines.length !== LINES.length + 1) throw new ReceiptError(Math.min(lines.length, LINES.length + 1), 'lines', `a receipt has ${LINES.length + 1} lines, this one ${lines.length}`);
  const r = {};
  LINES.forEach((name, i) => {
    const line = lines[i + 1];
    const prefix = `${name}: `;
    if (!line.startsWith(prefix)) throw new ReceiptError(i + 2, name, `must start with "${prefix}"`);
    const v = line.slice(prefix.length);
    if (name in HEX) {
      if (!new RegExp(`^[0-9a-f]{${HEX[name]}}$`).test(v)) throw new ReceiptError(i + 2, name, `must be ${HEX[name]} lower-case hex characters`);
    } else if (name === 'serial') {
      if (!/^[1-9]\d{0,19}$/.test(v) || BigInt(v) > 18446744073709551615n) throw new ReceiptError(i + 2, name, 'must be a decimal number without leading zeros');
    } else if (name === 'work_id') {
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(v)) throw new ReceiptError(i + 2, name, 'must be a lower-case UUID');
    } else if (name === 'registered_at') {
      if (s_time(v) === null) throw new ReceiptError(i + 2, name, 'must be a UTC time such as 2026-11-27T10:00:00.123456Z');
    }
    r[name] = v;
  });
  return r;
}

function s_str(parts, s) {
  const b = new TextEncoder().encode(s);
  const n = new Uint8Array(4);
  new DataView(n.buffer).setUint32(0, b.length, false);
  parts.push(n, b);
}

function s_u64(parts, v) {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), false);
  parts.push(b);
}

/* The bytes the platform signed (ip_receipts.c s_message). */
export function signedBytes(r) {
  const parts = [];
  s_str(parts, TAG);
  s_u64(parts, BigInt(r.serial));
  s_str(parts, r.work_id);
  parts.push(s_hex(r.content_sha256), s_hex(r.chain_hash));
  s_u64(parts, s_time(r.registered_at));
  s_str(parts, r.key_id);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/* The public key from a .pub file's text (public-key = "<64 hex>";) or 64 hex alone. */
export function parsePublicKey(text) {
  const s = String(text || '').trim();
  const m = /public-key\s*=\s*"([0-9a-f]{64})"/.exec(s) || /^([0-9a-f]{64})$/.exec(s);
  if (!m) return null;
  const id = /key-id\s*=\s*"([0-9a-f]{16})"/.exec(s);
  return { hex: m[1], keyId: id ? id[1] : '' };
}

export async function keyIdOf(hex) {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', s_hex(hex)));
  return toHex(d).slice(0, 16);
}

/* Verifies; resolves to {ok, reason} where reason is one of
 * key_mismatch, signature, content, unsupported. */
export async function verifyReceipt(r, publicHex, contentBytes) {
  const kid = await keyIdOf(publicHex);
  if (kid !== r.key_id) return { ok: false, reason: 'key_mismatch', keyId: kid };
  let key;
  try {
    key = await crypto.subtle.importKey('raw', s_hex(publicHex), { name: 'Ed25519' }, false, ['verify']);
  } catch (e) {
    return { ok: false, reason: 'unsupported' };
  }
  const good = await crypto.subtle.verify({ name: 'Ed25519' }, key, s_hex(r.signature), signedBytes(r));
  if (!good) return { ok: false, reason: 'signature' };
  if (contentBytes) {
    const h = toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', contentBytes)));
    if (h !== r.content_sha256) return { ok: false, reason: 'content', got: h };
  }
  return { ok: true };
}
