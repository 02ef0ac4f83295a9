/*
 * What every backend offers the rest of proccount: the run's settings, the
 * record of a lock kind, the per-worker state an update reports into, and
 * the backend interface.
 *
 * A backend sees a worker only through struct worker and the handle its own
 * attach returned: it cannot tell a forked process from a thread, and it
 * never forks, signals or sleeps on a shared timer.  Nothing here calls
 * upward; the runner (procs/) hands a worker what it needs.  One
 * exception: the server backend's create forks the server that holds the
 * counter, and its destroy reaps it (server/server.c).
 */
#ifndef PROCCOUNT_COUNTER_H
#define PROCCOUNT_COUNTER_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include "clock.h"
#include "histogram.h"
#include "trace/trace.h"

#define MAX_WORKERS	4096

struct worker;
struct counter;
struct outcome;
struct schedule;
struct turnstile_seat;

/* Who holds a lock, as the kernel or libc sees it. */
enum lock_owner {
	OWNER_NONE,		/* no lock at all */
	OWNER_PROCESS,		/* classic fcntl record locks */
	OWNER_OPEN_FILE,	/* flock and OFD locks: the open file description */
	OWNER_THREAD,		/* the robust mutex: the thread that locked it */
	OWNER_NOBODY,		/* a semaphore or a spinlock: any worker may
				   release what another took */
	OWNER_CONNECTION,	/* a server holds it for a client's
				   connection, and drops it when that ends */
};

/* What the death of a worker process holding the lock does to it. */
enum holder_death {
	DEATH_NOTHING,		/* nothing was held */
	DEATH_RELEASED,		/* the kernel releases it with its owner */
	DEATH_RECOVERED,	/* the next locker is told, and recovers it */
	DEATH_ABANDONED,	/* nothing releases it */
};

/*
 * A lock kind: everything the rest of proccount knows of it, in one record
 * in its backend's file.  The report, --help, the JSON and bench read
 * these; nothing else lists kinds.
 */
struct lock_kind {
	const char	*name;		/* on the command line: "flock" */
	const char	*words;		/* in the report: "flock lock" */
	const char	*owner_words;	/* "the open file description" */
	enum lock_owner	 owner;
	enum holder_death death;
	const char	*death_words;	/* why, after the holder died */
	const char	*nest_words;	/* --nest: what taking it again while
					   held does, and why */
	/* A worker's whole loop of updates with this kind; see worker_loop. */
	int	(*run)(void *handle, struct worker *);
};

/* Where the workers run: --pin.  Spread, the default, is 0. */
enum pin {
	PIN_SPREAD,		/* worker k on the k-th CPU proccount may use,
				   round-robin */
	PIN_NONE,		/* wherever the scheduler puts them */
};

/* Everything the command line decided; filled once by proccount.c. */
struct run {
	const struct backend *backend;
	const struct lock_kind *kind;
	const char	*path;		/* the counter file (file backend) */
	unsigned	 incrementers;
	unsigned	 decrementers;
	uint64_t	 iterations;	/* per worker; 0 for a timed run, which
				   stops at run_most_updates */
	uint64_t	 duration_ns;	/* a timed run's length, else 0 */
	long long	 start;
	bool		 keep_start;	/* start from the file's value: -s keep */
	bool		 force;		/* replace a file that holds no number */
	uint64_t	 delay_ns;	/* --hold (--delay): work between the read
				   and the write, inside the lock */
	uint64_t	 work_ns;	/* --work: work after each update, outside
				   the lock */
	bool		 work_spins;	/* --work-as=spin: the two spin on the
				   clock, else they sleep */
	bool		 tries;		/* --try: the lock is only tried, and a
				   busy one is a miss, then --work */
	uint64_t	 crash_at;	/* the first incrementer dies in this update */
	unsigned	 nest;		/* --nest: each update takes the lock this
				   many times, nested; 0 or 1: once */
	uint64_t	 timeout_ns;	/* the longest wait for the lock, 0: none */
	bool		 latency;	/* record wait and hold times */
	bool		 threads;	/* workers are threads, not processes */
	bool		 share_fd;	/* every worker uses one open file */
	enum pin	 pin;
	const struct schedule *schedule;	/* --schedule, or NULL */
	uint32_t	 trace_capacity; /* --trace: the updates a worker may
				   record, and so make; 0: no trace */
	unsigned	 readers;	/* --readers: workers that only read,
				   after the incrementers and decrementers */
	bool		 prefer_writers; /* --prefer=writers: the rwlock kind
				   lets a waiting writer in before readers */
	/* The server backend's: where its own server listens (--listen;
	 * NULL: a Unix socket in a private directory), the server already
	 * running that the workers are clients of instead (--connect), and
	 * whether the server serves one client at a time (--serve=serial). */
	const char	*listen;
	const char	*connect;
	bool		 serve_serial;
	const char	*dsn;		/* pg: --dsn, or NULL for libpq's own */
	const char	*join;		/* pg: --join's name, or NULL */
	unsigned	 counters;	/* --counters: 2, counters A and B, each
				   with its own lock; 0 or 1: one */
	bool		 opposite;	/* --order=opposite: decrementers take
				   B's lock first, incrementers A's */
};

