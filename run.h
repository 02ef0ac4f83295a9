/*
 * One run, from settings to verdict: create the counter, run the workers,
 * read the final value, judge it.  Shared by proccount and proccount bench;
 * it prints nothing.
 */
#ifndef PROCCOUNT_RUN_H
#define PROCCOUNT_RUN_H

#include "counter.h"
#include "judge.h"
#include "procs/procs.h"

struct result {
	struct counter	 counter;
	struct outcome	 out;
	struct verdict	 verdict;
	int		 status;	/* the exit status the run earns */
	bool		 judged;	/* the workers ran: verdict, report */
	char		 message[PATH_MAX + 512];	/* what went wrong */
	/* With --trace: the records as the account reads them, and it. */
	struct trace_worker *trace_workers;
	struct trace_run trace_run;
	struct trace_account trace;
};

int	run_once(const struct run *, const struct progress *, struct result *);
void	run_free(struct result *);

#endif
