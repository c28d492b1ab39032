/*
 * ip_validate: checks of the values ip's commands carry, and the pure rules
 * of licences (territories and terms that overlap).
 *
 * Every check returns 0, or -1 with one sentence in err that names the field
 * and says how to fix it, lower case without a final period, e.g.
 *   field `content_sha256` must be 64 hex characters (a SHA-256), got 12 characters
 * Pure and thread-safe.
 */
#ifndef IP_VALIDATE_H
#define IP_VALIDATE_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "ip_chain.h"

#define IP_TITLE_MAX       200 /* characters */
#define IP_OWNERS_MAX      16
#define IP_CREATORS_MAX    32
#define IP_CREATOR_MAX     100   /* characters */
#define IP_SHARES_TOTAL    10000 /* basis points of a whole work */
#define IP_TERRITORIES_MAX 32
#define IP_TEXT_MAX        10000 /* characters of statements, answers, reasons */
#define IP_NOTE_MAX        2000
#define IP_EVIDENCE_MAX    32
#define IP_PARTY_MAX       72 /* bytes of a party id */

/* Name of an enum value ("COPYRIGHT_SOFTWARE"), or NULL when value is 0 or
 * not a value of desc. The name is static. */
const char *ip_enum_name(const ProtobufCEnumDescriptor *desc, int value);

/* Value of an enum name, or 0 when it names no value (or names the zero
 * value). Case-insensitive, '-' may stand for '_' (for people typing it). */
int ip_enum_value(const ProtobufCEnumDescriptor *desc, const char *name);

/* Writes the names of desc's non-zero values, ", "-separated, into buf. */
void ip_enum_list(const ProtobufCEnumDescriptor *desc, char *buf, size_t len);

/* An enum field that must hold a known, non-zero value. */
int ip_check_enum(const char *field, const ProtobufCEnumDescriptor *desc, int value, char *err,
                  size_t errlen);

/* A SHA-256 in hex: exactly 64 characters 0-9a-f (either case). Fills out
 * when not NULL. */
int ip_check_sha256(const char *field, const char *hex, uint8_t out[IP_HASH_LEN], char *err,
                    size_t errlen);

/* A calendar date "YYYY-MM-DD" (years 1000..9999). Sets *days to the days
 * since 1970-01-01 when days is not NULL. */
int ip_check_date(const char *field, const char *s, int64_t *days, char *err, size_t errlen);

/* Days since 1970-01-01 of today, UTC. */
int64_t ip_today_days(void);

/* A party: "org:<unified social credit code>", or "person:<id>" with an id of 1-64
 * characters of A-Z a-z 0-9 _ . - */
int ip_check_party(const char *field, const char *party, char *err, size_t errlen);

/* A work's owners: 1..IP_OWNERS_MAX, each a valid party, no party twice,
 * every share 1..10000 basis points, shares adding up to exactly 10000. */
int ip_check_owners(const ip_chain_owner *owners, size_t n, char *err, size_t errlen);

/* A licence territory: 1..IP_TERRITORIES_MAX codes, none twice, each
 * "WORLD", an ISO 3166-1 alpha-2 country ("CN") or a subdivision of one
 * ("CN-BJ": the country, '-', 1-3 upper-case letters or digits). */
int ip_check_territory(const char *field, char *const *codes, size_t n, char *err, size_t errlen);

/* 1 when two territories share any place: the same code, WORLD and
 * anything, or a country and one of its subdivisions. */
int ip_territories_overlap(char *const *a, size_t na, char *const *b, size_t nb);

/* A licence term: start and end dates, end not before start (both days
 * inclusive). Fills *start_days and *end_days when not NULL. */
int ip_check_term(const char *start, const char *end, int64_t *start_days, int64_t *end_days,
                  char *err, size_t errlen);

/* 1 when the inclusive day ranges [s1, e1] and [s2, e2] share a day. */
int ip_terms_overlap(int64_t s1, int64_t e1, int64_t s2, int64_t e2);

/* An amount of money that may be 0 but never negative. */
int ip_check_price(const char *field, int64_t fen, char *err, size_t errlen);

/* A UUID field (lower-case canonical form). */
int ip_check_uuid(const char *field, const char *s, char *err, size_t errlen);

/* "IP-00000042" for serial 42 into buf (at least 24 bytes). */
void ip_serial_text(uint64_t serial, char *buf, size_t len);

#endif
