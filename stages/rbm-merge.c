/*
 * tiny-rbm-merge - merge RBMs trained on image patches into one RBM of the
 * whole image (section 2.5.1 of the report, Figure 2.7).
 *
 * usage: tiny-rbm-merge PATCHMODEL...
 *
 * Each PATCHMODEL is an RBM (lib/rbm.c) trained on `tiny-patchify --size S
 * --stride T [--subsample S2] --patch K` output, so it carries the layout
 * attributes patch_size S, patch_stride T, patch_subsample S2, patch_grid,
 * image_shape C,IH,IW, patch_positions "r:c ..." and patch_kept K.  The
 * models must agree on the layout, on rbm_visible and on their number of
 * hidden units H_p, and hold every patch 0..P-1 exactly once (in any order
 * on the command line), where P is the number of grid patches, plus one when
 * S2 > 0.  Grid patches have V = C S S visible units, the subsampled one
 * C S2 S2; IH and IW must be multiples of S2.  The report's layout is 26
 * models of 300 hidden units, 25 grid patches of 8x8 at stride 6 and the
 * 8x8 subsampled image, merged into one RBM with 7800 hidden units.
 *
 * The merged RBM has V = C IH IW visible units (one per pixel, in image
 * order) and H = P H_p hidden units, patch k's units at columns
 * off_k = k H_p .. off_k + H_p - 1.  With W_k (V_k, H_p) patch k's weights:
 *
 *   grid patch k at top-left corner (r0, c0):
 *     W[(c, r0 + y, c0 + x), off_k + j] = W_k[(c, y, x), j]
 *   the subsampled patch (the last), blocks of fh x fw = IH/S2 x IW/S2:
 *     W[(c, y fh + dy, x fw + dx), off + j] = W_sub[(c, y, x), j] / (fh fw)
 *   and W = 0 elsewhere (pixels outside a patch do not reach its units).
 *
 * The subsampled unit sees the mean of its block, so spreading its weight
 * over the block and dividing by fh fw gives the hidden units the same
 * input from an image as they had from its subsampled version (exactly so
 * when sigma is the same throughout the block).
 *
 *   hbias = (hbias_0, hbias_1, ..., hbias_{P-1})       concatenated
 *   vbias[p] = mean of the vbias that the models covering pixel p give it
 *   sigma[p] = likewise the mean of their sigma
 *
 * where the models covering p are the grid patches that contain it and the
 * subsampled patch (its one unit whose block holds p).  A pixel no model
 * covers (a grid that stops short of the edge, without S2) gets vbias 0 and
 * the mean sigma of all the models, with a warning.  The output copies the
 * attributes of patch 0's model less patch_kept and train_* (its training
 * state, not the merged model's), sets shape = image_shape
 * and merged_from "P=... H_p=...", and appends its history.  Spec of the
 * stream: formats/stream.md.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tiny.h"

static const char *usage_line = "tiny-rbm-merge PATCHMODEL...";

/* The attributes every patch model carries and every one must agree on. */
static const char *const layout_keys[] = {"patch_size", "patch_stride", "patch_subsample",
					   "patch_grid", "image_shape", "patch_positions"};
enum { NKEYS = sizeof layout_keys / sizeof *layout_keys };

/* --- the layout -------------------------------------------------------------- */

typedef struct {
	int64_t C, IH, IW;   /* image_shape */
	int64_t S, T, S2;    /* patch size, stride, subsample size (0: none) */
	int64_t rows, cols;  /* patch_grid */
	int64_t *r0, *c0;    /* top-left corners of the rows x cols grid patches */
	int64_t P;           /* patches: rows cols (+ 1) */
} layout_t;

static const char *need_attr(const sin_t *s, const char *key)
{
	const char *v = th_attr(&s->h, key);
	if (!v)
		die("%s: no attribute '%s' (a patch model is trained on tiny-patchify --patch K output, "
		    "whose layout it copies)", s->name, key);
	return v;
}

/* Parse *p as a decimal number in [lo, hi] followed by one of the
 * characters `stops`, or by the end of the string when stops is "". */
static int parse_num(const char **p, int64_t lo, int64_t hi, const char *stops, int64_t *out)
{
	char *end;
	if (**p < '0' || **p > '9')
		return -1;
	errno = 0;
	long long v = strtoll(*p, &end, 10);
	if (errno || v < lo || v > hi || (*stops ? !*end || !strchr(stops, *end) : *end != 0))
		return -1;
	*p = end;
	*out = v;
	return 0;
}

