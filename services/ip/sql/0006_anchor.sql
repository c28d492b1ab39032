-- ccip:oldest-compatible-code 1
-- The hourly anchors of the event chains (services/ip/ip_anchors.h): each
-- row is one producer's head (position, chain hash) in one period,
-- registered as the work work_id (kind AUDIT_ANCHOR) in the registration
-- chain with a signed receipt. History: the runtime role may only add to
-- it and read it (common/sql/0006_history.sql).
CREATE TABLE anchor (
    producer text NOT NULL,
    period_start_s bigint NOT NULL,              -- the period anchored, UTC seconds
    position bigint NOT NULL CHECK (position >= 1),
    hash bytea NOT NULL CHECK (length(hash) = 32),
    work_id uuid NOT NULL UNIQUE REFERENCES work (id),
    PRIMARY KEY (producer, period_start_s)
);
CREATE INDEX anchor_position ON anchor (producer, position);
SELECT ccip_history(ARRAY['anchor']);
