/*
 * evaluation_assign: conflict detection and the assignment algorithm,
 * without a database: every rule of the algorithm, determinism whatever the
 * order of the candidates, and load caps that hold over a long run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evaluation_assign.h"

#define APPLICANT "91110105MA01ABCD2X"
#define OTHER_ORG "91110108MA02WXYZ3C"

static const char *const s_phones[] = {"13800138000"};
static const char *const s_emails[] = {"li.ming@example.com"};

static evaluation_case_facts s_facts(int same_district)
{
    evaluation_case_facts f = {
        .applicant_uscc = APPLICANT,
        .district_code = "110105",
        .contact_phones = s_phones,
        .ncontact_phones = 1,
        .contact_emails = s_emails,
        .ncontact_emails = 1,
        .same_district_conflict = same_district,
    };
    return f;
}

static evaluation_candidate s_cand(const char *id, int load, int capacity)
{
    evaluation_candidate c = {.id = id,
                              .affiliation_uscc = OTHER_ORG,
                              .district_code = "110108",
                              .phone = "",
                              .email = "",
                              .load = load,
                              .capacity = capacity,
                              .active = 1};
    return c;
}

/* ---- conflicts ---------------------------------------------------------- */

static void test_no_conflict(void **state)
{
    (void)state;
    evaluation_case_facts f = s_facts(1);
    evaluation_candidate c = s_cand("EX-1", 0, 3);
    assert_int_equal(evaluation_conflicts(&c, &f), 0);
    char text[64];
    evaluation_conflict_text(0, text, sizeof text);
    assert_string_equal(text, "none");
}

static void test_each_conflict_type(void **state)
{
    (void)state;
    evaluation_case_facts f = s_facts(0);
    evaluation_candidate c = s_cand("EX-1", 0, 3);

    c.affiliation_uscc = APPLICANT;
    assert_int_equal(evaluation_conflicts(&c, &f), EVALUATION_CONFLICT_SAME_AFFILIATION);

    c = s_cand("EX-1", 0, 3);
    const char *declared[] = {OTHER_ORG, APPLICANT};
    c.declared = declared;
    c.ndeclared = 2;
    assert_int_equal(evaluation_conflicts(&c, &f), EVALUATION_CONFLICT_DECLARED);

    c = s_cand("EX-1", 0, 3);
    c.phone = "13800138000";
    assert_int_equal(evaluation_conflicts(&c, &f), EVALUATION_CONFLICT_CONTACT);
    c = s_cand("EX-1", 0, 3);
    c.email = "li.ming@example.com";
    assert_int_equal(evaluation_conflicts(&c, &f), EVALUATION_CONFLICT_CONTACT);

    /* Same district counts only when the service is configured so. */
    c = s_cand("EX-1", 0, 3);
    c.district_code = "110105";
    assert_int_equal(evaluation_conflicts(&c, &f), 0);
    f.same_district_conflict = 1;
    assert_int_equal(evaluation_conflicts(&c, &f), EVALUATION_CONFLICT_SAME_DISTRICT);
    /* Agencies have no district and never conflict by district. */
    c.district_code = NULL;
    assert_int_equal(evaluation_conflicts(&c, &f), 0);

    /* Several at once, named in bit order. */
    c = s_cand("EX-1", 0, 3);
    c.affiliation_uscc = APPLICANT;
    c.email = "li.ming@example.com";
    c.district_code = "110105";
    unsigned bits = evaluation_conflicts(&c, &f);
    char text[128];
    evaluation_conflict_text(bits, text, sizeof text);
    assert_string_equal(text, "SAME_AFFILIATION, APPLICANT_CONTACT, SAME_DISTRICT");
    assert_int_equal(evaluation_conflict_bit("DECLARED_CONFLICT"), EVALUATION_CONFLICT_DECLARED);
    assert_int_equal(evaluation_conflict_bit("nonsense"), 0);
}

static void test_contact_normalisation(void **state)
{
    (void)state;
    char out[64];
    evaluation_phone_norm("+86 138-0013-8000", out, sizeof out);
    assert_string_equal(out, "8613800138000");
    evaluation_phone_norm("(010) 6512 3456", out, sizeof out);
    assert_string_equal(out, "01065123456");
    evaluation_phone_norm("12-34", out, sizeof out); /* too short to compare */
    assert_string_equal(out, "");
    evaluation_phone_norm(NULL, out, sizeof out);
    assert_string_equal(out, "");
    evaluation_email_norm("  Li.Ming@Example.COM ", out, sizeof out);
    assert_string_equal(out, "li.ming@example.com");
    evaluation_email_norm("not-an-address", out, sizeof out);
    assert_string_equal(out, "");
}

/* ---- selection ------------------------------------------------------------ */

/* Runs a selection and writes the chosen ids, comma-separated, into out. */
static int s_run(const evaluation_candidate *c, size_t n, const evaluation_case_facts *f,
                 const evaluation_select_opts *o, char *out, size_t len)
{
    size_t chosen[32];
    evaluation_skip skipped[32];
    size_t nskipped = 0;
    int k = evaluation_select(c, n, f, o, chosen, skipped, 32, &nskipped);
    assert_true(k >= 0);
    out[0] = '\0';
    size_t used = 0;
    for (int i = 0; i < k; i++)
        used += (size_t)snprintf(out + used, len - used, "%s%s", i ? "," : "", c[chosen[i]].id);
    return k;
}

