/*
 * proccount: workers, forked processes or threads, increment and decrement
 * one counter, in a file or in shared memory, with or without a lock, and
 * the result says whether any update was lost.
 *
 * This file reads the command line, runs once, reports, and picks the exit
 * status.  proccount bench, which has a command line of its own, lives in
 * matrix/matrix.c; what the two share is in cli.c.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends.h"
#include "cli.h"
#include "explore/explore.h"
#include "matrix/matrix.h"
#include "parse.h"
#include "report.h"
#include "run.h"
#include "schedule/schedule.h"
#include "server/server.h"
#include "trace/show.h"

#define VERSION		"0.1"

#define MAX_DELAY	(60 * SECOND)
/* --nest: deep enough for any lesson, and each level is a system call. */
#define MAX_NEST	1000
#define MAX_TIMEOUT	(3600 * SECOND)
#define MAX_DURATION	(24 * 3600 * SECOND)
#define MAX_ITERATIONS	1000000000000ULL
/* --join: a name that fits in the row names made of it. */
#define MAX_JOIN	64

enum {
	OPT_CRASH = 256,
	OPT_DELAY,
	OPT_FORCE,
	OPT_FORMAT,
	OPT_HOLD,
	OPT_JSON,
	OPT_LATENCY,
	OPT_NEST,
	OPT_PIN,
	OPT_PREFER,
	OPT_SCHEDULE,
	OPT_SHARE_FD,
	OPT_TIMEOUT,
	OPT_TRACE,
	OPT_TRY,
	OPT_WORK,
	OPT_WORK_AS,
	OPT_CONNECT,
	OPT_LISTEN,
	OPT_SERVE,
	OPT_DSN,
	OPT_JOIN,
	OPT_COUNTERS,
	OPT_ORDER,
};

static const struct option options[] = {
	{ "backend",		required_argument,	NULL, 'b' },
	{ "connect",		required_argument,	NULL, OPT_CONNECT },
	{ "counters",		required_argument,	NULL, OPT_COUNTERS },
	{ "crash",		required_argument,	NULL, OPT_CRASH },
	{ "decrementers",	required_argument,	NULL, 'd' },
	{ "delay",		required_argument,	NULL, OPT_DELAY },
	{ "dsn",		required_argument,	NULL, OPT_DSN },
	{ "duration",		required_argument,	NULL, 't' },
	{ "file",		required_argument,	NULL, 'f' },
	{ "force",		no_argument,		NULL, OPT_FORCE },
	{ "format",		required_argument,	NULL, OPT_FORMAT },
	{ "help",		no_argument,		NULL, 'h' },
	{ "hold",		required_argument,	NULL, OPT_HOLD },
	{ "incrementers",	required_argument,	NULL, 'i' },
	{ "iterations",		required_argument,	NULL, 'n' },
	{ "join",		required_argument,	NULL, OPT_JOIN },
	{ "json",		no_argument,		NULL, OPT_JSON },
	{ "latency",		no_argument,		NULL, OPT_LATENCY },
	{ "listen",		required_argument,	NULL, OPT_LISTEN },
	{ "lock",		optional_argument,	NULL, 'l' },
	{ "nest",		required_argument,	NULL, OPT_NEST },
	{ "order",		required_argument,	NULL, OPT_ORDER },
	{ "pin",		required_argument,	NULL, OPT_PIN },
	{ "prefer",		required_argument,	NULL, OPT_PREFER },
	{ "quiet",		no_argument,		NULL, 'q' },
	{ "readers",		required_argument,	NULL, 'r' },
	{ "schedule",		required_argument,	NULL, OPT_SCHEDULE },
	{ "serve",		required_argument,	NULL, OPT_SERVE },
	{ "share-fd",		no_argument,		NULL, OPT_SHARE_FD },
	{ "start",		required_argument,	NULL, 's' },
	{ "threads",		no_argument,		NULL, 'T' },
	{ "timeout",		required_argument,	NULL, OPT_TIMEOUT },
	{ "trace",		optional_argument,	NULL, OPT_TRACE },
	{ "try",		no_argument,		NULL, OPT_TRY },
	{ "verbose",		no_argument,		NULL, 'v' },
	{ "version",		no_argument,		NULL, 'V' },
	{ "work",		required_argument,	NULL, OPT_WORK },
	{ "work-as",		required_argument,	NULL, OPT_WORK_AS },
	{ NULL,			0,			NULL, 0 },
};

