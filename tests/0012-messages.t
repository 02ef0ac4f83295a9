#!/bin/sh
# What the two command lines say when they are misread: an option given a
# value it does not take, an ambiguous abbreviation, a kind after a bare
# --lock, a --timeout with nothing to wait for, bench in the wrong place,
# --format and --json together; what -q prints in either format; which
# backend a kind or a file chooses; and output that cannot be written.
. "$(dirname "$0")/lib.sh"

# bad MESSAGE ARGS...: exit 2, one line that holds MESSAGE, nothing else.
bad() {
	want=$1
	shift
	rm -f counter.txt
	pc "$@"
	is "$rc" 2 "exit 2 for: $*"
	is "$(lines err)" 1 "one line on stderr for: $*"
	grep -qF -- "$want" err
	ok $? "the message says \"$want\" for: $*"
	[ -s out ]
	ok $((! $?)) "nothing on stdout for: $*"
	[ ! -e counter.txt ]
	ok $? "no counter file for: $*"
}

# Every option that takes no value says so, by its own name, in both
# command lines; an abbreviation is named in full.
for opt in force help json latency quiet share-fd threads verbose version; do
	bad "proccount: option '--$opt' takes no value (try proccount --help)" \
	    --$opt=1
done
bad "option '--json' takes no value" --json=yes
bad "option '--help' takes no value" --help=
bad "option '--json' takes no value" --jso=yes
bad "option '--backend' needs a value" -n 10 --back
for opt in help json; do
	bad "proccount bench: option '--$opt' takes no value (try proccount bench --help)" \
	    bench --$opt=x
done

# An abbreviation of several options names them all; one of a single
# option is that option.
bad "proccount: option '--de' is ambiguous: --decrementers, --delay (try proccount --help)" \
    --de=1
bad "option '--d' is ambiguous: --decrementers, --delay, --dsn, --duration" --d 1
bad "option '--ver' is ambiguous: --verbose, --version" --ver
bad "option '--fo' is ambiguous: --force, --format" --fo
bad "proccount bench: option '--f' is ambiguous: --file, --format (try proccount bench --help)" \
    bench --f=x
bad "unknown option '--delays'" --delays=1
bad "unknown option '--=1'" --=1
# A bad letter in a cluster after a long option is that letter.
bad "unknown option '-x'" --json -xq
pc --dec=0 --incr=2 --iter=10 --lo=mutex --js
is "$rc:$(json 'd["incrementers"], d["decrementers"], d["iterations"], d["lock"]')" \
    "0:(2, 0, 10, 'mutex')" "unique abbreviations are the options they begin"
pc bench --lo=none --work=1 --dur=10ms --rep=1 --form=csv -b shm
is "$rc:$(grep -v "^#" out | cut -d, -f1-4 | tr '\n' ' ')" \
    "0:backend,lock,as,workers shm,none,processes,1 " \
    "bench: unique abbreviations are the options they begin"

# A bare --lock takes its kind only after '=': the word that follows it
# is named, wherever the options after it are.
bad "unexpected argument 'mutex': write --lock=mutex" --lock mutex
bad "unexpected argument 'mutex': write --lock=mutex" --lock mutex -i 2
bad "unexpected argument 'mutex': write --lock=mutex" -i 2 --lock mutex -d 1
bad "unexpected argument 'mutex': write --lock=mutex" --lo mutex -n 10
pc --lock -i 2 mutex
is "$rc:$(cat err)" "2:proccount: unexpected argument 'mutex' (try proccount --help)" \
    "a word that does not follow --lock gets no hint"
pc --lock -- mutex
is "$rc:$(cat err)" "2:proccount: unexpected argument 'mutex' (try proccount --help)" \
    "nor one after --"

# An empty kind is no kind; --lock without '=' is the default kind.
bad "--lock: no kind named; --lock alone, without '=', means the default kind" --lock=
bad "--lock: no kind named" -l ''
bad "--lock: no kind named" -b file --lock=
pc --lock -n 10 --json
is "$rc:$(json 'd["backend"], d["lock"]')" "0:('shm', 'mutex')" "bare --lock: shm's default"
pc -b file --lock -n 10 --json
is "$rc:$(json 'd["backend"], d["lock"]')" "0:('file', 'flock')" "bare --lock: file's default"

# --timeout bounds the wait for a lock: none without one, none for a kind
# that takes none.
bad "--timeout bounds the wait for a lock, and a run without --lock has nothing to wait for" \
    --timeout=1s
bad "--timeout bounds the wait for a lock, and --lock=none has nothing to wait for" \
    -b file --lock=none --timeout=1s
