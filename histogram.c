/*
 * Reading the histograms of histogram.h: bucket bounds, merging, and
 * percentiles by the nearest-rank method.
 */
#include <math.h>

#include "histogram.h"

uint64_t
histogram_lowest(unsigned bucket)
{
	unsigned octave, step;

	if (bucket < 16)
		return bucket;
	octave = 4 + (bucket - 16) / 8;
	step = octave - 3;
	return (uint64_t)(8 + (bucket - 16) % 8) << step;
}

uint64_t
histogram_highest(unsigned bucket)
{
	if (bucket == HISTOGRAM_BUCKETS - 1)
		return UINT64_MAX;
	return histogram_lowest(bucket + 1) - 1;
}

void
histogram_merge(struct histogram *into, const struct histogram *from)
{
	unsigned i;

	for (i = 0; i < HISTOGRAM_BUCKETS; i++)
		into->count[i] += from->count[i];
	if (from->max > into->max)
		into->max = from->max;
}

uint64_t
histogram_total(const struct histogram *h)
{
	uint64_t total = 0;
	unsigned i;

	for (i = 0; i < HISTOGRAM_BUCKETS; i++)
		total += h->count[i];
	return total;
}

/*
 * The smallest value v such that at least fraction of the samples are at
 * most v, as far as the buckets tell: the highest value of the bucket that
 * holds the sample of that rank, never above the largest sample seen.
 */
uint64_t
histogram_percentile(const struct histogram *h, double fraction)
{
	uint64_t total = histogram_total(h), rank, seen = 0, highest;
	unsigned i;

	if (total == 0)
		return 0;
	rank = (uint64_t)ceil(fraction * (double)total);
	if (rank < 1)
		rank = 1;
	if (rank > total)
		rank = total;
	for (i = 0; i < HISTOGRAM_BUCKETS; i++) {
		seen += h->count[i];
		if (seen >= rank)
			break;
	}
	highest = histogram_highest(i);
	return highest < h->max ? highest : h->max;
}
