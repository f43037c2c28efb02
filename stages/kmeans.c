/*
 * tiny-kmeans - k-means on a stream of vectors: a filter bank learned from
 * patches (Coates, Lee and Ng 2011, "An Analysis of Single-Layer Networks
 * in Unsupervised Feature Learning", section 3.1.3).
 *
 * usage: tiny-kmeans -k K [--iterations N] [--init random|kmeans++] [--seed S] [-q] [FILE]
 *
 * Every record's x (any dtype and shape, D values) is a point; N records,
 * at least K of them, all held in memory as f32 (N D 4 bytes).  Lloyd's
 * algorithm with centroids c_k (K of them, D values each):
 *
 *   assign    a_n = argmin_k |x_n - c_k|^2 = argmin_k (|c_k|^2 / 2 - x_n . c_k)
 *   update    c_k = mean of the x_n with a_n = k
 *
 * The assignment is a distance block per B = 4096 points: S (B,K) =
 * X (B,D) C^T (one sgemm, C^T stored as such: BLIS ran this shape at 104
 * GFLOP/s with C transposed on the fly, 145-154 with C^T laid out), then a
 * vectorised pass over S; |x_n|^2 is summed once, before the first
 * iteration.  The update sums the points in double, point by point in
 * record order, each cluster by one thread (so the result does not depend
 * on the threads).  It stops when no assignment changes, or after
 * --iterations N (default 50, reported on stderr).  A cluster left empty
 * takes a random point instead (from the stream (SEED, iteration)), so K
 * centroids always come out.
 *
 * The start (--init): random (default), K distinct points drawn by the
 * seeded shuffle; or kmeans++ (Arthur and Vassilvitskii 2007): the first a
 * random point, each next one a point drawn with probability proportional
 * to its squared distance to the nearest centroid so far (N D K work, one
 * pass per centroid: slow for large K).
 *
 * Output: one record, W f32 [D,K] (column k is centroid k, laid out as an
 * RBM's W [V,H], so tiny-render filters and tiny-conv take it alike), the
 * data's attributes (patch_size, patch_normalize, zca_fingerprint: what
 * tiny-conv needs to apply it as it was learned), and shape (x's shape,
 * e.g. 3,6,6), kmeans_k, kmeans_iterations, kmeans_changed (assignments
 * changed in the last iteration), kmeans_distance (the mean of
 * |x_n - c_{a_n}|^2 at the last assignment), kmeans_settings, history.
 *
 * Progress: a line per iteration on stderr (mean squared distance,
 * assignments changed, clusters re-seeded, seconds); -q for none.  Bad
 * input: fewer records than K, NaN or Inf (named with its record).
 * Spec of the stream: formats/stream.md.
 */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tiny.h"

static const char *usage_line = "tiny-kmeans -k K [--iterations N] [--init random|kmeans++] [--seed S] [-q] [FILE]";

enum { BLOCK = 4096 };   /* points per distance block */

typedef struct {
	int64_t N, D, K;
	float *X;        /* (N,D) the points */
	float *C;        /* (K,D) the centroids */
} km_t;

/* --- reading ------------------------------------------------------------------ */

static void read_points(km_t *km, sin_t *in, const tfield *fx)
{
	int64_t R = in->h.recsize, D = fx->n, cap = in->h.count != TINY_COUNT_UNKNOWN ? in->h.count : 65536, n;
	if (cap > TINY_BODY_MAX / 4 / D)
		die("%s: %" PRId64 " records of %" PRId64 " values are more than memory can hold", in->name, cap, D);
	unsigned char *raw = xmalloc((size_t)(BLOCK * R));
	float *X = xmalloc((size_t)(cap * D) * sizeof *X);
	int64_t N = 0;
	while ((n = sin_read(in, raw, BLOCK)) > 0) {
		if (N + n > cap) {
			cap = 2 * (N + n);
			if (cap > TINY_BODY_MAX / 4 / D)
				die("%s: more records of %" PRId64 " values than memory can hold", in->name, D);
			X = xrealloc(X, (size_t)(cap * D) * sizeof *X);
		}
		tf_get_f32(fx, raw, n, R, X + N * D);
		tf_check_finite_f32(X + N * D, n, D, N, in->name, "x");
		N += n;
	}
	free(raw);
	km->X = X;
	km->N = N;
	km->D = D;
}

