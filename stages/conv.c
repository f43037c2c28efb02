/*
 * tiny-conv - apply a filter bank learned on patches at every position of
 * whole images, and pool: convolutional features (Coates, Lee and Ng 2011,
 * "An Analysis of Single-Layer Networks in Unsupervised Feature Learning",
 * section 3.2; the report's 8x8 patch RBMs of section 2.5 apply alike).
 *
 * usage: tiny-conv [--zca ZCA] [--stride T] [--activation rbm|triangle|soft] [--alpha A]
 *                  [--pool G] [--pool-op sum|max] [-q] BANK [FILE]
 *
 * BANK holds W f32 [D,K], column k filter k over a C x SH x SW patch (its
 * attribute shape C,SH,SW): a tiny-kmeans model (centroids) or any
 * tiny-rbm-train model of patches (then also hbias, sigma).  The input's x
 * is an image [C,H,W] of any dtype.  The patches are the SH x SW windows at
 * every T-th row and column, ROWS = (H - SH) / T + 1 down, COLS across
 * (stride 1 by default), each treated exactly as the bank's patches were:
 *
 *   normalised     x <- (x - mean(x)) / sqrt(var(x) + eps)   when BANK has the
 *                  attribute patch_normalize eps (tiny-patchify --normalize)
 *   whitened       x <- W_zca (x - m)   with --zca ZCA, which must be the model
 *                  the bank's patches were whitened by (BANK's attribute
 *                  zca_fingerprint, lib/patch.c); a bank learned on whitened
 *                  patches without --zca, or the reverse, is an error
 *
 * and then encoded into K numbers, f_k (--activation; the default is rbm
 * for an RBM, triangle otherwise):
 *
 *   rbm        f_k = logistic(hbias_k + sum_i (x_i / sigma_i) W_ik), the hidden
 *              probabilities (binary visibles: u8 images are read as x / 255)
 *   triangle   z_k = |x - w_k|, f_k = max(0, mean_j(z_j) - z_k)   (Coates' "k-means
 *              (triangle)": about half the features are 0)
 *   soft       d_k = w_k / |w_k|, f_k = max(0, d_k . x - A), f_(K+k) = max(0, -d_k . x - A)
 *              (Coates and Ng 2011's soft threshold split by sign: 2K features;
 *              --alpha A, default 0.25)
 *
 * Pooling (--pool G, default 2: the image's quadrants) splits the ROWS x
 * COLS positions into a G x G grid, position row r in grid row r G / ROWS
 * (the same across), and sums the features of each cell (--pool-op max
 * takes the largest).  Output: x f32 [K', G, G] (K' = K, or 2K for soft),
 * every other field passed through, the input's attributes, conv_* ones
 * saying how, and history.
 *
 * The work is a block of images at a time: their patches laid out as rows
 * (im2col, P (B ROWS COLS, D)), normalised, whitened by one sgemm with
 * W_zca (D,D), encoded by one sgemm with the bank (D,K), then the
 * activation and pooling in one pass per image.  Memory depends on the
 * block, not on the number of images.  With -q no progress bar.
 * Spec of the stream: formats/stream.md.
 */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "tiny.h"

static const char *usage_line = "tiny-conv [--zca ZCA] [--stride T] [--activation rbm|triangle|soft] [--alpha A] "
				"[--pool G] [--pool-op sum|max] [-q] BANK [FILE]";

enum { ACT_RBM, ACT_TRIANGLE, ACT_SOFT };
static const char *const act_names[] = {"rbm", "triangle", "soft", NULL};
static const char *const pool_names[] = {"sum", "max", NULL};
enum { ROWS_PER_BLOCK = 8192 };   /* patches per sgemm, roughly */

typedef struct {
	int64_t C, SH, SW, D, K, KO;   /* patch shape, D = C SH SW values, K filters, KO outputs */
	int rbm, binary;               /* an RBM; with binary visibles */
	float *W;                      /* (D,K) as applied: / sigma for an RBM, unit columns for soft */
	float *bias;                   /* (K) hbias, or |w_k|^2 for triangle */
	double eps;                    /* patch_normalize, or -1 */
	char fingerprint[17];          /* zca_fingerprint, or "" */
} bank_t;

typedef struct {
	float *mean, *W;               /* (D), (D,D); NULL without --zca */
} zca_t;

