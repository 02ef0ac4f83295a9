#!/bin/sh
# The shared-memory backend: exact counts with every lock kind, the default
# kind, a name unique to each run, and nothing left in /dev/shm after a run,
# even one whose parent is killed, or many at once.
. "$(dirname "$0")/lib.sh"

for kind in mutex sem spin atomic; do
	for workers in "1 1" "4 4" "16 16" "5 0" "0 3"; do
		set -- $workers
		pc --backend=shm --lock=$kind -i "$1" -d "$2" -n 3000 -s -42 --json
		expected=$((-42 + ($1 - $2) * 3000))
		is "$rc" 0 "$kind $1+$2: exit 0"
		is "$(json 'd["final"], d["expected"], d["correct"], d["updates"]')" \
		    "($expected, $expected, True, $((($1 + $2) * 3000)))" \
		    "$kind $1+$2: exact"
		is "$(shm_left "$(json 'd["path"]')")" "" "$kind $1+$2: /dev/shm clean"
	done
done

# shm is the default backend, and mutex its default kind.
pc --lock -n 1000
is "$(head -n 1 out)" \
    "shm $(sed -n '1s/^shm \([^,]*\),.*/\1/p' out), robust mutex: 1 incrementer + 1 decrementer x 1000 updates" \
    "bare --lock means the robust mutex, on shm by default"
pc --lock --json -n 10
is "$(json 'd["backend"], d["lock"]')" "('shm', 'mutex')" "json: shm, mutex"
name=$(json 'd["path"]')
case $name in
/proccount-*) pass "the object is named /proccount-..." ;;
*) fail "the object is named /proccount-... (got $name)" ;;
esac
pc --json -n 10
is "$(json 'd["lock"]')" none "no --lock: no lock"
pc --lock=atomic -n 10
grep -q 'atomic add, lock-free' out
ok $? "the atomic kind says it is lock-free"

# Several runs at once: distinct objects, each exact, nothing left.
for i in 1 2 3 4 5 6; do
	timeout -s KILL 60 "$PROCCOUNT" --lock=mutex -i 2 -d 2 -n 20000 --json \
	    >"many.$i" 2>&1 &
done
wait
for i in 1 2 3 4 5 6; do
	cp "many.$i" out
	is "$(json 'd["final"], d["correct"]')" "(0, True)" "concurrent run $i exact"
done
is "$(cat many.* | python3 -c 'import json,sys; print(len({json.loads(l)["path"] for l in sys.stdin}))')" \
    6 "six runs, six names"
for i in 1 2 3 4 5 6; do
	cp "many.$i" out
	is "$(shm_left "$(json 'd["path"]')")" "" "concurrent run $i left nothing"
done

# The parent killed mid-run: its workers die with it, nothing stays.
for kind in mutex sem spin none; do
	"$PROCCOUNT" --lock=$kind -i 2 -d 2 -n 1G >/dev/null 2>&1 &
	parent=$!
	sleep 0.3
	workers=$(pgrep -P $parent | tr '\n' ' ')
	kill -KILL $parent
	wait $parent 2>/dev/null
	sleep 0.2
	alive=""
	for w in $workers; do
		running "$w" && alive="$alive $w"
	done
	is "$alive" "" "$kind: parent killed, no worker left running"
	is "$(ls /dev/shm | grep -c "^\(sem\.\)\{0,1\}proccount-$parent-")" 0 \
	    "$kind: parent killed, nothing of it in /dev/shm"
done

done_testing
