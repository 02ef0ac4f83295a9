/*
 * proccount bench: for each lock kind chosen and each worker count, timed
 * runs repeated --repeat times; the median run by ns/update gives the
 * row's figures, and one more run with --latency gives the lock kinds'
 * wait percentiles, since recording them slows the lock down.  Prints a
 * table, CSV or JSON, and writes an SVG chart with --plot.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "../parse.h"
#include "../run.h"
#include "matrix.h"
#include "plot.h"

#define MAX_REPEAT	100
#define MAX_KINDS	16
#define MAX_COUNTS	32
#define SECOND		1000000000ULL

enum format { TABLE, CSV, JSON };

struct bench {
	const struct counter_ops *backend;	/* NULL: as each kind says */
	struct {
		const struct counter_ops *backend;
		const char	*lock;
	}		 kinds[MAX_KINDS];
	size_t		 nkinds;
	unsigned	 counts[MAX_COUNTS];
	size_t		 ncounts;
	uint64_t	 duration_ns;
	unsigned	 repeat;
	enum format	 format;
	const char	*plot;
	const char	*path;
	bool		 quiet_progress;
};

static const char bench_usage[] =
"usage: proccount bench [-b file|shm] [--lock=kind[,kind...]] [--workers=n[,n...]]\n"
"                       [--duration=duration] [--repeat=n] [--format=table|csv|json]\n"
"                       [--plot=file.svg] [-f path]\n"
"\n"
"Timed runs of each lock kind at each worker count (half incrementers),\n"
"repeated; prints the median run's ns/update, updates/s, lock wait p50 and\n"
"p99 (from one more run with --latency), fairness, CPU, and exactness.\n"
"\n"
"  -b, --backend=file|shm   only this backend's kinds (default both)\n"
"  -l, --lock=KIND,...      these kinds (default all, none included)\n"
"  -w, --workers=N,...      worker counts (default 1,2,4,8)\n"
"  -t, --duration=DURATION  each run's length (default 1s)\n"
"  -r, --repeat=N           runs per row (default 3)\n"
"      --format=FORMAT      table (default), csv or json\n"
"      --plot=FILE.svg      also write a chart of ns/update\n"
"  -f, --file=PATH          the file backend's counter (default counter.txt)\n"
"  -h, --help               print this help\n";

static int __attribute__((format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s bench: ", program_invocation_short_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (try proccount bench --help)\n");
	return EXIT_USAGE;
}

static const struct counter_ops *const backends[] = {
	&file_backend, &shm_backend,
};

static int
add_kind(struct bench *b, const struct counter_ops *backend,
    const char *lock)
{
	size_t i;

	for (i = 0; i < b->nkinds; i++)
		if (b->kinds[i].backend == backend &&
		    strcmp(b->kinds[i].lock, lock) == 0)
			return 0;
	if (b->nkinds == MAX_KINDS)
		return usage_error("too many lock kinds");
	b->kinds[b->nkinds].backend = backend;
	b->kinds[b->nkinds].lock = lock;
	b->nkinds++;
	return 0;
}

/*
 * The kinds to run: those named, each on the backend that offers it (none
 * on both), or every kind of the chosen backends.
 */
static int
choose_kinds(struct bench *b, char *list)
{
	size_t i, j;
	char *kind, *rest = list;
	bool found;
	int status;

	for (i = 0; i < 2; i++)
		if (list == NULL && (b->backend == NULL ||
		    b->backend == backends[i]))
			for (j = 0; backends[i]->locks[j] != NULL; j++)
				if ((status = add_kind(b, backends[i],
				    backends[i]->locks[j])) != 0)
					return status;
	if (list == NULL)
		return 0;
	if (*list == '\0')
		return usage_error("--lock: no kind named");
	while ((kind = strsep(&rest, ",")) != NULL) {
		found = false;
		for (i = 0; i < 2; i++) {
			if (b->backend != NULL && b->backend != backends[i])
				continue;
			for (j = 0; backends[i]->locks[j] != NULL; j++) {
				if (strcmp(backends[i]->locks[j], kind) != 0)
					continue;
				found = true;
				if ((status = add_kind(b, backends[i],
				    backends[i]->locks[j])) != 0)
					return status;
			}
		}
		if (!found && b->backend != NULL)
			return usage_error("the %s backend has no lock kind "
			    "'%s'", b->backend->name, kind);
		if (!found)
			return usage_error("no backend has a lock kind '%s': "
			    "choose flock, fcntl, ofd, mutex, sem, spin, "
			    "atomic or none", kind);
	}
	return 0;
}

