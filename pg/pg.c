/*
 * The counter in a row of a PostgreSQL table, guarded by the database's
 * own means.  Every worker has its own connection, through libpq:
 *
 *   row           SELECT ... FOR UPDATE in a transaction: the row lock is
 *                 held until COMMIT.
 *   advisory      pg_advisory_xact_lock on the row's key, then the same
 *                 SELECT and UPDATE: a lock the server keeps for the
 *                 transaction, whatever the transaction touches.
 *   serializable  the SELECT and the UPDATE in a SERIALIZABLE transaction;
 *   repeatable    or a REPEATABLE READ one.  No lock is asked for: the
 *                 server aborts a transaction whose update would be lost
 *                 (SQLSTATE 40001), and the worker retries it; the retries
 *                 are counted.
 *   atomic        UPDATE ... SET value = value + 1, one statement.
 *   none          SELECT, then UPDATE to the value read plus one, each
 *                 committed on its own: the read-modify-write of the
 *                 course's load() and save(), under READ COMMITTED.
 *
 * An update counts once its COMMIT has returned.  The worker's mid-update
 * mark is set right before the statement that writes (or the COMMIT that
 * follows it is sent), so a worker killed from outside while its write
 * is on its way may or may not have changed the value, which the verdict
 * allows for; --crash kills it before that statement is sent, so its
 * update never lands.  The server rolls back whatever a dropped
 * connection had begun, and releases its locks.  A worker thread that
 * dies takes its connection with it (a thread-specific destructor closes
 * it), as a process that dies does.
 *
 * All runs share one table, proccount; each run has its own row, named
 * HOST-PID-START-N (START: the process's start time, so that a PID used
 * again is not taken for the run's), and removes it at its end.  The row
 * of a run killed before its end is removed by the next pg run on the
 * same host, once no process of that PID and start time is left.  The
 * last run to leave the table empty drops it.  Rows of other runs are
 * never touched.
 *
 * --join=NAME: several runs, on any hosts, update one counter, the row
 * join:NAME, made by the first of them.  Each run has a member row beside
 * it, where it records at its end how many updates its own workers
 * completed.  The run that finishes when no other member is still
 * running judges the value against all the members' updates and removes
 * the rows; the others report their own workers.  The runs meet only in
 * the database.
 */
#include <sys/types.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../backends.h"
#include "../procs/procs.h"

/* The table of every run's rows, made by the first run that needs it. */
#define PG_TABLE	"proccount"
/* Class of proccount's advisory locks, the first of their two keys. */
#define PG_ADVISORY_CLASS	"1885564532"
/* Without PGCONNECT_TIMEOUT or connect_timeout: the longest connect. */
#define PG_CONNECT_TIMEOUT	"10"

enum pg_kind { PG_ROW, PG_ADVISORY, PG_SERIALIZABLE, PG_REPEATABLE,
	PG_ATOMIC, PG_NONE };

#ifdef HAVE_LIBPQ
#include <libpq-fe.h>

/* An update's failed statement that the worker retries: SQLSTATE 40001. */
#define PG_RETRY	(-1)
/* Tries of the table's creation, which a run that drops it may race. */
#define PG_CREATE_TRIES	20

/* The parent's, read by every worker: where the counter is. */
struct pg_state {
	PGconn	*conn;		/* the parent's own connection */
	const char *dsn;	/* --dsn, or NULL */
	char	 row[256];	/* the counter's row */
	char	 member[400];	/* with --join, this run's member row */
	char	 key[16];	/* the row's advisory lock key */
	char	 lock_timeout[48];	/* --timeout, for SET, or "" */
	char	 failure[512];	/* c->why */
	int	 answer_s;	/* the connect timeout, or 0: see command() */
	/* With --join, set by settle: the other members that still run. */
	unsigned running;
};

/* A worker's own. */
struct pg_handle {
	PGconn	*conn;
	const struct pg_state *state;
	enum pg_kind kind;
};

static pthread_key_t thread_conn;
static pthread_once_t thread_conn_once = PTHREAD_ONCE_INIT;

/* A thread that ends, as on --crash, closes its connection with it. */
static void
close_thread_conn(void *conn)
{
	PQfinish(conn);
}

static void
make_thread_conn(void)
{
	pthread_key_create(&thread_conn, close_thread_conn);
}

/*
 * libpq's message on one line: its first, which says what failed; the
 * rest are hints.  Runs of spaces and tabs are folded into one.
 */
