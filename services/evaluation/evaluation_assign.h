/*
 * evaluation_assign: who may take a case, and who is chosen. Pure: no SQL,
 * no clock, no randomness, so that the same input always gives the same
 * output and the rules are unit-tested (tests/services/test_evaluation_assign.c).
 *
 * Conflicts (evaluation_conflicts) are typed:
 *   SAME_AFFILIATION   the candidate's affiliation (an expert's employer, an
 *                      agency's own credit code) is the applicant organisation
 *   DECLARED_CONFLICT  the candidate declared a conflict with the applicant
 *   APPLICANT_CONTACT  the candidate's phone or e-mail appeared as a contact
 *                      of the applicant organisation in an accepted
 *                      application (names alone are not compared: too many
 *                      people share one)
 *   SAME_DISTRICT      the candidate's district is the case's, when the
 *                      service is configured so (experts only)
 *
 * Selection (evaluation_select) fills `want` seats from the candidates:
 *
 *   1. rank every candidate by (load ascending, id ascending in byte order),
 *      so balancing by current load comes first and ties always break the
 *      same way whatever order the candidates were given in; a repeated id
 *      counts once;
 *   2. walk the ranking and pass over, with the reason, a candidate that is
 *      excluded (already on the case or declined it), inactive, at its
 *      capacity (load >= capacity), in conflict, or (with
 *      one_per_affiliation) from an affiliation already on the panel;
 *   3. choose the others in rank order until the seats are filled.
 *
 * Candidates past the last one chosen are not looked at, so the result only
 * depends on the beginning of the ranking: the caller may fetch candidates
 * page by page in rank order and stop when the seats are filled.
 */
#ifndef EVALUATION_ASSIGN_H
#define EVALUATION_ASSIGN_H

#include <stddef.h>

/* Conflict types as bits. */
enum {
    EVALUATION_CONFLICT_SAME_AFFILIATION = 1u << 0,
    EVALUATION_CONFLICT_DECLARED = 1u << 1,
    EVALUATION_CONFLICT_CONTACT = 1u << 2,
    EVALUATION_CONFLICT_SAME_DISTRICT = 1u << 3,
};
#define EVALUATION_CONFLICT_TYPES 4

/* What is known about the case when looking for conflicts. */
typedef struct {
    const char *applicant_uscc;        /* the applicant organisation */
    const char *district_code;         /* where the cluster, base or project is */
    const char *const *contact_phones; /* the applicant's contacts, normalised */
    size_t ncontact_phones;
    const char *const *contact_emails;
    size_t ncontact_emails;
    int same_district_conflict; /* 1: SAME_DISTRICT applies */
} evaluation_case_facts;

/* An expert or an agency as the algorithm sees it. Strings are borrowed. */
typedef struct {
    const char *id;               /* register id, compared byte-wise */
    const char *affiliation_uscc; /* expert's employer; agency's own code */
    const char *district_code;    /* expert's district; NULL or "" for agencies */
    const char *phone;            /* normalised (evaluation_phone_norm); "" = none */
    const char *email;            /* normalised (evaluation_email_norm); "" = none */
    const char *const *declared;  /* credit codes it declared conflicts with */
    size_t ndeclared;
    int load;     /* open tasks now */
    int capacity; /* most open tasks at once */
    int active;   /* 0: out of the register's rotation */
} evaluation_candidate;

/* The conflict bits of candidate c on the case f (0 = none). */
unsigned evaluation_conflicts(const evaluation_candidate *c, const evaluation_case_facts *f);

/* The proto names of the conflict bits, in bit order, written into names
 * (room for EVALUATION_CONFLICT_TYPES). Returns how many. */
size_t evaluation_conflict_names(unsigned bits, const char *names[EVALUATION_CONFLICT_TYPES]);

/* The bit of a proto name ("DECLARED_CONFLICT"), or 0 when unknown. */
unsigned evaluation_conflict_bit(const char *name);

/* Writes "SAME_AFFILIATION, DECLARED_CONFLICT" into buf ("none" for 0). */
void evaluation_conflict_text(unsigned bits, char *buf, size_t len);

/* Normalises a phone number to its digits ("+86 138-0013-8000" ->
 * "8613800138000") into out. Fewer than 5 digits give "" (not a number to
 * compare). */
void evaluation_phone_norm(const char *in, char *out, size_t len);

/* Normalises an e-mail address: trimmed, ASCII lower case; "" when it has
 * no '@'. */
void evaluation_email_norm(const char *in, char *out, size_t len);

/* Why a candidate was passed over. */
typedef enum {
    EVALUATION_SKIP_EXCLUDED = 1,      /* already on the case, or declined it */
    EVALUATION_SKIP_INACTIVE,          /* not active */
    EVALUATION_SKIP_CAPACITY,          /* load >= capacity */
    EVALUATION_SKIP_CONFLICT,          /* see conflicts */
    EVALUATION_SKIP_PANEL_AFFILIATION, /* an expert from the same affiliation is on the panel */
} evaluation_skip_reason;

typedef struct {
    size_t index; /* into the candidates given */
    evaluation_skip_reason reason;
    unsigned conflicts; /* conflict bits when reason is CONFLICT */
} evaluation_skip;

typedef struct {
    size_t want;                /* seats to fill */
    const char *const *exclude; /* ids that may not be chosen */
    size_t nexclude;
    const char *const *panel_affiliations; /* affiliations already on the panel */
    size_t npanel_affiliations;
    int one_per_affiliation; /* 1: at most one chosen per affiliation */
} evaluation_select_opts;

/* Chooses up to o->want candidates as described above. Writes the indexes
 * (into cands) of the chosen ones, in rank order, into chosen (room for
 * o->want), and the first maxskip of those passed over, in rank order, into
 * skipped (may be NULL when maxskip is 0), with their count (all of them,
 * also beyond maxskip) in *nskipped. Returns how many were chosen (fewer
 * than want when the candidates ran out), or -1 when memory ran out. */
int evaluation_select(const evaluation_candidate *cands, size_t n, const evaluation_case_facts *f,
                      const evaluation_select_opts *o, size_t *chosen, evaluation_skip *skipped,
                      size_t maxskip, size_t *nskipped);

/* Compares two candidates' rank: load, then id byte-wise. <0, 0, >0. */
int evaluation_rank_cmp(const evaluation_candidate *a, const evaluation_candidate *b);

#endif
