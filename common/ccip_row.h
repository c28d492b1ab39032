/*
 * ccip_row: a row of a query result into the fields of a protobuf message.
 *
 * Every service turns result rows into reply and event messages. Rather
 * than a line per field,
 *
 *   g->id = ccip_arena_strdup(a, PQgetvalue(res, i, 0));
 *   g->capacity = (int32_t)ccip_db_cell_i64(res, i, 4);
 *   g->active = PQgetvalue(res, i, 6)[0] == 't';
 *
 * a reader names the message's fields in the order of the result's
 * columns, the way its SELECT lists them:
 *
 *   ccip_row_fill(&g->base, res, i, 0, "id, name, uscc, qualification, capacity, load, active", a);
 *
 * Each column's text becomes its field's value by the field's type:
 *   string      copied into the arena; NULL reads ""
 *   integers    parsed in decimal (int32, int64, uint32, uint64 and their
 *               sint/fixed kinds); NULL reads 0
 *   bool        true for "t" (PostgreSQL's text of true); NULL reads false
 *   enum        the value whose name the text is (how services store
 *               enums); an unknown name or NULL reads 0, the UNSPECIFIED value
 * An empty name skips its column ("id, , title" reads columns 0 and 2).
 * Repeated, message, bytes and floating fields, and anything computed from
 * several columns, stay the caller's, after the call.
 */
#ifndef CCIP_ROW_H
#define CCIP_ROW_H

#include <libpq-fe.h>
#include <protobuf-c/protobuf-c.h>

#include "ccip_arena.h"

/* Fills the fields of msg named in `fields` (comma-separated, spaces allowed)
 * from row `row` of res, the first name's column being col0. Fields not
 * named keep their values. Returns 0; or -1 (logged, naming the field and
 * the message) when a name is not a singular string, integer, bool or enum
 * field of msg, or res has fewer columns than the names need: a mistake in
 * the code, which the first test that reads such a row shows. Memory
 * running out is left to the arena, as with ccip_arena_strdup: strings then
 * read "" and ccip_arena_failed(a) says so. */
int ccip_row_fill(ProtobufCMessage *msg, const PGresult *res, int row, int col0, const char *fields,
                  ccip_arena *a);

/* A new message of desc, allocated from a and initialised, its fields
 * filled from the row as ccip_row_fill does:
 *
 *   Ccip__Funding__Payment *p =
 *       ccip_row_new(a, CCIP_MSG(funding, payment), res, r, 0, "id, award_id, amount_fen");
 *
 * Returns it, or NULL when memory ran out or the field list is a mistake
 * (logged). */
void *ccip_row_new(ccip_arena *a, const ProtobufCMessageDescriptor *desc, const PGresult *res,
                   int row, int col0, const char *fields);

#endif
