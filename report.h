/*
 * What a run found, and the two ways of printing it: text for people, one
 * JSON object for programs.
 */
#ifndef PROCCOUNT_REPORT_H
#define PROCCOUNT_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "counter.h"
#include "procs/procs.h"

struct verdict {
	long long	 final;
	long long	 expected;	/* from the updates each worker completed */
	long long	 drift;		/* final - expected */
	bool		 correct;
	uint64_t	 updates;	/* completed, summed over the workers */
	unsigned	 landed;	/* updates of killed workers, made but not
					   counted by them, that the value shows */
	unsigned	 killed;	/* workers killed, not by proccount */
	unsigned	 timed_out;
	uint32_t	 recoveries;	/* robust mutex taken from a dead owner */
	double		 user_s;
	double		 system_s;
	long		 max_rss_kb;
	uint64_t	 fewest;	/* updates of the least and most active */
	uint64_t	 most;
	double		 fairness;	/* Jain's index over workers' updates */
};

void	judge(const struct run *, const struct outcome *, long long final,
	    struct verdict *);
void	report_text(FILE *, const struct run *, const struct counter *,
	    const struct outcome *, const struct verdict *, bool verbose);
void	report_json(FILE *, const struct run *, const struct counter *,
	    const struct outcome *, const struct verdict *);
const char *lock_description(const struct run *);
void	merge_latency(const struct outcome *, struct histogram *wait,
	    struct histogram *hold);

#endif
