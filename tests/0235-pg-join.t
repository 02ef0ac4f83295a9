#!/bin/sh
# --join: two runs add their workers to one counter in PostgreSQL.  The
# first to finish reports its own workers, without a verdict, and exits
# 0; the last judges the value against both runs' updates.  They meet only
# in the database; the rows go with the last of them.
. "$(dirname "$0")/lib.sh"
pg_or_skip

# members NAME: the member rows of the join NAME.
members() {
	$psql -c "SELECT count(*) FROM proccount WHERE role = 'member' AND
	    joined = '$1'" 2>/dev/null || echo 0
}

join=t$$
# The long run joins first, and is the last to finish.
"$PROCCOUNT" -b pg --join=$join --lock=atomic -i 1 -d 0 -t 3s -s 7 \
    --json >long 2>long.err &
pid=$!
tries=0
until [ "$(members $join)" = 1 ] || [ $tries -ge 100 ]; do
	sleep 0.05
	tries=$((tries + 1))
done
# The short one, meanwhile: its start value is not used, the counter's is.
pc -b pg --join=$join --lock=row -i 2 -d 1 -n 50 -s 1000
is "$rc" 0 "the first to finish exits 0"
grep -qx "joined $join: this run's workers only; the last run of the join to finish gives the verdict" out
ok $? "the first to finish says it reports its own workers only"
grep -qx "final unknown (join:$join: 1 other run of the join still updates it, and the last to finish judges it); the workers' updates make [0-9]*" out
ok $? "the first to finish gives no verdict on the value"
pc -b pg --join=$join --lock=row -i 2 -d 1 -n 50 --json
is "$rc:$(json 'd["join"], d["judged"], d["final"], d["updates"]')" \
    "0:('$join', False, None, 150)" "a second short run: its own 150 updates, no verdict"
wait $pid
rc=$?
mv long out
updates=$(json 'd["updates"]')
is "$rc:$(json 'd["join"], d["judged"], d["correct"], d["final"]')" \
    "0:('$join', True, True, $((7 + updates + 50 + 50)))" \
    "the last judges every run's updates: exact"
is "$(members $join):$($psql -c "SELECT count(*) FROM proccount WHERE
    name = 'join:$join'" 2>/dev/null || echo 0)" "0:0" \
    "the last removed the counter and the member rows"
done_testing
