#!/bin/sh
# --trace: every update recorded, the lost ones counted exactly.  On every
# traced run, of every kind of both backends, as processes and as threads,
# the drift is the lost decrements less the lost increments; a lock that
# excludes, and the atomic add, lose none; the records in the file, walked
# here again from the final write down to the start, give the report's
# counts and the final value.  A crash keeps the trace consistent, and
# nothing is left in /dev/shm or beside the trace file.  Never is a race
# asserted to happen.
. "$(dirname "$0")/lib.sh"

# bad MESSAGE-PART ARGS...: exit 2, one line, nothing written.
bad() {
	want=$1
	shift
	rm -f counter.txt t.csv
	pc "$@"
	is "$rc" 2 "exit 2 for: $*"
	is "$(lines err)" 1 "one line on stderr for: $*"
	grep -q -- "$want" err
	ok $? "the message says '$want' for: $*"
	[ ! -s out ] && [ ! -e counter.txt ] && [ ! -e t.csv ]
	ok $? "nothing written for: $*"
}

mkdir adir
bad "--trace=: no file named" --trace=
bad "records at most 4194304 updates in all, and 3 workers x 1398102" \
    --trace=t.csv -i 2 -d 1 -n 1398102
bad "32-bit integer, and from --start 2147483000, 1000 updates" \
    --trace=t.csv -s 2147483000 -n 1000
bad "32-bit integer, and from --start -2147483000, 1000 updates" \
    --trace=t.csv -s -2147483000 -n 1000
bad "the JSON report leaves it no room" --trace --json -n 10
bad "--quiet and --trace without a file" --trace -q -n 10
bad "--trace=adir: is a directory" --trace=adir -n 10
bad "--trace=nowhere/t.csv: no directory nowhere" --trace=nowhere/t.csv
bad "--trace=counter.txt: is the counter file" -b file --trace=counter.txt
bad "--trace=./counter.txt: is the counter file" -b file --trace=./counter.txt
bad "--crash 2097153: beyond the 2097152 updates a worker's trace holds" \
    --trace=t.csv -t 1s --crash=2097153
bad "records at most 4194304 updates in all, and 1 worker x 4194305" \
    --trace=t.csv -i 1 -d 0 -n 4194305

# To a terminal, a timeline longer than a screenful is refused.
if command -v script >/dev/null && script -qc true /dev/null >/dev/null 2>&1
then
	script -qec "$PROCCOUNT --trace -n 100 -i 1 -d 1" /dev/null >tty 2>&1
	is "$?" 2 "a terminal: 400 steps of timeline refused"
	grep -q "the timeline would have 400 steps, more than a screenful (200): give --trace=FILE, or a pipe" tty
	ok $? "a terminal: the message says how"
	script -qec "$PROCCOUNT --trace -t 1s" /dev/null >tty 2>&1
	is "$?" 2 "a terminal: a timed run's timeline refused"
	script -qec "$PROCCOUNT --trace -n 50 -i 1 -d 1 -l mutex" /dev/null >tty 2>&1
	is "$?" 0 "a terminal: 200 steps are shown"
	# A schedule's timeline too long for a terminal is left out, and said.
	script -qec "$PROCCOUNT -n 100 -l mutex --schedule='1r 2r 1w 2w'" /dev/null >tty 2>&1
	is "$?:$(grep -c 'read [-0-9]' tty):$(grep -c '^timeline left out: its 400 steps are more than a screenful (200): give --trace=FILE, or a pipe' tty)" \
	    "0:0:1" "a terminal: a schedule's long timeline left out, and said"
else
	skip "no script(1) to give proccount a terminal"
	skip "no script(1) to give proccount a terminal"
	skip "no script(1) to give proccount a terminal"
	skip "no script(1) to give proccount a terminal"
	skip "no script(1) to give proccount a terminal"
fi

