#!/bin/sh
# The server backend's edges: the server's CPU time in the report, a run
# whose own server stops answering, and servers that cannot start; each
# ends with the right status and leaves nothing behind.
. "$(dirname "$0")/lib.sh"

mkdir tmp
TMPDIR=$scratch/tmp
export TMPDIR

# The handler's spin, 0.4 s on a clock, is the server's CPU time, all of
# it on an idle machine, and the report counts it.
pc -b server --lock=handler -i 1 -d 1 -n 20 --work=10ms --work-as=spin --json
is "$rc:$(json 'd["server_cpu_user_s"] + d["server_cpu_system_s"] >= 0.1')" \
    "0:True" "the server's spin is its CPU time"
is "$(json 'd["cpu_user_s"] >= d["server_cpu_user_s"] and d["cpu_system_s"] >= d["server_cpu_system_s"]')" \
    True "the run's CPU time includes the server's"
pc -b server --lock=handler -i 1 -d 1 -n 5
grep -q "^of which the server's: [0-9.]* s user, [0-9.]* s system$" out
ok $? "the text report gives the server's share"

# A server of another's: its CPU time is not the run's.
"$PROCCOUNT" serve --listen=127.0.0.1:0 --lock=atomic >served 2>&1 &
server=$!
for try in 1 2 3 4 5 6 7 8 9 10; do
	grep -qs '^listening on' served && break
	sleep 0.1
done
address=$(sed -n 's/^listening on \([^,]*\),.*/\1/p' served)
pc --connect="$address" -n 10 --json
is "$rc:$(json '(d["server_cpu_user_s"], d["server_cpu_system_s"])')" \
    "0:(None, None)" "--connect: the server's CPU time is null"
pc --connect="$address" -n 10
grep -q "^the server's CPU time is not counted: it is not the run's own$" out
ok $? "--connect: the text report says it is not counted"
# --timeout without --lock: the server's kind decides whether it has a
# lock to wait for.
pc --connect="$address" --timeout=1s -n 10
is "$rc:$(cat err)" "3:proccount: --connect=$address: the server's lock is atomic, and --timeout has no lock to bound the wait for" \
    "--connect --timeout to a server with no lock: exit 3"
kill -TERM "$server"
wait "$server"
"$PROCCOUNT" serve --listen=127.0.0.1:0 --lock=handler --serve=serial \
    >served 2>&1 &
server=$!
for try in 1 2 3 4 5 6 7 8 9 10; do
	grep -qs '^listening on' served && break
	sleep 0.1
done
address=$(sed -n 's/^listening on \([^,]*\),.*/\1/p' served)
pc --connect="$address" --timeout=5s -i 2 -d 1 -n 50 --json
is "$rc:$(json '(d["lock"], d["final"])')" "0:('handler', 50)" \
    "--connect --timeout to a locked serial server, no --lock: exit 0, exact"
# The README's nc line: get, then quit, and the server closes.
python3 -c 'import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=5)
s.sendall(b"get\nquit\n")
got = b""
while True:
    more = s.recv(100)
    if not more:
        break
    got += more
sys.stdout.write(got.decode())' "$address" >got
is "$(cat got | tr '\n' '|')" "value 50|bye|" "get and quit: the value, bye, and the end"

# A reader's connection, served to its end, would keep the writers out.
pc --connect="$address" -r 1 -n 10
is "$rc:$(lines err)" "2:1" "--connect -r to a serial server: exit 2, one line"
grep -q "^proccount: --readers and a serial server: " err
ok $? "--connect -r to a serial server: the message says why"
pc -b server --serve=serial -r 1 -n 10
is "$rc:$(cat err)" "2:proccount: --readers and a serial server: a reader's connection, served to its end, keeps out the writers it waits for (try proccount --help)" \
    "-r with --serve=serial: a usage error"
kill -HUP "$server"
wait "$server"
is "$?:$(tail -n 1 served)" "0:final 50" "serve: exit 0 on SIGHUP, the final count"

