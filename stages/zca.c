/*
 * tiny-zca - ZCA whitening (Appendix A and section 2.4 of the report).
 *
 * usage: tiny-zca --fit [-q] [--drop K] [--epsilon E] [FILE]
 *        tiny-zca [-q] [--inverse | --project] MODEL [FILE]
 *
 * --fit reads a covariance model from tiny-cov (mean m (D), C (D,D)) and
 * writes the whitening model.  With C = P L P^T (LAPACK dsyevd, double
 * precision; eigenvalues l_1 >= ... >= l_D, eigenvectors p_k),
 *
 *   W    = P diag(f) P^T,   f_k = (l_k + E)^-1/2     the whitening matrix
 *   Winv = P diag(g) P^T,   g_k = (l_k + E)^+1/2     the dewhitening matrix
 *
 * and --drop K sets f_k = g_k = 0 for the K least significant directions
 * (the report drops 1000 of 3072).  W and Winv are symmetric; each row of W
 * is the whitening filter of one pixel (Figure 1.3), each row of Winv a
 * dewhitening filter (Figure 1.4).  The model is one record:
 *
 *   mean   f32 [D]      eigval f64 [D]     eigenvalues, descending
 *   W      f32 [D,D]    eigvec f32 [D,D]   row k = p_k
 *   Winv   f32 [D,D]
 *
 * with attributes shape, drop, epsilon, n.  A covariance whose smallest
 * kept eigenvalue is not clearly positive (below D x 1e-15 x the largest)
 * is singular: an error unless --epsilon E > 0 regularises it.
 *
 * tiny-zca MODEL whitens a data stream: y = W (x - m), B records at a time
 * as one sgemm Y (B,D) = (X - 1 m^T) W; x comes out f32 in its own shape,
 * and every other field passes through.  --inverse dewhitens:
 * x = Winv y + m.  --project removes the dropped directions but does not
 * whiten: y = Pk^T Pk (x - m), Pk the kept rows of eigvec, the centred
 * "unwhitened" data of the report's section 2.7 (= Winv W (x - m) with
 * epsilon 0).
 *
 * Whitened data carries the attribute zca_fingerprint, a hash of the
 * model's mean and W (lib/patch.c): a filter bank learned on it keeps the
 * attribute, and tiny-conv checks that it is given the same model.
 * --inverse and --project remove it.  Data that carries it is not whitened again, nor
 * projected, and is dewhitened only by the model that whitened it.
 */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tiny.h"

static const char *usage_line =
	"tiny-zca --fit [-q] [--drop K] [--epsilon E] [FILE] | tiny-zca [-q] [--inverse | --project] MODEL [FILE]";

/* --- fitting ----------------------------------------------------------------- */

/* out (D,D) = sum_k scale_k p_k p_k^T over the kept rows p_k of P = Q^T Q
 * with row k of Q (K,D) = sqrt(scale_k) p_k: one dsyrk. */
static void outer(int D, int kept, const double *P, const double *scale, double *Q, float *out)
{
#pragma omp parallel for
	for (int k = 0; k < kept; k++) {
		double r = sqrt(scale[k]);
		for (int i = 0; i < D; i++)
			Q[(size_t)k * D + i] = P[(size_t)k * D + i] * r;
	}
	double *A = xcalloc((size_t)D * D, sizeof *A);
	la_dsyrk_t(D, kept, 1.0, Q, D, 0.0, A, D);   /* Q stored (K,D): A = Q^T Q */
	la_symmetrize(D, A);
#pragma omp parallel for
	for (size_t i = 0; i < (size_t)D * D; i++)
		out[i] = (float)A[i];
	free(A);
}

