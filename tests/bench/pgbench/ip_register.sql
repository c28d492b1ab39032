-- bench ip's same-SQL baseline: ONE registration (ip.work.register.v1 by a
-- content SHA-256, one owner, no creators, no content or MinHash stored: what
-- bench ip's clients send) as ip runs it for a batch of one, in one
-- transaction: the command log's claim, register_check (locks the chain
-- head), the write of the work, its owner, its chain record and the head,
-- the ip.work.registered.v1 event, the command log's row, COMMIT.
-- Captured from PostgreSQL's log (log_statement=all) of a short bench ip run.
-- Every statement is ip's own text with its $N as :xN (x a letter per
-- statement), checked against the source by check_pgbench_sql.py (ctest
-- bench_pgbench_sql). The bench-only SELECTs make what ip computes in C
-- (ids, hashes, the signature, the packed event and reply: random bytes of
-- the captured sizes, 224 and 911 bytes). The one after register_check runs
-- under the head lock, where ip hashes and signs the record; the one before
-- BEGIN holds no lock.
-- bench_only this registration's values and the arrays of one element ip sends
SELECT cmd, work, org, '{' || cmd || '}' AS c1, '{"\\x' || content || '"}' AS k1,
       '{' || org || '}' AS k2, '{}' AS k3, '{}' AS k4, '{}' AS k5
FROM (SELECT gen_random_uuid()::text AS cmd, gen_random_uuid()::text AS work,
             md5(random()::text) || md5(random()::text) AS content,
             'org:91110105' || lpad((random() * 999999999)::bigint::text, 9, '0') || 'X' AS org) v
\gset
-- ccip_sql common/ccip_db.c
BEGIN ISOLATION LEVEL READ COMMITTED;
-- ccip_db_stmt ccip_command_claim_caller
SELECT command_id, type, caller_key, caller_role, caller_actor, request_sha256, reply
FROM ccip_command_claim_caller(:c1::text[]);
-- ccip_db_stmt ip_register_check
SELECT * FROM register_check(:k1::bytea[], :k2::text[], :k3::bigint[], :k4::smallint[],
                             :k5::bigint[])
\gset h_
-- bench_only what ip computes under the head lock: the record (hash, signature)
SELECT '{' || :work::text || '}' AS w1, '{COPYRIGHT_SOFTWARE}' AS w2, '{"bench work"}' AS w3,
       '{2026-01-01}' AS w4, :k1::text AS w5, :k2::text AS w6, '{""}' AS w7,
       '{' || (:h_r_seq::bigint + 1) || '}' AS w8, '{"\\x' || :h_r_id::text || '"}' AS w9,
       '{"\\x' || md5(random()::text) || md5(random()::text) || '"}' AS w10,
       '{"{' || :org::text || '}"}' AS w11, '{"{10000}"}' AS w12, '{"{}"}' AS w13, :k2::text AS w14,
       '{"\\x' || rpad(md5(random()::text), 128, md5(random()::text)) || '"}' AS w15,
       '{' || :work::text || '}' AS w16, :k2::text AS w17, '{10000}' AS w18,
       '{}' AS w19, '{}' AS w20, '{}' AS w21, '{}' AS w22, '{}' AS w23, '{}' AS w24, '{}' AS w25,
       '{}' AS w26, '{}' AS w27, '{}' AS w28, :h_r_at_us::bigint AS w29, '0123456789abcdef' AS w30,
       :h_r_seq::bigint + 1 AS w31, '\x' || md5(random()::text) || md5(random()::text) AS w32
\gset
-- ccip_db_stmt ip_register_write
WITH t AS (SELECT * FROM unnest(:w1::uuid[], :w2::text[], :w3::text[], :w4::text[],
  :w5::bytea[], :w6::text[], :w7::text[], :w8::bigint[], :w9::bytea[], :w10::bytea[], :w11::text[],
  :w12::text[], :w13::text[], :w14::text[], :w15::bytea[]) AS t(id, kind, title, created_on,
  content_sha256, registrant, review, seq, prev_hash, hash, parties, shares, creators, actor,
  signature)),
w AS (INSERT INTO work (id, kind, title, created_on, content_sha256, registrant, review)
  SELECT id, kind, title, created_on::date, content_sha256, registrant, review FROM t
  ON CONFLICT (content_sha256) DO NOTHING RETURNING id),
