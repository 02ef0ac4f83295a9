#!/bin/sh
# make mutants: whether the tests catch what they claim.  Each mutant in
# tests/mutants/*.mutant plants one small defect (see apply.py for the
# format).  In a scratch copy of the tree, the tests first run unchanged
# and must pass; then, for each mutant, a fresh copy gets the defect, is
# built, and is tested: its own 'tests:' first, then, if they pass, the
# whole of make check.  One line a mutant says whether the tests caught it.
#
#   MUTANTS   the mutants to run, by name or path (default all)
#   UNIT      the C unit tests to build (make passes its list)
#   LIMIT     the bound on each proccount run in the tests (default 30 s)
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
make=${MAKE:-make}
export LIMIT=${LIMIT:-30}
unset PROCCOUNT
# No test may hang a mutant's run: the tests bound each run, this the lot.
SUITE_LIMIT=900

work=$(mktemp -d "${TMPDIR:-/tmp}/proccount-mutants.XXXXXX") || exit 3
# Some tests run proccount as another user, who must reach it.
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
# The tests' scratch directories too, should a suite be killed.
mkdir "$work/tmp" && export TMPDIR="$work/tmp"

# The tree as it is now, uncommitted changes and new files included.
mkdir "$work/tree"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$top" && git ls-files -z --cached --others --exclude-standard |
	    xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\n" "$f"; done' sh |
	    tar -cf - -T -) | tar -C "$work/tree" -xf - || exit 3
else
	cp -R "$top/." "$work/tree" || exit 3
fi
$make -s -C "$work/tree" clean >/dev/null 2>&1

# What of proccount's is in /dev/shm: a mutant may leave objects there.
shm_objects() {
	ls /dev/shm 2>/dev/null | grep -E '^(sem\.)?proccount-' | sort
}

build() {
	# shellcheck disable=SC2086
	$make -s -C "$1" WERROR= proccount ${UNIT:-} >"$work/build.log" 2>&1
}

# suite DIR TESTS...: runs TESTS, or all of make check, quietly and bounded;
# leaves the tests that failed in $failed.
suite() {
	dir=$1
	shift
	if [ $# -gt 0 ]; then
		(cd "$dir" && timeout -s KILL $SUITE_LIMIT prove -j2 "$@") \
		    >"$work/prove.log" 2>&1
	else
		timeout -s KILL $SUITE_LIMIT $make -s -C "$dir" check \
		    >"$work/prove.log" 2>&1
	fi
	status=$?
	failed=$(sed -n 's/^\(tests\/[^ ]*\.t\) *(Wstat.*/\1/p' "$work/prove.log" |
	    tr '\n' ' ' | sed 's/ $//')
	[ $status -eq 137 ] && failed="${failed:+$failed, }the suite timed out"
	return $status
}

if ! build "$work/tree"; then
	cat "$work/build.log"
	echo "mutants: the tree does not build"
	exit 3
fi
echo "the tests on the tree as it is..."
if ! suite "$work/tree"; then
	cat "$work/prove.log"
	echo "mutants: the tests fail without any mutant ($failed)"
	exit 3
fi

if [ -n "${MUTANTS:-}" ]; then
	list=""
	for m in $MUTANTS; do
		case $m in
		*/*) list="$list $m" ;;
		*) list="$list $top/tests/mutants/${m%.mutant}.mutant" ;;
		esac
	done
else
	list=$(ls "$top"/tests/mutants/*.mutant)
fi

caught=0 survived=0 broken=0
for mutant in $list; do
	name=$(basename "$mutant" .mutant)
	rm -rf "$work/mutant"
	cp -Rp "$work/tree" "$work/mutant"
	if ! why=$(python3 "$top/tests/mutants/apply.py" "$mutant" \
	    "$work/mutant" 2>&1); then
		printf '%-10s %s: %s\n' "no-apply" "$name" "$why"
		broken=$((broken + 1))
		continue
	fi
	if ! build "$work/mutant"; then
		printf '%-10s %s: %s\n' "no-build" "$name" \
		    "$(grep -m 1 error "$work/build.log")"
		broken=$((broken + 1))
		continue
	fi
	shm_objects >"$work/shm.before"
	# shellcheck disable=SC2046
	set -- $(sed -n 's/^tests://p' "$mutant")
	if { [ $# -gt 0 ] && ! suite "$work/mutant" "$@"; } ||
	    ! suite "$work/mutant"; then
		printf '%-10s %s (by %s)\n' caught "$name" "$failed"
		caught=$((caught + 1))
	else
		printf '%-10s %s\n' SURVIVED "$name"
		survived=$((survived + 1))
	fi
	# Only what this mutant's runs left, not another run's objects.
	shm_objects | comm -13 "$work/shm.before" - | while read -r object; do
		rm -f "/dev/shm/$object"
	done
done
printf 'mutants: %d caught, %d survived' $caught $survived
[ $broken -gt 0 ] && printf ', %d did not apply or build' $broken
echo
[ $survived -eq 0 ] && [ $broken -eq 0 ]
