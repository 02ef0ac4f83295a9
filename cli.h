/*
 * What the two command lines, proccount's and proccount bench's, share:
 * one way to complain about usage, one way to end once stdout has what
 * was printed, and the readers of numbers, durations, backends and lock
 * kinds that complain in the same words.
 */
#ifndef PROCCOUNT_CLI_H
#define PROCCOUNT_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "backends.h"

#define SECOND		1000000000ULL

/* Names the command in usage errors: "proccount", "proccount bench". */
void	cli_begin(const char *command);
/* One line on stderr, "(try COMMAND --help)", and exit status 2. */
void	cli_usage(const char *, ...)
	    __attribute__((noreturn, format(printf, 1, 2)));
/* After getopt_long returned ':' or '?'. */
struct option;
void	cli_bad_option(char **argv, int opt, const struct option *)
	    __attribute__((noreturn));
/*
 * Exits with status once what was printed has reached stdout, or else
 * with a message and exit status 3, as when stdout is a full disk.
 */
void	cli_exit(int status) __attribute__((noreturn));

uint64_t cli_count(const char *option, const char *arg, uint64_t min,
	    uint64_t max);
uint64_t cli_duration(const char *option, const char *arg, uint64_t max,
	    bool zero_ok);
const struct backend *cli_backend(const char *name);
/*
 * The kind named, on *backend if it is set, else on the backend that
 * offers it, which is stored in *backend.
 */
const struct lock_kind *cli_kind(const struct backend **backend,
	    const char *name);
/* --pin: "spread" or "none". */
enum pin cli_pin(const char *how);
/* --as: "processes", "threads" or both, comma-separated. */
void	cli_as(const char *list, bool *processes, bool *threads);

#endif
