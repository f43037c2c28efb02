/*
 * tiny-dedupe - remove near-duplicate images by L2 distance (section 3.1 of
 * the report: "We removed duplicate images from the dataset by comparing
 * images with the L2 norm and using a rejection threshold liberal enough to
 * capture not just perfect duplicates but also re-saved JPEGs and the like").
 *
 * usage: tiny-dedupe [-qv] [--threshold DIST] [--against REF] [--dims K [--model MODEL]]
 *                    [--pairs FILE] [FILE]
 *
 * Each record's field x (any dtype and shape) is a vector of D values, and
 * two records a, b are near-duplicates when ||x_a - x_b|| <= DIST (the
 * threshold, inclusive; N records, blocks of B, K screening dimensions).  Without --against the first record of every group
 * is kept: record j is dropped when an earlier record i < j that was *kept*
 * is within the threshold.  So the kept records are pairwise further apart
 * than the threshold, and every dropped record has a kept one within it
 * (a chain a ~ b ~ c with a and c apart keeps a and c).  With --against REF
 * a record is dropped when it is within the threshold of any record of REF
 * (training images that are also in the test set), and nothing else is.
 * Kept records come out whole, in their order; the stream is read into
 * memory first, because every record is compared with every other.
 *
 * The distances come from BLAS blocks, never from a loop over pairs:
 *
 *   d(a,b)^2 = ||y_a||^2 + ||y_b||^2 - 2 y_a . y_b,
 *   G (B,B') = Y_J Y_I^T, one sgemm per pair of blocks of B = 2048 records,
 *
 * with y = x - m (m the input's mean, which only makes the numbers smaller)
 * in f32.  That screen is approximate, so it keeps every pair whose
 * computed distance is within the threshold plus a bound on the rounding
 * (the gamma_n = n u / (1 - n u) bound of a dot product of length n, u =
 * 2^-24), and each such candidate is confirmed with the exact distance,
 * summed in double over the values converted from the records (exact for
 * integer pixels).  So the result is exact, and the same with --dims.
 *
 * --dims K screens with y = E (x - m), E (K,D) the K leading principal
 * directions, instead of all D values (K = 64 by default when D >= 256;
 * --dims D screens with all values).  The directions come from --model, or
 * from the data itself (a randomized range finder on a sample of 4096
 * records, see data_directions()): projecting onto
 * orthonormal rows never makes a distance longer, so no pair within the
 * threshold is missed (the bound also covers rows that are orthonormal only
 * to f32 precision: ||E v||^2 <= (1 + e) ||v||^2 with e the largest row sum
 * of |E E^T - I|).  MODEL is a tiny-zca model (eigvec f32 [D,D], row k the
 * k-th direction, eigenvalues descending) or a tiny-cov model (cov f64
 * [D,D]; its eigenvectors come from LAPACK dsyevd, which gives them in
 * rows with ascending eigenvalues).  The model's mean is not needed:
 * distances do not depend on it.
 *
 * --pairs FILE writes every pair within the threshold (not only those that
 * dropped a record) as a stream i i64 [], j i64 [], dist f32 [], sorted by
 * i then j: i < j within the input, or i in the input and j in REF with
 * --against.
 *
 * It reports how many records it dropped on stderr (-q: not); -v adds how
 * many candidate pairs the screen let through, the bound and the BLAS.
 *
 * The default threshold 500 is for 0..255 pixels over D = 3072 values (an
 * RMS difference of 500 / sqrt(3072) = 9 levels a value).  Measured on all
 * 60000 CIFAR-10 JPEGs of ../shared/data (make dedupe-study): re-saving an
 * image as JPEG at quality 75 to 95 moves it by at most 424 (99% under
 * 225), while the nearest two of the 60000 images are 685 apart, and the
 * four nearest pairs (685 to 781) are different photographs of small
 * objects on plain backgrounds.  True near-duplicates (the same photograph
 * shifted or recoloured) begin near 860, among such false pairs, so no L2
 * threshold separates them: 500 takes every re-save and drops nothing
 * else.  Other scales (whitened f32) need their own: run with a loose
 * threshold and --pairs, and look at the pairs with tiny-take and
 * tiny-render.
 */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tiny.h"

