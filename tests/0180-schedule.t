#!/bin/sh
# --schedule: the workers take their steps in the order given, every run,
# so that what a schedule loses is known by construction; a lock refuses
# the steps it forbids, says who waited for whom, and runs them in the
# order it allows, exact; random:SEED makes a schedule that replays; a
# malformed schedule is a usage error that names its step.  No run may
# hang: every one is bounded by lib.sh's timeout.
. "$(dirname "$0")/lib.sh"

LIMIT=30

# simulate SCHEDULE INCS DECS N START: the final value the unguarded
# read and write make when the schedule repeats until every worker made
# N updates, a finished worker's steps skipped; computed here, apart from
# the program.
simulate() {
	python3 -c 'import sys
steps = [(int(s[:-1]) - 1, s[-1]) for s in sys.argv[1].replace(",", " ").split()]
incs, decs, n, value = (int(a) for a in sys.argv[2:6])
delta = [1] * incs + [-1] * decs
reads, writes, seen = [0] * len(delta), [0] * len(delta), [0] * len(delta)
while min(writes) < n:
    for w, kind in steps:
        if kind == "r" and reads[w] < n:
            reads[w] += 1
            seen[w] = value
        elif kind == "w" and writes[w] < n:
            writes[w] += 1
            value = seen[w] + delta[w]
print(value)' "$@"
}

# scheduled NAME SCHEDULE INCS DECS N START ARGS...: a run without a lock
# ends at the simulated value, each worker made its N updates, the steps
# ran as asked, and the exit status says whether the count was exact.
scheduled() {
	name=$1 schedule=$2 incs=$3 decs=$4 n=$5 start=$6
	shift 6
	want=$(simulate "$schedule" "$incs" "$decs" "$n" "$start")
	pc -i "$incs" -d "$decs" -n "$n" -s "$start" --schedule="$schedule" \
	    --json "$@"
	exact=$((start + (incs - decs) * n))
	status=1
	[ "$want" -eq "$exact" ] && status=0
	# The final value, the expected one, each worker's updates, the
	# waits, the steps that ran and whether all are in the log.
	is "$rc:$(json 'd["final"], d["expected"], sorted(set(w["updates"] for w in d["workers"])), d["schedule"]["waits_total"], d["schedule"]["steps"], d["schedule"]["ran_whole"]')" \
	    "$status:($want, $exact, [$n], 0, $((2 * n * (incs + decs))), True)" \
	    "$name: ends at $want, every worker made $n updates, every step ran, nobody waited"
}

for as in "" -T; do
	for backend in shm file; do
		what="$backend${as:+ threads}"
		scheduled "$what 1r 2r 1w 2w" '1r 2r 1w 2w' 1 1 1 0 -b $backend $as
		is "$(json 'd["schedule"]["ran"], d["final"]')" "('1r 2r 1w 2w', -1)" \
		    "$what: the increment is lost: -1"
		scheduled "$what 1r 1w 2r 2w" '1r 1w 2r 2w' 1 1 1 0 -b $backend $as
		is "$(json 'd["final"]')" 0 "$what: one after the other: 0"
		# Each round both read, and the first writer's update is lost.
		scheduled "$what -n 3, the first writer's update lost each round" \
		    '1r 2r 1w 2w' 1 1 3 5 -b $backend $as
		is "$(json 'd["final"]')" 2 "$what: 5 - 3 = 2"
		scheduled "$what 2r 1r 2w 1w" '2r 1r 2w 1w' 1 1 3 5 -b $backend $as
		is "$(json 'd["final"]')" 8 "$what: the decrements lost: 5 + 3 = 8"
	done
done

# Uneven cycles: worker 2 has two updates a cycle, and runs out first.
scheduled "two updates a cycle for worker 2" '1r 2r 2w 2r 2w 1w' 1 1 3 0
is "$(json 'd["schedule"]["ran"]')" \
    "1r 2r 2w 2r 2w 1w 1r 2r 2w 1w 1r 1w" "a finished worker's steps are skipped"