static const char *
one_line(char *to, size_t size, const char *message)
{
	size_t len = 0;
	bool space = false;

	for (; *message != '\0' && *message != '\n' && len + 2 < size;
	    message++) {
		if (*message == '\t' || *message == ' ') {
			space = true;
			continue;
		}
		if (space && len > 0)
			to[len++] = ' ';
		space = false;
		to[len++] = *message;
	}
	to[len] = '\0';
	return to;
}

/* A backend prints nothing: the server's notices are not shown. */
static void
no_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/*
 * Connects as the run says: the DSN, then PG* and libpq's defaults, with
 * a connect timeout and TCP keepalives unless the environment or the DSN
 * sets them, so that no server that is gone can hold a run for good.
 */
static PGconn *
pg_connect(const char *dsn)
{
	const char *keys[8], *values[8];
	PGconn *conn;
	size_t n = 0;

	if (getenv("PGCONNECT_TIMEOUT") == NULL) {
		keys[n] = "connect_timeout";
		values[n++] = PG_CONNECT_TIMEOUT;
	}
	if (getenv("PGAPPNAME") == NULL) {
		keys[n] = "application_name";
		values[n++] = "proccount";
	}
	keys[n] = "keepalives_idle";
	values[n++] = "10";
	keys[n] = "keepalives_interval";
	values[n++] = "5";
	keys[n] = "keepalives_count";
	values[n++] = "3";
	/* Last, so that what the DSN says wins. */
	if (dsn != NULL) {
		keys[n] = "dbname";
		values[n++] = dsn;
	}
	keys[n] = NULL;
	values[n] = NULL;
	conn = PQconnectdbParams(keys, values, 1);
	if (conn != NULL)
		PQsetNoticeProcessor(conn, no_notice, NULL);
	return conn;
}

/*
 * Waits for the answer to the parent's statement.  A server that stopped
 * (SIGSTOP, a hung host) still answers the kernel's keepalives, or has no
 * TCP at all on a Unix socket, so keepalives alone would let the run wait
 * for good; it waits as long as it would for a connect, then gives up
 * the connection.  The parent's statements wait for no lock of a worker.
 */
static int
await(struct pg_state *s)
{
	struct pollfd pfd;
	struct timespec now, end;
	long long left_ms;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += s->answer_s;
	while (PQisBusy(s->conn)) {
		pfd.fd = PQsocket(s->conn);
		pfd.events = POLLIN;
		clock_gettime(CLOCK_MONOTONIC, &now);
		left_ms = (end.tv_sec - now.tv_sec) * 1000LL +
		    (end.tv_nsec - now.tv_nsec) / 1000000;
		if (s->answer_s == 0)
			left_ms = -1;
		else if (left_ms <= 0) {
			snprintf(s->failure, sizeof(s->failure), "the server "
			    "did not answer within %d s (connect_timeout)",
			    s->answer_s);
			PQfinish(s->conn);
			s->conn = NULL;
			errno = ETIMEDOUT;
			return -1;
		}
		if (pfd.fd < 0)
			return 0;
		if (poll(&pfd, 1, left_ms > INT_MAX ? INT_MAX : (int)left_ms)
		    == -1 && errno != EINTR)
			return 0;
		if (PQconsumeInput(s->conn) == 0)
			return 0;
	}
	return 0;
}

/* The connection's connect timeout, in seconds as libpq counts it. */
static int
answer_limit(PGconn *conn)
{
	PQconninfoOption *opts = PQconninfo(conn), *o;
	int n = 0;

	for (o = opts; o != NULL && o->keyword != NULL; o++)
		if (strcmp(o->keyword, "connect_timeout") == 0 &&
		    o->val != NULL)
			n = atoi(o->val);
	PQconninfoFree(opts);
	return n <= 0 ? 0 : n < 2 ? 2 : n;
}

/* Runs a command on the parent's connection; -1 with s->failure set. */
static int
command(struct pg_state *s, const char *sql,
    int nparams, const char *const *params, PGresult **result)
{
	PGresult *res, *got;
	ExecStatusType status;

	res = NULL;
	if (PQsendQueryParams(s->conn, sql, nparams, NULL, params, NULL, NULL,
	    0) == 1) {
		if (await(s) == -1)
			return -1;
		while ((got = PQgetResult(s->conn)) != NULL) {
			PQclear(res);
			res = got;
		}
	}
	status = PQresultStatus(res);
	if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
		if (result != NULL)
			*result = res;
		else
			PQclear(res);
		return 0;
	}
	/* The server's own words, without the statement it quotes. */
	one_line(s->failure, sizeof(s->failure), PQstatus(s->conn) ==
	    CONNECTION_BAD || PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
	    == NULL ? PQerrorMessage(s->conn) : PQresultErrorField(res,
	    PG_DIAG_MESSAGE_PRIMARY));
	errno = PQstatus(s->conn) == CONNECTION_BAD ? ECONNRESET : EPROTO;
	PQclear(res);
	return -1;
}

