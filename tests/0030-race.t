#!/bin/sh
# Without a lock updates may be lost, or not: a race is not promised.  What
# is promised is that the report tells the truth about what happened: the
# final value is the one in the counter, the drift is final - expected, and
# the exit status is 1 exactly when they differ.
. "$(dirname "$0")/lib.sh"

# truthful_race NAME -i I -d D -n N ...: truthful (lib.sh), and every
# update made.
truthful_race() {
	truthful "$@"
	is "$(json 'd["updates"]')" "$(( ($3 + $5) * $7 ))" "$1: every update was made"
}

truthful_race "file, no lock" -i 2 -d 2 -n 5000 -b file
is "$(file_value counter.txt)" "$(json 'd["final"]')" "file: final is what the file holds"
truthful_race "file, --lock=none" -i 1 -d 1 -n 5000 -b file --lock=none
truthful_race "file, no lock, with delay" -i 1 -d 1 -n 20 -b file --delay=1ms
truthful_race "shm, no lock" -i 1 -d 1 -n 200000 -b shm
truthful_race "shm, --lock=none" -i 4 -d 4 -n 50000 -b shm --lock=none
truthful_race "shm, no lock, with delay" -i 2 -d 2 -n 50 -b shm --delay=100us

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
