-- ccip:oldest-compatible-code 1
-- Surveys and research tasks (issue 20): questionnaires in frozen versions,
-- surveys of a target list, drafts and one submitted response per target,
-- results kept so that they are read in a few rows, attachment to a
-- quarter's analysis and bulletin, research tasks with their documents.
-- (services/stats/stats_questionnaires.h, stats_surveys.h,
-- stats_survey_results.h, stats_research.h say how the code uses them.)

-- ---- what surveys need of intake's organisation register --------------------------------
-- ev_org is an event-derived table (stats_projections.h): these columns come
-- from intake.organisation.registered.v1 and .updated.v1 like the district.
-- Rows made before this migration have the defaults until the next
-- stats.projections.rebuild.v1 fills them from the stream.
ALTER TABLE ev_org
    ADD COLUMN org_type text NOT NULL DEFAULT '',       -- intake's OrganisationType name
    ADD COLUMN name text NOT NULL DEFAULT '',
    ADD COLUMN registered_at_us bigint NOT NULL DEFAULT 0;  -- intake's time, never stats'

-- ---- municipal departments ---------------------------------------------------------------
-- Survey targets and research bodies; a department answers as role
-- "department" with actor id "dept:<code>". Staff add more with
-- stats.department.define.v1.
CREATE TABLE department (
    code text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{0,39}$'),
    name text NOT NULL CHECK (name <> ''),
    name_zh text NOT NULL DEFAULT '',
    defined_by text NOT NULL,
    defined_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO department (code, name, name_zh, defined_by, defined_at) VALUES
    ('publicity', 'Publicity Department of the Municipal Party Committee', '市委宣传部',
     'migration', '2000-01-01'),
    ('development_reform', 'Municipal Commission of Development and Reform', '市发展改革委',
     'migration', '2000-01-01'),
    ('culture_tourism', 'Municipal Bureau of Culture and Tourism', '市文化和旅游局', 'migration',
     '2000-01-01'),
    ('economy_it', 'Municipal Bureau of Economy and Information Technology', '市经济和信息化局',
     'migration', '2000-01-01'),
    ('finance', 'Municipal Finance Bureau', '市财政局', 'migration', '2000-01-01'),
    ('commerce', 'Municipal Commerce Bureau', '市商务局', 'migration', '2000-01-01'),
    ('statistics', 'Municipal Bureau of Statistics', '市统计局', 'migration', '2000-01-01'),
    ('radio_television', 'Municipal Radio and Television Bureau', '市广播电视局', 'migration',
     '2000-01-01'),
    ('cultural_heritage', 'Municipal Cultural Heritage Bureau', '市文物局', 'migration',
     '2000-01-01'),
    ('intellectual_property', 'Municipal Intellectual Property Office', '市知识产权局',
     'migration', '2000-01-01'),
    ('science_technology', 'Municipal Science and Technology Commission', '市科委', 'migration',
     '2000-01-01'),
    ('human_resources', 'Municipal Human Resources and Social Security Bureau', '市人力资源社会保障局',
     'migration', '2000-01-01'),
    ('market_regulation', 'Municipal Administration for Market Regulation', '市市场监管局',
     'migration', '2000-01-01');

-- ---- questionnaires ---------------------------------------------------------------------------
CREATE TABLE questionnaire (
    id uuid PRIMARY KEY,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- A version's content is the packed ccip.stats.QuestionnaireContent, read
-- by the code that wrote it (proto/README.md's evolution rules keep old
-- bytes readable). A published version never changes: the trigger below
-- refuses it, so what a response's question indexes and option indexes
-- mean (survey_answer) is fixed forever.
CREATE TABLE questionnaire_version (
    questionnaire_id uuid NOT NULL REFERENCES questionnaire,
    version integer NOT NULL CHECK (version > 0),
    status text NOT NULL CHECK (status IN ('DRAFT', 'PUBLISHED')),
    title text NOT NULL,
    content bytea NOT NULL,
    questions integer NOT NULL,
    note text NOT NULL DEFAULT '',
    saved_by text NOT NULL,
    saved_at timestamptz NOT NULL DEFAULT now(),
    published_by text,
    published_at timestamptz,
    PRIMARY KEY (questionnaire_id, version),
    CHECK ((status = 'PUBLISHED') = (published_at IS NOT NULL))
);
-- At most one draft per questionnaire.
CREATE UNIQUE INDEX questionnaire_version_draft ON questionnaire_version (questionnaire_id)
    WHERE status = 'DRAFT';

CREATE FUNCTION questionnaire_version_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'PUBLISHED' THEN
        RAISE EXCEPTION 'questionnaire % version % is published and frozen: % is not allowed',
            OLD.questionnaire_id, OLD.version, TG_OP
            USING ERRCODE = 'P0001', HINT = 'save a new version instead';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER questionnaire_version_frozen BEFORE UPDATE OR DELETE ON questionnaire_version
    FOR EACH ROW EXECUTE FUNCTION questionnaire_version_frozen();

-- ---- surveys ------------------------------------------------------------------------------------
CREATE TABLE survey (
    id uuid PRIMARY KEY,
    title text NOT NULL,
    description text NOT NULL DEFAULT '',
    questionnaire_id uuid NOT NULL,
    questionnaire_version integer NOT NULL,
    anonymous boolean NOT NULL,
    opens_at timestamptz NOT NULL,
    closes_at timestamptz NOT NULL,
    closed_early_at timestamptz,
    close_reason text NOT NULL DEFAULT '',
    reminder_days integer[] NOT NULL DEFAULT '{}',
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (questionnaire_id, questionnaire_version) REFERENCES questionnaire_version,
    CHECK (closes_at > opens_at)
);

-- A survey asks a published version only.
CREATE FUNCTION survey_version_published() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM questionnaire_version
                   WHERE questionnaire_id = NEW.questionnaire_id
                     AND version = NEW.questionnaire_version AND status = 'PUBLISHED') THEN
        RAISE EXCEPTION 'questionnaire % version % is not published', NEW.questionnaire_id,
            NEW.questionnaire_version USING ERRCODE = 'P0001';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER survey_version_published BEFORE INSERT OR UPDATE OF questionnaire_version ON survey
    FOR EACH ROW EXECUTE FUNCTION survey_version_published();

-- The parts of a survey's target list (ccip.stats.TargetSelector). District
-- selectors hold their codes (the code expands "every district").
CREATE TABLE survey_selector (
    survey_id uuid NOT NULL REFERENCES survey,
    ordinal integer NOT NULL,
    kind text NOT NULL CHECK (kind IN ('DISTRICT', 'DEPARTMENT', 'ROSTER_ENTRY', 'ORGANISATION')),
    ids text[] NOT NULL DEFAULT '{}',          -- empty: every one of the kind
    roster_kinds text[] NOT NULL DEFAULT '{}', -- ROSTER_ENTRY: empty = any
    organisation_type text NOT NULL DEFAULT '',
    district_code text NOT NULL DEFAULT '',
    PRIMARY KEY (survey_id, ordinal)
);

-- A survey's targets: its target list as it stood when the survey opened,
-- read from the registers stats keeps (the roster from evaluation's
-- designations, ev_org from intake's register, departments). Every time
-- compared is the source's own (designation, revocation and expiry times,
-- intake's registration time), never when stats learnt of it, so replaying
-- the streams gives the same targets (tests/integration/test_surveys.c).
-- respondent is the actor id that answers for the target.
CREATE FUNCTION survey_targets(s uuid)
RETURNS TABLE (target_id text, target_kind text, district_code text, name text,
               respondent text)
LANGUAGE sql STABLE AS $$
    WITH sv AS (SELECT opens_at, (extract(epoch FROM opens_at) * 1000000)::bigint AS opens_us
                FROM survey WHERE id = s),
         sel AS (SELECT * FROM survey_selector WHERE survey_id = s)
    SELECT 'district:' || d, 'DISTRICT', d, d, 'district:' || d
    FROM sel, unnest(sel.ids) AS d WHERE sel.kind = 'DISTRICT'
    UNION
    SELECT 'dept:' || p.code, 'DEPARTMENT', '', p.name, 'dept:' || p.code
    FROM sel CROSS JOIN sv JOIN department p ON cardinality(sel.ids) = 0 OR p.code = ANY (sel.ids)
    WHERE sel.kind = 'DEPARTMENT' AND p.defined_at <= sv.opens_at
    UNION
    SELECT 'roster:' || e.id, 'ROSTER_ENTRY', e.district_code, e.name, 'org:' || e.operator_uscc
    FROM sel CROSS JOIN sv JOIN roster_entry e ON cardinality(sel.ids) = 0 OR e.id = ANY (sel.ids)
    WHERE sel.kind = 'ROSTER_ENTRY'
      AND (cardinality(sel.roster_kinds) = 0 OR e.kind = ANY (sel.roster_kinds))
      AND (sel.district_code = '' OR e.district_code = sel.district_code)
      AND e.designated_at <= sv.opens_at
      AND (e.revoked_at IS NULL OR e.revoked_at > sv.opens_at)
      AND (e.valid_until IS NULL OR e.valid_until > sv.opens_at)
    UNION
    SELECT 'org:' || o.uscc, 'ORGANISATION', o.district_code, o.name, 'org:' || o.uscc
    FROM sel CROSS JOIN sv JOIN ev_org o ON cardinality(sel.ids) = 0 OR o.uscc = ANY (sel.ids)
    WHERE sel.kind = 'ORGANISATION'
      AND (sel.organisation_type = '' OR o.org_type = sel.organisation_type)
      AND (sel.district_code = '' OR o.district_code = sel.district_code)
      AND o.registered_at_us > 0 AND o.registered_at_us <= sv.opens_us
$$;

-- ---- participation: who has a draft or has submitted --------------------------------------
-- One row per target that saved or submitted; kept for anonymous surveys
-- too (completeness, one response per target), and never tied to the
-- response itself. While a draft, `draft` holds the packed
-- ccip.stats.Answers; a submission empties it.
CREATE TABLE survey_participation (
    survey_id uuid NOT NULL REFERENCES survey,
    target_id text NOT NULL,
    status text NOT NULL CHECK (status IN ('DRAFT', 'SUBMITTED')),
    draft bytea,
    saved_at timestamptz,
    first_submitted_at timestamptz,
    submitted_at timestamptz,
    submissions integer NOT NULL DEFAULT 0,
    reopen_reason text NOT NULL DEFAULT '',
    PRIMARY KEY (survey_id, target_id),
    CHECK ((status = 'DRAFT') = (draft IS NOT NULL)),
    CHECK ((status = 'SUBMITTED') = (submitted_at IS NOT NULL))
);

-- Every submission and reopening, append-only.
CREATE TABLE survey_participation_history (
    id bigserial PRIMARY KEY,
    survey_id uuid NOT NULL,
    target_id text NOT NULL,
    change text NOT NULL CHECK (change IN ('SUBMITTED', 'REOPENED')),
    actor_id text NOT NULL,
    actor_role text NOT NULL,
    reason text NOT NULL DEFAULT '',
    at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (survey_id, target_id) REFERENCES survey_participation
);

-- ---- responses and answers -------------------------------------------------------------------
-- A submitted response. Its id is random (v4), so neither it nor the rows'
-- order says when it came. In an anonymous survey every column that could
-- tell who answered is NULL (the trigger below refuses anything else), and
-- no other table names the response: participation rows, events and the
-- stored replies name the target only.
CREATE TABLE survey_response (
    id uuid PRIMARY KEY,
    survey_id uuid NOT NULL REFERENCES survey,
    questionnaire_id uuid NOT NULL,
    questionnaire_version integer NOT NULL,
    target_id text,
    target_kind text,
    district_code text,
    submitted_by text,
    submitted_at timestamptz,
    FOREIGN KEY (questionnaire_id, questionnaire_version) REFERENCES questionnaire_version,
    UNIQUE (survey_id, target_id) -- one per target (NULLs, the anonymous ones, never clash)
);

CREATE FUNCTION survey_response_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    sv survey;
BEGIN
    SELECT * INTO sv FROM survey WHERE id = NEW.survey_id;
    IF NEW.questionnaire_id <> sv.questionnaire_id
       OR NEW.questionnaire_version <> sv.questionnaire_version THEN
        RAISE EXCEPTION 'a response to survey % answers questionnaire % version %', sv.id,
            sv.questionnaire_id, sv.questionnaire_version USING ERRCODE = 'P0001';
    END IF;
    IF sv.anonymous AND (NEW.target_id IS NOT NULL OR NEW.target_kind IS NOT NULL
                         OR NEW.district_code IS NOT NULL OR NEW.submitted_by IS NOT NULL
                         OR NEW.submitted_at IS NOT NULL) THEN
        RAISE EXCEPTION 'survey % is anonymous: its responses carry nothing about who answered',
            sv.id USING ERRCODE = 'P0001';
    END IF;
    IF NOT sv.anonymous AND NEW.target_id IS NULL THEN
        RAISE EXCEPTION 'survey % is not anonymous: a response names its target', sv.id
            USING ERRCODE = 'P0001';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER survey_response_check BEFORE INSERT OR UPDATE ON survey_response
    FOR EACH ROW EXECUTE FUNCTION survey_response_check();

-- One row per answered question, and per cell of a table answer. The
-- question is its index in the version's questions (0-based, sections in
-- order); item and col are 0 for a plain answer, a table's cells are
-- (row 1.., column 1..) with the question's own row (0, 0) holding the
-- number of rows. The value is in exactly one column:
--   num  NUMBER (10^-decimals of the unit), DATE (days since 1970-01-01),
--        a table's row count
--   opt  SINGLE_CHOICE (the option's index), MULTIPLE_CHOICE (a bit per
--        option), YES_NO (1 yes, 0 no)
--   txt  SHORT_TEXT, LONG_TEXT
-- survey_id, district_code and target_kind are the response's (NULL when
-- anonymous), so the results read one survey's rows by one index range and
-- group them without a join. Answers are never updated: a reopened response
-- is deleted, and its answers go back to the target's draft.
CREATE TABLE survey_answer (
    survey_id uuid NOT NULL,
    response_id uuid NOT NULL REFERENCES survey_response,
    question smallint NOT NULL,
    item smallint NOT NULL DEFAULT 0,
    col smallint NOT NULL DEFAULT 0,
    district_code text,
    target_kind text,
    num bigint,
    opt bigint,
    txt text,
    PRIMARY KEY (response_id, question, item, col),
    CHECK ((num IS NOT NULL)::int + (opt IS NOT NULL)::int + (txt IS NOT NULL)::int = 1)
);
-- Numbers in order, per question and column: the quartiles are read from
-- this index alone, already sorted (stats_survey_results.c).
CREATE INDEX survey_answer_numbers ON survey_answer (survey_id, question, col, num)
    INCLUDE (district_code, target_kind) WHERE num IS NOT NULL;
