/*
 * Judging a run and printing the result.  proccount.c decides what to
 * print and the exit status; this file only says it, as text or as JSON.
 */
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "backends.h"
#include "histogram.h"
#include "report.h"
#include "schedule/turnstile.h"
#include "trace/show.h"
#include "units.h"

/* What the workers were, in the report's words and the JSON's. */
static const char *
workers_as(const struct run *run)
{
	return run->threads ? "threads" : "processes";
}

/* Why the lock does not exclude the workers as they run, if it does not. */
static bool
gap_sentence(const struct run *run, char *sentence, size_t size)
{
	const char *gap = kind_gap(run->kind, run);

	if (gap == NULL)
		return false;
	snprintf(sentence, size, "the %s belongs to %s: %s", run->kind->words,
	    run->kind->owner_words, gap);
	return true;
}

static const char *
role(const struct worker_result *r)
{
	return r->delta > 0 ? "inc" : r->delta < 0 ? "dec" : "read";
}

static const char *
plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* How a worker ended, in words shared by the text and the JSON. */
static void
describe_end(const struct worker_result *r, char *words, size_t size)
{
	switch (r->end) {
	case END_EXITED:
		snprintf(words, size, "exited");
		break;
	case END_KILLED:
		snprintf(words, size, "killed by signal %d", r->signal);
		break;
	case END_QUIT:
		snprintf(words, size, "exited early with status %d",
		    r->exit_status);
		break;
	case END_TIMED_OUT:
		snprintf(words, size, "timed out");
		break;
	case END_FAILED:
		snprintf(words, size, "failed");
		break;
	case END_STOPPED:
		snprintf(words, size, "stopped");
		break;
	case END_THREAD_DIED:
		snprintf(words, size, "ended by pthread_exit");
		break;
	case END_STUCK:
		snprintf(words, size, "left waiting");
		break;
	case END_UNSTARTED:
		snprintf(words, size, "died before it started");
		break;
	case END_STALLED:
		snprintf(words, size, "made no progress");
		break;
	case END_REFUSED:
		snprintf(words, size, "refused its own lock");
		break;
	}
}

/* The figures both reports give of a histogram. */
struct summary {
	unsigned long long samples, p50, p90, p99, p999, max;
};

static struct summary
summarize(const struct histogram *h)
{
	struct summary s = {
		histogram_total(h),
		histogram_percentile(h, 0.50),
		histogram_percentile(h, 0.90),
		histogram_percentile(h, 0.99),
		histogram_percentile(h, 0.999),
		h->max,
	};

	return s;
}

static void
print_latency(FILE *to, const char *what, const struct histogram *h)
{
	struct summary s = summarize(h);
	char p50[UNITS_LEN], p90[UNITS_LEN], p99[UNITS_LEN], p999[UNITS_LEN],
	    max[UNITS_LEN];

	fprintf(to, "%s p50 %s, p90 %s, p99 %s, p99.9 %s, max %s\n", what,
	    units_time(p50, (double)s.p50), units_time(p90, (double)s.p90),
	    units_time(p99, (double)s.p99), units_time(p999, (double)s.p999),
	    units_time(max, (double)s.max));
}

/* The writers' histograms, or with readers, the readers' (--readers). */
static void
merge_role(const struct outcome *out, bool readers, struct histogram *wait,
    struct histogram *hold)
{
	unsigned i;

	memset(wait, 0, sizeof(*wait));
	memset(hold, 0, sizeof(*hold));
	/* A thread left waiting has no histograms to give. */
	for (i = 0; i < out->nworkers; i++) {
		if (out->workers[i].wait == NULL ||
		    (out->workers[i].delta == 0) != readers)
			continue;
		histogram_merge(wait, out->workers[i].wait);
		histogram_merge(hold, out->workers[i].hold);
	}
}

void
merge_latency(const struct outcome *out, struct histogram *wait,
    struct histogram *hold)
{
	merge_role(out, false, wait, hold);
}

/* --readers: how much they read, and how much of it no moment held. */
static void
print_reads(FILE *to, const struct run *run, const struct outcome *out,
    const struct verdict *v)
{
	char took[UNITS_LEN];

	if (run->readers == 0)
		return;
	fprintf(to, "%u %s: %llu %s in %s, %.0f/s; %llu impossible\n",
	    run->readers, plural(run->readers, "reader", "readers"),
	    (unsigned long long)v->reads, plural(v->reads, "read", "reads"),
	    units_time(took, (double)out->elapsed_ns),
	    out->elapsed_ns > 0 ? (double)v->reads * 1e9 /
	    (double)out->elapsed_ns : 0, (unsigned long long)v->impossible);
}

/*
 * Seconds from the run's first start, for a worker's start or end; 0 for
 * what came before, as the end of a worker that never started.
 */
static double
since(const struct outcome *out, int64_t ns)
{
	return ns != 0 && out->started_ns != 0 && ns > out->started_ns ?
	    (double)(ns - out->started_ns) / 1e9 : 0;
}

static double
ns_per_update(const struct outcome *out, const struct verdict *v)
{
	return v->updates ? (double)out->elapsed_ns / (double)v->updates : 0;
}

/*
 * --hold and --work, as the workers measured them: the time each spent in
 * them, summed.  Only that time counts, not the lock's own handoffs nor
 * the read and the write, which are short beside any hold worth setting.
 */
static void	json_number_or_null(FILE *, bool, double);

struct hold_sums {
	uint64_t	 held_ns;
	uint64_t	 worked_ns;
	uint64_t	 misses;
	double		 held_share;	/* of the run's elapsed time */
	double		 serial_share;	/* held / (held + worked) */
	double		 amdahl;	/* the most N workers can gain */
};

