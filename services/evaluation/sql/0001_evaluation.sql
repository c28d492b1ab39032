-- ccip:oldest-compatible-code 1
-- evaluation: cases opened from intake's accepted applications, the
-- registers of intermediary agencies and experts, investigations and
-- reviews (the tasks), versioned score sheets, the office's decisions,
-- designations, and an append-only log per case.
-- Register ids are compared byte-wise (COLLATE "C") everywhere, as the
-- assignment algorithm ranks them (services/evaluation/evaluation_assign.h).
-- Enumerations are stored as the names of the proto enum values
-- (proto/ccip/evaluation.proto); times are timestamptz, money bigint fen.

-- ---- registers -------------------------------------------------------------

CREATE TABLE agency (
    id text COLLATE "C" PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_.-]{1,32}$'),
    name text NOT NULL CHECK (name <> ''),
    uscc text NOT NULL CHECK (uscc ~ '^[0-9A-HJ-NPQRTUWXY]{18}$'),
    qualification text NOT NULL DEFAULT '',
    capacity integer NOT NULL CHECK (capacity BETWEEN 1 AND 10000),
    -- open investigations; kept in the same transaction as the tasks, so the
    -- CHECK below is the last line of defence of the cap
    load integer NOT NULL DEFAULT 0 CHECK (load >= 0),
    active boolean NOT NULL DEFAULT true,
    registered_at timestamptz NOT NULL DEFAULT now(),
    registered_by text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (load <= capacity)
);
CREATE INDEX agency_uscc ON agency (uscc);

-- The districts an agency serves, with a copy of its load and status kept by
-- a trigger, so that candidates come out of one index range in rank order.
CREATE TABLE agency_district (
    agency_id text COLLATE "C" NOT NULL REFERENCES agency (id) ON DELETE CASCADE,
    district_code text NOT NULL CHECK (district_code ~ '^1101[0-9]{2}$'),
    load integer NOT NULL,
    active boolean NOT NULL,
    PRIMARY KEY (agency_id, district_code)
);
CREATE INDEX agency_district_rank ON agency_district (district_code, load, agency_id) WHERE active;

CREATE TABLE agency_conflict (
    agency_id text COLLATE "C" NOT NULL REFERENCES agency (id) ON DELETE CASCADE,
    org_uscc text NOT NULL CHECK (org_uscc ~ '^[0-9A-HJ-NPQRTUWXY]{18}$'),
    note text NOT NULL DEFAULT '',
    declared_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agency_id, org_uscc)
);
CREATE INDEX agency_conflict_org ON agency_conflict (org_uscc);

CREATE TABLE expert (
    id text COLLATE "C" PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_.-]{1,32}$'),
    name text NOT NULL CHECK (name <> ''),
    fields text[] NOT NULL CHECK (cardinality(fields) >= 1),
    affiliation_uscc text NOT NULL CHECK (affiliation_uscc ~ '^[0-9A-HJ-NPQRTUWXY]{18}$'),
    affiliation_name text NOT NULL DEFAULT '',
    district_code text NOT NULL CHECK (district_code ~ '^1101[0-9]{2}$'),
    -- digits only / lower case, so that contacts compare by equality
    phone text NOT NULL DEFAULT '',
    email text NOT NULL DEFAULT '',
    max_concurrent integer NOT NULL CHECK (max_concurrent BETWEEN 1 AND 1000),
    -- open reviews (assigned or accepted, not yet submitted)
    load integer NOT NULL DEFAULT 0 CHECK (load >= 0),
    active boolean NOT NULL DEFAULT true,
    registered_at timestamptz NOT NULL DEFAULT now(),
    registered_by text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (load <= max_concurrent)
);
CREATE INDEX expert_affiliation ON expert (affiliation_uscc);
CREATE INDEX expert_phone ON expert (phone) WHERE phone <> '';
CREATE INDEX expert_email ON expert (email) WHERE email <> '';

-- One row per expert and field, with a copy of the load and status kept by
-- a trigger: the candidates for a field are one index range in rank order
-- (load, id), whatever the size of the register.
CREATE TABLE expert_field (
    expert_id text COLLATE "C" NOT NULL REFERENCES expert (id) ON DELETE CASCADE,
    field text NOT NULL CHECK (field ~ '^[a-z0-9_.-]{1,48}$'),
    load integer NOT NULL,
    active boolean NOT NULL,
    PRIMARY KEY (expert_id, field)
);
CREATE INDEX expert_field_rank ON expert_field (field, load, expert_id) WHERE active;