static int
by_number(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

static int
choose_counts(struct bench *b, char *list)
{
	const char *why;
	char *count, *rest = list;
	uint64_t value;
	size_t i;

	b->ncounts = 0;
	if (*list == '\0')
		return usage_error("--workers: no count given");
	while ((count = strsep(&rest, ",")) != NULL) {
		if (parse_count(count, MAX_WORKERS, &value, &why) == -1)
			return usage_error("--workers '%s': %s", count, why);
		if (value == 0)
			return usage_error("--workers '%s': must be at least 1",
			    count);
		for (i = 0; i < b->ncounts; i++)
			if (b->counts[i] == value)
				return usage_error("--workers: %s is listed "
				    "twice", count);
		if (b->ncounts == MAX_COUNTS)
			return usage_error("--workers: at most %d counts",
			    MAX_COUNTS);
		b->counts[b->ncounts++] = (unsigned)value;
	}
	qsort(b->counts, b->ncounts, sizeof(b->counts[0]), by_number);
	return 0;
}

static int
parse_bench(int argc, char **argv, struct bench *b)
{
	enum { OPT_FORMAT = 256, OPT_PLOT };
	static const struct option options[] = {
		{ "backend",	required_argument,	NULL, 'b' },
		{ "duration",	required_argument,	NULL, 't' },
		{ "file",	required_argument,	NULL, 'f' },
		{ "format",	required_argument,	NULL, OPT_FORMAT },
		{ "help",	no_argument,		NULL, 'h' },
		{ "lock",	required_argument,	NULL, 'l' },
		{ "plot",	required_argument,	NULL, OPT_PLOT },
		{ "repeat",	required_argument,	NULL, 'r' },
		{ "workers",	required_argument,	NULL, 'w' },
		{ NULL,		0,			NULL, 0 },
	};
	char workers[] = "1,2,4,8";
	char *locks = NULL, *counts = workers;
	const char *why;
	uint64_t value;
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":b:f:hl:r:t:w:", options,
	    NULL)) != -1) {
		switch (opt) {
		case 'b':
			if (strcmp(optarg, "file") == 0)
				b->backend = &file_backend;
			else if (strcmp(optarg, "shm") == 0)
				b->backend = &shm_backend;
			else
				return usage_error("unknown backend '%s': "
				    "choose file or shm", optarg);
			break;
		case 'f':
			if (*optarg == '\0')
				return usage_error("--file: the path is empty");
			b->path = optarg;
			break;
		case 'h':
			fputs(bench_usage, stdout);
			exit(EXIT_SUCCESS);
		case 'l':
			locks = optarg;
			break;
		case 'r':
			if (parse_count(optarg, MAX_REPEAT, &value, &why) == -1)
				return usage_error("--repeat '%s': %s", optarg,
				    why);
			if (value == 0)
				return usage_error("--repeat '%s': must be at "
				    "least 1", optarg);
			b->repeat = (unsigned)value;
			break;
		case 't':
			if (parse_duration(optarg, 3600 * SECOND, &value,
			    &why) == -1)
				return usage_error("--duration '%s': %s",
				    optarg, why);
			if (value == 0)
				return usage_error("--duration '%s': must be "
				    "more than zero", optarg);
			b->duration_ns = value;
			break;
		case 'w':
			counts = optarg;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "table") == 0)
				b->format = TABLE;
			else if (strcmp(optarg, "csv") == 0)
				b->format = CSV;
			else if (strcmp(optarg, "json") == 0)
				b->format = JSON;
			else
				return usage_error("unknown format '%s': "
				    "choose table, csv or json", optarg);
			break;
		case OPT_PLOT:
			if (*optarg == '\0')
				return usage_error("--plot: the path is empty");
			b->plot = optarg;
			break;
		case ':':
			return usage_error("option '%s' needs a value",
			    argv[optind - 1]);
		default:
			if (optopt != 0)
				return usage_error("unknown option '-%c'",
				    optopt);
			return usage_error("unknown option '%s'",
			    argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (b->path != NULL && b->backend == &shm_backend)
		return usage_error("--file is for the file backend");
	if (b->path == NULL)
		b->path = "counter.txt";
	if ((opt = choose_kinds(b, locks)) != 0)
		return opt;
	return choose_counts(b, counts);
}

/* One run's figures, to find the median run by speed. */
struct sample {
	double	ns_per_update;
	double	fairness;
	double	cpu_s;
};

static int
by_speed(const void *a, const void *b)
{
	double x = ((const struct sample *)a)->ns_per_update;
	double y = ((const struct sample *)b)->ns_per_update;

	return x < y ? -1 : x > y;
}