static bool
hold_sums(const struct run *run, const struct outcome *out,
    struct hold_sums *h)
{
	unsigned i, n = out->nworkers;

	memset(h, 0, sizeof(*h));
	for (i = 0; i < n; i++) {
		h->held_ns += out->workers[i].held_ns;
		h->worked_ns += out->workers[i].worked_ns;
		h->misses += out->workers[i].misses;
	}
	/* Two locks may be held at once, by two workers: no one share. */
	if (!kind_locks(run->kind) || h->held_ns + h->worked_ns == 0 ||
	    out->elapsed_ns <= 0 || n == 0 || run_pair(run))
		return false;
	h->held_share = (double)h->held_ns / (double)out->elapsed_ns;
	h->serial_share = (double)h->held_ns /
	    (double)(h->held_ns + h->worked_ns);
	h->amdahl = 1 / (h->serial_share + (1 - h->serial_share) / n);
	return true;
}

static void
print_hold(FILE *to, const struct run *run, const struct outcome *out)
{
	struct hold_sums h;
	unsigned i;
	char held[UNITS_LEN], took[UNITS_LEN];

	if (hold_sums(run, out, &h)) {
		if (run->delay_ns != 0)
			fprintf(to, "lock held %.1f%% of the run, at least: "
			    "the workers' --hold took %s in all, in %s\n",
			    100 * h.held_share, units_time(held,
			    (double)h.held_ns), units_time(took,
			    (double)out->elapsed_ns));
		fprintf(to, "serial share %.1f%% (--hold of --hold + --work): "
		    "by Amdahl's law %u %s at most %.2fx as fast as one\n",
		    100 * h.serial_share, out->nworkers, plural(out->nworkers,
		    "worker is", "workers are"), h.amdahl);
	}
	if (!run->tries)
		return;
	fprintf(to, "--try: %llu %s found the lock held (", (unsigned long
	    long)h.misses, plural(h.misses, "try", "tries"));
	for (i = 0; i < out->nworkers; i++)
		fprintf(to, "%s%ld: %llu", i ? ", " : "",
		    (long)out->workers[i].pid,
		    (unsigned long long)out->workers[i].misses);
	fputs(")\n", to);
}

static void
json_hold(FILE *to, const struct run *run, const struct outcome *out)
{
	struct hold_sums h;
	bool known = hold_sums(run, out, &h);

	fprintf(to, ",\"hold_ns\":%llu,\"work_ns\":%llu,\"work_as\":\"%s\","
	    "\"held_ns\":%llu,\"worked_ns\":%llu,\"held_share\":",
	    (unsigned long long)run->delay_ns,
	    (unsigned long long)run->work_ns,
	    run->work_spins ? "spin" : "sleep",
	    (unsigned long long)h.held_ns, (unsigned long long)h.worked_ns);
	json_number_or_null(to, known, h.held_share);
	fputs(",\"serial_share\":", to);
	json_number_or_null(to, known, h.serial_share);
	fputs(",\"amdahl_best\":", to);
	json_number_or_null(to, known, h.amdahl);
	fputs(",\"try\":", to);
	fputs(run->tries ? "true" : "false", to);
	fputs(",\"misses\":", to);
	if (run->tries)
		fprintf(to, "%llu", (unsigned long long)h.misses);
	else
		fputs("null", to);
}

/*
 * What timing the updates added to the run, as far as it can be known:
 * the cost of timing one, measured alone before the run, times the updates
 * timed, spread over all of them.  A contended lock can pass on more than
 * that; see the manual.
 */
static double
timing_cost(const struct outcome *out, const struct histogram *wait,
    const struct verdict *v)
{
	return v->updates ? out->timing.sample_ns *
	    (double)histogram_total(wait) / (double)v->updates : 0;
}

static void
print_timing(FILE *to, const struct outcome *out, const struct histogram *wait,
    const struct verdict *v)
{
	double cost = timing_cost(out, wait, v), per = ns_per_update(out, v);
	char each[UNITS_LEN], added[UNITS_LEN];

	fprintf(to, "timed: 1 update in %u, %llu in all, by %s at %s each; "
	    "about %s an update", out->timing.every,
	    (unsigned long long)histogram_total(wait),
	    out->timing.tsc ? "the TSC" : "clock_gettime",
	    units_time(each, out->timing.sample_ns), units_time(added, cost));
	if (per > 0)
		fprintf(to, " (%.1f%%)", 100 * cost / per);
	fputc('\n', to);
}

/*
 * How evenly the workers fared: their updates, when they ended, and the
 * fairness of their rates.  With -n every worker makes the same updates,
 * and when each ended is what tells a worker that had the lock to itself.
 */
static void
print_per_worker(FILE *to, const struct outcome *out, const struct verdict *v)
{
	char first[UNITS_LEN], last[UNITS_LEN];
	int64_t end, earliest = INT64_MAX, latest = 0;
	unsigned i;

	if (v->updates == 0) {
		fprintf(to, "per worker: no update completed\n");
		return;
	}
	for (i = 0; i < out->nworkers; i++) {
		if (out->workers[i].delta == 0)
			continue;
		end = out->workers[i].end_ns != 0 ? out->workers[i].end_ns -
		    out->started_ns : out->elapsed_ns;
		if (end < earliest)
			earliest = end;
		if (end > latest)
			latest = end;
	}
	if (v->fewest == v->most)
		fprintf(to, "per worker: %llu %s each", (unsigned long long)
		    v->most, plural(v->most, "update", "updates"));
	else
		fprintf(to, "per worker: %llu to %llu updates",
		    (unsigned long long)v->fewest, (unsigned long long)v->most);
	fprintf(to, ", ended after %s to %s; fairness %.4f\n",
	    units_time(first, (double)(earliest > 0 ? earliest : 0)),
	    units_time(last, (double)(latest > 0 ? latest : 0)), v->fairness);
}

