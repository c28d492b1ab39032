#include "gateway_bindings.h"

#include <stdio.h>
#include <string.h>

#include "ccip_validate.h"

/* Longest expert or agency id (evaluation's registers: EVALUATION_ID_MAX). */
#define S_REGISTER_ID_MAX 32

static const char *const S_ORG_ROLES[] = {"applicant", "grantee", "owner", "operator", NULL};
static const char *const S_STAFF[] = {"staff", NULL};
static const char *const S_FINANCE[] = {"finance", NULL};
static const char *const S_EXPERT[] = {"expert", NULL};
static const char *const S_AGENCY[] = {"agency", NULL};
static const char *const S_OFFICE[] = {"office", NULL};
static const char *const S_ANALYST[] = {"analyst", NULL};
static const char *const S_DISTRICT[] = {"district", NULL};
static const char *const S_ADMIN[] = {"admin", NULL};

/* Finance needs the second factor too (the issue names staff, office,
 * analyst and admin): it approves payments, which is no less privileged. */
static const gateway_kind_info S_KINDS[] = {
    {CCIP__GATEWAY__BINDING_KIND__ORGANISATION, "ORGANISATION", 1, 0, 1, "org:", S_ORG_ROLES},
    {CCIP__GATEWAY__BINDING_KIND__STAFF, "STAFF", 0, 1, 0, "person:", S_STAFF},
    {CCIP__GATEWAY__BINDING_KIND__FINANCE, "FINANCE", 0, 1, 0, "person:", S_FINANCE},
    {CCIP__GATEWAY__BINDING_KIND__EXPERT, "EXPERT", 1, 0, 1, "expert:", S_EXPERT},
    {CCIP__GATEWAY__BINDING_KIND__AGENCY, "AGENCY", 1, 0, 1, "agency:", S_AGENCY},
    {CCIP__GATEWAY__BINDING_KIND__OFFICE, "OFFICE", 0, 1, 0, "person:", S_OFFICE},
    {CCIP__GATEWAY__BINDING_KIND__ANALYST, "ANALYST", 0, 1, 0, "person:", S_ANALYST},
    {CCIP__GATEWAY__BINDING_KIND__DISTRICT, "DISTRICT", 1, 0, 1, "district:", S_DISTRICT},
    {CCIP__GATEWAY__BINDING_KIND__ADMIN, "ADMIN", 0, 1, 0, "person:", S_ADMIN},
};
#define S_NKINDS (sizeof S_KINDS / sizeof S_KINDS[0])

const gateway_kind_info *gateway_kind(Ccip__Gateway__BindingKind kind)
{
    for (size_t i = 0; i < S_NKINDS; i++)
        if (S_KINDS[i].kind == kind)
            return &S_KINDS[i];
    return NULL;
}

const gateway_kind_info *gateway_kind_by_name(const char *name)
{
    for (size_t i = 0; name && i < S_NKINDS; i++)
        if (strcmp(S_KINDS[i].name, name) == 0)
            return &S_KINDS[i];
    return NULL;
}

int gateway_binding_actor(const gateway_kind_info *k, const char *subject, const char *login,
                          char *buf, size_t len)
{
    const char *rest = k->has_subject ? subject : login;
    int n = snprintf(buf, len, "%s%s", k->actor_prefix, rest ? rest : "");
    if (n < 0 || (size_t)n >= len) {
        if (len)
            buf[0] = '\0';
        return -1;
    }
    return 0;
}

const char *gateway_binding_role_for(const gateway_kind_info *k, const char *const *handler_roles)
{
    if (!handler_roles)
        return k->roles[0];
    for (const char *const *h = handler_roles; *h; h++)
        for (const char *const *r = k->roles; *r; r++)
            if (strcmp(*h, *r) == 0)
                return *r;
    return NULL;
}

