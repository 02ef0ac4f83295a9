/*
 * How --latency times the workers' lock waits and holds, decided by the
 * runner before any worker starts: with which clock, at what rate in
 * nanoseconds, how many updates of each worker's, and what timing one
 * costs, for the report to say what the timing added to the run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procs.h"

/*
 * Timing an update makes its critical section longer, and a contended
 * lock passes that on to every worker waiting for it; so a worker times
 * one update in every SAMPLE_EVERY, enough that what it costs is lost in
 * the noise of a run, and the wait of an update timed is seldom behind
 * another timed one.  A counted run short enough to give a worker fewer
 * than SAMPLES_WANTED of them times more often, every update below twice
 * that many.
 */
#define SAMPLE_EVERY	64
#define SAMPLES_WANTED	1024
/* The clocks' rates are compared over at least this long. */
#define CALIBRATE_NS	200000
/* Updates timed on a scratch slot to learn the cost of one. */
#define COST_BATCH	100
#define COST_BATCHES	10

uint32_t
timing_every(const struct run *run)
{
	uint32_t every = 1;

	if (run->iterations == 0)
		return SAMPLE_EVERY;
	while (every < SAMPLE_EVERY &&
	    run->iterations / (2 * every) >= SAMPLES_WANTED)
		every *= 2;
	return every;
}

/* Whether the word is among the words of line. */
static bool
has_word(const char *line, const char *word)
{
	size_t len = strlen(word);
	const char *at;

	for (at = line; (at = strstr(at, word)) != NULL; at += len)
		if ((at == line || at[-1] == ' ' || at[-1] == '\t') &&
		    (at[len] == ' ' || at[len] == '\n' || at[len] == '\0'))
			return true;
	return false;
}

/*
 * Whether the TSC can time the workers: the kernel says that it ticks at
 * one rate whatever the CPU's speed and in every sleep state
 * (constant_tsc, nonstop_tsc), and keeps CLOCK_MONOTONIC with it (the
 * clocksource tsc), which it stops doing when it finds the CPUs' counters
 * apart.  Anywhere else, clock_gettime.
 */
static bool
tsc_stable(void)
{
#if defined(__x86_64__) || defined(__i386__)
	char line[8192];
	bool constant = false, nonstop = false, source = false;
	FILE *f;

	if ((f = fopen("/sys/devices/system/clocksource/clocksource0/"
	    "current_clocksource", "re")) != NULL) {
		source = fgets(line, sizeof(line), f) != NULL &&
		    strcmp(line, "tsc\n") == 0;
		fclose(f);
	}
	if (!source || (f = fopen("/proc/cpuinfo", "re")) == NULL)
		return false;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "flags", 5) == 0) {
			constant = has_word(line, "constant_tsc");
			nonstop = has_word(line, "nonstop_tsc");
			break;
		}
	fclose(f);
	return constant && nonstop;
#else
	return false;
#endif
}

/*
 * Learns, before the workers start, what a worker needs to time its
 * updates and the report to say what that cost.  The clock's own time is
 * the least between two reads in a row.  The cost of timing one update is
 * the least that a batch took, a batch being updates that do nothing
 * timed on a scratch slot as a worker times its own: what it costs when
 * nothing else gets in the way.  Meanwhile the clock's rate is measured
 * against CLOCK_MONOTONIC.  Returns 0, or -1 with errno set.
 */
int
timing_calibrate(const struct run *run, struct timing *t)
{
	struct worker w = { .sample_every = 1, .sample_seed = 1,
	    .ns_per_tick = 1.0 };
	int64_t began, batch_began, batch_ns, ended;
	uint64_t first_tick, last_tick, asked, taken, released;
	unsigned batch, i;

	memset(t, 0, sizeof(*t));
	t->every = timing_every(run);
	t->tsc = w.tsc = tsc_stable();
	t->ns_per_tick = 1.0;
	if ((w.slot = calloc(1, sizeof(*w.slot))) == NULL)
		return -1;
	began = clock_ns();
	first_tick = clock_ticks(w.tsc);
	t->read_ticks = UINT64_MAX;
	for (i = 0; i < COST_BATCH * COST_BATCHES; i++) {
		asked = clock_ticks(w.tsc);
		taken = clock_ticks(w.tsc);
		if (taken - asked < t->read_ticks)
			t->read_ticks = taken - asked;
	}
	t->sample_ns = -1;
	for (batch = 0; batch < COST_BATCHES; batch++) {
		batch_began = clock_ns();
		for (i = 0; i < COST_BATCH; i++) {
			asked = worker_clock(&w);
			taken = worker_clock(&w);
			released = worker_clock(&w);
			worker_record(&w, asked, taken, released);
		}
		batch_ns = clock_ns() - batch_began;
		if (t->sample_ns < 0 || batch_ns < t->sample_ns * COST_BATCH)
			t->sample_ns = (double)batch_ns / COST_BATCH;
	}
	while ((ended = clock_ns()) - began < CALIBRATE_NS && w.tsc)
		;
	last_tick = clock_ticks(w.tsc);
	if (w.tsc && last_tick > first_tick)
		t->ns_per_tick = (double)(ended - began) /
		    (double)(last_tick - first_tick);
	free(w.slot);
	return 0;
}
