#!/bin/sh
# make bench: for each lock kind, proccount's ns per update next to the
# floor's (bench/floor: the cheapest loop doing the same work with the same
# workers, each kept on its own CPU as proccount --pin=spread keeps them),
# each the median of REPEAT runs taken in turns, and their ratio.
# One row a kind, or with AS=both two: the "as" column says whether the
# workers were processes or threads.
#
#   AS        processes (default), threads (proccount --threads, floor -T)
#             or both
#   WORKERS   workers per run, half incrementers (default 2)
#   REPEAT    runs of each program per kind (default 5)
#   KINDS     the kinds to measure (default all)
#   BENCH_DIR where the counter file lives: measure your own filesystem
#             (default a fresh directory under ${TMPDIR:-/tmp})
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
workers=${WORKERS:-2}
repeat=${REPEAT:-5}
kinds=${KINDS:-"flock fcntl ofd file-none mutex sem spin atomic none"}
dir=${BENCH_DIR:-}
case ${AS:-processes} in
processes|threads) as_list=${AS:-processes} ;;
both) as_list="processes threads" ;;
*) echo "bench.sh: AS must be processes, threads or both" >&2; exit 2 ;;
esac
made=""
if [ -z "$dir" ]; then
	dir=$(mktemp -d "${TMPDIR:-/tmp}/proccount-bench.XXXXXX")
	made=$dir
fi
trap '[ -n "$made" ] && rm -rf "$made"; rm -f "$dir/bench-counter.txt"' EXIT
incs=$(((workers + 1) / 2))
decs=$((workers - incs))

median() {
	sort -n | awk '{ v[NR] = $1 } END { printf "%.1f\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# About a third of a second a run on a 2020s machine.
updates_for() {
	case $1 in
	flock|fcntl|ofd) echo 150000 ;;
	file-none) echo 300000 ;;
	mutex|sem) echo 2000000 ;;
	spin) echo 4000000 ;;
	*) echo 20000000 ;;
	esac
}

printf '%s, %s CPUs, %s; %s workers, median of %s runs\n' \
    "$(uname -sr)" "$(nproc)" \
    "$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)" \
    "$workers" "$repeat"
printf 'counter file in %s (%s)\n\n' "$dir" \
    "$(df -T "$dir" | awk 'NR == 2 { print $2 }')"
printf '%-10s %-9s %12s %12s %7s\n' kind as proccount floor ratio
for kind in $kinds; do
	n=$(updates_for "$kind")
	per_worker=$((n / workers))
	case $kind in
	file-none) pc_args="-b file -l none"; floor_kind=filenone ;;
	flock|fcntl|ofd) pc_args="-b file -l $kind"; floor_kind=$kind ;;
	*) pc_args="-b shm -l $kind"; floor_kind=$kind ;;
	esac
	case $kind in
	flock|fcntl|ofd|file-none)
		pc_args="$pc_args -f $dir/bench-counter.txt"
		floor_path=$dir/bench-counter.txt ;;
	*) floor_path="" ;;
	esac
	for as in $as_list; do
		case $as in
		threads) pc_as="--threads"; floor_as="-T" ;;
		*) pc_as=""; floor_as="" ;;
		esac
		: >"$dir/pc.times"
		: >"$dir/floor.times"
		i=0
		while [ $i -lt "$repeat" ]; do
			# shellcheck disable=SC2086
			"$top/proccount" $pc_args $pc_as -i $incs -d $decs \
			    -n $per_worker --pin=spread --json |
			    sed 's/.*"ns_per_update":\([0-9.]*\).*/\1/' \
			    >>"$dir/pc.times" || true
			# shellcheck disable=SC2086
			"$top/bench/floor" $floor_as "$floor_kind" "$workers" \
			    "$per_worker" $floor_path >>"$dir/floor.times"
			i=$((i + 1))
		done
		pc=$(median <"$dir/pc.times")
		floor=$(median <"$dir/floor.times")
		printf '%-10s %-9s %12s %12s %7s\n' "$kind" "$as" "$pc" \
		    "$floor" "$(awk -v a="$pc" -v b="$floor" \
		    'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
	done
done
printf '\nns per update; ratio = proccount / floor\n'
rm -f "$dir/pc.times" "$dir/floor.times"