static bool
died(const struct worker_result *r)
{
	return r->end == END_KILLED || r->end == END_THREAD_DIED ||
	    r->end == END_QUIT;
}

/* The first worker that died, not by proccount's hand, or NULL. */
static const struct worker_result *
first_death(const struct outcome *out)
{
	unsigned i;

	for (i = 0; i < out->nworkers; i++)
		if (died(&out->workers[i]))
			return &out->workers[i];
	return NULL;
}

/* Whether the dead worker held the lock, as far as proccount knows. */
static bool
died_holding(const struct run *run, const struct outcome *out,
    const struct worker_result *dead)
{
	return dead->unsure != 0 || (run->crash_at != 0 &&
	    dead == &out->workers[0]);
}

/* The worker that died holding the lock, if one is known to, or the first
 * that died. */
static const struct worker_result *
likely_holder(const struct run *run, const struct outcome *out)
{
	unsigned i;

	for (i = 0; i < out->nworkers; i++)
		if (died(&out->workers[i]) &&
		    died_holding(run, out, &out->workers[i]))
			return &out->workers[i];
	return first_death(out);
}

/*
 * Which worker died, whether it held the lock as far as proccount knows
 * (it was the --crash worker, or it died mid-update), and why this kind
 * of lock could not be recovered.
 */
static void
print_abandoned(FILE *to, const struct run *run, const struct outcome *out)
{
	const struct worker_result *dead = first_death(out);
	unsigned i, stopped = 0, stuck = 0;
	char span[UNITS_LEN];
	const char *why;
	bool held;

	if (dead == NULL)
		return;
	for (i = 0; i < out->nworkers; i++) {
		stopped += out->workers[i].end == END_STOPPED;
		stuck += out->workers[i].end == END_STUCK;
	}
	held = died_holding(run, out, dead);
	kind_death(run->kind, run, &why);
	if (run->schedule != NULL)
		fprintf(to, "abandoned: worker %ld died, and the others waited "
		    "for its turn in the schedule. ", (long)dead->pid);
	else
		fprintf(to, "abandoned: worker %ld died %s the %s; %s. ",
		    (long)dead->pid, held ? "holding" : "while others waited "
		    "for", run->kind->words, why);
	if (stuck)
		fprintf(to, "No update completed after, and a thread cannot "
		    "be killed: %u %s left waiting until proccount exits\n",
		    stuck, plural(stuck, "thread was", "threads were"));
	else if (stopped)
		fprintf(to, "No update completed after, so the other workers "
		    "were stopped\n");
	else
		fprintf(to, "The other workers gave up waiting after %s "
		    "(--timeout)\n", units_time(span, (double)run->timeout_ns));
}

/* --counters=2: the lock a worker takes first, and the other, as letters. */
static char
first_lock(const struct run *run, const struct worker_result *r)
{
	return run->opposite && r->delta < 0 ? 'B' : 'A';
}

static char
second_lock(const struct run *run, const struct worker_result *r)
{
	return first_lock(run, r) == 'A' ? 'B' : 'A';
}

/* --counters=2: where the counters are, and what an update does. */
static void
print_pair_head(FILE *to, const struct run *run, const struct counter *c)
{
	fputs("counters: ", to);
	if (c->name_b[0] != '\0')
		fprintf(to, "A in %s, B in %s; ", c->name, c->name_b);
	else
		fputs("A and B; ", to);
	fputs("each update moves 1 from A to B (inc) or from B to A (dec)",
	    to);
	if (!kind_locks(run->kind))
		fprintf(to, ", %s\n", strcmp(run->kind->name, "atomic") == 0 ?
		    "by two atomic adds" : "unguarded");
	else if (run->opposite)
		fputs(", holding both locks; decrementers take B's first, "
		    "incrementers A's (--order=opposite)\n", to);
	else
		fputs(", holding both locks; every worker takes A's first\n",
		    to);
}

/* --counters=2, fcntl: the locks the kernel refused to break cycles. */
static void
print_refused(FILE *to, const struct run *run, const struct outcome *out,
    const struct verdict *v)
{
	const struct worker_result *r;
	unsigned i, listed = 0;

	if (v->refused == 0)
		return;
	fprintf(to, "the kernel refused %llu %s with EDEADLK to break "
	    "cycles: ", (unsigned long long)v->refused,
	    plural(v->refused, "lock", "locks"));
	for (i = 0; i < out->nworkers; i++) {
		r = &out->workers[i];
		if (r->refused == 0)
			continue;
		fprintf(to, "%sworker %ld (%s) ", listed++ ? "; " : "",
		    (long)r->pid, role(r));
		if (r->refused <= 2)
			fputs(r->refused == 1 ? "once" : "twice", to);
		else
			fprintf(to, "%llu times",
			    (unsigned long long)r->refused);
		fprintf(to, ", holding %c and asking for %c",
		    first_lock(run, r), second_lock(run, r));
	}
	fputs("; each gave back what it held and began its update again\n",
	    to);
}

/*
 * --counters=2: the workers that wait in a cycle, each for the next, and
 * the threads among them left so.
 */
static void
print_cycle(FILE *to, const struct outcome *out)
{
	const struct cycle_link *link;
	unsigned k;

	fputs("deadlock: ", to);
	for (k = 0; k < out->cycle_length; k++) {
		link = &out->cycle[k];
		fprintf(to, "%sworker %ld (%s) holds %c and waits for %c",
		    k ? "; " : "", (long)out->workers[link->worker].pid,
		    role(&out->workers[link->worker]), 'A' + link->holds,
		    'A' + link->waits_for);
	}
	if (out->stuck != 0)
		fprintf(to, "; a thread cannot be killed: %u %s left waiting "
		    "until proccount exits", out->stuck, plural(out->stuck,
		    "thread was", "threads were"));
	fputs("\n", to);
}

