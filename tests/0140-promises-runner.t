#!/bin/sh
# What the runner promises, at every stage of a run: a worker that dies
# before it starts is named, and the run goes on without it, exit 4; a
# signal ends the run promptly even while a worker is stopped before it is
# ready; with --timeout a stopped worker cannot hold the run forever; a
# lock left held by a dead worker is reported, in a run of any length, and
# whether anyone was waiting for it or not; a timed run stops at the ends
# of the 64-bit range.  No race is asserted to happen: where a window is
# narrow, strace holds it open, or SIGSTOP.
. "$(dirname "$0")/lib.sh"

# Enough for every run here to end by itself; a hang fails instead.
LIMIT=20

# child_of PID: the first child of PID, once it is there.
child_of() {
	for try in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		pgrep -P "$1" | head -n 1 | grep . && return
		sleep 0.1
	done
}

# background COMMAND...: in the background, time-bounded, with SIGINT as
# it should be (a shell without job control starts background jobs
# ignoring it); $pid is the timeout process, and finish leaves the exit in
# $rc.
background() {
	perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV or die' \
	    timeout -s KILL "$LIMIT" "$@" >out 2>err &
	pid=$!
}

finish() {
	wait $pid
	rc=$?
}

# held ARGS...: as background, under strace, which holds every worker for
# a second at its first sched_getaffinity, before it says it is ready (the
# parent makes no such call); leaves the proccount process in $parent and
# its first worker in $victim.  LeakSanitizer, if it was built in, cannot
# work under ptrace.
held() {
	background env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	    strace -f -qq -o /dev/null -e trace=sched_getaffinity \
	    -e inject=sched_getaffinity:delay_enter=1s "$PROCCOUNT" "$@"
	tracer=$(child_of $pid)
	parent=$(child_of "$tracer")
	victim=$(child_of "$parent")
}

# victim_is: what the JSON says of the worker $victim.
victim_is() {
	json '[(w["role"], w["updates"], w["end"]) for w in d["workers"] if w["pid"] == '"$victim"'][0][2]'
}

seconds_since() {
	echo $(($(date +%s) - $1))
}

# A lock left held by a worker that died with nobody waiting for it: a
# semaphore, a spinlock, a dead thread's flock or OFD lock, exit 4; the
# robust mutex, which its next locker would recover, exit 0.
for as in "" -T; do
	for spec in "shm sem named semaphore" "shm spin spinlock" \
	    "shm mutex robust mutex"; do
		set -- $spec
		backend=$1 kind=$2
		shift 2
		status=4
		[ $kind = mutex ] && status=0
		pc $as -b $backend --lock=$kind --crash=5 -i 1 -d 0 -n 10 --json
		is "$rc" $status "$kind $as, left held, nobody waiting: exit $status"
		is "$(json 'd["abandoned"], d["deadlock"], d["recovered"], d["correct"], d["final"]')" \
		    "(True, False, False, True, 4)" "$kind $as, left held: abandoned, exact"
		pc $as -b $backend --lock=$kind --crash=5 -i 1 -d 0 -n 10
		grep -q "^the $* was left held by worker [0-9]*, which died holding it; no worker .*: " out
		ok $? "$kind $as, left held: the text says so"
	done
done
grep -q "; no worker locked it after, to recover it: a robust mutex" out
ok $? "mutex, left held: the next locker would recover it"
for kind in flock ofd; do
	pc -T -b file --lock=$kind --crash=5 -i 1 -d 0 -n 10 --json
	is "$rc:$(json 'd["abandoned"], d["deadlock"], d["final"]')" \
	    "4:(True, False, 4)" "$kind, a dead thread's lock left held: exit 4"
	pc -b file --lock=$kind --crash=5 -i 1 -d 0 -n 10 --json
	is "$rc:$(json 'd["abandoned"], d["final"]')" \
	    "0:(False, 4)" "$kind, a dead process's lock the kernel released: exit 0"
