/*
 * The kernel's and libc's lock semantics that proccount's backends rely on,
 * checked on this machine: who owns each lock, what fork and close do to
 * it, and what happens when its holder dies.
 */
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "tap.h"

static char path[] = "/tmp/proccount-unit-locks.XXXXXX";

static int
record(int fd, int command, short type)
{
	struct flock range = { .l_type = type, .l_whence = SEEK_SET };

	return fcntl(fd, command, &range);
}

/* Runs try(fd) in a child process; returns 1 if it got the lock. */
static int
child_gets(int (*try)(int), int inherited_fd)
{
	pid_t pid;
	int status;

	if ((pid = fork()) == 0) {
		int fd = inherited_fd;

		if (fd == -1 && (fd = open(path, O_RDWR)) == -1)
			_exit(2);
		_exit(try(fd) == 0 ? 1 : 0);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) && WEXITSTATUS(status) == 1;
}

static int try_flock(int fd) { return flock(fd, LOCK_EX | LOCK_NB); }
static int try_fcntl(int fd) { return record(fd, F_SETLK, F_WRLCK); }
static int try_ofd(int fd) { return record(fd, F_OFD_SETLK, F_WRLCK); }

/* A child takes the lock with take(fd), then is killed holding it. */
static void
die_holding(int (*take)(int))
{
	int ready[2], status;
	pid_t pid;
	char byte;

	if (pipe(ready) == -1)
		return;
	if ((pid = fork()) == 0) {
		int fd = open(path, O_RDWR);

		if (fd != -1 && take(fd) == 0)
			(void)!write(ready[1], "x", 1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	(void)!read(ready[0], &byte, 1);
	close(ready[0]);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

int
main(void)
{
	pthread_mutex_t *mutex;
	pthread_mutexattr_t attr;
	sem_t *sem;
	char name[64];
	int fd, other, status;
	pid_t pid;

	if ((fd = mkstemp(path)) == -1)
		return 1;

	/* flock: the open file description owns the lock. */
	ok(flock(fd, LOCK_EX) == 0, "flock: the parent takes it");
	ok(child_gets(try_flock, fd),
	    "flock: a child sharing the descriptor shares the lock");
	ok(!child_gets(try_flock, -1),
	    "flock: a child that opens the file itself is excluded");
	flock(fd, LOCK_UN);

	/* fcntl: the process owns the lock, and any close drops it. */
	ok(try_fcntl(fd) == 0, "fcntl: the parent takes it");
	ok(!child_gets(try_fcntl, fd),
	    "fcntl: not inherited, even through the same descriptor");
	other = open(path, O_RDWR);
	close(other);
	ok(child_gets(try_fcntl, -1),
	    "fcntl: closing another descriptor of the file dropped it");

	/* OFD: fcntl's ranges, owned like flock by the description. */
	ok(try_ofd(fd) == 0, "ofd: the parent takes it");
	ok(child_gets(try_ofd, fd),
	    "ofd: a child sharing the descriptor shares the lock");
	ok(!child_gets(try_ofd, -1),
	    "ofd: a child that opens the file itself is excluded");
	other = open(path, O_RDWR);
	close(other);
	ok(!child_gets(try_ofd, -1),
	    "ofd: closing another descriptor does not drop it");
	record(fd, F_OFD_SETLK, F_UNLCK);

	/* All three are released by the kernel when the holder dies. */
	die_holding(try_flock);
	ok(try_flock(fd) == 0, "flock: released when its holder dies");
	flock(fd, LOCK_UN);
	die_holding(try_fcntl);
	ok(try_fcntl(fd) == 0, "fcntl: released when its holder dies");
	record(fd, F_SETLK, F_UNLCK);
	die_holding(try_ofd);
	ok(try_ofd(fd) == 0, "ofd: released when its holder dies");
	close(fd);
	unlink(path);

	/* A robust mutex tells the next locker that its owner died. */
	mutex = mmap(NULL, sizeof(*mutex), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(mutex, &attr);
	if ((pid = fork()) == 0) {
		pthread_mutex_lock(mutex);
		raise(SIGKILL);
	}
	waitpid(pid, &status, 0);
	is_int(pthread_mutex_lock(mutex), EOWNERDEAD,
	    "robust mutex: the next locker gets EOWNERDEAD");
	is_int(pthread_mutex_consistent(mutex), 0,
	    "robust mutex: it can be made consistent");
	pthread_mutex_unlock(mutex);
	is_int(pthread_mutex_lock(mutex), 0,
	    "robust mutex: and then locks as before");
	pthread_mutex_unlock(mutex);

	/* A semaphore has no owner: nothing gives it back. */
	snprintf(name, sizeof(name), "/proccount-unit-locks-%ld", (long)getpid());
	sem = sem_open(name, O_CREAT | O_EXCL, 0600, 1);
	ok(sem != SEM_FAILED, "sem: created");
	sem_unlink(name);
	if ((pid = fork()) == 0) {
		sem_wait(sem);
		raise(SIGKILL);
	}
	waitpid(pid, &status, 0);
	ok(sem_trywait(sem) == -1 && errno == EAGAIN,
	    "sem: still taken after its holder died");
	return done_testing();
}
