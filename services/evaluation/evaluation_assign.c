#include "evaluation_assign.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PHONE_DIGITS_MIN 5 /* shorter digit strings are not phone numbers */

static const char *const s_conflict_names[EVALUATION_CONFLICT_TYPES] = {
    "SAME_AFFILIATION", "DECLARED_CONFLICT", "APPLICANT_CONTACT", "SAME_DISTRICT"};

static int s_nonempty(const char *s)
{
    return s && s[0];
}

static int s_in(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] && strcmp(list[i], s) == 0)
            return 1;
    return 0;
}

unsigned evaluation_conflicts(const evaluation_candidate *c, const evaluation_case_facts *f)
{
    unsigned bits = 0;
    if (s_nonempty(f->applicant_uscc)) {
        if (s_nonempty(c->affiliation_uscc) && strcmp(c->affiliation_uscc, f->applicant_uscc) == 0)
            bits |= EVALUATION_CONFLICT_SAME_AFFILIATION;
        if (s_in(f->applicant_uscc, c->declared, c->ndeclared))
            bits |= EVALUATION_CONFLICT_DECLARED;
    }
    if ((s_nonempty(c->phone) && s_in(c->phone, f->contact_phones, f->ncontact_phones)) ||
        (s_nonempty(c->email) && s_in(c->email, f->contact_emails, f->ncontact_emails)))
        bits |= EVALUATION_CONFLICT_CONTACT;
    if (f->same_district_conflict && s_nonempty(c->district_code) && s_nonempty(f->district_code) &&
        strcmp(c->district_code, f->district_code) == 0)
        bits |= EVALUATION_CONFLICT_SAME_DISTRICT;
    return bits;
}

size_t evaluation_conflict_names(unsigned bits, const char *names[EVALUATION_CONFLICT_TYPES])
{
    size_t n = 0;
    for (int i = 0; i < EVALUATION_CONFLICT_TYPES; i++)
        if (bits & (1u << i))
            names[n++] = s_conflict_names[i];
    return n;
}

unsigned evaluation_conflict_bit(const char *name)
{
    for (int i = 0; name && i < EVALUATION_CONFLICT_TYPES; i++)
        if (strcmp(name, s_conflict_names[i]) == 0)
            return 1u << i;
    return 0;
}

void evaluation_conflict_text(unsigned bits, char *buf, size_t len)
{
    if (!len)
        return;
    const char *names[EVALUATION_CONFLICT_TYPES];
    size_t n = evaluation_conflict_names(bits, names);
    if (n == 0) {
        snprintf(buf, len, "none");
        return;
    }
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", names[i]);
}

void evaluation_phone_norm(const char *in, char *out, size_t len)
{
    if (!len)
        return;
    size_t n = 0;
    for (const char *p = in ? in : ""; *p && n + 1 < len; p++)
        if (*p >= '0' && *p <= '9')
            out[n++] = *p;
    out[n] = '\0';
    if (n < PHONE_DIGITS_MIN)
        out[0] = '\0';
}

void evaluation_email_norm(const char *in, char *out, size_t len)
{
    if (!len)
        return;
    const char *s = in ? in : "";
    while (*s == ' ' || *s == '\t')
        s++;
    size_t end = strlen(s);
    while (end > 0 && (s[end - 1] == ' ' || s[end - 1] == '\t'))
        end--;
    size_t n = 0;
    for (size_t i = 0; i < end && n + 1 < len; i++)
        out[n++] = (char)tolower((unsigned char)s[i]);
    out[n] = '\0';
    if (!strchr(out, '@'))
        out[0] = '\0';
}

int evaluation_rank_cmp(const evaluation_candidate *a, const evaluation_candidate *b)
{
    if (a->load != b->load)
        return a->load < b->load ? -1 : 1;
    return strcmp(a->id ? a->id : "", b->id ? b->id : "");
}

/* qsort has no context argument: the candidates travel with the index. */
typedef struct {
    const evaluation_candidate *c;
    size_t index;
} s_ranked;

static int s_ranked_cmp(const void *pa, const void *pb)
{
    const s_ranked *a = pa, *b = pb;
    int r = evaluation_rank_cmp(a->c, b->c);
    if (r != 0)
        return r;
    /* Same id given twice: keep the first given, so the result does not
     * depend on qsort's instability. */
    return a->index < b->index ? -1 : a->index > b->index;
}

int evaluation_select(const evaluation_candidate *cands, size_t n, const evaluation_case_facts *f,
                      const evaluation_select_opts *o, size_t *chosen, evaluation_skip *skipped,
                      size_t maxskip, size_t *nskipped)
{
    *nskipped = 0;
    if (o->want == 0 || n == 0)
        return 0;
    s_ranked *r = malloc(n * sizeof *r);
    /* Affiliations taken by the panel so far: the ones given, then the
     * chosen (at most want more). */
    const char **taken = malloc((o->npanel_affiliations + o->want + 1) * sizeof *taken);
    if (!r || !taken) {
        free(r);
        free(taken);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        r[i] = (s_ranked){&cands[i], i};
    qsort(r, n, sizeof *r, s_ranked_cmp);
    size_t ntaken = 0;
    for (size_t i = 0; i < o->npanel_affiliations; i++)
        taken[ntaken++] = o->panel_affiliations[i];

    size_t nchosen = 0;
    for (size_t i = 0; i < n && nchosen < o->want; i++) {
        const evaluation_candidate *c = r[i].c;
        if (i > 0 && strcmp(c->id ? c->id : "", r[i - 1].c->id ? r[i - 1].c->id : "") == 0)
            continue; /* a repeated id counts once */
        evaluation_skip_reason why = 0;
        unsigned bits = 0;
        if (!c->id || s_in(c->id, o->exclude, o->nexclude))
            why = EVALUATION_SKIP_EXCLUDED;
        else if (!c->active)
            why = EVALUATION_SKIP_INACTIVE;
        else if (c->load >= c->capacity)
            why = EVALUATION_SKIP_CAPACITY;
        else if ((bits = evaluation_conflicts(c, f)) != 0)
            why = EVALUATION_SKIP_CONFLICT;
        else if (o->one_per_affiliation && s_nonempty(c->affiliation_uscc) &&
                 s_in(c->affiliation_uscc, taken, ntaken))
            why = EVALUATION_SKIP_PANEL_AFFILIATION;
        if (why) {
            if (*nskipped < maxskip)
                skipped[*nskipped] = (evaluation_skip){r[i].index, why, bits};
            (*nskipped)++;
            continue;
        }
        chosen[nchosen++] = r[i].index;
        if (s_nonempty(c->affiliation_uscc))
            taken[ntaken++] = c->affiliation_uscc;
    }
    free(taken);
    free(r);
    return (int)nchosen;
}
