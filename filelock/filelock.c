/*
 * The counter in a file, as in the course's counter.txt, guarded by one of
 * the kernel's three file locks:
 *
 *   flock  flock(2): belongs to the open file description.  Every worker
 *          opens the file itself; a descriptor inherited across fork, or
 *          one descriptor used by many threads, shares the lock and
 *          excludes nothing (--share-fd shows it).
 *   fcntl  classic POSIX record lock (F_SETLKW): belongs to the process
 *          and the file; closing any descriptor of the file drops it, and
 *          the threads of one process all hold it at once.
 *   ofd    open-file-description record lock (F_OFD_SETLKW): fcntl's
 *          byte ranges with flock's ownership.
 *
 * The kernel drops all three when their owner goes: the process, or the
 * last descriptor of the open file description.  A thread that ends leaves
 * its descriptor open, and its flock or OFD lock held.  An update is the
 * lock, one pread and one pwrite of the fixed-width record, and the unlock.
 *
 * With --trace the record holds the tag of the write that made it after
 * the value, "15 3", while the workers run; the parent writes the plain
 * number back when it reads the final value, under the lock, so that
 * other programs find a number there after the run.  A plain number is
 * read as the start value's, tag 0.  What a write replaced the file cannot
 * tell, so its record says TRACE_UNKNOWN.  A traced run killed before its
 * end leaves the tag in the file: then it holds no number, as Python's
 * int() sees it, and the next run replaces it only with --force.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../backends.h"
#include "text.h"

/* Older C libraries name the thread a timer signals only in the union. */
#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id	_sigev_un._tid
#endif

/*
 * How much of the file an update reads first; a file longer than that,
 * written by some other program, is read whole, up to COUNTER_FILE_MAX.
 */
#define COUNTER_READ_FIRST	64
#define COUNTER_FILE_MAX	4096

/*
 * Shared by all workers: the parent's descriptor and the file it wrote;
 * with --counters=2, B's beside A's (else fd_b is -1).
 */
struct file_state {
	int	fd;
	dev_t	dev;
	ino_t	ino;
	int	fd_b;
	dev_t	dev_b;
	ino_t	ino_b;
};

/* One worker's own: its descriptor, and the timer that bounds its wait. */
struct file_worker {
	int	fd;
	bool	own;		/* opened by this worker, closed by detach */
	bool	timed;		/* timer was created */
	timer_t	timer;
	int	fd_b;		/* --counters=2: B's file, or -1 */
};

/* Each lock function takes the lock, waiting for it or not. */
static int
flock_lock(int fd, bool wait)
{
	return flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB));
}

static int
flock_unlock(int fd)
{
	return flock(fd, LOCK_UN);
}

static int
record_lock(int fd, int command, short type)
{
	/* The whole file, however long it grows; l_pid 0 as F_OFD_* needs. */
	struct flock range = { .l_type = type, .l_whence = SEEK_SET };

	return fcntl(fd, command, &range);
}

/* A reader's (--readers), shared with other readers. */
static int
flock_shared(int fd, bool wait)
{
	return flock(fd, LOCK_SH | (wait ? 0 : LOCK_NB));
}

static int
fcntl_shared(int fd, bool wait)
{
	return record_lock(fd, wait ? F_SETLKW : F_SETLK, F_RDLCK);
}

static int
ofd_shared(int fd, bool wait)
{
	return record_lock(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, F_RDLCK);
}

static int
fcntl_lock(int fd, bool wait)
{
	return record_lock(fd, wait ? F_SETLKW : F_SETLK, F_WRLCK);
}

static int
fcntl_unlock(int fd)
{
	return record_lock(fd, F_SETLK, F_UNLCK);
}

static int
ofd_lock(int fd, bool wait)
{
	return record_lock(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, F_WRLCK);
}

static int
ofd_unlock(int fd)
{
	return record_lock(fd, F_OFD_SETLK, F_UNLCK);
}

static void
arm(struct file_worker *h, uint64_t first_ns, uint64_t every_ns)
{
	struct itimerspec when = {
		.it_value = clock_timespec((int64_t)first_ns),
		.it_interval = clock_timespec((int64_t)every_ns),
	};

	timer_settime(h->timer, 0, &when, NULL);
}

/*
 * Only tries the lock: UPDATE_BUSY when another holds it, as flock says
 * with EWOULDBLOCK and a record lock with EAGAIN or EACCES.
 */
static inline int
try_lock_on(int fd, int (*lock)(int, bool))
{
	if (lock(fd, false) == 0)
		return UPDATE_OK;
	if (errno == EWOULDBLOCK || errno == EAGAIN || errno == EACCES)
		return UPDATE_BUSY;
	return UPDATE_LOCK;
}

static inline int
try_lock(struct file_worker *h, int (*lock)(int, bool))
{
	return try_lock_on(h->fd, lock);
}

