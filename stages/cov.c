/*
 * tiny-cov - the mean and covariance of a data set, streamed in blocks.
 *
 * usage: tiny-cov [-q] [--field F] [--part I/K] [FILE]
 *        tiny-cov --merge FILE...
 *
 * Reads field F (default x; any dtype and shape, flattened to D values) of
 * N records and writes a model stream of one record:
 *
 *   n    i64 []      N
 *   mean f64 [D]     m = sum(x) / N
 *   cov  f64 [D,D]   C = sum((x - m)(x - m)^T) / (N - 1)
 *
 * with the attribute `shape` giving F's shape (so later stages can show a
 * row of C as an image).  Records are read B at a time into a block
 * X (B,D), converted to double and shifted by c, the first block's mean
 * (which keeps the sums small, so no precision is lost to cancellation);
 * the sums s = sum(x - c) and S = sum((x - c)(x - c)^T) grow by one BLAS
 * dsyrk per block.  At the end m = c + s/N and
 * C = (S - s s^T / N) / (N - 1).  Memory is O(D^2 + B D) whatever N is.
 *
 * Bytes (u8 images) take a faster road to the same numbers: with c rounded
 * to integers every x - c is an integer of at most 255 in size, so a sum of
 * up to 256 of their products stays below 2^24 and single precision holds
 * it exactly.  S then grows by one ssyrk per 256 records (twice the speed
 * of dsyrk) whose exact result is added into the double S.
 *
 * --part I/K reads only the I-th of K equal parts of a file (records
 * [I N/K, (I+1) N/K)), so that parts can be computed side by side:
 *
 *   parallel 'tiny-cov --part {}/4 train.tiny > part{}.cov' ::: 0 1 2 3
 *   tiny-cov --merge part*.cov > train.cov
 *
 * --merge combines covariance models of disjoint parts exactly: with
 * N = sum n_k, m = sum n_k m_k / N,
 * C = (sum (n_k - 1) C_k + sum n_k (m_k - m)(m_k - m)^T) / (N - 1).
 */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tiny.h"

static const char *usage_line = "tiny-cov [-q] [--field F] [--part I/K] [FILE] | tiny-cov --merge FILE...";

/* --- the output model ------------------------------------------------------ */

static void shape_string(const tfield *f, char *buf, size_t sz)
{
	size_t len = 0;
	buf[0] = 0;
	for (int d = 0; d < f->rank && len < sz; d++)
		len += snprintf(buf + len, sz - len, "%s%" PRId64, d ? "," : "", f->dims[d]);
}

/* Write n, mean (D) and cov (D,D) as one record. */
static void write_model(theader *h, int64_t D, int64_t n, const double *mean, const double *cov)
{
	h->count = 1;
	th_field(h, "n", DT_I64, 0);
	th_field(h, "mean", DT_F64, 1, D);
	th_field(h, "cov", DT_F64, 2, D, D);
	th_add_history(h);
	sout_t *o = sout_open(NULL, h);
	unsigned char *rec = xmalloc((size_t)h->recsize);
	memcpy(rec, &n, 8);
	memcpy(rec + 8, mean, (size_t)D * 8);
	memcpy(rec + 8 + D * 8, cov, (size_t)(D * D) * 8);
	sout_write(o, rec, 1);
	sout_close(o);
	free(rec);
}

/* --- one pass over the data ------------------------------------------------ */

