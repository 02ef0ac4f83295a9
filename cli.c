/*
 * The command lines' shared helpers.  Each reader either returns what it
 * read or ends proccount with a usage error naming the option, the value
 * and what is wrong with it.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "judge.h"
#include "parse.h"

static const char *command = "proccount";

void
cli_begin(const char *name)
{
	command = name;
}

void
cli_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", command);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (try %s --help)\n", command);
	exit(EXIT_USAGE);
}

/*
 * The long option a word names, as getopt_long reads it: the option of
 * that name, else the only one it begins; NULL when none does, and when
 * several do, with *matches set to how many.
 */
static const struct option *
long_option(const char *name, size_t len, const struct option *options,
    int *matches)
{
	const struct option *o, *found = NULL;

	*matches = 0;
	for (o = options; o->name != NULL; o++) {
		if (strncmp(o->name, name, len) != 0)
			continue;
		if (strlen(o->name) == len) {
			*matches = 1;
			return o;
		}
		found = o;
		(*matches)++;
	}
	return *matches == 1 ? found : NULL;
}

/*
 * getopt_long sets optopt to 0 for an unknown or ambiguous long option and
 * to the option's own value when it refuses its value, so the long option
 * is named from the word as it was typed.  A short option refused in the
 * middle of a cluster leaves optind on the cluster, so the word before it
 * is not the culprit: optopt, a character no long option has, says so.
 */
void
cli_bad_option(char **argv, int opt, const struct option *options)
{
	const char *word = argv[optind - 1];
	const struct option *o;
	char list[256];
	size_t len, at;
	int matches;
	bool is_long = optopt == 0;

	for (o = options; o->name != NULL && !is_long; o++)
		is_long = o->val == optopt;
	if (is_long && strncmp(word, "--", 2) == 0 && word[2] != '\0') {
		len = strcspn(word + 2, "=");
		o = len != 0 ? long_option(word + 2, len, options, &matches) :
		    NULL;
		if (o != NULL && o->has_arg == no_argument &&
		    word[2 + len] == '=')
			cli_usage("option '--%s' takes no value", o->name);
		if (o != NULL && opt == ':')
			cli_usage("option '--%s' needs a value", o->name);
		if (o == NULL && len != 0 && matches > 1) {
			list[0] = '\0';
			for (at = 0, o = options; o->name != NULL &&
			    at < sizeof(list); o++)
				if (strncmp(o->name, word + 2, len) == 0)
					at += (size_t)snprintf(list + at,
					    sizeof(list) - at, "%s--%s",
					    at == 0 ? "" : ", ", o->name);
			cli_usage("option '%.*s' is ambiguous: %s",
			    (int)len + 2, word, list);
		}
		cli_usage("unknown option '%.*s'", len != 0 ? (int)len + 2 :
		    (int)strlen(word), word);
	}
	if (opt == ':')
		cli_usage("option '-%c' needs a value", optopt);
	cli_usage("unknown option '-%c'", optopt);
}

void
cli_exit(int status)
{
	if (fflush(stdout) == EOF || ferror(stdout))
		err(EXIT_SYSTEM, "stdout");
	exit(status);
}

uint64_t
cli_count(const char *option, const char *arg, uint64_t min, uint64_t max)
{
	const char *why;
	uint64_t value;

	if (parse_count(arg, max, &value, &why) == -1)
		cli_usage("--%s '%s': %s", option, arg, why);
	if (value < min)
		cli_usage("--%s '%s': must be at least %llu", option, arg,
		    (unsigned long long)min);
	return value;
}

uint64_t
cli_duration(const char *option, const char *arg, uint64_t max, bool zero_ok)
{
	const char *why;
	uint64_t value;

	if (parse_duration(arg, max, &value, &why) == -1)
		cli_usage("--%s '%s': %s", option, arg, why);
	if (value == 0 && !zero_ok)
		cli_usage("--%s '%s': must be more than zero", option, arg);
	return value;
}

const struct backend *
cli_backend(const char *name)
{
	const struct backend *backend = backend_named(name);
	char list[128] = "";
	size_t i, len = 0;

	if (backend != NULL)
		return backend;
	for (i = 0; backends[i] != NULL && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
		    i == 0 ? "" : backends[i + 1] ? ", " : " or ",
		    backends[i]->name);
	cli_usage("unknown backend '%s': choose %s", name, list);
}

const struct lock_kind *
cli_kind(const struct backend **backend, const char *name)
{
	const struct lock_kind *kind;
	char list[256];

	if (*backend == NULL)
		*backend = backend_offering(name);
	if (*backend != NULL && (kind = kind_named(*backend, name)) != NULL)
		return kind;
	kinds_list(*backend, list, sizeof(list));
	if (*backend == NULL)
		cli_usage("no backend has a lock kind '%s': choose %s", name,
		    list);
	cli_usage("the %s backend has no lock kind '%s': choose %s",
	    (*backend)->name, name, list);
}

enum pin
cli_pin(const char *how)
{
	if (strcmp(how, "spread") == 0)
		return PIN_SPREAD;
	if (strcmp(how, "none") == 0)
		return PIN_NONE;
	cli_usage("--pin '%s': choose spread or none", how);
}

void
cli_as(const char *list, bool *processes, bool *threads)
{
	const char *at = list;
	size_t len;

	*processes = *threads = false;
	if (*list == '\0')
		cli_usage("--as: choose processes, threads or both");
	for (; *at != '\0'; at += len + (at[len] == ',')) {
		len = strcspn(at, ",");
		if (len == 9 && strncmp(at, "processes", len) == 0)
			*processes = true;
		else if (len == 7 && strncmp(at, "threads", len) == 0)
			*threads = true;
		else
			cli_usage("--as '%s': choose processes, threads or "
			    "both", list);
	}
}