/*
 * The failure last met, as the counter's why: kept apart from the state,
 * which destroy frees before the report is printed, and from what destroy
 * itself meets.  Only the parent sets it.
 */
static int
failed(struct counter *c, const struct pg_state *s)
{
	static char why[sizeof(s->failure)];
	int error = errno;

	snprintf(why, sizeof(why), "%s", s->failure);
	c->why = why;
	errno = error;
	return -1;
}

static bool
sqlstate_is(PGresult *res, const char *state)
{
	const char *got = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	return got != NULL && strcmp(got, state) == 0;
}

/* This process's start time in clock ticks since boot, field 22. */
static unsigned long long
process_start(long pid, char *state)
{
	char path[64], line[1024], *at;
	unsigned field;
	size_t len;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	len = fread(line, 1, sizeof(line) - 1, f);
	fclose(f);
	line[len] = '\0';
	if ((at = strrchr(line, ')')) == NULL || at[1] != ' ')
		return 0;
	*state = at[2];
	for (field = 2; field < 22 && at != NULL; field++)
		at = strchr(at + 1, ' ');
	return at != NULL ? strtoull(at + 1, NULL, 10) : 0;
}

/* Whether the process that made a row on this host is gone. */
static bool
maker_gone(long pid, unsigned long long start)
{
	unsigned long long now;
	char state = '?';

	if (pid <= 0 || pid > INT_MAX)
		return false;
	if (kill((pid_t)pid, 0) == -1 && errno == ESRCH)
		return true;
	now = process_start(pid, &state);
	return state == 'Z' || state == 'X' || (now != 0 && now != start);
}

/*
 * Removes the rows of this host's runs that were killed before their end:
 * their own counters and, in a join, their member rows, which no longer
 * run.  Nothing else: not a joined counter, nor another host's rows.
 */
static void
pg_sweep_rows(struct pg_state *s, const char *host)
{
	const char *params[2] = { host, NULL };
	PGresult *res;
	int i;

	if (command(s, "SELECT name, pid, started FROM " PG_TABLE
	    " WHERE host = $1 AND role <> 'join'", 1, params, &res) == -1)
		return;
	for (i = 0; i < PQntuples(res); i++) {
		if (!maker_gone(atol(PQgetvalue(res, i, 1)),
		    strtoull(PQgetvalue(res, i, 2), NULL, 10)))
			continue;
		params[0] = PQgetvalue(res, i, 0);
		/* A member killed mid-run is no longer running. */
		command(s, "DELETE FROM " PG_TABLE " WHERE name = $1 AND "
		    "role = 'run'", 1, params, NULL);
		command(s, "UPDATE " PG_TABLE " SET running = false, "
		    "lost = true WHERE name = $1 AND role = 'member' AND "
		    "running", 1, params, NULL);
	}
	PQclear(res);
}

static const char create_table[] =
    "CREATE TABLE IF NOT EXISTS " PG_TABLE " ("
    "name text PRIMARY KEY, "
    "id serial UNIQUE, "
    "role text NOT NULL, "		/* run, join or member */
    "value bigint NOT NULL, "
    "start bigint NOT NULL, "
    "host text NOT NULL, "
    "pid integer NOT NULL, "
    "started bigint NOT NULL, "
    "joined text, "			/* a member's join */
    "running boolean NOT NULL DEFAULT true, "
    "lost boolean NOT NULL DEFAULT false, "	/* killed: not counted */
    "increments bigint NOT NULL DEFAULT 0, "
    "decrements bigint NOT NULL DEFAULT 0, "
    "unsure bigint NOT NULL DEFAULT 0)";

/*
 * Makes the table if missing, and the run's rows, in one transaction;
 * again when another run dropped the table in between, or made it at the
 * same moment.
 */