static const char usage_head[] =
"usage: proccount [-qTv] [-b file|shm|server|pg] [-l kind | --lock[=kind]]\n"
"                 [-i n] [-d n]\n"
"                 [-n count | -t duration] [-f path] [-s value|keep] [--force]\n"
"                 [--hold=duration] [--work=duration] [--work-as=sleep|spin]\n"
"                 [--try] [--nest=k] [--crash=n] [--timeout=duration]\n"
"                 [-r n] [--prefer=readers|writers]\n"
"                 [--counters=1|2] [--order=same|opposite]\n"
"                 [--share-fd] [--pin=spread|none] [--latency] [--trace[=file]]\n"
"                 [--schedule=steps|random:seed] [--json | --format=text|json]\n"
"                 [--listen=host:port | --connect=host:port]\n"
"                 [--serve=serial|threads] [--dsn=conninfo] [--join=name]\n"
"       proccount explore [-T] [-b file|shm] [-l kind | --lock[=kind]] [-i n]\n"
"                         [-d n] [-n count] [-f path] [--json]\n"
"       proccount bench [-b file|shm|server|pg] [-l kind,...] [-w n,...]\n"
"                       [-t duration] [-r n] [--as=processes,threads]\n"
"                       [--json | --format=table|csv|json] [--pin=spread|none]\n"
"                       [--plot=file.svg] [-f path]\n"
"       proccount serve --listen=host:port|path [-l kind] [-s value]\n"
"                       [--serve=serial|threads] [--work=duration]\n"
"                       [--work-as=sleep|spin] [--idle=duration]\n"
"       proccount -h | -V\n"
"\n"
"Workers add 1 to (incrementers) or subtract 1 from (decrementers) one\n"
"counter; the result says whether any update was lost.\n"
"\n"
"  -b, --backend=file|shm|server|pg  where the counter lives (default shm;\n"
"                           file with --file or a kind only files have;\n"
"                           server with --listen, --connect, --serve or a\n"
"                           kind only the server has; pg, a row in\n"
"                           PostgreSQL, with --dsn, --join or a kind only\n"
"                           pg has)\n"
"  -l, --lock[=KIND]        guard each update; without it, no lock\n";

static const char usage_tail[] =
"  -i, --incrementers=N     workers adding 1 (default 1)\n"
"  -d, --decrementers=N     workers subtracting 1 (default 1)\n"
"  -r, --readers=N          workers that only read the counter, under a\n"
"                           shared lock, until the others are done\n"
"      --prefer=readers|writers  rwlock: whom a waiting lock lets in first\n"
"                           (default readers)\n"
"  -n, --iterations=N       updates per worker, k/M/G suffixes (default 100000)\n"
"  -t, --duration=DURATION  update until the time is up instead\n"
"  -T, --threads            the workers are threads of one process, not\n"
"                           forked processes\n"
"  -f, --file=PATH          counter file of the file backend (default counter.txt)\n"
"      --share-fd           file: every worker uses one open file description\n"
"  -s, --start=V|keep       starting value (default 0); keep: a file's own\n"
"      --force              file: replace a file that holds no number\n"
"      --hold=DURATION      work between reading and writing in each update,\n"
"                           inside the lock (--delay is another name for it)\n"
"      --work=DURATION      work after each update, outside the lock\n"
"      --work-as=sleep|spin the work of --hold and --work: a sleep\n"
"                           (default) or a spin on the clock, CPU work\n"
"      --try                only try the lock; a worker that finds it held\n"
"                           counts a miss, does its --work and tries again\n"
"      --nest=K             each update takes the lock K times, nested, and\n"
"                           releases it K times (default 1)\n"
"      --counters=1|2       2: each update moves 1 between counters A and B,\n"
"                           holding both their locks (default 1)\n"
"      --order=same|opposite  with --counters=2, the order of the two locks:\n"
"                           opposite: decrementers take B's first (default\n"
"                           same: A's first)\n"
"      --crash=N            the first incrementer dies in its Nth update,\n"
"                           holding the lock\n"
"      --timeout=DURATION   the longest a worker waits for the lock\n"
"      --pin=spread|none    spread (default): worker k stays on the k-th CPU\n"
"                           it may use; none: where the scheduler puts it\n"
"      --latency            report lock wait and hold percentiles\n"
"      --schedule=STEPS     the workers' steps in this order, repeated, as in\n"
"                           '1r 2r 1w 2w': worker 1 reads, worker 2 reads,\n"
"                           1 writes, 2 writes; random:SEED makes one up\n"
"      --trace[=FILE]       record every update and count the lost ones\n"
"                           exactly; print the timeline, or write the\n"
"                           records to FILE: JSON Lines if it ends in\n"
"                           .jsonl, else CSV\n";

/* Two strings, for no compiler need take one longer than 4095 bytes. */
static const char usage_end[] =
"      --listen=HOST:PORT   server: its server listens there instead of on\n"
"                           a Unix socket of its own; port 0: any free one;\n"
"                           a path with a /: that Unix socket\n"
"      --connect=HOST:PORT  server: the workers are clients of a server\n"
"                           already running there (proccount serve)\n"
"      --serve=serial|threads  server: one client at a time, or a thread for\n"
"                           each (default); --work is its handler's\n"
"      --json               print the report as one JSON object\n"
"      --format=text|json   the report as text (default) or JSON (--json)\n"
"      --dsn=CONNINFO       pg: the libpq connection string or URI (default:\n"
"                           the PG* variables and libpq's defaults)\n"
"      --join=NAME          pg: share the counter NAME with other runs, on\n"
"                           any host; the last to finish gives the verdict\n"
"  -q, --quiet              print nothing on success, in either format\n"
"  -v, --verbose            add one line per worker\n"
"  -h, --help               print this help\n"
"  -V, --version            print the version\n"
"\n"
"DURATION is a number with ns, us, ms, s, m or h; a bare number is seconds.\n"
"Exit status: 0 exact count, 1 updates lost, 2 usage error, 3 system error,\n"
"4 a worker could not finish or a dead one left the lock held (abandoned\n"
"lock, deadlock, lock timeout, stall, a worker dead before it started),\n"
"128+N signal N.\n"
"proccount bench --help describes the benchmark matrix, proccount explore\n"
"--help the run of every interleaving, proccount serve --help the server.\n";

