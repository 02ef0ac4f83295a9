/*
 * The exact count of lost updates, on made-up traces: a small simulated
 * counter runs a schedule of steps as the workers would, recording what
 * they record, and the account must find what the schedule did.  Beside
 * the tree walk, the simulation keeps, for every value, the set of updates
 * it is made of: an independent count of the lost ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../trace/show.h"
#include "../trace/trace.h"
#include "tap.h"

#define CAP	8
#define WORKERS	4

static struct trace_record records[WORKERS][CAP];
static struct trace_worker workers[WORKERS];
static struct trace_run run;

/* The simulated counter: its value, its tag, and the updates it holds. */
static struct {
	long long	 value;
	uint32_t	 tag;
	uint64_t	 holds;		/* a bit a tag */
	uint64_t	 read_holds[WORKERS];
	int64_t		 now;
	bool		 by_store;
} sim;

/* incrementers first, then decrementers, as the runner numbers them. */
static void
begin(long long start, unsigned inc, unsigned dec, bool by_store)
{
	unsigned i;

	memset(records, 0, sizeof(records));
	memset(workers, 0, sizeof(workers));
	memset(&run, 0, sizeof(run));
	memset(&sim, 0, sizeof(sim));
	for (i = 0; i < inc + dec; i++) {
		workers[i].records = records[i];
		workers[i].delta = i < inc ? 1 : -1;
		workers[i].pid = 100 + (pid_t)i;
	}
	run.start = start;
	run.capacity = CAP;
	run.nworkers = inc + dec;
	run.workers = workers;
	run.began_ns = 1000;
	sim.value = start;
	sim.now = 1000;
	sim.by_store = by_store;
}

/*
 * One step of worker w (1 on): 'r' reads, 'w' writes and completes the
 * update, 's' stores and dies before it records or counts the write.
 */
static void
step(unsigned w, char what)
{
	struct trace_worker *worker = &workers[w - 1];
	struct trace_record *r = &records[w - 1][worker->done];
	uint32_t tag = trace_tag(CAP, w - 1, worker->done);

	sim.now += 1000;
	if (what == 'r') {
		r->read_tag = sim.tag;
		r->read = (int32_t)sim.value;
		r->t_read = sim.now;
		sim.read_holds[w - 1] = sim.holds;
		return;
	}
	sim.value = r->read + worker->delta;
	sim.holds = sim.read_holds[w - 1] | 1ULL << tag;
	if (what == 's') {
		sim.tag = tag;
		return;
	}
	r->wrote = (int32_t)sim.value;
	r->overwrote = sim.by_store ? sim.tag : TRACE_UNKNOWN;
	r->t_write = sim.now;
	sim.tag = tag;
	worker->done++;
}

/* "1r 2r 1w 2w": the steps, in order. */
static void
schedule(const char *steps)
{
	for (; *steps != '\0'; steps++)
		if (*steps >= '1' && *steps <= '9') {
			step((unsigned)(*steps - '0'), steps[1]);
			steps++;
		}
}

static void
finish(struct trace_account *a)
{
	run.final_known = true;
	run.final = sim.value;
	run.final_tag = sim.tag;
	if (trace_account(&run, a) == -1)
		abort();
}

/* Captures what a printing function writes. */
static char *
printed(void (*print)(FILE *, const struct trace_account *),
    const struct trace_account *a)
{
	char *text = NULL;
	size_t size = 0;
	FILE *to;

	if ((to = open_memstream(&text, &size)) == NULL)
		abort();
	print(to, a);
	fclose(to);
	return text;
}

static void
timeline(FILE *to, const struct trace_account *a)
{
	trace_timeline(to, a);
}

static int
has(const char *text, const char *part)
{
	if (strstr(text, part) != NULL)
		return 1;
	printf("# not found: '%s' in:\n%s", part, text);
	return 0;
}