/* --counters=2: whether the run has counters A and B. */
static inline bool
run_pair(const struct run *run)
{
	return run->counters == 2;
}

/*
 * The most updates a worker of the run makes: a counted run's count, or,
 * for a timed run, as many as cannot take the counter out of the range of
 * a long long whatever the other workers do, so that no worker checks for
 * the limit in its loop; 0 if not even one can.
 */
static inline uint64_t
run_most_updates(const struct run *run, long long start, int delta)
{
	unsigned workers = delta > 0 ? run->incrementers : run->decrementers;
	/* Unsigned: the distance from LLONG_MIN to LLONG_MAX fits. */
	unsigned long long up = (unsigned long long)LLONG_MAX -
	    (unsigned long long)start;
	unsigned long long down = (unsigned long long)start -
	    (unsigned long long)LLONG_MIN;
	unsigned long long room = delta > 0 ? up : down;

	/* Two counters: an update moves A one way and B the other. */
	if (run_pair(run))
		room = up < down ? up : down;
	if (run->iterations != 0)
		return run->iterations;
	return workers != 0 ? room / workers : 0;
}

/*
 * How a worker's update went when it did not simply succeed.  The worker
 * stores one of these in its slot; the parent turns it into a message.
 */
enum update_error {
	UPDATE_OK,
	UPDATE_ATTACH,		/* the counter could not be opened or mapped */
	UPDATE_LOCK,		/* taking the lock failed */
	UPDATE_UNLOCK,
	UPDATE_READ,
	UPDATE_WRITE,
	UPDATE_CORRUPT,		/* the counter holds no valid number */
	UPDATE_REPLACED,	/* the counter file is no longer the one created */
	UPDATE_TIMEOUT,		/* the wait for the lock expired */
	UPDATE_PIN,		/* --pin: the worker could not be moved to
				   its CPU (slot's cpu), or not learn which
				   CPUs it may use (cpu -1) */
	UPDATE_BUSY,		/* only tried, the lock was held */
	UPDATE_DEADLOCK,	/* --nest: the lock refused its own holder
				   (EDEADLK) */
};

/*
 * --counters=2: what a worker holds and waits for, in its slot's locks:
 * the locks held, a bit each (PAIR_A, PAIR_B), and in the next byte the
 * lock waited for, plus 1 (0: none).  Written only by a two-counter
 * update, before and after each lock, so that the watchdog can name a
 * cycle of waits.
 */
#define PAIR_A		0u
#define PAIR_B		1u
#define PAIR_NONE	(-1)

/*
 * One worker's record in memory shared with the parent.  Only progress,
 * and with --latency the histograms, are written during the loop; the rest
 * is written once, before or after it.  Each slot starts on its own pair
 * of cache lines so that no two workers write to the same line.
 */
