#!/bin/sh
# Without a lock updates may be lost, or not: a race is not promised.  What
# is promised is that the report tells the truth about what happened: the
# final value is the one in the counter, the drift is final - expected, and
# the exit status is 1 exactly when they differ.
. "$(dirname "$0")/lib.sh"

truthful() {
	name=$1
	shift
	pc "$@" --json
	valid_json
	ok $? "$name: valid JSON"
	case $rc in
	0) is "$(json 'd["drift"] == 0 and d["correct"]')" True "$name: exit 0 means no drift" ;;
	1) is "$(json 'd["drift"] != 0 and not d["correct"]')" True "$name: exit 1 means drift" ;;
	*) fail "$name: exit $rc" ;;
	esac
	is "$(json 'd["final"] - d["expected"] == d["drift"]')" True \
	    "$name: drift is final - expected"
	is "$(json 'd["expected"] == d["start"] + sum(w["updates"] * (1 if w["role"] == "inc" else -1) for w in d["workers"])')" \
	    True "$name: expected comes from the updates made"
	is "$(json 'd["updates"]')" "$(( ($2 + $4) * $6 ))" "$name: every update was made"
}

truthful "file, no lock" -i 2 -d 2 -n 5000 -b file
is "$(file_value counter.txt)" "$(json 'd["final"]')" "file: final is what the file holds"
truthful "file, --lock=none" -i 1 -d 1 -n 5000 -b file --lock=none
truthful "file, no lock, with delay" -i 1 -d 1 -n 20 -b file --delay=1ms
truthful "shm, no lock" -i 1 -d 1 -n 200000 -b shm
truthful "shm, --lock=none" -i 4 -d 4 -n 50000 -b shm --lock=none
truthful "shm, no lock, with delay" -i 2 -d 2 -n 50 -b shm --delay=100us

# The text report says the same as the JSON.
pc -b shm -i 2 -d 2 -n 100000
if [ "$rc" -eq 1 ]; then
	grep -q '^final -\{0,1\}[0-9]*, expected 0: off by [-+][0-9]*, updates were lost$' out
	ok $? "text: a loss is reported as such"
else
	grep -q '^final 0, expected 0: correct$' out
	ok $? "text: no loss is reported as correct"
fi

done_testing