/* --- the bank and the whitening ------------------------------------------------ */

static void parse_shape(const char *a, bank_t *b, const char *name)
{
	long long c, h, w;
	int used = 0;
	if (!a || sscanf(a, "%lld,%lld,%lld%n", &c, &h, &w, &used) != 3 || a[used] || c < 1 || h < 1 || w < 1 ||
	    c > TINY_DIM_MAX || h > TINY_DIM_MAX || w > TINY_DIM_MAX)
		die("%s: expected an attribute shape C,SH,SW (the patches the bank was learned on), found '%s'", name,
		    a ? a : "none");
	b->C = c, b->SH = h, b->SW = w;
}

static void load_bank(bank_t *b, const char *path, int act)
{
	sin_t *ms = sin_open(path);
	parse_shape(th_attr(&ms->h, "shape"), b, ms->name);
	b->eps = patch_normalize_attr(&ms->h, ms->name);
	const char *fp = th_attr(&ms->h, "zca_fingerprint");
	snprintf(b->fingerprint, sizeof b->fingerprint, "%s", fp ? fp : "");
	b->rbm = th_find(&ms->h, "hbias") >= 0;
	float *sigma = NULL;
	if (b->rbm) {
		rbm_t m;
		rbm_load(&m, ms, NULL);
		b->D = m.V, b->K = m.H, b->binary = !m.gaussian;
		b->W = m.W, b->bias = m.hbias, sigma = m.sigma;
		free(m.vbias);
	} else {
		const tfield *fw = model_field(ms, "filter bank", "W", DT_F32, 2, (int64_t[]){-1, -1}, "D,K");
		b->D = fw->dims[0], b->K = fw->dims[1];
		unsigned char *rec = xmalloc((size_t)ms->h.recsize);
		if (sin_read(ms, rec, 1) != 1)
			die("%s: no record", ms->name);
		b->W = xmalloc((size_t)fw->n * sizeof *b->W);
		tf_get_f32(fw, rec, 1, ms->h.recsize, b->W);
		free(rec);
		b->bias = xmalloc((size_t)b->K * sizeof *b->bias);
	}
	if (b->D != b->C * b->SH * b->SW)
		die("%s: W has %" PRId64 " rows but its shape %" PRId64 ",%" PRId64 ",%" PRId64 " holds %" PRId64 " values",
		    ms->name, b->D, b->C, b->SH, b->SW, b->C * b->SH * b->SW);
	tf_check_finite_f32(b->W, 1, b->D * b->K, 0, ms->name, "W");
	if (act == ACT_RBM && !b->rbm)
		die("%s is not an RBM (no hbias): --activation rbm needs one", ms->name);
	if (act == ACT_RBM && b->binary && (b->eps >= 0 || b->fingerprint[0]))
		die("%s: an RBM of binary visibles cannot take normalised or whitened patches", ms->name);
	int64_t D = b->D, K = b->K;
	if (act == ACT_RBM) {
		tf_check_finite_f32(b->bias, 1, K, 0, ms->name, "hbias");
		for (int64_t i = 0; i < D; i++)
			for (int64_t k = 0; k < K; k++)
				b->W[i * K + k] /= sigma[i];
	} else {
		/* column norms: |w_k|^2 for triangle, unit columns for soft */
		for (int64_t k = 0; k < K; k++) {
			double s = 0;
			for (int64_t i = 0; i < D; i++)
				s += (double)b->W[i * K + k] * b->W[i * K + k];
			b->bias[k] = (float)s;
			if (act == ACT_SOFT && s > 0)
				for (int64_t i = 0; i < D; i++)
					b->W[i * K + k] = (float)(b->W[i * K + k] / sqrt(s));
		}
	}
	b->KO = act == ACT_SOFT ? 2 * K : K;
	free(sigma);
	sin_close(ms);
}

