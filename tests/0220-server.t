#!/bin/sh
# The server backend: exact counts for the locked kinds, the atomic add and
# a serial server at several client counts; a truthful report for none;
# --crash with each kind; proccount serve and --connect over loopback TCP;
# and nothing left behind, no socket, no directory, no server process,
# after success, errors and signals, even after kill -9 of proccount.
. "$(dirname "$0")/lib.sh"

# Every run's private directory goes here, so that what is left is seen.
mkdir tmp
TMPDIR=$scratch/tmp
export TMPDIR

# exact NAME ARGS...: exit 0, and the final count the start plus what the
# incrementers and decrementers made; $final is then that count.
exact() {
	name=$1
	shift
	pc "$@" --json
	final=$(json '(d["final"] == d["expected"] == d["start"] + sum(w["updates"] * (1 if w["role"] == "inc" else -1) for w in d["workers"])) and d["final"]')
	is "$rc:$final" "0:${final#False}" "$name: exit 0, exact"
}

for kind in handler update atomic; do
	for workers in "1 1" "3 2" "4 4"; do
		set -- $workers
		exact "$kind, $1 + $2 clients" -b server --lock="$kind" -i "$1" \
		    -d "$2" -n 150
		is "$final" "$((($1 - $2) * 150))" \
		    "$kind, $1 + $2 clients: final $((($1 - $2) * 150))"
	done
done
for workers in "1 1" "3 1" "4 4"; do
	set -- $workers
	exact "serial, $1 + $2 clients" -b server --serve=serial -i "$1" \
	    -d "$2" -n 150
	is "$final" "$((($1 - $2) * 150))" \
	    "serial, $1 + $2 clients: final $((($1 - $2) * 150))"
done
exact "handler, threads" -b server --lock=handler -T -i 3 -d 3 -n 200
exact "update, from --start" -b server --lock=update -s -7 -i 2 -d 1 -n 100
is "$final" 93 "update from --start -7: final 93"
exact "handler, timed" -b server --lock=handler -i 2 -d 2 -t 200ms
exact "update, with readers" -b server --lock=update -i 2 -d 2 -r 2 -n 200
is "$(json 'd["readers"]["reads"] > 0 and d["readers"]["impossible"] == 0')" True \
    "readers: reads, none impossible"
truthful "none, threaded server" -b server -i 3 -d 3 -n 300
truthful "none, threaded server, --hold" -b server -i 2 -d 2 -n 20 --hold=1ms

# The report says what the server does.
pc -b server --lock=update -n 10
is "$rc" 0 "update: exit 0"
grep -q "^server $TMPDIR/proccount-server-[0-9]*\.[A-Za-z0-9]*/socket, lock over the read-to-write: " out
ok $? "the report names the socket and the kind"
grep -q "^the server serves each client in a thread of its own, all at once; its handler holds one mutex from a client's read to the store only, and works outside it$" out
ok $? "the report says how the server serves and locks"
pc -b server --serve=serial -n 10 --json
is "$(json '"one client at a time" in d["about"]')" True "JSON: about says serial"
pc --lock=handler -n 10 --json
is "$rc:$(json 'd["backend"]')" "0:server" "--lock=handler alone: the server backend"
pc --serve=serial -n 10 --json
is "$rc:$(json 'd["backend"]')" "0:server" "--serve alone: the server backend"

# --work is the server handler's: under the lock for handler, beside it
# for update, so handler takes the work times the updates at least.
pc -b server --lock=handler -i 2 -d 2 -n 10 --work=5ms --json
is "$rc:$(json 'd["elapsed_s"] >= 0.2')" "0:True" \
    "handler --work: the handlers' work one after another"

# --crash: the client dies after the server sent it the value; the locked
# handler's lock is released with its connection, and the count is exact.
for kind in handler update atomic; do
	pc -b server --lock="$kind" -i 2 -d 2 -n 200 --crash=50
	is "$rc" 0 "$kind --crash: exit 0"
	grep -q "killed by signal 9 after 49 updates" out
	ok $? "$kind --crash: the worker died in its 50th update"
	grep -q "^final .*: correct$" out
	ok $? "$kind --crash: correct"
