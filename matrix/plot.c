/*
 * A self-contained SVG chart: time per update on a log scale against the
 * worker counts, one line per lock kind and kind of worker, each point the
 * median run with a bar from the fastest run to the slowest, with axes,
 * decade grid lines, labels, a legend, and a caption saying what it was
 * measured on.  A kind that lost updates is drawn so that nobody takes it
 * for the fastest correct choice: a grey line, hollow points where it lost,
 * and "lost updates" under its name in the legend.  Plain SVG 1.1: no
 * scripts, fonts or styles from elsewhere, so that any browser opens it.
 */
#include <math.h>
#include <string.h>

#include "../units.h"
#include "plot.h"

#define WIDTH		800
#define LEFT		80
#define RIGHT		190
#define TOP		50
#define PLOT_HEIGHT	340	/* from the top to the x axis */
#define UNDER_AXIS	50	/* the x axis's labels and title */
#define CAPTION		50	/* the caption's two lines */
#define ENTRY		20	/* a legend entry */
#define LOST_LINE	14	/* its "lost updates" */
#define FLOOR_NS	0.1	/* a log scale has no zero */
#define LOST_COLOR	"#999999"
#define LOST_WORDS	"#b00000"

/* No grey among them: grey is for the kinds that lost updates. */
static const char *const colors[] = {
	"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
	"#8c564b", "#e377c2", "#637939", "#bcbd22", "#17becf",
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
	if (ns < FLOOR_NS)
		ns = FLOOR_NS;
	return TOP + PLOT_HEIGHT * (high - log10(ns)) / (high - low);
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

/* "1 process", "2 threads": a count of workers in words. */
static const char *
as_words(const struct cell *c)
{
	if (c->threads)
		return c->workers == 1 ? "thread" : "threads";
	return c->workers == 1 ? "process" : "processes";
}

static size_t
index_of(const unsigned *counts, size_t ncounts, unsigned workers)
{
	size_t i;

	for (i = 0; i < ncounts && counts[i] != workers; i++)
		;
	return i;
}

/* Text for SVG: the CPU's name is whatever the kernel said. */
static void
xml_text(FILE *to, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '&')
			fputs("&amp;", to);
		else if (*s == '<')
			fputs("&lt;", to);
		else if (*s == '>')
			fputs("&gt;", to);
		else if (*s == '"')
			fputs("&quot;", to);
		else
			fputc(*s, to);
	}
}

static bool
lost_updates(const struct cell *c)
{
	return c->exact_runs < c->runs;
}

/* The end of a series: its cells are consecutive, by count. */
static size_t
series_end(const struct cell *cells, size_t ncells, size_t i)
{
	size_t j;

	for (j = i; j < ncells && cells[j].kind == cells[i].kind &&
	    cells[j].threads == cells[i].threads; j++)
		;
	return j;
}

static bool
series_lost(const struct cell *cells, size_t i, size_t j)
{
	for (; i < j; i++)
		if (lost_updates(&cells[i]))
			return true;
	return false;
}

/* The words under the x axis: the worker count, or the counts. */
static void
x_title(const unsigned *counts, size_t ncounts, char *words, size_t size)
{
	unsigned n = counts[0], inc = (n + 1) / 2, dec = n / 2;

	if (ncounts > 1)
		snprintf(words, size, "workers (half incrementers, half "
		    "decrementers)");
	else if (n == 1)
		snprintf(words, size, "1 worker, an incrementer");
	else
		snprintf(words, size, "%u workers: %u incrementer%s, %u "
		    "decrementer%s", n, inc, inc == 1 ? "" : "s", dec,
		    dec == 1 ? "" : "s");
}