/* The issue's example, with a store that says what it replaced or not. */
static void
issue_example(bool by_store)
{
	struct trace_account a;
	char *text;
	const char *how = by_store ? "by store" : "by time";
	char name[128];

	begin(0, 1, 1, by_store);
	schedule("1r 2r 1w 1r 2w 2r 1w 2w");
	finish(&a);
#define NAME(what) (snprintf(name, sizeof(name), "1r 2r 1w 1r 2w 2r 1w 2w, " \
	"%s: %s", how, what), name)
	ok(a.exact, NAME("the records are consistent"));
	is_int(run.final, -2, NAME("the counter ends at -2"));
	is_int(a.updates, 4, NAME("4 updates"));
	is_int(a.lost, 2, NAME("2 lost"));
	is_int(a.lost_increments, 2, NAME("both increments lost"));
	is_int(a.lost_decrements, 0, NAME("no decrement lost"));
	is_int(a.unread, 1, NAME("one overwritten unread"));
	is_int(a.read_lost, 1, NAME("one lost though read"));
	is_int(a.path, 2, NAME("the path is the two decrements"));
	is_int(a.path_sum, -2, NAME("the path adds up to -2"));
	is_int(run.final - (run.start + 0), (long long)a.lost_decrements -
	    (long long)a.lost_increments, NAME("drift is lost dec - lost inc"));
	is_int(a.unread, 1, NAME("one branch died"));
	is_int(a.nfirst, 1, NAME("its end named"));
	is_int(a.first[0].lost, trace_tag(CAP, 0, 1), NAME("at inc#2"));
	is_int(a.first[0].by, trace_tag(CAP, 1, 1),
	    NAME("dec#2 overwrote inc#2"));
	is_int(a.first[0].before, 1, NAME("one lost update before it"));
	is_int(a.first[0].first, trace_tag(CAP, 0, 0),
	    NAME("inc#1, which it came from"));
	is_int(a.by_store, by_store, NAME("overwrites found as asked"));
	text = printed(trace_report_text, &a);
	ok(has(text, "traced: 2 updates lost: 2 increments, 0 decrements; "
	    "drift -2\n"), NAME("the report counts them"));
	ok(has(text, "traced: 1 overwritten unread, 1 lost though read"),
	    NAME("the report counts the patterns"));
	ok(has(text, "  dec#2 (worker 2) wrote -2 over inc#2 (1->2), which "
	    "nobody read: lost, as is inc#1 (0->1), which it came from\n"),
	    NAME("the report names who overwrote whom"));
	free(text);
	text = printed(timeline, &a);
	ok(has(text, "     t(us)  worker 1 (inc)        worker 2 (dec)\n"
	    "            pid 100               pid 101\n"
	    "     1.000  read 0\n"
	    "     2.000                        read 0\n"
	    "     3.000  wrote 1\n"
	    "     4.000  read 1\n"
	    "     5.000                        wrote -1             "
	    "<- overwrote inc#1 (0->1): lost\n"
	    "     6.000                        read -1\n"
	    "     7.000  wrote 2\n"
	    "     8.000                        wrote -2             "
	    "<- overwrote inc#2 (1->2): lost\n"),
	    NAME("the timeline, one column a worker"));
	free(text);
	text = printed(trace_report_json, &a);
	ok(has(text, "\"lost\":2,\"lost_increments\":2,\"lost_decrements\":0,"
	    "\"drift\":-2,\"overwritten_unread\":1,\"lost_though_read\":1"),
	    NAME("the JSON counts them"));
	free(text);
	trace_account_free(&a);
#undef NAME
}

/* Splits a random interleaving of each worker's r, w steps. */
static void
random_schedule(unsigned nworkers, unsigned updates, char *out)
{
	unsigned left[WORKERS], total = 0, i, pick;
	bool reading[WORKERS] = { false };

	for (i = 0; i < nworkers; i++) {
		left[i] = 2 * updates;
		total += left[i];
	}
	*out = '\0';
	while (total > 0) {
		pick = (unsigned)rand() % total;
		for (i = 0; pick >= left[i]; i++)
			pick -= left[i];
		left[i]--;
		total--;
		out += sprintf(out, "%u%c ", i + 1, reading[i] ? 'w' : 'r');
		reading[i] = !reading[i];
	}
}

