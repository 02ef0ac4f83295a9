/*
 * The chart of proccount bench --plot: time per update against worker
 * count, with the spread of the runs, the kinds that lost updates marked,
 * and a caption of what it was measured on and how.
 */
#ifndef PROCCOUNT_PLOT_H
#define PROCCOUNT_PLOT_H

#include <stddef.h>
#include <stdio.h>

#include "matrix.h"

/* on and how: the caption's two lines, plain text. */
void	plot_svg(FILE *, const struct cell *, size_t ncells,
	    const unsigned *counts, size_t ncounts, const char *on,
	    const char *how);

#endif
