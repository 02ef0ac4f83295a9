/*
 * Log-scale histograms of nanoseconds: what a worker's --latency loop adds
 * to (no allocation, no I/O) and what the parent merges and reads
 * percentiles from.  Buckets 0-15 hold 0-15 ns exactly; above, each power
 * of two is cut into 8 buckets, so a value is known to within 12.5%.
 */
#ifndef PROCCOUNT_HISTOGRAM_H
#define PROCCOUNT_HISTOGRAM_H

#include <stdint.h>

/* 16 exact buckets, then 8 a power of two up to 2^42 ns (73 minutes). */
#define HISTOGRAM_BUCKETS	320

struct histogram {
	uint64_t	count[HISTOGRAM_BUCKETS];
	uint64_t	max;
};

static inline unsigned
histogram_bucket(uint64_t ns)
{
	unsigned octave, bucket;

	if (ns < 16)
		return (unsigned)ns;
	octave = 63 - (unsigned)__builtin_clzll(ns);
	bucket = 16 + (octave - 4) * 8 + (unsigned)((ns >> (octave - 3)) & 7);
	return bucket < HISTOGRAM_BUCKETS ? bucket : HISTOGRAM_BUCKETS - 1;
}

static inline void
histogram_add(struct histogram *h, uint64_t ns)
{
	h->count[histogram_bucket(ns)]++;
	if (ns > h->max)
		h->max = ns;
}

uint64_t	histogram_lowest(unsigned bucket);
uint64_t	histogram_highest(unsigned bucket);
void		histogram_merge(struct histogram *, const struct histogram *);
uint64_t	histogram_total(const struct histogram *);
uint64_t	histogram_percentile(const struct histogram *, double);

#endif