static void fit(const char *path, int64_t drop, double epsilon)
{
	sin_t *in = sin_open(path);
	if (th_find(&in->h, "cov") < 0)
		die("%s is %s, not a covariance: --fit takes tiny-cov's output (tiny-cov %s | tiny-zca --fit)", in->name,
		    th_kind(&in->h), strcmp(in->name, "stdin") ? in->name : "FILE");
	const tfield *fm = th_need(&in->h, "mean", in->name), *fc = th_need(&in->h, "cov", in->name);
	if (in->h.count != 1 || fm->dtype != DT_F64 || fm->rank != 1 || fc->dtype != DT_F64 || fc->rank != 2 ||
	    fc->dims[0] != fm->n || fc->dims[1] != fm->n)
		die("%s: not a tiny-cov model (expected one record with mean f64 [D], cov f64 [D,D])", in->name);
	int D = (int)fm->n;
	/* the records the covariance was computed from, kept as attribute n */
	int ni = th_find(&in->h, "n");
	const tfield *fn = ni >= 0 ? &in->h.fields[ni] : NULL;
	if (fn && (fn->dtype != DT_I64 || fn->n != 1))
		die("%s: not a tiny-cov model (expected n i64 [])", in->name);
	if (drop >= D)
		die("--drop %" PRId64 " leaves nothing: %s has D = %d directions", drop, in->name, D);
	unsigned char *rec = xmalloc((size_t)in->h.recsize);
	sin_read(in, rec, 1);
	double *mean = xmalloc((size_t)D * sizeof *mean), *A = xmalloc((size_t)D * D * sizeof *A);
	memcpy(mean, rec + fm->offset, (size_t)D * 8);
	memcpy(A, rec + fc->offset, (size_t)D * D * 8);
	int64_t nrec = -1;
	if (fn)
		memcpy(&nrec, rec + fn->offset, 8);
	free(rec);
	tf_check_finite_f64(A, 1, (int64_t)D * D, 0, in->name, "cov");

	/* ascending eigenvalues w, eigenvector k in row k of A */
	double *w = xmalloc((size_t)D * sizeof *w), t0 = now_seconds();
	la_dsyevd(D, A, w);
	if (!tiny_quiet)
		fprintf(stderr, "%s: eigen-decomposition of %dx%d in %.1f s (%s)\n", tiny_prog, D, D,
			now_seconds() - t0, la_info());

	/* descending: eigval[k] = w[D-1-k], and row k of P (D,D) is p_k */
	double *eigval = xmalloc((size_t)D * sizeof *eigval), *P = xmalloc((size_t)D * D * sizeof *P);
	for (int k = 0; k < D; k++) {
		eigval[k] = w[D - 1 - k];
		memcpy(P + (size_t)k * D, A + (size_t)(D - 1 - k) * D, (size_t)D * sizeof *P);
	}
	int kept = D - (int)drop;
	double tol = D * 1e-15 * fabs(eigval[0]);
	if (eigval[kept - 1] + epsilon <= tol)
		die("%s: the covariance is singular: eigenvalue %d of %d is %.3g (largest %.3g); "
		    "use --epsilon E or --drop K",
		    in->name, kept, D, eigval[kept - 1], eigval[0]);

	double *f = xmalloc((size_t)kept * sizeof *f), *g = xmalloc((size_t)kept * sizeof *g);
	for (int k = 0; k < kept; k++) {
		f[k] = 1.0 / sqrt(eigval[k] + epsilon);
		g[k] = sqrt(eigval[k] + epsilon);
	}
	theader h;
	th_copy(&h, &in->h);
	while (h.nfields)
		th_remove_field(&h, 0);
	h.count = 1;
	th_field(&h, "mean", DT_F32, 1, (int64_t)D);
	th_field(&h, "W", DT_F32, 2, (int64_t)D, (int64_t)D);
	th_field(&h, "Winv", DT_F32, 2, (int64_t)D, (int64_t)D);
	th_field(&h, "eigval", DT_F64, 1, (int64_t)D);
	th_field(&h, "eigvec", DT_F32, 2, (int64_t)D, (int64_t)D);
	char buf[64];
	snprintf(buf, sizeof buf, "%" PRId64, drop);
	th_attr_set(&h, "drop", buf);
	snprintf(buf, sizeof buf, "%g", epsilon);
	th_attr_set(&h, "epsilon", buf);
	if (nrec >= 0) {
		snprintf(buf, sizeof buf, "%" PRId64, nrec);
		th_attr_set(&h, "n", buf);
	}
	th_add_history(&h);

	unsigned char *out = xmalloc((size_t)h.recsize);
	float *o_mean = (float *)(out + h.fields[0].offset), *o_W = (float *)(out + h.fields[1].offset),
	      *o_Winv = (float *)(out + h.fields[2].offset), *o_vec = (float *)(out + h.fields[4].offset);
	/* fields after mean (4D bytes from a 0 offset) are 4-byte aligned in
	 * the malloc'ed record: these float views are safe */
	for (int i = 0; i < D; i++)
		o_mean[i] = (float)mean[i];
	double *Q = xmalloc((size_t)D * kept * sizeof *Q);
	outer(D, kept, P, f, Q, o_W);
	outer(D, kept, P, g, Q, o_Winv);
	memcpy(out + h.fields[3].offset, eigval, (size_t)D * 8);
#pragma omp parallel for
	for (size_t i = 0; i < (size_t)D * D; i++)
		o_vec[i] = (float)P[i];
	sout_t *o = sout_open(NULL, &h);
	sout_write(o, out, 1);
	sout_close(o);
	th_free(&h);
	sin_close(in);
	free(out), free(Q), free(f), free(g), free(P), free(eigval), free(w), free(A), free(mean);
}

