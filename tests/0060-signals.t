#!/bin/sh
# Signals: SIGINT or SIGTERM stop the run cleanly (report marked
# interrupted, exit 128 + N, nothing left); SIGKILL of the parent or of a
# worker, at any moment, leaves a valid counter and no worker running.
. "$(dirname "$0")/lib.sh"

# background ARGS...: starts proccount in the background, time-bounded,
# output to ./out and ./err; $pid is then the timeout process, its parent.
# A shell without job control starts background jobs ignoring SIGINT, and
# proccount keeps a signal it was started ignoring ignored; give it back.
background() {
	perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV or die' \
	    timeout -s KILL 30 "$PROCCOUNT" "$@" >out 2>err &
	pid=$!
}

# children PID: the processes PID started.  /proc says at once, where
# pgrep reads every process, slow while another test runs 4096 workers.
children() {
	if [ -z "$1" ]; then
		return
	elif [ -r "/proc/$1/task/$1/children" ]; then
		cat "/proc/$1/task/$1/children"
	else
		pgrep -P "$1"
	fi
}

# The proccount process under the timeout process $pid, once it is there.
proccount_of() {
	for try in 1 2 3 4 5 6 7 8 9 10; do
		for child in $(children "$1"); do
			if [ "$(cat "/proc/$child/comm" 2>/dev/null)" = proccount ]; then
				echo "$child"
				return
			fi
		done
		sleep 0.1
	done
}

workers_of() {
	children "$1" | tr '\n' ' '
}

none_running() {
	for w in $1; do
		running "$w" && return 1
	done
	return 0
}

for spec in "INT 130 shm mutex" "TERM 143 shm sem" "INT 130 file flock" \
    "TERM 143 file fcntl" "HUP 129 shm spin" "TERM 143 shm atomic"; do
	set -- $spec
	background -b "$3" --lock="$4" -i 2 -d 2 -n 1G --json
	sleep 0.5
	parent=$(proccount_of $pid)
	workers=$(workers_of "$parent")
	kill -s "$1" "$parent"
	wait $pid
	rc=$?
	is "$rc" "$2" "$4: SIG$1 exits $2"
	is "$(json 'd["interrupted"], d["signal"], d["correct"]')" \
	    "(True, $(($2 - 128)), True)" "$4: reported interrupted, count exact"
	is "$(json 'sorted(set(w["end"] for w in d["workers"]))')" "['exited']" \
	    "$4: the workers stopped between updates"
	none_running "$workers"
	ok $? "$4: no worker left running"
	[ "$3" = shm ] && is "$(shm_left "$(json 'd["path"]')")" "" "$4: /dev/shm clean"
	[ "$3" = file ] && is "$(file_value counter.txt)" "$(json 'd["final"]')" \
	    "$4: the file holds the reported value"
done

background -b file --lock=flock -n 1G
sleep 0.5
kill -INT "$(proccount_of $pid)"
wait $pid
grep -q '^interrupted by SIGINT: the workers were stopped$' out
ok $? "the text report says it was interrupted"

# SIGKILL of the parent at several moments: the file always holds a number.
for delay in 0 0.01 0.05 0.2 0.4; do
	"$PROCCOUNT" -b file --lock=fcntl -i 3 -d 3 -n 1G >/dev/null 2>&1 &
	parent=$!
	sleep "$delay"
	workers=$(workers_of $parent)
	kill -KILL $parent
	wait $parent 2>/dev/null
	sleep 0.1
	if [ -e counter.txt ]; then
		file_value counter.txt >/dev/null 2>&1
		ok $? "parent killed after ${delay}s: the file holds a valid number"
	else
		pass "parent killed after ${delay}s: before the file was made"
	fi
	none_running "$workers"
	ok $? "parent killed after ${delay}s: no worker left running"
done

# kill_a_worker AFTER ARGS...: runs proccount ARGS in the background, and
# AFTER seconds kills its first worker; leaves $victim and the exit in $rc.
kill_a_worker() {
	after=$1
	shift
	background "$@" --json
	sleep "$after"
	# On a loaded machine the workers may not all be there yet.
	parent=$(proccount_of $pid)
	for try in 1 2 3 4 5 6 7 8 9 10; do
		victim=$(children "$parent" | tr ' ' '\n' | head -n 1)
		[ -n "$victim" ] && break
		sleep 0.1
	done
	kill -KILL "$victim"
	wait $pid
	rc=$?
}

# SIGKILL of a worker from outside: reported like a crash.  With a lock the
# kernel releases, or a robust mutex, the run completes, exact.
for spec in "file flock" "file ofd" "shm mutex" "shm atomic"; do
	set -- $spec
	kill_a_worker 0.5 -b "$1" --lock="$2" -i 2 -d 2 -t 1.5s
	is "$rc" 0 "$2: a worker killed from outside, the run completes"
	is "$(json 'd["correct"], [w["end"] for w in d["workers"] if w["pid"] == '"$victim"']')" \
	    "(True, ['killed by signal 9'])" "$2: exact, the victim reported killed"
done

# With a semaphore or a spinlock the victim may have held the lock or not;
# either the run completes exact, or the lock is declared abandoned, exact too.
for kind in sem spin; do
	kill_a_worker 0.4 --lock=$kind -i 2 -d 2 -t 1s
	case $rc in
	0) is "$(json 'd["abandoned"], d["correct"]')" "(False, True)" \
		"$kind: victim outside the lock: completes exact" ;;
	4) is "$(json 'd["abandoned"], d["deadlock"], d["correct"]')" "(True, False, True)" \
		"$kind: victim held the lock: abandoned, exact" ;;
	*) fail "$kind: exit $rc" ;;
	esac
	is "$(shm_left "$(json 'd["path"]')")" "" "$kind: /dev/shm clean"
done

# An unguarded shm worker marks its progress once every 1024 updates: when
# it is killed from outside, its last batch is uncounted, and says so.
kill_a_worker 0.4 -b shm -i 2 -d 2 -t 1s
case $rc in
0|1) pass "shm none, a worker killed: exit $rc, a verdict" ;;
*) fail "shm none, a worker killed: exit $rc" ;;
esac
is "$(json '[(w["end"], w["unsure"] in (0, 1024)) for w in d["workers"] if w["pid"] == '"$victim"']')" \
    "[('killed by signal 9', True)]" "the victim's uncounted batch is reported"
is "$(json 'd["correct"] == (d["drift"] == 0) and d["final"] - d["expected"] == d["drift"]')" \
    True "and the verdict agrees with itself"

# Alone, an unguarded worker races with nobody: whatever part of its last
# batch landed before it was killed, the count is exact, and the report
# counts what landed of the uncounted batch.
kill_a_worker 0.3 -b shm -i 1 -d 0 -s 5 -t 2s
is "$rc" 0 "shm none, the only worker killed: exit 0"
is "$(json 'd["workers"][0]["pid"] == '"${victim:-0}"', d["workers"][0]["end"]')" \
    "(True, 'killed by signal 9')" "the only worker was killed"
is "$(json 'd["correct"], d["final"] == 5 + d["workers"][0]["updates"] + d["landed"] == d["expected"], 0 <= d["landed"] <= d["workers"][0]["unsure"]')" \
    "(True, True, True)" "exact, counting what landed of its uncounted batch"

done_testing
