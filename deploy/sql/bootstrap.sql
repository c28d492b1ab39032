-- deploy/sql/bootstrap.sql: the database, and one service's role and schema.
--
-- Each ccip service owns one schema, named like the service, and connects as
-- its own role ccip_<svc> that can reach only that schema. This file sets up
-- one service; run it once per service (intake, evaluation, funding, ip,
-- stats, casefile, followup, notify, gateway; probea and probeb for the messaging tests). It is idempotent:
-- running it again changes nothing except the password, which it resets.
--
-- Run it with psql as a superuser (or a role with CREATEDB and CREATEROLE
-- that owns the database), connected to any database of the cluster:
--
--   CCIP_DB_PASSWORD='...' psql -X -v ON_ERROR_STOP=1 -d postgres \
--       -v svc=intake -f deploy/sql/bootstrap.sql
--
-- psql variables (-v name=value):
--   svc                 required; the service name, [a-z][a-z0-9_]{0,57};
--                       the role is ccip_<svc>
--   pw                  the role's password; when not given it is read from
--                       the environment variable CCIP_DB_PASSWORD (psql 15's
--                       \getenv), which keeps it out of `ps` output
--   schema              the schema (default: the service name)
--   db                  the database (default: ccip)
--   can_create_schemas  on = also GRANT CREATE ON DATABASE: the test role
--                       only, so that tests can make throwaway schemas
--                       (default: off, which also revokes it)
--   owner_pw            the password of a second role, ccip_<svc>_owner,
--                       which then owns the schema and everything in it and
--                       is used only to apply migrations (the service's
--                       db.owner_user); when not given it is read from
--                       CCIP_DB_OWNER_PASSWORD. The runtime role ccip_<svc>
--                       then gets SELECT, INSERT, UPDATE and DELETE on the
--                       tables the owner makes, and the migrations take
--                       UPDATE, DELETE and TRUNCATE away on history and
--                       ledger tables (ccip_history, common/sql): it can
--                       neither rewrite the past nor switch off a trigger.
--                       Without it, the one role owns everything (as
--                       before: its triggers are all that guards history).
--
-- The test role is the variant:
--   ... -v svc=test -v schema=ccip_test -v can_create_schemas=on
--
-- Kubernetes and database operators (CloudNativePG, Zalando, ...): run this
-- same file from a Job or an init container with psql and the cluster's
-- superuser credentials, one invocation per service, and put each generated
-- password into that service's Secret (file db-<svc>.password). If the
-- operator manages roles itself, create them there; this file then only
-- alters them and sets up the schema. The password travels in an ALTER ROLE
-- statement: do not run it with log_statement = 'ddl' or 'all'.

\set ON_ERROR_STOP on
\set QUIET on
SET client_min_messages = warning;

\if :{?svc}
\else
    DO $$ BEGIN RAISE EXCEPTION 'bootstrap.sql: give the service name with -v svc=NAME'; END $$;
\endif
\if :{?pw}
\else
    \getenv pw CCIP_DB_PASSWORD
\endif
\if :{?pw}
\else
    DO $$ BEGIN RAISE EXCEPTION 'bootstrap.sql: give the password with -v pw=... or CCIP_DB_PASSWORD'; END $$;
\endif
\if :{?owner_pw}
\else
    \getenv owner_pw CCIP_DB_OWNER_PASSWORD
\endif
\if :{?owner_pw}
    SELECT :'owner_pw' <> '' AS two_roles \gset
\else
    \set two_roles off
\endif
\if :{?schema}
\else
    \set schema :svc
\endif
\if :{?db}
\else
    \set db ccip
\endif
\if :{?can_create_schemas}
\else
    \set can_create_schemas off
\endif

-- Names are checked here and quoted with format('%I') below.
SELECT :'svc' ~ '^[a-z][a-z0-9_]{0,51}$'
       AND :'schema' ~ '^[a-z_][a-z0-9_]{0,62}$'
       AND :'db' ~ '^[a-z_][a-z0-9_]{0,62}$'
       AND :'pw' <> '' AS ccip_args_ok,
       'ccip_' || :'svc' AS ccip_role,
       'ccip_' || :'svc' || '_owner' AS ccip_owner \gset
\if :ccip_args_ok
\else
    DO $$ BEGIN RAISE EXCEPTION 'bootstrap.sql: svc, schema or db is not a lower-case identifier, or the password is empty'; END $$;
\endif

