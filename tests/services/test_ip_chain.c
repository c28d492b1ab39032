/*
 * ip_chain: the canonical encoding is byte-for-byte what ip_chain.h says
 * (golden vectors computed independently, with Python's struct and hashlib),
 * and a chain walk names the first broken link for each kind of tampering.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ip_chain.h"

/* The record of the golden vector; hash by Python:
 * hashlib.sha256(encoding).hexdigest() */
#define GOLDEN_LEN  319
#define GOLDEN_HASH "f3693190490679a957aab70205f061ab719e7cf2dc1ff65a84f7d6b1fed60f89"

static const char *s_creators[] = {"张三", "Li Si"};

static void s_golden(ip_chain_record *r, ip_chain_owner owners[2])
{
    memset(r, 0, sizeof *r);
    r->seq = 2;
    memset(r->prev_hash, 0x11, IP_HASH_LEN);
    r->work_id = "0193b6c2-5d0e-7a31-8c4f-2e9d1b7a6c55";
    r->kind = "COPYRIGHT_SOFTWARE";
    r->title = "画册 Atlas";
    /* Given out of order: the canonical order is by party. */
    owners[0] = (ip_chain_owner){"person:zhang-san", 4000};
    owners[1] = (ip_chain_owner){"org:911101057226004567", 6000};
    ip_chain_sort_owners(owners, 2);
    r->owners = owners;
    r->nowners = 2;
    r->creators = s_creators;
    r->ncreators = 2;
    r->created_on = "2026-01-15";
    memset(r->content_sha256, 0x22, IP_HASH_LEN);
    r->registered_at_us = 1790000000123456LL;
    r->registrant = "org:911101057226004567";
    r->key_id = "0123456789abcdef";
}

static void test_golden_vector(void **state)
{
    (void)state;
    ip_chain_record r;
    ip_chain_owner owners[2];
    s_golden(&r, owners);
    assert_string_equal(owners[0].party, "org:911101057226004567");
    assert_int_equal(ip_chain_encode(&r, NULL, 0), GOLDEN_LEN);
    uint8_t h[IP_HASH_LEN];
    char hex[IP_HASH_HEX + 1];
    assert_int_equal(ip_chain_hash(&r, h), 0);
    ip_hex(h, IP_HASH_LEN, hex);
    assert_string_equal(hex, GOLDEN_HASH);
}

/* Every field is in the encoding: the smallest record, byte by byte. */
static void test_minimal_record_bytes(void **state)
{
    (void)state;
    static const char want_hex[] =
        "00000010636369702e69702e636861696e2e7631"                         /* str(tag) */
        "0000000000000001"                                                 /* u64 seq */
        "0000000000000000000000000000000000000000000000000000000000000000" /* prev */
        "0000000177"                                                       /* str("w") */
        "00000006504154454e54"                                             /* str("PATENT") */
        "00000000"                                                         /* str("") title */
        "00000000"                                                         /* no owners */
        "00000000"                                                         /* no creators */
        "00000000"                                                         /* str("") created_on */
        "0000000000000000000000000000000000000000000000000000000000000000" /* content */
        "ffffffffffffffff"                                                 /* i64 -1 */
        "00000000"                                                         /* registrant */
        "00000000";                                                        /* key id */
    ip_chain_record r = {.seq = 1,
                         .work_id = "w",
                         .kind = "PATENT",
                         .title = "",
                         .created_on = "",
                         .registered_at_us = -1,
                         .registrant = "",
                         .key_id = ""};
    uint8_t buf[256];
    size_t n = ip_chain_encode(&r, buf, sizeof buf);
    char hex[513];
    ip_hex(buf, n, hex);
    assert_string_equal(hex, want_hex);
    uint8_t h[IP_HASH_LEN];
    ip_chain_hash(&r, h);
    ip_hex(h, IP_HASH_LEN, hex);
    assert_string_equal(hex, "56de6dd5a447e7d67c46b7facfb62d3c21df582e0164bb5f7180d13a5284d2ce");
    /* A buffer too small is left alone but the size is still told. */
    uint8_t small[8] = {0};
    assert_int_equal(ip_chain_encode(&r, small, sizeof small), n);
    assert_int_equal(small[0], 0);
}

/* Moving a byte between adjacent strings changes the hash (the lengths are
 * in the encoding): "ab" + "c" is not "a" + "bc". */
static void test_fields_do_not_run_together(void **state)
{
    (void)state;
    ip_chain_record a = {.seq = 1,
                         .work_id = "x",
                         .kind = "ab",
                         .title = "c",
                         .created_on = "",
                         .registrant = "",
                         .key_id = ""};
    ip_chain_record b = a;
    b.kind = "a";
    b.title = "bc";
    uint8_t ha[IP_HASH_LEN], hb[IP_HASH_LEN];
    ip_chain_hash(&a, ha);
    ip_chain_hash(&b, hb);
    assert_memory_not_equal(ha, hb, IP_HASH_LEN);
}

