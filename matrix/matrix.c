/*
 * proccount bench: for each lock kind chosen, each way of running the
 * workers (processes, threads) and each worker count, timed runs repeated
 * --repeat times; the median run by ns/update gives the row's figures, and
 * one more run with --latency gives the lock kinds' wait percentiles,
 * since recording them slows the lock down.  Prints a table, CSV or JSON,
 * and writes an SVG chart with --plot.
 *
 * bench makes nothing in the user's directory but the chart it is asked
 * for, and removes nothing it did not make: the file backend's counter
 * lives in a private directory unless --file names one, and the chart is
 * renamed into place only once it is whole.
 */
#include <sys/stat.h>
#include <sys/utsname.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../cli.h"
#include "../report.h"
#include "../run.h"
#include "matrix.h"
#include "plot.h"

#define MAX_REPEAT	100
#define MAX_KINDS	16
#define MAX_COUNTS	32

enum format { TABLE, CSV, JSON };

struct bench {
	const struct backend *backend;	/* NULL: as each kind says */
	struct {
		const struct backend *backend;
		const struct lock_kind *kind;
	}		 kinds[MAX_KINDS];
	size_t		 nkinds;
	bool		 as_processes;
	bool		 as_threads;
	unsigned	 counts[MAX_COUNTS];
	size_t		 ncounts;
	uint64_t	 duration_ns;
	unsigned	 repeat;
	enum format	 format;
	const char	*plot;
	const char	*path;		/* --file, or the private counter */
	enum pin	 pin;
	bool		 quiet_progress;
};

/*
 * The chart being written.  A path that names a regular file, or nothing
 * yet, gets a temporary file beside it (beside the file a symbolic link
 * points to), renamed onto it once the chart is whole, so that the file
 * there before stays as it was unless the bench succeeds.  A path that
 * names something else, such as /dev/null or a FIFO, is written to
 * directly, and never removed.
 */
struct chart {
	FILE	*to;
	char	 target[PATH_MAX];	/* what the rename replaces */
	char	 temporary[PATH_MAX];	/* "" when written directly */
};

/*
 * The file backend's counter when --file is not given: a directory of its
 * own in $TMPDIR or /tmp, removed at the end.
 */
struct private_counter {
	char	 dir[PATH_MAX];		/* "" if none was made */
	char	 path[PATH_MAX + sizeof("/counter.txt")];
};

static const char bench_usage[] =
"usage: proccount bench [-b file|shm] [--lock=kind[,kind...]] [--workers=n[,n...]]\n"
"                       [--duration=duration] [--repeat=n] [--as=processes,threads]\n"
"                       [--format=table|csv|json] [--pin=spread|none]\n"
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
"      --as=processes,threads  what the workers are (default processes)\n"
"      --format=FORMAT      table (default), csv or json\n"
"      --pin=spread|none    worker k on the k-th CPU, or where the scheduler\n"
"                           puts it (default none)\n"
"      --plot=FILE.svg      also write a chart of ns/update\n"
"  -f, --file=PATH          the file backend's counter (default: a temporary\n"
"                           file, removed at the end)\n"
"  -h, --help               print this help\n";

static void
add_kind(struct bench *b, const struct backend *backend,
    const struct lock_kind *kind)
{
	size_t i;

	for (i = 0; i < b->nkinds; i++)
		if (b->kinds[i].kind == kind)
			return;
	if (b->nkinds == MAX_KINDS)
		cli_usage("too many lock kinds");
	b->kinds[b->nkinds].backend = backend;
	b->kinds[b->nkinds].kind = kind;
	b->nkinds++;
}

/*
 * The kinds to run: those named, each on the backend that offers it (a
 * kind that several offer, such as none, on each of them), or every kind
 * of the chosen backends.
 */
static void
choose_kinds(struct bench *b, char *list)
{
	const struct lock_kind *kind;
	const struct backend *backend;
	char *name, *rest = list;
	bool found;
	size_t i;

	for (i = 0; list == NULL && backends[i] != NULL; i++)
		if (b->backend == NULL || b->backend == backends[i])
			for (kind = backends[i]->kinds; kind->name != NULL;
			    kind++)
				add_kind(b, backends[i], kind);
	if (list == NULL)
		return;
	if (*list == '\0')
		cli_usage("--lock: no kind named");
	while ((name = strsep(&rest, ",")) != NULL) {
		found = false;
		for (i = 0; backends[i] != NULL; i++) {
			if (b->backend != NULL && b->backend != backends[i])
				continue;
			if ((kind = kind_named(backends[i], name)) != NULL) {
				add_kind(b, backends[i], kind);
				found = true;
			}
		}
		if (!found) {
			/* Complains in the words of a single run. */
			backend = b->backend;
			cli_kind(&backend, name);
		}
	}
}

