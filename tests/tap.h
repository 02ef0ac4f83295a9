/*
 * A tiny TAP producer for the C unit tests: ok, is_int, is_str, and a plan
 * printed at the end.  The exit status is 1 if any test failed.
 */
#ifndef PROCCOUNT_TAP_H
#define PROCCOUNT_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_tests, tap_failures;

static inline int
ok(int passed, const char *name)
{
	tap_tests++;
	if (!passed)
		tap_failures++;
	printf("%sok %d - %s\n", passed ? "" : "not ", tap_tests, name);
	return passed;
}

static inline int
is_int(long long got, long long expected, const char *name)
{
	if (!ok(got == expected, name))
		printf("#   got:      %lld\n#   expected: %lld\n", got, expected);
	return got == expected;
}

static inline int
is_str(const char *got, const char *expected, const char *name)
{
	int same = got != NULL && strcmp(got, expected) == 0;

	if (!ok(same, name))
		printf("#   got:      '%s'\n#   expected: '%s'\n",
		    got ? got : "(null)", expected);
	return same;
}

static inline int
done_testing(void)
{
	printf("1..%d\n", tap_tests);
	return tap_failures != 0;
}

#endif
