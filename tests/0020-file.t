#!/bin/sh
# The file backend: with each lock kind the final count is exact for any
# number of workers, the file keeps it in a form cat and Python read, and
# the report, text and JSON, says so truthfully.
. "$(dirname "$0")/lib.sh"

for kind in flock fcntl ofd; do
	for workers in "1 1" "2 2" "8 8" "3 0" "0 5" "7 2"; do
		set -- $workers
		pc -b file --lock=$kind -i "$1" -d "$2" -n 2000 -s 100 --json
		expected=$((100 + ($1 - $2) * 2000))
		is "$rc" 0 "$kind $1+$2: exit 0"
		is "$(json 'd["final"], d["expected"], d["correct"]')" \
		    "($expected, $expected, True)" "$kind $1+$2: exact"
		is "$(file_value counter.txt)" "$expected" \
		    "$kind $1+$2: the file holds it"
	done
done

# The default file kind is flock, and the file is 21 bytes: value, spaces,
# newline, whatever was in it before.  A file that holds no number is not
# a counter: it is replaced only when --force says so.
printf 'this was a much longer file than the record is, by far\n' >counter.txt
pc --backend=file --lock -n 1000 -s -7
is "$rc:$(lines out)" "3:0" "a file that holds no number: exit 3, no report"
is "$(cat err)" \
    "proccount: counter.txt: holds no number, so it is not a counter to reuse (--force replaces it)" \
    "the message says why, and what would replace it"
is "$(cat counter.txt)" "this was a much longer file than the record is, by far" \
    "the file is untouched"
pc --backend=file --lock -n 1000 -s -7 --force
is "$rc" 0 "bare --lock: exit 0"
is "$(head -n 1 out)" \
    "file counter.txt, flock lock: 1 incrementer + 1 decrementer x 1000 updates" \
    "bare --lock means flock for the file backend"
is "$(sed -n 2p out)" "final -7, expected -7: correct" "the verdict line"
is "$(wc -c <counter.txt | tr -d ' ')" 21 "the record is 21 bytes"
is "$(cat counter.txt | tr -d ' ')" "-7" "cat shows the value"
printf 'x' >old.txt
pc -b file -l fcntl -f old.txt -n 10 -i 3 -d 0 -s 5 --force
is "$(cat old.txt | tr -d ' ')" 35 "--force: a shorter old file is rewritten"

# The ends of the range: the record holds any 64-bit value.
pc -b file --lock=ofd -s 9223372036854775807 -i 0 -d 2 -n 10
is "$rc:$(file_value counter.txt)" "0:9223372036854775787" "down from the largest value"
pc -b file --lock=flock -s -9223372036854775808 -i 3 -d 0 -n 7
is "$rc:$(file_value counter.txt)" "0:-9223372036854775787" "up from the smallest value"
pc -b shm --lock=mutex -s -9223372036854775808 -i 1 -d 0 -n 5 --json
is "$rc:$(json 'd["final"]')" "0:-9223372036854775803" "shm: up from the smallest value"

# The short and long forms mean the same.
pc --backend=file --lock=ofd --incrementers=2 --decrementers=1 \
    --iterations=2k --start=1 --file=long.txt --json
is "$(json 'd["lock"], d["final"], d["path"], d["iterations"]')" \
    "('ofd', 2001, 'long.txt', 2000)" "long forms"
pc -b file -l ofd -i 2 -d 1 -n 2k -s 1 -f short.txt --json
is "$(json 'd["lock"], d["final"], d["path"], d["iterations"]')" \
    "('ofd', 2001, 'short.txt', 2000)" "short forms"

# JSON: valid, with every key, and values that agree with each other.
pc -b file -l flock -i 2 -d 3 -n 500 -s 10 --json
is "$rc" 0 "json run: exit 0"
valid_json
ok $? "--json prints valid JSON"
is "$(lines out)" 1 "--json prints one line"
for key in backend lock path incrementers decrementers iterations start \
    expected final drift correct updates elapsed_s ns_per_update workers \
    cpu_user_s cpu_system_s max_rss_kb fairness deadlock recovered \
    interrupted; do
	is "$(json "'$key' in d")" True "json has $key"
done
is "$(json 'd["backend"], d["lock"], d["incrementers"], d["decrementers"]')" \
    "('file', 'flock', 2, 3)" "json: what ran"
is "$(json 'd["start"], d["expected"], d["final"], d["drift"], d["updates"]')" \
    "(10, -490, -490, 0, 2500)" "json: the count"
is "$(json 'sorted((w["role"], w["updates"], w["end"]) for w in d["workers"])')" \
    "[('dec', 500, 'exited'), ('dec', 500, 'exited'), ('dec', 500, 'exited'), ('inc', 500, 'exited'), ('inc', 500, 'exited')]" \
    "json: one entry a worker"
is "$(json 'len(set(w["pid"] for w in d["workers"]))')" 5 "json: distinct pids"
# elapsed_s is printed to the nanosecond the program measured, and
# ns_per_update to 1e-6 ns: the quotient must match to that rounding.
is "$(json 'abs(d["ns_per_update"] - round(d["elapsed_s"] * 1e9) / d["updates"]) <= 0.5e-6 + 1e-9')" \
    True "json: ns_per_update is elapsed over updates"
grep -Eq '"elapsed_s":[0-9]+\.[0-9]{9},"ns_per_update":[0-9]+\.[0-9]{6},' out
ok $? "json: elapsed_s to the nanosecond, ns_per_update to 1e-6 ns"

# Quiet prints nothing on success; verbose adds a line a worker.
pc -b file -l flock -q -n 100
is "$rc:$(lines out):$(lines err)" "0:0:0" "--quiet: nothing on success"
pc -b file -q -n 20000 -i 2 -d 2
if [ "$rc" -eq 1 ]; then
	grep -q 'updates were lost' out
	ok $? "--quiet still reports a loss"
else
	is "$rc:$(lines out)" "0:0" "--quiet: nothing when no update was lost"
fi
pc -b file -l flock -v -i 2 -d 1 -n 100
is "$(grep -c '^worker [0-9]* \(inc\|dec\): 100 updates, exited' out)" 3 \
    "--verbose: a line a worker"

# A path in another directory, with spaces, quoted properly in JSON.
mkdir -p 'a dir'
pc -b file -l flock -f 'a dir/the "count".txt' -n 10 --json
is "$(json 'd["path"]')" 'a dir/the "count".txt' "json: a path with quotes"
is "$(file_value 'a dir/the "count".txt')" 0 "the file in that directory"

done_testing
