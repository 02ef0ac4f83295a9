/*
 * The counter in POSIX shared memory, mapped by every worker, guarded by:
 *
 *   mutex   a pthread mutex in the mapping, process-shared and robust: when
 *           its owner dies the next locker gets EOWNERDEAD and recovers it.
 *           Under --nest it is error-checking too, so that its holder's
 *           second lock fails with EDEADLK instead of hanging.
 *   rmutex  the same mutex made recursive: its holder may take it again,
 *           and the last of as many unlocks releases it.
 *   sem     a named POSIX semaphore used as a lock (initial value 1), the
 *           primitive under Python's multiprocessing.Lock.  It has no owner,
 *           so nothing releases it when its holder dies.
 *   spin    a test-and-test-and-set spinlock on C11 atomics; it yields the
 *           CPU after spinning a while, so a holder that lost its CPU gets
 *           it back.  It has no owner either.
 *   rwlock  a process-shared pthread read-write lock: writers take it
 *           alone, --readers share it.  It is not robust, so a writer
 *           that dies holding it leaves it held for good.
 *   atomic  no lock: each update is one atomic fetch-and-add.
 *   none    the same read-modify-write as the locked kinds, unguarded: a
 *           relaxed atomic load and a relaxed atomic store, so updates are
 *           lost on the hardware without undefined behaviour in C.
 *
 * Both objects live in /dev/shm, glibc's fixed directory for shm_open and
 * sem_open, under names that say which process made them:
 * proccount-PID-START-N for the segment and sem.proccount-PID-START-N-sem
 * for the semaphore, START being the process's start time (field 22 of
 * /proc/PID/stat), so that a PID used again by another process does not
 * pass for the one that made them.  Each name is unlinked as soon as its
 * object is open: worker processes inherit the mappings across fork and
 * threads share them.  A run killed in between leaves the name behind,
 * and the next run removes it (shm_sweep): the name of a process that is
 * gone, or a zombie, or that started at another time.  glibc's sem_open
 * with O_CREAT would first make an anonymous temporary, sem.XXXXXX, which
 * nothing could tell from another program's; so the semaphore's file is
 * made here, under its own name, and sem_open only opens it.
 *
 * The pages of both are reserved with posix_fallocate before they are
 * touched: on a full /dev/shm, touching a page of a mapping that has none
 * behind it raises SIGBUS, where the reservation fails with ENOSPC.
 *
 * With --trace the counter's one 64-bit word holds the value in its low
 * 32 bits and the tag of the write that made it in its high 32 bits, so
 * that one load reads both and one store writes both.  The store is then
 * an exchange, which returns the word it replaced, so the trace knows
 * which write each one overwrote; the atomic kind's add becomes a
 * compare-and-swap loop, whose successful swap read what it replaced.
 */
#include <sys/mman.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../backends.h"
#include "pause.h"

/* Spins before a waiter yields its CPU to whoever holds the lock. */
#define SPINS_BEFORE_YIELD	256
/* Unguarded updates between two marks of a worker's progress. */
#define SHM_NONE_BATCH		1024

/*
 * The counter and the lock each on their own cache lines; with
 * --counters=2, the first are counter A's and the last counter B's.
 */
struct shm_area {
	_Alignas(128) _Atomic long long value;
	_Alignas(128) pthread_mutex_t mutex;
	_Alignas(128) atomic_int spin;
	_Alignas(128) pthread_rwlock_t rwlock;
	_Alignas(128) _Atomic long long value_b;
	_Alignas(128) pthread_mutex_t mutex_b;
	_Alignas(128) atomic_int spin_b;
	_Alignas(128) pthread_rwlock_t rwlock_b;
};

struct shm_state {
	struct shm_area	*area;
	sem_t		*sem;
	sem_t		*sem_b;		/* --counters=2, B's */
	bool		 pair;		/* --counters=2 */
};

static struct timespec
deadline_after(uint64_t ns)
{
	struct timespec at;
	int64_t then = clock_ns() + (int64_t)ns;

	at.tv_sec = (time_t)(then / 1000000000);
	at.tv_nsec = (long)(then % 1000000000);
	return at;
}

/*
 * Each kind's lock, taken by waiting for it or, with wait false, only
 * tried: UPDATE_BUSY when another holds it.  wait is a constant at every
 * call, so each use compiles to the one it needs.
 */
static inline int
mutex_lock(pthread_mutex_t *mutex, struct worker *w, bool wait)
{
	struct timespec at;
	int error;

	/* With a timeout, the clock is read only when the lock is taken. */
	if (wait && w->timeout_ns == 0)
		error = pthread_mutex_lock(mutex);
	else if ((error = pthread_mutex_trylock(mutex)) == EBUSY && wait) {
		at = deadline_after(w->timeout_ns);
		error = pthread_mutex_clocklock(mutex, CLOCK_MONOTONIC, &at);
	}
	if (error == EBUSY)
		return UPDATE_BUSY;
	if (error == EDEADLK) {
		errno = error;
		return UPDATE_DEADLOCK;
	}
	if (error == EOWNERDEAD) {
		/*
		 * Its owner died holding it.  The dead worker's update was not
		 * written, or was and is marked in its slot; either way the
		 * value is whole, so the mutex can be declared consistent.
		 */
		w->slot->recovered++;
		error = pthread_mutex_consistent(mutex);
	}
	if (error != 0) {
		errno = error;
		return error == ETIMEDOUT ? UPDATE_TIMEOUT : UPDATE_LOCK;
	}
	return UPDATE_OK;
}

static inline int
sem_lock(sem_t *sem, struct worker *w, bool wait)
{
	struct timespec at;

	if (!wait) {
		if (sem_trywait(sem) == 0)
			return UPDATE_OK;
		return errno == EAGAIN ? UPDATE_BUSY : UPDATE_LOCK;
	}
	if (w->timeout_ns == 0) {
		while (sem_wait(sem) == -1)
			if (errno != EINTR)
				return UPDATE_LOCK;
		return UPDATE_OK;
	}
	if (sem_trywait(sem) == 0)
		return UPDATE_OK;
	at = deadline_after(w->timeout_ns);
	while (sem_clockwait(sem, CLOCK_MONOTONIC, &at) == -1)
		if (errno != EINTR)
			return errno == ETIMEDOUT ? UPDATE_TIMEOUT : UPDATE_LOCK;
	return UPDATE_OK;
}