static void test_rank_by_load_then_id(void **state)
{
    (void)state;
    evaluation_case_facts f = s_facts(0);
    evaluation_candidate c[] = {s_cand("EX-9", 1, 5), s_cand("EX-3", 2, 5), s_cand("EX-5", 0, 5),
                                s_cand("EX-1", 1, 5), s_cand("EX-2", 0, 5)};
    /* distinct affiliations so none is skipped for the panel rule */
    const char *orgs[] = {"91110101MA00000001", "91110101MA00000002", "91110101MA00000003",
                          "91110101MA00000004", "91110101MA00000005"};
    for (int i = 0; i < 5; i++)
        c[i].affiliation_uscc = orgs[i];
    evaluation_select_opts o = {.want = 4, .one_per_affiliation = 1};
    char got[128];
    assert_int_equal(s_run(c, 5, &f, &o, got, sizeof got), 4);
    /* load 0 first (EX-2 before EX-5: byte order), then load 1 (EX-1, EX-9) */
    assert_string_equal(got, "EX-2,EX-5,EX-1,EX-9");
}

/* The same candidates in every order give the same panel. */
static void test_deterministic_whatever_the_order(void **state)
{
    (void)state;
    evaluation_case_facts f = s_facts(1);
    enum { N = 40 };
    evaluation_candidate base[N];
    char ids[N][16], orgs[N][24];
    const char *declared[] = {APPLICANT};
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof ids[i], "EX-%03d", (i * 17) % N);
        snprintf(orgs[i], sizeof orgs[i], "9111010%dMA0000%04d", i % 3, i % 7);
        base[i] = s_cand(ids[i], i % 4, 3);
        base[i].affiliation_uscc = orgs[i];
        if (i % 5 == 0) {
            base[i].declared = declared;
            base[i].ndeclared = 1;
        }
        if (i % 6 == 0)
            base[i].district_code = "110105";
        if (i % 9 == 0)
            base[i].active = 0;
    }
    evaluation_select_opts o = {.want = 5, .one_per_affiliation = 1};
    char first[256], got[256];
    int k = s_run(base, N, &f, &o, first, sizeof first);
    assert_int_equal(k, 5);
    srand(12345);
    for (int round = 0; round < 200; round++) {
        evaluation_candidate shuffled[N];
        memcpy(shuffled, base, sizeof base);
        for (int i = N - 1; i > 0; i--) {
            int j = rand() % (i + 1);
            evaluation_candidate t = shuffled[i];
            shuffled[i] = shuffled[j];
            shuffled[j] = t;
        }
        assert_int_equal(s_run(shuffled, N, &f, &o, got, sizeof got), k);
        assert_string_equal(got, first);
    }
}

static void test_skips_with_reasons(void **state)
{
    (void)state;
    evaluation_case_facts f = s_facts(0);
    evaluation_candidate c[] = {
        s_cand("A-full", 0, 0),      /* capacity 0: never */
        s_cand("B-conflict", 0, 5),  /* same affiliation */
        s_cand("C-inactive", 0, 5),  /* inactive */
        s_cand("D-excluded", 0, 5),  /* declined this case before */
        s_cand("E-ok", 0, 5),        /* chosen */
        s_cand("F-same-org", 0, 5),  /* same affiliation as E, on the panel */
        s_cand("G-ok", 1, 5),        /* chosen */
        s_cand("H-never-seen", 2, 5) /* past the last chosen: not looked at */
    };
    c[1].affiliation_uscc = APPLICANT;
    c[2].active = 0;
    c[5].affiliation_uscc = c[4].affiliation_uscc;
    c[6].affiliation_uscc = "91110101MA00000009";
    const char *exclude[] = {"D-excluded"};
    evaluation_select_opts o = {
        .want = 2, .exclude = exclude, .nexclude = 1, .one_per_affiliation = 1};
    size_t chosen[2], nskipped;
    evaluation_skip skipped[8];
    assert_int_equal(evaluation_select(c, 8, &f, &o, chosen, skipped, 8, &nskipped), 2);
    assert_string_equal(c[chosen[0]].id, "E-ok");
    assert_string_equal(c[chosen[1]].id, "G-ok");
    assert_int_equal(nskipped, 5);
    assert_int_equal(skipped[0].reason, EVALUATION_SKIP_CAPACITY);
    assert_int_equal(skipped[1].reason, EVALUATION_SKIP_CONFLICT);
    assert_int_equal(skipped[1].conflicts, EVALUATION_CONFLICT_SAME_AFFILIATION);
    assert_int_equal(skipped[2].reason, EVALUATION_SKIP_INACTIVE);
    assert_int_equal(skipped[3].reason, EVALUATION_SKIP_EXCLUDED);
    assert_int_equal(skipped[4].reason, EVALUATION_SKIP_PANEL_AFFILIATION);
    assert_string_equal(c[skipped[4].index].id, "F-same-org");
}

