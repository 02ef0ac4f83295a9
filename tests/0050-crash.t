#!/bin/sh
# A worker that dies holding the lock (--crash): file locks are released by
# the kernel and the robust mutex is recovered, so the run completes with
# an exact count; a semaphore or a spinlock is never released, so the run
# ends itself: the lock was abandoned (not a deadlock: nothing waits in a
# cycle).  In every case the count is exact against the
# updates each worker completed.
. "$(dirname "$0")/lib.sh"

# The crashed worker made 99 updates; the others all of theirs.
expected=$((7 + 99 + 2000 - 2 * 2000))

for spec in "file flock" "file fcntl" "file ofd" "shm mutex" "shm atomic"; do
	set -- $spec
	pc -b "$1" --lock="$2" --crash=100 -i 2 -d 2 -n 2000 -s 7 --json
	is "$rc" 0 "$2: a completed run after a crash exits 0"
	is "$(json 'd["final"], d["expected"], d["correct"], d["deadlock"]')" \
	    "($expected, $expected, True, False)" "$2: the count is exact"
	is "$(json '[(w["updates"], w["end"]) for w in d["workers"]]')" \
	    "[(99, 'killed by signal 9'), (2000, 'exited'), (2000, 'exited'), (2000, 'exited')]" \
	    "$2: the first incrementer died in its 100th update"
	is "$(json 'd["crash"]')" 100 "$2: json names the crash"
	[ "$1" = shm ] && is "$(shm_left "$(json 'd["path"]')")" "" "$2: /dev/shm clean"
done
is "$(file_value counter.txt)" "$expected" "the file holds the exact count after a crash"

# The text says who released a dead process's file lock: the kernel.
for spec in "flock:flock lock" "fcntl:fcntl record lock" "ofd:OFD record lock"; do
	pc -b file --lock="${spec%%:*}" --crash=3 -i 1 -d 1 -n 10
	pid=$(sed -n 's/^worker \([0-9]*\) (inc) killed by signal 9 after 2 updates$/\1/p' out)
	grep -qx "the kernel released the ${spec#*:} of worker $pid when it died" out
	ok $? "${spec%%:*}: the text says the kernel released the dead worker's lock"
done

# The robust mutex: the next locker recovered it, and says so.
# A timed run keeps the decrementer busy after the crash, so that it needs
# the lock again whenever the crash comes: a mutex is not fair, and a
# counted run may let the decrementer finish first.
pc -b shm --lock=mutex --crash=1000 -i 1 -d 1 -t 1s --json
is "$(json 'd["recovered"], sum(w["recovered"] for w in d["workers"])')" \
    "(True, 1)" "mutex: recovered once from its dead owner"
is "$(json '[w["recovered"] for w in d["workers"]]')" "[0, 1]" \
    "mutex: by the decrementer"
pc -b shm --lock=mutex --crash=1000 -i 1 -d 1 -t 1s
grep -q "^the mutex was recovered from a dead owner by worker [0-9]*$" out
ok $? "mutex: the text report says who recovered it"
pc -b file --lock=flock --crash=5 -i 1 -d 1 -n 100 --json
is "$(json 'd["recovered"]')" False "flock: nothing to recover"

# A semaphore and a spinlock stay taken: abandoned, declared within bounds,
# long before the 10 s the others would run.
for kind in sem spin; do
	began=$(date +%s)
	pc -b shm --lock=$kind --crash=50 -i 2 -d 2 -t 10s -s 7 --json
	took=$(($(date +%s) - began))
	is "$rc" 4 "$kind: an abandoned lock exits 4"
	is "$(json 'd["abandoned"], d["deadlock"], d["correct"], d["final"] == d["expected"]')" \
	    "(True, False, True, True)" "$kind: abandoned, not a deadlock, count exact"
	is "$(json 'd["workers"][0]["updates"], d["workers"][0]["end"]')" \
	    "(49, 'killed by signal 9')" "$kind: the crashed worker made 49"
	is "$(json 'sorted(set(w["end"] for w in d["workers"][1:]))')" \
	    "['stopped']" "$kind: the others were stopped"
	[ "$took" -le 6 ]
	ok $? "$kind: ended by itself in ${took}s (2 s without progress)"
	is "$(shm_left "$(json 'd["path"]')")" "" "$kind: /dev/shm clean"
	pc -b shm --lock=$kind --crash=50 -i 2 -d 2 -t 10s
	grep -q "^abandoned: worker [0-9]* died holding the" out
	ok $? "$kind: the text names the worker that died holding it"
	grep -q "^[0-9]* updates before the lock was abandoned$" out
	ok $? "$kind: the text says the lock was abandoned"
	grep -q "deadlock" out
	ok $((!$?)) "$kind: and does not call it a deadlock"
done
grep -q "a spinlock is a word in memory" out
ok $? "spin: and why nothing released it"

# --timeout shortens the wait: the waiting workers give up, still exact.
pc -b shm --lock=sem --crash=3 -i 1 -d 2 -t 10s --timeout=300ms --json
is "$rc" 4 "sem --timeout: exit 4"
is "$(json 'd["abandoned"], d["deadlock"], d["correct"]')" "(True, False, True)" \
    "sem --timeout: abandoned, exact"
is "$(json 'sorted(set(w["end"] for w in d["workers"][1:]))')" \
    "['timed out']" "sem --timeout: the waiters timed out"

# Without a lock a crash loses nothing more than the race does; reported
# truthfully either way.
for backend in file shm; do
	pc -b $backend --crash=10 -i 1 -d 1 -n 3000 --json
	case $rc in
	0|1) is "$(json 'd["final"] - d["expected"] == d["drift"] and d["correct"] == (d["drift"] == 0)')" \
		True "$backend no lock: the report agrees with itself" ;;
	*) fail "$backend no lock: exit $rc" ;;
	esac
	is "$(json 'd["workers"][0]["updates"]')" 9 "$backend no lock: died in update 10"
done

# --crash in the last update, and in the first.
pc -b shm --lock=mutex --crash=1 -i 1 -d 0 -n 10 --json
is "$rc:$(json 'd["final"], d["updates"]')" "0:(0, 0)" "crash in the first update"
pc -b file --lock=ofd --crash=10 -i 1 -d 1 -n 10 --json
is "$rc:$(json 'd["final"]')" "0:-1" "crash in the last update"

done_testing
