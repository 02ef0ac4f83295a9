/*
 * --counters=2: who waits for whom.  From what each worker says it holds
 * and waits for, the cycle of waits that keeps them all from going on, if
 * there is one.  A pure function, so that the unit test can give it
 * made-up tables.
 */
#ifndef PROCCOUNT_CYCLE_H
#define PROCCOUNT_CYCLE_H

#include <stdint.h>

/* The most links a report keeps of a cycle. */
#define CYCLE_MAX	8

/* One worker's locks: a bit for each held, the one waited for or -1. */
struct lock_state {
	uint32_t	 holds;
	int		 waits_for;
};

/* A worker in a cycle: it holds one lock, and waits for another. */
struct cycle_link {
	unsigned	 worker;	/* its index in the table */
	unsigned	 holds;		/* the lock the one before waits for */
	unsigned	 waits_for;	/* held by the next, the first after the
					   last */
};

/*
 * The first cycle of waits among n workers: each waits for a lock (below
 * 32) that the next holds, and the last for one that the first holds.
 * Written to cycle from its lowest-numbered worker on; returns its
 * length, 0 when there is none, or when it is longer than max.  A lock
 * that several workers say they hold (one that excludes nobody) is taken
 * to be the first one's.
 */
unsigned cycle_find(const struct lock_state *, unsigned n,
	    struct cycle_link *cycle, unsigned max);

#endif
