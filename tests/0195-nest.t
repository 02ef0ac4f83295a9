#!/bin/sh
# A lock taken twice: --nest=K takes the lock K times, nested, in each
# update, and releases it K times.  What each kind makes of it: the
# recursive mutex counts its owner's locks, exact; the error-checking
# mutex refuses the second lock at once, a deadlock, exit 4; a file lock
# taken again is the same lock, released by the inner unlock, so the rest
# of the update runs unguarded (reported truthfully, never asserted lost);
# a semaphore or a spinlock waits for itself until the watchdog or
# --timeout ends the run, a deadlock, exit 4, within a bound.
. "$(dirname "$0")/lib.sh"

# rmutex: exact, as processes and as threads.
for as in "" -T; do
	pc $as --lock=rmutex --nest=3 -i 2 -d 2 -n 5000 -s 7 --json
	is "$rc:$(json 'd["lock"], d["nest"], d["correct"], d["final"], d["deadlock"]')" \
	    "0:('rmutex', 3, True, 7, False)" "rmutex $as, nested 3 deep: exact"
	is "$(json '[w["updates"] for w in d["workers"]]')" \
	    "[5000, 5000, 5000, 5000]" "rmutex $as: every worker made its updates"
	is "$(shm_left "$(json 'd["path"]')")" "" "rmutex $as: /dev/shm clean"
done
pc --lock=rmutex --nest=2 -n 100
grep -qx "nested 2 deep: a recursive mutex counts its owner's locks, and only the last unlock releases it" out
ok $? "rmutex: the text says why it works"
# Without --nest it is a mutex like the other, recovered after a death.
pc --lock=rmutex --crash=1000 -i 1 -d 1 -t 1s --json
is "$rc:$(json 'd["recovered"], d["correct"]')" "0:(True, True)" \
    "rmutex: recovered from a dead owner, exact"

# mutex: the second lock fails with EDEADLK at once; a self-deadlock.
for as in "" -T; do
	began=$(date +%s)
	pc $as --lock=mutex --nest=2 -i 2 -d 2 -n 100000 --json
	took=$(($(date +%s) - began))
	is "$rc:$(json 'd["deadlock"], d["abandoned"], d["updates"], d["correct"]')" \
	    "4:(True, False, 0, True)" "mutex $as, nested: a deadlock, exit 4"
	is "$(json '"refused its own lock" in [w["end"] for w in d["workers"]]')" \
	    True "mutex $as: a worker's own lock refused it"
	[ "$took" -le 1 ]
	ok $? "mutex $as: reported at once (${took}s)"
	is "$(shm_left "$(json 'd["path"]')")" "" "mutex $as: /dev/shm clean"
	pc $as --lock=mutex --nest=2 -n 100
	grep -qx "deadlock: worker [0-9]* took the robust mutex it already held; an error-checking mutex refuses that with EDEADLK" out
	ok $? "mutex $as: the text names the worker and EDEADLK"
	grep -qx "0 updates before the deadlock" out
	ok $? "mutex $as: no update before the deadlock"
done
# --nest=1 is no nesting: the default mutex, exact.
pc --lock=mutex --nest=1 -n 1000 --json
is "$rc:$(json 'd["nest"], d["correct"], d["deadlock"]')" "0:(1, True, False)" \
    "mutex --nest=1: no nesting, exact"

# The file kinds: the lock taken again is the same lock, and the inner
# unlock releases it; whatever the count, the verdict says it.
for kind in flock fcntl ofd; do
	truthful "$kind nested" -b file --lock=$kind --nest=2 -i 2 -d 2 -n 500
	is "$(json 'd["nest"], d["deadlock"], [w["updates"] for w in d["workers"]]')" \
	    "(2, False, [500, 500, 500, 500])" "$kind nested: every update made"
	pc -b file --lock=$kind --nest=2 -n 50
	grep -q "^nested 2 deep: an .* taken twice .* is one lock: the inner unlock released it, and the rest of the update ran unguarded$" out
	ok $? "$kind nested: the text says why updates may be lost"
done
for kind in flock ofd; do
	truthful "$kind -T nested" -T -b file --lock=$kind --nest=3 -i 2 -d 2 -n 500
done

# sem and spin wait for themselves: --timeout ends the run, with the
# reason, well within a few seconds; without it the watchdog does, after
# its 2 s without progress.
for as in "" -T; do
	for kind in sem spin; do
		words=semaphore
		[ $kind = spin ] && words=spinlock
		began=$(date +%s)
		pc $as --lock=$kind --nest=2 --timeout=200ms -i 2 -d 1 -n 1000 --json
		took=$(($(date +%s) - began))
		is "$rc:$(json 'd["deadlock"], d["abandoned"], d["correct"], d["updates"]')" \
		    "4:(True, False, True, 0)" "$kind $as --timeout: a deadlock, exit 4"
		[ "$took" -le 3 ]
		ok $? "$kind $as --timeout=200ms: ended in ${took}s"
		is "$(shm_left "$(json 'd["path"]')")" "" "$kind $as: /dev/shm clean"
		began=$(date +%s)
		pc $as --lock=$kind --nest=2 -n 1000
		took=$(($(date +%s) - began))
		is "$rc" 4 "$kind $as, no --timeout: exit 4"
		[ "$took" -le 5 ]
		ok $? "$kind $as, no --timeout: the watchdog ended it in ${took}s"
		grep -q "^deadlock: worker [0-9]* waits for the .*$words it holds itself; " out
		ok $? "$kind $as: the text names the worker waiting for itself"
	done
done


usage_error "--nest takes the lock again, and a run without --lock has none to take" --nest=2 -b file
usage_error "--nest takes the lock again, and --lock=atomic has none to take" --nest=2 --lock=atomic
usage_error "--nest takes the lock again, and --lock=none has none to take" --nest=2 -b file --lock=none
usage_error "--nest and --try: the nested locks are taken, not tried; choose one" --nest=2 --lock --try
usage_error "--nest and --schedule: a schedule's steps are one lock and one release" --nest=2 --lock --schedule='1r 1w 2r 2w'
usage_error "--nest '0'" --nest=0 --lock
usage_error "--nest 'x'" --nest=x --lock

done_testing
