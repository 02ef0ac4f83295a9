/*
 * The verdict on a run.  The expected value is the start plus what every
 * worker reports it completed; the only slack is the update a killed worker
 * may have written without counting it, which the value may show or not.
 */
#include <string.h>

#include "backends.h"
#include "judge.h"

void
judge(const struct run *run, const struct outcome *out, long long final,
    struct verdict *v)
{
	/* Unsigned sums: a wrapped counter is judged by the same arithmetic. */
	unsigned long long expected = (unsigned long long)run->start;
	long long may_rise = 0, may_fall = 0;
	double sum = 0, squares = 0;
	const char *why;
	unsigned i;

	memset(v, 0, sizeof(*v));
	for (i = 0; i < out->nworkers; i++) {
		const struct worker_result *r = &out->workers[i];

		expected += (unsigned long long)(r->delta * (long long)r->done);
		v->updates += r->done;
		if (r->delta > 0)
			may_rise += r->unsure;
		else
			may_fall += r->unsure;
		v->killed += r->end == END_KILLED || r->end == END_THREAD_DIED ||
		    r->end == END_UNSTARTED;
		v->unstarted += r->end == END_UNSTARTED;
		v->timed_out += r->end == END_TIMED_OUT;
		if (run->iterations == 0 &&
		    r->done >= run_most_updates(run, r->delta))
			v->at_limit = true;
		v->recoveries += r->recovered;
		v->user_s += r->user_s;
		v->system_s += r->system_s;
		if (r->max_rss_kb > v->max_rss_kb)
			v->max_rss_kb = r->max_rss_kb;
		if (i == 0 || r->done < v->fewest)
			v->fewest = r->done;
		if (r->done > v->most)
			v->most = r->done;
		sum += (double)r->done;
		squares += (double)r->done * (double)r->done;
	}
	/*
	 * Left held after a death: the others were left waiting for it, or,
	 * when the backend found it still held, none was.  A robust mutex is
	 * released by its next locker; nothing releases the others.
	 */
	v->abandoned = out->end == RUN_DEADLOCK || out->left_held;
	v->held_for_good = out->left_held &&
	    kind_death(run->kind, run, &why) == DEATH_ABANDONED;
	v->final = final;
	v->drift = (long long)((unsigned long long)final - expected);
	/*
	 * A worker killed between its write and its own count leaves one
	 * update that may or may not be in the value: either is correct.
	 */
	if (v->drift != 0 && v->drift >= -may_fall && v->drift <= may_rise) {
		v->landed = (unsigned)(v->drift < 0 ? -v->drift : v->drift);
		expected = (unsigned long long)final;
		v->drift = 0;
	}
	v->expected = (long long)expected;
	v->correct = v->drift == 0;
	v->fairness = squares > 0 ? sum * sum / ((double)out->nworkers *
	    squares) : 1.0;
}

int
verdict_status(const struct outcome *out, const struct verdict *v)
{
	if (out->end == RUN_INTERRUPTED)
		return 128 + out->signal;
	if (out->end == RUN_DEADLOCK || out->end == RUN_STALLED ||
	    v->timed_out != 0 || v->unstarted != 0 || v->held_for_good)
		return EXIT_UNFINISHED;
	return v->correct ? EXIT_CORRECT : EXIT_LOST;
}
