/*
 * rbm.c - restricted Boltzmann machines (section 1.4 of the report): the
 * model stream, hidden probabilities, and the CD-k / PCD step.
 *
 * Shapes: V visible, H hidden units, B records in a minibatch, all f32 (f64 in rbm64_t),
 * row-major.  A model is one record:
 *
 *   W     f32 [V,H]   weights w_ij
 *   vbias f32 [V]     visible biases b^v_i
 *   hbias f32 [H]     hidden biases b^h_j
 *   sigma f32 [V]     visible standard deviations (1 for binary visibles)
 *
 * with the attribute rbm_visible gaussian|binary.  Gaussian visibles follow
 * the energy (1.8), E = sum (v_i - b^v_i)^2 / 2 s_i^2 - sum b^h_j h_j
 * - sum (v_i / s_i) h_j w_ij, so
 *
 *   p(h_j = 1 | v) = logistic(b^h_j + sum_i (v_i / s_i) w_ij)
 *   p(v_i | h)     = N(b^v_i + s_i sum_j h_j w_ij, s_i^2)
 *
 * and binary visibles the energy (1.1): p(v_i = 1 | h) =
 * logistic(b^v_i + sum_j w_ij h_j), with s = 1.  A training checkpoint is a
 * model with more fields (the momentum of every parameter, the persistent
 * chains) that tiny-features and the others ignore.
 *
 * The file is compiled twice: as it is, for rbm_t (f32), and with
 * -DRBM_F64 for rbm64_t (f64; the model's fields are then f64 too).  Any
 * model loads into either, converted.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tiny.h"
#include "real.h"

void RBM(alloc)(RBM(t) *m, int64_t V, int64_t H, int gaussian)
{
	memset(m, 0, sizeof *m);
	m->V = V;
	m->H = H;
	m->gaussian = gaussian;
	m->W = xcalloc((size_t)(V * H), sizeof *m->W);
	m->vbias = xcalloc(V, sizeof *m->vbias);
	m->hbias = xcalloc(H, sizeof *m->hbias);
	m->sigma = xmalloc((size_t)V * sizeof *m->sigma);
	for (int64_t i = 0; i < V; i++)
		m->sigma[i] = 1;
}

void RBM(free)(RBM(t) *m)
{
	free(m->W);
	free(m->vbias);
	free(m->hbias);
	free(m->sigma);
	memset(m, 0, sizeof *m);
}

/* The model's fields in a header (count 1), after the fields already there. */
void RBM(fields)(const RBM(t) *m, theader *h)
{
	h->count = 1;
	th_field(h, "W", DT_REAL, 2, m->V, m->H);
	th_field(h, "vbias", DT_REAL, 1, m->V);
	th_field(h, "hbias", DT_REAL, 1, m->H);
	th_field(h, "sigma", DT_REAL, 1, m->V);
	th_attr_set(h, "rbm_visible", m->gaussian ? "gaussian" : "binary");
}

/* Copy the parameters into a record laid out by h (from rbm_fields). */
void RBM(pack)(const RBM(t) *m, const theader *h, unsigned char *rec)
{
	memcpy(rec + h->fields[th_find(h, "W")].offset, m->W, (size_t)(m->V * m->H) * sizeof(real));
	memcpy(rec + h->fields[th_find(h, "vbias")].offset, m->vbias, (size_t)m->V * sizeof(real));
	memcpy(rec + h->fields[th_find(h, "hbias")].offset, m->hbias, (size_t)m->H * sizeof(real));
	memcpy(rec + h->fields[th_find(h, "sigma")].offset, m->sigma, (size_t)m->V * sizeof(real));
}