static void load_zca(zca_t *z, const char *path, const bank_t *b, const char *bank_name)
{
	if (!path) {
		if (b->fingerprint[0])
			die("%s was learned on whitened patches (zca_fingerprint %s): give their whitening model with --zca",
			    bank_name, b->fingerprint);
		return;
	}
	sin_t *ms = sin_open(path);
	const tfield *fm = model_field(ms, "tiny-zca model", "mean", DT_F32, 1, (int64_t[]){-1}, "D");
	const tfield *fw = model_field(ms, "tiny-zca model", "W", DT_F32, 2, (int64_t[]){fm->n, fm->n}, NULL);
	if (fm->n != b->D)
		die("%s whitens %" PRId64 " values; the bank's patches have %" PRId64, ms->name, fm->n, b->D);
	unsigned char *rec = xmalloc((size_t)ms->h.recsize);
	if (sin_read(ms, rec, 1) != 1)
		die("%s: no record", ms->name);
	z->mean = xmalloc((size_t)b->D * sizeof *z->mean);
	z->W = xmalloc((size_t)(b->D * b->D) * sizeof *z->W);
	tf_get_f32(fm, rec, 1, ms->h.recsize, z->mean);
	tf_get_f32(fw, rec, 1, ms->h.recsize, z->W);
	free(rec);
	char fp[17];
	zca_fingerprint(z->mean, z->W, b->D, fp);
	if (!b->fingerprint[0])
		die("%s was learned on patches that were not whitened; --zca %s would whiten them", bank_name, ms->name);
	if (strcmp(fp, b->fingerprint))
		die("%s is not the whitening %s was learned with (fingerprint %s, the bank's %s)", ms->name, bank_name, fp,
		    b->fingerprint);
	sin_close(ms);
}

/* --- one block of images ---------------------------------------------------------- */

typedef struct {
	int64_t H, W, T, rows, cols, npos, G;
	int act, pool_max;
	float alpha;
} geom_t;

/* P (npos, D): the patches of the image img [C,H,W], row-major positions. */
static void im2col(const bank_t *b, const geom_t *g, const float *img, float *P)
{
	for (int64_t r = 0; r < g->rows; r++)
		for (int64_t c = 0; c < g->cols; c++) {
			float *p = P + (r * g->cols + c) * b->D;
			for (int64_t ch = 0; ch < b->C; ch++)
				for (int64_t i = 0; i < b->SH; i++)
					memcpy(p + (ch * b->SH + i) * b->SW, img + (ch * g->H + r * g->T + i) * g->W + c * g->T,
					       (size_t)b->SW * sizeof *p);
		}
}

/* out (KO, G, G): the pooled features of one image from its encodings Z
 * (npos, K), and (triangle) its whitened patches P (npos, D); f (KO) and
 * acc (G G, KO) are scratch.  The cells are summed in acc, one contiguous
 * row per cell, and laid out as (KO, G, G) at the end.  The Makefile
 * builds this file with -fno-math-errno so that sqrtf runs as a vector
 * instruction (its argument is never negative here).  Built for AVX2 too,
 * taken where the CPU has it (8 lanes: 7-10% faster on K 1600 triangle;
 * the triangle's mean sums in another order, features within 1e-6 of
 * the default build's, and always the same on one machine). */
__attribute__((target_clones("avx2", "default")))
static void encode_pool(const bank_t *b, const geom_t *g, const float *Z, const float *P, float *f, float *acc,
			float *out)
{
	int64_t K = b->K, KO = b->KO, GG = g->G * g->G;
	const float *bias = b->bias, alpha = g->alpha;
	for (int64_t i = 0; i < KO * GG; i++)
		acc[i] = g->pool_max ? -INFINITY : 0;
	for (int64_t pos = 0; pos < g->npos; pos++) {
		const float *z = Z + pos * K;
		if (g->act == ACT_RBM) {
#pragma omp simd
			for (int64_t k = 0; k < K; k++)
				f[k] = 1.0f / (1.0f + expf(-(z[k] + bias[k])));
		} else if (g->act == ACT_TRIANGLE) {
			const float *x = P + pos * b->D;
			float xx = 0, mean = 0;
#pragma omp simd reduction(+ : xx)
			for (int64_t i = 0; i < b->D; i++)
				xx += x[i] * x[i];
#pragma omp simd reduction(+ : mean)
			for (int64_t k = 0; k < K; k++) {
				float d2 = xx - 2 * z[k] + bias[k];
				f[k] = sqrtf(d2 > 0 ? d2 : 0);
				mean += f[k];
			}
			mean /= (float)K;
#pragma omp simd
			for (int64_t k = 0; k < K; k++)
				f[k] = mean - f[k] > 0 ? mean - f[k] : 0;
		} else {
#pragma omp simd
			for (int64_t k = 0; k < K; k++) {
				f[k] = z[k] - alpha > 0 ? z[k] - alpha : 0;
				f[K + k] = -z[k] - alpha > 0 ? -z[k] - alpha : 0;
			}
		}
		int64_t r = pos / g->cols, c = pos % g->cols;
		float *a = acc + ((r * g->G / g->rows) * g->G + c * g->G / g->cols) * KO;
		if (g->pool_max) {
#pragma omp simd
			for (int64_t k = 0; k < KO; k++)
				a[k] = f[k] > a[k] ? f[k] : a[k];
		} else {
#pragma omp simd
			for (int64_t k = 0; k < KO; k++)
				a[k] += f[k];
		}
	}
	for (int64_t cell = 0; cell < GG; cell++)
		for (int64_t k = 0; k < KO; k++)
			out[k * GG + cell] = acc[cell * KO + k];
}

