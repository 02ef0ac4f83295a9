/*
 * The cycle finder of --counters=2, on made-up tables of what each worker
 * holds and waits for: the cycle named from its lowest-numbered worker,
 * each link holding what the one before it waits for, and none where the
 * waits end at a worker that waits for nothing.
 */
#include <stdio.h>

#include "../procs/cycle.h"
#include "tap.h"

#define A	(1u << 0)
#define B	(1u << 1)

/* The cycle as text: "1:A>B 2:B>A", or "none". */
static const char *
found(const struct lock_state *states, unsigned n)
{
	static char text[256];
	struct cycle_link cycle[CYCLE_MAX];
	unsigned length = cycle_find(states, n, cycle, CYCLE_MAX), k;
	size_t at = 0;

	if (length == 0)
		return "none";
	for (k = 0; k < length; k++)
		at += (size_t)snprintf(text + at, sizeof(text) - at,
		    "%s%u:%c>%c", k ? " " : "", cycle[k].worker,
		    'A' + cycle[k].holds, 'A' + cycle[k].waits_for);
	return text;
}

int
main(void)
{
	const struct lock_state two[] = { { A, 1 }, { B, 0 } };
	const struct lock_state turned[] = { { B, 0 }, { A, 1 } };
	const struct lock_state bystanders[] = {
		{ 0, 0 }, { 0, 1 }, { B, 0 }, { 0, -1 }, { A, 1 },
	};
	const struct lock_state waiting[] = { { A, 1 }, { 0, 0 }, { B, -1 } };
	const struct lock_state free_lock[] = { { A, 1 }, { 0, 0 } };
	const struct lock_state idle[] = { { 0, -1 }, { 0, -1 } };
	const struct lock_state itself[] = { { 0, -1 }, { A, 0 } };
	const struct lock_state three[] = {
		{ 1u << 2, 0 }, { 1u << 0, 1 }, { 1u << 1, 2 },
	};
	const struct lock_state shared[] = { { A, 1 }, { A | B, 0 } };
	struct cycle_link one[1];

	is_str(found(two, 2), "0:A>B 1:B>A",
	    "A then B against B then A: a cycle of two");
	is_str(found(turned, 2), "0:B>A 1:A>B",
	    "named from the lowest-numbered worker, whatever it holds");
	is_str(found(bystanders, 5), "2:B>A 4:A>B",
	    "workers waiting behind the cycle are not in it");
	is_str(found(waiting, 3), "none",
	    "a chain that ends at a worker waiting for nothing: no cycle");
	is_str(found(free_lock, 2), "none",
	    "waiting for a lock nobody holds: no cycle");
	is_str(found(idle, 2), "none", "nobody waits: no cycle");
	is_str(found(itself, 2), "1:A>A",
	    "a worker that waits for the lock it holds is a cycle of one");
	is_str(found(three, 3), "0:C>A 1:A>B 2:B>C", "a cycle of three locks");
	is_str(found(shared, 2), "0:A>B 1:B>A",
	    "a lock two say they hold is the first one's");
	is_int(cycle_find(two, 2, one, 1), 0,
	    "a cycle longer than the room given is not returned");
	is_int(cycle_find(two, 0, one, 1), 0, "no workers, no cycle");
	return done_testing();
}
