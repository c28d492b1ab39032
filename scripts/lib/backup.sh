# shellcheck shell=bash
# scripts/lib/backup.sh: pgBackRest for a cluster that scripts/lib/pg.sh
# made (the demo's, or a test's): what scripts/backup and scripts/restore
# do, as functions. Source scripts/lib/pg.sh first.
#
#   ccip_backup_setup   PG_DIR BACKUP_DIR     # config, WAL archiving, stanza
#   ccip_backup_run     BACKUP_DIR full|diff|incr
#   ccip_backup_verify  BACKUP_DIR            # pgbackrest check + verify
#   ccip_backup_restore PG_DIR BACKUP_DIR TARGET|latest
#   ccip_backup_pgbr    BACKUP_DIR COMMAND [ARGS...]
#
# BACKUP_DIR holds pgbackrest.conf (deploy/backup/pgbackrest.conf with this
# cluster's paths and port), conf.d/cipher.conf (the repository's
# passphrase, made once, mode 0600), repo/ (the encrypted repository),
# log/, lock/ and spool/; all owned by the postgres OS user, which runs
# every pgBackRest command (archive_command too). The cluster's archive
# settings (deploy/backup/postgresql-archive.conf, pointed at this config)
# are in ccip-backup.conf in its data directory, included from
# postgresql.conf, so pg.sh's ccip.conf (rewritten on every start) leaves
# them alone.

CCIP_BACKUP_STANZA=ccip
CCIP_BACKUP_BIN="${CCIP_BACKUP_BIN:-/usr/bin/pgbackrest}"

# ccip_backup_pgbr BACKUP_DIR COMMAND [ARGS...]: pgBackRest as the postgres
# user with this backup directory's configuration and the stanza.
ccip_backup_pgbr() {
    local dir
    dir="$(realpath -m "$1")"
    shift
    ccip_as_postgres "$CCIP_BACKUP_BIN" --config="$dir/pgbackrest.conf" \
        --config-include-path="$dir/conf.d" --stanza="$CCIP_BACKUP_STANZA" "$@"
}

# ccip_backup_config PG_DIR BACKUP_DIR: writes BACKUP_DIR/pgbackrest.conf
# from deploy/backup/pgbackrest.conf, with this cluster's data directory,
# socket and port and BACKUP_DIR's repository, log, lock and spool
# directories. Retention, encryption and compression stay the template's.
# CCIP_BACKUP_REPO (a path) puts the repository elsewhere.
ccip_backup_config() {
    local pg backup port repo
    pg="$(realpath -m "$1")"
    backup="$(realpath -m "$2")"
    port="$(ccip_pg_port "$pg")"
    repo="$(realpath -m "${CCIP_BACKUP_REPO:-$backup/repo}")"
    awk -v repo="$repo" -v logdir="$backup/log" -v lock="$backup/lock" -v spool="$backup/spool" \
        -v pgpath="$pg/data" -v port="$port" -v sock="$pg/run" '
        BEGIN { print "# written by scripts/lib/backup.sh from deploy/backup/pgbackrest.conf; edits are lost" }
        /^repo1-path=/       { print "repo1-path=" repo; next }
        /^log-path=/         { print "log-path=" logdir; next }
        /^lock-path=/        { print "lock-path=" lock; next }
        /^spool-path=/       { print "spool-path=" spool; next }
        /^pg1-path=/         { print "pg1-path=" pgpath; next }
        /^pg1-port=/         { print "pg1-port=" port; next }
        /^pg1-socket-path=/  { print "pg1-socket-path=" sock; next }
        { print }' "$CCIP_ROOT/deploy/backup/pgbackrest.conf" |
        ccip_as_postgres tee "$backup/pgbackrest.conf" >/dev/null
    ccip_as_root chmod 0600 "$backup/pgbackrest.conf"
}

