/*
 * One run, from settings to verdict.  A failure is described in the
 * result's message, one line naming the path or object and the reason,
 * for the caller to print.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends.h"
#include "run.h"

/*
 * The first worker that could not do its part; the others most often met
 * the same trouble, and are only counted.
 */
static void
describe_failure(struct result *r)
{
	static const char *const what[] = {
		[UPDATE_OK] = "no error",
		[UPDATE_ATTACH] = "open",
		[UPDATE_LOCK] = "lock",
		[UPDATE_UNLOCK] = "unlock",
		[UPDATE_READ] = "read",
		[UPDATE_WRITE] = "write",
		[UPDATE_CORRUPT] = "read",
		[UPDATE_REPLACED] = "open",
		[UPDATE_TIMEOUT] = "lock",
		[UPDATE_PIN] = "pin",
		[UPDATE_BUSY] = "lock",
		[UPDATE_DEADLOCK] = "lock",
	};
	const struct worker_result *first = NULL;
	unsigned others = 0, i;
	const char *reason;
	int len;

	for (i = 0; i < r->out.nworkers; i++) {
		if (r->out.workers[i].end != END_FAILED)
			continue;
		if (first == NULL)
			first = &r->out.workers[i];
		else
			others++;
	}
	if (first == NULL)
		return;
	reason = strerror(first->error_errno);
	if (first->error == UPDATE_CORRUPT)
		reason = "holds no valid counter: it was changed during the run";
	else if (first->error == UPDATE_REPLACED)
		reason = "was replaced during the run";
	if (first->error == UPDATE_PIN && first->cpu >= 0)
		len = snprintf(r->message, sizeof(r->message), "--pin: cannot "
		    "move worker %ld to CPU %d: %s", (long)first->pid,
		    first->cpu, reason);
	else if (first->error == UPDATE_PIN)
		len = snprintf(r->message, sizeof(r->message), "--pin: worker "
		    "%ld cannot read which CPUs it may use: %s",
		    (long)first->pid, reason);
	else
		len = snprintf(r->message, sizeof(r->message), "%s: %s by "
		    "worker %ld: %s", r->counter.name, what[first->error],
		    (long)first->pid, reason);
	if (others != 0 && len > 0 && (size_t)len < sizeof(r->message))
		snprintf(r->message + len, sizeof(r->message) - (size_t)len,
		    " (and %u other %s failed)", others,
		    others == 1 ? "worker" : "workers");
	r->status = EXIT_SYSTEM;
}

/*
 * Whether to ask the backend if the lock is left held: only after a worker
 * died holding a lock that its death does not release, and only when every
 * worker ended by itself, so that whoever holds it died holding it.  A
 * deadlock already says the lock was left held.
 */
static bool
ask_if_held(const struct run *run, const struct outcome *out)
{
	const char *why;
	bool died = false;
	unsigned i;

	if (run->backend->held == NULL || out->end != RUN_COMPLETED)
		return false;
	for (i = 0; i < out->nworkers; i++) {
		switch (out->workers[i].end) {
		case END_KILLED:
		case END_THREAD_DIED:
		case END_QUIT:
			died = true;
			break;
		case END_STOPPED:
		case END_STUCK:
		case END_STALLED:
			return false;
		default:
			break;
		}
	}
	switch (kind_death(run->kind, run, &why)) {
	case DEATH_ABANDONED:
	case DEATH_RECOVERED:
		return died;
	default:
		return false;
	}
}

/*
 * The state of a counter that threads left waiting still use: kept until
 * proccount exits, and known to be kept (volatile: a store that nothing
 * reads would otherwise go, and the leak checker would call it a leak).
 */
static void *volatile left_to_stuck_threads;

/* How often a counter locked by another program is tried again. */
#define HELD_UP_NS	(10 * 1000000LL)

/*
 * Called while another program holds the counter's lock (the backend said
 * EWOULDBLOCK): waits a little for it, as a worker waits for the lock:
 * for --timeout at most from began, and never past a signal that ends the
 * run.  Returns 0 to try again, or the status to give up with, the
 * message set.
 */
