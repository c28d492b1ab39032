# shellcheck shell=bash
# scripts/lib/demo.sh: the processes of scripts/demo (the bus and the
# services), kept as pid files and logs under one run directory.
#
#   source scripts/lib/pg.sh
#   source scripts/lib/demo.sh
#   CCIP_DEMO_RUN=$CCIP_ROOT/var/demo-run
#   CCIP_INSTANCE=bus-1 ccip_demo_start bus build/services/bus/bus -c bus.conf
#   ccip_demo_pid bus build/services/bus/bus      # the pid, or nothing
#   ccip_demo_stop bus build/services/bus/bus     # SIGTERM, wait, report
#
# NAME.pid and NAME.log live in CCIP_DEMO_RUN. A pid file is trusted only
# while its process runs the binary it was started from, so a file left by
# a killed run (or a pid the kernel has since given to another program) is
# recognised as stale and removed. Processes run in their own session:
# Ctrl-C in the terminal reaches the demo script only, which stops them in
# order; with --keep they outlive the script.

CCIP_DEMO_RUN="${CCIP_DEMO_RUN:-$CCIP_ROOT/var/demo-run}"
CCIP_DEMO_STOP_WAIT_S="${CCIP_DEMO_STOP_WAIT_S:-10}"
# pids started by this shell: only for these can it learn the exit code
declare -A CCIP_DEMO_CHILDREN=()
# set to 1 once ccip_demo_stop stopped a process another shell started
CCIP_DEMO_STOPPED_FOREIGN=0

# The binary /proc/PID runs, as an absolute path, or nothing.
ccip_demo_exe_of() {
    local exe
    exe="$(readlink "/proc/$1/exe" 2>/dev/null || true)"
    printf '%s\n' "${exe% (deleted)}" # a rebuilt binary is still the same program
}

# True when PID is a zombie (exited, not yet collected by its parent).
ccip_demo_is_zombie() {
    local stat
    stat="$(cat "/proc/$1/stat" 2>/dev/null || true)"
    [ -n "$stat" ] || return 1
    stat="${stat##*) }"
    [ "${stat%% *}" = Z ]
}

# ccip_demo_pid NAME EXE: prints the pid of NAME when NAME.pid names a live
# process running EXE; removes a stale pid file (saying so on stderr).
ccip_demo_pid() {
    local name="$1" exe pidfile pid
    exe="$(realpath -m "$2")"
    pidfile="$CCIP_DEMO_RUN/$name.pid"
    [ -f "$pidfile" ] || return 0
    pid="$(head -n 1 "$pidfile" 2>/dev/null || true)"
    if [[ "$pid" =~ ^[0-9]+$ ]] && [ "$(ccip_demo_exe_of "$pid")" = "$exe" ] &&
        ! ccip_demo_is_zombie "$pid"; then
        printf '%s\n' "$pid"
        return 0
    fi
    ccip_say "removing the stale pid file $(ccip_demo_rel "$pidfile") ($name, process ${pid:-?}, is gone)" >&2
    rm -f "$pidfile"
}

# ccip_demo_start NAME EXE [ARGS...]: starts EXE in the background, in its
# own session, with the caller's environment (set variables for it as
# prefix assignments: VAR=value ccip_demo_start ...), its output in
# NAME.log (started afresh) and its pid in NAME.pid. Prints nothing.
ccip_demo_start() {
    local name="$1" exe="$2" pid
    shift 2
    mkdir -p "$CCIP_DEMO_RUN"
    [ -x "$exe" ] || ccip_die "cannot start $name: $exe is not built"
    setsid "$exe" "$@" </dev/null >"$CCIP_DEMO_RUN/$name.log" 2>&1 &
    pid=$!
    printf '%s\n' "$pid" >"$CCIP_DEMO_RUN/$name.pid"
    CCIP_DEMO_CHILDREN[$name]="$pid"
}

# ccip_demo_alive NAME: true while the process this shell started as NAME
# runs (an exited child stays a zombie until collected).
ccip_demo_alive() {
    local pid="${CCIP_DEMO_CHILDREN[$1]:-}"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && ! ccip_demo_is_zombie "$pid"
}