static const char *usage_line =
	"tiny-dedupe [-qv] [--threshold DIST] [--against REF] [--dims K [--model MODEL]] [--pairs FILE] [FILE]";

#define BLOCK 2048                  /* records per sgemm block */
#define CONVERT ((int64_t)1 << 23)  /* values converted at a time */
#define MAX_PAIRS ((int64_t)1 << 26) /* pairs kept for --pairs */
#define ORTHO_TOL 1e-3              /* largest |E E^T - I| row sum accepted */
#define AUTO_DIMS 64                /* screening dimensions without --dims */
#define AUTO_MIN_D 256              /* below this many values, no projection */

/* --- a whole stream in memory -------------------------------------------- */

/* Records converted to double at a time: a block, or fewer if they are big. */
static int64_t convert_rows(int64_t D)
{
	int64_t r = CONVERT / D;
	return r < 1 ? 1 : r > BLOCK ? BLOCK : r;
}

typedef struct {
	sin_t *in;
	const tfield *xf;
	int64_t N, R, D;
	unsigned char *raw;  /* (N, R) the records as read */
	float *Y;            /* (N, K) the screening vectors */
	double *norm2;       /* (N) ||y||^2 of the f32 vectors */
	float *norm2f;       /* (N) the same in f32, for the scan */
} set_t;

/* Read every record of path and check x is finite; *sum_out (if not NULL)
 * gets the sum of x over the records (D). */
static void load_set(set_t *s, const char *path, double **sum_out)
{
	memset(s, 0, sizeof *s);
	s->in = sin_open(path);
	s->xf = th_need(&s->in->h, "x", s->in->name);
	s->D = s->xf->n;
	s->R = s->in->h.recsize;
	if (s->D > INT32_MAX)
		die("%s: field 'x' has %" PRId64 " values, more than BLAS can index", s->in->name, s->D);
	int known = s->in->h.count != TINY_COUNT_UNKNOWN;
	int64_t cap = known ? s->in->h.count : 1024, n;
	if (cap > INT64_MAX / s->R)
		die("%s: %" PRId64 " records of %" PRId64 " bytes do not fit in memory", s->in->name, cap, s->R);
	s->raw = xmalloc((size_t)(cap * s->R) + 1);
	for (;;) {
		if (s->N == cap) {
			if (known)
				break;
			if (cap > INT64_MAX / 2 / s->R)
				die("%s: too many records to hold in memory", s->in->name);
			cap *= 2;
			s->raw = xrealloc(s->raw, (size_t)(cap * s->R));
		}
		int64_t want = cap - s->N < BLOCK ? cap - s->N : BLOCK;
		if ((n = sin_read(s->in, s->raw + s->N * s->R, want)) == 0)
			break;
		s->N += n;
	}
	if (s->N > INT32_MAX)
		die("%s: %" PRId64 " records, more than BLAS can index", s->in->name, s->N);

	/* one pass in double: the sum for the mean, and no NaN or Inf */
	int64_t CB = convert_rows(s->D);
	double *sum = xcalloc((size_t)s->D, sizeof *sum), *blk = xmalloc((size_t)(CB * s->D) * sizeof *blk);
	for (int64_t r0 = 0; r0 < s->N; r0 += CB) {
		int64_t b = s->N - r0 < CB ? s->N - r0 : CB;
		tf_get_f64(s->xf, s->raw + r0 * s->R, b, s->R, blk);
		if (!dtype_is_int(s->xf->dtype))
			tf_check_finite_f64(blk, b, s->D, r0, s->in->name, "x");
		for (int64_t r = 0; r < b; r++)
			for (int64_t k = 0; k < s->D; k++)
				sum[k] += blk[r * s->D + k];
	}
	free(blk);
	if (sum_out)
		*sum_out = sum;
	else
		free(sum);
}

static void free_set(set_t *s)
{
	sin_close(s->in);
	free(s->raw);
	free(s->Y);
	free(s->norm2);
	free(s->norm2f);
}

/* Y (N,K) = E (x - m) for every record (Y = x - m without E, K = D), and
 * their squared norms.  *zmax gets the largest ||x - m|| (f32). */
