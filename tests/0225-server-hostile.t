#!/bin/sh
# Bad input never brings the server down: malformed lines, a line too
# long, a client that says nothing, one that hangs up in the middle of a
# line or of an update, and two thousand connections at once each get an
# error or a closed connection, while a run's clients go on and their
# count stays exact.
. "$(dirname "$0")/lib.sh"

# The hostile client: each of its checks prints one line, "ok" or what
# went wrong.
cat >hostile.py <<'EOF'
import resource, socket, sys, time

host, port = sys.argv[1].rsplit(":", 1)
address = (host, int(port))
what = sys.argv[2]

def connect():
    s = socket.create_connection(address, timeout=5)
    return s, s.makefile("rb")

def ask(s, f, line):
    s.sendall(line)
    return f.readline().decode(errors="replace").rstrip("\n")

def closed(f):
    try:
        return f.readline() == b""
    except OSError:
        return True

def check(name, good):
    print("ok" if good else "not ok: " + name)

if what == "lines":
    s, f = connect()
    for line in (b"bogus\n", b"write x\n", b"write 5\n", b"add\n",
                 b"add 99999999999999999999\n", b"\n", b"get\x00junk\n",
                 b"GET\n", b"write 1 2\n"):
        check(repr(line), ask(s, f, line).startswith("error "))
    # The run's clients may hold the lock now, or not.
    check("held", ask(s, f, b"held\n") in ("held yes", "held no"))
    check("read", ask(s, f, b"read\n").startswith("value "))
    check("held when read", ask(s, f, b"held\n") == "held yes")
    check("read twice", ask(s, f, b"read\n").startswith("error "))
    check("add while reading", ask(s, f, b"add 1\n").startswith("error "))
    # Writes back what it read: the count does not change.
    value = ask(s, f, b"get\n").split()[1]
    check("write", ask(s, f, b"write " + value.encode() + b"\n") == "ok")
    check("hello", ask(s, f, b"hello\r\n") ==
          "hello proccount lock=update serve=threads")
    check("quit", ask(s, f, b"quit\n") == "bye" and closed(f))
elif what == "long":
    s, f = connect()
    s.sendall(b"g" * 100 + b"\n")
    check("long line", f.readline().startswith(b"error line too long")
          and closed(f))
    s, f = connect()
    s.sendall(b"write " + b"1" * 60)
    check("long number", f.readline().startswith(b"error line too long")
          and closed(f))
elif what == "silent":
    s, f = connect()
    began = time.time()
    check("silent", f.readline().startswith(b"error idle") and closed(f)
          and time.time() - began < 4)
elif what == "hangups":
    # In the middle of a line, and in the middle of updates, holding the
    # lock: a hundred times each.
    for i in range(100):
        s, f = connect()
        s.sendall(b"wri")
        s.close()
        s, f = connect()
        check("read", ask(s, f, b"read\n").startswith("value "))
        s.close()
    print("ok")
elif what == "flood":
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    n = min(2000, hard - 64)
    socks = []
    for i in range(n):
        s = socket.socket()
        s.settimeout(10)
        s.connect(address)
        s.sendall(b"get\n")
        socks.append(s)
    answered = refused = 0
    for s in socks:
        try:
            line = s.makefile("rb").readline()
        except OSError:
            line = b""
        if line.startswith(b"value "):
            answered += 1
        else:
            refused += 1
        s.close()
    print("%d %d" % (answered, refused))
EOF

# serve_at LIMIT ARGS...: proccount serve in the background, with at most
# LIMIT open descriptors; $server, and $address where it listens.
serve_at() {
	limit=$1
	shift
	(ulimit -n "$limit" && exec "$PROCCOUNT" serve --listen=127.0.0.1:0 \
	    "$@") >served 2>&1 &
	server=$!
	for try in 1 2 3 4 5 6 7 8 9 10; do
		grep -q '^listening on' served && break
		sleep 0.1
	done
	address=$(sed -n 's/^listening on \([^,]*\),.*/\1/p' served)
}

hostile() {
	timeout -s KILL 30 python3 hostile.py "$address" "$1"
}

serve_at 20000 --lock=update --idle=1s -s 500
[ -n "$address" ]
ok $? "serve listens at $address"
# A run's clients, for as long as the hostile ones take.
timeout -s KILL 30 "$PROCCOUNT" --connect="$address" -i 2 -d 2 -t 2s --json \
    >run.json 2>run.err &
run=$!
sleep 0.2
is "$(hostile lines | sort | uniq -c | sed 's/^ *//')" "17 ok" \
    "malformed lines: an error each, and the connection stays"
is "$(hostile long | sort | uniq -c | sed 's/^ *//')" "2 ok" \
    "a line too long: an error, and the connection closed"
is "$(hostile silent)" "ok" "a silent client: closed after --idle"
is "$(hostile hangups | sort -u)" "ok" \
    "hangups mid-line and mid-update: the lock is released each time"
is "$(hostile flood)" "2000 0" "2000 connections at once: each answered"
wait "$run"
is "$?" 0 "the run beside them: exit 0"
mv run.json out
is "$(json 'd["final"] == d["expected"] and d["start"] == 500 and d["updates"] > 0')" \
    True "the run beside them: exact"
final=$(json 'd["final"]')
pc --connect="$address" -i 3 -d 1 -n 100 --json
is "$rc:$(json '(d["start"], d["final"])')" "0:($final, $((final + 200)))" \
    "the server still serves, exactly"
# Another client's update during a --connect run is no lost update: one
# beyond what lost updates can make is another program's, exit 5.
# The outsider learns the count, then adds once the run's clients have
# changed it: after the run began, and long before it ends.
python3 -c 'import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=5)
f = s.makefile()
def ask(line):
    s.sendall(line)
    return f.readline().split()
first = ask(b"get\n")[1]
open("watching", "w").close()
until = time.time() + 20
while ask(b"get\n")[1] == first and time.time() < until:
    time.sleep(0.001)
print(ask(b"add 1000000000\n")[0])' "$address" >added &
outsider=$!
for try in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	[ -e watching ] && break
	sleep 0.1
done
timeout -s KILL 30 "$PROCCOUNT" --connect="$address" -i 1 -d 1 -t 1s \
    --json >run.json 2>run.err
rc=$?
wait "$outsider"
is "$rc:$(cat added)" "5:value" "an outsider's add during a --connect run: exit 5"
mv run.json out
is "$(json 'd["outside"] and d["final"] - d["expected"] == 1000000000')" True \
    "the report says the counter was changed from outside, by the add"
final=$(json 'd["final"]')
kill -TERM "$server"
wait "$server"
is "$?:$(tail -n 1 served)" "0:final $final" \
    "serve ends on SIGTERM with the exact count"

# Out of descriptors: the connections beyond them are closed at once, and
# the server goes on.  How many wait in the listening socket's backlog
# until the first are closed, and are answered then, is the scheduler's:
# a slow server (under a sanitizer, say) answers them all.
serve_at 128 --lock=handler
flood=$(hostile flood)
answered=${flood% *}
refused=${flood#* }
[ "$answered" -gt 0 ] && [ $((answered + refused)) -eq 2000 ]
ok $? "2000 connections, 128 descriptors: each answered or closed ($flood)"
pc --connect="$address" -i 2 -d 2 -n 100 --json
is "$rc:$(json 'd["final"]')" "0:0" "then a run: exit 0, exact"
kill -INT "$server"
wait "$server"
is "$?:$(tail -n 1 served)" "0:final 0" "serve ends on SIGINT"

done_testing