/*
 * --nest: the worker that took the lock it held, and why that could not
 * work: refused at once (EDEADLK), or waited for until the watchdog or
 * --timeout ended the run.
 */
static void
print_deadlock(FILE *to, const struct run *run, const struct outcome *out)
{
	const struct worker_result *r;
	unsigned i;

	if (out->cycle_length != 0) {
		print_cycle(to, out);
		return;
	}
	for (i = 0; i < out->nworkers; i++) {
		r = &out->workers[i];
		if (r->end == END_REFUSED) {
			fprintf(to, "deadlock: worker %ld took the %s it "
			    "already held; %s\n", (long)r->pid,
			    run->kind->words, run->kind->nest_words);
			return;
		}
	}
	for (i = 0; i < out->nworkers; i++) {
		r = &out->workers[i];
		if (r->nested != 0) {
			fprintf(to, "deadlock: worker %ld waits for the %s it "
			    "holds itself; %s\n", (long)r->pid,
			    run->kind->words, run->kind->nest_words);
			return;
		}
	}
}

/*
 * After a death the run survived: what became of the dead worker's lock.
 * A lock found held after every worker ended was left by the worker that
 * died holding it, and nobody was waiting for it.
 */
static void
print_survival(FILE *to, const struct run *run, const struct outcome *out)
{
	const struct worker_result *dead = first_death(out);
	enum holder_death death;
	const char *why;
	unsigned i;

	if (dead == NULL || out->end == RUN_ABANDONED)
		return;
	death = kind_death(run->kind, run, &why);
	if (out->left_held) {
		fprintf(to, "the %s was left held by worker %ld, which died "
		    "holding it; %s: %s\n", run->kind->words,
		    (long)likely_holder(run, out)->pid,
		    death == DEATH_RECOVERED ? "no worker locked it after, "
		    "to recover it" : "no worker was waiting for it", why);
		return;
	}
	switch (death) {
	case DEATH_RELEASED:
		if (run->kind->owner == OWNER_CONNECTION &&
		    run->backend->transactions)
			fprintf(to, "the server rolled back the transaction of "
			    "worker %ld when its connection dropped, and "
			    "released its locks: its update did not count\n",
			    (long)dead->pid);
		else
			fprintf(to, "the %s released the %s of worker %ld "
			    "when it died\n", run->kind->owner ==
			    OWNER_CONNECTION ? "server" : "kernel",
			    run->kind->words, (long)dead->pid);
		break;
	case DEATH_RECOVERED:
		for (i = 0; i < out->nworkers; i++)
			if (out->workers[i].recovered != 0)
				fprintf(to, "the mutex was recovered from a "
				    "dead owner by worker %ld\n",
				    (long)out->workers[i].pid);
		break;
	case DEATH_NOTHING:
	case DEATH_ABANDONED:
		break;
	}
}

/*
 * The verdict line.  A value that lost updates cannot explain is another
 * writer's doing, and said so; one that could not be read is said so, with
 * what the workers' own counts make.
 */
static void
print_verdict(FILE *to, const struct counter *c, const struct verdict *v)
{
	unsigned long long by;

	if (!v->final_known) {
		fprintf(to, "final unknown (%s: %s); the workers' updates make "
		    "%lld\n", c->name, c->why ? c->why : "cannot be read",
		    v->expected);
		return;
	}
	fprintf(to, "final %lld, expected %lld", v->final, v->expected);
	if (v->landed != 0)
		fprintf(to, " (counting %u %s of a dead worker that landed)",
		    v->landed, plural(v->landed, "update", "updates"));
	by = v->drift < 0 ? 0 - (unsigned long long)v->drift :
	    (unsigned long long)v->drift;
	if (v->correct)
		fprintf(to, ": correct\n");
	else if (v->outside)
		fprintf(to, ": the counter changed by %llu %s than the workers "
		    "did; lost updates cannot do that, another writer did\n",
		    by, v->drift > 0 ? "more" : "less");
	else
		fprintf(to, ": off by %+lld, updates were lost\n", v->drift);
}

/*
 * Transactions the server aborted and the workers made again, which the
 * count leaves out; and with pg's --join, whose verdict this is.
 */
static void
print_retries(FILE *to, const struct run *run, const struct outcome *out,
    const struct counter *c)
{
	uint64_t retries = 0;
	unsigned i;

	for (i = 0; i < out->nworkers; i++)
		retries += out->workers[i].retries;
	if (retries != 0)
		fprintf(to, "retried: the server aborted %llu %s (SQLSTATE "
		    "40001), each rolled back, not counted, and made again\n",
		    (unsigned long long)retries, plural(retries, "transaction",
		    "transactions"));
	if (run->join != NULL && c->elsewhere)
		fprintf(to, "joined %s: this run's workers only; the last run "
		    "of the join to finish gives the verdict\n", run->join);
	else if (run->join != NULL)
		fprintf(to, "joined %s: the last run to finish, so the "
		    "verdict counts the updates of every run of the join\n",
		    run->join);
}

