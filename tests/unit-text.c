/* Unit test of filelock/text.h: the counter file's fixed-width record. */
#include <limits.h>

#include "../filelock/text.h"
#include "tap.h"

static void
round_trip(long long value)
{
	char text[COUNTER_TEXT_SIZE], name[96];
	long long back = 0;

	counter_text_format(value, text);
	snprintf(name, sizeof(name), "%lld comes back from its record", value);
	ok(counter_text_parse(text, &back) && back == value, name);
}

static void
rejects(const char *record, const char *what)
{
	char text[COUNTER_TEXT_SIZE];
	long long value;

	memcpy(text, record, COUNTER_TEXT_SIZE);
	ok(!counter_text_parse(text, &value), what);
}

int
main(void)
{
	char text[COUNTER_TEXT_SIZE + 1] = { 0 };

	counter_text_format(0, text);
	is_str(text, "0                   \n", "0 is left-aligned, padded");
	counter_text_format(-39, text);
	is_str(text, "-39                 \n", "a negative value");
	counter_text_format(LLONG_MIN, text);
	is_str(text, "-9223372036854775808\n", "the smallest value fills it");
	counter_text_format(LLONG_MAX, text);
	is_str(text, "9223372036854775807 \n", "the largest value");
	round_trip(0);
	round_trip(1);
	round_trip(-1);
	round_trip(123456789);
	round_trip(LLONG_MAX);
	round_trip(LLONG_MIN);
	rejects("                    \n", "all spaces is no value");
	rejects("-                   \n", "a lone sign is no value");
	rejects("12 3                \n", "digits after padding");
	rejects("12x                 \n", "junk after the digits");
	rejects("12                  x", "no newline at the end");
	rejects(" 12                 \n", "a leading space");
	rejects("9223372036854775808 \n", "one past the largest");
	rejects("-9223372036854775809\n", "one past the smallest");
	rejects("\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", "zero bytes");
	return done_testing();
}