done
grep -q "^the server released" out
ok $((! $?)) "atomic --crash: no lock to release"
pc -b server --lock=handler -i 2 -d 2 -n 200 --crash=50
grep -q "^the server released the lock over the whole handler of worker [0-9]* when it died$" out
ok $? "handler --crash: the server released the lock"
pc -b server --serve=serial -i 2 -d 2 -n 200 --crash=50 --json
is "$rc:$(json 'd["final"] == d["expected"]')" "0:True" "serial --crash: exit 0, exact"
truthful "none --crash" -b server -i 2 -d 2 -n 100 --crash=50
# A thread's connection outlives it: the lock stays held for it, and the
# others wait for it until --timeout, or, when nobody waits, the server
# says that it is held.
pc -b server --lock=update -T -i 2 -d 0 -t 2s --crash=1 --timeout=200ms
is "$rc" 4 "update -T --crash: exit 4"
grep -q "^abandoned: worker [0-9]* died holding the lock over the read-to-write; the dead thread's connection is still open in the living process, so the server holds the lock for it. " out
ok $? "update -T --crash: the report says why the lock was abandoned"
pc -b server --lock=handler -T -i 1 -d 0 -n 10 --crash=5
is "$rc" 4 "handler -T --crash, nobody waiting: exit 4"
grep -q "^the lock over the whole handler was left held by worker [0-9]*, which died holding it; no worker was waiting for it: the dead thread's connection" out
ok $? "handler -T --crash, nobody waiting: the lock is left held"

# --timeout bounds the wait for the read's reply, the lock.
pc -b server --lock=handler -i 1 -d 1 -n 3 --work=100ms --timeout=20ms
is "$rc" 4 "handler --timeout shorter than the work: exit 4"
grep -q "timed out waiting for the lock" out
ok $? "--timeout: a worker timed out"

# A server of its own, on a TCP port the kernel picks.
"$PROCCOUNT" serve --listen=127.0.0.1:0 --lock=update -s 1000 >served 2>&1 &
server=$!
for try in 1 2 3 4 5 6 7 8 9 10; do
	grep -q '^listening on' served && break
	sleep 0.1
done
address=$(sed -n 's/^listening on \(127\.0\.0\.1:[0-9]*\), lock=update serve=threads$/\1/p' served)
[ -n "$address" ]
ok $? "serve says where it listens: $address"
pc --connect="$address" -i 4 -d 2 -n 150 --json
is "$rc:$(json '(d["backend"], d["lock"], d["start"], d["final"], d["path"])')" \
    "0:('server', 'update', 1000, 1300, '$address')" \
    "--connect: exit 0, the server's kind, from its count to the exact one"
pc -b server --connect="$address" -i 1 -d 3 -n 100 -T --json
is "$rc:$(json '(d["start"], d["final"])')" "0:(1300, 1100)" \
    "--connect with threads: from where the last run left it"
pc --connect="$address" --lock=update -n 10 -q
is "$rc" 0 "--connect --lock naming the server's kind: exit 0"
pc --connect="$address" --lock=handler -n 10
is "$rc" 3 "--connect --lock naming another kind: exit 3"
is "$(cat err)" "proccount: --connect=$address: the server's lock is update, not handler" \
    "--connect: the kinds that differ"
kill -TERM "$server"
wait "$server"
is "$?" 0 "serve: exit 0 on SIGTERM"
is "$(tail -n 1 served)" "final 1100" "serve: prints the final count"
pc --connect="$address" -n 10
is "$rc" 3 "--connect to nobody: exit 3"
grep -q "^proccount: --connect=$address: Connection refused$" err
ok $? "--connect to nobody: the message says so"

# A serial server of its own on a Unix socket, to the run's --connect.
"$PROCCOUNT" serve --listen="$scratch/counter.sock" --serve=serial >served 2>&1 &
server=$!
for try in 1 2 3 4 5 6 7 8 9 10; do
	[ -S counter.sock ] && break
	sleep 0.1
done
pc --connect="$scratch/counter.sock" -i 3 -d 1 -n 100 --json
is "$rc:$(json '(d["lock"], d["final"], "one client at a time" in d["about"])')" \
    "0:('none', 200, True)" "--connect to a serial server on a Unix socket: exact"
kill -INT "$server"
wait "$server"
is "$?:$(tail -n 1 served)" "0:final 200" "serve: exit 0 on SIGINT, the final count"
[ ! -e counter.sock ]
ok $? "serve removes its Unix socket"

# The run's own server on TCP.
pc -b server --listen=127.0.0.1:0 --lock=handler -i 2 -d 2 -n 100 --json
is "$rc:$(json 'd["final"]')" "0:0" "--listen: exit 0, exact"
json 'd["path"]' | grep -q '^127\.0\.0\.1:[0-9][0-9]*$'
ok $? "--listen: the report names the port taken"

# bench: the server's kinds when -b names it, or a kind only it has, and
# not otherwise: each of its runs starts a server.
pc bench -b server -w 2 -t 20ms -r 1 --format=csv
is "$rc:$(grep -v '^#' out | sed 1d | cut -d, -f1,2 | tr '\n' ' ')" \
    "0:server,handler server,update server,atomic server,none " \
    "bench -b server: a row for each kind"
is "$(grep -v '^#' out | sed 1d | head -n 3 | cut -d, -f14 | tr '\n' ' ')" "1 1 1 " \
    "bench -b server: the locked kinds and atomic exact"
