/*
 * rbm-split.c - the split of an RBM in training over the K processes
 * (ranks) of an Open MPI run (chapter 4 of the report; tiny-rbm-train's
 * banner says what each scheme holds, sends and learns).
 *
 * Rank r of K holds the hidden units hoff[r] = floor(H r / K) up to
 * hoff[r+1], and samples the visible units voff[r]..voff[r+1] likewise:
 * its RBM(train_t) m has W (V,Hk), hbias and their momenta for its hidden
 * units, and vbias, sigma, their momenta and the chains whole.  Scheme
 * 4.2 also keeps the rows W[voff[r].., :] (Vk,H) (the report's purple
 * weights; its columns are the green ones) and their momenta here.
 *
 * Scheme 4.5's step is RBM(cd_step) with this file's hooks: each rank's
 * share of the visible inputs, h_r W_r^T (B,V), is summed by a
 * reduce-scatter at the rank that samples each visible unit, and the
 * samples are allgathered (bits when binary).  Scheme 4.2's step is
 * RBM(split_step_42), with RBM(split_sync) copying the purple weights
 * over the green.  Every exchange goes through lib/dist.c and is counted
 * there (DIST_TRAIN the minibatches', DIST_SYNC the synchronisation's,
 * DIST_SETUP the rest).
 *
 * Only tiny-rbm-train links this file (and dist.c, and libmpi), compiled
 * twice like it: as it is in f32, and with -DRBM_F64 in f64 (lib/real.h),
 * its names then rbm64_split_*.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dist.h"
#include "tiny.h"
#include "real.h"
#include "rbm-split.h"

/* Off (K = 1 under scheme 4.5) the trainer is the single-process one,
 * untouched. */
static struct {
	int on, K, rank, scheme;
	int64_t *hoff, *voff;          /* (K+1) */
	real *pack, *mine;            /* (2B,V) blocks in rank order; (2B,Vk) this rank's */
	unsigned char *bits, *mybits;  /* states as bits: every rank's, this rank's */
	/* scheme 4.2: this rank's rows v0..v0+Vk of the whole W, Wp (Vk,H),
	 * their momenta uWp, and every rank's hidden states S (2B,H) [h; -h'] */
	int64_t v0, Vk;
	real *Wp, *uWp, *S;
} sp;

void RBM(split_init)(int scheme, int64_t V, int64_t H, int64_t B)
{
	int K = dist.K;
	if (K > V || K > H) {   /* every rank needs units of its own */
		if (dist.rank)   /* rank 0 says it; mpirun then stops the rest */
			for (;;)
				pause();
		die("%d processes for %" PRId64 " visible and %" PRId64 " hidden units: each needs at least one of each",
		    K, V, H);
	}
	sp.on = K > 1 || scheme == 42, sp.K = K, sp.rank = dist.rank, sp.scheme = scheme;
	sp.hoff = xmalloc((size_t)(K + 1) * sizeof *sp.hoff);
	sp.voff = xmalloc((size_t)(K + 1) * sizeof *sp.voff);
	for (int r = 0; r <= K; r++)
		sp.hoff[r] = dist_split(H, r, K), sp.voff[r] = dist_split(V, r, K);
	if (!sp.on)
		return;
	int64_t most = V > H ? V : H;
	sp.pack = xmalloc_big((size_t)(2 * B * V) * sizeof *sp.pack);
	sp.mine = xmalloc_big((size_t)(2 * B * (sp.voff[sp.rank + 1] - sp.voff[sp.rank])) * sizeof *sp.mine + 4);
	sp.bits = xmalloc_big((size_t)(B * most / 8 + K + 8));
	sp.mybits = xmalloc_big((size_t)(B * most / 8 + 8));
	sp.S = scheme == 42 ? xmalloc_big((size_t)(2 * B * H) * sizeof *sp.S) : NULL;
}

int RBM(split_on)(void)
{
	return sp.on;
}

/* --- the exchanges -------------------------------------------------------------------- */