# check NAME: the report in ./out and the records in ./t.csv agree, and a
# walk from the final write down to the start, done here, finds what the
# report says.  Prints one line of what failed, or "ok".
check() {
	python3 - "$1" <<'EOF'
import csv, json, sys
d = json.load(open("out"))
t = d["trace"]
rows = list(csv.DictReader(open("t.csv")))
problems = []
def want(what, good):
    if not good:
        problems.append(what)
by_tag = {int(r["tag"]): r for r in rows}
want("exact", t["exact"] and t["problem"] is None)
want("one record an update", len(rows) == t["updates"] == len(by_tag))
want("the records are the updates done, and the landed",
     t["updates"] == d["updates"] + t["landed"])
for i, w in enumerate(d["workers"]):
    mine = [r for r in rows if int(r["worker"]) == i + 1]
    counted = [r for r in mine if r["counted"] == "true"]
    want("worker %d: its updates" % (i + 1), len(counted) == w["updates"])
    want("worker %d: numbered 1 on" % (i + 1),
         [int(r["number"]) for r in counted] == list(range(1, w["updates"] + 1)))
    want("worker %d: its role" % (i + 1), all(r["role"] == w["role"] for r in mine))
want("every read tag is an update's, or 0",
     all(int(r["read_tag"]) == 0 or int(r["read_tag"]) in by_tag for r in rows))
def value(tag):
    return d["start"] if tag == 0 else int(by_tag[tag]["wrote"])
want("every read saw what its write left",
     all(int(r["read"]) == value(int(r["read_tag"])) for r in rows))
delta = lambda r: 1 if r["role"] == "inc" else -1
want("every write is its read and its delta",
     all(int(r["wrote"]) == int(r["read"]) + delta(r) for r in rows))
path, tag = set(), t["final_tag"]
while tag != 0 and tag not in path:
    path.add(tag)
    tag = int(by_tag[tag]["read_tag"])
want("the path ends at the start", tag == 0)
want("the final value is the start and the path",
     d["final"] == d["start"] + sum(delta(by_tag[p]) for p in path))
lost = [r for r in rows if int(r["tag"]) not in path]
want("the file marks the lost", all((r["lost"] == "true") == (int(r["tag"]) not in path) for r in rows))
inc = sum(1 for r in lost if r["role"] == "inc")
dec = len(lost) - inc
want("the lost, as the walk counts them",
     (t["lost"], t["lost_increments"], t["lost_decrements"]) == (len(lost), inc, dec))
want("drift is lost decrements less lost increments", d["drift"] == dec - inc == t["drift"])
# Read by an update that went on to write, or by none.
read = {int(r["read_tag"]) for r in rows}
want("overwritten unread and lost though read",
     (t["overwritten_unread"], t["lost_though_read"]) ==
     (sum(1 for r in lost if int(r["tag"]) not in read),
      sum(1 for r in lost if int(r["tag"]) in read)))
excluded = d["excludes"] or d["lock"] == "atomic"
want("a lock that excludes loses none", not excluded or t["lost"] == 0)
print("; ".join(problems) if problems else "ok")
EOF
}

for spec in "shm none" "shm mutex" "shm sem" "shm spin" "shm atomic" \
    "file none" "file flock" "file fcntl" "file ofd"; do
	set -- $spec
	for as in processes threads; do
		T=
		[ $as = threads ] && T=-T
		pc -b "$1" --lock="$2" $T -i 2 -d 2 -n 1000 -s 5 --trace=t.csv \
		    --json
		case $rc in
		0|1) pass "$1 $2 $as: exit $rc" ;;
		*) fail "$1 $2 $as: exit $rc" ;;
		esac
		is "$(check)" ok "$1 $2 $as: the records prove the report"
		[ "$1" = shm ] &&
		    is "$(shm_left "$(json 'd["path"]')")" "" "$1 $2 $as: /dev/shm clean"
	done
done
is "$(ls -a | grep -c '^t\.csv\.')" 0 "no temporary trace file left"
is "$(file_value counter.txt)" "$(json 'd["final"]')" \
    "the counter file holds a plain number after a traced run"

# A lock that excludes: the text proves it per update.
pc -b file --lock=flock -i 2 -d 1 -n 50 --trace=t.csv
is "$rc" 0 "flock, traced: exact"
grep -qx "traced: none of 150 updates lost: each is on the path from the start to the final value" out
ok $? "flock, traced: none of 150 updates lost"
grep -qx "tracing changes the timing, so the race may look different from an untraced run" out
ok $? "the report says tracing changes the timing"
grep -qx "trace: 150 updates in t.csv" out
ok $? "the report names the file"

# No lock: whatever was lost, the text counts it as the JSON does.
pc -i 1 -d 1 -n 5000 --trace=t.csv --json
is "$(check)" ok "shm none: the records prove the report"
lost=$(json 'd["trace"]["lost"]')
pc -i 1 -d 1 -n 5000 --trace=t.csv
if [ "$rc" = 1 ]; then
	grep -Eq '^traced: [0-9]+ updates? lost: [0-9]+ increments?, [0-9]+ decrements?; drift [-+][0-9]+$' out
	ok $? "shm none, lost: the text counts increments and decrements"
	grep -Eq '^  (inc|dec)#[0-9]+ \(worker [12]\) wrote -?[0-9]+ over (inc|dec)#[0-9]+ \(-?[0-9]+->-?[0-9]+\), which nobody read: lost' out
	ok $? "shm none, lost: the text names who overwrote whom"
else
	grep -qx "traced: none of 10000 updates lost: each is on the path from the start to the final value" out
	ok $? "shm none, nothing lost: said per update"
	pass "shm none, nothing lost this time"
fi

