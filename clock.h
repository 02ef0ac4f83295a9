/*
 * The monotonic clock in nanoseconds, and a sleep that a signal does not
 * cut short: what workers, backends and the runner all time with.
 */
#ifndef PROCCOUNT_CLOCK_H
#define PROCCOUNT_CLOCK_H

#include <errno.h>
#include <stdint.h>
#include <time.h>

static inline int64_t
clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline struct timespec
clock_timespec(int64_t ns)
{
	struct timespec ts = {
		(time_t)(ns / 1000000000), (long)(ns % 1000000000)
	};

	return ts;
}

static inline void
sleep_ns(uint64_t ns)
{
	struct timespec left = clock_timespec((int64_t)ns);

	while (nanosleep(&left, &left) == -1 && errno == EINTR)
		;
}

#endif
