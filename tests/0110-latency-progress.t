#!/bin/sh
# --latency's wait and hold percentiles, and the progress line that a run
# longer than a second shows on a terminal, and only there.
. "$(dirname "$0")/lib.sh"

for spec in "shm mutex" "shm sem" "shm spin" "file flock" "file ofd"; do
	set -- $spec
	pc -b "$1" --lock="$2" -i 2 -d 2 -n 2000 --latency --json
	is "$rc" 0 "$2 --latency: exit 0"
	is "$(json 'd["latency"]["wait"]["samples"], d["latency"]["hold"]["samples"], d["updates"]')" \
	    "(8000, 8000, 8000)" "$2: one wait and one hold sample an update"
	for what in wait hold; do
		is "$(json '[d["latency"]["'$what'"][k] for k in ("p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns")] == sorted(d["latency"]["'$what'"][k] for k in ("p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns"))')" \
		    True "$2: $what percentiles in order"
	done
done
# A hold is at least the pause inside it.
pc -b shm --lock=mutex -i 1 -d 1 -n 20 --delay=2ms --latency --json
is "$(json 'd["latency"]["hold"]["p50_ns"] >= 2000000')" True \
    "--delay=2ms: the median hold is at least 2 ms"
is "$(json 'd["latency"]["wait"]["max_ns"] >= 1000000')" True \
    "and someone waited for it"
pc -b shm --lock=mutex -n 100 --latency
# Each percentile with its own unit: "p50 62.0 ns, ..., max 1.25 ms".
t='[0-9][0-9.]* [nmu]*s'
grep -Eq "^lock wait: p50 $t, p90 $t, p99 $t, p99\.9 $t, max $t\$" out
ok $? "the text report has the wait percentiles, each with its unit"
grep -Eq "^lock hold: p50 $t, p90 $t, p99 $t, p99\.9 $t, max $t\$" out
ok $? "and the hold percentiles"
# The text's hold times are the JSON's, in a unit a person reads.
pc -b shm --lock=mutex -n 100 --delay=2ms --latency
grep -Eq '^lock hold: p50 2\.[0-9][0-9] ms, ' out
ok $? "--delay=2ms: the text's median hold reads 2.xx ms"
pc -b shm --lock=atomic -n 100 --latency --json
is "$(json 'd["latency"]["wait"]["samples"]')" 0 "atomic: no lock, no samples"
pc -b shm --lock=mutex -n 100 --json
is "$(json '"latency" in d')" False "no latency without --latency"

# The progress line: on a terminal, after a second, erased at the end.
if command -v script >/dev/null; then
	term() {
		timeout -s KILL 30 script -qec "$*" /dev/null >tty.out 2>&1
	}
	term "$PROCCOUNT" --lock=mutex -t 1.6s
	shown=$(grep -o 's left' tty.out | wc -l | tr -d ' ')
	[ "$shown" -ge 1 ] && [ "$shown" -le 7 ]
	ok $? "a 1.6 s run on a terminal shows progress, at most 10 a second ($shown)"
	grep -q '[0-9]* updates, [0-9]*/s, [0-9]* s left' tty.out
	ok $? "with updates, rate and time left"
	printf '\r\033[K' >erase
	grep -qF "$(cat erase)shm " tty.out
	ok $? "erased before the report"
	term "$PROCCOUNT" --lock=mutex -t 1.5s --json
	is "$(grep -c 's left' tty.out)" 0 "not with --json"
	term "$PROCCOUNT" --lock=mutex -t 1.5s -q
	is "$(grep -c 's left' tty.out)" 0 "not with -q"
	term "$PROCCOUNT" --lock=mutex -t 0.5s
	is "$(grep -c 's left' tty.out)" 0 "not in a run under a second"
	term "$PROCCOUNT" bench -l mutex -w 1,2 -t 100ms -r 1
	grep -q '\[2/2\] shm mutex, 2 workers: run 1 of 1' tty.out
	ok $? "bench shows which cell it is on"
else
	for i in 1 2 3 4 5 6 7; do skip "no script(1) for a terminal"; done
fi
pc --lock=mutex -t 1.5s
is "$(lines err)" 0 "no progress when stderr is not a terminal"

done_testing