-- Texts of one question, for reading.
CREATE INDEX survey_answer_texts ON survey_answer (survey_id, question, col)
    WHERE txt IS NOT NULL;

-- How many answers per survey, question, column, district, target kind and
-- choice (opt; -1 for numbers and texts), kept by the statement triggers
-- below as answers are inserted and deleted: linear in the answers, so it
-- always equals a GROUP BY over them (tests/integration/test_surveys.c
-- compares the two), and the choices' shares are read from a few rows
-- instead of every answer (scripts/bench survey).
CREATE TABLE survey_tally (
    survey_id uuid NOT NULL,
    question smallint NOT NULL,
    col smallint NOT NULL,
    district_code text NOT NULL,
    target_kind text NOT NULL,
    opt bigint NOT NULL,
    n integer NOT NULL CHECK (n >= 0),
    PRIMARY KEY (survey_id, question, col, district_code, target_kind, opt)
);

CREATE FUNCTION survey_tally_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO survey_tally AS t (survey_id, question, col, district_code, target_kind, opt, n)
    SELECT survey_id, question, col, coalesce(district_code, ''), coalesce(target_kind, ''),
           coalesce(opt, -1), count(*)
    FROM new_answers GROUP BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (survey_id, question, col, district_code, target_kind, opt)
    DO UPDATE SET n = t.n + EXCLUDED.n;
    RETURN NULL;
