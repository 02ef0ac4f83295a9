/*
 * The registry of backends, and what a lock kind's record means for a
 * given run: whether it excludes the workers as they are configured, and
 * what its holder's death does to it.  Both command lines, the report and
 * bench find backends and kinds here and nowhere else.
 */
#ifndef PROCCOUNT_BACKENDS_H
#define PROCCOUNT_BACKENDS_H

#include <stdbool.h>
#include <stddef.h>

#include "counter.h"

extern const struct backend file_backend;
extern const struct backend shm_backend;
extern const struct backend server_backend;
extern const struct backend pg_backend;

/* Every backend, NULL last; the default is backend_default. */
extern const struct backend *const backends[];
extern const struct backend *const backend_default;

const struct backend *backend_named(const char *);
const struct lock_kind *kind_named(const struct backend *, const char *);
/* The backend offering a kind named alone: the default one if it does,
 * else the first that does; NULL if none does. */
const struct backend *backend_offering(const char *kind);
/* "a, b, c or d": a backend's kinds (NULL: every distinct kind). */
void	kinds_list(const struct backend *, char *, size_t);

static inline bool
kind_locks(const struct lock_kind *kind)
{
	return kind->owner != OWNER_NONE;
}

/*
 * Why the kind, as the run uses it, does not exclude one worker from
 * another, or NULL when it does: a clause to follow "the lock belongs to
 * OWNER:".
 */
const char *kind_gap(const struct lock_kind *, const struct run *);

/*
 * What a worker's death while holding the lock does to it in this run, and
 * why, in a clause.
 */
enum holder_death kind_death(const struct lock_kind *, const struct run *,
	    const char **why);

#endif
