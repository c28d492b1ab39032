/* ccip_proto_registry: every message and enum declared in proto/ is found
 * by its full name, and the registry knows no other. The expected names
 * are read here from the .proto files themselves (a small scanner of
 * `package`, `message` and `enum` declarations, nested ones included), not
 * from the generated headers the registry's table is made from, so that a
 * table generator that misses a kind of declaration fails this test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip/envelope.pb-c.h"
#include "ccip/intake.pb-c.h"
#include "ccip_proto_registry.h"

#define MAX_NAMES    4096
#define NAME_MAX_LEN 256
#define MAX_SCOPES   32

typedef struct {
    char messages[MAX_NAMES][NAME_MAX_LEN];
    size_t nmessages;
    char enums[MAX_NAMES][NAME_MAX_LEN];
    size_t nenums;
} s_names;

static char *s_read(const char *path)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

/* Next token of p: an identifier (letters, digits, '_', '.'), one
 * punctuation character, or "" at the end. Comments and string literals
 * are skipped. */
static const char *s_token(const char *p, char *tok, size_t len)
{
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (p[0] == '/' && p[1] == '/') {
            while (*p && *p != '\n')
                p++;
        } else if (p[0] == '/' && p[1] == '*') {
            const char *e = strstr(p + 2, "*/");
            p = e ? e + 2 : p + strlen(p);
        } else if (*p == '"' || *p == '\'') {
            char q = *p++;
            while (*p && *p != q)
                p += (*p == '\\' && p[1]) ? 2 : 1;
            if (*p)
                p++;
        } else {
            break;
        }
    }
    size_t n = 0;
    if (isalnum((unsigned char)*p) || *p == '_') {
        while ((isalnum((unsigned char)*p) || *p == '_' || *p == '.') && n + 1 < len)
            tok[n++] = *p++;
    } else if (*p) {
        tok[n++] = *p++;
    }
    tok[n] = '\0';
    return p;
}

/* Adds the messages and enums declared in one .proto file to out. */
static void s_scan_proto(const char *path, s_names *out)
{
    char *text = s_read(path);
    char package[NAME_MAX_LEN] = "";
    /* the name of each open brace's type scope ("" for oneof, service...) */
    char scopes[MAX_SCOPES][NAME_MAX_LEN];
    int depth = 0;
    char tok[NAME_MAX_LEN], prev[NAME_MAX_LEN] = "", pending[NAME_MAX_LEN] = "";
    /* a keyword counts only where a statement starts: "string message = 6;"
     * declares a field called message, not a message */
    int stmt_start = 1, prev_at_start = 0;
    const char *p = text;
    for (;;) {
        p = s_token(p, tok, sizeof tok);
        if (!tok[0])
            break;
        if (strcmp(tok, "{") == 0) {
            assert_true(depth < MAX_SCOPES);
            snprintf(scopes[depth++], NAME_MAX_LEN, "%s", pending);
            pending[0] = '\0';
        } else if (strcmp(tok, "}") == 0) {
            assert_true(depth > 0);
            depth--;
        } else if (!prev_at_start) {
            /* not right after a keyword that starts a statement */
        } else if (strcmp(prev, "package") == 0) {
            snprintf(package, sizeof package, "%s", tok);
        } else if (strcmp(prev, "message") == 0 || strcmp(prev, "enum") == 0) {
            char full[NAME_MAX_LEN * 2];
            snprintf(full, sizeof full, "%s", package);
            for (int i = 0; i < depth; i++)
                if (scopes[i][0]) {
                    strcat(full, ".");
                    strcat(full, scopes[i]);
                }
            strcat(full, ".");
            strcat(full, tok);
            assert_true(strlen(full) < NAME_MAX_LEN);
            if (prev[0] == 'm') {
                assert_true(out->nmessages < MAX_NAMES);
                memcpy(out->messages[out->nmessages++], full, strlen(full) + 1);
            } else {
                assert_true(out->nenums < MAX_NAMES);
                memcpy(out->enums[out->nenums++], full, strlen(full) + 1);
            }
            snprintf(pending, sizeof pending, "%s", tok);
        }
        snprintf(prev, sizeof prev, "%s", tok);
        prev_at_start = stmt_start;
        stmt_start = strcmp(tok, ";") == 0 || strcmp(tok, "{") == 0 || strcmp(tok, "}") == 0;
    }
    assert_int_equal(depth, 0);
    free(text);
}