END $$;

CREATE FUNCTION survey_tally_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE survey_tally t SET n = t.n - o.n
    FROM (SELECT survey_id, question, col, coalesce(district_code, '') AS district_code,
                 coalesce(target_kind, '') AS target_kind, coalesce(opt, -1) AS opt,
                 count(*) AS n
          FROM old_answers GROUP BY 1, 2, 3, 4, 5, 6) o
    WHERE t.survey_id = o.survey_id AND t.question = o.question AND t.col = o.col
      AND t.district_code = o.district_code AND t.target_kind = o.target_kind
      AND t.opt = o.opt;
    RETURN NULL;
END $$;

CREATE FUNCTION survey_answer_unchanged() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'answers are never changed: reopen the response instead'
        USING ERRCODE = 'P0001';
END $$;

CREATE TRIGGER survey_tally_add AFTER INSERT ON survey_answer
    REFERENCING NEW TABLE AS new_answers FOR EACH STATEMENT EXECUTE FUNCTION survey_tally_add();
CREATE TRIGGER survey_tally_remove AFTER DELETE ON survey_answer
    REFERENCING OLD TABLE AS old_answers FOR EACH STATEMENT EXECUTE FUNCTION survey_tally_remove();
CREATE TRIGGER survey_answer_unchanged BEFORE UPDATE ON survey_answer
    FOR EACH ROW EXECUTE FUNCTION survey_answer_unchanged();

