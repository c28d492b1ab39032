/*
 * notify_prefs: a person's preferences (notify.preferences.get.v1 and
 * .set.v1) and the clock arithmetic they need (pure).
 *
 * Preferences belong to an account (the gateway's), named by its login:
 * language, channels per kind of item ("*" for every kind not named, then
 * the kind's own default), quiet hours for SMS and a daily digest, both in
 * Beijing time (UTC+8, no daylight saving). A person may read and change
 * their own: "person:<login>" names the login; an organisation's,
 * expert's, agency's or district's user may change an account holding an
 * active binding that acts as the caller's actor id. Staff and admin may
 * read and change anyone's (a person on the telephone).
 */
#ifndef NOTIFY_PREFS_H
#define NOTIFY_PREFS_H

#include <stdint.h>

#include "notify.h"

/* Minutes in a day, and the default digest time (08:00). */
#define NOTIFY_DAY_MINUTES    1440
#define NOTIFY_DIGEST_DEFAULT 480

/* When an SMS created at now_us may go: now_us itself when quiet hours are
 * off (start < 0) or now is outside them, else the end of the quiet period
 * now is in. Quiet hours are [start, end) in minutes of the Beijing day and
 * may pass midnight (start > end: 22:00-07:00); start == end is no quiet
 * hours. */
int64_t notify_quiet_until(int64_t now_us, int start_min, int end_min);

/* The first instant after now_us (or now_us itself, to the minute) that is
 * minute `digest_min` of a Beijing day. */
int64_t notify_next_digest(int64_t now_us, int digest_min);

/* Parses "HH:MM" (00:00 .. 23:59) into minutes of the day. Returns the
 * minutes, or -1. */
int notify_clock_parse(const char *s);

/* notify.preferences.get.v1: GetPreferencesRequest -> PreferencesReply. */
int notify_prefs_get_cmd(ccip_command *cmd, ccip_arena *a, void *request);

/* notify.preferences.set.v1: SetPreferencesRequest -> PreferencesReply.
 * Refused with nothing changed: an unknown login (NOT_FOUND), someone
 * else's (PERMISSION_DENIED), a language, kind or time that is not one
 * (INVALID_ARGUMENT). Held SMS of the account are looked at again at once
 * (quiet hours just ended or were changed). */
int notify_prefs_set_cmd(ccip_command *cmd, ccip_arena *a, void *request);

#endif
