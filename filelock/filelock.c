/*
 * The counter in a file, as in the course's counter.txt, guarded by one of
 * the kernel's three file locks:
 *
 *   flock  flock(2): belongs to the open file description.  Every worker
 *          opens the file itself; a descriptor inherited across fork
 *          shares the lock and would exclude nothing.
 *   fcntl  classic POSIX record lock (F_SETLKW): belongs to the process
 *          and the file; closing any descriptor of the file drops it.
 *   ofd    open-file-description record lock (F_OFD_SETLKW): fcntl's
 *          byte ranges with flock's ownership.
 *
 * The kernel drops all three when the holder dies.  An update is the lock,
 * one pread and one pwrite of the fixed-width record, and the unlock.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../counter.h"
#include "text.h"

struct file_state {
	int	fd;		/* the parent's; in a worker, its own */
	dev_t	dev;		/* the file that create wrote */
	ino_t	ino;
};

static const char *const file_locks[] = { "flock", "fcntl", "ofd", "none", NULL };

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
on_alarm(int signo)
{
	(void)signo;	/* Only here to interrupt a blocked lock call. */
}

static void
set_alarm(uint64_t first_ns, uint64_t every_ns)
{
	struct itimerval timer = {
		.it_value = { (time_t)(first_ns / 1000000000),
		    (suseconds_t)(first_ns % 1000000000 / 1000) },
		.it_interval = { (time_t)(every_ns / 1000000000),
		    (suseconds_t)(every_ns % 1000000000 / 1000) },
	};

	if (first_ns != 0 && timer.it_value.tv_sec == 0 &&
	    timer.it_value.tv_usec == 0)
		timer.it_value.tv_usec = 1;
	setitimer(ITIMER_REAL, &timer, NULL);
}

/*
 * Waits for the lock for at most the worker's timeout.  A lock that is free
 * costs one call; only a wait arms the timer whose SIGALRM interrupts the
 * blocked call.  The timer repeats, so an alarm that fires just before the
 * call blocks is followed by another.
 */
static int
lock_within(int fd, struct worker *w, int (*lock)(int, bool))
{
	int64_t deadline;
	int error = UPDATE_OK;

	if (lock(fd, false) == 0)
		return UPDATE_OK;
	if (errno != EWOULDBLOCK && errno != EAGAIN && errno != EACCES)
		return UPDATE_LOCK;
	deadline = clock_ns() + (int64_t)w->timeout_ns;
	set_alarm(w->timeout_ns, 1000000);
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
	set_alarm(0, 0);
	return error;
}

static inline int
take_lock(int fd, struct worker *w, int (*lock)(int, bool))
{
	if (w->timeout_ns != 0)
		return lock_within(fd, w, lock);
	while (lock(fd, true) == -1)
		if (errno != EINTR)
			return UPDATE_LOCK;
	return UPDATE_OK;
}

/*
 * One read-modify-write of the record.  lock and unlock are constants at
 * every call, so each kind's update below compiles to its own loop body.
 */
static inline int
file_update(struct file_state *f, struct worker *w, int (*lock)(int, bool),
    int (*unlock)(int))
{
	char text[COUNTER_TEXT_SIZE];
	long long value;
	int64_t asked = 0;
	bool wrote = false;
	int error;
	ssize_t n;

	if (lock != NULL) {
		if (w->latency)
			asked = clock_ns();
		if ((error = take_lock(f->fd, w, lock)) != UPDATE_OK)
			return error;
		if (w->latency)
			worker_record_wait(w, asked);
	}
	n = pread(f->fd, text, sizeof(text), 0);
	if (n != (ssize_t)sizeof(text) || !counter_text_parse(text, &value)) {
		error = n == -1 ? UPDATE_READ : UPDATE_CORRUPT;
		goto out;
	}
	worker_midpoint(w);
	counter_text_format((long long)((unsigned long long)value +
	    (unsigned long long)(long long)w->delta), text);
	n = pwrite(f->fd, text, sizeof(text), 0);
	wrote = n == (ssize_t)sizeof(text);
	error = wrote ? UPDATE_OK : UPDATE_WRITE;
out:
	if (lock != NULL) {
		int saved = errno;

		if (w->latency)
			worker_record_hold(w);
		if (unlock(f->fd) == -1 && error == UPDATE_OK)
			error = UPDATE_UNLOCK;
		else
			errno = saved;
	}
	/* Counted after the unlock, as in the shm backend. */
	if (wrote)
		worker_committed(w);
	return error;
}

static inline int
update_flock(void *state, struct worker *w)
{
	return file_update(state, w, flock_lock, flock_unlock);
}

static int
run_flock(struct counter *c, struct worker *w)
{
	return worker_loop(c, w, update_flock);
}

static inline int
update_fcntl(void *state, struct worker *w)
{
	return file_update(state, w, fcntl_lock, fcntl_unlock);
}

static int
run_fcntl(struct counter *c, struct worker *w)
{
	return worker_loop(c, w, update_fcntl);
}

static inline int
update_ofd(void *state, struct worker *w)
{
	return file_update(state, w, ofd_lock, ofd_unlock);
}

