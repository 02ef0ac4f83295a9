/*
 * The verdict, judged on made-up outcomes: an exact count, lost updates, a
 * killed worker's unsure update, a wrapped counter, two counters and
 * their sum (--counters=2), the exit statuses, and
 * what the text report says of each.
 */
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../backends.h"
#include "../judge.h"
#include "../report.h"
#include "tap.h"

static struct worker_result workers[4];
static struct outcome out;
static struct run run;

/* n workers, the first half incrementers, each having made done updates. */
static void
made_up(const char *backend, const char *kind, long long start, unsigned n,
    uint64_t done)
{
	unsigned i;

	memset(workers, 0, sizeof(workers));
	memset(&out, 0, sizeof(out));
	memset(&run, 0, sizeof(run));
	run.backend = backend_named(backend);
	run.kind = kind_named(run.backend, kind);
	run.start = start;
	run.iterations = done;
	run.incrementers = (n + 1) / 2;
	run.decrementers = n / 2;
	for (i = 0; i < n; i++) {
		workers[i].pid = 100 + (pid_t)i;
		workers[i].delta = i < run.incrementers ? 1 : -1;
		workers[i].done = done;
	}
	out.nworkers = n;
	out.workers = workers;
	out.elapsed_ns = 1000000;
}

/* The report of the made-up outcome, judged with final: text or JSON. */
static char *
report_of(long long final, struct verdict *v, bool json)
{
	struct counter c = { .ops = run.backend };
	char *text = NULL;
	size_t size = 0;
	FILE *to;

	strcpy(c.name, "counter.txt");
	judge(&run, &out, run.start, &final, v);
	if ((to = open_memstream(&text, &size)) == NULL)
		abort();
	if (json)
		report_json(to, &run, &c, &out, v);
	else
		report_text(to, &run, &c, &out, v, false);
	fclose(to);
	return text;
}

static char *
text_of(long long final, struct verdict *v)
{
	return report_of(final, v, false);
}

static char *
json_of(long long final, struct verdict *v)
{
	return report_of(final, v, true);
}

static int
has(const char *text, const char *line)
{
	return strstr(text, line) != NULL;
}

