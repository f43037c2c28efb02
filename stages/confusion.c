/*
 * tiny-confusion - the confusion matrix of a classifier's predictions, as a
 * table, a stream, or a picture in the style of the report's Figure 3.2.
 *
 * usage: tiny-confusion [--stream] [--png FILE | --svg FILE | --pdf FILE] [FILE]
 *
 * The input holds one record per prediction: the integer fields `label`
 * (the true class) and `pred` (the predicted class); other fields (`prob`,
 * an index) are ignored.  The attribute `classes` names the K classes;
 * without it the classes are 0..K-1 with K = 1 + the largest label or pred.
 *
 *   counts[i][j]  records of true class i predicted as j          (K,K)
 *   rates[i][j]   counts[i][j] / sum_j counts[i][j]: each row sums to 1
 *   accuracy      sum_i counts[i][i] / N
 *   precision[j]  counts[j][j] / sum_i counts[i][j]: of the records
 *                 predicted j, the fraction that are j               (K)
 *   recall[i]     counts[i][i] / sum_j counts[i][j] = rates[i][i]   (K)
 *
 * A ratio 0/0 (a class never predicted has no precision; a class with no
 * records has no rates and no recall) is shown as "n/a" in the table and
 * stored as 0 in the stream.
 *
 * Output: by default a table on stdout: the counts (rows true class,
 * columns predicted), the rates with 3 decimals, the accuracy as a
 * percentage with 2 decimals and the counts behind it, then each class's
 * precision and recall.  With --stream, a stream of one record instead:
 *   counts i64 [K,K], rates f32 [K,K], accuracy f64 [] (a fraction, not a
 *   percentage), precision f32 [K], recall f32 [K]
 * with the input's attributes, `classes` (the names used, numbers when the
 * input has none) and this command in `history`.
 *
 * --png FILE also draws the matrix (report Figure 3.2): a K x K grid, rows
 * the true class, columns the predicted one, each cell holding a dark
 * square whose AREA is proportional to the rate (side = sqrt(rate) x the
 * cell's inner side), class names down the left and up along the bottom,
 * and a title with the accuracy; --svg FILE and --pdf FILE draw the same
 * as SVG or PDF, the text as vectors (lib/draw.c).  The file is written
 * under a temporary name and renamed into place, so it is never seen
 * half-written.
 *
 * Errors (one line, nothing on stdout, no FILE): exit 2 for bad usage, 1
 * for bad data: no `label` field, no `pred` field, either not one integer,
 * a label or pred outside 0..K-1 (named by record), more than MAX_CLASSES
 * classes, an empty stream.  Spec: formats/stream.md.
 */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "draw.h"
#include "tiny.h"

static const char *usage_line = "tiny-confusion [--stream] [--png FILE | --svg FILE | --pdf FILE] [FILE]";

#define MAX_CLASSES 1024   /* K; the counts are K x K */

/* --- reading ----------------------------------------------------------------- */

/* The field `name`, which must be one integer per record. */
static const tfield *need_int(const sin_t *s, const char *name, const char *what)
{
	if (th_find(&s->h, name) < 0)
		die("%s: no '%s' field (%s)", s->name, name, what);
	const tfield *f = th_need(&s->h, name, s->name);
	if (!dtype_is_int(f->dtype) || f->n != 1)
		die("%s: field '%s' is %s with %" PRId64 " values, expected one integer", s->name, name,
		    dtype_names[f->dtype], f->n);
	return f;
}

/* Read every (label, pred) pair into *lab and *pred (N each), checking each
 * against 0..K-1 (K = nclasses, or MAX_CLASSES when the input names none).
 * Returns N. */
