/*
 * tiny-render - draw a stream as a picture for a person to look at: a
 * grid of images, a grid of filters, a heat map of a matrix, or a line
 * plot.  The picture (PNG; SVG with --svg, PDF with --pdf) goes to stdout,
 * written only once every check on the input has passed.
 *
 * usage: tiny-render images|filters|heatmap|plot [OPTIONS] [--svg|--pdf] [FILE]
 *
 *   tiny-render images [--field F] [--cols C] [--count N] [--scale K]
 *                      [--range auto|global|none] [--title T] [FILE]
 *   tiny-render filters [--field W] [--shape C,H,W] [--rows|--columns] [--first K]
 *                      [--count N] [--pick I,J,...] [--dewhiten ZCA]
 *                      [--through LOWER --strongest K] [--cols C] [--scale K] [--title T] [FILE]
 *   tiny-render heatmap --field F [--block R0:R1,C0:C1] [--title T] [FILE]
 *   tiny-render plot --y F[,F...] [--x F] [--log] [--title T] [--xlabel L]
 *                      [--ylabel L] [FILE]
 *
 * images: field F (default x) of the first N records (default all, at most
 *   1000) is a colour image [3,H,W] (channels, rows, columns) or a grey one
 *   [H,W] or [1,H,W]; patches [3,8,8] work the same.  The images sit in a
 *   grid of C columns (default 10), read left to right, top to bottom, each
 *   pixel a KxK square (default K 2), with K dark pixels (40,40,40) between
 *   cells.  A value v becomes the byte clamp(round(a v + b)):
 *     none    a = 1, b = 0: bytes as they are (the default for integers)
 *     auto    each image's [-m, m] to [0, 255], m its largest |v|, so 0 is
 *             grey 128 (the default for floats: whitened images)
 *     global  the same with one m for the whole grid
 * filters: field W of a model (a stream of one record) is a matrix (V,H),
 *   V visible units by H hidden units, whose columns (--columns, the
 *   default: one per hidden unit) or rows (--rows) are the filters (--field,
 *   default W).  --shape C,H,W says how a filter's values lie: C channels
 *   (1 or 3; left out for grey) of H rows and W columns, C x H x W = the
 *   filter's length; without it, the model's attribute shape (the shape of
 *   the data it learned on, which tiny-rbm-train and tiny-kmeans record).
 *   Filters K..K+N-1 (default all from --first 0, at most 1000) are drawn as
 *   in images with auto scaling: each filter's [-m, m] to [0, 255], the
 *   three channels as red, green and blue with the same scale, so grey is a
 *   zero weight, green a strong positive weight on the green channel,
 *   purple (red and blue high, green low) a negative one (report section
 *   1.4.3.3).  A single filter, a vector [V], also works.  --dewhiten ZCA
 *   shows W^-1 f for each filter f (filters of whitened data in pixels).
 *   --through LOWER --strongest K draws a second-layer RBM as the report's
 *   Figure 2.15: one row per filter f of W (a hidden unit of the upper RBM,
 *   whose visibles are LOWER's hidden units), holding the K filters of
 *   LOWER's W to which f has its largest positive weights (largest first)
 *   and then the K with its most negative weights (most negative first);
 *   --shape and --dewhiten then describe LOWER's filters.
 * heatmap: field F [R,C] of a stream of one record (a covariance, say), or
 *   its block rows R0..R1-1 and columns C0..C1-1, as grey cells: black the
 *   smallest value shown, white the largest (report Figure 1.1; Figure 1.2
 *   is --block 0:1024,0:1024).  A matrix with more than 1024 rows or
 *   columns is reduced by averaging f x f blocks of cells, f = ceil(longer
 *   side / 1024), so the picture is at most 1024 cells a side; a small one
 *   is enlarged to about 512 pixels a side so every cell shows (and a thin
 *   one stretched across to 64 pixels).  Row indices run down the left,
 *   column indices along the bottom, a colour bar with the value scale
 *   stands on the right, and the title (default: the field and its block)
 *   on top.
 * plot: lines of fields F against --x or an index.  If the stream holds one
 *   record, each F is a vector [N] drawn against its index 0..N-1 (an
 *   eigenspectrum, report Figure 2.2); otherwise each F is one number per
 *   record (a training log, Figure 2.10) drawn against the record index.
 *   Several F give several lines and a legend, inside the plot where no
 *   line comes near it (nearest the top right), else beside the plot on the
 *   right.  A NaN in an F is a missing
 *   point (a training log's validation loss where there is none): the
 *   line breaks there.  Ticks are round numbers (1,
 *   2 or 5 times a power of ten); --log puts y on a log scale with ticks at
 *   powers of ten, and needs every value above 0.
 *
 * Text and plot lines are drawn by cairo (lib/draw.c): antialiased, in
 * DejaVu Sans Mono (ASCII 32..126), and as vectors in SVG and PDF, over the
 * cells, grid lines and axes, which stay pixels (one pixel a point, never
 * smoothed).  Every mode takes --svg or --pdf.
 * Errors (one line, nothing on stdout): exit 2 for bad usage, 1 for bad
 * data: a missing field, a field of the wrong rank for the mode, a NaN or
 * infinite value (named by field, record and index; plot takes a NaN y as
 * a missing point), an empty stream, a
 * --shape or --block that does not fit the data.  Spec: formats/stream.md.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "draw.h"
#include "tiny.h"

static const char *usage_line = "tiny-render images|filters|heatmap|plot [OPTIONS] [--svg|--pdf] [FILE]";

enum { MODE_IMAGES, MODE_FILTERS, MODE_HEATMAP, MODE_PLOT };

/* Each mode: its name, the options it takes (getopt values), its synopsis. */
static const struct {
	const char *name, *opts, *synopsis;
} modes[] = {
	{"images", "fcnsrthGD",
	 "tiny-render images [--field F] [--cols C] [--count N] [--scale K] [--range auto|global|none] [--title T] [FILE]"},
	{"filters", "fSRCFPdTkncsthGD",
	 "tiny-render filters [--field W] [--shape C,H,W] [--rows|--columns] [--first K] [--count N] [--pick I,J,...] "
	 "[--dewhiten ZCA] [--through LOWER --strongest K] [--cols C] [--scale K] [--title T] [FILE]"},
	{"heatmap", "fbthGD", "tiny-render heatmap --field F [--block R0:R1,C0:C1] [--title T] [FILE]"},
	{"plot", "yxltXYhGD",
	 "tiny-render plot --y F[,F...] [--x F] [--log] [--title T] [--xlabel L] [--ylabel L] [FILE]"},
};
#define NMODES ((int)(sizeof modes / sizeof *modes))

enum { RANGE_AUTO, RANGE_GLOBAL, RANGE_NONE };

#define MAX_CELLS   1000          /* images or filters in one grid */
#define MAX_LINES   10            /* --y fields */
#define MAX_PICK    64            /* --pick indices */
#define MAX_VALUES  ((int64_t)1 << 28)  /* values held in memory (2 GiB of f64) */
#define HEAT_MAX    1024          /* heat-map cells a side, after averaging */
#define HEAT_TARGET 512           /* pixels a side a small heat map is enlarged to */
#define HEAT_MIN    64            /* pixels across a heat map at least */
#define TEXT        2             /* font scale of labels; titles are 3 */