/*
 * Waits for the lock for at most the worker's timeout.  A lock that is free
 * costs one call; only a wait arms the worker's own timer, whose SIGALRM,
 * aimed at this thread alone, interrupts the blocked call.  The timer
 * repeats, so an alarm that fires just before the call blocks is followed
 * by another.
 */
static int
lock_within(struct file_worker *h, int fd, struct worker *w,
    int (*lock)(int, bool))
{
	int64_t deadline;
	int error;

	if ((error = try_lock_on(fd, lock)) != UPDATE_BUSY)
		return error;
	error = UPDATE_OK;
	deadline = clock_ns() + (int64_t)w->timeout_ns;
	arm(h, w->timeout_ns, 1000000);
	while (lock(fd, true) == -1) {
		if (errno != EINTR) {
			error = UPDATE_LOCK;
			break;
		}
		if (clock_ns() >= deadline) {
			errno = ETIMEDOUT;
			error = UPDATE_TIMEOUT;
			break;
		}
	}
	arm(h, 0, 0);
	return error;
}

static inline int
take_lock_on(struct file_worker *h, int fd, struct worker *w,
    int (*lock)(int, bool))
{
	if (w->timeout_ns != 0)
		return lock_within(h, fd, w, lock);
	while (lock(fd, true) == -1)
		if (errno != EINTR)
			return UPDATE_LOCK;
	return UPDATE_OK;
}

static inline int
take_lock(struct file_worker *h, struct worker *w, int (*lock)(int, bool))
{
	return take_lock_on(h, h->fd, w, lock);
}

/*
 * With a schedule: the worker waits for its turn to read, then only tries
 * the lock, and while another worker holds it the turnstile lets the
 * others' steps go on, and gives the worker its turn to try again.  With
 * --try and no schedule, a busy lock is a miss, after which the worker
 * does its outside work and tries again.
 */
static int
lock_on_turn(struct file_worker *h, struct worker *w, int (*lock)(int, bool),
    bool timed, uint64_t *asked)
{
	int error;

	if (w->turnstile == NULL) {
		if (timed)
			*asked = worker_clock(w);
		while ((error = try_lock(h, lock)) == UPDATE_BUSY)
			worker_missed(w);
		return error;
	}
	turnstile_read(w->turnstile);
	if (timed)
		*asked = worker_clock(w);
	while ((error = try_lock(h, lock)) == UPDATE_BUSY)
		if (!turnstile_refused(w->turnstile))
			return take_lock(h, w, lock);
	return error;
}

/*
 * Reads the counter as another program may have left it, and with tag,
 * a traced record's tag.  Returns the length of the file's text, -1 with
 * errno set when it cannot be read, or -2 when it holds no number.
 */
static inline ssize_t
read_counter(int fd, long long *value, uint32_t *tag)
{
	char text[COUNTER_FILE_MAX];
	ssize_t n;

	n = pread(fd, text, COUNTER_READ_FIRST, 0);
	if (n == COUNTER_READ_FIRST)
		n = pread(fd, text, sizeof(text), 0);
	if (n == -1)
		return -1;
	if (n == (ssize_t)sizeof(text) || !(tag != NULL ?
	    counter_text_read_tagged(text, (size_t)n, value, tag) :
	    counter_text_read(text, (size_t)n, value)))
		return -2;
	return n;
}

/*
 * Writes value as the record, in place, with tag a traced one.  Text
 * longer than a record, left by another program, is first covered by the
 * value padded with spaces, then cut: the file holds the new number at
 * every moment.  Returns 1 when the value is written, and 0 with errno set
 * when it is not; *failed says whether anything failed.
 */
static inline int
write_counter(int fd, long long value, const uint32_t *tag, ssize_t old_len,
    bool *failed)
{
	char text[COUNTER_FILE_MAX];
	size_t len = COUNTER_TEXT_SIZE;

	if (tag == NULL)
		counter_text_format(value, text);
	else if (!counter_text_format_tagged(value, *tag, text)) {
		errno = ERANGE;
		*failed = true;
		return 0;
	}
	if (old_len > COUNTER_TEXT_SIZE) {
		len = (size_t)old_len;
		memset(text + COUNTER_TEXT_SIZE - 1, ' ',
		    len - COUNTER_TEXT_SIZE);
		text[len - 1] = '\n';
	}
	*failed = pwrite(fd, text, len, 0) != (ssize_t)len;
	if (*failed)
		return 0;
	*failed = len > COUNTER_TEXT_SIZE &&
	    ftruncate(fd, COUNTER_TEXT_SIZE) == -1;
	return 1;
}

/*
 * --nest: the lock taken nest - 1 more times on the worker's descriptor,
 * which the kernel grants at once and counts nowhere: the holder already
 * has it.
 */
