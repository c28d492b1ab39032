-- ccip:oldest-compatible-code 1
-- funding: programmes and their annual budgets, the double-entry ledger,
-- awards, tranches and payments, use-of-funds reports, inspections and
-- clawbacks. Enumerations are stored as the names of the proto enum values
-- (proto/ccip/funding.proto); times are timestamptz, money bigint fen.

-- Refuses any change to the rows of an append-only table.
CREATE FUNCTION append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'table % is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

-- ---- programmes and budgets ------------------------------------------------

CREATE TABLE programme (
    code text PRIMARY KEY CHECK (code ~ '^[A-Za-z0-9_.-]{1,32}$'),
    name text NOT NULL CHECK (name <> ''),
    description text NOT NULL DEFAULT '',
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- A programme's payment plan: the tranches of every award confirmed from
-- then on (an award keeps its own copy in `tranche`).
CREATE TABLE programme_tranche (
    programme_code text NOT NULL REFERENCES programme (code),
    number integer NOT NULL CHECK (number BETWEEN 1 AND 10),
    percent integer NOT NULL CHECK (percent BETWEEN 1 AND 100),
    condition text NOT NULL
        CHECK (condition IN ('AGREEMENT_SIGNED', 'MIDTERM_INSPECTION_PASSED',
                             'INTERIM_REPORT_ACCEPTED', 'FINAL_REPORT_ACCEPTED',
                             'COMPLETION_INSPECTION_PASSED')),
    label text NOT NULL DEFAULT '',
    PRIMARY KEY (programme_code, number)
);

-- A programme-year. budget_fen is the figure as last set; the ledger's
-- appropriation account must agree with it (ccipctl funding verify).
CREATE TABLE budget_year (
    programme_code text NOT NULL REFERENCES programme (code),
    year integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    budget_fen bigint NOT NULL DEFAULT 0 CHECK (budget_fen >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    -- closed years take no budget changes and no new commitments
    closed_at timestamptz,
    closed_by text,
    close_reason text NOT NULL DEFAULT '',
    PRIMARY KEY (programme_code, year)
);

-- Sub-budgets of a programme-year, carved out of its pool.
CREATE TABLE budget_category (
    programme_code text NOT NULL,
    year integer NOT NULL,
    category text NOT NULL CHECK (category ~ '^[A-Za-z0-9_.-]{1,32}$'),
    budget_fen bigint NOT NULL CHECK (budget_fen >= 0),
    PRIMARY KEY (programme_code, year, category),
    FOREIGN KEY (programme_code, year) REFERENCES budget_year (programme_code, year)
);

-- ---- the ledger -------------------------------------------------------------
-- Every movement is a journal entry of two or more lines that add up to
-- zero (debits positive, credits negative). An account's balance is kept
-- beside it in its normal sign (debit-normal accounts: debits minus
-- credits; credit-normal: the reverse), updated in the same transaction as
-- its lines, and never below zero: that CHECK is what makes an overspent
-- budget impossible even for code that forgets to ask.

CREATE TABLE account (
    id bigserial PRIMARY KEY,
    code text NOT NULL UNIQUE,  -- e.g. available:CCI-2027:2027:animation
    kind text NOT NULL
        CHECK (kind IN ('APPROPRIATION', 'AVAILABLE', 'COMMITTED', 'DISBURSED', 'RECEIVABLE',
                        'CLAWED_BACK', 'RECOVERED')),
    normal_side char(1) NOT NULL CHECK (normal_side IN ('D', 'C')),
    programme_code text NOT NULL,
    year integer NOT NULL,
    category text NOT NULL DEFAULT '',
    award_id uuid,
    balance_fen bigint NOT NULL DEFAULT 0,
    -- set on the AVAILABLE accounts when their year is closed: no new
    -- commitment may draw on them (the flag lives on the row that every
    -- commitment locks, so a close and a confirmation are serialised)
    closed boolean NOT NULL DEFAULT false,
    CONSTRAINT account_never_negative CHECK (balance_fen >= 0)
);
CREATE INDEX account_year ON account (programme_code, year, kind);
CREATE INDEX account_award ON account (award_id) WHERE award_id IS NOT NULL;

CREATE TABLE journal_entry (
    id bigserial PRIMARY KEY,
    kind text NOT NULL
        CHECK (kind IN ('ENTRY_BUDGET_ALLOCATED', 'ENTRY_BUDGET_REDUCED', 'ENTRY_BUDGET_ALLOTTED',
                        'ENTRY_AWARD_COMMITTED', 'ENTRY_TRANCHE_DISBURSED', 'ENTRY_CLAWBACK_ORDERED',
                        'ENTRY_CLAWBACK_RECOVERED', 'ENTRY_AWARD_RELEASED')),
    programme_code text NOT NULL,
    year integer NOT NULL,
    award_id uuid,
    memo text NOT NULL DEFAULT '',
    actor_id text NOT NULL,
    actor_role text NOT NULL,
    command_id text NOT NULL DEFAULT '',
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX journal_entry_year ON journal_entry (programme_code, year, id);
CREATE INDEX journal_entry_award ON journal_entry (award_id, id) WHERE award_id IS NOT NULL;

CREATE TABLE journal_line (
    id bigserial PRIMARY KEY,
    entry_id bigint NOT NULL REFERENCES journal_entry (id),
    account_id bigint NOT NULL REFERENCES account (id),
    amount_fen bigint NOT NULL CHECK (amount_fen <> 0)  -- debit > 0, credit < 0
);
CREATE INDEX journal_line_entry ON journal_line (entry_id);
CREATE INDEX journal_line_account ON journal_line (account_id);

-- An entry balances when the transaction commits: at least two lines that
-- add up to zero. Checked at commit (deferred), once per line and once per
-- entry, so an entry without lines is refused too.
CREATE FUNCTION journal_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    entry bigint;
    total numeric;
    n integer;
BEGIN
    IF TG_TABLE_NAME = 'journal_line' THEN
        entry := NEW.entry_id;
    ELSE
        entry := NEW.id;
    END IF;
    SELECT coalesce(sum(amount_fen), 0), count(*) INTO total, n
        FROM journal_line WHERE entry_id = entry;
    IF n < 2 OR total <> 0 THEN
        RAISE EXCEPTION 'journal entry % does not balance: % lines adding up to % fen', entry, n,
            total USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER journal_line_balanced AFTER INSERT ON journal_line
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION journal_entry_balanced();
CREATE CONSTRAINT TRIGGER journal_entry_has_lines AFTER INSERT ON journal_entry
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION journal_entry_balanced();

CREATE TRIGGER journal_entry_append_only BEFORE UPDATE OR DELETE ON journal_entry
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER journal_entry_no_truncate BEFORE TRUNCATE ON journal_entry
    FOR EACH STATEMENT EXECUTE FUNCTION append_only();
CREATE TRIGGER journal_line_append_only BEFORE UPDATE OR DELETE ON journal_line
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER journal_line_no_truncate BEFORE TRUNCATE ON journal_line
    FOR EACH STATEMENT EXECUTE FUNCTION append_only();

-- Every change of a budget figure, with who, why and its journal entry.
CREATE TABLE budget_change (
    id bigserial PRIMARY KEY,
    programme_code text NOT NULL,
    year integer NOT NULL,
    category text NOT NULL DEFAULT '',  -- '' = the year's total
    from_fen bigint NOT NULL,
    to_fen bigint NOT NULL,
    reason text NOT NULL CHECK (reason <> ''),
    actor_id text NOT NULL,
    actor_role text NOT NULL,
    command_id text NOT NULL,
    entry_id bigint REFERENCES journal_entry (id),
    at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (programme_code, year) REFERENCES budget_year (programme_code, year)
);
CREATE INDEX budget_change_year ON budget_change (programme_code, year, id);
CREATE TRIGGER budget_change_append_only BEFORE UPDATE OR DELETE ON budget_change
    FOR EACH ROW EXECUTE FUNCTION append_only();

-- ---- awards -----------------------------------------------------------------

-- One award per approved special-fund application. The programme is named,
-- not referenced: a proposal may name a programme staff have yet to set up
-- (confirming it then fails with a clear error).
CREATE TABLE award (
    id uuid PRIMARY KEY,
    application_id uuid NOT NULL UNIQUE,
    case_id text NOT NULL DEFAULT '',
    decision_event_id text NOT NULL UNIQUE,
    programme_code text NOT NULL,
    year integer NOT NULL,
    category text NOT NULL DEFAULT '',
    grantee_uscc text NOT NULL,
    grantee_name text NOT NULL DEFAULT '',
    title text NOT NULL DEFAULT '',
    requested_fen bigint NOT NULL CHECK (requested_fen > 0),
    recommended_fen bigint NOT NULL CHECK (recommended_fen >= 0),
    amount_fen bigint NOT NULL CHECK (amount_fen > 0 AND amount_fen <= requested_fen),
    status text NOT NULL
        CHECK (status IN ('AWARD_PROPOSED', 'AWARD_COMMITTED', 'AWARD_SUSPENDED',
                          'AWARD_COMPLETED', 'AWARD_TERMINATED', 'AWARD_REJECTED')),
    note text NOT NULL DEFAULT '',
    proposed_at timestamptz NOT NULL DEFAULT now(),
    confirmed_at timestamptz,
    confirmed_by text,
    signed_at timestamptz,
    signed_by text,
    status_reason text NOT NULL DEFAULT '',
    status_changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX award_year ON award (programme_code, year, status);
CREATE INDEX award_grantee ON award (grantee_uscc);

-- The award's own copy of its programme's plan, with amounts in fen.
CREATE TABLE tranche (
    award_id uuid NOT NULL REFERENCES award (id),
    number integer NOT NULL CHECK (number >= 1),
    percent integer NOT NULL CHECK (percent BETWEEN 1 AND 100),
    amount_fen bigint NOT NULL CHECK (amount_fen > 0),
    condition text NOT NULL,
    label text NOT NULL DEFAULT '',
    status text NOT NULL
        CHECK (status IN ('TRANCHE_PLANNED', 'TRANCHE_REQUESTED', 'TRANCHE_PAID',
                          'TRANCHE_SUSPENDED', 'TRANCHE_CANCELLED')),
    paid_at timestamptz,
    PRIMARY KEY (award_id, number)
);

-- A request to pay one tranche. Above funding.four_eyes_above_fen it needs
-- two approvers, and the database refuses the same person twice.
CREATE TABLE payment (
    id uuid PRIMARY KEY,
    award_id uuid NOT NULL,
    tranche_number integer NOT NULL,
    amount_fen bigint NOT NULL CHECK (amount_fen > 0),
    status text NOT NULL CHECK (status IN ('PAYMENT_PENDING', 'PAYMENT_PAID', 'PAYMENT_CANCELLED')),
    needs_second_approval boolean NOT NULL,
    requested_by text NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now(),
    first_approver text,
    first_approved_at timestamptz,
    second_approver text,
    second_approved_at timestamptz,
    payment_ref text NOT NULL DEFAULT '',
    paid_at timestamptz,
    cancel_reason text NOT NULL DEFAULT '',
    FOREIGN KEY (award_id, tranche_number) REFERENCES tranche (award_id, number),
    CONSTRAINT payment_four_eyes CHECK (second_approver IS NULL OR second_approver <> first_approver),
    CONSTRAINT payment_paid_approved CHECK (status <> 'PAYMENT_PAID' OR (first_approver IS NOT NULL
        AND (NOT needs_second_approval OR second_approver IS NOT NULL)))
);
-- At most one live (pending or paid) payment per tranche.
CREATE UNIQUE INDEX payment_one_live ON payment (award_id, tranche_number)
    WHERE status IN ('PAYMENT_PENDING', 'PAYMENT_PAID');

-- ip works a project uses, and works frozen by an upheld ip dispute: a
-- tranche of an award using a frozen work is held.
CREATE TABLE award_work (
    award_id uuid NOT NULL REFERENCES award (id),
    work_id text NOT NULL CHECK (work_id <> ''),
    linked_by text NOT NULL,
    linked_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (award_id, work_id)
);
CREATE INDEX award_work_work ON award_work (work_id);

CREATE TABLE work_hold (
    dispute_id text PRIMARY KEY,
    work_id text NOT NULL,
    reasons text NOT NULL DEFAULT '',
    event_id text NOT NULL,
    held_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX work_hold_work ON work_hold (work_id);

-- ---- use-of-funds reports, inspections, clawbacks ----------------------------

CREATE TABLE use_report (
    id uuid PRIMARY KEY,
    award_id uuid NOT NULL REFERENCES award (id),
    kind text NOT NULL CHECK (kind IN ('INTERIM', 'FINAL')),
    period text NOT NULL CHECK (period <> ''),
    progress text NOT NULL,
    status text NOT NULL
        CHECK (status IN ('REPORT_DRAFT', 'REPORT_SUBMITTED', 'REPORT_ACCEPTED',
                          'REPORT_RETURNED')),
    submissions integer NOT NULL DEFAULT 0,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    submitted_at timestamptz,
    submitted_by text,
    reviewed_at timestamptz,
    reviewed_by text,
    review_note text NOT NULL DEFAULT ''
);
CREATE INDEX use_report_award ON use_report (award_id, created_at);

CREATE TABLE use_report_line (
    report_id uuid NOT NULL REFERENCES use_report (id),
    n integer NOT NULL,
    item text NOT NULL CHECK (item <> ''),
    spent_fen bigint NOT NULL CHECK (spent_fen >= 0),
    PRIMARY KEY (report_id, n)
);

CREATE TABLE use_report_document (
    report_id uuid NOT NULL REFERENCES use_report (id),
    n integer NOT NULL,
    name text NOT NULL CHECK (name <> ''),
    sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    PRIMARY KEY (report_id, n)
);

-- A submitted or accepted report is locked: its lines and documents cannot
-- change (the service checks first; this is the database's word on it).
CREATE FUNCTION use_report_locked() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r uuid;
    s text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        r := OLD.report_id;
    ELSE
        r := NEW.report_id;
    END IF;
    SELECT status INTO s FROM use_report WHERE id = r;
    IF s IN ('REPORT_SUBMITTED', 'REPORT_ACCEPTED') THEN
        RAISE EXCEPTION 'use-of-funds report % is locked (%)', r, s
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER use_report_line_locked BEFORE INSERT OR UPDATE OR DELETE ON use_report_line
    FOR EACH ROW EXECUTE FUNCTION use_report_locked();
CREATE TRIGGER use_report_document_locked BEFORE INSERT OR UPDATE OR DELETE
    ON use_report_document FOR EACH ROW EXECUTE FUNCTION use_report_locked();

CREATE TABLE inspection (
    id uuid PRIMARY KEY,
    award_id uuid NOT NULL REFERENCES award (id),
    kind text NOT NULL CHECK (kind IN ('MIDTERM', 'COMPLETION', 'AD_HOC')),
    scheduled_for timestamptz NOT NULL,
    inspector text NOT NULL CHECK (inspector <> ''),
    scheduled_by text NOT NULL,
    scheduled_at timestamptz NOT NULL DEFAULT now(),
    finding text CHECK (finding IN ('COMPLIANT', 'ISSUES', 'MISUSE')),  -- NULL until recorded
    notes text NOT NULL DEFAULT '',
    correct_by timestamptz,
    misused_fen bigint NOT NULL DEFAULT 0 CHECK (misused_fen >= 0),
    recorded_at timestamptz,
    recorded_by text,
    clawback_id uuid,
    CHECK ((finding = 'ISSUES') = (correct_by IS NOT NULL) OR finding IS NULL),
    -- MISUSE may find 0 fen to claw back (nothing paid yet): it still suspends
    CHECK (finding = 'MISUSE' OR misused_fen = 0)
);
CREATE INDEX inspection_award ON inspection (award_id, scheduled_for);

CREATE TABLE clawback (
    id uuid PRIMARY KEY,
    award_id uuid NOT NULL REFERENCES award (id),
    inspection_id uuid REFERENCES inspection (id),
    amount_fen bigint NOT NULL CHECK (amount_fen > 0),
    recovered_fen bigint NOT NULL DEFAULT 0 CHECK (recovered_fen BETWEEN 0 AND amount_fen),
    status text NOT NULL CHECK (status IN ('CLAWBACK_OPEN', 'CLAWBACK_RECOVERED')),
    reason text NOT NULL,
    ordered_by text NOT NULL,
    ordered_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'CLAWBACK_RECOVERED') = (recovered_fen = amount_fen))
);
CREATE INDEX clawback_award ON clawback (award_id);

CREATE TABLE recovery (
    id bigserial PRIMARY KEY,
    clawback_id uuid NOT NULL REFERENCES clawback (id),
    amount_fen bigint NOT NULL CHECK (amount_fen > 0),
    reference text NOT NULL CHECK (reference <> ''),
    recorded_by text NOT NULL,
    entry_id bigint NOT NULL REFERENCES journal_entry (id),
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX recovery_clawback ON recovery (clawback_id, id);
CREATE TRIGGER recovery_append_only BEFORE UPDATE OR DELETE ON recovery
    FOR EACH ROW EXECUTE FUNCTION append_only();
