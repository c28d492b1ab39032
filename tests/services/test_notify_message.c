/* notify's pure parts: every kind has its words in both languages, templates
 * render with empty lines left out, header values cannot break out of their
 * header, HTML parts escape what people typed, addresses are plain, quiet
 * hours and digest times in Beijing time, the SMS URL template. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_text.h"
#include "notify_kinds.h"
#include "notify_message.h"
#include "notify_prefs.h"
#include "notify_sms.h"

#define MIN_US  60000000LL
#define HOUR_US (60 * MIN_US)
/* 2026-07-15 00:00 UTC = 08:00 in Beijing */
#define T0 1784073600000000LL

/* Decodes the base64 lines of s (up to a blank line or "--") into out. */
static size_t s_unbase64(const char *s, char *out, size_t cap)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned v = 0;
    int bits = 0;
    size_t n = 0;
    for (const char *p = s; *p && !(p[0] == '-' && p[1] == '-'); p++) {
        const char *at = strchr(b64, *p);
        if (!at || !*p)
            continue;
        v = v << 6 | (unsigned)(at - b64);
        bits += 6;
        if (bits >= 8 && n + 1 < cap) {
            bits -= 8;
            out[n++] = (char)(v >> bits & 0xFF);
        }
    }
    out[n] = '\0';
    return n;
}

static void test_every_kind_has_words(void **state)
{
    (void)state;
    const char *langs[] = {"zh-CN", "en"};
    for (size_t l = 0; l < 2; l++) {
        for (size_t i = 0; i < notify_kind_count(); i++) {
            const notify_kind *k = notify_kind_at(i);
            const notify_words *w = notify_words_get(k->code, langs[l]);
            if (!w)
                fail_msg("no words for %s in %s", k->code, langs[l]);
            assert_true(strstr(w->title, "{subject}") != NULL);
            assert_true(w->sms[0] && w->body[0]);
        }
        assert_non_null(notify_words_get("_digest", langs[l]));
    }
    /* the English words are not the Chinese ones */
    assert_string_not_equal(notify_words_get("application_returned", "en")->title,
                            notify_words_get("application_returned", "zh-CN")->title);
    /* an unknown language reads as zh-CN; an unknown kind has no words */
    assert_ptr_equal(notify_words_get("decision_made", "fr"),
                     notify_words_get("decision_made", "zh-CN"));
    assert_null(notify_words_get("no_such_kind", "en"));
}

static void test_render_drops_empty_lines(void **state)
{
    (void)state;
    ccip_text t = CCIP_TEXT_INIT;
    notify_values v = {.name = "Li", .subject = "Park", .due = ""};
    notify_render("Dear {name},\nabout {subject}\nDue: {due}\n{unknown} stays", &v, 1, &t);
    assert_string_equal(t.p, "Dear Li,\nabout Park\n{unknown} stays");
    ccip_text_release(&t);
    notify_render("Due: {due}!", &v, 0, &t);
    assert_string_equal(t.p, "Due: !");
    ccip_text_release(&t);
}

