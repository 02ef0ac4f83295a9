/*
 * A traced run as people and programs read it: the timeline, one column
 * a worker; the records in a file, CSV or JSON Lines; and the trace's
 * part of the report, text or JSON.  Each writes to what it is given, and
 * none exits.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../report.h"
#include "show.h"

/* A timeline column's width; a cell is "wrote -2147483648" at most. */
#define COLUMN	20

static const char *
role_of(int delta)
{
	return delta > 0 ? "inc" : "dec";
}

/* Whether another worker has the same role: then names say whose. */
static bool
shares_role(const struct trace_run *run, unsigned index)
{
	unsigned i;

	for (i = 0; i < run->nworkers; i++)
		if (i != index &&
		    run->workers[i].delta == run->workers[index].delta)
			return true;
	return false;
}

/* "inc#3", or "inc#3 of worker 1" where several workers increment. */
static const char *
update_name(const struct trace_run *run, uint32_t tag, char *buf, size_t size)
{
	unsigned worker;
	uint64_t number;

	trace_record_of(run, tag, &worker, &number);
	if (shares_role(run, worker))
		snprintf(buf, size, "%s#%llu of worker %u",
		    role_of(run->workers[worker].delta),
		    (unsigned long long)number + 1, worker + 1);
	else
		snprintf(buf, size, "%s#%llu",
		    role_of(run->workers[worker].delta),
		    (unsigned long long)number + 1);
	return buf;
}

/* "inc#3 (14->15)", and whose where that is needed. */
static const char *
update_change(const struct trace_account *a, uint32_t tag, char *buf,
    size_t size)
{
	const struct trace_run *run = a->run;
	char name[64];

	update_name(run, tag, name, sizeof(name));
	snprintf(buf, size, "%s (%d->%lld)", name,
	    trace_record_of(run, tag, NULL, NULL)->read,
	    trace_value_of(run, a, tag));
	return buf;
}

/* Of the worker that made tag, how many updates it began. */
static uint64_t
begun(const struct trace_account *a, unsigned index)
{
	const struct trace_run *run = a->run;
	uint64_t done = run->workers[index].done;

	if (done < run->capacity &&
	    a->state[trace_tag(run->capacity, index, done)] != 0)
		return done + 1;
	return done;
}

static bool
in_account(const struct trace_account *a, uint32_t tag)
{
	return (a->state[tag] & (TRACE_COUNTED | TRACE_LANDED)) != 0;
}

/*
 * A worker's events in order, a read and, if known, a write an update:
 * step 2k is update k's read, 2k + 1 its write.
 */
struct stream {
	unsigned	 index;
	uint64_t	 step;
	uint64_t	 steps;
	int64_t		 at;	/* the time of the next step */
};

static bool
next_step(const struct trace_account *a, struct stream *s)
{
	const struct trace_run *run = a->run;
	const struct trace_record *r;
	uint32_t tag;

	for (; s->step < s->steps; s->step++) {
		tag = trace_tag(run->capacity, s->index, s->step / 2);
		r = &run->workers[s->index].records[s->step / 2];
		if (s->step % 2 == 0) {
			s->at = r->t_read;
			return true;
		}
		if (in_account(a, tag)) {
			s->at = r->t_write != 0 ? r->t_write : r->t_read;
			return true;
		}
	}
	return false;
}

static bool
earlier(const struct stream *x, const struct stream *y)
{
	return x->at != y->at ? x->at < y->at : x->index < y->index;
}

/* A binary heap of the streams, the earliest next step on top. */
static void
sift_down(struct stream *heap, size_t n, size_t at)
{
	struct stream held = heap[at];
	size_t child;

	while ((child = 2 * at + 1) < n) {
		if (child + 1 < n && earlier(&heap[child + 1], &heap[child]))
			child++;
		if (!earlier(&heap[child], &held))
			break;
		heap[at] = heap[child];
		at = child;
	}
	heap[at] = held;
}

