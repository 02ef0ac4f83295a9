/*
 * The floor: for each lock kind, the cheapest loop that does the same work
 * as a proccount worker's update -- the same primitive, the same
 * read-modify-write, the same workers started together on their own
 * CPUs -- and nothing else: no progress marks, no stop flag, no function
 * pointers.  It prints the ns per update that proccount is measured
 * against by bench/bench.sh.
 *
 *   floor [-T] KIND WORKERS UPDATES-PER-WORKER [PATH]
 *
 * KIND is flock, fcntl, ofd or filenone, which need PATH, the counter file
 * (created or truncated), or mutex, sem, spin, atomic or none.  The first
 * half of the workers, rounded up, add 1 and the rest subtract 1.  The
 * workers are forked processes, or with -T the threads of one process, as
 * with proccount --threads: the same loop, the same gate, the same CPUs.
 * Threads share the mutex, the semaphore and the memory as processes do,
 * and each opens the file itself, as proccount's workers do by default.
 * An fcntl lock belongs to the process, so threads that take it do not
 * exclude one another; the floor makes the same calls all the same, and,
 * as for none and filenone, never checks the count.
 *
 * pingpong-unix and pingpong-tcp are the server backend's round trips and
 * nothing else: each worker connects to a server process, over a Unix
 * socket or TCP on 127.0.0.1, whose thread for the connection answers
 * each line with a fixed one, and an update is two lines and their two
 * answers, as a read and a write are; ping-unix and ping-tcp are one,
 * as the atomic kind's add is.  No counter, no parsing, no lock.
 */
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
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

/* The round trips' server: where it listens, and its process. */
static struct sockaddr_storage ping_address;
static socklen_t ping_address_len;
static pid_t ping_server;

/* One line, one answer, until the client hangs up. */
static void *
ping_answer(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[256];
	ssize_t got, i;

	while ((got = recv(fd, buf, sizeof(buf), 0)) > 0)
		for (i = 0; i < got; i++)
			if (buf[i] == '\n' &&
			    send(fd, "value 0\n", 8, MSG_NOSIGNAL) != 8)
				goto out;
out:
	close(fd);
	return NULL;
}

/* Listens, on a Unix socket or on TCP, and forks the server. */
static void
ping_start(const char *kind)
{
	struct sockaddr_un *un = (struct sockaddr_un *)&ping_address;
	struct sockaddr_in *in = (struct sockaddr_in *)&ping_address;
	pthread_t thread;
	int fd, client;

	memset(&ping_address, 0, sizeof(ping_address));
	if (strstr(kind, "-unix") != NULL) {
		un->sun_family = AF_UNIX;
		snprintf(un->sun_path, sizeof(un->sun_path),
		    "/tmp/proccount-floor-%ld.sock", (long)getpid());
		unlink(un->sun_path);
		ping_address_len = sizeof(*un);
	} else {
		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		ping_address_len = sizeof(*in);
	}
	if ((fd = socket(ping_address.ss_family, SOCK_STREAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&ping_address, ping_address_len) ==
	    -1 || listen(fd, SOMAXCONN) == -1 || getsockname(fd,
	    (struct sockaddr *)&ping_address, &ping_address_len) == -1)
		err(1, "listen");
	if ((ping_server = fork()) == -1)
		err(1, "fork");
	if (ping_server != 0) {
		close(fd);
		return;
	}
	while ((client = accept(fd, NULL, NULL)) != -1) {
		int on = 1;

		setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
		if (pthread_create(&thread, NULL, ping_answer,
		    (void *)(intptr_t)client) == 0)
			pthread_detach(thread);
	}
	_exit(0);
}

static void
ping_stop(void)
{
	kill(ping_server, SIGKILL);
	waitpid(ping_server, NULL, 0);
	if (ping_address.ss_family == AF_UNIX)
		unlink(((struct sockaddr_un *)&ping_address)->sun_path);
}

/* A worker's round trips: lines per update, each with its answer. */
static void
ping_work(int lines, long long n)
{
	char answer[64];
	long long i;
	int fd, line, on = 1;

	if ((fd = socket(ping_address.ss_family, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&ping_address, ping_address_len) ==
	    -1)
		err(1, "connect");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	for (i = 0; i < n; i++)
		for (line = 0; line < lines; line++)
			if (send(fd, "read\n", 5, MSG_NOSIGNAL) != 5 ||
			    recv(fd, answer, sizeof(answer), 0) <= 0)
				err(1, "round trip");
	close(fd);
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
	else if (strncmp(kind, "pingpong-", 9) == 0)
		ping_work(2, n);
	else if (strncmp(kind, "ping-", 5) == 0)
		ping_work(1, n);
	else
		errx(2, "unknown kind %s", kind);
	/* A process's would close at its exit, a thread's would not. */
	if (fd != -1)
		close(fd);
}

/* What every worker is given: set by main before the first one starts. */
static struct {
	const char	*kind;
	const char	*path;
	struct area	*area;
	sem_t		*sem;
	cpu_set_t	 allowed;
	int		 cpus;
	int		 workers;
	int		 gate;		/* the read end: end of file is go */
	long long	 n;
} bench;

/*
 * Pins the calling thread, or process, to the CPUs allowed one after the
 * other, as proccount --pin=spread does.
 */
static void
take_cpu(int index)
{
	cpu_set_t mine;
	int nth = index % bench.cpus, cpu;

	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &bench.allowed) && nth-- == 0)
			break;
	CPU_ZERO(&mine);
	CPU_SET(cpu, &mine);
	sched_setaffinity(0, sizeof(mine), &mine);
}