static int
make_rows(struct counter *c, struct pg_state *s, const struct run *run,
    const char *host, long long start)
{
	char pid[16], started[32], value[32];
	const char *params[6];
	PGresult *res = NULL;
	char state = '?';
	int tries;

	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	snprintf(started, sizeof(started), "%llu",
	    process_start((long)getpid(), &state));
	snprintf(value, sizeof(value), "%lld", start);
	for (tries = 0; tries < PG_CREATE_TRIES; tries++) {
		PQclear(res);
		res = NULL;
		if (command(s, "BEGIN", 0, NULL, NULL) == -1)
			return failed(c, s);
		if (command(s, create_table, 0, NULL, NULL) == -1)
			goto again;
		params[0] = s->row;
		params[1] = run->join != NULL ? "join" : "run";
		params[2] = value;
		params[3] = host;
		params[4] = pid;
		params[5] = started;
		/* A joined counter may be there already: then it is used. */
		if (command(s, "INSERT INTO " PG_TABLE " (name, role, value, "
		    "start, host, pid, started) VALUES ($1, $2, $3, $3, $4, "
		    "$5, $6) ON CONFLICT (name) DO NOTHING", 6, params,
		    NULL) == -1)
			goto again;
		if (command(s, "SELECT id, start FROM " PG_TABLE " WHERE "
		    "name = $1 AND role = $2", 2, params, &res) == -1)
			goto again;
		if (PQntuples(res) != 1) {
			snprintf(s->failure, sizeof(s->failure), "row %s is "
			    "not a counter of proccount's", s->row);
			failed(c, s);
			command(s, "ROLLBACK", 0, NULL, NULL);
			PQclear(res);
			errno = EEXIST;
			return -1;
		}
		snprintf(s->key, sizeof(s->key), "%s", PQgetvalue(res, 0, 0));
		c->start = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
		if (run->join != NULL) {
			params[0] = s->member;
			params[1] = run->join;
			params[2] = host;
			params[3] = pid;
			params[4] = started;
			if (command(s, "INSERT INTO " PG_TABLE " (name, role, "
			    "value, start, host, pid, started, joined) VALUES "
			    "($1, 'member', 0, 0, $3, $4, $5, $2)", 5, params,
			    NULL) == -1)
				goto again;
		}
		if (command(s, "COMMIT", 0, NULL, NULL) == 0)
			break;
again:
		command(s, "ROLLBACK", 0, NULL, NULL);
		if (PQstatus(s->conn) == CONNECTION_BAD)
			return failed(c, s);
		/* Only these races are tried again. */
		if (strstr(s->failure, "already exists") == NULL &&
		    strstr(s->failure, "does not exist") == NULL &&
		    strstr(s->failure, "duplicate key") == NULL &&
		    strstr(s->failure, "could not serialize") == NULL)
			return failed(c, s);
		usleep(10000);
	}
	PQclear(res);
	if (tries == PG_CREATE_TRIES)
		return failed(c, s);

	return 0;
}

static int
pg_create(struct counter *c, const struct run *run)
{
	static unsigned made;
	struct pg_state *s;
	char host[128];
	char state = '?';
	unsigned long long started;
	int error;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	c->state = s;
	s->dsn = run->dsn;
	if (run->timeout_ns != 0)
		snprintf(s->lock_timeout, sizeof(s->lock_timeout),
		    "SET lock_timeout = %llu",
		    (unsigned long long)((run->timeout_ns + 999999) / 1000000));
	if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	started = process_start((long)getpid(), &state);
	if (run->join != NULL) {
		snprintf(s->row, sizeof(s->row), "join:%s", run->join);
		snprintf(s->member, sizeof(s->member), "join:%s:%s-%ld-%llu-%u",
		    run->join, host, (long)getpid(), started, made++);
		snprintf(c->name, sizeof(c->name), "%s", s->row);
	} else {
		snprintf(s->row, sizeof(s->row), "%s-%ld-%llu-%u", host,
		    (long)getpid(), started, made++);
		snprintf(c->name, sizeof(c->name), "%s", s->row);
	}
	s->conn = pg_connect(run->dsn);
	if (PQstatus(s->conn) != CONNECTION_OK) {
		one_line(s->failure, sizeof(s->failure),
		    PQerrorMessage(s->conn));
		failed(c, s);
		errno = ECONNREFUSED;
		goto fail;
	}
	s->answer_s = answer_limit(s->conn);
	pg_sweep_rows(s, host);
	if (make_rows(c, s, run, host, run->start) == -1)
		goto fail;
	return 0;
fail:
	error = errno;
	PQfinish(s->conn);
	free(s);
	c->state = NULL;
	errno = error;
	return -1;
}

static void	pg_detach(void *);

/* A prepared statement of the worker's. */
static int
prepare(PGconn *conn, const char *name, const char *sql, int nparams)
{
	PGresult *res = PQprepare(conn, name, sql, nparams, NULL);
	int ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	PQclear(res);
	return ok ? 0 : -1;
}