done
pc --lock=sem -i 2 -d 2 -n 100 --json
is "$rc:$(json 'd["abandoned"]')" "0:False" "sem, nobody died: nothing abandoned"

# Timed runs at the ends of the 64-bit range stop each worker at the most
# updates that keep the count in range.
max=9223372036854775807
pc -s 9223372036854775000 -i 1 -d 0 -t 1s --json
is "$rc:$(json 'd["final"], d["updates"], d["correct"], d["at_limit"]')" \
    "0:($max, 807, True, True)" "timed, near the top: stops at $max"
pc -s 9223372036854775000 -i 1 -d 0 -t 1s
is "$(sed -n 2p out)" \
    "at the limit: from this start an incrementer may make 807 updates, no more, so that the count cannot pass $max; 1 of 1 stopped there" \
    "timed, near the top: the text says so"
pc --lock=atomic -s -9223372036854775000 -i 1 -d 2 -t 200ms --json
is "$rc:$(json '[w["updates"] for w in d["workers"] if w["role"] == "dec"], d["correct"], d["at_limit"]')" \
    "0:([404, 404], True, True)" "timed, near the bottom: each decrementer stops at 404"
is "$(json 'd["final"] == d["start"] + d["workers"][0]["updates"] - 808')" True \
    "timed, near the bottom: the incrementer went on"
pc -T --lock=spin -s 9223372036854775000 -i 2 -d 0 -t 1s --json
is "$rc:$(json 'd["final"], [w["updates"] for w in d["workers"]]')" \
    "0:(9223372036854775806, [403, 403])" "timed threads, near the top: 403 each"
pc --lock=atomic -t 200ms -s 5 --json
is "$rc:$(json 'd["at_limit"]')" "0:False" "timed, far from the ends: no limit"
for start in $max 9223372036854775806; do
	pc -s $start -i 2 -d 0 -t 1s
	is "$rc:$(lines out)" "2:0" "timed, --start $start, 2 incrementers: usage error"
	grep -q "^proccount: --start $start: one update a worker could take the count out of the range of a 64-bit integer" err
	ok $? "timed, --start $start: says why"
done
pc -s 9223372036854775000 -i 1 -d 0 -t 1s --crash=808
is "$rc" 2 "timed, --crash beyond the limit: usage error"

if command -v strace >/dev/null && strace -f -qq -o /dev/null true 2>/dev/null
then
	# A worker killed before it said ready: the others run without it.
	held --lock=mutex -i 2 -d 1 -n 1000 --json
	sleep 0.4
	kill -KILL "$victim"
	finish
	is "$rc" 4 "died before it started: exit 4"
	is "$(victim_is)" "died before it started" "died before it started: named"
	is "$(json 'd["unstarted"], d["updates"], d["correct"], d["final"] == d["expected"]')" \
	    "(1, 2000, True, True)" "died before it started: the others ran, exact"
	is "$(json 'sorted(w["end"] for w in d["workers"] if w["pid"] != '"$victim"')')" \
	    "['exited', 'exited']" "died before it started: the others finished"
	held --lock=mutex -i 2 -d 1 -n 1000
	sleep 0.4
	kill -KILL "$victim"
	finish
	grep -q "^worker $victim ([a-z]*) died before it started, killed by signal 9; the run went on without it$" out
	ok $? "died before it started: the text says so"
	is "$rc" 4 "died before it started, text: exit 4"

	# SIGINT or SIGTERM while a worker is stopped before it is ready.
	for spec in "INT 130" "TERM 143"; do
		set -- $spec
		sig=$1
		held --lock=sem -i 2 -d 1 -n 1000 --json
		sleep 0.4
		kill -STOP "$victim"
		sleep 1.6
		signalled=$(date +%s)
		kill -s $sig "$parent"
		finish
		took=$(seconds_since "$signalled")
		is "$rc" "$2" "SIG$sig, a worker stopped before ready: exit $2"
		[ "$took" -le 3 ]
		ok $? "SIG$sig, a worker stopped before ready: ended in ${took}s"
		is "$(json 'd["interrupted"], d["updates"]')" "(True, 0)" \
		    "SIG$sig, a worker stopped before ready: reported interrupted"
		is "$(victim_is)" stopped "SIG$sig: the stopped worker was stopped for good"
		running "$victim"
		is $? 1 "SIG$sig: the stopped worker is gone"
	done

	# --timeout, and a worker stopped before it is ready: no word for the
	# timeout and a grace ends the wait.
	held --lock=mutex -i 2 -d 1 -n 1000 --timeout=200ms --json
	sleep 0.4
	kill -STOP "$victim"
	finish
	is "$rc" 4 "--timeout, a worker stopped before ready: exit 4"
	is "$(json 'd["stalled"], d["updates"], d["correct"]')" "(True, 0, True)" \
	    "--timeout, a worker stopped before ready: stalled"
	is "$(victim_is)" "made no progress" "--timeout: the stopped worker is named"