static inline int
spin_lock(atomic_int *spin, struct worker *w, bool wait)
{
	int64_t deadline = 0;
	unsigned spins = 0;

	if (!wait)
		return atomic_exchange_explicit(spin, 1, memory_order_acquire) ==
		    0 ? UPDATE_OK : UPDATE_BUSY;
	while (atomic_exchange_explicit(spin, 1, memory_order_acquire) != 0) {
		/* Wait on a plain read, so waiters share the line. */
		while (atomic_load_explicit(spin, memory_order_relaxed) != 0) {
			cpu_pause();
			if (++spins < SPINS_BEFORE_YIELD)
				continue;
			spins = 0;
			sched_yield();
			if (w->timeout_ns == 0)
				continue;
			if (deadline == 0)
				deadline = clock_ns() + (int64_t)w->timeout_ns;
			else if (clock_ns() >= deadline) {
				errno = ETIMEDOUT;
				return UPDATE_TIMEOUT;
			}
		}
	}
	return UPDATE_OK;
}

static inline int
rwlock_lock(pthread_rwlock_t *rwlock, struct worker *w, bool wait,
    bool shared)
{
	struct timespec at;
	int error;

	error = shared ? pthread_rwlock_tryrdlock(rwlock) :
	    pthread_rwlock_trywrlock(rwlock);
	if (error == EBUSY && wait) {
		if (w->timeout_ns == 0)
			error = shared ? pthread_rwlock_rdlock(rwlock) :
			    pthread_rwlock_wrlock(rwlock);
		else {
			at = deadline_after(w->timeout_ns);
			error = shared ? pthread_rwlock_clockrdlock(rwlock,
			    CLOCK_MONOTONIC, &at) : pthread_rwlock_clockwrlock(
			    rwlock, CLOCK_MONOTONIC, &at);
		}
	}
	if (error == EBUSY)
		return UPDATE_BUSY;
	if (error != 0) {
		errno = error;
		return error == ETIMEDOUT ? UPDATE_TIMEOUT : UPDATE_LOCK;
	}
	return UPDATE_OK;
}

enum shm_kind { MUTEX, RMUTEX, SEM, SPIN, ATOMIC, NONE, RWLOCK };

static inline __attribute__((always_inline)) int
shm_lock(struct shm_state *s, struct worker *w, enum shm_kind kind,
    bool wait)
{
	if (kind == MUTEX || kind == RMUTEX)
		return mutex_lock(&s->area->mutex, w, wait);
	if (kind == SEM)
		return sem_lock(s->sem, w, wait);
	if (kind == RWLOCK)
		return rwlock_lock(&s->area->rwlock, w, wait, false);
	return spin_lock(&s->area->spin, w, wait);
}

/*
 * With a schedule: the worker waits for its turn to read, then only tries
 * the lock, and while another worker holds it the turnstile lets the
 * others' steps go on, and gives the worker its turn to try again.  With
 * --try and no schedule, a busy lock is a miss, after which the worker
 * does its outside work and tries again.
 */
static int
shm_lock_on_turn(struct shm_state *s, struct worker *w, enum shm_kind kind,
    bool timed, uint64_t *asked)
{
	int error;

	if (w->turnstile == NULL) {
		if (timed)
			*asked = worker_clock(w);
		while ((error = shm_lock(s, w, kind, false)) == UPDATE_BUSY)
			worker_missed(w);
		return error;
	}
	turnstile_read(w->turnstile);
	if (timed)
		*asked = worker_clock(w);
	while ((error = shm_lock(s, w, kind, false)) == UPDATE_BUSY)
		if (!turnstile_refused(w->turnstile))
			return shm_lock(s, w, kind, true);
	return error;
}

/*
 * --nest: with the lock held once, take it again, nest - 1 times, as a
 * recursive function would; the slot says how deep the worker holds it
 * meanwhile, so that a worker that waits for itself can be named.  An
 * error-checking mutex refuses the second lock: the one taken is given
 * back, so that the others can stop.  A semaphore or a spinlock waits for
 * itself until --timeout, and is left taken.
 */
static __attribute__((noinline, cold)) int
shm_nest(struct shm_state *s, struct worker *w, enum shm_kind kind)
{
	unsigned depth;
	int error;

	for (depth = 1; depth < w->nest; depth++) {
		atomic_store(&w->slot->nested, depth);
		if ((error = shm_lock(s, w, kind, true)) != UPDATE_OK) {
			if (error == UPDATE_DEADLOCK)
				pthread_mutex_unlock(&s->area->mutex);
			return error;
		}
	}
	atomic_store(&w->slot->nested, 0);
	return UPDATE_OK;
}

/* A traced counter's word: a tag and a 32-bit value. */
static inline long long
traced_word(uint32_t tag, long long value)
{
	return (long long)((unsigned long long)tag << 32 | (uint32_t)value);
}

static inline long long
traced_value(long long word)
{
	return (int32_t)(uint32_t)(unsigned long long)word;
}

static inline uint32_t
traced_tag(long long word)
{
	return (uint32_t)((unsigned long long)word >> 32);
}

/* With --trace, after the load: the value, the read recorded. */
static inline long long
traced_read(struct worker *w, long long word)
{
	worker_traced_read(w, traced_tag(word), traced_value(word));
	return traced_value(word);
}

/* With --trace, the store: the value tagged, and what it replaced. */
static inline void
traced_store(struct shm_area *area, struct worker *w, long long value)
{
	long long old = atomic_exchange_explicit(&area->value,
	    traced_word(worker_trace_tag(w), value), memory_order_relaxed);

	worker_traced_write(w, value, traced_tag(old));
}

/*
 * With --trace, the atomic kind's add: a compare-and-swap loop, the read
 * recorded before each swap is tried, so that the one recorded last is
 * the one the successful swap replaced.
 */
