/*
 * stats_catalogue: the indicator catalogue and its versions.
 *
 * A version is a complete list of indicators (code, name, unit, which roster
 * kinds report it, compulsory or not) and of the rules between them. It is
 * never changed once published: a change is a new version that takes effect
 * from a quarter nobody has reported for yet. A quarter is collected with
 * the newest version whose effective_from is not after it, and a report
 * keeps the version it was created with, so a quarter is always read
 * against the catalogue version it was collected with.
 *
 * Version 1 is in sql/0001_stats.sql.
 */
#ifndef STATS_CATALOGUE_H
#define STATS_CATALOGUE_H

#include <stddef.h>

#include "stats.h"
#include "stats_validation.h"

/* One indicator of a loaded version. Strings belong to the catalogue. */
typedef struct {
    const char *code;
    const char *name;
    const char *description;
    Ccip__Stats__Unit unit;
    unsigned kinds; /* bit (1 << Ccip__Stats__RosterKind) for each kind reporting it */
    int compulsory;
    int allow_negative;
} stats_catalogue_indicator;

/* A loaded catalogue version (opaque, read-only once loaded). */
typedef struct stats_catalogue stats_catalogue;

/* The version quarter `quarter` ("2026Q3") is collected with: the newest
 * whose effective_from is not after it, locked FOR SHARE so that a version
 * being published for that quarter waits (see stats_catalogue_publish_cmd).
 * Sets *version (0 when none). Returns 0 or a ccip_db_rc. */
int stats_catalogue_version_for(ccip_db *db, const char *quarter, int *version);

/* Loads `version`. Returns 0 with *out set (NULL when there is no such
 * version), or a ccip_db_rc (or CCIP_DB_ERROR when memory ran out). The
 * caller destroys it. */
int stats_catalogue_load(ccip_db *db, int version, stats_catalogue **out);

/* Frees it; safe on NULL and twice, sets *c to NULL. */
void stats_catalogue_destroy(stats_catalogue **c);

/* Its version number. */
int stats_catalogue_version(const stats_catalogue *c);

/* Number of indicators, and indicator i (0 <= i < count), in catalogue
 * order. */
size_t stats_catalogue_count(const stats_catalogue *c);
const stats_catalogue_indicator *stats_catalogue_at(const stats_catalogue *c, size_t i);

/* The indicator `code`, or NULL when the version has none. */
const stats_catalogue_indicator *stats_catalogue_find(const stats_catalogue *c, const char *code);

/* 1 when roster kind `kind` reports indicator i. */
int stats_catalogue_reported_by(const stats_catalogue_indicator *i, Ccip__Stats__RosterKind kind);

/* Writes the indicators that roster kind `kind` reports, as the validation
 * rules see them, into out (room for stats_catalogue_count(c) entries;
 * strings borrowed from c). Returns how many. */
size_t stats_catalogue_defs(const stats_catalogue *c, Ccip__Stats__RosterKind kind,
                            stats_indicator_def *out);

/* The version's rules (borrowed from c) and their number. */
const stats_rule_def *stats_catalogue_rules(const stats_catalogue *c, size_t *n);

/* stats.catalogue.get.v1 and stats.catalogue.publish.v1. */
int stats_catalogue_get_cmd(ccip_command *cmd, ccip_arena *a, void *request);
int stats_catalogue_publish_cmd(ccip_command *cmd, ccip_arena *a, void *request);

#endif