/* What the timeline says beside a step, if anything. */
static void
annotate(const struct trace_account *a, uint32_t tag, bool write, char *buf,
    size_t size)
{
	char change[96];
	uint32_t over;

	buf[0] = '\0';
	if (!write) {
		if (!in_account(a, tag))
			snprintf(buf, size, "<- no write follows");
		return;
	}
	/* A write over the one it read takes nothing away. */
	over = a->over[tag];
	if (over != TRACE_UNKNOWN && trace_is_lost(a, over) &&
	    over != trace_record_of(a->run, tag, NULL, NULL)->read_tag)
		snprintf(buf, size, "<- overwrote %s: lost",
		    update_change(a, over, change, sizeof(change)));
	if ((a->state[tag] & TRACE_LANDED) != 0)
		snprintf(buf + strlen(buf), size - strlen(buf),
		    "%slanded, though its worker died before counting it",
		    buf[0] != '\0' ? "; " : "<- ");
}

int
trace_timeline(FILE *to, const struct trace_account *a)
{
	const struct trace_run *run = a->run;
	const struct trace_record *r;
	struct stream *heap, s;
	char head[64], note[256];
	size_t n = 0;
	unsigned i;
	uint32_t tag;
	bool write;

	if ((heap = calloc(run->nworkers + 1, sizeof(*heap))) == NULL)
		return -1;
	fprintf(to, "%10s", "t(us)");
	for (i = 0; i < run->nworkers; i++) {
		snprintf(head, sizeof(head), "worker %u (%s)", i + 1,
		    role_of(run->workers[i].delta));
		fprintf(to, "  %-*s", i + 1 < run->nworkers ? COLUMN : 0, head);
	}
	fprintf(to, "\n%10s", "");
	for (i = 0; i < run->nworkers; i++) {
		snprintf(head, sizeof(head), "pid %ld",
		    (long)run->workers[i].pid);
		fprintf(to, "  %-*s", i + 1 < run->nworkers ? COLUMN : 0, head);
	}
	fputc('\n', to);
	for (i = 0; i < run->nworkers; i++) {
		s = (struct stream){ .index = i, .steps = 2 * begun(a, i) };
		if (next_step(a, &s))
			heap[n++] = s;
	}
	for (i = (unsigned)(n / 2); i-- > 0;)
		sift_down(heap, n, i);
	while (n > 0) {
		s = heap[0];
		tag = trace_tag(run->capacity, s.index, s.step / 2);
		r = &run->workers[s.index].records[s.step / 2];
		write = s.step % 2 == 1;
		snprintf(head, sizeof(head), "%s %lld", write ? "wrote" : "read",
		    write ? trace_value_of(run, a, tag) : (long long)r->read);
		annotate(a, tag, write, note, sizeof(note));
		fprintf(to, "%10.3f  %*s%-*s%s\n",
		    (double)(s.at - run->began_ns) / 1e3,
		    (int)(s.index * (COLUMN + 2)), "",
		    note[0] != '\0' ? COLUMN + 1 : 0, head, note);
		s.step++;
		if (next_step(a, &s))
			heap[0] = s;
		else
			heap[0] = heap[--n];
		sift_down(heap, n, 0);
	}
	free(heap);
	return ferror(to) ? -1 : 0;
}

