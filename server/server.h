/*
 * The counter behind a socket: the server that holds it (server/loop.c),
 * the backend whose workers are its clients (server/server.c), the
 * command that runs a server on its own (server/serve.c), and the
 * addresses and lines all three speak (server/net.c).
 *
 * The protocol is text, one request and one reply a line:
 *
 *	hello		hello proccount lock=KIND serve=MODE
 *	get		value V			(never waits for the lock)
 *	read		value V			(takes the lock, if any)
 *	write V		ok			(stores V; after a read only)
 *	add N		value V			(V: the sum, made in one step)
 *	held		held yes|no		(whether the lock is held now)
 *	quit		bye, and the server closes the connection
 *
 * and anything else gets "error ..." and the connection stays.  A line
 * longer than SERVER_LINE_MAX, or a connection silent for the idle limit,
 * gets an error and is closed.
 */
#ifndef PROCCOUNT_SERVER_H
#define PROCCOUNT_SERVER_H

#include <sys/socket.h>

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "../counter.h"

/* The longest line either side sends, its newline included. */
#define SERVER_LINE_MAX		64
/* How long a connection may say nothing before the server closes it. */
#define SERVER_IDLE_NS		(10 * 1000000000LL)
/* Connections served at once; one more is told so and closed. */
#define SERVER_CONNECTIONS_MAX	(MAX_WORKERS + 64)

/* What guards the counter in the server. */
enum server_lock {
	SERVER_HANDLER,		/* one mutex over the whole handler */
	SERVER_UPDATE,		/* the mutex from the read to the store */
	SERVER_ATOMIC,		/* add is one atomic add; no lock */
	SERVER_NONE,		/* nothing: the race, inside the server */
};

struct server_config {
	enum server_lock lock;
	const char	*lock_name;	/* as hello says it */
	bool		 serial;	/* one connection at a time */
	uint64_t	 work_ns;	/* the handler's work after a store */
	bool		 work_spins;
	long long	 start;
	int64_t		 idle_ns;
};

/* "HOST:PORT", "[IPV6]:PORT", or a Unix socket's path (it has a '/'). */
struct server_address {
	struct sockaddr_storage addr;
	socklen_t	 len;
	char		 text[PATH_MAX];	/* as the report names it */
	bool		 unix_path;
};

/* What a line read returns besides 1 (a line) and 0 (the peer closed). */
struct line_reader {
	char		 buf[SERVER_LINE_MAX];
	size_t		 len;
};

int	server_resolve(const char *, struct server_address *, const char **why);
/* Binds and listens; a port 0 is replaced by the one bound. */
int	server_listen(struct server_address *);
int	server_connect(const struct server_address *);
/*
 * The next line, without its newline, into line (SERVER_LINE_MAX bytes):
 * 1, 0 at the end of the stream, or -1 with errno: ETIMEDOUT after
 * timeout_ns of silence (0: none), EMSGSIZE for a line too long, or the
 * call's.  stop_fd, if not -1, ends the wait too: -1 with ECANCELED.
 */
int	line_read(int fd, struct line_reader *, char *line, int64_t timeout_ns,
	    int stop_fd);
int	line_write(int fd, const char *line);

/*
 * Serves on listen_fd until stop_fd is readable or hung up; the final
 * value in *final.  Returns 0, or -1 with errno set.
 */
int	server_run(int listen_fd, int stop_fd, const struct server_config *,
	    long long *final);
enum server_lock server_lock_of(const struct lock_kind *);

/*
 * --connect: asks the server at address what it is; *kind is its lock
 * kind's record.  -1 with why set when it cannot be reached or is no
 * proccount server.
 */
int	server_identify(const char *address, const struct lock_kind **kind,
	    bool *serial, char *why, size_t);

/* proccount serve. */
int	serve_main(int argc, char **argv);

#endif