static inline void
traced_add(struct shm_area *area, struct worker *w)
{
	long long word = atomic_load_explicit(&area->value,
	    memory_order_relaxed), value;

	do {
		value = traced_read(w, word) + w->delta;
	} while (!atomic_compare_exchange_weak_explicit(&area->value, &word,
	    traced_word(worker_trace_tag(w), value), memory_order_relaxed,
	    memory_order_relaxed));
	worker_traced_write(w, value, traced_tag(word));
}

/*
 * One update.  kind and traced are constants at every call, and the
 * function always inlined (the compiler would rather not, for its size),
 * so each kind's update below compiles to its own straight-line body, and
 * to a second one with the trace's hooks, which an untraced run never
 * enters: its loop is what it was before there was a trace.  The update
 * is counted after the unlock, to keep the critical section short; a
 * worker killed in between is marked mid-update, and its update may or may
 * not be in the value, which the report accepts either way.
 */
static inline __attribute__((always_inline)) int
shm_update(struct shm_state *s, struct worker *w, enum shm_kind kind,
    bool traced)
{
	struct shm_area *area = s->area;
	uint64_t asked = 0, taken = 0, released = 0;
	long long value;
	int error = UPDATE_OK;
	unsigned depth;
	bool timed;

	if (kind == ATOMIC) {
		worker_turn_to_read(w);
		worker_midpoint(w);
		if (traced)
			traced_add(area, w);
		else
			atomic_fetch_add_explicit(&area->value, w->delta,
			    memory_order_relaxed);
		worker_released(w);
		worker_committed(w);
		return UPDATE_OK;
	}
	if (kind == NONE) {
		worker_turn_to_read(w);
		value = atomic_load_explicit(&area->value, memory_order_relaxed);
		if (traced)
			value = traced_read(w, value);
		worker_midpoint(w);
		value = (long long)((unsigned long long)value +
		    (unsigned long long)(long long)w->delta);
		if (traced)
			traced_store(area, w, value);
		else
			atomic_store_explicit(&area->value, value,
			    memory_order_relaxed);
		worker_released(w);
		worker_committed(w);
		return UPDATE_OK;
	}
	timed = worker_timed(w);
	/* The turn to read is waited for with the lock's choice. */
	if (w->lock_tried)
		error = shm_lock_on_turn(s, w, kind, timed, &asked);
	else {
		if (timed)
			asked = worker_clock(w);
		error = shm_lock(s, w, kind, true);
	}
	if (error == UPDATE_OK && w->nest > 1)
		error = shm_nest(s, w, kind);
	if (error != UPDATE_OK)
		return error;
	if (timed)
		taken = worker_clock(w);
	value = atomic_load_explicit(&area->value, memory_order_relaxed);
	if (traced)
		value = traced_read(w, value);
	worker_midpoint(w);
	/* Wraps like the file backend's instead of overflowing. */
	value = (long long)((unsigned long long)value +
	    (unsigned long long)(long long)w->delta);
	if (traced)
		traced_store(area, w, value);
	else
		atomic_store_explicit(&area->value, value,
		    memory_order_relaxed);
	if (timed)
		released = worker_clock(w);
	if (kind == MUTEX && (error = pthread_mutex_unlock(&area->mutex))) {
		errno = error;
		error = UPDATE_UNLOCK;
	}
	/* The last of the nested unlocks releases it. */
	for (depth = 0; kind == RMUTEX && depth < w->nest; depth++)
		if ((error = pthread_mutex_unlock(&area->mutex)) != 0) {
			errno = error;
			error = UPDATE_UNLOCK;
			break;
		}
	if (kind == SEM && sem_post(s->sem) == -1)
		error = UPDATE_UNLOCK;
	if (kind == RWLOCK && (error = pthread_rwlock_unlock(&area->rwlock))) {
		errno = error;
		error = UPDATE_UNLOCK;
	}
	if (kind == SPIN) {
		/*
		 * Counted before the release: the shorter the gap between a
		 * spinlock's release and the next attempt, the more often
		 * the same CPU takes it again without moving the line, as the
		 * cheapest loop does; counted after, it ran a third slower.
		 */
		worker_committed(w);
		atomic_store_explicit(&area->spin, 0, memory_order_release);
		worker_released(w);
	} else {
		worker_released(w);
		worker_committed(w);
	}
	if (timed)
		worker_record(w, asked, taken, released);
	return error;
}

/*
 * --counters=2: the lock of counter A or B, taken, tried or given back,
 * as shm_lock and shm_update do the one counter's.
 */
static inline __attribute__((always_inline)) int
pair_lock(struct shm_state *s, struct worker *w, enum shm_kind kind,
    unsigned which, bool wait)
{
	struct shm_area *area = s->area;

	if (kind == MUTEX || kind == RMUTEX)
		return mutex_lock(which == PAIR_B ? &area->mutex_b :
		    &area->mutex, w, wait);
	if (kind == SEM)
		return sem_lock(which == PAIR_B ? s->sem_b : s->sem, w, wait);
	if (kind == RWLOCK)
		return rwlock_lock(which == PAIR_B ? &area->rwlock_b :
		    &area->rwlock, w, wait, false);
	return spin_lock(which == PAIR_B ? &area->spin_b : &area->spin, w,
	    wait);
}

static inline __attribute__((always_inline)) int
pair_unlock(struct shm_state *s, enum shm_kind kind, unsigned which)
{
	struct shm_area *area = s->area;
	int error = 0;

	if (kind == MUTEX || kind == RMUTEX)
		error = pthread_mutex_unlock(which == PAIR_B ? &area->mutex_b :
		    &area->mutex);
	else if (kind == SEM)
		error = sem_post(which == PAIR_B ? s->sem_b : s->sem) == -1 ?
		    errno : 0;
	else if (kind == RWLOCK)
		error = pthread_rwlock_unlock(which == PAIR_B ?
		    &area->rwlock_b : &area->rwlock);
	else
		atomic_store_explicit(which == PAIR_B ? &area->spin_b :
		    &area->spin, 0, memory_order_release);
	if (error != 0) {
		errno = error;
		return UPDATE_UNLOCK;
	}
	return UPDATE_OK;
}