static __attribute__((noinline, cold)) int
nest_lock(struct file_worker *h, struct worker *w, int (*lock)(int, bool))
{
	unsigned depth;
	int error;

	for (depth = 1; depth < w->nest; depth++)
		if ((error = take_lock(h, w, lock)) != UPDATE_OK)
			return error;
	return UPDATE_OK;
}

/*
 * --nest: the inner unlocks, after the read, as a recursive function
 * gives back its own lock before the outer one writes.  The first releases
 * the lock altogether, and the rest of the update runs unguarded.
 */
static __attribute__((noinline, cold)) int
nest_unlock(struct file_worker *h, struct worker *w, int (*unlock)(int))
{
	unsigned depth;

	for (depth = 1; depth < w->nest; depth++)
		if (unlock(h->fd) == -1)
			return UPDATE_UNLOCK;
	return UPDATE_OK;
}

/*
 * One read-modify-write of the record.  lock and unlock are constants at
 * every call, and the function always inlined, so each kind's update below
 * compiles to its own loop body.
 */
static inline __attribute__((always_inline)) int
file_update(struct file_worker *h, struct worker *w, int (*lock)(int, bool),
    int (*unlock)(int))
{
	long long value;
	uint64_t asked = 0, taken = 0, released = 0;
	bool wrote = false, failed, timed = lock != NULL && worker_timed(w);
	uint32_t tag;
	int error;
	ssize_t n;

	if (lock == NULL)
		worker_turn_to_read(w);
	else {
		/* The turn to read is waited for with the lock's choice. */
		if (w->lock_tried)
			error = lock_on_turn(h, w, lock, timed, &asked);
		else {
			if (timed)
				asked = worker_clock(w);
			error = take_lock(h, w, lock);
		}
		if (error == UPDATE_OK && w->nest > 1 &&
		    (error = nest_lock(h, w, lock)) != UPDATE_OK)
			unlock(h->fd);
		if (error != UPDATE_OK)
			return error;
		if (timed)
			taken = worker_clock(w);
	}
	if ((n = read_counter(h->fd, &value, w->trace != NULL ? &tag :
	    NULL)) < 0) {
		error = n == -1 ? UPDATE_READ : UPDATE_CORRUPT;
		goto out;
	}
	if (w->trace != NULL)
		worker_traced_read(w, tag, value);
	if (lock != NULL && w->nest > 1 &&
	    (error = nest_unlock(h, w, unlock)) != UPDATE_OK)
		goto out;
	worker_midpoint(w);
	value = (long long)((unsigned long long)value +
	    (unsigned long long)(long long)w->delta);
	tag = w->trace != NULL ? worker_trace_tag(w) : 0;
	wrote = write_counter(h->fd, value, w->trace != NULL ? &tag : NULL, n,
	    &failed);
	if (wrote && w->trace != NULL)
		worker_traced_write(w, value, TRACE_UNKNOWN);
	error = failed ? UPDATE_WRITE : UPDATE_OK;
out:
	if (lock != NULL) {
		int saved = errno;

		if (timed)
			released = worker_clock(w);
		if (unlock(h->fd) == -1 && error == UPDATE_OK)
			error = UPDATE_UNLOCK;
		else
			errno = saved;
	}
	/* Counted after the unlock, as in the shm backend. */
	if (wrote) {
		worker_released(w);
		worker_committed(w);
	}
	if (timed)
		worker_record(w, asked, taken, released);
	return error;
}

/*
 * --counters=2: one move of 1 from A to B (an incrementer) or from B to A
 * (a decrementer), holding both files' locks: the lock of the worker's
 * first counter taken and its file read, --hold, the other lock taken and
 * its file read, both written, and both locks given back, the second
 * first.  The slot says what the worker holds and waits for at each step,
 * for the watchdog.  A lock found held with --try (then, the second,
 * after a random wait: worker_back_off), or refused by the
 * kernel with EDEADLK (fcntl's cycle detection), makes the worker give
 * back what it holds and begin again: a miss, or a refusal counted in
 * its slot, after which it first waits for the lock it was refused.
 * Without a lock both files are read, then both written.
 */
