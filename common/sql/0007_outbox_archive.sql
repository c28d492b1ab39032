-- ccip:oldest-compatible-code 7
-- Events kept for good (issue 19): published events older than
-- outbox.retention_hours move, in position order, from the outbox into this
-- archive, in the transaction that raises outbox_state.oldest, with their
-- chain hashes (common/ccip_chain.h); ccip.replay.v1 serves them from here,
-- so a consumer that starts from position 1 after any time catches up.
-- One table keyed by position, not partitioned by month: a replay reads it
-- by position, and nothing is ever dropped from it. It is history
-- (0006_history.sql): with an owner role, the service's runtime role may
-- only add to it and read it.
CREATE TABLE outbox_archive (
    position bigint PRIMARY KEY,
    event_id uuid NOT NULL UNIQUE,
    type text NOT NULL,
    aggregate_type text NOT NULL DEFAULT '',
    aggregate_id text NOT NULL DEFAULT '',
    payload bytea NOT NULL,
    occurred_at_us bigint NOT NULL,
    correlation_id text NOT NULL DEFAULT '',
    causation_id text NOT NULL DEFAULT '',
    actor_id text NOT NULL DEFAULT '',
    actor_role text NOT NULL DEFAULT '',
    source_instance text NOT NULL DEFAULT '',
    prev_hash bytea,
    hash bytea,
    created_at timestamptz NOT NULL,              -- when it went into the outbox
    archived_at timestamptz NOT NULL DEFAULT now()
);
-- A contract: an older relay would delete events past the retention instead
-- of moving them here, so no binary older than this migration may run.
SELECT ccip_history(ARRAY['outbox_archive']);