/* --- main ------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"zca", required_argument, 0, 'z'}, {"stride", required_argument, 0, 't'},
		{"activation", required_argument, 0, 'a'}, {"alpha", required_argument, 0, 'A'},
		{"pool", required_argument, 0, 'p'}, {"pool-op", required_argument, 0, 'o'},
		{"quiet", no_argument, 0, 'q'}, {0}};
	const char *zca_path = NULL, *pool_arg = "2", *stride_arg = "1";
	geom_t g = {.T = 1, .G = 2, .act = -1, .alpha = 0.25f};
	int c, alpha_set = 0;
	tiny_init(argc, argv, usage_line);
	while ((c = getopt_long(argc, argv, "q", longopts, NULL)) != -1) {
		switch (c) {
		case 'z': zca_path = optarg; break;
		case 't': g.T = opt_i64("--stride", optarg, 1, TINY_DIM_MAX); stride_arg = optarg; break;
		case 'a': g.act = opt_choice("--activation", optarg, act_names); break;
		case 'A': g.alpha = (float)opt_f64("--alpha", optarg, 0, 1e30); alpha_set = 1; break;
		case 'p': g.G = opt_i64("--pool", optarg, 1, TINY_DIM_MAX); pool_arg = optarg; break;
		case 'o': g.pool_max = opt_choice("--pool-op", optarg, pool_names); break;
		case 'q': tiny_quiet = 1; break;
		default: usage();
		}
	}
	const char *bank_path, *path;
	model_and_data(argc, argv, optind, &bank_path, &path);
	if (alpha_set && g.act != ACT_SOFT)
		usage_error("--alpha applies to --activation soft");

	/* the bank (its activation by default), the whitening, the images: every
	 * check before any output */
	if (g.act < 0) {
		sin_t *ms = sin_open(bank_path);
		g.act = th_find(&ms->h, "hbias") >= 0 ? ACT_RBM : ACT_TRIANGLE;
		sin_close(ms);
	}
	bank_t b = {0};
	load_bank(&b, bank_path, g.act);
	zca_t z = {0};
	load_zca(&z, zca_path, &b, bank_path);

	sin_t *in = sin_open(path);
	const tfield *fx = th_need(&in->h, "x", in->name);
	if (fx->rank != 3)
		die("%s: field 'x' has rank %d, expected an image [C,H,W]", in->name, fx->rank);
	if (fx->dims[0] != b.C)
		die("%s's patches have %" PRId64 " channels; %s's images have %" PRId64, bank_path, b.C, in->name,
		    fx->dims[0]);
	g.H = fx->dims[1], g.W = fx->dims[2];
	if (b.SH > g.H || b.SW > g.W)
		die("%s's %" PRId64 "x%" PRId64 " patches are larger than %s's %" PRId64 "x%" PRId64 " images", bank_path,
		    b.SH, b.SW, in->name, g.H, g.W);
	g.rows = (g.H - b.SH) / g.T + 1;
	g.cols = (g.W - b.SW) / g.T + 1;
	g.npos = g.rows * g.cols;
	if (g.G > g.rows || g.G > g.cols)
		die("--pool %s leaves a cell without a position: --stride %s gives %" PRId64 "x%" PRId64 " positions",
		    pool_arg, stride_arg, g.rows, g.cols);
	int64_t D = b.D, K = b.K, KO = b.KO, npos = g.npos, CHW = fx->n;
	if (KO * g.G * g.G > TINY_RECORD_MAX / 4)
		die("%" PRId64 " features x %s x %s cells do not fit a record", KO, pool_arg, pool_arg);

	theader h;
	int xi = th_find(&in->h, "x");
	int64_t odims[3] = {KO, g.G, g.G};
	th_copy(&h, &in->h);
	th_replace_field(&h, xi, DT_F32, 3, odims);
	char fp[17];
	model_fingerprint(b.W, (size_t)(D * K) * sizeof *b.W, NULL, 0, fp);
	th_attr_set(&h, "features_of", fp);
	th_attr_set(&h, "conv_activation", act_names[g.act]);
	if (g.act == ACT_SOFT)
		th_attr_setf(&h, "conv_alpha", "%g", g.alpha);
	th_attr_setf(&h, "conv_stride", "%" PRId64, g.T);
	th_attr_setf(&h, "conv_pool", "%" PRId64 " %s", g.G, pool_names[g.pool_max]);
	th_add_history(&h);

	/* a block: B images, B npos patches */
	int64_t B = ROWS_PER_BLOCK / npos > 0 ? ROWS_PER_BLOCK / npos : 1, R = in->h.recsize, OR = h.recsize, n,
		done = 0;
	unsigned char *raw = xmalloc((size_t)(B * R)), *orec = xmalloc((size_t)(B * OR));
	float *img = xmalloc((size_t)(B * CHW) * sizeof *img);
	float *P = xmalloc_big((size_t)(B * npos * D) * sizeof *P), *Pw = z.W ? xmalloc_big((size_t)(B * npos * D) * sizeof *Pw) : P;
	float *Z = xmalloc_big((size_t)(B * npos * K) * sizeof *Z), *out = xmalloc((size_t)(B * OR));
	int nthreads = 1;