/* --- the start ------------------------------------------------------------------ */

static void init_random(km_t *km, uint64_t seed)
{
	int64_t *idx = xmalloc((size_t)km->N * sizeof *idx);
	for (int64_t i = 0; i < km->N; i++)
		idx[i] = i;
	rng_shuffle(idx, km->N, seed, 0);
	for (int64_t k = 0; k < km->K; k++)
		memcpy(km->C + k * km->D, km->X + idx[k] * km->D, (size_t)km->D * sizeof *km->C);
	free(idx);
}

/* |x|^2 of D values, in double */
static double sqnorm(const float *x, int64_t D)
{
	double s = 0;
	for (int64_t i = 0; i < D; i++)
		s += (double)x[i] * x[i];
	return s;
}

/* Ct (D,K) = C^T of the centroids C (K,D): the layout the distance sgemm
 * and the output's W take */
static void transpose(const float *C, int64_t K, int64_t D, float *Ct)
{
	for (int64_t k = 0; k < K; k++)
		for (int64_t i = 0; i < D; i++)
			Ct[i * K + k] = C[k * D + i];
}

static double dist2(const float *a, const float *b, int64_t D)
{
	double s = 0;
	for (int64_t i = 0; i < D; i++)
		s += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
	return s;
}

static void init_kmeanspp(km_t *km, uint64_t seed)
{
	int64_t N = km->N, D = km->D;
	double *near = xmalloc((size_t)N * sizeof *near);
	rng_t r;
	rng_seed(&r, seed, 0);
	progress_t bar;
	progress_start(&bar, "kmeans++", (double)km->K);
	int64_t pick = (int64_t)rng_below(&r, (uint64_t)N);
	for (int64_t k = 0; k < km->K; k++) {
		float *c = km->C + k * D;
		memcpy(c, km->X + pick * D, (size_t)D * sizeof *c);
		double total = 0;
#pragma omp parallel for reduction(+ : total)
		for (int64_t n = 0; n < N; n++) {
			double d = dist2(km->X + n * D, c, D);
			if (k == 0 || d < near[n])
				near[n] = d;
			total += near[n];
		}
		/* the next: point n with probability near[n] / total (any, when all
		 * points sit on centroids) */
		double u = rng_uniform(&r) * total, acc = 0;
		pick = N - 1;
		for (int64_t n = 0; n < N; n++)
			if ((acc += near[n]) > u) {
				pick = n;
				break;
			}
		if (total <= 0)
			pick = (int64_t)rng_below(&r, (uint64_t)N);
		progress_update(&bar, (double)(k + 1));
	}
	progress_end(&bar);
	free(near);
}

/* --- Lloyd's iterations ------------------------------------------------------------ */

/* The first k of the least half[k] - s[k] (K of them), and that value in
 * *least.  Chunk by chunk the least value, which the compiler vectorises
 * (a loop that tracks the index as it goes stays scalar), then the index
 * within the chunk that held it; built for AVX2 too, taken where the CPU
 * has it (the same result: min and subtraction round alike). */
enum { CHUNK = 64 };
__attribute__((target_clones("avx2", "default")))
static int64_t nearest(const float *half, const float *s, int64_t K, float *least)
{
	float bestv = INFINITY;
	int64_t best = 0;
	for (int64_t c0 = 0; c0 < K; c0 += CHUNK) {
		int64_t c1 = c0 + CHUNK < K ? c0 + CHUNK : K;
		float m = INFINITY;
#pragma omp simd reduction(min : m)
		for (int64_t k = c0; k < c1; k++) {
			float v = half[k] - s[k];
			m = v < m ? v : m;
		}
		if (m < bestv) {
			bestv = m;
			best = c0;
		}
	}
	while (half[best] - s[best] != bestv)
		best++;
	*least = bestv;
	return best;
}

/* Assign every point (a (N)), returning the number changed and the sum of
 * squared distances in *sum.  xx (N) holds the points' |x_n|^2. */
