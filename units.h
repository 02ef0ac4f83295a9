/*
 * Numbers a person reads: a span of time in the unit that keeps it short
 * ("62 ns", "1.25 us", "100.1 ms", "2.50 s"), with three significant
 * figures.  The JSON and CSV keep plain nanoseconds; only text uses this.
 */
#ifndef PROCCOUNT_UNITS_H
#define PROCCOUNT_UNITS_H

#include <stddef.h>

/* Long enough for any double: "-1.8e+308 s" and more. */
#define UNITS_LEN	32

/* Writes NS, a span in nanoseconds, into buf with its unit; returns buf. */
const char	*units_time(char buf[UNITS_LEN], double ns);

#endif
