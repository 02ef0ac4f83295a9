/*
 * proccount bench: timed runs over a matrix of lock kinds, processes or
 * threads, and worker counts, summed up as a table, CSV or JSON, and
 * optionally an SVG chart.
 */
#ifndef PROCCOUNT_MATRIX_H
#define PROCCOUNT_MATRIX_H

#include <stdbool.h>
#include <stdint.h>

#include "../counter.h"

#define MAX_REPEAT	100	/* runs a cell, at most */

/* One lock kind at one worker count, over its repeated runs. */
struct cell {
	const struct backend *backend;
	const struct lock_kind *kind;
	bool		 threads;	/* the workers are threads */
	unsigned	 workers;
	unsigned	 runs;
	double		 ns_per_update;	/* the median run's */
	double		 ns_min;	/* the fastest run's */
	double		 ns_max;	/* the slowest run's */
	double		 run_ns[MAX_REPEAT];	/* each run's, fastest first */
	double		 updates_per_s;
	double		 fairness;
	double		 cpu_s;		/* user + system, all workers */
	bool		 has_wait;	/* a lock kind: from a --latency run */
	uint64_t	 wait_p50_ns;
	uint64_t	 wait_p99_ns;
	unsigned	 exact_runs;	/* runs whose count was exact */
	long long	 most_lost;	/* the largest |drift| of a run */
	bool		 oversubscribed; /* more workers than usable CPUs */
};

int	bench_main(int, char **);

#endif
