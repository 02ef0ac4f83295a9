/*
 * The workers, forked processes or threads of proccount: started, held at a
 * start gate until all are ready, let go together, watched, stopped when
 * they must be, and reaped.
 */
#ifndef PROCCOUNT_PROCS_H
#define PROCCOUNT_PROCS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../counter.h"
#include "cycle.h"

/* How the run as a whole ended. */
enum run_end {
	RUN_COMPLETED,		/* every worker ended by itself */
	RUN_ABANDONED,		/* a worker died holding the lock and the rest
				   made no progress: the lock was abandoned */
	RUN_DEADLOCK,		/* a worker waits for a lock it holds itself
				   (--nest), or workers wait in a cycle
				   (--counters=2) */
	RUN_INTERRUPTED,	/* SIGINT, SIGTERM or SIGHUP reached proccount */
	RUN_STALLED,		/* with --timeout, no update completed for the
				   timeout and a grace, and nobody had died */
};

/* How one worker ended. */
enum worker_end {
	END_EXITED,		/* it finished, or stopped when asked */
	END_KILLED,		/* a signal killed it: --crash, or from outside */
	END_TIMED_OUT,		/* its wait for the lock expired */
	END_FAILED,		/* a system call failed, or the counter was bad */
	END_STOPPED,		/* proccount killed it to end the run */
	END_THREAD_DIED,	/* a thread ended by pthread_exit: --crash */
	END_STUCK,		/* a thread that could not be stopped, left
				   blocked until proccount exits */
	END_UNSTARTED,		/* it died before it said it was ready */
	END_STALLED,		/* proccount killed it: it made no progress
				   (RUN_STALLED) */
	END_REFUSED,		/* --nest: its own lock refused it (EDEADLK) */
	END_QUIT,		/* a process that exited, not through the end
				   of its loop: a death, as END_KILLED */
};

struct worker_result {
	pid_t		 pid;
	int		 delta;
	uint64_t	 done;		/* updates completed */
	uint32_t	 unsure;	/* it died mid-update: this many more
					   updates may or may not have landed */
	enum worker_end	 end;
	int		 signal;	/* END_KILLED */
	int		 exit_status;	/* END_QUIT */
	int		 error;		/* enum update_error */
	int		 error_errno;
	uint32_t	 recovered;
	uint64_t	 held_ns;	/* --hold, --work: as it measured them */
	uint64_t	 worked_ns;
	uint64_t	 misses;	/* --try: the lock found busy */
	uint32_t	 nested;	/* --nest: held the lock this deep while
					   it took it again, when the run ended */
	uint64_t	 reads;		/* a reader's (delta 0): its reads */
	uint64_t	 impossible;	/* and those no moment could give */
	uint64_t	 refused;	/* --counters=2: locks the kernel refused
					   it with EDEADLK */
	int		 cpu;		/* where it was after its updates; with
					   UPDATE_PIN, where it was to go; -1:
					   unknown */
	int64_t		 start_ns;
	int64_t		 end_ns;
	double		 user_s;
	double		 system_s;
	long		 max_rss_kb;
	const struct histogram *wait;	/* with --latency */
	const struct histogram *hold;
	uint64_t	 retries;	/* aborted by the server, made again */
};

/* With --latency: how the workers timed their updates. */
struct timing {
	bool		 tsc;		/* by the TSC, else by CLOCK_MONOTONIC */
	double		 ns_per_tick;
	uint64_t	 read_ticks;	/* the least between two reads in a row,
					   taken off every span timed */
	uint32_t	 every;		/* a worker timed one update in every
					   this many */
	double		 sample_ns;	/* what timing one costs, alone */
};

struct outcome {
	enum run_end	 end;
	int		 signal;	/* RUN_INTERRUPTED: which one */
	unsigned	 nworkers;
	struct worker_result *workers;
	int64_t		 started_ns;	/* the first worker's start */
	int64_t		 elapsed_ns;	/* first start to last end */
	int64_t		 stalled_ns;	/* RUN_STALLED: how long nothing moved */
	unsigned	 stuck;		/* threads left blocked: nothing they
					   use may be freed */
	/*
	 * Set by run_once, not here: every worker ended by itself after one
	 * had died, and the backend found the lock still held.
	 */
	bool		 left_held;
	struct timing	 timing;	/* with --latency */
	void		*shared;	/* the mapping the histograms live in */
	size_t		 shared_size;
	struct turnstile *turnstile;	/* with --schedule: what ran */
	/* With --trace: every worker's records, in the same mapping. */
	const struct trace_record *trace;
	/* --counters=2, RUN_DEADLOCK: the workers that waited in a cycle,
	 * by index, from the lowest. */
	unsigned	 cycle_length;
	struct cycle_link cycle[CYCLE_MAX];
};

/*
 * Called by the watch loop about ten times a second once a run has gone on
 * for a second: the updates completed so far and the time since the start.
 */
struct progress {
	void	(*show)(void *context, uint64_t updates, int64_t elapsed_ns);
	void	*context;
};

void	procs_block_signals(void);
int	procs_signal_within(int64_t ns);
int	procs_run(const struct run *, struct counter *, const struct progress *,
	    struct outcome *);
void	procs_free(struct outcome *);

uint32_t timing_every(const struct run *);
int	timing_calibrate(const struct run *, struct timing *);

#endif
