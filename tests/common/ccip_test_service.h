/*
 * ccip_test_service: a ccip_service for the unit tests of the units that
 * read their service (ccip_command, ccip_service_batch) without running one
 * (not part of the product).
 *
 * A real ccip_service is made only by ccip_service_main, which is a whole
 * process (configuration, bus, threads). What those units read of it is its
 * configuration and its name, through ccip_service_config_get and
 * ccip_service_name; ccip_test_service.c defines those two accessors for
 * this fixture. A test program built with it therefore never links
 * common/ccip_service.c (the static library's member is not pulled in):
 * list ccip_test_service.c in its SOURCES (tests/common/CMakeLists.txt).
 */
#ifndef CCIP_TEST_SERVICE_H
#define CCIP_TEST_SERVICE_H

#include <stdint.h>

#include "ccip_service.h"

/* A service named `name` (also its schema) whose replica is `instance` and
 * whose limits.max_message_bytes is max_message_bytes; every other setting
 * is 0 or NULL. Strings are copied. Returns NULL when out of memory. */
ccip_service *ccip_test_service_new(const char *name, const char *instance,
                                    int64_t max_message_bytes);

/* Frees; safe on NULL and twice. */
void ccip_test_service_destroy(ccip_service **svc);

#endif
