// Signing in and up, invitations, and the account itself (the gateway's
// own endpoints: /api/v1/session, /api/v1/accounts, /api/v1/account/...).
import { h, clear } from '../dom.js';
import { t, te } from '../i18n.js';
import * as api from '../api.js';
import { Field, Form } from '../form.js';
import { heading, section, table, facts, notice, link } from '../ui.js';
import { usccCheck, passwordCheck, loginCheck, emailCheck } from '../validate.js';
import { homeOf } from '../app.js';
import { dateTime } from '../format.js';

function s_next(ctx) {
  const n = ctx.query.next || '';
  return n.startsWith('#/') && !n.startsWith('#/sign-') ? n : homeOf(ctx.session.kind());
}

export async function signIn(page, ctx) {
  ctx.title(t('signin.title'));
  const f = new Form({
    label: t('signin.title'),
    submitLabel: t('signin.submit'),
    fields: [
      new Field({ name: 'login', label: t('field.login'), required: true, autocomplete: 'username' }),
      new Field({ name: 'password', label: t('field.password'), type: 'password', required: true, autocomplete: 'current-password' }),
      new Field({ name: 'totp', label: t('field.totp'), hint: t('signin.totp_hint'), inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: 6 }),
    ],
    onSubmit: async (v) => {
      ctx.session.set(await api.post('/api/v1/session', { login: v.login.trim(), password: v.password, totp: v.totp.trim() }));
      ctx.go(s_next(ctx));
    },
  });
  page.append(heading(t('signin.title'), t('signin.lead')), section(t('signin.title'), f.el),
    h('p', null, t('signin.no_account'), ' ', link('#/sign-up', t('nav.sign_up'))));
}

export async function signUp(page, ctx) {
  ctx.title(t('signup.title'));
  const f = new Form({
    label: t('signup.title'),
    submitLabel: t('signup.submit'),
    fields: [
      new Field({ name: 'login', label: t('field.login'), hint: t('signup.login_hint'), required: true, autocomplete: 'username', check: loginCheck }),
      new Field({ name: 'name', label: t('field.person_name'), required: true, autocomplete: 'name' }),
      new Field({ name: 'email', label: t('field.email'), type: 'email', required: true, autocomplete: 'email', check: emailCheck }),
      new Field({ name: 'mobile', label: t('field.mobile'), type: 'tel', autocomplete: 'tel' }),
      new Field({ name: 'password', label: t('field.password'), type: 'password', hint: t('signup.password_hint'), required: true, autocomplete: 'new-password', check: passwordCheck }),
      new Field({ name: 'organisation_uscc', label: t('field.org_uscc'), hint: t('signup.uscc_hint'), maxlength: 18, check: usccCheck }),
    ],
    onSubmit: async (v) => {
      const body = {
        login: v.login.trim(), name: v.name.trim(), email: v.email.trim(), mobile: v.mobile.trim(),
        password: v.password, organisationUscc: v.organisation_uscc.trim(),
      };
      await api.post('/api/v1/accounts', body);
      ctx.session.set(await api.post('/api/v1/session', { login: body.login, password: body.password }));
      ctx.go(body.organisationUscc ? '#/org' : '#/account');
    },
  });
  page.append(heading(t('signup.title'), t('signup.lead')), section(t('signup.title'), f.el));
}

export async function invitation(page, ctx) {
  ctx.title(t('invite.title'));
  const token = ctx.params.token;
  const path = `/api/v1/invitations/${encodeURIComponent(token)}/accept`;
  page.append(heading(t('invite.title'), t('invite.lead')));
  if (ctx.session.data) {
    const f = new Form({
      label: t('invite.title'),
      submitLabel: t('invite.accept_here'),
      onSubmit: async () => {
        ctx.session.set(await api.post(path, { token }));
        await ctx.refreshSession();
        ctx.go('#/account');
      },
    });
    page.append(section(t('invite.accept_here'), h('p', null, t('invite.signed_in_as', { name: ctx.session.data.account.login })), f.el));
    return;
  }
  const f = new Form({
    label: t('invite.title'),
    submitLabel: t('invite.create'),
    fields: [
      new Field({ name: 'login', label: t('field.login'), hint: t('signup.login_hint'), required: true, autocomplete: 'username', check: loginCheck }),
      new Field({ name: 'name', label: t('field.person_name'), required: true, autocomplete: 'name' }),
      new Field({ name: 'email', label: t('field.email'), type: 'email', required: true, autocomplete: 'email', check: emailCheck }),
      new Field({ name: 'mobile', label: t('field.mobile'), type: 'tel', autocomplete: 'tel' }),
      new Field({ name: 'password', label: t('field.password'), type: 'password', hint: t('signup.password_hint'), required: true, autocomplete: 'new-password', check: passwordCheck }),
    ],
    onSubmit: async (v) => {
      ctx.session.set(await api.post(path, {
        token, login: v.login.trim(), name: v.name.trim(), email: v.email.trim(), mobile: v.mobile.trim(), password: v.password,
      }));
      await ctx.refreshSession();
      ctx.go('#/account');
    },
  });
  page.append(section(t('invite.create'), f.el), h('p', null, t('invite.have_account'), ' ', link(`#/sign-in?next=${encodeURIComponent(location.hash)}`, t('nav.sign_in'))));
}

