#!/bin/sh
# proccount explore runs every interleaving of a small run's steps for
# real.  Its table is checked against one computed here, apart from the
# program: every interleaving enumerated, each read and write simulated.
# With a lock every interleaving ends exact, and as many distinct orders
# run as the lock allows.  Sizes over the limit are usage errors that say
# the count; nothing is left behind.
. "$(dirname "$0")/lib.sh"

LIMIT=60

# expected INCS DECS N: what explore must find, as JSON: for each final
# value of the unguarded steps, how many interleavings reach it and the
# first, in lexical order of worker numbers, that does; how many
# interleavings there are, and how many a lock allows (no other step
# between a worker's read and its write).
expected() {
	python3 -c 'import itertools, json, sys
incs, decs, n = (int(a) for a in sys.argv[1:4])
delta = [1] * incs + [-1] * decs
workers = list(range(len(delta)))
outcomes, total, allowed = {}, 0, 0
for order in sorted(set(itertools.permutations(
        [w for w in workers for _ in range(2 * n)]))):
    value, seen, reading, holder, fine, steps = 0, {}, set(), None, True, []
    for w in order:
        if w not in reading:
            seen[w] = value
            reading.add(w)
            fine = fine and holder is None
            holder = w
            steps.append("%dr" % (w + 1))
        else:
            value = seen[w] + delta[w]
            reading.discard(w)
            holder = None
            steps.append("%dw" % (w + 1))
    total += 1
    allowed += fine
    if value not in outcomes:
        outcomes[value] = [0, " ".join(steps)]
    outcomes[value][0] += 1
print(json.dumps({"interleavings": total, "allowed": allowed,
    "outcomes": [{"final": v, "interleavings": c, "schedule": s}
    for v, (c, s) in sorted(outcomes.items())]}))' "$@"
}

# found: what explore found, in the same form, from ./out.
found() {
	python3 -c 'import json
d = json.load(open("out"))
print(json.dumps({"interleavings": d["interleavings"], "allowed": d["as_asked"],
    "outcomes": d["outcomes"]}))'
}

