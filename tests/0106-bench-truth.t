#!/bin/sh
# proccount bench tells the truth at a glance: what was measured on what
# (CPU, CPUs, kernel, the counter's filesystem, the runs) in the JSON, the
# CSV and the chart; the spread of the runs; the kinds that lost updates
# marked in the chart; a warning for more workers than CPUs; rows printed
# as they are measured, so that an interrupted bench shows them; a chart
# of one worker count; "1 worker", never "1 workers".
. "$(dirname "$0")/lib.sh"

mkdir tmp
export TMPDIR="$scratch/tmp"

# What the test reads of the machine itself.
model=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo |
    head -n 1 | sed 's/[[:space:]]*$//')
online=$(getconf _NPROCESSORS_ONLN)
allowed=$(python3 -c 'import os; print(len(os.sched_getaffinity(0)))')
fstype=$(df --output=fstype "$TMPDIR" | tail -n 1)
magic=0x$(stat -f -c %t "$TMPDIR")

# The JSON: the machine, the setup, the spread, whether it is complete.
pc bench -l none,mutex,flock -w 1,2 -t 20ms -r 3 --format=json --plot=chart.svg
is "$rc" 0 "bench --format=json --plot: exit 0"
valid_json
ok $? "valid JSON"
if [ -n "$model" ]; then
	is "$(json 'd["machine"]["cpu_model"]')" "$model" "JSON: the CPU's model name, as /proc/cpuinfo says"
else
	is "$(json 'd["machine"]["cpu_model"]')" None "JSON: no model name in /proc/cpuinfo, null"
fi
is "$(json 'd["machine"]["cpus"], d["machine"]["cpus_allowed"]')" \
    "($online, $allowed)" "JSON: CPUs online, and those it may run on"
is "$(json 'd["machine"]["system"], d["machine"]["kernel"], d["machine"]["arch"]')" \
    "('$(uname -s) $(uname -r)', '$(uname -r)', '$(uname -m)')" "JSON: the kernel and the machine"
is "$(json 'd["counter_fs"]["type"], d["counter_fs"]["magic"]')" \
    "('$fstype', '$magic')" "JSON: the counter's filesystem, by name and magic"
is "$(json 'd["duration_s"], d["repeat"], d["as"]')" "(0.02, 3, ['processes'])" \
    "JSON: each run's length, the runs a cell, what the workers are"
is "$(json 'd["complete"], d["interrupted"], len(d["cells"])')" "(True, None, 8)" \
    "JSON: complete, not interrupted"
is "$(json 'all(c["ns_per_update_min"] <= c["ns_per_update"] <= c["ns_per_update_max"] for c in d["cells"])')" \
    True "JSON: min <= median <= max in every cell"
is "$(json 'all(len(r) == c["runs"] == 3 and r == sorted(r) and (r[0], r[1], r[2]) == (c["ns_per_update_min"], c["ns_per_update"], c["ns_per_update_max"]) for c in d["cells"] for r in [c["runs_ns_per_update"]])')" \
    True "JSON: each run's ns/update, the fastest the min, the middle the median, the slowest the max"
is "$(json '[c["oversubscribed"] for c in d["cells"]] == [c["workers"] > d["machine"]["cpus_allowed"] for c in d["cells"]] and (d["warnings"] != []) == any(c["oversubscribed"] for c in d["cells"])')" \
    True "JSON: a cell is oversubscribed when its workers outnumber the CPUs, and warned of"

# The chart marks exactly the series that lost updates, as the JSON says
# they did, whether or not a race happened this time.
cp out chart.json
python3 - <<'PY' >svg.txt
import json
import re
import xml.etree.ElementTree as ET
ns = {"s": "http://www.w3.org/2000/svg"}
d = json.load(open("chart.json"))
root = ET.parse("chart.svg").getroot()
key = lambda e: (e.get("data-lock"), e.get("data-as"))
cells = {(c["backend"] + " " + c["lock"], c["as"], c["workers"]): c for c in d["cells"]}
lost = lambda c: c["exact_runs"] < c["runs"]
series = {k[:2] for k in cells}
lossy = {k[:2] for k, c in cells.items() if lost(c)}
lines = root.findall("s:polyline[@class='series']", ns)
# 1: the lines that are grey and marked are those of the lossy series
print(sorted(key(l) for l in lines if l.get("data-lost") == "true") == sorted(lossy)
      and all((l.get("stroke") == "#999999") == (key(l) in lossy) for l in lines)
      and sorted(key(l) for l in lines) == sorted(series))
