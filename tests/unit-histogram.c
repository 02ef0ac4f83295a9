/*
 * Unit test of procs/histogram.c: bucket boundaries, merging, and
 * percentiles against a sorted reference.
 */
#include <stdlib.h>

#include "../histogram.h"
#include "tap.h"

static int
by_value(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The nearest-rank percentile of sorted samples. */
static uint64_t
reference(const uint64_t *sorted, size_t n, double fraction)
{
	size_t rank = (size_t)(fraction * (double)n + 0.999999999);

	if (rank < 1)
		rank = 1;
	return sorted[rank - 1];
}

int
main(void)
{
	static struct histogram h, a, b;
	static uint64_t samples[10000];
	const double fractions[] = { 0.5, 0.9, 0.99, 0.999, 1.0 };
	unsigned bucket, i, bad = 0;
	uint64_t ns;

	for (ns = 0; ns < 16; ns++)
		if (histogram_bucket(ns) != ns)
			bad++;
	is_int(bad, 0, "0-15 ns have a bucket each");
	is_int(histogram_bucket(16), 16, "16 ns opens bucket 16");
	is_int(histogram_bucket(17), 16, "17 ns shares it");
	is_int(histogram_bucket(18), 17, "18 ns is the next");
	is_int(histogram_bucket(31), 23, "31 ns ends the first octave");
	is_int(histogram_bucket(32), 24, "32 ns opens the second");
	is_int(histogram_bucket(UINT64_MAX), HISTOGRAM_BUCKETS - 1,
	    "the largest value lands in the last bucket");
	for (bucket = 0, bad = 0; bucket + 1 < HISTOGRAM_BUCKETS; bucket++) {
		if (histogram_bucket(histogram_lowest(bucket)) != bucket ||
		    histogram_bucket(histogram_highest(bucket)) != bucket ||
		    histogram_highest(bucket) + 1 !=
		    histogram_lowest(bucket + 1))
			bad++;
	}
	is_int(bad, 0, "every bucket's bounds map back to it, without gaps");
	for (bucket = 16, bad = 0; bucket + 1 < HISTOGRAM_BUCKETS; bucket++)
		if ((histogram_highest(bucket) - histogram_lowest(bucket) + 1) *
		    8 > histogram_lowest(bucket))
			bad++;
	is_int(bad, 0, "a bucket is at most 1/8 of its lowest value wide");

	srand(7);
	for (i = 0; i < 10000; i++) {
		samples[i] = (uint64_t)rand() % 1000 * (uint64_t)(rand() % 1000);
		histogram_add(i % 2 ? &a : &b, samples[i]);
	}
	histogram_merge(&h, &a);
	histogram_merge(&h, &b);
	is_int((long long)histogram_total(&h), 10000, "merging keeps every sample");
	qsort(samples, 10000, sizeof(samples[0]), by_value);
	is_int((long long)h.max, (long long)samples[9999], "max is exact");
	for (i = 0; i < sizeof(fractions) / sizeof(fractions[0]); i++) {
		uint64_t want = reference(samples, 10000, fractions[i]);
		uint64_t got = histogram_percentile(&h, fractions[i]);
		char name[96];

		snprintf(name, sizeof(name), "p%g is the top of the reference's "
		    "bucket (%llu)", fractions[i] * 100, (unsigned long long)want);
		is_int((long long)got, (long long)(histogram_highest(
		    histogram_bucket(want)) < h.max ?
		    histogram_highest(histogram_bucket(want)) : h.max), name);
	}
	memset(&h, 0, sizeof(h));
	is_int((long long)histogram_percentile(&h, 0.99), 0,
	    "an empty histogram's percentile is 0");
	histogram_add(&h, 5);
	is_int((long long)histogram_percentile(&h, 0.5), 5, "one sample");
	return done_testing();
}
