/*
 * intake_validate: checks of intake's command payloads that need no
 * database. Each says what is wrong with which field and how to fix it, in
 * one sentence a person can act on (lower case, no final period):
 *
 *   field `title` is empty; give 1 to 200 characters
 *   field `requested_fen` must be at most 50000000 (the call's maximum, 500000.00 yuan), got ...
 *   field `content` of document "plan.pdf" is 3145728 bytes; at most 2097152 are accepted ...
 *
 * Every function returns 0 when the value is acceptable, or -1 with the
 * sentence in err (cut to errlen - 1 bytes; err may be NULL). Pure and
 * thread-safe.
 */
#ifndef INTAKE_VALIDATE_H
#define INTAKE_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "ccip/intake.pb-c.h"

#define INTAKE_YEAR_MIN          2000
#define INTAKE_YEAR_MAX          2100
#define INTAKE_TITLE_MAX         200  /* characters of a call's or application's title */
#define INTAKE_SUMMARY_MAX       4000 /* characters of an application's summary */
#define INTAKE_NAME_MAX          200  /* organisation, cluster, programme, budget item names */
#define INTAKE_PERSON_MAX        100  /* a person's name */
#define INTAKE_ADDRESS_MAX       500  /* addresses and locations */
#define INTAKE_REASON_MAX        2000 /* reasons and notes */
#define INTAKE_CODE_MAX          64   /* document types, fund programme codes */
#define INTAKE_FILE_NAME_MAX     255  /* a document's file name */
#define INTAKE_MEDIA_TYPE_MAX    127  /* "application/pdf" */
#define INTAKE_REQUIRED_DOCS_MAX 32   /* document types one call may require */
#define INTAKE_LIST_MAX          200  /* training programmes, budget lines */
#define INTAKE_PHONE_MAX         40
#define INTAKE_EMAIL_MAX         254
/* Documents one application may carry: the accepted event lists them all
 * and must stay well below an event's size limit (CCIP_OUTBOX_PAYLOAD_MAX). */
#define INTAKE_DOCUMENTS_MAX 100

/* A UUID in canonical lower-case form, named `field`. */
int intake_validate_uuid(const char *field, const char *s, char *err, size_t errlen);

/* OpenCallRequest: kind known; year in range; title 1..200 characters;
 * closes after it opens; required document types are codes, at most 32,
 * without repeats; eligible types known, without repeats; for special funds
 * a fund programme code and a positive maximum, for other kinds neither. */
int intake_validate_open_call(const Ccip__Intake__OpenCallRequest *rq, char *err, size_t errlen);

/* RegisterOrganisationRequest: a valid unified social credit code, a name,
 * a known type, one of Beijing's districts (code or name), the legal
 * representative, a contact person and phone number; an e-mail address and
 * an address are optional. */
int intake_validate_organisation(const Ccip__Intake__RegisterOrganisationRequest *rq, char *err,
                                 size_t errlen);

/* The format of an application's content for a call of `kind` whose
 * maximum request is max_request_fen: a title; text fields valid UTF-8
 * within their lengths; a known district when one is given; a requested
 * amount that is not negative and at most the maximum (special funds) or
 * zero (other kinds); facts, when given, of the call's kind with no negative
 * numbers. What may still be missing in a draft is checked by
 * intake_incomplete. */
int intake_validate_content(const Ccip__Intake__ApplicationContent *c, Ccip__Intake__CallKind kind,
                            int64_t max_request_fen, char *err, size_t errlen);

/* AddDocumentRequest: document type a code, a file name without path
 * separators, a media type "type/subtype", content of 1..max_bytes bytes.
 * from_message_cap says the limit comes from the message size (the
 * sentence then names limits.max_message_bytes, else
 * intake.max_document_bytes). */
int intake_validate_document(const Ccip__Intake__AddDocumentRequest *rq, int64_t max_bytes,
                             int from_message_cap, char *err, size_t errlen);

/* A reason or note of at most INTAKE_REASON_MAX characters (several lines
 * allowed), required or not; `purpose` completes "field `reason` is empty;
 * say <purpose>". */
int intake_validate_reason(const char *s, int required, const char *purpose, char *err,
                           size_t errlen);

/* What an application still lacks before it can be submitted, apart from
 * documents: writes the problems, "; "-separated, into out (out may be
 * NULL) and returns how many there are (0 = complete). */
int intake_incomplete(const Ccip__Intake__ApplicationContent *c, Ccip__Intake__CallKind kind,
                      char *out, size_t len);

#endif