int
main(void)
{
	struct verdict v;
	char *text;

	made_up("shm", "mutex", 5, 2, 10);
	text = text_of(5, &v);
	is_int(v.expected, 5, "exact: expected is start plus the updates made");
	is_int(v.drift, 0, "exact: no drift");
	ok(v.correct, "exact: correct");
	is_int(v.updates, 20, "exact: every update counted");
	is_int(verdict_status(&out, &v), EXIT_CORRECT, "exact: exit 0");
	ok(has(text, "\nfinal 5, expected 5: correct\n"), "exact: text says so");
	ok(v.fairness == 1.0, "exact: equal workers, fairness 1");
	free(text);

	made_up("shm", "none", 5, 2, 10);
	text = text_of(3, &v);
	is_int(v.drift, -2, "lost: drift is final minus expected");
	ok(!v.correct, "lost: not correct");
	is_int(verdict_status(&out, &v), EXIT_LOST, "lost: exit 1");
	ok(has(text, "\nfinal 3, expected 5: off by -2, updates were lost\n"),
	    "lost: the text says updates were lost");
	ok(!has(text, "correct"), "lost: the text never says correct");
	free(text);

	/* A killed incrementer, mid-update: its write may or may not land. */
	made_up("shm", "mutex", 0, 2, 10);
	workers[0].end = END_KILLED;
	workers[0].signal = SIGKILL;
	workers[0].done = 4;
	workers[0].unsure = 1;
	text = text_of(-5, &v);
	ok(v.correct && v.landed == 1 && v.expected == -5,
	    "unsure: the update that landed is counted");
	is_int(v.killed, 1, "unsure: one worker killed");
	ok(has(text, "(counting 1 update of a dead worker that landed)"),
	    "unsure: the text says it landed");
	free(text);
	text = text_of(-6, &v);
	ok(v.correct && v.landed == 0 && v.expected == -6,
	    "unsure: the update that did not land is not");
	free(text);
	text = text_of(-4, &v);
	ok(!v.correct && v.drift == 2, "unsure: one more is a loss");
	free(text);
	text = text_of(-7, &v);
	ok(!v.correct && v.drift == -1,
	    "unsure: an incrementer's unsure update cannot lower the count");
	free(text);

	/* A thread that died is a death too. */
	workers[0].end = END_THREAD_DIED;
	workers[0].signal = 0;
	text = text_of(-5, &v);
	is_int(v.killed, 1, "a thread's pthread_exit counts as a death");
	ok(has(text, "worker 100 (inc) ended by pthread_exit"),
	    "the text names the thread that died");
	free(text);

	/* Wrapping past the end of the range is judged the same way. */
	made_up("shm", "mutex", LLONG_MAX, 1, 3);
	text = text_of(LLONG_MIN + 2, &v);
	ok(v.correct && v.expected == LLONG_MIN + 2,
	    "wrapped: the count wraps as the counter does");
	free(text);
	text = text_of(LLONG_MAX, &v);
	is_int(v.drift, -3, "wrapped: a loss across the wrap is exact");
	free(text);

	/* How the run ended decides the status before the count does. */
	made_up("shm", "sem", 0, 2, 10);
	out.end = RUN_ABANDONED;
	text = text_of(0, &v);
	is_int(verdict_status(&out, &v), EXIT_UNFINISHED, "deadlock: exit 4");
	free(text);
	out.end = RUN_INTERRUPTED;
	out.signal = SIGINT;
	text = text_of(0, &v);
	is_int(verdict_status(&out, &v), 128 + SIGINT, "interrupted: 128 + N");
	ok(has(text, "interrupted by SIGINT"), "interrupted: the text says so");
	free(text);
	out.end = RUN_COMPLETED;
	workers[1].end = END_TIMED_OUT;
	text = text_of(0, &v);
	is_int(verdict_status(&out, &v), EXIT_UNFINISHED, "timed out: exit 4");
	free(text);

	/* Beyond what lost updates can do: another writer. */
	made_up("file", "flock", 100, 2, 10);
	text = text_of(95, &v);
	ok(!v.correct && !v.outside, "inside the range: lost updates, maybe");
	is_int(verdict_status(&out, &v), EXIT_LOST, "inside the range: exit 1");
	free(text);
	text = text_of(90, &v);
	ok(!v.outside, "the start less every decrement: still inside");
	free(text);
	text = text_of(89, &v);
	ok(v.outside, "one below: outside");
	ok(has(text, "final 89, expected 100: the counter changed by 11 less "
	    "than the workers did; lost updates cannot do that, another "
	    "writer did\n"), "outside: the text says another writer did it");
	is_int(verdict_status(&out, &v), EXIT_OUTSIDE, "outside: exit 5");
	free(text);
	text = text_of(20100, &v);
	ok(v.outside && has(text, "changed by 20000 more than the workers "
	    "did"), "above: 20000 more");
	free(text);

	/* A counter that could not be read at the end. */
	{
		struct counter c = { .ops = run.backend, .why = "was removed" };
		char *report = NULL;
		size_t size = 0;
		FILE *to = open_memstream(&report, &size);

		strcpy(c.name, "counter.txt");
		judge(&run, &out, 100, NULL, &v);
		report_text(to, &run, &c, &out, &v, false);
		fclose(to);
		ok(!v.final_known && v.expected == 100,
		    "unread: judged on the workers' counts alone");
		is_int(verdict_status(&out, &v), EXIT_SYSTEM, "unread: exit 3");
		ok(has(report, "final unknown (counter.txt: was removed); the "
		    "workers' updates make 100\n"), "unread: the text says so");
		free(report);
	}

	/* A worker that died before it started: the run went on, exit 4. */
	made_up("shm", "mutex", 0, 3, 10);
	workers[2].end = END_UNSTARTED;
	workers[2].signal = SIGKILL;
	workers[2].done = 0;
	text = text_of(20, &v);
	ok(v.correct && v.unstarted == 1, "unstarted: counted, exact");
	is_int(verdict_status(&out, &v), EXIT_UNFINISHED, "unstarted: exit 4");
	ok(has(text, "worker 102 (dec) died before it started, killed by "
	    "signal 9; the run went on without it\n"), "unstarted: the text");
	free(text);

	/* --timeout, and a worker that made no progress. */
	made_up("shm", "mutex", 0, 2, 10);
	run.timeout_ns = 300000000;
	out.end = RUN_STALLED;
	out.stalled_ns = 1300000000;
	workers[1].end = END_STALLED;
	workers[1].signal = SIGKILL;
	text = text_of(0, &v);
	is_int(verdict_status(&out, &v), EXIT_UNFINISHED, "stalled: exit 4");
	ok(has(text, "worker 101 (dec) made no progress after 10 updates, "
	    "and was killed\nstalled: no update completed for 1.30 s, though "
	    "--timeout bounds every wait for the lock at 300.0 ms"),
	    "stalled: the text names the worker");
	free(text);

	/* A lock left held by a dead worker, nobody waiting for it. */
	made_up("shm", "sem", 0, 1, 10);
	workers[0].end = END_KILLED;
	workers[0].signal = SIGKILL;
	run.crash_at = 11;
	out.left_held = true;
	text = text_of(10, &v);
	ok(v.abandoned && v.held_for_good, "sem left held: abandoned for good");
	is_int(verdict_status(&out, &v), EXIT_UNFINISHED, "sem left held: exit 4");
	ok(has(text, "the named semaphore was left held by worker 100, which "
	    "died holding it; no worker was waiting for it: a semaphore"),
	    "sem left held: the text says so");
	free(text);
	made_up("shm", "mutex", 0, 1, 10);
	workers[0].end = END_KILLED;
	out.left_held = true;
	text = text_of(10, &v);
	ok(v.abandoned && !v.held_for_good, "mutex left held: recoverable");
	is_int(verdict_status(&out, &v), EXIT_CORRECT, "mutex left held: exit 0");
	free(text);

	/* A timed run stopped at the end of the range. */
	made_up("shm", "atomic", LLONG_MAX - 7, 2, 3);
	run.iterations = 0;
	run.duration_ns = 1000000000;
	workers[0].done = 7;
	workers[1].done = 5;
	text = text_of(LLONG_MAX - 5, &v);
	ok(v.at_limit && v.correct, "at the limit: said, exact");
	ok(has(text, "\nat the limit: from this start an incrementer may make "
	    "7 updates, no more, so that the count cannot pass "
	    "9223372036854775807; 1 of 1 stopped there\n") &&
	    !has(text, "a decrementer may make"), "at the limit: which side");
	free(text);
	workers[0].done = 6;
	text = text_of(LLONG_MAX - 6, &v);
	ok(!v.at_limit && !has(text, "at the limit"), "short of it: not said");
	free(text);

	/* Unfair workers. */
	made_up("shm", "spin", 0, 2, 10);
	workers[1].done = 0;
	text = text_of(10, &v);
	ok(v.fairness == 0.5, "one worker did all: fairness 1/2");
	free(text);

	/*
	 * With -n every worker makes the same updates: the fairness is of
	 * their rates, so one that ended in half the time shows.
	 */
	made_up("shm", "mutex", 0, 2, 10);
	out.started_ns = 1000;
	workers[0].end_ns = 1000 + 500000;
	workers[1].end_ns = 1000 + 1000000;
	text = text_of(0, &v);
	ok(v.fairness > 0.8999 && v.fairness < 0.9001,
	    "-n: rates 2:1 make fairness 0.9");
	ok(has(text, "\nper worker: 10 updates each, ended after 500.0 us to "
	    "1.00 ms; fairness 0.9000\n"), "-n: when each ended, and fairness");
	ok(has(text, "\n20 updates in 1.00 ms: 50.0 us/update\n"),
	    "durations in a unit a person reads");
	free(text);

	/* No update completed: no time per update, no fairness. */
	made_up("shm", "mutex", 0, 2, 0);
	run.iterations = 10;
	text = text_of(0, &v);
	ok(has(text, "\nno update completed in 1.00 ms\n") &&
	    has(text, "\nper worker: no update completed\n") &&
	    !has(text, "/update") && !has(text, "fairness"),
	    "no update: neither time per update nor fairness");
	free(text);
	text = json_of(0, &v);
	ok(has(text, "\"ns_per_update\":null") &&
	    has(text, "\"jain\":null}"), "no update: null in the JSON");
	free(text);

	/* A lock that excludes nobody says why, before the verdict. */
	made_up("file", "fcntl", 0, 2, 10);
	run.threads = true;
	text = text_of(0, &v);
	ok(has(text, "x 10 updates\nno exclusion: the fcntl record lock "
	    "belongs to the process: "), "fcntl, threads: why, first");
	ok(has(text, "1 incrementer thread + 1 decrementer thread"),
	    "threads: the first line says they are threads");
	free(text);
	made_up("file", "ofd", 0, 2, 10);
	run.share_fd = true;
	text = text_of(1, &v);
	ok(has(text, "no exclusion: the OFD record lock belongs to the open "
	    "file description: every worker uses the same one"),
	    "ofd, --share-fd: why");
	ok(has(text, "off by +1, updates were lost"),
	    "ofd, --share-fd: the verdict stays the count's");
	free(text);
	made_up("file", "flock", 0, 2, 10);
	text = text_of(0, &v);
	ok(!has(text, "no exclusion"), "flock, own descriptors: it excludes");
	free(text);

	/*
	 * --counters=2: B is judged as the one counter, A mirrored.  Three
	 * incrementers and one decrementer of 10 moves each, from 5: A must
	 * hold 5 - 30 + 10 = -15, B 25, the sum 10.
	 */
	made_up("shm", "mutex", 5, 4, 10);
	workers[2].delta = 1;
	run.incrementers = 3;
	run.decrementers = 1;
	run.counters = 2;
	judge(&run, &out, 5, &(long long){ 25 }, &v);
	judge_pair(&out, 5, &(long long){ -15 }, &v);
	ok(v.correct && v.a_correct && v.b_correct && v.sum_held &&
	    v.a_expected == -15 && v.sum_start == 10 && v.sum_final == 10,
	    "two counters: A, B and the sum exact");
	is_int(verdict_status(&out, &v), EXIT_CORRECT, "two counters: exit 0");
	judge(&run, &out, 5, &(long long){ 27 }, &v);
	judge_pair(&out, 5, &(long long){ -15 }, &v);
	ok(!v.correct && v.a_correct && !v.b_correct && !v.sum_held &&
	    v.drift == 2 && v.a_drift == 0 && v.sum_final == 12,
	    "two counters: B off, the sum with it");
	is_int(verdict_status(&out, &v), EXIT_LOST, "two counters: exit 1");
	judge(&run, &out, 5, &(long long){ 24 }, &v);
	judge_pair(&out, 5, &(long long){ -14 }, &v);
	ok(!v.correct && !v.a_correct && !v.b_correct && v.sum_held &&
	    v.a_drift == 1 && v.drift == -1,
	    "two counters: both off, the sum held: still not exact");
	/* A killed incrementer's move may be in both, or in neither. */
	workers[0].unsure = 1;
	judge(&run, &out, 5, &(long long){ 26 }, &v);
	judge_pair(&out, 5, &(long long){ -16 }, &v);
	ok(v.correct && v.landed == 1 && v.a_landed == 1 && v.sum_held,
	    "two counters: a killed worker's move that landed in both");
	/* Cut between its two writes, by a kill from outside. */
	judge(&run, &out, 5, &(long long){ 25 }, &v);
	judge_pair(&out, 5, &(long long){ -16 }, &v);
	ok(!v.correct && v.a_correct && v.b_correct && !v.sum_held,
	    "two counters: a move cut between its writes breaks the sum");
	{
		struct counter c = { .ops = run.backend };
		size_t size = 0;
		FILE *to;

		strcpy(c.name, "/proccount-1-2-0");
		if ((to = open_memstream(&text, &size)) == NULL)
			abort();
		report_text(to, &run, &c, &out, &v, false);
		fclose(to);
		ok(has(text, "\ncounters: A and B; each update moves 1 from A "
		    "to B (inc) or from B to A (dec), holding both locks; "
		    "every worker takes A's first\n"),
		    "two counters: the text says what an update does");
		ok(has(text, "\nfinal A -16, B 25; expected A -16, B 25 "
		    "(counting 1 update of a dead worker that landed): a "
		    "killed worker's move was cut between its two writes; the "
		    "sum is 9, not 10\n"),
		    "two counters: a move cut in two, in the text");
		free(text);
		judge(&run, &out, 5, &(long long){ 30 }, &v);
		judge_pair(&out, 5, &(long long){ -15 }, &v);
		if ((to = open_memstream(&text, &size)) == NULL)
			abort();
		report_text(to, &run, &c, &out, &v, false);
		fclose(to);
		ok(has(text, "\nfinal A -15, B 30; expected A -15, B 25: B "
		    "off by +5, updates were lost; the sum is 15, not 10\n"),
		    "two counters: only the counter that is off, and the sum");
		free(text);
	}
	judge_pair(&out, 5, NULL, &v);
	is_int(verdict_status(&out, &v), EXIT_SYSTEM,
	    "two counters: A unknown, exit 3");
	return done_testing();
}