scheduled "three workers, commas" '1r,2r,3r,1w,2w,3w' 2 1 2 0
is "$(json 'd["final"]')" -2 "three workers: only the decrement lands: -2"
scheduled "a cycle longer than the run" '1r 1w 1r 1w 2r 2w 2r 2w' 1 1 1 0
scheduled "4 workers, 5 updates" '4r 1r 3r 1w 2r 3w 2w 4w' 2 2 5 -7

for as in "" -T; do
	pc $as --lock=atomic -n 3 --schedule='1r 2r 1w 2w' --json
	is "$rc:$(json 'd["final"], d["schedule"]["ran"], d["schedule"]["waits_total"]')" \
	    "0:(0, '1r 2r 1w 2w 1r 2r 1w 2w 1r 2r 1w 2w', 0)" \
	    "atomic$as: the same steps, and the add cannot lose"
done

# The report, after the timeline a scheduled run prints before it.
report() {
	sed -n '/^\(file\|shm\) .*: [0-9]* incrementer/,$p' out
}

pc -n 3 --schedule='1r 2r 1w 2w'
is "$rc" 1 "text: exit 1"
is "$(report | sed -n 2p)" "schedule: 1r 2r 1w 2w (repeated: 12 steps in all)" \
    "text: the schedule, and that it repeated"
grep -q '^final -3, expected 0: off by -3, updates were lost$' out
ok $? "text: the verdict"
# A schedule is traced: its timeline, and the exact count of what it lost.
is "$(grep -c '<- overwrote inc#[123] ([-0-9]*->[-0-9]*): lost$' out)" 3 \
    "text: the timeline marks each write that made a loss"
grep -q '^traced: 3 updates lost: 3 increments, 0 decrements; drift -3$' out
ok $? "text: the trace counts the three increments lost"
for as in "" -T; do
	for spec in "file none" "file flock" "shm none" "shm mutex" "shm spin" "shm atomic"; do
		set -- $spec
		pc $as -b $1 --lock=$2 -i 1 -d 1 -n 4 --schedule='1r 2r 1w 2w' --json
		# Without a lock each round loses the increment; with one, or
		# with the atomic add, nothing.
		lost=4; [ $2 = none ] || lost=0
		is "$(json 'd["trace"]["lost"], d["trace"]["lost_increments"], d["trace"]["lost_decrements"], d["drift"] == d["trace"]["lost_decrements"] - d["trace"]["lost_increments"]')" \
		    "($lost, $lost, 0, True)" "$1 $2${as:+ threads}: the schedule's run traced, $lost lost"
	done
done
# -s keep: the start is known only when the run begins, so the schedule's
# run is traced only when --trace asks.
printf '%-20s\n' 100 >counter.txt
pc -b file -s keep -n 1 --schedule='1r 2r 1w 2w'
is "$rc:$(grep -c '^ *t(us)\|^traced: ' out):$(file_value counter.txt)" "1:0:99" \
    "-s keep: the schedule's run is not traced"
pc -b file -s keep -n 1 --schedule='1r 2r 1w 2w' --trace
is "$rc:$(grep -c '^ *t(us)\|^traced: 1 update lost: 1 increment, 0 decrements; drift -1$' out):$(file_value counter.txt)" \
    "1:2:98" "-s keep with --trace: the timeline, and the exact count"
rm -f counter.txt

# Two incrementers: the names say whose update, and say it once.
pc -i 2 -d 0 -n 1 --schedule='1r 2r 1w 2w'
grep -qx '  inc#1 of worker 2 wrote 1 over inc#1 of worker 1 (0->1), which nobody read: lost' out
ok $? "text: an update of one of two incrementers named with its worker, once"
pc -n 3 --schedule='1r 2r 1w 2w' -q
is "$rc" 1 "-q: not refused, as --trace -q is: the loss's exit status"
grep -q "^ *t(us)" out
is "$?" 1 "-q: no timeline"