static void screen_vectors(set_t *s, const double *mean, const float *E, int64_t K, double *zmax)
{
	int64_t D = s->D;
	s->Y = xmalloc((size_t)(s->N * K) * sizeof *s->Y + 1);
	s->norm2 = xmalloc((size_t)s->N * sizeof *s->norm2 + 1);
	s->norm2f = xmalloc((size_t)s->N * sizeof *s->norm2f + 1);
	int64_t CB = convert_rows(D);
	double *blk = xmalloc((size_t)(CB * D) * sizeof *blk);
	float *Z = E ? xmalloc((size_t)(CB * D) * sizeof *Z) : NULL;
	for (int64_t r0 = 0; r0 < s->N; r0 += CB) {
		int64_t b = s->N - r0 < CB ? s->N - r0 : CB;
		float *z = E ? Z : s->Y + r0 * D;   /* (b, D) */
		tf_get_f64(s->xf, s->raw + r0 * s->R, b, s->R, blk);
		for (int64_t r = 0; r < b; r++) {
			double nz = 0;
			for (int64_t k = 0; k < D; k++) {
				z[r * D + k] = (float)(blk[r * D + k] - mean[k]);
				nz += (double)z[r * D + k] * z[r * D + k];
			}
			if (sqrt(nz) > *zmax)
				*zmax = sqrt(nz);
		}
		if (E)  /* Y_b (b,K) = Z (b,D) E^T, E (K,D) */
			la_sgemm(0, 1, (int)b, (int)K, (int)D, 1.0f, Z, (int)D, E, (int)D, 0.0f, s->Y + r0 * K, (int)K);
		for (int64_t r = r0; r < r0 + b; r++) {
			double ny = 0;
			for (int64_t k = 0; k < K; k++)
				ny += (double)s->Y[r * K + k] * s->Y[r * K + k];
			s->norm2[r] = ny;
			s->norm2f[r] = (float)ny;
		}
	}
	free(blk);
	free(Z);
}

/* --- the principal directions -------------------------------------------- */

/* The largest row sum of |E E^T - I| for E (K,D) as stored in f32. */
static double orthonormality(const float *E, int64_t K, int64_t D)
{
	double *Ed = xmalloc((size_t)(K * D) * sizeof *Ed), *G = xmalloc((size_t)(K * K) * sizeof *G);
	for (int64_t k = 0; k < K * D; k++)
		Ed[k] = E[k];
	la_dgemm(0, 1, (int)K, (int)K, (int)D, 1.0, Ed, (int)D, Ed, (int)D, 0.0, G, (int)K);
	double worst = 0;
	for (int64_t r = 0; r < K; r++) {
		double rs = 0;
		for (int64_t c = 0; c < K; c++)
			rs += fabs(G[r * K + c] - (r == c));
		if (!(rs <= worst))   /* NaN too */
			worst = rs;
	}
	free(G);
	free(Ed);
	return worst;
}

/* E (K,D) from the data itself, when no model is given: an orthonormal
 * basis of the K directions that hold most of the variance of a sample of
 * up to SAMPLE records (every (N/SAMPLE)-th), by a randomized range finder
 * with two power iterations (Halko, Martinsson and Tropp 2011):
 * Q = orth(Z^T Z Omega), twice Q = orth(Z^T Z Q), then the K leading
 * directions within span(Q) from the eigenvectors of (Z Q)^T (Z Q).  Any
 * orthonormal E gives an exact screen; a good one lets few pairs through.
 * Seeded, so the same input gives the same E. */
