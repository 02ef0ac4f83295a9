#!/bin/sh
# --timeout bounds every wait for the lock: a worker whose wait expires
# stops, is reported as timed out, and the run exits 4 with the count still
# exact.  --duration runs until the time is up, exact as well.
. "$(dirname "$0")/lib.sh"

# One worker holds the lock for 1 s an update; the other waits 200 ms.
for spec in "file flock" "file fcntl" "file ofd" "shm mutex" "shm sem" "shm spin"; do
	set -- $spec
	began=$(date +%s)
	pc -b "$1" --lock="$2" -i 2 -d 0 -n 2 --delay=1s --timeout=200ms -s 1 --json
	took=$(($(date +%s) - began))
	is "$rc" 4 "$2: a timed-out worker makes the run exit 4"
	is "$(json 'd["correct"], d["final"] == d["expected"], d["deadlock"]')" \
	    "(True, True, False)" "$2: exact, and no deadlock: nobody died"
	is "$(json 'sorted(w["end"] for w in d["workers"])')" \
	    "['exited', 'timed out']" "$2: one finished, one timed out"
	[ "$took" -le 5 ]
	ok $? "$2: done in ${took}s"
done
pc -b shm --lock=mutex -i 2 -d 0 -n 2 --delay=1s --timeout=200ms
grep -q "^worker [0-9]* (inc) timed out waiting for the lock after [01] update" out
ok $? "the text report names the worker that timed out"

# A lock held from outside proccount: util-linux flock(1) on the same file.
if command -v flock >/dev/null; then
	pc -b file --lock=flock -f held.txt -i 1 -d 0 -n 1 -s 41
	flock held.txt sleep 3 &
	holder=$!
	sleep 0.3
	pc -b file --lock=flock -f held.txt -i 1 -d 1 -n 10 --timeout=300ms --json
	is "$rc:$(lines out)" "4:0" "a lock held by another program: exit 4"
	is "$(cat err)" \
	    "proccount: held.txt: is locked by another program for longer than --timeout, 0.3 s" \
	    "the start value waits for the lock, as long as --timeout"
	is "$(file_value held.txt)" 42 "the other holder's count is left alone"
	# flock(1) and the sleep that holds the lock through it.
	pkill -P $holder 2>/dev/null
	kill $holder 2>/dev/null
	wait $holder 2>/dev/null
else
	skip "no flock(1)"
	skip "no flock(1)"
fi

# A lock timeout long enough changes nothing.
pc -b shm --lock=sem -i 4 -d 4 -n 5000 --timeout=10s --json
is "$rc:$(json 'd["final"]')" "0:0" "a generous timeout: exact, exit 0"
pc -b file --lock=fcntl -i 2 -d 2 -n 1000 --timeout=5s --json
is "$rc:$(json 'd["final"]')" "0:0" "file, a generous timeout: exact"

# Timed runs: each worker updates until the time is up, exact.
for spec in "file flock" "shm mutex" "shm spin" "shm atomic"; do
	set -- $spec
	pc -b "$1" --lock="$2" -i 3 -d 1 -t 300ms -s 5 --json
	is "$rc" 0 "$2 -t 300ms: exit 0"
	is "$(json 'd["correct"], d["iterations"], d["duration_s"]')" \
	    "(True, None, 0.3)" "$2 -t 300ms: exact"
	is "$(json 'd["final"] == 5 + sum(w["updates"] * (1 if w["role"] == "inc" else -1) for w in d["workers"])')" \
	    True "$2 -t 300ms: final from the updates made"
	is "$(json '0.25 < d["elapsed_s"] < 1.0')" \
	    True "$2 -t 300ms: about 300 ms"
done
pc -b shm --lock=mutex -i 2 -d 2 -t 200ms
is "$(head -n 1 out | sed 's/^shm [^,]*, //')" \
    "robust mutex: 2 incrementers + 2 decrementers for 200.0 ms" "the text names the duration"
grep -Eq '^per worker: ([0-9]+ to [0-9]+ updates|[0-9]+ updates each), ended after [0-9.]+ [mu]?s to [0-9.]+ [mu]?s; fairness [01]\.[0-9]{4}$' out
ok $? "a timed run reports fairness"
# Fairness is Jain's index of the rates, each worker's updates over the
# time from the start to its end, with -n as with -t.
for as in "" -T; do
	pc -b shm --lock=mutex -i 2 -d 1 -n 20000 $as --json
	is "$(json 'abs(d["fairness"]["jain"] - (lambda r: sum(r) ** 2 / len(r) / sum(x * x for x in r))([w["updates"] / w["ended_s"] for w in d["workers"]])) < 2e-3')" \
	    True "-n ${as:-processes}: fairness is Jain's index of the update rates"
done

done_testing
