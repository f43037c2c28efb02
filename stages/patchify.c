/*
 * tiny-patchify - cut every image into square patches, one record per patch
 * (section 2.5 of the report, Figure 2.4).
 *
 * usage: tiny-patchify --size S --stride T [--subsample S2] [--patch K] [--normalize EPS] [FILE]
 *        tiny-patchify --size S --random N [--seed SEED] [--normalize EPS] [FILE]
 *
 * The input field x is an image [C,H,W] of any dtype.  Grid patches are the
 * SxS windows whose top-left corners are (r, c) = (i T, j T) for every i, j
 * with i T + S <= H and j T + S <= W: ROWS = (H - S) / T + 1 of them down,
 * COLS = (W - S) / T + 1 across, numbered row-major (patch 0 top-left, then
 * along the top row).  --subsample S2 adds one more patch after the grid, the
 * whole image averaged down to S2 x S2:
 *
 *   sub[c][i][j] = mean of x[c][i bh + a][j bw + b] over a < bh, b < bw,
 *   bh = H / S2, bw = W / S2   (H and W must be multiples of S2, and S2 = S
 *                               so that every patch has one shape)
 *
 * so P = ROWS x COLS (+ 1) patches per image.  Each input record becomes P
 * output records (or one with --patch K, K in 0..P-1): x becomes [C,S,S],
 * the new field `patch i32 []` (appended last) holds the patch number, and
 * every other field is copied through in its place.  x keeps its dtype,
 * except that integer images with --subsample come out f32 (an average is
 * not an integer; the grid patches are converted too).
 *
 * The report's layout is --size 8 --stride 6 --subsample 8 on 32x32 images:
 * 25 overlapping 8x8 patches at rows and columns 0, 6, 12, 18, 24, and the
 * 26th subsampled one.  The geometry goes into attributes for later stages
 * (rbm-merge): patch_size S, patch_stride T, patch_subsample S2 (0 without),
 * patch_grid ROWS,COLS, image_shape C,H,W, patch_kept K (with --patch) and
 * patch_positions
 * "r0:c0 r1:c1 ..." (the top-left corner of every grid patch, in order).
 *
 * --random N cuts N patches from each image instead, at top-left corners
 * (r, c) drawn uniformly from 0..H-S and 0..W-S by the random stream
 * (SEED, record number), so the same seed and input give the same patches
 * whatever the block sizes: the patches a filter bank is learned from
 * (tiny-kmeans, tiny-rbm-train; Coates, Lee and Ng 2011 take 400000 of 6x6
 * from the 50000 CIFAR-10 images).  There is no patch field then;
 * attributes patch_size S, patch_random N, patch_seed SEED, image_shape.
 *
 * --normalize EPS normalises every patch's brightness and contrast (lib/
 * patch.c): x <- (x - mean(x)) / sqrt(var(x) + EPS) over its C S S values,
 * var with C S S - 1; x comes out f32 and the attribute patch_normalize
 * EPS tells tiny-conv to do the same to every patch of an image.  Coates
 * uses EPS 10 for pixels 0..255.
 * Spec of the stream: formats/stream.md.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tiny.h"

static const char *usage_line =
	"tiny-patchify --size S (--stride T [--subsample S2] [--patch K] | --random N [--seed SEED]) [--normalize EPS] "
	"[FILE]";

/* Where a field's bytes sit in the input record and in the output record. */
typedef struct {
	int64_t in_off, out_off, nbytes;
} span_t;

/* --- the geometry -------------------------------------------------------- */

typedef struct {
	int64_t C, H, W;       /* the image */
	int64_t S, T, S2;      /* patch size, stride, subsample size (0: none) */
	int64_t rows, cols;    /* the grid */
	int64_t P;             /* patches per image, grid plus subsampled */
} geom_t;

