#!/usr/bin/env bash
# tests/system/netcut.sh DRIVER           runs the cut-network test (test_netcut):
#                                         makes the network namespaces, a
#                                         private PostgreSQL inside one of them,
#                                         runs DRIVER in its own namespace, and
#                                         removes everything again
# tests/system/netcut.sh link NAME up|down what the driver runs to cut (down) or
#                                         mend (up) member NAME's link
# tests/system/netcut.sh start-pg DIR     starts the cluster (run inside the
#                                         database's namespace)
#
# The network: one namespace per member (bus, pg, intake, evaluation,
# funding, ip, stats, and drv, where the driver and its clients run), each with a veth pair whose
# other end is plugged into a bridge in a hub namespace. Every address is
# IPv4 link-local (169.254.77.0/24) and exists only inside these
# namespaces: nothing is added to, or reached in, the namespace the test
# was started in. Cutting a member's link sets the hub's end of its veth
# down: the member's packets go nowhere, like a pulled cable (its own
# interface keeps its address and route, so nothing fails fast; a
# connection only notices through its own timeouts).
#
# PostgreSQL: a private cluster (scripts/lib/pg.sh, fsync off: nothing here
# restarts it) whose postmaster runs inside the pg namespace and listens on
# its address there. The suite's cluster of scripts/test cannot be used: it
# listens on 127.0.0.1 of the root namespace, and reaching it through a veth
# would need an address (and a route) in the root namespace, which this
# test must not add; and cutting its link would cut every other test.
#
# Where namespaces cannot be made (not root, no CAP_SYS_ADMIN, no iproute2,
# a container that forbids them) it prints why and exits 77, which ctest
# reports as skipped (SKIP_RETURN_CODE), never as passed.
set -euo pipefail

CCIP_ROOT="${CCIP_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=scripts/lib/pg.sh
source "$CCIP_ROOT/scripts/lib/pg.sh"

NET=169.254.77
# member -> last byte of its address
declare -A ADDR=([bus]=1 [pg]=2 [intake]=3 [evaluation]=4 [drv]=5 [funding]=6 [ip]=7 [stats]=8)
PG_PORT=5432 # inside the pg namespace, where nothing else listens

case "${1:-}" in
link)
    [ $# -eq 4 ] || ccip_die "usage: netcut.sh link PREFIX NAME up|down"
    exec ip -n "$2hub" link set "v-$3" "$4"
    ;;
start-pg)
    [ $# -eq 2 ] || ccip_die "usage: netcut.sh start-pg DIR"
    ccip_pg_start "$2" >/dev/null
    exit 0
    ;;
esac
[ $# -eq 1 ] || ccip_die "usage: netcut.sh DRIVER | link PREFIX NAME up|down | start-pg DIR"
driver="$1"

skip() {
    printf 'test_netcut: SKIPPED: %s\n' "$*"
    exit 77
}

# ip netns names of this run: ccipnc<pid>-<member>
PREFIX="ccipnc$$-"
command -v ip >/dev/null 2>&1 || skip "no ip command (iproute2) to make network namespaces"
if [ "$(id -u)" -ne 0 ]; then
    skip "network namespaces need root (ip netns add); run scripts/test as root"
fi

PG_DIR="$(ccip_pg_dir "netcut-pg-$$")"
SECRETS_DIR="$CCIP_ROOT/var/netcut-secrets-$$"
cleanup() {
    ccip_pg_destroy "$PG_DIR" || true
    rm -rf "$SECRETS_DIR"
    local m
    for m in hub "${!ADDR[@]}"; do
        ip netns del "$PREFIX$m" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Runs one step of making the network; where the kernel or the container
# refuses (no namespaces, no veth, no bridge) the test is skipped, saying
# which step and why.
net() {
    local out
    out="$("$@" 2>&1)" || skip "could not make the test's network namespaces ($*): $out"
}

# What a run that was killed (ctest's timeout) left behind: the namespaces
# of a process that is gone.
for ns in $(ip netns list 2>/dev/null | grep -o '^ccipnc[0-9]*-[a-z]*' || true); do
    pid="${ns#ccipnc}"
    pid="${pid%%-*}"
    kill -0 "$pid" 2>/dev/null || ip netns del "$ns" 2>/dev/null || true
done

net ip netns add "${PREFIX}hub"
net ip -n "${PREFIX}hub" link add br0 type bridge
net ip -n "${PREFIX}hub" link set br0 up
for m in "${!ADDR[@]}"; do
    ns="$PREFIX$m"
    net ip netns add "$ns"
    net ip -n "$ns" link set lo up
    # made in the hub with its peer straight in the member: no interface
    # ever appears in the root namespace
    net ip -n "${PREFIX}hub" link add "v-$m" type veth peer name eth0 netns "$ns"
    net ip -n "${PREFIX}hub" link set "v-$m" master br0 up
    net ip -n "$ns" addr add "$NET.${ADDR[$m]}/24" dev eth0
    net ip -n "$ns" link set eth0 up
done

# PostgreSQL in its namespace, on its address there (scram over TCP from
# the members' subnet; the superuser still only through the unix socket,
# which is a file and so reachable from here)
CCIP_PG_EXTRA_CONF="listen_addresses = '$NET.${ADDR[pg]}'" ccip_pg_init "$PG_DIR" "$PG_PORT" fast
ccip_as_postgres sh -c "grep -q '$NET.0/24' '$PG_DIR/data/pg_hba.conf' ||
    echo 'host all all $NET.0/24 scram-sha-256' >> '$PG_DIR/data/pg_hba.conf'"
ip netns exec "${PREFIX}pg" "$0" start-pg "$PG_DIR"
ccip_pg_bootstrap "$PG_DIR" "$SECRETS_DIR" intake evaluation funding ip stats

export CCIP_PGHOST="$NET.${ADDR[pg]}" CCIP_PGPORT="$PG_PORT" CCIP_PGDATABASE="$CCIP_DB_NAME"
export CCIP_SECRETS_DIR="$SECRETS_DIR"
export CCIP_NETCUT_PREFIX="$PREFIX" CCIP_NETCUT_NET="$NET"
export CCIP_NETCUT_LINK="'$0' link '$PREFIX'"
export CCIP_TEST_LOG_LEVEL="${CCIP_TEST_LOG_LEVEL:-info}"
ip netns exec "${PREFIX}drv" "$driver"
