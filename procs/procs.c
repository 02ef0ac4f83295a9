/*
 * The parent's side of a run: start the workers, as forked processes or as
 * threads, open the start gate once every worker is ready, watch them,
 * stop them when the run must end, reap them all, and collect what each
 * did.
 *
 * The gate is a pipe: each worker blocks reading it and the parent opens
 * it by closing the write end, which wakes every reader at once, processes
 * and threads alike.  The workers say who they are and whether they are
 * ready on a second pipe, one word each.  A process that dies before it
 * says so is seen by the pipe's end of file, once every worker has closed
 * its copy, and the run goes on without it; threads share the parent's
 * copy, so the parent counts one word a thread.  While it waits, a signal
 * that ends the run still ends it, and with --timeout so does a wait with
 * no word for as long as a stall may last.
 *
 * A process that ended is reaped by wait4 on SIGCHLD.  A thread that ended
 * marks its slot and sends the parent's thread a SIGCHLD too, and is
 * joined.  A process that must be stopped is killed; a thread cannot be,
 * so a thread blocked for good on a lock that nothing will release is left
 * where it is, and proccount exits around it.
 */
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include <pthread.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../schedule/turnstile.h"
#include "procs.h"
#include "shared.h"

/*
 * How often the parent looks at its workers when no signal wakes it: often
 * while it has something to watch for (a stall after a death, the end of
 * the grace given to stopping workers), seldom otherwise, so that it takes
 * no CPU from the workers it measures.
 */
#define WATCH_NS	(50 * 1000000LL)
#define IDLE_NS		(1000 * 1000000LL)
/* The progress line: after a second, at most ten times a second. */
#define PROGRESS_AFTER_NS	(1000 * 1000000LL)
#define PROGRESS_EVERY_NS	(100 * 1000000LL)
/*
 * After a worker died: how long without progress is a deadlock.  With
 * --timeout, the timeout and a grace instead, and at any time: see
 * stall_limit.
 */
#define STALL_NS	(2000 * 1000000LL)
/*
 * How long workers told to stop may take to finish their update before
 * they are killed: enough for a worker that waits for the lock behind the
 * others on a busy machine.  A deadlock gets no grace: nobody can finish.
 */
#define GRACE_NS	(1000 * 1000000LL)

static sigset_t handled;
static sigset_t ending;		/* handled, but for SIGCHLD */

/*
 * Called first thing: from here on the signals that end a run, and SIGCHLD,
 * are taken only by sigtimedwait in the watch loop, so nothing the parent
 * creates can be left behind by an untimely ^C.  A signal that proccount
 * was started ignoring (nohup, a background job) stays ignored.
 */