# 2: "lost updates" in the legend for each, and only for them
labels = root.findall("s:text[@class='lost']", ns)
print(sorted(key(t) for t in labels) == sorted(lossy)
      and all(t.text == "lost updates" for t in labels))
# 3: a hollow point for each cell that lost updates, a filled one otherwise
points = root.findall("s:circle[@data-lock]", ns)
print(len(points) == len(cells) and all(
    (p.get("class") == "point lost") == lost(cells[key(p) + (int(p.get("data-workers")),)])
    and (p.get("fill") == "white") == lost(cells[key(p) + (int(p.get("data-workers")),)])
    for p in points))
# 4: a bar for each point, from the fastest run up to the slowest
spreads = {key(p) + (int(p.get("data-workers")),): p for p in root.findall("s:path[@class='spread']", ns)}
ok = len(spreads) == len(cells)
for p in points:
    m = re.match(r"M([\d.]+) ([\d.]+)V([\d.]+)", spreads[key(p) + (int(p.get("data-workers")),)].get("d"))
    x, y_min, y_max = (float(v) for v in m.groups())
    # the y axis grows downwards: the slowest run is the highest
    ok = ok and x == float(p.get("cx")) and y_max <= float(p.get("cy")) <= y_min
print(ok)
# 5: which lost, this time, for the reader of the TAP
print("# series that lost updates:", sorted(" ".join(k) for k in lossy))
# 6, 7: the caption's two lines
for t in root.findall("s:text[@class='caption']", ns):
    print(t.text)
PY
is "$(sed -n 1p svg.txt)" True "chart: grey lines for exactly the series that lost updates"
is "$(sed -n 2p svg.txt)" True "chart: 'lost updates' in the legend for exactly those"
is "$(sed -n 3p svg.txt)" True "chart: hollow points for exactly the cells that lost updates"
is "$(sed -n 4p svg.txt)" True "chart: a bar from the fastest run to the slowest at every point"
cpus="$online CPU$([ "$online" = 1 ] || echo s), $allowed usable"
sed -n 5p svg.txt
is "$(sed -n 6p svg.txt)" \
    "${model:-unknown CPU}, $cpus; $(uname -s) $(uname -r) $(uname -m); counter file on $fstype" \
    "chart caption: the CPU, the CPUs, the kernel, the counter's filesystem"
is "$(sed -n 7p svg.txt)" \
    "Workers as processes; each point the median of 3 runs of 20.0 ms, its bar from the fastest run to the slowest" \
    "chart caption: the runs"

# The CSV: the same, in "# key: value" lines before the header.
pc bench -l flock -w 1 -t 20ms -r 2 --format=csv
is "$rc" 0 "bench --format=csv: exit 0"
is "$(grep '^#' out)" "# proccount bench
# cpu_model: ${model:-unknown}
# cpus: $online
# cpus_allowed: $allowed
# system: $(uname -s) $(uname -r)
# kernel: $(uname -r)
# arch: $(uname -m)
# counter_fs: $fstype
# counter_fs_magic: $magic
# duration_s: 0.020000
# repeat: 2
# as: processes" "CSV: what was measured on what, first"
is "$(grep -v '^#' out | python3 -c 'import csv, sys
rows = list(csv.DictReader(sys.stdin))
print(len(rows), all(float(r["ns_per_update_min"]) <= float(r["ns_per_update"]) <= float(r["ns_per_update_max"]) for r in rows))')" \
    "1 True" "CSV: min <= median <= max"
if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] && [ -w /dev/shm ]; then
	TMPDIR=/dev/shm pc bench -l flock -w 1 -t 20ms -r 1 --format=csv
	is "$rc:$(grep '^# counter_fs' out | tr '\n' ' ')" \
	    "0:# counter_fs: tmpfs # counter_fs_magic: 0x$(stat -f -c %t /dev/shm) " \
	    "CSV: a counter on tmpfs says so"
else
	skip "no tmpfs at /dev/shm to write to"
fi
pc bench -l atomic -w 1 -t 20ms -r 1 --format=csv
is "$(grep -c '^# counter_fs' out)" 0 "CSV: no counter file, no filesystem"
pc bench -l atomic -w 1 -t 20ms -r 1 --format=json
is "$(json 'd["counter_fs"]')" None "JSON: no counter file, no filesystem"

