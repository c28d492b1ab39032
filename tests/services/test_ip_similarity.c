/*
 * ip_similarity: MinHash estimates track the real overlap of texts, in
 * Chinese and in English; unrelated texts stay far below the flag; short and
 * invalid texts get no signature; band keys find near-duplicates.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ip_similarity.h"

static const char s_en[] =
    "The river remembers every bridge that was built across it, and every bridge that fell. "
    "In the spring the water rises to the stone steps of the old tea house, where the painters "
    "of the lane gather to argue about colour, light and the price of good paper. Nobody wins "
    "these arguments, but the tea is always hot and the afternoons are long.";

static const char s_zh[] =
    "春天的河水涨到老茶馆的石阶上，胡同里的画家们聚在这里争论颜色、光线和好纸的价"
    "钱。谁也说服不了谁，但茶总是热的，下午总是很长。河流记得每一座建在它上面"
    "的桥，也记得每一座倒下的桥。";

static const char s_other[] =
    "Quarterly statistics of the cultural and creative industry clusters are compiled from the "
    "reports of each district, checked for completeness and timeliness, and published after the "
    "leading group office approves them, with indicators derived from the raw events.";

static unsigned s_sim(const char *a, const char *b)
{
    ip_sim_signature sa, sb;
    assert_int_equal(ip_sim_signature_make(a, strlen(a), &sa), 1);
    assert_int_equal(ip_sim_signature_make(b, strlen(b), &sb), 1);
    return ip_sim_similarity_pct(&sa, &sb);
}

static void test_identical_and_normalised(void **state)
{
    (void)state;
    assert_int_equal(s_sim(s_en, s_en), 100);
    /* Case, punctuation and spacing do not matter. */
    char loud[sizeof s_en];
    for (size_t i = 0; i < sizeof s_en; i++)
        loud[i] = (char)((s_en[i] >= 'a' && s_en[i] <= 'z') ? s_en[i] - 32
                         : s_en[i] == ','                   ? ';'
                                                            : s_en[i]);
    assert_int_equal(s_sim(s_en, loud), 100);
}

static void test_light_edit_is_flagged(void **state)
{
    (void)state;
    char edited[sizeof s_en + 16];
    snprintf(edited, sizeof edited, "%s", s_en);
    /* A few words changed. */
    memcpy(strstr(edited, "river"), "water", 5);
    memcpy(strstr(edited, "painters"), "scholars", 8);
    memcpy(strstr(edited, "always"), "rarely", 6);
    unsigned pct = s_sim(s_en, edited);
    assert_true(pct >= IP_SIM_FLAG_PCT);
    assert_true(pct < 100);
}

static void test_chinese(void **state)
{
    (void)state;
    assert_int_equal(s_sim(s_zh, s_zh), 100);
    char edited[sizeof s_zh + 16];
    snprintf(edited, sizeof edited, "%s", s_zh);
    char *p = strstr(edited, "画家"); /* painters -> writers */
    memcpy(p, "作家", strlen("作家"));
    assert_true(s_sim(s_zh, edited) >= IP_SIM_FLAG_PCT);
    assert_true(s_sim(s_zh, s_en) < 10);
}

static void test_unrelated_is_not(void **state)
{
    (void)state;
    assert_true(s_sim(s_en, s_other) < 20);
}

static void test_no_signature(void **state)
{
    (void)state;
    ip_sim_signature s;
    assert_int_equal(ip_sim_signature_make("too short", 9, &s), 0);
    assert_int_equal(
        ip_sim_signature_make("\xff\xfe not utf-8 at all, but long enough to count", 44, &s), 0);
    assert_int_equal(ip_sim_signature_make(NULL, 0, &s), 0);
}

static void test_bands_and_packing(void **state)
{
    (void)state;
    ip_sim_signature a, b, c;
    assert_int_equal(ip_sim_signature_make(s_en, strlen(s_en), &a), 1);
    char edited[sizeof s_en];
    snprintf(edited, sizeof edited, "%s", s_en);
    memcpy(strstr(edited, "bridge"), "temple", 6);
    assert_int_equal(ip_sim_signature_make(edited, strlen(edited), &b), 1);
    int64_t ka[IP_SIM_BANDS], kb[IP_SIM_BANDS];
    ip_sim_bands(&a, ka);
    ip_sim_bands(&b, kb);
    int shared = 0;
    for (int i = 0; i < IP_SIM_BANDS; i++)
        shared += ka[i] == kb[i];
    assert_true(shared > 0);
    uint8_t packed[IP_SIM_PACKED];
    ip_sim_pack(&a, packed);
    assert_int_equal(ip_sim_unpack(packed, sizeof packed, &c), 0);
    assert_memory_equal(&a, &c, sizeof a);
    assert_int_equal(ip_sim_unpack(packed, 3, &c), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identical_and_normalised),
        cmocka_unit_test(test_light_edit_is_flagged),
        cmocka_unit_test(test_chinese),
        cmocka_unit_test(test_unrelated_is_not),
        cmocka_unit_test(test_no_signature),
        cmocka_unit_test(test_bands_and_packing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