pc bench -l none -w 1 -t 10ms -r 1 --format=csv
is "$rc:$(grep -v '^#' out | sed 1d | cut -d, -f1 | tr '\n' ' ')" \
    "0:file shm " "bench -l none: not the server unless asked"
pc bench -l update -w 1 -t 10ms -r 1 --format=csv
is "$rc:$(grep -v '^#' out | sed 1d | cut -d, -f1,2)" "0:server,update" \
    "bench -l update: the server's kind"

# Usage errors: one line, exit 2, nothing left.
bad() {
	want=$1
	shift
	pc "$@"
	is "$rc:$(lines err)" "2:1" "exit 2, one line: $*"
	grep -q -- "$want" err
	ok $? "the message says '$want'"
}
bad "--listen is for --backend=server" -b shm --listen=127.0.0.1:0
bad "--listen and --connect" --listen=127.0.0.1:0 --connect=127.0.0.1:1
bad "--serve and --connect" --serve=serial --connect=127.0.0.1:1
bad "--start and --connect" -s 5 --connect=127.0.0.1:1
bad "--work and --connect" --work=1ms --connect=127.0.0.1:1
bad "--try is not for --backend=server: the server, not its client, takes the lock" -b server --lock=handler --try
bad "--trace is not for --backend=server" -b server --trace=t.csv -n 5
bad "--schedule is not for --backend=server" -b server --schedule='1r 2r 1w 2w' -n 1
bad "--nest is not for --backend=server" -b server --lock=update --nest=2
bad "--serve 'forked': choose serial or threads" --serve=forked
bad "--crash of a thread and a serial server" --serve=serial -T --crash=5
bad "no lock kind 'mutex': choose handler, update, atomic or none" -b server --lock=mutex
bad "explore is not for --backend=server" explore -b server
bad "proccount serve: --listen: say where to listen" serve
bad "no host before the port" serve --listen=:80
bad "no lock kind 'sem'" serve --listen=127.0.0.1:0 --lock=sem
is "$(ls tmp)" "" "no directory left by the usage errors"

# Errors: exit 3, and nothing left behind.
pc -b server --listen=no.such.host.invalid:1 -n 5
is "$rc" 3 "--listen at a host that is not there: exit 3"
pc -b server --listen=127.0.0.1:0 --lock=handler -n 5 -q
is "$rc" 0 "the run's own TCP server: exit 0"
is "$(ls tmp)" "" "nothing left in TMPDIR after runs and errors"

# Signals and kill -9: the server and its socket go with proccount.
background() {
	perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV or die' \
	    "$PROCCOUNT" "$@" >out 2>err &
	pid=$!
}
# Until the run is under way: its directory made, its server and its two
# workers forked (or 10 s); a loaded machine may take longer than a nap.
under_way() {
	for try in $(seq 100); do
		children=$(cat /proc/$pid/task/*/children 2>/dev/null)
		[ -n "$(ls tmp)" ] && [ "$(echo $children | wc -w)" -ge "$1" ] &&
		    return 0
		sleep 0.1
	done
	return 1
}
gone() {
	for try in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		alive=
		for p in $1; do
			running "$p" && alive=$p
		done
		[ -z "$alive" ] && [ -z "$(ls tmp)" ] && return 0
		sleep 0.1
	done
	return 1
}
for how in INT KILL; do
	background -b server --lock=handler -i 2 -d 2 -n 1G
	under_way 5
	[ -n "$children" ] && [ -n "$(ls tmp)" ]
	ok $? "SIG$how: the server and its socket are there mid-run"
	kill -s "$how" "$pid"
	wait "$pid" 2>/dev/null
	status=$?
	[ "$how" = INT ] && is "$status" 130 "SIGINT: exit 130"
	[ "$how" = INT ] && { grep -q "^final [0-9-]*, expected .*: correct$" out; ok $? "SIGINT: the final count is read, exact"; }
	gone "$children"
	ok $? "SIG$how of proccount: no server, no worker, no socket left"
done
# proccount and its server both killed outright: the next run sweeps.
background -b server -n 1G
under_way 3
kill -KILL "$pid" $children
wait "$pid" 2>/dev/null
[ -n "$(ls tmp)" ]
ok $? "kill -9 of proccount and its server leaves the directory"
pc -b shm -n 10 -q
gone ""
ok $? "the next run removes it"

# --listen=PATH: the run's own server on a Unix socket of the user's
# choosing, removed at the end.
pc -b server --lock=update --listen="$scratch/run.sock" -i 2 -d 2 -n 200 --json
is "$rc:$(json '(d["final"], d["expected"])'):$([ -e run.sock ] && echo left)" \
    "0:(0, 0):" "--listen=PATH: exact, and the socket removed"

done_testing