/* --counters=2: both counters' verdicts, and whether their sum held. */
static void
print_pair_verdict(FILE *to, const struct counter *c, const struct verdict *v)
{
	unsigned landed = v->landed > v->a_landed ? v->landed : v->a_landed;

	if (!v->final_known) {
		fprintf(to, "final unknown (%s: %s); the workers' updates make "
		    "A %lld, B %lld\n", c->name, c->why ? c->why :
		    "cannot be read", v->a_expected, v->expected);
		return;
	}
	fprintf(to, "final A %lld, B %lld; expected A %lld, B %lld",
	    v->a_final, v->final, v->a_expected, v->expected);
	if (landed != 0)
		fprintf(to, " (counting %u %s of a dead worker that landed)",
		    landed, plural(landed, "update", "updates"));
	if (v->correct) {
		fprintf(to, ": correct, and the sum %lld held\n", v->sum_final);
		return;
	}
	if (v->a_correct && v->b_correct)
		fputs(": a killed worker's move was cut between its two "
		    "writes", to);
	else {
		fputs(":", to);
		if (!v->a_correct)
			fprintf(to, " A off by %+lld%s", v->a_drift,
			    v->b_correct ? "" : ",");
		if (!v->b_correct)
			fprintf(to, " B off by %+lld", v->drift);
		fprintf(to, ", %s", v->outside ? "which lost updates cannot "
		    "do: another writer did" : "updates were lost");
	}
	if (v->sum_held)
		fprintf(to, "; the sum %lld held\n", v->sum_final);
	else
		fprintf(to, "; the sum is %lld, not %lld\n", v->sum_final,
		    v->sum_start);
}

/* With --timeout, no update for too long, and nobody had died. */
static void
print_stall(FILE *to, const struct run *run, const struct outcome *out)
{
	char stalled[UNITS_LEN], bound[UNITS_LEN];
	unsigned i, stuck = 0;

	for (i = 0; i < out->nworkers; i++)
		stuck += out->workers[i].end == END_STUCK;
	fprintf(to, "stalled: no update completed for %s, though "
	    "--timeout bounds every wait for the lock at %s, so the run "
	    "was ended", units_time(stalled, (double)out->stalled_ns),
	    units_time(bound, (double)run->timeout_ns));
	if (stuck)
		fprintf(to, "; a thread cannot be killed: %u %s left waiting "
		    "until proccount exits", stuck, plural(stuck, "thread was",
		    "threads were"));
	fputc('\n', to);
}

/*
 * A timed run stops a worker at the most updates that keep the count in
 * range: says so for incrementers and decrementers, if any stopped there.
 */
static void
print_limit(FILE *to, const struct run *run, const struct outcome *out,
    long long start)
{
	uint64_t most;
	unsigned i, there, of;
	int delta;

	if (run->iterations != 0)
		return;
	for (delta = 1; delta >= -1; delta -= 2) {
		most = run_most_updates(run, start, delta);
		for (i = 0, there = 0, of = 0; i < out->nworkers; i++) {
			if (out->workers[i].delta != delta)
				continue;
			of++;
			there += out->workers[i].done >= most;
		}
		if (there != 0)
			fprintf(to, "at the limit: from this start %s may make "
			    "%llu updates, no more, so that the count cannot "
			    "pass %lld; %u of %u stopped there\n",
			    delta > 0 ? "an incrementer" : "a decrementer",
			    (unsigned long long)most,
			    delta > 0 ? LLONG_MAX : LLONG_MIN, there, of);
	}
}