/* counts[r] = rows (off[r+1] - off[r]) size: the blocks of a split */
static void block_counts(int64_t rows, const int64_t *off, int64_t size, int64_t *counts)
{
	for (int r = 0; r < sp.K; r++)
		counts[r] = rows * (off[r + 1] - off[r]) * size;
}

/* A (rows,N) into K blocks (rows, off[r+1]-off[r]) one after another, and back */
static void pack_cols(const real *A, int64_t rows, int64_t N, const int64_t *off, real *pack)
{
	real *p = pack;
	for (int r = 0; r < sp.K; r++) {
		int64_t n = off[r + 1] - off[r];
		for (int64_t b = 0; b < rows; b++, p += n)
			memcpy(p, A + b * N + off[r], (size_t)n * sizeof *p);
	}
}

static void unpack_cols(const real *pack, int64_t rows, int64_t N, const int64_t *off, real *A)
{
	const real *p = pack;
	for (int r = 0; r < sp.K; r++) {
		int64_t n = off[r + 1] - off[r];
		for (int64_t b = 0; b < rows; b++, p += n)
			memcpy(A + b * N + off[r], p, (size_t)n * sizeof *p);
	}
}

/* A (rows,V), one partial sum on each rank, becomes the whole sum on every
 * rank: each rank adds up its visible units (reduce-scatter), then all
 * share (allgather), so every rank has the same bits. */
static void sum_visible(real *A, int64_t rows, int64_t V)
{
	int64_t c[sp.K];
	block_counts(rows, sp.voff, 1, c);
	pack_cols(A, rows, V, sp.voff, sp.pack);
	dist_reduce_scatter_sum(sp.pack, sp.mine, c, sizeof(real), DIST_TRAIN);
	block_counts(rows, sp.voff, sizeof(real), c);
	dist_allgatherv(sp.mine, sp.pack, c, DIST_TRAIN);
	unpack_cols(sp.pack, rows, V, sp.voff, A);
}

/* Every rank's 0/1 states (B, off[r+1]-off[r]) into all (B,N), sent as
 * bits (B n_r / 8 bytes, rounded up, from rank r). */
static void exchange_states(const real *mine, int64_t B, const int64_t *off, int64_t N, real *all)
{
	int64_t c[sp.K], n = off[sp.rank + 1] - off[sp.rank];
	for (int r = 0; r < sp.K; r++)
		c[r] = (B * (off[r + 1] - off[r]) + 7) / 8;
	memset(sp.mybits, 0, (size_t)c[sp.rank]);
	for (int64_t k = 0; k < B * n; k++)
		if (mine[k] != 0)
			sp.mybits[k >> 3] |= (unsigned char)(1u << (k & 7));
	dist_allgatherv(sp.mybits, sp.bits, c, DIST_TRAIN);
	const unsigned char *p = sp.bits;
	for (int r = 0; r < sp.K; r++) {
		int64_t nr = off[r + 1] - off[r];
#pragma omp parallel for
		for (int64_t b = 0; b < B; b++)
			for (int64_t j = 0; j < nr; j++) {
				int64_t k = b * nr + j;
				all[b * N + off[r] + j] = (p[k >> 3] >> (k & 7)) & 1 ? 1.0f : 0.0f;
			}
		p += c[r];
	}
}

/* The visible samples from v (B,V), this rank's share of their inputs
 * (section 4.5): each rank sums and samples its own visible units
 * (reduce-scatter), then all share the samples (allgather; bits when
 * binary). */
static void sample_visible(const RBM(t) *m, real *v, int64_t B, uint64_t seed, uint64_t g, int step, int mean)
{
	int64_t V = m->V, c[sp.K], v0 = sp.voff[sp.rank], n = sp.voff[sp.rank + 1] - v0;
	block_counts(B, sp.voff, 1, c);
	pack_cols(v, B, V, sp.voff, sp.pack);
	dist_reduce_scatter_sum(sp.pack, sp.mine, c, sizeof(real), DIST_TRAIN);
	RBM(sample_visible)(m, sp.mine, B, n, v0, seed, g, step, mean);
	if (m->gaussian) {
		block_counts(B, sp.voff, sizeof(real), c);
		dist_allgatherv(sp.mine, sp.pack, c, DIST_TRAIN);
		unpack_cols(sp.pack, B, V, sp.voff, v);
	} else
		exchange_states(sp.mine, B, sp.voff, V, v);
}

