/*
 * The turnstile that makes the workers take their steps in a schedule's
 * order.  Only the worker whose turn it is acts: it takes its step, then
 * decides whose step comes next and hands that worker the turn, so the
 * turnstile's state needs no lock of its own.  A worker waits for its turn
 * on a word of its own with futex(2), which works between processes as
 * between threads since the turnstile is one shared anonymous mapping,
 * made before the fork.  A waiter spins a little first: with a CPU for
 * each worker a handover then takes a fraction of a microsecond, where a
 * futex's sleep and wake take tens.  Not much more: where the workers
 * share CPUs, a spinner takes the CPU from the worker it waits for.  On
 * two CPUs, 500 spins made two workers' steps a tenth as costly as 100,
 * and six workers' a third as costly as none; 2000 made six workers' two
 * and a half times as costly as 500.
 *
 * The schedule repeats, as a cycle, until every worker has made its
 * updates; a step of a worker that has made them all is skipped.
 *
 * A lock may forbid a step: a worker whose turn is to read while another
 * holds the lock.  The worker only tries the lock, and when the attempt
 * fails it is owed the step: its following steps in the schedule are owed
 * to it too, in their order, and the other workers' steps go on.  Owed
 * steps come first, whenever one can be taken: a write always can, a read
 * once a write has released the lock since it was last refused.  Nothing
 * can deadlock: the holder's write comes within one cycle of the schedule,
 * or is owed and taken at once.  A lock that no worker holds was taken by
 * another program; a worker refused it waits for it as any run does.
 */
#include <sys/mman.h>
#include <sys/syscall.h>

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../backends.h"
#include "../shm/pause.h"
#include "turnstile.h"

/* The turn when no step is left. */
#define NOBODY		UINT32_MAX
/* Looks at the turn this often before sleeping on the futex. */
#define SPINS		500

struct turnstile_seat {
	/* Changed to wake its worker, who sleeps on it. */
	_Alignas(64) _Atomic uint32_t go;
	struct turnstile *turnstile;
	uint32_t	 index;
	uint64_t	 updates;	/* it makes */
	uint64_t	 reads;		/* of its steps, given out so far */
	uint64_t	 writes;
	uint64_t	 owed;		/* its steps behind a refused read */
	uint64_t	 owed_at;	/* the position of the first of them */
	uint64_t	 given_at;	/* of the step the schedule gave it */
	uint64_t	 tried;		/* releases + 1 when last refused */
	bool		 from_owed;	/* its turn is for its first owed step */
	bool		 writes_next;	/* its next step is a write */
	bool		 holds;		/* it took the lock, not yet released */
};

struct turnstile {
	/* The worker whose step it is, or NOBODY. */
	_Alignas(64) _Atomic uint32_t turn;
	_Atomic int	 open;		/* the run is stopping: nobody waits */
	bool		 locking;	/* a read takes a lock */
	unsigned	 workers;
	size_t		 nsteps;
	size_t		 size;		/* of the mapping */
	uint64_t	 position;	/* the schedule's next step, counted
					   from the start of the run */
	uint64_t	 releases;	/* writes so far */
	uint64_t	 unassigned;	/* steps the schedule has still to give */
	unsigned	 owing;		/* workers owed steps */
	struct step	*steps;
	uint32_t	*gap;		/* from a step to its worker's next one */
	struct schedule_log *log;
	struct turnstile_seat seats[];
};

static size_t
round_up(size_t n, size_t to)
{
	return (n + to - 1) / to * to;
}

static void
futex_wait(_Atomic uint32_t *word, uint32_t seen)
{
	syscall(SYS_futex, word, FUTEX_WAIT, seen, NULL, NULL, 0);
}

static void
futex_wake(_Atomic uint32_t *word, int waiters)
{
	syscall(SYS_futex, word, FUTEX_WAKE, waiters, NULL, NULL, 0);
}

