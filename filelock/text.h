/*
 * The counter file's one record: the value in decimal, left-aligned and
 * padded with spaces to a fixed width, then a newline.  A fixed width lets
 * every update overwrite the record in place with one pwrite, so the file
 * is never empty or half-written, and `cat` or Python's int() read it as is.
 *
 * What proccount reads is wider: whatever Python's int() reads from a text
 * file that holds a number, since other programs share the file.
 */
#ifndef PROCCOUNT_TEXT_H
#define PROCCOUNT_TEXT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* 20 characters hold any long long, sign included. */
#define COUNTER_TEXT_SIZE	21

static inline void
counter_text_format(long long value, char text[COUNTER_TEXT_SIZE])
{
	/* Unsigned arithmetic: the magnitude of LLONG_MIN fits. */
	unsigned long long magnitude = value < 0 ?
	    0 - (unsigned long long)value : (unsigned long long)value;
	char digits[20];
	int n = 0, at = 0;

	do {
		digits[n++] = (char)('0' + magnitude % 10);
		magnitude /= 10;
	} while (magnitude != 0);
	if (value < 0)
		text[at++] = '-';
	while (n > 0)
		text[at++] = digits[--n];
	memset(text + at, ' ', COUNTER_TEXT_SIZE - 1 - (size_t)at);
	text[COUNTER_TEXT_SIZE - 1] = '\n';
}

/* Accepts exactly what counter_text_format writes. */
static inline bool
counter_text_parse(const char text[COUNTER_TEXT_SIZE], long long *value)
{
	unsigned long long magnitude = 0, limit;
	bool negative = text[0] == '-';
	int at = negative, first;

	limit = negative ? (unsigned long long)__LONG_LONG_MAX__ + 1 :
	    (unsigned long long)__LONG_LONG_MAX__;
	for (first = at; at < COUNTER_TEXT_SIZE - 1 &&
	    text[at] >= '0' && text[at] <= '9'; at++) {
		unsigned digit = (unsigned)(text[at] - '0');

		if (magnitude > (limit - digit) / 10)
			return false;
		magnitude = magnitude * 10 + digit;
	}
	if (at == first)
		return false;
	for (; at < COUNTER_TEXT_SIZE - 1; at++)
		if (text[at] != ' ')
			return false;
	if (text[COUNTER_TEXT_SIZE - 1] != '\n')
		return false;
	*value = negative ? (long long)(0 - magnitude) : (long long)magnitude;
	return true;
}

/* Python's whitespace, in ASCII. */
static inline bool
counter_text_space(char ch)
{
	return ch == ' ' || (ch >= '\t' && ch <= '\r');
}

/*
 * Accepts what Python's int() accepts of ASCII text: surrounding
 * whitespace, a sign, and decimal digits, single underscores allowed
 * between them; len bytes of text, no terminator needed.
 */
static inline bool
counter_text_read(const char *text, size_t len, long long *value)
{
	unsigned long long magnitude = 0, limit;
	size_t at = 0, end = len;
	bool negative = false, digit_last = false;
	unsigned digit;

	while (at < end && counter_text_space(text[at]))
		at++;
	while (end > at && counter_text_space(text[end - 1]))
		end--;
	if (at < end && (text[at] == '-' || text[at] == '+'))
		negative = text[at++] == '-';
	if (at == end)
		return false;
	limit = negative ? (unsigned long long)__LONG_LONG_MAX__ + 1 :
	    (unsigned long long)__LONG_LONG_MAX__;
	for (; at < end; at++) {
		if (text[at] == '_' && digit_last && at + 1 < end) {
			digit_last = false;
			continue;
		}
		if (text[at] < '0' || text[at] > '9')
			return false;
		digit = (unsigned)(text[at] - '0');
		if (magnitude > (limit - digit) / 10)
			return false;
		magnitude = magnitude * 10 + digit;
		digit_last = true;
	}
	if (!digit_last)
		return false;
	*value = negative ? (long long)(0 - magnitude) : (long long)magnitude;
	return true;
}

/*
 * A traced run's record: the value, a space, and the tag of the write that
 * made it, "15 3", padded as ever.  Returns false when the two do not fit,
 * which a traced run's 32-bit value and tag of at most 7 digits always do.
 */
static inline bool
counter_text_format_tagged(long long value, uint32_t tag,
    char text[COUNTER_TEXT_SIZE])
{
	char digits[10], *space;
	size_t at, n = 0;

	counter_text_format(value, text);
	space = memchr(text, ' ', COUNTER_TEXT_SIZE - 1);
	at = space != NULL ? (size_t)(space - text) : COUNTER_TEXT_SIZE - 1;
	do {
		digits[n++] = (char)('0' + tag % 10);
		tag /= 10;
	} while (tag != 0);
	if (at + 1 + n > COUNTER_TEXT_SIZE - 1)
		return false;
	for (at++; n > 0; at++)
		text[at] = digits[--n];
	return true;
}

/*
 * Reads what counter_text_read reads, and a traced record's tag after it;
 * a plain number, as a traced run's parent writes at its start and end,
 * is the start value, tag 0.
 */
static inline bool
counter_text_read_tagged(const char *text, size_t len, long long *value,
    uint32_t *tag)
{
	size_t at = 0, end = len, gap, from;
	unsigned long long number = 0;

	while (end > at && counter_text_space(text[end - 1]))
		end--;
	while (at < end && counter_text_space(text[at]))
		at++;
	for (gap = at; gap < end && !counter_text_space(text[gap]); gap++)
		;
	if (gap == end) {
		*tag = 0;
		return counter_text_read(text, len, value);
	}
	for (from = gap; from < end && counter_text_space(text[from]); from++)
		;
	for (; from < end; from++) {
		if (text[from] < '0' || text[from] > '9')
			return false;
		number = number * 10 + (unsigned)(text[from] - '0');
		if (number > UINT32_MAX)
			return false;
	}
	if (!counter_text_read(text + at, gap - at, value))
		return false;
	*tag = (uint32_t)number;
	return true;
}

#endif
