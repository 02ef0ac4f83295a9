/*
 * One run, from settings to verdict.  A failure is described in the
 * result's message, one line naming the path or object and the reason,
 * for the caller to print.
 */
#include <errno.h>
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
	len = snprintf(r->message, sizeof(r->message), "%s: %s by worker %ld: %s",
	    r->counter.name, what[first->error], (long)first->pid, reason);
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

int
run_once(const struct run *run, const struct progress *progress,
    struct result *r)
{
	long long final = 0;

	memset(r, 0, sizeof(*r));
	r->counter.ops = run->backend;
	if (r->counter.ops->create(&r->counter, run) == -1) {
		snprintf(r->message, sizeof(r->message), "%s: %s",
		    run->backend == &file_backend ? run->path :
		    run->backend->where,
		    r->counter.why ? r->counter.why : strerror(errno));
		return r->status = EXIT_SYSTEM;
	}
	if (procs_run(run, &r->counter, progress, &r->out) == -1) {
		snprintf(r->message, sizeof(r->message),
		    "cannot start the workers: %s", strerror(errno));
		r->counter.ops->destroy(&r->counter);
		return r->status = EXIT_SYSTEM;
	}
	describe_failure(r);
	if (r->status == 0 && r->counter.ops->value(&r->counter, &final) == -1) {
		snprintf(r->message, sizeof(r->message), "%s: %s",
		    r->counter.name, r->counter.why ? r->counter.why :
		    strerror(errno));
		r->status = EXIT_SYSTEM;
	}
	if (r->status == 0 && ask_if_held(run, &r->out))
		r->out.left_held = r->counter.ops->held(&r->counter);
	/* Threads left waiting on the lock still use the counter. */
	if (r->out.stuck == 0)
		r->counter.ops->destroy(&r->counter);
	else
		left_to_stuck_threads = r->counter.state;
	if (r->status == EXIT_SYSTEM)
		return r->status;
	judge(run, &r->out, final, &r->verdict);
	return r->status = verdict_status(&r->out, &r->verdict);
}

void
run_free(struct result *r)
{
	procs_free(&r->out);
}
