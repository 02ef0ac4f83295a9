/*
 * The exact count of lost updates, from a traced run's records.
 *
 * Every update a worker completed is in the account.  So is the one it
 * had begun when it died, if anything shows that its write landed: a read
 * that saw its tag, a store that replaced it, or the end.  Its worker
 * never counted it, and the verdict is told.  A begun update that nothing
 * shows is left out: whether or not it wrote, its write is not in the
 * final value, and no update descends from it.
 *
 * Then the path: from the final value's tag, each write's read gives the
 * write before it, down to the start.  The updates on the path are what
 * the final value is made of, and every other update is lost.  Every step
 * is checked against the records: a tag that no update made, a value read
 * that its write did not leave, a final value that the path does not add
 * up to.  None can happen unless proccount has a bug or another program
 * wrote the counter, and either is said.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

const struct trace_record *
trace_record_of(const struct trace_run *run, uint32_t tag, unsigned *worker,
    uint64_t *number)
{
	unsigned index = (tag - 1) / run->capacity;
	uint64_t at = (tag - 1) % run->capacity;

	if (worker != NULL)
		*worker = index;
	if (number != NULL)
		*number = at;
	return &run->workers[index].records[at];
}

static int
delta_of(const struct trace_run *run, uint32_t tag)
{
	return run->workers[(tag - 1) / run->capacity].delta;
}

long long
trace_value_of(const struct trace_run *run, const struct trace_account *a,
    uint32_t tag)
{
	const struct trace_record *r;

	if (tag == 0)
		return run->start;
	r = trace_record_of(run, tag, NULL, NULL);
	/* A landed write whose worker died before it recorded the value. */
	if (r->t_write == 0 && (a->state[tag] & TRACE_LANDED) != 0)
		return (long long)r->read + delta_of(run, tag);
	return r->wrote;
}

static bool
in_account(const struct trace_account *a, uint32_t tag)
{
	return (a->state[tag] & (TRACE_COUNTED | TRACE_LANDED)) != 0;
}

bool
trace_is_lost(const struct trace_account *a, uint32_t tag)
{
	size_t n = (size_t)a->run->nworkers * a->run->capacity;

	return tag != 0 && tag <= n && in_account(a, tag) &&
	    (a->state[tag] & TRACE_ON_PATH) == 0;
}

/* The first check that failed is the one said. */
static void __attribute__((format(printf, 2, 3)))
problem(struct trace_account *a, const char *fmt, ...)
{
	va_list ap;

	if (!a->exact)
		return;
	a->exact = false;
	va_start(ap, fmt);
	vsnprintf(a->problem, sizeof(a->problem), fmt, ap);
	va_end(ap);
}

/* "worker 2's update 3", for the problems. */
static const char *
named(const struct trace_run *run, uint32_t tag, char *buf, size_t size)
{
	unsigned worker;
	uint64_t number;

	trace_record_of(run, tag, &worker, &number);
	snprintf(buf, size, "worker %u's update %llu", worker + 1,
	    (unsigned long long)number + 1);
	return buf;
}

/* Whether tag names a write the records know of: the start, or one begun. */
static bool
known_tag(const struct trace_account *a, size_t n, uint32_t tag)
{
	return tag == 0 || (tag <= n && a->state[tag] != 0);
}

/*
 * The writes that the records show landed: each read's, each store's
 * replaced one, and the end's.  A begun update shown so is landed.
 */
static void
find_landed(const struct trace_run *run, struct trace_account *a, size_t n)
{
	const struct trace_record *r;
	char who[64];
	uint32_t t;

	for (t = 1; t <= n; t++) {
		if (a->state[t] == 0)
			continue;
		r = trace_record_of(run, t, NULL, NULL);
		if (!known_tag(a, n, r->read_tag)) {
			problem(a, "%s read a write tagged %u, which no update "
			    "made", named(run, t, who, sizeof(who)),
			    r->read_tag);
			continue;
		}
		a->readers[r->read_tag]++;
		if (r->read_tag != 0 &&
		    (a->state[r->read_tag] & TRACE_READ_ONLY) != 0)
			a->state[r->read_tag] = TRACE_LANDED;
		if (r->t_write == 0 || r->overwrote == TRACE_UNKNOWN)
			continue;
		if (!known_tag(a, n, r->overwrote))
			problem(a, "%s replaced a write tagged %u, which no "
			    "update made", named(run, t, who, sizeof(who)),
			    r->overwrote);
		else if (r->overwrote != 0 &&
		    (a->state[r->overwrote] & TRACE_READ_ONLY) != 0)
			a->state[r->overwrote] = TRACE_LANDED;
	}
	for (t = 1; t <= n; t++) {
		r = trace_record_of(run, t, NULL, NULL);
		/* Its write recorded, though its worker did not count it. */
		if ((a->state[t] & TRACE_READ_ONLY) != 0 && r->t_write != 0)
			a->state[t] = TRACE_LANDED;
	}
	if (run->final_known && run->final_tag != 0 && known_tag(a, n,
	    run->final_tag) && (a->state[run->final_tag] & TRACE_READ_ONLY))
		a->state[run->final_tag] = TRACE_LANDED;
}