struct slot {
	_Atomic uint64_t progress;	/* 2 * completed updates + 1 mid-update */
	pid_t		 pid;		/* a thread's id, for threads */
	int		 delta;		/* +1 or -1 */
	int		 error;		/* enum update_error */
	int		 error_errno;
	uint32_t	 recovered;	/* times it took the lock from a dead owner */
	/* --hold and --work: the time they took, as the worker measured it;
	 * --try: the lock found busy.  Only the worker writes them. */
	_Atomic uint64_t held_ns;
	_Atomic uint64_t worked_ns;
	_Atomic uint64_t misses;
	/* --nest: how deep it holds the lock while it takes it once more;
	 * 0 otherwise.  Names a worker that waits for itself. */
	_Atomic uint32_t nested;
	/* A reader's (--readers): its reads, and those that gave a value
	 * no moment of the run could hold, or text that was no number. */
	_Atomic uint64_t reads;
	_Atomic uint64_t impossible;
	/* --counters=2: the locks held and waited for (PAIR_A), and the
	 * locks the kernel refused with EDEADLK to break a cycle. */
	_Atomic uint32_t locks;
	_Atomic uint64_t refused;
	uint32_t	 span;		/* updates that one mid-update mark covers */
	int		 cpu;		/* where it was after its updates, or,
					   with UPDATE_PIN, where it was to go;
					   -1: unknown */
	/* CLOCK_MONOTONIC, after the gate opened; atomic, since a thread
	 * left waiting is never joined, yet its start is read. */
	_Atomic int64_t	 start_ns;
	int64_t		 end_ns;
	double		 user_s;	/* a thread's own CPU time, at its end */
	double		 system_s;
	_Atomic int	 finished;	/* a thread: ended, ready to be joined */
	struct histogram wait;		/* with --latency only */
	struct histogram hold;
	/* Transactions the server aborted (pg: SQLSTATE 40001), rolled
	 * back, not counted, and made again. */
	_Atomic uint64_t retries;
} __attribute__((aligned(128)));

/* A worker's private view of its own run, handed to every update. */
struct worker {
	struct slot	*slot;
	const atomic_int *stop;		/* set by the parent to end the run */
	uint64_t	 iterations;	/* 0: until stopped */
	int		 delta;		/* 0: a reader */
	/* A reader's: the least and the most the counter can ever hold,
	 * whatever order the updates land in. */
	long long	 low;
	long long	 high;
	uint64_t	 done;		/* updates completed */
	uint64_t	 crash_at;	/* die in update number crash_at, 0: never */
	uint64_t	 delay_ns;	/* --hold */
	uint64_t	 work_ns;
	bool		 work_spins;
	unsigned	 nest;		/* --nest, or 1 */
	/* The lock is only tried: under a schedule, or with --try. */
	bool		 lock_tried;
	uint64_t	 timeout_ns;
	/*
	 * With --latency, the update to time next, numbered as done counts
	 * them (UINT64_MAX: none): one in every sample_every, at a place in
	 * each run of that many drawn from sample_seed.
	 */
	uint64_t	 sample_at;
	uint32_t	 sample_every;
	uint32_t	 sample_seed;
	bool		 tsc;		/* clock_ticks reads the TSC */
	double		 ns_per_tick;
	uint64_t	 read_ticks;	/* the clock's own time, taken off */
	/* With --schedule: its place in the turnstile, else NULL. */
	struct turnstile_seat *turnstile;
	/* With --trace: its records, one an update, and the tag of its
	 * first update less 1; NULL when the run is not traced. */
	struct trace_record *trace;
	uint32_t	 trace_base;
	/* The runner's: end this worker on the spot, holding whatever it
	 * holds, as a process killed or a thread that calls pthread_exit. */
	void	(*die)(struct worker *) __attribute__((noreturn));
	/* --counters=2: it moves 1 between counters A and B, and takes
	 * first the lock of first, PAIR_A or PAIR_B. */
	bool		 pair;
	unsigned	 first;
	uint32_t	 backoff_seed;	/* never 0: see worker_back_off */
};

/*
 * A backend keeps the counter somewhere and guards it with one of its lock
 * kinds.  Every function returns 0, or -1 with errno set; none prints or
 * exits.  The runner gives every worker a no-op SIGALRM handler without
 * SA_RESTART, so a backend may interrupt its own blocking call with a
 * timer aimed at the calling thread.
 */
