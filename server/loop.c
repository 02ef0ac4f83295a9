/*
 * The server that holds the counter: it accepts connections and answers
 * each line of a connection in the order it came.  The update of the
 * course is two requests: read, which replies with the value, and write,
 * which stores the value the client made of it.  How the server serves:
 *
 *   serial   one connection at a time, to its end, and only then the
 *            next: no two updates overlap, whatever the lock.
 *   threads  a thread for each connection, all at once: two handlers may
 *            each read the same value, and one write undoes the other,
 *            unless a lock keeps them apart.
 *
 * What guards the counter in the server (enum server_lock):
 *
 *   handler  one mutex, taken at the read and released at the end of the
 *            handler, after the store and the handler's work.
 *   update   the same mutex from the read to the store; the work after
 *            it runs outside, beside the other handlers'.
 *   atomic   add is one atomic add; read and write take no lock.
 *   none     nothing: the read and the write are a relaxed atomic load
 *            and store, so updates are lost without undefined behaviour.
 *
 * A connection owns the lock from its read to its write: if it ends in
 * between, by the client's death or a bad line or its silence, the lock
 * is released, and the value is what it was, as if the update had never
 * begun.  Nothing a client sends can stop the server: each connection
 * costs at most a line's buffer, a thread and the idle limit.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server.h"

/* A connection's thread needs little stack; the sanitizers more. */
#define CONNECTION_STACK	(256 * 1024)
/* How long to wait before accepting again after a failure for memory. */
#define ACCEPT_PAUSE_MS		10

struct server {
	const struct server_config *config;
	_Atomic long long value;
	pthread_mutex_t	 lock;
	atomic_uint	 connections;	/* served now */
	int		 stop_fd;	/* serial: ends a connection's wait */
};

struct connection {
	struct server	*server;
	int		 fd;
};

/* Reads a whole signed number, as write and add take it. */
static bool
parse_number(const char *text, long long *value)
{
	char *end;

	if (*text == '\0')
		return false;
	errno = 0;
	*value = strtoll(text, &end, 10);
	return errno == 0 && *end == '\0';
}

/* The handler's other work, after the store. */
static void
handler_work(const struct server_config *config)
{
	_Atomic uint64_t spent = 0;

	if (config->work_ns != 0)
		worker_busy(&spent, config->work_ns, config->work_spins);
}

static bool
locks(const struct server_config *config)
{
	return config->lock == SERVER_HANDLER || config->lock == SERVER_UPDATE;
}

/*
 * One request, its reply in reply: returns false when the connection is
 * to end after the reply.  *reading says that this connection has read
 * and not yet written, and so holds the lock if there is one.
 */
static bool
handle(struct server *s, const char *line, bool *reading, char *reply,
    size_t size)
{
	const struct server_config *config = s->config;
	long long value, n;
	bool held;

	if (strcmp(line, "get") == 0) {
		snprintf(reply, size, "value %lld", atomic_load_explicit(
		    &s->value, memory_order_relaxed));
	} else if (strcmp(line, "hello") == 0) {
		snprintf(reply, size, "hello proccount lock=%s serve=%s",
		    config->lock_name, config->serial ? "serial" : "threads");
	} else if (strcmp(line, "read") == 0) {
		if (*reading) {
			snprintf(reply, size, "error read again: write first");
			return true;
		}
		if (locks(config))
			pthread_mutex_lock(&s->lock);
		*reading = true;
		snprintf(reply, size, "value %lld", atomic_load_explicit(
		    &s->value, memory_order_relaxed));
	} else if (strncmp(line, "write ", 6) == 0) {
		if (!parse_number(line + 6, &value)) {
			snprintf(reply, size, "error write: not a number");
			return true;
		}
		if (!*reading) {
			snprintf(reply, size, "error write: no read before it");
			return true;
		}
		atomic_store_explicit(&s->value, value, memory_order_relaxed);
		*reading = false;
		if (config->lock == SERVER_UPDATE)
			pthread_mutex_unlock(&s->lock);
		handler_work(config);
		if (config->lock == SERVER_HANDLER)
			pthread_mutex_unlock(&s->lock);
		snprintf(reply, size, "ok");
	} else if (strncmp(line, "add ", 4) == 0) {
		if (!parse_number(line + 4, &n)) {
			snprintf(reply, size, "error add: not a number");
			return true;
		}
		if (*reading) {
			snprintf(reply, size, "error add: write first");
			return true;
		}
		if (locks(config)) {
			pthread_mutex_lock(&s->lock);
			/* Wraps, as every backend's counter does. */
			value = (long long)((unsigned long long)
			    atomic_load_explicit(&s->value,
			    memory_order_relaxed) + (unsigned long long)n);
			atomic_store_explicit(&s->value, value,
			    memory_order_relaxed);
		} else
			value = (long long)((unsigned long long)
			    atomic_fetch_add(&s->value, n) +
			    (unsigned long long)n);
		if (config->lock == SERVER_UPDATE)
			pthread_mutex_unlock(&s->lock);
		handler_work(config);
		if (config->lock == SERVER_HANDLER)
			pthread_mutex_unlock(&s->lock);
		snprintf(reply, size, "value %lld", value);
	} else if (strcmp(line, "held") == 0) {
		/* Whether some connection holds the lock now; never waits. */
		held = locks(config) && !*reading &&
		    pthread_mutex_trylock(&s->lock) != 0;
		if (locks(config) && !*reading && !held)
			pthread_mutex_unlock(&s->lock);
		snprintf(reply, size, "held %s", held || (*reading &&
		    locks(config)) ? "yes" : "no");
	} else if (strcmp(line, "quit") == 0) {
		snprintf(reply, size, "bye");
		return false;
	} else
		snprintf(reply, size, "error unknown request: try hello, get, "
		    "read, write V, add N, held or quit");
	return true;
}