#define SAMPLE 4096
#define OVERSAMPLE 16
static float *data_directions(const set_t *s, const double *mean, int64_t K, double *ortho)
{
	int64_t D = s->D, S = s->N < SAMPLE ? s->N : SAMPLE, L = K + OVERSAMPLE;
	if (L > D)
		L = D;
	double *Z = xmalloc((size_t)(S * D) * sizeof *Z);        /* (S,D) sample - mean */
	for (int64_t i = 0; i < S; i++) {
		int64_t r = i * s->N / S;
		tf_get_f64(s->xf, s->raw + r * s->R, 1, s->R, Z + i * D);
		for (int64_t k = 0; k < D; k++)
			Z[i * D + k] -= mean[k];
	}
	double *Q = xmalloc((size_t)(D * L) * sizeof *Q);        /* (D,L) */
	double *Y = xmalloc((size_t)(S * L) * sizeof *Y);        /* (S,L) */
	rng_t r;
	rng_seed(&r, 20090408, 0);
	for (int64_t i = 0; i < D * L; i++)
		Q[i] = rng_normal(&r);
	for (int it = 0; it < 3; it++) {
		la_dgemm(0, 0, (int)S, (int)L, (int)D, 1.0, Z, (int)D, Q, (int)L, 0.0, Y, (int)L);
		la_dgemm(1, 0, (int)D, (int)L, (int)S, 1.0, Z, (int)D, Y, (int)L, 0.0, Q, (int)L);
		la_orthonormalize((int)D, (int)L, Q);
	}
	/* Rayleigh-Ritz in span(Q): T (L,L) = (Z Q)^T (Z Q), rows of V its eigenvectors */
	la_dgemm(0, 0, (int)S, (int)L, (int)D, 1.0, Z, (int)D, Q, (int)L, 0.0, Y, (int)L);
	double *T = xmalloc((size_t)(L * L) * sizeof *T), *w = xmalloc((size_t)L * sizeof *w);
	la_dgemm(1, 0, (int)L, (int)L, (int)S, 1.0, Y, (int)L, Y, (int)L, 0.0, T, (int)L);
	la_dsyevd((int)L, T, w);
	/* E row k = (Q v_{L-1-k})^T: Ed (K,D) = V_top (K,L) Q^T */
	double *Ed = xmalloc((size_t)(K * D) * sizeof *Ed);
	la_dgemm(0, 1, (int)K, (int)D, (int)L, 1.0, T + (L - K) * L, (int)L, Q, (int)L, 0.0, Ed, (int)D);
	float *E = xmalloc((size_t)(K * D) * sizeof *E);
	for (int64_t k = 0; k < K; k++)   /* leading direction first */
		for (int64_t i = 0; i < D; i++)
			E[k * D + i] = (float)Ed[(K - 1 - k) * D + i];
	*ortho = orthonormality(E, K, D);
	if (!(*ortho <= ORTHO_TOL))
		die("the directions found in the data are not orthonormal (|E E^T - I| row sum %g)", *ortho);
	free(Z), free(Q), free(Y), free(T), free(w), free(Ed);
	return E;
}

/* E (K,D) from MODEL: the K leading rows of eigvec, or the eigenvectors of
 * cov for the K largest eigenvalues.  *ortho gets the largest row sum of
 * |E E^T - I|. */
static float *load_directions(const char *path, int64_t D, int64_t K, const char *input, double *ortho)
{
	sin_t *m = sin_open(path);
	if (m->h.count != 1)
		die("%s: a model has one record, this has %" PRId64, m->name, m->h.count);
	int ei = th_find(&m->h, "eigvec"), ci = th_find(&m->h, "cov"), mi = th_find(&m->h, "mean");
	if (ei < 0 && ci < 0)
		die("%s: no field 'eigvec' or 'cov' (expected a tiny-zca or tiny-cov model)", m->name);
	const tfield *f = &m->h.fields[ei >= 0 ? ei : ci];
	if (f->rank != 2 || f->dims[0] != f->dims[1])
		die("%s: field '%s' is not a square matrix", m->name, f->name);
	if (f->dims[0] != D)
		die("%s: field '%s' is for %" PRId64 " values, but x of %s has %" PRId64, m->name, f->name, f->dims[0],
		    input, D);
	if (mi >= 0 && m->h.fields[mi].n != D)
		die("%s: field 'mean' has %" PRId64 " values, but x of %s has %" PRId64, m->name, m->h.fields[mi].n,
		    input, D);
	unsigned char *rec = xmalloc((size_t)m->h.recsize);
	if (sin_read(m, rec, 1) != 1)
		die("%s: no record", m->name);
	float *E = xmalloc((size_t)(K * D) * sizeof *E);
	if (ei >= 0) {
		float *all = xmalloc((size_t)(D * D) * sizeof *all);
		tf_get_f32(f, rec, 1, m->h.recsize, all);
		memcpy(E, all, (size_t)(K * D) * sizeof *E);   /* rows are directions */
		free(all);
	} else {
		double *A = xmalloc((size_t)(D * D) * sizeof *A), *w = xmalloc((size_t)D * sizeof *w);
		tf_get_f64(f, rec, 1, m->h.recsize, A);
		for (int64_t k = 0; k < D * D; k++)
			if (!isfinite(A[k]))
				die("%s: field 'cov' holds NaN or an infinity", m->name);
		la_dsyevd((int)D, A, w);   /* rows, ascending: direction k is row D-1-k */
		for (int64_t k = 0; k < K; k++)
			for (int64_t i = 0; i < D; i++)
				E[k * D + i] = (float)A[(D - 1 - k) * D + i];
		free(A);
		free(w);
	}
	*ortho = orthonormality(E, K, D);
	if (!(*ortho <= ORTHO_TOL))
		die("%s: the %" PRId64 " leading directions of '%s' are not orthonormal (|E E^T - I| row sum %g)",
		    m->name, K, f->name, *ortho);
	free(rec);
	sin_close(m);
	return E;
}