/* Where a terminal watches: which cell and run the bench is on. */
static void
show_cell(const struct bench *b, size_t at, size_t cells,
    const struct cell *c, const char *what)
{
	if (b->quiet_progress)
		return;
	fprintf(stderr, "\r[%zu/%zu] %s %s, %u %s: %s\033[K", at + 1, cells,
	    c->backend->name, c->lock, c->workers,
	    c->workers == 1 ? "worker" : "workers", what);
	fflush(stderr);
}

/* Runs once; returns 0, or the status of a run that could not be done. */
static int
run_cell(const struct run *run, struct result *r)
{
	int status = run_once(run, NULL, r);

	if (status == EXIT_SYSTEM || status > 128) {
		if (status == EXIT_SYSTEM)
			warnx("%s", r->message);
		run_free(r);
		return status;
	}
	return 0;
}

/*
 * Runs one cell: its timed runs, then for a lock kind one run with
 * --latency.  Returns 0, or the exit status of a run that could not be
 * done or was interrupted.
 */
static int
measure(const struct bench *b, struct cell *c, size_t at, size_t cells)
{
	struct run run = {
		.backend = c->backend,
		.lock = c->lock,
		.path = b->path,
		.incrementers = (c->workers + 1) / 2,
		.decrementers = c->workers / 2,
		.duration_ns = b->duration_ns,
	};
	struct sample samples[MAX_REPEAT] = { { 0, 0, 0 } };
	struct histogram wait, hold;
	struct result r;
	char what[32];
	unsigned i;
	int status;

	for (i = 0; i < b->repeat; i++) {
		snprintf(what, sizeof(what), "run %u of %u", i + 1, b->repeat);
		show_cell(b, at, cells, c, what);
		if ((status = run_cell(&run, &r)) != 0)
			return status;
		samples[i].ns_per_update = r.verdict.updates ?
		    (double)r.out.elapsed_ns / (double)r.verdict.updates : 0;
		samples[i].fairness = r.verdict.fairness;
		samples[i].cpu_s = r.verdict.user_s + r.verdict.system_s;
		c->runs++;
		c->exact_runs += r.verdict.correct;
		if (llabs(r.verdict.drift) > c->most_lost)
			c->most_lost = llabs(r.verdict.drift);
		run_free(&r);
	}
	qsort(samples, b->repeat, sizeof(samples[0]), by_speed);
	c->ns_per_update = samples[(b->repeat - 1) / 2].ns_per_update;
	c->fairness = samples[(b->repeat - 1) / 2].fairness;
	c->cpu_s = samples[(b->repeat - 1) / 2].cpu_s;
	c->updates_per_s = c->ns_per_update > 0 ? 1e9 / c->ns_per_update : 0;
	if (strcmp(c->lock, "none") == 0 || strcmp(c->lock, "atomic") == 0)
		return 0;
	show_cell(b, at, cells, c, "latency run");
	run.latency = true;
	if ((status = run_cell(&run, &r)) != 0)
		return status;
	merge_latency(&r.out, &wait, &hold);
	c->has_wait = true;
	c->wait_p50_ns = histogram_percentile(&wait, 0.50);
	c->wait_p99_ns = histogram_percentile(&wait, 0.99);
	run_free(&r);
	return 0;
}

static void
exactness(const struct cell *c, char *words, size_t size)
{
	if (c->exact_runs == c->runs)
		snprintf(words, size, "yes");
	else
		snprintf(words, size, "lost %lld", c->most_lost);
}

static void
print_table(const struct cell *cells, size_t n)
{
	char exact[32], p50[24], p99[24];
	size_t i;

	printf("%-7s %-7s %7s %11s %12s %9s %9s %8s %7s  %s\n", "backend",
	    "lock", "workers", "ns/update", "updates/s", "wait p50",
	    "wait p99", "fairness", "cpu s", "exact");
	for (i = 0; i < n; i++) {
		const struct cell *c = &cells[i];

		exactness(c, exact, sizeof(exact));
		snprintf(p50, sizeof(p50), c->has_wait ? "%llu" : "-",
		    (unsigned long long)c->wait_p50_ns);
		snprintf(p99, sizeof(p99), c->has_wait ? "%llu" : "-",
		    (unsigned long long)c->wait_p99_ns);
		printf("%-7s %-7s %7u %11.1f %12.0f %9s %9s %8.4f %7.2f  %s\n",
		    c->backend->name, c->lock, c->workers, c->ns_per_update,
		    c->updates_per_s, p50, p99, c->fairness, c->cpu_s, exact);
	}
}