# The protocol's limits as the manual gives them: the count wraps, a line
# of 63 bytes is one and of 64 too long, and a silent connection holding
# the lock is closed and the lock released.  With a soft limit of 128
# descriptors and a higher hard one, the server raises its own: 500
# connections at once are each answered.
(ulimit -S -n 128 && exec "$PROCCOUNT" serve --listen=127.0.0.1:0 \
    --lock=handler --idle=1s -s 9223372036854775807) >served 2>&1 &
server=$!
for try in 1 2 3 4 5 6 7 8 9 10; do
	grep -qs '^listening on' served && break
	sleep 0.1
done
address=$(sed -n 's/^listening on \([^,]*\),.*/\1/p' served)
python3 -c 'import resource, socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
def connect():
    s = socket.create_connection((host, int(port)), timeout=5)
    return s, s.makefile("rb")
def ask(s, f, line):
    s.sendall(line)
    return f.readline().decode().rstrip("\n")
s, f = connect()
print(ask(s, f, b"add 1\n"))
print(ask(s, f, b"get" + b" " * 60 + b"\n")[:13])
print(ask(s, f, b"get" + b" " * 61 + b"\n"))
try:
    print(f.readline() == b"" and "closed")
except OSError:
    print("closed")
s, f = connect()
print(ask(s, f, b"read\n"))
began = time.time()
t, g = connect()
print(ask(t, g, b"read\n"), 0.8 < time.time() - began < 3)
print(f.readline().decode().rstrip("\n"), f.readline())
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
socks = [socket.create_connection((host, int(port)), timeout=10)
    for i in range(500)]
for c in socks:
    c.sendall(b"get\n")
print(sum(c.makefile("rb").readline().startswith(b"value ") for c in socks))' \
    "$address" >got
is "$(sed -n 1p got)" "value -9223372036854775808" "add: the count wraps"
is "$(sed -n 2,4p got | tr '\n' '|')" \
    "error unknown|error line too long: at most 63 bytes|closed|" \
    "63 bytes are a line, 64 too long, and the connection is closed"
is "$(sed -n 5,7p got | tr '\n' '|')" \
    "value -9223372036854775808|value -9223372036854775808 True|error idle too long: closed b''|" \
    "a silent holder is closed after --idle, and its lock released"
if [ "$(ulimit -H -n)" = unlimited ] || [ "$(ulimit -H -n)" -ge 1024 ]; then
	is "$(sed -n 8p got)" 500 "a soft limit of 128: the server raises it"
else
	skip "the hard limit on descriptors is below 1024"
fi
# A client that reads the value, then sends and never reads the replies,
# is closed once a reply waits --idle to be taken, and its lock released.
python3 -c 'import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)))
s.sendall(b"read\n")
s.setblocking(False)
quiet = 0
while quiet < 20:
    try:
        s.send(b"get\n" * 4096)
        quiet = 0
    except BlockingIOError:
        quiet += 1
        time.sleep(0.01)
    except OSError:
        break
t = socket.create_connection((host, int(port)), timeout=5)
t.sendall(b"read\n")
try:
    print(t.makefile("rb").readline().decode().split()[0])
except OSError as e:
    print("no answer: %s" % e)' "$address" >got
is "$(cat got)" value "a client that never reads its replies: closed, lock released"
kill -TERM "$server"
wait "$server"

# The run's own server stopped mid-run: the workers time out, the final
# count cannot be read, and the stopped server is killed, not waited for.
perl -e 'exec @ARGV or die' timeout -s KILL 15 "$PROCCOUNT" -b server \
    --lock=update -i 1 -d 1 -t 3s --timeout=100ms >out 2>err &
pid=$!
for try in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	main=$(pgrep -P "$pid")
	[ -n "$main" ] && served=$(ps --ppid "$main" -o pid=,nlwp= |
	    awk '$2 > 1 { print $1 }')
	[ -n "$served" ] && break
	sleep 0.1