# The table without a lock: every final value, as many times as the
# simulation says, and the first schedule to reach it.
for size in "1 1 1" "1 1 2" "2 1 1"; do
	set -- $size
	want=$(expected "$@")
	# Without a lock every interleaving runs as asked.
	want_asked=$(printf '%s' "$want" | python3 -c 'import json, sys
d = json.load(sys.stdin)
d["allowed"] = d["interleavings"]
print(json.dumps(d))')
	for how in "-b shm" "-b shm -T" "-b file" "-b file -T"; do
		pc explore $how -i "$1" -d "$2" -n "$3" --json
		is "$rc:$(found)" "1:$want_asked" "explore $how -i $1 -d $2 -n $3: the table"
	done
done

# The same interleavings under every lock: all exact, and each runs as it
# is asked or, forbidden, as one of those the lock allows.
for size in "1 1 1" "1 1 2"; do
	set -- $size
	allowed=$(expected "$@" | python3 -c 'import json, sys
print(json.load(sys.stdin)["allowed"])')
	total=$(expected "$@" | python3 -c 'import json, sys
print(json.load(sys.stdin)["interleavings"])')
	for how in "--lock=flock" "--lock=fcntl" "--lock=ofd" "--lock=mutex" \
	    "--lock=sem" "--lock=spin" "-T --lock=flock" "-T --lock=ofd" \
	    "-T --lock=mutex" "-T --lock=sem" "-T --lock=spin"; do
		[ "$3" = 2 ] && case $how in *sem*|*spin*|*ofd*) continue ;; esac
		pc explore $how -i "$1" -d "$2" -n "$3" --json
		is "$rc:$(json 'd["interleavings"], [(o["final"], o["interleavings"]) for o in d["outcomes"]], d["as_asked"], d["orders_ran"], d["excludes"]')" \
		    "0:($total, [(0, $total)], $allowed, $allowed, True)" \
		    "explore $how -i $1 -d $2 -n $3: all exact, $allowed orders"
	done
done

# A lock that excludes nothing forbids nothing; an atomic add loses
# nothing and forbids nothing.
want=$(expected 1 1 2 | python3 -c 'import json, sys
d = json.load(sys.stdin)
print([(o["final"], o["interleavings"]) for o in d["outcomes"]])')
pc explore -T --lock=fcntl -n 2 --json
is "$rc:$(json '[(o["final"], o["interleavings"]) for o in d["outcomes"]], d["as_asked"], d["orders_ran"], d["excludes"]')" \
    "1:($want, 70, 70, False)" "fcntl threads: every interleaving as asked, the race"
pc explore --lock=atomic -n 2 --json
is "$rc:$(json '[(o["final"], o["interleavings"]) for o in d["outcomes"]], d["as_asked"], d["orders_ran"]')" \
    "0:([(0, 70)], 70, 70)" "atomic: all 70 exact, as asked"

# The text says the same, in words.
pc explore -n 2
is "$rc" 1 "text: exit 1, updates lost"
sentence=$(expected 1 1 2 | python3 -c 'import json, sys
d = json.load(sys.stdin)
others = ["%d at %d" % (o["interleavings"], o["final"]) for o in d["outcomes"]
    if o["final"] != 0]
exact = [o["interleavings"] for o in d["outcomes"] if o["final"] == 0][0]
print("Of the %d interleavings of 2 x 2 updates, %d end at 0, the exact count; %s and %s."
    % (d["interleavings"], exact, ", ".join(others[:-1]), others[-1]))')
is "$(sed -n 2p out)" "$sentence" "text: the sentence"
is "$(sed -n 1p out)" "shm, no lock: 1 incrementer + 1 decrementer x 2 updates, as processes" \
    "text: what ran"
expected 1 1 2 | python3 -c 'import json, sys
for o in json.load(sys.stdin)["outcomes"]:
    print("%7d  %13d  %s" % (o["final"], o["interleavings"], o["schedule"]))' >want
sed -n '4,8p' out >got
cmp -s want got
ok $? "text: the table"
grep -q '^70 runs in [0-9.]* [mu]*s: [0-9.]* [mu]*s a run$' out
ok $? "text: the time it took"
pc explore --lock -n 2
is "$rc:$(sed -n '2,3p' out | tr '\n' '|')" \
    "0:Of the 70 interleavings of 2 x 2 updates, all end at 0, the exact count.|The lock allowed 6 of them as asked; it made the other 64 wait, and run in an order it allows: 6 distinct orders ran.|" \
    "text with a lock: all exact, the orders that ran"

# Each outcome's schedule, replayed, ends where explore said.
pc explore -n 2 --json
json '"\n".join("%d %s" % (o["final"], o["schedule"]) for o in d["outcomes"])' >replays
while read -r final schedule; do
	pc -n 2 --schedule="$schedule" --json
	is "$(json 'd["final"]')" "$final" "replay '$schedule': $final"
done <replays

# No counter file in the current directory, nothing in TMPDIR, nothing in
# /dev/shm of this explore's runs.
mkdir tmp
TMPDIR=$PWD/tmp "$PROCCOUNT" explore -b file -n 1 >out 2>err &
pid=$!
wait $pid
is "$?:$(ls tmp | wc -l | tr -d ' '):$(ls | grep -c counter)" "1:0:0" \
    "file: the private counter is gone, none made here"
pc explore -b file -f mine.txt -n 1
is "$rc:$(file_value mine.txt)" "1:0" "file: --file names the counter"
"$PROCCOUNT" explore --lock=sem -n 2 >out 2>err &
pid=$!
wait $pid
is "$?:$(ls /dev/shm | grep -c "^\(sem\.\)\{0,1\}proccount-$pid-")" "0:0" \
    "shm: nothing left in /dev/shm"

# Sizes over the limit, said with their count, and other usage errors.
bad() {
	want=$1
	shift
	pc explore "$@"
	is "$rc:$(lines err):$(wc -c <out | tr -d ' ')" "2:1:0" "usage error: $*"
	grep -qF -- "$want" err
	ok $? "the message says \"$want\""
}
bad "2 x 4 updates have 12870 interleavings; explore runs at most 5000" -n 4
bad "6 x 1 update have 7484400 interleavings; explore runs at most 5000" -i 3 -d 3 -n 1
bad "200 x 100 updates have more than 18446744073709551615 interleavings" \
    -i 100 -d 100 -n 100
bad "no workers" -i 0 -d 0
bad "unknown option '--schedule'" --schedule='1r 1w'
bad "no backend has a lock kind 'bogus'" --lock=bogus
bad "--file is for --backend=file" -b shm -f x.txt
bad "unexpected argument 'extra'" extra
pc explore -i 0 -d 1 -n 3 --json
is "$rc:$(json 'd["interleavings"], d["outcomes"]')" \
    "0:(1, [{'final': -3, 'interleavings': 1, 'schedule': '1r 1w 1r 1w 1r 1w'}])" \
    "one worker: one interleaving"
pc -n 2 explore
is "$rc:$(cat err)" \
    "2:proccount: 'explore' must come first: proccount explore [options] (try proccount --help)" \
    "explore after options is a usage error that says where it goes"

pc explore --help
is "$rc:$(lines err)" "0:0" "--help: exit 0"
for opt in $(grep -o -- '--[a-z]*' out | sort -u); do
	grep -q -- "Fl -${opt#--}" "$top/man/proccount.1"
	ok $? "the manual documents explore's $opt"
done

done_testing
