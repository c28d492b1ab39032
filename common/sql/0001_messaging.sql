-- ccip:oldest-compatible-code 1
-- Messaging infrastructure every service schema gets (component "ccip").
-- Names are unqualified: ccip_migrate sets search_path to the service schema.
-- Landed migrations are never edited: add 0002_... instead.

-- Transactional outbox (MESSAGING-NOTES "Domain events"). A producer inserts
-- its events here in the same transaction as the business change, with
-- position NULL; the relay numbers them (ccip_outbox_assign) and publishes.
-- seq only orders the relay's work; position is the stream's gap-free order.
CREATE TABLE outbox (
    seq bigserial PRIMARY KEY,
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
    position bigint UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- What the relay has still to number: small, because rows leave it at once.
CREATE INDEX outbox_unpositioned ON outbox (seq) WHERE position IS NULL;

-- The stream's bookkeeping, one row. The relay locks it FOR UPDATE while it
-- numbers rows, which is what keeps positions gap-free and unique even when
-- two relays run at once.
CREATE TABLE outbox_state (
    singleton bool PRIMARY KEY DEFAULT true CHECK (singleton),
    head bigint NOT NULL DEFAULT 0,  -- highest position assigned (0 = none yet)
    oldest bigint NOT NULL DEFAULT 1 -- lowest position still retained (head + 1 = none)
);
INSERT INTO outbox_state DEFAULT VALUES;

-- Replies of handled commands, stored in the transaction of their effect, so
-- that a retried command gets the same reply and the effect happens once.
CREATE TABLE command_log (
    command_id text PRIMARY KEY,
    type text NOT NULL,
    reply bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Last position of each producer's stream applied here, advanced in the
-- transaction that applies the event (ccip_consumer).
CREATE TABLE consumer_cursor (
    producer text PRIMARY KEY,
    position bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);
