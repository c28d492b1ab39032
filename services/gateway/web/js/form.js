// form.js: labelled form controls that check as people type and show the
// service's refusal at the control it names.
//
// Every control has a <label>, a hint and an error line tied to it with
// aria-describedby; an invalid control gets aria-invalid. The checks of
// validate.js only inform: the form is always sent, and the service decides.
// A refusal (api.js ApiError) naming `field x` is shown at the control whose
// name is x (or ends with it); any other refusal at the top of the form;
// either in the language in force when refusals.js knows the sentence, with
// the service's own (English) sentence beside it.
import { h, uid, clear } from './dom.js';
import { t } from './i18n.js';
import { refusal } from './refusals.js';

/* The message of a failed check ({rule, params} from validate.js). Each
 * rule's key is written out so that the catalogue test can see it. */
const RULES = {
  required: (p) => t('check.required', p),
  too_short: (p) => t('check.too_short', p),
  too_long: (p) => t('check.too_long', p),
  phone_char: (p) => t('check.phone_char', p),
  phone_digits: (p) => t('check.phone_digits', p),
  email: (p) => t('check.email', p),
  login: (p) => t('check.login', p),
  amount: (p) => t('check.amount', p),
  value_fen: (p) => t('check.value_fen', p),
  value_percent: (p) => t('check.value_percent', p),
  value_whole: (p) => t('check.value_whole', p),
  missing: (p) => t('check.uscc.length', { want: 18, got: 0, ...p }),
  length: (p) => t('check.uscc.length', p),
  lowercase: (p) => t('check.uscc.lowercase', p),
  never_letter: (p) => t('check.uscc.never_letter', p),
  invalid_char: (p) => t('check.uscc.invalid_char', p),
  division: (p) => t('check.uscc.division', p),
  check: (p) => t('check.uscc.check', p),
};

export function ruleMessage(r) {
  const f = RULES[r.rule];
  return f ? f(r.params || {}) : r.rule;
}

/* A service's sentence: its translation, then the sentence itself (lang=en,
 * smaller), or the sentence alone when there is no translation. */
function s_said(detail) {
  const r = refusal(detail);
  if (!r.text) return h('span', { lang: 'en' }, r.original);
  return h('span', null, h('span', { class: 'refusal' }, r.text), ' ',
    h('span', { class: 'service-original', lang: 'en' }, `(${r.original})`));
}

