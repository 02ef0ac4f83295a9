#!/bin/sh
# --pin: with spread, worker k stays on the k-th CPU that proccount may
# use, round-robin, as processes and as threads, and the report says so;
# with none, the default, wherever the scheduler puts it.  Each worker
# reports the CPU it was on after its updates.  A worker that cannot be
# moved to its CPU is a system error, named, exit 3.
. "$(dirname "$0")/lib.sh"

# The CPUs this test may use, in order, as Python lists them.
allowed=$(python3 -c 'import os; print(" ".join(str(c) for c in sorted(os.sched_getaffinity(0))))')

# cpus: each worker's CPU in the JSON in ./out, in order.
cpus() {
	json '" ".join(str(w["cpu"]) for w in d["workers"])'
}

# spread N: the CPUs that --pin=spread gives N workers over $allowed.
spread() {
	python3 -c 'import sys; a = sys.argv[2].split(); print(" ".join(a[k % len(a)] for k in range(int(sys.argv[1]))))' "$1" "$allowed"
}

# what AS: the workers that AS, "" or -T, makes.
what() {
	if [ -n "$1" ]; then echo threads; else echo processes; fi
}

for as in "" -T; do
	label=$(what "$as")
	for workers in "1 1" "2 1" "3 2"; do
		set -- $workers
		n=$(($1 + $2))
		pc $as --lock=mutex --pin=spread -i $1 -d $2 -n 20000 --json
		is "$rc:$(json 'd["pin"], d["correct"]')" "0:('spread', True)" \
		    "spread $label $n workers: exact, and says spread"
		is "$(cpus)" "$(spread $n)" \
		    "spread $label $n workers: worker k on the k-th allowed CPU"
	done
	pc $as --lock=sem --pin=none -i 2 -d 2 -n 20000 --json
	is "$rc:$(json 'd["pin"]')" "0:none" "none $label: says none"
	is "$(json 'all(str(w["cpu"]) in "'"$allowed"'".split() for w in d["workers"])')" \
	    True "none $label: each worker on a CPU it may use"
done

# While they run, each pinned worker may run on its one CPU only, as the
# kernel says in /proc: processes are the parent's children, threads its
# tasks.  Each is known afterwards by the pid or thread id the JSON gives.
# allowed_now PID: "TASK CPUS" for each of them, once there are three.
allowed_now() {
	for try in 1 2 3 4 5 6 7 8 9 10; do
		sleep 0.2
		tasks=$(pgrep -P "$1"; ls "/proc/$1/task")
		[ "$(echo $tasks | wc -w)" -ge 4 ] && break
	done
	for task in $tasks; do
		echo "$task $(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' \
		    "/proc/$task/status" 2>/dev/null)"
	done >allowed.txt
}
for as in "" -T; do
	label=$(what "$as")
	for pin in spread none; do
		"$PROCCOUNT" $as --pin=$pin --lock=mutex -i 2 -d 1 -t 1s --json \
		    >out 2>err &
		pid=$!
		allowed_now $pid
		wait $pid
		got=$(json '" ".join(dict(l.split() for l in open("allowed.txt") if len(l.split()) == 2).get(str(w["pid"]), "?") for w in d["workers"])')
		if [ $pin = spread ]; then
			want=$(spread 3)
		else
			mine=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/$$/status)
			want="$mine $mine $mine"
		fi
		is "$got" "$want" "$pin $label: while they run, the kernel's CPUs for each"
	done
done

# Confined to one CPU, every worker is on it.
if command -v taskset >/dev/null; then
	first=${allowed%% *}
	for as in "" -T; do
		label=$(what "$as")
		timeout -s KILL "$LIMIT" taskset -c "$first" "$PROCCOUNT" $as \
		    --lock=spin --pin=spread -i 3 -d 2 -n 2000 --json >out 2>err
		is "$?:$(cpus)" "0:$first $first $first $first $first" \
		    "taskset -c $first, spread $label: every worker on CPU $first"
	done
else
	skip "no taskset"
	skip "no taskset"
fi

pc --lock=mutex -n 1000 --json
is "$(json 'd["pin"]')" spread "the default is spread"
pc --lock=mutex -n 1000
is "$(grep -c 'pinned' out)" 0 "pinned, the default: the text says nothing of it"
pc --lock=mutex -n 1000 --pin=none
is "$(sed -n 2p out)" \
    "not pinned: each worker ran where the scheduler put it, and two may have shared a CPU (--pin=none)" \
    "none: the text says so, second"
pc --lock=mutex -n 1000 -v
is "$(grep -c '^worker [0-9]* [a-z]*: 1000 updates, exited, on CPU [0-9]*, ' out)" 2 \
    "-v: each worker's CPU"
is "$(grep -o 'on CPU [0-9]*' out | sed 's/on CPU //' | tr '\n' ' ')" "$(spread 2) " \
    "-v: the CPUs spread gave them"

# bench takes --pin to every run, and says which in its JSON.
pc bench -l atomic -w 2 -t 20ms -r 1 --pin=none --format=json
is "$rc:$(json 'd["pin"]')" "0:none" "bench --pin=none"
pc bench -l atomic -w 2 -t 20ms -r 1 --format=json
is "$rc:$(json 'd["pin"]')" "0:spread" "bench: spread by default"
pc bench --pin=sometimes
is "$rc:$(lines out)" "2:0" "bench --pin=sometimes: usage error"
grep -q "^proccount bench: --pin 'sometimes': choose spread or none (try proccount bench --help)$" err
ok $? "bench --pin=sometimes: says why"

# A worker that cannot be moved: strace makes sched_setaffinity fail.
if command -v strace >/dev/null && strace -f -qq -o /dev/null true 2>/dev/null
then
	for as in "" -T; do
		label=$(what "$as")
		timeout -s KILL "$LIMIT" env \
		    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		    strace -f -qq -o /dev/null -e trace=sched_setaffinity \
		    -e inject=sched_setaffinity:error=EPERM \
		    "$PROCCOUNT" $as --lock=mutex --pin=spread -n 1000 --json \
		    >out 2>err
		is "$?" 3 "spread $label, cannot move: exit 3"
		grep -q "^proccount: --pin: cannot move worker [0-9]* to CPU [0-9]*: Operation not permitted" err
		ok $? "spread $label, cannot move: says who, where and why"
		is "$(json 'd["updates"], sorted(set(w["end"] for w in d["workers"]))')" \
		    "(0, ['failed'])" "spread $label, cannot move: nobody updated"
		is "$(shm_left "$(json 'd["path"]')")" "" \
		    "spread $label, cannot move: /dev/shm clean"
	done
	# With --pin=none, nothing moves a worker.
	timeout -s KILL "$LIMIT" env \
	    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	    strace -f -qq -o /dev/null -e trace=sched_setaffinity \
	    -e inject=sched_setaffinity:error=EPERM \
	    "$PROCCOUNT" --lock=mutex --pin=none -n 1000 --json >out 2>err
	is "$?" 0 "none: no sched_setaffinity to fail"
else
	for n in 1 2 3 4 5 6 7 8 9; do
		skip "no strace, or it may not trace here"
	done
fi

done_testing
