#!/bin/sh
# The counter in PostgreSQL (-b pg): every kind that guards the update,
# the database's own (atomic UPDATE, row lock, advisory lock, REPEATABLE
# READ and SERIALIZABLE transactions retried when aborted) keeps the count
# exact, with processes and with threads; the unguarded SELECT-then-UPDATE
# is reported truthfully, whatever it lost.  A serialization failure is
# retried and counted, and the retried update counted once.  A worker
# killed mid-transaction (--crash) is rolled back by the server, and the
# count stays exact.  Nothing is left in the database.
. "$(dirname "$0")/lib.sh"
pg_or_skip

paths=
# run NAME EXPR WANT ARGS...: runs -b pg ARGS --json, and compares the exit
# status and EXPR over the report with WANT, in one look at the JSON.
run() {
	name=$1
	expr=$2
	want=$3
	shift 3
	pc -b pg "$@" --json
	got=$(json "d['path'] + ' ' + repr(($expr))")
	paths="$paths '${got%% *}'"
	is "$rc:${got#* }" "$want" "$name"
}

# The count, exact, and the retries, which are made again and never
# counted twice, adding up.
count='d["correct"], d["final"] == d["expected"], d["final"], d["updates"], d["retries"] == sum(w["retries"] for w in d["workers"])'
for kind in atomic row advisory repeatable serializable; do
	for workers in "1 1" "2 2" "3 1"; do
		set -- $workers
		run "$kind $1+$2: exact" "$count" \
		    "0:(True, True, $((5 + ($1 - $2) * 30)), $((($1 + $2) * 30)), True)" \
		    --lock=$kind -i "$1" -d "$2" -n 30 -s 5
	done
done

# No lock: whatever it lost is reported as lost, and nothing is made up:
# exit 0 exactly when there is no drift, and the drift is the final value
# less the start and what the workers did.
truth='(d["drift"] == 0) == d["correct"], d["final"] - d["expected"] == d["drift"] and d["expected"] == d["start"] + sum(w["updates"] * (1 if w["role"] == "inc" else -1) for w in d["workers"])'
for workers in "1 1" "2 2"; do
	set -- $workers
	pc -b pg -i "$1" -d "$2" -n 60 --json
	got=$(json "d['path'] + ' ' + repr(($truth, d['correct']))")
	paths="$paths '${got%% *}'"
	case $rc in
	0) is "${got#* }" "(True, True, True)" "none $1+$2: exit 0, exact" ;;
	1) is "${got#* }" "(True, True, False)" "none $1+$2: exit 1, lost" ;;
	*) fail "none $1+$2: exit $rc" ;;
	esac
done

# Threads: each has its own connection, so every kind excludes them.
for kind in atomic row advisory repeatable serializable; do
	run "$kind threads: exact" 'd["as"], d["correct"], d["final"], d["excludes"]' \
	    "0:('threads', True, 0, $([ $kind = atomic ] && echo False || echo True))" \
	    -T --lock=$kind -i 2 -d 2 -n 40
done

# Threads without a lock: reported as it happened, as with processes.
pc -b pg -T -i 2 -d 2 -n 40 --json
got=$(json "d['path'] + ' ' + repr(($truth, d['as'], d['excludes']))")
paths="$paths '${got%% *}'"
is "$([ $rc -le 1 ] && echo 0-or-1):${got#* }" "0-or-1:(True, True, 'threads', False)" \
    "none threads: reported as it happened"

# --crash: the worker is killed before its update is sent, the server
# rolls back its transaction and releases its locks, and the others go on.
# With threads, the dead thread's connection is closed with it.
for as in "" -T; do
	for kind in row advisory repeatable serializable atomic; do
		run "$kind ${as:-processes} --crash: exact, 3 updates of the dead counted" \
		    'd["correct"], [w["updates"] for w in d["workers"]], d["final"]' \
		    "0:(True, [3, 10, 10], 3)" $as --lock=$kind --crash=4 -i 2 -d 1 -n 10
	done
	pc -b pg $as --lock=row --crash=2 -i 1 -d 1 -n 5
	grep -qx "the server rolled back the transaction of worker [0-9]* when its connection dropped, and released its locks: its update did not count" out
	ok $? "row ${as:-processes} --crash: the text says the server rolled it back"
	pc -b pg $as --crash=4 -i 2 -d 1 -n 10 --json
	got=$(json "d['path'] + ' ' + repr(($truth, [w['updates'] for w in d['workers']]))")
	paths="$paths '${got%% *}'"
	is "$([ $rc -le 1 ] && echo 0-or-1):${got#* }" "0-or-1:(True, True, [3, 10, 10])" \
	    "none ${as:-processes} --crash: reported as it happened"
done

# A run killed before its end leaves its row, and the next run on this
# host removes it; a row of another host's is never touched.
"$PROCCOUNT" -b pg --lock=atomic -t 20s -q >/dev/null 2>&1 &
pid=$!
tries=0
until [ "$($psql -c "SELECT count(*) FROM proccount WHERE pid = $pid" \
    2>/dev/null)" = 1 ] || [ $tries -ge 100 ]; do
	sleep 0.05
	tries=$((tries + 1))
done
kill -9 $pid
{ wait $pid; } 2>/dev/null
other=elsewhere-$$-1-0
$psql -c "INSERT INTO proccount (name, role, value, start, host, pid,
    started) VALUES ('$other', 'run', 5, 5, 'elsewhere.invalid', 1, 1)"
is "$($psql -c "SELECT count(*) FROM proccount WHERE pid = $pid")" 1 \
    "a run killed by SIGKILL leaves its row"
pc -b pg --lock=atomic -n 1
is "$rc:$($psql -c "SELECT count(*) FROM proccount WHERE pid = $pid")" 0:0 \
    "the next run on this host removed it"
