/*
 * The monotonic clock in nanoseconds, and a sleep that a signal does not
 * cut short: what workers, backends and the runner all time with; and the
 * cheaper clock that --latency times lock waits with.
 */
#ifndef PROCCOUNT_CLOCK_H
#define PROCCOUNT_CLOCK_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

static inline int64_t
clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * --latency's clock: the CPU's time-stamp counter where the runner found
 * it stable and knows its rate, a third of the cost of clock_ns here; else
 * clock_ns, a tick a nanosecond.
 */
static inline uint64_t
clock_ticks(bool tsc)
{
#if defined(__x86_64__) || defined(__i386__)
	if (tsc)
		return __builtin_ia32_rdtsc();
#else
	(void)tsc;
#endif
	return (uint64_t)clock_ns();
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
