/* Every service's definition table, all of them at once (label unit).
 *
 * Each table passes ccip_service_def_check (the service would not start
 * otherwise), and the services agree with each other: when service S
 * subscribes to producer P's events, P lists S among its `consumers`. The
 * producer answers ccip.replay.v1 only to the services it lists (issue 23),
 * so a subscriber it forgot could follow the live stream but never catch up
 * after a restart or a gap: it would stall on PERMISSION_DENIED in the
 * field, not in a test of one service. A subscription to a service that
 * does not exist is refused too. A new service goes into s_defs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ccip_service.h"
#include "evaluation.h"
#include "followup.h"
#include "funding.h"
#include "gateway.h"
#include "intake.h"
#include "ip.h"
#include "notify.h"
#include "stats.h"

static const ccip_service_def *const s_defs[] = {
    &intake_def, &evaluation_def, &funding_def, &ip_def,
    &stats_def,  &followup_def,   &notify_def,  &gateway_def,
};
#define NDEFS (sizeof s_defs / sizeof s_defs[0])

static const ccip_service_def *s_find(const char *name)
{
    for (size_t i = 0; i < NDEFS; i++)
        if (strcmp(s_defs[i]->name, name) == 0)
            return s_defs[i];
    return NULL;
}

static int s_lists(const ccip_service_def *producer, const char *consumer)
{
    for (const char *const *c = producer->consumers; c && *c; c++)
        if (strcmp(*c, consumer) == 0)
            return 1;
    return 0;
}

static void test_every_table_passes_the_check(void **state)
{
    (void)state;
    char err[512];
    for (size_t i = 0; i < NDEFS; i++)
        if (ccip_service_def_check(s_defs[i], err, sizeof err) != 0)
            fail_msg("%s", err);
}

/* Collects every disagreement before failing, so one run names them all. */
static void test_producers_list_their_subscribers(void **state)
{
    (void)state;
    char missing[2048] = "";
    for (size_t i = 0; i < NDEFS; i++) {
        const ccip_service_def *s = s_defs[i];
        for (size_t k = 0; k < s->nsubscriptions; k++) {
            const char *p = s->subscriptions[k].producer;
            const ccip_service_def *pd = s_find(p);
            size_t used = strlen(missing);
            if (!pd)
                snprintf(missing + used, sizeof missing - used,
                         "\n  %s subscribes to \"%s\", which is no service here", s->name, p);
            else if (!s_lists(pd, s->name))
                snprintf(missing + used, sizeof missing - used,
                         "\n  %s subscribes to %s, but %s's .consumers does not list \"%s\" "
                         "(its ccip.replay.v1 would refuse it): add it there",
                         s->name, p, p, s->name);
        }
    }
    if (missing[0])
        fail_msg("producers and subscribers disagree:%s", missing);
}

/* The other way round: a listed consumer that subscribes to nothing of the
 * producer's may replay its whole stream (every organisation's data) for
 * no reason. */
static void test_consumers_listed_subscribe(void **state)
{
    (void)state;
    char extra[2048] = "";
    for (size_t i = 0; i < NDEFS; i++) {
        const ccip_service_def *p = s_defs[i];
        for (const char *const *c = p->consumers; c && *c; c++) {
            const ccip_service_def *cd = s_find(*c);
            int subscribes = 0;
            for (size_t k = 0; cd && k < cd->nsubscriptions; k++)
                subscribes |= strcmp(cd->subscriptions[k].producer, p->name) == 0;
            size_t used = strlen(extra);
            if (!subscribes)
                snprintf(extra + used, sizeof extra - used,
                         "\n  %s lists \"%s\" as a consumer, which subscribes to none of its "
                         "events: remove it",
                         p->name, *c);
        }
    }
    if (extra[0])
        fail_msg("consumers listed without a subscription:%s", extra);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_table_passes_the_check),
        cmocka_unit_test(test_producers_list_their_subscribers),
        cmocka_unit_test(test_consumers_listed_subscribe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
