/*
 * Parsing of counts ("20000", "2k", "1M"), signed values and durations
 * ("250us", "1ms", "0.5s", "3" for three seconds).  Only whole strings are
 * accepted: no sign where none makes sense, no spaces, no trailing junk.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

/* Reads the leading decimal digits of s into *value; returns how many. */
static int
read_digits(const char **s, uint64_t *value, int *overflow)
{
	int n = 0;

	*value = 0;
	*overflow = 0;
	for (; isdigit((unsigned char)**s); (*s)++, n++) {
		unsigned digit = (unsigned)(**s - '0');

		if (*value > (UINT64_MAX - digit) / 10)
			*overflow = 1;
		else
			*value = *value * 10 + digit;
	}
	return n;
}

int
parse_count(const char *s, uint64_t max, uint64_t *out, const char **why)
{
	uint64_t value, scale = 1;
	int overflow;

	if (*s == '-') {
		*why = "must not be negative";
		return -1;
	}
	if (read_digits(&s, &value, &overflow) == 0) {
		*why = "not a number";
		return -1;
	}
	if (*s == 'k' || *s == 'K')
		scale = 1000;
	else if (*s == 'M')
		scale = 1000000;
	else if (*s == 'G')
		scale = 1000000000;
	if (scale != 1)
		s++;
	if (*s != '\0') {
		*why = "not a number (suffixes: k, M, G)";
		return -1;
	}
	if (overflow || value > max / scale) {
		*why = "too large";
		return -1;
	}
	*out = value * scale;
	return 0;
}

int
parse_signed(const char *s, long long *out, const char **why)
{
	char *end;
	long long value;

	if (*s == '\0' || isspace((unsigned char)*s)) {
		*why = "not a number";
		return -1;
	}
	errno = 0;
	value = strtoll(s, &end, 10);
	if (end == s || *end != '\0') {
		*why = "not a number";
		return -1;
	}
	if (errno == ERANGE) {
		*why = "out of range";
		return -1;
	}
	*out = value;
	return 0;
}

static const struct {
	const char	*suffix;
	uint64_t	 ns;
} duration_units[] = {
	{ "ns", 1 },
	{ "us", 1000 },
	{ "ms", 1000000 },
	{ "s", 1000000000 },
	{ "", 1000000000 },
	{ "m", 60 * (uint64_t)1000000000 },
	{ "h", 3600 * (uint64_t)1000000000 },
};

int
parse_duration(const char *s, uint64_t max_ns, uint64_t *out, const char **why)
{
	uint64_t whole, fraction = 0, fraction_scale = 1, unit = 0;
	int overflow, digits = 0;
	size_t i;

	if (*s == '-') {
		*why = "must not be negative";
		return -1;
	}
	digits = read_digits(&s, &whole, &overflow);
	if (*s == '.') {
		s++;
		for (; isdigit((unsigned char)*s); s++, digits++) {
			/* Digits past nanoseconds cannot matter; drop them. */
			if (fraction_scale < 1000000000) {
				fraction = fraction * 10 + (uint64_t)(*s - '0');
				fraction_scale *= 10;
			}
		}
	}
	if (digits == 0) {
		*why = "not a duration (like 250us, 1ms, 0.5s)";
		return -1;
	}
	for (i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++)
		if (strcmp(s, duration_units[i].suffix) == 0)
			unit = duration_units[i].ns;
	if (unit == 0) {
		*why = "not a duration (units: ns, us, ms, s, m, h)";
		return -1;
	}
	/* Exact, and without overflow: units of a second or more divide by
	 * any fraction_scale, and smaller units keep the product small. */
	if (unit % fraction_scale == 0)
		fraction *= unit / fraction_scale;
	else
		fraction = fraction * unit / fraction_scale;
	if (overflow || fraction > max_ns ||
	    whole > (max_ns - fraction) / unit) {
		*why = "too long";
		return -1;
	}
	*out = whole * unit + fraction;
	return 0;
}
