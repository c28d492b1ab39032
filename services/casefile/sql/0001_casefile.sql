-- ccip:oldest-compatible-code 1
-- casefile: each case followed across every service, kept from their events
-- (services/casefile/casefile_store.h). Every write is keyed by the event's
-- producer and position and is commutative (the latest position of an
-- object wins, the latest step sets the state), so the tables end the same
-- whatever order the consumer threads applied the streams in, and a replay
-- from position 1 rebuilds them exactly.

-- The search needs pg_trgm, which only a superuser may create
-- (deploy/sql/bootstrap.sql does, in this schema), and a database whose
-- LC_CTYPE classifies Chinese characters as letters: under LC_CTYPE C,
-- pg_trgm finds no trigram in Chinese text at all and a search by a
-- fragment would find nothing.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_trgm') THEN
        RAISE EXCEPTION 'casefile needs the pg_trgm extension in database %', current_database()
            USING HINT = 'run deploy/sql/bootstrap.sql with -v svc=casefile as a superuser: '
                         'it creates the extension (package postgresql-contrib, part of '
                         'Debian''s postgresql-15)';
    END IF;
    IF show_trgm('朝阳文化') = '{}' THEN
        RAISE EXCEPTION 'database % has LC_CTYPE %, under which pg_trgm cannot index Chinese text',
            current_database(), (SELECT datctype FROM pg_database
                                 WHERE datname = current_database())
            USING HINT = 'create the database with an LC_CTYPE such as C.UTF-8 or zh_CN.UTF-8 '
                         '(scripts/lib/pg.sh makes its clusters with C.UTF-8)';
    END IF;
END $$;

-- One row per case: what the search looks at. Facts come from the root
-- application's intake events (the highest intake position wins); the
-- state from the case's latest step that sets one.
CREATE TABLE case_record (
    root_id uuid PRIMARY KEY,
    kind text NOT NULL DEFAULT '',
    title text NOT NULL DEFAULT '',
    applicant_uscc text NOT NULL DEFAULT '',
    applicant_name text NOT NULL DEFAULT '',
    district_code text NOT NULL DEFAULT '',
    facts_position bigint NOT NULL DEFAULT 0,     -- intake position of the facts held
    state text NOT NULL DEFAULT 'CASE_STATE_UNSPECIFIED',
    state_at timestamptz,                         -- the step that set it: time,
    state_producer text NOT NULL DEFAULT '',      -- producer
    state_position bigint NOT NULL DEFAULT 0,     -- and position
    opened_at timestamptz,                        -- first intake step
    updated_at timestamptz,                       -- latest step
    -- what a search by text looks in: titles, applicant name and code
    search_text text NOT NULL DEFAULT ''
);
-- A case is known (listed, found, shown) once intake's facts arrived.
CREATE INDEX case_record_search ON case_record USING gin (search_text gin_trgm_ops);
CREATE INDEX case_record_updated ON case_record (updated_at DESC, root_id) WHERE facts_position > 0;
CREATE INDEX case_record_applicant ON case_record (applicant_uscc, updated_at DESC);

-- The applications of a case (the root and those continuing it).
CREATE TABLE case_application (
    application_id uuid PRIMARY KEY,
    root_id uuid NOT NULL,
    title text NOT NULL DEFAULT '',
    first_at timestamptz NOT NULL                 -- its first step
);
CREATE INDEX case_application_root ON case_application (root_id, first_at);

-- The timeline: one row per step, keyed by the event it comes from.
CREATE TABLE step (
    producer text NOT NULL,
    position bigint NOT NULL,
    root_id uuid NOT NULL,
    at timestamptz NOT NULL,
    type text NOT NULL,
    action text NOT NULL,
    detail text NOT NULL DEFAULT '',
    actor_id text NOT NULL DEFAULT '',
    actor_role text NOT NULL DEFAULT '',
    object_kind text NOT NULL DEFAULT '',
    object_id text NOT NULL DEFAULT '',
    event_id text NOT NULL,
    -- what the applicant sees of it (intake's applicant view); NULL: nothing
    applicant_status text,
    applicant_message text,
    PRIMARY KEY (producer, position)
);
CREATE INDEX step_case ON step (root_id, at, producer, position);

-- Each object of a case as its service last published it, for the
-- dossier: the event's payload, decoded when read.
CREATE TABLE case_object (
    root_id uuid NOT NULL,
    kind text NOT NULL,                           -- application, case, award, ...
    object_id text NOT NULL,
    producer text NOT NULL,
    position bigint NOT NULL,
    at timestamptz NOT NULL,
    type text NOT NULL,                           -- the event type: says how to decode
    payload bytea NOT NULL,
    PRIMARY KEY (root_id, kind, object_id)
);