/* snake_case and lowerCamelCase of one name compare equal. */
function s_norm(name) {
  return String(name || '').replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`).replace(/\[\d+\]/g, '');
}

/* A labelled control.
 *   name      the request field it fills ("uscc", "content.title"): refusals
 *             naming it are shown here
 *   label     its label (already translated)
 *   type      text, textarea, select, number, date, password, email, tel, file,
 *             checkbox
 *   options   for select: [[value, label], ...]
 *   required  marks it (and checks it is not empty)
 *   hint      a line under the label
 *   check     value -> null or {rule, params} (validate.js)
 *   value, autocomplete, multiple, accept, readonly, inputmode, maxlength, min, max */
export class Field {
  constructor(o) {
    this.name = o.name;
    this.o = o;
    const id = uid('f');
    this.id = id;
    this.errId = `${id}-err`;
    const hintId = `${id}-hint`;
    const describedby = [o.hint ? hintId : null, this.errId].filter(Boolean).join(' ');
    const common = {
      id, name: o.name, 'aria-describedby': describedby, required: Boolean(o.required),
      autocomplete: o.autocomplete || null, readonly: o.readonly || null,
      inputmode: o.inputmode || null, maxlength: o.maxlength || null,
      'data-field': o.name,
    };
    if (o.type === 'textarea') {
      this.input = h('textarea', { ...common, rows: o.rows || 4 });
      this.input.value = o.value || '';
    } else if (o.type === 'select') {
      this.input = h('select', common,
        (o.options || []).map(([v, l]) => h('option', { value: v, selected: String(v) === String(o.value ?? '') }, l)));
    } else if (o.type === 'checkbox') {
      this.input = h('input', { ...common, type: 'checkbox', checked: Boolean(o.value) });
    } else {
      this.input = h('input', {
        ...common, type: o.type || 'text', value: o.type === 'file' ? null : (o.value ?? ''),
        multiple: o.multiple || null, accept: o.accept || null, step: o.step || null,
        min: o.min ?? null, max: o.max ?? null,
      });
    }
    this.error = h('p', { class: 'field-error', id: this.errId, 'aria-live': 'polite' });
    const label = h('label', { for: id }, o.label, o.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null);
    this.el = h('div', { class: `field${o.type === 'checkbox' ? ' field-check' : ''}` },
      o.type === 'checkbox' ? [this.input, label] : [label, o.hint ? h('p', { class: 'hint', id: hintId }, o.hint) : null, this.input],
      o.type === 'checkbox' && o.hint ? h('p', { class: 'hint', id: hintId }, o.hint) : null,
      this.error);
    if (o.check || o.required) {
      const live = () => this.validate(false);
      this.input.addEventListener('input', live);
      this.input.addEventListener('blur', () => this.validate(true));
    }
  }

  value() {
    if (this.o.type === 'checkbox') return this.input.checked;
    if (this.o.type === 'file') return this.input.files;
    return this.input.value;
  }

  setValue(v) {
    if (this.o.type === 'checkbox') this.input.checked = Boolean(v);
    else this.input.value = v ?? '';
  }

  /* Runs the checks; `all` also reports an empty required field (not
   * while the person is still typing). Returns true when fine. */
  validate(all) {
    const v = this.value();
    let r = null;
    const empty = v === '' || v === null || (v instanceof FileList && v.length === 0);
    if (this.o.required && empty) r = all ? { rule: 'required', params: {} } : null;
    else if (this.o.check && !empty) r = this.o.check(v);
    if (r) this.setError(ruleMessage(r));
    else if (!this.serverError) this.clearError();
    return !r;
  }

  setError(text, fromService) {
    this.serverError = Boolean(fromService);
    this.input.setAttribute('aria-invalid', 'true');
    clear(this.error);
    if (fromService) this.error.append(h('span', { class: 'from-service' }, t('form.service_says')), ' ', s_said(text));
    else this.error.append(text);
  }

  clearError() {
    this.serverError = false;
    this.input.removeAttribute('aria-invalid');
    clear(this.error);
  }

  /* True when a refusal naming `field` belongs here. */
  owns(field) {
    const f = s_norm(field);
    const n = s_norm(this.name);
    return Boolean(f) && (f === n || n.endsWith(`.${f}`) || f.endsWith(`.${n}`));
  }
}

/* A form: fields, an alert line for refusals that name no field, and
 * submit buttons. onSubmit(values, button) may throw an ApiError: it is
 * shown at its field. fieldFor(err) may name the field of a refusal that
 * names none (a page knows, e.g., that a closed call is about the call). */
export class Form {
  constructor({ fields = [], onSubmit, submitLabel, extraButtons = [], fieldFor, label }) {
    this.fields = fields;
    this.fieldFor = fieldFor;
    this.alert = h('div', { class: 'form-alert', role: 'alert', 'aria-live': 'assertive' });
    this.status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
    this.buttons = [];
    const mk = (text, fn, cls) => {
      const b = h('button', { type: 'submit', class: cls || 'primary' }, text);
      b.ccipAction = fn;
      this.buttons.push(b);
      return b;
    };
    const main = onSubmit ? mk(submitLabel || t('form.submit'), onSubmit) : null;
    const extras = extraButtons.map(([text, fn, cls]) => mk(text, fn, cls || 'secondary'));
    this.body = h('div', { class: 'form-body' });
    this.el = h('form', { novalidate: true, 'aria-label': label || null },
      this.alert, this.body, fields.map((f) => f.el), this.status,
      h('div', { class: 'form-actions' }, main, extras));
    this.el.addEventListener('submit', (e) => {
      e.preventDefault();
      const b = e.submitter && e.submitter.ccipAction ? e.submitter : main;
      if (b) this.run(b.ccipAction, b);
    });
  }

  field(name) {
    return this.fields.find((f) => f.name === name);
  }

  add(...fields) {
    for (const f of fields) {
      this.fields.push(f);
      this.body.append(f.el);
    }
  }

  values() {
    const v = {};
    for (const f of this.fields) v[f.name] = f.value();
    return v;
  }

  clearErrors() {
    clear(this.alert);
    this.alert.classList.remove('shown');
    for (const f of this.fields) f.clearError();
  }

  async run(fn, button) {
    this.clearErrors();
    for (const f of this.fields) f.validate(true); // shown, not blocking: the service decides
    for (const b of this.buttons) b.disabled = true;
    this.status.textContent = t('form.sending');
    try {
      await fn(this.values(), button);
      this.status.textContent = '';
    } catch (err) {
      this.status.textContent = '';
      this.showError(err);
    } finally {
      for (const b of this.buttons) b.disabled = false;
    }
  }

  /* Shows a refusal at its field, or at the top of the form. */
  showError(err) {
    if (!err || err.status === undefined) {
      console.error(err);
      this.showAlert(t('error.unexpected'));
      return;
    }
    const name = err.field || (this.fieldFor ? this.fieldFor(err) : '');
    const f = name ? this.fields.find((x) => x.owns(name)) : null;
    if (f) {
      f.setError(err.detail, true);
      f.input.focus();
      return;
    }
    this.showAlert(err.detail, err.status === 0 ? t('error.unreachable') : null);
  }

  showAlert(text, lead) {
    clear(this.alert);
    this.alert.classList.add('shown');
    this.alert.append(h('p', null, h('span', { class: 'from-service' }, lead || t('form.service_says')), ' ', s_said(text)));
  }
}