is "$($psql -c "SELECT value FROM proccount WHERE name = '$other'")" 5 \
    "another host's row is untouched"
$psql -c "DELETE FROM proccount WHERE name = '$other'"

# SIGTERM or SIGHUP mid-run (SIGINT alike, but a background job of this
# shell starts with it ignored, and it stays so): the report marked interrupted, 128 plus the
# signal, the run's row removed; another host's row is untouched.
$psql -c "INSERT INTO proccount (name, role, value, start, host, pid,
    started) VALUES ('$other', 'run', 5, 5, 'elsewhere.invalid', 1, 1)"
for as in "" -T; do
	for sig in TERM:15 HUP:1; do
		n=${sig#*:}
		sig=${sig%:*}
		"$PROCCOUNT" -b pg $as --lock=row -i 1 -d 1 -t 5s >out 2>err &
		pid=$!
		tries=0
		until [ "$($psql -c "SELECT count(*) FROM pg_stat_activity WHERE
		    application_name = 'proccount' AND state <> 'idle'")" -ge 1 ] ||
		    [ $tries -ge 100 ]; do
			sleep 0.05
			tries=$((tries + 1))
		done
		kill -$sig $pid
		wait $pid
		rc=$?
		is "$rc:$(grep -c interrupted out):$($psql -c "SELECT count(*)
		    FROM proccount WHERE pid = $pid")" \
		    "$((128 + n)):1:0" \
		    "SIG$sig ${as:-processes}: interrupted, 128+n, the run's row removed"
	done
done
is "$($psql -c "SELECT value FROM proccount WHERE name = '$other'")" 5 \
    "another host's row is untouched by the interrupted runs"
$psql -c "DELETE FROM proccount WHERE name = '$other'"

# A serialization failure, made to happen: another session updates the
# row while the worker's transaction holds it read.  The worker retries,
# and its one update counts once.
for kind in repeatable serializable; do
	"$PROCCOUNT" -b pg --lock=$kind -i 1 -d 0 -n 1 -s 9 --hold=400ms \
	    --json >out 2>err &
	pid=$!
	tries=0
	until [ "$($psql -c "SELECT count(*) FROM pg_stat_activity WHERE
	    application_name = 'proccount' AND state = 'idle in transaction'")" = 1 ] ||
	    [ $tries -ge 100 ]; do
		sleep 0.02
		tries=$((tries + 1))
	done
	$psql -c "UPDATE proccount SET value = value WHERE pid = $pid"
	wait $pid
	rc=$?
	got=$(json "d['path'] + ' ' + repr((d['final'], d['updates'], d['retries'], d['correct']))")
	paths="$paths '${got%% *}'"
	is "$rc:${got#* }" "0:(10, 1, 1, True)" "$kind: one retry, one update counted"
done
(
	"$PROCCOUNT" -b pg --lock=serializable -i 1 -d 0 -n 1 --hold=400ms \
	    >text 2>&1 &
	pid=$!
	tries=0
	until [ "$($psql -c "SELECT count(*) FROM pg_stat_activity WHERE
	    application_name = 'proccount' AND state = 'idle in transaction'")" = 1 ] ||
	    [ $tries -ge 100 ]; do
		sleep 0.02
		tries=$((tries + 1))
	done
	$psql -c "UPDATE proccount SET value = value WHERE pid = $pid"
	wait $pid
)
grep -qx "retried: the server aborted 1 transaction (SQLSTATE 40001), each rolled back, not counted, and made again" text
ok $? "the text counts the retry"

# Usage: what the server's workers cannot do, and pg's options elsewhere.
usage_error "--schedule is not for --backend=pg" -b pg --schedule='1r 2r 1w 2w' -n 1
usage_error "--readers is not for --backend=pg" -b pg --lock=row -r 1
usage_error "--dsn is for --backend=pg" -b shm --dsn=dbname=x
usage_error "--join is for --backend=pg" -b file --join=x
usage_error "--join" -b pg --join=
usage_error "explore is not for --backend=pg" explore --lock=row
# A kind only pg offers, named alone, brings the pg backend in, as in a
# single run.
pc bench -l row -w 1 -t 10ms --format=csv
is "$rc:$(grep -v '^#' out | cut -d, -f1,2 | tail -n +2)" "0:pg,row" \
    "bench -l row: the pg backend's kind"

# bench -b pg: its kinds, each exact where it guards the update.
pc bench -b pg -l row,serializable,atomic -w 1,2 -t 50ms -r 1 --format=csv
is "$rc:$(grep -v '^#' out | cut -d, -f1-4 | tr '\n' ' ')" \
    "0:backend,lock,as,workers pg,row,processes,1 pg,row,processes,2 pg,serializable,processes,1 pg,serializable,processes,2 pg,atomic,processes,1 pg,atomic,processes,2 " \
    "bench -b pg: a row a kind and worker count"
is "$(awk -F, '$1 == "pg" { print $14 == $7 && $15 == 0 }' out | sort -u)" 1 \
    "bench -b pg: every row exact"

# Nothing left behind: no row of these runs; in a cluster of our own, no
# table either.
left=$($psql -c "SELECT count(*) FROM proccount WHERE name IN ($(echo $paths | tr " " ","))
    OR pid IN (SELECT pid FROM proccount WHERE host = '$(hostname)' AND
    role = 'run' AND pid <> pid)" 2>/dev/null || echo 0)
is "$left" 0 "no row of these runs is left"
if [ -n "${pg_dir:-}" ]; then
	is "$($psql -c "SELECT to_regclass('proccount') IS NULL")" t \
	    "the last run dropped the table"
fi
done_testing