/*
 * Whose step comes next: the first step owed that can be taken, else the
 * schedule's next step, or NOBODY when every step was taken.  A step of a
 * worker that is owed steps is owed too: it must not pass them.
 */
static uint32_t
decide(struct turnstile *t)
{
	struct turnstile_seat *s, *best;
	const struct step *step;
	uint64_t at;
	unsigned i;

	for (;;) {
		best = NULL;
		for (i = 0; t->owing > 0 && i < t->workers; i++) {
			s = &t->seats[i];
			if (s->owed == 0 || (!s->writes_next &&
			    s->tried == t->releases + 1))
				continue;
			if (best == NULL || s->owed_at < best->owed_at)
				best = s;
		}
		if (best != NULL) {
			best->from_owed = true;
			return best->index;
		}
		if (t->unassigned == 0)
			return NOBODY;
		at = t->position++;
		step = &t->steps[at % t->nsteps];
		s = &t->seats[step->worker];
		if ((step->write ? s->writes : s->reads) == s->updates)
			continue;
		if (step->write)
			s->writes++;
		else
			s->reads++;
		t->unassigned--;
		if (s->owed > 0) {
			s->owed++;
			continue;
		}
		s->from_owed = false;
		s->given_at = at;
		return s->index;
	}
}

/* Gives the turn to next, waking it unless it is the giver. */
static void
hand_over(struct turnstile *t, uint32_t next, const struct turnstile_seat *by)
{
	atomic_store(&t->turn, next);
	if (next == NOBODY || next == by->index)
		return;
	atomic_fetch_add(&t->seats[next].go, 1);
	futex_wake(&t->seats[next].go, 1);
}

/*
 * Waits for the seat's turn; false when the turnstile was opened instead.
 * The word is read before the turn, and the giver changes the turn before
 * the word, so a turn given after the look is never slept through.
 */
static bool
await_turn(struct turnstile_seat *s)
{
	struct turnstile *t = s->turnstile;
	unsigned spins = 0;
	uint32_t seen;

	for (;;) {
		seen = atomic_load(&s->go);
		if (atomic_load(&t->turn) == s->index)
			return true;
		if (atomic_load(&t->open))
			return false;
		if (spins++ < SPINS)
			cpu_pause();
		else
			futex_wait(&s->go, seen);
	}
}

/* The seat's step is done: written down, and its effects on the rest. */
static void
step_done(struct turnstile_seat *s, bool write)
{
	struct turnstile *t = s->turnstile;
	struct schedule_log *log = t->log;

	if (log->steps < log->ran_room)
		log->ran[log->steps] = s->index << 1 | (write ? 1 : 0);
	log->steps++;
	s->writes_next = !write;
	if (!write)
		s->holds = t->locking;
	else {
		s->holds = false;
		t->releases++;
	}
	if (!s->from_owed)
		return;
	s->from_owed = false;
	if (--s->owed == 0)
		t->owing--;
	else
		s->owed_at += t->gap[s->owed_at % t->nsteps];
}

void
turnstile_read(struct turnstile_seat *s)
{
	await_turn(s);
}

void
turnstile_write(struct turnstile_seat *s)
{
	struct turnstile *t = s->turnstile;

	if (atomic_load(&t->open))
		return;
	step_done(s, false);
	hand_over(t, decide(t), s);
	await_turn(s);
}

void
turnstile_written(struct turnstile_seat *s)
{
	struct turnstile *t = s->turnstile;

	if (atomic_load(&t->open))
		return;
	step_done(s, true);
	hand_over(t, decide(t), s);
}

/*
 * The seat's attempt at the lock failed: it is owed its read, and waits
 * for the turn to try again.  Returns false when it must wait for the
 * lock instead: the turnstile is open, or no worker holds the lock.
 */