struct backend {
	const char	*name;		/* "file", "shm" */
	const char	*where;		/* for --help: "a file" */
	const struct lock_kind *kinds;	/* default first; ends with NULL name */
	bool		 shares_fd;	/* --share-fd means something to it */
	bool		 keeps;		/* its counter outlives a run: -s keep
					   and --force mean something to it */
	/* In the parent, before every run of any backend: removes what
	 * runs killed earlier left behind.  Optional; it cannot fail. */
	void	(*sweep)(void);
	/* In the parent, before the workers start. */
	int	(*create)(struct counter *, const struct run *);
	/* In each worker, before the start gate: its own handle, which no
	 * other worker shares.  Returns UPDATE_OK or another enum
	 * update_error, with errno set. */
	int	(*attach)(struct counter *, const struct run *, void **handle);
	/* In the worker that attached, after its last update. */
	void	(*detach)(void *handle);
	/* In the parent, after every worker has ended; under the lock if
	 * locked says so.  Another program may hold the lock: then -1 with
	 * errno EWOULDBLOCK, and the caller tries again; create may say the
	 * same. */
	int	(*value)(struct counter *, const struct run *, bool locked,
		    long long *);
	/*
	 * In the parent, after every worker has ended: whether the lock is
	 * left held, as only a worker that died holding it can leave it.
	 * Optional (NULL: the backend cannot tell); false when it cannot
	 * tell either.
	 */
	bool	(*held)(struct counter *);
	void	(*destroy)(struct counter *);
	/* proccount bench runs its kinds only when -b names it: it starts
	 * a server, or needs one that may not be there. */
	bool		 on_request;
	/* Why its updates are not proccount's own steps, which --schedule,
	 * --trace, --try, --nest and explore need; NULL: they are. */
	const char	*no_steps;
	/* Optional: in the parent, after every worker has ended and before
	 * value, with what they did; may set the counter's elsewhere. */
	int	(*settle)(struct counter *, const struct run *,
		    struct outcome *);
	/* For kinds owned by a connection: a worker thread that ends closes
	 * its own, as a process's death does (else the living process keeps
	 * it open, and the lock held); and what the server does to a dropped
	 * connection's update is to roll its transaction back. */
	bool		 threads_close;
	bool		 transactions;
	bool		 pairs;		/* it keeps two counters: --counters=2 */
};

/* The counter as the run sees it. */
struct counter {
	const struct backend *ops;
	char	 name[PATH_MAX];	/* the file's path or the shm object's name */
	long long start;	/* the value it started from, set by create */
	const char *why;	/* when create or value fails: a reason to
				   print instead of strerror(errno), or NULL */
	uint32_t tag;		/* with --trace, set by value: the tag of the
				   write that left the final value */
	void	*state;		/* the backend's own, shared by all workers */
	const char *about;	/* set by create, or NULL: a sentence the
				   report adds on how the counter is kept */
	/* Set by settle: the final value is judged by another run (pg's
	 * --join), so this one reports its own workers only. */
	bool	 elsewhere;
	/* --counters=2: counter B beside A, which the fields above are:
	 * where it is ("" where it shares A's object), its start, set by
	 * create, and its final value, set by value. */
	char	 name_b[PATH_MAX];
	long long start_b;
	long long final_b;
	bool	 server_cpu;	/* set by destroy: the server backend's own
				   server's CPU time, which the report adds */
	double	 server_user_s, server_system_s;
};

/*
 * With --latency, a lock kind's update is timed thus, so that an update
 * not timed reads no clock, and one timed reads it twice with the lock
 * held, not three times, and records after the release:
 *
 *	timed = worker_timed(w);
 *	if (timed) asked = worker_clock(w);
 *	... take the lock ...
 *	if (timed) taken = worker_clock(w);
 *	... read, worker_midpoint, write ...
 *	if (timed) released = worker_clock(w);
 *	... release the lock ...
 *	if (timed) worker_record(w, asked, taken, released);
 */
static inline bool
worker_timed(const struct worker *w)
{
	return w->done == w->sample_at;
}

static inline uint64_t
worker_clock(const struct worker *w)
{
	return clock_ticks(w->tsc);
}

/*
 * A span in ticks, in ns, less the time the clock takes to read; 0 if
 * that, or the CPUs' counters, put it below 0.
 */
static inline uint64_t
worker_ns(const struct worker *w, uint64_t from, uint64_t to)
{
	int64_t ticks = (int64_t)(to - from - w->read_ticks);

	return ticks > 0 ? (uint64_t)((double)ticks * w->ns_per_tick) : 0;
}

/*
 * The next update to time: at a random place in the next run of
 * sample_every, so that the timed updates fall in no pattern of the lock's
 * (xorshift32; sample_seed is never 0).
 */
static inline void
worker_next_sample(struct worker *w)
{
	uint32_t x = w->sample_seed;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	w->sample_seed = x;
	w->sample_at = (w->sample_at / w->sample_every + 1) * w->sample_every +
	    x % w->sample_every;
}

