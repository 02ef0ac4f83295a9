/*
 * The cycle of waits: follow each waiting worker to the holder of the lock
 * it waits for, and on, until the walk comes back to a worker it has met.
 * Every worker waits for one lock at most and every lock has one holder,
 * so from any worker there is one walk; a walk that reaches a worker an
 * earlier walk went through finds no cycle that walk did not, and stops.
 */
#include <stdlib.h>

#include "cycle.h"

#define LOCKS	32

unsigned
cycle_find(const struct lock_state *states, unsigned n,
    struct cycle_link *cycle, unsigned max)
{
	unsigned holder[LOCKS], *walked, i, at, lock, length = 0, first, k;
	struct cycle_link turned[CYCLE_MAX];
	int waits;

	if (max > CYCLE_MAX)
		max = CYCLE_MAX;

	for (lock = 0; lock < LOCKS; lock++)
		holder[lock] = n;
	for (i = n; i-- > 0;)
		for (lock = 0; lock < LOCKS; lock++)
			if (states[i].holds & 1u << lock)
				holder[lock] = i;
	/* Which walk went through each worker, counted from 1; 0: none. */
	if ((walked = calloc(n + 1, sizeof(*walked))) == NULL)
		return 0;
	for (i = 0; i < n && length == 0; i++) {
		for (at = i; at < n && walked[at] == 0; at = holder[waits]) {
			walked[at] = i + 1;
			waits = states[at].waits_for;
			if (waits < 0 || waits >= LOCKS)
				break;
		}
		if (at >= n || walked[at] != i + 1 ||
		    states[at].waits_for < 0 || states[at].waits_for >= LOCKS)
			continue;
		/* at is on the cycle: go round it once. */
		first = at;
		do {
			if (length < max)
				cycle[length].worker = at;
			length++;
			at = holder[states[at].waits_for];
		} while (at != first && length <= max);
	}
	free(walked);
	if (length == 0 || length > max)
		return 0;
	/* From the lowest-numbered worker on. */
	for (first = 0, k = 1; k < length; k++)
		if (cycle[k].worker < cycle[first].worker)
			first = k;
	for (k = 0; k < length; k++)
		turned[k] = cycle[(first + k) % length];
	for (k = 0; k < length; k++)
		turned[k].waits_for =
		    (unsigned)states[turned[k].worker].waits_for;
	/* Each holds what the one before it waits for. */
	for (k = 0; k < length; k++) {
		cycle[k] = turned[k];
		cycle[k].holds = turned[(k + length - 1) % length].waits_for;
	}
	return length;
}
