-- ccip:oldest-compatible-code 1
-- intake: calls, the applicant register, applications, their documents, the
-- append-only history of transitions and the status the applicant sees.
-- Enumerations are stored as the names of the proto enum values
-- (proto/ccip/intake.proto); times are timestamptz, money bigint fen.

-- Calls for applications, opened (published) and closed by staff.
CREATE TABLE call (
    id uuid PRIMARY KEY,
    kind text NOT NULL
        CHECK (kind IN ('CLUSTER_IDENTIFICATION', 'TALENT_BASE_IDENTIFICATION',
                        'SPECIAL_FUND_PROJECT')),
    year integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    title text NOT NULL CHECK (title <> ''),
    opens_at timestamptz NOT NULL,
    closes_at timestamptz NOT NULL,
    -- document types every application must carry before it is submitted
    required_documents text[] NOT NULL DEFAULT '{}',
    -- organisation types that may apply; empty = anyone
    eligible_types text[] NOT NULL DEFAULT '{}',
    fund_programme_code text NOT NULL DEFAULT '',
    max_request_fen bigint NOT NULL DEFAULT 0 CHECK (max_request_fen >= 0),
    -- set when staff closed the call (before or after closes_at)
    closed_at timestamptz,
    closed_by text,
    close_reason text NOT NULL DEFAULT '',
    opened_by text NOT NULL,
    opened_at timestamptz NOT NULL DEFAULT now(),
    CHECK (closes_at > opens_at),
    CHECK ((kind = 'SPECIAL_FUND_PROJECT') = (max_request_fen > 0))
);
CREATE INDEX call_year_kind ON call (year, kind);

-- The applicant register: one row per organisation, keyed by its unified
-- social credit code.
CREATE TABLE organisation (
    uscc text PRIMARY KEY CHECK (uscc ~ '^[0-9A-HJ-NPQRTUWXY]{18}$'),
    name text NOT NULL CHECK (name <> ''),
    org_type text NOT NULL
        CHECK (org_type IN ('DISTRICT_GOVERNMENT', 'MUNICIPAL_COMMISSION', 'ENTERPRISE',
                            'INSTITUTION')),
    district_code text NOT NULL CHECK (district_code ~ '^1101[0-9]{2}$'),
    legal_representative text NOT NULL,
    contact_name text NOT NULL,
    contact_phone text NOT NULL,
    contact_email text NOT NULL DEFAULT '',
    address text NOT NULL DEFAULT '',
    registered_at timestamptz NOT NULL DEFAULT now(),
    registered_by text NOT NULL,
    -- staff checked the organisation; its applications may be accepted
    verified_at timestamptz,
    verified_by text,
    verification_note text NOT NULL DEFAULT ''
);

CREATE TABLE application (
    id uuid PRIMARY KEY,
    call_id uuid NOT NULL REFERENCES call (id),
    applicant_uscc text NOT NULL REFERENCES organisation (uscc),
    -- the internal status; what the applicant sees is applicant_view
    status text NOT NULL
        CHECK (status IN ('DRAFT', 'SUBMITTED', 'ACCEPTED', 'RETURNED', 'REJECTED', 'WITHDRAWN')),
    title text NOT NULL CHECK (title <> ''),
    summary text NOT NULL DEFAULT '',
    district_code text NOT NULL CHECK (district_code ~ '^1101[0-9]{2}$'),
    requested_fen bigint NOT NULL DEFAULT 0 CHECK (requested_fen >= 0),
    submissions integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    submitted_at timestamptz,
    decided_at timestamptz
);
-- One live application per organisation per call: a withdrawn or rejected
-- one does not count.
CREATE UNIQUE INDEX application_one_live_per_call ON application (call_id, applicant_uscc)
    WHERE status IN ('DRAFT', 'SUBMITTED', 'ACCEPTED', 'RETURNED');
CREATE INDEX application_applicant ON application (applicant_uscc, updated_at);
CREATE INDEX application_call ON application (call_id, status);