typedef struct {
	int mode;
	const char *input;                 /* NULL: stdin */
	const char *field;                 /* images, filters, heatmap */
	int64_t cols, count, scale, first; /* images, filters */
	int npick;                         /* filters: --pick, or 0 */
	const char *dewhiten;              /* filters: a tiny-zca model, or NULL */
	const char *through;               /* filters: the lower RBM of --strongest, or NULL */
	int64_t strongest;                 /* filters: K of --strongest, or 0 */
	int64_t pick[MAX_PICK];
	int range;                         /* RANGE_*, or -1: by dtype */
	const char *shape_arg;             /* filters: --shape as given */
	int shape_rank;                    /* 2 (H,W) or 3 (C,H,W) */
	int64_t shape[3];                  /* C,H,W or H,W, as given */
	int by_rows;                       /* filters are rows, not columns */
	const char *block_arg;             /* heatmap: --block as given, or NULL */
	int64_t block[4];                  /* R0, R1, C0, C1 */
	const char *title, *xlabel, *ylabel;
	int ny;                            /* plot: --y fields */
	char *ynames[MAX_LINES];
	const char *xname;                 /* plot: --x field, or NULL */
	int log;
	draw_format_t format;              /* --svg, --pdf; default PNG */
} opts_t;

/* --- colours ------------------------------------------------------------- */

static const rgb_t WHITE = {255, 255, 255}, BLACK = {0, 0, 0}, SEPARATOR = {40, 40, 40},
		   GRID = {225, 225, 225}, FRAME = {90, 90, 90};

/* Line colours of a plot, in --y order. */
static const rgb_t palette[MAX_LINES] = {
	{31, 119, 180}, {255, 127, 14}, {44, 160, 44}, {214, 39, 40},  {148, 103, 189},
	{140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207},
};

static unsigned char to_byte(double v)
{
	double r = floor(v + 0.5);
	return r < 0 ? 0 : r > 255 ? 255 : (unsigned char)r;
}


/* --- reading fields ------------------------------------------------------ */

static void fmt_shape(const tfield *f, char *buf, size_t sz)
{
	size_t len = snprintf(buf, sz, "[");
	for (int d = 0; d < f->rank && len < sz; d++)
		len += snprintf(buf + len, sz - len, "%s%" PRId64, d ? "," : "", f->dims[d]);
	if (len < sz)
		snprintf(buf + len, sz - len, "]");
}

/* " at [i,j,...]" for element `flat` of f, or "" for a scalar. */
static void fmt_index(const tfield *f, int64_t flat, char *buf, size_t sz)
{
	int64_t idx[TINY_MAX_RANK];
	buf[0] = 0;
	if (f->rank == 0)
		return;
	for (int d = f->rank - 1; d >= 0; d--) {
		idx[d] = flat % f->dims[d];
		flat /= f->dims[d];
	}
	size_t len = snprintf(buf, sz, " at [");
	for (int d = 0; d < f->rank && len < sz; d++)
		len += snprintf(buf + len, sz - len, "%s%" PRId64, d ? "," : "", idx[d]);
	if (len < sz)
		snprintf(buf + len, sz - len, "]");
}

/* The values of fields f[0..nf) in the first `keep` records, each as a
 * dense (kept, f[i]->n) array out[i].  The records after those are read and
 * dropped, so the whole stream is checked and a pipe upstream is not cut
 * short.  Returns the records kept; *total gets the records in the stream. */
static int64_t read_fields(sin_t *s, const tfield *const *f, int nf, int64_t keep, double **out, int64_t *total)
{
	const theader *h = &s->h;
	int64_t per = 0, cap = 0, kept = 0, all = 0, n;
	for (int i = 0; i < nf; i++) {
		per += f[i]->n;
		out[i] = NULL;
	}
	int64_t B = h->recsize > (1 << 20) ? 1 : (1 << 20) / h->recsize;
	unsigned char *raw = xmalloc((size_t)(B * h->recsize));
	while ((n = sin_read(s, raw, B)) > 0) {
		int64_t take = keep - kept < n ? keep - kept : n;
		if (take > 0 && kept + take > cap) {
			if (kept + take > MAX_VALUES / per)
				die("%s: more than %" PRId64 " values to draw", s->name, MAX_VALUES);
			cap = kept + take > 2 * cap ? kept + take : 2 * cap;
			if (cap > keep)
				cap = keep;
			if (cap > MAX_VALUES / per)
				cap = MAX_VALUES / per;
			for (int i = 0; i < nf; i++)
				out[i] = xrealloc(out[i], (size_t)(cap * f[i]->n) * sizeof **out);
		}
		for (int i = 0; take > 0 && i < nf; i++)
			tf_get_f64(f[i], raw, take, h->recsize, out[i] + kept * f[i]->n);
		if (take > 0)
			kept += take;
		all += n;
	}
	free(raw);
	*total = all;
	return kept;
}

/* NaN and infinities cannot be drawn: name the first one. */
static void check_finite_nan(const sin_t *s, const tfield *f, const double *v, int64_t nrec, int nan_ok)
{
	if (dtype_is_int(f->dtype))
		return;
	for (int64_t r = 0; r < nrec; r++)
		for (int64_t i = 0; i < f->n; i++) {
			double x = v[r * f->n + i];
			if (isfinite(x) || (nan_ok && isnan(x)))
				continue;
			char at[96];
			fmt_index(f, i, at, sizeof at);
			die("%s: field '%s' of record %" PRId64 " holds %s%s", s->name, f->name, r,
			    isnan(x) ? "NaN" : x > 0 ? "Inf" : "-Inf", at);
		}
}

static void check_finite(const sin_t *s, const tfield *f, const double *v, int64_t nrec)
{
	check_finite_nan(s, f, v, nrec, 0);
}

/* filters and heatmap draw a field of a stream of one record. */
static void need_one_record(const sin_t *s, int64_t total, const char *mode)
{
	if (total != 1)
		die("%s: %" PRId64 " records; %s draws a field of a stream of one record (a model or a statistic)",
		    s->name, total, mode);
}

/* --- axes ------------------------------------------------------------------ */

/* A round step (1, 2 or 5 times a power of ten) giving about `want`
 * intervals over span > 0. */