void
report_text(FILE *to, const struct run *run, const struct counter *c,
    const struct outcome *out, const struct verdict *v, bool verbose)
{
	const char *as = run->threads ? " thread" : "";
	struct histogram wait, hold;
	char words[64], sentence[512], took[UNITS_LEN], each[UNITS_LEN];
	unsigned i;

	fprintf(to, "%s %s, %s: %u incrementer%s%s + %u decrementer%s%s",
	    run->backend->name, c->name, run->kind->words, run->incrementers,
	    as, plural(run->incrementers, "", "s"), run->decrementers, as,
	    plural(run->decrementers, "", "s"));
	if (run->readers != 0)
		fprintf(to, " + %u reader%s%s", run->readers, as,
		    plural(run->readers, "", "s"));
	if (run->iterations != 0)
		fprintf(to, " x %llu %s\n", (unsigned long long)run->iterations,
		    plural(run->iterations, "update", "updates"));
	else
		fprintf(to, " for %s\n", units_time(took,
		    (double)run->duration_ns));
	if (c->about != NULL)
		fprintf(to, "%s\n", c->about);
	if (gap_sentence(run, sentence, sizeof(sentence)))
		fprintf(to, "no exclusion: %s\n", sentence);
	if (run_pair(run))
		print_pair_head(to, run, c);
	if (run->nest > 1 && out->end != RUN_DEADLOCK &&
	    run->kind->nest_words != NULL)
		fprintf(to, "nested %u deep: %s\n", run->nest,
		    run->kind->nest_words);
	if (run->pin == PIN_NONE)
		fprintf(to, "not pinned: each worker ran where the scheduler "
		    "put it, and two may have shared a CPU (--pin=none)\n");
	if (run->schedule != NULL && out->turnstile != NULL)
		schedule_print_text(to, run->schedule,
		    turnstile_log(out->turnstile), kind_locks(run->kind));
	for (i = 0; i < out->nworkers; i++) {
		const struct worker_result *r = &out->workers[i];

		if (r->end == END_UNSTARTED) {
			fprintf(to, "worker %ld (%s) died before it started",
			    (long)r->pid, role(r));
			if (r->signal != 0)
				fprintf(to, ", killed by signal %d", r->signal);
			fprintf(to, "; the run went on without it\n");
			continue;
		}
		if (r->end == END_STALLED) {
			fprintf(to, "worker %ld (%s) made no progress after %llu "
			    "%s, and was killed\n", (long)r->pid, role(r),
			    (unsigned long long)r->done,
			    plural(r->done, "update", "updates"));
			continue;
		}
		if (!died(r) && r->end != END_TIMED_OUT)
			continue;
		describe_end(r, words, sizeof(words));
		fprintf(to, "worker %ld (%s) %s after %llu %s%s\n",
		    (long)r->pid, role(r),
		    r->end == END_TIMED_OUT ? "timed out waiting for the lock" :
		    r->end == END_THREAD_DIED ? "ended by pthread_exit, holding "
		    "what it held," : words, (unsigned long long)r->done,
		    plural(r->done, "update", "updates"),
		    r->unsure == 1 ? ", in the middle of an update" :
		    r->unsure > 1 ? ", its last updates uncounted" : "");
	}
	print_survival(to, run, out);
	if (out->end == RUN_ABANDONED)
		print_abandoned(to, run, out);
	if (out->end == RUN_DEADLOCK)
		print_deadlock(to, run, out);
	if (out->end == RUN_STALLED)
		print_stall(to, run, out);
	print_limit(to, run, out, v->start);
	if (out->end == RUN_INTERRUPTED)
		fprintf(to, "interrupted by SIG%s: the workers were stopped\n",
		    sigabbrev_np(out->signal) ? sigabbrev_np(out->signal) :
		    "?");
	print_refused(to, run, out, v);
	if (v->pair)
		print_pair_verdict(to, c, v);
	else
		print_verdict(to, c, v);
	print_retries(to, run, out, c);
	if (v->trace != NULL)
		trace_report_text(to, v->trace);
	if (out->end == RUN_ABANDONED || out->end == RUN_STALLED ||
	    out->end == RUN_DEADLOCK) {
		/* The time is mostly the wait that proved the end. */
		fprintf(to, "%llu updates before the %s\n",
		    (unsigned long long)v->updates,
		    out->end == RUN_ABANDONED ? "lock was abandoned" :
		    out->end == RUN_DEADLOCK ? "deadlock" : "stall");
	} else if (v->updates == 0)
		fprintf(to, "no update completed in %s\n",
		    units_time(took, (double)out->elapsed_ns));
	else
		fprintf(to, "%llu %s in %s: %s/update\n",
		    (unsigned long long)v->updates,
		    plural(v->updates, "update", "updates"),
		    units_time(took, (double)out->elapsed_ns),
		    units_time(each, ns_per_update(out, v)));
	print_reads(to, run, out, v);
	print_hold(to, run, out);
	if (run->latency) {
		merge_latency(out, &wait, &hold);
		if (kind_locks(run->kind)) {
			print_latency(to, "lock wait:", &wait);
			print_latency(to, "lock hold:", &hold);
			print_timing(to, out, &wait, v);
			if (run->readers != 0) {
				merge_role(out, true, &wait, &hold);
				print_latency(to, "readers' lock wait:", &wait);
				print_latency(to, "readers' lock hold:", &hold);
			}
		} else
			fprintf(to, "lock wait and hold: none, there is no "
			    "lock\n");
	}
	print_per_worker(to, out, v);
	fprintf(to, "cpu %.2f s user, %.2f s system; peak RSS %ld KiB\n",
	    v->user_s, v->system_s, v->max_rss_kb);
	if (c->server_cpu)
		fprintf(to, "of which the server's: %.2f s user, %.2f s "
		    "system\n", c->server_user_s, c->server_system_s);
	else if (run->connect != NULL)
		fprintf(to, "the server's CPU time is not counted: it is not "
		    "the run's own\n");
	if (verbose) {
		for (i = 0; i < out->nworkers; i++) {
			const struct worker_result *r = &out->workers[i];

			describe_end(r, words, sizeof(words));
			if (r->delta == 0)
				fprintf(to, "worker %ld %s: %llu reads, %llu "
				    "impossible, %s, ", (long)r->pid, role(r),
				    (unsigned long long)r->reads,
				    (unsigned long long)r->impossible, words);
			else
				fprintf(to, "worker %ld %s: %llu updates, %s, ",
				    (long)r->pid, role(r),
				    (unsigned long long)r->done, words);
			if (r->cpu >= 0)
				fprintf(to, "on CPU %d, ", r->cpu);
			fprintf(to, "%.2f s user, %.2f s system\n", r->user_s,
			    r->system_s);
		}
	}
}

/*
 * The length of the well-formed UTF-8 sequence at s, or 0 where none
 * starts: a stray or missing continuation byte, an overlong form, a
 * surrogate, or a code point past U+10FFFF.
 */
static size_t
utf8_length(const unsigned char *s)
{
	unsigned long code;
	size_t length, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		length = 2;
		code = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		length = 3;
		code = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		length = 4;
		code = s[0] & 0x07;
	} else
		return 0;
	/* The terminating NUL is no continuation byte: no overrun. */
	for (i = 1; i < length; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		code = code << 6 | (s[i] & 0x3f);
	}
	if ((length == 3 && code < 0x800) || (code >= 0xd800 &&
	    code <= 0xdfff) || (length == 4 && (code < 0x10000 ||
	    code > 0x10ffff)))
		return 0;
	return length;
}

/*
 * A path is bytes, and JSON text is Unicode.  Well-formed UTF-8 passes
 * through; any other byte becomes the lone surrogate U+DC80 + byte, as
 * Python's "surrogateescape" decodes it, so os.fsencode() of the string
 * gives back the very bytes.
 */
void
json_string(FILE *to, const char *s)
{
	const unsigned char *at = (const unsigned char *)s;
	size_t length;

	fputc('"', to);
	while (*at != '\0') {
		if ((length = utf8_length(at)) == 0) {
			fprintf(to, "\\udc%02x", *at++);
			continue;
		}
		if (*at == '"' || *at == '\\')
			fprintf(to, "\\%c", *at);
		else if (*at < 0x20)
			fprintf(to, "\\u%04x", *at);
		else
			fwrite(at, 1, length, to);
		at += length;
	}
	fputc('"', to);
}