/* The help, with each backend's kinds as its records name them. */
static void
print_usage(void)
{
	const struct lock_kind *k;
	char label[16];
	size_t i;

	fputs(usage_head, stdout);
	for (i = 0; backends[i] != NULL; i++) {
		snprintf(label, sizeof(label), "%s:", backends[i]->name);
		printf("%27s%-6s", "", label);
		for (k = backends[i]->kinds; k->name != NULL; k++)
			printf("%s%s%s", k == backends[i]->kinds ? "" : ", ",
			    k->name, k == backends[i]->kinds ? " (default)" :
			    "");
		putchar('\n');
	}
	fputs(usage_tail, stdout);
	fputs(usage_end, stdout);
}

static const char *
option_name(int opt)
{
	const struct option *o;

	for (o = options; o->name != NULL; o++)
		if (o->val == opt)
			return o->name;
	return "?";
}

struct settings {
	struct run	 run;
	const char	*backend;	/* as given, or NULL */
	const char	*lock;		/* as given; "" for a bare --lock */
	const char	*format;	/* as given, or NULL */
	const char	*schedule;	/* as given, or NULL */
	struct schedule	 steps;		/* what it says */
	const char	*trace;		/* --trace's file; "" for none */
	bool		 timeline;	/* print the trace's timeline */
	uint64_t	 timeline_hidden; /* its steps, left out of a terminal */
	bool		 iterations_given;
	bool		 start_given;
	bool		 serve_given;
	bool		 file_given;
	bool		 work_as_given;
	bool		 prefer_given;
	bool		 pg_given;	/* --dsn or --join */
	bool		 order_given;
	bool		 json;
	bool		 quiet;
	bool		 verbose;
};

/*
 * A word that is no option: the kind of a bare --lock before it, which
 * takes its kind only after '=', or bench in the wrong place.
 */
static void __attribute__((noreturn))
unexpected(const char *word, bool after_bare_lock)
{
	if (after_bare_lock)
		cli_usage("unexpected argument '%s': write --lock=%s", word,
		    word);
	if (strcmp(word, "bench") == 0 || strcmp(word, "explore") == 0 ||
	    strcmp(word, "serve") == 0)
		cli_usage("'%s' must come first: proccount %s [options]",
		    word, word);
	cli_usage("unexpected argument '%s'", word);
}

