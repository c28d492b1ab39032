/*
 * ccip_test_intake: what every load of filings prepares in intake before
 * it starts timing (not part of the product): calls open for filing, and
 * verified organisations to file them. The benchmarks of intake, the wire
 * and the gateway and the restore drill's load all start this way, so the
 * preparation is written once.
 *
 *   char (*calls)[CCIP_UUID_STRLEN + 1] = calloc(n, sizeof *calls);
 *   if (ccip_test_intake_calls(client, "bench", n, calls) < 0 ||
 *       ccip_test_intake_org(client, uscc, "Beijing Bench Creative Co., Ltd.") < 0)
 *       ...
 *
 * Both send through `via`, a client whose key is a front door (its actor
 * claims are trusted), and print why on stderr when they fail.
 */
#ifndef CCIP_TEST_INTAKE_H
#define CCIP_TEST_INTAKE_H

#include "ccip_client.h"
#include "ccip_id.h"

/* The one document the calls of ccip_test_intake_calls require. */
#define CCIP_TEST_REQUIRED_DOC "business_licence"

/* Opens one cluster-identification call (open since an hour ago, for 30
 * days, requiring CCIP_TEST_REQUIRED_DOC) through intake as staff, then
 * copies it in SQL into n calls whose ids go into ids[0..n-1]. Intake keeps
 * one live application per organisation and call, so a load that files n
 * applications needs n calls; opening thousands through the broker would
 * only slow the preparation down. `what` names the load in the calls'
 * titles and in errors. Returns 0 or -1. */
int ccip_test_intake_calls(ccip_client *via, const char *what, long n,
                           char (*ids)[CCIP_UUID_STRLEN + 1]);

/* Registers organisation `uscc` (an enterprise in Chaoyang) as its own
 * applicant, actor "org:<uscc>", and verifies it as staff, so that it may
 * file. Returns 0 or -1. */
int ccip_test_intake_org(ccip_client *via, const char *uscc, const char *name);

#endif