static void
json_latency(FILE *to, const char *name, const struct histogram *h)
{
	struct summary s = summarize(h);

	fprintf(to, "\"%s\":{\"samples\":%llu,\"p50_ns\":%llu,\"p90_ns\":%llu,"
	    "\"p99_ns\":%llu,\"p999_ns\":%llu,\"max_ns\":%llu}", name,
	    s.samples, s.p50, s.p90, s.p99, s.p999, s.max);
}

/* A measure that means nothing when no update completed is null. */
static void
json_number_or_null(FILE *to, bool known, double value)
{
	if (known)
		fprintf(to, "%.6f", value);
	else
		fputs("null", to);
}

/* One counter's verdict, of --counters=2. */
static void
json_counter(FILE *to, const char *path, long long start, bool known,
    long long final, long long expected, long long drift, bool correct)
{
	fputs("{\"path\":", to);
	if (path[0] != '\0')
		json_string(to, path);
	else
		fputs("null", to);
	fprintf(to, ",\"start\":%lld,\"expected\":%lld,\"final\":", start,
	    expected);
	if (known)
		fprintf(to, "%lld,\"drift\":%lld,\"correct\":%s}", final, drift,
		    correct ? "true" : "false");
	else
		fputs("null,\"drift\":null,\"correct\":null}", to);
}

/*
 * --counters=2: the order, each counter, the sum, the cycle of a deadlock
 * and the locks refused with EDEADLK; null with one counter.
 */
static void
json_pair(FILE *to, const struct run *run, const struct counter *c,
    const struct outcome *out, const struct verdict *v)
{
	const struct cycle_link *link;
	unsigned k;

	if (!run_pair(run)) {
		fputs(",\"counters\":1,\"order\":null,\"a\":null,\"b\":null,"
		    "\"sum\":null,\"cycle\":null,\"refused\":null", to);
		return;
	}
	fprintf(to, ",\"counters\":2,\"order\":\"%s\",\"a\":",
	    run->opposite ? "opposite" : "same");
	json_counter(to, c->name_b[0] != '\0' ? c->name : "", v->a_start,
	    v->final_known, v->a_final, v->a_expected, v->a_drift,
	    v->a_correct);
	fputs(",\"b\":", to);
	json_counter(to, c->name_b, v->start, v->final_known, v->final,
	    v->expected, v->drift, v->b_correct);
	fprintf(to, ",\"sum\":{\"start\":%lld,\"final\":", v->sum_start);
	if (v->final_known)
		fprintf(to, "%lld,\"held\":%s}", v->sum_final,
		    v->sum_held ? "true" : "false");
	else
		fputs("null,\"held\":null}", to);
	fputs(",\"cycle\":", to);
	if (out->cycle_length == 0)
		fputs("null", to);
	for (k = 0; k < out->cycle_length; k++) {
		link = &out->cycle[k];
		fprintf(to, "%s{\"worker\":%ld,\"role\":\"%s\",\"holds\":"
		    "\"%c\",\"waits_for\":\"%c\"}", k ? "," : "[",
		    (long)out->workers[link->worker].pid,
		    role(&out->workers[link->worker]), 'A' + link->holds,
		    'A' + link->waits_for);
	}
	if (out->cycle_length != 0)
		fputc(']', to);
	fprintf(to, ",\"refused\":%llu", (unsigned long long)v->refused);
}

