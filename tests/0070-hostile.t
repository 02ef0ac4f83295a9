#!/bin/sh
# Hostile surroundings: a counter path that is a directory, a FIFO, a
# dangling symlink, on a read-only filesystem or without permission; a file
# replaced or truncated during the run.  Each gets one clear line and its
# exit status, never a hang or a crash, and nothing is left behind.
. "$(dirname "$0")/lib.sh"

# fails STATUS MESSAGE-PART ARGS...
fails() {
	want_rc=$1
	want=$2
	shift 2
	pc "$@"
	is "$rc" "$want_rc" "exit $want_rc for: $*"
	is "$(lines err)" 1 "one line on stderr for: $*"
	grep -q -- "$want" err
	ok $? "'$want' for: $*"
}

mkdir adir
fails 3 "adir: Is a directory" -b file --lock -f adir -n 10
is "$(ls adir)" "" "the directory is untouched"

mkfifo afifo
fails 3 "afifo: is not a regular file" -b file --lock -f afifo -n 10
[ -p afifo ]
ok $? "the FIFO is still a FIFO"

ln -s nowhere/counter.txt dangling
fails 3 "dangling: is a dangling symbolic link" -b file -f dangling -n 10
[ ! -e nowhere ]
ok $? "nothing was created behind the dangling link"
ln -s missing.txt dangling2
fails 3 "dangling2: is a dangling symbolic link" -b file -f dangling2 -n 10
[ ! -e missing.txt ]
ok $? "not even in this directory"

# A symlink to a real file is followed.
echo 5 >real.txt
ln -s real.txt link.txt
pc -b file --lock -f link.txt -n 10 -s 3
is "$rc:$(file_value real.txt)" "0:3" "a symlink to a file is followed"

fails 3 "nosuchdir/counter.txt: No such file or directory" \
    -b file -f nosuchdir/counter.txt -n 10
[ ! -e nosuchdir ]
ok $? "no directory was made"

# Read-only filesystem: a tmpfs mounted read-only, where that is allowed.
mkdir ro
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o ro,size=64k tmpfs ro 2>/dev/null; then
	fails 3 "ro/counter.txt: Read-only file system" -b file -f ro/counter.txt -n 10
	umount ro
else
	skip "cannot mount a read-only filesystem here"
	skip "cannot mount a read-only filesystem here"
	skip "cannot mount a read-only filesystem here"
fi

# No permission: as an unprivileged user, where this test can become one.
mkdir locked
echo 1 >locked/counter.txt
chmod 444 locked/counter.txt
chmod 555 locked
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	chmod 755 "$scratch"
	nobody() {
		setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
	}
	nobody timeout -s KILL 30 "$PROCCOUNT" -b file -f locked/counter.txt -n 10 >out 2>err
	is "$?" 3 "a file without write permission: exit 3"
	grep -q "locked/counter.txt: Permission denied" err
	ok $? "the message names the path and the reason"
	nobody timeout -s KILL 30 "$PROCCOUNT" -b file -f locked/new.txt -n 10 >out 2>err
	is "$?" 3 "a directory without write permission: exit 3"
	grep -q "locked/new.txt: Permission denied" err
	ok $? "the message names the path and the reason"
	is "$(cat locked/counter.txt)" 1 "the file is untouched"
else
	for i in 1 2 3 4 5; do skip "cannot run as an unprivileged user"; done
fi
chmod 755 locked

# Replaced during the run: the workers keep the file they opened; the end
# of the run sees that the path now names another file.
echo 999 >other.txt
background_run() {
	timeout -s KILL 30 "$PROCCOUNT" "$@" >out 2>err &
	pid=$!
}
background_run -b file --lock=flock -i 1 -d 1 -n 2000 --delay=200us
sleep 0.2
mv other.txt counter.txt
wait $pid
is "$?" 3 "replaced during the run: exit 3"
is "$(lines err)" 1 "one line on stderr"
grep -q "counter.txt: was replaced or removed during the run" err
ok $? "the message says it was replaced"
is "$(cat counter.txt)" 999 "the new file is left alone"

# Truncated again and again during the run: a worker finds no number.
background_run -b file --lock=fcntl -i 2 -d 2 -n 1G
sleep 0.2
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	: >counter.txt
	sleep 0.02
done
wait $pid
is "$?" 3 "truncated during the run: exit 3"
grep -q "counter.txt: read by worker [0-9]*: holds no valid counter" err
ok $? "the message says the counter is not valid"
is "$(lines err)" 1 "one line on stderr"

# Garbage written during a run with no lock: the same.
background_run -b file -i 1 -d 1 -n 1G
sleep 0.2
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	echo garbage >counter.txt
	sleep 0.02
done
wait $pid
is "$?" 3 "garbage written during the run: exit 3"

# Removed during the run.  (The garbage left above would be refused.)
rm -f counter.txt
background_run -b file --lock=ofd -i 1 -d 1 -n 500 --delay=1ms
sleep 0.2
rm counter.txt
wait $pid
is "$?" 3 "removed during the run: exit 3"
grep -q "was replaced or removed during the run" err
ok $? "the message says so"

done_testing