/*
 * Random interleavings, 2 incrementers and a decrementer: the account
 * matches the simulation's own sets of updates, and drift is lost
 * decrements less lost increments, every time.
 */
static void
random_runs(bool by_store)
{
	struct trace_account a;
	char steps[256];
	unsigned run_at, w, k, wrong = 0, inexact = 0;
	uint64_t lost_inc, lost_dec;
	long long total;
	uint32_t tag;

	for (run_at = 0; run_at < 2000; run_at++) {
		begin(5, 2, 1, by_store);
		random_schedule(3, 4, steps);
		schedule(steps);
		finish(&a);
		lost_inc = lost_dec = 0;
		total = 0;
		for (w = 0; w < 3; w++)
			for (k = 0; k < 4; k++) {
				tag = trace_tag(CAP, w, k);
				total += workers[w].delta;
				if ((sim.holds & 1ULL << tag) != 0)
					continue;
				if (workers[w].delta > 0)
					lost_inc++;
				else
					lost_dec++;
			}
		inexact += !a.exact;
		if (a.lost_increments != lost_inc ||
		    a.lost_decrements != lost_dec ||
		    run.final - (run.start + total) != (long long)lost_dec -
		    (long long)lost_inc || a.unread + a.read_lost != a.lost ||
		    a.updates != 12) {
			if (wrong++ == 0)
				printf("# wrong for %s\n", steps);
		}
		trace_account_free(&a);
	}
	is_int(inexact, 0, by_store ? "2000 random schedules, by store: "
	    "every trace consistent" : "2000 random schedules, by time: "
	    "every trace consistent");
	is_int(wrong, 0, by_store ? "2000 random schedules, by store: the "
	    "losses as the sets of updates say, drift = lost dec - lost inc" :
	    "2000 random schedules, by time: the losses as the sets of "
	    "updates say, drift = lost dec - lost inc");
}