void
report_json(FILE *to, const struct run *run, const struct counter *c,
    const struct outcome *out, const struct verdict *v)
{
	struct histogram wait, hold;
	char words[64], sentence[512];
	bool gap = gap_sentence(run, sentence, sizeof(sentence));
	unsigned i;
	uint64_t retries;

	fprintf(to, "{\"backend\":\"%s\",\"lock\":\"%s\",\"as\":\"%s\","
	    "\"share_fd\":%s,\"pin\":\"%s\",\"excludes\":%s,\"gap\":",
	    run->backend->name, run->kind->name, workers_as(run),
	    run->share_fd ? "true" : "false",
	    run->pin == PIN_SPREAD ? "spread" : "none",
	    kind_locks(run->kind) && !gap ? "true" : "false");
	if (gap)
		json_string(to, sentence);
	else
		fputs("null", to);
	fputs(",\"path\":", to);
	json_string(to, c->name);
	if (c->about != NULL) {
		fputs(",\"about\":", to);
		json_string(to, c->about);
	}
	fprintf(to, ",\"incrementers\":%u,\"decrementers\":%u",
	    run->incrementers, run->decrementers);
	if (run->iterations != 0)
		fprintf(to, ",\"iterations\":%llu,\"duration_s\":null",
		    (unsigned long long)run->iterations);
	else
		fprintf(to, ",\"iterations\":null,\"duration_s\":%.6f",
		    (double)run->duration_ns / 1e9);
	fprintf(to, ",\"start\":%lld,\"expected\":%lld", v->start,
	    v->expected);
	if (v->final_known)
		fprintf(to, ",\"final\":%lld,\"drift\":%lld,\"correct\":%s,"
		    "\"outside\":%s,\"unread\":null", v->final, v->drift,
		    v->correct ? "true" : "false",
		    v->outside ? "true" : "false");
	else {
		fprintf(to, ",\"final\":null,\"drift\":null,\"correct\":null,"
		    "\"outside\":null,\"unread\":");
		json_string(to, c->why ? c->why : "cannot be read");
	}
	fprintf(to, ",\"landed\":%u,\"updates\":%llu,\"elapsed_s\":%.9f,"
	    "\"ns_per_update\":", v->landed, (unsigned long long)v->updates,
	    (double)out->elapsed_ns / 1e9);
	json_number_or_null(to, v->updates != 0, ns_per_update(out, v));
	fprintf(to, ",\"crash\":");
	if (run->crash_at != 0)
		fprintf(to, "%llu", (unsigned long long)run->crash_at);
	else
		fprintf(to, "null");
	fprintf(to, ",\"nest\":%u", run->nest > 1 ? run->nest : 1);
	fprintf(to, ",\"recovered\":%s,\"deadlock\":%s,\"abandoned\":%s,"
	    "\"stalled\":%s,\"unstarted\":%u,\"at_limit\":%s,"
	    "\"interrupted\":%s,\"signal\":%d",
	    v->recoveries ? "true" : "false",
	    out->end == RUN_DEADLOCK ? "true" : "false",
	    v->abandoned ? "true" : "false",
	    out->end == RUN_STALLED ? "true" : "false", v->unstarted,
	    v->at_limit ? "true" : "false",
	    out->end == RUN_INTERRUPTED ? "true" : "false",
	    out->end == RUN_INTERRUPTED ? out->signal : 0);
	fprintf(to, ",\"cpu_user_s\":%.6f,\"cpu_system_s\":%.6f,"
	    "\"max_rss_kb\":%ld,\"fairness\":{\"min\":%llu,\"max\":%llu,"
	    "\"jain\":", v->user_s, v->system_s, v->max_rss_kb,
	    (unsigned long long)v->fewest, (unsigned long long)v->most);
	json_number_or_null(to, v->updates != 0, v->fairness);
	fputc('}', to);
	if (run->backend == &server_backend && c->server_cpu)
		fprintf(to, ",\"server_cpu_user_s\":%.6f,"
		    "\"server_cpu_system_s\":%.6f", c->server_user_s,
		    c->server_system_s);
	else if (run->backend == &server_backend)
		fprintf(to, ",\"server_cpu_user_s\":null,"
		    "\"server_cpu_system_s\":null");
	json_hold(to, run, out);
	for (i = 0, retries = 0; i < out->nworkers; i++)
		retries += out->workers[i].retries;
	fprintf(to, ",\"retries\":%llu,\"join\":", (unsigned long long)retries);
	if (run->join != NULL) {
		json_string(to, run->join);
		fprintf(to, ",\"judged\":%s", c->elsewhere ? "false" : "true");
	} else
		fputs("null,\"judged\":true", to);
	if (run->readers != 0) {
		fprintf(to, ",\"readers\":{\"count\":%u,\"prefer\":",
		    run->readers);
		if (strcmp(run->kind->name, "rwlock") != 0)
			fputs("null", to);
		else
			fprintf(to, "\"%s\"", run->prefer_writers ?
			    "writers" : "readers");
		fprintf(to, ",\"reads\":%llu,\"reads_per_s\":%.3f,"
		    "\"impossible\":%llu}", (unsigned long long)v->reads,
		    out->elapsed_ns > 0 ? (double)v->reads * 1e9 /
		    (double)out->elapsed_ns : 0,
		    (unsigned long long)v->impossible);
	}
	if (run->latency) {
		merge_latency(out, &wait, &hold);
		fprintf(to, ",\"latency\":{\"every\":%u,\"clock\":\"%s\","
		    "\"sample_ns\":%.3f,\"added_ns_per_update\":%.3f,",
		    out->timing.every, out->timing.tsc ? "tsc" :
		    "clock_gettime", out->timing.sample_ns,
		    timing_cost(out, &wait, v));
		json_latency(to, "wait", &wait);
		fputc(',', to);
		json_latency(to, "hold", &hold);
		if (run->readers != 0) {
			merge_role(out, true, &wait, &hold);
			fputc(',', to);
			json_latency(to, "read_wait", &wait);
			fputc(',', to);
			json_latency(to, "read_hold", &hold);
		}
		fputc('}', to);
	}
	schedule_print_json(to, run->schedule, out->turnstile != NULL ?
	    turnstile_log(out->turnstile) : NULL);
	fputs(",\"trace\":", to);
	if (v->trace != NULL)
		trace_report_json(to, v->trace);
	else
		fputs("null", to);
	json_pair(to, run, c, out, v);
	fprintf(to, ",\"workers\":[");
	for (i = 0; i < out->nworkers; i++) {
		const struct worker_result *r = &out->workers[i];

		describe_end(r, words, sizeof(words));
		fprintf(to, "%s{\"pid\":%ld,\"role\":\"%s\",\"updates\":%llu,"
		    "\"end\":\"%s\",\"recovered\":%u,\"misses\":%llu,"
		    "\"unsure\":%u,\"began_s\":%.6f,\"ended_s\":%.6f,"
		    "\"cpu_user_s\":%.6f,\"cpu_system_s\":%.6f,\"cpu\":",
		    i ? "," : "", (long)r->pid, role(r),
		    (unsigned long long)r->done, words, r->recovered,
		    (unsigned long long)r->misses,
		    r->unsure, since(out, r->start_ns), since(out, r->end_ns),
		    r->user_s, r->system_s);
		if (r->cpu >= 0)
			fprintf(to, "%d", r->cpu);
		else
			fputs("null", to);
		fprintf(to, ",\"retries\":%llu", (unsigned long long)r->retries);
		if (r->delta == 0)
			fprintf(to, ",\"reads\":%llu,\"impossible\":%llu",
			    (unsigned long long)r->reads,
			    (unsigned long long)r->impossible);
		if (run_pair(run))
			fprintf(to, ",\"refused\":%llu",
			    (unsigned long long)r->refused);
		fputc('}', to);
	}
	fprintf(to, "]}\n");
}
