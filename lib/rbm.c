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
 * Training (RBM(cd_step)): one CD-K or PCD minibatch with the momentum
 * rule and weight decay, the maths as tiny-rbm-train's banner writes it.
 * Its random numbers depend only on the seed, the global minibatch, the
 * row and the step (the streams at STREAM_SAMPLE), never on the thread
 * count.  Split over processes, the step exchanges through the hooks of
 * RBM(split_t), which lib/rbm-split.c gives, so that this file (in every
 * program) needs no MPI.
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
	const char *vis = th_attr(h, "rbm_visible");
	if (th_find(h, "W") < 0 || th_find(h, "hbias") < 0 || !vis)
		die("%s: not an RBM model (expected fields W, vbias, hbias, sigma and the attribute rbm_visible)",
		    s->name);
	const char *kind = "tiny-rbm-train model";
	const tfield *fw = model_field(s, kind, "W", -1, 2, (int64_t[]){-1, -1}, "V,H");
	const tfield *fv = model_field(s, kind, "vbias", -1, 1, (int64_t[]){fw->dims[0]}, NULL),
		     *fh = model_field(s, kind, "hbias", -1, 1, (int64_t[]){fw->dims[1]}, NULL),
		     *fs = model_field(s, kind, "sigma", -1, 1, (int64_t[]){fw->dims[0]}, NULL);
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

/* --- training: CD-K and PCD ----------------------------------------------------------- */

/* Row b of global minibatch g draws the hidden samples of CD step s from
 * stream 2^60 + (g B + b) 2^8 + 2s and its visible samples from
 * ... + 2s + 1; PCD's negative phase takes steps 64.. */
#define STREAM_SAMPLE ((uint64_t)1 << 60)
#define SIGMA_MIN     ((real)1e-4)   /* a learned sigma is kept above this */

void RBM(train_alloc)(RBM(train_t) *s, int64_t B, int pcd)
{
	int64_t V = s->m.V, H = s->m.H;
	s->uW = xmalloc_big((size_t)(V * H) * sizeof *s->uW);
	memset(s->uW, 0, (size_t)(V * H) * sizeof *s->uW);
	s->uvb = xcalloc(V, sizeof *s->uvb);
	s->uhb = xcalloc(H, sizeof *s->uhb);
	s->us = xcalloc(V, sizeof *s->us);
	s->chains = pcd ? xcalloc((size_t)(B * V), sizeof *s->chains) : NULL;
}

void RBM(work_alloc)(RBM(work_t) *w, int64_t V, int64_t H, int64_t B, int learn_sigma)
{
	w->Z = xmalloc_big((size_t)(2 * B * V) * sizeof *w->Z);
	w->P = xmalloc_big((size_t)(2 * B * H) * sizeof *w->P);
	w->G = learn_sigma ? xmalloc_big((size_t)(2 * B * V) * sizeof *w->G) : NULL;
	w->h = xmalloc_big((size_t)(B * H) * sizeof *w->h);
	w->v = xmalloc_big((size_t)(B * V) * sizeof *w->v);
	w->row = xmalloc((size_t)B * sizeof *w->row);
}

void RBM(sample_hidden)(const real *P, int64_t B, int64_t H, uint64_t seed, uint64_t g, int step, int64_t skip,
			real *h)
{
#pragma omp parallel for
	for (int64_t b = 0; b < B; b++) {
		rng_t r;
		rng_seed(&r, seed, STREAM_SAMPLE + ((g * (uint64_t)B + (uint64_t)b) << 8) + 2 * (uint64_t)step);
		for (int64_t j = 0; j < skip; j++)
			rng_u64(&r);
		for (int64_t j = 0; j < H; j++)
			h[b * H + j] = rng_uniform(&r) < P[b * H + j] ? 1.0f : 0.0f;
	}
}

