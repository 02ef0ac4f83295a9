#!/bin/sh
# What proccount bench makes and removes.  The chart replaces its file only
# when the bench succeeds: a file there before survives a bench that fails
# or is interrupted, unchanged, and a device such as /dev/null is written
# to and never removed.  The file backend's counter lives in a private
# directory in $TMPDIR, removed at the end, however the bench ends; nothing
# is made in the current directory.
. "$(dirname "$0")/lib.sh"

tiny="-w 1 -t 50ms -r 1"
mkdir tmp
export TMPDIR="$scratch/tmp"

# What a directory holds, hidden files too, on one line.
holds() {
	ls -A "$1" | tr '\n' ' '
}

# bench_interrupted SIGNAL ARGS...: starts a long bench, sends SIGNAL once
# its first run is under way, and leaves its exit in $rc.  A shell without
# job control starts background jobs ignoring SIGINT; perl gives it back.
bench_interrupted() {
	sig=$1
	shift
	perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV or die' \
	    timeout -s KILL "$LIMIT" "$PROCCOUNT" bench "$@" >out 2>err &
	pid=$!
	bench=""
	for try in $(seq 100); do
		bench=$(pgrep -P $pid -x proccount)
		[ -n "$bench" ] && [ -n "$(pgrep -P "$bench")" ] && break
		sleep 0.1
	done
	sleep 0.3
	kill -s "$sig" "$bench"
	wait $pid
	rc=$?
}

# A chart there before: kept as it was when a run fails or is interrupted.
echo "the chart of yesterday" >chart.svg
chmod 640 chart.svg
pc bench -l flock $tiny -f no/such/dir/counter.txt --plot=chart.svg
is "$rc" 3 "a run that fails: exit 3"
is "$(cat chart.svg)" "the chart of yesterday" "the chart there before is unchanged"
is "$(holds .)" "chart.svg err out tmp " "and no temporary file is left beside it"
for spec in "INT 130" "TERM 143"; do
	set -- $spec
	bench_interrupted "$1" -l mutex -w 1 -t 10s -r 3 --plot=chart.svg
	is "$rc" "$2" "SIG$1 during the bench: exit $2"
	is "$(cat chart.svg)" "the chart of yesterday" "SIG$1: the chart there before is unchanged"
	is "$(holds .)" "chart.svg err out tmp " "SIG$1: no temporary file left"
done
pc bench -l mutex $tiny --plot=chart.svg
is "$rc:$(head -c 5 chart.svg)" "0:<?xml" "a bench that succeeds replaces it"
is "$(stat -c %a chart.svg)" 640 "keeping its mode"
is "$(holds .)" "chart.svg err out tmp " "no temporary file left"

# Through a symbolic link: the file it points to is replaced, the link stays.
mkdir charts
echo old >charts/real.svg
ln -s charts/real.svg link.svg
pc bench -l mutex $tiny --plot=link.svg
is "$rc:$(readlink link.svg):$(head -c 5 charts/real.svg)" "0:charts/real.svg:<?xml" \
    "a link to the chart stays a link, and its file is replaced"
is "$(holds charts)" "real.svg " "no temporary file beside it"
rm -r charts link.svg

# A new chart gets the mode fopen would give it.
(umask 027 && "$PROCCOUNT" bench -l atomic $tiny --plot=new.svg >/dev/null 2>&1)
is "$(stat -c %a new.svg)" 640 "a new chart's mode follows the umask"
rm new.svg

# A device is written to, never removed: a null device of our own, so that
# the real /dev/null is never at risk.
if mknod null c 1 3 2>/dev/null; then
	pc bench -l mutex $tiny --plot=null
	is "$rc" 0 "a device as the chart: exit 0"
	[ -c null ]
	ok $? "the device is still there"
	bench_interrupted INT -l mutex -w 1 -t 10s -r 3 --plot=null
	is "$rc" 130 "interrupted, with a device as the chart: exit 130"
	[ -c null ]
	ok $? "the device is still there"
	is "$(holds .)" "chart.svg err null out tmp " "and nothing else was made"
	rm null
else
	skip "cannot make a device node here (mknod: not root?)"
fi
pc bench -l mutex $tiny --plot=.
is "$rc:$(cat err)" "3:proccount: .: Is a directory" "a directory as the chart: exit 3"

# The counter of the file backend's runs: nowhere in the current directory.
mkdir empty
cd empty
pc bench -l flock,none -b file $tiny --format=csv
is "$rc:$(grep -v '^#' out | sed 1d | cut -d, -f1,2 | tr '\n' ' ')" "0:file,flock file,none " \
    "bench with the file backend: exit 0"
is "$(holds .)" "err out " "nothing made in the current directory"
is "$(holds "$TMPDIR")" "" "its private directory is removed"
pc bench -l flock $tiny -f ../mine.txt
file_value ../mine.txt >/dev/null
is "$rc:$?" "0:0" "--file: the counter is there, as named"
rm ../mine.txt
for sig in INT TERM; do
	bench_interrupted $sig -l flock -w 1 -t 10s -r 3
	is "$(holds .)" "err out " "SIG$sig: nothing made in the current directory"
	is "$(holds "$TMPDIR")" "" "SIG$sig: the private directory is removed"
done
pc bench -l flock $tiny -f no/such/dir/counter.txt
is "$rc:$(holds "$TMPDIR")" "3:" "a run that fails: the private directory is removed"
TMPDIR=$scratch/no/such/dir timeout -s KILL "$LIMIT" "$PROCCOUNT" bench \
    -l flock $tiny >out 2>err
rc=$?
is "$rc:$(cat err)" "3:proccount: $scratch/no/such/dir/proccount-bench.XXXXXX: No such file or directory" \
    "a TMPDIR that does not exist: exit 3, named"
cd ..

done_testing