const RBM(split_t) *RBM(split_hooks)(void)
{
	static const RBM(split_t) hooks = {sample_visible, sum_visible};
	return sp.on ? &hooks : NULL;
}

/* --- scheme 4.2 ----------------------------------------------------------------------- */

/* One CD-1 minibatch by the algorithm of section 4.2: this rank computes
 * its hidden units from the data with its columns of W (the report's green
 * weights), all share the states as bits, it samples its visible units
 * with its rows of W (purple), all share those (bits when binary), then
 * its hidden units again, shared as bits too.  The statistics are those
 * of the report's CD-1, <v h> - <v' h'> with the hidden states h, h' (not
 * their probabilities, which only their own rank knows), so this scheme
 * learns differently from a single process; each weight known to two
 * ranks is updated on both, from the same binary products. */
double RBM(split_step_42)(RBM(train_t) *s, const RBM(cd_t) *o, RBM(work_t) *w, const real *X, int64_t B, uint64_t g,
			  double mom)
{
	RBM(t) *m = &s->m;
	int64_t V = m->V, Hk = m->H, H = sp.hoff[sp.K], Vk = sp.Vk, v0 = sp.v0;
	real *Zd = w->Z, *Zm = w->Z + B * V, *P0 = w->P, *Pm = w->P + B * Hk, *S0 = sp.S, *Sm = sp.S + B * H;
	RBM(hidden_probs)(m, X, B, P0, Zd);
	RBM(sample_hidden)(P0, B, Hk, o->seed, g, 0, s->h0, P0);   /* states, in place */
	exchange_states(P0, B, sp.hoff, H, S0);
	/* A (B,Vk) = h Wp^T: this rank's visible inputs from every hidden unit */
	real *A = sp.mine;
	la_gemm(0, 1, (int)B, (int)Vk, (int)H, 1.0f, S0, (int)H, sp.Wp, (int)H, 0.0f, A, (int)Vk);
	RBM(sample_visible)(m, A, B, Vk, v0, o->seed, g, 0, o->mean_visible);
	if (m->gaussian) {
		int64_t c[sp.K];
		block_counts(B, sp.voff, sizeof(real), c);
		dist_allgatherv(A, sp.pack, c, DIST_TRAIN);
		unpack_cols(sp.pack, B, V, sp.voff, w->v);
	} else
		exchange_states(A, B, sp.voff, V, w->v);
	RBM(scale)(m, w->v, B, Zm);
	RBM(hidden_scaled)(m, Zm, B, Pm);
	RBM(sample_hidden)(Pm, B, Hk, o->seed, g, 1, s->h0, Pm);
	exchange_states(Pm, B, sp.hoff, H, Sm);

	double recon = 0, rB = 1.0 / B;
	for (int64_t b = 0; b < B; b++)
		for (int64_t i = 0; i < V; i++) {
			double d = (double)X[b * V + i] - w->v[b * V + i];
			recon += d * d;
		}
	for (int64_t j = 0; j < Hk; j++) {
		double d = 0;
		for (int64_t b = 0; b < B; b++)
			d += (double)P0[b * Hk + j] - Pm[b * Hk + j];
		s->uhb[j] = (real)(mom * s->uhb[j] + o->lr_hb * d * rB);
	}
	for (int64_t i = 0; i < V; i++) {
		double dv = 0, si = m->sigma[i];
		for (int64_t b = 0; b < B; b++)
			dv += (double)X[b * V + i] - w->v[b * V + i];
		if (m->gaussian)
			dv /= si * si;
		s->uvb[i] = (real)(mom * s->uvb[i] + o->lr_vb * dv * rB);
	}
	/* both copies: u = m u - r L W + (r/B) [X/s; v/s]^T [h; -h'] */
#pragma omp parallel for
	for (int64_t k = 0; k < B * Hk; k++)
		Pm[k] = -Pm[k];
#pragma omp parallel for
	for (int64_t k = 0; k < B * H; k++)
		Sm[k] = -Sm[k];
	real beta = (real)mom, a = (real)(-o->lr_w * o->decay);
	if (o->decay > 0) {
		for (int64_t k = 0; k < V * Hk; k++)
			s->uW[k] = beta * s->uW[k] + a * m->W[k];
		for (int64_t k = 0; k < Vk * H; k++)
			sp.uWp[k] = beta * sp.uWp[k] + a * sp.Wp[k];
		beta = 1.0f;
	}
	la_gemm(1, 0, (int)V, (int)Hk, (int)(2 * B), (real)(o->lr_w * rB), w->Z, (int)V, w->P, (int)Hk, beta, s->uW,
		 (int)Hk);
	la_gemm(1, 0, (int)Vk, (int)H, (int)(2 * B), (real)(o->lr_w * rB), w->Z + v0, (int)V, sp.S, (int)H, beta,
		 sp.uWp, (int)H);
	int bad = RBM(add_step)(m->W, s->uW, V * Hk);
	bad |= RBM(add_step)(sp.Wp, sp.uWp, Vk * H);
	s->w_finite = !bad;
	for (int64_t j = 0; j < Hk; j++)
		m->hbias[j] += s->uhb[j];
	for (int64_t i = 0; i < V; i++)
		m->vbias[i] += s->uvb[i];
	return recon * rB;
}

