#!/bin/sh
# Soak: short runs of every lock kind of both backends, as processes and as
# threads, each killed at a random moment, most often early, while the
# counter is being made: the parent with SIGKILL, one worker (processes
# only: a signal to a thread kills its whole process), or the whole process
# group.  After each kill:
#
#  - no process of the run is left running;
#  - /dev/shm holds nothing of the run once the next run has started.  A
#    run killed between creating an object and unlinking its name leaves
#    the name; the next run of proccount, any run, removes it first thing
#    (see the shm backend in the manual), so the check runs one;
#  - the counter file, if the run got as far as making it, holds a number,
#    as Python's int(open(f).read()) reads it.
#
# Random moments seldom land in the microseconds between the counter
# file's creation and its first write, so a last run is held there by
# strace and killed.
#
# SOAK_SEED=n repeats a soak's moments; SOAK_ROUNDS=n runs it n times over.
. "$(dirname "$0")/lib.sh"

# counter_holds_number WHAT: the check on ./counter.txt.
counter_holds_number() {
	got=$(file_value counter.txt 2>/dev/null)
	case $got in
	-[0-9]*|[0-9]*) pass "$1: the counter file holds $got" ;;
	*)	fail "$1: the counter file holds a number"
		printf '#   it holds: "%s"\n' "$(head -c 40 counter.txt)" ;;
	esac
}

seed=${SOAK_SEED:-$(date +%s)}
rounds=${SOAK_ROUNDS:-1}
echo "# SOAK_SEED=$seed SOAK_ROUNDS=$rounds"

kinds="file:flock file:fcntl file:ofd file:none shm:mutex shm:sem shm:spin shm:atomic shm:none"
runs=0
for kind in $kinds; do
	runs=$((runs + 5))
done
runs=$((runs * rounds))
# The moments, in seconds: squared, so that half fall in the first 60 ms.
awk -v seed="$seed" -v n="$runs" 'BEGIN {
	srand(seed)
	for (i = 0; i < n; i++) { r = rand(); printf "%.3f\n", r * r * 0.25 }
}' >moments

objects_of() {
	ls /dev/shm 2>/dev/null | grep "^\(sem\.\)\{0,1\}proccount-$1-" | tr '\n' ' ' | sed 's/ $//'
}

# Processes of group $1 still running (zombies are dead: not counted).
group_running() {
	for p in $(pgrep -g "$1"); do
		running "$p" && printf '%s ' "$p"
	done
}

# The shell says "Killed" of each run it reaps outside wait; the loop's
# stderr is kept apart, and shown without those words.
i=0
round=0
while [ $round -lt "$rounds" ]; do
	round=$((round + 1))
	for spec in $kinds; do
		backend=${spec%:*} kind=${spec#*:}
		for how in "processes parent" "processes worker" "processes group" \
		    "threads parent" "threads group"; do
			set -- $how
			as=$1 target=$2
			i=$((i + 1))
			moment=$(sed -n "${i}p" moments)
			args="-b $backend --lock=$kind -i 2 -d 2 -t 300ms"
			[ "$as" = threads ] && args="$args -T"
			what="$backend $kind, $as, $target killed at ${moment}s"
			rm -f counter.txt

			# A process group of its own, led by proccount.
			perl -e 'setpgrp(0, 0); exec @ARGV or die' \
			    "$PROCCOUNT" $args >out 2>err &
			pid=$!
			# The moment counts from proccount's start, and its group.
			for try in $(seq 2000); do
				[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = proccount ] &&
				    break
				sleep 0.001
			done
			sleep "$moment"
			case $target in
			parent) kill -KILL "$pid" 2>/dev/null ;;
			group) kill -9 "-$pid" 2>/dev/null ;;
			worker)
				victim=$(pgrep -P "$pid" | head -n 1)
				if [ -n "$victim" ]; then
					kill -KILL "$victim" 2>/dev/null
				else
					# No worker yet, or none left: the parent.
					what="$what (no worker yet: the parent)"
					kill -KILL "$pid" 2>/dev/null
				fi ;;
			esac
			# A run with a dead worker ends by itself, as an abandoned lock
			# after 2 s at most; bounded here all the same.
			for try in $(seq 100); do
				running "$pid" || break
				sleep 0.1
			done
			if running "$pid"; then
				kill -9 "-$pid"
				fail "$what: the run ended within 10 s"
			fi
			wait "$pid"
			rc=$?
			case $target:$rc in
			worker:0|worker:1|worker:4|*:137) ;;
			*)	fail "$what: exit $rc, not a verdict or SIGKILL"
				sed 's/^/#   /' err ;;
			esac

			for try in $(seq 50); do
				left=$(group_running "$pid")
				[ -z "$left" ] && break
				sleep 0.1
			done
			is "$left" "" "$what: no process of the run left"
			[ -n "$left" ] && kill -KILL $left

			[ -e counter.txt ] && counter_holds_number "$what"

			# The next run removes what this one may have left.
			timeout -s KILL "$LIMIT" "$PROCCOUNT" -n 1 -q
			is "$(objects_of "$pid")" "" "$what: nothing of it in /dev/shm after the next run"
		done
	done
done 2>loop.err
grep -v '^Killed$' loop.err | sed 's/^/# /'

# The kill between the counter file's creation and its first write: strace
# holds the parent on entry to that write, the first pwrite64 of the run.
if strace -f -o /dev/null -e trace=getpid \
    -e inject=getpid:delay_enter=1000 true 2>/dev/null; then
	rm -f counter.txt trace
	timeout -s KILL "$LIMIT" strace -f -o trace -e trace=pwrite64 \
	    -e inject=pwrite64:delay_enter=10000000:when=1 \
	    "$PROCCOUNT" -b file --lock=flock -n 100 >/dev/null 2>&1 &
	tracer=$!
	for try in $(seq 200); do
		grep -q pwrite64 trace 2>/dev/null && break
		sleep 0.05
	done
	strace=$(pgrep -P $tracer -x strace)
	parent=$(pgrep -P "$strace" -x proccount)
	# The tracee takes its SIGKILL once strace, killed too, lets it go.
	kill -KILL "$parent" "$strace"
	wait $tracer 2>/dev/null
	# The first write goes to the file before it has a name.
	if [ -e counter.txt ]; then
		counter_holds_number "file, parent killed as it first writes the counter"
	else
		pass "file, parent killed as it first writes the counter: no file"
	fi
else
	skip "strace cannot trace and inject here (no ptrace?)"
fi

done_testing
