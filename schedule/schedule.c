/*
 * Schedules as the user writes them, as random:SEED makes them, and as the
 * report prints them and what the turnstile logged of them.
 *
 * A schedule lists steps separated by spaces or commas; each worker's steps
 * alternate, a read then its write, so that an update is exactly one r
 * and one w of the same worker, and every worker has steps.  A run repeats
 * the schedule until each worker has made its updates (turnstile.c).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "schedule.h"

/* The separators between steps. */
static bool
separator(char c)
{
	return c == ',' || isspace((unsigned char)c);
}

/* What each worker's steps so far make: where it stands, and since when. */
struct progress_of {
	bool	 reading;	/* it read, and its write is still to come */
	bool	 named;		/* it has a step */
	size_t	 read_at;	/* the step, counted from 1, of that read */
};

/*
 * Reads one step, token at text of len characters, into *step; false
 * when it is no step.  A worker's number, digits, then r or w.
 */
static bool
step_token(const char *text, size_t len, unsigned long long *worker,
    bool *write)
{
	size_t i;

	if (len < 2 || (text[len - 1] != 'r' && text[len - 1] != 'w'))
		return false;
	*worker = 0;
	for (i = 0; i + 1 < len; i++) {
		if (!isdigit((unsigned char)text[i]))
			return false;
		/* Beyond any worker already, it grows no more. */
		if (*worker <= UINT32_MAX)
			*worker = *worker * 10 + (unsigned)(text[i] - '0');
	}
	*write = text[len - 1] == 'w';
	return true;
}

/* A token as a message shows it: a long one cut, to keep the line one. */
static const char *
shown(char *buf, size_t size, const char *token, size_t len)
{
	snprintf(buf, size, "%.*s%s", len > 24 ? 24 : (int)len, token,
	    len > 24 ? "..." : "");
	return buf;
}

/* The worker's number as a step writes it, without leading zeros. */
static const char *
digits(char *buf, size_t size, const char *token, size_t len)
{
	while (len > 2 && *token == '0') {
		token++;
		len--;
	}
	return shown(buf, size, token, len - 1);
}

/* Checks each step as it comes, then that every worker's steps end. */
static int
parse_steps(struct schedule *s, const char *text, unsigned workers,
    char *why, size_t size)
{
	struct progress_of *of;
	unsigned long long worker;
	char token[32], number[32];
	const char *at = text;
	size_t len, n = 0, i;
	bool write;
	int result = -1;

	if ((of = calloc(workers, sizeof(*of))) == NULL ||
	    (s->steps = calloc(SCHEDULE_MAX_STEPS, sizeof(*s->steps))) ==
	    NULL) {
		snprintf(why, size, "out of memory");
		goto out;
	}
	for (;;) {
		while (separator(*at))
			at++;
		if (*at == '\0')
			break;
		for (len = 0; at[len] != '\0' && !separator(at[len]); len++)
			;
		if (n == SCHEDULE_MAX_STEPS) {
			snprintf(why, size, "more than %d steps",
			    SCHEDULE_MAX_STEPS);
			goto out;
		}
		if (!step_token(at, len, &worker, &write)) {
			snprintf(why, size, "step %zu, '%s', is not a step: "
			    "write a worker's number and r (read) or w "
			    "(write), as in 1r", n + 1,
			    shown(token, sizeof(token), at, len));
			goto out;
		}
		if (worker == 0 || worker > workers) {
			/* Its number as written: it may not fit any type. */
			snprintf(why, size, "step %zu, '%s': there is no "
			    "worker %s: %s%u%s", n + 1,
			    shown(token, sizeof(token), at, len),
			    digits(number, sizeof(number), at, len),
			    workers == 1 ? "the run has one, worker " :
			    "the run's workers are 1 to ", workers,
			    workers == 1 ? "" : ", incrementers first");
			goto out;
		}
		i = (size_t)worker - 1;
		if (write && !of[i].reading) {
			snprintf(why, size, "step %zu, '%s': worker %llu "
			    "writes before it reads", n + 1,
			    shown(token, sizeof(token), at, len), worker);
			goto out;
		}
		if (!write && of[i].reading) {
			snprintf(why, size, "step %zu, '%s': worker %llu reads "
			    "again before it writes", n + 1,
			    shown(token, sizeof(token), at, len), worker);
			goto out;
		}
		of[i].reading = !write;
		of[i].named = true;
		if (!write)
			of[i].read_at = n + 1;
		s->steps[n].worker = (uint32_t)i;
		s->steps[n].write = write;
		n++;
		at += len;
	}
	if (n == 0) {
		snprintf(why, size, "no step: list the steps, as in "
		    "'1r 2r 1w 2w'");
		goto out;
	}
	for (i = 0; i < workers; i++) {
		if (of[i].reading) {
			snprintf(why, size, "step %zu, '%zur': worker %zu "
			    "reads, and no write follows: each worker's "
			    "steps end with a write", of[i].read_at, i + 1,
			    i + 1);
			goto out;
		}
		if (!of[i].named) {
			snprintf(why, size, "worker %zu has no step: a "
			    "schedule gives every worker steps", i + 1);
			goto out;
		}
	}
	s->nsteps = n;
	result = 0;
out:
	free(of);
	return result;
}