# Every locked kind, as processes and as threads: worker 2 cannot take
# the lock worker 1 holds; it waits, and the count is exact.
for as in "" -T; do
	for kind in flock fcntl ofd mutex sem spin; do
		what="$kind${as:+ threads}"
		# fcntl's lock belongs to the process: its threads share it.
		[ "$what" = "fcntl threads" ] && continue
		pc $as --lock=$kind -n 2 --schedule='1r 2r 1w 2w' --json
		is "$rc:$(json 'd["final"], d["correct"], [w["updates"] for w in d["workers"]], d["schedule"]["asked"], d["schedule"]["ran"], d["schedule"]["waits"], d["schedule"]["waits_total"]')" \
		    "0:(0, True, [2, 2], '1r 2r 1w 2w', '1r 1w 2r 2w 1r 1w 2r 2w', [{'worker': 2, 'holder': 1, 'after': 1}, {'worker': 2, 'holder': 1, 'after': 5}], 2)" \
		    "$what: exact, in the order the lock imposed; who waited for whom, after which step"
		pc $as --lock=$kind -n 1 --schedule='1r 2r 1w 2w'
		is "$rc" 0 "$what text: exit 0"
		is "$(report | sed -n '2,4p' | tr '\n' '|')" \
		    "schedule: 1r 2r 1w 2w|worker 2 waits for the lock held by worker 1|the lock imposed this order: 1r 1w 2r 2w|" \
		    "$what text: the wait and the order"
		[ $kind = mutex ] || [ $kind = sem ] || [ $kind = spin ] || continue
		is "$(shm_left "$(sed -n 's/^shm \([^,]*\),.*/\1/p' out)")" "" \
		    "$what: /dev/shm clean"
	done
done

# A lock that excludes nobody forbids nothing: the update is lost.
for what in "-T --lock=fcntl" "--lock=flock --share-fd" "--lock=ofd --share-fd" \
    "-T --lock=flock --share-fd"; do
	pc $what -n 2 --schedule='1r 2r 1w 2w' --json
	is "$rc:$(json 'd["final"], d["excludes"], d["schedule"]["ran"], d["schedule"]["waits_total"]')" \
	    "1:(-2, False, '1r 2r 1w 2w 1r 2r 1w 2w', 0)" "$what: no exclusion, as asked"
done

# Waits for a lock that changes hands; steps deferred behind a refused
# read; a write owed is taken before the schedule goes on.
pc --lock=mutex -i 2 -d 1 -n 1 --schedule='1r 2r 3r 1w 2w 3w' --json
is "$rc:$(json 'd["schedule"]["ran"], [(w["worker"], w["holder"]) for w in d["schedule"]["waits"]]')" \
    "0:('1r 1w 2r 2w 3r 3w', [(2, 1), (3, 1), (3, 2)])" "three workers, one lock"
pc --lock=sem -n 1 --schedule='1r 2r 2w 1w' --json
is "$rc:$(json 'd["schedule"]["ran"]')" "0:1r 1w 2r 2w" "a deferred read brings its write"
pc -T --lock=spin -n 2 --schedule='1r 2r 2w 2r 2w 1w' --json
is "$rc:$(json 'd["final"], d["schedule"]["ran"]')" \
    "0:(0, '1r 1w 2r 2w 2r 2w 1r 1w')" "a worker owed several steps takes them in order"

# random:SEED: every step of the run, the same on every machine and run.
pc -n 3 --schedule=random:42 --json
first=$(json 'd["schedule"]["asked"], d["schedule"]["seed"], d["final"]')
is "$first" "('1r 2r 2w 1w 1r 2r 1w 2w 1r 2r 2w 1w', 42, 1)" \
    "random:42 makes the same schedule everywhere"
for as in "" -T; do
	for seed in 1 7 1234567890123; do
		pc $as -i 2 -d 2 -n 4 --schedule=random:$seed --json
		one="$rc $(json 'd["final"], d["schedule"]["asked"], d["schedule"]["ran"]')"
		asked=$(json 'd["schedule"]["asked"]')
		pc $as -i 2 -d 2 -n 4 --schedule=random:$seed --json
		is "$rc $(json 'd["final"], d["schedule"]["asked"], d["schedule"]["ran"]')" \
		    "$one" "random:$seed$as twice: the same"
		pc $as -i 2 -d 2 -n 4 --schedule="$asked" --json
		is "$rc $(json 'd["final"], d["schedule"]["asked"], d["schedule"]["ran"]')" \
		    "$one" "random:$seed$as replayed from its string: the same"
		is "$(json 'd["final"]')" "$(simulate "$asked" 2 2 4 0)" \
		    "random:$seed$as: the value the steps make"
		pc $as -i 2 -d 2 -n 4 --lock --schedule=random:$seed --json
		is "$rc:$(json 'd["final"], d["schedule"]["asked"]')" "0:(0, '$asked')" \
		    "random:$seed$as with a lock: exact"
	done
