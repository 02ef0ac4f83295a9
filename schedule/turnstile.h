/*
 * The turnstile: with --schedule, the workers take their steps one at a
 * time, in the schedule's order, each handed the turn by the one before
 * through memory that processes and threads share.  The runner (procs/)
 * makes it before the workers start and opens it when the run must stop;
 * the workers' side is declared in counter.h, where the backends call it.
 */
#ifndef PROCCOUNT_TURNSTILE_H
#define PROCCOUNT_TURNSTILE_H

#include "../counter.h"
#include "schedule.h"

struct turnstile;

/* In the parent, before the workers start; NULL with errno set. */
struct turnstile *turnstile_create(const struct schedule *,
	    const struct run *);
/* Worker index's own place in it, for its struct worker. */
struct turnstile_seat *turnstile_seat(struct turnstile *, unsigned index);
/*
 * The run must stop: every wait for a turn ends, now and from now on, and
 * the workers finish the update they are in as in any run.
 */
void	turnstile_open(struct turnstile *);
/* Once every worker has ended: what ran. */
const struct schedule_log *turnstile_log(const struct turnstile *);
void	turnstile_destroy(struct turnstile *);

#endif
