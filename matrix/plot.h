/* The chart of proccount bench --plot: ns/update against worker count. */
#ifndef PROCCOUNT_PLOT_H
#define PROCCOUNT_PLOT_H

#include <stddef.h>
#include <stdio.h>

#include "matrix.h"

void	plot_svg(FILE *, const struct cell *, size_t ncells,
	    const unsigned *counts, size_t ncounts);

#endif
