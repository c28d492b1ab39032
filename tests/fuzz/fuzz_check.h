/*
 * fuzz_check: what every target of tests/fuzz shares. FUZZ_CHECK aborts
 * with the broken invariant's text, so that libFuzzer keeps the input as a
 * crash (crash-<sha1> in the artifact directory) and scripts/fuzz fails.
 */
#ifndef FUZZ_CHECK_H
#define FUZZ_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz invariant broken: %s: ", #cond);                                 \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* libFuzzer's entry point (each target defines it). Returns 0, or -1 for
 * an input that must not enter the corpus (it names no message type). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Longest message the targets accept, as limits.max_message_bytes would. */
#define FUZZ_MAX_MESSAGE (1024 * 1024)

#endif
