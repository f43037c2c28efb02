/*
 * labelled.c - a labelled data set held in memory for a classifier
 * (tiny-logreg, tiny-backprop): x as it came (u8 stays u8, converted a
 * minibatch at a time), an integer label per record, and the class names.
 * Also the small pieces both classifiers use: softmax rows, argmax, a
 * seeded shuffle.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tiny.h"

#define LD_BLOCK 1024
#define LD_MAX_LABEL 65535   /* largest label accepted without a classes attribute */

void ld_open(labelled_t *d, const char *path)
{
	memset(d, 0, sizeof *d);
	d->in = sin_open(path);
	const char *name = d->in->name;
	int xi = th_find(&d->in->h, "x");
	if (xi < 0)
		die("%s is %s, not a data set: --train needs a labelled data set (fields x and label)", name,
		    th_kind(&d->in->h));
	const tfield *fx = &d->in->h.fields[xi];
	int li = th_find(&d->in->h, "label");
	if (li < 0)
		die("%s: no field 'label' (--train needs labelled data)", name);
	d->fl = &d->in->h.fields[li];
	if (!dtype_is_int(d->fl->dtype) || d->fl->n != 1)
		die("%s: label is %s with %" PRId64 " values; --train needs an integer label, one per record", name,
		    dtype_names[d->fl->dtype], d->fl->n);
	d->fx = *fx;
	d->fx.offset = 0;
	d->D = fx->n;
	if (d->D > INT32_MAX / 4)
		die("%s: x has %" PRId64 " values, more than BLAS can index", name, d->D);
	const char *cl = th_attr(&d->in->h, "classes");
	if (cl) {
		char **words = NULL;
		d->K = th_words(cl, &words);
		th_words_free(words, (int)d->K);
		if (d->K < 2)
			die("%s: the attribute classes names %" PRId64 " class%s; a classifier needs at least 2", name,
			    d->K, d->K == 1 ? "" : "es");
		d->classes = xstrdup(cl);
	}
}

void ld_read(labelled_t *d)
{
	const char *name = d->in->name;
	const tfield *fx = &d->in->h.fields[th_find(&d->in->h, "x")];
	int64_t R = d->in->h.recsize, nb = fx->nbytes, cap = 0, n, maxlabel = -1, K = d->K;
	int isfloat = !dtype_is_int(fx->dtype);
	unsigned char *raw = xmalloc((size_t)(LD_BLOCK * R));
	float *X = isfloat ? xmalloc((size_t)(LD_BLOCK * d->D) * sizeof *X) : NULL;
	int64_t lab[LD_BLOCK];
	while ((n = sin_read(d->in, raw, LD_BLOCK)) > 0) {
		if (d->N + n > cap) {
			cap = cap ? 2 * cap : (d->in->h.count > 0 ? d->in->h.count : 4096);
			if (cap < d->N + n)
				cap = d->N + n;
			d->xs = xrealloc(d->xs, (size_t)(cap * nb));
			d->y = xrealloc(d->y, (size_t)cap * sizeof *d->y);
		}
		if (isfloat) {
			tf_get_f32(fx, raw, n, R, X);
			tf_check_finite_f32(X, n, d->D, d->N, name, "x");
		}
		tf_get_i64(d->fl, raw, n, R, lab);
		for (int64_t r = 0; r < n; r++) {
			int64_t v = lab[r], rec = d->N + r;
			if (K && (v < 0 || v >= K))
				die("%s: record %" PRId64 ": label %" PRId64 " is outside 0..%" PRId64 " (%" PRId64
				    " classes)",
				    name, rec, v, K - 1, K);
			if (!K && (v < 0 || v > LD_MAX_LABEL))
				die("%s: record %" PRId64 ": label %" PRId64 " is outside 0..%d (without a classes "
				    "attribute)",
				    name, rec, v, LD_MAX_LABEL);
			if (v > maxlabel)
				maxlabel = v;
			d->y[rec] = v;
			memcpy(d->xs + rec * nb, raw + r * R + fx->offset, (size_t)nb);
		}
		d->N += n;
	}
	free(raw), free(X);
	if (d->N < 2)
		die("%s: %" PRId64 " record%s; training needs at least 2", name, d->N, d->N == 1 ? "" : "s");
	if (!K) {
		d->K = maxlabel + 1;
		if (d->K < 2)
			die("%s: every label is 0 and there is no classes attribute; a classifier needs at least 2 "
			    "classes",
			    name);
	}
}