int
main(void)
{
	struct trace_account a;
	char *text;

	issue_example(true);
	issue_example(false);

	begin(0, 1, 1, true);
	schedule("1r 2r 1w 2w");
	finish(&a);
	is_int(a.lost, 1, "1r 2r 1w 2w: one lost");
	is_int(a.lost_increments, 1, "1r 2r 1w 2w: the increment");
	is_int(a.unread, 1, "1r 2r 1w 2w: overwritten unread");
	is_int(run.final, -1, "1r 2r 1w 2w: ends at -1");
	trace_account_free(&a);

	begin(7, 1, 1, true);
	schedule("1r 1w 2r 2w 1r 1w 2r 2w");
	finish(&a);
	ok(a.exact, "serial: consistent");
	is_int(a.lost, 0, "serial: none lost");
	is_int(a.path, 4, "serial: every update on the path");
	text = printed(trace_report_text, &a);
	ok(has(text, "traced: none of 4 updates lost: each is on the path "
	    "from the start to the final value\n"), "serial: the report "
	    "proves it per update");
	free(text);
	trace_account_free(&a);

	random_runs(true);
	random_runs(false);

	/* A worker killed between its store and its record: read by another. */
	begin(0, 1, 1, true);
	schedule("1r 1w 1r 1s 2r 2w");
	finish(&a);
	ok(a.exact, "killed after its store, then read: consistent");
	is_int(a.landed, 1, "killed after its store, then read: it landed");
	is_int(a.landed_sum, 1, "killed after its store, then read: +1");
	is_int(a.updates, 3, "killed after its store, then read: 3 updates");
	is_int(a.lost, 0, "killed after its store, then read: none lost");
	is_int(run.final, 1, "killed after its store, then read: ends at 1");
	trace_account_free(&a);

	/* The same where stores cannot tell: the read alone shows it. */
	begin(0, 1, 1, false);
	schedule("1r 1w 1r 1s 2r 2w");
	finish(&a);
	is_int(a.landed, 1, "killed after its store, then read, by time: "
	    "it landed");
	is_int(a.lost, 0, "killed after its store, then read, by time: "
	    "none lost");
	trace_account_free(&a);

	/* Overwritten unread, where the store that replaced it says so. */
	begin(0, 1, 1, true);
	schedule("1r 2r 1s 2w");
	finish(&a);
	ok(a.exact, "killed after a store that another replaced: consistent");
	is_int(a.landed, 1, "killed after a store that another replaced: "
	    "it landed");
	is_int(a.lost_increments, 1, "killed after a store that another "
	    "replaced: lost");
	trace_account_free(&a);

	/* Killed after its store, and overwritten unread: nothing shows it. */
	begin(0, 1, 1, false);
	schedule("1r 2r 1s 2w");
	finish(&a);
	ok(a.exact, "killed after an unread store: consistent");
	is_int(a.landed, 0, "killed after an unread store: not landed");
	is_int(a.updates, 1, "killed after an unread store: 1 update");
	is_int(a.lost, 0, "killed after an unread store: none lost");
	trace_account_free(&a);

	/* Killed after its store, which is the final value. */
	begin(0, 1, 1, true);
	schedule("2r 2w 1r 1s");
	finish(&a);
	ok(a.exact, "killed after the last store: consistent");
	is_int(a.landed, 1, "killed after the last store: it landed");
	is_int(a.path, 2, "killed after the last store: on the path");
	trace_account_free(&a);

	/* Killed after its read: no write follows, in the timeline too. */
	begin(0, 1, 1, true);
	schedule("1r 2r 2w");
	finish(&a);
	is_int(a.updates, 1, "killed after its read: not an update");
	text = printed(timeline, &a);
	ok(has(text, "     1.000  read 0               <- no write follows\n"),
	    "killed after its read: the timeline says no write follows");
	free(text);
	trace_account_free(&a);

	/* What no correct run can record is said, never counted quietly. */
	begin(0, 1, 1, true);
	schedule("1r 1w 2r 2w");
	records[1][0].read = 5;
	finish(&a);
	ok(!a.exact, "a value read that its write did not leave: inexact");
	ok(has(a.problem, "worker 2's update 1 read 5, but the write tagged 1 "
	    "left 1"), "a value read that its write did not leave: said");
	text = printed(trace_report_text, &a);
	ok(has(text, "TRACE INCONSISTENT: "), "the report says so loudly");
	free(text);
	trace_account_free(&a);

	begin(0, 1, 1, true);
	schedule("1r 1w 2r 2w");
	records[1][0].read_tag = 6;
	finish(&a);
	ok(has(a.problem, "read a write tagged 6, which no update made"),
	    "a tag that no update made: said");
	trace_account_free(&a);

	begin(0, 1, 1, true);
	schedule("1r 1w 2r 2w");
	sim.value = 3;
	finish(&a);
	ok(has(a.problem, "the final value is 3, but the write tagged 9 left "
	    "0"), "a final value the path does not make: said");
	trace_account_free(&a);

	begin(0, 1, 1, true);
	schedule("1r 1w 2r 2w");
	run.final_known = false;
	if (trace_account(&run, &a) == -1)
		abort();
	ok(!a.exact && has(a.problem, "could not be read"),
	    "no final value: no path, and said");
	trace_account_free(&a);

	ok(trace_fits(0, 1, 1, 1000), "trace_fits: a small run fits");
	ok(trace_fits(INT32_MAX - 2000, 2, 1, 1000), "trace_fits: to the top");
	ok(!trace_fits(INT32_MAX - 1999, 2, 1, 1000), "trace_fits: past it");
	ok(trace_fits(INT32_MIN + 2000, 0, 2, 1000), "trace_fits: to the foot");
	ok(!trace_fits(INT32_MIN + 1999, 0, 2, 1000), "trace_fits: below it");
	return done_testing();
}