static void
print_csv(const struct cell *cells, size_t n)
{
	size_t i;

	printf("backend,lock,workers,incrementers,decrementers,runs,"
	    "ns_per_update,updates_per_s,wait_p50_ns,wait_p99_ns,fairness,"
	    "cpu_s,exact_runs,most_lost\n");
	for (i = 0; i < n; i++) {
		const struct cell *c = &cells[i];

		printf("%s,%s,%u,%u,%u,%u,%.6f,%.0f,", c->backend->name,
		    c->lock, c->workers, (c->workers + 1) / 2, c->workers / 2,
		    c->runs, c->ns_per_update, c->updates_per_s);
		if (c->has_wait)
			printf("%llu,%llu,", (unsigned long long)c->wait_p50_ns,
			    (unsigned long long)c->wait_p99_ns);
		else
			printf(",,");
		printf("%.6f,%.3f,%u,%lld\n", c->fairness, c->cpu_s,
		    c->exact_runs, c->most_lost);
	}
}

static void
print_json(const struct bench *b, const struct cell *cells, size_t n)
{
	struct utsname host;
	size_t i;

	if (uname(&host) == -1)
		memset(&host, 0, sizeof(host));
	printf("{\"duration_s\":%.6f,\"repeat\":%u,\"machine\":{\"system\":"
	    "\"%s %s\",\"cpus\":%ld},\"cells\":[", (double)b->duration_ns /
	    1e9, b->repeat, host.sysname, host.release,
	    sysconf(_SC_NPROCESSORS_ONLN));
	for (i = 0; i < n; i++) {
		const struct cell *c = &cells[i];

		printf("%s{\"backend\":\"%s\",\"lock\":\"%s\",\"workers\":%u,"
		    "\"incrementers\":%u,\"decrementers\":%u,\"runs\":%u,"
		    "\"ns_per_update\":%.6f,\"updates_per_s\":%.0f,",
		    i ? "," : "", c->backend->name, c->lock, c->workers,
		    (c->workers + 1) / 2, c->workers / 2, c->runs,
		    c->ns_per_update, c->updates_per_s);
		if (c->has_wait)
			printf("\"wait_p50_ns\":%llu,\"wait_p99_ns\":%llu,",
			    (unsigned long long)c->wait_p50_ns,
			    (unsigned long long)c->wait_p99_ns);
		else
			printf("\"wait_p50_ns\":null,\"wait_p99_ns\":null,");
		printf("\"fairness\":%.6f,\"cpu_s\":%.3f,\"exact\":%s,"
		    "\"exact_runs\":%u,\"most_lost\":%lld}", c->fairness,
		    c->cpu_s, c->exact_runs == c->runs ? "true" : "false",
		    c->exact_runs, c->most_lost);
	}
	printf("]}\n");
}

int
bench_main(int argc, char **argv)
{
	struct bench b = {
		.duration_ns = SECOND,
		.repeat = 3,
	};
	struct cell *cells;
	size_t n, i, k, w;
	FILE *plot = NULL;
	int status = 0;

	if ((status = parse_bench(argc, argv, &b)) != 0)
		return status;
	b.quiet_progress = !isatty(STDERR_FILENO);
	n = b.nkinds * b.ncounts;
	if ((cells = calloc(n, sizeof(*cells))) == NULL)
		err(EXIT_SYSTEM, "bench");
	/* Open the chart first: a path that cannot be written fails now. */
	if (b.plot != NULL && (plot = fopen(b.plot, "w")) == NULL)
		err(EXIT_SYSTEM, "%s", b.plot);
	for (k = 0, i = 0; k < b.nkinds; k++)
		for (w = 0; w < b.ncounts; w++, i++) {
			cells[i].backend = b.kinds[k].backend;
			cells[i].lock = b.kinds[k].lock;
			cells[i].workers = b.counts[w];
		}
	for (i = 0; i < n && status == 0; i++)
		status = measure(&b, &cells[i], i, n);
	if (!b.quiet_progress)
		fputs("\r\033[K", stderr);
	if (status != 0) {
		if (plot != NULL) {
			fclose(plot);
			unlink(b.plot);
		}
		free(cells);
		return status;
	}
	if (b.format == TABLE)
		print_table(cells, n);
	else if (b.format == CSV)
		print_csv(cells, n);
	else
		print_json(&b, cells, n);
	if (plot != NULL) {
		plot_svg(plot, cells, n, b.counts, b.ncounts);
		if (fclose(plot) == EOF)
			err(EXIT_SYSTEM, "%s", b.plot);
	}
	free(cells);
	return EXIT_CORRECT;
}
