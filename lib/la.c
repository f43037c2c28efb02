/*
 * la.c - BLAS and LAPACK through their C interfaces (CBLAS, LAPACKE).
 *
 * Which BLAS is linked is the Makefile's choice (BLAS=blis|openblas); the
 * libraries are pinned by path (build/config-BLAS.mk), so that neither
 * Debian's alternatives nor a second BLAS decide at run time.
 *
 * BLIS picks its kernels from CPUID the first time it is called.  BLIS 0.9
 * knows AMD processors up to family 0x19; on a newer family (0x1A, Zen 5)
 * it silently falls back to its reference kernels, about a sixth of the
 * speed.  So before main, and so before BLIS initialises, la_setup() names
 * the kernels for such a processor (BLIS_ARCH_TYPE: skx, the AVX-512
 * kernels, where AVX-512 F/DQ/BW/VL are present, else zen3 with AVX2 and
 * FMA), and asks for one thread per core (BLIS_NUM_THREADS).  On family
 * 0x19 with AVX-512 (Zen 4) BLIS's own zen3 choice stays: measured on one,
 * skx and zen3 kernels ran within 15% of each other (sgemm 172 vs 182,
 * dgemm 92 vs 80 GFLOP/s on 2 cores).  A user who sets BLIS_ARCH_TYPE,
 * BLIS_NUM_THREADS or OMP_NUM_THREADS keeps
 * their choice; TINY_BLIS_ARCH=blis leaves the kernels to BLIS's own
 * detection (make bench uses it to show both rates).
 */
#define _GNU_SOURCE
#ifdef TINY_BLIS
#include <blis.h>
#endif
#include <cblas.h>
#include <cpuid.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tiny.h"

/* --- choosing the kernels, before main ------------------------------------ */

static const char *arch_note = "as detected";

#ifdef TINY_BLIS
/* AMD family as CPUID reports it (base + extended), 0 if not AMD. */
static unsigned amd_family(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid(0, &a, &b, &c, &d))
		return 0;
	/* "AuthenticAMD" in ebx, edx, ecx */
	if (b != 0x68747541 || d != 0x69746e65 || c != 0x444d4163)
		return 0;
	__get_cpuid(1, &a, &b, &c, &d);
	unsigned fam = (a >> 8) & 0xf;
	return fam == 0xf ? fam + ((a >> 20) & 0xff) : fam;
}

__attribute__((constructor)) static void la_setup(void)
{
	if (!getenv("BLIS_NUM_THREADS") && !getenv("OMP_NUM_THREADS")) {
		char n[24];
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		snprintf(n, sizeof n, "%ld", cores > 0 ? cores : 1);
		setenv("BLIS_NUM_THREADS", n, 0);
	}
	if (getenv("BLIS_ARCH_TYPE")) {
		arch_note = "chosen by BLIS_ARCH_TYPE";
		return;
	}
	const char *mode = getenv("TINY_BLIS_ARCH");
	if (mode && !strcmp(mode, "blis")) {
		arch_note = "BLIS's own detection, TINY_BLIS_ARCH=blis";
		return;
	}
	unsigned family = amd_family();
	if (family < 0x1a)
		return;
	__builtin_cpu_init();
	char id[8];
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
	    __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")) {
		snprintf(id, sizeof id, "%d", (int)BLIS_ARCH_SKX);
		arch_note = "set by tiny: BLIS 0.9 does not know this AMD family";
	} else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
		snprintf(id, sizeof id, "%d", (int)BLIS_ARCH_ZEN3);
		arch_note = "set by tiny: BLIS 0.9 does not know this AMD family";
	} else {
		return;
	}
	setenv("BLIS_ARCH_TYPE", id, 1);
}
#endif