static inline __attribute__((always_inline)) int
file_pair_update(struct file_worker *h, struct worker *w,
    int (*lock)(int, bool), int (*unlock)(int))
{
	int fd[2] = { h->fd, h->fd_b };
	unsigned first = w->first, second = 1 - w->first;
	/* An incrementer takes 1 from A and gives it to B. */
	long long delta[2] = { -w->delta, w->delta }, got[2];
	uint64_t asked = 0, taken = 0, released = 0;
	bool timed = lock != NULL && worker_timed(w), failed = false;
	ssize_t n[2];
	int error = UPDATE_OK, saved;
	unsigned which;

	if (timed)
		asked = worker_clock(w);
	for (;;) {
		worker_locks(w, 0, (int)first);
		if (lock != NULL) {
			error = w->lock_tried ? try_lock_on(fd[first], lock) :
			    take_lock_on(h, fd[first], w, lock);
			if (error == UPDATE_BUSY) {
				worker_locks(w, 0, PAIR_NONE);
				worker_missed(w);
				continue;
			}
			if (error != UPDATE_OK) {
				worker_locks(w, 0, PAIR_NONE);
				return error;
			}
		}
		worker_locks(w, 1u << first, PAIR_NONE);
		n[first] = read_counter(fd[first], &got[first], NULL);
		if (n[first] < 0) {
			error = n[first] == -1 ? UPDATE_READ : UPDATE_CORRUPT;
			saved = errno;
			goto out_first;
		}
		if (w->delay_ns != 0)
			worker_busy(&w->slot->held_ns, w->delay_ns,
			    w->work_spins);
		worker_locks(w, 1u << first, (int)second);
		if (lock == NULL)
			break;
		error = w->lock_tried ? try_lock_on(fd[second], lock) :
		    take_lock_on(h, fd[second], w, lock);
		if (error == UPDATE_OK)
			break;
		saved = errno;
		unlock(fd[first]);
		worker_locks(w, 0, PAIR_NONE);
		if (error == UPDATE_BUSY) {
			worker_missed(w);
			worker_back_off(w);
			continue;
		}
		if (error != UPDATE_LOCK || saved != EDEADLK) {
			errno = saved;
			return error;
		}
		atomic_store_explicit(&w->slot->refused, atomic_load_explicit(
		    &w->slot->refused, memory_order_relaxed) + 1,
		    memory_order_relaxed);
		/*
		 * Waits, holding nothing, for the lock it was refused, and
		 * gives it back: the worker it waited for finishes first.
		 * Begun again at once, it would take its first lock back
		 * before the woken waiter could, and refusals would follow
		 * for as long as the run.
		 */
		worker_locks(w, 0, (int)second);
		error = take_lock_on(h, fd[second], w, lock);
		if (error != UPDATE_OK) {
			worker_locks(w, 0, PAIR_NONE);
			return error;
		}
		unlock(fd[second]);
		worker_locks(w, 0, PAIR_NONE);
	}
	worker_locks(w, 1u << first | 1u << second, PAIR_NONE);
	if (timed)
		taken = worker_clock(w);
	if ((n[second] = read_counter(fd[second], &got[second], NULL)) < 0) {
		error = n[second] == -1 ? UPDATE_READ : UPDATE_CORRUPT;
		goto out;
	}
	worker_pair_midpoint(w);
	for (which = 0; which < 2 && !failed; which++)
		write_counter(fd[which], (long long)((unsigned long long)
		    got[which] + (unsigned long long)delta[which]), NULL,
		    n[which], &failed);
	error = failed ? UPDATE_WRITE : UPDATE_OK;
out:
	saved = errno;
	if (timed)
		released = worker_clock(w);
	if (lock != NULL && unlock(fd[second]) == -1 && error == UPDATE_OK) {
		saved = errno;
		error = UPDATE_UNLOCK;
	}
out_first:
	if (lock != NULL && unlock(fd[first]) == -1 && error == UPDATE_OK) {
		saved = errno;
		error = UPDATE_UNLOCK;
	}
	worker_locks(w, 0, PAIR_NONE);
	errno = saved;
	if (error == UPDATE_OK) {
		worker_committed(w);
		if (timed)
			worker_record(w, asked, taken, released);
	}
	return error;
}

/*
 * A reader's one read (--readers), under the shared lock, or none: text
 * that holds no number is an impossible read, UPDATE_CORRUPT, which the
 * loop counts.
 */
static inline __attribute__((always_inline)) int
file_read(struct file_worker *h, struct worker *w, int (*lock)(int, bool),
    int (*unlock)(int), long long *value)
{
	uint64_t asked = 0, taken = 0, released = 0;
	bool timed = lock != NULL && worker_timed(w);
	int error = UPDATE_OK, saved;
	ssize_t n;

	if (lock != NULL) {
		if (timed)
			asked = worker_clock(w);
		if ((error = take_lock(h, w, lock)) != UPDATE_OK)
			return error;
		if (timed)
			taken = worker_clock(w);
	}
	if ((n = read_counter(h->fd, value, NULL)) < 0)
		error = n == -1 ? UPDATE_READ : UPDATE_CORRUPT;
	if (lock != NULL) {
		saved = errno;
		if (timed)
			released = worker_clock(w);
		if (unlock(h->fd) == -1 && error == UPDATE_OK)
			return UPDATE_UNLOCK;
		errno = saved;
		if (timed)
			worker_record(w, asked, taken, released);
	}
	return error;
}