/*
 * --counters=2: one move of 1 from A to B (an incrementer) or from B to A
 * (a decrementer), holding both locks.  The worker takes the lock of its
 * first counter and reads it, does its --hold, takes the other lock and
 * reads that counter, writes both, and gives back both, the second first.
 * The slot says what it holds and waits for at each step, for the
 * watchdog.  With --try a lock found held is a miss: the worker gives
 * back what it holds, does its --work, and begins again, after a random
 * wait when the lock was its second (worker_back_off).  atomic moves
 * with two atomic adds, --hold between them, so that the sum is out of
 * balance meanwhile; none reads both, then writes both, unguarded.
 */
static inline __attribute__((always_inline)) int
shm_pair_update(struct shm_state *s, struct worker *w, enum shm_kind kind)
{
	struct shm_area *area = s->area;
	_Atomic long long *value[2] = { &area->value, &area->value_b };
	unsigned first = w->first, second = 1 - w->first;
	/* An incrementer takes 1 from A and gives it to B. */
	long long delta[2] = { -w->delta, w->delta }, got[2];
	uint64_t asked = 0, taken = 0, released = 0;
	bool timed, wait = !w->lock_tried;
	int error;

	if (kind == ATOMIC) {
		worker_pair_midpoint(w);
		atomic_fetch_add_explicit(value[first], delta[first],
		    memory_order_relaxed);
		if (w->delay_ns != 0)
			worker_busy(&w->slot->held_ns, w->delay_ns,
			    w->work_spins);
		atomic_fetch_add_explicit(value[second], delta[second],
		    memory_order_relaxed);
		worker_committed(w);
		return UPDATE_OK;
	}
	if (kind == NONE) {
		got[first] = atomic_load_explicit(value[first],
		    memory_order_relaxed);
		if (w->delay_ns != 0)
			worker_busy(&w->slot->held_ns, w->delay_ns,
			    w->work_spins);
		got[second] = atomic_load_explicit(value[second],
		    memory_order_relaxed);
		worker_pair_midpoint(w);
		{
			atomic_store_explicit(value[first], (long long)
			    ((unsigned long long)got[first] +
			    (unsigned long long)delta[first]),
			    memory_order_relaxed);
			atomic_store_explicit(value[second], (long long)
			    ((unsigned long long)got[second] +
			    (unsigned long long)delta[second]),
			    memory_order_relaxed);
		}
		worker_committed(w);
		return UPDATE_OK;
	}
	timed = worker_timed(w);
	if (timed)
		asked = worker_clock(w);
	for (;;) {
		worker_locks(w, 0, (int)first);
		error = pair_lock(s, w, kind, first, wait);
		if (error == UPDATE_BUSY) {
			worker_locks(w, 0, PAIR_NONE);
			worker_missed(w);
			continue;
		}
		if (error != UPDATE_OK) {
			worker_locks(w, 0, PAIR_NONE);
			return error;
		}
		worker_locks(w, 1u << first, PAIR_NONE);
		got[first] = atomic_load_explicit(value[first],
		    memory_order_relaxed);
		if (w->delay_ns != 0)
			worker_busy(&w->slot->held_ns, w->delay_ns,
			    w->work_spins);
		worker_locks(w, 1u << first, (int)second);
		if ((error = pair_lock(s, w, kind, second, wait)) == UPDATE_OK)
			break;
		pair_unlock(s, kind, first);
		worker_locks(w, 0, PAIR_NONE);
		if (error != UPDATE_BUSY)
			return error;
		worker_missed(w);
		worker_back_off(w);
	}
	worker_locks(w, 1u << first | 1u << second, PAIR_NONE);
	if (timed)
		taken = worker_clock(w);
	got[second] = atomic_load_explicit(value[second],
	    memory_order_relaxed);
	worker_pair_midpoint(w);
	atomic_store_explicit(value[first], (long long)((unsigned long long)
	    got[first] + (unsigned long long)delta[first]),
	    memory_order_relaxed);
	atomic_store_explicit(value[second], (long long)((unsigned long long)
	    got[second] + (unsigned long long)delta[second]),
	    memory_order_relaxed);
	if (timed)
		released = worker_clock(w);
	error = pair_unlock(s, kind, second);
	if (pair_unlock(s, kind, first) != UPDATE_OK)
		error = UPDATE_UNLOCK;
	worker_locks(w, 0, PAIR_NONE);
	worker_committed(w);
	if (timed)
		worker_record(w, asked, taken, released);
	return error;
}

/*
 * A reader's one read (--readers): under the rwlock's shared lock, under
 * the others' only lock, which they do not share, by an atomic load for
 * the atomic kind, and by the plain relaxed load of none.
 */
static inline __attribute__((always_inline)) int
shm_read(struct shm_state *s, struct worker *w, enum shm_kind kind,
    long long *value)
{
	struct shm_area *area = s->area;
	uint64_t asked = 0, taken = 0, released = 0;
	int error;
	bool timed;

	if (kind == ATOMIC || kind == NONE) {
		*value = atomic_load_explicit(&area->value, kind == ATOMIC ?
		    memory_order_seq_cst : memory_order_relaxed);
		return UPDATE_OK;
	}
	if ((timed = worker_timed(w)))
		asked = worker_clock(w);
	error = kind == RWLOCK ? rwlock_lock(&area->rwlock, w, true, true) :
	    shm_lock(s, w, kind, true);
	if (error != UPDATE_OK)
		return error;
	if (timed)
		taken = worker_clock(w);
	*value = atomic_load_explicit(&area->value, memory_order_relaxed);
	if (timed)
		released = worker_clock(w);
	if (kind == MUTEX || kind == RMUTEX)
		error = pthread_mutex_unlock(&area->mutex);
	else if (kind == RWLOCK)
		error = pthread_rwlock_unlock(&area->rwlock);
	else if (kind == SEM)
		error = sem_post(s->sem) == -1 ? errno : 0;
	else
		atomic_store_explicit(&area->spin, 0, memory_order_release);
	if (error != 0) {
		errno = error;
		return UPDATE_UNLOCK;
	}
	if (timed)
		worker_record(w, asked, taken, released);
	return UPDATE_OK;
}