static void
parse_options(int argc, char **argv, struct settings *s)
{
	const char *why;
	bool bare_lock = false;		/* the option before was --lock alone */
	int opt;

	/* "-": words that are no option come back in their place, as 1. */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "-:b:d:f:hi:l:n:qr:s:t:TvV",
	    options, NULL)) != -1) {
		switch (opt) {
		case 1:
			unexpected(optarg, bare_lock);
			/* NOTREACHED */
		case 'b':
			s->backend = optarg;
			break;
		case 'd':
			s->run.decrementers = (unsigned)cli_count(
			    option_name(opt), optarg, 0, MAX_WORKERS);
			break;
		case 'f':
			if (*optarg == '\0')
				cli_usage("--file: the path is empty");
			s->run.path = optarg;
			s->file_given = true;
			break;
		case 'h':
			print_usage();
			cli_exit(EXIT_SUCCESS);
		case 'i':
			s->run.incrementers = (unsigned)cli_count(
			    option_name(opt), optarg, 0, MAX_WORKERS);
			break;
		case 'l':
			if (optarg != NULL && *optarg == '\0')
				cli_usage("--lock: no kind named; --lock alone, "
				    "without '=', means the default kind");
			s->lock = optarg != NULL ? optarg : "";
			break;
		case 'n':
			s->run.iterations = cli_count(option_name(opt), optarg,
			    1, MAX_ITERATIONS);
			s->iterations_given = true;
			break;
		case 'q':
			s->quiet = true;
			break;
		case 'r':
			s->run.readers = (unsigned)cli_count(
			    option_name(opt), optarg, 0, MAX_WORKERS);
			break;
		case 's':
			s->start_given = true;
			s->run.keep_start = strcmp(optarg, "keep") == 0;
			if (s->run.keep_start)
				s->run.start = 0;
			else if (parse_signed(optarg, &s->run.start, &why) == -1)
				cli_usage("--start '%s': %s", optarg, why);
			break;
		case 't':
			s->run.duration_ns = cli_duration(option_name(opt),
			    optarg, MAX_DURATION, false);
			break;
		case 'T':
			s->run.threads = true;
			break;
		case 'v':
			s->verbose = true;
			break;
		case 'V':
			printf("proccount %s\n", VERSION);
			cli_exit(EXIT_SUCCESS);
		case OPT_CRASH:
			s->run.crash_at = cli_count(option_name(opt), optarg,
			    1, MAX_ITERATIONS);
			break;
		case OPT_DELAY:
		case OPT_HOLD:
			s->run.delay_ns = cli_duration(option_name(opt),
			    optarg, MAX_DELAY, true);
			break;
		case OPT_FORCE:
			s->run.force = true;
			break;
		case OPT_FORMAT:
			s->format = optarg;
			break;
		case OPT_JSON:
			s->json = true;
			break;
		case OPT_LATENCY:
			s->run.latency = true;
			break;
		case OPT_NEST:
			s->run.nest = (unsigned)cli_count(option_name(opt),
			    optarg, 1, MAX_NEST);
			break;
		case OPT_PIN:
			s->run.pin = cli_pin(optarg);
			break;
		case OPT_PREFER:
			if (strcmp(optarg, "readers") != 0 &&
			    strcmp(optarg, "writers") != 0)
				cli_usage("--prefer '%s': choose readers or "
				    "writers", optarg);
			s->run.prefer_writers = strcmp(optarg, "writers") == 0;
			s->prefer_given = true;
			break;
		case OPT_SCHEDULE:
			s->schedule = optarg;
			break;
		case OPT_SHARE_FD:
			s->run.share_fd = true;
			break;
		case OPT_TIMEOUT:
			s->run.timeout_ns = cli_duration(option_name(opt),
			    optarg, MAX_TIMEOUT, false);
			break;
		case OPT_TRY:
			s->run.tries = true;
			break;
		case OPT_WORK:
			s->run.work_ns = cli_duration(option_name(opt),
			    optarg, MAX_DELAY, true);
			break;
		case OPT_COUNTERS:
			if (strcmp(optarg, "1") != 0 &&
			    strcmp(optarg, "2") != 0)
				cli_usage("--counters '%s': choose 1 or 2",
				    optarg);
			s->run.counters = (unsigned)(*optarg - '0');
			break;
		case OPT_ORDER:
			if (strcmp(optarg, "same") != 0 &&
			    strcmp(optarg, "opposite") != 0)
				cli_usage("--order '%s': choose same or "
				    "opposite", optarg);
			s->run.opposite = strcmp(optarg, "opposite") == 0;
			s->order_given = true;
			break;
		case OPT_WORK_AS:
			if (strcmp(optarg, "spin") != 0 &&
			    strcmp(optarg, "sleep") != 0)
				cli_usage("--work-as '%s': choose sleep or spin",
				    optarg);
			s->run.work_spins = strcmp(optarg, "spin") == 0;
			s->work_as_given = true;
			break;
		case OPT_CONNECT:
			if (*optarg == '\0')
				cli_usage("--connect: the address is empty");
			s->run.connect = optarg;
			break;
		case OPT_LISTEN:
			if (*optarg == '\0')
				cli_usage("--listen: the address is empty");
			s->run.listen = optarg;
			break;
		case OPT_SERVE:
			if (strcmp(optarg, "serial") != 0 &&
			    strcmp(optarg, "threads") != 0)
				cli_usage("--serve '%s': choose serial or "
				    "threads", optarg);
			s->run.serve_serial = strcmp(optarg, "serial") == 0;
			s->serve_given = true;
			break;
		case OPT_DSN:
			s->run.dsn = optarg;
			s->pg_given = true;
			break;
		case OPT_JOIN:
			if (*optarg == '\0' || strlen(optarg) > MAX_JOIN)
				cli_usage("--join '%s': give a name of 1 to %d "
				    "characters", optarg, MAX_JOIN);
			s->run.join = optarg;
			s->pg_given = true;
			break;
		case OPT_TRACE:
			if (optarg != NULL && *optarg == '\0')
				cli_usage("--trace=: no file named; --trace "
				    "alone prints the timeline");
			s->trace = optarg != NULL ? optarg : "";
			break;
		default:
			cli_bad_option(argv, opt, options);
		}
		bare_lock = opt == 'l' && optarg == NULL;
	}
	/* Words after "--". */
	if (optind < argc)
		unexpected(argv[optind], false);
}

/* --schedule: its steps, for the workers and updates of the run. */
static void
check_schedule(struct settings *s)
{
	struct run *run = &s->run;
	char why[256];

	if (run->duration_ns != 0)
		cli_usage("--schedule and --duration: a schedule's run makes "
		    "its -n updates, step by step");
	if (run->crash_at != 0)
		cli_usage("--schedule and --crash: the worker that died "
		    "would never take its next step");
	if (schedule_from_option(&s->steps, s->schedule, run->incrementers +
	    run->decrementers, run->iterations, why, sizeof(why)) == -1)
		cli_usage("--schedule: %s", why);
	run->schedule = &s->steps;
}

/*
 * --counters=2 and what it cannot go with: options that order, record,
 * nest or read one counter's updates.
 */
static void
check_pair(const struct settings *s)
{
	const struct run *run = &s->run;
	struct run mirrored;

	if (s->order_given && !run_pair(run))
		cli_usage("--order is the order of two locks, and only "
		    "--counters=2 takes two");
	if (!run_pair(run))
		return;
	if (!run->backend->pairs)
		cli_usage("--counters=2: the %s backend keeps one counter",
		    run->backend->name);
	if (run->readers != 0)
		cli_usage("--counters=2 and --readers: a reader reads one "
		    "counter");
	if (s->schedule != NULL)
		cli_usage("--counters=2 and --schedule: a schedule's steps "
		    "are one lock and one release");
	if (s->trace != NULL)
		cli_usage("--counters=2 and --trace: the trace records the "
		    "writes of one counter");
	if (run->nest > 1)
		cli_usage("--counters=2 and --nest: choose one lesson; each "
		    "takes its locks in its own way");
	/* An incrementer takes from A what it gives to B: both ways. */
	mirrored = *run;
	mirrored.incrementers = run->decrementers;
	mirrored.decrementers = run->incrementers;
	if (!count_fits(run->start, &mirrored))
		cli_usage("--start %lld with %llu updates a worker: counter A "
		    "could leave the range of a 64-bit integer", run->start,
		    (unsigned long long)run->iterations);
}

