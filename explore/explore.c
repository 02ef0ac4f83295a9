/*
 * proccount explore: runs every interleaving of the workers' steps, each a
 * scheduled run like any other (--schedule), and prints what final values
 * they reach, how many reach each, and one schedule to replay for each.
 *
 * The interleavings are the distinct orders of the workers' steps, each
 * worker's own in their order: as many as the multinomial coefficient
 * (sum of steps)! / prod(steps_k!), enumerated in lexical order of the
 * workers' numbers, so that the schedule shown for an outcome is the
 * first, in that order, to reach it.  With a lock, an interleaving that
 * the lock forbids runs in the order the lock imposes; how many distinct
 * orders ran is counted from what the turnstile logged.
 *
 * Like bench, explore makes nothing in the user's directory: the file
 * backend's counter lives in a private directory unless --file names one.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../cli.h"
#include "../run.h"
#include "../schedule/schedule.h"
#include "../schedule/turnstile.h"
#include "../units.h"
#include "explore.h"

/*
 * The most interleavings explore runs.  A scheduled run of a few workers
 * takes about a millisecond, as processes or threads (2520 took 5 s on two
 * busy CPUs), so this many take seconds; the next size up, 2 x 4 updates,
 * has 12870, and 3 x 2 has 34650.
 */
#define EXPLORE_MAX	5000

struct explore {
	struct run	 run;
	const char	*lock;		/* as given; "" for a bare --lock */
	const char	*backend;
	bool		 json;
	bool		 file_given;
	bool		 quiet_progress;
};

/* One final value, the interleavings that reach it, the first of them. */
struct ending {
	long long	 final;
	uint64_t	 count;
	char		*schedule;
};

struct tally {
	struct ending	*endings;
	size_t		 nendings;
	char		**orders;	/* each run's order, as it ran */
	uint64_t	 runs;
	uint64_t	 as_asked;	/* runs that no lock made wait */
	long long	 exact;		/* the value every exact run ends at */
	int64_t		 elapsed_ns;
};

static const char explore_usage[] =
"usage: proccount explore [-T] [-b file|shm] [-l kind | --lock[=kind]] [-i n]\n"
"                         [-d n] [-n count] [-f path] [--json]\n"
"\n"
"Runs every interleaving of the workers' steps, each a scheduled run\n"
"(--schedule), and prints each final value they reach, how many reach it,\n"
"and the first schedule that does, to replay.  At most 5000 interleavings.\n"
"\n"
"  -b, --backend=file|shm   where the counter lives (default shm)\n"
"  -l, --lock[=KIND]        guard each update; without it, no lock\n"
"  -i, --incrementers=N     workers adding 1 (default 1)\n"
"  -d, --decrementers=N     workers subtracting 1 (default 1)\n"
"  -n, --iterations=N       updates per worker (default 2)\n"
"  -T, --threads            the workers are threads, not processes\n"
"  -f, --file=PATH          the file backend's counter (default: a temporary\n"
"                           file, removed at the end)\n"
"      --json               print the result as one JSON object\n"
"  -h, --help               print this help\n"
"\n"
"Exit status: 0 every interleaving ends exact, 1 some lose updates, 2 usage\n"
"error, 3 a run could not be done, 128+N signal N.\n";