static char *fmt_positions(const geom_t *g)
{
	size_t len = 0, cap = 64;
	char *s = xmalloc(cap);
	s[0] = 0;
	for (int64_t i = 0; i < g->rows; i++)
		for (int64_t j = 0; j < g->cols; j++) {
			char item[64];
			int n = snprintf(item, sizeof item, "%s%" PRId64 ":%" PRId64, len ? " " : "", i * g->T, j * g->T);
			if (len + n + 1 > cap) {
				cap = 2 * (len + n + 1);
				s = xrealloc(s, cap);
			}
			memcpy(s + len, item, n + 1);
			len += n;
		}
	return s;
}

/* --- cutting one image ----------------------------------------------------- */

/* Copy grid patch (r, c) of the image at src (dtype size es) to dst
 * [C,S,S], byte for byte. */
static void cut_raw(const geom_t *g, int es, const unsigned char *src, int64_t r, int64_t c, unsigned char *dst)
{
	for (int64_t ch = 0; ch < g->C; ch++)
		for (int64_t a = 0; a < g->S; a++)
			memcpy(dst + ((ch * g->S + a) * g->S) * es, src + ((ch * g->H + r + a) * g->W + c) * es,
			       (size_t)(g->S * es));
}

/* Element k of an f32 or f64 field at dst holds v. */
static void put_real(dtype_t odt, unsigned char *dst, int64_t k, double v)
{
	if (odt == DT_F32) {
		float f = (float)v;
		memcpy(dst + 4 * k, &f, 4);
	} else {
		memcpy(dst + 8 * k, &v, 8);
	}
}

/* Grid patch (r, c) of the image img [C,H,W] (as double) to dst as f32 or f64. */
static void cut_conv(const geom_t *g, dtype_t odt, const double *img, int64_t r, int64_t c, unsigned char *dst)
{
	for (int64_t ch = 0; ch < g->C; ch++)
		for (int64_t a = 0; a < g->S; a++)
			for (int64_t b = 0; b < g->S; b++) {
				double v = img[(ch * g->H + r + a) * g->W + c + b];
				int64_t k = (ch * g->S + a) * g->S + b;
				put_real(odt, dst, k, v);
			}
}

/* The image img [C,H,W] averaged over (H/S2, W/S2) blocks to dst [C,S2,S2]. */
static void subsample(const geom_t *g, dtype_t odt, const double *img, unsigned char *dst)
{
	int64_t bh = g->H / g->S2, bw = g->W / g->S2;
	for (int64_t ch = 0; ch < g->C; ch++)
		for (int64_t i = 0; i < g->S2; i++)
			for (int64_t j = 0; j < g->S2; j++) {
				double sum = 0;
				for (int64_t a = 0; a < bh; a++)
					for (int64_t b = 0; b < bw; b++)
						sum += img[(ch * g->H + i * bh + a) * g->W + j * bw + b];
				double v = sum / (double)(bh * bw);
				int64_t k = (ch * g->S2 + i) * g->S2 + j;
				put_real(odt, dst, k, v);
			}
}

