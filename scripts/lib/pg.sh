# shellcheck shell=bash
# scripts/lib/pg.sh: functions the scripts source to install what ccip needs
# and to run a private PostgreSQL cluster under the repository's var/.
#
#   source scripts/lib/pg.sh
#   ccip_install_deps
#   ccip_pg_init  "$CCIP_ROOT/var/test-pg" 15432 fast
#   ccip_pg_start "$CCIP_ROOT/var/test-pg"
#   ccip_pg_bootstrap "$CCIP_ROOT/var/test-pg" "$CCIP_ROOT/var/test-secrets" intake test
#   ccip_pg_stop  "$CCIP_ROOT/var/test-pg"
#
# A cluster directory holds data/ (the cluster, owned by the postgres OS user
# that the postgresql package creates), run/ (its unix socket and lock file),
# log/ and port (the port it listens on, 127.0.0.1 only). Local connections
# use peer authentication (only the postgres OS user is the superuser), TCP
# connections a password (scram-sha-256). Every function can be run again:
# after an interrupted run the next one cleans up what was left.

CCIP_ROOT="${CCIP_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
CCIP_PG_BIN="${CCIP_PG_BIN:-/usr/lib/postgresql/15/bin}"
CCIP_DB_NAME="${CCIP_DB_NAME:-ccip}"
CCIP_PG_USER=postgres
# Every role the tests need: the services, the two messaging test fixtures,
# and the test role (schema ccip_test, may create throwaway schemas).
# shellcheck disable=SC2034 # used by the scripts that source this file
CCIP_PG_ROLES=(intake evaluation funding ip stats casefile followup notify gateway probea probeb test)

# Debian packages the build, the tests and the demo need. "a|b" is
# satisfied by either installed, and installs a when neither is:
# scripts/check-deploy needs a kubectl, Debian's (kubernetes-client) or one
# already there from another source (a package named kubectl, e.g.
# Google's, which owns the same /usr/bin/kubectl: installing
# kubernetes-client over it would fail).
CCIP_DEPS=(build-essential cmake pkg-config libzmq3-dev libprotobuf-c-dev protobuf-c-compiler
           libpq-dev libconfig-dev libcmocka-dev postgresql-15 clang-format libsodium-dev
           libjansson-dev libmicrohttpd-dev liboath-dev clang libfuzzer-14-dev
           libcurl4-openssl-dev python3-aiosmtpd pgbackrest curl chromium chromium-driver python3-selenium fonts-noto-cjk valgrind
           'kubernetes-client|kubectl' yamllint python3-yaml)

ccip_say() { printf '%s\n' "$*"; }
ccip_die() { printf '%s: %s\n' "${0##*/}" "$*" >&2; exit 1; }

# Runs a command as root (we are root on CI and the dev machines; sudo
# otherwise).
ccip_as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Runs a command as the postgres OS user, from / so that the PostgreSQL
# tools never trip over a working directory they cannot read. The
# environment is kept (CCIP_DB_PASSWORD and CCIP_DB_OWNER_PASSWORD reach
# psql that way, not through the command line).
ccip_as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then
        (cd / && runuser -u "$CCIP_PG_USER" -- "$@")
    else
        (cd / && sudo --preserve-env=CCIP_DB_PASSWORD,CCIP_DB_OWNER_PASSWORD -u "$CCIP_PG_USER" -- "$@")
    fi
}

# Installs the packages of CCIP_DEPS that are missing; does nothing (and
# needs no network) when all are there.
ccip_install_deps() {
    local missing=() p alt have
    for p in "${CCIP_DEPS[@]}"; do
        have=0
        for alt in ${p//|/ }; do
            # dpkg -s would also accept a removed package whose config files remain
            if dpkg-query -W -f='${Status}' "$alt" 2>/dev/null | grep -q 'install ok installed'; then
                have=1
                break
            fi
        done
        [ "$have" = 1 ] || missing+=("${p%%|*}")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    ccip_say "installing missing packages: ${missing[*]}"
    ccip_as_root apt-get update -qq
    ccip_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}"
}

