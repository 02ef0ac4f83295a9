/*
 * What a run found, and the two ways of printing it: text for people, one
 * JSON object for programs.
 */
#ifndef PROCCOUNT_REPORT_H
#define PROCCOUNT_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "counter.h"
#include "judge.h"
#include "procs/procs.h"

void	report_text(FILE *, const struct run *, const struct counter *,
	    const struct outcome *, const struct verdict *, bool verbose);
void	report_json(FILE *, const struct run *, const struct counter *,
	    const struct outcome *, const struct verdict *);
/* A string as JSON, bytes that are no UTF-8 as Python's surrogateescape. */
void	json_string(FILE *, const char *);
void	merge_latency(const struct outcome *, struct histogram *wait,
	    struct histogram *hold);

#endif
