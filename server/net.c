/*
 * What the server and its clients share: addresses, a TCP host and port
 * or a Unix socket's path, and lines, read whole or not at all within a
 * bound on their length and on the silence before them.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "server.h"

/* The address in text, as a reader would give it back: "[::1]:7070". */
static void
name_address(struct server_address *a)
{
	char host[NI_MAXHOST], port[NI_MAXSERV];

	if (a->unix_path)
		return;
	if (getnameinfo((struct sockaddr *)&a->addr, a->len, host,
	    sizeof(host), port, sizeof(port),
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return;
	snprintf(a->text, sizeof(a->text), a->addr.ss_family == AF_INET6 ?
	    "[%s]:%s" : "%s:%s", host, port);
}

int
server_resolve(const char *text, struct server_address *a,
    const char **why)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *found;
	struct sockaddr_un *un = (struct sockaddr_un *)&a->addr;
	char host[NI_MAXHOST];
	const char *colon, *port;
	size_t len;
	int error;

	memset(a, 0, sizeof(*a));
	if (strchr(text, '/') != NULL) {
		if (strlen(text) >= sizeof(un->sun_path)) {
			*why = "a Unix socket's path is at most 107 bytes";
			return -1;
		}
		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, text);
		a->len = sizeof(*un);
		a->unix_path = true;
		snprintf(a->text, sizeof(a->text), "%s", text);
		return 0;
	}
	if ((colon = strrchr(text, ':')) == NULL || colon[1] == '\0') {
		*why = "give HOST:PORT, or a path with a '/' for a Unix socket";
		return -1;
	}
	port = colon + 1;
	len = (size_t)(colon - text);
	if (len >= 2 && text[0] == '[' && text[len - 1] == ']') {
		text++;
		len -= 2;
	}
	if (len == 0 || len >= sizeof(host)) {
		*why = "no host before the port";
		return -1;
	}
	memcpy(host, text, len);
	host[len] = '\0';
	hints.ai_flags = AI_NUMERICSERV;
	if ((error = getaddrinfo(host, port, &hints, &found)) != 0) {
		*why = gai_strerror(error);
		return -1;
	}
	memcpy(&a->addr, found->ai_addr, found->ai_addrlen);
	a->len = found->ai_addrlen;
	freeaddrinfo(found);
	name_address(a);
	return 0;
}

/* Requests and replies are single short lines: send each at once. */
static void
no_delay(int fd, const struct server_address *a)
{
	int on = 1;

	if (!a->unix_path)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

/*
 * Whether the Unix socket at the address is one that nothing listens on,
 * as a server killed outright leaves it: a socket, not some other file,
 * that refuses a connection.  Then it may go; a live server's stays.
 */
static bool
stale_socket(const struct server_address *a)
{
	struct stat st;
	int fd, refused;

	if (lstat(a->text, &st) == -1 || !S_ISSOCK(st.st_mode))
		return false;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return false;
	refused = connect(fd, (const struct sockaddr *)&a->addr, a->len) ==
	    -1 && errno == ECONNREFUSED;
	close(fd);
	return refused;
}

int
server_listen(struct server_address *a)
{
	int fd, on = 1, saved, bound;

	fd = socket(a->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (!a->unix_path)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	bound = bind(fd, (struct sockaddr *)&a->addr, a->len);
	if (bound == -1 && errno == EADDRINUSE && a->unix_path) {
		if (stale_socket(a) && unlink(a->text) == 0)
			bound = bind(fd, (struct sockaddr *)&a->addr, a->len);
		else
			errno = EADDRINUSE;
	}
	if (bound == -1 || listen(fd, SOMAXCONN) == -1)
		goto fail;
	if (a->unix_path)
		return fd;
	a->len = sizeof(a->addr);
	if (getsockname(fd, (struct sockaddr *)&a->addr, &a->len) == -1)
		goto fail;
	name_address(a);
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

int
server_connect(const struct server_address *a)
{
	int fd, saved;

	fd = socket(a->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	while (connect(fd, (const struct sockaddr *)&a->addr, a->len) == -1) {
		if (errno == EINTR)
			continue;
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	no_delay(fd, a);
	return fd;
}

/*
 * Waits for fd to have something to read until the time until (0: no
 * end), or for stop_fd; -1 with errno ETIMEDOUT or ECANCELED, or the
 * call's.
 */
static int
wait_readable(int fd, int64_t until, int stop_fd)
{
	struct pollfd fds[2] = {
		{ .fd = fd, .events = POLLIN },
		{ .fd = stop_fd, .events = POLLIN },
	};
	int64_t left;
	int ready;

	for (;;) {
		left = until != 0 ? until - clock_ns() : -1;
		if (until != 0 && left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		ready = poll(fds, stop_fd != -1 ? 2 : 1, until == 0 ? -1 :
		    (int)((left + 999999) / 1000000));
		if (ready == -1 && errno != EINTR)
			return -1;
		if (ready > 0 && stop_fd != -1 && fds[1].revents != 0) {
			errno = ECANCELED;
			return -1;
		}
		if (ready > 0)
			return 0;
	}
}

int
line_read(int fd, struct line_reader *in, char *line, int64_t timeout_ns,
    int stop_fd)
{
	int64_t until = 0;
	char *newline;
	size_t len;
	ssize_t got;

	for (;;) {
		if ((newline = memchr(in->buf, '\n', in->len)) != NULL) {
			len = (size_t)(newline - in->buf);
			memcpy(line, in->buf, len);
			line[len] = '\0';
			if (len > 0 && line[len - 1] == '\r')
				line[len - 1] = '\0';
			in->len -= len + 1;
			memmove(in->buf, newline + 1, in->len);
			if (memchr(line, '\0', len) != NULL &&
			    strlen(line) + 1 < len) {
				errno = EILSEQ;
				return -1;
			}
			return 1;
		}
		if (in->len == sizeof(in->buf)) {
			errno = EMSGSIZE;
			return -1;
		}
		/* Try first: a reply most often is already there. */
		got = recv(fd, in->buf + in->len, sizeof(in->buf) - in->len,
		    timeout_ns > 0 || stop_fd != -1 ? MSG_DONTWAIT : 0);
		if (got > 0) {
			in->len += (size_t)got;
			continue;
		}
		if (got == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		/* The silence is timed from the first wait: a line that
		 * drips in a byte at a time is still bounded. */
		if (until == 0 && timeout_ns > 0)
			until = clock_ns() + timeout_ns;
		if (wait_readable(fd, until, stop_fd) == -1)
			return -1;
	}
}

int
line_write(int fd, const char *line)
{
	char buf[2 * SERVER_LINE_MAX];
	size_t len = (size_t)snprintf(buf, sizeof(buf), "%s\n", line), off;
	ssize_t sent;

	if (len >= sizeof(buf)) {
		len = sizeof(buf) - 1;
		buf[len - 1] = '\n';
	}
	for (off = 0; off < len; off += (size_t)sent)
		while ((sent = send(fd, buf + off, len - off,
		    MSG_NOSIGNAL)) == -1)
			if (errno != EINTR)
				return -1;
	return 0;
}