/*
 * The generator of random:SEED, the same on every machine: a 64-bit
 * counter stepped by an odd constant (the golden ratio's fraction), its
 * bits mixed by two multiply-xorshift rounds.
 */
static uint64_t
next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * Every step of the run, each worker's 2 * iterations, in a random order:
 * the next step is a worker's with a chance in proportion to the steps it
 * has left, which makes every interleaving as likely as any other.
 */
static int
random_steps(struct schedule *s, uint64_t seed, unsigned workers,
    uint64_t iterations, char *why, size_t size)
{
	uint64_t *left, total = 2 * iterations * workers, pick, state = seed;
	size_t n;
	unsigned i;

	if (total > SCHEDULE_MAX_STEPS) {
		snprintf(why, size, "random:%llu lists every step of the run, "
		    "and %u %s x %llu %s make %llu steps, more than the %d a "
		    "schedule holds: give -n %llu or less",
		    (unsigned long long)seed, workers,
		    workers == 1 ? "worker" : "workers",
		    (unsigned long long)iterations,
		    iterations == 1 ? "update" : "updates",
		    (unsigned long long)total, SCHEDULE_MAX_STEPS,
		    (unsigned long long)(SCHEDULE_MAX_STEPS / 2 / workers));
		return -1;
	}
	left = calloc(workers, sizeof(*left));
	s->steps = calloc((size_t)total, sizeof(*s->steps));
	if (left == NULL || s->steps == NULL) {
		free(left);
		snprintf(why, size, "out of memory");
		return -1;
	}
	for (i = 0; i < workers; i++)
		left[i] = 2 * iterations;
	for (n = 0; n < total; n++) {
		pick = next_random(&state) % (total - n);
		for (i = 0; pick >= left[i]; i++)
			pick -= left[i];
		s->steps[n].worker = i;
		/* Each worker's steps alternate: its odd ones are writes. */
		s->steps[n].write = (2 * iterations - left[i]) % 2 == 1;
		left[i]--;
	}
	s->nsteps = (size_t)total;
	s->random = true;
	s->seed = seed;
	free(left);
	return 0;
}

int
schedule_text(struct schedule *s)
{
	size_t i, len = 0, room = s->nsteps * 12 + 1;

	if ((s->text = malloc(room)) == NULL)
		return -1;
	s->text[0] = '\0';
	for (i = 0; i < s->nsteps; i++)
		len += (size_t)snprintf(s->text + len, room - len, "%s%lu%c",
		    i == 0 ? "" : " ", (unsigned long)s->steps[i].worker + 1,
		    s->steps[i].write ? 'w' : 'r');
	return 0;
}

int
schedule_from_option(struct schedule *s, const char *arg, unsigned workers,
    uint64_t iterations, char *why, size_t size)
{
	const char *seed = arg + 7;
	unsigned long long value = 0;
	int result;

	memset(s, 0, sizeof(*s));
	if (strncmp(arg, "random:", 7) == 0) {
		/* Decimal digits alone, and no more than 64 bits hold. */
		if (*seed == '\0' || strspn(seed, "0123456789") !=
		    strlen(seed) || strlen(seed) > 20 || (strlen(seed) == 20 &&
		    strcmp(seed, "18446744073709551615") > 0)) {
			snprintf(why, size, "'%.40s': the seed must be a "
			    "number from 0 to 18446744073709551615", arg);
			return -1;
		}
		value = strtoull(seed, NULL, 10);
		result = random_steps(s, value, workers, iterations, why,
		    size);
	} else
		result = parse_steps(s, arg, workers, why, size);
	if (result == 0 && schedule_text(s) == -1) {
		snprintf(why, size, "out of memory");
		result = -1;
	}
	if (result == -1)
		schedule_free(s);
	return result;
}

void
schedule_free(struct schedule *s)
{
	free(s->steps);
	free(s->text);
	s->steps = NULL;
	s->text = NULL;
	s->nsteps = 0;
}

