/*
 * proccount bench: for each lock kind chosen, each way of running the
 * workers (processes, threads) and each worker count, timed runs repeated
 * --repeat times; the median run by ns/update gives the row's figures, and
 * one more run with --latency gives the lock kinds' wait percentiles,
 * since recording them slows the lock down; the fastest and the slowest
 * runs give the spread.  Prints a table, CSV or JSON, and writes an SVG
 * chart with --plot.  Each says what was measured on what: the CPU, the
 * CPUs the bench may use, the kernel, the counter's filesystem, the runs.
 *
 * A table or CSV row is printed as soon as its cell is measured, so that
 * an interrupted bench still shows what it measured; JSON, one object, is
 * printed at the end, of the cells measured, and says whether that is all.
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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../cli.h"
#include "../report.h"
#include "../run.h"
#include "../units.h"
#include "machine.h"
#include "matrix.h"
#include "plot.h"

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
	struct machine	 machine;
	char		 warning[512];	/* "" or what makes rows doubtful */
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
"usage: proccount bench [-b file|shm|server|pg] [--lock=kind[,kind...]]\n"
"                       [--workers=n[,n...]] [--duration=duration] [--repeat=n]\n"
"                       [--as=processes,threads]\n"
"                       [--json | --format=table|csv|json] [--pin=spread|none]\n"
"                       [--plot=file.svg] [-f path]\n"
"\n"
"Timed runs of each lock kind at each worker count (half incrementers),\n"
"repeated; prints each row as it is measured: the median run's time per\n"
"update and the fastest and slowest runs', updates/s, lock wait p50 and p99\n"
"(from one more run with --latency), fairness, CPU time, and exactness.\n"
"\n"
"  -b, --backend=file|shm|server|pg  only this backend's kinds (default\n"
"                           file and shm; server and pg only if named,\n"
"                           or if a kind only they offer is)\n"
"  -l, --lock=KIND,...      these kinds (default all, none included)\n"
"  -w, --workers=N,...      worker counts (default 1,2,4,8)\n"
"  -t, --duration=DURATION  each run's length (default 1s)\n"
"  -r, --repeat=N           runs per row (default 3)\n"
"      --as=processes,threads  what the workers are (default processes)\n"
"      --format=FORMAT      table (default), csv or json\n"
"      --json               the same as --format=json\n"
"      --pin=spread|none    worker k on the k-th CPU (default), or where the\n"
"                           scheduler puts it\n"
"      --plot=FILE.svg      also write a chart of the time per update\n"
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
 * of the chosen backends.  A backend run on request, which starts a
 * server, takes part only when -b names it or only it offers a kind.
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
		if (b->backend == backends[i] || (b->backend == NULL &&
		    !backends[i]->on_request))
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
			if (b->backend == NULL && backends[i]->on_request)
				continue;
			if ((kind = kind_named(backends[i], name)) != NULL) {
				add_kind(b, backends[i], kind);
				found = true;
			}
		}
		/* A kind that only a backend run on request offers. */
		for (i = 0; !found && b->backend == NULL &&
		    backends[i] != NULL; i++)
			if (backends[i]->on_request &&
			    (kind = kind_named(backends[i], name)) != NULL) {
				add_kind(b, backends[i], kind);
				found = true;
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
	enum { OPT_AS = 256, OPT_FORMAT, OPT_JSON, OPT_PIN, OPT_PLOT };
	static const struct option options[] = {
		{ "as",		required_argument,	NULL, OPT_AS },
		{ "backend",	required_argument,	NULL, 'b' },
		{ "duration",	required_argument,	NULL, 't' },
		{ "file",	required_argument,	NULL, 'f' },
		{ "format",	required_argument,	NULL, OPT_FORMAT },
		{ "help",	no_argument,		NULL, 'h' },
		{ "json",	no_argument,		NULL, OPT_JSON },
		{ "lock",	required_argument,	NULL, 'l' },
		{ "pin",	required_argument,	NULL, OPT_PIN },
		{ "plot",	required_argument,	NULL, OPT_PLOT },
		{ "repeat",	required_argument,	NULL, 'r' },
		{ "workers",	required_argument,	NULL, 'w' },
		{ NULL,		0,			NULL, 0 },
	};
	char workers[] = "1,2,4,8";
	char *locks = NULL, *counts = workers;
	const char *format = NULL;
	bool json = false;
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
			cli_exit(EXIT_SUCCESS);
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
			format = optarg;
			break;
		case OPT_JSON:
			json = true;
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
	if (format == NULL || strcmp(format, "json") == 0)
		b->format = format != NULL || json ? JSON : TABLE;
	else if (strcmp(format, "table") == 0)
		b->format = TABLE;
	else if (strcmp(format, "csv") == 0)
		b->format = CSV;
	else
		cli_usage("unknown format '%s': choose table, csv or json",
		    format);
	if (json && b->format != JSON)
		cli_usage("--json and --format=%s: choose one", format);
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
	c->ns_min = samples[0].ns_per_update;
	c->ns_max = samples[b->repeat - 1].ns_per_update;
	for (i = 0; i < b->repeat; i++)
		c->run_ns[i] = samples[i].ns_per_update;
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

/* What the workers are, as --as would name them. */
static const char *
bench_as(const struct bench *b)
{
	if (b->as_processes && b->as_threads)
		return "processes,threads";
	return b->as_threads ? "threads" : "processes";
}

/*
 * Writes s as a JSON string, as the single run's report does, or null when
 * there is nothing: the CPU's name is whatever the kernel said.
 */
static void
json_text(const char *s)
{
	if (s == NULL || *s == '\0')
		fputs("null", stdout);
	else
		json_string(stdout, s);
}

/*
 * The CSV's leading comment lines, "# key: value", named as the JSON names
 * them; a reader skips the lines that begin with '#'.
 */
static void
print_csv_setup(const struct bench *b)
{
	const struct machine *m = &b->machine;

	printf("# proccount bench\n");
	printf("# cpu_model: %s\n", *m->cpu_model ? m->cpu_model : "unknown");
	printf("# cpus: %ld\n# cpus_allowed: %ld\n", m->cpus_online,
	    m->cpus_allowed);
	printf("# system: %s %s\n# kernel: %s\n# arch: %s\n",
	    m->host.sysname, m->host.release, m->host.release,
	    m->host.machine);
	if (m->has_counter && m->fs_known)
		printf("# counter_fs: %s\n# counter_fs_magic: %#lx\n",
		    *m->fs_type ? m->fs_type : "unknown", m->fs_magic);
	else if (m->has_counter)
		printf("# counter_fs: unknown\n# counter_fs_magic: unknown\n");
	printf("# duration_s: %.6f\n# repeat: %u\n# as: %s\n",
	    (double)b->duration_ns / 1e9, b->repeat, bench_as(b));
	if (*b->warning != '\0')
		printf("# warning: %s\n", b->warning);
}

/* What comes before the first row: the table's header, or CSV's. */
static void
print_header(const struct bench *b)
{
	if (b->format == TABLE)
		printf("%-7s %-7s %-9s %7s %11s %9s %9s %12s %9s %9s %9s %9s  "
		    "%s\n", "backend", "lock", "as", "workers", "per update",
		    "min", "max", "updates/s", "wait p50", "wait p99",
		    "fairness", "cpu time", "exact");
	else if (b->format == CSV) {
		print_csv_setup(b);
		printf("backend,lock,as,workers,incrementers,decrementers,runs,"
		    "ns_per_update,updates_per_s,wait_p50_ns,wait_p99_ns,"
		    "fairness,cpu_s,exact_runs,most_lost,ns_per_update_min,"
		    "ns_per_update_max\n");
	}
	fflush(stdout);
}

static void
print_table_row(const struct cell *c)
{
	char exact[32], p50[UNITS_LEN], p99[UNITS_LEN], median[UNITS_LEN];
	char fastest[UNITS_LEN], slowest[UNITS_LEN], cpu[UNITS_LEN];

	exactness(c, exact, sizeof(exact));
	if (c->has_wait) {
		units_time(p50, (double)c->wait_p50_ns);
		units_time(p99, (double)c->wait_p99_ns);
	} else {
		snprintf(p50, sizeof(p50), "-");
		snprintf(p99, sizeof(p99), "-");
	}
	printf("%-7s %-7s %-9s %7u %11s %9s %9s %12.0f %9s %9s %9.4f %9s  "
	    "%s\n", c->backend->name, c->kind->name, cell_as(c), c->workers,
	    units_time(median, c->ns_per_update),
	    units_time(fastest, c->ns_min), units_time(slowest, c->ns_max),
	    c->updates_per_s, p50, p99, c->fairness,
	    units_time(cpu, c->cpu_s * 1e9), exact);
}

static void
print_csv_row(const struct cell *c)
{
	printf("%s,%s,%s,%u,%u,%u,%u,%.6f,%.0f,", c->backend->name,
	    c->kind->name, cell_as(c), c->workers, (c->workers + 1) / 2,
	    c->workers / 2, c->runs, c->ns_per_update, c->updates_per_s);
	if (c->has_wait)
		printf("%llu,%llu,", (unsigned long long)c->wait_p50_ns,
		    (unsigned long long)c->wait_p99_ns);
	else
		printf(",,");
	printf("%.6f,%.3f,%u,%lld,%.6f,%.6f\n", c->fairness, c->cpu_s,
	    c->exact_runs, c->most_lost, c->ns_min, c->ns_max);
}

/* A cell just measured: its row now, whole, for whoever is reading. */
static void
print_row(const struct bench *b, const struct cell *c)
{
	if (!b->quiet_progress)
		fputs("\r\033[K", stderr);
	if (b->format == TABLE)
		print_table_row(c);
	else if (b->format == CSV)
		print_csv_row(c);
	fflush(stdout);
}

/*
 * The JSON of the n cells measured, printed at the end whatever the end:
 * "complete" says whether they are all, and "interrupted" names the
 * signal that stopped the bench, "" if none did.
 */
static void
print_json(const struct bench *b, const struct cell *cells, size_t n,
    bool complete, const char *interrupted)
{
	const struct machine *m = &b->machine;
	char system[sizeof(m->host.sysname) + sizeof(m->host.release)];
	unsigned r;
	size_t i;

	printf("{\"complete\":%s,\"interrupted\":", complete ? "true" :
	    "false");
	json_text(interrupted);
	printf(",\"duration_s\":%.6f,\"repeat\":%u,\"pin\":\"%s\","
	    "\"as\":[%s%s%s],", (double)b->duration_ns / 1e9, b->repeat,
	    b->pin == PIN_SPREAD ? "spread" : "none",
	    b->as_processes ? "\"processes\"" : "",
	    b->as_processes && b->as_threads ? "," : "",
	    b->as_threads ? "\"threads\"" : "");
	snprintf(system, sizeof(system), "%s %s", m->host.sysname,
	    m->host.release);
	printf("\"machine\":{\"cpu_model\":");
	json_text(m->cpu_model);
	printf(",\"cpus\":%ld,\"cpus_allowed\":%ld,\"system\":",
	    m->cpus_online, m->cpus_allowed);
	json_text(system);
	printf(",\"kernel\":");
	json_text(m->host.release);
	printf(",\"arch\":");
	json_text(m->host.machine);
	printf("},\"counter_fs\":");
	if (!m->has_counter)
		printf("null");
	else {
		printf("{\"type\":");
		json_text(m->fs_type);
		if (m->fs_known)
			printf(",\"magic\":\"%#lx\"}", m->fs_magic);
		else
			printf(",\"magic\":null}");
	}
	printf(",\"warnings\":[");
	if (*b->warning != '\0')
		json_text(b->warning);
	printf("],\"cells\":[");
	for (i = 0; i < n; i++) {
		const struct cell *c = &cells[i];

		printf("%s{\"backend\":\"%s\",\"lock\":\"%s\",\"as\":\"%s\","
		    "\"workers\":%u,\"incrementers\":%u,\"decrementers\":%u,"
		    "\"runs\":%u,\"ns_per_update\":%.6f,"
		    "\"ns_per_update_min\":%.6f,\"ns_per_update_max\":%.6f,"
		    "\"updates_per_s\":%.0f,", i ? "," : "", c->backend->name,
		    c->kind->name, cell_as(c), c->workers,
		    (c->workers + 1) / 2, c->workers / 2, c->runs,
		    c->ns_per_update, c->ns_min, c->ns_max, c->updates_per_s);
		printf("\"runs_ns_per_update\":[");
		for (r = 0; r < c->runs; r++)
			printf("%s%.6f", r ? "," : "", c->run_ns[r]);
		printf("],");
		if (c->has_wait)
			printf("\"wait_p50_ns\":%llu,\"wait_p99_ns\":%llu,",
			    (unsigned long long)c->wait_p50_ns,
			    (unsigned long long)c->wait_p99_ns);
		else
			printf("\"wait_p50_ns\":null,\"wait_p99_ns\":null,");
		printf("\"fairness\":%.6f,\"cpu_s\":%.3f,\"exact\":%s,"
		    "\"exact_runs\":%u,\"most_lost\":%lld,"
		    "\"oversubscribed\":%s}", c->fairness, c->cpu_s,
		    c->exact_runs == c->runs ? "true" : "false",
		    c->exact_runs, c->most_lost,
		    c->oversubscribed ? "true" : "false");
	}
	printf("]}\n");
	fflush(stdout);
}

/*
 * The warning for worker counts above the CPUs the bench may run on: such
 * workers take turns, and their rows time the scheduler as well as the
 * lock.  Leaves b->warning "" when there is none.
 */
static void
oversubscription(struct bench *b)
{
	size_t i, over = 0, len = 0;
	long cpus = b->machine.cpus_allowed;

	b->warning[0] = '\0';
	if (cpus <= 0)
		return;
	for (i = 0; i < b->ncounts; i++)
		if (b->counts[i] > (unsigned long)cpus)
			over++;
	for (i = 0; i < b->ncounts && over > 0; i++) {
		if (b->counts[i] <= (unsigned long)cpus)
			continue;
		len += snprintf(b->warning + len, sizeof(b->warning) - len,
		    "%u%s", b->counts[i], over == 1 ? "" : over == 2 ?
		    " and " : ", ");
		over--;
		if (len >= sizeof(b->warning))
			len = sizeof(b->warning) - 1;
	}
	if (len == 0)
		return;
	snprintf(b->warning + len, sizeof(b->warning) - len, " workers "
	    "outnumber the %ld CPU%s this process may run on: they take "
	    "turns, so those rows time the scheduler too", cpus,
	    cpus == 1 ? "" : "s");
}

/*
 * The chart's caption, two lines: what it was measured on, and how.  The
 * words of a person: durations in units_time's units.
 */
static void
caption(const struct bench *b, char *on, char *how, size_t size)
{
	const struct machine *m = &b->machine;
	const char *words = b->as_processes && b->as_threads ?
	    "processes and as threads" : bench_as(b);
	char each[UNITS_LEN], fs[64] = "";

	if (m->has_counter && m->fs_known && *m->fs_type != '\0')
		snprintf(fs, sizeof(fs), "; counter file on %s", m->fs_type);
	else if (m->has_counter && m->fs_known)
		snprintf(fs, sizeof(fs), "; counter file on filesystem %#lx",
		    m->fs_magic);
	snprintf(on, size, "%s, %ld CPU%s, %ld usable; %s %s %s%s",
	    *m->cpu_model ? m->cpu_model : "unknown CPU", m->cpus_online,
	    m->cpus_online == 1 ? "" : "s", m->cpus_allowed, m->host.sysname,
	    m->host.release, m->host.machine, fs);
	units_time(each, (double)b->duration_ns);
	if (b->repeat == 1)
		snprintf(how, size, "Workers as %s; each point one run of %s",
		    words, each);
	else
		snprintf(how, size, "Workers as %s; each point the median of "
		    "%u runs of %s, its bar from the fastest run to the "
		    "slowest", words, b->repeat, each);
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
	char on[512], how[512], stopped_by[24] = "";
	size_t n, i, k, a, w, done;
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
	machine_read(&b.machine, uses_file_backend(&b) ? b.path : NULL);
	oversubscription(&b);
	if (*b.warning != '\0')
		warnx("%s", b.warning);
	/* A kind's cells: by processes, then threads, then by count. */
	for (k = 0, i = 0; k < b.nkinds; k++)
		for (a = 0; a < 2; a++)
			for (w = 0; w < b.ncounts &&
			    (a == 0 ? b.as_processes : b.as_threads); w++, i++) {
				cells[i].backend = b.kinds[k].backend;
				cells[i].kind = b.kinds[k].kind;
				cells[i].threads = a == 1;
				cells[i].workers = b.counts[w];
				cells[i].oversubscribed =
				    b.machine.cpus_allowed > 0 &&
				    (long)b.counts[w] > b.machine.cpus_allowed;
			}
	print_header(&b);
	for (done = 0; done < n; done++) {
		if ((status = measure(&b, &cells[done], done, n)) != 0)
			break;
		print_row(&b, &cells[done]);
		/* Nobody reads the rest: stop measuring it. */
		if (ferror(stdout))
			break;
	}
	if (!b.quiet_progress)
		fputs("\r\033[K", stderr);
	private_counter_remove(&counter);
	if (status > 128 && sigabbrev_np(status - 128) != NULL)
		snprintf(stopped_by, sizeof(stopped_by), "SIG%s",
		    sigabbrev_np(status - 128));
	else if (status > 128)
		snprintf(stopped_by, sizeof(stopped_by), "signal %d",
		    status - 128);
	if (b.format == JSON)
		print_json(&b, cells, done, status == 0, stopped_by);
	if (*stopped_by != '\0') {
		if (b.format == CSV)
			printf("# interrupted: %s\n", stopped_by);
		fflush(stdout);
		warnx("bench interrupted by %s: %zu of %zu %s measured",
		    stopped_by, done, n, n == 1 ? "row" : "rows");
	}
	if (status != 0) {
		if (chart.to != NULL)
			chart_abandon(&chart);
		goto out;
	}
	/* Output that could not be written fails the bench: no chart. */
	if (fflush(stdout) == EOF || ferror(stdout)) {
		warn("stdout");
		if (chart.to != NULL)
			chart_abandon(&chart);
		status = EXIT_SYSTEM;
		goto out;
	}
	if (chart.to != NULL) {
		caption(&b, on, how, sizeof(on));
		plot_svg(chart.to, cells, n, b.counts, b.ncounts, on, how);
		if (chart_commit(&chart) == -1) {
			warn("%s", b.plot);
			status = EXIT_SYSTEM;
		}
	}
out:
	free(cells);
	return status;
}