/* One point's bar, from the fastest run to the slowest, and the point. */
static void
plot_cell(FILE *to, const struct cell *c, double x, double low,
    double high, const char *color)
{
	char median[UNITS_LEN], fastest[UNITS_LEN], slowest[UNITS_LEN];
	double y = y_of(c->ns_per_update, low, high);
	double y_min = y_of(c->ns_min, low, high);
	double y_max = y_of(c->ns_max, low, high);
	unsigned lost_runs = c->runs - c->exact_runs;

	fprintf(to, "<path class=\"spread\" data-lock=\"%s %s\" "
	    "data-as=\"%s\" data-workers=\"%u\" d=\"M%.1f %.1fV%.1f"
	    "M%.1f %.1fh8M%.1f %.1fh8\" stroke=\"%s\" fill=\"none\"/>\n",
	    c->backend->name, c->kind->name, c->threads ? "threads" :
	    "processes", c->workers, x, y_min, y_max, x - 4, y_min, x - 4,
	    y_max, lost_updates(c) ? LOST_COLOR : color);
	fprintf(to, "<circle class=\"%s\" data-lock=\"%s %s\" "
	    "data-as=\"%s\" data-workers=\"%u\" cx=\"%.1f\" cy=\"%.1f\" ",
	    lost_updates(c) ? "point lost" : "point", c->backend->name,
	    c->kind->name, c->threads ? "threads" : "processes", c->workers,
	    x, y);
	if (lost_updates(c))
		fprintf(to, "r=\"4\" fill=\"white\" stroke=\"%s\" "
		    "stroke-width=\"1.5\">", color);
	else
		fprintf(to, "r=\"3\" fill=\"%s\">", color);
	fprintf(to, "<title>%s %s, %u %s: %s", c->backend->name,
	    c->kind->name, c->workers, as_words(c),
	    units_time(median, c->ns_per_update));
	if (c->runs > 1)
		fprintf(to, ", the median of %u runs, from %s to %s", c->runs,
		    units_time(fastest, c->ns_min),
		    units_time(slowest, c->ns_max));
	if (lost_updates(c))
		fprintf(to, "; lost updates in %u of %u run%s, at most %lld",
		    lost_runs, c->runs, c->runs == 1 ? "" : "s",
		    c->most_lost);
	fprintf(to, "</title></circle>\n");
}

