/* la.c - BLAS and LAPACK through their C interfaces (CBLAS, LAPACKE).
 * Which BLAS is linked is the Makefile's choice (BLAS=blis|openblas). */
#include <cblas.h>
#include <lapacke.h>

#include "tiny.h"

static enum CBLAS_TRANSPOSE tr(int t)
{
	return t ? CblasTrans : CblasNoTrans;
}

void la_sgemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
	      const float *B, int ldb, float beta, float *C, int ldc)
{
	cblas_sgemm(CblasRowMajor, tr(ta), tr(tb), M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void la_dgemm(int ta, int tb, int M, int N, int K, double alpha, const double *A, int lda,
	      const double *B, int ldb, double beta, double *C, int ldc)
{
	cblas_dgemm(CblasRowMajor, tr(ta), tr(tb), M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void la_dsyevd(int n, double *A, double *w)
{
	lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', n, A, n, w);
	if (info != 0)
		die("LAPACK dsyevd failed on a %dx%d matrix (info %d)", n, n, (int)info);
}
