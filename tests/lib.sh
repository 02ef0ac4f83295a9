# Sourced by every tests/*.t: TAP output, a scratch directory, and a
# time-bounded way to run proccount.  Each test file runs in its own
# directory, so the default counter.txt of one never meets another's.

top=$(cd "$(dirname "$0")/.." && pwd)
PROCCOUNT=${PROCCOUNT:-$top/proccount}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/proccount-test.XXXXXX")
trap 'cd /; rm -rf "$scratch"' EXIT
cd "$scratch" || exit 1
tests=0
failures=0

# Every run is bounded: a hang fails the test instead of blocking make check.
LIMIT=${LIMIT:-60}

pass() {
	tests=$((tests + 1))
	echo "ok $tests - $1"
}

fail() {
	tests=$((tests + 1))
	failures=$((failures + 1))
	echo "not ok $tests - $1"
}

# ok STATUS NAME: passes when STATUS is 0, as from a test command.
ok() {
	if [ "$1" -eq 0 ]; then pass "$2"; else fail "$2"; fi
}

# is GOT EXPECTED NAME
is() {
	if [ "$1" = "$2" ]; then
		pass "$3"
	else
		fail "$3"
		printf '#   got:      %s\n#   expected: %s\n' "$1" "$2"
	fi
}

skip() {
	tests=$((tests + 1))
	echo "ok $tests # skip $1"
}

done_testing() {
	echo "1..$tests"
	[ "$failures" -eq 0 ]
}

# pc ARGS...: runs proccount; leaves $rc, and its output in ./out and ./err.
pc() {
	timeout -s KILL "$LIMIT" "$PROCCOUNT" "$@" >out 2>err
	rc=$?
}

# json EXPR: a Python expression over d, the JSON object in ./out.
json() {
	python3 -c 'import json, sys
try:
    d = json.load(open("out"))
except ValueError:
    sys.exit("# no JSON in out: " + open("out").read(200).replace("\n", " "))
print(eval(sys.argv[1]))' "$1"
}

# truthful NAME ARGS...: runs proccount ARGS --json, where a race may or
# may not lose updates, and checks that whatever happened is reported as it
# happened: exit 0 exactly when there is no drift, 1 when there is, and the
# drift is the final value less the start and what the workers did.
truthful() {
	name=$1
	shift
	pc "$@" --json
	valid_json
	ok $? "$name: valid JSON"
	case $rc in
	0) is "$(json 'd["drift"] == 0 and d["correct"]')" True "$name: exit 0, no drift" ;;
	1) is "$(json 'd["drift"] != 0 and not d["correct"]')" True "$name: exit 1, drift" ;;
	*) fail "$name: exit $rc" ;;
	esac
	is "$(json 'd["final"] - d["expected"] == d["drift"] and d["expected"] == d["start"] + sum(w["updates"] * (1 if w["role"] == "inc" else -1) for w in d["workers"])')" \
	    True "$name: drift is final minus what the workers did"
}

# valid_json: whether ./out holds exactly one valid JSON object.
valid_json() {
	python3 -m json.tool out >/dev/null 2>&1
}

lines() {
	wc -l <"$1" | tr -d ' '
}

# shm_left NAME: what /dev/shm holds of the run whose segment was NAME.
# Every object of a run is named /proccount-PID-START-N..., PID the parent's
# and START its start time: the segment, and the semaphore, which glibc
# keeps as sem.proccount-PID-START-N-sem.
shm_left() {
	prefix=$(printf '%s\n' "$1" | sed -n 's|^/\(proccount-[0-9]*-[0-9]*-\)[0-9]*$|\1|p')
	if [ -z "$prefix" ]; then
		echo "not the name of a run's segment: '$1'"
		return
	fi
	ls /dev/shm 2>/dev/null | grep -E "^(sem\.)?$prefix" | tr '\n' ' '
}

# The value in a counter file, as the course's Python would read it.
file_value() {
	python3 -c 'import sys; print(int(open(sys.argv[1]).read()))' "$1"
}

# running PID: whether PID is alive and not a zombie (a dead child whose
# new parent has not reaped it yet).
running() {
	state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# usage_error MESSAGE ARGS...: exit 2, one line on stderr holding MESSAGE,
# nothing on stdout, no counter file left.  (0010 and 0012 keep their own
# bad(), which matches by pattern and names more.)
usage_error() {
	want=$1
	shift
	rm -f counter.txt
	pc "$@"
	is "$rc:$(lines err):$(wc -c <out | tr -d ' ')" "2:1:0" "usage error: $*"
	grep -qF -- "$want" err
	ok $? "the message says \"$want\""
	[ ! -e counter.txt ]
	ok $? "no counter file: $*"
}

# pg_server [own]: a PostgreSQL server for the pg tests.  The one the
# environment names (PGHOST, as CI exports it) unless "own" is asked for;
# else a throwaway cluster of this test file's own (tests/pg-cluster.sh),
# stopped at its end.  Returns 1, the reason in $pg_why, where none can
# be started.  PGHOST and the rest are exported; $psql runs psql on it.
pg_server() {
	if [ "${1:-}" != own ] && [ -n "${PGHOST:-}" ]; then
		psql="${PG_BINDIR:+$PG_BINDIR/}psql -X -qAt"
		return 0
	fi
	pg_dir=$(mktemp -u /tmp/proccount-pg.XXXXXX)
	if ! pg_settings=$(sh "$top/tests/pg-cluster.sh" start "$pg_dir" \
	    2>"$scratch/pg.err"); then
		pg_why=$(head -n 1 "$scratch/pg.err")
		sh "$top/tests/pg-cluster.sh" stop "$pg_dir"
		return 1
	fi
	# shellcheck disable=SC2086
	export $pg_settings
	psql="$PG_BINDIR/psql -X -qAt"
	trap 'cd /; sh "$top/tests/pg-cluster.sh" stop "$pg_dir"; rm -rf "$scratch"' EXIT
}

# pg_or_skip [own]: pg_server, or the whole file skipped with the reason;
# where PROCCOUNT_PG_REQUIRED=1 (CI) a missing server fails instead.
pg_or_skip() {
	pg_server "$@" && return 0
	if [ "${PROCCOUNT_PG_REQUIRED:-}" = 1 ]; then
		fail "a PostgreSQL server: $pg_why"
		done_testing
		exit 1
	fi
	echo "1..0 # skip no PostgreSQL server: $pg_why"
	exit 0
}