done

# Replayed, a random schedule's trace is the same, update for update: who
# read which write, what each read and wrote, and which were lost; only
# the pids and the times differ.
trace_of() {
	python3 -c 'import csv, sys
for r in csv.DictReader(open(sys.argv[1])):
    print(*(r[k] for k in ("worker", "number", "tag", "read_tag", "read", "wrote", "overwrote", "lost")))' "$1"
}
for as in "" -T; do
	for backend in shm file; do
		pc $as -b $backend -i 2 -d 1 -n 3 --schedule=random:99 --trace=a.csv --json
		asked=$(json 'd["schedule"]["asked"]')
		pc $as -b $backend -i 2 -d 1 -n 3 --schedule="$asked" --trace=b.csv --json
		is "$(trace_of b.csv)" "$(trace_of a.csv)" \
		    "random:99 $backend${as:+ threads}: the replay's trace is the same"
		is "$(trace_of a.csv | wc -l)" 9 \
		    "random:99 $backend${as:+ threads}: a record an update"
	done
done
pc -n 3 --schedule=random:42
is "$(report | sed -n 2p)" "schedule random:42: 1r 2r 2w 1w 1r 2r 1w 2w 1r 2r 2w 1w" \
    "text: the seed and the schedule it made"

# A stop reaches workers waiting for their turn: the run ends, exact.
for as in "" -T; do
	"$PROCCOUNT" $as --lock=mutex -n 1000000 --schedule='1r 2r 1w 2w' \
	    --json >out 2>err &
	pid=$!
	sleep 0.3
	kill -TERM $pid
	wait $pid
	is "$?:$(json 'd["interrupted"], d["final"] == d["expected"]')" \
	    "143:(True, True)" "SIGTERM$as ends a scheduled run"
done


usage_error "step 3, '3r': there is no worker 3: the run's workers are 1 to 2" \
    --schedule='1r 2r 3r 1w 2w 3w'
usage_error "step 2, '2r': there is no worker 2: the run has one, worker 1" \
    -b file -d 0 --schedule='1r 2r 1w 2w'
usage_error "step 1, '0r': there is no worker 0" -b file --schedule='0r 0w'
usage_error "step 1, '1w': worker 1 writes before it reads" -b file --schedule='1w 1r 2r 2w'
usage_error "step 5, '2w': worker 2 writes before it reads" --schedule='1r 1w 2r 2w 2w'
usage_error "step 2, '1r': worker 1 reads again before it writes" --schedule='1r 1r 2r 2w'
usage_error "step 3, '2r': worker 2 reads, and no write follows" --schedule='1r 1w 2r'
usage_error "worker 2 has no step" --schedule='1r 1w'
usage_error "--schedule: no step" -b file --schedule=
usage_error "--schedule: no step" --schedule=' , , '
usage_error "step 2, '2x', is not a step" -b file --schedule='1r 2x 1w 2w'
usage_error "step 1, 'r1', is not a step" --schedule='r1 1w'
usage_error "step 1, '1R', is not a step" --schedule='1R 1w 2r 2w'
usage_error "step 3, '2rw', is not a step" --schedule='1r 1w 2rw'
usage_error "more than 10000 steps" --schedule="$(python3 -c 'print("1r 1w " * 5000 + "2r 2w")')"
usage_error "random:1 lists every step of the run, and 2 workers x 100000 updates make 400000 steps, more than the 10000 a schedule holds: give -n 2500 or less" \
    --schedule=random:1
usage_error "'random:x': the seed must be a number" --schedule=random:x
usage_error "the seed must be a number" --schedule=random:
usage_error "the seed must be a number" --schedule=random:18446744073709551616
usage_error "--schedule and --duration" -t 1s --schedule='1r 1w 2r 2w'
usage_error "--schedule and --crash" --crash=1 --schedule='1r 1w 2r 2w'
pc -n 1 --schedule=random:18446744073709551615 --json
is "$(json 'd["schedule"]["seed"]')" 18446744073709551615 "the largest seed is a seed"

done_testing
