/*
 * intake_documents: the documents of an application. The applicant adds
 * them (name, media type, content) while the application is a DRAFT or
 * RETURNED; intake records the size and the SHA-256 computed by PostgreSQL
 * (sha256()), and stores the content once per distinct hash in table blob,
 * however many applications carry it. The size limit is the setting
 * intake.max_document_bytes, lowered to what fits in one message.
 */
#ifndef INTAKE_DOCUMENTS_H
#define INTAKE_DOCUMENTS_H

#include "intake.h"
#include "ccip_arena.h"

/* Command handlers (see intake_def). */
int intake_document_add(ccip_command *cmd, ccip_arena *a,
                        void *request); /* intake.application.document.add.v1 */
int intake_document_remove(ccip_command *cmd, ccip_arena *a,
                           void *request); /* intake.application.document.remove.v1 */
int intake_document_get(ccip_command *cmd, ccip_arena *a,
                        void *request); /* intake.document.get.v1: with content */

/* Loads the documents of application app_id, oldest first, into *out (n
 * entries) allocated from a. Returns 0, CCIP_REPLIED (out of memory) or a
 * ccip_db_rc. */
int intake_documents_load(ccip_command *cmd, const char *app_id, ccip_arena *a,
                          Ccip__Intake__Document ***out, size_t *n);

/* Writes the document types call_id requires that application app_id does
 * not carry, ", "-separated in the call's order, into out, and their number
 * into *n. Returns 0 or a ccip_db_rc. */
int intake_documents_missing(ccip_command *cmd, const char *app_id, const char *call_id, char *out,
                             size_t len, int *n);

#endif