static int
run_ofd(struct counter *c, struct worker *w)
{
	return worker_loop(c, w, update_ofd);
}

static inline int
update_none(void *state, struct worker *w)
{
	return file_update(state, w, NULL, NULL);
}

static int
run_none(struct counter *c, struct worker *w)
{
	return worker_loop(c, w, update_none);
}

static int (*const file_runs[])(struct counter *, struct worker *) = {
	run_flock, run_fcntl, run_ofd, run_none,
};

static int
write_record(int fd, long long value)
{
	char text[COUNTER_TEXT_SIZE];
	struct stat st;

	counter_text_format(value, text);
	if (pwrite(fd, text, sizeof(text), 0) != (ssize_t)sizeof(text))
		return -1;
	/* Only now drop what an older, longer content left behind. */
	if (fstat(fd, &st) == -1)
		return -1;
	if (st.st_size > (off_t)sizeof(text) &&
	    ftruncate(fd, (off_t)sizeof(text)) == -1)
		return -1;
	return 0;
}

static int
file_create(struct counter *c, const struct run *run)
{
	struct file_state *f;
	struct stat st;
	bool created = true;
	size_t kind;
	int saved;

	for (kind = 0; strcmp(file_locks[kind], run->lock) != 0; kind++)
		;
	c->run = file_runs[kind];
	c->why = NULL;
	if (strlen(run->path) >= sizeof(c->name)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(c->name, run->path);
	if ((f = malloc(sizeof(*f))) == NULL)
		return -1;
	if (lstat(run->path, &st) == 0 && S_ISLNK(st.st_mode) &&
	    stat(run->path, &st) == -1 && errno == ENOENT) {
		c->why = "is a dangling symbolic link";
		errno = ENOENT;
		goto fail;
	}
	/* O_NONBLOCK: opening a FIFO must fail below, not wait for a peer. */
	f->fd = open(run->path, O_RDWR | O_CREAT | O_EXCL | O_NOCTTY |
	    O_NONBLOCK | O_CLOEXEC, 0666);
	if (f->fd == -1 && errno == EEXIST) {
		created = false;
		f->fd = open(run->path, O_RDWR | O_NOCTTY | O_NONBLOCK |
		    O_CLOEXEC);
	}
	if (f->fd == -1)
		goto fail;
	if (fstat(f->fd, &st) == -1)
		goto fail_open;
	if (!S_ISREG(st.st_mode)) {
		c->why = "is not a regular file";
		errno = EINVAL;
		goto fail_open;
	}
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	if (write_record(f->fd, run->start) == -1)
		goto fail_open;
	c->state = f;
	return 0;
fail_open:
	saved = errno;
	if (created)
		unlink(run->path);
	close(f->fd);
	errno = saved;
fail:
	saved = errno;
	free(f);
	errno = saved;
	return -1;
}

static int
file_attach(struct counter *c, struct worker *w)
{
	struct file_state *f = c->state;
	struct sigaction alarm = { .sa_handler = on_alarm };
	struct stat st;
	int fd;

	/*
	 * A worker opens the file itself: flock and OFD locks belong to the
	 * open file description, and the parent's is shared by every child.
	 */
	close(f->fd);
	f->fd = -1;
	if ((fd = open(c->name, O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1)
		return UPDATE_ATTACH;
	if (fstat(fd, &st) == -1) {
		close(fd);
		return UPDATE_ATTACH;
	}
	if (st.st_dev != f->dev || st.st_ino != f->ino) {
		close(fd);
		errno = ESTALE;
		return UPDATE_REPLACED;
	}
	f->fd = fd;
	/* No SA_RESTART: the alarm must interrupt a blocked lock call. */
	if (w->timeout_ns != 0 && sigaction(SIGALRM, &alarm, NULL) == -1)
		return UPDATE_ATTACH;
	return UPDATE_OK;
}

static int
file_value(struct counter *c, long long *value)
{
	struct file_state *f = c->state;
	char text[COUNTER_TEXT_SIZE];
	struct stat at_path, st;
	ssize_t n;

	if (fstat(f->fd, &st) == -1)
		return -1;
	if (st.st_nlink == 0 || stat(c->name, &at_path) == -1 ||
	    at_path.st_dev != st.st_dev || at_path.st_ino != st.st_ino) {
		c->why = "was replaced or removed during the run";
		errno = ESTALE;
		return -1;
	}
	n = pread(f->fd, text, sizeof(text), 0);
	if (n == -1)
		return -1;
	if (n != (ssize_t)sizeof(text) || st.st_size != (off_t)sizeof(text) ||
	    !counter_text_parse(text, value)) {
		c->why = "holds no valid counter: it was changed during the run";
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static void
file_destroy(struct counter *c)
{
	struct file_state *f = c->state;

	if (f == NULL)
		return;
	if (f->fd != -1)
		close(f->fd);
	free(f);
	c->state = NULL;
}

const struct counter_ops file_backend = {
	.name = "file",
	.locks = file_locks,
	.create = file_create,
	.attach = file_attach,
	.value = file_value,
	.destroy = file_destroy,
};