/* A chain of five records and its stored hashes. */
#define N 5
typedef struct {
    ip_chain_record r[N];
    uint8_t hash[N][IP_HASH_LEN];
    char titles[N][16];
} s_chain;

static void s_build(s_chain *c)
{
    memset(c, 0, sizeof *c);
    for (int i = 0; i < N; i++) {
        snprintf(c->titles[i], sizeof c->titles[i], "work %d", i + 1);
        c->r[i] = (ip_chain_record){.seq = (uint64_t)i + 1,
                                    .work_id = "0193b6c2-5d0e-7a31-8c4f-2e9d1b7a6c55",
                                    .kind = "COPYRIGHT_MUSIC",
                                    .title = c->titles[i],
                                    .created_on = "2026-01-01",
                                    .registered_at_us = 1000 + i,
                                    .registrant = "org:x",
                                    .key_id = "k"};
        if (i > 0)
            memcpy(c->r[i].prev_hash, c->hash[i - 1], IP_HASH_LEN);
        ip_chain_hash(&c->r[i], c->hash[i]);
    }
}

/* Walks the chain; returns the seq the walk broke at (0 = intact). */
static uint64_t s_walk(const s_chain *c, int skip, char *err, size_t errlen)
{
    ip_chain_verifier v;
    ip_chain_verifier_init(&v);
    for (int i = 0; i < N; i++) {
        if (i == skip)
            continue;
        if (ip_chain_verify_next(&v, &c->r[i], c->hash[i], err, errlen) < 0)
            return c->r[i].seq;
    }
    if (ip_chain_verify_head(&v, N, c->hash[N - 1], err, errlen) < 0)
        return N + 1;
    return 0;
}

static void test_intact_chain(void **state)
{
    (void)state;
    s_chain c;
    s_build(&c);
    char err[300];
    assert_int_equal(s_walk(&c, -1, err, sizeof err), 0);
}

static void test_altered_field(void **state)
{
    (void)state;
    s_chain c;
    s_build(&c);
    char err[300];
    c.titles[2][0] = 'W'; /* record 3's title, stored hash unchanged */
    assert_int_equal(s_walk(&c, -1, err, sizeof err), 3);
    assert_non_null(strstr(err, "record 3 was altered"));
}

static void test_altered_and_rehashed(void **state)
{
    (void)state;
    s_chain c;
    s_build(&c);
    char err[300];
    /* The forger recomputes record 3's hash; record 4's link gives it away. */
    c.titles[2][0] = 'W';
    ip_chain_hash(&c.r[2], c.hash[2]);
    assert_int_equal(s_walk(&c, -1, err, sizeof err), 4);
    assert_non_null(strstr(err, "link 3 -> 4 is broken"));
}

static void test_deleted_record(void **state)
{
    (void)state;
    s_chain c;
    s_build(&c);
    char err[300];
    assert_int_equal(s_walk(&c, 1, err, sizeof err), 3);
    assert_non_null(strstr(err, "record 2 is missing"));
}

static void test_head_ahead_of_records(void **state)
{
    (void)state;
    s_chain c;
    s_build(&c);
    char err[300];
    ip_chain_verifier v;
    ip_chain_verifier_init(&v);
    for (int i = 0; i < N - 1; i++)
        assert_int_equal(ip_chain_verify_next(&v, &c.r[i], c.hash[i], err, sizeof err), 0);
    /* The last record was deleted: the head still says 5. */
    assert_int_equal(ip_chain_verify_head(&v, N, c.hash[N - 1], err, sizeof err), -1);
    assert_non_null(strstr(err, "were deleted"));
    /* An empty chain with an empty head is intact. */
    ip_chain_verifier_init(&v);
    uint8_t zero[IP_HASH_LEN] = {0};
    assert_int_equal(ip_chain_verify_head(&v, 0, zero, err, sizeof err), 0);
}

static void test_hex(void **state)
{
    (void)state;
    uint8_t b[3];
    assert_int_equal(ip_unhex("00fFa1", b, 3), 0);
    assert_int_equal(b[1], 0xff);
    assert_int_equal(ip_unhex("00fFa", b, 3), -1);
    assert_int_equal(ip_unhex("00fga1", b, 3), -1);
    assert_int_equal(ip_unhex(NULL, b, 3), -1);
    char hex[7];
    ip_hex(b, 3, hex);
    assert_string_equal(hex, "00ffa1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_vector),
        cmocka_unit_test(test_minimal_record_bytes),
        cmocka_unit_test(test_fields_do_not_run_together),
        cmocka_unit_test(test_intact_chain),
        cmocka_unit_test(test_altered_field),
        cmocka_unit_test(test_altered_and_rehashed),
        cmocka_unit_test(test_deleted_record),
        cmocka_unit_test(test_head_ahead_of_records),
        cmocka_unit_test(test_hex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