static void cov_of_data(const char *path, const char *field, int part, int parts)
{
	sin_t *in = sin_open(path);
	const tfield *f = th_need(&in->h, field, in->name);
	int64_t D = f->n, R = in->h.recsize;
	if (D > 46340)  /* D^2 doubles must be addressable with int BLAS sizes */
		die("%s: field '%s' has %" PRId64 " values; tiny-cov handles up to 46340", in->name, field, D);
	int64_t first = 0, last = in->h.count;
	if (parts > 1) {
		if (in->start < 0)
			die("%s: --part needs a regular file, not a pipe", in->name);
		first = in->h.count * part / parts;
		last = in->h.count * (part + 1) / parts;
		sin_seek(in, first);
	}

	/* block of B records: ~32 MiB of doubles, at least 64 records */
	int64_t B = ((int64_t)1 << 22) / D;
	if (B < 64)
		B = 64;
	if (B > 4096)
		B = 4096;
	unsigned char *raw = xmalloc((size_t)(B * R));
	double *X = xmalloc((size_t)(B * D) * sizeof *X);     /* X (B,D) */
	double *c = xcalloc(D, sizeof *c);                    /* shift */
	int exact32 = f->dtype == DT_U8;                      /* see the banner */
	enum { K32 = 256 };                                   /* records per ssyrk */
	float *X32 = exact32 ? xmalloc((size_t)(K32 * D) * sizeof *X32) : NULL;
	float *S32 = exact32 ? xmalloc((size_t)(D * D) * sizeof *S32) : NULL;
	double *s = xcalloc(D, sizeof *s);                    /* sum(x - c) */
	double *S = xcalloc((size_t)(D * D), sizeof *S);      /* sum((x-c)(x-c)^T), upper */
	int64_t N = 0, n;
	progress_t bar;
	progress_start(&bar, "cov", last == TINY_COUNT_UNKNOWN ? 0 : (double)(last - first));
	for (;;) {
		int64_t want = B;
		if (last != TINY_COUNT_UNKNOWN && want > last - first - N)
			want = last - first - N;
		if (want <= 0 || (n = sin_read(in, raw, want)) == 0)
			break;
		if (N == 0) {
			tf_get_f64(f, raw, n, R, X);
			for (int64_t b = 0; b < n; b++)
				for (int64_t i = 0; i < D; i++)
					c[i] += X[b * D + i];
			for (int64_t i = 0; i < D; i++)
				c[i] = exact32 ? round(c[i] / n) : c[i] / n;
		}
		if (!exact32) {
			tf_get_f64(f, raw, n, R, X);
			tf_check_finite_f64(X, n, D, first + N, in->name, field);
			for (int64_t b = 0; b < n; b++)
				for (int64_t i = 0; i < D; i++) {
					X[b * D + i] -= c[i];
					s[i] += X[b * D + i];
				}
			la_dsyrk_t((int)D, (int)n, 1.0, X, (int)D, 1.0, S, (int)D);
		} else {
			for (int64_t b0 = 0; b0 < n; b0 += K32) {
				int k = (int)(n - b0 < K32 ? n - b0 : K32);
				for (int b = 0; b < k; b++) {
					const unsigned char *px = raw + (b0 + b) * R + f->offset;
					float *row = X32 + (int64_t)b * D;
					for (int64_t i = 0; i < D; i++) {
						row[i] = (float)(px[i] - c[i]);
						s[i] += row[i];
					}
				}
				la_ssyrk_t((int)D, k, 1.0f, X32, (int)D, 0.0f, S32, (int)D);
#pragma omp parallel for schedule(dynamic, 64)
				for (int64_t i = 0; i < D; i++)
					for (int64_t j = i; j < D; j++)
						S[i * D + j] += S32[i * D + j];
			}
		}
		N += n;
		progress_update(&bar, (double)N);
	}
	progress_end(&bar);
	if (N < 2)
		die("%s: %" PRId64 " record%s: a covariance needs at least 2", in->name, N, N == 1 ? "" : "s");

	/* C = (S - s s^T / N) / (N - 1), m = c + s / N */
	double *m = xmalloc((size_t)D * sizeof *m);
	for (int64_t i = 0; i < D; i++)
		m[i] = c[i] + s[i] / N;
	la_dsyrk_t((int)D, 1, -1.0 / N, s, (int)D, 1.0, S, (int)D);
	la_symmetrize((int)D, S);
	for (int64_t i = 0; i < D * D; i++)
		S[i] /= (double)(N - 1);

	theader h;
	th_copy(&h, &in->h);
	while (h.nfields)
		th_remove_field(&h, 0);
	char shape[128];
	shape_string(f, shape, sizeof shape);
	th_attr_set(&h, "shape", shape);
	if (parts > 1) {
		char p[64];
		snprintf(p, sizeof p, "%d/%d records %" PRId64 "..%" PRId64, part, parts, first, last - 1);
		th_attr_set(&h, "part", p);
	}
	write_model(&h, D, N, m, S);
	th_free(&h);
	sin_close(in);
	free(raw), free(X), free(c), free(s), free(S), free(m), free(X32), free(S32);
}

/* --- merging parts ------------------------------------------------------------ */