-- ---- results in the quarter's analysis and bulletin ---------------------------------------
-- A survey attached to a quarter is a section of its analysis and of the
-- bulletin versions published from then on.
CREATE TABLE survey_section (
    quarter text NOT NULL CHECK (quarter ~ '^[0-9]{4}Q[1-4]$'),
    survey_id uuid NOT NULL REFERENCES survey,
    attached_by text NOT NULL,
    attached_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (quarter, survey_id)
);

-- The surveys a release version carries.
CREATE TABLE release_survey (
    quarter text NOT NULL,
    version integer NOT NULL,
    survey_id uuid NOT NULL REFERENCES survey,
    PRIMARY KEY (quarter, version, survey_id),
    FOREIGN KEY (quarter, version) REFERENCES release
);
CREATE INDEX release_survey_survey ON release_survey (survey_id);

-- A survey's results are released once a release that carries them is past
-- its embargo; before that only analysts read them, through every read
-- (each reading statement has this condition).
CREATE FUNCTION survey_released(s uuid) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM release_survey rs
                   JOIN release r ON r.quarter = rs.quarter AND r.version = rs.version
                   WHERE rs.survey_id = s AND r.embargo_until <= now())
$$;

-- ---- notices: invitations and reminders sent --------------------------------------------------
-- One row per survey and notice (the opening's days_before is 0): the
-- scheduled stats.survey.remind.v1 sends each once.
CREATE TABLE survey_notice (
    survey_id uuid NOT NULL REFERENCES survey,
    kind text NOT NULL CHECK (kind IN ('OPENED', 'REMINDER')),
    days_before integer NOT NULL,
    targets integer NOT NULL,
    sent_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (survey_id, kind, days_before)
);

-- ---- research tasks ------------------------------------------------------------------------------
CREATE TABLE research_task (
    id uuid PRIMARY KEY,
    topic text NOT NULL,
    description text NOT NULL DEFAULT '',
    body text NOT NULL CHECK (body ~ '^(org|dept):'),
    body_name text NOT NULL,
    survey_id uuid REFERENCES survey,
    status text NOT NULL CHECK (status IN ('ACTIVE', 'ACCEPTED')),
    commissioned_by text NOT NULL,
    commissioned_at timestamptz NOT NULL DEFAULT now(),
    accepted_by text,
    accepted_at timestamptz,
    acceptance_note text NOT NULL DEFAULT '',
    CHECK ((status = 'ACCEPTED') = (accepted_at IS NOT NULL))
);
CREATE INDEX research_task_body ON research_task (body);

-- A deliverable's current document; every delivery and review is in
-- research_history (with the document's hash).
CREATE TABLE research_deliverable (
    task_id uuid NOT NULL REFERENCES research_task,
    code text NOT NULL CHECK (code ~ '^[a-z][a-z0-9_]{0,39}$'),
    ordinal integer NOT NULL,
    title text NOT NULL,
    due_at timestamptz NOT NULL,
    status text NOT NULL CHECK (status IN ('PENDING', 'DELIVERED', 'APPROVED', 'REDO')),
    document_name text,
    media_type text,
    size bigint,
    sha256 bytea,
    content bytea,
    delivered_by text,
    delivered_at timestamptz,
    review_note text NOT NULL DEFAULT '',
    PRIMARY KEY (task_id, code),
    CHECK ((status = 'PENDING') = (content IS NULL)),
    CHECK (content IS NULL OR length(content) = size)
);

CREATE TABLE research_history (
    id bigserial PRIMARY KEY,
    task_id uuid NOT NULL REFERENCES research_task,
    deliverable text NOT NULL DEFAULT '',
    change text NOT NULL CHECK (change IN ('COMMISSIONED', 'DELIVERED', 'APPROVED', 'RETURNED',
                                           'ACCEPTED')),
    sha256 bytea,
    actor_id text NOT NULL,
    actor_role text NOT NULL,
    note text NOT NULL DEFAULT '',
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX research_history_task ON research_history (task_id, id);