# ccip_demo_stop NAME EXE: stops NAME if it runs: SIGTERM, then up to
# CCIP_DEMO_STOP_WAIT_S seconds for it to exit, then SIGKILL. Prints one
# sentence saying how it ended. Returns 0 when it was not running or exited
# with code 0 (or, when another shell started it, its log says it stopped
# cleanly), 1 otherwise.
ccip_demo_stop() {
    local name="$1" exe="$2" pid waited=0 code log last
    pid="$(ccip_demo_pid "$name" "$exe")"
    if [ -z "$pid" ]; then
        ccip_say "  - $name was not running."
        return 0
    fi
    log="$CCIP_DEMO_RUN/$name.log"
    kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null && ! ccip_demo_is_zombie "$pid"; do
        if [ "$waited" -ge $((CCIP_DEMO_STOP_WAIT_S * 10)) ]; then
            kill -KILL "$pid" 2>/dev/null || true
            ccip_say "  - $name (pid $pid) did not stop within ${CCIP_DEMO_STOP_WAIT_S} s of SIGTERM; killed it (see $(ccip_demo_rel "$log"))."
            if [ "${CCIP_DEMO_CHILDREN[$name]:-}" = "$pid" ]; then wait "$pid" 2>/dev/null || true; fi
            rm -f "$CCIP_DEMO_RUN/$name.pid"
            unset "CCIP_DEMO_CHILDREN[$name]"
            return 1
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    rm -f "$CCIP_DEMO_RUN/$name.pid"
    if [ "${CCIP_DEMO_CHILDREN[$name]:-}" = "$pid" ]; then
        unset "CCIP_DEMO_CHILDREN[$name]"
        code=0
        wait "$pid" 2>/dev/null || code=$?
        if [ "$code" = 0 ]; then
            ccip_say "  - $name (pid $pid) exited with code 0, within about $((waited * 100 + 100)) ms of SIGTERM."
            return 0
        fi
        ccip_say "  - $name (pid $pid) exited with code $code after SIGTERM (see $(ccip_demo_rel "$log"))."
        return 1
    fi
    # Started by an earlier run: this shell is not its parent and cannot
    # see its exit code, only what it logged.
    # shellcheck disable=SC2034 # read by the scripts that source this file
    CCIP_DEMO_STOPPED_FOREIGN=1
    if grep -q 'msg="\(service\|bus\) stopping"' "$log" 2>/dev/null; then
        ccip_say "  - $name (pid $pid) stopped within about $((waited * 100 + 100)) ms of SIGTERM; its log says it shut down cleanly."
        return 0
    fi
    last="$(grep -o 'msg="[^"]*"' "$log" 2>/dev/null | tail -n 1 || true)"
    ccip_say "  - $name (pid $pid) ended after SIGTERM without logging a clean shutdown; its last line says ${last:-nothing} (see $(ccip_demo_rel "$log"))."
    return 1
}

# A path relative to the repository when it is inside it.
ccip_demo_rel() {
    case "$1" in
    "$CCIP_ROOT"/*) printf '%s\n' "${1#"$CCIP_ROOT"/}" ;;
    *) printf '%s\n' "$1" ;;
    esac
}

# ccip_demo_port_user PORT: prints who listens on PORT (ss's line, with the
# program when ss may show it), or nothing.
ccip_demo_port_user() {
    ss -Hltnp "sport = :$1" 2>/dev/null | head -n 1
}

# ccip_demo_port_borrowed PORT: prints a connection (ss's line) whose local
# end is PORT and which keeps a server from binding PORT, or nothing. The
# kernel picks the local port of an outgoing connection from its ephemeral
# range, which may include a port a server wants; binding fails while that
# connection is open, and for up to a minute after it closed (TIME-WAIT).
# A TIME-WAIT left by a server's own accepted connection does not stand in
# the way; it is told apart by its peer, which listens on nothing.
ccip_demo_port_borrowed() {
    local state local_end peer_end
    while read -r state _ _ local_end peer_end _; do
        [ "${local_end##*:}" = "$1" ] || continue
        case "$state" in
        LISTEN) continue ;;
        TIME-WAIT)
            [ -n "$(ss -Hltn "sport = :${peer_end##*:}" 2>/dev/null)" ] || continue
            ;;
        esac
        printf '%s %s -> %s\n' "$state" "$local_end" "$peer_end"
        return 0
    done < <(ss -Htan "sport = :$1" 2>/dev/null)
}

# ccip_demo_uscc FIRST17: prints the unified social credit code made of the
# 17 characters FIRST17 and their check character (GB 32100-2015, as
# common/ccip_validate.c checks it): each character's value in
# 0123456789ABCDEFGHJKLMNPQRTUWXY times its weight, summed; the check
# character is the one of value (31 - sum mod 31) mod 31.
ccip_demo_uscc() {
    local cs=0123456789ABCDEFGHJKLMNPQRTUWXY code="$1" sum=0 i c v
    local -a w=(1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28)
    [ "${#code}" = 17 ] || ccip_die "ccip_demo_uscc: \"$code\" is not 17 characters"
    for ((i = 0; i < 17; i++)); do
        c="${code:i:1}"
        v="${cs%%"$c"*}"
        [ "${#v}" -lt 31 ] || ccip_die "ccip_demo_uscc: \"$c\" is not a code character"
        sum=$((sum + ${#v} * w[i]))
    done
    printf '%s%s\n' "$code" "${cs:$(((31 - sum % 31) % 31)):1}"
}