bool
turnstile_refused(struct turnstile_seat *s)
{
	struct turnstile *t = s->turnstile;
	struct schedule_log *log = t->log;
	uint32_t holder = SCHEDULE_OUTSIDER, next;
	unsigned i;

	if (atomic_load(&t->open))
		return false;
	for (i = 0; i < t->workers && holder == SCHEDULE_OUTSIDER; i++)
		if (t->seats[i].holds)
			holder = i;
	if (log->nwaits < SCHEDULE_WAITS_KEPT) {
		log->waits[log->nwaits].worker = s->index;
		log->waits[log->nwaits].holder = holder;
		log->waits[log->nwaits].after = log->steps;
	}
	log->nwaits++;
	/* Another program's lock: only a wait for it can get past it. */
	if (holder == SCHEDULE_OUTSIDER)
		return false;
	if (!s->from_owed) {
		s->owed = 1;
		s->owed_at = s->given_at;
		t->owing++;
	}
	s->from_owed = false;
	s->tried = t->releases + 1;
	if ((next = decide(t)) == NOBODY) {
		/* Cannot be, as above; but a run must never hang on it. */
		turnstile_open(t);
		return false;
	}
	hand_over(t, next, s);
	return await_turn(s);
}

struct turnstile *
turnstile_create(const struct schedule *schedule, const struct run *run)
{
	unsigned workers = run->incrementers + run->decrementers, i;
	uint64_t total = 2 * run->iterations * workers;
	size_t n = schedule->nsteps, head, gap_at, log_at, room, j;
	struct turnstile *t;
	uint32_t *last;
	room = total < SCHEDULE_RAN_KEPT ? (size_t)total : SCHEDULE_RAN_KEPT;
	head = round_up(sizeof(*t) + workers * sizeof(t->seats[0]), 64);
	gap_at = round_up(head + n * sizeof(struct step), 64);
	log_at = round_up(gap_at + n * sizeof(uint32_t), 64);
	if ((last = calloc(workers, sizeof(*last))) == NULL)
		return NULL;
	t = mmap(NULL, log_at + sizeof(struct schedule_log) + room *
	    sizeof(uint32_t), PROT_READ | PROT_WRITE, MAP_SHARED |
	    MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED) {
		free(last);
		return NULL;
	}
	t->size = log_at + sizeof(struct schedule_log) + room *
	    sizeof(uint32_t);
	t->locking = kind_locks(run->kind);
	t->workers = workers;
	t->nsteps = n;
	t->unassigned = total;
	t->steps = (struct step *)((char *)t + head);
	t->gap = (uint32_t *)((char *)t + gap_at);
	t->log = (struct schedule_log *)((char *)t + log_at);
	t->log->ran_room = room;
	memcpy(t->steps, schedule->steps, n * sizeof(struct step));
	/* Each step's distance to its worker's next, around the cycle. */
	for (j = 0; j < 2 * n; j++) {
		uint32_t w = schedule->steps[j % n].worker;

		if (last[w] != 0 && j - (last[w] - 1) <= n)
			t->gap[(last[w] - 1) % n] = (uint32_t)(j - (last[w] -
			    1));
		last[w] = (uint32_t)j + 1;
	}
	free(last);
	for (i = 0; i < workers; i++) {
		t->seats[i].turnstile = t;
		t->seats[i].index = i;
		t->seats[i].updates = run->iterations;
	}
	atomic_init(&t->turn, decide(t));
	return t;
}

struct turnstile_seat *
turnstile_seat(struct turnstile *t, unsigned index)
{
	return &t->seats[index];
}

void
turnstile_open(struct turnstile *t)
{
	unsigned i;

	atomic_store(&t->open, 1);
	for (i = 0; i < t->workers; i++) {
		atomic_fetch_add(&t->seats[i].go, 1);
		futex_wake(&t->seats[i].go, INT_MAX);
	}
}

const struct schedule_log *
turnstile_log(const struct turnstile *t)
{
	return t->log;
}

void
turnstile_destroy(struct turnstile *t)
{
	if (t != NULL)
		munmap(t, t->size);
}
