#!/bin/sh
# Many workers: 256 with every locked kind, the 4096 maximum, processes
# and threads, and eight runs at once on different counters; every count
# exact.
. "$(dirname "$0")/lib.sh"

for spec in "file flock" "file fcntl" "file ofd" "shm mutex" "shm sem" \
    "shm spin" "shm atomic"; do
	set -- $spec
	pc -b "$1" --lock="$2" -i 128 -d 128 -n 1000 -s 3 --json
	is "$rc" 0 "$2, 256 workers: exit 0"
	is "$(json 'd["final"], d["updates"], len(d["workers"])')" \
	    "(3, 256000, 256)" "$2, 256 workers: exact"
done

pc -b shm --lock=mutex -i 4000 -d 96 -n 10 --json
is "$rc:$(json 'd["final"], len(d["workers"])')" "0:(39040, 4096)" \
    "4096 workers, the most there may be"

# As threads of one process, the same.
for spec in "file flock" "file ofd" "shm mutex" "shm sem" "shm spin"; do
	set -- $spec
	pc -T -b "$1" --lock="$2" -i 128 -d 128 -n 200 -s 3 --json
	is "$rc:$(json 'd["final"], d["updates"], len(set(w["pid"] for w in d["workers"]))')" \
	    "0:(3, 51200, 256)" "$2, 256 threads: exact"
done
pc -T -b shm --lock=mutex -i 4000 -d 96 -n 10 --json
is "$rc:$(json 'd["final"], len(d["workers"]), d["as"]')" \
    "0:(39040, 4096, 'threads')" "4096 threads, the most there may be"

# Eight runs at once, each on its own counter, all exact.
i=0
for spec in "file flock" "file fcntl" "file ofd" "shm mutex" "shm sem" \
    "shm spin" "shm atomic" "file flock"; do
	set -- $spec
	i=$((i + 1))
	[ "$1" = file ] && set -- "$1" "$2" --file="count.$i"
	timeout -s KILL 120 "$PROCCOUNT" -b "$1" --lock="$2" -i 8 -d 4 -n 2000 \
	    --json ${3+"$3"} >"run.$i" 2>&1 &
done
wait
for i in 1 2 3 4 5 6 7 8; do
	cp "run.$i" out
	is "$(json 'd["final"], d["correct"]')" "(8000, True)" \
	    "concurrent run $i ($(json 'd["lock"]')) exact"
done
for i in 1 2 3 8; do
	is "$(file_value "count.$i")" 8000 "count.$i holds its own count"
done

done_testing
