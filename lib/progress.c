/* progress.c - one progress line on stderr, redrawn at most 10 times a
 * second, only when stderr is a terminal and -q was not given. */
#include <time.h>
#include <unistd.h>

#include "tiny.h"

int tiny_quiet;

double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

void progress_start(progress_t *p, const char *what, double total)
{
	p->what = what;
	p->total = total;
	p->start = p->last = now_seconds();
	p->on = !tiny_quiet && isatty(2);
}

static void draw(progress_t *p, double done)
{
	double t = now_seconds() - p->start;
	if (p->total > 0) {
		double f = done / p->total;
		if (f > 1)
			f = 1;
		int w = 30, k = (int)(f * w);
		fprintf(stderr, "\r%s: [", p->what);
		for (int i = 0; i < w; i++)
			fputc(i < k ? '#' : ' ', stderr);
		fprintf(stderr, "] %3.0f%% %.1fs", 100 * f, t);
		if (f > 0.01 && f < 1)
			fprintf(stderr, " (%.0fs left)", t / f - t);
		fputs("  ", stderr);
	} else {
		fprintf(stderr, "\r%s: %.0f %.1fs  ", p->what, done, t);
	}
	fflush(stderr);
}

void progress_update(progress_t *p, double done)
{
	if (!p->on)
		return;
	double t = now_seconds();
	if (t - p->last < 0.1)
		return;
	p->last = t;
	draw(p, done);
}

void progress_end(progress_t *p)
{
	if (!p->on)
		return;
	draw(p, p->total > 0 ? p->total : 0);
	fputc('\n', stderr);
	p->on = 0;
}
