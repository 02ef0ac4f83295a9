/*
 * A schedule: the order in which the workers take their steps, each a read
 * ("1r": worker 1 takes the lock, if any, and reads the counter) or a
 * write ("1w": it writes, and releases the lock).  Read from --schedule,
 * made from a seed by random:SEED, or made by proccount explore; run by the
 * turnstile (turnstile.c), which writes down what really ran in a
 * schedule_log.  Nothing here prints: a malformed schedule is described in
 * a buffer the caller gives.
 */
#ifndef PROCCOUNT_SCHEDULE_H
#define PROCCOUNT_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * The most steps a schedule may list: a schedule of every step of a run
 * this long still fits one command-line argument, which Linux caps at
 * 128 KiB, with workers numbered up to 4096.
 */
#define SCHEDULE_MAX_STEPS	10000
/* The waits a log keeps in full, and the first steps it keeps. */
#define SCHEDULE_WAITS_KEPT	64
#define SCHEDULE_RAN_KEPT	16384
/* A wait's holder when no worker held the lock: another program did. */
#define SCHEDULE_OUTSIDER	UINT32_MAX

/* One step; workers are numbered from 0 here, from 1 in the text. */
struct step {
	uint32_t	 worker;
	bool		 write;
};

struct schedule {
	struct step	*steps;
	size_t		 nsteps;
	char		*text;		/* "1r 2r 1w 2w", as the steps print */
	bool		 random;	/* made from a seed */
	uint64_t	 seed;
};

/* A worker's step that the lock did not allow: it waited for the holder. */
struct schedule_wait {
	uint32_t	 worker;
	uint32_t	 holder;	/* or SCHEDULE_OUTSIDER */
	uint64_t	 after;		/* the steps that had run */
};

/*
 * What a scheduled run did: its steps in the order they ran, the first
 * SCHEDULE_RAN_KEPT of them kept, and the waits the lock imposed, the
 * first SCHEDULE_WAITS_KEPT kept.  Written by the workers, in the
 * turnstile's memory, read once they have all ended.
 */
struct schedule_log {
	uint64_t	 steps;		/* steps that ran, in all */
	uint64_t	 nwaits;	/* waits, in all */
	size_t		 ran_room;	/* entries ran[] has */
	struct schedule_wait waits[SCHEDULE_WAITS_KEPT];
	uint32_t	 ran[];		/* worker << 1 | 1 for a write */
};

/*
 * --schedule's argument, STEPS or random:SEED, for a run of that many
 * workers and updates each.  Returns 0, or -1 with why saying what is
 * wrong, naming the offending step.
 */
int	schedule_from_option(struct schedule *, const char *arg,
	    unsigned workers, uint64_t iterations, char *why, size_t);
/* The steps as text, each worker's number and r or w, spaces between. */
int	schedule_text(struct schedule *);
void	schedule_free(struct schedule *);

/*
 * How many interleavings there are of the workers' steps, counts[i] of
 * worker i's: the multinomial coefficient (sum of counts)! / prod
 * (counts[i]!).  Returns false when it exceeds UINT64_MAX.
 */
bool	interleavings(const uint64_t *counts, size_t n, uint64_t *total);

/* The steps that ran, as text, the kept ones only; returns their count. */
size_t	schedule_log_ran(const struct schedule_log *, char *, size_t);
/* The report's part: lines of text, or a ,"schedule":{...} member. */
void	schedule_print_text(FILE *, const struct schedule *,
	    const struct schedule_log *, bool locking);
void	schedule_print_json(FILE *, const struct schedule *,
	    const struct schedule_log *);

#endif