/* Attribute key of s as n numbers in [lo, hi] separated by commas. */
static void attr_nums(const sin_t *s, const char *key, int n, int64_t lo, int64_t hi, int64_t *out)
{
	const char *v = need_attr(s, key), *p = v;
	for (int i = 0; i < n; i++) {
		if (parse_num(&p, lo, hi, i + 1 < n ? "," : "", &out[i]) < 0)
			die("%s: %s '%s' is not %d number%s from %" PRId64 " to %" PRId64 " separated by commas",
			    s->name, key, v, n, n > 1 ? "s" : "", lo, hi);
		p += i + 1 < n;
	}
}

/* Read and check the layout of the first model s. */
static void layout_read(const sin_t *s, layout_t *g)
{
	int64_t shape[3], grid[2];
	attr_nums(s, "image_shape", 3, 1, TINY_DIM_MAX, shape);
	attr_nums(s, "patch_size", 1, 1, TINY_DIM_MAX, &g->S);
	attr_nums(s, "patch_stride", 1, 1, TINY_DIM_MAX, &g->T);
	attr_nums(s, "patch_subsample", 1, 0, TINY_DIM_MAX, &g->S2);
	attr_nums(s, "patch_grid", 2, 1, TINY_DIM_MAX, grid);
	g->C = shape[0], g->IH = shape[1], g->IW = shape[2];
	g->rows = grid[0], g->cols = grid[1];
	/* C IH IW is the merged V: bounded for BLAS, which also bounds the grid */
	if (g->C > INT32_MAX / g->IH || g->C * g->IH > INT32_MAX / g->IW)
		die("%s: image_shape %" PRId64 ",%" PRId64 ",%" PRId64 " has more than 2^31 - 1 pixels", s->name,
		    g->C, g->IH, g->IW);
	if (g->S > g->IH || g->S > g->IW)
		die("%s: patch_size %" PRId64 " is larger than the %" PRId64 "x%" PRId64 " image", s->name, g->S,
		    g->IH, g->IW);
	if (g->rows > g->IH || g->cols > g->IW)
		die("%s: patch_grid %" PRId64 ",%" PRId64 " does not fit the %" PRId64 "x%" PRId64 " image", s->name,
		    g->rows, g->cols, g->IH, g->IW);
	if (g->S2 && (g->IH % g->S2 || g->IW % g->S2))
		die("%s: patch_subsample %" PRId64 " does not divide the %" PRId64 "x%" PRId64 " image", s->name,
		    g->S2, g->IH, g->IW);
	int64_t n = g->rows * g->cols;
	g->P = n + (g->S2 > 0);
	g->r0 = xmalloc((size_t)n * sizeof *g->r0);
	g->c0 = xmalloc((size_t)n * sizeof *g->c0);
	const char *v = need_attr(s, "patch_positions"), *p = v;
	for (int64_t k = 0; k < n; k++) {
		if (parse_num(&p, 0, g->IH - g->S, ":", &g->r0[k]) < 0 || !*p++ ||
		    parse_num(&p, 0, g->IW - g->S, k + 1 < n ? " " : "", &g->c0[k]) < 0)
			die("%s: patch_positions: item %" PRId64 " of the %" PRId64 " that patch_grid %" PRId64
			    ",%" PRId64 " promises is not 'r:c' with a %" PRId64 "x%" PRId64
			    " patch inside the %" PRId64 "x%" PRId64 " image",
			    s->name, k + 1, n, g->rows, g->cols, g->S, g->S, g->IH, g->IW);
		p += k + 1 < n;
	}
}

/* --- the patch models --------------------------------------------------------- */

typedef struct {
	rbm_t m;
	const char *name;    /* the path as given */
	int loaded;
} part_t;

/* Load every model into parts[K] by its patch_kept K, checking it against
 * the first (which fixes the layout g and whose header goes to *h0). */