function s_totp(ctx, box) {
  const enrol = new Form({
    label: t('totp.title'),
    submitLabel: t('totp.start'),
    fields: [new Field({ name: 'password', label: t('field.password'), type: 'password', required: true, autocomplete: 'current-password' })],
    onSubmit: async (v) => {
      const r = await api.post('/api/v1/account/totp', { password: v.password });
      const confirm = new Form({
        label: t('totp.confirm'),
        submitLabel: t('totp.confirm'),
        fields: [new Field({ name: 'code', label: t('totp.code'), required: true, inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: 6 })],
        onSubmit: async (c) => {
          ctx.session.set(await api.post('/api/v1/account/totp/confirm', { code: c.code.trim() }));
          await ctx.refreshSession();
          ctx.redraw();
        },
      });
      clear(box).append(
        h('p', null, t('totp.secret_lead')),
        facts([[t('totp.secret'), h('code', { class: 'code', id: 'totp-secret' }, r.secretBase32)], [t('totp.uri'), h('code', { class: 'code' }, r.otpauthUri)]]),
        confirm.el);
    },
  });
  box.append(enrol.el);
}

export async function account(page, ctx) {
  ctx.title(t('account.title'));
  const d = ctx.session.data;
  const a = d.account;
  page.append(heading(t('account.title'), a.name));
  page.append(section(t('account.profile'), facts([
    [t('field.login'), a.login], [t('field.person_name'), a.name], [t('field.email'), a.email],
    [t('field.mobile'), a.mobile], [t('account.created'), dateTime(a.createdAtUs)],
    [t('account.second_factor'), d.secondFactor ? t('common.yes') : t('common.no')],
  ])));
  const bindings = a.bindings || [];
  page.append(section(t('account.bindings'),
    bindings.some((b) => b.needsTotp) && !d.secondFactor ? notice(t('account.needs_totp'), 'warn') : null,
    bindings.some((b) => b.status === 'PENDING') ? notice(t('account.pending'), 'info') : null,
    table(t('account.bindings'), [
      [t('binding.kind'), (b) => te('BindingKind', b.kind)],
      [t('binding.subject'), (b) => b.subject || '—'],
      [t('binding.status'), (b) => te('BindingStatus', b.status)],
      [t('binding.active'), (b) => (b.id === d.activeBindingId ? t('common.yes') : '')],
    ], bindings, t('account.no_bindings'))));
  const totpBox = h('div');
  if (!a.totpEnrolled || !d.secondFactor) s_totp(ctx, totpBox);
  page.append(section(t('totp.title'), a.totpEnrolled ? h('p', null, t('totp.enrolled')) : h('p', null, t('totp.lead')), totpBox));
  const pw = new Form({
    label: t('account.password'),
    submitLabel: t('account.password_submit'),
    fields: [
      new Field({ name: 'current_password', label: t('account.current_password'), type: 'password', required: true, autocomplete: 'current-password' }),
      new Field({ name: 'new_password', label: t('account.new_password'), type: 'password', required: true, autocomplete: 'new-password', check: passwordCheck }),
    ],
    onSubmit: async (v) => {
      await api.post('/api/v1/account/password', { currentPassword: v.current_password, newPassword: v.new_password });
      pw.status.textContent = t('account.password_done');
    },
  });
  page.append(section(t('account.password'), pw.el));
  const out = new Form({
    label: t('account.end_all'),
    submitLabel: t('account.end_all'),
    onSubmit: async () => {
      await api.post('/api/v1/session/end-all');
      ctx.session.set(null);
      ctx.go('#/sign-in');
    },
  });
  page.append(section(t('account.end_all'), h('p', null, t('account.end_all_lead')), out.el));
}