static int
read_flock(void *handle, struct worker *w, long long *value)
{
	return file_read(handle, w, flock_shared, flock_unlock, value);
}

static int
read_fcntl(void *handle, struct worker *w, long long *value)
{
	return file_read(handle, w, fcntl_shared, fcntl_unlock, value);
}

static int
read_ofd(void *handle, struct worker *w, long long *value)
{
	return file_read(handle, w, ofd_shared, ofd_unlock, value);
}

static int
read_none(void *handle, struct worker *w, long long *value)
{
	return file_read(handle, w, NULL, NULL, value);
}

static inline int
update_flock(void *handle, struct worker *w)
{
	return file_update(handle, w, flock_lock, flock_unlock);
}

static inline int
update_flock_pair(void *handle, struct worker *w)
{
	return file_pair_update(handle, w, flock_lock, flock_unlock);
}

static int
run_flock(void *handle, struct worker *w)
{
	if (w->delta == 0)
		return worker_read_loop(handle, w, read_flock);
	if (w->pair)
		return worker_loop(handle, w, update_flock_pair);
	return worker_loop(handle, w, update_flock);
}

static inline int
update_fcntl(void *handle, struct worker *w)
{
	return file_update(handle, w, fcntl_lock, fcntl_unlock);
}

static inline int
update_fcntl_pair(void *handle, struct worker *w)
{
	return file_pair_update(handle, w, fcntl_lock, fcntl_unlock);
}

static int
run_fcntl(void *handle, struct worker *w)
{
	if (w->delta == 0)
		return worker_read_loop(handle, w, read_fcntl);
	if (w->pair)
		return worker_loop(handle, w, update_fcntl_pair);
	return worker_loop(handle, w, update_fcntl);
}

static inline int
update_ofd(void *handle, struct worker *w)
{
	return file_update(handle, w, ofd_lock, ofd_unlock);
}

static inline int
update_ofd_pair(void *handle, struct worker *w)
{
	return file_pair_update(handle, w, ofd_lock, ofd_unlock);
}

static int
run_ofd(void *handle, struct worker *w)
{
	if (w->delta == 0)
		return worker_read_loop(handle, w, read_ofd);
	if (w->pair)
		return worker_loop(handle, w, update_ofd_pair);
	return worker_loop(handle, w, update_ofd);
}

static inline int
update_none(void *handle, struct worker *w)
{
	return file_update(handle, w, NULL, NULL);
}

static inline int
update_none_pair(void *handle, struct worker *w)
{
	return file_pair_update(handle, w, NULL, NULL);
}

static int
run_none(void *handle, struct worker *w)
{
	if (w->delta == 0)
		return worker_read_loop(handle, w, read_none);
	if (w->pair)
		return worker_loop(handle, w, update_none_pair);
	return worker_loop(handle, w, update_none);
}

/*
 * A new counter file, holding the start value before it has a name: an
 * unnamed file in the directory (O_TMPFILE) is written, then linked to
 * the path, so that no moment and no kill leaves an empty file there, and
 * a file that appeared meanwhile is not replaced.  Returns the descriptor,
 * or -1 with errno set (EEXIST: the path exists).  Where the filesystem
 * has no unnamed files, the file is created empty and written at once.
 */