-- The database, with its settings: times are UTC everywhere.
SELECT format('CREATE DATABASE %I ENCODING %L TEMPLATE template0', :'db', 'UTF8')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
SELECT format('ALTER DATABASE %I SET timezone TO %L', :'db', 'UTC') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'db') \gexec

-- The role: may log in, nothing more.
SET password_encryption = 'scram-sha-256';
SELECT format('CREATE ROLE %I', :'ccip_role')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'ccip_role') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION'
              ' NOBYPASSRLS PASSWORD %L', :'ccip_role', :'pw') \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', :'db', :'ccip_role') \gexec
\if :can_create_schemas
SELECT format('GRANT CREATE ON DATABASE %I TO %I', :'db', :'ccip_role') \gexec
\else
SELECT format('REVOKE CREATE ON DATABASE %I FROM %I', :'db', :'ccip_role') \gexec
\endif

\if :two_roles
-- The owner: logs in only to apply migrations.
SELECT format('CREATE ROLE %I', :'ccip_owner')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'ccip_owner') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION'
              ' NOBYPASSRLS PASSWORD %L', :'ccip_owner', :'owner_pw') \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', :'db', :'ccip_owner') \gexec
SELECT format('REVOKE CREATE ON DATABASE %I FROM %I', :'db', :'ccip_owner') \gexec
\set schema_owner :ccip_owner
\else
\set schema_owner :ccip_role
\endif

-- The schema, inside the database: owned by the role (or the owner role),
-- closed to everyone else.
\connect :db
SET client_min_messages = warning;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
-- A schema made before the owner role existed (one role made and used it)
-- is handed over below: whether the runtime role still owns anything in it.
SELECT EXISTS (SELECT FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = :'schema' AND c.relowner::regrole::text = :'ccip_role')
       AND :'schema_owner' <> :'ccip_role' AS handover \gset
SELECT format('CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I', :'schema', :'schema_owner') \gexec
SELECT format('ALTER SCHEMA %I OWNER TO %I', :'schema', :'schema_owner') \gexec
SELECT format('REVOKE ALL ON SCHEMA %I FROM PUBLIC', :'schema') \gexec
SELECT format('ALTER ROLE %I SET search_path TO %I', :'ccip_role', :'schema') \gexec
\if :two_roles
-- The runtime role uses what the owner makes (TRUNCATE too: stats empties
-- its event-derived tables to rebuild them); it creates nothing. History
-- and ledger tables lose UPDATE, DELETE and TRUNCATE in their migrations
-- (ccip_history), and only an owner may ALTER a table (its triggers).
SELECT format('ALTER ROLE %I SET search_path TO %I', :'ccip_owner', :'schema') \gexec
SELECT format('GRANT USAGE ON SCHEMA %I TO %I', :'schema', :'ccip_role') \gexec
SELECT format('REVOKE CREATE ON SCHEMA %I FROM %I', :'schema', :'ccip_role') \gexec
SELECT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I'
              ' GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON TABLES TO %I',
              :'ccip_owner', :'schema', :'ccip_role') \gexec
SELECT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I'
              ' GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO %I',
              :'ccip_owner', :'schema', :'ccip_role') \gexec
\if :handover
-- Upgrading a schema the runtime role made itself (before issue 19): its
-- tables, sequences and functions pass to the owner, which applies the
-- migrations from now on (it could not read schema_migrations otherwise),
-- and the runtime role keeps on them what the default privileges give new
-- ones. Only this once: the history migrations that follow then take
-- UPDATE, DELETE and TRUNCATE away again (ccip_history).
SELECT format('REASSIGN OWNED BY %I TO %I', :'ccip_role', :'ccip_owner') \gexec
SELECT format('GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA %I TO %I',
              :'schema', :'ccip_role') \gexec
SELECT format('GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %I TO %I',
              :'schema', :'ccip_role') \gexec
\echo bootstrap.sql: schema :schema handed over from :ccip_role to :ccip_owner
\endif
\endif

-- casefile's search finds Chinese text by any fragment with pg_trgm, an
-- extension only a superuser may create: here, in casefile's schema (the
-- postgresql-15 package ships it). The database's LC_CTYPE must classify
-- Chinese characters as letters (C.UTF-8 does; plain C does not), which
-- casefile's first migration checks.
SELECT format('CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA %I', :'schema')
 WHERE :'svc' = 'casefile' \gexec

\if :two_roles
\echo bootstrap.sql: role :ccip_owner owns schema :schema in database :db, role :ccip_role uses it
\else
\echo bootstrap.sql: role :ccip_role owns schema :schema in database :db
\endif