static int
read_mutex(void *state, struct worker *w, long long *value)
{
	return shm_read(state, w, MUTEX, value);
}

static int
read_rmutex(void *state, struct worker *w, long long *value)
{
	return shm_read(state, w, RMUTEX, value);
}

static int
read_sem(void *state, struct worker *w, long long *value)
{
	return shm_read(state, w, SEM, value);
}

static int
read_spin(void *state, struct worker *w, long long *value)
{
	return shm_read(state, w, SPIN, value);
}

static int
read_atomic(void *state, struct worker *w, long long *value)
{
	return shm_read(state, w, ATOMIC, value);
}

static int
read_none(void *state, struct worker *w, long long *value)
{
	return shm_read(state, w, NONE, value);
}

static int
read_rwlock(void *state, struct worker *w, long long *value)
{
	return shm_read(state, w, RWLOCK, value);
}

static inline int
update_rwlock(void *state, struct worker *w)
{
	return shm_update(state, w, RWLOCK, false);
}

static inline int
update_rwlock_traced(void *state, struct worker *w)
{
	return shm_update(state, w, RWLOCK, true);
}

static inline int
update_rwlock_pair(void *state, struct worker *w)
{
	return shm_pair_update(state, w, RWLOCK);
}

static int
run_rwlock(void *handle, struct worker *w)
{
	if (w->delta == 0)
		return worker_read_loop(handle, w, read_rwlock);
	if (w->pair)
		return worker_loop(handle, w, update_rwlock_pair);
	if (w->trace != NULL)
		return worker_loop(handle, w, update_rwlock_traced);
	return worker_loop(handle, w, update_rwlock);
}

static inline int
update_mutex(void *state, struct worker *w)
{
	return shm_update(state, w, MUTEX, false);
}

static inline int
update_mutex_traced(void *state, struct worker *w)
{
	return shm_update(state, w, MUTEX, true);
}

static inline int
update_rmutex(void *state, struct worker *w)
{
	return shm_update(state, w, RMUTEX, false);
}

static inline int
update_rmutex_traced(void *state, struct worker *w)
{
	return shm_update(state, w, RMUTEX, true);
}

static inline int
update_rmutex_pair(void *state, struct worker *w)
{
	return shm_pair_update(state, w, RMUTEX);
}

static int
run_rmutex(void *handle, struct worker *w)
{
	if (w->delta == 0)
		return worker_read_loop(handle, w, read_rmutex);
	if (w->pair)
		return worker_loop(handle, w, update_rmutex_pair);
	if (w->trace != NULL)
		return worker_loop(handle, w, update_rmutex_traced);
	return worker_loop(handle, w, update_rmutex);
}

static inline int
update_mutex_pair(void *state, struct worker *w)
{
	return shm_pair_update(state, w, MUTEX);
}

static int
run_mutex(void *handle, struct worker *w)
{
	if (w->delta == 0)
		return worker_read_loop(handle, w, read_mutex);
	if (w->pair)
		return worker_loop(handle, w, update_mutex_pair);
	if (w->trace != NULL)
		return worker_loop(handle, w, update_mutex_traced);
	return worker_loop(handle, w, update_mutex);
}

static inline int
update_sem(void *state, struct worker *w)
{
	return shm_update(state, w, SEM, false);
}

static inline int
update_sem_traced(void *state, struct worker *w)
{
	return shm_update(state, w, SEM, true);
}

static inline int
update_sem_pair(void *state, struct worker *w)
{
	return shm_pair_update(state, w, SEM);
}

static int
run_sem(void *handle, struct worker *w)
{
	if (w->delta == 0)
		return worker_read_loop(handle, w, read_sem);
	if (w->pair)
		return worker_loop(handle, w, update_sem_pair);
	if (w->trace != NULL)
		return worker_loop(handle, w, update_sem_traced);
	return worker_loop(handle, w, update_sem);
}

static inline int
update_spin(void *state, struct worker *w)
{
	return shm_update(state, w, SPIN, false);
}

static inline int
update_spin_traced(void *state, struct worker *w)
{
	return shm_update(state, w, SPIN, true);
}

static inline int
update_spin_pair(void *state, struct worker *w)
{
	return shm_pair_update(state, w, SPIN);
}

static int
run_spin(void *handle, struct worker *w)
{
	if (w->delta == 0)
		return worker_read_loop(handle, w, read_spin);
	if (w->pair)
		return worker_loop(handle, w, update_spin_pair);
	if (w->trace != NULL)
		return worker_loop(handle, w, update_spin_traced);
	return worker_loop(handle, w, update_spin);
}

static inline int
update_atomic(void *state, struct worker *w)
{
	return shm_update(state, w, ATOMIC, false);
}

static inline int
update_atomic_traced(void *state, struct worker *w)
{
	return shm_update(state, w, ATOMIC, true);
}

static inline int
update_atomic_pair(void *state, struct worker *w)
{
	return shm_pair_update(state, w, ATOMIC);
}

static int
run_atomic(void *handle, struct worker *w)
{
	if (w->delta == 0)
		return worker_read_loop(handle, w, read_atomic);
	if (w->pair)
		return worker_loop(handle, w, update_atomic_pair);
	if (w->trace != NULL)
		return worker_loop(handle, w, update_atomic_traced);
	return worker_loop(handle, w, update_atomic);
}

static inline int
update_none(void *state, struct worker *w)
{
	return shm_update(state, w, NONE, false);
}

static inline int
update_none_traced(void *state, struct worker *w)
{
	return shm_update(state, w, NONE, true);
}

static inline int
update_none_pair(void *state, struct worker *w)
{
	return shm_pair_update(state, w, NONE);
}

