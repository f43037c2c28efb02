/*
 * rbmbound - the BLAS rates of CD-1's five products at one shape, and the
 * examples per second they bound CD-1 at: with X (B,V), W (V,H),
 *   P0 = X W, P = v W   (B,V)x(V,H)       twice:  4 B V H flops
 *   v = h W^T           (B,H)x(H,V)               2 B V H
 *   dW = Z^T Q          (V,2B)x(2B,H)             4 B V H  (both gradient products in one)
 * Each product is timed best of 5 after a warm-up, checked on a few
 * entries against a plain loop first.
 *
 * usage: rbmbound V H B
 */
#include <math.h>
#include <stdlib.h>

#include "tiny.h"

static double best(int ta, int tb, int M, int N, int K, const float *A, int lda, const float *Bm, int ldb, float *C,
		   int ldc)
{
	double b = 1e30;
	for (int rep = 0; rep < 6; rep++) {
		double t = now_seconds();
		la_sgemm(ta, tb, M, N, K, 1.0f, A, lda, Bm, ldb, 0.0f, C, ldc);
		t = now_seconds() - t;
		if (rep && t < b)
			b = t;
	}
	return b;
}

int main(int argc, char **argv)
{
	tiny_init(argc, argv, "rbmbound V H B");
	if (argc != 4)
		usage();
	int V = (int)opt_i64("V", argv[1], 1, 100000), H = (int)opt_i64("H", argv[2], 1, 100000),
	    B = (int)opt_i64("B", argv[3], 1, 100000);
	rng_t r;
	rng_seed(&r, 1, 0);
	float *X = xmalloc_big((size_t)2 * B * V * 4), *W = xmalloc_big((size_t)V * H * 4),
	      *P = xmalloc_big((size_t)2 * B * H * 4), *C = xmalloc_big((size_t)V * H * 4),
	      *Y = xmalloc_big((size_t)B * V * 4);
	for (size_t i = 0; i < (size_t)2 * B * V; i++)
		X[i] = (float)rng_normal(&r);
	for (size_t i = 0; i < (size_t)V * H; i++)
		W[i] = (float)rng_normal(&r);
	for (size_t i = 0; i < (size_t)2 * B * H; i++)
		P[i] = (float)rng_uniform(&r);
	/* check one product against a loop */
	la_sgemm(0, 0, B, H, V, 1.0f, X, V, W, H, 0.0f, C, H);
	for (int k = 0; k < 5; k++) {
		int b = (int)rng_below(&r, B), j = (int)rng_below(&r, H);
		double s = 0;
		for (int i = 0; i < V; i++)
			s += (double)X[(size_t)b * V + i] * W[(size_t)i * H + j];
		if (fabs(s - C[(size_t)b * H + j]) > 1e-3 * sqrt((double)V))
			die("sgemm disagrees with the loop: %g vs %g", s, (double)C[(size_t)b * H + j]);
	}
	double t1 = best(0, 0, B, H, V, X, V, W, H, C, H);             /* X W */
	double t2 = best(0, 1, B, V, H, P, H, W, H, Y, V);             /* h W^T */
	double t3 = best(1, 0, V, H, 2 * B, X, V, P, H, C, H);         /* Z^T Q */
	double f = 2.0 * B * V * H, batch = 2 * t1 + t2 + t3;
	printf("%s\n", la_info());
	printf("X W     (%d,%d)x(%d,%d):   %6.1f GFLOP/s\n", B, V, V, H, f / t1 / 1e9);
	printf("h W^T   (%d,%d)x(%d,%d)^T: %6.1f GFLOP/s\n", B, H, V, H, f / t2 / 1e9);
	printf("Z^T Q   (%d,%d)^T x(%d,%d): %6.1f GFLOP/s\n", 2 * B, V, 2 * B, H, 2 * f / t3 / 1e9);
	printf("bound: %.0f examples/s (the five products alone, %.1f ms a minibatch)\n", B / batch, 1e3 * batch);
	return 0;
}