static void
parse_explore(int argc, char **argv, struct explore *e)
{
	enum { OPT_JSON = 256 };
	static const struct option options[] = {
		{ "backend",		required_argument,	NULL, 'b' },
		{ "decrementers",	required_argument,	NULL, 'd' },
		{ "file",		required_argument,	NULL, 'f' },
		{ "help",		no_argument,		NULL, 'h' },
		{ "incrementers",	required_argument,	NULL, 'i' },
		{ "iterations",		required_argument,	NULL, 'n' },
		{ "json",		no_argument,		NULL, OPT_JSON },
		{ "lock",		optional_argument,	NULL, 'l' },
		{ "threads",		no_argument,		NULL, 'T' },
		{ NULL,			0,			NULL, 0 },
	};
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":b:d:f:hi:l:n:T", options,
	    NULL)) != -1) {
		switch (opt) {
		case 'b':
			e->backend = optarg;
			break;
		case 'd':
			e->run.decrementers = (unsigned)cli_count(
			    "decrementers", optarg, 0, MAX_WORKERS);
			break;
		case 'f':
			if (*optarg == '\0')
				cli_usage("--file: the path is empty");
			e->run.path = optarg;
			e->file_given = true;
			break;
		case 'h':
			fputs(explore_usage, stdout);
			cli_exit(EXIT_SUCCESS);
		case 'i':
			e->run.incrementers = (unsigned)cli_count(
			    "incrementers", optarg, 0, MAX_WORKERS);
			break;
		case 'l':
			if (optarg != NULL && *optarg == '\0')
				cli_usage("--lock: no kind named; --lock alone, "
				    "without '=', means the default kind");
			e->lock = optarg != NULL ? optarg : "";
			break;
		case 'n':
			e->run.iterations = cli_count("iterations", optarg, 1,
			    SCHEDULE_MAX_STEPS);
			break;
		case 'T':
			e->run.threads = true;
			break;
		case OPT_JSON:
			e->json = true;
			break;
		default:
			cli_bad_option(argv, opt, options);
		}
	}
	if (optind < argc)
		cli_usage("unexpected argument '%s'", argv[optind]);
}

/* The backend and kind, chosen as a single run chooses them. */
static void
check_explore(struct explore *e)
{
	struct run *run = &e->run;
	unsigned workers = run->incrementers + run->decrementers, i;
	uint64_t counts[MAX_WORKERS], total;

	if (e->backend != NULL)
		run->backend = cli_backend(e->backend);
	else if (e->file_given)
		run->backend = &file_backend;
	if (e->lock != NULL && *e->lock != '\0')
		run->kind = cli_kind(&run->backend, e->lock);
	if (run->backend == NULL)
		run->backend = backend_default;
	if (e->lock == NULL)
		run->kind = cli_kind(&run->backend, "none");
	else if (*e->lock == '\0')
		run->kind = &run->backend->kinds[0];
	if (e->file_given && run->backend != &file_backend)
		cli_usage("--file is for --backend=file; the %s backend "
		    "names its own object", run->backend->name);
	if (run->backend->no_steps != NULL)
		cli_usage("explore is not for --backend=%s: %s",
		    run->backend->name, run->backend->no_steps);
	if (workers == 0)
		cli_usage("no workers: --incrementers and --decrementers "
		    "are both 0");
	for (i = 0; i < workers; i++)
		counts[i] = 2 * run->iterations;
	if (!interleavings(counts, workers, &total))
		cli_usage("%u x %llu %s have more than 18446744073709551615 "
		    "interleavings; explore runs at most %d", workers,
		    (unsigned long long)run->iterations,
		    run->iterations == 1 ? "update" : "updates", EXPLORE_MAX);
	if (total > EXPLORE_MAX)
		cli_usage("%u x %llu %s have %llu interleavings; explore runs "
		    "at most %d", workers, (unsigned long long)run->iterations,
		    run->iterations == 1 ? "update" : "updates",
		    (unsigned long long)total, EXPLORE_MAX);
	if (2 * run->iterations * workers > SCHEDULE_MAX_STEPS)
		cli_usage("%u x %llu updates make %llu steps, more than the %d "
		    "a schedule holds", workers,
		    (unsigned long long)run->iterations,
		    (unsigned long long)(2 * run->iterations * workers),
		    SCHEDULE_MAX_STEPS);
}

/*
 * The next interleaving in lexical order, in place: false after the
 * last.  The rightmost worker number that a larger one follows is
 * swapped with the smallest larger one after it, and what follows is
 * put in increasing order.
 */
static bool
next_interleaving(uint32_t *order, size_t n)
{
	size_t i = n, j;
	uint32_t swap;

	while (i > 1 && order[i - 2] >= order[i - 1])
		i--;
	if (i <= 1)
		return false;
	for (j = n - 1; order[j] <= order[i - 2]; j--)
		;
	swap = order[i - 2];
	order[i - 2] = order[j];
	order[j] = swap;
	for (i--, j = n - 1; i < j; i++, j--) {
		swap = order[i];
		order[i] = order[j];
		order[j] = swap;
	}
	return true;
}