static uint64_t
gcd(uint64_t a, uint64_t b)
{
	uint64_t t;

	while (b != 0) {
		t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/*
 * C(n, k), built up as C(n - k + j, j) for j = 1 to k, each exact: the
 * product of the last one by n - k + j is divisible by j, and divided by
 * the common factors first, so that only a result beyond 64 bits fails.
 * C(n, k) is C(n, n - k): the shorter way round, so that a large k with
 * a small result takes few steps.
 */
static bool
binomial(uint64_t n, uint64_t k, uint64_t *result)
{
	uint64_t c = 1, j, g, factor;

	if (k > n - k)
		k = n - k;
	for (j = 1; j <= k; j++) {
		g = gcd(c, j);
		factor = (n - k + j) / (j / g);
		if (__builtin_mul_overflow(c / g, factor, &c))
			return false;
	}
	*result = c;
	return true;
}

bool
interleavings(const uint64_t *counts, size_t n, uint64_t *total)
{
	uint64_t sum = 0, ways = 1, c;
	size_t i;

	for (i = 0; i < n; i++) {
		if (__builtin_add_overflow(sum, counts[i], &sum) ||
		    !binomial(sum, counts[i], &c) ||
		    __builtin_mul_overflow(ways, c, &ways))
			return false;
	}
	*total = ways;
	return true;
}

size_t
schedule_log_ran(const struct schedule_log *log, char *text, size_t size)
{
	size_t kept = log->steps < log->ran_room ? (size_t)log->steps :
	    log->ran_room, i, len = 0;

	if (size == 0)
		return 0;
	text[0] = '\0';
	for (i = 0; i < kept && len < size; i++)
		len += (size_t)snprintf(text + len, size - len, "%s%lu%c",
		    i == 0 ? "" : " ", (unsigned long)(log->ran[i] >> 1) + 1,
		    log->ran[i] & 1 ? 'w' : 'r');
	return kept;
}

/* The waits shown one a line; the rest are counted. */
#define WAITS_SHOWN	8
/* The steps the text shows of the order that ran. */
#define RAN_SHOWN	64

static void
print_holder(FILE *to, uint32_t holder)
{
	if (holder == SCHEDULE_OUTSIDER)
		fprintf(to, "another program");
	else
		fprintf(to, "worker %lu", (unsigned long)holder + 1);
}

void
schedule_print_text(FILE *to, const struct schedule *s,
    const struct schedule_log *log, bool locking)
{
	char ran[RAN_SHOWN * 12];
	size_t i, kept;

	if (s->random)
		fprintf(to, "schedule random:%llu: %s",
		    (unsigned long long)s->seed, s->text);
	else
		fprintf(to, "schedule: %s", s->text);
	if (log->steps > s->nsteps)
		fprintf(to, " (repeated: %llu steps in all)",
		    (unsigned long long)log->steps);
	fputc('\n', to);
	for (i = 0; i < log->nwaits && i < WAITS_SHOWN &&
	    i < SCHEDULE_WAITS_KEPT; i++) {
		fprintf(to, "worker %lu waits for the lock held by ",
		    (unsigned long)log->waits[i].worker + 1);
		print_holder(to, log->waits[i].holder);
		fputc('\n', to);
	}
	if (log->nwaits > i)
		fprintf(to, "... %llu waits in all\n",
		    (unsigned long long)log->nwaits);
	if (log->nwaits == 0 || !locking)
		return;
	kept = schedule_log_ran(log, ran, sizeof(ran));
	fprintf(to, "the lock imposed this order: %s%s\n", ran,
	    kept < log->steps || strlen(ran) + 1 == sizeof(ran) ? " ..." :
	    "");
}

void
schedule_print_json(FILE *to, const struct schedule *s,
    const struct schedule_log *log)
{
	size_t kept, i;

	if (s == NULL || log == NULL) {
		fputs(",\"schedule\":null", to);
		return;
	}
	kept = log->steps < log->ran_room ? (size_t)log->steps : log->ran_room;
	fprintf(to, ",\"schedule\":{\"asked\":\"%s\",\"seed\":", s->text);
	if (s->random)
		fprintf(to, "%llu", (unsigned long long)s->seed);
	else
		fputs("null", to);
	fprintf(to, ",\"steps\":%llu,\"ran\":\"", (unsigned long long)
	    log->steps);
	for (i = 0; i < kept; i++)
		fprintf(to, "%s%lu%c", i == 0 ? "" : " ",
		    (unsigned long)(log->ran[i] >> 1) + 1,
		    log->ran[i] & 1 ? 'w' : 'r');
	fprintf(to, "\",\"ran_whole\":%s,\"waits_total\":%llu,\"waits\":[",
	    kept == log->steps ? "true" : "false",
	    (unsigned long long)log->nwaits);
	for (i = 0; i < log->nwaits && i < SCHEDULE_WAITS_KEPT; i++) {
		fprintf(to, "%s{\"worker\":%lu,\"holder\":", i ? "," : "",
		    (unsigned long)log->waits[i].worker + 1);
		if (log->waits[i].holder == SCHEDULE_OUTSIDER)
			fputs("null", to);
		else
			fprintf(to, "%lu",
			    (unsigned long)log->waits[i].holder + 1);
		fprintf(to, ",\"after\":%llu}",
		    (unsigned long long)log->waits[i].after);
	}
	fputs("]}", to);
}