/* --- comparing ------------------------------------------------------------ */

typedef struct {
	int64_t i, j;
	double d2;
} pair_t;

typedef struct {
	const set_t *A, *B;    /* rows from A, columns from B (the same set without --against) */
	int self;
	double t2;             /* threshold^2, exact test */
	double screen;         /* computed d^2 above this is surely beyond the threshold */
	unsigned char *dropped; /* (A->N) */
	int want_pairs;
	pair_t *pairs;
	int64_t npairs, cap;
	double *va, *vb;       /* (D) scratch for the exact distance */
	int64_t va_row;
	int64_t candidates;
} cmp_t;

/* The exact squared distance of A's record a and B's record b, in double. */
static double exact_d2(cmp_t *c, int64_t a, int64_t b)
{
	int64_t D = c->A->D;
	if (c->va_row != a) {
		tf_get_f64(c->A->xf, c->A->raw + a * c->A->R, 1, c->A->R, c->va);
		c->va_row = a;
	}
	tf_get_f64(c->B->xf, c->B->raw + b * c->B->R, 1, c->B->R, c->vb);
	double s = 0;
	for (int64_t k = 0; k < D; k++) {
		double d = c->va[k] - c->vb[k];
		s += d * d;
	}
	return s;
}

static void add_pair(cmp_t *c, int64_t i, int64_t j, double d2)
{
	if (c->npairs == c->cap) {
		if (c->cap >= MAX_PAIRS)
			die("more than %" PRId64 " pairs within the threshold for --pairs: is the threshold too loose?",
			    MAX_PAIRS);
		c->cap = c->cap ? 2 * c->cap : 1024;
		c->pairs = xrealloc(c->pairs, (size_t)c->cap * sizeof *c->pairs);
	}
	c->pairs[c->npairs++] = (pair_t){i, j, d2};
}

/* Rows a0..a0+na of A against columns b0..b0+nb of B; G is (na, nb). */
static void compare_block(cmp_t *c, int64_t K, int64_t a0, int64_t na, int64_t b0, int64_t nb, float *G)
{
	const set_t *A = c->A, *B = c->B;
	la_sgemm(0, 1, (int)na, (int)nb, (int)K, 1.0f, A->Y + a0 * K, (int)K, B->Y + b0 * K, (int)K, 0.0f, G,
		 (int)nb);
	int diag = c->self && a0 == b0;
	for (int64_t r = 0; r < na; r++) {
		int64_t a = a0 + r;
		if (c->dropped[a] && !c->want_pairs)
			continue;
		/* candidate when ||y_b||^2 - 2 y_a.y_b <= screen - ||y_a||^2 */
		float lim = (float)(c->screen - A->norm2[a]);
		const float *g = G + r * nb, *nbf = B->norm2f + b0;
		int64_t end = diag ? r : nb;
		for (int64_t s = 0; s < end; s++) {
			if (nbf[s] - 2.0f * g[s] > lim)
				continue;
			int64_t b = b0 + s;
			if (c->self && c->dropped[b] && !c->want_pairs)
				continue;
			c->candidates++;
			double d2 = exact_d2(c, a, b);
			if (d2 > c->t2)
				continue;
			if (c->want_pairs)
				add_pair(c, c->self ? b : a, c->self ? a : b, d2);
			if (!c->self || !c->dropped[b])
				c->dropped[a] = 1;   /* self: b < a was kept */
			if (c->dropped[a] && !c->want_pairs)
				break;
		}
	}
}