/* Section 4.2's weight synchronisation: the rows each rank keeps (Wp, the
 * purple weights) are the model, and every rank's columns (W, green) are
 * filled in again from them: rank r sends rank q its block
 * Wp[:, hoff[q]..hoff[q+1]) (Vk_r, Hk_q), which is rows voff[r].. of q's W.
 * The momenta likewise. */
void RBM(split_sync)(RBM(train_t) *s)
{
	int K = sp.K;
	int64_t H = sp.hoff[K], Hk = s->m.H, Vk = sp.Vk, sc[K], rc[K];
	real *send = xmalloc_big((size_t)(Vk * H) * sizeof *send + 4);
	for (int q = 0; q < K; q++)
		sc[q] = Vk * (sp.hoff[q + 1] - sp.hoff[q]) * (int64_t)sizeof(real);
	for (int r = 0; r < K; r++)
		rc[r] = (sp.voff[r + 1] - sp.voff[r]) * Hk * (int64_t)sizeof(real);
	pack_cols(sp.Wp, Vk, H, sp.hoff, send);
	dist_alltoallv(send, sc, s->m.W, rc, DIST_SYNC);
	pack_cols(sp.uWp, Vk, H, sp.hoff, send);
	dist_alltoallv(send, sc, s->uW, rc, DIST_SYNC);
	free(send);
}

/* --comm-only: the exchanges of one minibatch at their real sizes, without
 * the arithmetic (the states sent are whatever the buffers hold), so that
 * the byte counts of a large RBM (Table 4.1) can be had on a small
 * machine.  The model does not learn. */
double RBM(split_comm_only)(const RBM(train_t) *s, const RBM(cd_t) *o, RBM(work_t) *w, int64_t B)
{
	int64_t V = s->m.V, H = sp.hoff[sp.K], c[sp.K];
	int steps = sp.scheme == 42 ? 1 : (int)o->cd + (s->chains ? 1 : 0);
	if (sp.scheme == 42)
		exchange_states(w->P, B, sp.hoff, H, sp.S);
	for (int k = 0; k < steps; k++) {
		if (sp.scheme == 45) {
			block_counts(B, sp.voff, 1, c);
			dist_reduce_scatter_sum(sp.pack, sp.mine, c, sizeof(real), DIST_TRAIN);
		}
		if (s->m.gaussian) {
			block_counts(B, sp.voff, sizeof(real), c);
			dist_allgatherv(sp.mine, sp.pack, c, DIST_TRAIN);
		} else
			exchange_states(sp.mine, B, sp.voff, V, w->v);
	}
	if (sp.scheme == 42)
		exchange_states(w->P, B, sp.hoff, H, sp.S + B * H);
	if (o->learn_sigma)
		sum_visible(w->G, 2 * B, V);
	return 0;
}