static void test_panel_affiliations_given(void **state)
{
    (void)state;
    evaluation_case_facts f = s_facts(0);
    evaluation_candidate c[] = {s_cand("EX-1", 0, 5), s_cand("EX-2", 0, 5)};
    c[1].affiliation_uscc = "91110101MA00000009";
    const char *on_panel[] = {OTHER_ORG};
    evaluation_select_opts o = {.want = 2,
                                .panel_affiliations = on_panel,
                                .npanel_affiliations = 1,
                                .one_per_affiliation = 1};
    char got[64];
    assert_int_equal(s_run(c, 2, &f, &o, got, sizeof got), 1);
    assert_string_equal(got, "EX-2");
    /* Agencies are chosen without the panel rule. */
    o.one_per_affiliation = 0;
    assert_int_equal(s_run(c, 2, &f, &o, got, sizeof got), 2);
}

static void test_too_few_and_duplicates(void **state)
{
    (void)state;
    evaluation_case_facts f = s_facts(0);
    /* The same expert found through two fields of expertise counts once. */
    evaluation_candidate c[] = {s_cand("EX-1", 0, 5), s_cand("EX-1", 0, 5), s_cand("EX-2", 5, 5)};
    evaluation_select_opts o = {.want = 3};
    char got[64];
    assert_int_equal(s_run(c, 3, &f, &o, got, sizeof got), 1);
    assert_string_equal(got, "EX-1");
    o.want = 0;
    assert_int_equal(s_run(c, 3, &f, &o, got, sizeof got), 0);
    assert_int_equal(s_run(c, 0, &f, &o, got, sizeof got), 0);
}

/* The result depends only on the beginning of the ranking: a prefix that
 * reaches the last chosen candidate gives the same choice as the whole list
 * (what lets the service fetch candidates page by page). */
static void test_prefix_gives_the_same_choice(void **state)
{
    (void)state;
    evaluation_case_facts f = s_facts(0);
    enum { N = 30 };
    evaluation_candidate all[N];
    char ids[N][16], orgs[N][24];
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof ids[i], "EX-%02d", i);
        snprintf(orgs[i], sizeof orgs[i], "9111010%dMA000000%02d", i % 4, i % 4);
        all[i] = s_cand(ids[i], i / 6, 9);
        all[i].affiliation_uscc = orgs[i];
    }
    evaluation_select_opts o = {.want = 4, .one_per_affiliation = 1};
    char whole[128], part[128];
    s_run(all, N, &f, &o, whole, sizeof whole);
    /* (already sorted by load, id) */
    s_run(all, 10, &f, &o, part, sizeof part);
    assert_string_equal(whole, part);
}

/* A long run of assignments that update the loads, as the service does:
 * no load ever passes its cap, and no conflicted expert is ever chosen. */
static void test_caps_hold_over_many_assignments(void **state)
{
    (void)state;
    enum { N = 60, CASES = 400, K = 5 };
    evaluation_candidate c[N];
    char ids[N][16], orgs[N][24];
    srand(777);
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof ids[i], "EX-%02d", i);
        snprintf(orgs[i], sizeof orgs[i], "91110101MA0000%04d", i % 20);
        c[i] = s_cand(ids[i], 0, 1 + rand() % 6);
        c[i].affiliation_uscc = orgs[i];
    }
    int assigned = 0;
    for (int k = 0; k < CASES; k++) {
        char applicant[24];
        snprintf(applicant, sizeof applicant, "91110101MA0000%04d", k % 25);
        evaluation_case_facts f = s_facts(0);
        f.applicant_uscc = applicant;
        evaluation_select_opts o = {.want = K, .one_per_affiliation = 1};
        size_t chosen[K], nskipped;
        int n = evaluation_select(c, N, &f, &o, chosen, NULL, 0, &nskipped);
        assert_true(n >= 0 && n <= K);
        for (int i = 0; i < n; i++) {
            evaluation_candidate *e = &c[chosen[i]];
            assert_int_equal(evaluation_conflicts(e, &f), 0);
            e->load++;
            assert_true(e->load <= e->capacity);
            assigned++;
        }
        /* Some reviews come in and free their seats. */
        if (k % 3 == 0)
            for (int i = 0; i < N; i++)
                if (c[i].load > 0 && rand() % 4 == 0)
                    c[i].load--;
    }
    assert_true(assigned > CASES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_conflict),
        cmocka_unit_test(test_each_conflict_type),
        cmocka_unit_test(test_contact_normalisation),
        cmocka_unit_test(test_rank_by_load_then_id),
        cmocka_unit_test(test_deterministic_whatever_the_order),
        cmocka_unit_test(test_skips_with_reasons),
        cmocka_unit_test(test_panel_affiliations_given),
        cmocka_unit_test(test_too_few_and_duplicates),
        cmocka_unit_test(test_prefix_gives_the_same_choice),
        cmocka_unit_test(test_caps_hold_over_many_assignments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