# One run a cell: min == median == max, in every format.
pc bench -b shm -l mutex,none -w 1,2 -t 20ms -r 1 --format=json --plot=one-run.svg
is "$(json 'all(c["ns_per_update_min"] == c["ns_per_update"] == c["ns_per_update_max"] for c in d["cells"])')" \
    True "-r 1: min == median == max in the JSON"
grep -q 'each point one run of 20.0 ms</text>' one-run.svg
ok $? "-r 1: the caption says one run"
pc bench -b shm -l mutex -w 1,2 -t 20ms -r 1 --format=csv
is "$(grep -v '^#' out | sed 1d | awk -F, '$8 != $16 || $8 != $17' | wc -l | tr -d ' ')" 0 \
    "-r 1: min == median == max in the CSV"
pc bench -b shm -l mutex -w 1,2 -t 20ms -r 1
is "$(sed 1d out | awk '$5 $6 != $7 $8 || $5 $6 != $9 $10' | wc -l | tr -d ' ')" 0 \
    "-r 1: min == median == max in the table"

# The table: every time with its unit, from units_time.
time='[0-9.]+ (ns|us|ms|s)'
row="^shm +mutex +processes +[0-9]+ +$time +$time +$time +[0-9]+ +$time +$time +[01]\\.[0-9]{4} +$time +(yes|lost [0-9]+)\$"
is "$(sed 1d out | grep -Evc "$row")" 0 "table: times with their units, as units_time writes them"

# More workers than the CPUs the bench may use: one line on stderr, and in
# the JSON and the CSV.
if taskset -c 0 true 2>/dev/null; then
	timeout -s KILL "$LIMIT" taskset -c 0 "$PROCCOUNT" bench -l atomic \
	    -w 1,2 -t 20ms -r 1 --format=json >out 2>err
	rc=$?
	warning="2 workers outnumber the 1 CPU this process may run on: they take turns, so those rows time the scheduler too"
	is "$rc:$(cat err)" "0:proccount: $warning" "one CPU, two workers: one line on stderr"
	is "$(json 'd["machine"]["cpus_allowed"], d["warnings"], [c["oversubscribed"] for c in d["cells"]]')" \
	    "(1, ['$warning'], [False, True])" "and in the JSON, with the cell"
	timeout -s KILL "$LIMIT" taskset -c 0 "$PROCCOUNT" bench -l atomic \
	    -w 4,1,2 -t 20ms -r 1 --format=csv >out 2>err
	is "$(lines err):$(grep '^# warning' out)" \
	    "1:# warning: 2 and 4 workers outnumber the 1 CPU this process may run on: they take turns, so those rows time the scheduler too" \
	    "and in the CSV, naming each count"
else
	skip "taskset cannot run here"
	skip "taskset cannot run here"
	skip "taskset cannot run here"
fi

# bench_started ARGS...: starts a bench in the background, with SIGINT
# as it should be (a shell without job control would have it ignored), and
# leaves the proccount in $bench and what waits for it in $pid.
bench_started() {
	perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV or die' \
	    timeout -s KILL "$LIMIT" "$PROCCOUNT" bench "$@" >out 2>err &
	pid=$!
	bench=""
	for try in $(seq 100); do
		bench=$(pgrep -P $pid -x proccount) && break
		sleep 0.1
	done
}

# first_row PATTERN: waits until a row matching PATTERN is in ./out, and
# says whether one came while the bench was still running.
first_row() {
	for try in $(seq 200); do
		grep -Eq "$1" out && running "$bench" && return
		running "$bench" || return 1
		sleep 0.05
	done
	return 1
}

# An interrupted bench: the rows measured, whole, then the end said.
slow="-b shm -l mutex,atomic -w 1,2 -t 500ms -r 1"
bench_started $slow --format=csv
first_row '^shm,'
ok $? "CSV: the first row is there while the bench runs"
kill -INT "$bench"
wait $pid
rc=$?
is "$rc" 130 "CSV, SIGINT after the first row: exit 130"
grep -v '^#' out >csv.txt
done=$(($(lines csv.txt) - 1))
[ "$done" -ge 1 ] && [ "$done" -lt 4 ]
ok $? "CSV: the rows measured before it, $done of 4"
is "$(sed 1d csv.txt | python3 -c 'import csv, sys
for r in csv.reader(sys.stdin):
    print(len(r) == 17 and r[0] == "shm" and r[2] == "processes" and r[6] == "1" and float(r[7]) > 0 and r[15] == r[7] == r[16])' | sort -u)" \
    True "CSV: each whole"
