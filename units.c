/*
 * A span of time with the unit that keeps it readable; see units.h.
 */
#include <math.h>
#include <stdio.h>

#include "units.h"

const char *
units_time(char buf[UNITS_LEN], double ns)
{
	static const char *const name[] = { "ns", "us", "ms", "s" };
	const size_t last = sizeof(name) / sizeof(name[0]) - 1;
	double v = ns;
	size_t i = 0;

	/*
	 * Nanoseconds print whole from 100 up, the larger units keep one
	 * decimal there ("100.1 ms"); the unit is chosen after rounding, so
	 * 999.96 us is "1.00 ms", not "1000.0 us".
	 */
	while (i < last && fabs(v) >= (i == 0 ? 999.5 : 999.95)) {
		v /= 1e3;
		i++;
	}
	if (!isfinite(v))
		snprintf(buf, UNITS_LEN, "%g %s", v, name[i]);
	else if (fabs(v) < 9.995)
		snprintf(buf, UNITS_LEN, "%.2f %s", v, name[i]);
	else if (fabs(v) < 99.95 || i > 0)
		snprintf(buf, UNITS_LEN, "%.1f %s", v, name[i]);
	else
		snprintf(buf, UNITS_LEN, "%.0f %s", v, name[i]);
	return buf;
}