-- Kind-specific facts: at most one of these per application, by its call's kind.
CREATE TABLE cluster_facts (
    application_id uuid PRIMARY KEY REFERENCES application (id),
    cluster_name text NOT NULL,
    location text NOT NULL,
    area_m2 bigint NOT NULL CHECK (area_m2 >= 0),
    enterprise_count integer NOT NULL CHECK (enterprise_count >= 0),
    employee_count integer NOT NULL CHECK (employee_count >= 0),
    lead_operator text NOT NULL
);

CREATE TABLE talent_base_facts (
    application_id uuid PRIMARY KEY REFERENCES application (id),
    annual_capacity integer NOT NULL CHECK (annual_capacity >= 0)
);

CREATE TABLE talent_programme (
    application_id uuid NOT NULL REFERENCES talent_base_facts (application_id) ON DELETE CASCADE,
    ordinal integer NOT NULL,
    name text NOT NULL CHECK (name <> ''),
    capacity integer NOT NULL CHECK (capacity >= 0),
    PRIMARY KEY (application_id, ordinal)
);

CREATE TABLE budget_line (
    application_id uuid NOT NULL REFERENCES application (id),
    ordinal integer NOT NULL,
    item text NOT NULL CHECK (item <> ''),
    amount_fen bigint NOT NULL CHECK (amount_fen > 0),
    PRIMARY KEY (application_id, ordinal)
);

-- Document content, once per distinct content (de-duplicated by SHA-256).
CREATE TABLE blob (
    sha256 bytea PRIMARY KEY CHECK (length(sha256) = 32),
    size bigint NOT NULL CHECK (size > 0),
    content bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (length(content) = size)
);

-- Documents attached to applications; the content is in blob.
CREATE TABLE document (
    id uuid PRIMARY KEY,
    application_id uuid NOT NULL REFERENCES application (id),
    doc_type text NOT NULL CHECK (doc_type <> ''),
    name text NOT NULL CHECK (name <> ''),
    media_type text NOT NULL,
    size bigint NOT NULL CHECK (size > 0),
    sha256 bytea NOT NULL REFERENCES blob (sha256),
    added_at timestamptz NOT NULL DEFAULT now(),
    added_by text NOT NULL,
    -- the same content twice under one type is a mistake, not a second document
    UNIQUE (application_id, doc_type, sha256)
);

-- Refuses any change to the rows of an append-only table.
CREATE FUNCTION append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'table % is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

-- Every transition of every application: who, when, from what to what, why.
CREATE TABLE application_history (
    id bigserial PRIMARY KEY,
    application_id uuid NOT NULL REFERENCES application (id),
    from_status text, -- NULL for the creation of the draft
    to_status text NOT NULL,
    actor_id text NOT NULL,
    actor_role text NOT NULL,
    reason text NOT NULL DEFAULT '',
    command_id text NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX application_history_application ON application_history (application_id, id);
CREATE TRIGGER application_history_append_only BEFORE UPDATE OR DELETE ON application_history
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER application_history_no_truncate BEFORE TRUNCATE ON application_history
    FOR EACH STATEMENT EXECUTE FUNCTION append_only();

-- What the applicant sees: its own status, derived from intake's transitions
-- and from evaluation's and funding's events, and the timeline behind it.
CREATE TABLE applicant_view (
    application_id uuid PRIMARY KEY REFERENCES application (id),
    status text NOT NULL,
    message text NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE applicant_timeline (
    id bigserial PRIMARY KEY,
    application_id uuid NOT NULL REFERENCES application (id),
    at timestamptz NOT NULL,
    status text NOT NULL,
    message text NOT NULL,
    source text NOT NULL, -- intake, evaluation, funding
    event_id text UNIQUE  -- the consumed event; NULL for intake's own transitions
);
CREATE INDEX applicant_timeline_application ON applicant_timeline (application_id, at, id);
CREATE TRIGGER applicant_timeline_append_only BEFORE UPDATE OR DELETE ON applicant_timeline
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER applicant_timeline_no_truncate BEFORE TRUNCATE ON applicant_timeline
    FOR EACH STATEMENT EXECUTE FUNCTION append_only();