else
	for n in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19; do
		skip "no strace, or it may not trace here"
	done
fi

# --timeout, and a worker stopped mid-run: the other gives up waiting for
# the lock, or finishes; either way nothing moves any more, and the run
# ends with the stopped worker named, not never.
for workers in "-i 1 -d 0" "-i 2 -d 1"; do
	background "$PROCCOUNT" --lock=mutex $workers -n 20 --delay=50ms \
	    --timeout=300ms --json
	sleep 0.5
	victim=$(child_of "$(child_of $pid)")
	kill -STOP "$victim"
	stopped=$(date +%s)
	finish
	took=$(seconds_since "$stopped")
	is "$rc" 4 "--timeout $workers, a worker stopped: exit 4"
	is "$(json 'd["stalled"], d["deadlock"], d["correct"], d["final"] == d["expected"]')" \
	    "(True, False, True, True)" "--timeout $workers, a worker stopped: stalled, exact"
	is "$(victim_is)" "made no progress" "--timeout $workers: the stopped worker is named"
	is "$(json 'sorted(set(w["end"] for w in d["workers"] if w["pid"] != '"$victim"') - {"exited", "timed out"})')" \
	    "[]" "--timeout $workers: the others finished or timed out"
	[ "$took" -le 5 ]
	ok $? "--timeout $workers: ended ${took}s after the stop"
done
pc --lock=mutex -i 1 -d 0 -n 1 --delay=1s --timeout=100ms --json
is "$rc:$(json 'd["stalled"]')" "0:False" "a long --delay is no stall"

# A run shorter than the stall limit, after a death holding a semaphore or
# a spinlock: the others cannot stop when the time is up, and that is the
# abandoned lock, as processes and as threads.  The worker to crash must win the
# lock 5 times first, which an unfair lock on a busy machine need not let
# it do: then there was no death, and the run must say so.
for as in "" -T; do
	for kind in sem spin; do
		pc $as --lock=$kind --crash=5 -i 1 -d 1 -t 300ms --json
		case $(json 'd["workers"][0]["end"]') in
		"killed by signal 9"|"ended by pthread_exit")
			is "$rc" 4 "$kind $as, 300 ms, a death: exit 4"
			is "$(json 'd["abandoned"], d["correct"], d["final"] == d["expected"], d["workers"][0]["updates"]')" \
			    "(True, True, True, 4)" "$kind $as, 300 ms: abandoned, exact"
			is "$(json 'd["deadlock"]')" False \
			    "$kind $as, 300 ms: abandoned is not a deadlock" ;;
		*)
			is "$rc:$(json 'd["abandoned"], d["deadlock"]')" "0:(False, False)" \
			    "$kind $as, 300 ms, no death: no deadlock"
			skip "$kind $as: the crash did not come"
			skip "$kind $as: the crash did not come" ;;
		esac
	done
done

done_testing
