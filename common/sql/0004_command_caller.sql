-- ccip:oldest-compatible-code 1
-- A stored reply answers only the request it was stored for. The command
-- log keeps, per command id, who sent it (the name of the CURVE key, the
-- role and the actor the service acted for), and the SHA-256 of its
-- payload beside the type it already keeps. The skeleton hands the stored
-- reply back only when key, role, actor, type and payload all match (a
-- retry); any other use of the id is refused with ALREADY_EXISTS naming
-- the conflict (ccip_service_batch.c), never answered with another
-- caller's reply.
--
-- Expand only (ccip_migrate.h): nullable columns and a new function, so
-- code of versions 1 and 2 still runs against it. Rows that code stores
-- have no caller; this code treats them as another caller's: a retry
-- across the upgrade is refused, never answered with a reply it cannot
-- attribute.
ALTER TABLE command_log
    ADD COLUMN caller_key text,
    ADD COLUMN caller_role text,
    ADD COLUMN caller_actor text,
    ADD COLUMN request_sha256 bytea;

-- ccip_command_claim (0002) with the stored caller, type and payload hash:
-- the locks first, then the rows as committed after the lock waits.
CREATE FUNCTION ccip_command_claim_caller(ids text[])
RETURNS TABLE (command_id text, type text, caller_key text, caller_role text,
               caller_actor text, request_sha256 bytea, reply bytea)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(i, 0)) FROM unnest(ids) AS i;
    RETURN QUERY SELECT c.command_id, c.type, c.caller_key, c.caller_role, c.caller_actor,
                        c.request_sha256, c.reply
                   FROM command_log c WHERE c.command_id = ANY (ids);
END
$$;
