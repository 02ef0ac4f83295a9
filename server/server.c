/*
 * The counter in a server (server/loop.c), and every worker a client of
 * it with a connection of its own.  An update is the course's: the worker
 * asks for the value (read), adds or subtracts one, and sends the new
 * value back (write); with the atomic kind it sends "add 1" instead.
 *
 * The server is a process of its own, the one thing a backend forks: the
 * counter must outlive no worker and belong to none.  create makes a
 * private directory with mkdtemp, listens on a Unix socket in it (or on
 * --listen's address), and forks the server, which serves until the pipe
 * from proccount reaches its end: when destroy closes it, or when
 * proccount and its workers die, however they die.  Then the server
 * removes the socket and the directory itself, and exits; destroy reaps
 * it and removes them too, in case the server was killed first.  The
 * server ignores the signals a terminal sends the whole group, so that a
 * ^C that ends the run still finds it there to say the final value.  A
 * directory left by a run whose proccount and server were both killed
 * outright is removed by the next run (server_sweep).
 *
 * --connect: the server is another's, maybe on another host; create asks
 * it for the value the run starts from, and value for the final one, so
 * the verdict holds as long as nobody else updates that counter during
 * the run.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../backends.h"
#include "server.h"

/* How long create and value wait for a reply before they try again. */
#define CONTROL_WAIT_NS	(1000 * 1000000LL)
/* The private directory's name, after TMPDIR: the maker's PID follows. */
#define DIR_PREFIX	"proccount-server-"
#define SOCKET_NAME	"socket"

struct server_state {
	struct server_address address;
	char		 dir[PATH_MAX];	/* the private directory, or "" */
	pid_t		 pid;		/* the server, 0 with --connect */
	int		 stop_fd;	/* its end of the pipe, or -1 */
};

/* A worker's connection. */
struct client {
	int		 fd;
	struct line_reader in;
	int64_t		 timeout_ns;
};

/* A failure's reason for the message; create runs in the parent alone. */
static char failure[PATH_MAX + 256];

static int
fail(struct counter *c, const char *what)
{
	int saved = errno;

	snprintf(failure, sizeof(failure), "%s: %s", what, strerror(saved));
	c->why = failure;
	errno = saved;
	return -1;
}

/*
 * One request on a connection of the parent's, and its "value V" reply.
 * A reply that does not come within CONTROL_WAIT_NS is EWOULDBLOCK: a
 * serial server is busy with another client.
 */