/* --- main -------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"size", required_argument, 0, 's'}, {"stride", required_argument, 0, 't'},
		{"subsample", required_argument, 0, 'u'}, {"patch", required_argument, 0, 'p'},
		{"random", required_argument, 0, 'r'}, {"seed", required_argument, 0, 'e'},
		{"normalize", required_argument, 0, 'n'}, {0}};
	geom_t g = {0};
	int64_t only = -1, random = 0;
	uint64_t seed = 1;
	int seeded = 0;
	double eps = -1;   /* --normalize: >= 0 */
	const char *size_arg = NULL, *patch_arg = NULL;
	int c;
	tiny_init(argc, argv, usage_line);
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 's': g.S = opt_i64("--size", optarg, 1, TINY_DIM_MAX); size_arg = optarg; break;
		case 't': g.T = opt_i64("--stride", optarg, 1, TINY_DIM_MAX); break;
		case 'u': g.S2 = opt_i64("--subsample", optarg, 1, TINY_DIM_MAX); break;
		case 'p': only = opt_i64("--patch", optarg, 0, INT32_MAX); patch_arg = optarg; break;
		case 'r': random = opt_i64("--random", optarg, 1, INT32_MAX); break;
		case 'e': seed = opt_u64("--seed", optarg); seeded = 1; break;
		case 'n': eps = opt_f64("--normalize", optarg, 0, 1e30); break;
		default: usage();
		}
	}
	if (random && (g.T || g.S2 || only >= 0))
		usage_error("--random excludes --stride, --subsample and --patch");
	if (seeded && !random)
		usage_error("--seed applies to --random");
	if (!g.S || (!g.T && !random))
		usage_error("--size and either --stride or --random are required");
	if (random)
		g.T = 1;   /* every position may be drawn */
	if (g.S2 && g.S2 != g.S)
		usage_error("--subsample %" PRId64 " differs from --size %" PRId64 " (every patch must have one shape)",
			    g.S2, g.S);
	if (argc - optind > 1)
		usage_error("expected at most one input file");

	sin_t *in = sin_open(optind < argc ? argv[optind] : NULL);
	int xi = th_find(&in->h, "x");
	if (xi < 0)
		die("%s: no field 'x' in the stream", in->name);
	const tfield *xf = &in->h.fields[xi];
	if (xf->rank != 3)
		die("%s: field 'x' has rank %d, expected an image [C,H,W]", in->name, xf->rank);
	if (!random && th_find(&in->h, "patch") >= 0)
		die("%s: the stream already has a field 'patch'", in->name);
	g.C = xf->dims[0];
	g.H = xf->dims[1];
	g.W = xf->dims[2];
	if (g.S > g.H || g.S > g.W)
		die("%s: --size %s is larger than the %" PRId64 "x%" PRId64 " image", in->name, size_arg, g.H, g.W);
	if (g.S2 && (g.H % g.S2 || g.W % g.S2))
		usage_error("--subsample %" PRId64 " does not divide the %" PRId64 "x%" PRId64 " image of %s",
			    g.S2, g.H, g.W, in->name);
	g.rows = (g.H - g.S) / g.T + 1;
	g.cols = (g.W - g.S) / g.T + 1;
	g.P = random ? random : g.rows * g.cols + (g.S2 ? 1 : 0);   /* <= H W + 1, and H W <= 2^34 */
	if (g.P > INT32_MAX)
		die("%s: %" PRId64 " patches per image do not fit the i32 field 'patch'", in->name, g.P);
	if (only >= g.P)
		usage_error("--patch %s is outside 0..%" PRId64 " (the %" PRId64 " patches of the %" PRId64 "x%" PRId64
			    " image)", patch_arg, g.P - 1, g.P, g.H, g.W);
	int64_t per = only >= 0 ? 1 : g.P;   /* output records per input record */
	dtype_t idt = xf->dtype;
	dtype_t odt = eps >= 0 ? DT_F32 : g.S2 && dtype_is_int(idt) ? DT_F32 : idt;

	/* the output header: x reshaped in its place, patch last, attributes */
	theader h;
	th_init(&h);
	h.count = TINY_COUNT_UNKNOWN;
	if (in->h.count != TINY_COUNT_UNKNOWN) {
		if (in->h.count > (TINY_BODY_MAX - 1) / per)
			die("%s: %" PRId64 " records x %" PRId64 " patches is more than a stream can count", in->name,
			    in->h.count, per);
		h.count = in->h.count * per;
	}
	char err[256];
	for (int i = 0; i < in->h.nfields; i++) {
		const tfield *f = &in->h.fields[i];
		int64_t xdims[3] = {g.C, g.S, g.S};
		if (th_add_field(&h, f->name, i == xi ? odt : f->dtype, f->rank, i == xi ? xdims : f->dims, err,
				 sizeof err) < 0)
			die("%s: output header: %s", in->name, err);
	}
	if (!random)
		th_field(&h, "patch", DT_I32, 0);
	for (int i = 0; i < in->h.nattrs; i++)
		th_attr_add(&h, in->h.attrs[i].key, in->h.attrs[i].value);
	th_attr_setf(&h, "patch_size", "%" PRId64, g.S);
	if (random) {
		th_attr_setf(&h, "patch_random", "%" PRId64, random);
		th_attr_setf(&h, "patch_seed", "%" PRIu64, seed);
	} else {
		th_attr_setf(&h, "patch_stride", "%" PRId64, g.T);
		th_attr_setf(&h, "patch_subsample", "%" PRId64, g.S2);
		th_attr_setf(&h, "patch_grid", "%" PRId64 ",%" PRId64, g.rows, g.cols);
	}
	th_attr_setf(&h, "image_shape", "%" PRId64 ",%" PRId64 ",%" PRId64, g.C, g.H, g.W);
	if (eps >= 0)
		th_attr_setf(&h, "patch_normalize", "%g", eps);
	char *positions = random ? xstrdup("") : fmt_positions(&g);
	if (!random)
		th_attr_set(&h, "patch_positions", positions);
	if (only >= 0) {
		/* which patch this stream holds: a model trained on it says so */
		char k[32];
		snprintf(k, sizeof k, "%" PRId64, only);
		th_attr_set(&h, "patch_kept", k);
	}
	free(positions);
	th_add_history(&h);

	/* every field but x moves as one span of bytes */
	span_t spans[TINY_MAX_FIELDS];
	int nspans = 0;
	for (int i = 0; i < in->h.nfields; i++)
		if (i != xi)
			spans[nspans++] = (span_t){in->h.fields[i].offset, h.fields[i].offset, in->h.fields[i].nbytes};
	const tfield *oxf = &h.fields[xi], *pf = random ? NULL : &h.fields[h.nfields - 1];

	sout_t *out = sout_open(NULL, &h);
	int64_t R = in->h.recsize, Ro = h.recsize;
	int64_t B = R > (1 << 20) ? 1 : (1 << 20) / R;            /* input block, ~1 MiB */
	int64_t OB = Ro > (1 << 20) ? 1 : (1 << 20) / Ro, m = 0;  /* output block */
	unsigned char *buf = xmalloc((size_t)(B * R)), *obuf = xmalloc((size_t)(OB * Ro));
	double *img = odt != idt || g.S2 ? xmalloc((size_t)xf->n * sizeof *img) : NULL;
	float *norm = eps >= 0 ? xmalloc((size_t)oxf->n * sizeof *norm) : NULL;
	int es = dtype_sizes[idt];
	int64_t n, done = 0;
	while ((n = sin_read(in, buf, B)) > 0) {
		for (int64_t r = 0; r < n; r++, done++) {
			const unsigned char *rec = buf + r * R;
			if (img)
				tf_get_f64(xf, rec, 1, R, img);
			rng_t rng;
			rng_seed(&rng, seed, (uint64_t)done);
			for (int64_t p = only >= 0 ? only : 0; p < (only >= 0 ? only + 1 : g.P); p++) {
				unsigned char *orec = obuf + m * Ro, *ox = orec + oxf->offset;
				int64_t top = p / g.cols * g.T, left = p % g.cols * g.T;
				if (random) {
					top = (int64_t)rng_below(&rng, (uint64_t)(g.H - g.S + 1));
					left = (int64_t)rng_below(&rng, (uint64_t)(g.W - g.S + 1));
				}
				for (int s = 0; s < nspans; s++)
					memcpy(orec + spans[s].out_off, rec + spans[s].in_off, (size_t)spans[s].nbytes);
				if (!random && p == g.rows * g.cols)
					subsample(&g, odt, img, ox);
				else if (odt == idt)
					cut_raw(&g, es, rec + xf->offset, top, left, ox);
				else
					cut_conv(&g, odt, img, top, left, ox);
				if (norm) {
					memcpy(norm, ox, (size_t)oxf->nbytes);
					patch_normalize(norm, 1, oxf->n, eps);
					memcpy(ox, norm, (size_t)oxf->nbytes);
				}
				if (pf)
					tf_set_i64(pf, orec, p);
				if (++m == OB) {
					sout_write(out, obuf, m);
					m = 0;
				}
			}
		}
	}
	sout_write(out, obuf, m);
	sout_close(out);
	sin_close(in);
	th_free(&h);
	free(buf);
	free(obuf);
	free(img);
	free(norm);
	return 0;
}