done
sleep 0.2
kill -STOP $served
wait "$pid"
is "$?" 4 "a stopped server: exit 4, not a hang"
grep -q "^final unknown (.*/socket: does not answer: the server is stopped or stuck)" out
ok $? "a stopped server: the report says it does not answer"
running "$served"
ok $((! $?)) "a stopped server: killed and reaped"
is "$(ls tmp)" "" "a stopped server: nothing left in TMPDIR"

# The next run sweeps the directories of runs killed outright, but not a
# link named like one: the file named socket where it points stays.
sh -c 'exit 0' &
dead=$!
wait "$dead"
mkdir victim
: >victim/socket
ln -s "$scratch/victim" "tmp/proccount-server-$dead.XXXXXX"
pc -b shm -n 10 -q
[ -e victim/socket ]
ok $? "the sweep follows no link"
rm "tmp/proccount-server-$dead.XXXXXX"

# Servers that cannot start: exit 3, one line, nothing left.
python3 -c 'import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
print(s.getsockname()[1], flush=True)
time.sleep(10)' >taken &
holder=$!
for try in 1 2 3 4 5 6 7 8 9 10; do
	[ -s taken ] && break
	sleep 0.1
done
pc -b server --listen=127.0.0.1:"$(cat taken)" -n 5
is "$rc:$(cat err)" \
    "3:proccount: a counter server: 127.0.0.1:$(cat taken): Address already in use" \
    "--listen on a port in use: exit 3"
kill "$holder"
TMPDIR=$scratch/no/such/dir pc -b server -n 5
is "$rc:$(lines err)" "3:1" "TMPDIR that is not there: exit 3, one line"
grep -q "^proccount: a counter server: $scratch/no/such/dir/proccount-server-" err
ok $? "TMPDIR that is not there: the message names it"
long=$scratch/$(printf '%0100d' 0)
mkdir "$long"
TMPDIR=$long pc -b server -n 5
is "$rc:$(lines err)" "3:1" "a TMPDIR too long for a socket's path: exit 3, one line"
grep -q "a Unix socket's path is at most 107 bytes (TMPDIR)$" err
ok $? "a TMPDIR too long: the message says so"
is "$(ls -A "$long")" "" "a TMPDIR too long: its directory removed"
is "$(ls tmp)" "" "nothing left by the servers that could not start"

# serve on a Unix socket: one left by a server killed outright is taken
# over, a live server's is not, nor is a file that is no socket.
serve_path() {
	"$PROCCOUNT" serve --listen="$scratch/$1" >"$1.out" 2>"$1.err" &
	server=$!
	for try in $(seq 50); do
		grep -qs '^listening on' "$1.out" && return 0
		sleep 0.1
	done
	return 1
}
serve_path sock
ok $? "serve on a Unix socket: listening"
kill -KILL "$server"
wait "$server" 2>/dev/null
[ -S sock ]
ok $? "serve killed outright leaves its socket"
serve_path sock
ok $? "the next serve at that path takes the stale socket over"
live=$server
"$PROCCOUNT" serve --listen="$scratch/sock" >second.out 2>second.err
is "$?:$(cat second.err)" "3:proccount: $scratch/sock: Address already in use" \
    "a live server's socket is not taken: exit 3, one line"
is "$(python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"get\nquit\n")
print(s.makefile().readline().strip())' "$scratch/sock")" "value 0" \
    "the live server still answers"
kill -TERM "$live"
wait "$live"
is "$?:$([ -e sock ] && echo left)" "0:" "serve ends on SIGTERM and removes its socket"
echo text >notsock
"$PROCCOUNT" serve --listen="$scratch/notsock" >/dev/null 2>notsock.err
is "$?:$(cat notsock):$(cat notsock.err)" \
    "3:text:proccount: $scratch/notsock: Address already in use" \
    "a file that is no socket is left alone: exit 3"

done_testing
