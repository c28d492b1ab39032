/*
 * ccip_validate: checks of values that people type and every service
 * receives: unified social credit codes, Beijing districts, UTF-8 text and
 * identifier-like codes.
 *
 * Each check returns 0 when the value is valid, or -1 with one sentence in
 * err that a person can act on, e.g.
 *
 *   unified social credit code must be 18 characters, got 17
 *   field `title` contains a control character at character 5
 *
 * Messages are lower case without a final period so that callers can embed
 * them. err may be NULL or errlen 0 when only the verdict is needed; a long
 * message is cut to errlen - 1 bytes. Positions in messages count
 * characters (UTF-8 code points) from 1. Values quoted in messages are cut
 * after 40 bytes, and control characters and invalid bytes in them are
 * written as \xNN.
 *
 * All functions are thread-safe and keep no state.
 */
#ifndef CCIP_VALIDATE_H
#define CCIP_VALIDATE_H

#include <stddef.h>

/* ---- unified social credit code (统一社会信用代码, GB 32100-2015) ------- */

/* Length of a unified social credit code. */
#define CCIP_USCC_LEN 18

/* Checks a unified social credit code: 18 characters from
 * "0123456789ABCDEFGHJKLMNPQRTUWXY" (no I, O, S, V or Z), characters 3 to 8
 * (the administrative division code) digits, and character 18 the check
 * character of the first 17. Characters 1 and 2 (registering authority and
 * entity type) are only checked against the character set.
 * Returns 0, or -1 with a message naming the problem: the length, a bad
 * character and its position (a lowercase letter is called out as such), or
 * for a wrong check character the one expected ("... check character
 * (position 18) should be 'C', got '8'"). NULL gives "... is missing". */
int ccip_uscc_check(const char *code, char *err, size_t errlen);

/* ---- Beijing's districts ------------------------------------------------ */

/* A district of Beijing municipality. All strings are static. */
typedef struct {
    const char *code;    /* GB/T 2260 administrative division code, "110105" */
    const char *name_en; /* pinyin name, "Chaoyang" */
    const char *name_zh; /* Chinese name, UTF-8, "朝阳区" */
} ccip_district;

/* The district with this code ("110105"), English name in any case
 * ("Chaoyang", "chaoyang") or Chinese name ("朝阳区"). Returns a borrowed,
 * static entry, or NULL when none matches (including NULL and names with
 * extra spaces or words: callers trim, "Chaoyang District" is not matched). */
const ccip_district *ccip_district_find(const char *code_or_name);

/* Number of districts: 16. */
size_t ccip_district_count(void);

/* The i-th district in code order (borrowed, static), or NULL when
 * i >= ccip_district_count(). */
const ccip_district *ccip_district_at(size_t i);

/* Returns 0 when ccip_district_find(s) finds a district, or -1 with a
 * message saying it must be one of Beijing's 16 districts by code or name,
 * with examples, and what was given. */
int ccip_district_check(const char *s, char *err, size_t errlen);

/* ---- text --------------------------------------------------------------- */

/* 1 when s[0..len) is strict UTF-8: no overlong forms, no surrogates
 * (U+D800..U+DFFF), nothing above U+10FFFF, no truncated sequence at the end.
 * NUL bytes inside len are valid (U+0000). 0 otherwise, and for NULL. */
int ccip_utf8_valid(const char *s, size_t len);

/* Offset of the first byte of s[0..len) that does not begin a strict UTF-8
 * sequence (the rules of ccip_utf8_valid), or len when all of it is valid. */
size_t ccip_utf8_invalid_at(const char *s, size_t len);

/* Number of characters (code points) in the NUL-terminated UTF-8 string s:
 * bytes that are not continuation bytes. For invalid UTF-8 this is only an
 * estimate; check with ccip_utf8_valid first. 0 for NULL. */
size_t ccip_utf8_chars(const char *s);

/* The largest n <= len such that s[0..n) does not end inside a character:
 * where to cut s (a string of at least len bytes) so that a prefix of valid
 * UTF-8 stays valid. */
size_t ccip_utf8_boundary(const char *s, size_t len);

/* Writes s into out (outlen bytes) for quoting in an error sentence: at
 * most max bytes of it, cut on a character boundary and followed by "..."
 * when longer, with control characters and bytes that are not valid UTF-8
 * shown as '?', so that the sentence stays valid UTF-8 whatever s held.
 * NULL is shown as "". Returns out. */
const char *ccip_text_shown(const char *s, size_t max, char *out, size_t outlen);

/* Flags for ccip_text_check. */
#define CCIP_TEXT_MULTILINE 0x1 /* allow '\n' and '\t' (descriptions, addresses) */

/* Checks a text field typed by a person: s must be valid UTF-8 without
 * control characters (U+0000..U+001F, U+007F..U+009F; with
 * CCIP_TEXT_MULTILINE '\n' and '\t' are allowed, '\r' still is not) and
 * between min_chars and max_chars characters long, inclusive; max_chars 0
 * means no upper limit. `field` names the field in the message.
 * Returns 0, or -1 with a message:
 *   field `title` is missing                                (s is NULL)
 *   field `title` is not valid UTF-8 at byte 12
 *   field `title` contains a control character at character 5
 *   field `title` must be 1 to 200 characters, got 231
 * and for a nonsensical call (min_chars > max_chars) a message saying so. */
int ccip_text_check(const char *field, const char *s, size_t min_chars, size_t max_chars, int flags,
                    char *err, size_t errlen);

/* Checks an identifier or code (call codes, reference numbers, slugs):
 * 1 to max_len characters from A-Z, a-z, 0-9, '_', '.' and '-'; max_len 0
 * means no upper limit. Returns 0, or -1 with a message:
 *   field `call_code` is missing                  (s is NULL)
 *   field `call_code` must not be empty
 *   field `call_code` contains '/' at character 4; only letters A-Z and a-z, digits, '_',
 *   '.' and '-' are allowed
 *   field `call_code` must be at most 32 characters, got 40 */
int ccip_code_check(const char *field, const char *s, size_t max_len, char *err, size_t errlen);

#endif
