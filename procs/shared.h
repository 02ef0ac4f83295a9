/*
 * The memory that the parent and its workers share for the run's
 * bookkeeping (not the counter: that is the backend's), and what one
 * worker is handed to start with, as a process or as a thread.
 */
#ifndef PROCCOUNT_SHARED_H
#define PROCCOUNT_SHARED_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>

#include "../counter.h"
#include "procs.h"

struct shared {
	/* Set by the parent to end a timed or interrupted run; read by every
	 * worker before every update, written once. */
	_Alignas(128) atomic_int stop;
	/* Workers through the gate so far: the last one in starts them all. */
	_Alignas(128) atomic_uint arrived;
	unsigned	 workers;
	struct timing	 timing;	/* with --latency; set before the
					   workers start */
	struct turnstile *turnstile;	/* with --schedule, else NULL */
	struct slot	slots[];
	/* With --trace, after the last slot: each worker's records. */
};

/* With --trace: worker index's records, capacity of them. */
static inline struct trace_record *
shared_trace(struct shared *shared, unsigned index, uint32_t capacity)
{
	return (struct trace_record *)&shared->slots[shared->workers] +
	    (size_t)index * capacity;
}

/* One worker's start: where it reports, and the two pipes of the gate. */
struct worker_start {
	const struct run *run;
	struct counter	*counter;
	struct shared	*shared;
	unsigned	 index;
	int		 ready_fd;	/* a uint32_t: index << 1, | 1 if ready */
	int		 gate_fd;	/* end of file: go */
	pid_t		 parent;	/* a process's: the parent it must have */
	pthread_t	 main_thread;	/* a thread's: told when it ends */
	bool		 own_fds;	/* a process's copies, closed when done */
	void		*handle;	/* the backend's, from attach */
};

void	procs_alarm_handler(void);
void	worker_process(struct worker_start *) __attribute__((noreturn));
void	worker_threads_report_to(pthread_t);
void	*worker_thread(void *);

#endif
