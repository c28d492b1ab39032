-- ccip:oldest-compatible-code 5
-- History and ledger tables that the service's runtime role may only add
-- to and read (issue 19): a service's migration names them with
-- ccip_history(ARRAY['table', ...]). When the schema has an owner role of
-- its own (deploy/sql/bootstrap.sql, owner_pw) and the migrations run as
-- that owner, the runtime role ccip_<schema> keeps SELECT and INSERT on
-- them and loses UPDATE, DELETE, TRUNCATE, TRIGGER and REFERENCES; being no
-- owner it cannot ALTER them either, so it cannot switch off their
-- append-only triggers. With one role for everything, the tables are only
-- listed (their triggers are all that guards them).

-- The tables so protected, for the tests and for operators.
CREATE TABLE history_table (
    name text PRIMARY KEY
);

CREATE FUNCTION ccip_history(tables text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    t text;
    runtime text := 'ccip_' || current_schema();
BEGIN
    FOREACH t IN ARRAY tables LOOP
        INSERT INTO history_table (name) VALUES (t) ON CONFLICT DO NOTHING;
        IF current_user <> runtime AND EXISTS (SELECT FROM pg_roles WHERE rolname = runtime) THEN
            EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES ON %I FROM %I',
                           t, runtime);
            EXECUTE format('GRANT SELECT, INSERT ON %I TO %I', t, runtime);
        END IF;
    END LOOP;
END
$$;
