-- ccip:oldest-compatible-code 1
-- stats: the statistical monitoring of the designated clusters (issue 7).
-- Names are unqualified: ccip_migrate sets search_path to the schema.
-- Landed migrations are never edited: add 0002_... instead.

-- ---- the indicator catalogue ----------------------------------------------
-- A version is complete (not a patch) and is never changed once published. A
-- quarter is collected with the newest version whose effective_from is not
-- after it, and a report keeps the version it was created with.
CREATE TABLE catalogue_version (
    version integer PRIMARY KEY CHECK (version > 0),
    effective_from text NOT NULL UNIQUE CHECK (effective_from ~ '^[0-9]{4}Q[1-4]$'),
    note text NOT NULL,
    published_by text NOT NULL,
    published_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE indicator (
    version integer NOT NULL REFERENCES catalogue_version,
    code text NOT NULL CHECK (code ~ '^[a-z][a-z0-9_]{0,39}$'),
    name text NOT NULL,
    unit text NOT NULL CHECK (unit IN ('COUNT', 'FEN', 'SQUARE_METRES', 'PERCENT')),
    kinds text[] NOT NULL CHECK (cardinality(kinds) > 0 AND kinds <@ ARRAY['CLUSTER', 'TALENT_BASE']),
    compulsory boolean NOT NULL,
    allow_negative boolean NOT NULL DEFAULT false,
    description text NOT NULL DEFAULT '',
    ordinal integer NOT NULL,
    PRIMARY KEY (version, code)
);

-- Rules between two indicators of the same version: left op right.
CREATE TABLE validation_rule (
    version integer NOT NULL,
    id text NOT NULL CHECK (id ~ '^[a-z][a-z0-9_]{0,39}$'),
    left_code text NOT NULL,
    op text NOT NULL CHECK (op IN ('LESS_OR_EQUAL', 'GREATER_OR_EQUAL')),
    right_code text NOT NULL,
    importance text NOT NULL CHECK (importance IN ('ERROR', 'WARNING')),
    message text NOT NULL,
    ordinal integer NOT NULL,
    PRIMARY KEY (version, id),
    FOREIGN KEY (version, left_code) REFERENCES indicator (version, code),
    FOREIGN KEY (version, right_code) REFERENCES indicator (version, code)
);

INSERT INTO catalogue_version (version, effective_from, note, published_by)
VALUES (1, '2000Q1', 'initial catalogue: the indicators issue 7 requires', 'migration');

INSERT INTO indicator (version, code, name, unit, kinds, compulsory, allow_negative, ordinal,
                       description) VALUES
    (1, 'enterprises', 'Enterprises in the cluster', 'COUNT', '{CLUSTER}', true, false, 1,
     'enterprises registered or operating in the cluster at the end of the quarter'),
    (1, 'employees', 'Employees', 'COUNT', '{CLUSTER,TALENT_BASE}', true, false, 2,
     'people employed at the end of the quarter'),
    (1, 'operating_revenue', 'Operating revenue', 'FEN', '{CLUSTER,TALENT_BASE}', true, false, 3,
     'operating revenue of the quarter'),
    (1, 'total_profit', 'Total profit', 'FEN', '{CLUSTER,TALENT_BASE}', true, true, 4,
     'total profit of the quarter; negative for a loss'),
    (1, 'taxes_paid', 'Taxes paid', 'FEN', '{CLUSTER,TALENT_BASE}', true, false, 5,
     'taxes paid in the quarter'),
    (1, 'fixed_asset_investment', 'Fixed-asset investment', 'FEN', '{CLUSTER,TALENT_BASE}', false,
     false, 6, 'fixed-asset investment completed in the quarter'),
    (1, 'new_ip_registrations', 'New IP registrations', 'COUNT', '{CLUSTER,TALENT_BASE}', false,
     false, 7, 'copyrights, trademarks and patents registered in the quarter'),
    (1, 'export_value', 'Export value', 'FEN', '{CLUSTER}', false, false, 8,
     'exports of goods and services in the quarter'),
    (1, 'floor_area', 'Floor area in use', 'SQUARE_METRES', '{CLUSTER}', false, false, 9,
     'floor area in use at the end of the quarter'),
    (1, 'occupancy_rate', 'Occupancy rate', 'PERCENT', '{CLUSTER}', false, false, 10,
     'share of the floor area let at the end of the quarter'),
    (1, 'trainees', 'Trainees trained', 'COUNT', '{TALENT_BASE}', true, false, 11,
     'people who completed a training programme in the quarter');

INSERT INTO validation_rule (version, id, left_code, op, right_code, importance, message, ordinal)
VALUES
    (1, 'profit_within_revenue', 'total_profit', 'LESS_OR_EQUAL', 'operating_revenue', 'ERROR',
     'total profit cannot exceed operating revenue', 1),
    (1, 'exports_within_revenue', 'export_value', 'LESS_OR_EQUAL', 'operating_revenue', 'WARNING',
     'exports are usually part of operating revenue', 2);

-- ---- the monitoring roster ---------------------------------------------------
-- Kept from evaluation's designation events: one row per designation (a
-- re-designation after a revocation is a new designation). Rows are never
-- deleted; a revocation sets revoked_at and the last quarter the entry
-- reports for (the quarter of the revocation: it stops being asked from the
-- next one).
CREATE TABLE roster_entry (
    id text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9._-]{1,64}$'),
    kind text NOT NULL CHECK (kind IN ('CLUSTER', 'TALENT_BASE')),
    name text NOT NULL,
    district_code text NOT NULL CHECK (district_code ~ '^[0-9]{6}$'),
    category text NOT NULL DEFAULT '',
    operator_uscc text NOT NULL,
    certificate_no text NOT NULL DEFAULT '',
    designated_at timestamptz NOT NULL,
    valid_until timestamptz,
    first_quarter text NOT NULL CHECK (first_quarter ~ '^[0-9]{4}Q[1-4]$'),
    revoked_at timestamptz,
    last_quarter text CHECK (last_quarter ~ '^[0-9]{4}Q[1-4]$'),
    revocation_reason text NOT NULL DEFAULT '',
    source text NOT NULL CHECK (source IN ('evaluation')),
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((revoked_at IS NULL) = (last_quarter IS NULL)),
    CHECK (last_quarter IS NULL OR last_quarter >= first_quarter)
);
CREATE INDEX roster_entry_operator ON roster_entry (operator_uscc);
CREATE INDEX roster_entry_district ON roster_entry (district_code);