/* The most steps of a timeline that a terminal is given: a screenful. */
#define TIMELINE_MAX_STEPS	200

/* Whether two paths name one file, whether it exists yet or not. */
static bool
same_file(const char *a, const char *b)
{
	char *copy_a = strdup(a), *copy_b = strdup(b);
	char dir_a[PATH_MAX], dir_b[PATH_MAX];
	struct stat st_a, st_b;
	bool same = false;

	if (stat(a, &st_a) == 0 && stat(b, &st_b) == 0)
		same = st_a.st_dev == st_b.st_dev && st_a.st_ino == st_b.st_ino;
	else if (copy_a != NULL && copy_b != NULL &&
	    realpath(dirname(copy_a), dir_a) != NULL &&
	    realpath(dirname(copy_b), dir_b) != NULL) {
		strcpy(copy_a, a);
		strcpy(copy_b, b);
		same = strcmp(dir_a, dir_b) == 0 &&
		    strcmp(basename(copy_a), basename(copy_b)) == 0;
	}
	free(copy_a);
	free(copy_b);
	return same;
}

/*
 * Where the trace goes, refused before the run if it cannot go there: a
 * directory, a directory that is missing or not writable for the
 * temporary file beside it, or the counter file itself.
 */
static void
check_trace_file(const struct settings *s)
{
	char *copy, dir[PATH_MAX], target[PATH_MAX];
	const char *path = s->trace;
	struct stat st;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		cli_usage("--trace=%s: is a directory", path);
	if (s->run.backend == &file_backend && same_file(path, s->run.path))
		cli_usage("--trace=%s: is the counter file", path);
	/*
	 * Anything else that is there, /dev/null, a FIFO, and the file that
	 * standard output goes to, is written to.
	 */
	if ((stat(path, &st) == 0 && !S_ISREG(st.st_mode)) ||
	    trace_file_output(path) != -1)
		return;
	if (realpath(path, target) == NULL)
		snprintf(target, sizeof(target), "%s", path);
	if ((copy = strdup(target)) == NULL)
		err(EXIT_SYSTEM, "memory");
	snprintf(dir, sizeof(dir), "%s", dirname(copy));
	free(copy);
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode))
		cli_usage("--trace=%s: no directory %s to write it in", path,
		    dir);
	if (access(dir, W_OK | X_OK) == -1)
		cli_usage("--trace=%s: cannot write in %s: %s", path, dir,
		    strerror(errno));
}

/*
 * The trace's size, from -n, or for a timed run an equal share of what a
 * trace may hold, and what it rules out: a count that could leave 32 bits,
 * a crash beyond the records, a timeline nobody could read.
 */
static void
check_trace(struct settings *s)
{
	struct run *run = &s->run;
	unsigned workers = run->incrementers + run->decrementers;
	uint64_t steps;

	if (run->iterations > TRACE_MAX / workers)
		cli_usage("--trace records at most %u updates in all, and %u "
		    "%s x %llu updates are more", TRACE_MAX, workers,
		    workers == 1 ? "worker" : "workers",
		    (unsigned long long)run->iterations);
	run->trace_capacity = run->iterations != 0 ?
	    (uint32_t)run->iterations : TRACE_MAX / workers;
	if (!run->keep_start && !trace_fits(run->start, run->incrementers,
	    run->decrementers, run->trace_capacity))
		cli_usage("--trace keeps the count within a 32-bit integer, "
		    "and from --start %lld, %u %s a worker could take it out",
		    run->start, run->trace_capacity,
		    run->trace_capacity == 1 ? "update" : "updates");
	if (run->crash_at > run->trace_capacity)
		cli_usage("--crash %llu: beyond the %u updates a worker's "
		    "trace holds", (unsigned long long)run->crash_at,
		    run->trace_capacity);
	if (*s->trace != '\0') {
		check_trace_file(s);
		return;
	}
	s->timeline = true;
	if (s->json)
		cli_usage("--trace without a file prints a timeline, and the "
		    "JSON report leaves it no room: give --trace=FILE");
	if (s->quiet)
		cli_usage("--quiet and --trace without a file, which prints "
		    "a timeline: choose one, or give --trace=FILE");
	if (!isatty(STDOUT_FILENO))
		return;
	if (run->iterations == 0)
		cli_usage("--trace: a timed run's timeline has no bound, and "
		    "stdout is a terminal: give --trace=FILE, or a pipe");
	steps = 2 * run->iterations * workers;
	if (steps > TIMELINE_MAX_STEPS)
		cli_usage("--trace: the timeline would have %llu steps, more "
		    "than a screenful (%d): give --trace=FILE, or a pipe",
		    (unsigned long long)steps, TIMELINE_MAX_STEPS);
}