CREATE TABLE expert_conflict (
    expert_id text COLLATE "C" NOT NULL REFERENCES expert (id) ON DELETE CASCADE,
    org_uscc text NOT NULL CHECK (org_uscc ~ '^[0-9A-HJ-NPQRTUWXY]{18}$'),
    note text NOT NULL DEFAULT '',
    declared_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (expert_id, org_uscc)
);
CREATE INDEX expert_conflict_org ON expert_conflict (org_uscc);

CREATE FUNCTION agency_rank_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE agency_district SET load = NEW.load, active = NEW.active WHERE agency_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER agency_rank_sync AFTER UPDATE OF load, active ON agency
    FOR EACH ROW WHEN (OLD.load IS DISTINCT FROM NEW.load OR OLD.active IS DISTINCT FROM NEW.active)
    EXECUTE FUNCTION agency_rank_sync();

CREATE FUNCTION expert_rank_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE expert_field SET load = NEW.load, active = NEW.active WHERE expert_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER expert_rank_sync AFTER UPDATE OF load, active ON expert
    FOR EACH ROW WHEN (OLD.load IS DISTINCT FROM NEW.load OR OLD.active IS DISTINCT FROM NEW.active)
    EXECUTE FUNCTION expert_rank_sync();

-- ---- score sheets ------------------------------------------------------------

CREATE TABLE score_sheet (
    kind text NOT NULL
        CHECK (kind IN ('CLUSTER_IDENTIFICATION', 'TALENT_BASE_IDENTIFICATION',
                        'SPECIAL_FUND_PROJECT')),
    version integer NOT NULL CHECK (version >= 1),
    pass_threshold_centi integer NOT NULL CHECK (pass_threshold_centi BETWEEN 0 AND 10000),
    panel_size integer NOT NULL CHECK (panel_size BETWEEN 1 AND 15),
    fields text[] NOT NULL CHECK (cardinality(fields) >= 1),
    published_at timestamptz NOT NULL DEFAULT now(),
    published_by text NOT NULL,
    PRIMARY KEY (kind, version)
);

CREATE TABLE sheet_criterion (
    kind text NOT NULL,
    version integer NOT NULL,
    position integer NOT NULL,
    code text NOT NULL CHECK (code ~ '^[a-z0-9_.-]{1,32}$'),
    title text NOT NULL CHECK (title <> ''),
    weight integer NOT NULL CHECK (weight BETWEEN 1 AND 100),
    max_score integer NOT NULL CHECK (max_score BETWEEN 1 AND 1000),
    PRIMARY KEY (kind, version, code),
    UNIQUE (kind, version, position),
    FOREIGN KEY (kind, version) REFERENCES score_sheet (kind, version)
);

-- ---- cases -------------------------------------------------------------------

