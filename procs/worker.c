/*
 * A worker, process or thread: attach to the counter, say it is ready,
 * wait at the start gate, then update until its count is done, its time is
 * up, or it is told to stop.  It reports only through its slot and, as a
 * process, its exit status.  The two kinds differ only in how they start,
 * how they die on --crash, and how the parent learns that they ended.
 */
#include <sys/prctl.h>
#include <sys/resource.h>

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <unistd.h>

#include "../schedule/turnstile.h"
#include "shared.h"

static void
on_alarm(int signo)
{
	(void)signo;	/* Only here to interrupt a blocked call. */
}

/*
 * A backend may aim a timer's SIGALRM at a worker to interrupt a blocked
 * call; without SA_RESTART the call returns EINTR.
 */
void
procs_alarm_handler(void)
{
	struct sigaction alarm = { .sa_handler = on_alarm };

	sigemptyset(&alarm.sa_mask);
	sigaction(SIGALRM, &alarm, NULL);
}

/*
 * How many CPUs this worker may use, as it inherited them from proccount,
 * which the start gate needs to know; and with --pin=spread, the move of
 * the calling thread alone to the index-th of them, round-robin, so that
 * workers stay side by side rather than wherever the scheduler puts them.
 * Returns the count, or 0 with errno set and *cpu the CPU it could not
 * move to (-1: the allowed ones could not be read).  Without --pin, a
 * count that cannot be read is taken as 1, as the gate is safe with it.
 */
static unsigned
place(unsigned index, enum pin pin, int *cpu)
{
	cpu_set_t allowed, mine;
	unsigned count, nth, at;

	*cpu = -1;
	if (sched_getaffinity(0, sizeof(allowed), &allowed) == -1)
		return pin == PIN_NONE ? 1 : 0;
	count = (unsigned)CPU_COUNT(&allowed);
	if (pin == PIN_NONE || count == 0)
		return count > 0 ? count : 1;
	nth = index % count;
	for (at = 0; at < CPU_SETSIZE; at++)
		if (CPU_ISSET(at, &allowed) && nth-- == 0)
			break;
	*cpu = (int)at;
	CPU_ZERO(&mine);
	CPU_SET(at, &mine);
	if (sched_setaffinity(0, sizeof(mine), &mine) == -1)
		return 0;
	return count;
}

/*
 * Blocks until the parent closes the gate's write end (end of file), then
 * waits for the other workers to come through too: waking a thousand
 * sleepers takes longer than a short run.  Where every worker has a CPU of
 * its own it spins; yielding would hand the CPU to any other process for a
 * whole time slice.  Where workers share CPUs it must yield to let the
 * others in.  A worker that died on the way must not hold the rest back for
 * long, hence the bound.
 */
static void
wait_at_gate(struct shared *shared, int gate_fd, bool shared_cpus)
{
	unsigned spins = 0;
	int64_t give_up = 0;
	char byte;

	while (read(gate_fd, &byte, 1) == -1 && errno == EINTR)
		;
	atomic_fetch_add(&shared->arrived, 1);
	while (atomic_load(&shared->arrived) < shared->workers &&
	    !atomic_load(&shared->stop)) {
		if (++spins % 64 != 0)
			continue;
		if (shared_cpus)
			sched_yield();
		if (give_up == 0)
			give_up = clock_ns() + 1000000000;
		else if (clock_ns() > give_up)
			break;
	}
}

/*
 * Everything a worker does between its start and its end; returns 0, or 1
 * when it could not attach or an update failed.  It says once, on the
 * ready pipe, who it is and whether it attached: its index shifted left,
 * with 1 added if it did, in one write, which a pipe keeps whole.
 */
