/*
 * gateway_static: the console's files read at start-up and answered from
 * memory (services/gateway/gateway_static.h). Each test makes its own
 * folder of files under /tmp.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway_static.h"

static char s_dir[256];

static void s_write(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", s_dir, rel);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void s_mkdir(const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", s_dir, rel);
    assert_int_equal(mkdir(path, 0755), 0);
}

/* A console: index, a module importing another, a catalogue, a dotfile. */
static int s_setup(void **state)
{
    (void)state;
    snprintf(s_dir, sizeof s_dir, "/tmp/ccip-static-XXXXXX");
    assert_non_null(mkdtemp(s_dir));
    s_mkdir("js");
    s_mkdir("i18n");
    s_write("index.html", "<!doctype html><html lang=\"zh-CN\"><script type=\"module\" "
                          "src=\"{{static}}/js/app.js\"></script><link href=\"{{static}}/a.css\">");
    s_write("a.css", "body{color:#111}");
    s_write("js/app.js", "import {x} from './x.js';");
    s_write("js/x.js", "export const x = 1;");
    s_write("i18n/en.json", "{\"a\":\"A\"}");
    s_write(".hidden.swp", "editor file");
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static gateway_static *s_load(void)
{
    char err[512] = "";
    gateway_static *st = gateway_static_new(s_dir, err, sizeof err);
    if (!st)
        fail_msg("could not load: %s", err);
    return st;
}

static void test_serves_index_with_version(void **state)
{
    (void)state;
    gateway_static *st = s_load();
    assert_int_equal(gateway_static_count(st), 5); /* the dotfile is skipped */
    const char *v = gateway_static_version(st);
    assert_int_equal(strlen(v), GATEWAY_STATIC_VERSION_LEN);
    gateway_static_reply r;
    assert_int_equal(gateway_static_find(st, "GET", "/", NULL, &r), 1);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "text/html; charset=utf-8");
    assert_string_equal(r.cache_control, "no-cache");
    char want[200];
    snprintf(want, sizeof want, "src=\"/static/%s/js/app.js\"", v);
    char body[1024];
    snprintf(body, sizeof body, "%.*s", (int)r.len, (const char *)r.body);
    assert_non_null(strstr(body, want));
    assert_null(strstr(body, GATEWAY_STATIC_TOKEN)); /* every token replaced */
    gateway_static_destroy(&st);
    assert_null(st);
    gateway_static_destroy(&st); /* twice is harmless */
}

static void test_assets_are_immutable_and_typed(void **state)
{
    (void)state;
    gateway_static *st = s_load();
    char path[200];
    gateway_static_reply r;
    static const struct {
        const char *rel, *type;
    } cases[] = {{"js/app.js", "text/javascript; charset=utf-8"},
                 {"a.css", "text/css; charset=utf-8"},
                 {"i18n/en.json", "application/json"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(path, sizeof path, "/static/%s/%s", gateway_static_version(st), cases[i].rel);
        assert_int_equal(gateway_static_find(st, "GET", path, NULL, &r), 1);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.content_type, cases[i].type);
        assert_string_equal(r.cache_control, "public, max-age=31536000, immutable");
        assert_int_equal(strlen(r.etag), 34); /* quoted, 32 hex digits */
    }
    /* HEAD answers like GET (libmicrohttpd leaves out the body). */
    assert_int_equal(gateway_static_find(st, "HEAD", path, NULL, &r), 1);
    assert_int_equal(r.status, 200);
    gateway_static_destroy(&st);
}

static void test_etag_answers_304(void **state)
{
    (void)state;
    gateway_static *st = s_load();
    gateway_static_reply r, again;
    char path[200];
    snprintf(path, sizeof path, "/static/%s/js/x.js", gateway_static_version(st));
    assert_int_equal(gateway_static_find(st, "GET", path, NULL, &r), 1);
    char tag[64], list[200];
    snprintf(tag, sizeof tag, "%s", r.etag);
    assert_int_equal(gateway_static_find(st, "GET", path, tag, &again), 1);
    assert_int_equal(again.status, 304);
    assert_null(again.body);
    assert_string_equal(again.etag, tag);
    /* in a list, weak, or "*" */
    snprintf(list, sizeof list, "\"0000\", W/%s", tag);
    assert_int_equal(gateway_static_find(st, "GET", path, list, &again), 1);
    assert_int_equal(again.status, 304);
    assert_int_equal(gateway_static_find(st, "GET", path, "*", &again), 1);
    assert_int_equal(again.status, 304);
    /* another tag, or a malformed header: the body */
    assert_int_equal(gateway_static_find(st, "GET", path, "\"deadbeef\"", &again), 1);
    assert_int_equal(again.status, 200);
    assert_int_equal(gateway_static_find(st, "GET", path, "garbage", &again), 1);
    assert_int_equal(again.status, 200);
    gateway_static_destroy(&st);
}