int gateway_subject_check(const gateway_kind_info *k, const char *subject, char *err, size_t errlen)
{
    if (!k->has_subject) {
        if (subject && subject[0]) {
            snprintf(err, errlen, "field `subject` must be empty for a %s binding, got \"%.40s\"",
                     k->name, subject);
            return -1;
        }
        return 0;
    }
    if (!subject || !subject[0]) {
        snprintf(err, errlen, "field `subject` is required for a %s binding (%s)", k->name,
                 k->kind == CCIP__GATEWAY__BINDING_KIND__ORGANISATION ? "the organisation's "
                                                                        "unified social credit code"
                 : k->kind == CCIP__GATEWAY__BINDING_KIND__DISTRICT   ? "the district's code, "
                                                                        "e.g. 110105"
                                                                      : "the register id");
        return -1;
    }
    char why[300];
    switch (k->kind) {
    case CCIP__GATEWAY__BINDING_KIND__ORGANISATION:
        if (ccip_uscc_check(subject, why, sizeof why) < 0) {
            snprintf(err, errlen, "field `subject`: %s", why);
            return -1;
        }
        return 0;
    case CCIP__GATEWAY__BINDING_KIND__DISTRICT: {
        const ccip_district *d = ccip_district_find(subject);
        if (!d || strcmp(d->code, subject) != 0) {
            snprintf(err, errlen,
                     "field `subject` must be the code of a district of Beijing such as 110105, "
                     "got \"%.20s\"",
                     subject);
            return -1;
        }
        return 0;
    }
    default:
        return ccip_code_check("subject", subject, S_REGISTER_ID_MAX, err, errlen);
    }
}

int gateway_login_check(const char *login, char *err, size_t errlen)
{
    size_t n = login ? strlen(login) : 0;
    if (n < 3 || n > GATEWAY_LOGIN_MAX) {
        snprintf(err, errlen, "field `login` must be 3 to %d characters, got %zu",
                 GATEWAY_LOGIN_MAX, n);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        char c = login[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 (i > 0 && (c == '.' || c == '_' || c == '-'));
        if (!ok) {
            snprintf(err, errlen,
                     "field `login` may hold only lower-case letters a-z, digits and (not first) "
                     "'.', '_' and '-'; character %zu is not one of them",
                     i + 1);
            return -1;
        }
    }
    return 0;
}

int gateway_password_check(const char *field, const char *password, char *err, size_t errlen)
{
    size_t n = password ? strlen(password) : 0;
    if (!ccip_utf8_valid(password ? password : "", n)) {
        snprintf(err, errlen, "field `%s` must be valid UTF-8", field);
        return -1;
    }
    size_t chars = ccip_utf8_chars(password ? password : "");
    if (chars < 10 || chars > 128) {
        snprintf(err, errlen, "field `%s` must be 10 to 128 characters long, got %zu", field,
                 chars);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)password[i] < 0x20 || password[i] == 0x7f) {
            snprintf(err, errlen, "field `%s` must not contain control characters", field);
            return -1;
        }
    return 0;
}

int gateway_email_check(const char *email, char *err, size_t errlen)
{
    size_t n = email ? strlen(email) : 0;
    const char *at = n ? strchr(email, '@') : NULL;
    int ok = n >= 3 && n <= 254 && at && at != email && !strchr(at + 1, '@') &&
             strchr(at + 1, '.') && at[1] != '.' && email[n - 1] != '.';
    for (size_t i = 0; ok && i < n; i++)
        if ((unsigned char)email[i] <= ' ' || email[i] == 0x7f)
            ok = 0;
    if (!ok || !ccip_utf8_valid(email, n)) {
        char shown[80];
        snprintf(err, errlen,
                 "field `email` must be an e-mail address such as li.na@example.cn, "
                 "got \"%s\"",
                 ccip_text_shown(email, 60, shown, sizeof shown));
        return -1;
    }
    return 0;
}

int gateway_mobile_check(const char *mobile, char *err, size_t errlen)
{
    size_t n = mobile ? strlen(mobile) : 0;
    if (n == 0)
        return 0;
    int ok = n >= 6 && n <= 20;
    for (size_t i = 0; ok && i < n; i++) {
        char c = mobile[i];
        ok = (c >= '0' && c <= '9') || c == ' ' || c == '+' || c == '-';
    }
    if (!ok) {
        char shown[40];
        snprintf(err, errlen,
                 "field `mobile` must be a telephone number of 6 to 20 digits, spaces, '+' and "
                 "'-', such as +86 138 0000 0000, got \"%s\"",
                 ccip_text_shown(mobile, 24, shown, sizeof shown));
        return -1;
    }
    return 0;
}
