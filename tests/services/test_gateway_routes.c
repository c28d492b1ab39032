/*
 * gateway_routes and gateway_openapi: the route table against the
 * services' own tables. Every command of every service is reachable, GET
 * never names a command that changes state, every route's path parameters
 * are fields of its request, and the OpenAPI document lists every route
 * with the schemas of its messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "gateway_openapi.h"
#include "gateway_routes.h"

static const char *const s_services[] = {"intake", "evaluation", "funding",
                                         "ip",     "stats",      "gateway"};

static void test_table_compiles(void **state)
{
    (void)state;
    char err[512] = "";
    int rc = gateway_routes_init(err, sizeof err);
    if (rc != 0)
        fail_msg("%s", err);
}

static void test_every_command_has_a_route(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(gateway_routes_init(err, sizeof err), 0);
    for (size_t s = 0; s < sizeof s_services / sizeof s_services[0]; s++) {
        const ccip_service_def *def = gateway_service_def(s_services[s]);
        assert_non_null(def);
        for (size_t j = 0; j < def->ncommands; j++) {
            size_t i = 0;
            while (i < gateway_route_count() &&
                   strcmp(gateway_route_at(i)->route->type, def->commands[j].type) != 0)
                i++;
            if (i == gateway_route_count())
                fail_msg("command %s has no route in services/gateway/gateway_routes.c",
                         def->commands[j].type);
        }
    }
}

static void test_get_never_changes_state(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(gateway_routes_init(err, sizeof err), 0);
    size_t gets = 0;
    for (size_t i = 0; i < gateway_route_count(); i++) {
        const gateway_route_info *ri = gateway_route_at(i);
        if (strcmp(ri->route->method, "GET") == 0) {
            gets++;
            if (ri->handler->mutating)
                fail_msg("GET %s runs %s, which changes state", ri->route->path, ri->route->type);
        } else {
            assert_string_equal(ri->route->method, "POST");
        }
    }
    assert_true(gets > 20);
}

static void test_routes_of_described_services_map(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(gateway_routes_init(err, sizeof err), 0);
    /* intake, evaluation and the gateway name their messages: every route
     * to them must be described (the others follow as their tables do). */
    for (size_t i = 0; i < gateway_route_count(); i++) {
        const gateway_route_info *ri = gateway_route_at(i);
        if ((strcmp(ri->service, "intake") == 0 || strcmp(ri->service, "evaluation") == 0 ||
             strcmp(ri->service, "gateway") == 0) &&
            !ri->described)
            fail_msg("route %s %s: %s names no request message", ri->route->method, ri->route->path,
                     ri->route->type);
    }
}

static void test_openapi_lists_every_route(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(gateway_routes_init(err, sizeof err), 0);
    json_t *doc = gateway_openapi_build();
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
    json_t *paths = json_object_get(doc, "paths");
    json_t *schemas = json_object_get(json_object_get(doc, "components"), "schemas");
    for (size_t i = 0; i < gateway_route_count(); i++) {
        const gateway_route_info *ri = gateway_route_at(i);
        char m[8];
        snprintf(m, sizeof m, "%s", strcmp(ri->route->method, "GET") == 0 ? "get" : "post");
        json_t *op = json_object_get(json_object_get(paths, ri->route->path), m);
        if (!op)
            fail_msg("the OpenAPI document lacks %s %s", ri->route->method, ri->route->path);
        assert_string_equal(json_string_value(json_object_get(op, "operationId")), ri->route->type);
        if (ri->described && ri->handler->reply && !(ri->route->flags & GATEWAY_ROUTE_DOWNLOAD) &&
            !json_object_get(schemas, ri->handler->reply->name))
            fail_msg("the OpenAPI document lacks schema %s", ri->handler->reply->name);
    }
    /* the draft's request is described with its fields */
    json_t *draft = json_object_get(schemas, "ccip.intake.DraftApplicationRequest");
    assert_non_null(draft);
    assert_non_null(json_object_get(schemas, "Problem"));
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_compiles),
        cmocka_unit_test(test_every_command_has_a_route),
        cmocka_unit_test(test_get_never_changes_state),
        cmocka_unit_test(test_routes_of_described_services_map),
        cmocka_unit_test(test_openapi_lists_every_route),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