/* --- applying ------------------------------------------------------------------ */

enum { WHITEN, INVERSE, PROJECT };

static void apply(const char *model_path, const char *path, int mode)
{
	int inverse = mode == INVERSE;
	sin_t *ms = sin_open(model_path);
	if (th_find(&ms->h, "mean") < 0 || th_find(&ms->h, "cov") >= 0)
		die("%s: not a tiny-zca model (expected mean f32 [D], W, Winv and eigvec f32 [D,D])%s", ms->name,
		    th_find(&ms->h, "cov") >= 0 ? "; this is a covariance: fit a model of it with tiny-zca --fit" : "");
	const tfield *fm = model_field(ms, "tiny-zca model", "mean", DT_F32, 1, (int64_t[]){-1}, "D");
	const tfield *fw = model_field(ms, "tiny-zca model", mode == WHITEN ? "W" : mode == INVERSE ? "Winv" : "eigvec",
				       DT_F32, 2, (int64_t[]){fm->n, fm->n}, NULL);
	int64_t D = fm->n, kept = D;
	if (mode == PROJECT) {
		const char *a = th_attr(&ms->h, "drop");
		char *end;
		long long drop = a ? strtoll(a, &end, 10) : -1;
		if (!a || *end || drop < 0 || drop >= D)
			die("%s: not a tiny-zca model (expected an attribute drop from 0 to %" PRId64 ")", ms->name, D - 1);
		kept = D - drop;
	}

	sin_t *in = sin_open(path);
	const tfield *fx = th_need(&in->h, "x", in->name);
	if (fx->n != D)
		die("%s is a model of D = %" PRId64 " values; %s's x has %" PRId64, ms->name, D, in->name, fx->n);

	unsigned char *mrec = xmalloc((size_t)ms->h.recsize);
	sin_read(ms, mrec, 1);
	float *mean = xmalloc((size_t)D * sizeof *mean), *W = xmalloc((size_t)(D * D) * sizeof *W);
	tf_get_f32(fm, mrec, 1, ms->h.recsize, mean);
	tf_get_f32(fw, mrec, 1, ms->h.recsize, W);
	/* the model's fingerprint is of its mean and W, whatever it applies */
	char fingerprint[17];
	const char *was = th_attr(&in->h, "zca_fingerprint");
	if (mode == WHITEN)
		zca_fingerprint(mean, W, D, fingerprint);
	else if (was) {
		const tfield *fw0 = model_field(ms, "tiny-zca model", "W", DT_F32, 2, (int64_t[]){D, D}, NULL);
		float *W0 = xmalloc((size_t)(D * D) * sizeof *W0);
		tf_get_f32(fw0, mrec, 1, ms->h.recsize, W0);
		zca_fingerprint(mean, W0, D, fingerprint);
		free(W0);
	}
	free(mrec);
	sin_close(ms);
	if (was && mode == WHITEN)
		die("%s: already whitened (zca_fingerprint %s): whitening twice is a mistake; "
		    "tiny-zca --inverse with its model undoes a whitening", in->name, was);
	if (was && mode == PROJECT)
		die("%s: whitened (zca_fingerprint %s); --project takes the data unwhitened", in->name, was);
	if (was && strcmp(was, fingerprint))
		die("%s: whitened by another model (zca_fingerprint %s) than %s (%s)", in->name, was, model_path,
		    fingerprint);
	if (mode == PROJECT) {
		/* W becomes Pk^T Pk: Pk the first `kept` rows of eigvec */
		float *M = xmalloc((size_t)(D * D) * sizeof *M);
		la_sgemm(1, 0, (int)D, (int)D, (int)kept, 1.0f, W, (int)D, W, (int)D, 0.0f, M, (int)D);
		free(W);
		W = M;
	}

	/* output: x becomes f32 in place, every other field as it was */
	theader h;
	th_copy(&h, &in->h);
	int xi = th_find(&h, "x");
	th_replace_field(&h, xi, DT_F32, fx->rank, fx->dims);
	th_attr_del(&h, "zca_fingerprint");
	if (mode == WHITEN)
		th_attr_set(&h, "zca_fingerprint", fingerprint);
	th_add_history(&h);

	int64_t B = 1024, R = in->h.recsize, OR = h.recsize, n, done = 0;
	unsigned char *raw = xmalloc((size_t)(B * R)), *orec = xmalloc((size_t)(B * OR));
	float *X = xmalloc((size_t)(B * D) * sizeof *X), *Y = xmalloc((size_t)(B * D) * sizeof *Y);
	sout_t *o = sout_open(NULL, &h);
	progress_t bar;
	progress_start(&bar, mode == WHITEN ? "whiten" : inverse ? "dewhiten" : "project", in->h.count == TINY_COUNT_UNKNOWN ? 0 : (double)in->h.count);
	while ((n = sin_read(in, raw, B)) > 0) {
		tf_get_f32(fx, raw, n, R, X);
		tf_check_finite_f32(X, n, D, done, in->name, "x");
		if (!inverse)
			for (int64_t b = 0; b < n; b++)
				for (int64_t i = 0; i < D; i++)
					X[b * D + i] -= mean[i];
		la_sgemm(0, 0, (int)n, (int)D, (int)D, 1.0f, X, (int)D, W, (int)D, 0.0f, Y, (int)D);
		if (inverse)
			for (int64_t b = 0; b < n; b++)
				for (int64_t i = 0; i < D; i++)
					Y[b * D + i] += mean[i];
		/* finite input near FLT_MAX can leave float32 (dewhitening
		 * multiplies by up to sqrt(largest eigenvalue)) */
		for (int64_t b = 0; b < n; b++)
			for (int64_t i = 0; i < D; i++)
				if (!isfinite(Y[b * D + i]))
					die("%s: record %" PRId64 ": its %s is not finite in float32 (element %" PRId64
					    "); the input is too large for the model", in->name, done + b,
					    mode == WHITEN ? "whitened x" : inverse ? "dewhitened x" : "projected x", i);
		tf_reassemble(&in->h, &h, xi, raw, n, Y, orec);
		sout_write(o, orec, n);
		done += n;
		progress_update(&bar, (double)done);
	}
	progress_end(&bar);
	sout_close(o);
	sin_close(in);
	th_free(&h);
	free(raw), free(orec), free(X), free(Y), free(mean), free(W);
}

