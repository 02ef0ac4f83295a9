#!/bin/sh
# --latency's wait and hold percentiles, from one update in every N timed
# as the manual's rule says, and what timing them cost; and the progress
# line that a run longer than a second shows on a terminal, and only there.
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
# The sampling rule: a counted run times every update of a worker up to
# 2047 updates, then one in 2, 4, ... 64 so that each worker times at
# least 1024 where it can; a timed run one in 64.  One update is timed in
# each run of N, so a worker that makes a multiple of N times exactly that
# many over N.
for spec in "1000 1" "2047 1" "2048 2" "4096 4" "65536 64" "1000000 64"; do
	set -- $spec
	pc -T --lock=spin -i 1 -d 2 -n "$1" --latency --json
	is "$rc:$(json 'd["latency"]["every"]')" "0:$2" "-n $1: one update in $2 timed"
	is "$(json 'd["latency"]["wait"]["samples"], d["latency"]["hold"]["samples"]')" \
	    "($((3 * ($1 / $2))), $((3 * ($1 / $2))))" "-n $1: samples as the rule says"
done
pc --lock=mutex -i 2 -d 1 -t 200ms --latency --json
is "$rc:$(json 'd["latency"]["every"]')" "0:64" "a timed run: one in 64"
is "$(json 'sum(w["updates"] // 64 for w in d["workers"]) <= d["latency"]["wait"]["samples"] <= sum(-(-w["updates"] // 64) for w in d["workers"])')" \
    True "a timed run: one sample in each run of 64 a worker made"
for what in wait hold; do
	is "$(json '[d["latency"]["'$what'"][k] for k in ("p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns")] == sorted(d["latency"]["'$what'"][k] for k in ("p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns"))')" \
	    True "a timed run: $what percentiles in order"
done

# What timing cost: each timed update's cost, measured alone, over all.
is "$(json 'd["latency"]["sample_ns"] > 0 and abs(d["latency"]["added_ns_per_update"] - d["latency"]["sample_ns"] * d["latency"]["wait"]["samples"] / d["updates"]) < 0.001')" \
    True "the time added is the cost of a sample times the samples"
# The TSC only where the kernel says it is stable and keeps time by it.
clock=clock_gettime
if [ "$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)" = tsc ] &&
    grep -m 1 '^flags' /proc/cpuinfo | grep -qw constant_tsc &&
    grep -m 1 '^flags' /proc/cpuinfo | grep -qw nonstop_tsc; then
	clock=tsc
fi
is "$(json 'd["latency"]["clock"]')" "$clock" "timed by $clock here"

pc -b shm --lock=mutex -n 100 --latency
# Each percentile with its own unit: "p50 62.0 ns, ..., max 1.25 ms".
t='[0-9][0-9.]* [nmu]*s'
grep -Eq "^lock wait: p50 $t, p90 $t, p99 $t, p99\.9 $t, max $t\$" out
ok $? "the text report has the wait percentiles, each with its unit"
grep -Eq "^lock hold: p50 $t, p90 $t, p99 $t, p99\.9 $t, max $t\$" out
ok $? "and the hold percentiles"
grep -Eq "^timed: 1 update in 1, 200 in all, by (the TSC|clock_gettime) at $t each; about $t an update \([0-9.]+%\)\$" out
ok $? "and what timing them added"
# The text's hold times are the JSON's, in a unit a person reads.
pc -b shm --lock=mutex -n 100 --delay=2ms --latency
grep -Eq '^lock hold: p50 2\.[0-9][0-9] ms, ' out
ok $? "--delay=2ms: the text's median hold reads 2.xx ms"
pc -b shm --lock=atomic -n 100 --latency --json
is "$(json 'd["latency"]["wait"]["samples"]')" 0 "atomic: no lock, no samples"
pc -b shm --lock=atomic -n 100 --latency
is "$(grep -c '^lock wait and hold: none, there is no lock$' out):$(grep -c '^timed' out)" \
    "1:0" "atomic: the text says there is no lock to time"
pc -b shm --lock=mutex -n 100 --json
is "$(json '"latency" in d')" False "no latency without --latency"
pc -b shm --lock=mutex -n 100
is "$(grep -c '^lock \|^timed' out)" 0 "nor in the text"

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
