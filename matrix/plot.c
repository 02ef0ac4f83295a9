/*
 * A self-contained SVG chart: ns per update on a log scale against the
 * worker counts, one line per lock kind, with axes, decade grid lines,
 * labels and a legend.  Plain SVG 1.1: no scripts, fonts or styles from
 * elsewhere, so that any browser opens it.
 */
#include <math.h>
#include <string.h>

#include "plot.h"

#define WIDTH		800
#define HEIGHT		460
#define LEFT		80
#define RIGHT		190
#define TOP		50
#define BOTTOM		70
#define FLOOR_NS	0.1	/* a log scale has no zero */

static const char *const colors[] = {
	"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
	"#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
};

static double
x_of(size_t index, size_t ncounts)
{
	double width = WIDTH - LEFT - RIGHT;

	return LEFT + width * ((double)index + 0.5) / (double)ncounts;
}

static double
y_of(double ns, double low, double high)
{
	double height = HEIGHT - TOP - BOTTOM;

	if (ns < FLOOR_NS)
		ns = FLOOR_NS;
	return TOP + height * (high - log10(ns)) / (high - low);
}

static void
decade_label(int decade, char *label, size_t size)
{
	static const char *const units[] = { "ns", "us", "ms", "s" };
	int unit = decade < 0 ? 0 : decade / 3;

	if (unit > 3)
		unit = 3;
	snprintf(label, size, "%g %s", pow(10, decade - 3 * unit),
	    units[unit]);
}

static const char *
as_words(const struct cell *c)
{
	return c->threads ? "threads" : "processes";
}

static size_t
index_of(const unsigned *counts, size_t ncounts, unsigned workers)
{
	size_t i;

	for (i = 0; i < ncounts && counts[i] != workers; i++)
		;
	return i;
}

void
plot_svg(FILE *to, const struct cell *cells, size_t ncells,
    const unsigned *counts, size_t ncounts)
{
	double smallest = 0, largest = 0, low, high;
	size_t i, j, series = 0;
	char label[32];
	int decade;

	for (i = 0; i < ncells; i++) {
		double ns = cells[i].ns_per_update < FLOOR_NS ? FLOOR_NS :
		    cells[i].ns_per_update;

		if (i == 0 || ns < smallest)
			smallest = ns;
		if (ns > largest)
			largest = ns;
	}
	low = floor(log10(smallest > 0 ? smallest : FLOOR_NS));
	high = ceil(log10(largest > 0 ? largest : 1));
	if (high <= low)
		high = low + 1;

	fprintf(to, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
	    "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
	    "font-family=\"sans-serif\" font-size=\"12\">\n"
	    "<title>proccount bench: ns per update by worker count</title>\n"
	    "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
	    "<text x=\"%d\" y=\"28\" font-size=\"16\">ns per update by worker "
	    "count (log scale)</text>\n", WIDTH, HEIGHT, WIDTH, HEIGHT, LEFT);

	/* The y axis: a grid line and a label at each power of ten. */
	for (decade = (int)low; decade <= (int)high; decade++) {
		double y = y_of(pow(10, decade), low, high);

		decade_label(decade, label, sizeof(label));
		fprintf(to, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" "
		    "x2=\"%d\" y2=\"%.1f\" stroke=\"#dddddd\"/>\n"
		    "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
		    LEFT, y, WIDTH - RIGHT, y, LEFT - 8, y + 4, label);
	}
	/* The x axis: a tick and a label at each worker count. */
	for (i = 0; i < ncounts; i++)
		fprintf(to, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
		    "stroke=\"black\"/>\n<text x=\"%.1f\" y=\"%d\" "
		    "text-anchor=\"middle\">%u</text>\n", x_of(i, ncounts),
		    HEIGHT - BOTTOM, x_of(i, ncounts), HEIGHT - BOTTOM + 5,
		    x_of(i, ncounts), HEIGHT - BOTTOM + 20, counts[i]);
	fprintf(to, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" "
	    "y2=\"%d\" stroke=\"black\"/>\n<line class=\"axis\" x1=\"%d\" "
	    "y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n",
	    LEFT, TOP, LEFT, HEIGHT - BOTTOM, LEFT, HEIGHT - BOTTOM,
	    WIDTH - RIGHT, HEIGHT - BOTTOM);
	fprintf(to, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">workers "
	    "(half incrementers, half decrementers)</text>\n"
	    "<text transform=\"translate(18 %d) rotate(-90)\" "
	    "text-anchor=\"middle\">ns per update</text>\n",
	    (LEFT + WIDTH - RIGHT) / 2, HEIGHT - 25, (TOP + HEIGHT - BOTTOM) / 2);

	/* One line per lock kind: its cells are consecutive, by count. */
	for (i = 0; i < ncells; i = j, series++) {
		const char *color = colors[series % (sizeof(colors) /
		    sizeof(colors[0]))];

		for (j = i; j < ncells && cells[j].kind == cells[i].kind &&
		    cells[j].threads == cells[i].threads; j++)
			;
		fprintf(to, "<polyline class=\"series\" data-lock=\"%s %s\" "
		    "data-as=\"%s\" fill=\"none\" stroke=\"%s\" "
		    "stroke-width=\"2\"%s points=\"", cells[i].backend->name,
		    cells[i].kind->name, as_words(&cells[i]), color,
		    cells[i].threads ? " stroke-dasharray=\"7 4\"" : "");
		for (size_t k = i; k < j; k++)
			fprintf(to, "%s%.1f,%.1f", k == i ? "" : " ",
			    x_of(index_of(counts, ncounts, cells[k].workers),
			    ncounts), y_of(cells[k].ns_per_update, low, high));
		fprintf(to, "\"/>\n");
		for (size_t k = i; k < j; k++)
			fprintf(to, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" "
			    "fill=\"%s\"><title>%s %s, %u %s: %.1f "
			    "ns</title></circle>\n",
			    x_of(index_of(counts, ncounts, cells[k].workers),
			    ncounts), y_of(cells[k].ns_per_update, low, high),
			    color, cells[k].backend->name, cells[k].kind->name,
			    cells[k].workers, as_words(&cells[k]),
			    cells[k].ns_per_update);
		/* The legend's sample is the line itself, dashes and all. */
		fprintf(to, "<line x1=\"%d\" y1=\"%zu\" x2=\"%d\" y2=\"%zu\" "
		    "stroke=\"%s\" stroke-width=\"2\"%s/>\n<text class=\"legend\" "
		    "x=\"%d\" y=\"%zu\">%s %s%s</text>\n", WIDTH - RIGHT + 12,
		    TOP + 9 + series * 20, WIDTH - RIGHT + 36,
		    TOP + 9 + series * 20, color, cells[i].threads ?
		    " stroke-dasharray=\"7 4\"" : "", WIDTH - RIGHT + 42,
		    TOP + 13 + series * 20, cells[i].backend->name,
		    cells[i].kind->name, cells[i].threads ? " threads" : "");
	}
	fprintf(to, "</svg>\n");
}