static int64_t read_pairs(sin_t *s, int nclasses, int32_t **lab, int32_t **pred)
{
	const tfield *fl = need_int(s, "label", "the true classes; predictions without labels cannot be scored");
	const tfield *fp = need_int(s, "pred", "the predicted classes");
	int64_t R = s->h.recsize, B = R > (1 << 20) ? 1 : (1 << 20) / R, n, N = 0, cap = 0;
	int64_t K = nclasses ? nclasses : MAX_CLASSES;
	unsigned char *buf = xmalloc((size_t)(B * R));
	int64_t *v = xmalloc(2 * B * sizeof *v);
	*lab = *pred = NULL;
	while ((n = sin_read(s, buf, B)) > 0) {
		tf_get_i64(fl, buf, n, R, v);
		tf_get_i64(fp, buf, n, R, v + B);
		if (N + n > cap) {
			cap = N + n > 2 * cap ? N + n : 2 * cap;
			*lab = xrealloc(*lab, (size_t)cap * sizeof **lab);
			*pred = xrealloc(*pred, (size_t)cap * sizeof **pred);
		}
		for (int64_t r = 0; r < n; r++) {
			for (int k = 0; k < 2; k++) {
				int64_t x = v[k * B + r];
				if (x >= 0 && x < K)
					continue;
				if (nclasses)
					die("%s: record %" PRId64 " has %s %" PRId64 ", outside 0..%" PRId64
					    " (the %d names of 'classes')", s->name, N + r, k ? "pred" : "label", x,
					    K - 1, nclasses);
				die("%s: record %" PRId64 " has %s %" PRId64 ", outside 0..%d (the input has no "
				    "'classes' attribute, and at most %d classes are scored)", s->name, N + r,
				    k ? "pred" : "label", x, MAX_CLASSES - 1, MAX_CLASSES);
			}
			(*lab)[N + r] = (int32_t)v[r];
			(*pred)[N + r] = (int32_t)v[B + r];
		}
		N += n;
	}
	free(buf);
	free(v);
	if (N == 0)
		die("%s: no records (an empty stream has no confusion matrix)", s->name);
	return N;
}

/* --- the matrix -------------------------------------------------------------- */

typedef struct {
	int K;
	char **names;        /* (K) */
	int64_t N, correct;
	int64_t *counts;     /* (K,K): row true class, column predicted */
	int64_t *row, *col;  /* (K): row sums (records of class i), column sums (predicted j) */
	double *rates;       /* (K,K): counts / row sums, 0 for an empty row */
	double *precision;   /* (K): 0 for a class never predicted */
	double *recall;      /* (K): 0 for a class with no records */
} confusion_t;

static void confusion_count(confusion_t *m, const int32_t *lab, const int32_t *pred, int64_t N)
{
	int K = m->K;
	m->N = N;
	m->counts = xcalloc((size_t)K * K, sizeof *m->counts);
	m->row = xcalloc(K, sizeof *m->row);
	m->col = xcalloc(K, sizeof *m->col);
	m->rates = xcalloc((size_t)K * K, sizeof *m->rates);
	m->precision = xcalloc(K, sizeof *m->precision);
	m->recall = xcalloc(K, sizeof *m->recall);
	for (int64_t r = 0; r < N; r++) {
		m->counts[(int64_t)lab[r] * K + pred[r]]++;
		m->row[lab[r]]++;
		m->col[pred[r]]++;
		m->correct += lab[r] == pred[r];
	}
	for (int i = 0; i < K; i++) {
		for (int j = 0; m->row[i] && j < K; j++)
			m->rates[i * K + j] = (double)m->counts[i * K + j] / m->row[i];
		m->recall[i] = m->rates[i * K + i];
		m->precision[i] = m->col[i] ? (double)m->counts[i * K + i] / m->col[i] : 0;
	}
}

/* --- the table --------------------------------------------------------------- */

static int max_int(int a, int b)
{
	return a > b ? a : b;
}

/* One K x K matrix under a heading: class names down the left and across
 * the top, each column as wide as its widest entry.  cell() writes entry
 * (i, j) into buf. */
typedef void cell_fn(const confusion_t *m, int i, int j, char *buf, size_t sz);