/* After the release: the wait and the hold of the update timed. */
static inline void
worker_record(struct worker *w, uint64_t asked, uint64_t taken,
    uint64_t released)
{
	histogram_add(&w->slot->wait, worker_ns(w, asked, taken));
	histogram_add(&w->slot->hold, worker_ns(w, taken, released));
	worker_next_sample(w);
}

/*
 * With --schedule, a worker takes its steps when the turnstile says
 * (schedule/turnstile.c): a read, which takes the lock if any, and a
 * write, which releases it.  Every update calls worker_turn_to_read before
 * it asks for the lock, or reads when unlocked; worker_midpoint waits for
 * the write's turn; worker_released follows the write and the release.
 * Each costs one predictable branch when there is no schedule.  A worker
 * whose turn is to read only tries the lock; turnstile_refused says that
 * it was held, and returns true on the worker's turn to try again, or
 * false when the worker must wait for the lock as in any run.
 */
void	turnstile_read(struct turnstile_seat *);
void	turnstile_write(struct turnstile_seat *);
void	turnstile_written(struct turnstile_seat *);
bool	turnstile_refused(struct turnstile_seat *);

static inline void
worker_turn_to_read(struct worker *w)
{
	if (w->turnstile != NULL)
		turnstile_read(w->turnstile);
}

static inline void
worker_released(struct worker *w)
{
	if (w->turnstile != NULL)
		turnstile_written(w->turnstile);
}

/*
 * --hold and --work: ns of work, a sleep or a spin on the clock that
 * touches no shared memory, so that workers spinning side by side do not
 * slow each other, added to the total given, which only this worker
 * writes: what a sleep overshoots is counted.  Kept out of line, and
 * given no worker, so that a run without them keeps its loop as it was.
 */
static __attribute__((noinline, cold, unused)) void
worker_busy(_Atomic uint64_t *total, uint64_t ns, bool spins)
{
	int64_t from = clock_ns(), now;

	if (spins)
		while ((now = clock_ns()) - from < (int64_t)ns)
			;
	else {
		sleep_ns(ns);
		now = clock_ns();
	}
	atomic_store_explicit(total, atomic_load_explicit(total,
	    memory_order_relaxed) + (uint64_t)(now - from),
	    memory_order_relaxed);
}

/*
 * --try: the lock was busy.  Counted, and the worker does its outside
 * work, if any, before it tries again.
 */
static __attribute__((noinline, cold, unused)) void
worker_missed(struct worker *w)
{
	atomic_store_explicit(&w->slot->misses, atomic_load_explicit(
	    &w->slot->misses, memory_order_relaxed) + 1, memory_order_relaxed);
	if (w->work_ns != 0)
		worker_busy(&w->slot->worked_ns, w->work_ns, w->work_spins);
}

/*
 * Called by every update between reading the value and writing it back,
 * with the lock held: the turn to write, under a schedule, the optional
 * --hold that widens the race window, the injected death, and the mark
 * that says an update is under way.
 */
static inline void
worker_midpoint(struct worker *w)
{
	if (w->turnstile != NULL)
		turnstile_write(w->turnstile);
	if (w->delay_ns != 0)
		worker_busy(&w->slot->held_ns, w->delay_ns, w->work_spins);
	if (w->done + 1 == w->crash_at)
		w->die(w);
	/* Released: whoever reads the mark also sees the traced read. */
	atomic_store_explicit(&w->slot->progress, 2 * w->done + 1,
	    memory_order_release);
	/* The mark must reach memory before the write it announces. */
	atomic_signal_fence(memory_order_seq_cst);
}

/*
 * With --trace, right after the read: which write it saw, and the value.
 * Written before the store, which the fence keeps after it, so that a
 * worker killed after its store still says which write its own came from.
 */
static inline void
worker_traced_read(struct worker *w, uint32_t tag, long long value)
{
	struct trace_record *r = &w->trace[w->done];

	r->read_tag = tag;
	r->read = (int32_t)value;
	r->t_read = clock_ns();
	atomic_signal_fence(memory_order_seq_cst);
}

/* With --trace: the tag that the update under way writes. */
static inline uint32_t
worker_trace_tag(const struct worker *w)
{
	return w->trace_base + (uint32_t)w->done + 1;
}

/*
 * With --trace, right after the write: the value, what the store replaced
 * if the backend can tell, and the time, last, which says the rest is
 * there.
 */
static inline void
worker_traced_write(struct worker *w, long long value, uint32_t overwrote)
{
	struct trace_record *r = &w->trace[w->done];

	r->wrote = (int32_t)value;
	r->overwrote = overwrote;
	atomic_signal_fence(memory_order_seq_cst);
	r->t_write = clock_ns();
}

