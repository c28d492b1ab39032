/*
 * ccip_row: the columns of a row land in the fields they are named for,
 * converted by the field's type; a name that is no such field is refused.
 * The results are built in memory (libpq's PQsetvalue), no server needed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "ccip/envelope.pb-c.h"
#include "ccip/intake.pb-c.h"
#include "ccip_row.h"

/* A result of one row with the given texts (NULL: a NULL cell). */
static PGresult *s_result(const char *const *cells, int n)
{
    PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    assert_non_null(res);
    PGresAttDesc attrs[16];
    char names[16][16];
    memset(attrs, 0, sizeof attrs);
    for (int i = 0; i < n; i++) {
        snprintf(names[i], sizeof names[i], "c%d", i);
        attrs[i].name = names[i];
        attrs[i].typid = 25; /* text */
        attrs[i].typlen = -1;
        attrs[i].atttypmod = -1;
    }
    assert_int_equal(PQsetResultAttrs(res, n, attrs), 1);
    for (int i = 0; i < n; i++)
        assert_int_equal(
            PQsetvalue(res, 0, i, (char *)cells[i], cells[i] ? (int)strlen(cells[i]) : -1), 1);
    return res;
}

static void test_fields_by_type(void **state)
{
    (void)state;
    static const char *const cells[] = {"skipped",
                                        "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b",
                                        "SPECIAL_FUND_PROJECT",
                                        "2027",
                                        "文化创意 2027",
                                        "",
                                        "1798761600000000",
                                        "t"};
    PGresult *res = s_result(cells, 8);
    ccip_arena *a = ccip_arena_new();
    Ccip__Intake__Call c = CCIP__INTAKE__CALL__INIT;
    assert_int_equal(
        ccip_row_fill(&c.base, res, 0, 1, "id, kind,year, title, , opens_at_us,accepting", a), 0);
    assert_string_equal(c.id, "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b");
    assert_int_equal(c.kind, CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT);
    assert_int_equal(c.year, 2027);
    assert_string_equal(c.title, "文化创意 2027");
    assert_true(c.opens_at_us == INT64_C(1798761600000000));
    assert_true(c.accepting);
    assert_string_equal(c.close_reason, ""); /* not named: untouched */
    assert_false(ccip_arena_failed(a));
    PQclear(res);

    /* Unsigned fields: an event's position. */
    static const char *const pos[] = {"18446744073709551615"};
    res = s_result(pos, 1);
    Ccip__Envelope e = CCIP__ENVELOPE__INIT;
    assert_int_equal(ccip_row_fill(&e.base, res, 0, 0, "position", a), 0);
    assert_true(e.position == UINT64_MAX);
    PQclear(res);
    ccip_arena_destroy(&a);
}

static void test_new_message(void **state)
{
    (void)state;
    static const char *const cells[] = {"文化创意", "2027"};
    PGresult *res = s_result(cells, 2);
    ccip_arena *a = ccip_arena_new();
    Ccip__Intake__Call *c =
        ccip_row_new(a, &ccip__intake__call__descriptor, res, 0, 0, "title, year");
    assert_non_null(c);
    assert_ptr_equal(c->base.descriptor, &ccip__intake__call__descriptor);
    assert_string_equal(c->title, "文化创意");
    assert_int_equal(c->year, 2027);
    assert_string_equal(c->id, ""); /* initialised, not named */
    assert_null(ccip_row_new(a, &ccip__intake__call__descriptor, res, 0, 0, "title, nope"));
    PQclear(res);
    ccip_arena_destroy(&a);
}

static void test_nulls_read_as_zero_values(void **state)
{
    (void)state;
    static const char *const cells[] = {NULL, NULL, NULL, NULL, NULL};
    PGresult *res = s_result(cells, 5);
    ccip_arena *a = ccip_arena_new();
    Ccip__Intake__Call c = CCIP__INTAKE__CALL__INIT;
    c.year = 1;
    c.accepting = 1;
    assert_int_equal(ccip_row_fill(&c.base, res, 0, 0, "title,kind,year,closed_at_us,accepting", a),
                     0);
    assert_string_equal(c.title, "");
    assert_int_equal(c.kind, 0);
    assert_int_equal(c.year, 0);
    assert_true(c.closed_at_us == 0);
    assert_false(c.accepting);
    PQclear(res);
    /* An enum name that is not a value reads as UNSPECIFIED. */
    static const char *const odd[] = {"SCULPTURE"};
    res = s_result(odd, 1);
    c.kind = CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT;
    assert_int_equal(ccip_row_fill(&c.base, res, 0, 0, "kind", a), 0);
    assert_int_equal(c.kind, 0);
    PQclear(res);
    ccip_arena_destroy(&a);
}

static void test_mistakes_are_refused(void **state)
{
    (void)state;
    static const char *const cells[] = {"x", "y"};
    PGresult *res = s_result(cells, 2);
    ccip_arena *a = ccip_arena_new();
    Ccip__Intake__Call c = CCIP__INTAKE__CALL__INIT;
    assert_int_equal(ccip_row_fill(&c.base, res, 0, 0, "id,no_such_field", a), -1);
    assert_int_equal(ccip_row_fill(&c.base, res, 0, 0, "required_documents", a), -1); /* repeated */
    assert_int_equal(ccip_row_fill(&c.base, res, 0, 0, "id,title,opened_by", a),
                     -1); /* 2 columns */
    assert_int_equal(ccip_row_fill(&c.base, res, 0, 1, "id,title", a), -1);
    Ccip__Intake__ApplicationReply r = CCIP__INTAKE__APPLICATION_REPLY__INIT;
    assert_int_equal(ccip_row_fill(&r.base, res, 0, 0, "application", a), -1); /* a message */
    PQclear(res);
    ccip_arena_destroy(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_by_type),
        cmocka_unit_test(test_new_message),
        cmocka_unit_test(test_nulls_read_as_zero_values),
        cmocka_unit_test(test_mistakes_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