# Makes every directory above $1 traversable by the postgres user. Only
# directories inside the repository are changed (o+x, nothing readable);
# anything else that blocks it is reported.
ccip_pg_traversable() {
    local d
    d="$(dirname "$1")"
    while [ "$d" != "/" ]; do
        if ! ccip_as_postgres test -x "$d" 2>/dev/null; then
            case "$d/" in
            "$CCIP_ROOT"/*) ccip_as_root chmod o+x "$d" ;;
            *) ccip_die "the postgres user cannot reach $1: run chmod o+x $d, or move the repository" ;;
            esac
        fi
        d="$(dirname "$d")"
    done
}

# ccip_pg_dir NAME: where the cluster NAME lives: var/NAME in the
# repository, unless the postgres user cannot get to the repository (a clone
# under /root, say); then a folder under /tmp named after the repository.
ccip_pg_dir() {
    local d="$CCIP_ROOT"
    while [ "$d" != "/" ]; do
        if ! ccip_as_postgres test -x "$d" 2>/dev/null; then
            case "$d/" in
            "$CCIP_ROOT"/*) ;; # inside the repository: ccip_pg_traversable fixes it
            *)
                printf '%s/ccip-%s/%s\n' "${TMPDIR:-/tmp}" \
                    "$(printf '%s' "$CCIP_ROOT" | sha256sum | cut -c1-12)" "$1"
                return 0
                ;;
            esac
        fi
        d="$(dirname "$d")"
    done
    printf '%s\n' "$CCIP_ROOT/var/$1"
}

# ccip_pg_init DIR PORT [fast]
# Creates the cluster under DIR unless it exists, and (re)writes its
# settings: port PORT on 127.0.0.1, socket in DIR/run. `fast` turns off
# durability (fsync and friends): for throwaway test clusters only.
ccip_pg_init() {
    if [ -z "${1:-}" ] || [ -z "${2:-}" ]; then ccip_die "usage: ccip_pg_init DIR PORT [fast]"; fi
    local dir port="$2" mode="${3:-}"
    dir="$(realpath -m "$1")"
    [ -x "$CCIP_PG_BIN/initdb" ] || ccip_die "no PostgreSQL 15 in $CCIP_PG_BIN (run ccip_install_deps)"
    ccip_as_root mkdir -p "$dir/data" "$dir/run" "$dir/log"
    ccip_as_root chown -R "$CCIP_PG_USER:" "$dir"
    ccip_as_root chmod 700 "$dir/data"
    ccip_as_root chmod 755 "$dir" "$dir/run" "$dir/log"
    ccip_pg_traversable "$dir/data"
    if [ ! -s "$dir/data/PG_VERSION" ]; then
        # an interrupted initdb leaves a partial directory behind
        ccip_as_root find "$dir/data" -mindepth 1 -delete
        ccip_as_postgres "$CCIP_PG_BIN/initdb" -D "$dir/data" -U "$CCIP_PG_USER" -E UTF8 \
            --locale=C.UTF-8 --auth-local=peer --auth-host=scram-sha-256 \
            >"$dir/log/initdb.log" 2>&1 ||
            ccip_die "initdb failed; see $dir/log/initdb.log"
        ccip_as_postgres sh -c "echo \"include_if_exists = 'ccip.conf'\" >> '$dir/data/postgresql.conf'"
    fi
    local conf
    conf="# written by scripts/lib/pg.sh on every start; edits are lost
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir/run'
unix_socket_permissions = 0770
timezone = 'UTC'
log_timezone = 'UTC'
password_encryption = 'scram-sha-256'
# The suite runs whole systems side by side on this cluster (test_system and
# test_gateway start up to eight services, each with its command pool, relay
# and a connection per consumed producer): 100 ran out ('remaining connection
# slots are reserved'), and a test failed for it.
max_connections = 300"
    if [ "$mode" = fast ]; then
        conf="$conf
fsync = off
synchronous_commit = off
full_page_writes = off"
    fi
    # Extra settings for one run, e.g. for profiling:
    # CCIP_PG_EXTRA_CONF="shared_preload_libraries = 'pg_stat_statements'"
    if [ -n "${CCIP_PG_EXTRA_CONF:-}" ]; then
        conf="$conf
$CCIP_PG_EXTRA_CONF"
    fi
    printf '%s\n' "$conf" | ccip_as_postgres tee "$dir/data/ccip.conf" >/dev/null
    printf '%s\n' "$port" | ccip_as_root tee "$dir/port" >/dev/null
}

# The port the cluster under $1 was set up for.
ccip_pg_port() { cat "$(realpath -m "$1")/port"; }

# Prints the pid of the postmaster running on $1/data, or nothing. A
# postmaster.pid whose process is gone (or is no postgres) is stale: it is
# removed, with the socket lock files it names.
ccip_pg_running_pid() {
    local dir pidfile pid
    dir="$(realpath -m "$1")"
    pidfile="$dir/data/postmaster.pid"
    [ -f "$pidfile" ] || return 0
    pid="$(head -n 1 "$pidfile" 2>/dev/null || true)"
    if [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && grep -qa postgres "/proc/$pid/cmdline"; then
        printf '%s\n' "$pid"
        return 0
    fi
    ccip_say "removing stale $pidfile (process ${pid:-?} is gone)" >&2
    ccip_as_root rm -f "$pidfile" "$dir"/run/.s.PGSQL.*.lock
}

# ccip_pg_start DIR
# Starts the cluster under DIR and waits until it accepts connections. A
# postgres already running on DIR is reused when it listens on the port DIR
# is set up for, and restarted otherwise.
ccip_pg_start() {
    local dir port pid
    dir="$(realpath -m "$1")"
    port="$(ccip_pg_port "$dir")"
    pid="$(ccip_pg_running_pid "$dir")"
    if [ -n "$pid" ]; then
        if [ "$(sed -n 4p "$dir/data/postmaster.pid")" = "$port" ] &&
            ccip_as_postgres "$CCIP_PG_BIN/pg_isready" -q -h "$dir/run" -p "$port"; then
            ccip_say "PostgreSQL already running on $dir (port $port), reusing it"
            return 0
        fi
        ccip_say "restarting PostgreSQL on $dir for port $port"
        ccip_as_postgres "$CCIP_PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null ||
            ccip_die "could not stop the PostgreSQL running on $dir"
    fi
    if ! ccip_as_postgres "$CCIP_PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/log/postgresql.log" \
        -w -t 60 start >/dev/null; then
        tail -n 20 "$dir/log/postgresql.log" >&2 || true
        ccip_die "could not start PostgreSQL on $dir (port $port); see $dir/log/postgresql.log"
    fi
}

# ccip_pg_stop DIR: stops the cluster under DIR if it runs. Quiet.
ccip_pg_stop() {
    local dir
    dir="$(realpath -m "$1")"
    [ -d "$dir/data" ] || return 0
    [ -n "$(ccip_pg_running_pid "$dir")" ] || return 0
    ccip_as_postgres "$CCIP_PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
        ccip_as_postgres "$CCIP_PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 ||
        true
}

# ccip_pg_destroy DIR: stops the cluster under DIR and deletes it.
ccip_pg_destroy() {
    local dir
    dir="$(realpath -m "$1")"
    [ -e "$dir" ] || return 0
    ccip_pg_stop "$dir"
    ccip_as_root rm -rf "$dir"
}

# ccip_pg_free_port FIRST: prints the first port from FIRST upwards that
# nothing listens on. Callers start below Linux's ephemeral range (32768 up),
# where no client's outgoing connection lands between a stop and a start on
# the same port: scripts/test 15432, scripts/bench 16432, chaos 17432, the
# restore drill 18432, the demo 25432; the tests' C listeners take 10000-14999
# (ccip_test_free_port).
ccip_pg_free_port() {
    local port="$1" last=$(($1 + 200))
    while [ "$port" -le "$last" ]; do
        if command -v ss >/dev/null 2>&1; then
            # Any socket on the port, not only a listener: the port may be
            # some client's ephemeral port still in TIME-WAIT, and then
            # PostgreSQL cannot bind it.
            if [ -z "$(ss -Htan "sport = :$port" 2>/dev/null)" ]; then
                printf '%s\n' "$port"
                return 0
            fi
        elif ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            printf '%s\n' "$port"
            return 0
        fi
        port=$((port + 1))
    done
    ccip_die "no free port between $1 and $last"
}

# ccip_pg_psql DIR [psql args...]: psql as the superuser over the socket.
ccip_pg_psql() {
    local dir
    dir="$(realpath -m "$1")"
    shift
    ccip_as_postgres "$CCIP_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir/run" \
        -p "$(ccip_pg_port "$dir")" "$@"
}

# ccip_pg_password SECRETS SVC: prints the password of role ccip_SVC,
# generating it into SECRETS/db-SVC.password (mode 0600) the first time.
ccip_pg_password() {
    local secrets="$1" svc="$2" file="$1/db-$2.password"
    if [ ! -s "$file" ]; then
        (
            umask 077
            mkdir -p "$secrets"
            # 32 characters from [A-Za-z0-9]: about 190 bits
            LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 32 >"$file.tmp"
            printf '\n' >>"$file.tmp"
            mv "$file.tmp" "$file"
        )
    fi
    chmod 700 "$secrets"
    chmod 600 "$file"
    head -n 1 "$file"
}

# ccip_pg_bootstrap DIR SECRETS SVC...: runs deploy/sql/bootstrap.sql on the
# cluster under DIR for each SVC (role ccip_SVC, schema SVC; "test" is the
# test role: schema ccip_test, may create schemas).
ccip_pg_bootstrap() {
    local dir="$1" secrets="$2" svc
    shift 2
    for svc in "$@"; do
        local extra=() owner_pw=""
        if [ "$svc" = test ]; then extra=(-v schema=ccip_test -v can_create_schemas=on); fi
        # The domain services get an owner role for their migrations
        # (ccip_<svc>_owner): their runtime role cannot rewrite history.
        # The test fixtures (probea, probeb, test) keep one role.
        case "$svc" in
        probea | probeb | test) ;;
        *) owner_pw="$(ccip_pg_password "$secrets" "${svc}_owner")" ;;
        esac
        # the passwords reach psql through the environment, never argv;
        # the file goes in on stdin since postgres may not read the tree
        CCIP_DB_PASSWORD="$(ccip_pg_password "$secrets" "$svc")" CCIP_DB_OWNER_PASSWORD="$owner_pw" \
            ccip_pg_psql "$dir" -d postgres -v svc="$svc" -v db="$CCIP_DB_NAME" "${extra[@]}" \
            -f - <"$CCIP_ROOT/deploy/sql/bootstrap.sql" >/dev/null ||
            ccip_die "bootstrap.sql failed for $svc"
    done
}