/* Each read saw what its write left, and each write is its read's plus 1. */
static void
check_values(const struct trace_run *run, struct trace_account *a, size_t n)
{
	const struct trace_record *r;
	char who[64];
	uint32_t t;

	for (t = 1; t <= n; t++) {
		if (a->state[t] == 0)
			continue;
		r = trace_record_of(run, t, NULL, NULL);
		if (known_tag(a, n, r->read_tag) && (r->read_tag == 0 ||
		    in_account(a, r->read_tag)) &&
		    r->read != trace_value_of(run, a, r->read_tag))
			problem(a, "%s read %d, but the write tagged %u left "
			    "%lld", named(run, t, who, sizeof(who)), r->read,
			    r->read_tag, trace_value_of(run, a, r->read_tag));
		if (r->t_write != 0 &&
		    (long long)r->wrote != (long long)r->read + delta_of(run, t))
			problem(a, "%s read %d and wrote %d",
			    named(run, t, who, sizeof(who)), r->read, r->wrote);
	}
}

/* From the final write down to the start: the updates the value holds. */
static void
walk_path(const struct trace_run *run, struct trace_account *a, size_t n)
{
	uint32_t t = run->final_tag;

	if (!run->final_known) {
		problem(a, "the final value could not be read, so no path "
		    "leads to it");
		return;
	}
	while (t != 0) {
		if (t > n || !in_account(a, t)) {
			problem(a, "the path to the final value reaches a "
			    "write tagged %u, which no update made", t);
			return;
		}
		if ((a->state[t] & TRACE_ON_PATH) != 0) {
			problem(a, "the path to the final value goes round in "
			    "a circle at the write tagged %u", t);
			return;
		}
		a->state[t] |= TRACE_ON_PATH;
		a->path++;
		a->path_sum += delta_of(run, t);
		t = trace_record_of(run, t, NULL, NULL)->read_tag;
	}
	if (run->final != trace_value_of(run, a, run->final_tag))
		problem(a, "the final value is %lld, but the write tagged %u "
		    "left %lld", run->final, run->final_tag,
		    trace_value_of(run, a, run->final_tag));
	else if (run->final != run->start + a->path_sum)
		problem(a, "the final value is %lld, but the start and the "
		    "path to it make %lld", run->final,
		    run->start + a->path_sum);
}

/* When a write happened, as far as its record says. */
static int64_t
write_time(const struct trace_run *run, uint32_t tag)
{
	const struct trace_record *r = trace_record_of(run, tag, NULL, NULL);

	return r->t_write != 0 ? r->t_write : r->t_read;
}

static const struct trace_run *sorting;

static int
by_write_time(const void *left, const void *right)
{
	uint32_t a = *(const uint32_t *)left, b = *(const uint32_t *)right;
	int64_t ta = write_time(sorting, a), tb = write_time(sorting, b);

	if (ta != tb)
		return ta < tb ? -1 : 1;
	return a < b ? -1 : a > b;
}

/*
 * What each write replaced.  The shm counter's store is an exchange when
 * traced, and records the very word it replaced.  A file's write cannot
 * say, so the writes are taken in the order of their times: exact when a
 * lock orders them, near enough otherwise.
 */
static int
find_overwrites(const struct trace_run *run, struct trace_account *a,
    size_t n)
{
	const struct trace_record *r;
	uint32_t t, prev = 0, *order;
	size_t count = 0, i;

	for (t = 1; t <= n; t++) {
		r = trace_record_of(run, t, NULL, NULL);
		if (in_account(a, t) && r->t_write != 0) {
			a->by_store = r->overwrote != TRACE_UNKNOWN;
			break;
		}
	}
	if (a->by_store) {
		for (t = 1; t <= n; t++) {
			r = trace_record_of(run, t, NULL, NULL);
			if (!in_account(a, t) || r->t_write == 0 ||
			    !known_tag(a, n, r->overwrote))
				continue;
			a->over[t] = r->overwrote;
			if (a->by[r->overwrote] != TRACE_UNKNOWN)
				problem(a, "two stores replaced the write "
				    "tagged %u", r->overwrote);
			a->by[r->overwrote] = t;
		}
		if (run->final_known && run->final_tag <= n &&
		    a->by[run->final_tag] != TRACE_UNKNOWN)
			problem(a, "a store replaced the final write, tagged "
			    "%u", run->final_tag);
		return 0;
	}
	if ((order = malloc((a->updates + 1) * sizeof(*order))) == NULL)
		return -1;
	for (t = 1; t <= n; t++)
		if (in_account(a, t))
			order[count++] = t;
	sorting = run;
	qsort(order, count, sizeof(*order), by_write_time);
	for (i = 0; i < count; i++) {
		a->over[order[i]] = prev;
		a->by[prev] = order[i];
		prev = order[i];
	}
	free(order);
	return 0;
}

