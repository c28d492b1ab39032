/*
 * ccip_test: helpers shared by the test suites (not part of the product).
 */
#ifndef CCIP_TEST_H
#define CCIP_TEST_H

#include <stddef.h>

/* Creates a fresh empty directory under $TMPDIR (or /tmp) and writes its path
 * into buf. Returns 0, or -1 when it could not. */
int ccip_test_tmpdir(char *buf, size_t len);

/* Writes `text` to dir/name. Returns 0 or -1. */
int ccip_test_write_file(const char *dir, const char *name, const char *text);

#endif
