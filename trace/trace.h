/*
 * --trace: what every update records, and the exact count of lost updates
 * that the records prove.
 *
 * Every write to the counter carries a tag beside its value: 0 for the
 * start value, and for an update the number trace_tag gives it, unique in
 * the run.  An update's read records the tag of the write it saw, so the
 * writes form a tree rooted at the start value.  The final value is the
 * start plus the deltas of the updates on the one path from the root to
 * the final write, and an update off that path is lost: its effect never
 * reached the final value, even where another update read it first.
 *
 * The accounting below is a pure function of the records, so the unit
 * test can give it made-up traces.
 */
#ifndef PROCCOUNT_TRACE_H
#define PROCCOUNT_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * The most updates a run may trace, in all: 32 bytes each in memory, so
 * at most 128 MiB, and a tag of 7 digits, which the counter file's record
 * holds beside any 32-bit value.
 */
#define TRACE_MAX	(1U << 22)
/* A tag a backend cannot tell: what a file's write replaced. */
#define TRACE_UNKNOWN	UINT32_MAX
/* The losses the report names one by one. */
#define TRACE_FIRST	5

/*
 * One update, as its worker records it: the read part right after the
 * read, before the store, so that a worker killed between its store and
 * the rest of its record still says which write its own came from; the
 * write part right after the store, t_write last, so that a t_write of 0
 * says the write part is not there.  Times are CLOCK_MONOTONIC.
 */
struct trace_record {
	uint32_t	 read_tag;	/* the write its read saw; 0: the start */
	uint32_t	 overwrote;	/* the write its store replaced, or
					   TRACE_UNKNOWN */
	int32_t		 read;		/* the value read */
	int32_t		 wrote;		/* the value written */
	int64_t		 t_read;	/* 0: it did not read */
	int64_t		 t_write;	/* 0: no write recorded */
};

/* The tag of update number (0 on) of worker index (0 on). */
static inline uint32_t
trace_tag(uint32_t capacity, unsigned index, uint64_t number)
{
	return (uint32_t)(index * (uint64_t)capacity + number + 1);
}

/*
 * Whether a traced run from start keeps the counter within a 32-bit
 * integer, whatever the workers do: the shm word and the file record hold
 * a 32-bit value beside the tag.
 */
static inline bool
trace_fits(long long start, unsigned incrementers, unsigned decrementers,
    uint64_t per_worker)
{
	return start <= INT32_MAX - (long long)incrementers *
	    (long long)per_worker &&
	    start >= INT32_MIN + (long long)decrementers * (long long)per_worker;
}

/* One worker's records, as the parent hands them to the accounting. */
struct trace_worker {
	const struct trace_record *records;	/* capacity of them */
	uint64_t	 done;		/* updates it completed, and counted */
	int		 delta;		/* +1 or -1 */
	pid_t		 pid;
};

/* A run's records and its end, for trace_account. */
struct trace_run {
	long long	 start;
	uint32_t	 capacity;	/* records a worker has */
	unsigned	 nworkers;
	const struct trace_worker *workers;
	bool		 final_known;	/* the backend could read the end */
	long long	 final;
	uint32_t	 final_tag;	/* the tag beside the final value */
	int64_t		 began_ns;	/* what the times are counted from */
	bool		 timed;		/* -t: a worker stops when its records
					   are full */
};

/*
 * A branch's end, named in the report: a lost update that no update
 * descends from, the write that replaced it, and the lost updates before
 * it on its branch, which its value came from.
 */
struct trace_loss {
	uint32_t	 lost;		/* its tag */
	uint32_t	 by;		/* the write that replaced it, or
					   TRACE_UNKNOWN */
	uint32_t	 readers;	/* reads that saw it, none of which wrote */
	uint64_t	 before;	/* lost updates before it on its branch */
	uint32_t	 first;		/* the earliest of them, if any */
};

/* An update's state in the account, per tag. */
enum {
	TRACE_COUNTED = 1,	/* its worker completed it */
	TRACE_LANDED = 2,	/* uncounted, its worker died, yet a read,
				   a store or the end shows its write */
	TRACE_ON_PATH = 4,	/* its effect reached the final value */
	TRACE_READ_ONLY = 8,	/* it read, and no write of it is known */
	TRACE_READ_FROM = 16,	/* an update in the account read it */
};

struct trace_account {
	const struct trace_run *run;
	uint64_t	 updates;	/* counted and landed */
	uint64_t	 landed;
	long long	 landed_sum;	/* the deltas of the landed */
	uint64_t	 lost;
	uint64_t	 lost_increments;
	uint64_t	 lost_decrements;
	/*
	 * Lost, and no update read it, to write on: overwritten unread, where
	 * a branch died; or lost though read, on the way to such an end.
	 */
	uint64_t	 unread;
	uint64_t	 read_lost;
	uint64_t	 path;		/* updates on the path to the final value */
	long long	 path_sum;	/* their deltas */
	/*
	 * Whether a store's own record says what it replaced (the shm
	 * counter's exchange), or the writes' times order them (the file's).
	 */
	bool		 by_store;
	/* Every check held; else problem says the first that did not. */
	bool		 exact;
	char		 problem[256];
	struct trace_loss first[TRACE_FIRST];	/* the earliest branch ends */
	unsigned	 nfirst;
	/* Indexed by tag, 0 to nworkers * capacity. */
	uint8_t		*state;
	uint32_t	*readers;
	uint32_t	*over;		/* what each write replaced */
	uint32_t	*by;		/* what replaced each write */
	/* Set by the caller that wrote the records to a file. */
	const char	*file;
};

/*
 * Counts the losses of a run's records exactly, and checks that the
 * records and the final value agree: sets exact, or problem.  Returns 0,
 * or -1 with errno set when memory runs out.
 */
int	trace_account(const struct trace_run *, struct trace_account *);
void	trace_account_free(struct trace_account *);

/* The record of a tag, and the worker that made it. */
const struct trace_record *trace_record_of(const struct trace_run *,
	    uint32_t tag, unsigned *worker, uint64_t *number);
/* The value a tag's write left: the start's, for tag 0. */
long long trace_value_of(const struct trace_run *, const struct trace_account *,
	    uint32_t tag);
/* Whether a tag is an update of the account that was lost. */
bool	trace_is_lost(const struct trace_account *, uint32_t tag);

#endif
