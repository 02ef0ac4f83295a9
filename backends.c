/*
 * The registry of backends, and the rules that turn a lock kind's record
 * into facts about one run.  A kind's owner decides both: a lock owned by
 * the process cannot tell its threads apart, one owned by the open file
 * description cannot tell apart the workers that share the description,
 * and whoever owns a lock decides what its holder's death does.
 */
#include <stdio.h>
#include <string.h>

#include "backends.h"

const struct backend *const backends[] = {
	&file_backend, &shm_backend, &server_backend, &pg_backend, NULL,
};

const struct backend *const backend_default = &shm_backend;

const struct backend *
backend_named(const char *name)
{
	size_t i;

	for (i = 0; backends[i] != NULL; i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}

const struct lock_kind *
kind_named(const struct backend *backend, const char *name)
{
	const struct lock_kind *k;

	for (k = backend->kinds; k->name != NULL; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

const struct backend *
backend_offering(const char *kind)
{
	size_t i;

	if (kind_named(backend_default, kind) != NULL)
		return backend_default;
	for (i = 0; backends[i] != NULL; i++)
		if (kind_named(backends[i], kind) != NULL)
			return backends[i];
	return NULL;
}

/* Whether name was already listed by a backend before this one. */
static bool
listed_before(size_t backend, const char *name)
{
	size_t i;

	for (i = 0; i < backend; i++)
		if (kind_named(backends[i], name) != NULL)
			return true;
	return false;
}

void
kinds_list(const struct backend *only, char *list, size_t size)
{
	const char *names[64];
	const struct lock_kind *k;
	size_t i, n = 0, len = 0;

	for (i = 0; backends[i] != NULL; i++) {
		if (only != NULL && backends[i] != only)
			continue;
		for (k = backends[i]->kinds; k->name != NULL && n < 64; k++)
			if (only != NULL || !listed_before(i, k->name))
				names[n++] = k->name;
	}
	list[0] = '\0';
	for (i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(list + len, size - len, "%s%s",
		    i == 0 ? "" : i + 1 < n ? ", " : " or ", names[i]);
}

const char *
kind_gap(const struct lock_kind *kind, const struct run *run)
{
	if (kind->owner == OWNER_PROCESS && run->threads)
		return "every thread of the process holds it at once, so the "
		    "threads exclude nothing";
	if (kind->owner == OWNER_OPEN_FILE && run->share_fd)
		return "every worker uses the same one (--share-fd), so each "
		    "already holds the lock the others took, and none is "
		    "excluded";
	return NULL;
}

enum holder_death
kind_death(const struct lock_kind *kind, const struct run *run,
    const char **why)
{
	if (kind_gap(kind, run) != NULL) {
		*why = "the lock excluded nobody, so its holder's death holds "
		    "nobody up";
		return DEATH_NOTHING;
	}
	if (kind->owner == OWNER_OPEN_FILE && run->threads) {
		*why = "the dead thread's descriptor is still open in the "
		    "living process, so its open file description keeps the "
		    "lock, and nothing releases it";
		return DEATH_ABANDONED;
	}
	if (kind->owner == OWNER_CONNECTION && run->threads &&
	    !run->backend->threads_close) {
		*why = "the dead thread's connection is still open in the "
		    "living process, so the server holds the lock for it";
		return DEATH_ABANDONED;
	}
	*why = kind->death_words;
	return kind->death;
}
