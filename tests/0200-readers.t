#!/bin/sh
# Readers: --readers=N more workers that only read the counter, under a
# shared lock (flock LOCK_SH, fcntl and OFD F_RDLCK, the rwlock kind's read
# lock), under the only lock of a kind that has no shared mode, by an
# atomic load, or by a plain load.  They read until the writers are done;
# they count in no verdict, and every read is checked: under a lock none
# is impossible.  Nothing here asserts that a reader starves a writer, or
# that an unguarded read is torn.
. "$(dirname "$0")/lib.sh"

# locked NAME ARGS...: with 2 readers beside 2 + 2 writers, the count is
# exact, every writer made its updates, the readers read and found nothing
# impossible, and the JSON says so in its places.
locked() {
	name=$1
	shift
	pc -i 2 -d 2 -r 2 -n 2000 "$@" --json
	is "$rc:$(json 'd["correct"], d["final"], d["expected"], d["updates"]')" \
	    "0:(True, 0, 0, 8000)" "$name: exact"
	is "$(json '[(w["role"], w["updates"]) for w in d["workers"]]')" \
	    "[('inc', 2000), ('inc', 2000), ('dec', 2000), ('dec', 2000), ('read', 0), ('read', 0)]" \
	    "$name: the writers made their updates, the readers none"
	is "$(json 'd["readers"]["count"], d["readers"]["reads"] >= 2, d["readers"]["impossible"]')" \
	    "(2, True, 0)" "$name: every reader read, none impossibly"
	is "$(json 'd["readers"]["reads"] == sum(w["reads"] for w in d["workers"] if w["role"] == "read") and sum(w["impossible"] for w in d["workers"] if w["role"] == "read") == 0')" \
	    True "$name: the readers' own counts add up"
}

for kind in flock fcntl ofd; do
	locked "file $kind processes" -b file --lock=$kind
done
# fcntl locks belong to the process: its threads are not excluded.
for kind in flock ofd; do
	locked "file $kind threads" -b file --lock=$kind -T
done
for kind in mutex rmutex sem spin rwlock; do
	locked "shm $kind processes" -b shm --lock=$kind
	locked "shm $kind threads" -b shm --lock=$kind -T
done
locked "shm atomic processes" -b shm --lock=atomic
locked "shm atomic threads" -b shm --lock=atomic -T
for prefer in readers writers; do
	locked "rwlock --prefer=$prefer" --lock=rwlock --prefer=$prefer
	is "$(json 'd["readers"]["prefer"]')" "$prefer" \
	    "rwlock --prefer=$prefer: in the JSON"
	segment=$(json 'd["path"]')
	is "$(shm_left "$segment")" "" "rwlock --prefer=$prefer: /dev/shm clean"
done

# Every reader reads at least once, however soon the writers are done.
pc --lock=atomic -T -i 1 -d 0 -r 8 -n 1 --json
is "$rc:$(json '[w["reads"] >= 1 for w in d["workers"] if w["role"] == "read"]')" \
    "0:[True, True, True, True, True, True, True, True]" "every reader reads once at least"

# Without a lock: whatever the readers saw is reported, and the verdict
# counts only the writers.
pc -b file -i 1 -d 1 -r 1 -n 2000 --json
is "$rc:$(json 'd["readers"]["reads"] > 0, d["readers"]["impossible"] >= 0, d["readers"]["prefer"]')" \
    "$rc:(True, True, None)" "file, no lock: reads are reported"
is "$(json 'd["expected"] == sum(w["updates"] * {"inc": 1, "dec": -1, "read": 0}[w["role"]] for w in d["workers"])')" \
    True "file, no lock: the readers count in no expected value"
case $rc in 0|1) pass "file, no lock: exit $rc" ;; *) fail "file, no lock: exit $rc" ;; esac

# The text: the header, the reads, and with -v each reader by role.
pc --lock=rwlock -i 1 -d 1 -r 2 -n 1000 -v --latency
is "$rc" 0 "text: exit 0"
grep -q "^shm /proccount-[0-9-]*, read-write lock: 1 incrementer + 1 decrementer + 2 readers x 1000 updates$" out
ok $? "text: the header names the readers"
grep -q "^2 readers: [0-9]* reads in [0-9.]* [mun]*s, [0-9]*/s; 0 impossible$" out
ok $? "text: reads, reads per second, none impossible"
grep -q "^readers' lock wait: p50 " out
ok $? "text: the readers' waits beside the writers'"
is "$(grep -c "^worker [0-9]* read: [0-9]* reads, 0 impossible, exited" out)" 2 \
    "text: -v lists both readers"

# JSON with --latency: the writers' and the readers' histograms apart.
pc --lock=mutex -i 1 -d 1 -r 1 -n 1000 --latency --json
is "$rc:$(json 'd["latency"]["wait"]["samples"] > 0, d["latency"]["read_wait"]["samples"] == d["latency"]["read_hold"]["samples"] <= d["readers"]["reads"]')" \
    "0:(True, True)" "--latency: the readers' own waits in the JSON"
# Without --readers there is no readers key.
pc --lock=mutex -n 10 --json
is "$rc:$(json '"readers" in d')" "0:False" "no --readers: no readers key"

# A writer dead holding the rwlock leaves it held for good: abandoned,
# like a semaphore, and the readers wait for it too.
for as in "" -T; do
	pc --lock=rwlock -i 2 -d 1 -r 2 -n 1000 --crash=10 $as --json
	is "$rc:$(json 'd["deadlock"], d["abandoned"], d["correct"]')" \
	    "4:(False, True, True)" "rwlock --crash $as: abandoned, exit 4"
	segment=$(json 'd["path"]')
	is "$(shm_left "$segment")" "" "rwlock --crash $as: /dev/shm clean"
done

# --timeout bounds a reader's wait too; --try is only the writers'.
pc --lock=rwlock -i 1 -d 0 -r 1 -n 50 --hold=1ms --crash=2 --timeout=200ms --json
is "$rc:$(json '[(w["role"], w["end"]) for w in d["workers"]]')" \
    "4:[('inc', 'killed by signal 9'), ('read', 'timed out')]" \
    "--timeout: the reader gives up on the abandoned rwlock too"
locked "rwlock --try" --lock=rwlock --try
locked "flock --try" -b file --lock=flock --try


usage_error "--readers and --schedule: a schedule orders updates, and readers make none" -r 1 --lock --schedule='1r 1w 2r 2w'
usage_error "--readers and --trace: the trace records updates, and readers make none" -r 1 --trace
usage_error "--prefer is for --lock=rwlock; --lock=mutex has no readers' and writers' turns" --lock=mutex -r 1 --prefer=writers
usage_error "--prefer is for --lock=rwlock; --lock=none has no readers' and writers' turns" -r 1 --prefer=readers
usage_error "--prefer 'both': choose readers or writers" --lock=rwlock --prefer=both
usage_error "--readers 'x'" --readers=x
usage_error "4097 workers: at most 4096 in all" -i 1 -d 1 -r 4095

done_testing