static part_t *load_parts(int nfiles, char **files, layout_t *g, theader *h0)
{
	part_t *parts = NULL;
	const char *first = NULL, *vis0 = NULL, *keys0[NKEYS];
	int64_t H = 0;
	for (int f = 0; f < nfiles; f++) {
		sin_t *s = sin_open(files[f]);
		rbm_t m;
		rbm_load(&m, s, NULL);
		tf_check_finite_f32(m.vbias, 1, m.V, 0, s->name, "vbias");
		tf_check_finite_f32(m.hbias, 1, m.H, 0, s->name, "hbias");
		const char *kept = need_attr(s, "patch_kept");
		for (int i = 0; i < NKEYS; i++)
			need_attr(s, layout_keys[i]);
		if (!first) {
			layout_read(s, g);
			first = files[f];
			for (int i = 0; i < NKEYS; i++)
				keys0[i] = xstrdup(th_attr(&s->h, layout_keys[i]));
			vis0 = xstrdup(th_attr(&s->h, "rbm_visible"));
			H = m.H;
			parts = xcalloc((size_t)g->P, sizeof *parts);
		}
		for (int i = 0; i < NKEYS; i++)
			if (strcmp(th_attr(&s->h, layout_keys[i]), keys0[i]))
				die("%s: %s '%s' disagrees with %s's '%s'", s->name, layout_keys[i],
				    th_attr(&s->h, layout_keys[i]), first, keys0[i]);
		if (strcmp(th_attr(&s->h, "rbm_visible"), vis0))
			die("%s has %s visible units, %s %s", s->name, th_attr(&s->h, "rbm_visible"), first, vis0);
		if (m.H != H)
			die("%s has H = %" PRId64 " hidden units, %s has %" PRId64 " (all parts need the same H)",
			    s->name, m.H, first, H);
		int64_t k;
		const char *p = kept;
		if (parse_num(&p, 0, g->P - 1, "", &k) < 0)
			die("%s: patch_kept '%s' is not a patch number from 0 to %" PRId64 " (the %" PRId64
			    " patches of the layout)", s->name, kept, g->P - 1, g->P);
		if (parts[k].loaded)
			die("%s and %s both hold patch %" PRId64, parts[k].name, s->name, k);
		int64_t side = g->S2 && k == g->P - 1 ? g->S2 : g->S, V = g->C * side * side;
		if (m.V != V)
			die("%s: V = %" PRId64 " visible units, but patch %" PRId64 " is %" PRId64 "x%" PRId64
			    " pixels of %" PRId64 " channels, V = %" PRId64, s->name, m.V, k, side, side, g->C, V);
		if (k == 0)
			th_copy(h0, &s->h);
		parts[k] = (part_t){m, files[f], 1};
		sin_close(s);
	}
	char missing[256] = "";
	int64_t nmissing = 0;
	size_t len = 0;
	for (int64_t k = 0; k < g->P; k++)
		if (!parts[k].loaded && ++nmissing <= 10)
			len += snprintf(missing + len, sizeof missing - len, " %" PRId64, k);
	if (nmissing)
		die("no model for patch%s%s%s (the layout of %s has %" PRId64 ": 0..%" PRId64 ")",
		    nmissing > 1 ? "es" : "", missing, nmissing > 10 ? " ..." : "", first, g->P, g->P - 1);
	for (int i = 0; i < NKEYS; i++)
		free((char *)keys0[i]);
	free((char *)vis0);
	return parts;
}

/* --- merging ------------------------------------------------------------------ */

/* The big RBM from the parts: weights placed as in the banner, biases and
 * sigma averaged over the models covering each pixel. */
