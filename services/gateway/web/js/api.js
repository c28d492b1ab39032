// api.js: the console's only way to the services: the gateway's JSON API
// on the same origin (/api/v1/..., canonical proto3 JSON). A refusal comes
// back as an RFC 9457 problem; ApiError keeps its status, the service's
// sentence (detail) and the field the sentence names ("field `x`").

let s_csrf = '';

export function setCsrf(token) {
  s_csrf = token || '';
}

export class ApiError extends Error {
  constructor(status, detail, ccipStatus) {
    super(detail);
    this.status = status; // HTTP status, 0 when the gateway could not be reached
    this.detail = detail; // the service's sentence
    this.ccipStatus = ccipStatus || '';
    this.field = fieldOf(detail);
  }
}

/* The field a service sentence names: "field `content.title` ..." ->
 * "content.title"; also "fields `a` and `b`" (the first) and "parameter `x`".
 * "" when it names none. */
export function fieldOf(detail) {
  const m = /\b(?:field|fields|parameter)\s+`([^`]+)`/.exec(detail || '');
  return m ? m[1] : '';
}

function s_query(q) {
  if (!q) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) v.forEach((x) => p.append(k, x));
    else p.append(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

async function s_answer(r) {
  const type = r.headers.get('Content-Type') || '';
  if (r.ok) return type.startsWith('application/json') ? r.json() : r;
  let detail = `HTTP ${r.status}`;
  let st = '';
  if (type.startsWith('application/problem+json')) {
    const p = await r.json();
    detail = p.detail || detail;
    st = p.ccip_status || '';
  }
  throw new ApiError(r.status, detail, st);
}

async function s_fetch(path, init) {
  let r;
  try {
    r = await fetch(path, { credentials: 'same-origin', ...init });
  } catch (e) {
    throw new ApiError(0, String(e.message || e), 'UNAVAILABLE');
  }
  return s_answer(r);
}

export function get(path, query) {
  return s_fetch(path + s_query(query), { headers: { Accept: 'application/json' } });
}

/* POST (or another method) with a JSON body; opts.key: Idempotency-Key, so
 * that a retried click never acts twice. */
export function post(path, body, opts = {}) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
  if (s_csrf) headers['X-CSRF-Token'] = s_csrf;
  if (opts.key) headers['Idempotency-Key'] = opts.key;
  return s_fetch(path + s_query(opts.query), {
    method: opts.method || 'POST',
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

export function del(path) {
  const headers = { Accept: 'application/json' };
  if (s_csrf) headers['X-CSRF-Token'] = s_csrf;
  return s_fetch(path, { method: 'DELETE', headers });
}

/* Uploads a file as the raw request body (the gateway's upload routes),
 * reporting progress (0..1) to onProgress; XMLHttpRequest because fetch
 * does not report upload progress. Resolves with the JSON reply. */
export function upload(path, file, query, onProgress) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open('POST', path + s_query(query));
    x.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
    x.setRequestHeader('Accept', 'application/json');
    if (s_csrf) x.setRequestHeader('X-CSRF-Token', s_csrf);
    x.upload.onprogress = (e) => {
      if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total);
    };
    x.onerror = () => reject(new ApiError(0, 'the upload did not reach the gateway', 'UNAVAILABLE'));
    x.onload = () => {
      let body = null;
      try {
        body = JSON.parse(x.responseText);
      } catch (e) {
        body = null;
      }
      if (x.status >= 200 && x.status < 300) {
        if (onProgress) onProgress(1);
        resolve(body);
      } else {
        reject(new ApiError(x.status, (body && body.detail) || `HTTP ${x.status}`, body && body.ccip_status));
      }
    };
    x.send(file);
  });
}

/* A fresh idempotency key for one action of a form (kept by the form until
 * it succeeds, so a second click after a lost answer is the same command). */
export function newKey() {
  return crypto.randomUUID();
}
