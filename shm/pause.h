/*
 * The CPU's hint that a thread is spinning: it saves power and, on a core
 * shared by two hardware threads, lets the other one run.  Shared by the
 * spinlock and by the benchmark floor's copy of it.
 */
#ifndef PROCCOUNT_PAUSE_H
#define PROCCOUNT_PAUSE_H

static inline void
cpu_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}

#endif
