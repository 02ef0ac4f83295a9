#!/bin/sh
# Each file lock kind takes the kernel lock it names, and gives it back
# after every update.  /proc/locks shows the lock of --lock=flock as FLOCK,
# of fcntl as POSIX, of ofd as OFDLCK; and in a timed run with several
# workers every worker makes progress, and a program outside proccount
# takes the same kind of lock between two updates.  Exact counts alone
# cannot tell: a lock that is never released also keeps them exact.
. "$(dirname "$0")/lib.sh"

# locks_on PATH: the locks that /proc/locks shows held on PATH, as "TYPE
# ACCESS", sampled until five were seen or 5 s passed; "none" if none was.
# Waiters ("->") are not holders.  Only the inode is matched: on overlay
# filesystems /proc/locks names another device than stat(2) does.
locks_on() {
	python3 - "$1" <<'PY'
import os, sys, time
seen, sightings, ino = set(), 0, None
give_up = time.monotonic() + 5
while time.monotonic() < give_up and sightings < 5:
    try:
        ino = ino or os.stat(sys.argv[1]).st_ino
    except FileNotFoundError:
        time.sleep(0.005)
        continue
    for line in open("/proc/locks"):
        field = line.split()
        if field[1] != "->" and int(field[5].split(":")[2]) == ino:
            seen.add(field[1] + " " + field[3])
            sightings += 1
    time.sleep(0.01)
print(" ".join(sorted(seen)) or "none")
PY
}

# outside KIND PATH: another program, on its own open file, takes the lock
# that proccount's KIND takes, once the run has made ten updates; reads the
# value twice while holding it, 100 ms apart; lets go; and sees a worker
# update the value after.  Every wait is bounded.
outside() {
	python3 - "$1" "$2" <<'PY'
import fcntl, os, signal, struct, sys, time
kind, path = sys.argv[1], sys.argv[2]

def value():
    try:
        with open(path, "rb") as f:
            return int(f.read())
    except (FileNotFoundError, ValueError):
        return None     # not made yet, or read in the middle of a write

def wait_for(what, seconds):
    give_up = time.monotonic() + seconds
    while not what():
        if time.monotonic() > give_up:
            return False
        time.sleep(0.001)
    return True

def record(fd, command, type_):
    # struct flock: the whole file, as proccount locks it.
    fcntl.fcntl(fd, command, struct.pack("hhqqi4x", type_, os.SEEK_SET, 0, 0, 0))

take = {
    "flock": lambda fd: fcntl.flock(fd, fcntl.LOCK_EX),
    "fcntl": lambda fd: record(fd, fcntl.F_SETLKW, fcntl.F_WRLCK),
    "ofd": lambda fd: record(fd, getattr(fcntl, "F_OFD_SETLKW", 38), fcntl.F_WRLCK),
}[kind]
give = {
    "flock": lambda fd: fcntl.flock(fd, fcntl.LOCK_UN),
    "fcntl": lambda fd: record(fd, fcntl.F_SETLK, fcntl.F_UNLCK),
    "ofd": lambda fd: record(fd, getattr(fcntl, "F_OFD_SETLK", 37), fcntl.F_UNLCK),
}[kind]

class Late(Exception):
    pass

def stop(why):
    print(why)
    sys.exit(1)

def late(signo, frame):
    raise Late()

if not wait_for(lambda: (value() or 0) >= 10, 5):
    stop("the run made no ten updates in 5 s")
fd = os.open(path, os.O_RDWR)
signal.signal(signal.SIGALRM, late)
signal.setitimer(signal.ITIMER_REAL, 2)
try:
    take(fd)
except Late:
    stop("the lock was not free once in 2 s")
signal.setitimer(signal.ITIMER_REAL, 0)
before = int(os.pread(fd, 21, 0))
time.sleep(0.1)
after = int(os.pread(fd, 21, 0))
give(fd)
if before != after:
    stop("the value changed while the lock was held: %d, %d" % (before, after))
if not wait_for(lambda: (value() or 0) > after, 2):
    stop("no update after the lock was given back")
print("taken; nothing changed while held; updated after")
PY
}

if [ ! -r /proc/locks ]; then
	for i in 1 2 3 4 5 6 7 8 9; do skip "no /proc/locks"; done
	done_testing
	exit
fi

for spec in "flock FLOCK" "fcntl POSIX" "ofd OFDLCK"; do
	set -- $spec
	timeout -s KILL "$LIMIT" "$PROCCOUNT" -b file --lock="$1" -f "held-$1.txt" \
	    -i 1 -d 1 -n 6 --delay=50ms --json >out 2>err &
	pid=$!
	seen=$(locks_on "held-$1.txt")
	wait $pid
	rc=$?
	is "$seen" "$2 WRITE" "$1: /proc/locks shows a $2 write lock, and no other"
	is "$rc:$(json 'd["final"], d["correct"]')" "0:(0, True)" "$1: exact"
done

for kind in flock fcntl ofd; do
	timeout -s KILL "$LIMIT" "$PROCCOUNT" -b file --lock="$kind" \
	    -f "run-$kind.txt" -i 4 -d 0 -t 1s --json >out 2>err &
	pid=$!
	seen=$(outside "$kind" "run-$kind.txt")
	wait $pid
	rc=$?
	is "$seen" "taken; nothing changed while held; updated after" \
	    "$kind: a program outside takes the lock between two updates"
	is "$rc:$(json 'd["correct"], len(d["workers"]), all(w["updates"] > 0 for w in d["workers"])')" \
	    "0:(True, 4, True)" "$kind: exact, and every worker made progress"
done

done_testing
