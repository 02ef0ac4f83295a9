/*
 * What a bench ran on: the CPU, how many CPUs there are and how many the
 * bench may run on, the kernel, and the filesystem of the file backend's
 * counter, so that figures from two machines are never taken for figures
 * from one.
 */
#ifndef PROCCOUNT_MACHINE_H
#define PROCCOUNT_MACHINE_H

#include <sys/utsname.h>

#include <stdbool.h>

struct machine {
	char		 cpu_model[128];	/* "" when nothing says */
	long		 cpus_online;		/* -1 when unknown */
	long		 cpus_allowed;		/* sched_getaffinity's count */
	struct utsname	 host;			/* all "" when unknown */
	bool		 has_counter;		/* a file backend kind runs */
	bool		 fs_known;		/* statfs answered */
	unsigned long	 fs_magic;		/* statfs's f_type */
	char		 fs_type[32];		/* "" when not known by name */
};

/*
 * Looks at the machine, and at the filesystem that holds counter, the file
 * backend's counter file, unless it is NULL.  Never fails: what cannot be
 * read stays unknown.
 */
void	machine_read(struct machine *, const char *counter);

#endif
