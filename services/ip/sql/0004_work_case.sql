-- ccip:oldest-compatible-code 1
-- The works a funded project uses, and the case each joined
-- (common/ccip_command.h, "cases"): kept from funding.award.work_linked.v1.
-- A work's case is that of the first award that uses it; every later event
-- about the work (trades, disputes) carries it as its correlation.
CREATE TABLE work_case (
    work_id uuid NOT NULL REFERENCES work (id),
    award_id uuid NOT NULL,            -- funding's award
    case_root uuid NOT NULL,           -- the award's case
    event_id text NOT NULL UNIQUE,     -- the funding.award.work_linked.v1 that linked it
    linked_at timestamptz NOT NULL,
    PRIMARY KEY (work_id, award_id)
);
CREATE INDEX work_case_root ON work_case (case_root);
