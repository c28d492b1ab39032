-- ccip:oldest-compatible-code 1
-- followup: the tasks the leading group and its office entrust to the
-- center, with their whole life (deadlines, reports, extensions, the
-- office's decisions, escalations), and the city's key projects with their
-- milestones, monthly reports and what funding, evaluation and ip say about
-- them (proto/ccip/followup.proto).
-- Enumerations are stored as the names of the proto enum values; times are
-- timestamptz (UTC), calendar days `date` (Beijing days: the service turns
-- them into the instants they end at, followup_rules.h), money bigint fen
-- bounded by FOLLOWUP_FEN_MAX (10^14).
--
-- The sweep (followup_sweep.c) finds what it must escalate through partial
-- indexes that hold exactly the rows it has not escalated yet for their
-- current due time (the `escalated_*` columns name the due time the last
-- escalation was for): so a sweep reads its candidates, not the open rows,
-- and an escalated row leaves the index. The unique key of `escalation` is
-- what makes "once per missed deadline" hold whatever runs the sweep.

-- ---- contents of attachments, by SHA-256 --------------------------------------

CREATE TABLE blob (
    sha256 bytea PRIMARY KEY CHECK (length(sha256) = 32),
    size bigint NOT NULL CHECK (size > 0),
    content bytea NOT NULL
);

-- ---- tasks --------------------------------------------------------------------

CREATE TABLE task (
    id uuid PRIMARY KEY,
    title text NOT NULL CHECK (title <> ''),
    instruction text NOT NULL CHECK (instruction <> ''),
    source_kind text NOT NULL
        CHECK (source_kind IN ('SOURCE_MEETING', 'SOURCE_MEMO', 'SOURCE_INSTRUCTION',
                               'SOURCE_OTHER')),
    source_ref text NOT NULL CHECK (source_ref <> ''),
    lead_unit text NOT NULL CHECK (lead_unit <> ''),
    co_organisers text[] NOT NULL DEFAULT '{}',
    responsible text NOT NULL CHECK (responsible <> ''),
    priority text NOT NULL CHECK (priority IN ('PRIORITY_NORMAL', 'PRIORITY_HIGH',
                                               'PRIORITY_URGENT')),
    report_interval_days integer NOT NULL DEFAULT 0 CHECK (report_interval_days BETWEEN 0 AND 90),
    -- the current deadline: a Beijing day, and the instant it ends (due before it)
    deadline_date date NOT NULL,
    deadline_at timestamptz NOT NULL,
    status text NOT NULL DEFAULT 'TASK_ASSIGNED'
        CHECK (status IN ('TASK_ASSIGNED', 'TASK_IN_PROGRESS', 'TASK_COMPLETION_REPORTED',
                          'TASK_RETURNED', 'TASK_ACCEPTED', 'TASK_CLOSED')),
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text NOT NULL,
    acknowledged_at timestamptz,
    last_report_at timestamptz,
    -- when the interval asks for the next progress report (NULL: no interval)
    report_due_at timestamptz,
    completion_reported_at timestamptz,
    accepted_at timestamptz,
    closed_at timestamptz,
    close_reason text NOT NULL DEFAULT '',
    -- the deadline / report due time the last escalation of its kind was for
    escalated_deadline_at timestamptz,
    escalated_report_due_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    steps integer NOT NULL DEFAULT 0  -- task_step rows so far: the next seq
);
CREATE INDEX task_lead ON task (lead_unit, deadline_at);
-- The sweep's candidates: open (work still owed by the lead unit), not
-- escalated for the current deadline. COMPLETION_REPORTED is not here: the
-- result is in, the office's review is not the lead unit's delay.
CREATE INDEX task_sweep_deadline ON task (deadline_at)
    WHERE status IN ('TASK_ASSIGNED', 'TASK_IN_PROGRESS', 'TASK_RETURNED')
      AND escalated_deadline_at IS DISTINCT FROM deadline_at;
CREATE INDEX task_sweep_report ON task (report_due_at)
    WHERE status IN ('TASK_ASSIGNED', 'TASK_IN_PROGRESS', 'TASK_RETURNED')
      AND report_due_at IS NOT NULL
      AND escalated_report_due_at IS DISTINCT FROM report_due_at;

-- Every deadline a task had, the first one included; append-only.
CREATE TABLE task_deadline (
    task_id uuid NOT NULL REFERENCES task (id),
    seq integer NOT NULL CHECK (seq >= 1),
    deadline_date date NOT NULL,
    deadline_at timestamptz NOT NULL,
    set_at timestamptz NOT NULL DEFAULT now(),
    set_by text NOT NULL,
    reason text NOT NULL DEFAULT '',
    extension_id uuid,
    PRIMARY KEY (task_id, seq)
);

CREATE TABLE task_extension (
    id uuid PRIMARY KEY,
    task_id uuid NOT NULL REFERENCES task (id),
    requested_date date NOT NULL,
    reason text NOT NULL CHECK (reason <> ''),
    requested_at timestamptz NOT NULL DEFAULT now(),
    requested_by text NOT NULL,
    status text NOT NULL DEFAULT 'EXTENSION_PENDING'
        CHECK (status IN ('EXTENSION_PENDING', 'EXTENSION_GRANTED', 'EXTENSION_REFUSED',
                          'EXTENSION_CANCELLED')),
    granted_date date,
    decision_reason text NOT NULL DEFAULT '',
    decided_at timestamptz,
    decided_by text,
    CHECK ((status = 'EXTENSION_GRANTED') = (granted_date IS NOT NULL))
);
CREATE INDEX task_extension_task ON task_extension (task_id, requested_at);
-- one pending request per task
CREATE UNIQUE INDEX task_extension_pending ON task_extension (task_id)
    WHERE status = 'EXTENSION_PENDING';

CREATE TABLE task_report (
    id uuid PRIMARY KEY,
    task_id uuid NOT NULL REFERENCES task (id),
    kind text NOT NULL CHECK (kind IN ('REPORT_PROGRESS', 'REPORT_COMPLETION')),
    text text NOT NULL CHECK (text <> ''),
    reported_at timestamptz NOT NULL DEFAULT now(),
    reported_by text NOT NULL
);
CREATE INDEX task_report_task ON task_report (task_id, reported_at);

CREATE TABLE task_attachment (
    id uuid PRIMARY KEY,
    report_id uuid NOT NULL REFERENCES task_report (id),
    task_id uuid NOT NULL REFERENCES task (id),
    seq integer NOT NULL,
    name text NOT NULL CHECK (name <> ''),
    media_type text NOT NULL DEFAULT '',
    size bigint NOT NULL CHECK (size > 0),
    sha256 bytea NOT NULL REFERENCES blob (sha256),
    UNIQUE (report_id, seq)
);

-- Every step of a task's life, in order; append-only.
CREATE TABLE task_step (
    task_id uuid NOT NULL REFERENCES task (id),
    seq integer NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    actor_id text NOT NULL,
    actor_role text NOT NULL,
    action text NOT NULL,
    from_status text,
    to_status text NOT NULL,
    note text NOT NULL DEFAULT '',
    PRIMARY KEY (task_id, seq)
);

-- ---- what funding, evaluation and ip told us ------------------------------------
-- Kept for every award, designation and work whether or not a key project
-- follows it yet: a project registered later shows them at once, and the
-- consumers never depend on the order of registration and events.

CREATE TABLE award (
    id uuid PRIMARY KEY,
    application_id uuid,
    programme_code text NOT NULL DEFAULT '',
    year integer NOT NULL DEFAULT 0,
    grantee_uscc text NOT NULL DEFAULT '',
    grantee_name text NOT NULL DEFAULT '',
    title text NOT NULL DEFAULT '',
    amount_fen bigint NOT NULL DEFAULT 0,
    status text NOT NULL,   -- ccip.funding.AwardStatus name
    status_reason text NOT NULL DEFAULT '',
    disbursed_fen bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE award_payment (
    payment_id uuid PRIMARY KEY,
    award_id uuid NOT NULL,
    tranche_number integer NOT NULL,
    amount_fen bigint NOT NULL,
    paid_at timestamptz NOT NULL
);
CREATE INDEX award_payment_award ON award_payment (award_id);

CREATE TABLE award_inspection (
    inspection_id uuid PRIMARY KEY,
    award_id uuid NOT NULL,
    kind text NOT NULL,
    finding text NOT NULL,
    notes text NOT NULL DEFAULT '',
    correct_by timestamptz,
    misused_fen bigint NOT NULL DEFAULT 0,
    recorded_at timestamptz NOT NULL
);
CREATE INDEX award_inspection_award ON award_inspection (award_id);

CREATE TABLE award_clawback (
    clawback_id uuid PRIMARY KEY,
    award_id uuid NOT NULL,
    amount_fen bigint NOT NULL,
    recovered_fen bigint NOT NULL DEFAULT 0,
    status text NOT NULL,   -- ccip.funding.ClawbackStatus name
    reason text NOT NULL DEFAULT '',
    ordered_at timestamptz NOT NULL
);
CREATE INDEX award_clawback_award ON award_clawback (award_id);

CREATE TABLE designation (
    id uuid PRIMARY KEY,
    certificate_no text NOT NULL DEFAULT '',
    holder_uscc text NOT NULL,
    holder_name text NOT NULL DEFAULT '',
    name text NOT NULL DEFAULT '',
    district_code text NOT NULL DEFAULT '',
    valid_until timestamptz,
    status text NOT NULL,   -- ccip.evaluation.DesignationStatus name
    revoke_reason text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE work (
    id uuid PRIMARY KEY,
    serial bigint NOT NULL,
    kind text NOT NULL,
    title text NOT NULL,
    registered_at timestamptz NOT NULL
);
-- the parties a work was registered for ("org:<USCC>", "person:<id>")
CREATE TABLE work_owner (
    party text NOT NULL,
    work_id uuid NOT NULL REFERENCES work (id),
    PRIMARY KEY (party, work_id)
);

-- ---- key projects -------------------------------------------------------------

CREATE TABLE project (
    id uuid PRIMARY KEY,
    year integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    source text NOT NULL CHECK (source IN ('FROM_AWARD', 'FROM_DESIGNATION', 'FROM_STAFF')),
    award_id uuid REFERENCES award (id),
    designation_id uuid REFERENCES designation (id),
    title text NOT NULL CHECK (title <> ''),
    owner_uscc text NOT NULL CHECK (owner_uscc ~ '^[0-9A-HJ-NPQRTUWXY]{18}$'),
    owner_name text NOT NULL DEFAULT '',
    district_code text NOT NULL CHECK (district_code ~ '^[0-9]{6}$'),
    planned_investment_fen bigint NOT NULL
        CHECK (planned_investment_fen BETWEEN 0 AND 100000000000000),
    start_date date NOT NULL,
    end_date date NOT NULL,
    description text NOT NULL DEFAULT '',
    status text NOT NULL DEFAULT 'PROJECT_ACTIVE'
        CHECK (status IN ('PROJECT_ACTIVE', 'PROJECT_COMPLETED', 'PROJECT_CANCELLED')),
    investment_completed_fen bigint NOT NULL DEFAULT 0
        CHECK (investment_completed_fen BETWEEN 0 AND 100000000000000),
    last_reported_month date,
    -- the next month whose report the sweep checks (its first day), and when
    -- that report is due; NULL once the period's last month was checked
    report_check_month date,
    report_check_due_at timestamptz,
    registered_at timestamptz NOT NULL DEFAULT now(),
    registered_by text NOT NULL,
    closed_at timestamptz,
    closed_by text,
    close_reason text NOT NULL DEFAULT '',
    milestones integer NOT NULL DEFAULT 0,  -- milestone rows so far: the next seq
    CHECK (end_date >= start_date),
    CHECK ((source = 'FROM_AWARD') = (award_id IS NOT NULL)),
    CHECK ((source = 'FROM_DESIGNATION') = (designation_id IS NOT NULL))
);
-- one key project per award, designation and owner's title in a year
CREATE UNIQUE INDEX project_award_year ON project (award_id, year) WHERE award_id IS NOT NULL;
CREATE UNIQUE INDEX project_designation_year ON project (designation_id, year)
    WHERE designation_id IS NOT NULL;
CREATE UNIQUE INDEX project_owner_title ON project (year, owner_uscc, title);
CREATE INDEX project_year_district ON project (year, district_code);
CREATE INDEX project_owner ON project (owner_uscc);
CREATE INDEX project_sweep_report ON project (report_check_due_at)
    WHERE status = 'PROJECT_ACTIVE' AND report_check_due_at IS NOT NULL;

CREATE TABLE milestone (
    id uuid PRIMARY KEY,
    project_id uuid NOT NULL REFERENCES project (id),
    seq integer NOT NULL,
    title text NOT NULL CHECK (title <> ''),
    planned_date date NOT NULL,
    due_at timestamptz NOT NULL,   -- the end of the planned day in Beijing
    progress_percent integer NOT NULL DEFAULT 0 CHECK (progress_percent BETWEEN 0 AND 100),
    reached_on date,
    progress_at timestamptz,
    -- the month of the report that last moved it (an older month's
    -- correction does not undo newer progress)
    progress_month date,
    -- false once the project is closed: nothing more is asked of it
    active boolean NOT NULL DEFAULT true,
    late_escalated_due timestamptz,
    risk_escalated_due timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text NOT NULL,
    UNIQUE (project_id, seq),
    CHECK (reached_on IS NULL OR progress_percent = 100)
);
CREATE INDEX milestone_sweep_late ON milestone (due_at)
    WHERE active AND reached_on IS NULL AND late_escalated_due IS DISTINCT FROM due_at;
CREATE INDEX milestone_sweep_risk ON milestone (due_at)
    WHERE active AND reached_on IS NULL AND progress_percent = 0
      AND risk_escalated_due IS DISTINCT FROM due_at;

-- Monthly reports: a month is reported once; a correction is a new version
-- and the one it replaces stays, no longer current.
CREATE TABLE monthly_report (
    id uuid PRIMARY KEY,
    project_id uuid NOT NULL REFERENCES project (id),
    month date NOT NULL CHECK (extract(day FROM month) = 1),
    version integer NOT NULL CHECK (version >= 1),
    current boolean NOT NULL,
    investment_completed_fen bigint NOT NULL
        CHECK (investment_completed_fen BETWEEN 0 AND 100000000000000),
    problems text NOT NULL DEFAULT '',
    filed_at timestamptz NOT NULL DEFAULT now(),
    filed_by text NOT NULL,
    correction_reason text NOT NULL DEFAULT '',
    UNIQUE (project_id, month, version),
    CHECK ((version = 1) = (correction_reason = ''))
);
CREATE UNIQUE INDEX monthly_report_current ON monthly_report (project_id, month) WHERE current;

CREATE TABLE report_progress (
    report_id uuid NOT NULL REFERENCES monthly_report (id),
    milestone_id uuid NOT NULL REFERENCES milestone (id),
    percent integer NOT NULL CHECK (percent BETWEEN 0 AND 100),
    reached_on date,
    note text NOT NULL DEFAULT '',
    PRIMARY KEY (report_id, milestone_id)
);

-- ---- escalations and digests --------------------------------------------------

-- One row per escalation raised to the office. subject_id is the task, the
-- milestone or (a missing monthly report) the project; due_at the deadline
-- or due time concerned. Its sentence for the office is composed when read
-- (followup_sweep.c), in Beijing time, from these and the subject's title. The unique key is the rule: each subject is
-- escalated once per kind and due time, whichever replica, sweep or report
-- raises it, however often.
CREATE TABLE escalation (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind text NOT NULL
        CHECK (kind IN ('DEADLINE_MISSED', 'PROGRESS_REPORT_OVERDUE', 'MILESTONE_LATE',
                        'MILESTONE_AT_RISK', 'MONTHLY_REPORT_MISSING')),
    subject_id uuid NOT NULL,
    task_id uuid REFERENCES task (id),
    project_id uuid REFERENCES project (id),
    milestone_id uuid REFERENCES milestone (id),
    month date,
    due_at timestamptz NOT NULL,
    raised_at timestamptz NOT NULL DEFAULT now(),
    raised_by text NOT NULL,
    UNIQUE (subject_id, kind, due_at),
    CHECK ((task_id IS NULL) <> (project_id IS NULL))
);
CREATE INDEX escalation_task ON escalation (task_id) WHERE task_id IS NOT NULL;
CREATE INDEX escalation_project ON escalation (project_id) WHERE project_id IS NOT NULL;

-- The weekly digests published: one per ISO week (Beijing), whichever
-- replica's scheduled run gets there first.
CREATE TABLE digest (
    week text PRIMARY KEY CHECK (week ~ '^[0-9]{4}-W[0-9]{2}$'),
    published_at timestamptz NOT NULL DEFAULT now(),
    published_by text NOT NULL,
    on_time integer NOT NULL,
    due_soon integer NOT NULL,
    overdue integer NOT NULL,
    parts integer NOT NULL
);