/*
 * Counts the lost, and keeps the earliest few ends of dead branches to
 * name: the lost updates that no update in the account read.  Every other
 * lost update is on the way to one of them.
 */
static void
count_lost(const struct trace_run *run, struct trace_account *a, size_t n)
{
	struct trace_loss *loss;
	unsigned at, i;
	uint32_t t, up;

	for (t = 1; t <= n; t++) {
		up = trace_record_of(run, t, NULL, NULL)->read_tag;
		if (in_account(a, t) && up != 0 && up <= n && a->state[up] != 0)
			a->state[up] |= TRACE_READ_FROM;
	}
	for (t = 1; t <= n; t++) {
		if (!trace_is_lost(a, t))
			continue;
		a->lost++;
		if (delta_of(run, t) > 0)
			a->lost_increments++;
		else
			a->lost_decrements++;
		/* Read, by an update that went on to write: on a branch. */
		if ((a->state[t] & TRACE_READ_FROM) != 0) {
			a->read_lost++;
			continue;
		}
		a->unread++;
		/* Kept in the order of their writes, the earliest first. */
		if (a->nfirst < TRACE_FIRST)
			at = a->nfirst++;
		else if (write_time(run, a->first[TRACE_FIRST - 1].lost) >
		    write_time(run, t))
			at = TRACE_FIRST - 1;
		else
			continue;
		for (; at > 0 && write_time(run, a->first[at - 1].lost) >
		    write_time(run, t); at--)
			a->first[at] = a->first[at - 1];
		a->first[at] = (struct trace_loss){
			.lost = t, .by = a->by[t], .readers = a->readers[t],
			.first = TRACE_UNKNOWN,
		};
	}
	/* Up its branch, as far as the lost go. */
	for (i = 0; i < a->nfirst; i++) {
		loss = &a->first[i];
		up = trace_record_of(run, loss->lost, NULL, NULL)->read_tag;
		for (; trace_is_lost(a, up) && loss->before < n;
		    up = trace_record_of(run, up, NULL, NULL)->read_tag) {
			loss->before++;
			loss->first = up;
		}
	}
}

int
trace_account(const struct trace_run *run, struct trace_account *a)
{
	size_t n = (size_t)run->nworkers * run->capacity, i;
	const struct trace_worker *w;
	uint64_t k;
	unsigned index;
	uint32_t t;

	memset(a, 0, sizeof(*a));
	a->run = run;
	a->exact = true;
	a->state = calloc(n + 1, sizeof(*a->state));
	a->readers = calloc(n + 1, sizeof(*a->readers));
	a->over = malloc((n + 1) * sizeof(*a->over));
	a->by = malloc((n + 1) * sizeof(*a->by));
	if (a->state == NULL || a->readers == NULL || a->over == NULL ||
	    a->by == NULL)
		goto fail;
	for (i = 0; i <= n; i++)
		a->over[i] = a->by[i] = TRACE_UNKNOWN;
	for (index = 0; index < run->nworkers; index++) {
		w = &run->workers[index];
		for (k = 0; k < w->done && k < run->capacity; k++)
			a->state[trace_tag(run->capacity, index, k)] =
			    TRACE_COUNTED;
		if (w->done < run->capacity && w->records[w->done].t_read != 0)
			a->state[trace_tag(run->capacity, index, w->done)] =
			    TRACE_READ_ONLY;
	}
	find_landed(run, a, n);
	for (t = 1; t <= n; t++) {
		if (in_account(a, t))
			a->updates++;
		if ((a->state[t] & TRACE_LANDED) != 0) {
			a->landed++;
			a->landed_sum += delta_of(run, t);
		}
	}
	check_values(run, a, n);
	walk_path(run, a, n);
	if (find_overwrites(run, a, n) == -1)
		goto fail;
	if (run->final_known)
		count_lost(run, a, n);
	return 0;
fail:
	trace_account_free(a);
	errno = ENOMEM;
	return -1;
}

void
trace_account_free(struct trace_account *a)
{
	free(a->state);
	free(a->readers);
	free(a->over);
	free(a->by);
	a->state = NULL;
	a->readers = NULL;
	a->over = NULL;
	a->by = NULL;
}