void RBM(load)(RBM(t) *m, sin_t *s, unsigned char **rec_out)
{
	const theader *h = &s->h;
	int wi = th_find(h, "W"), vi = th_find(h, "vbias"), hi = th_find(h, "hbias"), si = th_find(h, "sigma");
	const char *vis = th_attr(h, "rbm_visible");
	if (wi < 0 || vi < 0 || hi < 0 || si < 0 || !vis)
		die("%s: not an RBM model (expected fields W, vbias, hbias, sigma and the attribute rbm_visible)",
		    s->name);
	const tfield *fw = &h->fields[wi], *fv = &h->fields[vi], *fh = &h->fields[hi], *fs = &h->fields[si];
	if (h->count != 1)
		die("%s: an RBM model has one record, this has %" PRId64, s->name, h->count);
	if (fw->rank != 2 || fv->rank != 1 || fh->rank != 1 || fs->rank != 1 || fv->n != fw->dims[0] ||
	    fs->n != fw->dims[0] || fh->n != fw->dims[1])
		die("%s: RBM fields disagree: expected W [V,H], vbias [V], hbias [H], sigma [V]", s->name);
	if (fw->dims[0] > INT32_MAX || fw->dims[1] > INT32_MAX)
		die("%s: W is too large for BLAS", s->name);
	int gaussian = !strcmp(vis, "gaussian");
	if (!gaussian && strcmp(vis, "binary"))
		die("%s: rbm_visible '%s' is not gaussian or binary", s->name, vis);
	RBM(alloc)(m, fw->dims[0], fw->dims[1], gaussian);
	unsigned char *rec = xmalloc((size_t)h->recsize);
	if (sin_read(s, rec, 1) != 1)
		die("%s: no record", s->name);
	tf_get_real(fw, rec, 1, h->recsize, m->W);
	tf_get_real(fv, rec, 1, h->recsize, m->vbias);
	tf_get_real(fh, rec, 1, h->recsize, m->hbias);
	tf_get_real(fs, rec, 1, h->recsize, m->sigma);
	tf_check_finite_real(m->W, 1, m->V * m->H, 0, s->name, "W");
	tf_check_finite_real(m->sigma, 1, m->V, 0, s->name, "sigma");
	tf_check_finite_real(m->vbias, 1, m->V, 0, s->name, "vbias");
	tf_check_finite_real(m->hbias, 1, m->H, 0, s->name, "hbias");
	for (int64_t i = 0; i < m->V; i++)
		if (!(m->sigma[i] > 0))
			die("%s: sigma[%" PRId64 "] is %g; a standard deviation must be above 0", s->name, i,
			    (double)m->sigma[i]);
	if (rec_out)
		*rec_out = rec;
	else
		free(rec);
}

static inline real logistic(real x)
{
	return 1 / (1 + exp_real(-x));
}

void RBM(hidden_scaled)(const RBM(t) *m, const real *Xs, int64_t B, real *P)
{
	int64_t V = m->V, H = m->H;
	/* P = logistic(Xs W + hbias) */
#pragma omp parallel for
	for (int64_t b = 0; b < B; b++)
		memcpy(P + b * H, m->hbias, (size_t)H * sizeof *P);
	la_gemm(0, 0, (int)B, (int)H, (int)V, 1, Xs, (int)V, m->W, (int)H, 1, P, (int)H);
#pragma omp parallel for
	for (int64_t k = 0; k < B * H; k++)
		P[k] = logistic(P[k]);
}

void RBM(scale)(const RBM(t) *m, const real *X, int64_t B, real *Xs)
{
	int64_t V = m->V;
#pragma omp parallel for
	for (int64_t b = 0; b < B; b++)
		for (int64_t i = 0; i < V; i++)
			Xs[b * V + i] = X[b * V + i] / m->sigma[i];
}

void RBM(hidden_probs)(const RBM(t) *m, const real *X, int64_t B, real *P, real *Xs)
{
	RBM(scale)(m, X, B, Xs);
	RBM(hidden_scaled)(m, Xs, B, P);
}

void RBM(binary_input)(real *X, int64_t n, int64_t V, int u8, int64_t rec0, const char *input)
{
	for (int64_t k = 0; k < n * V; k++) {
		if (u8)
			X[k] /= 255;
		else if (X[k] < 0 || X[k] > 1)
			die("%s: record %" PRId64 ": x[%" PRId64 "] = %g is outside [0,1]; binary visibles take "
			    "probabilities (u8 data is read as x/255)",
			    input, rec0 + k / V, k % V, (double)X[k]);
	}
}
