/*
 * The verdict on a run.  The expected value is the start plus what every
 * worker reports it completed; the only slack is the update a killed worker
 * may have written without counting it, which the value may show or not.
 *
 * Lost updates can only undo updates: they keep the value between the
 * start less every decrement made and the start plus every increment made.
 * A value outside that range was written by someone else.  Inside it, an
 * outside writer and lost updates look alike, and are not told apart.
 */
#include <string.h>

#include "backends.h"
#include "judge.h"

/* Whether start + count * delta stays within a long long. */
static bool
reachable(long long start, unsigned workers, uint64_t iterations, int delta)
{
	long long total, end;

	if (__builtin_mul_overflow((long long)workers, (long long)iterations,
	    &total))
		return false;
	return !__builtin_add_overflow(start, delta * total, &end);
}

bool
count_fits(long long start, const struct run *run)
{
	uint64_t total;

	return run->iterations == 0 || (!__builtin_mul_overflow(
	    run->iterations, (uint64_t)(run->incrementers +
	    run->decrementers), &total) &&
	    reachable(start, run->incrementers, run->iterations, 1) &&
	    reachable(start, run->decrementers, run->iterations, -1));
}

/*
 * A worker's updates per nanosecond from the run's start to its own end.
 * Over a timed run every worker ends at the deadline, so the rates rank
 * as the updates do; with -n each worker makes the same updates, and the
 * rate is what shows that one had the lock to itself and ended early while
 * another waited.  A worker with no end, a thread left stuck, ran until
 * the run ended.
 */
static double
worker_rate(const struct outcome *out, const struct worker_result *r)
{
	int64_t end = r->end_ns != 0 ? r->end_ns : out->started_ns +
	    out->elapsed_ns;

	if (r->done == 0 || end <= out->started_ns)
		return 0;
	return (double)r->done / (double)(end - out->started_ns);
}

void
judge(const struct run *run, const struct outcome *out, long long start,
    const long long *final, struct verdict *v)
{
	/* Unsigned sums: a wrapped counter is judged by the same arithmetic. */
	unsigned long long expected = (unsigned long long)start;
	long long may_rise = 0, may_fall = 0;
	long long rises = 0, falls = 0, lowest, highest;
	double sum = 0, squares = 0, rate;
	const char *why;
	unsigned i, writers = 0;

	memset(v, 0, sizeof(*v));
	v->start = start;
	for (i = 0; i < out->nworkers; i++) {
		const struct worker_result *r = &out->workers[i];

		v->user_s += r->user_s;
		v->system_s += r->system_s;
		if (r->max_rss_kb > v->max_rss_kb)
			v->max_rss_kb = r->max_rss_kb;
		if (r->delta == 0) {
			/* A reader: it changed nothing, and was not timed. */
			v->reads += r->reads;
			v->impossible += r->impossible;
			v->killed += r->end == END_KILLED ||
			    r->end == END_THREAD_DIED || r->end == END_QUIT ||
			    r->end == END_UNSTARTED;
			v->unstarted += r->end == END_UNSTARTED;
			v->timed_out += r->end == END_TIMED_OUT;
			continue;
		}
		expected += (unsigned long long)(r->delta * (long long)r->done);
		v->updates += r->done;
		if (r->delta > 0) {
			may_rise += r->unsure;
			rises += (long long)(r->done + r->unsure);
		} else {
			may_fall += r->unsure;
			falls += (long long)(r->done + r->unsure);
		}
		v->killed += r->end == END_KILLED || r->end == END_THREAD_DIED ||
		    r->end == END_QUIT ||
		    r->end == END_UNSTARTED;
		v->unstarted += r->end == END_UNSTARTED;
		v->timed_out += r->end == END_TIMED_OUT;
		if (run->iterations == 0 &&
		    r->done >= run_most_updates(run, start, r->delta))
			v->at_limit = true;
		v->recoveries += r->recovered;
		if (writers++ == 0 || r->done < v->fewest)
			v->fewest = r->done;
		if (r->done > v->most)
			v->most = r->done;
		rate = worker_rate(out, r);
		sum += rate;
		squares += rate * rate;
	}
	v->fairness = squares > 0 ? sum * sum / ((double)writers * squares) :
	    0;
	v->expected = (long long)expected;
	/*
	 * Left held after a death: the others were left waiting for it, or,
	 * when the backend found it still held, none was.  A robust mutex is
	 * released by its next locker; nothing releases the others.
	 */
	v->abandoned = out->end == RUN_ABANDONED || out->left_held;
	v->held_for_good = out->left_held &&
	    kind_death(run->kind, run, &why) == DEATH_ABANDONED;
	if ((v->final_known = final != NULL) == false)
		return;
	v->final = *final;
	v->drift = (long long)((unsigned long long)v->final - expected);
	/*
	 * A worker killed between its write and its own count leaves one
	 * update that may or may not be in the value: either is correct.
	 */
	if (v->drift != 0 && v->drift >= -may_fall && v->drift <= may_rise) {
		v->landed = (unsigned)(v->drift < 0 ? -v->drift : v->drift);
		v->expected = v->final;
		v->drift = 0;
	}
	v->correct = v->drift == 0;
	/* A range that wraps around cannot say what is outside it. */
	v->outside = !v->correct &&
	    !__builtin_sub_overflow(start, falls, &lowest) &&
	    !__builtin_add_overflow(start, rises, &highest) &&
	    (v->final < lowest || v->final > highest);
}

