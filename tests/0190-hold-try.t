#!/bin/sh
# How much to hold, and a lock only tried.  --hold (--delay, its other
# name) works inside the lock, --work after the update, outside it; the
# workers measure both, and the report gives the share of the run the lock
# was held and Amdahl's bound for the share held.  --try only tries the
# lock: a busy one is a miss, counted per worker, and the count is still
# exact.  Nothing here asserts that a miss happens.
. "$(dirname "$0")/lib.sh"

# tried NAME ARGS...: a run with --try is exact, its misses add up, and
# each worker made its updates.
tried() {
	name=$1
	shift
	pc --try -i 2 -d 2 -n 2000 --work=1us "$@" --json
	is "$rc:$(json 'd["correct"], d["final"] == d["expected"], d["try"]')" \
	    "0:(True, True, True)" "$name: exact"
	is "$(json 'd["misses"] == sum(w["misses"] for w in d["workers"]) and all(w["misses"] >= 0 for w in d["workers"])')" \
	    True "$name: the misses add up"
	is "$(json '[w["updates"] for w in d["workers"]]')" \
	    "[2000, 2000, 2000, 2000]" "$name: every worker made its updates"
}

for kind in flock fcntl ofd; do
	tried "file $kind processes" -b file --lock=$kind
done
# fcntl locks belong to the process: its threads are not excluded.
for kind in flock ofd; do
	tried "file $kind threads" -b file --lock=$kind -T
done
for kind in mutex rmutex sem spin; do
	tried "shm $kind processes" -b shm --lock=$kind
	tried "shm $kind threads" -b shm --lock=$kind -T
done

# With --hold the lock is held at least as long as the holds: each worker
# measures its own, which a sleep or a spin can only overshoot.
pc --lock -i 1 -d 1 -n 50 --hold=1ms --json
is "$rc:$(json 'd["hold_ns"], d["work_ns"], d["work_as"], d["worked_ns"]')" \
    "0:(1000000, 0, 'sleep', 0)" "--hold: in the JSON, sleeping by default"
is "$(json 'd["held_ns"] >= 100 * 1000000 and abs(d["held_share"] - d["held_ns"] / (d["elapsed_s"] * 1e9)) < 1e-5')" \
    True "--hold: held at least 100 x 1 ms, its share of the run"
is "$(json 'd["serial_share"], d["amdahl_best"], d["try"], d["misses"]')" \
    "(1.0, 1.0, False, None)" "--hold alone: all serial, Amdahl allows no gain"
pc --lock -i 1 -d 1 -n 50 --hold=1ms
grep -q "^lock held [0-9.]*% of the run, at least: the workers' --hold took [0-9.]* ms in all, in [0-9.]* ms$" out
ok $? "--hold: the text says how long the lock was held"
grep -qx "serial share 100.0% (--hold of --hold + --work): by Amdahl's law 2 workers are at most 1.00x as fast as one" out
ok $? "--hold: the text gives Amdahl's bound"

pc --delay=1ms --lock -n 10 --json
is "$rc:$(json 'd["hold_ns"], d["held_ns"] >= 20 * 1000000')" "0:(1000000, True)" \
    "--delay is --hold's other name"

# --work alone: nothing serial that the workers measured.
pc --lock=spin -i 2 -d 1 -n 50 --work=200us --json
is "$rc:$(json 'd["held_ns"], d["worked_ns"] >= 150 * 200000, d["serial_share"], d["amdahl_best"]')" \
    "0:(0, True, 0.0, 3.0)" "--work alone: outside the lock, Amdahl allows 3x for 3"

# Both: Amdahl's bound as the law gives it for the serial share measured.
pc --lock=flock -i 2 -d 2 -n 20 --hold=200us --work=600us --work-as=spin --json
is "$rc:$(json 'd["work_as"], abs(d["serial_share"] - d["held_ns"] / (d["held_ns"] + d["worked_ns"])) < 1e-5, abs(d["amdahl_best"] - 1 / (d["serial_share"] + (1 - d["serial_share"]) / 4)) < 1e-4')" \
    "0:('spin', True, True)" "--hold and --work: Amdahl's bound for the share"

# A spin works the CPU; a sleep does not.
pc --lock -i 1 -d 0 -n 10 --hold=20ms --work-as=sleep --json
is "$rc:$(json 'd["cpu_user_s"] + d["cpu_system_s"] < 0.1')" "0:True" \
    "--work-as=sleep: 200 ms held, little CPU"
pc --lock -i 1 -d 0 -n 10 --hold=20ms --work-as=spin --json
is "$rc:$(json 'd["cpu_user_s"] + d["cpu_system_s"] >= 0.05')" "0:True" \
    "--work-as=spin: 200 ms held, on the CPU"

# Without a lock there is no lock to hold: the share is not given, the
# work is still done.
pc -n 20 --hold=100us --work=100us --json
is "$(json 'd["held_share"], d["amdahl_best"], d["held_ns"] >= 40 * 100000, d["worked_ns"] >= 40 * 100000')" \
    "(None, None, True, True)" "no lock: work done, no share"
pc -n 20 --hold=100us
! grep -q "lock held" out
ok $? "no lock: no share in the text"

pc --lock=sem --try -n 100 --work=10us
grep -qE "^--try: [0-9]+ (try|tries) found the lock held \([0-9]+: [0-9]+, [0-9]+: [0-9]+\)$" out
ok $? "--try: the text gives the misses, per worker"


usage_error "--try only tries the lock, and a run without --lock has none to try" --try -b file
usage_error "--try only tries the lock, and --lock=atomic has none to try" --try --lock=atomic
usage_error "--try only tries the lock, and --lock=none has none to try" --try -b file --lock=none
usage_error "--try and --timeout: a worker that only tries the lock never waits" --try --lock --timeout=1s
usage_error "--try and --schedule: a schedule says when each worker tries the lock" --try --lock --schedule='1r 1w 2r 2w'
usage_error "--work-as 'cpu': choose sleep or spin" --work-as=cpu --work=1ms
usage_error "--work-as says how --hold and --work work, and neither is given" --work-as=spin --lock
usage_error "--work 'x'" --work=x
usage_error "--hold 'x'" --hold=x
usage_error "--hold '2m'" -b file --hold=2m

done_testing