static int
ask_value(const struct server_address *a, const char *request,
    long long *value, const char **why)
{
	struct line_reader in = { .len = 0 };
	char line[SERVER_LINE_MAX], *end;
	int fd, got, saved;

	*why = NULL;
	if ((fd = server_connect(a)) == -1)
		return -1;
	if (line_write(fd, request) == -1)
		goto fail;
	if ((got = line_read(fd, &in, line, CONTROL_WAIT_NS, -1)) == -1 &&
	    errno == ETIMEDOUT) {
		*why = "is busy with another client, and does not answer";
		errno = EWOULDBLOCK;
		goto fail;
	}
	if (got == 0)
		errno = ECONNRESET;
	if (got != 1)
		goto fail;
	close(fd);
	if (strncmp(line, "value ", 6) == 0) {
		errno = 0;
		*value = strtoll(line + 6, &end, 10);
		if (errno == 0 && *end == '\0' && line[6] != '\0')
			return 0;
	}
	*why = "answers as no proccount server does";
	errno = EPROTO;
	return -1;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

int
server_identify(const char *text, const struct lock_kind **kind,
    bool *serial, char *why, size_t size)
{
	struct server_address a;
	struct line_reader in = { .len = 0 };
	char line[SERVER_LINE_MAX], name[16], mode[16];
	const char *reason;
	int fd, got;

	if (server_resolve(text, &a, &reason) == -1) {
		snprintf(why, size, "%s", reason);
		return -1;
	}
	if ((fd = server_connect(&a)) == -1) {
		snprintf(why, size, "%s", strerror(errno));
		return -1;
	}
	got = line_write(fd, "hello") == -1 ? -1 :
	    line_read(fd, &in, line, CONTROL_WAIT_NS, -1);
	if (got != 1) {
		snprintf(why, size, "%s", got == 0 ? "it closed the "
		    "connection" : errno == ETIMEDOUT ? "no answer to hello; "
		    "a serial server may be busy with another client" :
		    strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	if (sscanf(line, "hello proccount lock=%15s serve=%15s", name,
	    mode) != 2 || (*kind = kind_named(&server_backend, name)) ==
	    NULL || (strcmp(mode, "serial") != 0 &&
	    strcmp(mode, "threads") != 0)) {
		snprintf(why, size, "no proccount server: it says '%.40s'",
		    line);
		return -1;
	}
	*serial = strcmp(mode, "serial") == 0;
	return 0;
}

/* What the report says of the server, each kind and way in a sentence. */
static const char *
about(const struct run *run)
{
	static char sentence[512];
	const char *lock, *how;

	switch (server_lock_of(run->kind)) {
	case SERVER_HANDLER:
		lock = "its handler takes one mutex at a client's read and "
		    "gives it back after the store and the handler's work";
		break;
	case SERVER_UPDATE:
		lock = "its handler holds one mutex from a client's read to "
		    "the store only, and works outside it";
		break;
	case SERVER_ATOMIC:
		lock = "each client sends add, and the server adds it in one "
		    "atomic step";
		break;
	default:
		lock = "its handler reads and stores with no lock";
		break;
	}
	how = run->serve_serial ? "serves one client at a time, to the end of "
	    "its connection, so no two updates overlap" : "serves each client "
	    "in a thread of its own, all at once";
	snprintf(sentence, sizeof(sentence), "the server%s %s; %s%s",
	    run->connect != NULL ? ", already running," : "", how, lock,
	    run->connect != NULL ? "; an update by any other client during "
	    "the run would count as lost or outside" : "");
	return sentence;
}

/* The server's socket and directory, for its own way out. */
static const char *own_socket, *own_dir;

/*
 * proccount is gone: its death signal reaches the server even where the
 * pipe is still open in some other process.  Only calls that are safe in
 * a handler.
 */
static void
on_parent_death(int signo)
{
	(void)signo;
	if (own_socket != NULL)
		unlink(own_socket);
	if (own_dir != NULL)
		rmdir(own_dir);
	_exit(0);
}

/*
 * The server's process: the signals of proccount's group blocked, its
 * standard input and output on /dev/null, so that it holds no pipe of the
 * caller's open but standard error, which it writes nothing to but what a
 * sanitizer says, and the end of proccount's pipe, or proccount's death,
 * its cue to clean up and go.
 */
static void __attribute__((noreturn))
server_process(struct server_state *s, int listen_fd, int stop_fd,
    const struct run *run, pid_t parent)
{
	struct server_config config = {
		.lock = server_lock_of(run->kind),
		.lock_name = run->kind->name,
		.serial = run->serve_serial,
		.work_ns = run->work_ns,
		.work_spins = run->work_spins,
		.start = run->start,
		.idle_ns = SERVER_IDLE_NS,
	};
	struct sigaction death = { .sa_handler = on_parent_death };
	long long final;
	sigset_t all;
	int null;

	own_socket = s->address.unix_path ? s->address.text : NULL;
	own_dir = s->dir[0] != '\0' ? s->dir : NULL;
	sigfillset(&all);
	sigfillset(&death.sa_mask);
	sigaction(SIGUSR1, &death, NULL);
	sigdelset(&all, SIGUSR1);
	sigprocmask(SIG_SETMASK, &all, NULL);
	prctl(PR_SET_PDEATHSIG, SIGUSR1);
	if (getppid() == parent && (null = open("/dev/null", O_RDWR)) != -1) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		if (null > STDERR_FILENO)
			close(null);
		server_run(listen_fd, stop_fd, &config, &final);
	}
	on_parent_death(0);
	_exit(0);
}

/* The private directory and the socket's address in it. */
static int
make_socket_dir(struct counter *c, struct server_state *s)
{
	const char *tmp = getenv("TMPDIR"), *why;
	char path[PATH_MAX + sizeof("/" SOCKET_NAME)];

	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(s->dir, sizeof(s->dir), "%s/" DIR_PREFIX "%ld.XXXXXX", tmp,
	    (long)getpid());
	if (mkdtemp(s->dir) == NULL) {
		snprintf(path, sizeof(path), "%s", s->dir);
		s->dir[0] = '\0';
		return fail(c, path);
	}
	snprintf(path, sizeof(path), "%s/" SOCKET_NAME, s->dir);
	if (server_resolve(path, &s->address, &why) == -1) {
		snprintf(failure, sizeof(failure), "%s: %s (TMPDIR)", path,
		    why);
		c->why = failure;
		rmdir(s->dir);
		s->dir[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Where the run's own server listens, and the server started there. */
static int
start_server(struct counter *c, const struct run *run, struct server_state *s)
{
	const char *why;
	int listen_fd, pipe_fds[2], saved;
	pid_t parent = getpid();

	if (run->listen != NULL) {
		if (server_resolve(run->listen, &s->address, &why) == -1) {
			snprintf(failure, sizeof(failure), "--listen=%s: %s",
			    run->listen, why);
			c->why = failure;
			errno = EINVAL;
			return -1;
		}
	} else if (make_socket_dir(c, s) == -1)
		return -1;
	if ((listen_fd = server_listen(&s->address)) == -1) {
		fail(c, s->address.text);
		goto fail_dir;
	}
	if (pipe2(pipe_fds, O_CLOEXEC) == -1) {
		fail(c, "pipe");
		goto fail_listen;
	}
	if ((s->pid = fork()) == -1) {
		fail(c, "fork");
		close(pipe_fds[0]);
		close(pipe_fds[1]);
		goto fail_listen;
	}
	if (s->pid == 0) {
		close(pipe_fds[1]);
		server_process(s, listen_fd, pipe_fds[0], run, parent);
	}
	close(pipe_fds[0]);
	close(listen_fd);
	s->stop_fd = pipe_fds[1];
	return 0;
fail_listen:
	saved = errno;
	close(listen_fd);
	if (s->address.unix_path)
		unlink(s->address.text);
	errno = saved;
fail_dir:
	saved = errno;
	if (s->dir[0] != '\0')
		rmdir(s->dir);
	errno = saved;
	return -1;
}

static int
server_create(struct counter *c, const struct run *run)
{
	struct server_state *s;
	const char *why;

	c->why = NULL;
	c->about = about(run);
	c->start = run->start;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	s->stop_fd = -1;
	if (run->connect == NULL) {
		if (start_server(c, run, s) == -1) {
			free(s);
			return -1;
		}
	} else {
		if (server_resolve(run->connect, &s->address, &why) == -1) {
			snprintf(failure, sizeof(failure), "--connect=%s: %s",
			    run->connect, why);
			c->why = failure;
			free(s);
			errno = EINVAL;
			return -1;
		}
		if (ask_value(&s->address, "get", &c->start, &why) == -1) {
			snprintf(failure, sizeof(failure), "the server at %s "
			    "%s", s->address.text, why != NULL ? why :
			    strerror(errno));
			c->why = failure;
			free(s);
			return -1;
		}
	}
	snprintf(c->name, sizeof(c->name), "%s", s->address.text);
	c->state = s;
	return 0;
}

static int
server_attach(struct counter *c, const struct run *run, void **handle)
{
	struct server_state *s = c->state;
	struct client *client;

	if ((client = calloc(1, sizeof(*client))) == NULL)
		return UPDATE_ATTACH;
	client->timeout_ns = (int64_t)run->timeout_ns;
	if ((client->fd = server_connect(&s->address)) == -1) {
		free(client);
		return UPDATE_ATTACH;
	}
	*handle = client;
	return UPDATE_OK;
}

static void
server_detach(void *handle)
{
	struct client *client = handle;

	close(client->fd);
	free(client);
}

/*
 * A reply: "value V" into *value, or "ok" when value is NULL.  A reply
 * that ends the stream, or is none of these, is UPDATE_READ with errno
 * ECONNRESET or EPROTO; with --timeout, a read's reply that does not come
 * in time is UPDATE_TIMEOUT: the lock it waits for is held.
 */
static int
reply(struct client *client, long long *value, bool waits_for_lock)
{
	char line[SERVER_LINE_MAX], *end;
	int got;

	got = line_read(client->fd, &client->in, line, waits_for_lock ?
	    client->timeout_ns : 0, -1);
	if (got == -1 && errno == ETIMEDOUT)
		return UPDATE_TIMEOUT;
	if (got == 0)
		errno = ECONNRESET;
	if (got != 1)
		return UPDATE_READ;
	if (value == NULL && strcmp(line, "ok") == 0)
		return UPDATE_OK;
	if (value != NULL && strncmp(line, "value ", 6) == 0) {
		errno = 0;
		*value = strtoll(line + 6, &end, 10);
		if (errno == 0 && *end == '\0' && line[6] != '\0')
			return UPDATE_OK;
	}
	errno = EPROTO;
	return UPDATE_READ;
}

static int
request(struct client *client, const char *line)
{
	return line_write(client->fd, line) == -1 ? UPDATE_WRITE : UPDATE_OK;
}

/*
 * The course's update in two halves.  The worker dies, with --crash, after
 * the server sent it the value and before it wrote, and so while a locked
 * handler holds the lock for it.  With --latency, the wait is from the
 * read asked to the value come, the hold from then to the write's reply.
 */
static int
update_read_write(void *handle, struct worker *w)
{
	struct client *client = handle;
	uint64_t asked = 0, taken = 0, released = 0;
	char line[SERVER_LINE_MAX];
	long long value;
	bool timed = worker_timed(w);
	int error;

	worker_turn_to_read(w);
	if (timed)
		asked = worker_clock(w);
	if ((error = request(client, "read")) != UPDATE_OK ||
	    (error = reply(client, &value, true)) != UPDATE_OK)
		return error;
	if (timed)
		taken = worker_clock(w);
	worker_midpoint(w);
	value = (long long)((unsigned long long)value +
	    (unsigned long long)(long long)w->delta);
	snprintf(line, sizeof(line), "write %lld", value);
	if ((error = request(client, line)) != UPDATE_OK ||
	    (error = reply(client, NULL, false)) != UPDATE_OK)
		return error;
	if (timed)
		released = worker_clock(w);
	worker_released(w);
	worker_committed(w);
	if (timed)
		worker_record(w, asked, taken, released);
	return UPDATE_OK;
}

/* The atomic kind's: one request, which the server carries out alone. */
static int
update_add(void *handle, struct worker *w)
{
	struct client *client = handle;
	long long value;
	int error;

	worker_turn_to_read(w);
	worker_midpoint(w);
	if ((error = request(client, w->delta > 0 ? "add 1" : "add -1")) !=
	    UPDATE_OK || (error = reply(client, &value, false)) != UPDATE_OK)
		return error;
	worker_released(w);
	worker_committed(w);
	return UPDATE_OK;
}

/* A reader's (--readers): get, which never waits for the lock. */
static int
read_get(void *handle, struct worker *w, long long *value)
{
	struct client *client = handle;
	int error;

	(void)w;
	if ((error = request(client, "get")) != UPDATE_OK)
		return error;
	return reply(client, value, false);
}

/*
 * --work is the server handler's, after each store; the worker itself
 * does none.
 */
static int
run_read_write(void *handle, struct worker *w)
{
	w->work_ns = 0;
	if (w->delta == 0)
		return worker_read_loop(handle, w, read_get);
	return worker_loop(handle, w, update_read_write);
}

static int
run_add(void *handle, struct worker *w)
{
	w->work_ns = 0;
	if (w->delta == 0)
		return worker_read_loop(handle, w, read_get);
	return worker_loop(handle, w, update_add);
}

/*
 * The final value, by get, which takes no lock: a serial server busy with
 * a connection left open is tried again, as a file locked by another
 * program is.
 */
static int
server_value(struct counter *c, const struct run *run, bool locked,
    long long *value)
{
	struct server_state *s = c->state;
	const char *why;

	(void)locked;
	if (ask_value(&s->address, "get", value, &why) == 0)
		return 0;
	/* As the file backend's: a phrase after the socket's name. */
	if (why == NULL && (errno == ECONNREFUSED || errno == ENOENT))
		why = "is gone: the server is not there";
	/* Only a serial server can be busy; a threaded one is stuck. */
	if (errno == EWOULDBLOCK && !run->serve_serial)
		why = "does not answer: the server is stopped or stuck";
	if (why != NULL)
		c->why = why;
	return -1;
}

/*
 * After every worker ended, and one died: whether its connection, still
 * open in a living process, holds the lock.  A server that does not
 * answer cannot tell.
 */
static bool
server_held(struct counter *c)
{
	struct server_state *s = c->state;
	struct line_reader in = { .len = 0 };
	char line[SERVER_LINE_MAX];
	int fd, got;

	if ((fd = server_connect(&s->address)) == -1)
		return false;
	got = line_write(fd, "held") == -1 ? -1 :
	    line_read(fd, &in, line, CONTROL_WAIT_NS, -1);
	close(fd);
	return got == 1 && strcmp(line, "held yes") == 0;
}

/*
 * The server ends once its pipe closes; one that does not within
 * CONTROL_WAIT_NS, stopped (SIGSTOP) or stuck, is killed, so that the
 * run ends whatever became of it.  Its CPU time goes into the report.
 */
static void
reap(struct counter *c, pid_t pid)
{
	int64_t until = clock_ns() + CONTROL_WAIT_NS;
	struct rusage usage;
	pid_t got;

	while ((got = wait4(pid, NULL, WNOHANG, &usage)) == 0 &&
	    clock_ns() < until)
		poll(NULL, 0, 5);
	if (got == 0) {
		kill(pid, SIGKILL);
		while ((got = wait4(pid, NULL, 0, &usage)) == -1 &&
		    errno == EINTR)
			;
	}
	if (got != pid)
		return;
	c->server_cpu = true;
	c->server_user_s = (double)usage.ru_utime.tv_sec +
	    (double)usage.ru_utime.tv_usec / 1e6;
	c->server_system_s = (double)usage.ru_stime.tv_sec +
	    (double)usage.ru_stime.tv_usec / 1e6;
}

static void
server_destroy(struct counter *c)
{
	struct server_state *s = c->state;

	if (s == NULL)
		return;
	if (s->stop_fd != -1)
		close(s->stop_fd);
	if (s->pid > 0)
		reap(c, s->pid);
	if (s->pid > 0 && s->address.unix_path)
		unlink(s->address.text);
	if (s->dir[0] != '\0')
		rmdir(s->dir);
	free(s);
	c->state = NULL;
}

/*
 * Removes the private directories of runs whose proccount is gone, and
 * their sockets: what is left when both proccount and its server were
 * killed outright.  The directory is named for the PID of the proccount
 * that made it; a live one's is never touched.
 */
static void
server_sweep(void)
{
	const char *tmp = getenv("TMPDIR");
	char path[PATH_MAX], *end;
	struct dirent *entry;
	struct stat st;
	DIR *dir;
	long pid;

	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	if ((dir = opendir(tmp)) == NULL)
		return;
	while ((entry = readdir(dir)) != NULL) {
		if (strncmp(entry->d_name, DIR_PREFIX, strlen(DIR_PREFIX)) != 0)
			continue;
		pid = strtol(entry->d_name + strlen(DIR_PREFIX), &end, 10);
		if (*end != '.' || pid <= 0 || (kill((pid_t)pid, 0) == 0 ||
		    errno != ESRCH))
			continue;
		/*
		 * Only a directory of this user's own, as mkdtemp made it:
		 * not another's, and not a link that someone put there to
		 * have a file named socket elsewhere removed.
		 */
		snprintf(path, sizeof(path), "%s/%s", tmp, entry->d_name);
		if (lstat(path, &st) == -1 || !S_ISDIR(st.st_mode) ||
		    st.st_uid != geteuid())
			continue;
		snprintf(path, sizeof(path), "%s/%s/" SOCKET_NAME, tmp,
		    entry->d_name);
		unlink(path);
		snprintf(path, sizeof(path), "%s/%s", tmp, entry->d_name);
		rmdir(path);
	}
	closedir(dir);
}

static const struct lock_kind server_kinds[] = {
	{
		.name = "handler",
		.words = "lock over the whole handler",
		.owner_words = "the client's connection",
		.owner = OWNER_CONNECTION,
		.death = DEATH_RELEASED,
		.death_words = "the server releases it when the dead client's "
		    "connection closes",
		.run = run_read_write,
	},
	{
		.name = "update",
		.words = "lock over the read-to-write",
		.owner_words = "the client's connection",
		.owner = OWNER_CONNECTION,
		.death = DEATH_RELEASED,
		.death_words = "the server releases it when the dead client's "
		    "connection closes",
		.run = run_read_write,
	},
	{
		.name = "atomic",
		.words = "atomic add in the server, lock-free",
		.owner_words = "nobody",
		.owner = OWNER_NONE,
		.death = DEATH_NOTHING,
		.death_words = "there was no lock to hold",
		.run = run_add,
	},
	{
		.name = "none",
		.words = "no lock",
		.owner_words = "nobody",
		.owner = OWNER_NONE,
		.death = DEATH_NOTHING,
		.death_words = "there was no lock to hold",
		.run = run_read_write,
	},
	{ .name = NULL },
};

const struct backend server_backend = {
	.name = "server",
	.where = "a counter server",
	.kinds = server_kinds,
	.on_request = true,
	.no_steps = "the server, not its client, takes the lock and stores "
	    "the value",
	.sweep = server_sweep,
	.create = server_create,
	.attach = server_attach,
	.detach = server_detach,
	.value = server_value,
	.held = server_held,
	.destroy = server_destroy,
};