char *ld_class_numbers(int64_t K)
{
	size_t len = 0, cap = (size_t)K * 21 + 1;
	char *s = xmalloc(cap);
	s[0] = 0;
	for (int64_t k = 0; k < K; k++)
		len += (size_t)snprintf(s + len, cap - len, k ? " %" PRId64 : "%" PRId64, k);
	return s;
}

void ld_gather(const labelled_t *d, const int64_t *idx, int64_t n, float *X)
{
	for (int64_t r = 0; r < n; r++) {
		float *x = X + r * d->D;
		tf_get_f32(&d->fx, d->xs + idx[r] * d->fx.nbytes, 1, d->fx.nbytes, x);
		if (d->mu)
			for (int64_t i = 0; i < d->D; i++)
				x[i] = (x[i] - d->mu[i]) / d->sd[i];
	}
}

void ld_moments(const labelled_t *d, const int64_t *idx, int64_t n, float *mu, float *sd)
{
	enum { BL = 1024 };
	int64_t D = d->D;
	double *s1 = xcalloc((size_t)D, sizeof *s1), *s2 = xcalloc((size_t)D, sizeof *s2);
	float *X = xmalloc((size_t)(BL * D) * sizeof *X);
	for (int64_t pass = 0; pass < 2; pass++)
		for (int64_t first = 0; first < n; first += BL) {
			int64_t m = n - first < BL ? n - first : BL;
			ld_gather(d, idx + first, m, X);
			for (int64_t r = 0; r < m; r++)
				for (int64_t i = 0; i < D; i++) {
					if (pass == 0) {
						s1[i] += X[r * D + i];
					} else {
						double t = X[r * D + i] - s1[i];
						s2[i] += t * t;
					}
				}
			if (pass == 0 && first + m >= n)
				for (int64_t i = 0; i < D; i++)
					s1[i] /= (double)n;
		}
	for (int64_t i = 0; i < D; i++) {
		double s = sqrt(s2[i] / (double)n);
		mu[i] = (float)s1[i];
		sd[i] = s < 1e-6 ? 1.0f : (float)s;   /* a constant input keeps its scale */
	}
	free(s1), free(s2), free(X);
}

int64_t *ld_split(const labelled_t *d, double valid, uint64_t seed, int64_t *nvalid)
{
	int64_t N = d->N, *order = xmalloc((size_t)N * sizeof *order);
	for (int64_t i = 0; i < N; i++)
		order[i] = i;
	*nvalid = 0;
	if (valid > 0) {
		rng_shuffle(order, N, seed, (uint64_t)1 << 62);
		*nvalid = (int64_t)floor(valid * (double)N);
		if (*nvalid < d->K || N - *nvalid < d->K)
			die("--valid %g of %s's %" PRId64 " records leaves %" PRId64 " for validation and %" PRId64
			    " for training; each needs at least one per class (%" PRId64 ")",
			    valid, d->in->name, N, *nvalid, N - *nvalid, d->K);
	}
	return order;
}

void ld_free(labelled_t *d)
{
	free(d->mu);
	free(d->sd);
	if (d->in)
		sin_close(d->in);
	free(d->xs);
	free(d->y);
	free(d->classes);
	memset(d, 0, sizeof *d);
}

void rng_shuffle(int64_t *a, int64_t n, uint64_t seed, uint64_t stream)
{
	rng_t r;
	rng_seed(&r, seed, stream);
	for (int64_t i = n - 1; i > 0; i--) {
		int64_t j = (int64_t)rng_below(&r, (uint64_t)i + 1), t = a[i];
		a[i] = a[j], a[j] = t;
	}
}

void softmax_rows(float *P, int64_t m, int64_t K)
{
	for (int64_t r = 0; r < m; r++) {
		float *p = P + r * K, mx = p[0];
		for (int64_t k = 1; k < K; k++)
			if (p[k] > mx)
				mx = p[k];
		double s = 0;
		for (int64_t k = 0; k < K; k++)
			s += (p[k] = expf(p[k] - mx));
		for (int64_t k = 0; k < K; k++)
			p[k] = (float)(p[k] / s);
	}
}

