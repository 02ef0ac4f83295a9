/*
 * Unit tests of units_time: the unit is the one that keeps three figures,
 * chosen after rounding, and nanoseconds stay whole from 100 up.
 */
#include <math.h>

#include "../units.h"
#include "tap.h"

static void
time_is(double ns, const char *expected)
{
	char buf[UNITS_LEN], name[64];

	snprintf(name, sizeof(name), "%.3f ns reads %s", ns, expected);
	is_str(units_time(buf, ns), expected, name);
}

int
main(void)
{
	time_is(0, "0.00 ns");
	time_is(4.214, "4.21 ns");
	time_is(9.996, "10.0 ns");
	time_is(62, "62.0 ns");
	time_is(99.94, "99.9 ns");
	time_is(99.96, "100 ns");
	time_is(390, "390 ns");
	time_is(999.4, "999 ns");
	time_is(999.6, "1.00 us");
	time_is(1250, "1.25 us");
	time_is(62000, "62.0 us");
	time_is(999949, "999.9 us");
	time_is(999960, "1.00 ms");
	time_is(100122673, "100.1 ms");
	time_is(999999999, "1.00 s");
	time_is(2.5e9, "2.50 s");
	time_is(3600e9, "3600.0 s");
	time_is(-1250, "-1.25 us");
	time_is(INFINITY, "inf s");
	return done_testing();
}
