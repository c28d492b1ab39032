-- ccip:oldest-compatible-code 1
-- A consumer that finds its producer's stream below its cursor (the
-- producer's schema was restored to an earlier point than this one) or no
-- longer holding the events it needs (outbox retention) stops consuming that
-- producer and records it here: every replica then applies nothing more of
-- that producer, and a restarted replica stays stopped, until an operator
-- resets the cursor (ccip.consumer.reset.v1, `ccipctl admin consumer reset`).
-- An expand migration: code older than it ignores the columns.
ALTER TABLE consumer_cursor
    ADD COLUMN stalled_at timestamptz,                  -- NULL: consuming
    ADD COLUMN stalled_reason text NOT NULL DEFAULT ''; -- the sentence the consumer logged