static void print_matrix(const confusion_t *m, const char *corner, cell_fn *cell)
{
	int K = m->K, left = (int)strlen(corner);
	int *width = xmalloc(K * sizeof *width);
	char buf[64];
	for (int i = 0; i < K; i++)
		left = max_int(left, (int)strlen(m->names[i]));
	for (int j = 0; j < K; j++) {
		width[j] = (int)strlen(m->names[j]);
		for (int i = 0; i < K; i++) {
			cell(m, i, j, buf, sizeof buf);
			width[j] = max_int(width[j], (int)strlen(buf));
		}
	}
	printf("%-*s", left, corner);
	for (int j = 0; j < K; j++)
		printf("  %*s", width[j], m->names[j]);
	printf("\n");
	for (int i = 0; i < K; i++) {
		printf("%-*s", left, m->names[i]);
		for (int j = 0; j < K; j++) {
			cell(m, i, j, buf, sizeof buf);
			printf("  %*s", width[j], buf);
		}
		printf("\n");
	}
	free(width);
}

static void count_cell(const confusion_t *m, int i, int j, char *buf, size_t sz)
{
	snprintf(buf, sz, "%" PRId64, m->counts[(int64_t)i * m->K + j]);
}

static void rate_cell(const confusion_t *m, int i, int j, char *buf, size_t sz)
{
	if (m->row[i])
		snprintf(buf, sz, "%.3f", m->rates[(int64_t)i * m->K + j]);
	else
		snprintf(buf, sz, "n/a");
}

static void print_table(const confusion_t *m, const char *input)
{
	int K = m->K, left = (int)strlen("class");
	printf("confusion matrix of %s: %" PRId64 " predictions, %d classes\n", input, m->N, K);
	printf("(rows: true class, columns: predicted class)\n\ncounts\n");
	print_matrix(m, "true\\pred", count_cell);
	printf("\nrates (each row divided by its sum)\n");
	print_matrix(m, "true\\pred", rate_cell);
	printf("\naccuracy %.2f%% (%" PRId64 " of %" PRId64 " correct)\n\n", 100.0 * m->correct / m->N, m->correct,
	       m->N);
	for (int i = 0; i < K; i++)
		left = max_int(left, (int)strlen(m->names[i]));
	printf("%-*s  precision  recall  predicted  true\n", left, "class");
	for (int i = 0; i < K; i++) {
		char p[16] = "n/a", r[16] = "n/a";
		if (m->col[i])
			snprintf(p, sizeof p, "%.3f", m->precision[i]);
		if (m->row[i])
			snprintf(r, sizeof r, "%.3f", m->recall[i]);
		printf("%-*s  %9s  %6s  %9" PRId64 "  %4" PRId64 "\n", left, m->names[i], p, r, m->col[i], m->row[i]);
	}
}

/* --- the stream -------------------------------------------------------------- */

static void write_stream(const confusion_t *m, const theader *in)
{
	int64_t K = m->K, KK = K * K;
	theader h;
	th_copy(&h, in);
	while (h.nfields)
		th_remove_field(&h, 0);
	h.count = 1;
	th_field(&h, "counts", DT_I64, 2, K, K);
	th_field(&h, "rates", DT_F32, 2, K, K);
	th_field(&h, "accuracy", DT_F64, 0);
	th_field(&h, "precision", DT_F32, 1, K);
	th_field(&h, "recall", DT_F32, 1, K);
	size_t len = 1;
	for (int i = 0; i < K; i++)
		len += strlen(m->names[i]) + 1;
	char *classes = xmalloc(len);
	classes[0] = 0;
	for (int i = 0, at = 0; i < K; i++)
		at += sprintf(classes + at, "%s%s", i ? " " : "", m->names[i]);
	th_attr_set(&h, "classes", classes);
	free(classes);
	th_add_history(&h);

	unsigned char *rec = xmalloc((size_t)h.recsize);
	const tfield *f = h.fields;  /* counts, rates, accuracy, precision, recall */
	float *v = xmalloc((size_t)KK * sizeof *v);
	double acc = (double)m->correct / m->N;
	memcpy(rec + f[0].offset, m->counts, (size_t)KK * 8);
	for (int64_t i = 0; i < KK; i++)
		v[i] = (float)m->rates[i];
	memcpy(rec + f[1].offset, v, (size_t)KK * 4);
	memcpy(rec + f[2].offset, &acc, 8);
	for (int64_t i = 0; i < K; i++)
		v[i] = (float)m->precision[i];
	memcpy(rec + f[3].offset, v, (size_t)K * 4);
	for (int64_t i = 0; i < K; i++)
		v[i] = (float)m->recall[i];
	memcpy(rec + f[4].offset, v, (size_t)K * 4);
	sout_t *out = sout_open(NULL, &h);
	sout_write(out, rec, 1);
	sout_close(out);
	free(v);
	free(rec);
	th_free(&h);
}