CREATE TABLE case_file (
    id uuid PRIMARY KEY,
    -- exactly one case per application, whatever the consumer does
    application_id uuid NOT NULL CONSTRAINT case_file_one_per_application UNIQUE,
    event_id text NOT NULL, -- the intake.application.accepted.v1 that opened it
    call_id uuid NOT NULL,
    kind text NOT NULL
        CHECK (kind IN ('CLUSTER_IDENTIFICATION', 'TALENT_BASE_IDENTIFICATION',
                        'SPECIAL_FUND_PROJECT')),
    year integer NOT NULL,
    call_title text NOT NULL DEFAULT '',
    fund_programme_code text NOT NULL DEFAULT '',
    applicant_uscc text NOT NULL CHECK (applicant_uscc ~ '^[0-9A-HJ-NPQRTUWXY]{18}$'),
    applicant_name text NOT NULL,
    district_code text NOT NULL CHECK (district_code ~ '^1101[0-9]{2}$'),
    title text NOT NULL,
    summary text NOT NULL DEFAULT '',
    subject_name text NOT NULL DEFAULT '', -- cluster name, or the title
    requested_fen bigint NOT NULL DEFAULT 0 CHECK (requested_fen >= 0),
    -- the ApplicationAccepted payload as received: facts, documents, contacts
    accepted_payload bytea NOT NULL,
    status text NOT NULL DEFAULT 'CASE_OPEN'
        CHECK (status IN ('CASE_OPEN', 'CASE_IN_EVALUATION', 'CASE_WITH_OFFICE',
                          'CASE_APPROVED', 'CASE_DECLINED')),
    round integer NOT NULL DEFAULT 1 CHECK (round >= 1),
    -- pinned when the first panel seat is filled
    sheet_version integer,
    panel_size integer,
    fields text[] NOT NULL DEFAULT '{}',
    -- the current round's aggregate, stored when its last review came in
    score_centi integer,
    spread_centi integer,
    dropped integer,
    reviews_counted integer,
    opened_at timestamptz NOT NULL DEFAULT now(),
    accepted_at timestamptz,
    submitted_at timestamptz,
    submitted_by text,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_file_status ON case_file (status, id);
CREATE INDEX case_file_applicant ON case_file (applicant_uscc);

-- Contacts of applicant organisations as they appeared in accepted
-- applications: an expert whose phone or e-mail is among them conflicts.
CREATE TABLE applicant_contact (
    applicant_uscc text NOT NULL,
    application_id uuid NOT NULL,
    contact_name text NOT NULL DEFAULT '',
    phone text NOT NULL DEFAULT '',
    email text NOT NULL DEFAULT '',
    seen_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (applicant_uscc, application_id)
);

-- On-site investigations: one live (assigned or done) per case.
CREATE TABLE investigation (
    id uuid PRIMARY KEY,
    case_id uuid NOT NULL REFERENCES case_file (id),
    round integer NOT NULL,
    agency_id text COLLATE "C" NOT NULL REFERENCES agency (id),
    status text NOT NULL
        CHECK (status IN ('TASK_ASSIGNED', 'TASK_DONE', 'TASK_DECLINED', 'TASK_REASSIGNED',
                          'TASK_SUPERSEDED')),
    assigned_at timestamptz NOT NULL DEFAULT now(),
    assigned_by text NOT NULL,
    due_at timestamptz NOT NULL,
    -- a conflict was overridden by staff: which ones, and why (always both)
    override_reason text NOT NULL DEFAULT '',
    overridden_conflicts text[] NOT NULL DEFAULT '{}',
    visit_date timestamptz,
    findings text,
    verdict text CHECK (verdict IN ('VERDICT_MEETS', 'VERDICT_DOES_NOT_MEET',
                                    'VERDICT_MEETS_WITH_CONDITIONS')),
    reported_at timestamptz,
    closed_at timestamptz,
    close_reason text NOT NULL DEFAULT '',
    reminded_at timestamptz,
    overdue_notified_at timestamptz,
    CHECK ((cardinality(overridden_conflicts) = 0) = (override_reason = '')),
    CHECK ((status = 'TASK_DONE') <= (verdict IS NOT NULL))
);
CREATE UNIQUE INDEX investigation_one_live ON investigation (case_id)
    WHERE status IN ('TASK_ASSIGNED', 'TASK_DONE');
CREATE INDEX investigation_case ON investigation (case_id, assigned_at);
CREATE INDEX investigation_agency ON investigation (agency_id, status);
CREATE INDEX investigation_open_due ON investigation (due_at) WHERE status = 'TASK_ASSIGNED';

CREATE TABLE report_document (
    investigation_id uuid NOT NULL REFERENCES investigation (id),
    n integer NOT NULL,
    name text NOT NULL CHECK (name <> ''),
    sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    media_type text NOT NULL DEFAULT '',
    PRIMARY KEY (investigation_id, n)
);

-- Expert reviews: one live (assigned, accepted or done) per case and expert.
CREATE TABLE review (
    id uuid PRIMARY KEY,
    case_id uuid NOT NULL REFERENCES case_file (id),
    round integer NOT NULL,
    expert_id text COLLATE "C" NOT NULL REFERENCES expert (id),
    status text NOT NULL
        CHECK (status IN ('TASK_ASSIGNED', 'TASK_ACCEPTED', 'TASK_DONE', 'TASK_DECLINED',
                          'TASK_REASSIGNED', 'TASK_SUPERSEDED')),
    assigned_at timestamptz NOT NULL DEFAULT now(),
    assigned_by text NOT NULL,
    due_at timestamptz NOT NULL,
    override_reason text NOT NULL DEFAULT '',
    overridden_conflicts text[] NOT NULL DEFAULT '{}',
    declared_no_conflict_at timestamptz,
    no_conflict_statement text NOT NULL DEFAULT '',
    sheet_version integer,
    comment text NOT NULL DEFAULT '',
    score_centi integer CHECK (score_centi BETWEEN 0 AND 10000),
    submitted_at timestamptz,
    closed_at timestamptz,
    close_reason text NOT NULL DEFAULT '',
    reminded_at timestamptz,
    overdue_notified_at timestamptz,
    CHECK ((cardinality(overridden_conflicts) = 0) = (override_reason = '')),
    -- scoring only after the expert declared no conflict
    CHECK ((status = 'TASK_DONE') <= (declared_no_conflict_at IS NOT NULL AND score_centi IS NOT NULL))
);
CREATE UNIQUE INDEX review_one_live ON review (case_id, expert_id)
    WHERE status IN ('TASK_ASSIGNED', 'TASK_ACCEPTED', 'TASK_DONE');
CREATE INDEX review_case ON review (case_id, assigned_at);
CREATE INDEX review_expert ON review (expert_id, status);
CREATE INDEX review_open_due ON review (due_at) WHERE status IN ('TASK_ASSIGNED', 'TASK_ACCEPTED');

CREATE TABLE review_score (
    review_id uuid NOT NULL REFERENCES review (id),
    criterion text NOT NULL,
    score integer NOT NULL CHECK (score >= 0),
    comment text NOT NULL,
    PRIMARY KEY (review_id, criterion)
);

-- The office's decisions, every round's.
CREATE TABLE decision (
    id uuid PRIMARY KEY,
    case_id uuid NOT NULL REFERENCES case_file (id),
    round integer NOT NULL,
    outcome text NOT NULL
        CHECK (outcome IN ('DECISION_APPROVED', 'DECISION_DECLINED', 'DECISION_RETURNED')),
    reasons text NOT NULL CHECK (reasons <> ''),
    recommended_fen bigint NOT NULL DEFAULT 0 CHECK (recommended_fen >= 0),
    return_to text NOT NULL DEFAULT 'RETURN_TO_UNSPECIFIED',
    recommendation text NOT NULL,
    score_centi integer,
    decided_by text NOT NULL,
    decided_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((outcome = 'DECISION_RETURNED') = (return_to <> 'RETURN_TO_UNSPECIFIED'))
);
CREATE INDEX decision_case ON decision (case_id, decided_at);

-- ---- designations ------------------------------------------------------------

CREATE TABLE designation (
    id uuid PRIMARY KEY,
    case_id uuid NOT NULL UNIQUE REFERENCES case_file (id),
    application_id uuid NOT NULL,
    kind text NOT NULL
        CHECK (kind IN ('CLUSTER_IDENTIFICATION', 'TALENT_BASE_IDENTIFICATION')),
    certificate_no text NOT NULL UNIQUE,
    holder_uscc text NOT NULL,
    holder_name text NOT NULL,
    name text NOT NULL,
    district_code text NOT NULL,
    valid_from timestamptz NOT NULL,
    valid_until timestamptz NOT NULL,
    next_reevaluation timestamptz NOT NULL,
    status text NOT NULL CHECK (status IN ('DESIGNATION_ACTIVE', 'DESIGNATION_REVOKED')),
    granted_at timestamptz NOT NULL DEFAULT now(),
    granted_by text NOT NULL,
    revoked_at timestamptz,
    revoked_by text,
    revoke_reason text NOT NULL DEFAULT '',
    last_reevaluated_at timestamptz,
    reevaluation_note text NOT NULL DEFAULT '',
    CHECK (valid_until > valid_from),
    CHECK ((status = 'DESIGNATION_REVOKED') = (revoked_at IS NOT NULL))
);
CREATE INDEX designation_holder ON designation (holder_uscc);
CREATE INDEX designation_due ON designation (next_reevaluation) WHERE status = 'DESIGNATION_ACTIVE';

-- Gap-free certificate numbers per prefix and year ("CCI-2027").
CREATE TABLE certificate_counter (
    series text PRIMARY KEY,
    last integer NOT NULL
);

-- ---- history -------------------------------------------------------------------

-- Append-only: what happened to a case, by whom.
CREATE TABLE case_log (
    id bigserial PRIMARY KEY,
    case_id uuid NOT NULL REFERENCES case_file (id),
    at timestamptz NOT NULL DEFAULT now(),
    actor_id text NOT NULL,
    actor_role text NOT NULL,
    action text NOT NULL,
    detail text NOT NULL DEFAULT ''
);
CREATE INDEX case_log_case ON case_log (case_id, id);