static int
by_number(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

static void
choose_counts(struct bench *b, char *list)
{
	char *count, *rest = list;
	uint64_t value;
	size_t i;

	b->ncounts = 0;
	if (*list == '\0')
		cli_usage("--workers: no count given");
	while ((count = strsep(&rest, ",")) != NULL) {
		value = cli_count("workers", count, 1, MAX_WORKERS);
		for (i = 0; i < b->ncounts; i++)
			if (b->counts[i] == value)
				cli_usage("--workers: %s is listed twice",
				    count);
		if (b->ncounts == MAX_COUNTS)
			cli_usage("--workers: at most %d counts", MAX_COUNTS);
		b->counts[b->ncounts++] = (unsigned)value;
	}
	qsort(b->counts, b->ncounts, sizeof(b->counts[0]), by_number);
}

static void
parse_bench(int argc, char **argv, struct bench *b)
{
	enum { OPT_AS = 256, OPT_FORMAT, OPT_PIN, OPT_PLOT };
	static const struct option options[] = {
		{ "as",		required_argument,	NULL, OPT_AS },
		{ "backend",	required_argument,	NULL, 'b' },
		{ "duration",	required_argument,	NULL, 't' },
		{ "file",	required_argument,	NULL, 'f' },
		{ "format",	required_argument,	NULL, OPT_FORMAT },
		{ "help",	no_argument,		NULL, 'h' },
		{ "lock",	required_argument,	NULL, 'l' },
		{ "pin",	required_argument,	NULL, OPT_PIN },
		{ "plot",	required_argument,	NULL, OPT_PLOT },
		{ "repeat",	required_argument,	NULL, 'r' },
		{ "workers",	required_argument,	NULL, 'w' },
		{ NULL,		0,			NULL, 0 },
	};
	char workers[] = "1,2,4,8";
	char *locks = NULL, *counts = workers;
	int opt;

	optind = 1;
	opterr = 0;
	b->as_processes = true;
	while ((opt = getopt_long(argc, argv, ":b:f:hl:r:t:w:", options,
	    NULL)) != -1) {
		switch (opt) {
		case 'b':
			b->backend = cli_backend(optarg);
			break;
		case 'f':
			if (*optarg == '\0')
				cli_usage("--file: the path is empty");
			b->path = optarg;
			break;
		case 'h':
			fputs(bench_usage, stdout);
			exit(EXIT_SUCCESS);
		case 'l':
			locks = optarg;
			break;
		case 'r':
			b->repeat = (unsigned)cli_count("repeat", optarg, 1,
			    MAX_REPEAT);
			break;
		case 't':
			b->duration_ns = cli_duration("duration", optarg,
			    3600 * SECOND, false);
			break;
		case 'w':
			counts = optarg;
			break;
		case OPT_AS:
			cli_as(optarg, &b->as_processes, &b->as_threads);
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "table") == 0)
				b->format = TABLE;
			else if (strcmp(optarg, "csv") == 0)
				b->format = CSV;
			else if (strcmp(optarg, "json") == 0)
				b->format = JSON;
			else
				cli_usage("unknown format '%s': choose table, "
				    "csv or json", optarg);
			break;
		case OPT_PIN:
			b->pin = cli_pin(optarg);
			break;
		case OPT_PLOT:
			if (*optarg == '\0')
				cli_usage("--plot: the path is empty");
			b->plot = optarg;
			break;
		default:
			cli_bad_option(argv, opt, options);
		}
	}
	if (optind < argc)
		cli_usage("unexpected argument '%s'", argv[optind]);
	if (b->path != NULL && b->backend != NULL && !b->backend->shares_fd)
		cli_usage("--file is for the file backend");
	choose_kinds(b, locks);
	choose_counts(b, counts);
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
	fprintf(stderr, "\r[%zu/%zu] %s %s, %u %s: %s\033[K", at + 1,
	    cells, c->backend->name, c->kind->name, c->workers,
	    c->threads ? (c->workers == 1 ? "thread" : "threads") :
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
		.kind = c->kind,
		.threads = c->threads,
		.path = b->path,
		.incrementers = (c->workers + 1) / 2,
		.decrementers = c->workers / 2,
		.duration_ns = b->duration_ns,
		.pin = b->pin,
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
	if (!kind_locks(c->kind))
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

static const char *
cell_as(const struct cell *c)
{
	return c->threads ? "threads" : "processes";
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

	printf("%-7s %-7s %-9s %7s %11s %12s %9s %9s %8s %7s  %s\n",
	    "backend", "lock", "as", "workers", "ns/update", "updates/s",
	    "wait p50",
	    "wait p99", "fairness", "cpu s", "exact");
	for (i = 0; i < n; i++) {
		const struct cell *c = &cells[i];

		exactness(c, exact, sizeof(exact));
		snprintf(p50, sizeof(p50), c->has_wait ? "%llu" : "-",
		    (unsigned long long)c->wait_p50_ns);
		snprintf(p99, sizeof(p99), c->has_wait ? "%llu" : "-",
		    (unsigned long long)c->wait_p99_ns);
		printf("%-7s %-7s %-9s %7u %11.1f %12.0f %9s %9s %8.4f %7.2f  "
		    "%s\n", c->backend->name, c->kind->name, cell_as(c),
		    c->workers, c->ns_per_update,
		    c->updates_per_s, p50, p99, c->fairness, c->cpu_s, exact);
	}
}

static void
print_csv(const struct cell *cells, size_t n)
{
	size_t i;

	printf("backend,lock,as,workers,incrementers,decrementers,runs,"
	    "ns_per_update,updates_per_s,wait_p50_ns,wait_p99_ns,fairness,"
	    "cpu_s,exact_runs,most_lost\n");
	for (i = 0; i < n; i++) {
		const struct cell *c = &cells[i];

		printf("%s,%s,%s,%u,%u,%u,%u,%.6f,%.0f,", c->backend->name,
		    c->kind->name, cell_as(c), c->workers,
		    (c->workers + 1) / 2, c->workers / 2,
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
	printf("{\"duration_s\":%.6f,\"repeat\":%u,\"pin\":\"%s\","
	    "\"machine\":{\"system\":\"%s %s\",\"cpus\":%ld},\"cells\":[",
	    (double)b->duration_ns / 1e9, b->repeat,
	    b->pin == PIN_SPREAD ? "spread" : "none", host.sysname,
	    host.release, sysconf(_SC_NPROCESSORS_ONLN));
	for (i = 0; i < n; i++) {
		const struct cell *c = &cells[i];

		printf("%s{\"backend\":\"%s\",\"lock\":\"%s\",\"as\":\"%s\","
		    "\"workers\":%u,\"incrementers\":%u,\"decrementers\":%u,"
		    "\"runs\":%u,\"ns_per_update\":%.6f,"
		    "\"updates_per_s\":%.0f,", i ? "," : "", c->backend->name,
		    c->kind->name, cell_as(c), c->workers,
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

/* Opens the chart's temporary file, or the chart itself; see struct chart. */
static int
chart_open(struct chart *chart, const char *path)
{
	struct stat st;
	mode_t mode, mask;
	int fd, saved;
	size_t len;

	chart->temporary[0] = '\0';
	if (stat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode)) {
			/* Written as it is: no O_CREAT, no rename, no unlink. */
			if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
				return -1;
			goto opened;
		}
		if (realpath(path, chart->target) == NULL)
			return -1;
		mode = st.st_mode & 07777;
	} else {
		len = strlen(path);
		if (len >= sizeof(chart->target)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(chart->target, path, len + 1);
		/* What a new file would get from fopen. */
		mask = umask(0);
		umask(mask);
		mode = 0666 & ~mask;
	}
	if ((size_t)snprintf(chart->temporary, sizeof(chart->temporary),
	    "%s.XXXXXX", chart->target) >= sizeof(chart->temporary)) {
		chart->temporary[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = mkostemp(chart->temporary, O_CLOEXEC)) == -1) {
		chart->temporary[0] = '\0';
		return -1;
	}
	if (fchmod(fd, mode) == -1)
		goto fail;
opened:
	if ((chart->to = fdopen(fd, "w")) != NULL)
		return 0;
fail:
	saved = errno;
	close(fd);
	if (chart->temporary[0] != '\0')
		unlink(chart->temporary);
	chart->temporary[0] = '\0';
	errno = saved;
	return -1;
}

/* Ends the chart whole: the temporary file takes the chart's name. */
static int
chart_commit(struct chart *chart)
{
	int saved;

	if (fclose(chart->to) == EOF)
		goto fail;
	chart->to = NULL;
	if (chart->temporary[0] == '\0' ||
	    rename(chart->temporary, chart->target) == 0)
		return 0;
fail:
	saved = errno;
	if (chart->temporary[0] != '\0')
		unlink(chart->temporary);
	errno = saved;
	return -1;
}

/* Ends the chart unwritten: only the temporary file goes. */
static void
chart_abandon(struct chart *chart)
{
	fclose(chart->to);
	if (chart->temporary[0] != '\0')
		unlink(chart->temporary);
}

static bool
uses_file_backend(const struct bench *b)
{
	size_t i;

	for (i = 0; i < b->nkinds; i++)
		if (b->kinds[i].backend == &file_backend)
			return true;
	return false;
}

static int
private_counter_make(struct private_counter *pc)
{
	const char *tmpdir = getenv("TMPDIR");

	if (tmpdir == NULL || *tmpdir == '\0')
		tmpdir = "/tmp";
	if ((size_t)snprintf(pc->dir, sizeof(pc->dir),
	    "%s/proccount-bench.XXXXXX", tmpdir) >= sizeof(pc->dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (mkdtemp(pc->dir) == NULL) {
		/* The name to complain about, whatever mkdtemp left in it. */
		snprintf(pc->dir, sizeof(pc->dir), "%s/proccount-bench.XXXXXX",
		    tmpdir);
		return -1;
	}
	snprintf(pc->path, sizeof(pc->path), "%s/counter.txt", pc->dir);
	return 0;
}

/* Removes the private directory and whatever the runs made in it. */
static void
private_counter_remove(struct private_counter *pc)
{
	struct dirent *entry;
	DIR *dir;

	if (pc->dir[0] == '\0')
		return;
	if ((dir = opendir(pc->dir)) != NULL) {
		while ((entry = readdir(dir)) != NULL)
			if (strcmp(entry->d_name, ".") != 0 &&
			    strcmp(entry->d_name, "..") != 0)
				unlinkat(dirfd(dir), entry->d_name, 0);
		closedir(dir);
	}
	rmdir(pc->dir);
	pc->dir[0] = '\0';
}

int
bench_main(int argc, char **argv)
{
	struct bench b = {
		.duration_ns = SECOND,
		.repeat = 3,
	};
	struct private_counter counter = { .dir = "" };
	struct chart chart = { .to = NULL };
	struct cell *cells;
	size_t n, i, k, a, w;
	int status = 0, saved;

	parse_bench(argc, argv, &b);
	b.quiet_progress = !isatty(STDERR_FILENO);
	n = b.nkinds * b.ncounts * (b.as_processes + b.as_threads);
	if ((cells = calloc(n, sizeof(*cells))) == NULL)
		err(EXIT_SYSTEM, "bench");
	/* Open the chart first: a path that cannot be written fails now. */
	if (b.plot != NULL && chart_open(&chart, b.plot) == -1)
		err(EXIT_SYSTEM, "%s", b.plot);
	if (b.path == NULL && uses_file_backend(&b)) {
		if (private_counter_make(&counter) == -1) {
			saved = errno;
			if (chart.to != NULL)
				chart_abandon(&chart);
			errno = saved;
			err(EXIT_SYSTEM, "%s", counter.dir);
		}
		b.path = counter.path;
	}
	/* A kind's cells: by processes, then threads, then by count. */
	for (k = 0, i = 0; k < b.nkinds; k++)
		for (a = 0; a < 2; a++)
			for (w = 0; w < b.ncounts &&
			    (a == 0 ? b.as_processes : b.as_threads); w++, i++) {
				cells[i].backend = b.kinds[k].backend;
				cells[i].kind = b.kinds[k].kind;
				cells[i].threads = a == 1;
				cells[i].workers = b.counts[w];
			}
	for (i = 0; i < n && status == 0; i++)
		status = measure(&b, &cells[i], i, n);
	if (!b.quiet_progress)
		fputs("\r\033[K", stderr);
	private_counter_remove(&counter);
	if (status != 0) {
		if (chart.to != NULL)
			chart_abandon(&chart);
		goto out;
	}
	if (b.format == TABLE)
		print_table(cells, n);
	else if (b.format == CSV)
		print_csv(cells, n);
	else
		print_json(&b, cells, n);
	if (chart.to != NULL) {
		plot_svg(chart.to, cells, n, b.counts, b.ncounts);
		if (chart_commit(&chart) == -1) {
			warn("%s", b.plot);
			status = EXIT_SYSTEM;
		}
	}
out:
	free(cells);
	return status;
}
