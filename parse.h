/*
 * Parsing of the command line's numbers and durations: pure functions that
 * the unit tests can call directly.
 */
#ifndef PROCCOUNT_PARSE_H
#define PROCCOUNT_PARSE_H

#include <stdint.h>

/*
 * Each returns 0, or -1 with a short reason in *why ("not a number", "out
 * of range", ...), for the caller to put in its one-line message.
 */
int	parse_count(const char *, uint64_t max, uint64_t *, const char **why);
int	parse_signed(const char *, long long *, const char **why);
int	parse_duration(const char *, uint64_t max_ns, uint64_t *,
	    const char **why);

#endif