static int pair_order(const void *p, const void *q)
{
	const pair_t *x = p, *y = q;
	if (x->i != y->i)
		return x->i < y->i ? -1 : 1;
	return (x->j > y->j) - (x->j < y->j);
}

static void write_pairs(const char *path, const cmp_t *c)
{
	theader h;
	th_init(&h);
	h.count = c->npairs;
	th_field(&h, "i", DT_I64, 0);
	th_field(&h, "j", DT_I64, 0);
	th_field(&h, "dist", DT_F32, 0);
	th_add_history(&h);
	sout_t *o = sout_open(path, &h);
	unsigned char rec[20];
	for (int64_t p = 0; p < c->npairs; p++) {
		float d = (float)sqrt(c->pairs[p].d2);
		memcpy(rec, &c->pairs[p].i, 8);
		memcpy(rec + 8, &c->pairs[p].j, 8);
		memcpy(rec + 16, &d, 4);
		sout_write(o, rec, 1);
	}
	sout_close(o);
	th_free(&h);
}

/* --- main -------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"threshold", required_argument, 0, 't'}, {"against", required_argument, 0, 'a'},
		{"dims", required_argument, 0, 'k'}, {"model", required_argument, 0, 'm'},
		{"pairs", required_argument, 0, 'p'}, {"quiet", no_argument, 0, 'q'},
		{"verbose", no_argument, 0, 'v'}, {0}};
	double thr = 500;
	const char *against = NULL, *model = NULL, *pairs_path = NULL, *dims_arg = NULL;
	int64_t K = 0;
	int verbose = 0, c;
	tiny_init(argc, argv, usage_line);
	while ((c = getopt_long(argc, argv, "qv", longopts, NULL)) != -1) {
		switch (c) {
		case 't': thr = opt_f64("--threshold", optarg, 0, 1e30); break;
		case 'a': against = optarg; break;
		case 'k': K = opt_i64("--dims", optarg, 1, INT32_MAX); dims_arg = optarg; break;
		case 'm': model = optarg; break;
		case 'p': pairs_path = optarg; break;
		case 'q': tiny_quiet = 1; break;
		case 'v': verbose = 1; break;
		default: usage();
		}
	}
	if (model && !K)
		usage_error("--model needs --dims K");
	if (pairs_path && (!*pairs_path || !strcmp(pairs_path, "-")))
		usage_error("--pairs needs a file name (stdout carries the records)");
	if (argc - optind > 1)
		usage_error("expected at most one input file");

	/* everything is read and checked before the first byte goes out */
	set_t in, ref;
	double *mean, t0 = now_seconds(), t_load, t_screen, t_cmp;
	load_set(&in, optind < argc ? argv[optind] : NULL, &mean);
	int64_t D = in.D;
	for (int64_t k = 0; k < D; k++)
		mean[k] = in.N ? mean[k] / in.N : 0;
	if (against) {
		load_set(&ref, against, NULL);
		if (ref.D != D)
			die("%s: field 'x' has %" PRId64 " values, but x of %s has %" PRId64, ref.in->name, ref.D,
			    in.in->name, D);
	}
	if (K > D)
		die("--dims %s is larger than the %" PRId64 " values of x in %s", dims_arg, D, in.in->name);
	/* the screen's directions: the model's, the data's own (64 by default
	 * when there are at least 256 values), or none (--dims D) */
	if (!K)
		K = D >= AUTO_MIN_D ? AUTO_DIMS : D;
	double ortho = 0;
	float *E = model ? load_directions(model, D, K, in.in->name, &ortho)
		: K < D && in.N > 0 ? data_directions(&in, mean, K, &ortho) : NULL;
	if (!E)
		K = D;
	t_load = now_seconds();

	/* the screen: y computed in f32 is off by at most err ||x - m|| ... */
	double zmax = 0, u = ldexp(1, -24);
	screen_vectors(&in, mean, E, K, &zmax);
	if (against)
		screen_vectors(&ref, mean, E, K, &zmax);
	double gD = D * u / (1 - D * u), gK = K * u / (1 - K * u), sig = sqrt(1 + ortho);
	double err = 1.01 * (E ? (sqrt((double)K) * gD + u) * sig : u + ldexp(1, -52)) * zmax;
	double ymax2 = 0;
	for (int64_t r = 0; r < in.N; r++)
		ymax2 = in.norm2[r] > ymax2 ? in.norm2[r] : ymax2;
	for (int64_t r = 0; against && r < ref.N; r++)
		ymax2 = ref.norm2[r] > ymax2 ? ref.norm2[r] : ymax2;
	/* ... so a pair within thr is within t1 in y, and its computed d^2 is
	 * at most t1^2 plus the dot product's error and the scan's rounding */
	double t1 = sig * thr + 2 * err;
	double screen = t1 * t1 + 2 * gK * ymax2;
	screen += 8 * u * (3 * ymax2 + screen) + 1e-30;

	t_screen = now_seconds();
	cmp_t cmp = {.A = &in, .B = against ? &ref : &in, .self = !against, .t2 = thr * thr, .screen = screen,
		     .want_pairs = pairs_path != NULL, .va_row = -1};
	cmp.dropped = xcalloc((size_t)in.N + 1, 1);
	cmp.va = xmalloc((size_t)D * sizeof *cmp.va);
	cmp.vb = xmalloc((size_t)D * sizeof *cmp.vb);
	float *G = xmalloc((size_t)BLOCK * BLOCK * sizeof *G);
	int64_t nbA = (in.N + BLOCK - 1) / BLOCK, nbB = (cmp.B->N + BLOCK - 1) / BLOCK;
	double total = against ? (double)nbA * nbB : (double)nbA * (nbA + 1) / 2, done = 0;
	progress_t bar;
	progress_start(&bar, "comparing", total);
	/* blocks of rows in order, so that every earlier record's fate is known */
	for (int64_t ja = 0; ja < nbA; ja++) {
		int64_t a0 = ja * BLOCK, na = in.N - a0 < BLOCK ? in.N - a0 : BLOCK;
		for (int64_t jb = 0; jb < (against ? nbB : ja + 1); jb++) {
			int64_t b0 = jb * BLOCK, nb = cmp.B->N - b0 < BLOCK ? cmp.B->N - b0 : BLOCK;
			compare_block(&cmp, K, a0, na, b0, nb, G);
			progress_update(&bar, ++done);
		}
	}
	progress_end(&bar);
	t_cmp = now_seconds();

	if (pairs_path) {
		qsort(cmp.pairs, (size_t)cmp.npairs, sizeof *cmp.pairs, pair_order);
		write_pairs(pairs_path, &cmp);
	}
	int64_t ndropped = 0;
	for (int64_t r = 0; r < in.N; r++)
		ndropped += cmp.dropped[r];
	theader h;
	th_copy(&h, &in.in->h);
	h.count = in.N - ndropped;
	th_add_history(&h);
	sout_t *out = sout_open(NULL, &h);
	for (int64_t r = 0, run; r < in.N; r += run) {   /* runs of kept records */
		for (run = 0; r + run < in.N && cmp.dropped[r + run] == cmp.dropped[r]; run++)
			;
		if (!cmp.dropped[r])
			sout_write(out, in.raw + r * in.R, run);
	}
	if (!tiny_quiet) {
		fprintf(stderr, "%s: dropped %" PRId64 " of %" PRId64 " records (threshold %g", tiny_prog, ndropped, in.N,
			thr);
		if (against)
			fprintf(stderr, ", against %s", ref.in->name);
		fprintf(stderr, ")\n");
		if (verbose)
			fprintf(stderr,
				"%s: %" PRId64 " candidate pairs with a screened d^2 <= %.6g (threshold^2 %.6g) in %" PRId64
				" dimensions; %.2f s reading, %.2f s projecting, %.2f s comparing; %s\n",
				tiny_prog, cmp.candidates, screen, thr * thr, K, t_load - t0, t_screen - t_load,
				t_cmp - t_screen, la_info());
	}
	sout_close(out);
	th_free(&h);
	free_set(&in);
	if (against)
		free_set(&ref);
	free(mean);
	free(E);
	free(G);
	free(cmp.dropped);
	free(cmp.va);
	free(cmp.vb);
	free(cmp.pairs);
	return 0;
}
