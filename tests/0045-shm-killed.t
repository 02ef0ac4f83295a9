#!/bin/sh
# What a run killed at the worst moment leaves in /dev/shm, and who removes
# it.  The segment's name, and the semaphore's, exist only from creation to
# unlink; strace holds the run at that moment (a delay injected on the
# syscall that ends it) so that the kill lands there every time.  The next
# run of proccount, of either backend, removes what the killed one left;
# it never removes the objects of a run that is still alive, nor names
# that are not proccount's.
. "$(dirname "$0")/lib.sh"

# All of proccount's names in /dev/shm for process $1.
objects_of() {
	ls /dev/shm 2>/dev/null | grep "^\(sem\.\)\{0,1\}proccount-$1-" | tr '\n' ' ' | sed 's/ $//'
}

# glibc's anonymous temporaries, sem.XXXXXX, as a sorted list.
temporaries() {
	ls /dev/shm 2>/dev/null | grep '^sem\.[A-Za-z0-9]\{6\}$' | sort
}

if ! strace -f -o /dev/null -e trace=getpid \
    -e inject=getpid:delay_enter=1000 true 2>/dev/null; then
	skip "strace cannot trace and inject here (no ptrace?)"
	done_testing
	exit
fi

# held SYSCALL N SECONDS ARGS...: runs proccount ARGS under strace, which
# delays the Nth SYSCALL on entry by SECONDS; returns once the run is held
# there, with $tracer the time-bounded strace, $strace strace itself and
# $parent proccount, or fails if the run ended first.
held() {
	call=$1 nth=$2 hold=$3
	shift 3
	rm -f trace
	# LeakSanitizer, in a sanitized build, cannot work under ptrace.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	    timeout -s KILL 60 strace -f -o trace -e trace="$call" \
	    -e inject="$call:delay_enter=${hold}000000:when=$nth" \
	    "$PROCCOUNT" "$@" >held.out 2>&1 &
	tracer=$!
	strace="" parent=""
	for try in $(seq 200); do
		[ -z "$strace" ] && strace=$(pgrep -P $tracer -x strace)
		[ -z "$parent" ] && [ -n "$strace" ] &&
		    parent=$(pgrep -P "$strace" -x proccount)
		# strace writes a syscall's start before the delay, its end after.
		[ "$(grep -c " $call(" trace 2>/dev/null)" = "$nth" ] &&
		    [ -n "$parent" ] && return 0
		kill -0 $tracer 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# kill_held: SIGKILL to the held run.  A tracee takes the signal only when
# strace lets it go on, so strace is killed too, which lets it go at once.
kill_held() {
	kill -KILL "$parent"
	kill -KILL "$strace"
	wait $tracer 2>/dev/null
	for try in $(seq 100); do
		running "$parent" || return 0
		sleep 0.05
	done
}

# The kill at each moment a name exists: the segment's until its unlink,
# the semaphore's file while it is reserved and until its unlink.
before=$(temporaries)
for spec in "unlink 1 mutex segment linked" \
    "unlink 1 sem segment linked" \
    "fallocate 2 sem semaphore file reserved" \
    "unlink 2 sem semaphore file linked"; do
	set -- $spec
	call=$1 nth=$2 kind=$3
	shift 3
	what="$*, $kind"
	if ! held "$call" "$nth" 10 --lock="$kind" -n 100; then
		fail "$what: the run was held at $call #$nth"
		continue
	fi
	left=$(objects_of "$parent")
	kill_held
	[ -n "$left" ]
	ok $? "$what: killed there, it left ${left:-nothing} in /dev/shm"
	pc --lock="$kind" -n 10
	is "$rc" 0 "$what: the next run succeeds"
	is "$(objects_of "$parent")" "" "$what: the next run removed them"
done
is "$(temporaries)" "$before" "no anonymous sem.XXXXXX left by a kill"

# The semaphore is made under its own name, without glibc's temporary.
strace -f -o trace -e trace=link,linkat,openat "$PROCCOUNT" --lock=sem -n 10 \
    >/dev/null 2>&1
is "$(grep -c 'link' trace)" 0 "the semaphore is made without link()"
is "$(grep -c '"/dev/shm/sem\.[A-Za-z0-9]\{6\}"' trace)" 0 \
    "nor a sem.XXXXXX temporary"

# The next run of the file backend cleans up too.
held unlink 1 10 --lock=mutex -n 100
kill_held
pc -b file --lock=flock -n 10
is "$rc:$(objects_of "$parent")" "0:" "a file backend run removes them too"

# A live run's objects are never removed by another: held with its names
# in /dev/shm, other runs come and go, and then it completes, exact.
for spec in "unlink 1 mutex" "unlink 2 sem"; do
	set -- $spec
	held "$1" "$2" 5 --lock="$3" -i 2 -d 2 -n 2000 --json
	live=$(objects_of "$parent")
	for i in 1 2 3; do
		timeout -s KILL 60 "$PROCCOUNT" --lock="$3" -n 10 >/dev/null 2>&1
	done
	is "$(objects_of "$parent")" "$live" "$3: the objects of a live run stay ($live)"
	wait $tracer
	is "$?" 0 "$3: the held run then completes"
	grep '^{' held.out >out
	is "$(json 'd["final"], d["correct"]')" "(0, True)" "$3: and is exact"
	is "$(objects_of "$parent")" "" "$3: and removes its own"
done

# The names another run removes: those of a process that is gone, is a
# zombie, or has the PID but started at another time.  Not those of a live
# process, nor names that are not proccount's.
start_of() {
	sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f20
}
gone=$(sh -c 'echo $$')
sh -c 'sleep 0.2 & exec sleep 30' &
zombie_parent=$!
sleep 1
zombie=$(pgrep -P $zombie_parent)
running "$zombie"
is "$?" 1 "a zombie to name"
me=$$
mine=$(start_of $me)
names="proccount-$gone-1234-0 sem.proccount-$gone-1234-1-sem
proccount-$zombie-$(start_of "$zombie")-0 proccount-$me-$((mine + 1))-0
proccount-$me-$mine-0 sem.proccount-$me-$mine-1-sem
proccount-$gone-7 proccount-$gone-1234-0-x proccount-floor-$gone"
for name in $names; do
	: >"/dev/shm/$name"
done
pc -n 10
removed="" kept=""
for name in $names; do
	if [ -e "/dev/shm/$name" ]; then
		kept="$kept $name"
		rm -f "/dev/shm/$name"
	else
		removed="$removed $name"
	fi
done
is "$removed" " proccount-$gone-1234-0 sem.proccount-$gone-1234-1-sem proccount-$zombie-$(start_of "$zombie")-0 proccount-$me-$((mine + 1))-0" \
    "removed: a gone process's, a zombie's, a reused PID's"
is "$kept" " proccount-$me-$mine-0 sem.proccount-$me-$mine-1-sem proccount-$gone-7 proccount-$gone-1234-0-x proccount-floor-$gone" \
    "kept: a live process's, and names that are not proccount's"
kill $zombie_parent
wait $zombie_parent 2>/dev/null

done_testing