/*
 * A schedule's run is traced, so that its timeline shows the interleaving
 * that was asked for, and its report counts the lost updates exactly.
 * Where the trace cannot hold the run it is not traced; the timeline is
 * left out of a JSON or quiet report, and out of a terminal that it would
 * fill, where --trace would refuse it.
 */
static void
imply_trace(struct settings *s)
{
	struct run *run = &s->run;
	unsigned workers = run->incrementers + run->decrementers;

	if (run->iterations > TRACE_MAX / workers || run->keep_start ||
	    !trace_fits(run->start, run->incrementers, run->decrementers,
	    (uint32_t)run->iterations))
		return;
	run->trace_capacity = (uint32_t)run->iterations;
	s->trace = "";
	s->timeline = !s->json && !s->quiet && (!isatty(STDOUT_FILENO) ||
	    2 * run->iterations * workers <= TIMELINE_MAX_STEPS);
	if (!s->json && !s->quiet && !s->timeline)
		s->timeline_hidden = 2 * run->iterations * workers;
}

/*
 * A thread that dies leaves its connection open, and a serial server
 * serves nothing else, not even the final count, until it closes it for
 * its silence.
 */
static void __attribute__((noreturn))
serial_thread_crash(void)
{
	cli_usage("--crash of a thread and a serial server: the dead "
	    "thread's connection stays open, and the server serves no other");
}

/*
 * A reader reads until the writers end, and a serial server serves its
 * connection to its end first: the writers wait for it, and it for them.
 */
static void __attribute__((noreturn))
serial_readers(void)
{
	cli_usage("--readers and a serial server: a reader's connection, "
	    "served to its end, keeps out the writers it waits for");
}

/*
 * The server backend: what it offers, and what a server already running
 * (--connect) decides for itself.
 */
static void
check_server(const struct settings *s)
{
	const struct run *run = &s->run;

	if (run->listen != NULL && run->connect != NULL)
		cli_usage("--listen and --connect: a server of the run's own, "
		    "or one already running; choose one");
	if (run->connect != NULL && s->serve_given)
		cli_usage("--serve and --connect: the server already running "
		    "serves as it was told when it started");
	if (run->connect != NULL && s->start_given)
		cli_usage("--start and --connect: the count starts where the "
		    "server already running has it");
	if (run->connect != NULL && run->work_ns != 0)
		cli_usage("--work and --connect: --work is the server "
		    "handler's, given to proccount serve");
	if (run->serve_serial && run->threads && run->crash_at != 0)
		serial_thread_crash();
	if (run->serve_serial && run->readers != 0)
		serial_readers();
}

/*
 * --connect: the server already running says its lock kind and how it
 * serves; a --lock that says otherwise is refused.
 */
static void
identify_server(struct settings *s)
{
	struct run *run = &s->run;
	const struct lock_kind *kind;
	char why[256];

	if (run->backend != &server_backend || run->connect == NULL)
		return;
	if (server_identify(run->connect, &kind, &run->serve_serial, why,
	    sizeof(why)) == -1)
		errx(EXIT_SYSTEM, "--connect=%s: %s", run->connect, why);
	if (s->lock != NULL && kind != run->kind)
		errx(EXIT_SYSTEM, "--connect=%s: the server's lock is %s, not "
		    "%s", run->connect, kind->name, run->kind->name);
	if (run->timeout_ns != 0 && !kind_locks(kind))
		errx(EXIT_SYSTEM, "--connect=%s: the server's lock is %s, and "
		    "--timeout has no lock to bound the wait for", run->connect,
		    kind->name);
	run->kind = kind;
	if (run->serve_serial && run->threads && run->crash_at != 0)
		serial_thread_crash();
	if (run->serve_serial && run->readers != 0)
		serial_readers();
}

/*
 * What a backend whose updates are not proccount's own steps cannot do:
 * no schedule, trace, tried or nested lock of proccount's reaches them.
 */
static void
check_steps(const struct settings *s)
{
	const struct run *run = &s->run;
	const char *what = s->schedule != NULL ? "--schedule" :
	    s->trace != NULL ? "--trace" : run->tries ? "--try" :
	    run->nest > 1 ? "--nest" : NULL;

	if (what != NULL && run->backend->no_steps != NULL)
		cli_usage("%s is not for --backend=%s: %s", what,
		    run->backend->name, run->backend->no_steps);
}

/* Nor do pg's workers read beside its writers: they would wait as they. */
static void
check_pg(const struct settings *s)
{
	const struct run *run = &s->run;

	if (run->readers != 0)
		cli_usage("--readers is not for --backend=pg: %s",
		    run->backend->no_steps);
}