static void test_no_path_leaves_the_table(void **state)
{
    (void)state;
    gateway_static *st = s_load();
    const char *v = gateway_static_version(st);
    char path[300];
    gateway_static_reply r;
    static const char *const tries[] = {
        "../../../../etc/passwd",
        "js/../../index.html",
        "js/../a.css",
        "%2e%2e/a.css",
        "/etc/passwd",
        "js//app.js",
        "",
        ".hidden.swp",
        "js/",
        "JS/APP.JS",
    };
    for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++) {
        snprintf(path, sizeof path, "/static/%s/%s", v, tries[i]);
        assert_int_equal(gateway_static_find(st, "GET", path, NULL, &r), 1);
        if (r.status != 404)
            fail_msg("%s answered %u", path, r.status);
    }
    /* an old version: 404, telling to reload */
    assert_int_equal(gateway_static_find(st, "GET", "/static/000000000000/a.css", NULL, &r), 1);
    assert_int_equal(r.status, 404);
    assert_non_null(strstr((const char *)r.body, "reload"));
    /* not the console's: the API answers */
    assert_int_equal(gateway_static_find(st, "GET", "/api/v1/session", NULL, &r), 0);
    assert_int_equal(gateway_static_find(st, "GET", "/healthz", NULL, &r), 0);
    assert_int_equal(gateway_static_find(st, "GET", "/index.html", NULL, &r), 0);
    assert_int_equal(gateway_static_find(st, "POST", "/", NULL, &r), 0);
    assert_int_equal(gateway_static_find(NULL, "GET", "/", NULL, &r), 0);
    gateway_static_destroy(&st);
}

static void test_version_follows_content(void **state)
{
    (void)state;
    gateway_static *a = s_load();
    s_write("js/x.js", "export const x = 2;");
    gateway_static *b = s_load();
    assert_string_not_equal(gateway_static_version(a), gateway_static_version(b));
    gateway_static_destroy(&a);
    gateway_static_destroy(&b);
}

static void s_refused(const char *part)
{
    char err[512] = "";
    gateway_static *st = gateway_static_new(s_dir, err, sizeof err);
    assert_null(st);
    if (!strstr(err, part))
        fail_msg("\"%s\" lacks \"%s\"", err, part);
}

static void test_refusals_at_start(void **state)
{
    (void)state;
    char path[512], target[512];
    s_write("notes.exe", "MZ");
    s_refused("no content type is known");
    snprintf(path, sizeof path, "%s/notes.exe", s_dir);
    unlink(path);
    snprintf(target, sizeof target, "/etc/hostname");
    snprintf(path, sizeof path, "%s/js/link.js", s_dir);
    assert_int_equal(symlink(target, path), 0);
    s_refused("symbolic link");
    unlink(path);
    s_write("js/bad name.js", "");
    s_refused("may only hold");
    snprintf(path, sizeof path, "%s/js/bad name.js", s_dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/index.html", s_dir);
    rename(path, "/tmp/ccip-static-index.tmp");
    s_refused("has no index.html");
    rename("/tmp/ccip-static-index.tmp", path);
    char err[200];
    assert_null(gateway_static_new("/nonexistent/web", err, sizeof err));
    assert_non_null(strstr(err, "could not read the console's folder"));
    /* the gateway's set: "" serves none, a bad folder keeps the one before */
    assert_int_equal(gateway_static_install("", err, sizeof err), 0);
    assert_int_equal(gateway_static_install("/nonexistent/web", err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serves_index_with_version),
        cmocka_unit_test(test_assets_are_immutable_and_typed),
        cmocka_unit_test(test_etag_answers_304),
        cmocka_unit_test(test_no_path_leaves_the_table),
        cmocka_unit_test(test_version_follows_content),
        cmocka_unit_test(test_refusals_at_start),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