void RBM(sample_visible)(const RBM(t) *m, real *A, int64_t B, int64_t n, int64_t v0, uint64_t seed, uint64_t g,
			 int step, int mean)
{
	int64_t per = !m->gaussian ? 1 : mean ? 0 : 2;
#pragma omp parallel for
	for (int64_t b = 0; b < B; b++) {
		rng_t r;
		rng_seed(&r, seed, STREAM_SAMPLE + ((g * (uint64_t)B + (uint64_t)b) << 8) + 2 * (uint64_t)step + 1);
		for (int64_t k = 0; k < v0 * per; k++)
			rng_u64(&r);
		for (int64_t i = 0; i < n; i++) {
			int64_t gi = v0 + i;
			real *vi = A + b * n + i;
			if (m->gaussian && mean)
				*vi = m->vbias[gi] + m->sigma[gi] * *vi;
			else if (m->gaussian)
				*vi = m->vbias[gi] + m->sigma[gi] * *vi + m->sigma[gi] * (real)rng_normal(&r);
			else
				*vi = rng_uniform(&r) < logistic(m->vbias[gi] + *vi) ? 1.0f : 0.0f;
		}
	}
}

/* v ~ p(v | h) into v (B,V) from the hidden samples h (B,H); Zs (B,V) =
 * v / s.  Split, h is this process's hidden units and gives only its share
 * of the inputs, which the split sums and samples. */
static void reconstruct(const RBM(t) *m, const real *h, int64_t B, uint64_t seed, uint64_t g, int step, int mean,
			const RBM(split_t) *split, real *v, real *Zs)
{
	int64_t V = m->V;
	/* v = h W^T (B,V) */
	la_gemm(0, 1, (int)B, (int)V, (int)m->H, 1.0f, h, (int)m->H, m->W, (int)m->H, 0.0f, v, (int)V);
	if (split)
		split->sample_visible(m, v, B, seed, g, step, mean);
	else
		RBM(sample_visible)(m, v, B, V, 0, seed, g, step, mean);
	RBM(scale)(m, v, B, Zs);
}

int RBM(add_step)(real *W, const real *u, int64_t n)
{
	int bad = 0;
#pragma omp parallel for reduction(| : bad)
	for (int64_t k = 0; k < n; k++) {
		W[k] += u[k];
		bad |= !isfinite(W[k]);
	}
	return bad;
}

