/*
 * blasrate - the machine's measured BLAS rates, for make bench: sgemm and
 * dgemm GFLOP/s on (n,n) x (n,n), best of a few runs after a warm-up,
 * checked against a plain loop on a few entries first.  Prints which BLAS
 * and kernels ran (la_info).
 *
 * usage: blasrate [N]
 */
#include <math.h>
#include <stdlib.h>

#include "tiny.h"

int main(int argc, char **argv)
{
	tiny_init(argc, argv, "blasrate [N]");
	int n = argc > 1 ? (int)opt_i64("N", argv[1], 64, 20000) : 3072;
	rng_t r;
	rng_seed(&r, 1, 0);
	float *A = xmalloc((size_t)n * n * 4), *B = xmalloc((size_t)n * n * 4), *C = xmalloc((size_t)n * n * 4);
	double *dA = xmalloc((size_t)n * n * 8), *dB = xmalloc((size_t)n * n * 8), *dC = xmalloc((size_t)n * n * 8);
	for (size_t i = 0; i < (size_t)n * n; i++) {
		dA[i] = A[i] = (float)rng_normal(&r);
		dB[i] = B[i] = (float)rng_normal(&r);
	}
	double best_s = 1e30, best_d = 1e30;
	for (int rep = 0; rep < 4; rep++) {
		double t = now_seconds();
		la_sgemm(0, 0, n, n, n, 1.0f, A, n, B, n, 0.0f, C, n);
		t = now_seconds() - t;
		if (rep && t < best_s)
			best_s = t;
		t = now_seconds();
		la_dgemm(0, 0, n, n, n, 1.0, dA, n, dB, n, 0.0, dC, n);
		t = now_seconds() - t;
		if (rep && t < best_d)
			best_d = t;
		if (rep == 0)
			for (int k = 0; k < 8; k++) {
				int i = (int)rng_below(&r, n), j = (int)rng_below(&r, n);
				double s = 0;
				for (int q = 0; q < n; q++)
					s += dA[(size_t)i * n + q] * dB[(size_t)q * n + j];
				if (fabs(s - dC[(size_t)i * n + j]) > 1e-9 * n || fabs(s - C[(size_t)i * n + j]) > 1e-3 * n)
					die("gemm disagrees with the loop at (%d,%d): %g %g %g", i, j, s, dC[(size_t)i * n + j],
					    (double)C[(size_t)i * n + j]);
			}
	}
	double flops = 2.0 * n * n * n;
	printf("%s\n", la_info());
	printf("sgemm %d: %.1f GFLOP/s   dgemm %d: %.1f GFLOP/s\n", n, flops / best_s / 1e9, n, flops / best_d / 1e9);
	return 0;
}