/*
 * Counter A moves against B: each incrementer's update takes 1 from it,
 * each decrementer's gives 1, so what B's verdict allows it mirrored.
 * Both are written in each update, so their sum never changes, but for
 * an update cut between its two writes by a kill from outside.
 */
void
judge_pair(const struct outcome *out, long long start_a,
    const long long *final_a, struct verdict *v)
{
	unsigned long long moved = 0;
	long long may_rise = 0, may_fall = 0, rises = 0, falls = 0;
	long long lowest, highest;
	unsigned i;

	v->pair = true;
	v->a_start = start_a;
	v->b_correct = v->correct;
	for (i = 0; i < out->nworkers; i++) {
		const struct worker_result *r = &out->workers[i];

		if (r->delta == 0)
			continue;
		moved += (unsigned long long)(r->delta * (long long)r->done);
		v->refused += r->refused;
		/* An incrementer lowers A, a decrementer raises it. */
		if (r->delta > 0) {
			may_fall += r->unsure;
			falls += (long long)(r->done + r->unsure);
		} else {
			may_rise += r->unsure;
			rises += (long long)(r->done + r->unsure);
		}
	}
	v->a_expected = (long long)((unsigned long long)start_a - moved);
	v->sum_start = (long long)((unsigned long long)start_a +
	    (unsigned long long)v->start);
	if (final_a == NULL || !v->final_known) {
		v->final_known = false;
		v->correct = false;
		return;
	}
	v->a_final = *final_a;
	v->a_drift = (long long)((unsigned long long)v->a_final -
	    (unsigned long long)v->a_expected);
	if (v->a_drift != 0 && v->a_drift >= -may_fall &&
	    v->a_drift <= may_rise) {
		v->a_landed = (unsigned)(v->a_drift < 0 ? -v->a_drift :
		    v->a_drift);
		v->a_expected = v->a_final;
		v->a_drift = 0;
	}
	v->a_correct = v->a_drift == 0;
	v->sum_final = (long long)((unsigned long long)v->a_final +
	    (unsigned long long)v->final);
	v->sum_held = v->sum_final == v->sum_start;
	v->correct = v->a_correct && v->b_correct && v->sum_held;
	v->outside = v->outside || (!v->a_correct &&
	    !__builtin_sub_overflow(start_a, falls, &lowest) &&
	    !__builtin_add_overflow(start_a, rises, &highest) &&
	    (v->a_final < lowest || v->a_final > highest));
}

int
verdict_status(const struct outcome *out, const struct verdict *v)
{
	if (out->end == RUN_INTERRUPTED)
		return 128 + out->signal;
	if (out->end == RUN_ABANDONED || out->end == RUN_DEADLOCK ||
	    out->end == RUN_STALLED ||
	    v->timed_out != 0 || v->unstarted != 0 || v->held_for_good)
		return EXIT_UNFINISHED;
	if (!v->final_known)
		return EXIT_SYSTEM;
	if (v->outside)
		return EXIT_OUTSIDE;
	return v->correct ? EXIT_CORRECT : EXIT_LOST;
}