static int
work(struct worker_start *start,
    void (*die)(struct worker *) __attribute__((noreturn)))
{
	const struct run *run = start->run;
	struct counter *c = start->counter;
	struct slot *slot = &start->shared->slots[start->index];
	bool reader = start->index >= run->incrementers + run->decrementers;
	struct worker w = {
		.slot = slot,
		.stop = &start->shared->stop,
		.iterations = reader ? 0 : run_most_updates(run, c->start,
		    start->index < run->incrementers ? 1 : -1),
		.delta = reader ? 0 : start->index < run->incrementers ? 1 : -1,
		.crash_at = start->index == 0 ? run->crash_at : 0,
		.delay_ns = run->delay_ns,
		.nest = run->nest > 1 ? run->nest : 1,
		.work_ns = run->work_ns,
		.work_spins = run->work_spins,
		.lock_tried = run->tries || start->shared->turnstile != NULL,
		.timeout_ns = run->timeout_ns,
		.sample_at = UINT64_MAX,
		.turnstile = start->shared->turnstile == NULL ? NULL :
		    turnstile_seat(start->shared->turnstile, start->index),
		.die = die,
		.pair = run_pair(run),
		.first = run_pair(run) && run->opposite &&
		    start->index >= run->incrementers ? PAIR_B : PAIR_A,
		.backoff_seed = (uint32_t)(clock_ns() ^ (start->index + 1) *
		    2654435761u) | 1,
	};
	const struct timing *timing = &start->shared->timing;
	void **handle = &start->handle;
	unsigned cpus;
	int error, cpu;
	uint32_t ready = start->index << 1;

	slot->pid = gettid();
	slot->delta = w.delta;
	slot->span = 1;
	/* Two counters: as many moves as neither can leave the range for. */
	if (w.pair && w.iterations > run_most_updates(run, c->start_b,
	    w.delta))
		w.iterations = run_most_updates(run, c->start_b, w.delta);
	if (reader) {
		/* Unsigned: no worker's updates can pass a long long's end. */
		w.high = (long long)((unsigned long long)c->start +
		    (unsigned long long)run->incrementers *
		    run_most_updates(run, c->start, 1));
		w.low = (long long)((unsigned long long)c->start -
		    (unsigned long long)run->decrementers *
		    run_most_updates(run, c->start, -1));
	}
	if (run->latency) {
		w.tsc = timing->tsc;
		w.ns_per_tick = timing->ns_per_tick;
		w.read_ticks = timing->read_ticks;
		w.sample_every = timing->every;
		/* Never 0, and another for each worker and each run. */
		w.sample_seed = (uint32_t)(clock_ns() ^ (start->index + 1) *
		    2654435761u) | 1;
		w.sample_at = w.sample_seed % w.sample_every;
	}
	if (run->trace_capacity != 0) {
		w.trace = shared_trace(start->shared, start->index,
		    run->trace_capacity);
		w.trace_base = start->index * run->trace_capacity;
		/* A timed run's worker stops when its records are full. */
		if (w.iterations > run->trace_capacity)
			w.iterations = run->trace_capacity;
	}
	/* Placed first, so that what attach allocates is near its CPU. */
	if ((cpus = place(start->index, run->pin, &cpu)) == 0) {
		error = UPDATE_PIN;
		slot->cpu = cpu;
	} else
		error = c->ops->attach(c, run, handle);
	if (error != UPDATE_OK) {
		slot->error = error;
		slot->error_errno = errno;
		(void)!write(start->ready_fd, &ready, sizeof(ready));
		return 1;
	}
	ready |= 1;
	if (write(start->ready_fd, &ready, sizeof(ready)) != sizeof(ready)) {
		c->ops->detach(*handle);
		return 1;
	}
	/* A process's end of the pipe is its own: the parent waits for all
	 * of them to close, which tells it that none is left to say ready. */
	if (start->own_fds)
		close(start->ready_fd);
	wait_at_gate(start->shared, start->gate_fd,
	    start->shared->workers > cpus);
	atomic_store_explicit(&slot->start_ns, clock_ns(),
	    memory_order_relaxed);
	if ((error = run->kind->run(*handle, &w)) != UPDATE_OK) {
		slot->error = error;
		slot->error_errno = errno;
	}
	slot->cpu = sched_getcpu();
	/* Whatever was marked mid-update, this many are done. */
	atomic_store(&slot->progress, 2 * w.done);
	slot->end_ns = clock_ns();
	c->ops->detach(*handle);
	return error == UPDATE_OK ? 0 : 1;
}

static void __attribute__((noreturn))
process_dies(struct worker *w)
{
	(void)w;
	kill(getpid(), SIGKILL);
	for (;;)
		pause();
}

void
worker_process(struct worker_start *start)
{
	sigset_t none;

	/* A terminal's ^C reaches the whole group; the parent handles it. */
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	procs_alarm_handler();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Never outlive proccount. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != start->parent)
		_exit(1);
	_exit(work(start, process_dies));
}

/*
 * A thread's own CPU time, and the word to the parent that it ended: 1 by
 * returning, 2 by dying.
 */
static void
thread_ends(struct slot *slot, pthread_t main_thread, int how)
{
	struct rusage usage;

	if (getrusage(RUSAGE_THREAD, &usage) == 0) {
		slot->user_s = (double)usage.ru_utime.tv_sec +
		    (double)usage.ru_utime.tv_usec / 1e6;
		slot->system_s = (double)usage.ru_stime.tv_sec +
		    (double)usage.ru_stime.tv_usec / 1e6;
	}
	atomic_store(&slot->finished, how);
	/* As a child process's death would, wake the watching parent. */
	pthread_kill(main_thread, SIGCHLD);
}

/*
 * A thread that must die where it stands leaves the process as a crashed
 * thread would: whatever it holds stays held, its descriptor stays open,
 * and only what the kernel and libc do at a thread's end happens (a robust
 * mutex is marked as its owner's death).  Its slot shows it mid-update or
 * not, as a killed process's does.
 */
static pthread_t main_of_dying;

/* Before the first worker thread starts: whom a dying one tells. */
void
worker_threads_report_to(pthread_t main_thread)
{
	main_of_dying = main_thread;
}

static void __attribute__((noreturn))
thread_dies(struct worker *w)
{
	w->slot->end_ns = clock_ns();
	thread_ends(w->slot, main_of_dying, 2);
	pthread_exit(NULL);
}

void *
worker_thread(void *arg)
{
	struct worker_start *start = arg;
	struct slot *slot = &start->shared->slots[start->index];
	int status;

	status = work(start, thread_dies);
	slot->end_ns = slot->end_ns ? slot->end_ns : clock_ns();
	thread_ends(slot, start->main_thread, 1);
	return status == 0 ? NULL : (void *)1;
}
