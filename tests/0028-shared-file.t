#!/bin/sh
# The counter file is shared with other programs: proccount reads what
# Python's int() reads, reuses a file that holds a number (and keeps its
# value with -s keep), refuses one that does not unless --force, takes the
# run's lock for its first write, and excludes, and is excluded by, another
# program that updates the file under the same lock, the course's way.  A
# value that lost updates cannot explain is reported as another writer's.
. "$(dirname "$0")/lib.sh"

# What other programs write is read as Python reads it.
for text in '42' '42\n' '  +42 \t\n' '4_2' '0042'; do
	printf "$text" >counter.txt
	pc -b file --lock=flock -s keep -i 1 -d 0 -n 8 --json
	is "$rc:$(json 'd["start"], d["final"]')" "0:(42, 50)" \
	    "-s keep reads '$text' as 42"
done
printf -- '-7' >counter.txt
pc -b file -s keep -i 0 -d 1 -n 3 --json
is "$rc:$(json 'd["start"], d["final"]')" "0:(-7, -10)" "-s keep, negative"
rm -f counter.txt
pc -b file --lock=ofd -s keep -i 2 -d 0 -n 5 --json
is "$rc:$(json 'd["start"], d["final"]')" "0:(0, 10)" "-s keep, no file: 0"
printf '42' >counter.txt
pc -b file --lock=fcntl -s 5 -i 1 -d 0 -n 1 --json
is "$rc:$(json 'd["start"], d["final"]')" "0:(5, 6)" "a number is replaced by -s"

# Not a number: refused, untouched, unless --force.
for text in 'hello' '' '4 2' '1.5' '0x10'; do
	printf "$text" >counter.txt
	pc -b file --lock=flock -n 10
	is "$rc:$(lines out):$(lines err)" "3:0:1" "'$text': refused, exit 3"
	is "$(cat counter.txt)" "$text" "'$text': untouched"
	pc -b file --lock=flock -n 10 -s 3 --force --json
	is "$rc:$(json 'd["final"]'):$(file_value counter.txt)" "0:3:3" \
	    "'$text' --force: replaced"
done
pc -b shm -s keep
is "$rc:$(lines err)" "2:1" "-s keep on shm: a usage error"
pc -b shm --force
is "$rc:$(lines err)" "2:1" "--force on shm: a usage error"

# A new file is written before it has a name: a kill at any moment leaves
# no file, or one that holds the start value.  The kill comes while the
# link that names it is held up.
if command -v strace >/dev/null && strace -qq -o /dev/null true 2>/dev/null; then
	for when in delay_enter delay_exit; do
		rm -f new.txt
		timeout -s KILL 20 strace -qq -o /dev/null -f \
		    -e inject=linkat:$when=2000000 "$PROCCOUNT" -b file \
		    -f new.txt -s 9 -n 10 >/dev/null 2>&1 &
		straced=$!
		sleep 1
		pkill -KILL -f "new.txt -s 9" 2>/dev/null
		wait $straced 2>/dev/null
		if [ -e new.txt ]; then
			is "$(file_value new.txt)" 9 "killed at the link ($when): the file holds the start"
		else
			pass "killed at the link ($when): no file"
		fi
	done
else
	skip "no strace"
	skip "no strace"
fi

# The first write waits for the other holder of the lock, and keeps what
# it wrote with -s keep.
if command -v flock >/dev/null; then
	printf '0' >held.txt
	flock held.txt sh -c 'sleep 1; printf 100 >held.txt' &
	holder=$!
	sleep 0.3
	began=$(date +%s%N)
	pc -b file --lock=flock -f held.txt -s keep -i 2 -d 1 -n 10 --json
	took=$((($(date +%s%N) - began) / 1000000))
	wait $holder
	is "$rc:$(json 'd["start"], d["final"]'):$(file_value held.txt)" \
	    "0:(100, 110):110" "flock(1) held it: waited, then kept its 100"
	[ "$took" -ge 500 ]
	ok $? "the first write waited for the holder (${took} ms)"
	# flock(2) and fcntl(2) locks do not see each other on Linux.
	printf '0' >held.txt
	flock held.txt sleep 2 &
	holder=$!
	sleep 0.3
	pc -b file --lock=fcntl -f held.txt -i 1 -d 1 -n 10 --timeout=500ms --json
	is "$rc:$(json 'd["correct"]')" "0:True" \
	    "fcntl ignores a flock(1) holder: another lock family"
	pc -b file --lock=ofd -f held.txt -i 1 -d 1 -n 10 --timeout=500ms --json
	is "$rc" 0 "ofd ignores a flock(1) holder too"
	pc -b file --lock=flock -f held.txt -i 1 -d 1 -n 10 --timeout=500ms
	is "$rc" 4 "flock waits for it, then gives up"
	wait $holder
else
	for i in 1 2 3 4 5; do skip "no flock(1)"; done
fi

# Another program updates the same file the course's way -- open, lock,
# read, rewrite, close -- under the lock family it shares with proccount,
# for as long as proccount runs.  Every update of both is in the file.
cat >updater.py <<'PY'
import fcntl, os, struct, sys, time
path, kind, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
done, end = 0, time.monotonic() + seconds
while time.monotonic() < end:
    with open(path, "r+") as f:
        if kind == "flock":
            fcntl.flock(f, fcntl.LOCK_EX)
        else:
            fcntl.lockf(f, fcntl.LOCK_EX)
        n = int(f.read())
        f.seek(0)
        f.truncate()
        f.write(str(n + 1))
        f.flush()
    done += 1
print(done)
PY
for pair in "flock flock" "fcntl lockf" "ofd lockf"; do
	set -- $pair
	printf '0' >shared.txt
	python3 updater.py shared.txt "$2" 1.5 >py.out &
	python=$!
	sleep 0.2
	# Incrementers only: whatever Python adds during the run is beyond
	# what lost updates could do, and so told apart from them.
	pc -b file --lock="$1" -f shared.txt -s keep -i 2 -d 0 -n 2000 --json
	wait $python
	ours=$(json 'd["expected"] - d["start"]')
	is "$(file_value shared.txt)" "$(($(cat py.out) + ours))" \
	    "$1 with Python's $2: every update of both is in the file"
	case $rc in
	0) is "$(json 'd["correct"], d["outside"]')" "(True, False)" \
	    "$1 with Python's $2: exit 0, nobody wrote during the run" ;;
	5) is "$(json 'd["correct"], d["outside"], d["drift"] > 0')" \
	    "(False, True, True)" "$1 with Python's $2: exit 5, another writer" ;;
	*) fail "$1 with Python's $2: exit $rc" ;;
	esac
done

# A value beyond what lost updates can do is another writer's.
printf '0' >shared.txt
python3 updater.py shared.txt flock 1.2 >py.out &
python=$!
sleep 0.2
pc -b file --lock=flock -f shared.txt -s keep -i 1 -d 0 -t 700ms
wait $python
is "$rc" 5 "Python added during the run: exit 5"
grep -q '^final [0-9]*, expected [0-9]*: the counter changed by [0-9]* more than the workers did; lost updates cannot do that, another writer did$' out
ok $? "the text says another writer changed it"

# Paths as long as the system takes.
long=$(printf 'd%.0s' $(seq 1 120))
mkdir -p "$long/$long/$long"
pc -b file --lock=flock -f "$long/$long/$long/counter.txt" -n 10 --json
is "$rc:$(json 'len(d["path"])')" "0:$((3 * 121 + 11))" "a path of 374 bytes"

done_testing
