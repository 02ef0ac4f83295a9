#!/bin/sh
# The pg backend's troubles with the server, each one line and a
# documented exit status, none a hang: no server, a wrong password, more
# workers than the server takes, a statement the server cancels
# (statement_timeout), a lock waited for longer than --timeout
# (lock_timeout), a server that stops answering (SIGSTOP), and the server
# going away in the middle of a run.  The last stops the server, so this file has a
# throwaway cluster of its own.
. "$(dirname "$0")/lib.sh"
pg_or_skip own

# one_line NAME STATUS WANT: exit STATUS, one line on stderr holding WANT.
one_line() {
	is "$rc:$(lines err)" "$2:1" "$1: exit $2, one line on stderr"
	grep -qF -- "$3" err
	ok $? "$1: it says \"$3\""
	[ -n "$(cat err)" ] && sed 's/^/# /' err
}

# No server where the DSN says: before any worker starts, nothing made.
pc -b pg --dsn="host=$scratch port=1" -n 10
one_line "no server" 3 "PostgreSQL: connection to server on socket \"$scratch/.s.PGSQL.1\" failed: No such file or directory"
is "$(wc -c <out | tr -d ' ')" 0 "no server: no report"

# A wrong password; the right one passes the login.
dsn="host=127.0.0.1 port=$PGPORT user=proccount_pw dbname=postgres"
pc -b pg --dsn="$dsn password=wrong" -n 10
one_line "wrong password" 3 "password authentication failed for user \"proccount_pw\""
pc -b pg --dsn="$dsn password=right" --lock=row -n 10
is "$rc" 0 "the right password: exit 0"
# The PG* variables, as for psql, when --dsn is not given.
PGPASSWORD=wrong pc -b pg --dsn="host=127.0.0.1 user=proccount_pw dbname=postgres" -n 1
one_line "PGPASSWORD" 3 "password authentication failed"

# More workers than the server takes connections (100 in this cluster):
# those refused cannot attach, and the run ends before it starts.
for as in "" -T; do
	pc -b pg $as --lock=row -i 60 -d 60 -n 10
	one_line "too many clients${as:+, threads}" 3 "open by worker"
done

# statement_timeout: the waiting worker's SELECT ... FOR UPDATE is
# cancelled while the other holds the row for 400 ms.
PGOPTIONS="-c statement_timeout=100" pc -b pg --lock=row -n 2 --hold=400ms
is "$rc:$(grep -c 'timed out waiting for the lock after' out)" "4:1" \
    "statement_timeout: exit 4, the report says who timed out"
grep -q "^final -*[0-9]*, expected -*[0-9]*: correct$" out
ok $? "statement_timeout: the count is still exact"
# --timeout sets lock_timeout.
pc -b pg --lock=advisory -n 2 --hold=400ms --timeout=100ms --json
is "$rc:$(json 'sum(w["end"] == "timed out" for w in d["workers"]), d["correct"]')" \
    "4:(1, True)" "--timeout: lock_timeout, exit 4, exact"

# A server that stops answering (SIGSTOP) mid-run: the workers are ended
# at -t's end and the grace, and the parent's statements give up after
# connect_timeout: exit 3, one line, not a hang.  The row is left, and the
# next run removes it.
"$PROCCOUNT" -b pg --dsn="connect_timeout=2" --lock=row -i 1 -d 1 -t 1s \
    >out 2>err &
pid=$!
tries=0
until [ "$($psql -c "SELECT count(*) FROM pg_stat_activity WHERE
    application_name = 'proccount'")" -ge 3 ] || [ $tries -ge 100 ]; do
	sleep 0.05
	tries=$((tries + 1))
done
server=$(head -1 "$pg_dir/data/postmaster.pid")
stopped="$server $(pgrep -P "$server" | tr '\n' ' ')"
kill -STOP $stopped
# Whatever happens, the server answers again after 10 s: no test hangs.
(sleep 10; kill -CONT $stopped) &
waker=$!
began=$(date +%s)
wait $pid
rc=$?
took=$(($(date +%s) - began))
kill -CONT $stopped
kill $waker 2>/dev/null
one_line "server stopped" 3 "the server did not answer within 2 s (connect_timeout)"
[ $took -le 6 ]
ok $? "server stopped: the run ended within seconds ($took s), not when it answers again"
grep -q "^final unknown (.*did not answer.*); the workers' updates make -*[0-9]*$" out
ok $? "server stopped: the report says the final value is unknown"
is "$($psql -c "SELECT count(*) FROM proccount WHERE pid = $pid")" 1 \
    "server stopped: the run's row is left"
pc -b pg --lock=atomic -n 1
is "$rc:$($psql -c "SELECT count(*) FROM proccount WHERE pid = $pid" 2>/dev/null || echo 0)" \
    0:0 "server stopped: the next run removed it"

# The server going away mid-run: the workers stop at once, one line.
"$PROCCOUNT" -b pg --lock=row -i 2 -d 2 -t 20s >out 2>err &
pid=$!
tries=0
until [ "$($psql -c "SELECT count(*) FROM pg_stat_activity WHERE
    application_name = 'proccount'")" -ge 5 ] || [ $tries -ge 100 ]; do
	sleep 0.05
	tries=$((tries + 1))
done
sleep 0.2
began=$(date +%s)
setpriv_stop() {
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
		    -- "$PG_BINDIR/pg_ctl" -D "$pg_dir/data" -m immediate stop
	else
		"$PG_BINDIR/pg_ctl" -D "$pg_dir/data" -m immediate stop
	fi >/dev/null 2>&1
}
setpriv_stop
wait $pid
rc=$?
one_line "server gone" 3 "by worker"
grep -q "Connection reset by peer" err
ok $? "server gone: the reason is the connection's"
[ $(($(date +%s) - began)) -le 5 ]
ok $? "server gone: the run ended within seconds, not at its 20 s"
grep -q "^final unknown (.*connection.*); the workers' updates make -*[0-9]*$" out
ok $? "server gone: the report says the final value is unknown"
done_testing
