#!/bin/sh
# What the runner promises: a lock left held by a worker that died holding
# it is reported, whether anyone was waiting for it or not.
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

done_testing
