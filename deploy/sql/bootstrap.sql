-- deploy/sql/bootstrap.sql: the database, and one service's role and schema.
--
-- Each ccip service owns one schema, named like the service, and connects as
-- its own role ccip_<svc> that can reach only that schema. This file sets up
-- one service; run it once per service (intake, evaluation, funding, ip,
-- stats, followup, notify; probea and probeb for the messaging tests). It is idempotent:
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
SELECT :'svc' ~ '^[a-z][a-z0-9_]{0,57}$'
       AND :'schema' ~ '^[a-z_][a-z0-9_]{0,62}$'
       AND :'db' ~ '^[a-z_][a-z0-9_]{0,62}$'
       AND :'pw' <> '' AS ccip_args_ok,
       'ccip_' || :'svc' AS ccip_role \gset
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

-- The schema, inside the database: owned by the role, closed to everyone else.
\connect :db
SET client_min_messages = warning;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
SELECT format('CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I', :'schema', :'ccip_role') \gexec
SELECT format('ALTER SCHEMA %I OWNER TO %I', :'schema', :'ccip_role') \gexec
SELECT format('REVOKE ALL ON SCHEMA %I FROM PUBLIC', :'schema') \gexec
SELECT format('ALTER ROLE %I SET search_path TO %I', :'ccip_role', :'schema') \gexec

\echo bootstrap.sql: role :ccip_role owns schema :schema in database :db