static int
pg_attach(struct counter *c, const struct run *run, void **handle)
{
	const struct pg_state *s = c->state;
	struct pg_handle *h;
	PGresult *res;
	int error;
	bool ok;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return UPDATE_ATTACH;
	h->state = s;
	h->kind = (enum pg_kind)(run->kind - run->backend->kinds);
	h->conn = pg_connect(s->dsn);
	if (run->threads) {
		pthread_once(&thread_conn_once, make_thread_conn);
		pthread_setspecific(thread_conn, h->conn);
	}
	ok = PQstatus(h->conn) == CONNECTION_OK &&
	    prepare(h->conn, "read", "SELECT value FROM " PG_TABLE
	    " WHERE name = $1", 1) == 0 &&
	    prepare(h->conn, "lock", "SELECT value FROM " PG_TABLE
	    " WHERE name = $1 FOR UPDATE", 1) == 0 &&
	    prepare(h->conn, "write", "UPDATE " PG_TABLE " SET value = $2 "
	    "WHERE name = $1", 2) == 0 &&
	    prepare(h->conn, "add", "UPDATE " PG_TABLE " SET value = value "
	    "+ $2 WHERE name = $1", 2) == 0 &&
	    prepare(h->conn, "advisory", "SELECT pg_advisory_xact_lock("
	    PG_ADVISORY_CLASS ", $1)", 1) == 0;
	if (ok && s->lock_timeout[0] != '\0') {
		res = PQexec(h->conn, s->lock_timeout);
		ok = PQresultStatus(res) == PGRES_COMMAND_OK;
		PQclear(res);
	}
	*handle = h;
	if (!ok) {
		/* The runner does not detach a worker that could not attach. */
		error = PQstatus(h->conn) == CONNECTION_OK ? EPROTO :
		    ECONNREFUSED;
		pg_detach(h);
		*handle = NULL;
		errno = error;
		return UPDATE_ATTACH;
	}
	return UPDATE_OK;
}

static void
pg_detach(void *handle)
{
	struct pg_handle *h = handle;

	if (h == NULL)
		return;
	pthread_once(&thread_conn_once, make_thread_conn);
	if (pthread_getspecific(thread_conn) == h->conn)
		pthread_setspecific(thread_conn, NULL);
	PQfinish(h->conn);
	free(h);
}

/*
 * What a statement's failure means for the update: PG_RETRY for a
 * serialization failure or a deadlock the server broke, which the
 * transaction kinds retry; UPDATE_TIMEOUT for lock_timeout (--timeout)
 * or the server's statement_timeout; else what, with errno ECONNRESET
 * when the connection is gone, or EPROTO for any other error.
 */
static int
statement_failed(struct pg_handle *h, PGresult *res, int what)
{
	int error = what;

	if (PQstatus(h->conn) == CONNECTION_BAD)
		errno = ECONNRESET;
	else if (sqlstate_is(res, "40001") || sqlstate_is(res, "40P01"))
		error = PG_RETRY;
	else if (sqlstate_is(res, "55P03") || sqlstate_is(res, "57014")) {
		errno = ETIMEDOUT;
		error = UPDATE_TIMEOUT;
	} else
		errno = EPROTO;
	PQclear(res);
	return error;
}

static int
simple(struct pg_handle *h, const char *sql, int what)
{
	PGresult *res = PQexec(h->conn, sql);

	if (PQresultStatus(res) == PGRES_COMMAND_OK) {
		PQclear(res);
		return UPDATE_OK;
	}
	return statement_failed(h, res, what);
}

static int
prepared(struct pg_handle *h, const char *name, int nparams,
    const char *const *params, int what, long long *value)
{
	PGresult *res = PQexecPrepared(h->conn, name, nparams, params, NULL,
	    NULL, 0);
	ExecStatusType status = PQresultStatus(res);

	if (status == PGRES_TUPLES_OK && value != NULL && PQntuples(res) == 1) {
		*value = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		PQclear(res);
		return UPDATE_OK;
	}
	if (status == PGRES_TUPLES_OK && value != NULL) {
		/* The row is gone: someone else removed it. */
		PQclear(res);
		errno = ENOENT;
		return UPDATE_REPLACED;
	}
	if (status == PGRES_COMMAND_OK && strcmp(PQcmdTuples(res), "0") == 0) {
		PQclear(res);
		errno = ENOENT;
		return UPDATE_REPLACED;
	}
	if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
		PQclear(res);
		return UPDATE_OK;
	}
	return statement_failed(h, res, what);
}

