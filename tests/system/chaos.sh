#!/usr/bin/env bash
# tests/system/chaos.sh DRIVER          runs the chaos test (test_chaos) on a
#                                       private PostgreSQL cluster, which it
#                                       makes and deletes
# tests/system/chaos.sh restart-pg DIR  what the driver runs to restart that
#                                       cluster: pg_ctl restart -m immediate
#
# The chaos run restarts PostgreSQL, so it cannot share the cluster of
# scripts/test, which other tests use meanwhile. This makes a throwaway
# cluster (scripts/lib/pg.sh), durable unlike the test cluster: with
# synchronous_commit off, `pg_ctl restart -m immediate` loses the commits
# of the last ~200 ms that were already acknowledged (the first chaos run
# found 3 such commands, every one answered OK and gone). It creates
# the services' roles, points the driver at it through CCIP_PGHOST,
# CCIP_PGPORT, CCIP_PGDATABASE and CCIP_SECRETS_DIR, and tells it how to
# restart the cluster (CCIP_CHAOS_RESTART_PG). CCIP_CHAOS_LOAD_S sets the
# load's length (default 60 s).
set -euo pipefail

CCIP_ROOT="${CCIP_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=scripts/lib/pg.sh
source "$CCIP_ROOT/scripts/lib/pg.sh"

if [ "${1:-}" = restart-pg ]; then
    [ $# -eq 2 ] || ccip_die "usage: chaos.sh restart-pg DIR"
    exec >/dev/null
    ccip_as_postgres "$CCIP_PG_BIN/pg_ctl" -D "$2/data" -l "$2/log/postgresql.log" \
        -m immediate -w -t 60 restart
    exit
fi
[ $# -eq 1 ] || ccip_die "usage: chaos.sh DRIVER | chaos.sh restart-pg DIR"
driver="$1"

# Per run: a chaos run of ctest and one of scripts/bench may overlap.
PG_DIR="$(ccip_pg_dir "chaos-pg-$$")"
SECRETS_DIR="$CCIP_ROOT/var/chaos-secrets-$$"
cleanup() {
    ccip_pg_destroy "$PG_DIR"
    rm -rf "$SECRETS_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port="$(ccip_pg_free_port 17432)"
ccip_pg_init "$PG_DIR" "$port"
ccip_pg_start "$PG_DIR"
ccip_pg_bootstrap "$PG_DIR" "$SECRETS_DIR" intake evaluation funding ip stats followup notify casefile
export CCIP_PGHOST=127.0.0.1 CCIP_PGPORT="$port" CCIP_PGDATABASE="$CCIP_DB_NAME"
export CCIP_SECRETS_DIR="$SECRETS_DIR"
export CCIP_CHAOS_RESTART_PG="'$0' restart-pg '$PG_DIR'"
export CCIP_TEST_LOG_LEVEL="${CCIP_TEST_LOG_LEVEL:-warn}"
"$driver"