/*
 * --counters=2: what the worker holds (a bit per lock, 1u << PAIR_A) and
 * the lock it waits for, or PAIR_NONE, where the watchdog reads them.
 */
static inline void
worker_locks(struct worker *w, unsigned holds, int waits)
{
	atomic_store_explicit(&w->slot->locks, holds |
	    (unsigned)(waits + 1) << 8, memory_order_relaxed);
}

/*
 * --counters=2: the midpoint of a move, both counters read and neither
 * written, both locks held: the injected death and the mark that an
 * update is under way.  --hold is elsewhere: between the two locks.
 */
static inline void
worker_pair_midpoint(struct worker *w)
{
	if (w->done + 1 == w->crash_at)
		w->die(w);
	atomic_store_explicit(&w->slot->progress, 2 * w->done + 1,
	    memory_order_release);
	atomic_signal_fence(memory_order_seq_cst);
}

/*
 * --counters=2 with --try: a worker that found its second lock held, and
 * gave back its first, waits a random time up to its --hold before it
 * begins again.  Two workers that move in step, each holding the lock the
 * other tries, would otherwise miss each other for as long as they stay
 * in step: a livelock (xorshift32; backoff_seed is never 0).
 */
static __attribute__((noinline, cold, unused)) void
worker_back_off(struct worker *w)
{
	uint32_t x = w->backoff_seed;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	w->backoff_seed = x;
	if (w->delay_ns != 0)
		sleep_ns(x % w->delay_ns);
}

/*
 * Called once the new value is written: after the lock's release, to keep
 * the critical section short, but for the spinlock's (see shm/shm.c).
 */
static inline void
worker_committed(struct worker *w)
{
	atomic_signal_fence(memory_order_seq_cst);
	w->done++;
	/*
	 * Released, which costs nothing on x86: the parent that reads the
	 * count sees the trace's record of every update it counts, even of a
	 * thread left waiting, which is never joined.
	 */
	atomic_store_explicit(&w->slot->progress, 2 * w->done,
	    memory_order_release);
}

/*
 * A worker's updates, until its count is done or the parent says stop.
 * Every kind's run function is this with the kind's update, a constant
 * that is inlined, given the worker's handle.  The loop works on a private
 * copy of the worker, which the compiler keeps in registers across the
 * fences of the update.
 */
static inline int
worker_loop(void *handle, struct worker *worker,
    int (*update)(void *, struct worker *))
{
	struct worker w = *worker;
	int error = UPDATE_OK;

	while (w.iterations == 0 || w.done < w.iterations) {
		if (atomic_load_explicit(w.stop, memory_order_relaxed))
			break;
		if ((error = update(handle, &w)) != UPDATE_OK)
			break;
		if (w.work_ns != 0)
			worker_busy(&w.slot->worked_ns, w.work_ns,
			    w.work_spins);
	}
	worker->done = w.done;
	return error;
}

/*
 * A reader's loop (--readers), which every kind's run function enters for
 * a worker whose delta is 0: read, through the kind's read, once, then
 * until the parent says stop, which it does once every writer has ended,
 * so that every reader reads however soon the writers are done.  read
 * gives the value, or says UPDATE_CORRUPT of text that holds no number;
 * either impossible read is counted, not fatal.  The reads are counted in
 * the slot, never as updates, so done stays 0; the loop's copy numbers
 * them for --latency's sampling.
 */
static inline int
worker_read_loop(void *handle, struct worker *worker,
    int (*read)(void *, struct worker *, long long *))
{
	struct worker w = *worker;
	uint64_t reads = 0, impossible = 0;
	long long value;
	int error = UPDATE_OK;

	do {
		w.done = reads;
		if ((error = read(handle, &w, &value)) == UPDATE_CORRUPT)
			impossible++;
		else if (error != UPDATE_OK)
			break;
		else if (value < w.low || value > w.high)
			impossible++;
		error = UPDATE_OK;
		reads++;
		atomic_store_explicit(&w.slot->reads, reads,
		    memory_order_relaxed);
		atomic_store_explicit(&w.slot->impossible, impossible,
		    memory_order_relaxed);
	} while (!atomic_load_explicit(w.stop, memory_order_relaxed));
	worker->done = 0;
	return error;
}

#endif