/* A transaction's update: BEGIN, a lock if any, SELECT, UPDATE, COMMIT. */
static inline int
pg_transaction(struct pg_handle *h, struct worker *w, bool timed,
    uint64_t *taken)
{
	static const char *const begin[] = {
		[PG_ROW] = "BEGIN",
		[PG_ADVISORY] = "BEGIN",
		[PG_SERIALIZABLE] = "BEGIN ISOLATION LEVEL SERIALIZABLE",
		[PG_REPEATABLE] = "BEGIN ISOLATION LEVEL REPEATABLE READ",
	};
	const char *params[2] = { h->state->row, NULL };
	char number[24];
	long long value;
	int error;

	if ((error = simple(h, begin[h->kind], UPDATE_LOCK)) != UPDATE_OK)
		return error;
	if (h->kind == PG_ADVISORY && (error = prepared(h, "advisory", 1,
	    (const char *const[]){ h->state->key }, UPDATE_LOCK, NULL)) !=
	    UPDATE_OK)
		return error;
	if ((error = prepared(h, h->kind == PG_ROW ? "lock" : "read", 1,
	    params, h->kind == PG_ROW ? UPDATE_LOCK : UPDATE_READ, &value)) !=
	    UPDATE_OK)
		return error;
	if (timed)
		*taken = worker_clock(w);
	worker_midpoint(w);
	snprintf(number, sizeof(number), "%lld", (long long)((unsigned long
	    long)value + (unsigned long long)(long long)w->delta));
	params[1] = number;
	if ((error = prepared(h, "write", 2, params, UPDATE_WRITE, NULL)) !=
	    UPDATE_OK)
		return error;
	return simple(h, "COMMIT", UPDATE_WRITE);
}

static inline __attribute__((always_inline)) int
pg_update(void *handle, struct worker *w, enum pg_kind kind)
{
	struct pg_handle *h = handle;
	const char *params[2] = { h->state->row, w->delta > 0 ? "1" : "-1" };
	uint64_t asked = 0, taken = 0, released = 0;
	char number[24];
	long long value;
	int error;
	bool timed;

	if (kind == PG_ATOMIC) {
		worker_midpoint(w);
		if ((error = prepared(h, "add", 2, params, UPDATE_WRITE,
		    NULL)) != UPDATE_OK)
			return error;
		worker_committed(w);
		return UPDATE_OK;
	}
	if (kind == PG_NONE) {
		if ((error = prepared(h, "read", 1, params, UPDATE_READ,
		    &value)) != UPDATE_OK)
			return error;
		worker_midpoint(w);
		snprintf(number, sizeof(number), "%lld", (long long)((unsigned
		    long long)value + (unsigned long long)(long long)w->delta));
		params[1] = number;
		if ((error = prepared(h, "write", 2, params, UPDATE_WRITE,
		    NULL)) != UPDATE_OK)
			return error;
		worker_committed(w);
		return UPDATE_OK;
	}
	timed = worker_timed(w);
	for (;;) {
		if (timed)
			asked = worker_clock(w);
		if ((error = pg_transaction(h, w, timed, &taken)) != PG_RETRY)
			break;
		/* Rolled back: it never counted, and is made again. */
		atomic_store_explicit(&w->slot->retries, atomic_load_explicit(
		    &w->slot->retries, memory_order_relaxed) + 1,
		    memory_order_relaxed);
		if ((error = simple(h, "ROLLBACK", UPDATE_WRITE)) != UPDATE_OK)
			break;
	}
	if (error != UPDATE_OK) {
		if (PQstatus(h->conn) == CONNECTION_OK)
			PQclear(PQexec(h->conn, "ROLLBACK"));
		return error == PG_RETRY ? UPDATE_WRITE : error;
	}
	if (timed)
		released = worker_clock(w);
	worker_committed(w);
	if (timed)
		worker_record(w, asked, taken, released);
	return UPDATE_OK;
}