/*
 * The racy update is a load and a store; marking progress around each one
 * would triple its stores and its cost.  So unless the worker must pause,
 * crash mid-update, follow a schedule or trace, it runs in batches, with
 * one mark a batch: a worker killed from outside leaves its last batch
 * uncounted, as its slot's span says, and the report accepts any part of
 * it.
 */
static int
run_none(void *handle, struct worker *worker)
{
	struct shm_area *area = ((struct shm_state *)handle)->area;
	struct worker w = *worker;
	uint64_t batch, i;

	if (w.delta == 0)
		return worker_read_loop(handle, worker, read_none);
	if (w.pair)
		return worker_loop(handle, worker, update_none_pair);
	if (w.trace != NULL)
		return worker_loop(handle, worker, update_none_traced);
	if (w.delay_ns != 0 || w.work_ns != 0 || w.crash_at != 0 ||
	    w.turnstile != NULL)
		return worker_loop(handle, worker, update_none);
	w.slot->span = SHM_NONE_BATCH;
	while ((w.iterations == 0 || w.done < w.iterations) &&
	    !atomic_load_explicit(w.stop, memory_order_relaxed)) {
		batch = SHM_NONE_BATCH;
		if (w.iterations != 0 && w.iterations - w.done < batch)
			batch = w.iterations - w.done;
		atomic_store_explicit(&w.slot->progress, 2 * w.done + 1,
		    memory_order_relaxed);
		atomic_signal_fence(memory_order_seq_cst);
		for (i = 0; i < batch; i++)
			atomic_store_explicit(&area->value, (long long)
			    ((unsigned long long)atomic_load_explicit(
			    &area->value, memory_order_relaxed) +
			    (unsigned long long)(long long)w.delta),
			    memory_order_relaxed);
		atomic_signal_fence(memory_order_seq_cst);
		w.done += batch;
	}
	worker->done = w.done;
	return UPDATE_OK;
}

/*
 * type: PTHREAD_MUTEX_RECURSIVE for rmutex, PTHREAD_MUTEX_ERRORCHECK for
 * the mutex under --nest, else the default, which costs nothing to check.
 */
static int
init_mutex(pthread_mutex_t *mutex, int type)
{
	pthread_mutexattr_t attr;
	int error;

	if ((error = pthread_mutexattr_init(&attr)) != 0)
		goto out;
	error = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	if (error == 0)
		error = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	if (error == 0)
		error = pthread_mutexattr_settype(&attr, type);
	if (error == 0)
		error = pthread_mutex_init(mutex, &attr);
	pthread_mutexattr_destroy(&attr);
out:
	errno = error;
	return error == 0 ? 0 : -1;
}

/*
 * Process-shared; glibc prefers readers unless told otherwise, and lets a
 * waiting writer in first only for a lock that no reader takes twice.
 */
static int
init_rwlock(pthread_rwlock_t *rwlock, bool prefer_writers)
{
	pthread_rwlockattr_t attr;
	int error;

	if ((error = pthread_rwlockattr_init(&attr)) != 0)
		goto out;
	error = pthread_rwlockattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	if (error == 0)
		error = pthread_rwlockattr_setkind_np(&attr, prefer_writers ?
		    PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP :
		    PTHREAD_RWLOCK_PREFER_READER_NP);
	if (error == 0)
		error = pthread_rwlock_init(rwlock, &attr);
	pthread_rwlockattr_destroy(&attr);
out:
	errno = error;
	return error == 0 ? 0 : -1;
}

/* Where glibc keeps what shm_open and sem_open name. */
#define SHM_DIR		"/dev/shm"

/*
 * A failure's reason, naming the object's path in /dev/shm, for the
 * message; create runs in the parent alone.
 */
static char failure[PATH_MAX + 128];

static void
failed(struct counter *c, const char *path)
{
	snprintf(failure, sizeof(failure), "%s: %s", path, strerror(errno));
	c->why = failure;
}

/*
 * A process's state and start time, in clock ticks since boot, from
 * /proc/PID/stat: fields 3 and 22, counted after the command's closing
 * parenthesis, since the command itself may hold spaces and parentheses.
 */
static int
process_stat(long pid, char *state, unsigned long long *start)
{
	char path[64], line[1024], *at;
	unsigned field;
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	len = read(fd, line, sizeof(line) - 1);
	close(fd);
	if (len <= 0)
		return -1;
	line[len] = '\0';
	if ((at = strrchr(line, ')')) == NULL || at[1] != ' ')
		return -1;
	*state = at[2];
	for (field = 2; field < 22 && at != NULL; field++)
		at = strchr(at + 1, ' ');
	if (at == NULL)
		return -1;
	*start = strtoull(at + 1, NULL, 10);
	return 0;
}

/* This process's start time, or 0 where /proc cannot tell it. */
static unsigned long long
own_start(void)
{
	unsigned long long start;
	char state;

	return process_stat((long)getpid(), &state, &start) == 0 ? start : 0;
}

/*
 * Whether the process that made an object is gone for good: no process
 * has its PID, or the one that has it is a zombie, which never runs
 * again, or started at another time, so is another process.  A start of
 * 0 is one that its maker could not read; its PID alone decides.
 */
static bool
maker_gone(long pid, unsigned long long start)
{
	unsigned long long now;
	char state;

	if (pid <= 0 || pid > INT_MAX)
		return false;
	if (kill((pid_t)pid, 0) == -1 && errno == ESRCH)
		return true;
	if (process_stat(pid, &state, &now) == -1)
		return false;
	return state == 'Z' || state == 'X' || (start != 0 && now != start);
}

/* Reads digits at *at into *value; false if there are none. */
static bool
number(const char **at, unsigned long long *value)
{
	char *end;

	if (**at < '0' || **at > '9')
		return false;
	errno = 0;
	*value = strtoull(*at, &end, 10);
	*at = end;
	return errno == 0;
}

/*
 * The maker of an entry of /dev/shm named as proccount names its
 * objects, [sem.]proccount-PID-START-N[-sem]; false for any other name.
 */