double nll_rows(const float *P, const int64_t *y, int64_t n, int64_t K, int64_t *correct)
{
	double loss = 0;
	for (int64_t r = 0; r < n; r++) {
		const float *p = P + r * K;
		loss -= log(p[y[r]] > 1e-30f ? (double)p[y[r]] : 1e-30);
		*correct += argmax_f32(p, K) == y[r];
	}
	return loss;
}

double sqhinge_rows(const float *S, const int64_t *y, int64_t n, int64_t K, int64_t *correct)
{
	double loss = 0;
	for (int64_t r = 0; r < n; r++) {
		const float *s = S + r * K;
		for (int64_t k = 0; k < K; k++) {
			double m = 1 - (k == y[r] ? s[k] : -s[k]);
			if (m > 0)
				loss += m * m;
		}
		*correct += argmax_f32(s, K) == y[r];
	}
	return loss;
}

void sqhinge_grad(float *S, const int64_t *y, int64_t n, int64_t K)
{
	for (int64_t r = 0; r < n; r++) {
		float *s = S + r * K;
		for (int64_t k = 0; k < K; k++) {
			float t = k == y[r] ? 1.0f : -1.0f, m = 1 - t * s[k];
			s[k] = m > 0 ? -2 * t * m : 0.0f;
		}
	}
}

int64_t argmax_f32(const float *p, int64_t K)
{
	int64_t best = 0;
	for (int64_t k = 1; k < K; k++)
		if (p[k] > p[best])
			best = k;
	return best;
}

/* --- predictions ------------------------------------------------------------ */

void pred_open(pred_out_t *p, const sin_t *in, int64_t K, const char *classes, const char *field)
{
	memset(p, 0, sizeof *p);
	p->field = field;
	p->in = in;
	p->K = K;
	int li = th_find(&in->h, "label");
	p->fl = li >= 0 ? &in->h.fields[li] : NULL;
	p->intlabel = p->fl && p->fl->n == 1 && dtype_is_int(p->fl->dtype);
	th_copy(&p->h, &in->h);
	while (p->h.nfields)
		th_remove_field(&p->h, 0);
	char err[256];
	if (p->fl && th_add_field(&p->h, "label", p->fl->dtype, p->fl->rank, p->fl->dims, err, sizeof err) < 0)
		die("%s", err);
	th_field(&p->h, "pred", DT_I32, 0);
	th_field(&p->h, field, DT_F32, 1, K);
	if (classes)
		th_attr_set(&p->h, "classes", classes);
	th_add_history(&p->h);
	p->out = sout_open(NULL, &p->h);
}

void pred_write(pred_out_t *p, const unsigned char *raw, int64_t n, const float *P)
{
	const tfield *opred = &p->h.fields[th_find(&p->h, "pred")], *oprob = &p->h.fields[th_find(&p->h, p->field)];
	int64_t R = p->in->h.recsize, OR = p->h.recsize, K = p->K;
	if (n > p->cap) {
		p->orec = xrealloc(p->orec, (size_t)(n * OR));
		p->cap = n;
	}
	for (int64_t r = 0; r < n; r++) {
		unsigned char *dst = p->orec + r * OR;
		int32_t pred = (int32_t)argmax_f32(P + r * K, K);
		if (p->fl) {
			memcpy(dst, raw + r * R + p->fl->offset, (size_t)p->fl->nbytes);
			if (p->intlabel) {
				int64_t lab;
				tf_get_i64(p->fl, raw + r * R, 1, R, &lab);
				p->correct += lab == pred;
			}
		}
		memcpy(dst + opred->offset, &pred, sizeof pred);
		memcpy(dst + oprob->offset, P + r * K, (size_t)K * sizeof *P);
	}
	sout_write(p->out, p->orec, n);
	p->done += n;
}

void pred_close(pred_out_t *p)
{
	if (p->intlabel && p->done && !tiny_quiet)
		fprintf(stderr, "%s: accuracy %.4f (%" PRId64 " of %" PRId64 ")\n", tiny_prog,
			(double)p->correct / (double)p->done, p->correct, p->done);
	sout_close(p->out);
	th_free(&p->h);
	free(p->orec);
	memset(p, 0, sizeof *p);
}

/* --- logistic regression models ------------------------------------------------ */