-- Every change of the roster, append-only.
CREATE TABLE roster_history (
    id bigserial PRIMARY KEY,
    roster_id text NOT NULL REFERENCES roster_entry,
    change text NOT NULL CHECK (change IN ('GRANTED', 'REVOKED', 'CATEGORISED')),
    at timestamptz NOT NULL,
    actor_id text NOT NULL,
    source text NOT NULL,
    reason text NOT NULL DEFAULT '',
    recorded_at timestamptz NOT NULL DEFAULT now()
);

-- ---- quarterly reports -------------------------------------------------------
CREATE TABLE report (
    id uuid PRIMARY KEY,
    roster_id text NOT NULL REFERENCES roster_entry,
    quarter text NOT NULL CHECK (quarter ~ '^[0-9]{4}Q[1-4]$'),
    catalogue_version integer NOT NULL REFERENCES catalogue_version,
    status text NOT NULL
        CHECK (status IN ('DRAFT', 'SUBMITTED', 'DISTRICT_APPROVED', 'ACCEPTED', 'RETURNED')),
    note text NOT NULL DEFAULT '',
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    first_submitted_at timestamptz, -- timeliness counts the first submission
    submitted_at timestamptz,       -- the latest one
    return_reason text NOT NULL DEFAULT '',
    UNIQUE (roster_id, quarter)
);
CREATE INDEX report_quarter ON report (quarter, status);

-- The values of a report. quarter and roster_id are copies of the report's,
-- so that the analysis reads one quarter's values with one index range.
CREATE TABLE report_value (
    report_id uuid NOT NULL REFERENCES report,
    quarter text NOT NULL,
    roster_id text NOT NULL,
    code text NOT NULL,
    value bigint NOT NULL,
    explanation text NOT NULL DEFAULT '',
    accepted boolean NOT NULL DEFAULT false, -- the report is accepted (set by the trigger below)
    PRIMARY KEY (report_id, code)
);
-- The analysis reads three quarters' accepted values from this index alone.
CREATE INDEX report_value_quarter ON report_value (quarter, code)
    INCLUDE (roster_id, value, accepted);