bad "--lock=atomic has nothing to wait for" --lock=atomic --timeout=1s
bad "--lock=none has nothing to wait for" -b shm -l none --timeout=1s
pc --lock=sem -n 10 --timeout=1s --json
is "$rc:$(json 'd["lock"]')" "0:sem" "--timeout with a lock runs"

# bench is a command of its own, first or not at all.
bad "proccount: 'bench' must come first: proccount bench [options] (try proccount --help)" \
    -b shm bench -w 1,2
bad "'bench' must come first" --lock=mutex bench
bad "'bench' must come first" -- bench

# --format=json is --json, in both command lines; text is the default of a
# single run, which has no CSV.
pc --lock -n 10 --format=json
valid_json
ok $? "--format=json: one JSON object"
is "$rc:$(json 'd["lock"], d["updates"]')" "0:('mutex', 20)" "--format=json: the report"
pc --lock -n 10 --format=json --json
is "$rc:$(json 'd["correct"]')" "0:True" "--format=json with --json agree"
pc --lock -n 10 --format=text
is "$rc:$(grep -c '^final 0, expected 0: correct$' out)" "0:1" "--format=text: the text report"
bad "--format=csv: a single run prints text or json; csv is for proccount bench" \
    --format=csv
bad "unknown format 'table': choose text or json" --format=table
bad "--json and --format=text: choose one" --json --format=text
bad "--json and --format=text: choose one" --format=text --json
pc bench -l none -b shm -w 1 -t 10ms -r 1 --json
valid_json
ok $? "bench --json: one JSON object"
is "$rc:$(json '[(c["backend"], c["lock"], c["workers"]) for c in d["cells"]]')" \
    "0:[('shm', 'none', 1)]" "bench --json: the cells"
bad "proccount bench: --json and --format=csv: choose one" bench --json --format=csv
bad "--json and --format=table: choose one" bench --format=table --json
bad "unknown format 'text': choose table, csv or json" bench --format=text
pc --help
grep -q -- '--format=text|json' out
ok $? "--help names --format"
pc bench --help
grep -q -- '--json ' out
ok $? "bench --help names --json"

# -q prints nothing on success, as text or JSON; any other outcome prints
# the report in its format.  A semaphore whose only worker died holding it
# is left held: exit 4, every time.
pc --lock=mutex -n 100 -q --json
is "$rc:$(cat out)" "0:" "-q --json, exact: nothing"
pc --lock=mutex -n 100 -q
is "$rc:$(cat out)" "0:" "-q, exact: nothing"
pc --lock=sem --crash=1 -i 1 -d 0 -n 5 -q --json
is "$rc" 4 "-q --json, lock left held: exit 4"
valid_json
ok $? "-q --json, lock left held: one JSON object"
is "$(json 'd["abandoned"], d["correct"]')" "(True, True)" "-q --json: the report"
pc --lock=sem --crash=1 -i 1 -d 0 -n 5 -q
is "$rc:$(grep -c 'was left held by worker' out)" "4:1" "-q, lock left held: the text report"

# A kind only files have, or a file, chooses the file backend.
pc --lock=flock -n 10 --json
is "$rc:$(json 'd["backend"], d["lock"], d["path"]')" "0:('file', 'flock', 'counter.txt')" \
    "--lock=flock: the file backend"
pc -l ofd -n 10 --json
is "$rc:$(json 'd["backend"], d["lock"]')" "0:('file', 'ofd')" "-l ofd: the file backend"
pc -f mine.txt --lock -n 10 --json
is "$rc:$(json 'd["backend"], d["lock"], d["path"]'):$(file_value mine.txt)" \
    "0:('file', 'flock', 'mine.txt'):0" "-f and a bare --lock: the file backend's default"
bad "the file backend has no lock kind 'mutex'" -f mine.txt --lock=mutex
bad "--file is for --backend=file" -b shm -f mine.txt

# Output that cannot be written is a system error, one line, exit 3.
if [ -w /dev/full ]; then
	full() {
		timeout -s KILL "$LIMIT" "$PROCCOUNT" "$@" >/dev/full 2>err
		rc=$?
		is "$rc:$(lines err):$(cat err)" \
		    "3:1:proccount: stdout: No space left on device" \
		    "stdout full: exit 3, one line, for: $*"
	}
	full --help
	full -h
	full --version
	full -V
	full -n 10 --lock
	full -n 10 --lock --json
	full bench --help
	full bench -l none -b shm -w 1 -t 10ms -r 1
	full bench -l none -b shm -w 1 -t 10ms -r 1 --plot=chart.svg
	is "$(ls chart.svg* 2>/dev/null)" "" "a bench that could not print writes no chart"
else
	skip "no /dev/full to write to"
fi

done_testing