# ccip_backup_setup PG_DIR BACKUP_DIR: makes BACKUP_DIR (once: its
# passphrase), writes the configuration, turns on WAL archiving in the
# cluster under PG_DIR (restarting it when archive_mode or the archive
# command changed; it must run) and creates the stanza (harmless when it
# exists).
ccip_backup_setup() {
    local pg backup conf include restart=0
    pg="$(realpath -m "$1")"
    backup="$(realpath -m "$2")"
    [ -x "$CCIP_BACKUP_BIN" ] || ccip_die "pgBackRest is not installed (apt-get install pgbackrest; scripts/lib/pg.sh's ccip_install_deps does it)"
    [ -s "$pg/data/PG_VERSION" ] || ccip_die "no PostgreSQL cluster in $pg (start the demo first: scripts/demo --keep)"
    ccip_as_root mkdir -p "$backup/conf.d" "$backup/log" "$backup/lock" "$backup/spool"
    ccip_as_root mkdir -p "${CCIP_BACKUP_REPO:-$backup/repo}"
    ccip_as_root chown -R "$CCIP_PG_USER:" "$backup" "${CCIP_BACKUP_REPO:-$backup/repo}"
    ccip_as_root chmod 0700 "$backup" "$backup/conf.d"
    ccip_pg_traversable "$backup/conf.d"
    if ! ccip_as_postgres test -s "$backup/conf.d/cipher.conf"; then
        # 48 random bytes, base64: the passphrase of the repository, made
        # once; losing it loses every backup in the repository.
        printf '[global]\nrepo1-cipher-pass=%s\n' "$(head -c 48 /dev/urandom | base64 -w 0)" |
            ccip_as_postgres sh -c "umask 077; cat > '$backup/conf.d/cipher.conf'"
    fi
    ccip_backup_config "$pg" "$backup"

    # The archive settings of deploy/backup/postgresql-archive.conf, with
    # this configuration named in the archive command.
    conf="$(sed -e "s|^archive_command = .*|archive_command = '$CCIP_BACKUP_BIN --config=$backup/pgbackrest.conf --config-include-path=$backup/conf.d --stanza=$CCIP_BACKUP_STANZA archive-push %p'|" \
        -e 's/^#.*//' -e '/^$/d' "$CCIP_ROOT/deploy/backup/postgresql-archive.conf")"
    conf="# written by scripts/lib/backup.sh from deploy/backup/postgresql-archive.conf
$conf"
    if [ "$(ccip_as_postgres cat "$pg/data/ccip-backup.conf" 2>/dev/null || true)" != "$conf" ]; then
        printf '%s\n' "$conf" | ccip_as_postgres tee "$pg/data/ccip-backup.conf" >/dev/null
        restart=1
    fi
    include="include_if_exists = 'ccip-backup.conf'"
    if ! ccip_as_postgres grep -qxF "$include" "$pg/data/postgresql.conf"; then
        ccip_as_postgres sh -c "echo \"$include\" >> '$pg/data/postgresql.conf'"
        restart=1
    fi
    if [ "$restart" = 1 ] && [ -n "$(ccip_pg_running_pid "$pg")" ]; then
        ccip_say "Restarting PostgreSQL in $pg to turn on WAL archiving (archive_mode needs a restart)."
        ccip_as_postgres "$CCIP_PG_BIN/pg_ctl" -D "$pg/data" -m fast -w -t 60 restart \
            -l "$pg/log/postgresql.log" >/dev/null ||
            ccip_die "could not restart PostgreSQL in $pg; see $pg/log/postgresql.log"
    fi
    ccip_pg_start "$pg" >/dev/null
    ccip_backup_pgbr "$backup" --log-level-console=warn stanza-create ||
        ccip_die "pgbackrest stanza-create failed; see $backup/log/"
}

# ccip_backup_run BACKUP_DIR TYPE: one backup (full, diff or incr); a diff
# or incr with no full backup in the repository becomes a full one.
ccip_backup_run() {
    ccip_backup_pgbr "$1" --type="$2" backup || ccip_die "pgbackrest backup failed; see $1/log/"
}

# ccip_backup_verify BACKUP_DIR: check (archiving works: a WAL segment is
# switched and must reach the repository) and verify (every file of every
# backup and every WAL segment in the repository reads back and matches
# its checksum).
ccip_backup_verify() {
    ccip_backup_pgbr "$1" --log-level-console=warn check ||
        ccip_die "pgbackrest check failed: WAL archiving or the repository does not work; see $1/log/"
    ccip_backup_pgbr "$1" --log-level-console=warn verify ||
        ccip_die "pgbackrest verify found damage in the repository; see $1/log/"
}

