/*
 * stats_questionnaires: questionnaires in versions (issue 20).
 *
 * An analyst designs a questionnaire as a whole (sections, typed
 * questions, conditions; stats_answers.h checks the design) and saves it as
 * the questionnaire's draft, as often as needed
 * (stats.questionnaire.save.v1). Publishing freezes the draft as a version
 * (stats.questionnaire.publish.v1); a change afterwards is a new draft,
 * published as the next version. A published version is never changed
 * (sql/0005_surveys.sql refuses it), and a survey and every response to it
 * name the version they ask and answer, so what an answer means never
 * changes.
 *
 * A version's content is stored packed (ccip.stats.QuestionnaireContent);
 * stats_questionnaire_load gives it back decoded.
 */
#ifndef STATS_QUESTIONNAIRES_H
#define STATS_QUESTIONNAIRES_H

#include "stats.h"

/* Status texts of a version as stored. */
#define STATS_Q_DRAFT     "DRAFT"
#define STATS_Q_PUBLISHED "PUBLISHED"

/* One version as stored, with its content decoded. */
typedef struct {
    char id[CCIP_UUID_STRLEN + 1];
    int version;
    char status[16];                            /* STATS_Q_DRAFT or STATS_Q_PUBLISHED */
    Ccip__Stats__QuestionnaireContent *content; /* owned: stats_questionnaire_row_release */
    char note[STATS_REASON_MAX * 4 + 1];
    char saved_by[128];
    int64_t saved_at_us;
    char published_by[128];
    int64_t published_at_us;
    int questions;
} stats_questionnaire_row;

/* Reads version `version` of questionnaire `id` (a UUID) into row: 0 = the
 * latest published version, -1 = its draft. *found is 0 when there is no
 * such version. Returns 0 or a ccip_db_rc; CCIP_DB_ERROR also when the
 * stored content cannot be decoded (logged). */
int stats_questionnaire_load(ccip_db *db, const char *id, int version, stats_questionnaire_row *row,
                             int *found);

/* Frees row->content; safe twice. */
void stats_questionnaire_row_release(stats_questionnaire_row *row);

/* The reply message of a version, allocated from a (content borrowed from
 * row, which must outlive it), with the questionnaire's published versions
 * read from db. Returns 0, or a ccip_db_rc; NULL *out when memory ran out. */
int stats_questionnaire_message(ccip_db *db, const stats_questionnaire_row *row, ccip_arena *a,
                                Ccip__Stats__Questionnaire **out);

/* The commands. */
int stats_questionnaire_save_cmd(ccip_command *cmd, ccip_arena *a, void *request);
int stats_questionnaire_publish_cmd(ccip_command *cmd, ccip_arena *a, void *request);
int stats_questionnaire_get_cmd(ccip_command *cmd, ccip_arena *a, void *request);
int stats_questionnaire_list_cmd(ccip_command *cmd, ccip_arena *a, void *request);

#endif
