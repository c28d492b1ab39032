/*
 * gateway_bindings: what a role binding acts as on the bus. Pure functions,
 * no I/O (unit-tested in tests/services/test_gateway_bindings.c).
 *
 * A binding is a kind and, for some kinds, a subject. It becomes the
 * envelope's actor id and one of its roles, keeping each service's own
 * actor-id conventions (intake_actor_org, funding_actor_org, ip_actor_party,
 * stats_caller_get, evaluation_actor_subject):
 *
 *   kind          subject        actor id           roles
 *   ORGANISATION  USCC           org:<USCC>         applicant grantee owner operator
 *   STAFF         -              person:<login>     staff
 *   FINANCE       -              person:<login>     finance
 *   EXPERT        expert id      expert:<id>        expert
 *   AGENCY        agency id      agency:<id>        agency
 *   OFFICE        -              person:<login>     office
 *   ANALYST       -              person:<login>     analyst
 *   DISTRICT      district code  district:<code>    district
 *   ADMIN         -              person:<login>     admin
 *
 * For a command, the role is the first of the handler's roles that the
 * binding holds (a handler open to anyone: the binding's first role).
 */
#ifndef GATEWAY_BINDINGS_H
#define GATEWAY_BINDINGS_H

#include <stddef.h>

#include "ccip/gateway.pb-c.h"

/* Longest subject: a USCC (18), an expert or agency id, a district code. */
#define GATEWAY_SUBJECT_MAX 64
/* Longest login. */
#define GATEWAY_LOGIN_MAX 64
/* Room for an actor id: "district:" + subject, or "person:" + login. */
#define GATEWAY_ACTOR_MAX 80

typedef struct {
    Ccip__Gateway__BindingKind kind;
    const char *name;         /* the enum value's name, as stored: "ORGANISATION" */
    int has_subject;          /* 1: the binding names a USCC, an id or a district */
    int needs_totp;           /* 1: acts only in a session with a second factor */
    int staff_may_grant;      /* 1: staff (not only admins) may grant and invite it */
    const char *actor_prefix; /* "org:", ...; "person:" is followed by the login */
    const char *const *roles; /* NULL-terminated service roles, the first the default */
} gateway_kind_info;

/* The description of a kind, or NULL for UNSPECIFIED and unknown values. */
const gateway_kind_info *gateway_kind(Ccip__Gateway__BindingKind kind);

/* The kind stored as `name` ("STAFF"), or NULL. */
const gateway_kind_info *gateway_kind_by_name(const char *name);

/* Writes the actor id of a binding into buf: "<prefix><subject>", or
 * "person:<login>" for kinds without a subject. Returns 0, or -1 when it
 * does not fit (buf is then ""). */
int gateway_binding_actor(const gateway_kind_info *k, const char *subject, const char *login,
                          char *buf, size_t len);

/* The role a binding of kind k acts in for a handler allowing
 * handler_roles (NULL-terminated; NULL = any caller): the first of them
 * the kind holds, or the kind's first role when the handler takes anyone.
 * Returns a static string, or NULL when the kind holds none of them. */
const char *gateway_binding_role_for(const gateway_kind_info *k, const char *const *handler_roles);

/* Checks the form of a subject for kind k (not that it exists: see
 * gateway_subjects.h): a valid USCC, a district code of Beijing, an expert
 * or agency id as evaluation's registers write them; "" for kinds without
 * a subject. Returns 0, or -1 with a sentence in err naming field
 * `subject`. */
int gateway_subject_check(const gateway_kind_info *k, const char *subject, char *err,
                          size_t errlen);

/* Checks a login: 3..64 characters of [a-z0-9._-], starting with a letter
 * or digit. Returns 0 or -1 with err naming field `login`. */
int gateway_login_check(const char *login, char *err, size_t errlen);

/* Checks a new password: 10..128 characters, valid UTF-8, no control
 * characters. Returns 0 or -1 with err naming `field`. */
int gateway_password_check(const char *field, const char *password, char *err, size_t errlen);

/* Checks an e-mail address loosely (one '@', something on both sides, a
 * dot in the domain, no spaces, at most 254 bytes). Returns 0 or -1 with
 * err naming field `email`. */
int gateway_email_check(const char *email, char *err, size_t errlen);

/* Checks a mobile number: "" or 6..20 characters of digits, spaces, '+'
 * and '-'. Returns 0 or -1 with err naming field `mobile`. */
int gateway_mobile_check(const char *mobile, char *err, size_t errlen);

#endif
