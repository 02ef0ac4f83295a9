/*
 * A traced run as people and programs read it: the timeline, the records
 * in a file, and the trace's part of the report.
 */
#ifndef PROCCOUNT_TRACE_SHOW_H
#define PROCCOUNT_TRACE_SHOW_H

#include <stdbool.h>
#include <stdio.h>

#include "trace.h"

/* Every read and write in the order of their times, a column a worker. */
int	trace_timeline(FILE *, const struct trace_account *);
/*
 * The records in path, whole or not at all: JSON Lines if its name ends
 * in .jsonl, else CSV.  Returns 0, or -1 with errno set.
 */
int	trace_save(const char *path, const struct trace_account *);
/* STDOUT_FILENO or STDERR_FILENO when open on path's regular file, or -1. */
int	trace_file_output(const char *path);
bool	trace_file_is_jsonl(const char *path);
void	trace_report_text(FILE *, const struct trace_account *);
/* The value of the report's "trace" key. */
void	trace_report_json(FILE *, const struct trace_account *);

#endif