# ccip_backup_restore PG_DIR BACKUP_DIR TARGET: restores the cluster under
# PG_DIR from the repository to TARGET (a time PostgreSQL reads, e.g.
# '2025-03-01 14:05:00+08'), to the end of the archive (TARGET "latest") or
# to the end of the latest backup (TARGET "immediate"), then starts it,
# waits until recovery ended and it accepts writes, and until the new
# timeline's first WAL segment is in the repository. PostgreSQL must be
# stopped and PG_DIR/data absent or empty (the caller moves an old one
# aside). Prints nothing but pgBackRest's errors.
ccip_backup_restore() {
    local pg backup target="$3" args=() state t log logstart
    pg="$(realpath -m "$1")"
    backup="$(realpath -m "$2")"
    [ -z "$(ccip_pg_running_pid "$pg")" ] || ccip_die "PostgreSQL still runs in $pg: stop it first"
    ccip_as_root mkdir -p "$pg/data"
    ccip_as_root chown "$CCIP_PG_USER:" "$pg/data"
    ccip_as_root chmod 700 "$pg/data"
    if [ "$target" = latest ]; then
        args=(--type=default)
    elif [ "$target" = immediate ]; then
        args=(--type=immediate --target-action=promote)
    else
        # promote: once at the target, end recovery and accept writes (a
        # new timeline begins, the archive goes on from there).
        args=(--type=time "--target=$target" --target-action=promote)
    fi
    t="$EPOCHREALTIME"
    ccip_backup_pgbr "$backup" --log-level-console=warn "${args[@]}" restore ||
        ccip_die "pgbackrest restore failed; see $backup/log/"
    ccip_backup_phase "files" "$t"
    t="$EPOCHREALTIME"
    log="$pg/log/postgresql.log"
    ccip_as_root touch "$log"
    logstart="$(ccip_as_root stat -c %s "$log")"
    # Two settings for this start only (the next start reads the
    # configuration again). recovery_init_sync_method=syncfs: PostgreSQL
    # syncs a data directory it finds not cleanly shut down (a restored
    # one) before recovery; file by file (fsync, the default) that took
    # 0.17 s of the bench's restore, one syncfs() of the file system less,
    # and pgBackRest has synced every file it restored already.
    # hot_standby off (after the promotion the setting means nothing):
    # no connection is let in until recovery has ended. pg_ctl -w returns
    # as soon as recovery has begun, then we watch the postmaster's state
    # in postmaster.pid (line 8), which becomes "ready" once recovery has
    # ended and the cluster accepts writes: read every 20 ms by the shell
    # itself. Before, a psql every 0.1 s asked pg_is_in_recovery(): each a
    # process that took CPU from the replay on a small machine (and a
    # session held open instead keeps a snapshot that recovery's cleanup
    # records conflict with, holding up the replay).
    if ! ccip_as_postgres "$CCIP_PG_BIN/pg_ctl" -D "$pg/data" -l "$log" -o "-c hot_standby=off -c recovery_init_sync_method=syncfs" \
        -w -t 60 start >/dev/null; then
        tail -n 20 "$log" >&2 || true
        ccip_die "PostgreSQL in $pg did not start its recovery; see $log"
    fi
    ccip_backup_await_ready "$pg" 3600 || {
        tail -n 20 "$log" >&2 || true
        ccip_die "PostgreSQL in $pg did not finish recovery (pg_ctl status, and $log, say why)"
    }
    ccip_backup_phase "recovery" "$t"
    ccip_backup_recovery_detail "$log" "$logstart"
    t="$EPOCHREALTIME"
    # A new timeline began. Its WAL must reach the repository before the
    # cluster is handed back, or a second loss soon after the restore would
    # lose what was written since, and a restore to the end of the archive
    # would follow the old timeline to its end, bringing back what this
    # restore left out. Two reasons it might not: nothing archives the new
    # timeline's first segment until it is switched, and PostgreSQL 15's
    # checkpointer sets its sleep right after the end-of-recovery
    # checkpoint, while recovery is still in progress, so it may leave
    # archive_timeout out and sleep until checkpoint_timeout (5 min; seen
    # here: nothing archived 50 s after a write). CHECKPOINT wakes it to set
    # its sleep again. In the same psql: the cluster is out of recovery, as
    # its postmaster said.
    state="$(ccip_pg_psql "$pg" -d postgres -At -c 'SELECT pg_is_in_recovery()' -c CHECKPOINT)" ||
        ccip_die "CHECKPOINT failed on the restored cluster in $pg; see $log"
    [ "$state" = f ] || ccip_die "PostgreSQL in $pg says it is ready but pg_is_in_recovery() is '$state'; see $log"
    ccip_backup_phase "checkpoint" "$t"
    t="$EPOCHREALTIME"
    # Then the new timeline's first segment is switched and we wait until
    # the archiver has pushed it (pgBackRest's archive-push is synchronous:
    # archived means in the repository, and it refuses a repository whose
    # stanza is another cluster's). What `pgbackrest check` proved, without
    # its own process, connection and polls of the repository (about 1 s):
    # one psql, looking every 20 ms.
    ccip_backup_await_archived "$pg" ||
        ccip_die "the restored cluster's WAL does not reach the repository; see $log and $backup/log/ (pgbackrest check --stanza=$CCIP_BACKUP_STANZA says more)"
    ccip_backup_phase "archived" "$t"
}

