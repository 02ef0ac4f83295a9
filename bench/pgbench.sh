#!/bin/sh
# The pg backend beside pgbench: for each lock kind, proccount's updates per
# second in a timed run, and pgbench's transactions per second running the
# same statements as a custom script, with as many clients as proccount has
# workers, each on one connection, on the same server, in turns.
#
#   CLIENTS   workers and clients (default 4; proccount's are half
#             incrementers)
#   SECONDS_EACH  each run's length (default 5)
#   KINDS     the kinds to measure (default all six)
#   REPEAT    pairs of runs of each (default 5): the medians are shown,
#             with the ratio's, and the least and most of the ratios
#   PIN       proccount's --pin (default none: pgbench's threads are not
#             pinned either)
#
# The server is the one libpq's PG* variables name, as for psql; pgbench's
# table, proccount_pgbench, is made here and dropped at the end.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
clients=${CLIENTS:-4}
seconds=${SECONDS_EACH:-5}
repeat=${REPEAT:-5}
pin=${PIN:-none}
kinds=${KINDS:-"none atomic row advisory repeatable serializable"}
scripts=$(mktemp -d "${TMPDIR:-/tmp}/proccount-pgbench.XXXXXX")
trap 'psql -X -qAt -c "DROP TABLE IF EXISTS proccount_pgbench" >/dev/null;
    rm -rf "$scripts"' EXIT

psql -X -qAt >/dev/null <<'EOF'
SET client_min_messages = warning;
DROP TABLE IF EXISTS proccount_pgbench;
CREATE TABLE proccount_pgbench (name text PRIMARY KEY, id serial UNIQUE,
    value bigint NOT NULL);
INSERT INTO proccount_pgbench (name, value) VALUES ('bench', 0);
EOF

# What proccount's worker sends for one update of each kind.
read_value="SELECT value FROM proccount_pgbench WHERE name = 'bench'"
write_value="UPDATE proccount_pgbench SET value = :value + 1 WHERE name = 'bench';"
cat >"$scripts/none.sql" <<EOF
$read_value \gset
$write_value
EOF
cat >"$scripts/atomic.sql" <<EOF
UPDATE proccount_pgbench SET value = value + 1 WHERE name = 'bench';
EOF
cat >"$scripts/row.sql" <<EOF
BEGIN;
$read_value FOR UPDATE \gset
$write_value
COMMIT;
EOF
cat >"$scripts/advisory.sql" <<EOF
BEGIN;
SELECT pg_advisory_xact_lock(1885564532, 1);
$read_value \gset
$write_value
COMMIT;
EOF
for level in repeatable:"REPEATABLE READ" serializable:SERIALIZABLE; do
	cat >"$scripts/${level%%:*}.sql" <<EOF
BEGIN ISOLATION LEVEL ${level#*:};
$read_value \gset
$write_value
COMMIT;
EOF
done

# median N...: the middle of the numbers given.
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
	    printf "%.3f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ours() {
	"$top/proccount" -b pg --lock="$1" --pin="$pin" -i $((clients / 2)) \
	    -d $((clients - clients / 2)) -t "${seconds}s" --json |
	    python3 -c 'import json, sys
d = json.load(sys.stdin)
print("%.0f" % (d["updates"] / d["elapsed_s"]))'
}

# --max-tries=0: a serialization failure is retried, as proccount retries
# it, until the time is up.
theirs() {
	pgbench -n -M prepared -c "$clients" -j "$clients" -T "$seconds" \
	    --max-tries=0 -f "$scripts/$1.sql" 2>/dev/null |
	    sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}

printf '%-13s %8s %12s %12s %8s %14s\n' kind clients proccount/s pgbench/s \
    ratio "ratios min-max"
for kind in $kinds; do
	ours_all=
	theirs_all=
	ratios=
	run=0
	# Side by side, each first in every other pair, so that what else the
	# machine does falls on both; the ratio is the median of the pairs'.
	while [ $run -lt "$repeat" ]; do
		if [ $((run % 2)) -eq 0 ]; then
			a=$(ours "$kind")
			b=$(theirs "$kind")
		else
			b=$(theirs "$kind")
			a=$(ours "$kind")
		fi
		ours_all="$ours_all $a"
		theirs_all="$theirs_all $b"
		ratios="$ratios $(awk -v a="$a" -v b="$b" \
		    'BEGIN { printf "%.3f", a / b }')"
		run=$((run + 1))
	done
	# shellcheck disable=SC2086
	awk -v kind="$kind" -v clients="$clients" \
	    -v ours="$(median $ours_all)" -v theirs="$(median $theirs_all)" \
	    -v ratio="$(median $ratios)" \
	    -v low="$(printf '%s\n' $ratios | sort -g | head -n 1)" \
	    -v high="$(printf '%s\n' $ratios | sort -g | tail -n 1)" \
	    'BEGIN { printf "%-13s %8s %12.0f %12.0f %8.2f %6.2f-%.2f\n",
	    kind, clients, ours, theirs, ratio, low, high }'
done
