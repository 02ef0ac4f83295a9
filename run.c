/*
 * One run, from settings to verdict.  A failure is described in the
 * result's message, one line naming the path or object and the reason,
 * for the caller to print.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
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
		    r->out.workers[i].end == END_THREAD_DIED)
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
	if (procs_run(run, &r->counter, progress, &r->out) == -1) {
		snprintf(r->message, sizeof(r->message),
		    "cannot start the workers: %s", strerror(errno));
		r->counter.ops->destroy(&r->counter);
		return r->status = EXIT_SYSTEM;
	}
	describe_failure(r);
	/* Whatever the workers met, the count is judged if it can be read. */
	known = final_value(run, r, &final);
	if (r->status == 0 && ask_if_held(run, &r->out))
		r->out.left_held = r->counter.ops->held(&r->counter);
	/* Threads left waiting on the lock still use the counter. */
	if (r->out.stuck == 0)
		r->counter.ops->destroy(&r->counter);
	else
		left_to_stuck_threads = r->counter.state;
	judge(run, &r->out, r->counter.start, known ? &final : NULL,
	    &r->verdict);
	r->judged = true;
	if (r->status == 0)
		r->status = verdict_status(&r->out, &r->verdict);
	return r->status;
}

void
run_free(struct result *r)
{
	procs_free(&r->out);
}
