#!/bin/sh
# Workers as threads (--threads) and workers on one open file description
# (--share-fd): every kind that excludes them keeps the count exact; a kind
# that cannot (fcntl between threads, flock or ofd on one description)
# still runs, says why before the verdict, and the verdict stays the
# count's.  A thread that dies holding the lock (--crash) leaves what each
# kind's owner decides: a robust mutex recovered, everything else held.
# Never is a race asserted to happen.
. "$(dirname "$0")/lib.sh"

# exact NAME ARGS...: a run that must end exact, exit 0.
exact() {
	name=$1
	shift
	pc "$@" --json
	is "$rc:$(json 'd["correct"], d["final"] == d["expected"], d["as"]')" \
	    "0:(True, True, 'threads')" "$name: exact"
}


for kind in mutex sem spin atomic; do
	for workers in "1 1" "2 2" "4 0" "3 5"; do
		set -- $workers
		exact "shm $kind $1+$2 threads" -T -b shm --lock=$kind -i "$1" \
		    -d "$2" -n 20000 -s 3
		# An atomic add is no lock: nothing to exclude with.
		excludes=True
		[ $kind = atomic ] && excludes=False
		is "$(json 'd["final"], d["updates"], d["excludes"], d["gap"]')" \
		    "($((3 + ($1 - $2) * 20000)), $((($1 + $2) * 20000)), $excludes, None)" \
		    "shm $kind $1+$2 threads: the count"
	done
	is "$(shm_left "$(json 'd["path"]')")" "" "shm $kind threads: /dev/shm clean"
done
for kind in flock ofd; do
	for workers in "1 1" "2 2" "3 1"; do
		set -- $workers
		exact "file $kind $1+$2 threads" -T --lock=$kind -i "$1" -d "$2" \
		    -n 1000
		is "$(file_value counter.txt)" "$((($1 - $2) * 1000))" \
		    "file $kind $1+$2 threads: the file holds it"
	done
done
truthful "shm none threads" -T -i 2 -d 2 -n 100000
truthful "file none threads" -T -b file -i 2 -d 2 -n 2000

# Threads are threads of proccount, each with its own id.
pc -T --lock=mutex -i 3 -d 2 -n 10 --json
is "$(json 'len(set(w["pid"] for w in d["workers"]))')" 5 "five thread ids"
pc -T --lock=mutex -i 3 -d 2 -n 10 -v
is "$(head -n 1 out | sed 's/^shm [^,]*, //')" \
    "robust mutex: 3 incrementer threads + 2 decrementer threads x 10 updates" \
    "the text says the workers are threads"
pc --lock=mutex -i 1 -d 1 -n 10 --json
is "$(json 'd["as"], d["share_fd"]')" "('processes', False)" "processes by default"

# fcntl record locks belong to the process: its threads are not excluded.
for workers in "1 1" "2 2" "4 4"; do
	set -- $workers
	truthful "fcntl $1+$2 threads" -T --lock=fcntl -i "$1" -d "$2" -n 2000
	is "$(json 'd["excludes"]')" False "fcntl $1+$2 threads: excludes nothing"
	pc -T --lock=fcntl -i "$1" -d "$2" -n 2000
	is "$(sed -n 2p out)" \
	    "no exclusion: the fcntl record lock belongs to the process: every thread of the process holds it at once, so the threads exclude nothing" \
	    "fcntl $1+$2 threads: why, before the verdict"
	case $rc in
	0) grep -q '^final \(-\{0,1\}[0-9]*\), expected \1: correct$' out ;;
	1) grep -q '^final -\{0,1\}[0-9]*, expected -\{0,1\}[0-9]*: off by [-+][0-9]*, updates were lost$' out ;;
	*) false ;;
	esac
	ok $? "fcntl $1+$2 threads: the text verdict matches exit $rc"
done

# One open file description for all: flock and ofd exclude nobody, with
# processes that inherit it and with threads; fcntl still excludes
# processes, each owning its own lock.
for as in "" -T; do
	for kind in flock ofd; do
		truthful "$kind --share-fd $as" $as -b file --lock=$kind \
		    --share-fd -i 2 -d 2 -n 2000
		is "$(json 'd["share_fd"], d["excludes"]')" "(True, False)" \
		    "$kind --share-fd $as: excludes nothing"
		pc $as -b file --lock=$kind --share-fd -i 2 -d 2 -n 100
		grep -q "^no exclusion: the [a-zA-Z ]* lock belongs to the open file description: every worker uses the same one (--share-fd)" out
		ok $? "$kind --share-fd $as: says why"
	done
done
pc -b file --lock=fcntl --share-fd -i 3 -d 3 -n 1000 --json
is "$rc:$(json 'd["correct"], d["final"], d["excludes"], d["gap"]')" \
    "0:(True, 0, True, None)" "fcntl --share-fd, processes: still exact"