static void
check_settings(struct settings *s)
{
	struct run *run = &s->run;

	/* A file, or a kind only the file backend has, implies it. */
	if (s->backend != NULL)
		run->backend = cli_backend(s->backend);
	else if (s->file_given)
		run->backend = &file_backend;
	else if (run->listen != NULL || run->connect != NULL || s->serve_given)
		run->backend = &server_backend;
	else if (s->pg_given)
		run->backend = &pg_backend;
	if (s->lock != NULL && *s->lock != '\0')
		run->kind = cli_kind(&run->backend, s->lock);
	if (run->backend == NULL)
		run->backend = backend_default;
	if (s->lock == NULL)
		run->kind = cli_kind(&run->backend, "none");
	else if (*s->lock == '\0')
		run->kind = &run->backend->kinds[0];
	/*
	 * The kind's record says whether it takes a lock to wait for; with
	 * --connect and no --lock, the server says its kind, later.
	 */
	if (run->timeout_ns != 0 && s->lock == NULL && run->connect == NULL)
		cli_usage("--timeout bounds the wait for a lock, and a run "
		    "without --lock has nothing to wait for");
	if (run->timeout_ns != 0 && !kind_locks(run->kind) &&
	    (s->lock != NULL || run->connect == NULL))
		cli_usage("--timeout bounds the wait for a lock, and --lock=%s "
		    "has nothing to wait for", run->kind->name);
	if (run->tries && s->lock == NULL)
		cli_usage("--try only tries the lock, and a run without "
		    "--lock has none to try");
	if (run->tries && !kind_locks(run->kind))
		cli_usage("--try only tries the lock, and --lock=%s has none "
		    "to try", run->kind->name);
	if (run->tries && run->timeout_ns != 0)
		cli_usage("--try and --timeout: a worker that only tries the "
		    "lock never waits for it");
	if (run->tries && s->schedule != NULL)
		cli_usage("--try and --schedule: a schedule says when each "
		    "worker tries the lock");
	if (run->nest > 1 && s->lock == NULL)
		cli_usage("--nest takes the lock again, and a run without "
		    "--lock has none to take");
	if (run->nest > 1 && !kind_locks(run->kind))
		cli_usage("--nest takes the lock again, and --lock=%s has none "
		    "to take", run->kind->name);
	if (run->nest > 1 && run->tries)
		cli_usage("--nest and --try: the nested locks are taken, not "
		    "tried; choose one");
	if (run->nest > 1 && s->schedule != NULL)
		cli_usage("--nest and --schedule: a schedule's steps are one "
		    "lock and one release");
	if (s->work_as_given && run->delay_ns == 0 && run->work_ns == 0)
		cli_usage("--work-as says how --hold and --work work, and "
		    "neither is given");
	if (s->file_given && run->backend != &file_backend)
		cli_usage("--file is for --backend=file; the %s backend "
		    "names its own object", run->backend->name);
	if (run->backend == &server_backend)
		check_server(s);
	else if (run->listen != NULL || run->connect != NULL ||
	    s->serve_given)
		cli_usage("--%s is for --backend=server; the %s backend has "
		    "no server", run->listen != NULL ? "listen" :
		    run->connect != NULL ? "connect" : "serve",
		    run->backend->name);
	if ((run->keep_start || run->force) && !run->backend->keeps)
		cli_usage("%s is for --backend=file: the %s backend makes a "
		    "new counter each run", run->keep_start ? "--start=keep" :
		    "--force", run->backend->name);
	if (run->share_fd && !run->backend->shares_fd)
		cli_usage("--share-fd is for --backend=file; the %s backend "
		    "has no descriptor to share", run->backend->name);
	if (run->incrementers + run->decrementers == 0)
		cli_usage("no workers: --incrementers and --decrementers "
		    "are both 0");
	if (run->incrementers + run->decrementers + run->readers > MAX_WORKERS)
		cli_usage("%u workers: at most %d in all", run->incrementers +
		    run->decrementers + run->readers, MAX_WORKERS);
	if (run->readers != 0 && s->schedule != NULL)
		cli_usage("--readers and --schedule: a schedule orders "
		    "updates, and readers make none");
	if (run->readers != 0 && s->trace != NULL)
		cli_usage("--readers and --trace: the trace records updates, "
		    "and readers make none");
	if (s->prefer_given && strcmp(run->kind->name, "rwlock") != 0)
		cli_usage("--prefer is for --lock=rwlock; --lock=%s has no "
		    "readers' and writers' turns", s->lock == NULL ? "none" :
		    run->kind->name);
	if (s->iterations_given && run->duration_ns != 0)
		cli_usage("--iterations and --duration: choose one");
	if (run->duration_ns != 0)
		run->iterations = 0;
	if (s->quiet && s->verbose)
		cli_usage("--quiet and --verbose: choose one");
	if (s->format != NULL && strcmp(s->format, "csv") == 0)
		cli_usage("--format=csv: a single run prints text or json; "
		    "csv is for proccount bench");
	if (s->format != NULL && strcmp(s->format, "text") != 0 &&
	    strcmp(s->format, "json") != 0)
		cli_usage("unknown format '%s': choose text or json",
		    s->format);
	if (s->json && s->format != NULL && strcmp(s->format, "text") == 0)
		cli_usage("--json and --format=text: choose one");
	if (s->format != NULL && strcmp(s->format, "json") == 0)
		s->json = true;
	if (!count_fits(run->start, run))
		cli_usage("--start %lld with %llu updates a worker: the "
		    "count could leave the range of a 64-bit integer",
		    run->start, (unsigned long long)run->iterations);
	/* A timed run stops each worker where the count would leave it. */
	if (run->iterations == 0 && ((run->incrementers != 0 &&
	    run_most_updates(run, run->start, 1) == 0) || (run->decrementers != 0 &&
	    run_most_updates(run, run->start, -1) == 0)))
		cli_usage("--start %lld: one update a worker could take the "
		    "count out of the range of a 64-bit integer", run->start);
	if (run->crash_at != 0 && run->incrementers == 0)
		cli_usage("--crash: there is no incrementer to crash");
	if (run->crash_at != 0 && run->iterations != 0 &&
	    run->crash_at > run->iterations)
		cli_usage("--crash %llu: beyond the %llu updates a worker "
		    "makes", (unsigned long long)run->crash_at,
		    (unsigned long long)run->iterations);
	if (run->crash_at != 0 && run->iterations == 0 &&
	    run->crash_at > run_most_updates(run, run->start, 1))
		cli_usage("--crash %llu: beyond the %llu updates an incrementer "
		    "may make from --start %lld", (unsigned long long)
		    run->crash_at, (unsigned long long)run_most_updates(run, run->start, 1),
		    run->start);
	if (run->backend == &pg_backend)
		check_pg(s);
	else if (s->pg_given)
		cli_usage("%s is for --backend=pg", run->join != NULL ?
		    "--join" : "--dsn");
	check_steps(s);
	check_pair(s);
	if (s->schedule != NULL)
		check_schedule(s);
	if (s->trace != NULL)
		check_trace(s);
	else if (s->schedule != NULL)
		imply_trace(s);
}