/* Every .proto under proto/ccip (the tree the build generates from). */
static void s_scan_tree(s_names *out)
{
    const char *src = getenv("CCIP_SOURCE_DIR");
    assert_non_null(src); /* set by ctest (cmake/ccip.cmake) */
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/proto/ccip", src);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n > 6 && strcmp(e->d_name + n - 6, ".proto") == 0) {
            char path[2048];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            s_scan_proto(path, out);
            files++;
        }
    }
    closedir(d);
    assert_true(files >= 7);
}

static void test_every_declared_message_and_enum_is_found(void **state)
{
    (void)state;
    static s_names names_store; /* static: a failed check longjmps past any free */
    s_names *names = &names_store;
    s_scan_tree(names);
    assert_true(names->nmessages > 250); /* the scanner found the tree */
    for (size_t i = 0; i < names->nmessages; i++) {
        const ProtobufCMessageDescriptor *d = ccip_proto_message_find(names->messages[i]);
        if (!d)
            fail_msg("message %s is declared in proto/ but not in the registry",
                     names->messages[i]);
        assert_int_equal(d->magic, PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC);
        assert_string_equal(d->name, names->messages[i]);
    }
    for (size_t i = 0; i < names->nenums; i++) {
        const ProtobufCEnumDescriptor *e = ccip_proto_enum_find(names->enums[i]);
        if (!e)
            fail_msg("enum %s is declared in proto/ but not in the registry", names->enums[i]);
        assert_int_equal(e->magic, PROTOBUF_C__ENUM_DESCRIPTOR_MAGIC);
        assert_string_equal(e->name, names->enums[i]);
    }
    /* nothing more: the registry holds exactly what proto/ declares */
    assert_int_equal(ccip_proto_message_count(), names->nmessages);
    assert_int_equal(ccip_proto_enum_count(), names->nenums);
}

static void test_descriptors_are_listed_in_name_order(void **state)
{
    (void)state;
    size_t n = ccip_proto_message_count();
    assert_true(n > 0);
    for (size_t i = 0; i < n; i++) {
        const ProtobufCMessageDescriptor *d = ccip_proto_message_at(i);
        assert_non_null(d);
        assert_ptr_equal(ccip_proto_message_find(d->name), d);
        if (i > 0)
            assert_true(strcmp(ccip_proto_message_at(i - 1)->name, d->name) < 0);
    }
    assert_null(ccip_proto_message_at(n));
    assert_null(ccip_proto_message_at((size_t)-1));
    n = ccip_proto_enum_count();
    assert_true(n > 0);
    for (size_t i = 0; i < n; i++) {
        const ProtobufCEnumDescriptor *e = ccip_proto_enum_at(i);
        assert_non_null(e);
        assert_ptr_equal(ccip_proto_enum_find(e->name), e);
        if (i > 0)
            assert_true(strcmp(ccip_proto_enum_at(i - 1)->name, e->name) < 0);
    }
    assert_null(ccip_proto_enum_at(n));
}

static void test_finds_the_generated_descriptors(void **state)
{
    (void)state;
    assert_ptr_equal(ccip_proto_message_find("ccip.Envelope"), &ccip__envelope__descriptor);
    assert_ptr_equal(ccip_proto_message_find("ccip.intake.FileApplicationRequest"),
                     &ccip__intake__file_application_request__descriptor);
    assert_ptr_equal(ccip_proto_enum_find("ccip.Status"), &ccip__status__descriptor);
    assert_ptr_equal(ccip_proto_enum_find("ccip.intake.CallKind"),
                     &ccip__intake__call_kind__descriptor);
    /* names are exact: no short names, no C names, no prefixes */
    assert_null(ccip_proto_message_find("Envelope"));
    assert_null(ccip_proto_message_find("ccip__envelope"));
    assert_null(ccip_proto_message_find("ccip.Envelop"));
    assert_null(ccip_proto_message_find("ccip.Envelope "));
    assert_null(ccip_proto_message_find(""));
    assert_null(ccip_proto_message_find(NULL));
    assert_null(ccip_proto_message_find("ccip.Status")); /* an enum, not a message */
    assert_null(ccip_proto_enum_find("ccip.Envelope"));
    assert_null(ccip_proto_enum_find(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_declared_message_and_enum_is_found),
        cmocka_unit_test(test_descriptors_are_listed_in_name_order),
        cmocka_unit_test(test_finds_the_generated_descriptors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