static int
held_up(const struct run *run, struct result *r, int64_t began)
{
	int signo;

	if (run->timeout_ns != 0 &&
	    clock_ns() - began >= (int64_t)run->timeout_ns) {
		snprintf(r->message, sizeof(r->message), "%s: %s for longer "
		    "than --timeout, %.1f s", r->counter.name, r->counter.why,
		    (double)run->timeout_ns / 1e9);
		return EXIT_UNFINISHED;
	}
	if ((signo = procs_signal_within(HELD_UP_NS)) != 0) {
		snprintf(r->message, sizeof(r->message), "%s: interrupted by "
		    "SIG%s while it %s", r->counter.name, sigabbrev_np(signo),
		    r->counter.why);
		return 128 + signo;
	}
	return 0;
}

/* Creates the counter; returns 0, or the status of a run that cannot be. */
static int
create(const struct run *run, struct result *r)
{
	int64_t began = clock_ns();
	const char *what = run->backend == &file_backend ? run->path :
	    run->backend->where;

	while (r->counter.ops->create(&r->counter, run) == -1) {
		/* With two counter files, the one that failed. */
		if (run->backend == &file_backend && r->counter.name[0] != '\0')
			what = r->counter.name;
		if (errno != EWOULDBLOCK) {
			snprintf(r->message, sizeof(r->message), "%s: %s",
			    what, r->counter.why ? r->counter.why :
			    strerror(errno));
			return r->status = EXIT_SYSTEM;
		}
		if ((r->status = held_up(run, r, began)) != 0)
			return r->status;
	}
	return 0;
}

/*
 * The final value, read under the lock as any update is, for another
 * program may be updating the counter too; but not after a worker died,
 * whose lock may never be released.  False when it cannot be read.
 */
static bool
final_value(const struct run *run, struct result *r, long long *final)
{
	bool locked = r->out.end == RUN_COMPLETED && r->out.stuck == 0;
	int64_t began = clock_ns();
	unsigned i;
	int status;

	for (i = 0; i < r->out.nworkers; i++)
		if (r->out.workers[i].end == END_KILLED ||
		    r->out.workers[i].end == END_THREAD_DIED ||
		    r->out.workers[i].end == END_QUIT)
			locked = false;
	while (r->counter.ops->value(&r->counter, run, locked, final) == -1) {
		if (errno != EWOULDBLOCK) {
			if (r->counter.why == NULL)
				r->counter.why = strerror(errno);
			if (r->status == 0)
				snprintf(r->message, sizeof(r->message),
				    "%s: %s", r->counter.name, r->counter.why);
			if (r->status == 0)
				r->status = EXIT_SYSTEM;
			return false;
		}
		if ((status = held_up(run, r, began)) != 0) {
			r->status = status;
			return false;
		}
	}
	return true;
}

/*
 * With --trace: the exact count, from every worker's records.  The trace
 * knows which uncounted update of a killed worker landed, which the
 * verdict could only allow for, so its expected value is made exact; then
 * its drift must be the lost decrements less the lost increments, and if
 * it is not, the trace says so.  Returns 0, or -1 with errno set.
 */
static int
account_trace(const struct run *run, struct result *r, const long long *final)
{
	const struct outcome *out = &r->out;
	struct trace_account *a = &r->trace;
	struct verdict *v = &r->verdict;
	unsigned long long expected = (unsigned long long)v->start;
	long long lost;
	unsigned i;

	r->trace_workers = calloc(out->nworkers + 1, sizeof(*r->trace_workers));
	if (r->trace_workers == NULL)
		return -1;
	for (i = 0; i < out->nworkers; i++) {
		r->trace_workers[i] = (struct trace_worker){
			.records = out->trace + (size_t)i * run->trace_capacity,
			.done = out->workers[i].done,
			.delta = out->workers[i].delta,
			.pid = out->workers[i].pid,
		};
		expected += (unsigned long long)(out->workers[i].delta *
		    (long long)out->workers[i].done);
	}
	r->trace_run = (struct trace_run){
		.start = v->start,
		.capacity = run->trace_capacity,
		.nworkers = out->nworkers,
		.workers = r->trace_workers,
		.final_known = final != NULL,
		.final = final != NULL ? *final : 0,
		.final_tag = r->counter.tag,
		.began_ns = out->started_ns,
		.timed = run->iterations == 0,
	};
	if (trace_account(&r->trace_run, a) == -1)
		return -1;
	v->trace = a;
	if (!a->exact)
		return 0;
	expected += (unsigned long long)a->landed_sum;
	v->landed = (unsigned)a->landed;
	v->expected = (long long)expected;
	v->drift = (long long)((unsigned long long)v->final - expected);
	v->correct = v->drift == 0;
	v->outside = v->outside && !v->correct;
	lost = (long long)a->lost_decrements - (long long)a->lost_increments;
	if (v->drift != lost) {
		a->exact = false;
		snprintf(a->problem, sizeof(a->problem), "the drift is %lld, "
		    "but the lost decrements less the lost increments make "
		    "%lld", v->drift, lost);
	}
	return 0;
}