-- Append-only history of a report's statuses.
CREATE TABLE report_transition (
    id bigserial PRIMARY KEY,
    report_id uuid NOT NULL REFERENCES report,
    from_status text NOT NULL DEFAULT '',
    to_status text NOT NULL,
    actor_id text NOT NULL,
    actor_role text NOT NULL,
    reason text NOT NULL DEFAULT '',
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX report_transition_report ON report_transition (report_id, id);

-- Every value of an accepted report, from the acceptance on: the values as
-- accepted (old_value NULL), then every change (old, new, who, when, why).
-- Folding a report's rows in id order gives its current values. Written by
-- the triggers below only.
CREATE TABLE value_audit (
    id bigserial PRIMARY KEY,
    report_id uuid NOT NULL REFERENCES report,
    code text NOT NULL,
    old_value bigint,
    new_value bigint,
    actor_id text NOT NULL,
    actor_role text NOT NULL,
    reason text NOT NULL,
    command_id text NOT NULL DEFAULT '',
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX value_audit_report ON value_audit (report_id, id);

-- A command that accepts a report or changes an accepted value first says
-- who and why for its transaction: set_config('stats.actor_id', ..., true),
-- stats.actor_role, stats.reason, stats.command_id. Without them the change
-- is refused: no code path (and no hand-written UPDATE) changes an accepted
-- value without its audit record.
CREATE FUNCTION audit_context_check(what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('stats.actor_id', true), '') = ''
       OR coalesce(current_setting('stats.reason', true), '') = '' THEN
        RAISE EXCEPTION '% needs an audit record: say who and why first', what
            USING ERRCODE = 'P0001', HINT = 'set stats.actor_id and stats.reason for the transaction';
    END IF;
END $$;

CREATE FUNCTION report_value_audit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rid uuid;
    c text;
    st text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        rid := OLD.report_id;
        c := OLD.code;
    ELSE
        rid := NEW.report_id;
        c := NEW.code;
    END IF;
    SELECT status INTO st FROM report WHERE id = rid;
    IF st IS DISTINCT FROM 'ACCEPTED' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.value = OLD.value THEN
        RETURN NULL; -- an explanation changed, not the value
    END IF;
    PERFORM audit_context_check(format('changing value %s of accepted report %s', c, rid));
    INSERT INTO value_audit (report_id, code, old_value, new_value, actor_id, actor_role, reason,
                             command_id)
    VALUES (rid, c,
            CASE WHEN TG_OP <> 'INSERT' THEN OLD.value END,
            CASE WHEN TG_OP <> 'DELETE' THEN NEW.value END,
            current_setting('stats.actor_id'),
            coalesce(current_setting('stats.actor_role', true), ''),
            current_setting('stats.reason'),
            coalesce(current_setting('stats.command_id', true), ''));
    RETURN NULL;
END $$;

CREATE TRIGGER report_value_audit AFTER INSERT OR UPDATE OR DELETE ON report_value
    FOR EACH ROW EXECUTE FUNCTION report_value_audit();

-- Acceptance records the accepted values and marks them for the analysis;
-- an accepted report stays accepted.
CREATE FUNCTION report_status_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'reports are never deleted (report %)', OLD.id USING ERRCODE = 'P0001';
    END IF;
    IF OLD.status = 'ACCEPTED' AND NEW.status <> 'ACCEPTED' THEN
        RAISE EXCEPTION 'report % is accepted and cannot become %', OLD.id, NEW.status
            USING ERRCODE = 'P0001';
    END IF;
    IF NEW.status = 'ACCEPTED' AND OLD.status <> 'ACCEPTED' THEN
        PERFORM audit_context_check(format('accepting report %s', NEW.id));
        UPDATE report_value SET accepted = true WHERE report_id = NEW.id;
        INSERT INTO value_audit (report_id, code, old_value, new_value, actor_id, actor_role,
                                 reason, command_id)
        SELECT NEW.id, v.code, NULL, v.value, current_setting('stats.actor_id'),
               coalesce(current_setting('stats.actor_role', true), ''),
               current_setting('stats.reason'),
               coalesce(current_setting('stats.command_id', true), '')
        FROM report_value v WHERE v.report_id = NEW.id ORDER BY v.code;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER report_status_audit AFTER UPDATE OF status OR DELETE ON report
    FOR EACH ROW EXECUTE FUNCTION report_status_audit();

-- Staff let one roster entry enter a locked quarter until a time.
CREATE TABLE lock_exception (
    id bigserial PRIMARY KEY,
    roster_id text NOT NULL REFERENCES roster_entry,
    quarter text NOT NULL CHECK (quarter ~ '^[0-9]{4}Q[1-4]$'),
    until timestamptz NOT NULL,
    reason text NOT NULL,
    granted_by text NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lock_exception_entry ON lock_exception (roster_id, quarter, until);

-- ---- indicators computed from events ------------------------------------------
-- Facts kept by consuming the other services' streams, one row per
-- aggregate. Every write is commutative (the earliest time wins, or the
-- highest position of the same producer), so the tables end the same
-- whatever order the producers' streams were applied in relative to each
-- other; the indicators are grouped from them when read. A rebuild
-- (stats.projections.rebuild.v1) empties them and replays every stream.

-- intake.organisation.registered.v1: where an organisation is.
CREATE TABLE ev_org (
    uscc text PRIMARY KEY,
    district_code text NOT NULL,
    position bigint NOT NULL -- intake position of the registration that set it
);

-- intake.application.submitted.v1 (first submission) and .accepted.v1.
CREATE TABLE ev_application (
    application_id text PRIMARY KEY,
    kind text NOT NULL,
    applicant_uscc text NOT NULL,
    uscc_district text NOT NULL,     -- from the code's characters 3-8 when a Beijing district
    submitted_at_us bigint,
    submitted_quarter text,
    accepted_at_us bigint,
    accepted_quarter text,
    accepted_district text           -- the district the accepted application names
);
CREATE INDEX ev_application_submitted ON ev_application (submitted_quarter);
CREATE INDEX ev_application_accepted ON ev_application (accepted_quarter);

-- evaluation.decision.made.v1, final decisions (approved or declined).
CREATE TABLE ev_decision (
    application_id text PRIMARY KEY,
    outcome text NOT NULL CHECK (outcome IN ('APPROVED', 'DECLINED')),
    kind text NOT NULL,
    uscc_district text NOT NULL,     -- of the applicant's credit code, when a Beijing district
    decided_at_us bigint NOT NULL,
    quarter text NOT NULL
);
CREATE INDEX ev_decision_quarter ON ev_decision (quarter);

-- funding.award.granted.v1: the amount committed.
CREATE TABLE ev_award (
    award_id text PRIMARY KEY,
    application_id text NOT NULL,
    uscc_district text NOT NULL,
    amount_fen bigint NOT NULL,
    at_us bigint NOT NULL,
    quarter text NOT NULL
);
CREATE INDEX ev_award_quarter ON ev_award (quarter);

-- funding.disbursement.paid.v1
CREATE TABLE ev_payment (
    payment_id text PRIMARY KEY,
    application_id text NOT NULL,
    uscc_district text NOT NULL,
    amount_fen bigint NOT NULL,
    at_us bigint NOT NULL,
    quarter text NOT NULL
);
CREATE INDEX ev_payment_quarter ON ev_payment (quarter);

-- funding.clawback.ordered.v1
CREATE TABLE ev_clawback (
    clawback_id text PRIMARY KEY,
    application_id text NOT NULL,
    uscc_district text NOT NULL,
    amount_fen bigint NOT NULL,
    at_us bigint NOT NULL,
    quarter text NOT NULL
);
CREATE INDEX ev_clawback_quarter ON ev_clawback (quarter);

-- ip.work.registered.v1
CREATE TABLE ev_work (
    work_id text PRIMARY KEY,
    kind text NOT NULL,
    district_code text NOT NULL,     -- of the first organisation owner, "" when none
    registered_at_us bigint NOT NULL,
    quarter text NOT NULL
);
CREATE INDEX ev_work_quarter ON ev_work (quarter);

-- ip.trade.settled.v1
CREATE TABLE ev_trade (
    contract_id text PRIMARY KEY,
    work_id text NOT NULL,
    district_code text NOT NULL,     -- of the seller, "" when not an organisation
    price_fen bigint NOT NULL,
    settled_at_us bigint NOT NULL,
    quarter text NOT NULL
);
CREATE INDEX ev_trade_quarter ON ev_trade (quarter);

-- ip.dispute.upheld.v1
CREATE TABLE ev_dispute (
    dispute_id text PRIMARY KEY,
    work_id text NOT NULL,
    district_code text NOT NULL,     -- of the first organisation owner
    upheld_at_us bigint NOT NULL,
    quarter text NOT NULL
);
CREATE INDEX ev_dispute_quarter ON ev_dispute (quarter);

-- ---- releases ----------------------------------------------------------------------
-- A bulletin per quarter, in versions: a correction is a new version with a
-- change note; earlier versions stay readable. Nothing of a release can be
-- read before embargo_until except by the analyst role.
CREATE TABLE release (
    quarter text NOT NULL CHECK (quarter ~ '^[0-9]{4}Q[1-4]$'),
    version integer NOT NULL CHECK (version > 0),
    title text NOT NULL,
    licence text NOT NULL,
    embargo_until timestamptz NOT NULL,
    change_note text NOT NULL DEFAULT '',
    summary text NOT NULL,
    published_by text NOT NULL,
    published_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (quarter, version)
);

CREATE TABLE release_file (
    quarter text NOT NULL,
    version integer NOT NULL,
    name text NOT NULL,
    media_type text NOT NULL,
    content text NOT NULL,
    PRIMARY KEY (quarter, version, name),
    FOREIGN KEY (quarter, version) REFERENCES release
);
