-- ccip:oldest-compatible-code 1
-- What a batch of registrations needs to know before it appends to the
-- chain, in one call (services/ip/ip_register.h, step 2): for each request
-- the registered work with the same content and whether the registering
-- party owns it ('D'), the works sharing a MinHash band key with it ('S'),
-- and last the chain head, locked FOR UPDATE, with the database clock as
-- trusted time ('H').
--
-- A function rather than a prepared statement only so that its plan is made
-- once per connection: as a statement, PostgreSQL re-planned this union of
-- three queries (unnest over array parameters, whose length changes the
-- estimates) for every batch, which cost more CPU than running it. A plan
-- kept for the life of a connection may have been made while the tables
-- were empty, so every look-up is written as one per request element
-- (LATERAL ... LIMIT, scalar subqueries), which the planner can only run as
-- index look-ups by the unique content hash, the band keys' primary key and
-- the work ids, never as a scan of a whole table, however many works there
-- are by now.
--
--   contents, parties:        per request (i counts from 1): content hash and
--                             registering party
--   cand_i, cand_band, cand_key: per band key of a request: the request's
--                             index (from 1), band, key
CREATE FUNCTION register_check(contents bytea[], parties text[], cand_i bigint[],
                               cand_band smallint[], cand_key bigint[])
RETURNS TABLE (r_tag text, r_i bigint, r_id text, r_seq bigint, r_at_us bigint, r_extra text,
               r_signature text)
LANGUAGE plpgsql VOLATILE
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    RETURN QUERY
    WITH h AS (
        SELECT hd.seq, encode(hd.hash, 'hex') AS hash,
               (extract(epoch FROM clock_timestamp()) * 1000000)::bigint AS now
        FROM chain_head hd FOR UPDATE)
    SELECT 'D'::text, t.i, d.id::text, d.seq, d.registered_at_us,
           CASE WHEN EXISTS (SELECT 1 FROM work_owner o
                             WHERE o.work_id = d.id AND o.party = t.party)
                THEN 't' ELSE 'f' END,
           NULL::text
    FROM unnest(contents, parties) WITH ORDINALITY AS t(content, party, i)
    CROSS JOIN LATERAL (
        SELECT w.id, c.seq, c.registered_at_us
        FROM work w JOIN chain c ON c.work_id = w.id
        WHERE w.content_sha256 = t.content LIMIT 1) d
    UNION ALL
    SELECT 'S'::text, q.i, q.work_id::text,
           (SELECT c.seq FROM chain c WHERE c.work_id = q.work_id),
           NULL::bigint,
           (SELECT w.title FROM work w WHERE w.id = q.work_id),
           (SELECT encode(m.signature, 'hex') FROM work_minhash m WHERE m.work_id = q.work_id)
    FROM (SELECT DISTINCT t.i, b.work_id
          FROM unnest(cand_i, cand_band, cand_key) AS t(i, band, key)
          CROSS JOIN LATERAL (
              SELECT wb.work_id FROM work_band wb
              WHERE wb.band = t.band AND wb.key = t.key OFFSET 0) b) q
    UNION ALL
    -- last: the lock is the last thing a batch takes
    SELECT 'H'::text, 0::bigint, h.hash, h.seq, h.now, NULL::text, NULL::text FROM h;
END
$$;
