/*
 * proccount serve: the counter server alone, for clients anywhere, until
 * SIGINT, SIGTERM or SIGHUP, when it prints the final count.  It says
 * where it listens as soon as it does, so that a port 0 can be found.
 */
#include <sys/signalfd.h>

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../cli.h"
#include "../judge.h"
#include "../parse.h"
#include "server.h"

#define MAX_WORK	(60 * SECOND)
#define MAX_IDLE	(24 * 3600 * SECOND)

static const char serve_usage[] =
"usage: proccount serve --listen=host:port|path [-l kind] [-s value]\n"
"                       [--serve=serial|threads] [--work=duration]\n"
"                       [--work-as=sleep|spin] [--idle=duration]\n"
"\n"
"Holds a counter and serves it to clients, one line a request, until\n"
"interrupted; then prints the final count.  Requests: hello, get, read,\n"
"write V (after a read), add N, held, quit.\n"
"\n"
"      --listen=HOST:PORT   where to listen: a TCP address (port 0: any\n"
"                           free one), or a Unix socket's path with a '/'\n"
"  -l, --lock=KIND          handler, update, atomic or none (default none)\n"
"  -s, --start=V            the count to start from (default 0)\n"
"      --serve=serial|threads  one client at a time, or a thread for each\n"
"                           (default)\n"
"      --work=DURATION      the handler's work after each store\n"
"      --work-as=sleep|spin the work: a sleep (default) or a spin\n"
"      --idle=DURATION      close a connection silent this long (default\n"
"                           10s)\n"
"  -h, --help               print this help\n";

int
serve_main(int argc, char **argv)
{
	enum { OPT_IDLE = 256, OPT_LISTEN, OPT_SERVE, OPT_WORK, OPT_WORK_AS };
	static const struct option options[] = {
		{ "help",	no_argument,		NULL, 'h' },
		{ "idle",	required_argument,	NULL, OPT_IDLE },
		{ "listen",	required_argument,	NULL, OPT_LISTEN },
		{ "lock",	required_argument,	NULL, 'l' },
		{ "serve",	required_argument,	NULL, OPT_SERVE },
		{ "start",	required_argument,	NULL, 's' },
		{ "work",	required_argument,	NULL, OPT_WORK },
		{ "work-as",	required_argument,	NULL, OPT_WORK_AS },
		{ NULL,		0,			NULL, 0 },
	};
	struct server_config config = {
		.lock = SERVER_NONE,
		.lock_name = "none",
		.idle_ns = SERVER_IDLE_NS,
	};
	const struct backend *backend = &server_backend;
	const struct lock_kind *kind;
	struct server_address address;
	const char *listen_at = NULL, *why;
	bool work_as_given = false;
	long long final;
	sigset_t stops;
	int opt, listen_fd, stop_fd;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":hl:s:", options,
	    NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(serve_usage, stdout);
			cli_exit(EXIT_SUCCESS);
		case 'l':
			kind = cli_kind(&backend, optarg);
			config.lock = server_lock_of(kind);
			config.lock_name = kind->name;
			break;
		case 's':
			if (parse_signed(optarg, &config.start, &why) == -1)
				cli_usage("--start '%s': %s", optarg, why);
			break;
		case OPT_IDLE:
			config.idle_ns = (int64_t)cli_duration("idle", optarg,
			    MAX_IDLE, false);
			break;
		case OPT_LISTEN:
			listen_at = optarg;
			break;
		case OPT_SERVE:
			if (strcmp(optarg, "serial") != 0 &&
			    strcmp(optarg, "threads") != 0)
				cli_usage("--serve '%s': choose serial or "
				    "threads", optarg);
			config.serial = strcmp(optarg, "serial") == 0;
			break;
		case OPT_WORK:
			config.work_ns = cli_duration("work", optarg, MAX_WORK,
			    true);
			break;
		case OPT_WORK_AS:
			if (strcmp(optarg, "spin") != 0 &&
			    strcmp(optarg, "sleep") != 0)
				cli_usage("--work-as '%s': choose sleep or spin",
				    optarg);
			config.work_spins = strcmp(optarg, "spin") == 0;
			work_as_given = true;
			break;
		default:
			cli_bad_option(argv, opt, options);
		}
	}
	if (optind < argc)
		cli_usage("unexpected argument '%s'", argv[optind]);
	if (listen_at == NULL)
		cli_usage("--listen: say where to listen, as HOST:PORT or a "
		    "path");
	if (work_as_given && config.work_ns == 0)
		cli_usage("--work-as says how --work works, and it is not "
		    "given");
	if (server_resolve(listen_at, &address, &why) == -1)
		cli_usage("--listen=%s: %s", listen_at, why);

	/* proccount blocked these at its start; here they end the server. */
	sigemptyset(&stops);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGHUP);
	sigprocmask(SIG_BLOCK, &stops, NULL);
	if ((stop_fd = signalfd(-1, &stops, SFD_CLOEXEC)) == -1)
		err(EXIT_SYSTEM, "signalfd");
	if ((listen_fd = server_listen(&address)) == -1)
		err(EXIT_SYSTEM, "%s", address.text);
	printf("listening on %s, lock=%s serve=%s\n", address.text,
	    config.lock_name, config.serial ? "serial" : "threads");
	if (fflush(stdout) == EOF)
		err(EXIT_SYSTEM, "stdout");
	if (server_run(listen_fd, stop_fd, &config, &final) == -1) {
		warn("serve");
		if (address.unix_path)
			unlink(address.text);
		return EXIT_SYSTEM;
	}
	close(listen_fd);
	if (address.unix_path)
		unlink(address.text);
	printf("final %lld\n", final);
	cli_exit(EXIT_SUCCESS);
}