static bool
made_by(const char *entry, long *pid, unsigned long long *start)
{
	unsigned long long p, n;

	if (strncmp(entry, "sem.", 4) == 0)
		entry += 4;
	if (strncmp(entry, "proccount-", 10) != 0)
		return false;
	entry += 10;
	if (!number(&entry, &p) || *entry++ != '-' ||
	    !number(&entry, start) || *entry++ != '-' ||
	    !number(&entry, &n))
		return false;
	if (*entry != '\0' && strcmp(entry, "-sem") != 0)
		return false;
	*pid = p > LONG_MAX ? -1 : (long)p;
	return true;
}

/*
 * Removes what runs killed before they unlinked their objects left in
 * /dev/shm.  Only names of processes that are gone: a live run's objects,
 * in the moment they have a name, are never touched.  Whatever cannot be
 * read or removed stays; the run itself does not depend on it.
 */
static void
shm_sweep(void)
{
	unsigned long long start;
	struct dirent *entry;
	DIR *dir;
	long pid;

	if ((dir = opendir(SHM_DIR)) == NULL)
		return;
	while ((entry = readdir(dir)) != NULL)
		if (made_by(entry->d_name, &pid, &start) &&
		    maker_gone(pid, start))
			unlinkat(dirfd(dir), entry->d_name, 0);
	closedir(dir);
}

/*
 * Names unique to this process, as made_by reads them; the callers below
 * open with O_EXCL and move on to the next name on EEXIST, and unlink the
 * name as soon as the object is open.
 */
static int
unique_name(char *name, size_t size, const char *suffix)
{
	static unsigned attempt;
	static unsigned long long start;

	if (start == 0)
		start = own_start();
	if (snprintf(name, size, "/proccount-%ld-%llu-%u%s", (long)getpid(),
	    start, attempt++, suffix) < (int)size)
		return 0;
	errno = ENAMETOOLONG;
	return -1;
}

/*
 * Creates the segment under a new name, unlinks the name, and maps it
 * with its pages reserved.
 */
static struct shm_area *
open_segment(struct counter *c)
{
	char path[sizeof(SHM_DIR) + sizeof(c->name)];
	struct shm_area *area = MAP_FAILED;
	int fd, error;

	do {
		if (unique_name(c->name, sizeof(c->name), "") == -1)
			return MAP_FAILED;
		snprintf(path, sizeof(path), "%s%s", SHM_DIR, c->name);
		fd = shm_open(c->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
		    0600);
	} while (fd == -1 && errno == EEXIST);
	if (fd == -1) {
		failed(c, path);
		return MAP_FAILED;
	}
	shm_unlink(c->name);
	if ((error = posix_fallocate(fd, 0, sizeof(*area))) != 0) {
		errno = error;
		failed(c, path);
		goto out;
	}
	area = mmap(NULL, sizeof(*area), PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0);
	if (area == MAP_FAILED)
		failed(c, path);
out:
	error = errno;
	close(fd);
	errno = error;
	return area;
}

/*
 * Makes a named semaphore with the value 1 without glibc's anonymous
 * temporary: its file, which glibc's named semaphores are (a sem_t shared
 * through a mapping of SHM_DIR/sem.NAME), is created here under its own
 * name, reserved, and initialised with sem_init as shared between
 * processes; sem_open then opens it as any other process would, and its
 * name is unlinked.
 */
static sem_t *
open_semaphore(struct counter *c)
{
	char name[sizeof(c->name)], path[sizeof(SHM_DIR) + sizeof(name) + 4];
	sem_t *sem = SEM_FAILED, *mapped;
	int fd, error;

	do {
		if (unique_name(name, sizeof(name), "-sem") == -1)
			return SEM_FAILED;
		snprintf(path, sizeof(path), "%s/sem.%s", SHM_DIR, name + 1);
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
	} while (fd == -1 && errno == EEXIST);
	if (fd == -1) {
		failed(c, path);
		return SEM_FAILED;
	}
	if ((error = posix_fallocate(fd, 0, sizeof(*sem))) != 0) {
		errno = error;
		goto out;
	}
	mapped = mmap(NULL, sizeof(*mapped), PROT_READ | PROT_WRITE,
	    MAP_SHARED, fd, 0);
	if (mapped == MAP_FAILED)
		goto out;
	error = sem_init(mapped, 1, 1);
	munmap(mapped, sizeof(*mapped));
	if (error == -1)
		goto out;
	sem = sem_open(name, 0);
out:
	error = errno;
	if (sem == SEM_FAILED)
		failed(c, path);
	close(fd);
	unlink(path);
	errno = error;
	return sem;
}

static int
shm_create(struct counter *c, const struct run *run)
{
	struct shm_state *s;
	int saved;

	c->why = NULL;
	c->start = run->start;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	s->sem = SEM_FAILED;
	s->sem_b = SEM_FAILED;
	s->pair = run_pair(run);
	c->start_b = run->start;
	c->name_b[0] = '\0';
	if ((s->area = open_segment(c)) == MAP_FAILED)
		goto fail;
	atomic_init(&s->area->value, run->trace_capacity != 0 ?
	    traced_word(0, run->start) : run->start);
	atomic_init(&s->area->spin, 0);
	atomic_init(&s->area->value_b, run->start);
	atomic_init(&s->area->spin_b, 0);
	if (run_pair(run) && (init_mutex(&s->area->mutex_b,
	    run->kind->run == run_rmutex ? PTHREAD_MUTEX_RECURSIVE :
	    PTHREAD_MUTEX_DEFAULT) == -1 ||
	    init_rwlock(&s->area->rwlock_b, run->prefer_writers) == -1))
		goto fail_mapped;
	if (init_mutex(&s->area->mutex, run->kind->run == run_rmutex ?
	    PTHREAD_MUTEX_RECURSIVE : run->nest > 1 ? PTHREAD_MUTEX_ERRORCHECK :
	    PTHREAD_MUTEX_DEFAULT) == -1 ||
	    init_rwlock(&s->area->rwlock, run->prefer_writers) == -1)
		goto fail_mapped;
	if (run->kind->run == run_sem &&
	    (s->sem = open_semaphore(c)) == SEM_FAILED)
		goto fail_mapped;
	if (run->kind->run == run_sem && run_pair(run) &&
	    (s->sem_b = open_semaphore(c)) == SEM_FAILED)
		goto fail_sem;
	c->state = s;
	return 0;
fail_sem:
	saved = errno;
	sem_close(s->sem);
	errno = saved;
fail_mapped:
	saved = errno;
	munmap(s->area, sizeof(struct shm_area));
	errno = saved;
fail:
	saved = errno;
	free(s);
	errno = saved;
	return -1;
}