static void merge(const layout_t *g, const part_t *parts, rbm_t *big)
{
	int64_t Hp = parts[0].m.H, H = g->P * Hp, IH = g->IH, IW = g->IW, V = g->C * IH * IW;
	int64_t ngrid = g->rows * g->cols;
	rbm_alloc(big, V, H, parts[0].m.gaussian);   /* W (V,H) zero */
	double *vsum = xcalloc((size_t)V, sizeof *vsum), *ssum = xcalloc((size_t)V, sizeof *ssum), sall = 0;
	int64_t *cnt = xcalloc((size_t)V, sizeof *cnt), nall = 0;

	for (int64_t k = 0; k < g->P; k++) {
		const rbm_t *m = &parts[k].m;
		int64_t off = k * Hp;
		memcpy(big->hbias + off, m->hbias, (size_t)Hp * sizeof *big->hbias);
		for (int64_t i = 0; i < m->V; i++)
			sall += m->sigma[i];
		nall += m->V;
		if (k < ngrid) {
			/* grid patch: unit (c,y,x) of W_k (C S S, Hp) is pixel (c, r0+y, c0+x) */
			int64_t S = g->S;
			for (int64_t c = 0; c < g->C; c++)
				for (int64_t y = 0; y < S; y++)
					for (int64_t x = 0; x < S; x++) {
						int64_t vs = (c * S + y) * S + x;
						int64_t vb = (c * IH + g->r0[k] + y) * IW + g->c0[k] + x;
						memcpy(big->W + vb * H + off, m->W + vs * Hp, (size_t)Hp * sizeof *big->W);
						vsum[vb] += m->vbias[vs];
						ssum[vb] += m->sigma[vs];
						cnt[vb]++;
					}
		} else {
			/* subsampled patch: unit (c,y,x) of W_sub (C S2 S2, Hp) spreads over
			 * the fh x fw block at (y fh, x fw), divided by fh fw */
			int64_t S2 = g->S2, fh = IH / S2, fw = IW / S2;
			float area = (float)(fh * fw);
			for (int64_t c = 0; c < g->C; c++)
				for (int64_t y = 0; y < S2; y++)
					for (int64_t x = 0; x < S2; x++) {
						int64_t vs = (c * S2 + y) * S2 + x;
						for (int64_t dy = 0; dy < fh; dy++)
							for (int64_t dx = 0; dx < fw; dx++) {
								int64_t vb = (c * IH + y * fh + dy) * IW + x * fw + dx;
								for (int64_t j = 0; j < Hp; j++)
									big->W[vb * H + off + j] = m->W[vs * Hp + j] / area;
								vsum[vb] += m->vbias[vs];
								ssum[vb] += m->sigma[vs];
								cnt[vb]++;
							}
					}
		}
	}
	int64_t uncovered = 0;
	for (int64_t v = 0; v < V; v++) {
		if (cnt[v]) {
			big->vbias[v] = (float)(vsum[v] / (double)cnt[v]);
			big->sigma[v] = (float)(ssum[v] / (double)cnt[v]);
		} else {
			big->vbias[v] = 0;
			big->sigma[v] = (float)(sall / (double)nall);
			uncovered++;
		}
	}
	if (uncovered)
		warn("%" PRId64 " of the %" PRId64 " visible units lie in no patch: vbias 0, sigma %g (the mean of the parts)",
		     uncovered, V, (double)(sall / (double)nall));
	free(vsum), free(ssum), free(cnt);
}

/* --- main -------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	tiny_init(argc, argv, usage_line);
	int a = 1;
	if (a < argc && !strcmp(argv[a], "--"))
		a++;
	if (a == argc)
		usage();
	for (int i = a; i < argc; i++) {
		if (argv[i][0] == '-' && argv[i][1])
			usage_error("unknown option '%s'", argv[i]);
		if (!strcmp(argv[i], "-"))
			usage_error("the patch models are files, not stdin");
	}

	layout_t g = {0};
	theader h;
	th_init(&h);
	part_t *parts = load_parts(argc - a, argv + a, &g, &h);
	int64_t Hp = parts[0].m.H, V = g.C * g.IH * g.IW;
	if (Hp > INT32_MAX / g.P)
		die("%" PRId64 " patches x %" PRId64 " hidden units is more than 2^31 - 1", g.P, Hp);
	if (V * (g.P * Hp + 2) + g.P * Hp > TINY_RECORD_MAX / 4)
		die("the merged RBM of %" PRId64 " x %" PRId64 " weights is larger than a stream record may be", V,
		    g.P * Hp);

	rbm_t big;
	merge(&g, parts, &big);

	/* patch 0's attributes less patch_kept and its training state (train_*,
	 * which tiny-rbm-train --init would read): the layout stays, as a
	 * record of where the hidden units came from */
	while (h.nfields)
		th_remove_field(&h, 0);
	th_attr_del(&h, "patch_kept");
	for (int i = 0; i < h.nattrs;) {
		if (strncmp(h.attrs[i].key, "train_", 6)) {
			i++;
			continue;
		}
		char *key = xstrdup(h.attrs[i].key);   /* th_attr_del frees the original */
		th_attr_del(&h, key);
		free(key);
	}
	char buf[128];
	snprintf(buf, sizeof buf, "%" PRId64 ",%" PRId64 ",%" PRId64, g.C, g.IH, g.IW);
	th_attr_set(&h, "shape", buf);
	snprintf(buf, sizeof buf, "P=%" PRId64 " H_p=%" PRId64, g.P, Hp);
	th_attr_set(&h, "merged_from", buf);
	rbm_fields(&big, &h);
	th_add_history(&h);

	unsigned char *rec = xmalloc((size_t)h.recsize);
	rbm_pack(&big, &h, rec);
	sout_t *o = sout_open(NULL, &h);
	sout_write(o, rec, 1);
	sout_close(o);

	free(rec);
	th_free(&h);
	rbm_free(&big);
	for (int64_t k = 0; k < g.P; k++)
		rbm_free(&parts[k].m);
	free(parts), free(g.r0), free(g.c0);
	return 0;
}