const char *la_info(void)
{
	static char buf[256];
#ifdef TINY_BLIS
	/* bli_arch_query_id as the process's first BLIS call, with
	 * BLIS_ARCH_TYPE set (la_setup), aborts in BLIS 0.9 ("Accessed
	 * uninitialized context in gks"): initialise first (once, cheap) */
	bli_init();
	snprintf(buf, sizeof buf, "BLIS %s, %s kernels (%s), %s threads", bli_info_get_version_str(),
		 bli_arch_string(bli_arch_query_id()), arch_note,
		 getenv("BLIS_NUM_THREADS") ? getenv("BLIS_NUM_THREADS") : getenv("OMP_NUM_THREADS"));
#else
	snprintf(buf, sizeof buf, "OpenBLAS");
#endif
	return buf;
}

void la_set_threads(int n)
{
#ifdef TINY_BLIS
	bli_thread_set_num_threads(n);
#endif
	char buf[16];
	snprintf(buf, sizeof buf, "%d", n);
	setenv("BLIS_NUM_THREADS", buf, 1);
	omp_set_num_threads(n);
}

int la_threads(void)
{
	const char *e = getenv("BLIS_NUM_THREADS");
	long n = e ? strtol(e, NULL, 10) : 0;
	return n > 0 && n < 1024 ? (int)n : omp_get_max_threads();
}

void *xmalloc_big(size_t n)
{
	/* 2 MiB aligned, asked for as huge pages: first touch of fresh memory
	 * is slow in some VMs, and fewer, bigger pages fault fewer times */
	void *p = NULL;
	size_t align = (size_t)1 << 21;
	if (posix_memalign(&p, align, n ? n : 1) != 0)
		die_oom(n);
	if (n >= align)
		madvise(p, n, MADV_HUGEPAGE);
	return p;
}

/* --- BLAS ------------------------------------------------------------------- */

static enum CBLAS_TRANSPOSE tr(int t)
{
	return t ? CblasTrans : CblasNoTrans;
}

void la_sgemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
	      const float *B, int ldb, float beta, float *C, int ldc)
{
	cblas_sgemm(CblasRowMajor, tr(ta), tr(tb), M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void la_sgemm_1(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
		const float *B, int ldb, float beta, float *C, int ldc)
{
#ifdef TINY_BLIS
	/* the typed API takes the stored matrices' strides: row-major, (ld, 1) */
	rntm_t rntm = BLIS_RNTM_INITIALIZER;
	bli_rntm_set_num_threads(1, &rntm);
	bli_sgemm_ex(ta ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, tb ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, M, N, K, &alpha,
		     (float *)A, lda, 1, (float *)B, ldb, 1, &beta, C, ldc, 1, NULL, &rntm);
#else
	la_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#endif
}

void la_dgemm(int ta, int tb, int M, int N, int K, double alpha, const double *A, int lda,
	      const double *B, int ldb, double beta, double *C, int ldc)
{
	cblas_dgemm(CblasRowMajor, tr(ta), tr(tb), M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void la_dsyrk_t(int n, int k, double alpha, const double *A, int lda, double beta, double *C, int ldc)
{
	cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, n, k, alpha, A, lda, beta, C, ldc);
}

void la_ssyrk_t(int n, int k, float alpha, const float *A, int lda, float beta, float *C, int ldc)
{
	cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, n, k, alpha, A, lda, beta, C, ldc);
}

void la_daxpy(int64_t n, double a, const double *x, double *y)
{
	/* in pieces, since a CBLAS length is an int */
	for (int64_t off = 0; off < n; off += INT32_MAX / 2) {
		int m = n - off < INT32_MAX / 2 ? (int)(n - off) : INT32_MAX / 2;
		cblas_daxpy(m, a, x + off, 1, y + off, 1);
	}
}

void la_symmetrize(int n, double *C)
{
	/* copy the upper triangle of C (n,n) into the lower, in tiles so both
	 * sides stay in cache */
	enum { T = 64 };
#pragma omp parallel for schedule(dynamic)
	for (int i0 = 0; i0 < n; i0 += T)
		for (int j0 = i0; j0 < n; j0 += T)
			for (int i = i0; i < i0 + T && i < n; i++)
				for (int j = j0 > i ? j0 : i + 1; j < j0 + T && j < n; j++)
					C[(size_t)j * n + i] = C[(size_t)i * n + j];
}

