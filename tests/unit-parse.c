/* Unit test of parse.c: counts, signed values, durations, and their errors. */
#include <stdint.h>

#include "../parse.h"
#include "tap.h"

static void
count_is(const char *s, uint64_t max, long long expected)
{
	const char *why = NULL;
	uint64_t value = 0;
	char name[128];

	snprintf(name, sizeof(name), "count '%s' is %lld", s, expected);
	is_int(parse_count(s, max, &value, &why) == 0 ? (long long)value : -1,
	    expected, name);
}

static void
count_fails(const char *s, uint64_t max, const char *reason)
{
	const char *why = NULL;
	uint64_t value;
	char name[128];

	snprintf(name, sizeof(name), "count '%s' fails: %s", s, reason);
	ok(parse_count(s, max, &value, &why) == -1 && why != NULL &&
	    strncmp(why, reason, strlen(reason)) == 0, name);
}

static void
duration_is(const char *s, long long expected)
{
	const char *why = NULL;
	uint64_t value = 0;
	char name[128];

	snprintf(name, sizeof(name), "duration '%s' is %lld ns", s, expected);
	is_int(parse_duration(s, UINT64_MAX, &value, &why) == 0 ?
	    (long long)value : -1, expected, name);
}

static void
duration_fails(const char *s, uint64_t max, const char *reason)
{
	const char *why = NULL;
	uint64_t value;
	char name[128];

	snprintf(name, sizeof(name), "duration '%s' fails: %s", s, reason);
	ok(parse_duration(s, max, &value, &why) == -1 && why != NULL &&
	    strncmp(why, reason, strlen(reason)) == 0, name);
}

int
main(void)
{
	const char *why;
	long long value;

	count_is("0", 100, 0);
	count_is("20000", 1000000, 20000);
	count_is("2k", 1000000, 2000);
	count_is("2K", 1000000, 2000);
	count_is("1M", 1000000, 1000000);
	count_is("3G", UINT64_MAX, 3000000000LL);
	count_is("4096", 4096, 4096);
	count_fails("4097", 4096, "too large");
	count_fails("2M", 1000000, "too large");
	count_fails("99999999999999999999", UINT64_MAX, "too large");
	count_fails("18446744073709551616", UINT64_MAX, "too large");
	count_fails("-1", 100, "must not be negative");
	count_fails("", 100, "not a number");
	count_fails("abc", 100, "not a number");
	count_fails("12x", 100, "not a number");
	count_fails("1kk", 100000, "not a number");
	count_fails(" 1", 100, "not a number");
	count_fails("1.5k", 100000, "not a number");

	ok(parse_signed("-42", &value, &why) == 0 && value == -42,
	    "signed '-42'");
	ok(parse_signed("+7", &value, &why) == 0 && value == 7, "signed '+7'");
	ok(parse_signed("-9223372036854775808", &value, &why) == 0 &&
	    value == (-9223372036854775807LL - 1), "signed: the smallest");
	ok(parse_signed("9223372036854775808", &value, &why) == -1 &&
	    strcmp(why, "out of range") == 0, "signed: one past the largest");
	ok(parse_signed("", &value, &why) == -1, "signed: empty");
	ok(parse_signed(" 1", &value, &why) == -1, "signed: leading space");
	ok(parse_signed("1x", &value, &why) == -1, "signed: trailing junk");

	duration_is("3", 3000000000LL);
	duration_is("0.5s", 500000000);
	duration_is("250us", 250000);
	duration_is("1ms", 1000000);
	duration_is("17ns", 17);
	duration_is("1.5ms", 1500000);
	duration_is("2m", 120000000000LL);
	duration_is("1h", 3600000000000LL);
	duration_is("0.000000001", 1);
	duration_is("0.0000000019", 1);
	duration_is(".25", 250000000);
	duration_is("0", 0);
	duration_is("1.999999999h", 7199999996400LL);
	duration_fails("-1ms", UINT64_MAX, "must not be negative");
	duration_fails("", UINT64_MAX, "not a duration");
	duration_fails("ms", UINT64_MAX, "not a duration");
	duration_fails("1 ms", UINT64_MAX, "not a duration");
	duration_fails("1sec", UINT64_MAX, "not a duration");
	duration_fails("1.2.3", UINT64_MAX, "not a duration");
	duration_fails("61", 60000000000ULL, "too long");
	duration_fails("99999999999999999999h", UINT64_MAX, "too long");
	duration_fails("5124096h", UINT64_MAX, "too long");
	return done_testing();
}