/* The interleaving as a schedule: each worker's steps read, then write. */
static int
as_schedule(const uint32_t *order, size_t n, unsigned workers,
    struct schedule *s)
{
	bool *reading;
	size_t i;

	free(s->text);
	s->text = NULL;
	if ((reading = calloc(workers, sizeof(*reading))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		s->steps[i].worker = order[i];
		s->steps[i].write = reading[order[i]];
		reading[order[i]] = !reading[order[i]];
	}
	free(reading);
	s->nsteps = n;
	return schedule_text(s);
}

static int
add_ending(struct tally *t, long long final, const char *schedule)
{
	struct ending *more;
	size_t i;

	for (i = 0; i < t->nendings; i++)
		if (t->endings[i].final == final) {
			t->endings[i].count++;
			return 0;
		}
	if ((more = realloc(t->endings, (t->nendings + 1) *
	    sizeof(*more))) == NULL)
		return -1;
	t->endings = more;
	more[t->nendings].final = final;
	more[t->nendings].count = 1;
	if ((more[t->nendings].schedule = strdup(schedule)) == NULL)
		return -1;
	t->nendings++;
	return 0;
}

static int
by_final(const void *a, const void *b)
{
	long long x = ((const struct ending *)a)->final;
	long long y = ((const struct ending *)b)->final;

	return x < y ? -1 : x > y;
}

static int
by_text(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t
distinct_orders(struct tally *t)
{
	size_t i, distinct = 0;

	qsort(t->orders, (size_t)t->runs, sizeof(*t->orders), by_text);
	for (i = 0; i < t->runs; i++)
		distinct += i == 0 || strcmp(t->orders[i - 1],
		    t->orders[i]) != 0;
	return distinct;
}

/*
 * Runs one interleaving and counts what it reached.  Returns 0, or the
 * status that ends explore, the reason told on stderr.
 */
static int
run_interleaving(struct explore *e, struct schedule *s, struct tally *t)
{
	uint64_t steps = 2 * e->run.iterations * (e->run.incrementers +
	    e->run.decrementers);
	const struct schedule_log *log;
	struct result r;
	char *ran;
	int status;

	status = run_once(&e->run, NULL, &r);
	if (r.message[0] != '\0')
		warnx("%s", r.message);
	if (!r.judged || status == EXIT_SYSTEM || status > 128) {
		run_free(&r);
		return status;
	}
	log = turnstile_log(r.out.turnstile);
	if (!r.verdict.final_known || log->steps != steps ||
	    (status != EXIT_CORRECT && status != EXIT_LOST)) {
		warnx("the run of --schedule='%s' did not take its %llu steps "
		    "(exit status %d)", s->text, (unsigned long long)steps,
		    status);
		run_free(&r);
		return EXIT_SYSTEM;
	}
	t->exact = r.verdict.expected;
	t->as_asked += log->nwaits == 0;
	if ((ran = malloc((size_t)steps * 12 + 1)) == NULL ||
	    add_ending(t, r.verdict.final, s->text) == -1) {
		free(ran);
		run_free(&r);
		err(EXIT_SYSTEM, "explore");
	}
	schedule_log_ran(log, ran, (size_t)steps * 12 + 1);
	t->orders[t->runs++] = ran;
	run_free(&r);
	return 0;
}

static int
explore_all(struct explore *e, uint64_t total, struct tally *t)
{
	unsigned workers = e->run.incrementers + e->run.decrementers, i;
	size_t n = (size_t)(2 * e->run.iterations * workers), at = 0;
	struct schedule s = { .nsteps = 0 };
	int64_t began = clock_ns();
	uint32_t *order;
	int status = 0;

	order = calloc(n, sizeof(*order));
	s.steps = calloc(n, sizeof(*s.steps));
	t->orders = calloc((size_t)total, sizeof(*t->orders));
	if (order == NULL || s.steps == NULL || t->orders == NULL)
		err(EXIT_SYSTEM, "explore");
	for (i = 0; i < workers; i++)
		while (at < (i + 1) * (n / workers))
			order[at++] = i;
	e->run.schedule = &s;
	do {
		if (as_schedule(order, n, workers, &s) == -1)
			err(EXIT_SYSTEM, "explore");
		if (!e->quiet_progress) {
			fprintf(stderr, "\r[%llu/%llu] %s\033[K",
			    (unsigned long long)t->runs + 1,
			    (unsigned long long)total, s.text);
			fflush(stderr);
		}
		status = run_interleaving(e, &s, t);
	} while (status == 0 && next_interleaving(order, n));
	if (!e->quiet_progress)
		fputs("\r\033[K", stderr);
	t->elapsed_ns = clock_ns() - began;
	e->run.schedule = NULL;
	schedule_free(&s);
	free(order);
	return status;
}

/* "9 at -2, 16 at -1 and 9 at 1": the endings but the exact one. */
static void
print_others(const struct tally *t)
{
	size_t i, left = 0;

	for (i = 0; i < t->nendings; i++)
		left += t->endings[i].final != t->exact;
	for (i = 0; i < t->nendings; i++) {
		if (t->endings[i].final == t->exact)
			continue;
		left--;
		printf("%llu at %lld%s", (unsigned long long)
		    t->endings[i].count, t->endings[i].final,
		    left == 0 ? "." : left == 1 ? " and " : ", ");
	}
}

static void
print_text(const struct explore *e, uint64_t total, struct tally *t,
    size_t orders)
{
	const struct run *run = &e->run;
	unsigned workers = run->incrementers + run->decrementers;
	const char *gap = kind_gap(run->kind, run);
	uint64_t exact = 0;
	char took[UNITS_LEN], each[UNITS_LEN];
	size_t i;

	for (i = 0; i < t->nendings; i++)
		if (t->endings[i].final == t->exact)
			exact = t->endings[i].count;
	printf("%s, %s: %u incrementer%s + %u decrementer%s x %llu %s, as "
	    "%s\n", run->backend->name, run->kind->words, run->incrementers,
	    run->incrementers == 1 ? "" : "s", run->decrementers,
	    run->decrementers == 1 ? "" : "s",
	    (unsigned long long)run->iterations,
	    run->iterations == 1 ? "update" : "updates",
	    run->threads ? "threads" : "processes");
	if (gap != NULL)
		printf("no exclusion: the %s belongs to %s: %s\n",
		    run->kind->words, run->kind->owner_words, gap);
	printf("Of the %llu interleaving%s of %u x %llu %s, ",
	    (unsigned long long)total, total == 1 ? "" : "s", workers,
	    (unsigned long long)run->iterations,
	    run->iterations == 1 ? "update" : "updates");
	if (exact == total)
		printf("%s at %lld, the exact count.\n", total == 1 ?
		    "it ends" : total == 2 ? "both end" : "all end", t->exact);
	else {
		if (exact == 0)
			printf("none ends at %lld, the exact count; ",
			    t->exact);
		else
			printf("%llu end%s at %lld, the exact count; ",
			    (unsigned long long)exact, exact == 1 ? "s" : "",
			    t->exact);
		print_others(t);
		putchar('\n');
	}
	if (kind_locks(run->kind) && t->as_asked == total)
		printf("The lock allowed every one of them as asked.\n");
	else if (kind_locks(run->kind))
		printf("The lock allowed %llu of them as asked; it made the "
		    "other %llu wait, and run in an order it allows: %zu "
		    "distinct %s ran.\n", (unsigned long long)t->as_asked,
		    (unsigned long long)(total - t->as_asked), orders,
		    orders == 1 ? "order" : "orders");
	printf("%7s  %13s  %s\n", "final", "interleavings",
	    "the first, to replay with --schedule");
	for (i = 0; i < t->nendings; i++)
		printf("%7lld  %13llu  %s\n", t->endings[i].final,
		    (unsigned long long)t->endings[i].count,
		    t->endings[i].schedule);
	printf("%llu runs in %s: %s a run\n", (unsigned long long)t->runs,
	    units_time(took, (double)t->elapsed_ns), units_time(each,
	    (double)t->elapsed_ns / (double)(t->runs ? t->runs : 1)));
}

static void
print_json(const struct explore *e, uint64_t total, const struct tally *t,
    size_t orders)
{
	const struct run *run = &e->run;
	size_t i;

	printf("{\"backend\":\"%s\",\"lock\":\"%s\",\"as\":\"%s\","
	    "\"excludes\":%s,\"incrementers\":%u,\"decrementers\":%u,"
	    "\"iterations\":%llu,\"exact\":%lld,\"interleavings\":%llu,"
	    "\"as_asked\":%llu,\"orders_ran\":%zu,\"outcomes\":[",
	    run->backend->name, run->kind->name,
	    run->threads ? "threads" : "processes",
	    kind_locks(run->kind) && kind_gap(run->kind, run) == NULL ?
	    "true" : "false", run->incrementers, run->decrementers,
	    (unsigned long long)run->iterations, t->exact,
	    (unsigned long long)total, (unsigned long long)t->as_asked,
	    orders);
	for (i = 0; i < t->nendings; i++)
		printf("%s{\"final\":%lld,\"interleavings\":%llu,"
		    "\"schedule\":\"%s\"}", i == 0 ? "" : ",",
		    t->endings[i].final,
		    (unsigned long long)t->endings[i].count,
		    t->endings[i].schedule);
	printf("],\"elapsed_s\":%.6f}\n", (double)t->elapsed_ns / 1e9);
}

/*
 * The file backend's counter when --file is not given: a directory of its
 * own in $TMPDIR or /tmp, removed at the end with what is in it.
 */
static int
scratch_make(char *dir, size_t size, char *path, size_t path_size)
{
	const char *tmpdir = getenv("TMPDIR");

	if (tmpdir == NULL || *tmpdir == '\0')
		tmpdir = "/tmp";
	if ((size_t)snprintf(dir, size, "%s/proccount-explore.XXXXXX",
	    tmpdir) >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, path_size, "%s/counter.txt", dir);
	return 0;
}

static void
scratch_remove(const char *dir)
{
	struct dirent *entry;
	DIR *d;

	if (*dir == '\0')
		return;
	if ((d = opendir(dir)) != NULL) {
		while ((entry = readdir(d)) != NULL)
			if (strcmp(entry->d_name, ".") != 0 &&
			    strcmp(entry->d_name, "..") != 0)
				unlinkat(dirfd(d), entry->d_name, 0);
		closedir(d);
	}
	rmdir(dir);
}

int
explore_main(int argc, char **argv)
{
	struct explore e = {
		.run = {
			.incrementers = 1,
			.decrementers = 1,
			.iterations = 2,
		},
	};
	char dir[PATH_MAX] = "", path[PATH_MAX + 16];
	struct tally t = { .nendings = 0 };
	uint64_t counts[MAX_WORKERS], total;
	unsigned workers, i;
	size_t orders;
	int status;

	parse_explore(argc, argv, &e);
	check_explore(&e);
	e.quiet_progress = !isatty(STDERR_FILENO);
	workers = e.run.incrementers + e.run.decrementers;
	for (i = 0; i < workers; i++)
		counts[i] = 2 * e.run.iterations;
	interleavings(counts, workers, &total);
	if (e.run.backend == &file_backend && e.run.path == NULL) {
		if (scratch_make(dir, sizeof(dir), path, sizeof(path)) == -1)
			err(EXIT_SYSTEM, "%s", dir);
		e.run.path = path;
	}
	status = explore_all(&e, total, &t);
	scratch_remove(dir);
	if (status != 0)
		goto out;
	orders = distinct_orders(&t);
	qsort(t.endings, t.nendings, sizeof(*t.endings), by_final);
	if (e.json)
		print_json(&e, total, &t, orders);
	else
		print_text(&e, total, &t, orders);
	status = t.nendings == 1 && t.endings[0].final == t.exact ?
	    EXIT_CORRECT : EXIT_LOST;
out:
	for (i = 0; i < t.nendings; i++)
		free(t.endings[i].schedule);
	free(t.endings);
	for (i = 0; i < t.runs; i++)
		free(t.orders[i]);
	free(t.orders);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		warn("stdout");
		return EXIT_SYSTEM;
	}
	return status;
}
