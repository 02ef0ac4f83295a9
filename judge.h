/*
 * The verdict on a run: from what each worker reports it did and the final
 * value, whether the count is exact, and the exit status the run earns.
 * Pure functions of their inputs, so the unit tests can judge made-up
 * outcomes.
 */
#ifndef PROCCOUNT_JUDGE_H
#define PROCCOUNT_JUDGE_H

#include <stdbool.h>
#include <stdint.h>

#include "counter.h"
#include "procs/procs.h"
#include "trace/trace.h"

#define EXIT_CORRECT	0
#define EXIT_LOST	1
#define EXIT_USAGE	2
#define EXIT_SYSTEM	3
#define EXIT_UNFINISHED	4
#define EXIT_OUTSIDE	5	/* another program changed the counter */

struct verdict {
	long long	 start;		/* the counter's value at the start */
	bool		 final_known;	/* the counter could be read at the end */
	long long	 final;
	long long	 expected;	/* from the updates each worker completed */
	long long	 drift;		/* final - expected */
	bool		 correct;
	bool		 outside;	/* beyond what lost updates can do: another
					   writer changed the counter */
	uint64_t	 updates;	/* completed, summed over the workers */
	unsigned	 landed;	/* updates of killed workers, made but not
					   counted by them, that the value shows */
	unsigned	 killed;	/* workers that died, not by proccount */
	unsigned	 unstarted;	/* of them, before they were ready */
	unsigned	 timed_out;
	bool		 abandoned;	/* a dead worker left the lock held */
	bool		 held_for_good;	/* ... and nothing will release it */
	bool		 at_limit;	/* a timed run's worker stopped at
					   run_most_updates */
	uint32_t	 recoveries;	/* robust mutex taken from a dead owner */
	double		 user_s;
	double		 system_s;
	long		 max_rss_kb;
	uint64_t	 reads;		/* --readers: all their reads */
	uint64_t	 impossible;	/* of them, values no moment could hold,
					   or text that was no number */
	uint64_t	 fewest;	/* updates of the least and most active */
	uint64_t	 most;
	double		 fairness;	/* Jain's index over the workers' update
					   rates, each from the start to its
					   end; 0 when no update completed */
	/* With --trace: the exact count, set after judge by run_once. */
	const struct trace_account *trace;
	/*
	 * --counters=2, set by judge_pair: start, final, expected, drift
	 * and landed above are counter B's, which the incrementers raise as
	 * they raise the one counter of other runs; these are A's, B's own
	 * verdict, and the sum's.  correct and outside above are both's.
	 */
	bool		 pair;
	long long	 a_start;
	long long	 a_final;
	long long	 a_expected;
	long long	 a_drift;
	unsigned	 a_landed;
	bool		 a_correct;
	bool		 b_correct;
	long long	 sum_start;
	long long	 sum_final;
	bool		 sum_held;
	uint64_t	 refused;	/* locks refused with EDEADLK, in all */
};

/* Whether a counted run from start stays within a 64-bit integer. */
bool	count_fits(long long start, const struct run *);
/* final is NULL where the counter could not be read at the end. */
void	judge(const struct run *, const struct outcome *, long long start,
	    const long long *final, struct verdict *);
/*
 * --counters=2, after judge has judged counter B: counter A, from its start
 * and final value (NULL: unknown), and the sum of the two.
 */
void	judge_pair(const struct outcome *, long long start_a,
	    const long long *final_a, struct verdict *);
/* The exit status of a judged run: 0, 1, 3, 4, 5 or 128 + a signal. */
int	verdict_status(const struct outcome *, const struct verdict *);

#endif