void
procs_block_signals(void)
{
	const int ending_ones[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction now;
	size_t i;

	sigemptyset(&handled);
	for (i = 0; i < sizeof(ending_ones) / sizeof(ending_ones[0]); i++)
		if (sigaction(ending_ones[i], NULL, &now) == 0 &&
		    now.sa_handler != SIG_IGN)
			sigaddset(&handled, ending_ones[i]);
	ending = handled;
	sigaddset(&handled, SIGCHLD);
	sigprocmask(SIG_BLOCK, &handled, NULL);
}

/* A worker thread's stack: the loop needs little, the sanitizers more. */
#define THREAD_STACK	(1024 * 1024)

/*
 * The handles of threads that died holding them: a crashed thread's
 * descriptor stays open, and its lock held, for as long as the process
 * lives, so they are kept here, and never detached.
 */
static void	**dead_handles;
static size_t	  ndead_handles;

static void
keep_dead_handle(void *handle)
{
	void **more = realloc(dead_handles, (ndead_handles + 1) *
	    sizeof(*dead_handles));

	if (more == NULL)
		return;
	dead_handles = more;
	dead_handles[ndead_handles++] = handle;
}

/* Waits up to ns for a signal that ends a run; returns it, or 0. */
int
procs_signal_within(int64_t ns)
{
	struct timespec pause = clock_timespec(ns);
	sigset_t ending = handled;
	int signo;

	sigdelset(&ending, SIGCHLD);
	signo = sigtimedwait(&ending, NULL, &pause);
	return signo > 0 ? signo : 0;
}

struct watch {
	const struct run *run;
	const struct progress *progress;
	struct shared	*shared;
	struct outcome	*out;
	pthread_t	*threads;	/* with --threads */
	struct worker_start *starts;
	bool		*killed_by_us;	/* or, for a thread, left stuck */
	unsigned	 started;	/* workers started */
	unsigned	 live;
	char		*said;		/* on the ready pipe: SAID_READY, ... */
	int64_t		*reaped_ns;
	bool		 death_seen;	/* a worker was killed, not by us */
	bool		 failure_seen;	/* a worker could not go on */
	bool		 stopping;
	int64_t		 stop_at;
};

/* What each worker said on the ready pipe. */
enum { SAID_NOTHING, SAID_READY, SAID_CANNOT };

/*
 * How long no update may complete, after a death or with --timeout, before
 * the run is ended.  With --timeout a worker that waits for the lock gives
 * up by itself within the timeout, which says more than the parent's
 * verdict; the parent only backs it up, after a grace.  A worker that
 * neither updates nor gives up within that time is not waiting for the
 * lock: it was stopped, or has stopped the others.
 */
static int64_t
stall_limit(const struct run *run)
{
	return (int64_t)(run->timeout_ns ? run->timeout_ns + GRACE_NS :
	    STALL_NS) + (int64_t)run->delay_ns + (int64_t)run->work_ns;
}

static unsigned
index_of(const struct watch *watch, pid_t pid)
{
	unsigned i;

	for (i = 0; i < watch->started; i++)
		if (watch->out->workers[i].pid == pid)
			return i;
	return watch->started;
}

static double
seconds(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void
reap_processes(struct watch *watch, int flags)
{
	struct rusage usage;
	int status;
	pid_t pid;

	while (watch->live > 0 &&
	    (pid = wait4(-1, &status, flags, &usage)) > 0) {
		unsigned i = index_of(watch, pid);
		struct worker_result *r;

		if (i == watch->started)
			continue;
		r = &watch->out->workers[i];
		watch->live--;
		watch->reaped_ns[i] = clock_ns();
		r->user_s = seconds(usage.ru_utime);
		r->system_s = seconds(usage.ru_stime);
		r->max_rss_kb = usage.ru_maxrss;
		if (WIFSIGNALED(status)) {
			r->signal = WTERMSIG(status);
			/* Unless already known: unstarted, or stalled. */
			if (r->end == END_EXITED)
				r->end = watch->killed_by_us[i] ? END_STOPPED :
				    END_KILLED;
			if (r->end == END_KILLED)
				watch->death_seen = true;
		} else if (watch->shared->slots[i].error != UPDATE_OK &&
		    watch->shared->slots[i].error != UPDATE_TIMEOUT) {
			/* A broken counter or a failed call ends the run. */
			watch->failure_seen = true;
		} else if (r->end == END_EXITED &&
		    watch->shared->slots[i].end_ns == 0 &&
		    atomic_load(&watch->shared->slots[i].start_ns) != 0) {
			/*
			 * It began its updates and never reached their end:
			 * something in it called exit, a library or a
			 * sanitizer, wherever it was, holding what it held.
			 */
			r->end = END_QUIT;
			r->exit_status = WEXITSTATUS(status);
			watch->death_seen = true;
		}
	}
}

/* Joins the threads that have ended; with all, waits for every one. */
static void
reap_threads(struct watch *watch, bool all)
{
	struct rusage usage;
	unsigned i;

	for (i = 0; i < watch->started && watch->live > 0; i++) {
		struct slot *slot = &watch->shared->slots[i];
		struct worker_result *r = &watch->out->workers[i];
		int finished = atomic_load(&slot->finished);

		if (watch->reaped_ns[i] != 0 || watch->killed_by_us[i] ||
		    (finished == 0 && !all))
			continue;
		pthread_join(watch->threads[i], NULL);
		watch->live--;
		watch->reaped_ns[i] = clock_ns();
		r->user_s = slot->user_s;
		r->system_s = slot->system_s;
		if (getrusage(RUSAGE_SELF, &usage) == 0)
			r->max_rss_kb = usage.ru_maxrss;
		if (atomic_load(&slot->finished) == 2) {
			keep_dead_handle(watch->starts[i].handle);
			r->end = END_THREAD_DIED;
			watch->death_seen = true;
		} else if (slot->error != UPDATE_OK &&
		    slot->error != UPDATE_TIMEOUT) {
			watch->failure_seen = true;
		}
	}
}

static void
reap_exited(struct watch *watch, bool wait)
{
	if (watch->threads != NULL)
		reap_threads(watch, wait);
	else
		reap_processes(watch, wait ? 0 : WNOHANG);
}

static void
begin_stop(struct watch *watch)
{
	if (watch->stopping)
		return;
	watch->stopping = true;
	watch->stop_at = clock_ns();
	atomic_store(&watch->shared->stop, 1);
	/* A worker waiting for its turn would never see the stop. */
	if (watch->shared->turnstile != NULL)
		turnstile_open(watch->shared->turnstile);
}

/*
 * Ends the workers that did not stop when asked, and returns how many it
 * had to.  A process is killed, and will be reported as ending as, unless
 * it is already known to have ended otherwise.  A thread cannot be: one
 * still running now waits for a lock that nothing will release, and is
 * left there, detached, until proccount exits.
 */
static unsigned
kill_the_rest(struct watch *watch, enum worker_end as)
{
	unsigned i, killed = 0;

	/*
	 * Processes are all stopped first, then killed: one killed holding
	 * a lock that the kernel releases (flock, ofd) or that the next
	 * locker recovers would otherwise let another, waiting for it, take
	 * it and finish an update before its own SIGKILL lands, as in a
	 * deadlock of --counters=2.
	 */
	for (i = 0; i < watch->started && watch->threads == NULL; i++)
		if (watch->reaped_ns[i] == 0 && !watch->killed_by_us[i])
			kill(watch->out->workers[i].pid, SIGSTOP);
	for (i = 0; i < watch->started; i++) {
		if (watch->reaped_ns[i] != 0 || watch->killed_by_us[i])
			continue;
		watch->killed_by_us[i] = true;
		if (watch->threads == NULL) {
			kill(watch->out->workers[i].pid, SIGKILL);
			if (watch->out->workers[i].end == END_EXITED)
				watch->out->workers[i].end = as;
			killed++;
			continue;
		}
		if (atomic_load(&watch->shared->slots[i].finished) != 0) {
			/* It ended after all: joined as any other. */
			watch->killed_by_us[i] = false;
			reap_threads(watch, false);
			continue;
		}
		pthread_detach(watch->threads[i]);
		watch->out->workers[i].end = END_STUCK;
		watch->reaped_ns[i] = clock_ns();
		watch->live--;
		watch->out->stuck++;
		killed++;
	}
	return killed;
}

/* --readers: they read until every writer has ended, however it did. */
static bool
writers_ended(const struct watch *watch)
{
	unsigned i, writers = watch->run->incrementers +
	    watch->run->decrementers;

	if (watch->run->readers == 0)
		return false;
	for (i = 0; i < writers && i < watch->started; i++)
		if (watch->reaped_ns[i] == 0)
			return false;
	return true;
}

/* Updates completed so far, from the workers' marks. */
static uint64_t
updates_done(const struct watch *watch)
{
	uint64_t sum = 0;
	unsigned i;

	for (i = 0; i < watch->started; i++)
		sum += atomic_load_explicit(&watch->shared->slots[i].progress,
		    memory_order_relaxed) / 2;
	return sum;
}

/*
 * --nest: whether a worker holds the lock while it takes it again, which
 * a lock that does not know its holder makes it wait for forever.
 */
static bool
waits_for_itself(struct watch *watch)
{
	unsigned i;

	for (i = 0; i < watch->started; i++)
		if (atomic_load(&watch->shared->slots[i].nested) != 0)
			return true;
	return false;
}

/*
 * --counters=2: whether the workers wait in a cycle, each for a lock that
 * the next holds, as their slots say; the cycle is kept for the report.
 */
static bool
waits_in_cycle(struct watch *watch)
{
	struct lock_state *states;
	uint32_t locks;
	unsigned i;

	if (!run_pair(watch->run) ||
	    (states = calloc(watch->started, sizeof(*states))) == NULL)
		return false;
	for (i = 0; i < watch->started; i++) {
		locks = atomic_load_explicit(&watch->shared->slots[i].locks,
		    memory_order_relaxed);
		states[i].holds = locks & 0xff;
		states[i].waits_for = (int)(locks >> 8 & 0xff) - 1;
	}
	watch->out->cycle_length = cycle_find(states, watch->started,
	    watch->out->cycle, CYCLE_MAX);
	free(states);
	return watch->out->cycle_length != 0;
}

/*
 * Sleeps in sigtimedwait until a worker ends, a signal arrives, or it is
 * time to look: at the end of a timed run, at a stall, at the end of the
 * grace given to stopping workers.
 *
 * A stall ends the run: no update completed for the stall limit, after a
 * death (a deadlock) or, with --timeout, at any time (stalled: a worker
 * made no progress, and the run must stay bounded).  So does a stop that
 * the workers do not obey within the grace: after a death, that too is a
 * deadlock, which a run shorter than the stall limit would otherwise end
 * before it is seen.
 */
static void
watch_workers(struct watch *watch, int64_t opened)
{
	const struct run *run = watch->run;
	int64_t deadline = run->duration_ns ? opened +
	    (int64_t)run->duration_ns : 0;
	int64_t limit = stall_limit(run);
	uint64_t progress = 0, now_progress;	/* updates, to see a stall */
	int64_t progressed = opened, shown = 0, now, nap;
	struct timespec pause;
	bool dead_before;
	int signo;

	while (watch->live > 0) {
		now = clock_ns();
		nap = watch->death_seen || watch->stopping ? WATCH_NS : IDLE_NS;
		if (watch->progress != NULL && nap > PROGRESS_EVERY_NS)
			nap = PROGRESS_EVERY_NS;
		if (deadline != 0 && !watch->stopping && deadline - now < nap)
			nap = deadline - now > 0 ? deadline - now : 0;
		/* Wake when a stall would reach the limit, not a nap later. */
		if ((watch->death_seen || run->timeout_ns != 0 ||
		    run->nest > 1 || run_pair(run)) &&
		    !watch->stopping && progressed + limit - now < nap)
			nap = progressed + limit - now > 0 ?
			    progressed + limit - now : 0;
		pause.tv_sec = (time_t)(nap / 1000000000);
		pause.tv_nsec = (long)(nap % 1000000000);
		signo = sigtimedwait(&handled, NULL, &pause);
		if ((signo == SIGINT || signo == SIGTERM || signo == SIGHUP) &&
		    watch->out->end != RUN_INTERRUPTED) {
			watch->out->end = RUN_INTERRUPTED;
			watch->out->signal = signo;
			begin_stop(watch);
		}
		dead_before = watch->death_seen;
		reap_exited(watch, false);
		now = clock_ns();
		if ((deadline != 0 && now >= deadline) || writers_ended(watch))
			begin_stop(watch);
		now_progress = updates_done(watch);
		/* The stall is timed from the death, or from the last update. */
		if (now_progress != progress || watch->death_seen != dead_before) {
			progress = now_progress;
			progressed = now;
		}
		if ((watch->death_seen || run->timeout_ns != 0 ||
		    run->nest > 1 || run_pair(run)) &&
		    !watch->stopping && now - progressed >= limit) {
			/*
			 * Two counters without --timeout: a stall that is no
			 * cycle, nor a death, is only slow; look again later.
			 */
			if (!watch->death_seen && run->timeout_ns == 0 &&
			    run->nest <= 1 && !waits_in_cycle(watch))
				progressed = now;
			else {
				watch->out->end = watch->death_seen ?
				    RUN_ABANDONED : waits_for_itself(watch) ||
				    waits_in_cycle(watch) ? RUN_DEADLOCK :
				    RUN_STALLED;
				watch->out->stalled_ns = now - progressed;
				begin_stop(watch);
				kill_the_rest(watch, watch->out->end ==
				    RUN_STALLED ? END_STALLED : END_STOPPED);
			}
		}
		if (watch->failure_seen)
			begin_stop(watch);
		if (watch->progress != NULL && !watch->stopping &&
		    now - opened >= PROGRESS_AFTER_NS &&
		    now - shown >= PROGRESS_EVERY_NS) {
			watch->progress->show(watch->progress->context,
			    updates_done(watch), now - opened);
			shown = now;
		}
		if (watch->stopping && now - watch->stop_at >= GRACE_NS &&
		    kill_the_rest(watch, END_STOPPED) != 0 &&
		    watch->death_seen && watch->out->end == RUN_COMPLETED)
			watch->out->end = RUN_ABANDONED;
	}
}

/* What a worker that ended reported in its slot. */
static void
collect_ended(struct watch *watch, struct slot *slot,
    struct worker_result *r)
{
	struct outcome *out = watch->out;

	r->error = slot->error;
	r->error_errno = slot->error_errno;
	r->recovered = slot->recovered;
	r->held_ns = atomic_load(&slot->held_ns);
	r->worked_ns = atomic_load(&slot->worked_ns);
	r->misses = atomic_load(&slot->misses);
	r->retries = atomic_load(&slot->retries);
	r->cpu = slot->cpu;
	r->end_ns = slot->end_ns ? slot->end_ns :
	    watch->reaped_ns[r - out->workers];
	r->wait = &slot->wait;
	r->hold = &slot->hold;
	if (r->signal != 0 || r->end == END_THREAD_DIED)
		return;
	if (r->error == UPDATE_DEADLOCK) {
		r->end = END_REFUSED;
		out->end = RUN_DEADLOCK;
	} else if (r->error == UPDATE_TIMEOUT) {
		r->end = END_TIMED_OUT;
		/* Gave up on a lock that it holds itself: --nest. */
		if (slot->nested != 0 && out->end == RUN_COMPLETED)
			out->end = RUN_DEADLOCK;
		/* Gave up on a lock that its dead holder kept. */
		if (watch->death_seen && out->end == RUN_COMPLETED)
			out->end = RUN_ABANDONED;
	} else if (r->error != UPDATE_OK)
		r->end = END_FAILED;
}

static void
collect(struct watch *watch)
{
	struct outcome *out = watch->out;
	int64_t first = 0, last = 0;
	unsigned i;

	for (i = 0; i < watch->started; i++) {
		struct slot *slot = &watch->shared->slots[i];
		struct worker_result *r = &out->workers[i];
		uint64_t progress = atomic_load(&slot->progress);

		if (watch->threads != NULL)
			r->pid = slot->pid;
		r->delta = i >= watch->run->incrementers +
		    watch->run->decrementers ? 0 :
		    i < watch->run->incrementers ? 1 : -1;
		r->reads = atomic_load(&slot->reads);
		r->impossible = atomic_load(&slot->impossible);
		r->refused = atomic_load(&slot->refused);
		r->done = progress / 2;
		r->unsure = progress % 2 == 1 ? slot->span : 0;
		r->start_ns = atomic_load_explicit(&slot->start_ns,
		    memory_order_relaxed);
		r->cpu = -1;
		r->nested = atomic_load(&slot->nested);
		if (r->end == END_STUCK) {
			/*
			 * What a thread left waiting wrote, but for its
			 * progress and start, is not the parent's to read: it
			 * was never joined.
			 */
			r->end_ns = watch->reaped_ns[i];
		} else
			collect_ended(watch, slot, r);
		if (r->start_ns != 0 && (first == 0 || r->start_ns < first))
			first = r->start_ns;
		if (r->start_ns != 0 && r->end_ns > last)
			last = r->end_ns;
	}
	out->started_ns = first;
	out->elapsed_ns = first != 0 && last > first ? last - first : 0;
}

/*
 * Waits, briefly, for the workers to come through the gate, and returns
 * when they did: a timed run's clock starts then, not when the gate opened,
 * since waking many workers on a busy machine can take a while.
 */
static int64_t
wait_for_arrival(struct shared *shared, unsigned workers)
{
	const struct timespec nap = { 0, 200000 };
	int64_t give_up = clock_ns() + 1000000000;

	while (atomic_load(&shared->arrived) < workers && clock_ns() < give_up)
		nanosleep(&nap, NULL);
	return clock_ns();
}

/* Worker index << 1, with 1 added if it is ready: one worker's word. */
static void
hear(struct watch *watch, uint32_t word)
{
	unsigned i = word >> 1;

	if (i < watch->started)
		watch->said[i] = word & 1 ? SAID_READY : SAID_CANNOT;
}

/*
 * Reads the ready pipe until every worker has said whether it is ready
 * or, for processes, the pipe's end of file says that none is left to say
 * it: a process that died first closed its end without a word.  Threads
 * share the parent's end, so for them it counts one word a thread.  A
 * signal that ends the run, read from signal_fd, ends the wait as well,
 * and so, with --timeout, does no word for as long as a stall may last.
 */
static void
wait_until_ready(struct watch *watch, int ready_fd, int signal_fd)
{
	struct outcome *out = watch->out;
	int64_t limit = watch->run->timeout_ns ? stall_limit(watch->run) : 0;
	int64_t heard_at = clock_ns(), left;
	struct pollfd fds[2] = {
		{ .fd = ready_fd, .events = POLLIN },
		{ .fd = signal_fd, .events = POLLIN },
	};
	struct signalfd_siginfo info;
	uint32_t words[128];
	size_t have = 0, i;	/* bytes in words */
	unsigned heard = 0;
	int events, wait_ms;
	ssize_t n;

	while (watch->threads == NULL || heard < watch->started) {
		wait_ms = -1;
		if (limit != 0) {
			left = heard_at + limit - clock_ns();
			wait_ms = left > 0 ? (int)((left + 999999) / 1000000) : 0;
		}
		if ((events = poll(fds, 2, wait_ms)) == -1 && errno == EINTR)
			continue;
		if (events == -1)
			break;
		if (events == 0) {
			out->end = RUN_STALLED;
			out->stalled_ns = clock_ns() - heard_at;
			break;
		}
		if ((fds[1].revents & POLLIN) != 0 &&
		    read(signal_fd, &info, sizeof(info)) == sizeof(info)) {
			out->end = RUN_INTERRUPTED;
			out->signal = (int)info.ssi_signo;
			break;
		}
		if (fds[0].revents == 0)
			continue;
		n = read(ready_fd, (char *)words + have, sizeof(words) - have);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
		for (i = 0; i < have / sizeof(words[0]); i++, heard++)
			hear(watch, words[i]);
		/* A pipe keeps each word whole; this is only prudence. */
		memmove(words, words + i, have % sizeof(words[0]));
		have %= sizeof(words[0]);
		heard_at = clock_ns();
	}
}

/*
 * What the ready pipe told: a worker that could not attach stops the run,
 * which its slot explains; one that died first is left out of it, and said
 * so.  A wait ended by a signal or a stall stops the run too, and kills at
 * once the processes that had not said they were ready: they may be
 * stopped, and never would.  Returns how many workers will never come
 * through the gate.
 */
static unsigned
settle_readiness(struct watch *watch)
{
	struct outcome *out = watch->out;
	unsigned i, absent = 0;

	if (out->end != RUN_COMPLETED)
		begin_stop(watch);
	for (i = 0; i < watch->started; i++) {
		if (watch->said[i] == SAID_READY)
			continue;
		absent++;
		if (watch->said[i] == SAID_CANNOT)
			begin_stop(watch);
		else if (out->end == RUN_COMPLETED)
			out->workers[i].end = END_UNSTARTED;
		else if (watch->threads == NULL) {
			watch->killed_by_us[i] = true;
			if (out->end == RUN_STALLED)
				out->workers[i].end = END_STALLED;
			kill(out->workers[i].pid, SIGKILL);
		}
	}
	return absent;
}

/* Starts worker i as a process; returns 0, or -1 with errno set. */
static int
start_process(struct watch *watch, struct worker_start *start, int ready[2],
    int gate[2])
{
	pid_t pid;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		close(ready[0]);
		close(gate[1]);
		start->own_fds = true;
		worker_process(start);
	}
	watch->out->workers[start->index].pid = pid;
	return 0;
}

static int
start_thread(struct watch *watch, struct worker_start *start)
{
	pthread_attr_t attr;
	int error;

	if ((error = pthread_attr_init(&attr)) != 0)
		goto out;
	error = pthread_attr_setstacksize(&attr, THREAD_STACK);
	if (error == 0)
		error = pthread_create(&watch->threads[start->index], &attr,
		    worker_thread, start);
	pthread_attr_destroy(&attr);
out:
	errno = error;
	return error == 0 ? 0 : -1;
}

int
procs_run(const struct run *run, struct counter *c,
    const struct progress *progress, struct outcome *out)
{
	unsigned n = run->incrementers + run->decrementers + run->readers, i;
	struct watch watch = { .run = run, .progress = progress, .out = out };
	struct worker_start *starts = NULL;
	int ready[2] = { -1, -1 }, gate[2] = { -1, -1 };
	int signal_fd = -1, start_errno = 0, saved;

	memset(out, 0, sizeof(*out));
	/* The records are sized from the run: no worker allocates. */
	out->shared_size = sizeof(struct shared) + n * sizeof(struct slot) +
	    (size_t)n * run->trace_capacity * sizeof(struct trace_record);
	out->shared = mmap(NULL, out->shared_size, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (out->shared == MAP_FAILED) {
		out->shared = NULL;
		return -1;
	}
	watch.shared = out->shared;
	watch.shared->workers = n;
	for (i = 0; i < n; i++)
		watch.shared->slots[i].cpu = -1;
	if (run->latency && timing_calibrate(run, &watch.shared->timing) == -1)
		goto fail;
	out->timing = watch.shared->timing;
	if (run->schedule != NULL &&
	    (out->turnstile = turnstile_create(run->schedule, run)) == NULL)
		goto fail;
	watch.shared->turnstile = out->turnstile;
	if (run->trace_capacity != 0)
		out->trace = shared_trace(watch.shared, 0, run->trace_capacity);
	out->workers = calloc(n, sizeof(*out->workers));
	watch.starts = starts = calloc(n, sizeof(*starts));
	watch.killed_by_us = calloc(n, sizeof(*watch.killed_by_us));
	watch.reaped_ns = calloc(n, sizeof(*watch.reaped_ns));
	watch.said = calloc(n, sizeof(*watch.said));
	if (run->threads)
		watch.threads = calloc(n, sizeof(*watch.threads));
	if (out->workers == NULL || starts == NULL ||
	    watch.killed_by_us == NULL || watch.reaped_ns == NULL ||
	    watch.said == NULL || (run->threads && watch.threads == NULL) ||
	    pipe2(ready, O_CLOEXEC) == -1 || pipe2(gate, O_CLOEXEC) == -1)
		goto fail;
	if (run->threads) {
		procs_alarm_handler();
		worker_threads_report_to(pthread_self());
	}
	for (i = 0; i < n; i++) {
		starts[i] = (struct worker_start){
			.run = run, .counter = c, .shared = watch.shared,
			.index = i, .ready_fd = ready[1], .gate_fd = gate[0],
			.parent = getpid(), .main_thread = pthread_self(),
		};
		if ((run->threads ? start_thread(&watch, &starts[i]) :
		    start_process(&watch, &starts[i], ready, gate)) == -1) {
			start_errno = errno;
			break;
		}
		watch.started++;
		watch.live++;
	}
	out->nworkers = watch.started;
	if (!run->threads) {
		close(ready[1]);
		ready[1] = -1;
	}
	/*
	 * Made only now, so that no worker inherits it: a signal that came
	 * before is still pending, and is read from it.  Without it, poll
	 * ignores the -1, and a signal waits for the watch loop.
	 */
	signal_fd = signalfd(-1, &ending, SFD_CLOEXEC | SFD_NONBLOCK);
	wait_until_ready(&watch, ready[0], signal_fd);
	if (signal_fd != -1)
		close(signal_fd);
	/* The workers see a stop at the gate; the absent are not waited for. */
	atomic_fetch_add(&watch.shared->arrived, settle_readiness(&watch));
	if (start_errno != 0)
		begin_stop(&watch);
	close(gate[1]);
	gate[1] = -1;
	watch_workers(&watch, watch.stopping ? clock_ns() :
	    wait_for_arrival(watch.shared, watch.started));
	collect(&watch);
	if (start_errno != 0) {
		errno = start_errno;
		goto fail;
	}
	saved = 0;
	goto out;
fail:
	saved = errno;
	kill_the_rest(&watch, END_STOPPED);
	reap_exited(&watch, true);
out:
	/* A thread left stuck may still hold the pipes' numbers; keep them. */
	for (i = 0; i < 2 && out->stuck == 0; i++) {
		if (ready[i] != -1)
			close(ready[i]);
		if (gate[i] != -1)
			close(gate[i]);
	}
	if (out->stuck == 0)
		free(starts);
	free(watch.killed_by_us);
	free(watch.reaped_ns);
	free(watch.said);
	free(watch.threads);
	if (saved != 0) {
		procs_free(out);
		errno = saved;
		return -1;
	}
	return 0;
}

/* What a stuck thread still uses is left for proccount's exit to free. */
void
procs_free(struct outcome *out)
{
	free(out->workers);
	out->workers = NULL;
	if (out->shared != NULL && out->stuck == 0)
		munmap(out->shared, out->shared_size);
	out->shared = NULL;
	if (out->stuck == 0)
		turnstile_destroy(out->turnstile);
	out->turnstile = NULL;
}