/*
 * Every worker shares the mapping and the semaphore, inherited across fork
 * or simply there in the same process, and changes nothing of its own.
 */
static int
shm_attach(struct counter *c, const struct run *run, void **handle)
{
	(void)run;
	*handle = c->state;
	return UPDATE_OK;
}

static void
shm_detach(void *handle)
{
	(void)handle;
}

static int
shm_value(struct counter *c, const struct run *run, bool locked,
    long long *value)
{
	struct shm_state *s = c->state;

	/* Only the workers took the lock, and they have all ended. */
	(void)locked;
	*value = atomic_load(&s->area->value);
	c->final_b = atomic_load(&s->area->value_b);
	if (run->trace_capacity != 0) {
		c->tag = traced_tag(*value);
		*value = traced_value(*value);
	}
	return 0;
}

/*
 * After every worker ended: a semaphore at 0, or a spinlock's word set,
 * was left taken; a robust mutex whose owner died holding it tells this
 * locker so, and is given back at once.  A kind the run did not use is
 * never taken, so only the run's own can answer yes.  With two counters,
 * either one's lock.
 */
static bool
held_one(sem_t *sem, atomic_int *spin, pthread_rwlock_t *rwlock,
    pthread_mutex_t *mutex)
{
	int value, error;

	if (sem != SEM_FAILED && sem_getvalue(sem, &value) == 0 && value <= 0)
		return true;
	if (atomic_load(spin) != 0)
		return true;
	if ((error = pthread_rwlock_trywrlock(rwlock)) == 0)
		pthread_rwlock_unlock(rwlock);
	if (error == EBUSY)
		return true;
	if ((error = pthread_mutex_trylock(mutex)) == EOWNERDEAD)
		pthread_mutex_consistent(mutex);
	if (error == 0 || error == EOWNERDEAD)
		pthread_mutex_unlock(mutex);
	return error == EOWNERDEAD || error == EBUSY;
}

static bool
shm_held(struct counter *c)
{
	struct shm_state *s = c->state;
	struct shm_area *area = s->area;

	return held_one(s->sem, &area->spin, &area->rwlock, &area->mutex) ||
	    (s->pair && held_one(s->sem_b, &area->spin_b, &area->rwlock_b,
	    &area->mutex_b));
}

static void
shm_destroy(struct counter *c)
{
	struct shm_state *s = c->state;

	if (s == NULL)
		return;
	if (s->sem != SEM_FAILED)
		sem_close(s->sem);
	if (s->sem_b != SEM_FAILED)
		sem_close(s->sem_b);
	munmap(s->area, sizeof(struct shm_area));
	free(s);
	c->state = NULL;
}

static const struct lock_kind shm_kinds[] = {
	{
		.name = "mutex",
		.words = "robust mutex",
		.owner_words = "the thread that locked it",
		.owner = OWNER_THREAD,
		.death = DEATH_RECOVERED,
		.death_words = "a robust mutex tells the next locker that its "
		    "owner died, and that locker recovers it",
		.nest_words = "an error-checking mutex refuses that with "
		    "EDEADLK",
		.run = run_mutex,
	},
	{
		.name = "rmutex",
		.words = "recursive robust mutex",
		.owner_words = "the thread that locked it",
		.owner = OWNER_THREAD,
		.death = DEATH_RECOVERED,
		.death_words = "a robust mutex tells the next locker that its "
		    "owner died, and that locker recovers it",
		.nest_words = "a recursive mutex counts its owner's locks, "
		    "and only the last unlock releases it",
		.run = run_rmutex,
	},
	{
		.name = "sem",
		.words = "named semaphore",
		.owner_words = "nobody",
		.owner = OWNER_NOBODY,
		.death = DEATH_ABANDONED,
		.death_words = "a semaphore has no owner, so nothing gives it "
		    "back when its holder dies",
		.nest_words = "a semaphore has no owner, so it cannot tell its "
		    "holder from another waiter",
		.run = run_sem,
	},
	{
		.name = "spin",
		.words = "spinlock",
		.owner_words = "nobody",
		.owner = OWNER_NOBODY,
		.death = DEATH_ABANDONED,
		.death_words = "a spinlock is a word in memory, so nothing "
		    "clears it when its holder dies",
		.nest_words = "a spinlock is a word in memory, so it cannot "
		    "tell its holder from another waiter",
		.run = run_spin,
	},
	{
		.name = "rwlock",
		.words = "read-write lock",
		.owner_words = "nobody",
		.owner = OWNER_NOBODY,
		.death = DEATH_ABANDONED,
		.death_words = "a read-write lock is not robust, so nothing "
		    "gives it back when a writer dies holding it",
		.run = run_rwlock,
	},
	{
		.name = "atomic",
		.words = "atomic add, lock-free",
		.owner_words = "nobody",
		.owner = OWNER_NONE,
		.death = DEATH_NOTHING,
		.death_words = "there was no lock to hold",
		.run = run_atomic,
	},
	{
		.name = "none",
		.words = "no lock",
		.owner_words = "nobody",
		.owner = OWNER_NONE,
		.death = DEATH_NOTHING,
		.death_words = "there was no lock to hold",
		.run = run_none,
	},
	{ .name = NULL },
};

const struct backend shm_backend = {
	.name = "shm",
	.where = "POSIX shared memory",
	.kinds = shm_kinds,
	.sweep = shm_sweep,
	.create = shm_create,
	.attach = shm_attach,
	.detach = shm_detach,
	.value = shm_value,
	.held = shm_held,
	.destroy = shm_destroy,
	.pairs = true,
};