static int64_t assign(const km_t *km, const double *xx, int32_t *a, float *S, double *sum)
{
	int64_t N = km->N, D = km->D, K = km->K, changed = 0;
	float *half = xmalloc((size_t)K * sizeof *half), *Ct = xmalloc((size_t)(D * K) * sizeof *Ct);
	for (int64_t k = 0; k < K; k++)
		half[k] = (float)(sqnorm(km->C + k * D, D) / 2);
	transpose(km->C, K, D, Ct);
	double total = 0;
	for (int64_t first = 0; first < N; first += BLOCK) {
		int64_t B = N - first < BLOCK ? N - first : BLOCK;
		la_sgemm(0, 0, (int)B, (int)K, (int)D, 1.0f, km->X + first * D, (int)D, Ct, (int)K, 0.0f, S, (int)K);
#pragma omp parallel for reduction(+ : total, changed)
		for (int64_t b = 0; b < B; b++) {
			float bestv;
			int64_t best = nearest(half, S + b * K, K, &bestv);
			double d = xx[first + b] + 2.0 * bestv;
			total += d > 0 ? d : 0;
			if (a[first + b] != best) {
				a[first + b] = (int32_t)best;
				changed++;
			}
		}
	}
	free(half), free(Ct);
	*sum = total;
	return changed;
}

/* New centroids as the means of their points; an empty cluster gets a
 * random point.  Returns the number re-seeded. */
static int64_t update(km_t *km, const int32_t *a, uint64_t seed, int64_t iter, double *sums, int64_t *count)
{
	int64_t N = km->N, D = km->D, K = km->K, empty = 0;
	memset(sums, 0, (size_t)(K * D) * sizeof *sums);
	memset(count, 0, (size_t)K * sizeof *count);
	/* each of 16 parts of the clusters sums its own points in record
	 * order: the same sums for any number of threads */
#pragma omp parallel for schedule(dynamic)
	for (int64_t part = 0; part < 16; part++) {
		int32_t lo = (int32_t)(K * part / 16), hi = (int32_t)(K * (part + 1) / 16);
		for (int64_t n = 0; n < N; n++) {
			if (a[n] < lo || a[n] >= hi)
				continue;
			double *s = sums + (int64_t)a[n] * D;
			const float *x = km->X + n * D;
			for (int64_t i = 0; i < D; i++)
				s[i] += x[i];
			count[a[n]]++;
		}
	}
	rng_t r;
	rng_seed(&r, seed, (uint64_t)iter + 1);
	for (int64_t k = 0; k < K; k++) {
		float *c = km->C + k * D;
		if (count[k]) {
			for (int64_t i = 0; i < D; i++)
				c[i] = (float)(sums[k * D + i] / (double)count[k]);
		} else {
			int64_t n = (int64_t)rng_below(&r, (uint64_t)N);
			memcpy(c, km->X + n * D, (size_t)D * sizeof *c);
			empty++;
		}
	}
	return empty;
}