static int
create_counter(const char *path, long long start)
{
	char text[COUNTER_TEXT_SIZE], *dir, fd_path[64];
	struct stat made, found;
	bool failed;
	int fd, named, saved;

	if ((dir = strdup(path)) == NULL)
		return -1;
	fd = open(dirname(dir), O_TMPFILE | O_RDWR | O_CLOEXEC, 0666);
	saved = errno;
	free(dir);
	if (fd == -1 && (saved == EOPNOTSUPP || saved == EISDIR ||
	    saved == EINVAL)) {
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOCTTY |
		    O_CLOEXEC, 0666);
		if (fd != -1 && write_counter(fd, start, NULL, 0, &failed) ==
		    0) {
			saved = errno;
			unlink(path);
			close(fd);
			errno = saved;
			return -1;
		}
		return fd;
	}
	if (fd == -1) {
		errno = saved;
		return -1;
	}
	counter_text_format(start, text);
	snprintf(fd_path, sizeof(fd_path), "/proc/self/fd/%d", fd);
	if (pwrite(fd, text, sizeof(text), 0) != (ssize_t)sizeof(text) ||
	    linkat(AT_FDCWD, fd_path, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	/* Opened again by its name, as every other descriptor of it is. */
	if ((named = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) ==
	    -1 || fstat(fd, &made) == -1 || fstat(named, &found) == -1 ||
	    made.st_dev != found.st_dev || made.st_ino != found.st_ino) {
		if (named != -1)
			close(named);
		return fd;
	}
	close(fd);
	return named;
}

/*
 * The lock the run's kind takes, for the parent's first write to a file
 * that others may use: none for the unguarded kind.
 */
static bool
kind_lock(const struct lock_kind *kind, int (**lock)(int, bool),
    int (**unlock)(int))
{
	if (kind->run == run_flock) {
		*lock = flock_lock;
		*unlock = flock_unlock;
	} else if (kind->run == run_fcntl) {
		*lock = fcntl_lock;
		*unlock = fcntl_unlock;
	} else if (kind->run == run_ofd) {
		*lock = ofd_lock;
		*unlock = ofd_unlock;
	} else
		return false;
	return true;
}

/*
 * An existing file: taken under the run's lock, as any update is, so that
 * another holder's count is not overwritten under its feet; read as it
 * is; and given the start value, or kept, unless it holds no number and
 * the run was not told to replace it.
 */
static int
reuse_counter(struct counter *c, const struct run *run, int fd,
    long long *start)
{
	int (*lock)(int, bool) = NULL, (*unlock)(int) = NULL;
	bool locked = kind_lock(run->kind, &lock, &unlock), failed;
	long long value;
	struct stat st;
	ssize_t n;
	int saved;

	if (locked && lock(fd, false) == -1) {
		if (errno == EACCES || errno == EAGAIN)
			errno = EWOULDBLOCK;
		if (errno == EWOULDBLOCK)
			c->why = "is locked by another program";
		return -1;
	}
	n = read_counter(fd, &value, NULL);
	if (n == -1)
		goto fail;
	if (n == -2 && !run->force) {
		c->why = "holds no number, so it is not a counter to reuse "
		    "(--force replaces it)";
		errno = EINVAL;
		goto fail;
	}
	*start = run->keep_start && n >= 0 ? value : run->start;
	/* Replaced by force: the record covers what it can of the old text. */
	if (n == -2 && (fstat(fd, &st) == -1 || (st.st_size >
	    COUNTER_FILE_MAX && ftruncate(fd, COUNTER_TEXT_SIZE) == -1)))
		goto fail;
	if (n == -2)
		n = st.st_size > COUNTER_FILE_MAX ? 0 : (ssize_t)st.st_size;
	if (write_counter(fd, *start, NULL, n, &failed) == 0 || failed)
		goto fail;
	if (locked && unlock(fd) == -1)
		return -1;
	return 0;
fail:
	saved = errno;
	if (locked)
		unlock(fd);
	errno = saved;
	return -1;
}

/*
 * The counter file at path, created with the start value or reused, open
 * in *fd, its start in *start and its identity in *st; returns 0, or -1
 * with errno set and perhaps c->why.
 */
static int
open_counter(struct counter *c, const struct run *run, const char *path,
    int *fd, long long *start, struct stat *st)
{
	int saved;

	if (lstat(path, st) == 0 && S_ISLNK(st->st_mode) &&
	    stat(path, st) == -1 && errno == ENOENT) {
		c->why = "is a dangling symbolic link";
		errno = ENOENT;
		return -1;
	}
	*start = run->start;
	*fd = create_counter(path, run->start);
	/* O_NONBLOCK: opening a FIFO must fail below, not wait for a peer. */
	if (*fd == -1 && errno == EEXIST)
		*fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	else if (*fd != -1)
		goto opened;
	if (*fd == -1)
		return -1;
	if (fstat(*fd, st) == -1)
		goto fail_open;
	if (!S_ISREG(st->st_mode)) {
		c->why = "is not a regular file";
		errno = EINVAL;
		goto fail_open;
	}
	if (reuse_counter(c, run, *fd, start) == -1)
		goto fail_open;
opened:
	if (fstat(*fd, st) == -1)
		goto fail_open;
	return 0;
fail_open:
	saved = errno;
	close(*fd);
	*fd = -1;
	errno = saved;
	return -1;
}

/*
 * Whether open_counter would take the file at path, asked before anything
 * is written: counter B's, which must not fail after A's file was made or
 * given its start.  Read under the run's lock, as reuse_counter reads.
 */
static int
check_counter(struct counter *c, const struct run *run, const char *path)
{
	int (*lock)(int, bool) = NULL, (*unlock)(int) = NULL;
	bool locked = kind_lock(run->kind, &lock, &unlock);
	long long value;
	struct stat st;
	ssize_t n;
	int fd, saved;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (stat(path, &st) == -1 && errno == ENOENT) {
		c->why = "is a dangling symbolic link";
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		c->why = "is not a regular file";
		errno = EINVAL;
		return -1;
	}
	if ((fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) ==
	    -1)
		return -1;
	if (locked && lock(fd, false) == -1) {
		if (errno == EACCES || errno == EAGAIN)
			errno = EWOULDBLOCK;
		if (errno == EWOULDBLOCK)
			c->why = "is locked by another program";
		n = -1;
	} else
		n = read_counter(fd, &value, NULL);
	saved = errno;
	close(fd);
	errno = saved;
	if (n == -2 && !run->force) {
		c->why = "holds no number, so it is not a counter to reuse "
		    "(--force replaces it)";
		errno = EINVAL;
	}
	return n == -1 || (n == -2 && !run->force) ? -1 : 0;
}

/*
 * The counter file, and with --counters=2 counter B's beside it, at the
 * same path with ".b" added: each holds one number, as any counter file
 * does.  B's is checked first, so that a B that cannot be used leaves A's
 * as it was.
 */
static int
file_create(struct counter *c, const struct run *run)
{
	struct file_state *f;
	struct stat st;
	int saved;

	c->why = NULL;
	c->name_b[0] = '\0';
	if (strlen(run->path) >= sizeof(c->name) ||
	    (run_pair(run) && strlen(run->path) + 2 >= sizeof(c->name_b))) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(c->name, run->path);
	if (run_pair(run))
		snprintf(c->name_b, sizeof(c->name_b), "%s.b", run->path);
	if ((f = malloc(sizeof(*f))) == NULL)
		return -1;
	f->fd_b = -1;
	if (run_pair(run) && check_counter(c, run, c->name_b) == -1) {
		memcpy(c->name, c->name_b, sizeof(c->name));
		goto fail;
	}
	if (open_counter(c, run, c->name, &f->fd, &c->start, &st) == -1)
		goto fail;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	c->start_b = c->start;
	if (run_pair(run)) {
		if (open_counter(c, run, c->name_b, &f->fd_b, &c->start_b,
		    &st) == -1) {
			/* The message names the file that failed. */
			memcpy(c->name, c->name_b, sizeof(c->name));
			goto fail_open;
		}
		f->dev_b = st.st_dev;
		f->ino_b = st.st_ino;
	}
	c->state = f;
	return 0;
fail_open:
	saved = errno;
	close(f->fd);
	errno = saved;
fail:
	saved = errno;
	free(f);
	errno = saved;
	return -1;
}

/*
 * A worker's own handle.  Unless the run shares one descriptor, a worker
 * opens the file itself: flock and OFD locks belong to the open file
 * description, and the parent's is the same in every worker.
 */
static int
file_attach(struct counter *c, const struct run *run, void **handle)
{
	struct file_state *f = c->state;
	struct file_worker *h;
	struct sigevent event = {
		.sigev_notify = SIGEV_THREAD_ID,
		.sigev_signo = SIGALRM,
	};
	struct stat st;
	int error = UPDATE_ATTACH, saved;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return UPDATE_ATTACH;
	h->fd = f->fd;
	h->fd_b = f->fd_b;
	if (!run->share_fd && f->fd_b != -1) {
		/* B's first, so that a failure below closes it with A's. */
		if ((h->fd_b = open(c->name_b, O_RDWR | O_NOCTTY |
		    O_CLOEXEC)) == -1)
			goto fail;
		if (fstat(h->fd_b, &st) == -1)
			goto fail;
		if (st.st_dev != f->dev_b || st.st_ino != f->ino_b) {
			errno = ESTALE;
			error = UPDATE_REPLACED;
			goto fail;
		}
	}
	if (!run->share_fd) {
		if ((h->fd = open(c->name, O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1)
			goto fail;
		h->own = true;
		if (fstat(h->fd, &st) == -1)
			goto fail;
		if (st.st_dev != f->dev || st.st_ino != f->ino) {
			errno = ESTALE;
			error = UPDATE_REPLACED;
			goto fail;
		}
	}
	if (run->timeout_ns != 0) {
		event.sigev_notify_thread_id = gettid();
		if (timer_create(CLOCK_MONOTONIC, &event, &h->timer) == -1)
			goto fail;
		h->timed = true;
	}
	*handle = h;
	return UPDATE_OK;
fail:
	saved = errno;
	if (h->own)
		close(h->fd);
	if (!run->share_fd && h->fd_b != -1)
		close(h->fd_b);
	free(h);
	errno = saved;
	return error;
}

static void
file_detach(void *handle)
{
	struct file_worker *h = handle;

	if (h->timed)
		timer_delete(h->timer);
	if (h->own) {
		close(h->fd);
		if (h->fd_b != -1)
			close(h->fd_b);
	}
	free(h);
}

/*
 * The final value of the file at path, open as fd, read under the run's
 * lock as an update reads it: another program may be halfway through its
 * own update.  A traced run's record gives its tag, and is written back
 * as the plain number, under the lock.
 */
static int
value_of(struct counter *c, const struct run *run, int fd, const char *path,
    bool under_lock, long long *value, uint32_t *tag)
{
	int (*lock)(int, bool) = NULL, (*unlock)(int) = NULL;
	struct stat at_path, st;
	bool locked, failed = false;
	ssize_t n;
	int saved;

	if (fstat(fd, &st) == -1)
		return -1;
	if (st.st_nlink == 0 || stat(path, &at_path) == -1 ||
	    at_path.st_dev != st.st_dev || at_path.st_ino != st.st_ino) {
		c->why = "was replaced or removed during the run";
		errno = ESTALE;
		return -1;
	}
	locked = under_lock && kind_lock(run->kind, &lock, &unlock);
	if (locked && lock(fd, false) == -1) {
		if (errno == EACCES || errno == EAGAIN)
			errno = EWOULDBLOCK;
		if (errno == EWOULDBLOCK)
			c->why = "is locked by another program";
		return -1;
	}
	if ((n = read_counter(fd, value, tag)) == -2) {
		c->why = "holds no number: it was changed during the run";
		errno = EINVAL;
	}
	if (n >= 0 && tag != NULL)
		write_counter(fd, *value, NULL, n, &failed);
	saved = errno;
	if (locked)
		unlock(fd);
	errno = saved;
	return n < 0 || failed ? -1 : 0;
}

/*
 * The counter's final value and, with --counters=2, B's; a reason that
 * concerns B's file names it.
 */
static int
file_value(struct counter *c, const struct run *run, bool under_lock,
    long long *value)
{
	static char why_b[PATH_MAX + 128];
	struct file_state *f = c->state;

	if (value_of(c, run, f->fd, c->name, under_lock, value,
	    run->trace_capacity != 0 ? &c->tag : NULL) == -1)
		return -1;
	if (f->fd_b == -1 || value_of(c, run, f->fd_b, c->name_b, under_lock,
	    &c->final_b, NULL) == 0)
		return 0;
	if (c->why != NULL) {
		snprintf(why_b, sizeof(why_b), "counter B's file %s %s",
		    c->name_b, c->why);
		c->why = why_b;
	}
	return -1;
}

/*
 * After every worker ended: a flock or OFD lock that a dead thread's open
 * file description, still open, holds keeps a new description out.  A
 * classic record lock belongs to the process, whose own test it would not
 * stop; a dead process's locks the kernel has released.
 */
static bool
held_at(const char *path)
{
	struct flock range = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	bool held;
	int fd;

	if ((fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1)
		return false;
	held = (flock(fd, LOCK_EX | LOCK_NB) == -1 && errno == EWOULDBLOCK) ||
	    (fcntl(fd, F_OFD_GETLK, &range) == 0 && range.l_type != F_UNLCK);
	close(fd);
	return held;
}

/* With --counters=2, either file's. */
static bool
file_held(struct counter *c)
{
	return held_at(c->name) || (c->name_b[0] != '\0' &&
	    held_at(c->name_b));
}

static void
file_destroy(struct counter *c)
{
	struct file_state *f = c->state;

	if (f == NULL)
		return;
	if (f->fd != -1)
		close(f->fd);
	if (f->fd_b != -1)
		close(f->fd_b);
	free(f);
	c->state = NULL;
}

static const struct lock_kind file_kinds[] = {
	{
		.name = "flock",
		.words = "flock lock",
		.owner_words = "the open file description",
		.owner = OWNER_OPEN_FILE,
		.death = DEATH_RELEASED,
		.nest_words = "an flock lock taken twice on one descriptor is "
		    "one lock: the inner unlock released it, and the rest of "
		    "the update ran unguarded",
		.death_words = "the kernel releases a flock lock when the last "
		    "descriptor of its open file description closes, as it "
		    "does when its holder dies",
		.run = run_flock,
	},
	{
		.name = "fcntl",
		.words = "fcntl record lock",
		.owner_words = "the process",
		.owner = OWNER_PROCESS,
		.death = DEATH_RELEASED,
		.nest_words = "an fcntl record lock taken twice by one process "
		    "is one lock: the inner unlock released it, and the rest "
		    "of the update ran unguarded",
		.death_words = "the kernel releases a process's record locks "
		    "when it dies",
		.run = run_fcntl,
	},
	{
		.name = "ofd",
		.words = "OFD record lock",
		.owner_words = "the open file description",
		.owner = OWNER_OPEN_FILE,
		.death = DEATH_RELEASED,
		.nest_words = "an OFD record lock taken twice on one "
		    "descriptor is one lock: the inner unlock released it, "
		    "and the rest of the update ran unguarded",
		.death_words = "the kernel releases an OFD lock when the last "
		    "descriptor of its open file description closes, as it "
		    "does when its holder dies",
		.run = run_ofd,
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

const struct backend file_backend = {
	.name = "file",
	.where = "a file",
	.kinds = file_kinds,
	.shares_fd = true,
	.keeps = true,
	.create = file_create,
	.attach = file_attach,
	.detach = file_detach,
	.value = file_value,
	.held = file_held,
	.destroy = file_destroy,
	.pairs = true,
};
