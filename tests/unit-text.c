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

static void
reads_tagged(const char *text, long long expected, uint32_t tag,
    const char *what)
{
	long long value = 12345;
	uint32_t got = 99;

	ok(counter_text_read_tagged(text, strlen(text), &value, &got) &&
	    value == expected && got == tag, what);
}

static void
refuses_tagged(const char *text, const char *what)
{
	long long value;
	uint32_t tag;

	ok(!counter_text_read_tagged(text, strlen(text), &value, &tag), what);
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

	/* A traced run's record: the value, then its write's tag. */
	ok(counter_text_format_tagged(15, 3, text), "tagged: 15 3 fits");
	is_str(text, "15 3                \n", "tagged: the tag after a space");
	ok(counter_text_format_tagged(INT32_MIN, 4194304, text),
	    "tagged: the widest value and tag fit");
	is_str(text, "-2147483648 4194304 \n", "tagged: the widest record");
	ok(!counter_text_format_tagged(LLONG_MIN, 1, text),
	    "tagged: a 64-bit value and a tag do not fit");
	reads_tagged("15 3                \n", 15, 3, "tagged: read back");
	reads_tagged("-2147483648 4194304 \n", INT32_MIN, 4194304,
	    "tagged: the widest read back");
	reads_tagged("42\n", 42, 0, "tagged: a plain number is the start's");
	reads_tagged(" -7 \t 12\n", -7, 12, "tagged: any whitespace between");
	reads_tagged("1_000 4294967295", 1000, UINT32_MAX,
	    "tagged: the largest tag");
	refuses_tagged("15 x", "tagged: a tag that is no number");
	refuses_tagged("15 3 4", "tagged: three fields");
	refuses_tagged("15 -3", "tagged: a negative tag");
	refuses_tagged("15 4294967296", "tagged: a tag past 32 bits");
	refuses_tagged("x 3", "tagged: a value that is no number");
	refuses_tagged("", "tagged: nothing");
	return done_testing();
}