static void test_html_escape(void **state)
{
    (void)state;
    ccip_text t = CCIP_TEXT_INIT;
    notify_html_escape("<script>alert('x')</script> & \"q\"", &t);
    assert_string_equal(t.p, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;");
    ccip_text_release(&t);
}

static void test_header_text_cannot_inject(void **state)
{
    (void)state;
    ccip_text t = CCIP_TEXT_INIT;
    notify_header_text("Hello\r\nBcc: evil@example.com", &t);
    assert_string_equal(t.p, "Hello  Bcc: evil@example.com"); /* one line, CR LF are spaces */
    ccip_text_release(&t);
    /* non-ASCII: encoded words, whatever the value holds */
    notify_header_text("申请\r\nBcc: evil@example.com 退回", &t);
    assert_null(strstr(t.p, "\r\nBcc"));
    assert_null(strstr(t.p, "\nBcc"));
    assert_true(strncmp(t.p, "=?UTF-8?B?", 10) == 0);
    for (const char *p = t.p; *p; p++)
        if (*p == '\n')
            assert_true(p[1] == ' '); /* folded: every line goes on with a space */
    ccip_text_release(&t);
    /* "=?" in ASCII text is encoded too, so it cannot pose as an encoded word */
    notify_header_text("=?UTF-8?B?QmNj?=", &t);
    assert_true(strncmp(t.p, "=?UTF-8?B?", 10) == 0);
    assert_string_not_equal(t.p, "=?UTF-8?B?QmNj?=");
    ccip_text_release(&t);
    /* a long Chinese value: words of at most 75 characters, never a split character */
    char longs[400] = "";
    for (int i = 0; i < 30; i++)
        strcat(longs, "文创");
    notify_header_text(longs, &t);
    size_t run = 0;
    for (const char *p = t.p; *p; p++) {
        run = *p == '\n' ? 0 : run + 1;
        assert_true(run <= 77);
    }
    ccip_text_release(&t);
}

static void test_addresses(void **state)
{
    (void)state;
    assert_true(notify_email_valid("li.wei+ccip@example.cn"));
    assert_false(notify_email_valid("li wei@example.cn"));
    assert_false(notify_email_valid("li@example"));
    assert_false(notify_email_valid("li@example.cn\r\nRCPT TO:<x@y.z>"));
    assert_false(notify_email_valid("<li@example.cn>"));
    assert_false(notify_email_valid("li@-example.cn"));
    assert_false(notify_email_valid("@example.cn"));
    assert_true(notify_mobile_valid("+8613800138000"));
    assert_true(notify_mobile_valid("13800138000"));
    assert_false(notify_mobile_valid("138-0013-8000"));
    assert_false(notify_mobile_valid("12345"));
}

static void test_mail_compose(void **state)
{
    (void)state;
    ccip_text t = CCIP_TEXT_INIT;
    notify_mail m = {.message_id = "<0190-abc@notify.ccip>",
                     .from_name = "文创中心",
                     .from_addr = "noreply@ccip.example.cn",
                     .to_name = "Wang\r\nBcc: evil@example.com",
                     .to_addr = "wang@example.cn",
                     .language = "zh-CN",
                     .subject = "申请被退回修改：<b>园区</b>\r\nBcc: evil@example.com",
                     .text = "您好\n标题：<script>alert(1)</script> & 更多",
                     .date_us = T0};
    assert_int_equal(notify_mail_compose(&m, &t), 0);
    /* headers: exactly one of each, none injected */
    const char *body = strstr(t.p, "\r\n\r\n");
    assert_non_null(body);
    char *headers = strndup(t.p, (size_t)(body - t.p));
    assert_null(strstr(headers, "\r\nBcc:"));
    assert_true(strstr(headers, "Date: Wed, 15 Jul 2026 08:00:00 +0800\r\n") != NULL);
    assert_true(strstr(headers, "Message-ID: <0190-abc@notify.ccip>\r\n") != NULL);
    /* a display name with more than letters, digits and spaces is encoded */
    assert_true(strstr(headers, "To: =?UTF-8?B?") != NULL);
    assert_true(strstr(headers, "?= <wang@example.cn>\r\n") != NULL);
    free(headers);
    /* the HTML part escapes the applicant's text; the text part keeps it */
    const char *html = strstr(t.p, "Content-Type: text/html");
    assert_non_null(html);
    char decoded[4096];
    s_unbase64(strstr(html, "\r\n\r\n") + 4, decoded, sizeof decoded);
    assert_true(strstr(decoded, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; 更多") != NULL);
    assert_null(strstr(decoded, "<script>"));
    assert_true(strstr(decoded, "<title>申请被退回修改：&lt;b&gt;园区&lt;/b&gt;") != NULL);
    const char *plain = strstr(t.p, "Content-Type: text/plain");
    s_unbase64(strstr(plain, "\r\n\r\n") + 4, decoded, sizeof decoded);
    assert_true(strncmp(decoded, "您好\n标题：<script>", strlen("您好\n标题：<script>")) == 0);
    ccip_text_release(&t);
    /* an address that is not plain is refused, nothing written */
    m.to_addr = "wang@example.cn>\r\nRCPT TO:<evil@example.com";
    assert_int_equal(notify_mail_compose(&m, &t), -1);
    assert_null(t.p);
}

static void test_quiet_hours(void **state)
{
    (void)state;
    /* T0 is 08:00 Beijing */
    assert_true(notify_quiet_until(T0, -1, -1) == T0);                   /* none */
    assert_true(notify_quiet_until(T0, 22 * 60, 7 * 60) == T0);          /* 22:00-07:00: awake */
    assert_true(notify_quiet_until(T0, 7 * 60, 9 * 60) == T0 + HOUR_US); /* until 09:00 */
    /* 23:30 Beijing inside 22:00-07:00: until 07:00 the next morning */
    int64_t late = T0 + 15 * HOUR_US + 30 * MIN_US;
    assert_true(notify_quiet_until(late, 22 * 60, 7 * 60) == T0 + 23 * HOUR_US);
    /* 06:59:30 inside, until 07:00 */
    int64_t early = T0 - HOUR_US - 30 * 1000000LL;
    assert_true(notify_quiet_until(early, 22 * 60, 7 * 60) == T0 - HOUR_US);
    /* the end minute itself is awake */
    assert_true(notify_quiet_until(T0, 6 * 60, 8 * 60) == T0);
    assert_true(notify_quiet_until(T0, 8 * 60, 8 * 60) == T0); /* equal: none */
}

static void test_digest_time(void **state)
{
    (void)state;
    assert_true(notify_next_digest(T0, 8 * 60) == T0);                         /* now */
    assert_true(notify_next_digest(T0 + MIN_US, 8 * 60) == T0 + 24 * HOUR_US); /* tomorrow */
    assert_true(notify_next_digest(T0, 18 * 60) == T0 + 10 * HOUR_US);
    assert_int_equal(notify_clock_parse("07:30"), 450);
    assert_int_equal(notify_clock_parse("24:00"), -1);
    assert_int_equal(notify_clock_parse("7:30"), -1);
}

static void test_sms_url(void **state)
{
    (void)state;
    ccip_text t = CCIP_TEXT_INIT;
    notify_sms_url("https://sms.example.cn/send?to={mobile}&msg={text}&id={id}&k={key}",
                   "+8613800138000", "您好 a&b=c", "0190-x", "k/1", &t);
    assert_string_equal(t.p,
                        "https://sms.example.cn/send?to=%2B8613800138000&msg=%E6%82%A8%E5%A5%BD"
                        "%20a%26b%3Dc&id=0190-x&k=k%2F1");
    ccip_text_release(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_kind_has_words),
        cmocka_unit_test(test_render_drops_empty_lines),
        cmocka_unit_test(test_html_escape),
        cmocka_unit_test(test_header_text_cannot_inject),
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_mail_compose),
        cmocka_unit_test(test_quiet_hours),
        cmocka_unit_test(test_digest_time),
        cmocka_unit_test(test_sms_url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
