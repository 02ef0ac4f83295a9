/*
 * What every backend offers the rest of proccount: the run's settings, the
 * per-worker state an update reports into, and the backend interface.
 */
#ifndef PROCCOUNT_COUNTER_H
#define PROCCOUNT_COUNTER_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "procs/histogram.h"

#define MAX_WORKERS	4096

/* Everything the command line decided; filled once by proccount.c. */
struct run {
	const struct counter_ops *backend;
	const char	*lock;		/* a kind from backend->locks, "none" included */
	const char	*path;		/* the counter file (file backend) */
	unsigned	 incrementers;
	unsigned	 decrementers;
	uint64_t	 iterations;	/* per worker; 0 for a timed run */
	uint64_t	 duration_ns;	/* a timed run's length, else 0 */
	long long	 start;
	uint64_t	 delay_ns;	/* pause between read and write */
	uint64_t	 crash_at;	/* the first incrementer dies in this update */
	uint64_t	 timeout_ns;	/* the longest wait for the lock, 0: none */
	bool		 latency;	/* record wait and hold times */
};

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
};

/*
 * One worker's record in memory shared with the parent.  Only progress,
 * and with --latency the histograms, are written during the loop; the rest
 * is written once, before or after it.  Each slot starts on its own pair of cache lines so that no two
 * workers write to the same line.
 */
struct slot {
	_Atomic uint64_t progress;	/* 2 * completed updates + 1 mid-update */
	pid_t		 pid;
	int		 delta;		/* +1 or -1 */
	int		 error;		/* enum update_error */
	int		 error_errno;
	uint32_t	 recovered;	/* times it took the lock from a dead owner */
	uint32_t	 span;		/* updates that one mid-update mark covers */
	int64_t		 start_ns;	/* CLOCK_MONOTONIC, after the gate opened */
	int64_t		 end_ns;
	struct histogram wait;		/* with --latency only */
	struct histogram hold;
} __attribute__((aligned(128)));

/* A worker's private view of its own run, handed to every update. */
struct worker {
	struct slot	*slot;
	const atomic_int *stop;		/* set by the parent to end the run */
	uint64_t	 iterations;	/* 0: until stopped */
	int		 delta;
	uint64_t	 done;		/* updates completed */
	uint64_t	 crash_at;	/* die in update number crash_at, 0: never */
	uint64_t	 delay_ns;
	uint64_t	 timeout_ns;
	bool		 latency;
	int64_t		 lock_taken_ns;	/* with latency: when the lock was granted */
};

struct counter;

/*
 * A backend keeps the counter somewhere and guards it with a lock kind.
 * Every function returns 0, or -1 with errno set; none prints or exits.
 */
struct counter_ops {
	const char	*name;		/* "file", "shm" */
	const char *const *locks;	/* the kinds it offers, default first, then "none" */
	/* In the parent, before the workers are forked. */
	int	(*create)(struct counter *, const struct run *);
	/* In each worker, after fork and before the start gate; returns
	 * UPDATE_OK or another enum update_error, with errno set. */
	int	(*attach)(struct counter *, struct worker *);
	/* In the parent, after every worker has ended. */
	int	(*value)(struct counter *, long long *);
	void	(*destroy)(struct counter *);
};

/*
 * The counter as the run sees it.  run is chosen by create for the lock
 * kind: a worker's whole loop of updates, made by worker_loop below from
 * that kind's update, so that no update asks which kind it is or calls
 * through a pointer.  It returns UPDATE_OK, or the enum update_error that
 * stopped it with errno set.
 */
struct counter {
	const struct counter_ops *ops;
	int	(*run)(struct counter *, struct worker *);
	char	 name[256];	/* the file's path or the shm object's name */
	const char *why;	/* when create or value fails: a reason to
				   print instead of strerror(errno), or NULL */
	void	*state;		/* the backend's own */
};

extern const struct counter_ops file_backend;
extern const struct counter_ops shm_backend;

static inline int64_t
clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void	worker_pause(uint64_t);

/* With --latency: how long the lock took to get, from asked on. */
static inline void
worker_record_wait(struct worker *w, int64_t asked)
{
	w->lock_taken_ns = clock_ns();
	histogram_add(&w->slot->wait, (uint64_t)(w->lock_taken_ns - asked));
}

/* With --latency: how long the lock was held, just before its release. */
static inline void
worker_record_hold(struct worker *w)
{
	histogram_add(&w->slot->hold, (uint64_t)(clock_ns() - w->lock_taken_ns));
}

/*
 * Called by every update between reading the value and writing it back,
 * with the lock held: the optional pause that widens the race window, the
 * injected crash, and the mark that says an update is under way.
 */
static inline void
worker_midpoint(struct worker *w)
{
	if (w->delay_ns != 0)
		worker_pause(w->delay_ns);
	if (w->done + 1 == w->crash_at)
		kill(getpid(), SIGKILL);
	atomic_store_explicit(&w->slot->progress, 2 * w->done + 1,
	    memory_order_relaxed);
	/* The mark must reach memory before the write it announces. */
	atomic_signal_fence(memory_order_seq_cst);
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
	atomic_store_explicit(&w->slot->progress, 2 * w->done,
	    memory_order_relaxed);
}

/*
 * A worker's updates, until its count is done or the parent says stop.
 * Every backend's run function is this with the kind's update, a constant
 * that is inlined, given the backend's state.  The loop works on private
 * copies of the worker and the state pointer, which the compiler keeps in
 * registers across the fences of the update.
 */
static inline int
worker_loop(struct counter *c, struct worker *worker,
    int (*update)(void *, struct worker *))
{
	struct worker w = *worker;
	void *state = c->state;
	int error = UPDATE_OK;

	while (w.iterations == 0 || w.done < w.iterations) {
		if (atomic_load_explicit(w.stop, memory_order_relaxed))
			break;
		if ((error = update(state, &w)) != UPDATE_OK)
			break;
	}
	worker->done = w.done;
	return error;
}

#endif