# ccip_backup_await_ready PG_DIR SECONDS: waits until the postmaster of the
# cluster under PG_DIR says "ready" in its postmaster.pid (recovery ended,
# writes accepted); returns non-zero when it has gone (its startup failed:
# a target not reached, a segment missing) or SECONDS passed. As root the
# file is read by the shell itself, with no process per look.
ccip_backup_await_ready() {
    local pidfile="$1/data/postmaster.pid" lines=() pid="" i
    for ((i = 0; i < $2 * 50; i++)); do
        if [ "$(id -u)" -eq 0 ]; then
            mapfile -t lines 2>/dev/null <"$pidfile" || lines=()
        else
            mapfile -t lines < <(sudo cat "$pidfile" 2>/dev/null)
        fi
        [ -n "$pid" ] || pid="${lines[0]:-}"
        [[ "${lines[7]:-}" == ready* ]] && return 0
        # gone: the postmaster exited (its pid file goes with it)
        [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && [ ! -d "/proc/$pid" ] && return 1
        sleep 0.02
    done
    return 1
}

# ccip_backup_await_archived PG_DIR: switches the WAL segment of the
# running cluster under PG_DIR and waits (60 s at most) until
# pg_stat_archiver says it is archived. Returns non-zero, having printed
# the archiver's last failure, when it is not.
ccip_backup_await_archived() {
    # pg_walfile_name(pg_switch_wal()) names the segment just completed (or,
    # when nothing was written since the last switch, the one before, which
    # is archived already). Segment names are fixed-width hex, timeline
    # first, so in byte order a later segment sorts after an earlier one and
    # a history file (00000002.history) before its timeline's segments.
    # pg_stat_clear_snapshot(): the statistics are read once per
    # transaction otherwise, and the DO block is one transaction.
    ccip_pg_psql "$1" -d postgres -c "
DO \$\$
DECLARE
    seg text := pg_walfile_name(pg_switch_wal());
    done_wal text;
    failed_wal text;
    failed_at timestamptz;
    give_up timestamptz := clock_timestamp() + interval '60 s';
BEGIN
    LOOP
        PERFORM pg_stat_clear_snapshot();
        SELECT last_archived_wal, last_failed_wal, last_failed_time
          INTO done_wal, failed_wal, failed_at FROM pg_stat_archiver;
        EXIT WHEN coalesce(done_wal, '') COLLATE \"C\" >= seg COLLATE \"C\";
        IF clock_timestamp() > give_up THEN
            RAISE EXCEPTION 'WAL segment % was not archived within 60 s (last archived: %, last failure: % at %)',
                seg, coalesce(done_wal, 'none'), coalesce(failed_wal, 'none'), coalesce(failed_at::text, '-')
                USING HINT = 'archive_command runs pgbackrest archive-push: its log says why it fails';
        END IF;
        PERFORM pg_sleep(0.02);
    END LOOP;
END
\$\$" >/dev/null
}

# ccip_backup_recovery_detail LOG OFFSET: appends to CCIP_BACKUP_PHASES
# what PostgreSQL logged (from byte OFFSET of LOG on) about the recovery
# just ended: how long the replay took, how many segments came from the
# archive, and the end-of-recovery checkpoint's time. Nothing when the log
# says nothing of it.
ccip_backup_recovery_detail() {
    local detail
    detail="$(ccip_as_root tail -c "+$(($2 + 1))" "$1" | awk '
        /restored log file "[0-9A-F]+" from archive/ { segs++ }
        /redo done at/ && match($0, /elapsed: [0-9.]+ s/) { redo = substr($0, RSTART + 9, RLENGTH - 11) }
        /checkpoint complete:/ && ckpt == "" && match($0, /total=[0-9.]+ s/) { ckpt = substr($0, RSTART + 6, RLENGTH - 8) }
        END {
            if (redo != "") printf "redo %s s of %d segments", redo, segs
            if (ckpt != "") printf "%send-of-recovery checkpoint %s s", (redo != "" ? ", " : ""), ckpt
        }')"
    [ -z "$detail" ] || CCIP_BACKUP_PHASES="$CCIP_BACKUP_PHASES ($detail)"
}

# ccip_backup_phase NAME START: appends "NAME S.S s" (the time since START,
# an $EPOCHREALTIME) to CCIP_BACKUP_PHASES, which scripts/restore prints:
# where a restore's time goes (files, WAL replay, checkpoint, archiving).
CCIP_BACKUP_PHASES=""
ccip_backup_phase() {
    local now="$EPOCHREALTIME"
    CCIP_BACKUP_PHASES="${CCIP_BACKUP_PHASES:+$CCIP_BACKUP_PHASES, }$1 $(awk -v a="$2" -v b="$now" 'BEGIN { printf "%.2f", b - a }') s"
}