o AS (INSERT INTO work_owner (work_id, party, share_bp)
  SELECT x.work_id, x.party, x.share_bp
  FROM unnest(:w16::uuid[], :w17::text[], :w18::integer[]) AS x(work_id, party, share_bp)
  JOIN w ON w.id = x.work_id),
c AS (INSERT INTO work_content (work_id, content)
  SELECT x.work_id, x.content FROM unnest(:w19::uuid[], :w20::bytea[]) AS x(work_id, content)
  JOIN w ON w.id = x.work_id),
m AS (INSERT INTO work_minhash (work_id, signature)
  SELECT x.work_id, x.signature
  FROM unnest(:w21::uuid[], :w22::bytea[]) AS x(work_id, signature)
  JOIN w ON w.id = x.work_id),
b AS (INSERT INTO work_band (band, key, work_id)
  SELECT x.band, x.key, x.work_id
  FROM unnest(:w23::uuid[], :w24::smallint[], :w25::bigint[]) AS x(work_id, band, key)
  JOIN w ON w.id = x.work_id ON CONFLICT DO NOTHING),
s AS (INSERT INTO work_similar (work_id, similar_id, similarity_pct)
  SELECT x.work_id, x.similar_id, x.pct
  FROM unnest(:w26::uuid[], :w27::uuid[], :w28::integer[]) AS x(work_id, similar_id, pct)
  JOIN w ON w.id = x.work_id),
r AS (INSERT INTO chain (seq, prev_hash, hash, work_id, kind, title, owner_parties,
  owner_shares, creators, created_on, content_sha256, registered_at_us, registrant, key_id,
  signature)
  SELECT seq, prev_hash, hash, id, kind, title, parties::text[], shares::integer[],
  creators::text[], created_on, content_sha256, :w29::bigint, actor, :w30, signature FROM t),
h AS (UPDATE chain_head SET seq = :w31::bigint, hash = :w32)
SELECT count(*) FROM w;
-- bench_only the event and the command's reply (ip packs them in C)
SELECT '{' || gen_random_uuid() || '}' AS e1, '{ip.work.registered.v1}' AS e2, '{work}' AS e3,
       '{' || :work::text || '}' AS e4,
       '{"\\x' || rpad(md5(random()::text), 2 * 224, md5(random()::text)) || '"}' AS e5,
       '{' || :h_r_at_us::bigint || '}' AS e6, :c1::text AS e7, :c1::text AS e8, :k2::text AS e9, '{owner}' AS e10,
       '{ip-1}' AS e11, 'ccip_outbox_ip' AS e12,
       :c1::text AS l1, '{ip.work.register.v1}' AS l2, '{ccipctl}' AS l3, '{owner}' AS l4,
       :k2::text AS l5, '{"\\x' || md5(random()::text) || md5(random()::text) || '"}' AS l6,
       '{"\\x' || rpad(md5(random()::text), 2 * 911, md5(random()::text)) || '"}' AS l7
\gset
-- ccip_db_stmt ccip_outbox_append
WITH ins AS (INSERT INTO outbox (event_id, type, aggregate_type, aggregate_id, payload,
 occurred_at_us, correlation_id, causation_id, actor_id, actor_role, source_instance)
 SELECT event_id, type, aggregate_type, aggregate_id, payload, at, correlation_id,
 causation_id, actor_id, actor_role, source_instance FROM unnest(:e1::uuid[], :e2::text[],
 :e3::text[], :e4::text[], :e5::bytea[],
 :e6::bigint[], :e7::text[], :e8::text[], :e9::text[], :e10::text[], :e11::text[])
 WITH ORDINALITY AS e(event_id, type, aggregate_type, aggregate_id, payload, at,
 correlation_id, causation_id, actor_id, actor_role, source_instance, n) ORDER BY n
 RETURNING seq)
 SELECT pg_notify(:e12, '') FROM (SELECT 1 FROM ins LIMIT 1) x;
-- ccip_db_stmt ccip_command_log_put_caller
INSERT INTO command_log (command_id, type, caller_key, caller_role, caller_actor,
request_sha256, reply) SELECT * FROM unnest(:l1::text[], :l2::text[], :l3::text[], :l4::text[],
:l5::text[], :l6::bytea[], :l7::bytea[]);
-- ccip_sql common/ccip_db.c
COMMIT;