/* --- the picture ------------------------------------------------------------- */

static const rgb_t WHITE = {255, 255, 255}, BLACK = {0, 0, 0}, GRID = {200, 200, 200}, SQUARE = {30, 30, 30};

#define CELL_MAX 48    /* pixels a cell side, for few classes */
#define CELL_MIN 8     /* ... and for many */
#define GRID_SIDE 960  /* the grid is about this wide when cells shrink */

/* Layout of the picture: margins, title, row names | grid; column names
 * (running upwards) and the axis name below. */
typedef struct {
	int S;             /* cell pitch, pixels, with a one-pixel grid line */
	int text;          /* font scale of the class names */
	int names_w;       /* the widest class name, pixels */
	int x0, y0;        /* the grid's top-left corner */
	int W, H;
} layout_t;

static void title_text(const confusion_t *m, char *buf, size_t sz)
{
	snprintf(buf, sz, "Confusion matrix: %.2f%% correct", 100.0 * m->correct / m->N);
}

static layout_t layout(const confusion_t *m)
{
	layout_t L;
	int K = m->K;
	L.S = GRID_SIDE / K > CELL_MAX ? CELL_MAX : GRID_SIDE / K < CELL_MIN ? CELL_MIN : GRID_SIDE / K;
	L.text = L.S >= 2 * DRAW_LINE_H + 4 ? 2 : 1;
	L.names_w = 0;
	for (int i = 0; i < K; i++)
		L.names_w = max_int(L.names_w, draw_text_width(m->names[i], L.text));
	int th = draw_text_height(2);
	L.x0 = 16 + th + 12 + L.names_w + 8;
	L.y0 = 16 + draw_text_height(3) + 20;
	int64_t W = (int64_t)L.x0 + (int64_t)K * L.S + 1 + 24;
	int64_t H = (int64_t)L.y0 + (int64_t)K * L.S + 1 + 8 + L.names_w + 12 + th + 16;
	char title[128];
	title_text(m, title, sizeof title);
	if (W < draw_text_width(title, 2) + 32)  /* the title fits, at worst in the label font */
		W = draw_text_width(title, 2) + 32;
	canvas_check_size(W, H, "the confusion picture", "too many classes or too long class names");
	L.W = (int)W, L.H = (int)H;
	return L;
}

static canvas_t draw_confusion(const confusion_t *m, const layout_t *L)
{
	int K = m->K, S = L->S, nh = draw_text_height(L->text);
	canvas_t c = canvas_new(L->W, L->H, WHITE);
	int side = K * S + 1, bottom = L->y0 + side;
	for (int k = 0; k <= K; k++) {
		draw_fill(&c, L->x0 + k * S, L->y0, 1, side, GRID);
		draw_fill(&c, L->x0, L->y0 + k * S, side, 1, GRID);
	}
	/* area, not side, proportional to the rate: side = sqrt(rate) x inner side */
	for (int i = 0; i < K; i++)
		for (int j = 0; j < K; j++) {
			int a = (int)lround(sqrt(m->rates[(int64_t)i * K + j]) * (S - 1));
			int x = L->x0 + j * S + 1 + (S - 1 - a) / 2, y = L->y0 + i * S + 1 + (S - 1 - a) / 2;
			draw_fill(&c, x, y, a, a, SQUARE);
		}
	for (int i = 0; i < K; i++) {
		int cy = L->y0 + i * S + 1 + (S - 1) / 2;
		draw_text(&c, L->x0 - 8 - draw_text_width(m->names[i], L->text), cy - nh / 2 + 1, m->names[i], L->text,
			  BLACK);
		int cx = L->x0 + i * S + 1 + (S - 1) / 2, w = draw_text_width(m->names[i], L->text);
		draw_text_up_centred(&c, cx - nh / 2 + 1, bottom + 8 + w / 2, m->names[i], L->text, BLACK);
	}
	draw_text_up_centred(&c, 16, L->y0 + side / 2, "true class", 2, BLACK);
	draw_text_centred(&c, L->x0 + side / 2, bottom + 8 + L->names_w + 12, "predicted class", 2, BLACK);
	char title[128];
	title_text(m, title, sizeof title);
	draw_text_centred(&c, L->W / 2, 16, title, draw_text_width(title, 3) + 16 <= L->W ? 3 : 2, BLACK);
	return c;
}

