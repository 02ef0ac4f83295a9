/*
 * The memory that the parent and its workers share for the run's
 * bookkeeping (not the counter: that is the backend's).
 */
#ifndef PROCCOUNT_SHARED_H
#define PROCCOUNT_SHARED_H

#include <stdatomic.h>
#include <sys/types.h>

#include "../counter.h"

struct shared {
	/* Set by the parent to end a timed or interrupted run; read by every
	 * worker before every update, written once. */
	_Alignas(128) atomic_int stop;
	/* Workers through the gate so far: the last one in starts them all. */
	_Alignas(128) atomic_uint arrived;
	unsigned	 workers;
	struct slot	slots[];
};

void	worker_main(const struct run *, struct counter *, struct shared *,
	    unsigned index, int ready_fd, int gate_fd, pid_t parent)
	    __attribute__((noreturn));

#endif