/* The progress line on stderr, where that is a terminal. */
struct progress_line {
	const struct run *run;
	bool		 shown;
};

static void
show_progress(void *context, uint64_t updates, int64_t elapsed_ns)
{
	struct progress_line *line = context;
	const struct run *run = line->run;
	double seconds = (double)elapsed_ns / 1e9, rate, left;
	uint64_t total;

	rate = seconds > 0 ? (double)updates / seconds : 0;
	if (run->iterations != 0) {
		total = run->iterations * (run->incrementers +
		    run->decrementers);
		left = rate > 0 ? (double)(total - updates) / rate : 0;
	} else
		left = (double)run->duration_ns / 1e9 - seconds;
	fprintf(stderr, "\r%llu updates, %.0f/s, %.0f s left\033[K",
	    (unsigned long long)updates, rate, left > 0 ? left : 0);
	fflush(stderr);
	line->shown = true;
}

static void
erase_progress(struct progress_line *line)
{
	if (line->shown)
		fputs("\r\033[K", stderr);
	line->shown = false;
}

/*
 * The timeline before the report, or the records in their file, which
 * the report then names; loudly, a trace that does not add up.
 */
static int
show_trace(const struct settings *s, struct result *r, int status)
{
	struct trace_account *trace = &r->trace;

	if (!trace->exact && trace->run->final_known)
		warnx("the trace does not add up: %s", trace->problem);
	if (*s->trace == '\0') {
		if (s->timeline_hidden != 0)
			printf("timeline left out: its %llu steps are more than "
			    "a screenful (%d): give --trace=FILE, or a pipe\n",
			    (unsigned long long)s->timeline_hidden,
			    TIMELINE_MAX_STEPS);
		if (!s->timeline)
			return status;
		if (trace_timeline(stdout, trace) == -1)
			err(EXIT_SYSTEM, "stdout");
		putchar('\n');
		return status;
	}
	if (trace_save(s->trace, trace) == -1) {
		warn("%s", s->trace);
		return EXIT_SYSTEM;
	}
	trace->file = s->trace;
	return status;
}

int
main(int argc, char **argv)
{
	struct settings s = {
		.run = {
			.incrementers = 1,
			.decrementers = 1,
			.iterations = 100000,
			.path = "counter.txt",
		},
	};
	struct progress_line line = { .run = &s.run };
	struct progress progress = { .show = show_progress, .context = &line };
	struct result r;
	int status;

	procs_block_signals();
	if (argc > 1 && strcmp(argv[1], "bench") == 0) {
		cli_begin("proccount bench");
		return bench_main(argc - 1, argv + 1);
	}
	if (argc > 1 && strcmp(argv[1], "explore") == 0) {
		cli_begin("proccount explore");
		return explore_main(argc - 1, argv + 1);
	}
	if (argc > 1 && strcmp(argv[1], "serve") == 0) {
		cli_begin("proccount serve");
		return serve_main(argc - 1, argv + 1);
	}
	parse_options(argc, argv, &s);
	check_settings(&s);
	identify_server(&s);

	status = run_once(&s.run, !s.json && !s.quiet && isatty(STDERR_FILENO) ?
	    &progress : NULL, &r);
	erase_progress(&line);
	if (r.message[0] != '\0')
		warnx("%s", r.message);
	if (!r.judged) {
		run_free(&r);
		schedule_free(&s.steps);
		return status;
	}
	if (r.verdict.trace != NULL)
		status = show_trace(&s, &r, status);
	if (!s.quiet || status != EXIT_CORRECT) {
		if (s.json)
			report_json(stdout, &s.run, &r.counter, &r.out,
			    &r.verdict);
		else
			report_text(stdout, &s.run, &r.counter, &r.out,
			    &r.verdict, s.verbose);
	}
	run_free(&r);
	schedule_free(&s.steps);
	if (fflush(stdout) == EOF || ferror(stdout))
		err(EXIT_SYSTEM, "stdout");
	return status;
}