/* --- the state, split and gathered ------------------------------------------------------- */

/* Rank 0's hidden units' columns of W, hbias and their momenta go out by
 * scatter, and under scheme 4.2 its visible units' rows of W and uW too;
 * vbias, sigma, their momenta and the chains every rank holds whole
 * (broadcast). */
void RBM(split_state)(RBM(train_t) *st, int pcd, int64_t B)
{
	int K = sp.K, me = sp.rank;
	int64_t V = sp.voff[K], H = sp.hoff[K], h0 = sp.hoff[me], Hk = sp.hoff[me + 1] - h0, v0 = sp.voff[me];
	int64_t Vk = sp.voff[me + 1] - v0, c[K];
	RBM(train_t) loc;
	memset(&loc, 0, sizeof loc);
	RBM(alloc)(&loc.m, V, Hk, st->m.gaussian);
	loc.uW = xmalloc_big((size_t)(V * Hk) * sizeof *loc.uW + 4);
	loc.uhb = xcalloc((size_t)Hk + 1, sizeof *loc.uhb);
	loc.uvb = xcalloc(V, sizeof *loc.uvb);
	loc.us = xcalloc(V, sizeof *loc.us);
	loc.chains = pcd ? xcalloc((size_t)(B * V), sizeof *loc.chains) : NULL;
	real *pack = me == 0 ? xmalloc_big((size_t)(V * H) * sizeof *pack) : NULL;
	block_counts(V, sp.hoff, sizeof(real), c);
	if (me == 0)
		pack_cols(st->m.W, V, H, sp.hoff, pack);
	dist_scatterv(pack, loc.m.W, c, DIST_SETUP);
	if (me == 0)
		pack_cols(st->uW, V, H, sp.hoff, pack);
	dist_scatterv(pack, loc.uW, c, DIST_SETUP);
	block_counts(1, sp.hoff, sizeof(real), c);
	dist_scatterv(me == 0 ? st->m.hbias : NULL, loc.m.hbias, c, DIST_SETUP);
	dist_scatterv(me == 0 ? st->uhb : NULL, loc.uhb, c, DIST_SETUP);
	if (sp.scheme == 42) {
		sp.Wp = xmalloc_big((size_t)(Vk * H) * sizeof *sp.Wp + 4);
		sp.uWp = xmalloc_big((size_t)(Vk * H) * sizeof *sp.uWp + 4);
		block_counts(H, sp.voff, sizeof(real), c);
		dist_scatterv(me == 0 ? st->m.W : NULL, sp.Wp, c, DIST_SETUP);
		dist_scatterv(me == 0 ? st->uW : NULL, sp.uWp, c, DIST_SETUP);
	}
	if (me == 0) {
		memcpy(loc.m.vbias, st->m.vbias, (size_t)V * sizeof(real));
		memcpy(loc.m.sigma, st->m.sigma, (size_t)V * sizeof(real));
		memcpy(loc.uvb, st->uvb, (size_t)V * sizeof(real));
		memcpy(loc.us, st->us, (size_t)V * sizeof(real));
		if (pcd)
			memcpy(loc.chains, st->chains, (size_t)(B * V) * sizeof(real));
	}
	dist_bcast(loc.m.vbias, V * (int64_t)sizeof(real), DIST_SETUP);
	dist_bcast(loc.m.sigma, V * (int64_t)sizeof(real), DIST_SETUP);
	dist_bcast(loc.uvb, V * (int64_t)sizeof(real), DIST_SETUP);
	dist_bcast(loc.us, V * (int64_t)sizeof(real), DIST_SETUP);
	if (pcd)
		dist_bcast(loc.chains, B * V * (int64_t)sizeof(real), DIST_SETUP);
	loc.epoch = st->epoch, loc.batch = st->batch;
	loc.h0 = h0;
	sp.v0 = v0, sp.Vk = Vk;
	if (me == 0) {
		RBM(free)(&st->m);
		free(st->uW), free(st->uvb), free(st->uhb), free(st->us), free(st->chains);
	}
	free(pack);
	*st = loc;
}