int
run_once(const struct run *run, const struct progress *progress,
    struct result *r)
{
	long long final = 0;
	bool known;
	size_t i;

	memset(r, 0, sizeof(*r));
	/* Any run cleans up after killed ones, whatever its own backend. */
	for (i = 0; backends[i] != NULL; i++)
		if (backends[i]->sweep != NULL)
			backends[i]->sweep();
	r->counter.ops = run->backend;
	if (create(run, r) != 0)
		return r->status;
	if (!count_fits(r->counter.start, run)) {
		snprintf(r->message, sizeof(r->message), "%s holds %lld: with "
		    "%llu updates a worker, the count could leave the range "
		    "of a 64-bit integer", r->counter.name, r->counter.start,
		    (unsigned long long)run->iterations);
		r->counter.ops->destroy(&r->counter);
		return r->status = EXIT_SYSTEM;
	}
	if (run->trace_capacity != 0 && !trace_fits(r->counter.start,
	    run->incrementers, run->decrementers, run->trace_capacity)) {
		snprintf(r->message, sizeof(r->message), "%s holds %lld: "
		    "with %llu updates a worker, the count could leave the "
		    "range of a 32-bit integer, which --trace keeps it in",
		    r->counter.name, r->counter.start,
		    (unsigned long long)run->trace_capacity);
		r->counter.ops->destroy(&r->counter);
		return r->status = EXIT_SYSTEM;
	}
	if (procs_run(run, &r->counter, progress, &r->out) == -1) {
		snprintf(r->message, sizeof(r->message),
		    "cannot start the workers: %s", strerror(errno));
		r->counter.ops->destroy(&r->counter);
		return r->status = EXIT_SYSTEM;
	}
	describe_failure(r);
	if (run->backend->settle != NULL &&
	    run->backend->settle(&r->counter, run, &r->out) == -1 &&
	    r->status == 0) {
		snprintf(r->message, sizeof(r->message), "%s: %s",
		    r->counter.name, r->counter.why ? r->counter.why :
		    strerror(errno));
		r->status = EXIT_SYSTEM;
	}
	/* Whatever the workers met, the count is judged if it can be read. */
	known = !r->counter.elsewhere && final_value(run, r, &final);
	if (r->status == 0 && ask_if_held(run, &r->out))
		r->out.left_held = r->counter.ops->held(&r->counter);
	/* Threads left waiting on the lock still use the counter. */
	if (r->out.stuck == 0)
		r->counter.ops->destroy(&r->counter);
	else
		left_to_stuck_threads = r->counter.state;
	if (run_pair(run)) {
		judge(run, &r->out, r->counter.start_b, known ?
		    &r->counter.final_b : NULL, &r->verdict);
		judge_pair(&r->out, r->counter.start, known ? &final : NULL,
		    &r->verdict);
	} else
		judge(run, &r->out, r->counter.start, known ? &final : NULL,
		    &r->verdict);
	/* The server's handlers do the run's work too. */
	if (r->counter.server_cpu) {
		r->verdict.user_s += r->counter.server_user_s;
		r->verdict.system_s += r->counter.server_system_s;
	}
	r->judged = true;
	if (run->trace_capacity != 0 &&
	    account_trace(run, r, known ? &final : NULL) == -1) {
		snprintf(r->message, sizeof(r->message), "cannot account for "
		    "the trace: %s", strerror(errno));
		r->status = EXIT_SYSTEM;
	}
	if (r->status == 0)
		r->status = verdict_status(&r->out, &r->verdict);
	/* Another run judges the value: this one's workers did their part. */
	if (r->counter.elsewhere && r->status == EXIT_SYSTEM &&
	    r->message[0] == '\0')
		r->status = EXIT_CORRECT;
	return r->status;
}

void
run_free(struct result *r)
{
	trace_account_free(&r->trace);
	free(r->trace_workers);
	r->trace_workers = NULL;
	procs_free(&r->out);
}