static double nice_step(double span, int want)
{
	double raw = span / want, p = pow(10, floor(log10(raw))), m = raw / p;
	return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

/* A tick label for v on an axis of the given step: as many decimals as
 * the step needs, or a short exponent form for very large or small. */
static void fmt_num(char *buf, size_t sz, double v, double step)
{
	if (fabs(v) < step * 1e-6)
		v = 0;
	double a = fabs(v);
	if (a != 0 && (a >= 1e6 || a < 1e-4 || step < 1e-4)) {
		char tmp[32], *e;
		snprintf(tmp, sizeof tmp, "%.3g", v);
		if ((e = strchr(tmp, 'e'))) {  /* 1.5e+06 -> 1.5e6, 2e-05 -> 2e-5 */
			char *q = e + 1, *p = e + 1;
			int neg = *p == '-';
			if (*p == '+' || *p == '-')
				p++;
			if (neg)
				*q++ = '-';
			while (*p == '0' && p[1])
				p++;
			memmove(q, p, strlen(p) + 1);
		}
		snprintf(buf, sz, "%s", tmp);
	} else {
		int d = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
		snprintf(buf, sz, "%.*f", d, v);
	}
}

/* An axis maps data values (log10 of them for a log axis) in [lo, hi] to
 * pixels p0..p1 (p1 < p0 for y, which grows downwards). */
typedef struct {
	double lo, hi;
	int log;
	int p0, p1;
} axis_t;

typedef struct {
	double at;       /* position in axis units (log10 for a log axis) */
	char label[32];  /* "" for a minor tick */
} tick_t;

#define MAX_TICKS 64

/* Round values in [lo, hi], about `want` intervals apart; whole numbers
 * only where integer is set (an index). */
static int linear_ticks(double lo, double hi, int want, int integer, tick_t *t)
{
	double step = nice_step(hi - lo, want);
	if (integer && step < 1)
		step = 1;
	int n = 0;
	for (double k = ceil(lo / step - 1e-9); n < MAX_TICKS && k * step <= hi + step * 1e-9; k++) {
		t[n].at = k * step;
		fmt_num(t[n].label, sizeof t[n].label, k * step, step);
		n++;
	}
	return n;
}

/* The label of d x 10^e: plain for modest powers, "2e-7" beyond. */
static void pow10_label(char *buf, size_t sz, int d, int e)
{
	if (e >= -4 && e <= 5)
		fmt_num(buf, sz, d * pow(10, e), pow(10, e));
	else
		snprintf(buf, sz, "%de%d", d, e);
}

/* Log ticks (at log10 of the value): powers of ten, every 2nd, 5th, 10th..
 * where there are many, with unlabelled minor ticks at 2..9 x 10^e between; where fewer
 * than two powers fall inside, 1-2-5 steps, then every digit, then round
 * numbers as on a linear axis. */
static int log_ticks(double lo, double hi, tick_t *t)
{
	static const int digits[3][9] = {{1}, {1, 2, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9}};
	static const int ndigits[3] = {1, 3, 9};
	int e0 = (int)floor(lo), e1 = (int)ceil(hi);
	for (int l = 0; l < 3; l++) {
		int n = 0, every = l == 0 && e1 - e0 > 8 ? (int)nice_step(e1 - e0, 8) : 1;
		for (int e = e0; e <= e1; e++)
			for (int j = 0; j < ndigits[l]; j++) {
				double at = e + log10(digits[l][j]);
				if (at < lo - 1e-9 || at > hi + 1e-9 || e % every != 0 || n == MAX_TICKS)
					continue;
				t[n].at = at;
				pow10_label(t[n].label, sizeof t[n].label, digits[l][j], e);
				n++;
			}
		if (n < 2)
			continue;
		if (l == 0 && e1 - e0 <= 12)
			for (int e = e0; e <= e1; e++)
				for (int m = e % every ? 1 : 2; m <= 9 && n < MAX_TICKS; m++) {
					double at = e + log10(m);
					if (at >= lo && at <= hi) {
						t[n].at = at;
						t[n++].label[0] = 0;
					}
				}
		return n;
	}
	/* less than a factor of two: round values, placed at their logarithm */
	double vlo = pow(10, lo), vhi = pow(10, hi), step = nice_step(vhi - vlo, 4);
	int n = 0;
	for (double k = ceil(vlo / step - 1e-9); n < MAX_TICKS && k * step <= vhi; k++)
		if (k * step > 0) {
			t[n].at = log10(k * step);
			fmt_num(t[n].label, sizeof t[n].label, k * step, step);
			n++;
		}
	return n;
}

static int widest_label(const tick_t *t, int n, int scale)
{
	int w = 0;
	for (int i = 0; i < n; i++)
		if (draw_text_width(t[i].label, scale) > w)
			w = draw_text_width(t[i].label, scale);
	return w;
}

/* --- images and filters: a grid of cells ---------------------------------- */

/* A cell is C channels (1 or 3) of (H,W) values; a field [3,H,W], [1,H,W]
 * or [H,W] is one.  Returns 0 for any other shape. */
static int image_dims(const tfield *f, int64_t *C, int64_t *H, int64_t *W)
{
	if (f->rank == 2) {
		*C = 1, *H = f->dims[0], *W = f->dims[1];
		return 1;
	}
	if (f->rank == 3 && (f->dims[0] == 1 || f->dims[0] == 3)) {
		*C = f->dims[0], *H = f->dims[1], *W = f->dims[2];
		return 1;
	}
	return 0;
}

/* Cell i's values v become bytes gain[i] v + offset[i]: none keeps them,
 * auto maps each cell's [-m, m] to [0, 255] (m its largest |v|), global
 * uses one m for all.  cells is (n, D). */
static void cell_gains(const double *cells, int64_t n, int64_t D, int range, double *gain, double *offset)
{
	double all = 0;
	for (int64_t i = 0; i < n; i++) {
		double m = 0;
		for (int64_t j = 0; j < D; j++)
			if (fabs(cells[i * D + j]) > m)
				m = fabs(cells[i * D + j]);
		gain[i] = m;  /* for now: the cell's m */
		if (m > all)
			all = m;
	}
	for (int64_t i = 0; i < n; i++) {
		double m = range == RANGE_GLOBAL ? all : gain[i];
		if (range == RANGE_NONE) {
			gain[i] = 1, offset[i] = 0;
		} else {
			gain[i] = m > 0 ? 127.5 / m : 0;  /* an all-zero cell is grey */
			offset[i] = 127.5;
		}
	}
}

/* cells (n, C*H*W) in a grid of `cols` columns, each value a K x K square,
 * K dark pixels between cells. */
static canvas_t draw_grid(const double *cells, int64_t n, int64_t C, int64_t H, int64_t W, const double *gain,
			  const double *offset, int64_t cols, int64_t K)
{
	if (cols > n)
		cols = n;
	int64_t rows = (n + cols - 1) / cols, cw = W * K, ch = H * K;
	int64_t w = cols * cw + (cols - 1) * K, h = rows * ch + (rows - 1) * K;
	canvas_check_size(w, h, "the grid", "use a smaller --scale, --cols or --count");
	canvas_t c = canvas_new((int)w, (int)h, SEPARATOR);
	for (int64_t i = 0; i < n; i++) {
		const double *v = cells + i * C * H * W;
		int x0 = (int)((i % cols) * (cw + K)), y0 = (int)((i / cols) * (ch + K));
		for (int64_t y = 0; y < H; y++)
			for (int64_t x = 0; x < W; x++) {
				rgb_t p;
				p.r = to_byte(gain[i] * v[y * W + x] + offset[i]);
				p.g = C == 3 ? to_byte(gain[i] * v[(H + y) * W + x] + offset[i]) : p.r;
				p.b = C == 3 ? to_byte(gain[i] * v[(2 * H + y) * W + x] + offset[i]) : p.r;
				draw_fill(&c, x0 + (int)(x * K), y0 + (int)(y * K), (int)K, (int)K, p);
			}
	}
	return c;
}

/* With --title: the grid c on white, the title above it and a line below
 * saying what the cells are and how they are scaled. */
static canvas_t titled(canvas_t c, const char *title, const char *note)
{
	int th = draw_text_height(TEXT), pad = 8, tw = draw_text_width(title, TEXT), nw = draw_text_width(note, TEXT);
	int64_t w = c.w, h = (int64_t)c.h + 2 * (th + 2 * pad);
	w = (tw > w ? tw : w), w = (nw > w ? nw : w), w += 2 * pad;
	canvas_check_size(w, h, "the titled grid", "use a smaller --scale, --cols or --count");
	canvas_t t = canvas_new((int)w, (int)h, WHITE);
	canvas_paste(&t, &c, (int)(w - c.w) / 2, th + 2 * pad);
	draw_text_centred(&t, (int)w / 2, pad, title, TEXT, BLACK);
	draw_text_centred(&t, (int)w / 2, (int)h - th - pad, note, TEXT, BLACK);
	return t;
}

static canvas_t render_images(sin_t *s, const opts_t *o)
{
	const tfield *f = th_need(&s->h, o->field, s->name);
	int64_t C, H, W, total;
	char shape[96];
	fmt_shape(f, shape, sizeof shape);
	if (!image_dims(f, &C, &H, &W))
		die("%s: field '%s' is %s; images draws [3,H,W] (colour), [1,H,W] or [H,W] (grey)", s->name, f->name,
		    shape);
	int range = o->range >= 0 ? o->range : dtype_is_int(f->dtype) ? RANGE_NONE : RANGE_AUTO;

	double *v;
	int64_t n = read_fields(s, &f, 1, o->count, &v, &total);
	if (n == 0)
		die("%s: no records to draw", s->name);
	check_finite(s, f, v, n);
	double *gain = xmalloc(n * sizeof *gain), *offset = xmalloc(n * sizeof *offset);
	cell_gains(v, n, f->n, range, gain, offset);
	canvas_t c = draw_grid(v, n, C, H, W, gain, offset, o->cols, o->scale);
	if (o->title) {
		static const char *const scaled[] = {"each scaled to its own [-m,m], grey 0",
						     "all scaled to one [-m,m], grey 0", "values as bytes"};
		char note[512];
		snprintf(note, sizeof note, "%s %s, records 0-%" PRId64 ", %s", f->name, shape, n - 1, scaled[range]);
		c = titled(c, o->title, note);
	}
	free(gain);
	free(offset);
	free(v);
	return c;
}

/* Filters learned on whitened data, shown in the pixel domain: each cell
 * f (len values) becomes W^-1 f, with W^-1 the dewhitening matrix of a
 * tiny-zca model (the pattern whose whitened image the filter matches). */
static void dewhiten_cells(const char *path, const char *input, double *cells, int64_t n, int64_t len)
{
	sin_t *z = sin_open(path);
	const tfield *fw = th_need(&z->h, "Winv", z->name);
	if (z->h.count != 1 || fw->rank != 2 || fw->dims[0] != fw->dims[1])
		die("%s: not a tiny-zca model (expected one record with Winv [D,D])", z->name);
	if (fw->dims[0] != len)
		die("%s: --dewhiten %s is for %" PRId64 " values, the filters of %s have %" PRId64, input, path,
		    fw->dims[0], input, len);
	double *Wi = xmalloc((size_t)(len * len) * sizeof *Wi), *out = xmalloc((size_t)(n * len) * sizeof *out);
	unsigned char *rec = xmalloc((size_t)z->h.recsize);
	if (sin_read(z, rec, 1) != 1)
		die("%s: no record", z->name);
	tf_get_f64(fw, rec, 1, z->h.recsize, Wi);
	/* out (n,len) = cells (n,len) Winv^T; Winv is symmetric */
	la_dgemm(0, 1, (int)n, (int)len, (int)len, 1.0, cells, (int)len, Wi, (int)len, 0.0, out, (int)len);
	memcpy(cells, out, (size_t)(n * len) * sizeof *cells);
	free(rec), free(Wi), free(out);
	sin_close(z);
}

/* The lower RBM of --through: W (V,H), H the upper model's filter length. */
typedef struct {
	double *W;
	int64_t V, H;
	char shape[96];
	char attr_shape[96];   /* its attribute shape, or "" */
} lower_t;

static void load_lower(lower_t *l, const char *path, const char *upper, int64_t len)
{
	sin_t *m = sin_open(path);
	const tfield *f = th_need(&m->h, "W", m->name);
	fmt_shape(f, l->shape, sizeof l->shape);
	const char *a = th_attr(&m->h, "shape");
	snprintf(l->attr_shape, sizeof l->attr_shape, "%s", a ? a : "");
	if (f->rank != 2)
		die("%s: --through needs a model whose W is a matrix [V,H]; W is %s", m->name, l->shape);
	l->V = f->dims[0], l->H = f->dims[1];
	if (l->H != len)
		die("%s: --through %s has %" PRId64 " hidden units, but the filters of %s have %" PRId64 " values",
		    upper, m->name, l->H, upper, len);
	int64_t total;
	read_fields(m, &f, 1, 1, &l->W, &total);
	need_one_record(m, total, "filters --through");
	check_finite(m, f, l->W, 1);
	sin_close(m);
}

/* For each of the n upper filters (rows of cells, length l->H), the K lower
 * filters (columns of l->W) of its largest weights, largest first, then
 * the K of its most negative ones, most negative first: (n 2K, V) cells. */
static double *strongest_cells(const lower_t *l, const double *cells, int64_t n, int64_t K)
{
	double *out = xmalloc((size_t)(n * 2 * K * l->V) * sizeof *out);
	int64_t *pick = xmalloc((size_t)(2 * K) * sizeof *pick);
	for (int64_t i = 0; i < n; i++) {
		const double *f = cells + i * l->H;
		for (int side = 0; side < 2; side++) {
			/* K rounds of selection: the next largest (side 0) or most negative (1) */
			double sign = side ? -1 : 1;
			for (int64_t k = 0; k < K; k++) {
				int64_t best = -1;
				for (int64_t j = 0; j < l->H; j++) {
					int taken = 0;
					for (int64_t t = 0; t < k; t++)
						taken |= pick[side * K + t] == j;
					if (!taken && (best < 0 || sign * f[j] > sign * f[best]))
						best = j;
				}
				pick[side * K + k] = best;
			}
		}
		for (int64_t c = 0; c < 2 * K; c++)
			for (int64_t v = 0; v < l->V; v++)
				out[((i * 2 * K) + c) * l->V + v] = pick[c] < 0 ? 0 : l->W[v * l->H + pick[c]];
	}
	free(pick);
	return out;
}

static void parse_shape(const char *arg, opts_t *o);

static canvas_t render_filters(sin_t *s, const opts_t *o)
{
	const tfield *f = th_need(&s->h, o->field, s->name);
	char shape[96];
	fmt_shape(f, shape, sizeof shape);
	if (f->rank != 1 && f->rank != 2)
		die("%s: field '%s' is %s; filters draws the columns or rows of a matrix [V,H] (or one filter [V])",
		    s->name, f->name, shape);
	/* W is (R, Q) row-major: filter j is column j (length R) or row j (length Q) */
	int64_t R = f->dims[0], Q = f->rank == 2 ? f->dims[1] : 1;
	int rows = o->by_rows && f->rank == 2;
	int64_t len = rows ? Q : R, nfilt = rows ? R : Q;
	lower_t low = {0};
	if (o->through)
		load_lower(&low, o->through, s->name, len);
	/* without --shape, the model's own: the shape of the data it learned on */
	opts_t given;
	if (!o->shape_rank) {
		const char *a = o->through ? low.attr_shape : th_attr(&s->h, "shape");
		if (!a || !*a)
			die("%s: no attribute shape (the data's C,H,W) to draw its filters in: give --shape C,H,W",
			    o->through ? o->through : s->name);
		given = *o;
		parse_shape(a, &given);
		o = &given;
	}
	int64_t C = o->shape_rank == 3 ? o->shape[0] : 1, H = o->shape[o->shape_rank - 2],
		W = o->shape[o->shape_rank - 1];
	int64_t shown = o->through ? low.V : len;   /* values of a drawn filter */
	if (C * H * W != shown)
		die("%s: --shape %s holds %" PRId64 " values, but each %s of '%s' %s holds %" PRId64, o->through ? o->through : s->name,
		    o->shape_arg, C * H * W, o->through ? "column" : f->rank == 1 ? "filter" : rows ? "row" : "column",
		    o->through ? "W" : f->name, o->through ? low.shape : shape, shown);
	if (o->first >= nfilt)
		die("%s: --first %" PRId64 ": '%s' %s holds %" PRId64 " filters (0 to %" PRId64 ")", s->name, o->first,
		    f->name, shape, nfilt, nfilt - 1);
	int64_t n = nfilt - o->first < o->count ? nfilt - o->first : o->count;
	/* --pick names the filters one by one instead of a run from --first */
	int64_t *which = xmalloc((o->npick ? o->npick : n) * sizeof *which);
	for (int64_t i = 0; i < (o->npick ? o->npick : n); i++) {
		which[i] = o->npick ? o->pick[i] : o->first + i;
		if (which[i] >= nfilt)
			die("%s: --pick %" PRId64 ": '%s' %s holds %" PRId64 " filters (0 to %" PRId64 ")", s->name,
			    which[i], f->name, shape, nfilt, nfilt - 1);
	}
	if (o->npick)
		n = o->npick;

	double *w;
	int64_t total;
	read_fields(s, &f, 1, 1, &w, &total);
	need_one_record(s, total, "filters");
	check_finite(s, f, w, 1);
	double *cells = xmalloc((size_t)(n * len) * sizeof *cells);  /* (n, len) */
	for (int64_t i = 0; i < n; i++)
		for (int64_t k = 0; k < len; k++)
			cells[i * len + k] = rows ? w[which[i] * Q + k] : w[k * Q + which[i]];
	int64_t cols = o->cols, n0 = n;
	if (o->through) {
		/* each upper filter becomes a row of 2K lower filters */
		double *strong = strongest_cells(&low, cells, n, o->strongest);
		free(cells);
		cells = strong;
		n *= 2 * o->strongest, cols = 2 * o->strongest;
		free(low.W);
	}
	if (o->dewhiten)
		dewhiten_cells(o->dewhiten, s->name, cells, n, shown);
	double *gain = xmalloc(n * sizeof *gain), *offset = xmalloc(n * sizeof *offset);
	cell_gains(cells, n, shown, RANGE_AUTO, gain, offset);
	canvas_t c = draw_grid(cells, n, C, H, W, gain, offset, cols, o->scale);
	if (o->title) {
		char note[512], which_s[64];
		if (o->npick)
			snprintf(which_s, sizeof which_s, "%d picked %s", o->npick, rows ? "rows" : "columns");
		else
			snprintf(which_s, sizeof which_s, "%s %" PRId64 "-%" PRId64, rows ? "rows" : "columns", o->first,
				 o->first + n0 - 1);
		snprintf(note, sizeof note, "%s %s: %s%s as %" PRId64 ",%" PRId64 ",%" PRId64
			 ", each scaled to its own [-m,m], grey 0", f->name, shape, which_s,
			 o->dewhiten ? " dewhitened" : o->through ? " through their strongest lower filters" : "", C, H, W);
		c = titled(c, o->title, note);
	}
	free(which);
	free(gain);
	free(offset);
	free(cells);
	free(w);
	return c;
}

/* --- heatmap --------------------------------------------------------------- */

/* Round indices in [i0, i1), for the rows or columns of a matrix. */
static int index_ticks(int64_t i0, int64_t i1, tick_t *t)
{
	double step = nice_step((double)(i1 - i0), 6);
	if (step < 1)
		step = 1;
	int n = 0;
	for (double k = ceil(i0 / step); n < MAX_TICKS && k * step <= i1 - 1; k++) {
		t[n].at = k * step;
		snprintf(t[n].label, sizeof t[n].label, "%.0f", k * step);
		n++;
	}
	return n;
}

/* Labels centred under x positions along y, each skipped if it would touch
 * the one before. */
static void draw_x_labels(canvas_t *c, const tick_t *t, const int *x, int n, int y)
{
	int last = -1000000;
	for (int i = 0; i < n; i++) {
		int w = draw_text_width(t[i].label, TEXT);
		if (!t[i].label[0] || x[i] - w / 2 < last + 2 * TEXT * DRAW_ADVANCE)
			continue;
		draw_text(c, x[i] - w / 2, y, t[i].label, TEXT, BLACK);
		last = x[i] - w / 2 + w;
	}
}

static canvas_t render_heatmap(sin_t *s, const opts_t *o)
{
	const tfield *f = th_need(&s->h, o->field, s->name);
	char shape[96];
	fmt_shape(f, shape, sizeof shape);
	if (f->rank != 2)
		die("%s: field '%s' is %s; heatmap draws a matrix [R,C]", s->name, f->name, shape);
	int64_t C = f->dims[1], r0 = 0, r1 = f->dims[0], c0 = 0, c1 = C;
	if (o->block_arg) {
		r0 = o->block[0], r1 = o->block[1], c0 = o->block[2], c1 = o->block[3];
		if (r1 > f->dims[0] || c1 > C)
			die("%s: --block %s reaches outside '%s' %s", s->name, o->block_arg, f->name, shape);
	}
	double *m;  /* (R, C) */
	int64_t total;
	read_fields(s, &f, 1, 1, &m, &total);
	need_one_record(s, total, "heatmap");
	check_finite(s, f, m, 1);

	/* cells (rr, rc): means of red x red blocks of the (br, bc) block */
	int64_t br = r1 - r0, bc = c1 - c0, longer = br > bc ? br : bc;
	int64_t red = (longer + HEAT_MAX - 1) / HEAT_MAX, rr = (br + red - 1) / red, rc = (bc + red - 1) / red;
	double *cell = xmalloc((size_t)(rr * rc) * sizeof *cell), lo = INFINITY, hi = -INFINITY;
	for (int64_t i = 0; i < rr; i++)
		for (int64_t j = 0; j < rc; j++) {
			double sum = 0;
			int64_t cnt = 0;
			for (int64_t a = r0 + i * red; a < r0 + (i + 1) * red && a < r1; a++)
				for (int64_t b = c0 + j * red; b < c0 + (j + 1) * red && b < c1; b++, cnt++)
					sum += m[a * C + b];
			double v = cell[i * rc + j] = sum / cnt;
			lo = v < lo ? v : lo;
			hi = v > hi ? v : hi;
		}
	free(m);
	/* cells kh pixels high and kw wide: square, but a thin matrix is
	 * stretched across to HEAT_MIN pixels */
	int64_t k = red > 1 ? 1 : HEAT_TARGET / (rr > rc ? rr : rc);
	if (k < 1)
		k = 1;
	int64_t kh = rr * k < HEAT_MIN ? (HEAT_MIN + rr - 1) / rr : k;
	int64_t kw = rc * k < HEAT_MIN ? (HEAT_MIN + rc - 1) / rc : k;
	double ppr = (double)kh / red, ppc = (double)kw / red;  /* pixels per row and per column index */

	char title[512];
	if (o->title)
		snprintf(title, sizeof title, "%s", o->title);
	else if (o->block_arg)
		snprintf(title, sizeof title, "%s rows %" PRId64 ":%" PRId64 ", columns %" PRId64 ":%" PRId64 "%s",
			 f->name, r0, r1, c0, c1, red > 1 ? "," : "");
	else
		snprintf(title, sizeof title, "%s %s%s", f->name, shape, red > 1 ? "," : "");
	if (!o->title && red > 1)
		snprintf(title + strlen(title), sizeof title - strlen(title), " means of %" PRId64 "x%" PRId64 " blocks",
			 red, red);
	tick_t rt[MAX_TICKS], ct[MAX_TICKS], vt[MAX_TICKS];
	int nr = index_ticks(r0, r1, rt), nc = index_ticks(c0, c1, ct), nv = 1;
	if (hi > lo) {
		nv = linear_ticks(lo, hi, 5, 0, vt);
	} else {
		vt[0].at = lo;
		snprintf(vt[0].label, sizeof vt[0].label, "%g", lo);
	}

	/* layout: title; row labels | matrix | colour bar | value labels;
	 * column labels and the axis name below */
	int th = draw_text_height(TEXT), MW = (int)(rc * kw), MH = (int)(rr * kh);
	int top = 16 + draw_text_height(3) + 20;
	int left = 16 + th + 12 + widest_label(rt, nr, TEXT) + 10;
	int bar_x = left + MW + 30, bar_w = 24, bar_h = MH < 256 ? 256 : MH;
	int width = bar_x + bar_w + 10 + widest_label(vt, nv, TEXT) + 20;
	int below = MH + 10 + th + 10 + th;
	int height = top + (below > bar_h ? below : bar_h) + 20;
	if (width < draw_text_width(title, 3) + 32)
		width = draw_text_width(title, 3) + 32;
	canvas_check_size(width, height, "the heat map", "a bug: it should fit");
	canvas_t c = canvas_new(width, height, WHITE);

	for (int64_t i = 0; i < rr; i++)
		for (int64_t j = 0; j < rc; j++) {
			unsigned char g = hi > lo ? to_byte(255 * (cell[i * rc + j] - lo) / (hi - lo)) : 128;
			draw_fill(&c, left + (int)(j * kw), top + (int)(i * kh), (int)kw, (int)kh, (rgb_t){g, g, g});
		}
	draw_frame(&c, left, top, MW, MH, FRAME);
	for (int i = 0; i < nr; i++) {
		int y = top + (int)((rt[i].at - r0 + 0.5) * ppr);
		draw_fill(&c, left - 7, y, 6, 1, BLACK);
		draw_text(&c, left - 10 - draw_text_width(rt[i].label, TEXT), y - th / 2 + 1, rt[i].label, TEXT, BLACK);
	}
	int xs[MAX_TICKS];
	for (int i = 0; i < nc; i++) {
		xs[i] = left + (int)((ct[i].at - c0 + 0.5) * ppc);
		draw_fill(&c, xs[i], top + MH + 1, 1, 6, BLACK);
	}
	draw_x_labels(&c, ct, xs, nc, top + MH + 10);
	draw_text_centred(&c, left + MW / 2, top + MH + 10 + th + 10, "column", TEXT, BLACK);
	draw_text_up_centred(&c, 16, top + MH / 2, "row", TEXT, BLACK);
	draw_text_centred(&c, width / 2, 16, title, 3, BLACK);

	/* the colour bar: the largest value at the top */
	for (int y = 0; y < bar_h; y++) {
		unsigned char g = to_byte(255.0 * (bar_h - 1 - y) / (bar_h - 1));
		draw_fill(&c, bar_x, top + y, bar_w, 1, (rgb_t){g, g, g});
	}
	draw_frame(&c, bar_x, top, bar_w, bar_h, FRAME);
	for (int i = 0; i < nv; i++) {
		int y = top + (hi > lo ? (int)((hi - vt[i].at) / (hi - lo) * (bar_h - 1)) : bar_h / 2);
		draw_fill(&c, bar_x + bar_w + 1, y, 6, 1, BLACK);
		draw_text(&c, bar_x + bar_w + 10, y - th / 2 + 1, vt[i].label, TEXT, BLACK);
	}
	free(cell);
	return c;
}

/* --- plot ------------------------------------------------------------------ */

typedef struct {
	const char *name;
	int64_t n;
	const double *x, *y;  /* (n) each */
} series_t;

static double axis_at(const axis_t *a, double t)
{
	return a->p0 + (t - a->lo) / (a->hi - a->lo) * (a->p1 - a->p0);
}

static double axis_px(const axis_t *a, double v)
{
	return axis_at(a, a->log ? log10(v) : v);
}

/* [lo, hi] widened where it is a single value. */
static void widen(double *lo, double *hi, double by)
{
	if (*lo == *hi) {
		double d = by > 0 ? by : *lo != 0 ? fabs(*lo) * 0.1 : 1;
		*lo -= d, *hi += d;
	}
}

/* Where a bw x bh legend goes in the plot area [left, right) x [top,
 * bottom): the spot that no line or point comes within 4 pixels of, the
 * nearest the top right of those (tried along the right side, then the
 * left, then the middle, from the top down, 10 pixels apart), in *bx, *by.
 * Returns 0 where every spot is crossed. */
static int legend_spot(const series_t *ser, int ny, const axis_t *ax, const axis_t *ay, int left, int top,
		       int right, int bottom, int bw, int bh, int *bx, int *by)
{
	int w = right - left, h = bottom - top;
	if (w < bw + 20 || h < bh + 20)
		return 0;
	/* ink[y][x]: 1 where a line or point comes near; then summed (area table, one row and column of zeros) */
	int64_t *sum = xcalloc((size_t)(w + 1) * (h + 1), sizeof *sum);
#define SUM(x, y) sum[(size_t)(y) * (w + 1) + (x)]
	for (int i = 0; i < ny; i++) {
		int px = 0, py = 0, have = 0;
		for (int64_t j = 0; j < ser[i].n; j++) {
			if (isnan(ser[i].y[j])) {
				have = 0;
				continue;
			}
			int x = (int)lround(axis_px(ax, ser[i].x[j])) - left, y = (int)lround(axis_px(ay, ser[i].y[j])) - top;
			int x0 = have ? px : x, y0 = have ? py : y;
			int steps = abs(x - x0) > abs(y - y0) ? abs(x - x0) : abs(y - y0);
			for (int k = 0; k <= steps; k++) {
				int cx = x0 + (steps ? (int)lround((double)k * (x - x0) / steps) : 0);
				int cy = y0 + (steps ? (int)lround((double)k * (y - y0) / steps) : 0);
				for (int dy = -4; dy <= 4; dy++)
					for (int dx = -4; dx <= 4; dx++)
						if (cx + dx >= 0 && cx + dx < w && cy + dy >= 0 && cy + dy < h)
							SUM(cx + dx + 1, cy + dy + 1) = 1;
			}
			have = 1, px = x, py = y;
		}
	}
	for (int y = 1; y <= h; y++)
		for (int x = 1; x <= w; x++)
			SUM(x, y) += SUM(x - 1, y) + SUM(x, y - 1) - SUM(x - 1, y - 1);
	int xs[3] = {w - bw - 10, 10, (w - bw) / 2}, found = 0;
	for (int a = 0; a < 3 && !found; a++)
		for (int y = 10; y + bh + 10 <= h && !found; y += 10) {
			int x = xs[a];
			if (SUM(x + bw, y + bh) - SUM(x, y + bh) - SUM(x + bw, y) + SUM(x, y) == 0)
				*bx = left + x, *by = top + y, found = 1;
		}
#undef SUM
	free(sum);
	return found;
}

static canvas_t render_plot(sin_t *s, const opts_t *o)
{
	const tfield *f[MAX_LINES + 1] = {0};  /* the --y fields, then --x */
	int nf = o->ny + (o->xname != NULL);
	char shape[96], at[96];
	for (int i = 0; i < nf; i++) {
		f[i] = th_need(&s->h, i < o->ny ? o->ynames[i] : o->xname, s->name);
		fmt_shape(f[i], shape, sizeof shape);
		if (f[i]->rank > 1)
			die("%s: field '%s' is %s; plot draws one number per record, or a vector [N] of a stream of "
			    "one record", s->name, f[i]->name, shape);
	}
	double *v[MAX_LINES + 1];
	int64_t total, n = read_fields(s, f, nf, INT64_MAX, v, &total);
	if (n == 0)
		die("%s: no records to plot", s->name);
	int vec = n == 1;  /* one record: each field's values against their index */
	int64_t longest = n;
	for (int i = 0; i < nf; i++) {
		check_finite_nan(s, f[i], v[i], n, i < o->ny);   /* a NaN y is a missing point */
		fmt_shape(f[i], shape, sizeof shape);
		if (!vec && f[i]->n > 1)
			die("%s: field '%s' is %s and the stream holds %" PRId64 " records; plot draws a vector only "
			    "from a stream of one record", s->name, f[i]->name, shape, n);
		if (vec && f[i]->n > longest)
			longest = f[i]->n;
	}
	double *index = xmalloc(longest * sizeof *index);
	for (int64_t j = 0; j < longest; j++)
		index[j] = j;
	series_t ser[MAX_LINES];
	for (int i = 0; i < o->ny; i++) {
		ser[i] = (series_t){f[i]->name, vec ? f[i]->n : n, o->xname ? v[o->ny] : index, v[i]};
		if (o->xname && vec && f[o->ny]->n != f[i]->n)
			die("%s: --x %s holds %" PRId64 " values but --y %s holds %" PRId64, s->name, o->xname,
			    f[o->ny]->n, f[i]->name, f[i]->n);
		for (int64_t j = 0; o->log && j < ser[i].n; j++)
			if (!(ser[i].y[j] > 0) && !isnan(ser[i].y[j])) {
				fmt_index(f[i], vec ? j : 0, at, sizeof at);
				die("%s: field '%s' of record %" PRId64 " holds %g%s; --log needs values above 0", s->name,
				    f[i]->name, vec ? 0 : j, ser[i].y[j], at);
			}
	}

	/* axes: x spans the data, y the data and 5% more (in log10 for --log) */
	axis_t ax = {INFINITY, -INFINITY, 0, 0, 0}, ay = {INFINITY, -INFINITY, o->log, 0, 0};
	for (int i = 0; i < o->ny; i++)
		for (int64_t j = 0; j < ser[i].n; j++) {
			double x = ser[i].x[j], y = o->log ? log10(ser[i].y[j]) : ser[i].y[j];
			if (isnan(y))
				continue;
			ax.lo = x < ax.lo ? x : ax.lo, ax.hi = x > ax.hi ? x : ax.hi;
			ay.lo = y < ay.lo ? y : ay.lo, ay.hi = y > ay.hi ? y : ay.hi;
		}
	if (ax.lo > ax.hi)
		die("%s: every value of the --y fields is NaN: nothing to plot", s->name);
	widen(&ax.lo, &ax.hi, 0);
	widen(&ay.lo, &ay.hi, o->log ? 0.5 : 0);
	double pad = 0.05 * (ay.hi - ay.lo);
	ay.lo -= pad, ay.hi += pad;
	tick_t xt[MAX_TICKS], yt[MAX_TICKS];
	int nxt = linear_ticks(ax.lo, ax.hi, 6, !o->xname, xt);
	int nyt = o->log ? log_ticks(ay.lo, ay.hi, yt) : linear_ticks(ay.lo, ay.hi, 6, 0, yt);

	char title[512], ylabel[512];
	title[0] = 0;
	for (int i = 0; i < o->ny; i++)
		snprintf(title + strlen(title), sizeof title - strlen(title), "%s%s", i ? ", " : "", o->ynames[i]);
	snprintf(ylabel, sizeof ylabel, "%s", o->ylabel ? o->ylabel : o->ny == 1 ? o->ynames[0] : "");
	const char *xlabel = o->xlabel ? o->xlabel : o->xname ? o->xname : vec ? "index" : "record";
	if (o->title)
		snprintf(title, sizeof title, "%s", o->title);

	/* layout: title; y label | y tick labels | plot area; x tick labels, x label */
	int W = 960, H = 600, th = draw_text_height(TEXT);
	int top = 16 + draw_text_height(3) + 20, bottom = H - 16 - th - 10 - th - 12;
	int left = 16 + th + 12 + widest_label(yt, nyt, TEXT) + 10, right = W - 30;
	ax.p0 = left, ax.p1 = right, ay.p0 = bottom, ay.p1 = top;
	/* the legend: where no line comes near it inside the plot area, else
	 * beside it on the right (the plot area narrowed to make room) */
	int lw = 0, bw = 0, bh = 8 + o->ny * (th + 8), bx = 0, by = 0;
	for (int i = 0; i < o->ny; i++)
		lw = draw_text_width(o->ynames[i], TEXT) > lw ? draw_text_width(o->ynames[i], TEXT) : lw;
	bw = 10 + 28 + 8 + lw + 10;
	if (o->ny > 1 && !legend_spot(ser, o->ny, &ax, &ay, left, top, right, bottom, bw, bh, &bx, &by)) {
		if (W - 20 - bw - 10 - left >= W / 2)
			right = ax.p1 = W - 20 - bw - 10, bx = right + 10, by = top;
		else  /* names too long to stand beside: top right, over the lines */
			bx = right - bw - 10, by = top + 10;
	}
	canvas_t c = canvas_new(W, H, WHITE);

	int xs[MAX_TICKS];
	for (int i = 0; i < nxt; i++) {
		xs[i] = (int)lround(axis_at(&ax, xt[i].at));
		draw_fill(&c, xs[i], top, 1, bottom - top, GRID);
		draw_fill(&c, xs[i], bottom + 1, 1, 6, BLACK);
	}
	draw_x_labels(&c, xt, xs, nxt, bottom + 12);
	for (int i = 0; i < nyt; i++) {
		int y = (int)lround(axis_at(&ay, yt[i].at)), major = yt[i].label[0] != 0;
		if (major)
			draw_fill(&c, left, y, right - left, 1, GRID);
		draw_fill(&c, left - (major ? 7 : 4), y, major ? 6 : 3, 1, BLACK);
		draw_text(&c, left - 10 - draw_text_width(yt[i].label, TEXT), y - th / 2 + 1, yt[i].label, TEXT, BLACK);
	}
	draw_frame(&c, left, top, right - left, bottom - top, BLACK);

	for (int i = 0; i < o->ny; i++) {
		int px = 0, py = 0, have = 0;   /* a NaN breaks the line */
		for (int64_t j = 0; j < ser[i].n; j++) {
			if (isnan(ser[i].y[j])) {
				have = 0;
				continue;
			}
			int x = (int)lround(axis_px(&ax, ser[i].x[j])), y = (int)lround(axis_px(&ay, ser[i].y[j]));
			if (have)
				draw_line(&c, px, py, x, y, 2, palette[i]);
			have = 1;
			if (ser[i].n <= 60)
				draw_fill(&c, x - 3, y - 3, 7, 7, palette[i]);
			px = x, py = y;
		}
	}
	if (o->ny > 1) {
		draw_fill(&c, bx, by, bw, bh, WHITE);
		draw_frame(&c, bx, by, bw, bh, FRAME);
		for (int i = 0; i < o->ny; i++) {
			int y = by + 8 + i * (th + 8);
			draw_fill(&c, bx + 10, y + th / 2 - 2, 28, 3, palette[i]);
			draw_text(&c, bx + 46, y, o->ynames[i], TEXT, BLACK);
		}
	}
	/* a title too long for the large font takes the label font */
	draw_text_centred(&c, W / 2, 16, title, draw_text_width(title, 3) + 16 <= W ? 3 : TEXT, BLACK);
	draw_text_centred(&c, (left + right) / 2, H - 16 - th, xlabel, TEXT, BLACK);
	draw_text_up_centred(&c, 16, (top + bottom) / 2, ylabel, TEXT, BLACK);
	for (int i = 0; i < nf; i++)
		free(v[i]);
	free(index);
	return c;
}

/* --- options --------------------------------------------------------------- */

/* A whole decimal number from 0 to TINY_DIM_MAX at *p, advancing *p. */
static int parse_dim(const char **p, int64_t *v)
{
	char *end;
	if (!isdigit((unsigned char)**p))
		return 0;
	errno = 0;
	long long x = strtoll(*p, &end, 10);
	if (errno || x > TINY_DIM_MAX)
		return 0;
	*v = x;
	*p = end;
	return 1;
}

/* --shape C,H,W or H,W: positive, C 1 or 3, the product within a record. */
static void parse_shape(const char *arg, opts_t *o)
{
	const char *p = arg;
	int n = 0;
	int64_t prod = 1;
	while (n < 3 && parse_dim(&p, &o->shape[n]) && o->shape[n] > 0) {
		prod = prod <= TINY_RECORD_MAX / o->shape[n] ? prod * o->shape[n] : TINY_RECORD_MAX + 1;
		n++;
		if (*p != ',')
			break;
		p++;
	}
	if (*p || n < 2 || p[-1] == ',' || prod > TINY_RECORD_MAX)
		usage_error("--shape %s: expected C,H,W or H,W (positive whole numbers)", arg);
	if (n == 3 && o->shape[0] != 1 && o->shape[0] != 3)
		usage_error("--shape %s: %" PRId64 " channels; filters show 1 (grey) or 3 (colour)", arg, o->shape[0]);
	o->shape_rank = n;
	o->shape_arg = arg;
}

/* --block R0:R1,C0:C1: half-open index ranges, R0 < R1, C0 < C1. */
static void parse_block(const char *arg, opts_t *o)
{
	const char *p = arg;
	int64_t *b = o->block;
	if (!parse_dim(&p, &b[0]) || *p++ != ':' || !parse_dim(&p, &b[1]) || *p++ != ',' || !parse_dim(&p, &b[2]) ||
	    *p++ != ':' || !parse_dim(&p, &b[3]) || *p || b[0] >= b[1] || b[2] >= b[3])
		usage_error("--block %s: expected R0:R1,C0:C1 (rows R0 to R1-1, columns C0 to C1-1)", arg);
	o->block_arg = arg;
}

/* --y F[,F...] */
static void parse_ynames(const char *arg, opts_t *o)
{
	char *list = xstrdup(arg), *save = NULL;
	if (!*arg || arg[0] == ',' || arg[strlen(arg) - 1] == ',' || strstr(arg, ",,"))
		usage_error("--y %s: expected FIELD[,FIELD...]", arg);
	for (char *w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		if (o->ny == MAX_LINES)
			usage_error("--y %s: at most %d fields", arg, MAX_LINES);
		o->ynames[o->ny++] = xstrdup(w);
	}
	free(list);
}

static void parse_args(int argc, char **argv, opts_t *o)
{
	static const struct option longopts[] = {
		{"field", required_argument, 0, 'f'}, {"cols", required_argument, 0, 'c'},
		{"count", required_argument, 0, 'n'}, {"scale", required_argument, 0, 's'},
		{"range", required_argument, 0, 'r'}, {"shape", required_argument, 0, 'S'},
		{"rows", no_argument, 0, 'R'},         {"columns", no_argument, 0, 'C'},
		{"first", required_argument, 0, 'F'}, {"block", required_argument, 0, 'b'},
		{"pick", required_argument, 0, 'P'}, {"dewhiten", required_argument, 0, 'd'},
		{"through", required_argument, 0, 'T'}, {"strongest", required_argument, 0, 'k'},
		{"title", required_argument, 0, 't'}, {"y", required_argument, 0, 'y'},
		{"x", required_argument, 0, 'x'},     {"log", no_argument, 0, 'l'},
		{"xlabel", required_argument, 0, 'X'}, {"ylabel", required_argument, 0, 'Y'},
		{"svg", no_argument, 0, 'G'},         {"pdf", no_argument, 0, 'D'},
		{0}};
	static const char *const ranges[] = {"auto", "global", "none", NULL};
	*o = (opts_t){.cols = 10, .count = MAX_CELLS, .scale = 2, .range = -1};
	if (argc < 2)
		usage();
	for (o->mode = 0; o->mode < NMODES && strcmp(argv[1], modes[o->mode].name); o->mode++)
		;
	if (o->mode == NMODES)
		usage_error("unknown mode '%s' (expected images, filters, heatmap or plot)", argv[1]);
	const char *mode = modes[o->mode].name;
	tiny_usage = modes[o->mode].synopsis;

	/* getopt sees the mode as its argv[0]; its own messages would name the
	 * mode, so they are ours instead */
	int c, li, rows = 0, columns = 0;
	opterr = 0;
	argc--, argv++;
	while ((c = getopt_long(argc, argv, ":", longopts, &li)) != -1) {
		if (c == '?')
			usage_error("unknown option '%s'", argv[optind - 1]);
		if (c == ':')
			usage_error("option '%s' needs a value", argv[optind - 1]);
		if (!strchr(modes[o->mode].opts, c))
			usage_error("--%s is not an option of '%s'", longopts[li].name, mode);
		switch (c) {
		case 'f': o->field = optarg; break;
		case 'c': o->cols = opt_i64("--cols", optarg, 1, MAX_CELLS); break;
		case 'n': o->count = opt_i64("--count", optarg, 1, MAX_CELLS); break;
		case 's': o->scale = opt_i64("--scale", optarg, 1, 16); break;
		case 'r': o->range = opt_choice("--range", optarg, ranges); break;
		case 'S': parse_shape(optarg, o); break;
		case 'R': rows = 1; break;
		case 'C': columns = 1; break;
		case 'F': o->first = opt_i64("--first", optarg, 0, TINY_DIM_MAX); break;
		case 'b': parse_block(optarg, o); break;
		case 'd': o->dewhiten = optarg; break;
		case 'T': o->through = optarg; break;
		case 'k': o->strongest = opt_i64("--strongest", optarg, 1, 16); break;
		case 'P': {
			char **w;
			int nw = opt_list(optarg, &w);
			if (nw == 0 || nw > MAX_PICK)
				usage_error("--pick %s: expected 1 to %d filter numbers", optarg, MAX_PICK);
			for (int i = 0; i < nw; i++)
				o->pick[i] = opt_i64("--pick", w[i], 0, TINY_DIM_MAX);
			o->npick = nw;
			th_words_free(w, nw);
			break;
		}
		case 't': o->title = optarg; break;
		case 'y': parse_ynames(optarg, o); break;
		case 'x': o->xname = optarg; break;
		case 'l': o->log = 1; break;
		case 'X': o->xlabel = optarg; break;
		case 'Y': o->ylabel = optarg; break;
		case 'G':
		case 'D':
			if (o->format != DRAW_PNG && o->format != (c == 'G' ? DRAW_SVG : DRAW_PDF))
				usage_error("--svg and --pdf exclude each other");
			o->format = c == 'G' ? DRAW_SVG : DRAW_PDF;
			break;
		}
	}
	if (rows && columns)
		usage_error("--rows and --columns exclude each other");
	o->by_rows = rows;
	if (o->mode == MODE_IMAGES && !o->field)
		o->field = "x";
	if (o->mode == MODE_FILTERS && !o->field)
		o->field = "W";
	if (!o->through != !o->strongest)
		usage_error("--through and --strongest go together");
	if (o->mode == MODE_HEATMAP && !o->field)
		usage_error("heatmap needs --field");
	if (o->mode == MODE_PLOT && !o->ny)
		usage_error("plot needs --y");
	if (argc - optind > 1)
		usage_error("expected at most one input file");
	o->input = optind < argc ? argv[optind] : NULL;
}

/* --- main ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
	opts_t o;
	tiny_init(argc, argv, usage_line);
	parse_args(argc, argv, &o);
	sin_t *s = sin_open(o.input);
	canvas_t c;
	switch (o.mode) {
	case MODE_IMAGES: c = render_images(s, &o); break;
	case MODE_FILTERS: c = render_filters(s, &o); break;
	case MODE_HEATMAP: c = render_heatmap(s, &o); break;
	default: c = render_plot(s, &o); break;
	}
	char *comment = draw_history_text(&s->h);
	sin_close(s);
	draw_write(&c, o.format, comment, stdout, "stdout");
	free(comment);
	canvas_free(&c);
	close_stdout();
	return 0;
}