/* W from the ranks' columns (4.5) or rows (4.2, the purple weights being
 * the model), hbias from their shares; the rest is rank 0's own. */
void RBM(unsplit)(const RBM(train_t) *st, int with_state, RBM(train_t) *full)
{
	int K = sp.K, me = sp.rank;
	int64_t V = st->m.V, H = sp.hoff[K], *c = xcalloc((size_t)K, sizeof *c);
	*full = *st;
	full->m.H = H;
	full->m.W = full->uW = full->m.hbias = full->uhb = NULL;
	if (me == 0) {
		full->m.W = xmalloc_big((size_t)(V * H) * sizeof *full->m.W);
		full->m.hbias = xmalloc((size_t)H * sizeof *full->m.hbias);
		full->uW = with_state ? xmalloc_big((size_t)(V * H) * sizeof *full->uW) : NULL;
		full->uhb = with_state ? xmalloc((size_t)H * sizeof *full->uhb) : NULL;
	}
	if (sp.scheme == 42) {
		block_counts(H, sp.voff, sizeof(real), c);
		dist_gatherv(sp.Wp, full->m.W, c, DIST_SETUP);
		if (with_state)
			dist_gatherv(sp.uWp, full->uW, c, DIST_SETUP);
	} else {
		real *pack = me == 0 ? xmalloc_big((size_t)(V * H) * sizeof *pack) : NULL;
		block_counts(V, sp.hoff, sizeof(real), c);
		dist_gatherv(st->m.W, pack, c, DIST_SETUP);
		if (me == 0)
			unpack_cols(pack, V, H, sp.hoff, full->m.W);
		if (with_state) {
			dist_gatherv(st->uW, pack, c, DIST_SETUP);
			if (me == 0)
				unpack_cols(pack, V, H, sp.hoff, full->uW);
		}
		free(pack);
	}
	block_counts(1, sp.hoff, sizeof(real), c);
	dist_gatherv(st->m.hbias, full->m.hbias, c, DIST_SETUP);
	if (with_state)
		dist_gatherv(st->uhb, full->uhb, c, DIST_SETUP);
	free(c);
}

void RBM(unsplit_free)(RBM(train_t) *full)
{
	free(full->m.W), free(full->m.hbias), free(full->uW), free(full->uhb);
}

/* --- the bytes ------------------------------------------------------------------------------ */

/* the bytes of every rank: the minibatches' exchanges (Table 4.1), the
 * weight synchronisations, the rest (data, state, checkpoints) */
void RBM(split_report)(int64_t batches, int64_t B, double secs)
{
	if (dist.K <= 1)
		return;
	uint64_t sent[DIST_NCAT], recvd[DIST_NCAT];
	dist_totals(sent, recvd);
	double comm = dist_max_comm_seconds(), ex = (double)(batches * B);
	if (tiny_quiet || dist.rank)
		return;
	uint64_t all = recvd[DIST_TRAIN] + recvd[DIST_SYNC] + recvd[DIST_SETUP];
	fprintf(stderr, "%s: bytes sent by all %d ranks: minibatches %" PRIu64 " (%.0f a minibatch, %.1f an example), "
			"weight sync %" PRIu64 ", setup and checkpoints %" PRIu64 "; received %" PRIu64 " in all\n",
		tiny_prog, dist.K, sent[DIST_TRAIN], batches ? (double)sent[DIST_TRAIN] / batches : 0,
		ex > 0 ? sent[DIST_TRAIN] / ex : 0, sent[DIST_SYNC], sent[DIST_SETUP], all);
	fprintf(stderr, "%s: communicating %.1f%% of %.3g s (the slowest rank's time in the minibatches' exchanges)\n",
		tiny_prog, secs > 0 ? 100 * comm / secs : 0, secs);
}
