/*
 * lapack.c - LAPACK through LAPACKE (apart from la.c, whose blis.h and
 * lapack.h cannot share a file).  Linked against the reference LAPACK,
 * which runs on the BLAS that la.c set up.
 */
#include <lapacke.h>
#include <stdlib.h>

#include "tiny.h"

/* --- LAPACK ----------------------------------------------------------------- */

void la_dsyevd(int n, double *A, double *w)
{
	/* explicit workspace sizes (dsyevd's documented minimum for JOBZ='V'):
	 * the workspace query of the single-precision twin rounds down at
	 * n = 3072, so no query is trusted here either */
	lapack_int lwork = 1 + 6 * (lapack_int)n + 2 * (lapack_int)n * n, liwork = 3 + 5 * (lapack_int)n;
	double *work = xmalloc((size_t)lwork * sizeof *work);
	lapack_int *iwork = xmalloc((size_t)liwork * sizeof *iwork);
	/* A is symmetric, so row- and column-major are the same matrix; asked
	 * column-major, LAPACKE makes no transposed copies, and the eigenvector
	 * columns it returns are our rows */
	lapack_int info = LAPACKE_dsyevd_work(LAPACK_COL_MAJOR, 'V', 'U', n, A, n, w, work, lwork, iwork, liwork);
	free(work);
	free(iwork);
	if (info != 0)
		die("LAPACK dsyevd failed on a %dx%d matrix (info %d)", n, n, (int)info);
}

void la_orthonormalize(int m, int n, double *A)
{
	/* Householder QR, then Q formed in place: its columns span A's */
	double *tau = xmalloc((size_t)n * sizeof *tau);
	lapack_int info = LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, m, n, A, n, tau);
	if (info == 0)
		info = LAPACKE_dorgqr(LAPACK_ROW_MAJOR, m, n, n, A, n, tau);
	free(tau);
	if (info != 0)
		die("LAPACK QR failed on a %dx%d matrix (info %d)", m, n, (int)info);
}
