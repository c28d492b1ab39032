/*
 * intake_filing: a complete application in one command,
 * intake.application.file.v1 (FileApplicationRequest -> ApplicationReply).
 *
 * The application arrives whole: call, organisation, content with the
 * kind's facts, and its documents inline. It is drafted and submitted in
 * one transaction, so it either exists SUBMITTED with all of its documents
 * or does not exist at all. Every rule of draft, document.add and submit
 * holds, with the same sentences where they can be the same:
 *  - only the organisation's own users (role applicant, actor
 *    "org:<USCC>"); applicant_uscc "" means the caller's own;
 *  - content valid for the call's kind (title, UTF-8, lengths, a known
 *    district, requested amount positive and at most the call's maximum),
 *    the organisation eligible for the call;
 *  - one live application per organisation per call: one already stored,
 *    or one filed by an earlier command of the same batch, refuses with
 *    ALREADY_EXISTS naming it;
 *  - the call accepts submissions now (the error says when it opens or
 *    when it closed);
 *  - complete: title, summary, the kind's facts, and every document type
 *    the call requires (the error lists what is missing);
 *  - documents: at most INTAKE_DOCUMENTS_MAX, each a code type, a file
 *    name, a media type and 1..intake.max_document_bytes bytes; the same
 *    content twice under one type is refused; content is stored once per
 *    SHA-256 (computed by PostgreSQL), however many applications carry it;
 *  - a refused command writes nothing.
 * What is written is what intake.application.draft.v1, document.add.v1
 * and submit.v1 would have written: the application (SUBMITTED, one
 * submission), its facts, blobs and documents, two history rows (created
 * as DRAFT, DRAFT -> SUBMITTED, both under this command's id), the
 * applicant's view and its two timeline entries; it emits
 * intake.application.submitted.v1. Organisations need not be verified to
 * file, as to submit (staff verify before accepting).
 *
 * Throughput: the batch handler checks a batch's commands in C, reads what
 * it needs for all of them (calls with their windows, organisations, live
 * applications) in ONE statement, and writes every accepted application
 * with its rows in ONE statement of set-based INSERTs (INSERT ... SELECT
 * FROM unnest(...), one per table), whatever the batch's size.
 */
#ifndef INTAKE_FILING_H
#define INTAKE_FILING_H

#include "intake.h"

/* Batch handler (ccip_command_batch_fn): n commands of
 * intake.application.file.v1 inside their batch's transaction, each ending
 * as if run alone one after the other. Returns 0, or the ccip_db_rc of a
 * failed statement (CCIP_DB_RETRYABLE when another transaction filed a
 * live application for the same organisation and call first: the batch
 * runs again and sees it). */
int intake_application_file_batch(ccip_command *const *cmds, size_t n);

#endif