void lr_load(lr_model_t *m, sin_t *ms)
{
	memset(m, 0, sizeof *m);
	const char *kind = "tiny-logreg model";
	if (th_find(&ms->h, "W") < 0 || th_find(&ms->h, "b") < 0)
		die("%s is %s, not a tiny-logreg model (one record with W f32 [D,K], b f32 [K], and optionally mu, "
		    "sd f32 [D])%s", ms->name, th_kind(&ms->h),
		    th_find(&ms->h, "x") >= 0 ? "; to train one on it: tiny-logreg --train" : "");
	const tfield *fw = model_field(ms, kind, "W", DT_F32, 2, (int64_t[]){-1, -1}, "D,K");
	const tfield *fb = model_field(ms, kind, "b", DT_F32, 1, (int64_t[]){fw->dims[1]}, NULL);
	const tfield *fmu = NULL, *fsd = NULL;
	if (th_find(&ms->h, "mu") >= 0 || th_find(&ms->h, "sd") >= 0) {
		fmu = model_field(ms, kind, "mu", DT_F32, 1, (int64_t[]){fw->dims[0]}, NULL);
		fsd = model_field(ms, kind, "sd", DT_F32, 1, (int64_t[]){fw->dims[0]}, NULL);
	}
	int64_t D = m->D = fw->dims[0], K = m->K = fw->dims[1];
	const char *cl = th_attr(&ms->h, "classes"), *loss = th_attr(&ms->h, "logreg_loss");
	if (loss && strcmp(loss, "softmax") && strcmp(loss, "svm"))
		die("%s: attribute logreg_loss is '%s'; expected softmax or svm", ms->name, loss);
	m->svm = loss && !strcmp(loss, "svm");
	m->classes = cl ? xstrdup(cl) : NULL;
	unsigned char *rec = xmalloc((size_t)ms->h.recsize);
	if (sin_read(ms, rec, 1) != 1)
		die("%s: no record", ms->name);
	m->W = xmalloc((size_t)(D * K) * sizeof *m->W);
	m->b = xmalloc((size_t)K * sizeof *m->b);
	tf_get_f32(fw, rec, 1, ms->h.recsize, m->W);
	tf_get_f32(fb, rec, 1, ms->h.recsize, m->b);
	tf_check_finite_f32(m->W, 1, D * K, 0, ms->name, "W");
	tf_check_finite_f32(m->b, 1, K, 0, ms->name, "b");
	if (fmu) {
		m->mu = xmalloc((size_t)D * sizeof *m->mu);
		m->sd = xmalloc((size_t)D * sizeof *m->sd);
		tf_get_f32(fmu, rec, 1, ms->h.recsize, m->mu);
		tf_get_f32(fsd, rec, 1, ms->h.recsize, m->sd);
		for (int64_t i = 0; i < D; i++)
			if (!(m->sd[i] > 0) || !isfinite(m->sd[i]) || !isfinite(m->mu[i]))
				die("%s: sd[%" PRId64 "] is %g and mu[%" PRId64 "] %g; expected a finite mu and an sd above 0",
				    ms->name, i, (double)m->sd[i], i, (double)m->mu[i]);
	}
	free(rec);
}

void lr_fold(lr_model_t *m)
{
	if (!m->mu)
		return;
	/* z W + b with z = (a - mu)/sd is a (W/sd) + (b - (mu/sd) W) */
	int64_t D = m->D, K = m->K;
	double *shift = xcalloc((size_t)K, sizeof *shift);
	for (int64_t i = 0; i < D; i++)
		for (int64_t k = 0; k < K; k++) {
			shift[k] += (double)m->mu[i] / m->sd[i] * m->W[i * K + k];
			m->W[i * K + k] /= m->sd[i];
		}
	for (int64_t k = 0; k < K; k++)
		m->b[k] = (float)(m->b[k] - shift[k]);
	free(shift);
	free(m->mu), free(m->sd);
	m->mu = m->sd = NULL;
}

void lr_free(lr_model_t *m)
{
	free(m->W), free(m->b), free(m->mu), free(m->sd), free(m->classes);
	memset(m, 0, sizeof *m);
}

void model_and_data(int argc, char **argv, int first, const char **model, const char **data)
{
	if (argc - first < 1 || argc - first > 2)
		usage();
	*model = argv[first];
	*data = first + 1 < argc ? argv[first + 1] : NULL;
	if (!strcmp(*model, "-") && (!*data || !strcmp(*data, "-")))
		usage_error("the model and the data cannot both come from stdin");
}
