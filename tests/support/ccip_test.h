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

/* ---- what benchmarks measure with ---------------------------------------- */

/* The monotonic clock in seconds and in milliseconds (for intervals only). */
double ccip_test_mono_s(void);
double ccip_test_mono_ms(void);

/* Sorts v[0..n-1] and returns its median (the upper one for even n);
 * benchmarks report the median of repeated runs, not the best. */
double ccip_test_median(double *v, int n);

#endif
