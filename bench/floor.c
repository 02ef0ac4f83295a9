/*
 * The floor: for each lock kind, the cheapest loop that does the same work
 * as a proccount worker's update -- the same primitive, the same
 * read-modify-write, the same forked workers started together on their own
 * CPUs -- and nothing else: no progress marks, no stop flag, no function
 * pointers.  It prints the ns per update that proccount is measured
 * against by bench/bench.sh.
 *
 *   floor KIND WORKERS UPDATES-PER-WORKER [PATH]
 */
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <err.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../filelock/text.h"
#include "../shm/pause.h"

struct area {
	_Alignas(128) _Atomic long long value;
	_Alignas(128) pthread_mutex_t mutex;
	_Alignas(128) atomic_int spin;
	_Alignas(128) atomic_uint arrived;
	_Alignas(128) long long times[][2];	/* each worker's start, end */
};

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
record_lock(int fd, int command, short type)
{
	struct flock range = { .l_type = type, .l_whence = SEEK_SET };

	if (fcntl(fd, command, &range) == -1)
		err(1, "fcntl");
}

static void
file_update(int fd, int delta)
{
	char text[COUNTER_TEXT_SIZE];
	long long value;

	if (pread(fd, text, sizeof(text), 0) != (ssize_t)sizeof(text) ||
	    !counter_text_parse(text, &value))
		errx(1, "bad counter");
	counter_text_format(value + delta, text);
	if (pwrite(fd, text, sizeof(text), 0) != (ssize_t)sizeof(text))
		err(1, "pwrite");
}

static void
work(const char *kind, struct area *area, sem_t *sem, const char *path,
    int delta, long long n)
{
	long long i;
	int fd = -1;

	if (path != NULL && (fd = open(path, O_RDWR)) == -1)
		err(1, "%s", path);
	if (strcmp(kind, "flock") == 0)
		for (i = 0; i < n; i++) {
			flock(fd, LOCK_EX);
			file_update(fd, delta);
			flock(fd, LOCK_UN);
		}
	else if (strcmp(kind, "fcntl") == 0)
		for (i = 0; i < n; i++) {
			record_lock(fd, F_SETLKW, F_WRLCK);
			file_update(fd, delta);
			record_lock(fd, F_SETLK, F_UNLCK);
		}
	else if (strcmp(kind, "ofd") == 0)
		for (i = 0; i < n; i++) {
			record_lock(fd, F_OFD_SETLKW, F_WRLCK);
			file_update(fd, delta);
			record_lock(fd, F_OFD_SETLK, F_UNLCK);
		}
	else if (strcmp(kind, "filenone") == 0)
		for (i = 0; i < n; i++)
			file_update(fd, delta);
	else if (strcmp(kind, "mutex") == 0)
		for (i = 0; i < n; i++) {
			pthread_mutex_lock(&area->mutex);
			atomic_store_explicit(&area->value, atomic_load_explicit(
			    &area->value, memory_order_relaxed) + delta,
			    memory_order_relaxed);
			pthread_mutex_unlock(&area->mutex);
		}
	else if (strcmp(kind, "sem") == 0)
		for (i = 0; i < n; i++) {
			sem_wait(sem);
			atomic_store_explicit(&area->value, atomic_load_explicit(
			    &area->value, memory_order_relaxed) + delta,
			    memory_order_relaxed);
			sem_post(sem);
		}
	else if (strcmp(kind, "spin") == 0)
		for (i = 0; i < n; i++) {
			unsigned spins = 0;

			while (atomic_exchange_explicit(&area->spin, 1,
			    memory_order_acquire))
				while (atomic_load_explicit(&area->spin,
				    memory_order_relaxed))
					if (cpu_pause(), ++spins % 256 == 0)
						sched_yield();
			atomic_store_explicit(&area->value, atomic_load_explicit(
			    &area->value, memory_order_relaxed) + delta,
			    memory_order_relaxed);
			atomic_store_explicit(&area->spin, 0,
			    memory_order_release);
		}
	else if (strcmp(kind, "atomic") == 0)
		for (i = 0; i < n; i++)
			atomic_fetch_add_explicit(&area->value, delta,
			    memory_order_relaxed);
	else if (strcmp(kind, "none") == 0)
		for (i = 0; i < n; i++)
			atomic_store_explicit(&area->value, atomic_load_explicit(
			    &area->value, memory_order_relaxed) + delta,
			    memory_order_relaxed);
	else
		errx(2, "unknown kind %s", kind);
}

int
main(int argc, char **argv)
{
	pthread_mutexattr_t attr;
	struct area *area;
	sem_t *sem;
	cpu_set_t allowed, mine;
	char text[COUNTER_TEXT_SIZE], byte, name[64];
	const char *path = argc > 4 ? argv[4] : NULL;
	long long n, first = 0, last = 0;
	int workers, i, gate[2], fd, cpus;
	size_t size;

	if (argc < 4)
		errx(2, "usage: floor KIND WORKERS UPDATES [PATH]");
	workers = atoi(argv[2]);
	n = atoll(argv[3]);
	size = sizeof(*area) + (size_t)workers * sizeof(area->times[0]);
	area = mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED)
		err(1, "mmap");
	/* A named semaphore, as proccount's, unlinked at once. */
	snprintf(name, sizeof(name), "/proccount-floor-%ld", (long)getpid());
	if ((sem = sem_open(name, O_CREAT | O_EXCL, 0600, 1)) == SEM_FAILED)
		err(1, "sem_open %s", name);
	sem_unlink(name);
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&area->mutex, &attr);
	if (path != NULL) {
		if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0666)) == -1)
			err(1, "%s", path);
		counter_text_format(0, text);
		if (pwrite(fd, text, sizeof(text), 0) != (ssize_t)sizeof(text))
			err(1, "%s", path);
		close(fd);
	}
	sched_getaffinity(0, sizeof(allowed), &allowed);
	cpus = CPU_COUNT(&allowed);
	if (pipe(gate) == -1)
		err(1, "pipe");
	for (i = 0; i < workers; i++) {
		pid_t pid = fork();

		if (pid == -1)
			err(1, "fork");
		if (pid == 0) {
			int nth = i % cpus, cpu;

			for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
				if (CPU_ISSET(cpu, &allowed) && nth-- == 0)
					break;
			CPU_ZERO(&mine);
			CPU_SET(cpu, &mine);
			sched_setaffinity(0, sizeof(mine), &mine);
			close(gate[1]);
			(void)!read(gate[0], &byte, 1);
			atomic_fetch_add(&area->arrived, 1);
			while (atomic_load(&area->arrived) < (unsigned)workers)
				if (workers > cpus)
					sched_yield();
			area->times[i][0] = now_ns();
			work(argv[1], area, sem, path, i < (workers + 1) / 2 ?
			    1 : -1, n);
			area->times[i][1] = now_ns();
			_exit(0);
		}
	}
	close(gate[1]);
	while (wait(NULL) > 0)
		;
	for (i = 0; i < workers; i++) {
		if (first == 0 || area->times[i][0] < first)
			first = area->times[i][0];
		if (area->times[i][1] > last)
			last = area->times[i][1];
	}
	printf("%.1f\n", (double)(last - first) / (double)(n * workers));
	return 0;
}