/* One update's line of the file, CSV or JSON. */
static void
write_record(FILE *to, const struct trace_account *a, unsigned index,
    uint64_t number, bool jsonl)
{
	const struct trace_run *run = a->run;
	const struct trace_worker *w = &run->workers[index];
	const struct trace_record *r = &w->records[number];
	uint32_t tag = trace_tag(run->capacity, index, number);
	const char *counted = a->state[tag] & TRACE_COUNTED ? "true" : "false";
	const char *lost = trace_is_lost(a, tag) ? "true" : "false";
	const char *none = jsonl ? "null" : "";
	char over[16], written[32];

	snprintf(over, sizeof(over), "%u", a->over[tag]);
	snprintf(written, sizeof(written), "%lld", (long long)(r->t_write -
	    run->began_ns));
	if (jsonl)
		fprintf(to, "{\"worker\":%u,\"pid\":%ld,\"role\":\"%s\","
		    "\"number\":%llu,\"tag\":%u,\"read_tag\":%u,\"read\":%d,"
		    "\"wrote\":%lld,\"overwrote\":%s,\"t_read_ns\":%lld,"
		    "\"t_write_ns\":%s,\"counted\":%s,\"lost\":%s}\n",
		    index + 1, (long)w->pid, role_of(w->delta),
		    (unsigned long long)number + 1, tag, r->read_tag, r->read,
		    trace_value_of(run, a, tag),
		    a->over[tag] != TRACE_UNKNOWN ? over : none,
		    (long long)(r->t_read - run->began_ns),
		    r->t_write != 0 ? written : none, counted, lost);
	else
		fprintf(to, "%u,%ld,%s,%llu,%u,%u,%d,%lld,%s,%lld,%s,%s,%s\n",
		    index + 1, (long)w->pid, role_of(w->delta),
		    (unsigned long long)number + 1, tag, r->read_tag, r->read,
		    trace_value_of(run, a, tag),
		    a->over[tag] != TRACE_UNKNOWN ? over : none,
		    (long long)(r->t_read - run->began_ns),
		    r->t_write != 0 ? written : none, counted, lost);
}

bool
trace_file_is_jsonl(const char *path)
{
	size_t len = strlen(path);

	return len >= 6 && strcmp(path + len - 6, ".jsonl") == 0;
}

static int
write_records(FILE *to, const struct trace_account *a, bool jsonl)
{
	const struct trace_run *run = a->run;
	unsigned i;
	uint64_t k;

	if (!jsonl)
		fputs("worker,pid,role,number,tag,read_tag,read,wrote,"
		    "overwrote,t_read_ns,t_write_ns,counted,lost\n", to);
	for (i = 0; i < run->nworkers; i++)
		for (k = 0; k < begun(a, i); k++)
			if (in_account(a, trace_tag(run->capacity, i, k)))
				write_record(to, a, i, k, jsonl);
	return ferror(to) ? -1 : 0;
}

/*
 * Standard output or error, when it is open on the regular file that path
 * names, as /dev/stdout is when the output goes to a file; else -1.
 */
int
trace_file_output(const char *path)
{
	struct stat st, out;
	int fd;

	if (stat(path, &st) == -1 || !S_ISREG(st.st_mode))
		return -1;
	for (fd = STDOUT_FILENO; fd <= STDERR_FILENO; fd++)
		if (fstat(fd, &out) == 0 && out.st_dev == st.st_dev &&
		    out.st_ino == st.st_ino)
			return fd;
	return -1;
}

/*
 * The records in a file.  A path that names a regular file, or nothing
 * yet, gets a temporary file beside it (beside the file a symbolic link
 * points to), renamed onto it once it is whole, so that no moment leaves
 * a part of a trace there.  A path that names something else, such as
 * /dev/null or a FIFO, is written to directly, and so is the file that
 * standard output or error goes to, through its descriptor and at its
 * offset: replaced, it would take away what was written there before and
 * leave the report to a file that no name reaches.
 */
int
trace_save(const char *path, const struct trace_account *a)
{
	char target[PATH_MAX], temporary[PATH_MAX + 8];
	struct stat st;
	mode_t mode, mask;
	FILE *to = NULL;
	int fd, saved;

	temporary[0] = '\0';
	if ((fd = trace_file_output(path)) != -1) {
		fflush(fd == STDOUT_FILENO ? stdout : stderr);
		if ((fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1)
			return -1;
		goto opened;
	}
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		if (S_ISDIR(st.st_mode)) {
			errno = EISDIR;
			return -1;
		}
		if ((fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC)) == -1)
			return -1;
		goto opened;
	}
	if (stat(path, &st) == 0) {
		if (realpath(path, target) == NULL)
			return -1;
		mode = st.st_mode & 07777;
	} else {
		if (strlen(path) >= sizeof(target)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		strcpy(target, path);
		mask = umask(0);
		umask(mask);
		mode = 0666 & ~mask;
	}
	snprintf(temporary, sizeof(temporary), "%s.XXXXXX", target);
	if ((fd = mkostemp(temporary, O_CLOEXEC)) == -1) {
		temporary[0] = '\0';
		return -1;
	}
	if (fchmod(fd, mode) == -1)
		goto fail;
opened:
	if ((to = fdopen(fd, "w")) == NULL)
		goto fail;
	if (write_records(to, a, trace_file_is_jsonl(path)) == -1)
		goto fail;
	fd = -1;
	if (fclose(to) == EOF) {
		to = NULL;
		goto fail;
	}
	to = NULL;
	if (temporary[0] != '\0' && rename(temporary, target) == -1)
		goto fail;
	return 0;
fail:
	saved = errno;
	if (to != NULL)
		fclose(to);
	else if (fd != -1)
		close(fd);
	if (temporary[0] != '\0')
		unlink(temporary);
	errno = saved;
	return -1;
}