/* --- main ------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"iterations", required_argument, 0, 'i'}, {"init", required_argument, 0, 'I'},
		{"seed", required_argument, 0, 's'}, {"quiet", no_argument, 0, 'q'},
		{0}};
	static const char *const inits[] = {"random", "kmeans++", NULL};
	int64_t K = 0, iterations = 50;
	int init = 0, c;
	uint64_t seed = 1;
	tiny_init(argc, argv, usage_line);
	while ((c = getopt_long(argc, argv, "k:q", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': K = opt_i64("-k", optarg, 1, INT32_MAX); break;
		case 'i': iterations = opt_i64("--iterations", optarg, 1, 1000000); break;
		case 'I': init = opt_choice("--init", optarg, inits); break;
		case 's': seed = opt_u64("--seed", optarg); break;
		case 'q': tiny_quiet = 1; break;
		default: usage();
		}
	}
	if (!K)
		usage_error("-k K is required");
	if (argc - optind > 1)
		usage_error("expected at most one input file");

	sin_t *in = sin_open(optind < argc ? argv[optind] : NULL);
	const tfield *fx = th_need(&in->h, "x", in->name);
	if (in->h.count != TINY_COUNT_UNKNOWN && in->h.count < K)
		die("%s holds %" PRId64 " records; -k %" PRId64 " needs at least as many", in->name, in->h.count, K);
	if (K > TINY_RECORD_MAX / 4 / fx->n)
		die("-k %" PRId64 " centroids of %" PRId64 " values do not fit a record", K, fx->n);
	km_t km = {.K = K};
	read_points(&km, in, fx);
	if (km.N < K)
		die("%s holds %" PRId64 " records; -k %" PRId64 " needs at least as many", in->name, km.N, K);
	int64_t N = km.N, D = km.D;

	/* the output header now, so that nothing is left to fail after training */
	theader h;
	th_copy(&h, &in->h);
	while (h.nfields)
		th_remove_field(&h, 0);
	h.count = 1;
	origin_record(&h, &in->h);
	th_field(&h, "W", DT_F32, 2, D, K);
	char shape[128] = "";
	for (int i = 0; i < fx->rank; i++)
		snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%" PRId64, i ? "," : "", fx->dims[i]);
	if (!fx->rank)
		snprintf(shape, sizeof shape, "1");
	th_attr_set(&h, "shape", shape);
	th_attr_setf(&h, "kmeans_k", "%" PRId64, K);
	th_attr_setf(&h, "kmeans_settings", "init %s seed %" PRIu64 " iterations %" PRId64, inits[init], seed,
		     iterations);

	km.C = xmalloc((size_t)(K * D) * sizeof *km.C);
	if (init == 0)
		init_random(&km, seed);
	else
		init_kmeanspp(&km, seed);

	int32_t *a = xmalloc((size_t)N * sizeof *a);
	for (int64_t n = 0; n < N; n++)
		a[n] = -1;
	float *S = xmalloc_big((size_t)(BLOCK * K) * sizeof *S);
	double *xx = xmalloc((size_t)N * sizeof *xx);
	for (int64_t n = 0; n < N; n++)
		xx[n] = sqnorm(km.X + n * D, D);
	double *sums = xmalloc((size_t)(K * D) * sizeof *sums), sum = 0;
	int64_t *count = xmalloc((size_t)K * sizeof *count), changed = N, iter = 0;
	if (!tiny_quiet)
		fprintf(stderr, "%s: %" PRId64 " points of %" PRId64 " values, K %" PRId64 ", start %s\n", tiny_prog, N, D,
			K, inits[init]);
	while (iter < iterations) {
		double t0 = now_seconds();
		changed = assign(&km, xx, a, S, &sum);
		if (!changed)
			break;   /* the centroids are the means of these assignments already */
		int64_t empty = update(&km, a, seed, iter, sums, count);
		iter++;
		if (!tiny_quiet)
			fprintf(stderr,
				"%s: iteration %" PRId64 "/%" PRId64 ": mean squared distance %.6g, %" PRId64
				" changed, %" PRId64 " re-seeded, %.2f s\n",
				tiny_prog, iter, iterations, sum / (double)N, changed, empty, now_seconds() - t0);
	}
	if (changed) {
		/* the distance the model's centroids give */
		changed = assign(&km, xx, a, S, &sum);
		if (changed)
			warn("stopped at --iterations %" PRId64 " with %" PRId64 " assignments still changing", iterations,
			     changed);
	}
	if (!tiny_quiet && !changed)
		fprintf(stderr, "%s: converged after %" PRId64 " iterations: mean squared distance %.6g\n", tiny_prog, iter,
			sum / (double)N);
	th_attr_setf(&h, "kmeans_iterations", "%" PRId64, iter);
	th_attr_setf(&h, "kmeans_changed", "%" PRId64, changed);
	th_attr_setf(&h, "kmeans_distance", "%.9g", sum / (double)N);
	th_add_history(&h);

	/* W (D,K) = C^T */
	float *W = xmalloc((size_t)(K * D) * sizeof *W);
	transpose(km.C, K, D, W);
	const void *fields[1] = {W};
	sout_t *o = sout_open(NULL, &h);
	sout_write_fields(o, fields);
	sout_close(o);
	sin_close(in);
	th_free(&h);
	free(km.X), free(km.C), free(a), free(S), free(xx), free(sums), free(count), free(W);
	return 0;
}
