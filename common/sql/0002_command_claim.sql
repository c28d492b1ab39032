-- ccip:oldest-compatible-code 1
-- One round trip where a batch of commands took two: the advisory locks of
-- the batch's command ids, then their stored replies. The replies must be
-- read AFTER the lock waits (a retry that waited for the first attempt must
-- see its reply): inside a plpgsql function each statement takes a new
-- snapshot under READ COMMITTED, so the SELECT sees what committed while
-- PERFORM waited. Code older than this migration does not call it.
CREATE FUNCTION ccip_command_claim(ids text[])
RETURNS TABLE (command_id text, reply bytea)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(i, 0)) FROM unnest(ids) AS i;
    RETURN QUERY SELECT c.command_id, c.reply FROM command_log c WHERE c.command_id = ANY (ids);
END
$$;
