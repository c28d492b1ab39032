-- ccip:oldest-compatible-code 5
-- Every producer's stream is a hash chain (common/ccip_chain.h): the relay
-- sets prev_hash and hash when it numbers an event, outbox_state keeps the
-- head's hash, and a consumer keeps the hash of the last event it applied
-- to check the next one's link. Code older than this migration would number
-- events without hashes, which every consumer would take for a broken chain:
-- it may not run against this schema.

ALTER TABLE outbox ADD COLUMN prev_hash bytea, ADD COLUMN hash bytea;
ALTER TABLE outbox_state
    ADD COLUMN head_hash bytea NOT NULL DEFAULT decode(repeat('00', 32), 'hex');
-- The hash of the event at `position`; NULL: not known (a cursor from before
-- this migration, or one an operator moved back): the next link is then not
-- checked, the next event's own hash still is.
ALTER TABLE consumer_cursor ADD COLUMN hash bytea;

-- An operator moving a cursor (back, to rebuild what the events feed; or
-- anywhere with ccip.consumer.reset.v1) cannot know the hash of that
-- position: forget it rather than report a break. Only the consumer's own
-- advance sets a new hash with the new position.
CREATE FUNCTION ccip_cursor_moved_back() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.position <> OLD.position AND NEW.hash IS NOT DISTINCT FROM OLD.hash THEN
        NEW.hash := NULL;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER consumer_cursor_moved_back BEFORE UPDATE ON consumer_cursor
    FOR EACH ROW EXECUTE FUNCTION ccip_cursor_moved_back();

-- The chain's hash in SQL, byte for byte the canonical encoding of
-- ccip_chain.h (int4send and int8send are big-endian): used once below for
-- the events numbered before this migration, and by the tests to check that
-- both implementations agree.
CREATE FUNCTION ccip_event_chain_hash(prev bytea, o outbox) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(prev
        || int4send(19) || convert_to('ccip.event.chain.v1', 'UTF8')
        || int8send(o.position)
        || int4send(octet_length(convert_to(o.event_id::text, 'UTF8')))
        || convert_to(o.event_id::text, 'UTF8')
        || int4send(octet_length(convert_to(o.type, 'UTF8'))) || convert_to(o.type, 'UTF8')
        || int4send(octet_length(convert_to(o.aggregate_type, 'UTF8')))
        || convert_to(o.aggregate_type, 'UTF8')
        || int4send(octet_length(convert_to(o.aggregate_id, 'UTF8')))
        || convert_to(o.aggregate_id, 'UTF8')
        || int8send(o.occurred_at_us)
        || int4send(octet_length(convert_to(o.correlation_id, 'UTF8')))
        || convert_to(o.correlation_id, 'UTF8')
        || int4send(octet_length(convert_to(o.causation_id, 'UTF8')))
        || convert_to(o.causation_id, 'UTF8')
        || int4send(octet_length(convert_to(o.actor_id, 'UTF8'))) || convert_to(o.actor_id, 'UTF8')
        || int4send(octet_length(convert_to(o.actor_role, 'UTF8')))
        || convert_to(o.actor_role, 'UTF8')
        || int4send(octet_length(convert_to(o.source_instance, 'UTF8')))
        || convert_to(o.source_instance, 'UTF8')
        || int4send(octet_length(o.payload)) || o.payload)
$$;

-- Events numbered before this migration join the chain now, in position
-- order from the oldest still retained (whose prev_hash is 32 zero bytes
-- when it is position 1, and of a deleted event otherwise: unknown, so
-- zero too, which a verifier starting there accepts).
DO $$
DECLARE
    prev bytea := decode(repeat('00', 32), 'hex');
    r outbox;
BEGIN
    FOR r IN SELECT * FROM outbox WHERE position IS NOT NULL ORDER BY position LOOP
        UPDATE outbox SET prev_hash = prev, hash = ccip_event_chain_hash(prev, r)
            WHERE seq = r.seq RETURNING hash INTO prev;
    END LOOP;
    UPDATE outbox_state SET head_hash = prev;
END
$$;