pc -b file --lock=flock -i 2 -d 2 -n 100
is "$(grep -c 'no exclusion' out)" 0 "flock on own descriptors: no such line"

# --share-fd really shares: during a run, the descriptors open on the
# counter file are the parent's, inherited by each worker process, or one
# for all the threads; without it every worker opens its own as well.
# descriptors PID: how many of PID's descriptors are open on ./shared-fd.txt.
descriptors() {
	n=0
	file=$(stat -c %d:%i shared-fd.txt)
	for fd in /proc/$1/fd/*; do
		[ "$(stat -L -c %d:%i "$fd" 2>/dev/null)" = "$file" ] && n=$((n + 1))
	done
	echo $n
}
for share in "" --share-fd; do
	rm -f shared-fd.txt
	timeout -s KILL 30 "$PROCCOUNT" -b file --lock=ofd $share -i 2 -d 0 \
	    -n 4 --delay=300ms -f shared-fd.txt >out 2>err &
	run=$!
	sleep 0.6
	parent=$(pgrep -P $run -x proccount)
	got=""
	for worker in $(pgrep -P "$parent"); do
		got="$got$(descriptors "$worker") "
	done
	wait $run
	want="2 2 "
	[ -n "$share" ] && want="1 1 "
	is "$got" "$want" "processes ${share:-own descriptors}: descriptors on the file per worker"
	timeout -s KILL 30 "$PROCCOUNT" -T -b file --lock=ofd $share -i 3 -d 0 \
	    -n 4 --delay=300ms -f shared-fd.txt >out 2>err &
	run=$!
	sleep 0.6
	got=$(descriptors "$(pgrep -P $run -x proccount)")
	wait $run
	want=4
	[ -n "$share" ] && want=1
	is "$got" "$want" "threads ${share:-own descriptors}: descriptors on the file in the process"
done

# A thread that dies holding the lock.  Timed runs keep the others needing
# the lock after the death, whatever the order the lock grants it in.
pc -T --lock=mutex --crash=1000 -i 1 -d 1 -t 1s --json
is "$rc:$(json 'd["recovered"], d["correct"], d["deadlock"]')" \
    "0:(True, True, False)" "mutex, thread died: recovered, exact"
is "$(json '[(w["role"], w["end"], w["recovered"]) for w in d["workers"]]')" \
    "[('inc', 'ended by pthread_exit', 0), ('dec', 'exited', 1)]" \
    "mutex, thread died: the other thread recovered it"
is "$(json 'd["workers"][0]["updates"]')" 999 "mutex: died in its 1000th update"
for spec in "shm sem" "shm spin" "file flock" "file ofd"; do
	set -- $spec
	began=$(date +%s)
	pc -T -b $1 --lock=$2 --crash=50 -i 2 -d 2 -t 10s -s 7 --json
	took=$(($(date +%s) - began))
	is "$rc" 4 "$2, thread died: abandoned, exit 4"
	is "$(json 'd["abandoned"], d["deadlock"], d["correct"], d["final"] == d["expected"]')" \
	    "(True, False, True, True)" "$2, thread died: abandoned, count exact"
	is "$(json '[w["end"] for w in d["workers"]]')" \
	    "['ended by pthread_exit', 'left waiting', 'left waiting', 'left waiting']" \
	    "$2, thread died: the others left waiting"
	[ "$took" -le 6 ]
	ok $? "$2, thread died: ended by itself in ${took}s"
	[ "$1" = shm ] && is "$(shm_left "$(json 'd["path"]')")" "" "$2: /dev/shm clean"
	pc -T -b $1 --lock=$2 --crash=50 -i 2 -d 2 -t 10s
	grep -q "^abandoned: worker [0-9]* died holding the .*a thread cannot be killed: 3 threads were left waiting until proccount exits$" out
	ok $? "$2, thread died: the text says what was left"
done
grep -q "the dead thread's descriptor is still open in the living process" out
ok $? "ofd, thread died: the descriptor stays open"
pc -T -b file --lock=fcntl --crash=50 -i 1 -d 1 -n 500 --json
truthful "fcntl, thread died" -T -b file --lock=fcntl --crash=50 -i 1 -d 1 -n 500
is "$(json 'd["workers"][0]["end"], d["workers"][0]["updates"], d["deadlock"]')" \
    "('ended by pthread_exit', 49, False)" \
    "fcntl, thread died: the others, never excluded, went on"
for kind in atomic none; do
	pc -T --lock=$kind --crash=10 -i 1 -d 1 -n 3000 --json
	is "$(json 'd["workers"][0]["end"], d["workers"][0]["updates"]')" \
	    "('ended by pthread_exit', 9)" "$kind, thread died in update 10"
	truthful "$kind, thread died" -T --lock=$kind --crash=10 -i 1 -d 1 -n 3000
done
pc -T -b file --lock=flock --crash=5 -i 1 -d 1 -n 10
is "$(sed -n 2p out)" "worker $(sed -n 's/^worker \([0-9]*\) (inc).*/\1/p' out) (inc) ended by pthread_exit, holding what it held, after 4 updates" \
    "the text names the thread that died"

# --timeout: each thread's own timer ends its own wait.
for spec in "file flock" "file ofd" "shm sem"; do
	set -- $spec
	pc -T -b $1 --lock=$2 --crash=3 -i 1 -d 2 -t 10s --timeout=300ms --json
	is "$rc:$(json 'd["correct"], sorted(set(w["end"] for w in d["workers"][1:]))')" \
	    "4:(True, ['timed out'])" "$2 --timeout, thread died: the waiters timed out"
done 2>/dev/null
pc -T -b file --lock=flock -i 2 -d 0 -n 2 --delay=1s --timeout=200ms --json
is "$rc:$(json 'sorted(w["end"] for w in d["workers"])')" \
    "4:['exited', 'timed out']" "flock --timeout, threads: only the waiter timed out"

# --latency with threads.
pc -T --lock=sem -i 2 -d 2 -n 2000 --latency --json
is "$rc:$(json 'd["latency"]["wait"]["samples"], d["latency"]["hold"]["samples"]')" \
    "0:(8000, 8000)" "--latency with threads: a sample an update"

# A kind named alone finds its backend; a file implies the file backend.
pc --lock=flock -n 10 --json
is "$rc:$(json 'd["backend"], d["lock"]')" "0:('file', 'flock')" "--lock=flock alone: the file backend"
pc -f alone.txt -i 1 -d 0 -n 10 --json
is "$rc:$(json 'd["backend"], d["lock"], d["path"]')" "0:('file', 'none', 'alone.txt')" "-f alone: the file backend"
pc --lock=none -n 10 --json
is "$(json 'd["backend"]')" shm "--lock=none alone: the default backend"

# Usage errors.
bad() {
	want=$1
	shift
	pc "$@"
	is "$rc:$(lines err):$(lines out)" "2:1:0" "exit 2, one line, for: $*"
	grep -q -- "$want" err
	ok $? "'$want' for: $*"
}
bad "--share-fd is for --backend=file" -b shm --share-fd
bad "--share-fd is for --backend=file" --lock=mutex --share-fd
bad "option '--threads' takes no value" --threads=yes
bad "option '--as' needs a value" bench --as
bad "the shm backend has no lock kind 'flock'" -b shm --lock=flock -T
bad "no backend has a lock kind 'seqlock'" --lock=seqlock

# proccount bench --as.
pc bench --as=processes,threads -l mutex,flock -w 2,1 -t 50ms -r 1 --format=json
is "$rc" 0 "bench --as: exit 0"
is "$(json '[(c["lock"], c["as"], c["workers"]) for c in d["cells"]]')" \
    "[('mutex', 'processes', 1), ('mutex', 'processes', 2), ('mutex', 'threads', 1), ('mutex', 'threads', 2), ('flock', 'processes', 1), ('flock', 'processes', 2), ('flock', 'threads', 1), ('flock', 'threads', 2)]" \
    "bench --as: a cell a kind, way and count"
is "$(json 'all(c["exact"] for c in d["cells"])')" True "bench --as: all exact"
pc bench --as=threads -l atomic -w 1 -t 50ms -r 1 --format=csv
is "$(grep -v '^#' out | sed 1d | cut -d, -f1-4)" "shm,atomic,threads,1" "bench --as=threads: threads only"
pc bench --as=processes,threads -l mutex -w 1,2 -t 50ms -r 1 --plot=chart.svg
is "$rc" 0 "bench --as --plot: exit 0"
python3 - <<'PY' >svg.txt
import xml.etree.ElementTree as ET
ns = {"s": "http://www.w3.org/2000/svg"}
root = ET.parse("chart.svg").getroot()
for l in root.findall("s:polyline[@class='series']", ns):
    print(l.get("data-lock"), l.get("data-as"), l.get("stroke-dasharray") is not None)
print(sorted(t.text for t in root.findall("s:text[@class='legend']", ns)))
PY
is "$(sed -n 1,2p svg.txt | tr '\n' ';')" \
    "shm mutex processes False;shm mutex threads True;" "the chart dashes threads"
is "$(sed -n 3p svg.txt)" "['shm mutex', 'shm mutex threads']" "the legend names them"
bad "--as 'fibers': choose processes, threads or both" bench --as=fibers
bad "--as: choose processes, threads or both" bench --as=

done_testing