#ifdef _OPENMP
	nthreads = omp_get_max_threads();
#endif
	float *fbuf = xmalloc((size_t)(nthreads * KO) * sizeof *fbuf),
	      *acc = xmalloc((size_t)(nthreads * KO * g.G * g.G) * sizeof *acc);
	sout_t *o = sout_open(NULL, &h);
	progress_t bar;
	progress_start(&bar, "conv", in->h.count == TINY_COUNT_UNKNOWN ? 0 : (double)in->h.count);
	while ((n = sin_read(in, raw, B)) > 0) {
		int64_t rows = n * npos;
		tf_get_f32(fx, raw, n, R, img);
		tf_check_finite_f32(img, n, CHW, done, in->name, "x");
		if (b.binary)
			rbm_binary_input(img, n, CHW, fx->dtype == DT_U8, done, in->name);
#pragma omp parallel for
		for (int64_t i = 0; i < n; i++)
			im2col(&b, &g, img + i * CHW, P + i * npos * D);
		if (b.eps >= 0)
			patch_normalize(P, rows, D, b.eps);
		if (z.W) {
#pragma omp parallel for
			for (int64_t r = 0; r < rows; r++)
				for (int64_t i = 0; i < D; i++)
					P[r * D + i] -= z.mean[i];
			la_sgemm(0, 0, (int)rows, (int)D, (int)D, 1.0f, P, (int)D, z.W, (int)D, 0.0f, Pw, (int)D);
		}
		la_sgemm(0, 0, (int)rows, (int)K, (int)D, 1.0f, Pw, (int)D, b.W, (int)K, 0.0f, Z, (int)K);
#pragma omp parallel for
		for (int64_t i = 0; i < n; i++) {
			int t = 0;
#ifdef _OPENMP
			t = omp_get_thread_num();
#endif
			encode_pool(&b, &g, Z + i * npos * K, Pw + i * npos * D, fbuf + t * KO, acc + t * KO * g.G * g.G,
				    out + i * KO * g.G * g.G);
		}
		tf_reassemble(&in->h, &h, xi, raw, n, out, orec);
		sout_write(o, orec, n);
		done += n;
		progress_update(&bar, (double)done);
	}
	progress_end(&bar);
	sout_close(o);
	sin_close(in);
	th_free(&h);
	if (Pw != P)
		free(Pw);
	free(raw), free(orec), free(img), free(P), free(Z), free(out), free(fbuf), free(acc);
	free(b.W), free(b.bias), free(z.mean), free(z.W);
	return 0;
}
