#!/bin/sh
# proccount bench: the matrix it runs, its table, CSV and JSON, the SVG
# chart, and its usage errors.
. "$(dirname "$0")/lib.sh"

tiny="-t 50ms -r 1"

pc bench --lock=mutex,atomic,flock --workers=2,1 $tiny --format=json
is "$rc" 0 "bench: exit 0"
valid_json
ok $? "bench --format=json: valid JSON"
is "$(json '[(c["backend"], c["lock"], c["workers"]) for c in d["cells"]]')" \
    "[('shm', 'mutex', 1), ('shm', 'mutex', 2), ('shm', 'atomic', 1), ('shm', 'atomic', 2), ('file', 'flock', 1), ('file', 'flock', 2)]" \
    "one cell a kind and count: kinds as named, counts sorted"
is "$(json 'all(c["exact"] and c["exact_runs"] == c["runs"] == 1 and c["most_lost"] == 0 for c in d["cells"])')" \
    True "every locked cell exact"
# ns/update is printed to 1e-6 ns, updates/s to the unit: each is what the
# program computed, rounded, so their product is 1e9 within the sum of the
# relative roundings, however fast or slow the kind.
inverse='c["ns_per_update"] > 0 and abs(c["updates_per_s"] * c["ns_per_update"] / 1e9 - 1) <= 0.5 / c["updates_per_s"] + 0.5e-6 / c["ns_per_update"] + 1e-12'
is "$(json "all($inverse for c in d[\"cells\"])")" \
    True "updates/s is the inverse of ns/update"
is "$(json '[(c["incrementers"], c["decrementers"]) for c in d["cells"]][:2]')" \
    "[(1, 0), (1, 1)]" "half incrementers, rounded up"
is "$(json '[c["wait_p50_ns"] is None for c in d["cells"]]')" \
    "[False, False, True, True, False, False]" "wait percentiles for lock kinds only"
is "$(json 'all(c["wait_p50_ns"] <= c["wait_p99_ns"] for c in d["cells"] if c["wait_p50_ns"] is not None)')" \
    True "p50 <= p99"
is "$(json 'all(0 < c["fairness"] <= 1 and c["cpu_s"] >= 0 for c in d["cells"])')" \
    True "fairness and CPU"
is "$(json 'd["duration_s"], d["repeat"]')" "(0.05, 1)" "the settings"

# A kind named without --backend runs where it is offered; none on both.
# The CSV begins with "# key: value" lines of the setup; the rest is plain
# CSV, which csv.txt holds.
pc bench --lock=none -w 2 $tiny --format=csv
is "$rc" 0 "bench csv: exit 0"
grep -v '^#' out >csv.txt
is "$(head -n 1 out)" "# proccount bench" "csv: the comment lines come first"
is "$(head -n 1 csv.txt)" \
    "backend,lock,as,workers,incrementers,decrementers,runs,ns_per_update,updates_per_s,wait_p50_ns,wait_p99_ns,fairness,cpu_s,exact_runs,most_lost,ns_per_update_min,ns_per_update_max" \
    "csv header"
is "$(sed 1d csv.txt | cut -d, -f1-7 | tr '\n' ' ')" \
    "file,none,processes,2,1,1,1 shm,none,processes,2,1,1,1 " "none runs on both backends"
is "$(awk -F, '{ print NF }' csv.txt | sort -u)" 17 "every csv line has 17 fields"
is "$(sed 1d csv.txt | python3 -c 'import csv, sys
for row in csv.reader(sys.stdin):
    c = {"ns_per_update": float(row[7]), "updates_per_s": float(row[8])}
    print('"$inverse"')' | sort -u)" True "csv: updates/s is the inverse of ns/update"
is "$(sed 1d csv.txt | cut -d, -f10,11 | sort -u)" "," "none has no wait percentiles"
sed 1d csv.txt | while IFS=, read -r b l as w i dd r ns ups p50 p99 f cpu exact lost min max; do
	if [ "$exact" = 1 ]; then [ "$lost" = 0 ]; else [ "$lost" -gt 0 ]; fi ||
	    echo "inconsistent: $b $l exact=$exact lost=$lost"
done >bad
is "$(cat bad)" "" "a lossy none row says how many it lost"

# The backend alone chooses all its kinds.
pc bench -b shm -w 1 $tiny --format=csv
is "$(grep -v '^#' out | sed 1d | cut -d, -f2 | tr '\n' ' ')" "mutex rmutex sem spin rwlock atomic none " \
    "-b shm: every shm kind"
pc bench -b file -l none,ofd -w 1 $tiny
is "$rc" 0 "table: exit 0"
is "$(head -n 1 out | tr -s ' ')" \
    "backend lock as workers per update min max updates/s wait p50 wait p99 fairness cpu time exact" \
    "table header"
is "$(sed 1d out | awk '{ print $1, $2, $3, $4, $NF }' | tr '\n' ';')" \
    "file none processes 1 yes;file ofd processes 1 yes;" "table rows"
is "$(lines err)" 0 "nothing on stderr when it is not a terminal"

# The chart: valid SVG, a line a kind with a point a count, a legend.
pc bench -l mutex,sem,atomic -w 1,2,3 $tiny --plot=chart.svg --format=csv
is "$rc" 0 "bench --plot: exit 0"
python3 - <<'PY' >svg.txt
import xml.etree.ElementTree as ET
ns = {"s": "http://www.w3.org/2000/svg"}
root = ET.parse("chart.svg").getroot()
lines = root.findall("s:polyline[@class='series']", ns)
print(root.tag.endswith("svg"))
print([l.get("data-lock") for l in lines])
print([len(l.get("points").split()) for l in lines])
print(sorted(t.text for t in root.findall("s:text[@class='legend']", ns)))
print(len(root.findall("s:line[@class='axis']", ns)))
PY
is "$(sed -n 1p svg.txt)" True "the chart is SVG, and valid XML"
is "$(sed -n 2p svg.txt)" "['shm mutex', 'shm sem', 'shm atomic']" "one line a kind"
is "$(sed -n 3p svg.txt)" "[3, 3, 3]" "one point a worker count"
is "$(sed -n 4p svg.txt)" "['shm atomic', 'shm mutex', 'shm sem']" "a legend entry a kind"
is "$(sed -n 5p svg.txt)" 2 "two axes"

pc bench -l mutex -w 1 $tiny --plot=no/such/dir/chart.svg
is "$rc" 3 "an unwritable chart path: exit 3"
grep -q "no/such/dir/chart.svg: No such file or directory" err
ok $? "the message names it"

bad() {
	want=$1
	shift
	rm -f chart.svg
	pc bench "$@" --plot=chart.svg
	is "$rc" 2 "bench exit 2 for: $*"
	is "$(lines err)" 1 "one line for: $*"
	grep -q -- "$want" err
	ok $? "'$want' for: $*"
	[ ! -e chart.svg ]
	ok $? "no chart for: $*"
}
bad "no backend has a lock kind 'bogus'" --lock=bogus
bad "the shm backend has no lock kind 'flock'" -b shm --lock=flock
bad "--lock: no kind named" --lock=
bad "--workers '0': must be at least 1" --workers=0
bad "--workers '5000': too large" --workers=5000
bad "--workers: 2 is listed twice" --workers=2,2
bad "--workers 'x': not a number" --workers=1,x
bad "--workers: no count given" --workers=
bad "--duration 'soon'" --duration=soon
bad "--duration '0': must be more than zero" --duration=0
bad "--repeat '0': must be at least 1" --repeat=0
bad "--repeat '101': too large" --repeat=101
bad "unknown format 'xml'" --format=xml
bad "--file is for the file backend" -b shm -f x.txt
bad "unknown backend 'disk'" -b disk
bad "unexpected argument 'now'" now
bad "unknown option '--fast'" --fast
pc bench --help
is "$rc:$(head -n 1 out | cut -c1-22)" "0:usage: proccount bench" "bench --help"

done_testing