/* --- main ------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"fit", no_argument, 0, 'f'}, {"drop", required_argument, 0, 'd'},
		{"epsilon", required_argument, 0, 'e'}, {"inverse", no_argument, 0, 'i'},
		{"project", no_argument, 0, 'p'},
		{"quiet", no_argument, 0, 'q'}, {0}};
	int fitting = 0, mode = WHITEN, c;
	int64_t drop = 0;
	double epsilon = 0;
	tiny_init(argc, argv, usage_line);
	while ((c = getopt_long(argc, argv, "q", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': fitting = 1; break;
		case 'd': drop = opt_i64("--drop", optarg, 0, INT32_MAX); break;
		case 'e': epsilon = opt_f64("--epsilon", optarg, 0, 1e300); break;
		case 'i':
		case 'p':
			if (mode != WHITEN)
				usage_error("--inverse and --project exclude each other");
			mode = c == 'i' ? INVERSE : PROJECT;
			break;
		case 'q': tiny_quiet = 1; break;
		default: usage();
		}
	}
	if (fitting) {
		if (mode != WHITEN)
			usage_error("--fit excludes --inverse and --project");
		if (argc - optind > 1)
			usage_error("--fit reads one covariance model");
		fit(optind < argc ? argv[optind] : NULL, drop, epsilon);
	} else {
		if (drop || epsilon)
			usage_error("--drop and --epsilon apply to --fit");
		if (argc - optind < 1 || argc - optind > 2)
			usage();
		apply(argv[optind], optind + 1 < argc ? argv[optind + 1] : NULL, mode);
	}
	return 0;
}