double RBM(cd_step)(RBM(train_t) *s, const RBM(cd_t) *o, RBM(work_t) *w, const real *X, int64_t B, uint64_t g,
		    double mom, const RBM(split_t) *split)
{
	RBM(t) *m = &s->m;
	int64_t V = m->V, H = m->H;
	real *Zd = w->Z, *Zm = w->Z + B * V, *P0 = w->P, *Pm = w->P + B * H;
	RBM(hidden_probs)(m, X, B, P0, Zd);

	/* step 0: h ~ P0, v ~ p(v | h): the reconstruction */
	RBM(sample_hidden)(P0, B, H, o->seed, g, 0, s->h0, w->h);
	reconstruct(m, w->h, B, o->seed, g, 0, o->mean_visible, split, w->v, Zm);
#pragma omp parallel for
	for (int64_t b = 0; b < B; b++) {
		double e = 0;
		for (int64_t i = 0; i < V; i++) {
			double d = (double)X[b * V + i] - w->v[b * V + i];
			e += d * d;
		}
		w->row[b] = e;
	}
	double recon = 0;
	for (int64_t b = 0; b < B; b++)
		recon += w->row[b];

	int first = 1;   /* the CD step whose hidden sample comes next */
	if (s->chains) {
		/* PCD: the negative phase runs from the chains instead, on steps 64.. */
		RBM(hidden_probs)(m, s->chains, B, Pm, Zm);
		RBM(sample_hidden)(Pm, B, H, o->seed, g, 64, s->h0, w->h);
		reconstruct(m, w->h, B, o->seed, g, 64, o->mean_visible, split, w->v, Zm);
		first = 65;
	}
	RBM(hidden_scaled)(m, Zm, B, Pm);
	for (int64_t k = 2; k <= o->cd; k++, first++) {
		RBM(sample_hidden)(Pm, B, H, o->seed, g, first, s->h0, w->h);
		reconstruct(m, w->h, B, o->seed, g, first, o->mean_visible, split, w->v, Zm);
		RBM(hidden_scaled)(m, Zm, B, Pm);
	}
	if (s->chains)
		memcpy(s->chains, w->v, (size_t)(B * V) * sizeof *s->chains);

	/* biases and sigma: each column summed over the rows in order, so the
	 * result does not depend on the thread count */
	double rB = 1.0 / B;
#pragma omp parallel for
	for (int64_t j = 0; j < H; j++) {
		double d = 0, q = 0;
		for (int64_t b = 0; b < B; b++) {
			d += (double)P0[b * H + j] - Pm[b * H + j];
			q += P0[b * H + j];
		}
		/* the sparsity target (Lee, Ekanadham and Ng 2008): the hidden
		 * bias moves the unit's mean activation q toward p */
		s->uhb[j] = (real)(mom * s->uhb[j] + o->lr_hb * d * rB + o->lr_sparsity * (o->sparsity - q * rB));
	}
	if (o->learn_sigma) {  /* G (2B,V) = [P0; P] W^T, before P is negated */
		la_gemm(0, 1, (int)(2 * B), (int)V, (int)H, 1.0f, w->P, (int)H, m->W, (int)H, 0.0f, w->G, (int)V);
		if (split)
			split->sum_visible(w->G, 2 * B, V);
	}
#pragma omp parallel for
	for (int64_t i = 0; i < V; i++) {
		double dv = 0, ds = 0, si = m->sigma[i], bi = m->vbias[i];
		for (int64_t b = 0; b < B; b++) {
			double x = X[b * V + i], v = w->v[b * V + i];
			dv += x - v;
			if (o->learn_sigma)
				ds += ((x - bi) * (x - bi) - (v - bi) * (v - bi)) / (si * si * si) -
				      (x * w->G[b * V + i] - v * w->G[(B + b) * V + i]) / (si * si);
		}
		if (m->gaussian)
			dv /= si * si;
		s->uvb[i] = (real)(mom * s->uvb[i] + o->lr_vb * dv * rB);
		if (o->learn_sigma)
			s->us[i] = (real)(mom * s->us[i] + o->lr_s * ds * rB);
	}
	/* W: u = m u - r L W + (r/B) [X/s; v/s]^T [P0; -P] (one sgemm), W += u */
#pragma omp parallel for
	for (int64_t k = 0; k < B * H; k++)
		Pm[k] = -Pm[k];
	real beta = (real)mom;
	if (o->decay > 0) {
		real a = (real)(-o->lr_w * o->decay);
#pragma omp parallel for
		for (int64_t k = 0; k < V * H; k++)
			s->uW[k] = beta * s->uW[k] + a * m->W[k];
		beta = 1.0f;
	}
	la_gemm(1, 0, (int)V, (int)H, (int)(2 * B), (real)(o->lr_w * rB), w->Z, (int)V, w->P, (int)H, beta, s->uW,
		 (int)H);
	s->w_finite = !RBM(add_step)(m->W, s->uW, V * H);
	for (int64_t j = 0; j < H; j++)
		m->hbias[j] += s->uhb[j];
	for (int64_t i = 0; i < V; i++) {
		m->vbias[i] += s->uvb[i];
		if (o->learn_sigma) {
			m->sigma[i] += s->us[i];
			if (m->sigma[i] < SIGMA_MIN)
				m->sigma[i] = SIGMA_MIN;
		}
	}
	return recon * rB;
}

/* W is checked in the update's own pass (w_finite): an overflow in an
 * epoch's last minibatch would otherwise reach the checkpoint before the
 * biases show it. */
int RBM(train_finite)(const RBM(train_t) *s, double recon)
{
	const RBM(t) *m = &s->m;
	if (!isfinite(recon) || !s->w_finite)
		return 0;
	for (int64_t j = 0; j < m->H; j++)
		if (!isfinite(m->hbias[j]))
			return 0;
	for (int64_t i = 0; i < m->V; i++)
		if (!isfinite(m->vbias[i]) || !isfinite(m->sigma[i]))
			return 0;
	return 1;
}