is "$(tail -n 1 out)" "# interrupted: SIGINT" "CSV: its last line says it was interrupted"
is "$(cat err)" "proccount: bench interrupted by SIGINT: $done of 4 rows measured" \
    "CSV: and one line on stderr"

bench_started $slow
first_row '^shm '
ok $? "table: the first row is there while the bench runs"
kill -INT "$bench"
wait $pid
rc=$?
is "$rc" 130 "table, SIGINT after the first row: exit 130"
done=$(($(lines out) - 1))
[ "$done" -ge 1 ] && [ "$done" -lt 4 ]
ok $? "table: the rows measured before it, $done of 4"
row="^shm +(mutex|atomic) +processes +[12] +$time +$time +$time +[0-9]+ +($time|-) +($time|-) +[01]\\.[0-9]{4} +$time +(yes|lost [0-9]+)\$"
is "$(sed 1d out | grep -Evc "$row")" 0 "table: each whole"
is "$(cat err)" "proccount: bench interrupted by SIGINT: $done of 4 rows measured" \
    "table: one line on stderr"

# JSON is one object, printed at the end: of the cells measured, if any.
bench_started $slow --format=json
for try in $(seq 100); do
	[ -n "$(pgrep -P "$bench")" ] && break
	sleep 0.1
done
kill -INT "$bench"
wait $pid
rc=$?
is "$rc" 130 "JSON, SIGINT: exit 130"
valid_json
ok $? "JSON, SIGINT: valid JSON"
done=$(json 'len(d["cells"])')
is "$(json 'd["complete"], d["interrupted"], len(d["cells"]) < 4, all(c["runs"] == 1 and c["ns_per_update"] > 0 for c in d["cells"])')" \
    "(False, 'SIGINT', True, True)" "JSON: says it is incomplete, and why"
is "$(cat err)" "proccount: bench interrupted by SIGINT: $done of 4 rows measured" \
    "JSON: one line on stderr, of as many cells"

# A chart of one worker count: points at one place, no lines, words in
# the singular where they are.
pc bench -b shm -l mutex,atomic -w 1 -t 20ms -r 2 --plot=one.svg
is "$rc" 0 "-w 1 --plot: exit 0"
python3 - <<'PY' >svg.txt
import xml.etree.ElementTree as ET
ns = {"s": "http://www.w3.org/2000/svg"}
root = ET.parse("one.svg").getroot()
points = root.findall("s:circle[@data-lock]", ns)
grid = [float(l.get("y1")) for l in root.findall("s:line[@class='grid']", ns)]
print(len(root.findall("s:polyline", ns)), len(points), len({p.get("cx") for p in points}))
print([t.text for t in root.findall("s:text[@class='count']", ns)])
print(root.find("s:text[@class='x-title']", ns).text)
print(root.find("s:text[@class='title']", ns).text)
print(len(grid) >= 2 and all(min(grid) <= float(p.get("cy")) <= max(grid) for p in points))
print(sorted(p.find("s:title", ns).text.split(":")[0] for p in points))
PY
is "$(sed -n 1p svg.txt)" "0 2 1" "-w 1: two points at one x, no lines"
is "$(sed -n 2p svg.txt)" "['1']" "-w 1: one tick"
is "$(sed -n 3p svg.txt)" "1 worker, an incrementer" "-w 1: the x axis says 1 worker"
is "$(sed -n 4p svg.txt)" "Time per update with 1 worker (log scale)" "-w 1: so does the title"
is "$(sed -n 5p svg.txt)" True "-w 1: the points within the y axis"
is "$(sed -n 6p svg.txt)" "['shm atomic, 1 process', 'shm mutex, 1 process']" \
    "-w 1: each point names 1 process"
pc bench -b shm -l mutex -w 2 --as=threads -t 20ms -r 1 --plot=two.svg
grep -q 'class="x-title"[^>]*>2 workers: 1 incrementer, 1 decrementer<' two.svg
ok $? "-w 2: the x axis says how many of each"
grep -q '<title>shm mutex, 2 threads: ' two.svg
ok $? "-w 2 --as=threads: each point names 2 threads"
pc bench -b shm -l mutex -w 1 --as=threads -t 20ms -r 1 --plot=three.svg
grep -q '<title>shm mutex, 1 thread: ' three.svg
ok $? "-w 1 --as=threads: 1 thread"
is "$(cat one.svg two.svg three.svg | grep -Ec '[^0-9.]1 (workers|processes|threads|CPUs|runs)')" 0 \
    "no '1 workers' in any chart"

done_testing