/* Workers of a timed run that stopped because their trace was full. */
static unsigned
full(const struct trace_run *run)
{
	unsigned i, count = 0;

	for (i = 0; run->timed && i < run->nworkers; i++)
		count += run->workers[i].done >= run->capacity;
	return count;
}

/* "-39", "+5", "0": the drift as the verdict says it. */
static long long
drift_of(const struct trace_account *a)
{
	return (long long)a->lost_decrements - (long long)a->lost_increments;
}

void
trace_report_text(FILE *to, const struct trace_account *a)
{
	const struct trace_run *run = a->run;
	const struct trace_loss *loss;
	char by[64], lost[96], first[96];
	unsigned i, worker, stopped;
	long long drift = drift_of(a);

	if (!run->final_known)
		fprintf(to, "traced: the final value could not be read, so "
		    "the lost updates cannot be told\n");
	else if (!a->exact)
		fprintf(to, "TRACE INCONSISTENT: %s; so its counts are not "
		    "exact: a bug in proccount, unless another program wrote "
		    "the counter\n", a->problem);
	if (run->final_known && a->lost == 0)
		fprintf(to, "traced: none of %llu %s lost: each is on the "
		    "path from the start to the final value\n",
		    (unsigned long long)a->updates,
		    a->updates == 1 ? "update" : "updates");
	else if (run->final_known) {
		fprintf(to, "traced: %llu %s lost: %llu %s, %llu %s; drift ",
		    (unsigned long long)a->lost,
		    a->lost == 1 ? "update" : "updates",
		    (unsigned long long)a->lost_increments,
		    a->lost_increments == 1 ? "increment" : "increments",
		    (unsigned long long)a->lost_decrements,
		    a->lost_decrements == 1 ? "decrement" : "decrements");
		fprintf(to, drift == 0 ? "0\n" : "%+lld\n", drift);
		fprintf(to, "traced: %llu overwritten unread, %llu lost though "
		    "read, on a branch that never reached the final value\n",
		    (unsigned long long)a->unread,
		    (unsigned long long)a->read_lost);
	}
	for (i = 0; i < a->nfirst; i++) {
		loss = &a->first[i];
		update_change(a, loss->lost, lost, sizeof(lost));
		if (loss->by == TRACE_UNKNOWN)
			fprintf(to, "  %s was overwritten by a write whose "
			    "record its worker never finished", lost);
		else {
			/* A name that says its worker is not told it twice. */
			trace_record_of(run, loss->by, &worker, NULL);
			update_name(run, loss->by, by, sizeof(by));
			if (!shares_role(run, worker))
				snprintf(by + strlen(by), sizeof(by) -
				    strlen(by), " (worker %u)", worker + 1);
			fprintf(to, "  %s wrote %lld over %s", by,
			    trace_value_of(run, a, loss->by), lost);
		}
		if (loss->readers == 0)
			fprintf(to, ", which nobody read: lost");
		else if (loss->readers == 1)
			fprintf(to, ", which only a worker that never wrote "
			    "read: lost");
		else
			fprintf(to, ", which only %u workers that never wrote "
			    "read: lost", loss->readers);
		if (loss->before == 1)
			fprintf(to, ", as is %s, which it came from",
			    update_change(a, loss->first, first,
			    sizeof(first)));
		else if (loss->before > 1)
			fprintf(to, ", as are the %llu updates it came from, "
			    "back to %s", (unsigned long long)loss->before,
			    update_change(a, loss->first, first,
			    sizeof(first)));
		fputc('\n', to);
	}
	if (a->unread > a->nfirst)
		fprintf(to, "  and %llu more %s\n",
		    (unsigned long long)(a->unread - a->nfirst),
		    a->unread - a->nfirst == 1 ? "branch" : "branches");
	stopped = full(run);
	if (stopped != 0)
		fprintf(to, "trace full: %u of %u workers stopped at the %u "
		    "updates the trace holds for each\n", stopped,
		    run->nworkers, run->capacity);
	fprintf(to, "tracing changes the timing, so the race may look "
	    "different from an untraced run\n");
	if (a->file != NULL)
		fprintf(to, "trace: %llu %s in %s\n",
		    (unsigned long long)a->updates,
		    a->updates == 1 ? "update" : "updates", a->file);
}