/* Worker number index, a process or a thread: the same from start to end. */
static void *
worker(void *index_arg)
{
	struct area *area = bench.area;
	int index = (int)(intptr_t)index_arg;
	char byte;

	take_cpu(index);
	(void)!read(bench.gate, &byte, 1);
	atomic_fetch_add(&area->arrived, 1);
	while (atomic_load(&area->arrived) < (unsigned)bench.workers)
		if (bench.workers > bench.cpus)
			sched_yield();
	area->times[index][0] = now_ns();
	work(bench.kind, area, bench.sem, bench.path,
	    index < (bench.workers + 1) / 2 ? 1 : -1, bench.n);
	area->times[index][1] = now_ns();
	return NULL;
}

static void
usage(void)
{
	fprintf(stderr, "usage: floor [-T] KIND WORKERS UPDATES [PATH]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	pthread_mutexattr_t attr;
	pthread_t *threads = NULL;
	char text[COUNTER_TEXT_SIZE], name[64];
	long long first = 0, last = 0;
	int as_threads = 0, i, gate[2], fd, error, opt;
	size_t size;

	while ((opt = getopt(argc, argv, "T")) != -1)
		if (opt == 'T')
			as_threads = 1;
		else
			usage();
	argc -= optind;
	argv += optind;
	if (argc < 3 || argc > 4)
		usage();
	bench.kind = argv[0];
	bench.workers = atoi(argv[1]);
	bench.n = atoll(argv[2]);
	bench.path = argc > 3 ? argv[3] : NULL;
	if (bench.workers < 1)
		usage();
	size = sizeof(*bench.area) +
	    (size_t)bench.workers * sizeof(bench.area->times[0]);
	bench.area = mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (bench.area == MAP_FAILED)
		err(1, "mmap");
	/* A named semaphore, as proccount's, unlinked at once. */
	snprintf(name, sizeof(name), "/proccount-floor-%ld", (long)getpid());
	bench.sem = sem_open(name, O_CREAT | O_EXCL, 0600, 1);
	if (bench.sem == SEM_FAILED)
		err(1, "sem_open %s", name);
	sem_unlink(name);
	/* Process-shared and robust, as proccount's, with threads too. */
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&bench.area->mutex, &attr);
	if (bench.path != NULL) {
		fd = open(bench.path, O_RDWR | O_CREAT | O_TRUNC, 0666);
		if (fd == -1)
			err(1, "%s", bench.path);
		counter_text_format(0, text);
		if (pwrite(fd, text, sizeof(text), 0) != (ssize_t)sizeof(text))
			err(1, "%s", bench.path);
		close(fd);
	}
	if (strncmp(bench.kind, "ping", 4) == 0)
		ping_start(bench.kind);
	sched_getaffinity(0, sizeof(bench.allowed), &bench.allowed);
	bench.cpus = CPU_COUNT(&bench.allowed);
	if (pipe(gate) == -1)
		err(1, "pipe");
	bench.gate = gate[0];
	if (as_threads &&
	    (threads = calloc((size_t)bench.workers, sizeof(*threads))) == NULL)
		err(1, "calloc");
	for (i = 0; i < bench.workers; i++) {
		pid_t pid;

		if (as_threads) {
			error = pthread_create(&threads[i], NULL, worker,
			    (void *)(intptr_t)i);
			if (error != 0) {
				errno = error;
				err(1, "pthread_create");
			}
			continue;
		}
		if ((pid = fork()) == -1)
			err(1, "fork");
		if (pid == 0) {
			close(gate[1]);
			worker((void *)(intptr_t)i);
			_exit(0);
		}
	}
	/* Every worker, process or thread, reads end of file at once. */
	close(gate[1]);
	if (as_threads)
		for (i = 0; i < bench.workers; i++)
			pthread_join(threads[i], NULL);
	else
		for (i = 0; i < bench.workers; i++)
			wait(NULL);
	if (strncmp(bench.kind, "ping", 4) == 0)
		ping_stop();
	for (i = 0; i < bench.workers; i++) {
		if (first == 0 || bench.area->times[i][0] < first)
			first = bench.area->times[i][0];
		if (bench.area->times[i][1] > last)
			last = bench.area->times[i][1];
	}
	printf("%.1f\n", (double)(last - first) /
	    (double)(bench.n * bench.workers));
	free(threads);
	return 0;
}
