#!/bin/sh
# The command line: --help, --version, and every kind of bad input, which
# gets one line on stderr, exit status 2, and leaves nothing behind.
. "$(dirname "$0")/lib.sh"

pc --help
is "$rc" 0 "--help exits 0"
grep -q '^usage: proccount' out
ok $? "--help prints the usage to stdout"
is "$(lines err)" 0 "--help prints nothing on stderr"
pc -h
is "$rc" 0 "-h exits 0"
pc --version
is "$rc" 0 "--version exits 0"
grep -q '^proccount [0-9]' out
ok $? "--version prints the version"

# Every option that --help lists is in the manual, and the reverse.
pc --help
for opt in $(grep -o -- '--[a-z]*' out | sort -u); do
	grep -q -- "Fl -${opt#--}" "$top/man/proccount.1"
	ok $? "the manual documents $opt"
done

# bad ARGS... MESSAGE-PART: exit 2, one line naming the problem, no file.
bad() {
	want=$1
	shift
	rm -f counter.txt
	pc "$@"
	is "$rc" 2 "exit 2 for: $*"
	is "$(lines err)" 1 "one line on stderr for: $*"
	grep -q -- "$want" err
	ok $? "the message says '$want' for: $*"
	[ -s out ]
	ok $((! $?)) "nothing on stdout for: $*"
	[ ! -e counter.txt ]
	ok $? "no counter file for: $*"
}

bad "unknown option '--frobnicate'" --frobnicate
bad "unknown option '-x'" -x
bad "needs a value" --backend
bad "needs a value" -n
bad "unknown backend 'disk'" --backend=disk
bad "no lock kind 'mutex': choose flock, fcntl, ofd or none" --backend=file --lock=mutex
bad "no lock kind 'flock': choose mutex, rmutex, sem, spin, rwlock, atomic or none" --backend=shm -l flock
bad "no lock kind 'bogus'" -b file --lock=bogus
bad "write --lock=fcntl" -b file --lock fcntl
bad "unexpected argument 'extra'" extra
bad "--file is for --backend=file" --backend=shm --file=x.txt
bad "--file: the path is empty" -b file --file=
bad "no workers" -b file -i 0 -d 0
bad "at most 4096" -b file -i 4000 -d 97
bad "too large" -i 5000
bad "not a number" -b file -i two
bad "must not be negative" -b file -d -1
bad "not a number" -b file -n ''
bad "not a number" -b file -n 12abc
bad "too large" -b file -n 99999999999999999999
bad "must not be negative" -b file -n -5
bad "must be at least 1" -b file -n 0
bad "not a number" -b file --start=zero
bad "out of range" -b file --start=99999999999999999999
bad "range of a 64-bit integer" -b file --start=9223372036854775000 -n 1000
bad "range of a 64-bit integer" -b file --start=-9223372036854775000 -d 2 -n 1000
bad "not a duration" -b file --delay=fast
bad "must not be negative" -b file --delay=-1ms
bad "too long" -b file --delay=2h
bad "must be more than zero" -b file --timeout=0
bad "too long" -b file --timeout=100000h
bad "must be more than zero" -b file --duration=0s
bad "choose one" -b file -n 10 -t 1s
bad "choose one" -b file -q -v
bad "beyond the 10 updates" -b file -n 10 --crash=11
bad "must be at least 1" -b file --crash=0
bad "no incrementer to crash" -b file -i 0 -d 1 --crash=1
bad "--pin 'everywhere': choose spread or none" -b file --pin=everywhere

# A bad value must not touch an existing counter file either.
echo 12345 >kept.txt
pc -b file -f kept.txt -n 0
is "$rc" 2 "exit 2 with an existing file"
is "$(cat kept.txt)" 12345 "the existing file is untouched"

done_testing