/* One update, named for programs; null for none. */
static void
json_update(FILE *to, const struct trace_account *a, uint32_t tag)
{
	const struct trace_run *run = a->run;
	unsigned worker;
	uint64_t number;
	const struct trace_record *r;

	if (tag == TRACE_UNKNOWN) {
		fputs("null", to);
		return;
	}
	r = trace_record_of(run, tag, &worker, &number);
	fprintf(to, "{\"worker\":%u,\"pid\":%ld,\"role\":\"%s\","
	    "\"number\":%llu,\"tag\":%u,\"read\":%d,\"wrote\":%lld}",
	    worker + 1, (long)run->workers[worker].pid,
	    role_of(run->workers[worker].delta), (unsigned long long)number + 1,
	    tag, r->read, trace_value_of(run, a, tag));
}

void
trace_report_json(FILE *to, const struct trace_account *a)
{
	const struct trace_run *run = a->run;
	const struct trace_loss *loss;
	bool known = run->final_known;
	unsigned i;

	fprintf(to, "{\"updates\":%llu,\"landed\":%llu,\"capacity\":%u,"
	    "\"full\":%u,\"exact\":%s,\"problem\":",
	    (unsigned long long)a->updates, (unsigned long long)a->landed,
	    run->capacity, full(run), a->exact ? "true" : "false");
	if (a->exact)
		fputs("null", to);
	else
		json_string(to, a->problem);
	if (known)
		fprintf(to, ",\"final_tag\":%u", run->final_tag);
	else
		fputs(",\"final_tag\":null", to);
	if (known)
		fprintf(to, ",\"lost\":%llu,\"lost_increments\":%llu,"
		    "\"lost_decrements\":%llu,\"drift\":%lld,"
		    "\"overwritten_unread\":%llu,\"lost_though_read\":%llu,"
		    "\"branches\":%llu,\"path\":%llu",
		    (unsigned long long)a->lost,
		    (unsigned long long)a->lost_increments,
		    (unsigned long long)a->lost_decrements, drift_of(a),
		    (unsigned long long)a->unread,
		    (unsigned long long)a->read_lost,
		    (unsigned long long)a->unread, (unsigned long long)a->path);
	else
		fputs(",\"lost\":null,\"lost_increments\":null,"
		    "\"lost_decrements\":null,\"drift\":null,"
		    "\"overwritten_unread\":null,\"lost_though_read\":null,"
		    "\"branches\":null,\"path\":null", to);
	fprintf(to, ",\"overwrites_from\":\"%s\",\"first_losses\":[",
	    a->by_store ? "store" : "time");
	for (i = 0; i < a->nfirst; i++) {
		loss = &a->first[i];
		fprintf(to, "%s{\"lost\":", i ? "," : "");
		json_update(to, a, loss->lost);
		fputs(",\"by\":", to);
		json_update(to, a, loss->by);
		fprintf(to, ",\"readers\":%u,\"before\":%llu,\"first\":",
		    loss->readers, (unsigned long long)loss->before);
		json_update(to, a, loss->first);
		fputc('}', to);
	}
	fputs("],\"file\":", to);
	if (a->file != NULL)
		json_string(to, a->file);
	else
		fputs("null", to);
	fputc('}', to);
}
