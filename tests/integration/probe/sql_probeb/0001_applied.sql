-- ccip:oldest-compatible-code 1
-- Every event probeb applied. Deliberately without a unique constraint:
-- the tests count duplicates instead of letting a constraint hide them.
CREATE TABLE applied (
    position bigint NOT NULL,
    event_id text NOT NULL,
    n bigint NOT NULL,
    occurred_at_us bigint NOT NULL,
    applied_at_us bigint NOT NULL
);
