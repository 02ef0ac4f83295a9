#!/bin/sh
# A full /dev/shm, as containers often have: the run fails with exit 3 and
# one line naming the object in /dev/shm and the reason, instead of dying
# of SIGBUS, and leaves nothing there.  Each run gets a /dev/shm of its own,
# one page of tmpfs in a private mount namespace.
. "$(dirname "$0")/lib.sh"

if ! unshare -m sh -c 'mount -t tmpfs -o size=4k tmpfs /dev/shm' 2>/dev/null; then
	skip "cannot mount a tmpfs on /dev/shm in a mount namespace (unshare -m, mount: not root?)"
	done_testing
	exit
fi

# small_shm FILLED ARGS...: runs proccount ARGS with a /dev/shm of one
# page, already full when FILLED is 1; leaves $rc, ./out, ./err, and in
# ./left what that /dev/shm holds afterwards.
small_shm() {
	filled=$1
	shift
	timeout -s KILL "$LIMIT" unshare -m sh -c '
		mount -t tmpfs -o size=4k tmpfs /dev/shm || exit 99
		[ "$1" = 1 ] && head -c 4096 /dev/zero >/dev/shm/filler
		shift
		"$@" >out 2>err
		rc=$?
		ls /dev/shm | tr "\n" " " >left
		exit $rc' sh "$filled" "$PROCCOUNT" "$@"
	rc=$?
}

name='proccount-[0-9]*-[0-9]*-[0-9]*'
for spec in "1:--lock=mutex:segment" "1:-T --lock=mutex:segment" \
    "1:--lock=atomic:segment" "0:--lock=sem:semaphore" \
    "0:-T --lock=sem:semaphore"; do
	filled=${spec%%:*} rest=${spec#*:}
	args=${rest%:*} object=${rest#*:}
	what="$args, the $object does not fit"
	small_shm "$filled" $args -n 1000
	is "$rc" 3 "$what: exit 3"
	is "$(lines err)" 1 "$what: one line"
	case $object in
	segment) pattern="/dev/shm/$name" ;;
	semaphore) pattern="/dev/shm/sem\.$name-sem" ;;
	esac
	grep -q "^proccount: POSIX shared memory: $pattern: No space left on device\$" err
	ok $? "$what: it names the object in /dev/shm and the reason"
	is "$(cat left)" "$([ "$filled" = 1 ] && echo 'filler ')" \
	    "$what: nothing of it is left in /dev/shm"
done

# bench says so in the same words, and stops.
small_shm 1 bench -l mutex -w 1 -t 50ms -r 1
is "$rc" 3 "bench, /dev/shm full: exit 3"
is "$(lines err)" 1 "bench: one line"
grep -q "^proccount: POSIX shared memory: /dev/shm/$name: No space left on device\$" err
ok $? "bench: it names the object in /dev/shm and the reason"

# The room for both is enough.
timeout -s KILL "$LIMIT" unshare -m sh -c '
	mount -t tmpfs -o size=8k tmpfs /dev/shm || exit 99
	"$@" >out 2>err' sh "$PROCCOUNT" --lock=sem -n 1000 --json
is "$?:$(json 'd["correct"]')" "0:True" "two pages are room enough for sem"

done_testing
