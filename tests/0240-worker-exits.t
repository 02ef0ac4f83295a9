#!/bin/sh
# A worker process that exits in the middle of its loop, not through its
# end, as one does when a library or a sanitizer in it calls exit: it is a
# death, reported as one, with its status, and the count is judged as
# after any death.  gdb makes the worker call _exit.
. "$(dirname "$0")/lib.sh"

if ! command -v gdb >/dev/null; then
	echo "1..0 # skip no gdb to make a worker exit"
	exit 0
fi

# exit_worker ARGS...: a timed run of proccount ARGS, whose first worker
# calls _exit(7) once the run is under way.
exit_worker() {
	timeout -s KILL "$LIMIT" "$PROCCOUNT" "$@" >out 2>err &
	run=$!
	worker=
	for try in $(seq 100); do
		proccount=$(pgrep -P "$run" -x proccount)
		worker=$(cat /proc/"$proccount"/task/*/children 2>/dev/null |
		    cut -d' ' -f1)
		[ -n "$worker" ] && break
		sleep 0.05
	done
	sleep 0.3
	gdb -p "$worker" -batch -ex 'call (void)_exit(7)' >gdb.out 2>&1
	wait "$run"
	rc=$?
}

for spec in "shm mutex" "file flock" "file ofd" "shm atomic"; do
	set -- $spec
	exit_worker -b "$1" --lock="$2" -i 2 -d 1 -t 2s --json
	if grep -q "ptrace: Operation not permitted" gdb.out; then
		skip "$spec: gdb may not attach to a worker here"
		continue
	fi
	is "$rc:$(json '(d["correct"], d["workers"][0]["pid"] == '"$worker"', d["workers"][0]["end"], [w["end"] for w in d["workers"][1:]])')" \
	    "0:(True, True, 'exited early with status 7', ['exited', 'exited'])" \
	    "$spec: the worker that exited early is named, with its status; exact"
done

# The text says it too.
exit_worker -b shm --lock=mutex -i 1 -d 1 -t 2s
if grep -q "ptrace: Operation not permitted" gdb.out; then
	skip "text: gdb may not attach to a worker here"
else
	grep -qE "^worker $worker \(inc\) exited early with status 7 after [0-9]+ updates?(, in the middle of an update)?$" out
	ok $? "text: the worker that exited early, with its status"
	is "$rc:$(grep -cE '^final (-?[0-9]+), expected \1( \(counting 1 update of a dead worker that landed\))?: correct$' out)" \
	    "0:1" "text: exact"
fi
done_testing