# The timeline, to a pipe: a header, then a read and a write an update.
pc -b shm --lock=mutex -i 1 -d 1 -n 3 -s 10 --trace
is "$rc" 0 "timeline: exit 0"
is "$(sed -n 1p out)" "     t(us)  worker 1 (inc)        worker 2 (dec)" \
    "timeline: a column a worker"
is "$(sed -n 2p out | grep -Ecx ' {12}pid [0-9]+ +pid [0-9]+')" 1 \
    "timeline: their pids"
is "$(sed -n '3,14p' out | grep -Ec '^ +[0-9]+\.[0-9]{3}  ( {22})?(read|wrote) [0-9]+$')" 12 \
    "timeline: 12 steps, each a read or a write in its worker's column"
is "$(sed -n 15p out)" "" "timeline: a blank line before the report"
is "$(sed -n 16p out | cut -c1-4)" "shm " "timeline: the report follows"
is "$(sed -n '3,14p' out | awk '{ print $NF }' | tail -1)" 10 \
    "timeline: the last write leaves the final value"

# JSON Lines, for a name ending in .jsonl.
pc -i 1 -d 1 -n 100 --lock=spin --trace=t.jsonl --json
is "$(python3 -c 'import json
rows = [json.loads(l) for l in open("t.jsonl")]
print(len(rows), sorted(rows[0]), all(r["lost"] is False for r in rows))')" \
    "200 ['counted', 'lost', 'number', 'overwrote', 'pid', 'read', 'read_tag', 'role', 't_read_ns', 't_write_ns', 'tag', 'worker', 'wrote'] True" \
    "JSON Lines: a line an update, none lost with a spinlock"

# A worker killed mid-update: the trace stays consistent, with threads too.
for spec in "shm none" "shm mutex" "shm atomic" "file none" "file flock"; do
	set -- $spec
	for T in "" -T; do
		pc -b "$1" --lock="$2" $T -i 2 -d 2 -n 1000 --crash=100 \
		    --trace=t.csv --json
		is "$(check)" ok "$1 $2 $T --crash: the records prove the report"
		is "$(json 'd["workers"][0]["updates"]')" 99 \
		    "$1 $2 $T --crash: the crashed worker made 99"
	done
done

# A timed run: each worker's share of the records, never more.
pc -i 1 -d 1 -t 20ms -l atomic --trace=t.csv --json
is "$(json 'd["trace"]["capacity"]')" 2097152 "timed: an equal share of 4194304"
is "$(json 'd["trace"]["full"] == sum(w["updates"] == 2097152 for w in d["workers"]) and max(w["updates"] for w in d["workers"]) <= 2097152')" \
    True "timed: no worker past its share; the full ones counted"
is "$(check)" ok "timed: the records prove the report"

# The trace file replaces what was there whole, or is not written.
echo old >t.csv
chmod 640 t.csv
pc -i 1 -d 1 -n 10 -l mutex --trace=t.csv -q
is "$rc:$(lines t.csv):$(stat -c %a t.csv)" "0:21:640" \
    "an existing trace file is replaced, its mode kept"
# /dev/stdout redirected to a file: the records, then the report, in it.
pc -i 1 -d 1 -n 10 -l mutex --trace=/dev/stdout
is "$rc:$(sed -n 1p out | cut -c1-10):$(grep -c '^[12],' out)" \
    "0:worker,pid:20" "--trace=/dev/stdout to a file: the records"
grep -qx "trace: 20 updates in /dev/stdout" out
ok $? "--trace=/dev/stdout to a file: the report follows them"
if [ -w /dev/full ]; then
	pc -i 1 -d 1 -n 10 -l mutex --trace=/dev/full
	is "$rc" 3 "a trace that cannot be written: exit 3"
	grep -q "/dev/full: No space left on device" err
	ok $? "a trace that cannot be written: said"
else
	skip "no /dev/full"
	skip "no /dev/full"
fi

# A counter file a traced run left tagged, as a kill would: no number to
# any other program, so refused as any such file is, unless --force.
printf '%-20s\n' "15 3" >counter.txt
pc -b file -l flock -s keep -n 10 --trace=t.csv
is "$rc:$(cat counter.txt)" "3:15 3                " \
    "a tagged record left by a killed run: refused, untouched"
pc -b file -l flock -n 10 --force --trace=t.csv --json
is "$rc:$(json 'd["start"], d["final"]'):$(file_value counter.txt)" \
    "0:(0, 0):0" "a tagged record left by a killed run: --force replaces it"
printf '%-20s\n' "2147483000" >counter.txt
pc -b file -l flock -s keep -n 1000 --trace=t.csv
is "$rc" 3 "-s keep, a start that 32 bits cannot hold: exit 3"
grep -q "32-bit integer, which --trace keeps it in" err
ok $? "-s keep, a start that 32 bits cannot hold: said"

# Untraced, the JSON says so.
pc -n 10 --json
is "$(json 'd["trace"]')" None "untraced: trace is null"

done_testing