/*
 * A connection, from its first line to its end.  A connection that ends
 * between its read and its write gives the lock back: its update never
 * reached the counter.
 */
static void
serve_connection(struct server *s, int fd)
{
	char line[SERVER_LINE_MAX], reply[2 * SERVER_LINE_MAX];
	struct line_reader in = { .len = 0 };
	bool reading = false, more = true;
	struct timeval limit = {
		.tv_sec = (time_t)(s->config->idle_ns / 1000000000),
		.tv_usec = (suseconds_t)(s->config->idle_ns % 1000000000 / 1000),
	};
	int got;

	/*
	 * A client that sends and never reads would keep a reply waiting,
	 * and a lock held, for ever: a reply is bounded as a request is.
	 */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
	while (more) {
		got = line_read(fd, &in, line, s->config->idle_ns, s->stop_fd);
		if (got == 0)
			break;
		if (got == -1 && errno == EILSEQ) {
			more = line_write(fd, "error a NUL byte in the line") ==
			    0;
			continue;
		}
		if (got == -1) {
			if (errno == EMSGSIZE)
				line_write(fd, "error line too long: at most "
				    "63 bytes");
			else if (errno == ETIMEDOUT)
				line_write(fd, "error idle too long: closed");
			break;
		}
		more = handle(s, line, &reading, reply, sizeof(reply));
		if (line_write(fd, reply) == -1)
			break;
	}
	if (reading && locks(s->config))
		pthread_mutex_unlock(&s->lock);
	close(fd);
}

static void *
connection_thread(void *arg)
{
	struct connection *c = arg;
	struct server *s = c->server;

	serve_connection(s, c->fd);
	free(c);
	atomic_fetch_sub(&s->connections, 1);
	return NULL;
}

/* A thread for the connection, or a refusal; the fd is the thread's. */
static void
start_connection(struct server *s, int fd, pthread_attr_t *attr)
{
	struct connection *c;
	pthread_t thread;

	if (atomic_fetch_add(&s->connections, 1) >= SERVER_CONNECTIONS_MAX) {
		line_write(fd, "error too many connections");
		goto refuse;
	}
	if ((c = malloc(sizeof(*c))) == NULL) {
		line_write(fd, "error out of memory");
		goto refuse;
	}
	c->server = s;
	c->fd = fd;
	if (pthread_create(&thread, attr, connection_thread, c) != 0) {
		free(c);
		line_write(fd, "error no thread for it: try again");
		goto refuse;
	}
	return;
refuse:
	close(fd);
	atomic_fetch_sub(&s->connections, 1);
}

/*
 * As many descriptors as the connections need, if the hard limit allows;
 * beyond them accept fails with EMFILE, which the loop survives.
 */
static void
raise_fd_limit(void)
{
	struct rlimit limit;

	if (getrlimit(RLIMIT_NOFILE, &limit) == 0 &&
	    limit.rlim_cur < SERVER_CONNECTIONS_MAX + 64) {
		limit.rlim_cur = limit.rlim_max < SERVER_CONNECTIONS_MAX + 64 ?
		    limit.rlim_max : SERVER_CONNECTIONS_MAX + 64;
		setrlimit(RLIMIT_NOFILE, &limit);
	}
}

/*
 * Out of descriptors, a connection waits in the backlog and keeps the
 * listening socket readable: the spare descriptor is given up to accept
 * it and close it at once, so that the loop does not spin on it.
 */
static void
shed_one(int listen_fd, int *spare)
{
	int fd;

	if (*spare != -1) {
		close(*spare);
		if ((fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC)) != -1)
			close(fd);
	}
	*spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

enum server_lock
server_lock_of(const struct lock_kind *kind)
{
	if (strcmp(kind->name, "handler") == 0)
		return SERVER_HANDLER;
	if (strcmp(kind->name, "update") == 0)
		return SERVER_UPDATE;
	if (strcmp(kind->name, "atomic") == 0)
		return SERVER_ATOMIC;
	return SERVER_NONE;
}

int
server_run(int listen_fd, int stop_fd, const struct server_config *config,
    long long *final)
{
	struct server s = {
		.config = config,
		.stop_fd = config->serial ? stop_fd : -1,
	};
	struct pollfd fds[2] = {
		{ .fd = listen_fd, .events = POLLIN },
		{ .fd = stop_fd, .events = POLLIN },
	};
	pthread_attr_t attr;
	int fd, spare, error;

	atomic_init(&s.value, config->start);
	atomic_init(&s.connections, 0);
	if ((error = pthread_mutex_init(&s.lock, NULL)) != 0 ||
	    (error = pthread_attr_init(&attr)) != 0) {
		errno = error;
		return -1;
	}
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, CONNECTION_STACK);
	raise_fd_limit();
	spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	for (;;) {
		if (poll(fds, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[1].revents != 0)
			break;
		if (fds[0].revents == 0)
			continue;
		if ((fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC)) == -1) {
			if (errno == EMFILE || errno == ENFILE)
				shed_one(listen_fd, &spare);
			else if (errno == ENOMEM || errno == ENOBUFS)
				poll(NULL, 0, ACCEPT_PAUSE_MS);
			continue;
		}
		if (config->serial) {
			serve_connection(&s, fd);
			continue;
		}
		start_connection(&s, fd, &attr);
	}
	if (spare != -1)
		close(spare);
	pthread_attr_destroy(&attr);
	/* Threads still serving are ended with the process, not here. */
	*final = atomic_load(&s.value);
	return 0;
}