/* Write c to a temporary file beside path (removed by die()); returns its
 * name, renamed to path once stdout is written. */
static char *write_picture_tmp(const canvas_t *c, draw_format_t format, const char *path, const theader *in)
{
	char *tmp;
	int fd = tmpfile_create(path, &tmp);
	FILE *fp = fdopen(fd, "wb");
	if (!fp)
		die("%s:", tmp);
	char *comment = draw_history_text(in);
	draw_write(c, format, comment, fp, tmp);
	free(comment);
	if (fflush(fp) != 0 || ferror(fp) || fsync(fileno(fp)) != 0)
		die("%s: write error:", tmp);
	if (fclose(fp) != 0)
		die("%s: write error:", tmp);
	return tmp;
}

/* --- main -------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"stream", no_argument, 0, 's'}, {"png", required_argument, 0, 'p'},
		{"svg", required_argument, 0, 'v'}, {"pdf", required_argument, 0, 'd'}, {0}};
	const char *png = NULL, *flag = NULL;   /* the picture's path and its option */
	draw_format_t format = DRAW_PNG;
	int stream = 0, c;
	tiny_init(argc, argv, usage_line);
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 's': stream = 1; break;
		case 'p':
		case 'v':
		case 'd':
			if (png)
				usage_error("--png, --svg and --pdf exclude each other: one picture");
			png = optarg, flag = c == 'p' ? "--png" : c == 'v' ? "--svg" : "--pdf";
			format = c == 'p' ? DRAW_PNG : c == 'v' ? DRAW_SVG : DRAW_PDF;
			break;
		default: usage();
		}
	}
	if (png && (!*png || !strcmp(png, "-")))
		usage_error("%s '%s': expected a file name (stdout carries the %s)", flag, png, stream ? "stream" : "table");
	if (argc - optind > 1)
		usage_error("expected at most one input file");
	sin_t *in = sin_open(optind < argc ? argv[optind] : NULL);

	confusion_t m = {0};
	int nclasses = th_words(th_attr(&in->h, "classes"), &m.names);
	if (nclasses > MAX_CLASSES)
		die("%s: %d classes, more than the %d this stage scores", in->name, nclasses, MAX_CLASSES);
	int32_t *lab, *pred;
	int64_t N = read_pairs(in, nclasses, &lab, &pred);
	m.K = nclasses;
	if (!nclasses) {  /* name the classes by number */
		for (int64_t r = 0; r < N; r++)
			m.K = max_int(m.K, max_int(lab[r], pred[r]) + 1);
		th_words_free(m.names, 0);
		m.names = xmalloc(m.K * sizeof *m.names);
		for (int i = 0; i < m.K; i++) {
			m.names[i] = xmalloc(16);
			snprintf(m.names[i], 16, "%d", i);
		}
	}
	confusion_count(&m, lab, pred, N);
	free(lab);
	free(pred);

	/* the picture first, under its temporary name: every check is behind us */
	char *tmp = NULL;
	if (png) {
		layout_t L = layout(&m);
		canvas_t pic = draw_confusion(&m, &L);
		tmp = write_picture_tmp(&pic, format, png, &in->h);
		canvas_free(&pic);
	}
	if (stream)
		write_stream(&m, &in->h);
	else
		print_table(&m, in->name);
	sin_close(in);
	if (!tiny_stdout_closed)  /* sout_close closes it after a stream */
		close_stdout();
	/* the picture appears only once stdout is safely written */
	if (tmp) {
		if (rename(tmp, png) != 0)
			die("%s: cannot rename %s into place:", png, tmp);
		tmpfile_forget(tmp);
		free(tmp);
	}
	th_words_free(m.names, m.K);
	return 0;
}
