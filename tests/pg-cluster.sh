#!/bin/sh
# A throwaway PostgreSQL cluster for the pg tests and CI:
#
#   pg-cluster.sh start DIR   makes a cluster in DIR (a new, empty
#                             directory), starts it on a Unix socket in DIR
#                             and a free TCP port on 127.0.0.1, and prints
#                             the settings to export, as shell assignments
#   pg-cluster.sh stop DIR    stops it at once and removes DIR
#
# The server refuses to run as root: as root, the cluster belongs to
# nobody, and runs as nobody.  Its superuser is proccount, trusted over the
# socket and loopback; the role proccount_pw must give its password
# (right) over loopback, for the test of a wrong one; it may do anything
# proccount does.  Exits 1, saying
# why, when no server can be started here.
set -eu

bindir=${PG_BINDIR:-}
if [ -z "$bindir" ]; then
	if command -v pg_ctl >/dev/null 2>&1; then
		bindir=$(dirname "$(readlink -f "$(command -v pg_ctl)")")
	else
		bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V |
		    tail -n 1)
	fi
fi

# as_owner CMD...: runs CMD as the cluster's owner.
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --reuid=nobody --regid="$(id -g nobody)" \
		    --clear-groups -- "$@"
	else
		"$@"
	fi
}

case ${1:-} in
start)
	dir=$2
	if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
		echo "no PostgreSQL server binaries (initdb, pg_ctl) here" >&2
		exit 1
	fi
	mkdir -p "$dir"
	[ "$(id -u)" -eq 0 ] && chown nobody "$dir"
	chmod 700 "$dir"
	if ! as_owner "$bindir/initdb" -D "$dir/data" -U proccount \
	    --auth=trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1; then
		echo "initdb failed: $(tail -n 1 "$dir/initdb.log")" >&2
		exit 1
	fi
	cat >"$dir/data/pg_hba.conf" <<-EOF
	local	all	proccount_pw		scram-sha-256
	host	all	proccount_pw	127.0.0.1/32	scram-sha-256
	local	all	all			trust
	host	all	all	127.0.0.1/32	trust
	EOF
	# A port nobody listens on, from a range of its own: the next one
	# when the server finds it taken.
	port=$((20000 + $$ % 20000))
	tries=0
	until as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" \
	    -w -t 30 -o "-k $dir -p $port -h 127.0.0.1 -c fsync=off \
	    -c synchronous_commit=off -c full_page_writes=off \
	    -c max_connections=100" start >/dev/null 2>&1; do
		tries=$((tries + 1))
		if [ $tries -ge 5 ]; then
			echo "the server did not start: $(tail -n 2 \
			    "$dir/server.log" | tr '\n' ' ')" >&2
			exit 1
		fi
		port=$((port + 1))
	done
	"$bindir/psql" -h "$dir" -p "$port" -U proccount -d postgres -qAt \
	    -c "CREATE ROLE proccount_pw LOGIN SUPERUSER PASSWORD 'right'" >/dev/null
	echo "PGHOST=$dir PGPORT=$port PGUSER=proccount PGDATABASE=postgres" \
	    "PG_BINDIR=$bindir"
	;;
stop)
	dir=$2
	if [ -d "$dir/data" ]; then
		as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop \
		    >/dev/null 2>&1 || true
	fi
	rm -rf "$dir"
	;;
*)
	echo "usage: pg-cluster.sh start|stop DIR" >&2
	exit 2
	;;
esac
