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

static void
reads(const char *text, long long expected, const char *what)
{
	long long value = 12345;

	ok(counter_text_read(text, strlen(text), &value) && value == expected,
	    what);
}

static void
refuses(const char *text, const char *what)
{
	long long value;
	size_t len = strlen(text);

	/* "1\0": the zero byte is part of the text. */
	if (len == 1 && text[0] == '1')
		len = 2;
	ok(!counter_text_read(text, len, &value), what);
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

	/* What other programs write, as Python's int() reads it. */
	reads("42", 42, "Python's str(n): no newline");
	reads("-7\n", -7, "a newline");
	reads("  +13 \t\r\n", 13, "surrounding whitespace and a plus");
	reads("1_000_000", 1000000, "underscores between digits");
	reads("-9223372036854775808", LLONG_MIN, "the smallest");
	reads("9223372036854775807\n", LLONG_MAX, "the largest");
	reads("0\n                    ", 0, "a record padded past its width");
	refuses("", "nothing");
	refuses(" \n", "whitespace alone");
	refuses("-", "a sign alone");
	refuses("hello", "a word");
	refuses("4 2", "space inside");
	refuses("1__0", "two underscores");
	refuses("_1", "a leading underscore");
	refuses("1_", "a trailing underscore");
	refuses("+-1", "two signs");
	refuses("0x10", "hexadecimal");
	refuses("9223372036854775808", "one past the largest");
	refuses("1\0", "a zero byte");
	return done_testing();
}
