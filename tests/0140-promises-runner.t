#!/bin/sh
# What the runner promises: a lock left held by a worker that died holding
# it is reported, whether anyone was waiting for it or not; a timed run
# stops at the ends of the 64-bit range.
. "$(dirname "$0")/lib.sh"

# Enough for every run here to end by itself; a hang fails instead.
LIMIT=20

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

done_testing