#define PG_RUN(name, kind)						\
static int								\
update_##name(void *handle, struct worker *w)				\
{									\
	return pg_update(handle, w, kind);				\
}									\
static int								\
run_##name(void *handle, struct worker *w)				\
{									\
	return worker_loop(handle, w, update_##name);			\
}

PG_RUN(row, PG_ROW)
PG_RUN(advisory, PG_ADVISORY)
PG_RUN(serializable, PG_SERIALIZABLE)
PG_RUN(repeatable, PG_REPEATABLE)
PG_RUN(atomic, PG_ATOMIC)
PG_RUN(none, PG_NONE)

static int
pg_value(struct counter *c, const struct run *run, bool locked,
    long long *value)
{
	struct pg_state *s = c->state;
	const char *params[1] = { s->row };
	PGresult *res;

	(void)run;
	(void)locked;
	if (command(s, "SELECT value FROM " PG_TABLE " WHERE name = $1",
	    1, params, &res) == -1)
		return failed(c, s);
	if (PQntuples(res) != 1) {
		PQclear(res);
		snprintf(s->failure, sizeof(s->failure), "the row is gone: "
		    "another program removed it");
		failed(c, s);
		errno = ENOENT;
		return -1;
	}
	*value = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}

/*
 * --join: this run's workers are done.  Their updates go in its member
 * row; if no other member still runs, this run judges them all: the
 * others' net updates are counted as part of where its own started from.
 * The updates another member's killed workers left unsure are recorded,
 * in unsure, but only this run's own are allowed for by the verdict.
 */
static int
pg_settle(struct counter *c, const struct run *run, struct outcome *out)
{
	struct pg_state *s = c->state;
	char inc[32], dec[32], unsure[32];
	const char *params[5];
	unsigned long long up = 0, down = 0, maybe = 0;
	PGresult *res;
	unsigned i;

	if (run->join == NULL)
		return 0;
	for (i = 0; i < out->nworkers; i++) {
		if (out->workers[i].delta > 0)
			up += out->workers[i].done;
		else if (out->workers[i].delta < 0)
			down += out->workers[i].done;
		maybe += out->workers[i].unsure;
	}
	snprintf(inc, sizeof(inc), "%llu", up);
	snprintf(dec, sizeof(dec), "%llu", down);
	snprintf(unsure, sizeof(unsure), "%llu", maybe);
	params[0] = s->row;
	params[1] = s->member;
	params[2] = inc;
	params[3] = dec;
	params[4] = unsure;
	if (command(s, "BEGIN", 0, NULL, NULL) == -1)
		return failed(c, s);
	/* The join's row, locked: one member at a time settles. */
	if (command(s, "SELECT value FROM " PG_TABLE " WHERE name = $1 FOR "
	    "UPDATE", 1, params, NULL) == -1 ||
	    command(s, "UPDATE " PG_TABLE " SET running = false, "
	    "increments = $2, decrements = $3, unsure = $4 WHERE name = $1",
	    4, params + 1, NULL) == -1)
		goto fail;
	params[0] = run->join;
	params[1] = s->member;
	if (command(s, "SELECT count(*) FILTER (WHERE running), "
	    "coalesce(sum(increments - decrements) FILTER (WHERE name <> $2), "
	    "0) FROM " PG_TABLE
	    " WHERE role = 'member' AND joined = $1", 2, params, &res) == -1)
		goto fail;
	s->running = (unsigned)atoi(PQgetvalue(res, 0, 0));
	c->elsewhere = s->running != 0;
	if (c->elsewhere) {
		snprintf(s->failure, sizeof(s->failure), "%u other %s of the "
		    "join still %s it, and the last to finish judges it",
		    s->running, s->running == 1 ? "run" : "runs",
		    s->running == 1 ? "updates" : "update");
		failed(c, s);
	}
	if (s->running == 0)
		c->start = (long long)((unsigned long long)c->start +
		    strtoull(PQgetvalue(res, 0, 1), NULL, 10));
	PQclear(res);
	if (command(s, "COMMIT", 0, NULL, NULL) == -1)
		return failed(c, s);
	return 0;
fail:
	command(s, "ROLLBACK", 0, NULL, NULL);
	return failed(c, s);
}

/*
 * The run's rows go, and the table with them once it is empty; a run
 * that is using it at that moment drops it at its own end instead.  A
 * joined counter goes with its last member.
 */
static void
pg_destroy(struct counter *c)
{
	struct pg_state *s = c->state;
	const char *params[2];
	PGresult *res;

	if (s == NULL)
		return;
	if (s->conn != NULL && PQstatus(s->conn) == CONNECTION_OK) {
		params[0] = s->row;
		params[1] = s->member;
		if (s->member[0] == '\0')
			command(s, "DELETE FROM " PG_TABLE " WHERE name = $1",
			    1, params, NULL);
		else if (s->running == 0)
			command(s, "DELETE FROM " PG_TABLE " WHERE name = $1 "
			    "OR (role = 'member' AND joined = substr($1, 6))",
			    1, params, NULL);
		if (command(s, "BEGIN", 0, NULL, NULL) == 0) {
			if (command(s, "LOCK TABLE " PG_TABLE " IN ACCESS "
			    "EXCLUSIVE MODE NOWAIT", 0, NULL, NULL) == 0 &&
			    command(s, "SELECT 1 FROM " PG_TABLE " LIMIT 1",
			    0, NULL, &res) == 0) {
				if (PQntuples(res) == 0)
					command(s, "DROP TABLE " PG_TABLE, 0,
					    NULL, NULL);
				PQclear(res);
			}
			command(s, "COMMIT", 0, NULL, NULL);
		}
	}
	PQfinish(s->conn);
	free(s);
	c->state = NULL;
}

#else /* !HAVE_LIBPQ */

static int
pg_create(struct counter *c, const struct run *run)
{
	(void)run;
	c->why = "this proccount was built without PostgreSQL (libpq)";
	errno = ENOSYS;
	return -1;
}

static int
pg_attach(struct counter *c, const struct run *run, void **handle)
{
	(void)c;
	(void)run;
	*handle = NULL;
	errno = ENOSYS;
	return UPDATE_ATTACH;
}

static void
pg_detach(void *handle)
{
	(void)handle;
}

static int
pg_value(struct counter *c, const struct run *run, bool locked,
    long long *value)
{
	(void)c;
	(void)run;
	(void)locked;
	(void)value;
	errno = ENOSYS;
	return -1;
}

static void
pg_destroy(struct counter *c)
{
	(void)c;
}

static int
pg_unbuilt(void *handle, struct worker *w)
{
	(void)handle;
	(void)w;
	errno = ENOSYS;
	return UPDATE_ATTACH;
}

#define run_row		pg_unbuilt
#define run_advisory	pg_unbuilt
#define run_serializable pg_unbuilt
#define run_repeatable	pg_unbuilt
#define run_atomic	pg_unbuilt
#define run_none	pg_unbuilt
#define pg_settle	NULL

#endif /* HAVE_LIBPQ */

/* In the order of enum pg_kind, which attach reads from the record. */
static const struct lock_kind pg_kinds[] = {
	[PG_ROW] = {
		.name = "row",
		.words = "row lock (SELECT ... FOR UPDATE)",
		.owner_words = "the worker's transaction, on its connection",
		.owner = OWNER_CONNECTION,
		.death = DEATH_RELEASED,
		.death_words = "the server rolls back a dropped connection's "
		    "transaction and releases its locks",
		.run = run_row,
	},
	[PG_ADVISORY] = {
		.name = "advisory",
		.words = "advisory lock (pg_advisory_xact_lock)",
		.owner_words = "the worker's transaction, on its connection",
		.owner = OWNER_CONNECTION,
		.death = DEATH_RELEASED,
		.death_words = "the server rolls back a dropped connection's "
		    "transaction and releases its locks",
		.run = run_advisory,
	},
	[PG_SERIALIZABLE] = {
		.name = "serializable",
		.words = "SERIALIZABLE transactions, retried when aborted",
		.owner_words = "the worker's transaction, on its connection",
		.owner = OWNER_CONNECTION,
		.death = DEATH_RELEASED,
		.death_words = "the server rolls back a dropped connection's "
		    "transaction and releases its locks",
		.run = run_serializable,
	},
	[PG_REPEATABLE] = {
		.name = "repeatable",
		.words = "REPEATABLE READ transactions, retried when aborted",
		.owner_words = "the worker's transaction, on its connection",
		.owner = OWNER_CONNECTION,
		.death = DEATH_RELEASED,
		.death_words = "the server rolls back a dropped connection's "
		    "transaction and releases its locks",
		.run = run_repeatable,
	},
	[PG_ATOMIC] = {
		.name = "atomic",
		.words = "atomic UPDATE (value = value + 1)",
		.owner_words = "nobody",
		.owner = OWNER_NONE,
		.death = DEATH_NOTHING,
		.death_words = "there was no lock to hold",
		.run = run_atomic,
	},
	[PG_NONE] = {
		.name = "none",
		.words = "no lock (SELECT, then UPDATE)",
		.owner_words = "nobody",
		.owner = OWNER_NONE,
		.death = DEATH_NOTHING,
		.death_words = "there was no lock to hold",
		.run = run_none,
	},
	{ .name = NULL },
};

const struct backend pg_backend = {
	.name = "pg",
	.where = "PostgreSQL",
	.kinds = pg_kinds,
	.on_request = true,
	.no_steps = "the server orders its workers' statements, not "
	    "proccount",
	.create = pg_create,
	.attach = pg_attach,
	.detach = pg_detach,
	.value = pg_value,
	.destroy = pg_destroy,
	.settle = pg_settle,
	.threads_close = true,
	.transactions = true,
};