void
plot_svg(FILE *to, const struct cell *cells, size_t ncells,
    const unsigned *counts, size_t ncounts, const char *on, const char *how)
{
	double smallest = 0, largest = 0, low, high;
	size_t i, j, k, series = 0, legend = 0, body, height;
	char label[64];
	int decade;

	/* The scale spans every run, the fastest and the slowest too. */
	for (i = 0; i < ncells; i++) {
		double fast = cells[i].ns_min < FLOOR_NS ? FLOOR_NS :
		    cells[i].ns_min;

		if (i == 0 || fast < smallest)
			smallest = fast;
		if (cells[i].ns_max > largest)
			largest = cells[i].ns_max;
	}
	low = floor(log10(smallest > 0 ? smallest : FLOOR_NS));
	high = ceil(log10(largest > 0 ? largest : 1));
	if (high <= low)
		high = low + 1;
	/* The legend may run below the axis: the caption goes below both. */
	for (i = 0; i < ncells; i = j) {
		j = series_end(cells, ncells, i);
		legend += ENTRY + (series_lost(cells, i, j) ? LOST_LINE : 0);
	}
	body = TOP + PLOT_HEIGHT + UNDER_AXIS;
	if (TOP + legend > body)
		body = TOP + legend;
	height = body + CAPTION;

	if (ncounts == 1)
		snprintf(label, sizeof(label), "with %u worker%s", counts[0],
		    counts[0] == 1 ? "" : "s");
	else
		snprintf(label, sizeof(label), "by worker count");
	fprintf(to, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
	    "width=\"%d\" height=\"%zu\" viewBox=\"0 0 %d %zu\" "
	    "font-family=\"sans-serif\" font-size=\"12\">\n"
	    "<title>proccount bench: time per update %s</title>\n"
	    "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
	    "<text class=\"title\" x=\"%d\" y=\"28\" font-size=\"16\">Time "
	    "per update %s (log scale)</text>\n", WIDTH, height, WIDTH,
	    height, label, LEFT, label);

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
		fprintf(to, "<line class=\"tick\" x1=\"%.1f\" y1=\"%d\" "
		    "x2=\"%.1f\" y2=\"%d\" stroke=\"black\"/>\n<text "
		    "class=\"count\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">"
		    "%u</text>\n", x_of(i, ncounts), TOP + PLOT_HEIGHT,
		    x_of(i, ncounts), TOP + PLOT_HEIGHT + 5, x_of(i, ncounts),
		    TOP + PLOT_HEIGHT + 20, counts[i]);
	fprintf(to, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" "
	    "y2=\"%d\" stroke=\"black\"/>\n<line class=\"axis\" x1=\"%d\" "
	    "y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n",
	    LEFT, TOP, LEFT, TOP + PLOT_HEIGHT, LEFT, TOP + PLOT_HEIGHT,
	    WIDTH - RIGHT, TOP + PLOT_HEIGHT);
	x_title(counts, ncounts, label, sizeof(label));
	fprintf(to, "<text class=\"x-title\" x=\"%d\" y=\"%d\" "
	    "text-anchor=\"middle\">%s</text>\n"
	    "<text transform=\"translate(18 %d) rotate(-90)\" "
	    "text-anchor=\"middle\">time per update</text>\n",
	    (LEFT + WIDTH - RIGHT) / 2, TOP + PLOT_HEIGHT + 45, label,
	    TOP + PLOT_HEIGHT / 2);

	/*
	 * One series per lock kind and kind of worker: a line through its
	 * points where there are two or more, grey if it lost updates.
	 */
	for (i = 0, legend = 0; i < ncells; i = j, series++) {
		const char *color = colors[series % (sizeof(colors) /
		    sizeof(colors[0]))];
		const char *dashes = cells[i].threads ?
		    " stroke-dasharray=\"7 4\"" : "";
		bool lost;
		size_t y;

		j = series_end(cells, ncells, i);
		lost = series_lost(cells, i, j);
		if (j - i > 1) {
			fprintf(to, "<polyline class=\"series\" "
			    "data-lock=\"%s %s\" data-as=\"%s\"%s fill=\"none\" "
			    "stroke=\"%s\" stroke-width=\"%s\"%s points=\"",
			    cells[i].backend->name, cells[i].kind->name,
			    cells[i].threads ? "threads" : "processes",
			    lost ? " data-lost=\"true\"" : "",
			    lost ? LOST_COLOR : color, lost ? "1.5" : "2",
			    dashes);
			for (k = i; k < j; k++)
				fprintf(to, "%s%.1f,%.1f", k == i ? "" : " ",
				    x_of(index_of(counts, ncounts,
				    cells[k].workers), ncounts),
				    y_of(cells[k].ns_per_update, low, high));
			fprintf(to, "\"/>\n");
		}
		for (k = i; k < j; k++)
			plot_cell(to, &cells[k], x_of(index_of(counts, ncounts,
			    cells[k].workers), ncounts), low, high, color);
		/* The legend's sample is drawn as the series is. */
		y = TOP + legend + 9;
		if (j - i > 1)
			fprintf(to, "<line x1=\"%d\" y1=\"%zu\" x2=\"%d\" "
			    "y2=\"%zu\" stroke=\"%s\" stroke-width=\"2\"%s/>\n",
			    WIDTH - RIGHT + 12, y, WIDTH - RIGHT + 36, y,
			    lost ? LOST_COLOR : color, dashes);
		if (lost)
			fprintf(to, "<circle cx=\"%d\" cy=\"%zu\" r=\"4\" "
			    "fill=\"white\" stroke=\"%s\" "
			    "stroke-width=\"1.5\"/>\n", WIDTH - RIGHT + 24, y,
			    color);
		else
			fprintf(to, "<circle cx=\"%d\" cy=\"%zu\" r=\"3\" "
			    "fill=\"%s\"/>\n", WIDTH - RIGHT + 24, y, color);
		fprintf(to, "<text class=\"legend\" x=\"%d\" y=\"%zu\">%s %s%s"
		    "</text>\n", WIDTH - RIGHT + 42, y + 4,
		    cells[i].backend->name, cells[i].kind->name,
		    cells[i].threads ? " threads" : "");
		legend += ENTRY;
		if (lost) {
			fprintf(to, "<text class=\"lost\" data-lock=\"%s %s\" "
			    "data-as=\"%s\" x=\"%d\" y=\"%zu\" font-size=\"11\" "
			    "fill=\"%s\">lost updates</text>\n",
			    cells[i].backend->name, cells[i].kind->name,
			    cells[i].threads ? "threads" : "processes",
			    WIDTH - RIGHT + 42, y + 4 + LOST_LINE, LOST_WORDS);
			legend += LOST_LINE;
		}
	}
	fprintf(to, "<text class=\"caption\" x=\"%d\" y=\"%zu\" "
	    "font-size=\"11\" fill=\"#444444\">", 12, body + 20);
	xml_text(to, on);
	fprintf(to, "</text>\n<text class=\"caption\" x=\"%d\" y=\"%zu\" "
	    "font-size=\"11\" fill=\"#444444\">", 12, body + 36);
	xml_text(to, how);
	fprintf(to, "</text>\n</svg>\n");
}