static void merge(int nfiles, char **files)
{
	int64_t D = -1, N = 0;
	double *M = NULL, *mean = NULL, *means = NULL;
	int64_t *ns = xcalloc(nfiles, sizeof *ns);
	theader h;
	th_init(&h);
	char shape[128] = "";
	for (int k = 0; k < nfiles; k++) {
		sin_t *in = sin_open(files[k]);
		const tfield *fn = th_need(&in->h, "n", in->name), *fm = th_need(&in->h, "mean", in->name),
			     *fc = th_need(&in->h, "cov", in->name);
		if (in->h.count != 1)
			die("%s: a covariance model has one record, this has %" PRId64, in->name, in->h.count);
		if (fn->dtype != DT_I64 || fn->n != 1 || fm->dtype != DT_F64 || fm->rank != 1 || fc->dtype != DT_F64 ||
		    fc->rank != 2 || fc->dims[0] != fm->n || fc->dims[1] != fm->n)
			die("%s: not a tiny-cov model (expected n i64 [], mean f64 [D], cov f64 [D,D])", in->name);
		if (D < 0) {
			D = fm->n;
			M = xcalloc((size_t)(D * D), sizeof *M);
			means = xmalloc((size_t)(nfiles * D) * sizeof *means);
			mean = xcalloc(D, sizeof *mean);
			th_copy(&h, &in->h);
			while (h.nfields)
				th_remove_field(&h, 0);
			th_attr_del(&h, "part");
			if (th_attr(&in->h, "shape"))
				snprintf(shape, sizeof shape, "%s", th_attr(&in->h, "shape"));
		} else if (fm->n != D) {
			die("%s: D = %" PRId64 " does not match %s's D = %" PRId64, in->name, fm->n, files[0], D);
		}
		unsigned char *rec = xmalloc((size_t)in->h.recsize);
		sin_read(in, rec, 1);
		memcpy(&ns[k], rec + fn->offset, 8);
		if (ns[k] < 2)
			die("%s: n = %" PRId64 ", expected at least 2", in->name, ns[k]);
		memcpy(means + k * D, rec + fm->offset, (size_t)D * 8);
		/* M += (n_k - 1) C_k, straight from the record's bytes */
		double *C = xmalloc((size_t)(D * D) * sizeof *C);
		memcpy(C, rec + fc->offset, (size_t)(D * D) * 8);
		la_daxpy(D * D, (double)(ns[k] - 1), C, M);
		free(C);
		free(rec);
		N += ns[k];
		sin_close(in);
	}
	for (int k = 0; k < nfiles; k++)
		for (int64_t i = 0; i < D; i++)
			mean[i] += (double)ns[k] / N * means[k * D + i];
	/* the spread of the part means: rows sqrt(n_k) (m_k - m), one dsyrk */
	for (int k = 0; k < nfiles; k++)
		for (int64_t i = 0; i < D; i++)
			means[k * D + i] = sqrt((double)ns[k]) * (means[k * D + i] - mean[i]);
	la_dsyrk_t((int)D, nfiles, 1.0, means, (int)D, 1.0, M, (int)D);
	la_symmetrize((int)D, M);
	for (int64_t i = 0; i < D * D; i++)
		M[i] /= (double)(N - 1);
	if (*shape)
		th_attr_set(&h, "shape", shape);
	write_model(&h, D, N, mean, M);
	th_free(&h);
	free(M), free(mean), free(means), free(ns);
}

/* --- main ------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"field", required_argument, 0, 'f'}, {"part", required_argument, 0, 'p'},
		{"merge", no_argument, 0, 'm'}, {"quiet", no_argument, 0, 'q'}, {0}};
	const char *field = "x";
	int merging = 0, part = 0, parts = 1, c;
	tiny_init(argc, argv, usage_line);
	while ((c = getopt_long(argc, argv, "q", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': field = optarg; break;
		case 'm': merging = 1; break;
		case 'p': {
			char *slash = strchr(optarg, '/');
			if (!slash)
				usage_error("--part %s: expected I/K, e.g. 0/4", optarg);
			*slash = 0;
			parts = (int)opt_i64("--part K", slash + 1, 1, 1 << 20);
			part = (int)opt_i64("--part I", optarg, 0, parts - 1);
			break;
		}
		case 'q': tiny_quiet = 1; break;
		default: usage();
		}
	}
	if (merging) {
		if (optind == argc)
			usage_error("--merge needs at least one covariance file");
		if (parts > 1)
			usage_error("--merge and --part exclude each other");
		merge(argc - optind, argv + optind);
	} else {
		if (argc - optind > 1)
			usage_error("expected at most one input file (did you mean --merge?)");
		cov_of_data(optind < argc ? argv[optind] : NULL, field, part, parts);
	}
	return 0;
}
