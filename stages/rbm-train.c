/*
 * tiny-rbm-train - train an RBM with contrastive divergence (section 1.4 of
 * the report; Gaussian visibles 1.4.3, learned variances 1.4.3.2).
 *
 * usage: tiny-rbm-train [-q] [--hidden H] [--seed S] [--init MODEL]
 *          [--visible gaussian|binary] [--sigma S|data] [--learn-sigma]
 *          [--epochs E] [--batch B] [--cd K] [--pcd] [--mean-visible] [--lr-w R] [--lr-vbias R]
 *          [--lr-hbias R] [--lr-sigma R] [--momentum M0[,M1@EPOCH]] [--decay L]
 *          [--checkpoint FILE] [--checkpoint-every 10m|50b] [--max-batches N]
 *          [--log FILE] [--threads N] [--scheme 4.5|4.2] [--sync-every N]
 *          [--hosts A,B,..] [--comm-only] [--f64] [--data FILE | FILE]
 *        mpirun -np K [--host A,B,..] tiny-rbm-train ...
 *
 * Reads field x (V values, any dtype) of N records, all held in memory as
 * they came (u8 stays u8; --data FILE maps the file instead of copying
 * it).  Binary visibles are probabilities: u8 data (pixels 0..255) is read
 * as x / 255, and float data must lie in [0,1] (checked before training).
 * It writes the model (lib/rbm.c: W [V,H], vbias, hbias, sigma, with
 * the training settings and the data's attributes) on stdout.
 *
 * One minibatch X (B,V) of CD-K, with s the visible standard deviations
 * (1 for binary visibles), v/s divided element-wise, logistic f:
 *
 *   P0 = f(X/s W + b^h)                          positive phase, (B,H)
 *   h ~ P0;  for step 1..K:  v ~ p(v | h) (1.8 or 1.1), P = f(v/s W + b^h),
 *                            h ~ P (if another step follows)
 *   dW  = ([X/s; v/s]^T [P0; -P]) / B            one sgemm, k = 2B
 *   db^v = mean((X - b^v)/s^2 - (v - b^v)/s^2),   db^h = mean(P0 - P)
 *   ds  = mean(g(X, P0) - g(v, P)),  g(v, a)_i = (v_i - b^v_i)^2 / s_i^3
 *                                               - v_i (a W^T)_i / s_i^2
 *
 * (the last only with --learn-sigma), and every parameter theta moves by
 * the momentum rule  u = m u + r (d theta - L theta [W only]),  theta += u.
 * --pcd starts the negative phase from B persistent chains instead of X.
 * --mean-visible takes Gaussian visibles' means b^v + s (h W^T) instead of
 * samples in the negative phase (less noise in the gradient; the
 * reconstruction error is then that of the mean).  With --learn-sigma it
 * biases ds: the means' (v - b^v)^2 lacks the sampling noise, so sigma
 * drifts up; learn sigmas from samples.
 * Momentum: M0 until epoch EPOCH, then M1 (default 0.5,0.9@5).
 *
 * --f64 computes in double precision: the model, momenta, chains, every
 * product (dgemm) and every exchange between processes (8 bytes a
 * Gaussian visible: Table 4.1's third row), and writes f64 fields.  An
 * f32 model or checkpoint given to --init is widened; an f64 one given to
 * a run without --f64 is rounded to f32.  The random streams are the same,
 * so f32 and f64 runs part by rounding only.
 *
 * The random numbers depend only on the seed and on where they are used,
 * never on the thread count or on a resume: the epoch's order is a
 * Fisher-Yates shuffle from stream 2^62 + epoch; the fresh weights are
 * 0.01 N(0,1) from stream 2^61, row-major; row b of global minibatch g
 * (g = epoch * batches + t) draws its hidden samples of CD step s from
 * stream 2^60 + (g B + b) 2^8 + 2s and its visible samples from
 * ... + 2s + 1 (uniforms u < p; Gaussian noise by Box-Muller from two
 * uniforms); PCD chains start from the first minibatch.  (lib/rng.c: a
 * stream is xoshiro256** seeded from (seed, stream) by splitmix64.)
 *
 * Every epoch it prints one line (epoch, reconstruction error: mean squared
 * distance of a sampled one-step reconstruction from the data, section
 * 1.4.4; examples per second; sigma min/mean/max when learned), and --log
 * FILE keeps those figures as a stream.  --checkpoint FILE saves the model
 * with its momenta, chains and position, atomically, at each epoch end and
 * every --checkpoint-every (minutes "m" or minibatches "b"); --init FILE
 * resumes from it with the same result as an uninterrupted run.  A NaN or
 * infinity stops the run naming the epoch and minibatch, leaving the last
 * checkpoint as it was.  --max-batches N stops after N minibatches as if
 * interrupted (the checkpoint then holds the place).
 *
 * Distributed (chapter 4), on Open MPI: under mpirun the K processes
 * (ranks) split the H hidden units, rank r holding units hoff[r] =
 * floor(H r / K) up to hoff[r+1], and the visible units likewise for
 * sampling.  Every rank knows the whole data set: rank 0 reads stdin or
 * FILE and broadcasts the records, or each rank maps --data FILE on its own
 * host.  Only rank 0 writes (stdout, --checkpoint, --log), gathering the
 * model first; a checkpoint is the same stream as a single process's, so a
 * run resumes on any K.  Without mpirun nothing of MPI is started and
 * everything above holds as it is.  --hosts a,b,c runs mpirun --host a,b,c
 * -np 3 on this program with the other arguments (the program must be at
 * the same path on every host; OMPI_MCA_* variables reach mpirun), and
 * turns mpirun's reports of a dead rank or an unreachable host into one
 * line each.  The schemes:
 *
 *   4.5 (default; the report's section 4.5, the one its author used): rank
 *   r keeps only its columns W[:, hoff[r]..) (V,Hk), hbias and their
 *   momenta; vbias, sigma and the chains every rank keeps whole and
 *   updates alike.  Per CD step each rank computes its hidden units and
 *   its share of the visible input, h_r W_r^T (B,V); a reduce-scatter sums
 *   each visible unit's input at the rank that samples it, and an
 *   allgather shares the samples (bits when binary).  The random streams
 *   are those above, each rank skipping the draws of the units before its
 *   own, so the model is a single process's up to the order of the sums
 *   of the visible inputs (K partial sums instead of one over all H):
 *   within 1e-6 for K = 2 and 3 in the tests (the differences grow with
 *   training, as any rounding does).
 *   A minibatch of CD-1 sends (K-1)/K B V 4 bytes per rank in the
 *   reduce-scatter and (K-1)/K B V (bits or 4 bytes) in the allgather.
 *
 *   4.2 (section 4.2): rank r also keeps the rows W[voff[r].., :] (Vk,H)
 *   (the report's purple weights, its columns being the green ones) and
 *   their momenta.  Hidden states from the data (green), allgathered as
 *   bits; visible units from all hidden states (purple), allgathered as
 *   bits when binary (f32 otherwise); hidden states of the reconstruction,
 *   allgathered as bits.  The statistics are <v h> - <v' h'> over these
 *   binary states, as in the report's CD-1 (the probabilities of a hidden
 *   unit are known to its own rank only), so 4.2 learns differently from
 *   the single-process trainer: its reference is itself on one process
 *   (--scheme 4.2 without mpirun), which it matches bit for bit with
 *   binary visibles, since then every weight change is a sum of products
 *   of 0s and 1s, exact in f32.  Every --sync-every N examples (default
 *   8000, the report's) the purple weights, the model, are copied over the
 *   green (an alltoall; with the momenta).  CD-1 only: no --cd K > 1,
 *   --pcd or --learn-sigma.  A minibatch sends (K-1) (2 B H + B V) / 8
 *   bytes in all with binary visibles, section 4.4.1's count (make
 *   table4.1).
 *
 * Every rank counts the bytes it sends and receives in the collectives
 * (lib/dist.h: as point-to-point messages, whatever Open MPI's algorithm);
 * at the end rank 0 prints the totals of all ranks: the minibatches'
 * exchanges (a minibatch, an example), the weight synchronisation, and
 * the setup and checkpoints; and the share of the run the slowest rank
 * spent inside the minibatches' exchanges.  --comm-only does the
 * exchanges at their real sizes without the arithmetic, for counting a
 * large RBM's bytes on a small machine.  --threads defaults to all cores;
 * under mpirun to the host's cores over the ranks on it, and for a small
 * model (V H B below 4e6) to one (measured: a 6-unit model's 200 epochs
 * took over 5 minutes on two threads beside another busy process, seconds
 * on one).  A rank that dies ends the run
 * on every rank (mpirun stops them); the last checkpoint, written whole or
 * not at all, resumes it.
 */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dist.h"
#include "tiny.h"
#include "real.h"

/* The file is compiled twice (Makefile): as it is, computing in f32, and
 * with -DRBM_F64 in f64, its main then named rbm_train_f64, which main
 * calls for --f64.  real is the precision of the model, the momenta, the
 * chains and every product (lib/real.h); the models and checkpoints
 * written hold it. */
#ifdef RBM_F64
#define main rbm_train_f64
#else
int rbm_train_f64(int argc, char **argv);
#endif

static const char *usage_line =
	"tiny-rbm-train [-q] [--hidden H] [--seed S] [--init MODEL] [--visible gaussian|binary] "
	"[--sigma S|data] [--learn-sigma] [--epochs E] [--batch B] [--cd K] [--pcd] [--mean-visible] [--lr-w R] [--lr-vbias R] "
	"[--lr-hbias R] [--lr-sigma R] [--momentum M0[,M1@EPOCH]] [--decay L] [--checkpoint FILE] "
	"[--checkpoint-every 10m|50b] [--max-batches N] [--log FILE] [--threads N] [--scheme 4.5|4.2] "
	"[--sync-every N] [--hosts A,B,..] [--comm-only] [--f64] [--data FILE | FILE]";

#define STREAM_INIT    ((uint64_t)1 << 61)
#define STREAM_SHUFFLE ((uint64_t)1 << 62)
#define STREAM_SAMPLE  ((uint64_t)1 << 60)
#define SIGMA_MIN      ((real)1e-4)   /* a learned sigma is kept above this */
#define SMALL_WORK     4e6     /* V H B below this: one thread unless --threads */

typedef struct {
	int64_t hidden, epochs, batch, cd, max_batches, threads, ck_batches;
	double ck_minutes;
	uint64_t seed;
	int have_seed, visible, learn_sigma, pcd, sigma_from_data, mean_visible, comm_only, f64;
	double sigma, lr_w, lr_vb, lr_hb, lr_s, m0, m1, decay;
	int64_t m_epoch;
	int scheme;                   /* 45 or 42: section 4.5 or 4.2 of the report */
	int64_t sync_every;           /* 4.2: examples between weight synchronisations */
	const char *init, *checkpoint, *log, *data, *input, *hosts;
} opts_t;

/* --- the data, in memory as it came --------------------------------------- */

typedef struct {
	sin_t *in;                  /* NULL on ranks that got the records by broadcast */
	const tfield *x;
	tfield xf;                  /* x, where it came by broadcast */
	const unsigned char *recs;  /* (N, R) */
	int64_t N, R, V;
	int u8binary;               /* u8 data under binary visibles: read as x / 255 */
	void *map;
	size_t maplen;
} data_t;

/* Binary visibles are probabilities: u8 data (0..255) is read as x / 255. */
static void set_scale(data_t *d, int gaussian)
{
	d->u8binary = !gaussian && d->x->dtype == DT_U8;
}

static void load_data(data_t *d, const opts_t *o)
{
	memset(d, 0, sizeof *d);
	d->in = sin_open(o->data ? o->data : o->input);
	d->x = th_need(&d->in->h, "x", d->in->name);
	d->V = d->x->n;
	d->R = d->in->h.recsize;
	if (d->V > INT32_MAX / 2)
		die("%s: x has %" PRId64 " values, more than BLAS can index", d->in->name, d->V);
	if (o->data) {
		/* a regular file: map it, the records stay where they are */
		if (d->in->start < 0)
			die("%s: --data needs a regular file", d->in->name);
		d->N = d->in->h.count;
		d->maplen = (size_t)(d->in->start + d->in->hdrlen + d->N * d->R);
		int fd = open(o->data, O_RDONLY);
		if (fd < 0)
			die("%s:", o->data);
		d->map = d->maplen ? mmap(NULL, d->maplen, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
		if (d->maplen && d->map == MAP_FAILED)
			die("%s: cannot map:", o->data);
		close(fd);
		d->recs = (const unsigned char *)d->map + d->in->start + d->in->hdrlen;
	} else {
		int64_t cap = d->in->h.count != TINY_COUNT_UNKNOWN ? d->in->h.count : 4096, n;
		unsigned char *buf = xmalloc_big((size_t)(cap * d->R) + 1);
		for (;;) {
			if (d->N == cap) {
				if (d->in->h.count != TINY_COUNT_UNKNOWN)
					break;
				unsigned char *nb = xmalloc_big((size_t)(2 * cap * d->R));
				memcpy(nb, buf, (size_t)(d->N * d->R));
				free(buf);
				buf = nb;
				cap *= 2;
			}
			if ((n = sin_read(d->in, buf + d->N * d->R, cap - d->N)) == 0)
				break;
			d->N += n;
		}
		d->recs = buf;
	}
	if (d->N < 1)
		die("%s: no records to train on", d->in->name);
}

/* X (B,V) f32 from the records perm[first..first+B) */
static void gather(const data_t *d, const int64_t *perm, int64_t first, int64_t B, real *X)
{
#pragma omp parallel for
	for (int64_t b = 0; b < B; b++) {
		real *x = X + b * d->V;
		tf_get_real(d->x, d->recs + perm[first + b] * d->R, 1, d->R, x);
		if (d->u8binary)
			RBM(binary_input)(x, 1, d->V, 1, 0, NULL);
	}
}

/* --- the state of training ----------------------------------------------------- */

typedef struct {
	RBM(t) m;
	real *uW, *uvb, *uhb, *us;   /* momenta */
	real *chains;                /* (B,V) PCD chains, or NULL */
	int64_t epoch, batch;         /* where the next minibatch is */
	int w_finite;                 /* W all finite after the last update */
	/* split over processes (section 4): m holds this rank's hidden units
	 * h0..h0+m.H of Hall, with W (V,m.H); scheme 4.2 also keeps the rows
	 * v0..v0+Vk of the whole W, Wp (Vk,Hall), and their momenta uWp */
	int64_t Hall, h0, v0, Vk;
	real *Wp, *uWp;
} state_t;

static void state_alloc_extra(state_t *s, int64_t B, int pcd)
{
	int64_t V = s->m.V, H = s->m.H;
	s->uW = xmalloc_big((size_t)(V * H) * sizeof *s->uW);
	memset(s->uW, 0, (size_t)(V * H) * sizeof *s->uW);
	s->uvb = xcalloc(V, sizeof *s->uvb);
	s->uhb = xcalloc(H, sizeof *s->uhb);
	s->us = xcalloc(V, sizeof *s->us);
	s->chains = pcd ? xcalloc((size_t)(B * V), sizeof *s->chains) : NULL;
}

/* The checkpoint (and final model) header: the model, then the state. */
static void state_header(const state_t *s, const opts_t *o, const theader *data_h, const char *shape, theader *h,
			 int with_state)
{
	th_copy(h, data_h);
	while (h->nfields)
		th_remove_field(h, 0);
	RBM(fields)(&s->m, h);
	if (with_state) {
		th_field(h, "uW", DT_REAL, 2, s->m.V, s->m.H);
		th_field(h, "uvbias", DT_REAL, 1, s->m.V);
		th_field(h, "uhbias", DT_REAL, 1, s->m.H);
		th_field(h, "usigma", DT_REAL, 1, s->m.V);
		if (s->chains)
			th_field(h, "chains", DT_REAL, 2, o->batch, s->m.V);
	}
	char buf[512];
	th_attr_set(h, "shape", shape);
	snprintf(buf, sizeof buf, "%" PRId64, s->epoch);
	th_attr_set(h, "train_epoch", buf);
	snprintf(buf, sizeof buf, "%" PRId64, s->batch);
	th_attr_set(h, "train_batch", buf);
	snprintf(buf, sizeof buf, "%" PRIu64, o->seed);
	th_attr_set(h, "train_seed", buf);
	snprintf(buf, sizeof buf,
		 "cd %" PRId64 "%s batch %" PRId64 " lr_w %g lr_vbias %g lr_hbias %g lr_sigma %g momentum %g,%g@%" PRId64
		 " decay %g sigma %s%s",
		 o->cd, o->pcd ? " pcd" : "", o->batch, o->lr_w, o->lr_vb, o->lr_hb, o->lr_s, o->m0, o->m1, o->m_epoch,
		 o->decay, o->learn_sigma ? "learned" : "fixed", sizeof(real) == 8 ? " f64" : "");
	th_attr_set(h, "train_settings", buf);
	th_add_history(h);
}

static void save(const state_t *s, const opts_t *o, const theader *data_h, const char *shape, const char *path,
		 int with_state)
{
	theader h;
	state_header(s, o, data_h, shape, &h, with_state);
	/* straight from the arrays, in the order state_header adds the
	 * fields: no copy of the model (that would double the peak memory) */
	const void *fields[] = {s->m.W, s->m.vbias, s->m.hbias, s->m.sigma, s->uW, s->uvb, s->uhb, s->us, s->chains};
	if (h.nfields != (with_state ? (s->chains ? 9 : 8) : 4))
		die("internal error: a model of %d fields", h.nfields);
	sout_t *out = sout_open(path, &h);
	sout_write_fields(out, fields);
	sout_close(out);
	th_free(&h);
}

/* --- the split over processes (chapter 4) ----------------------------------------- */

/* Rank r of K holds the hidden units hoff[r]..hoff[r+1] and samples the
 * visible units voff[r]..voff[r+1].  Off (K = 1 under scheme 4.5) the
 * trainer is the single-process one, untouched. */
typedef struct {
	int on, K, rank;
	int64_t *hoff, *voff;          /* (K+1) */
	real *pack, *mine;            /* (2B,V) blocks in rank order; (2B,Vk) this rank's */
	unsigned char *bits, *mybits;  /* states as bits: every rank's, this rank's */
} split_t;

static split_t sp;

static void split_init(int on, int64_t V, int64_t H, int64_t B)
{
	int K = dist.K;
	sp.on = on, sp.K = K, sp.rank = dist.rank;
	sp.hoff = xmalloc((size_t)(K + 1) * sizeof *sp.hoff);
	sp.voff = xmalloc((size_t)(K + 1) * sizeof *sp.voff);
	for (int r = 0; r <= K; r++)
		sp.hoff[r] = dist_split(H, r, K), sp.voff[r] = dist_split(V, r, K);
	if (!on)
		return;
	int64_t most = V > H ? V : H;
	sp.pack = xmalloc_big((size_t)(2 * B * V) * sizeof *sp.pack);
	sp.mine = xmalloc_big((size_t)(2 * B * (sp.voff[sp.rank + 1] - sp.voff[sp.rank])) * sizeof *sp.mine + 4);
	sp.bits = xmalloc_big((size_t)(B * most / 8 + K + 8));
	sp.mybits = xmalloc_big((size_t)(B * most / 8 + 8));
}

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

/* --- one minibatch ----------------------------------------------------------------- */

typedef struct {
	real *Z;    /* (2B,V): [X/s; v/s] */
	real *P;    /* (2B,H): [P0; P] then [P0; -P] */
	real *G;    /* (2B,V): [P0; P] W^T, for the sigma gradient */
	real *h;    /* (B,H) hidden samples */
	real *v;    /* (B,V) visible samples */
	real *X;    /* (B,V) the data */
	double *row; /* (B) per-row sums */
	real *S;    /* scheme 4.2: (2B,Hall) [h; -h'], every rank's hidden states */
} work_t;

static inline real logistic(real x)
{
	return 1 / (1 + exp_real(-x));
}

/* h (B,H) ~ P (B,H): hidden units skip.. of the whole layer (the stream of
 * a row draws one uniform per unit from unit 0, whoever samples it) */
static void sample_hidden(const real *P, int64_t B, int64_t H, uint64_t seed, uint64_t g, int step, int64_t skip,
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

/* The visible units v0..v0+n sampled in place from their inputs A = h W^T
 * (B,n) (all of them: v0 0, n V): each row's stream first skips
 * the draws of the units before v0 (one uniform for a binary unit, two
 * for a Gaussian sample, none for a mean). */
static void sample_visible_part(const RBM(t) *m, real *A, int64_t B, int64_t n, int64_t v0, uint64_t seed, uint64_t g,
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

/* v ~ p(v | h) into v (B,V); Zs (B,V) = v / s.  Split, h (B,H) is this
 * rank's hidden units and gives only its part of the input: each rank sums
 * and samples its own visible units (reduce-scatter), then all share the
 * samples (allgather; bits when binary). */
static void sample_visible(const RBM(t) *m, const real *h, int64_t B, uint64_t seed, uint64_t g, int step, int mean, real *v,
			   real *Zs)
{
	int64_t V = m->V;
	/* v = h W^T (B,V) */
	la_gemm(0, 1, (int)B, (int)V, (int)m->H, 1.0f, h, (int)m->H, m->W, (int)m->H, 0.0f, v, (int)V);
	if (sp.on) {   /* the rank's share of the input; section 4.5 */
		int64_t c[sp.K], v0 = sp.voff[sp.rank], n = sp.voff[sp.rank + 1] - v0;
		block_counts(B, sp.voff, 1, c);
		pack_cols(v, B, V, sp.voff, sp.pack);
		dist_reduce_scatter_sum(sp.pack, sp.mine, c, sizeof(real), DIST_TRAIN);
		sample_visible_part(m, sp.mine, B, n, v0, seed, g, step, mean);
		if (m->gaussian) {
			block_counts(B, sp.voff, sizeof(real), c);
			dist_allgatherv(sp.mine, sp.pack, c, DIST_TRAIN);
			unpack_cols(sp.pack, B, V, sp.voff, v);
		} else
			exchange_states(sp.mine, B, sp.voff, V, v);
	} else
		sample_visible_part(m, v, B, V, 0, seed, g, step, mean);
	RBM(scale)(m, v, B, Zs);
}

/* W += u (n values), noting on the way whether any weight stopped being
 * finite (one pass over W, not two); returns 1 if one did */
static int add_step(real *W, const real *u, int64_t n)
{
	int bad = 0;
#pragma omp parallel for reduction(| : bad)
	for (int64_t k = 0; k < n; k++) {
		W[k] += u[k];
		bad |= !isfinite(W[k]);
	}
	return bad;
}

/* One CD-K (or PCD) minibatch on X (B,V); returns the reconstruction error
 * (mean over the rows of the squared distance of the data's sampled
 * one-step reconstruction from the data). */
static double minibatch(state_t *s, const opts_t *o, work_t *w, int64_t B, uint64_t g, double mom)
{
	RBM(t) *m = &s->m;
	int64_t V = m->V, H = m->H;
	real *Zd = w->Z, *Zm = w->Z + B * V, *P0 = w->P, *Pm = w->P + B * H;
	RBM(hidden_probs)(m, w->X, B, P0, Zd);

	/* step 0: h ~ P0, v ~ p(v | h): the reconstruction */
	sample_hidden(P0, B, H, o->seed, g, 0, s->h0, w->h);
	sample_visible(m, w->h, B, o->seed, g, 0, o->mean_visible, w->v, Zm);
#pragma omp parallel for
	for (int64_t b = 0; b < B; b++) {
		double e = 0;
		for (int64_t i = 0; i < V; i++) {
			double d = (double)w->X[b * V + i] - w->v[b * V + i];
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
		sample_hidden(Pm, B, H, o->seed, g, 64, s->h0, w->h);
		sample_visible(m, w->h, B, o->seed, g, 64, o->mean_visible, w->v, Zm);
		first = 65;
	}
	RBM(hidden_scaled)(m, Zm, B, Pm);
	for (int64_t k = 2; k <= o->cd; k++, first++) {
		sample_hidden(Pm, B, H, o->seed, g, first, s->h0, w->h);
		sample_visible(m, w->h, B, o->seed, g, first, o->mean_visible, w->v, Zm);
		RBM(hidden_scaled)(m, Zm, B, Pm);
	}
	if (s->chains)
		memcpy(s->chains, w->v, (size_t)(B * V) * sizeof *s->chains);

	/* biases and sigma: each column summed over the rows in order, so the
	 * result does not depend on the thread count */
	double rB = 1.0 / B;
#pragma omp parallel for
	for (int64_t j = 0; j < H; j++) {
		double d = 0;
		for (int64_t b = 0; b < B; b++)
			d += (double)P0[b * H + j] - Pm[b * H + j];
		s->uhb[j] = (real)(mom * s->uhb[j] + o->lr_hb * d * rB);
	}
	if (o->learn_sigma) {  /* G (2B,V) = [P0; P] W^T, before P is negated */
		la_gemm(0, 1, (int)(2 * B), (int)V, (int)H, 1.0f, w->P, (int)H, m->W, (int)H, 0.0f, w->G, (int)V);
		if (sp.on)
			sum_visible(w->G, 2 * B, V);
	}
#pragma omp parallel for
	for (int64_t i = 0; i < V; i++) {
		double dv = 0, ds = 0, si = m->sigma[i], bi = m->vbias[i];
		for (int64_t b = 0; b < B; b++) {
			double x = w->X[b * V + i], v = w->v[b * V + i];
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
	s->w_finite = !add_step(m->W, s->uW, V * H);
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

/* One CD-1 minibatch by the algorithm of section 4.2: this rank computes
 * its hidden units from the data with its columns of W (the report's green
 * weights), all share the states as bits, it samples its visible units
 * with its rows of W (purple), all share those (bits when binary), then
 * its hidden units again, shared as bits too.  The statistics are those
 * of the report's CD-1, <v h> - <v' h'> with the hidden states h, h' (not
 * their probabilities, which only their own rank knows), so this scheme
 * learns differently from a single process; each weight known to two
 * ranks is updated on both, from the same binary products.  Returns the
 * reconstruction error. */
static double minibatch_42(state_t *s, const opts_t *o, work_t *w, int64_t B, uint64_t g, double mom)
{
	RBM(t) *m = &s->m;
	int64_t V = m->V, Hk = m->H, H = s->Hall, Vk = s->Vk, v0 = s->v0;
	real *Zd = w->Z, *Zm = w->Z + B * V, *P0 = w->P, *Pm = w->P + B * Hk, *S0 = w->S, *Sm = w->S + B * H;
	RBM(hidden_probs)(m, w->X, B, P0, Zd);
	sample_hidden(P0, B, Hk, o->seed, g, 0, s->h0, P0);   /* states, in place */
	exchange_states(P0, B, sp.hoff, H, S0);
	/* A (B,Vk) = h Wp^T: this rank's visible inputs from every hidden unit */
	real *A = sp.mine;
	la_gemm(0, 1, (int)B, (int)Vk, (int)H, 1.0f, S0, (int)H, s->Wp, (int)H, 0.0f, A, (int)Vk);
	sample_visible_part(m, A, B, Vk, v0, o->seed, g, 0, o->mean_visible);
	if (m->gaussian) {
		int64_t c[sp.K];
		block_counts(B, sp.voff, sizeof(real), c);
		dist_allgatherv(A, sp.pack, c, DIST_TRAIN);
		unpack_cols(sp.pack, B, V, sp.voff, w->v);
	} else
		exchange_states(A, B, sp.voff, V, w->v);
	RBM(scale)(m, w->v, B, Zm);
	RBM(hidden_scaled)(m, Zm, B, Pm);
	sample_hidden(Pm, B, Hk, o->seed, g, 1, s->h0, Pm);
	exchange_states(Pm, B, sp.hoff, H, Sm);

	double recon = 0, rB = 1.0 / B;
	for (int64_t b = 0; b < B; b++)
		for (int64_t i = 0; i < V; i++) {
			double d = (double)w->X[b * V + i] - w->v[b * V + i];
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
			dv += (double)w->X[b * V + i] - w->v[b * V + i];
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
			s->uWp[k] = beta * s->uWp[k] + a * s->Wp[k];
		beta = 1.0f;
	}
	la_gemm(1, 0, (int)V, (int)Hk, (int)(2 * B), (real)(o->lr_w * rB), w->Z, (int)V, w->P, (int)Hk, beta, s->uW,
		 (int)Hk);
	la_gemm(1, 0, (int)Vk, (int)H, (int)(2 * B), (real)(o->lr_w * rB), w->Z + v0, (int)V, w->S, (int)H, beta,
		 s->uWp, (int)H);
	int bad = add_step(m->W, s->uW, V * Hk);
	bad |= add_step(s->Wp, s->uWp, Vk * H);
	s->w_finite = !bad;
	for (int64_t j = 0; j < Hk; j++)
		m->hbias[j] += s->uhb[j];
	for (int64_t i = 0; i < V; i++)
		m->vbias[i] += s->uvb[i];
	return recon * rB;
}

/* --comm-only: the exchanges of one minibatch at their real sizes, without
 * the arithmetic (the states sent are whatever the buffers hold), so that
 * the byte counts of a large RBM (Table 4.1) can be had on a small
 * machine.  The model does not learn. */
static double minibatch_comm_only(const state_t *s, const opts_t *o, work_t *w, int64_t B)
{
	int64_t V = s->m.V, H = s->Hall, c[sp.K];
	int steps = o->scheme == 42 ? 1 : (int)o->cd + (o->pcd ? 1 : 0);
	if (o->scheme == 42)
		exchange_states(w->P, B, sp.hoff, H, w->S);
	for (int k = 0; k < steps; k++) {
		if (o->scheme == 45) {
			block_counts(B, sp.voff, 1, c);
			dist_reduce_scatter_sum(sp.pack, sp.mine, c, sizeof(real), DIST_TRAIN);
		}
		if (s->m.gaussian) {
			block_counts(B, sp.voff, sizeof(real), c);
			dist_allgatherv(sp.mine, sp.pack, c, DIST_TRAIN);
		} else
			exchange_states(sp.mine, B, sp.voff, V, w->v);
	}
	if (o->scheme == 42)
		exchange_states(w->P, B, sp.hoff, H, w->S + B * H);
	if (o->learn_sigma)
		sum_visible(w->G, 2 * B, V);
	return 0;
}

/* Section 4.2's weight synchronisation: the rows each rank keeps (Wp, the
 * purple weights) are the model, and every rank's columns (W, green) are
 * filled in again from them: rank r sends rank q its block
 * Wp[:, hoff[q]..hoff[q+1]) (Vk_r, Hk_q), which is rows voff[r].. of q's W.
 * The momenta likewise. */
static void sync_weights(state_t *s)
{
	int K = sp.K;
	int64_t H = s->Hall, Hk = s->m.H, Vk = s->Vk, sc[K], rc[K];
	real *send = xmalloc_big((size_t)(Vk * H) * sizeof *send + 4);
	for (int q = 0; q < K; q++)
		sc[q] = Vk * (sp.hoff[q + 1] - sp.hoff[q]) * (int64_t)sizeof(real);
	for (int r = 0; r < K; r++)
		rc[r] = (sp.voff[r + 1] - sp.voff[r]) * Hk * (int64_t)sizeof(real);
	pack_cols(s->Wp, Vk, H, sp.hoff, send);
	dist_alltoallv(send, sc, s->m.W, rc, DIST_SYNC);
	pack_cols(s->uWp, Vk, H, sp.hoff, send);
	dist_alltoallv(send, sc, s->uW, rc, DIST_SYNC);
	free(send);
}

/* Rank 0's whole state (from the setup) becomes every rank's share: its
 * hidden units' columns of W, hbias and their momenta (scatter), and
 * under scheme 4.2 its visible units' rows of W and uW too.  vbias, sigma,
 * their momenta and the chains every rank holds whole (broadcast). */
static void split_state(state_t *st, const opts_t *o, int64_t V, int64_t H, int gaussian)
{
	int K = sp.K, me = sp.rank;
	int64_t h0 = sp.hoff[me], Hk = sp.hoff[me + 1] - h0, v0 = sp.voff[me], Vk = sp.voff[me + 1] - v0, c[K];
	state_t loc;
	memset(&loc, 0, sizeof loc);
	RBM(alloc)(&loc.m, V, Hk, gaussian);
	loc.uW = xmalloc_big((size_t)(V * Hk) * sizeof *loc.uW + 4);
	loc.uhb = xcalloc((size_t)Hk + 1, sizeof *loc.uhb);
	loc.uvb = xcalloc(V, sizeof *loc.uvb);
	loc.us = xcalloc(V, sizeof *loc.us);
	loc.chains = o->pcd ? xcalloc((size_t)(o->batch * V), sizeof *loc.chains) : NULL;
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
	if (o->scheme == 42) {
		loc.Wp = xmalloc_big((size_t)(Vk * H) * sizeof *loc.Wp + 4);
		loc.uWp = xmalloc_big((size_t)(Vk * H) * sizeof *loc.uWp + 4);
		block_counts(H, sp.voff, sizeof(real), c);
		dist_scatterv(me == 0 ? st->m.W : NULL, loc.Wp, c, DIST_SETUP);
		dist_scatterv(me == 0 ? st->uW : NULL, loc.uWp, c, DIST_SETUP);
	}
	if (me == 0) {
		memcpy(loc.m.vbias, st->m.vbias, (size_t)V * sizeof(real));
		memcpy(loc.m.sigma, st->m.sigma, (size_t)V * sizeof(real));
		memcpy(loc.uvb, st->uvb, (size_t)V * sizeof(real));
		memcpy(loc.us, st->us, (size_t)V * sizeof(real));
		if (o->pcd)
			memcpy(loc.chains, st->chains, (size_t)(o->batch * V) * sizeof(real));
	}
	dist_bcast(loc.m.vbias, V * (int64_t)sizeof(real), DIST_SETUP);
	dist_bcast(loc.m.sigma, V * (int64_t)sizeof(real), DIST_SETUP);
	dist_bcast(loc.uvb, V * (int64_t)sizeof(real), DIST_SETUP);
	dist_bcast(loc.us, V * (int64_t)sizeof(real), DIST_SETUP);
	if (o->pcd)
		dist_bcast(loc.chains, o->batch * V * (int64_t)sizeof(real), DIST_SETUP);
	loc.epoch = st->epoch, loc.batch = st->batch;
	loc.Hall = H, loc.h0 = h0, loc.v0 = v0, loc.Vk = Vk;
	if (me == 0) {
		RBM(free)(&st->m);
		free(st->uW), free(st->uvb), free(st->uhb), free(st->us), free(st->chains);
	}
	free(pack);
	*st = loc;
}

/* The whole state at rank 0, for a checkpoint or the model: W from the
 * ranks' columns (4.5) or rows (4.2, the purple weights being the model),
 * hbias from their shares; the rest is rank 0's own.  Free with
 * unsplit_free. */
static void unsplit_state(const state_t *st, const opts_t *o, int with_state, state_t *full)
{
	int K = sp.K, me = sp.rank;
	int64_t V = st->m.V, H = st->Hall, *c = xcalloc((size_t)K, sizeof *c);
	*full = *st;
	full->m.H = H;
	full->m.W = full->uW = full->m.hbias = full->uhb = NULL;
	if (me == 0) {
		full->m.W = xmalloc_big((size_t)(V * H) * sizeof *full->m.W);
		full->m.hbias = xmalloc((size_t)H * sizeof *full->m.hbias);
		full->uW = with_state ? xmalloc_big((size_t)(V * H) * sizeof *full->uW) : NULL;
		full->uhb = with_state ? xmalloc((size_t)H * sizeof *full->uhb) : NULL;
	}
	if (o->scheme == 42) {
		block_counts(H, sp.voff, sizeof(real), c);
		dist_gatherv(st->Wp, full->m.W, c, DIST_SETUP);
		if (with_state)
			dist_gatherv(st->uWp, full->uW, c, DIST_SETUP);
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

static void unsplit_free(state_t *full)
{
	free(full->m.W), free(full->m.hbias), free(full->uW), free(full->uhb);
}

/* A checkpoint (with_state) or the model (path NULL: stdout, W checked
 * finite first), by rank 0; split, every rank takes part. */
static void save_any(const state_t *s, const opts_t *o, const data_t *d, const char *shape, const char *path,
		     int with_state)
{
	state_t full;
	if (sp.on)
		unsplit_state(s, o, with_state, &full);
	const state_t *w = sp.on ? &full : s;
	if (sp.rank == 0) {
		if (!with_state)
			tf_check_finite_real(w->m.W, 1, w->m.V * w->m.H, 0, "the trained model", "W");
		save(w, o, &d->in->h, shape, path, with_state);
	}
	if (sp.on)
		unsplit_free(&full);
}

/* Any NaN or infinity in the parameters or in the error figure.  W is
 * checked too (in the update's own pass, w_finite): an overflow in an
 * epoch's last minibatch would otherwise reach the checkpoint before the
 * biases show it. */
static int finite_state(const state_t *s, double recon)
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

/* --- the log ------------------------------------------------------------------------- */

typedef struct {
	int32_t epoch;
	float recon, rate, smin, smean, smax;
} logrec_t;

static void write_log(const char *path, const logrec_t *l, int64_t n, const theader *data_h)
{
	theader h;
	th_copy(&h, data_h);
	while (h.nfields)
		th_remove_field(&h, 0);
	h.count = n;
	th_field(&h, "epoch", DT_I32, 0);
	th_field(&h, "recon", DT_F32, 0);
	th_field(&h, "rate", DT_F32, 0);
	th_field(&h, "sigma_min", DT_F32, 0);
	th_field(&h, "sigma_mean", DT_F32, 0);
	th_field(&h, "sigma_max", DT_F32, 0);
	th_add_history(&h);
	sout_t *o = sout_open(path, &h);
	for (int64_t k = 0; k < n; k++) {
		unsigned char rec[24];
		memcpy(rec, &l[k].epoch, 4);
		memcpy(rec + 4, &l[k].recon, 4);
		memcpy(rec + 8, &l[k].rate, 4);
		memcpy(rec + 12, &l[k].smin, 4);
		memcpy(rec + 16, &l[k].smean, 4);
		memcpy(rec + 20, &l[k].smax, 4);
		sout_write(o, rec, 1);
	}
	sout_close(o);
	th_free(&h);
}

/* --- the setup, by rank 0 ---------------------------------------------------------- */

/* The data, and the whole starting state: a checkpoint or model (--init),
 * or a fresh one; the options the data and the checkpoint settle (seed,
 * sigma, batch) in o. */
static void setup(opts_t *o, state_t *st, data_t *d)
{
	/* the starting model: a checkpoint or model, or a fresh one */
	unsigned char *initrec = NULL;
	sin_t *ini = NULL;
	if (o->init) {
		ini = sin_open(o->init);
		RBM(load)(&st->m, ini, &initrec);
		if (o->visible >= 0 && o->visible != st->m.gaussian)
			usage_error("--visible %s does not match %s, whose visibles are %s", o->visible ? "gaussian" : "binary",
				    ini->name, st->m.gaussian ? "gaussian" : "binary");
		const char *seed = th_attr(&ini->h, "train_seed");
		if (!o->have_seed && seed)
			o->seed = strtoull(seed, NULL, 10);
	}
	load_data(d, o);
	int64_t V = d->V, N = d->N, B = o->batch < N ? o->batch : N;
	o->batch = B;
	if (o->init && st->m.V != V)
		die("%s is an RBM of V = %" PRId64 " visible units; %s's x has %" PRId64 " values", o->init, st->m.V,
		    d->in->name, V);
	if (!o->init) {
		int gaussian = o->visible < 0 ? 1 : o->visible;
		RBM(alloc)(&st->m, V, o->hidden, gaussian);
		rng_t r;
		rng_seed(&r, o->seed, STREAM_INIT);
		for (int64_t k = 0; k < V * o->hidden; k++)
			st->m.W[k] = (real)0.01 * (real)rng_normal(&r);
	}
	if (!st->m.gaussian && (o->learn_sigma || o->sigma > 0 || o->sigma_from_data))
		usage_error("--sigma and --learn-sigma apply to Gaussian visibles");
	set_scale(d, st->m.gaussian);
	/* binary visibles take probabilities: float data is checked to lie in [0,1] */
	int check01 = !st->m.gaussian && !dtype_is_int(d->x->dtype);

	/* the data's mean (visible biases of a fresh model) and average
	 * standard deviation (--sigma data), in double, in order */
	real *X = xmalloc_big((size_t)(B * V) * sizeof *X);
	if (!o->init || o->sigma_from_data || check01) {
		double *sum = xcalloc(V, sizeof *sum), *sq = xcalloc(V, sizeof *sq);
		int64_t *all = xmalloc((size_t)N * sizeof *all);
		for (int64_t k = 0; k < N; k++)
			all[k] = k;
		for (int64_t r0 = 0; r0 < N; r0 += B) {
			int64_t n = N - r0 < B ? N - r0 : B;
			gather(d, all, r0, n, X);
			tf_check_finite_real(X, n, V, r0, d->in->name, "x");
			if (check01)
				RBM(binary_input)(X, n, V, 0, r0, d->in->name);
			for (int64_t b = 0; b < n; b++)
				for (int64_t i = 0; i < V; i++) {
					sum[i] += X[b * V + i];
					sq[i] += (double)X[b * V + i] * X[b * V + i];
				}
		}
		double sd = 0;
		for (int64_t i = 0; i < V; i++) {
			double mean = sum[i] / N, var = sq[i] / N - mean * mean;
			sd += sqrt(var > 0 ? var : 0) / V;
			if (!o->init && st->m.gaussian)
				st->m.vbias[i] = (real)mean;
		}
		if (o->sigma_from_data) {
			if (!(sd > 0))
				die("%s: the data do not vary, so --sigma data has no scale", d->in->name);
			o->sigma = sd;
			if (!tiny_quiet)
				fprintf(stderr, "%s: sigma = %g, the data's average standard deviation\n", tiny_prog, sd);
		}
		free(sum), free(sq), free(all);
	}
	/* a checkpoint's sigma is part of the state being resumed */
	if (o->sigma > 0 && !(ini && th_find(&ini->h, "uW") >= 0))
		for (int64_t i = 0; i < V; i++)
			st->m.sigma[i] = (real)o->sigma;

	/* momenta, chains and position from a checkpoint, or from zero */
	state_alloc_extra(st, B, o->pcd);
	int64_t nb = (N + B - 1) / B;
	if (ini) {
		const theader *h = &ini->h;
		const char *ep = th_attr(h, "train_epoch"), *bt = th_attr(h, "train_batch");
		int uw = th_find(h, "uW");
		if (uw >= 0) {
			tf_get_real(&h->fields[uw], initrec, 1, h->recsize, st->uW);
			tf_get_real(&h->fields[th_find(h, "uvbias")], initrec, 1, h->recsize, st->uvb);
			tf_get_real(&h->fields[th_find(h, "uhbias")], initrec, 1, h->recsize, st->uhb);
			tf_get_real(&h->fields[th_find(h, "usigma")], initrec, 1, h->recsize, st->us);
			int ch = th_find(h, "chains");
			if (o->pcd && ch >= 0 && h->fields[ch].n == B * V)
				tf_get_real(&h->fields[ch], initrec, 1, h->recsize, st->chains);
			else if (o->pcd)
				o->pcd = 2;   /* chains start from the data below */
			st->epoch = ep ? strtoll(ep, NULL, 10) : 0;
			st->batch = bt ? strtoll(bt, NULL, 10) : 0;
			if (st->batch >= nb)
				st->epoch++, st->batch = 0;
		}
		free(initrec);
		sin_close(ini);
	}
	st->Hall = st->m.H, st->h0 = st->v0 = 0, st->Vk = V;
	free(X);
}

/* What rank 0's setup settled, to the other ranks: the options, the
 * model's shape and position, and the data (the records themselves unless
 * every rank reads --data FILE on its own host).  The state itself follows
 * in split_state. */
static void share_setup(opts_t *o, state_t *st, data_t *d)
{
	opts_t mine = *o;   /* the strings stay this process's own */
	dist_bcast(o, sizeof *o, DIST_SETUP);
	o->init = mine.init, o->checkpoint = mine.checkpoint, o->log = mine.log, o->data = mine.data;
	o->input = mine.input, o->hosts = mine.hosts;
	int64_t v[8] = {d->N, d->R, d->V, st->Hall, st->m.gaussian, st->epoch, st->batch, 0};
	dist_bcast(v, sizeof v, DIST_SETUP);
	tfield x;
	if (dist.rank == 0)
		x = *d->x;
	dist_bcast(&x, sizeof x, DIST_SETUP);
	if (dist.rank == 0) {
		if (!o->data)
			dist_bcast((void *)d->recs, d->N * d->R, DIST_SETUP);
		return;
	}
	st->m.V = v[2], st->Hall = v[3], st->m.gaussian = (int)v[4], st->epoch = v[5], st->batch = v[6];
	if (o->data) {
		load_data(d, o);
		if (d->N != v[0] || d->R != v[1] || d->V != v[2])
			die("rank %d: %s is not the file rank 0 has (%" PRId64 " records of %" PRId64 " bytes there)",
			    dist.rank, o->data, v[0], v[1]);
		set_scale(d, st->m.gaussian);
		return;
	}
	d->N = v[0], d->R = v[1], d->V = v[2];
	d->xf = x;
	d->x = &d->xf;
	unsigned char *recs = xmalloc_big((size_t)(d->N * d->R) + 1);
	dist_bcast(recs, d->N * d->R, DIST_SETUP);
	d->recs = recs;
	set_scale(d, st->m.gaussian);
}

/* --- main ----------------------------------------------------------------------------- */

static void parse(int argc, char **argv, opts_t *o)
{
	static const struct option longopts[] = {
		{"hidden", required_argument, 0, 'H'}, {"seed", required_argument, 0, 's'},
		{"init", required_argument, 0, 'i'}, {"visible", required_argument, 0, 'V'},
		{"sigma", required_argument, 0, 'S'}, {"learn-sigma", no_argument, 0, 'L'},
		{"epochs", required_argument, 0, 'e'}, {"batch", required_argument, 0, 'b'},
		{"cd", required_argument, 0, 'k'}, {"pcd", no_argument, 0, 'P'},
		{"mean-visible", no_argument, 0, 'M'}, {"lr-w", required_argument, 0, 'w'}, {"lr-vbias", required_argument, 0, 'v'},
		{"lr-hbias", required_argument, 0, 'h'}, {"lr-sigma", required_argument, 0, 'g'},
		{"momentum", required_argument, 0, 'm'}, {"decay", required_argument, 0, 'd'},
		{"checkpoint", required_argument, 0, 'c'}, {"checkpoint-every", required_argument, 0, 'C'},
		{"max-batches", required_argument, 0, 'x'}, {"log", required_argument, 0, 'l'},
		{"threads", required_argument, 0, 't'}, {"data", required_argument, 0, 'D'},
		{"scheme", required_argument, 0, 'X'}, {"sync-every", required_argument, 0, 'Y'},
		{"hosts", required_argument, 0, 'O'}, {"comm-only", no_argument, 0, 'Z'}, {"f64", no_argument, 0, 'F'},
		{"quiet", no_argument, 0, 'q'}, {"help", no_argument, 0, '?' + 256}, {0}};
	static const char *const visibles[] = {"binary", "gaussian", NULL};
	static const char *const schemes[] = {"4.5", "4.2", NULL};
	*o = (opts_t){.hidden = 100, .epochs = 10, .batch = 100, .cd = 1, .max_batches = -1, .seed = 1,
		      .visible = -1, .sigma = -1, .lr_w = 1e-3, .lr_vb = -1, .lr_hb = -1, .lr_s = -1, .m0 = 0.5,
		      .m1 = 0.9, .m_epoch = 5, .ck_minutes = 10, .ck_batches = -1,
		      .scheme = 45, .sync_every = 8000};
	int c;
	while ((c = getopt_long(argc, argv, "q", longopts, NULL)) != -1) {
		switch (c) {
		case 'H': o->hidden = opt_i64("--hidden", optarg, 1, 1 << 20); break;
		case 's': o->seed = opt_u64("--seed", optarg), o->have_seed = 1; break;
		case 'i': o->init = optarg; break;
		case 'V': o->visible = opt_choice("--visible", optarg, visibles); break;
		case 'S':
			if (!strcmp(optarg, "data"))
				o->sigma_from_data = 1;
			else
				o->sigma = opt_f64("--sigma", optarg, 1e-30, 1e30);
			break;
		case 'L': o->learn_sigma = 1; break;
		case 'e': o->epochs = opt_i64("--epochs", optarg, 0, 1 << 30); break;
		case 'b': o->batch = opt_i64("--batch", optarg, 1, 1 << 20); break;
		case 'k': o->cd = opt_i64("--cd", optarg, 1, 60); break;
		case 'P': o->pcd = 1; break;
		case 'M': o->mean_visible = 1; break;
		case 'w': o->lr_w = opt_f64("--lr-w", optarg, 0, 1e6); break;
		case 'v': o->lr_vb = opt_f64("--lr-vbias", optarg, 0, 1e6); break;
		case 'h': o->lr_hb = opt_f64("--lr-hbias", optarg, 0, 1e6); break;
		case 'g': o->lr_s = opt_f64("--lr-sigma", optarg, 0, 1e6); break;
		case 'm': {   /* cut up a copy: argv stays as typed, for the history and --f64 */
			char *arg = xstrdup(optarg), *comma = strchr(arg, ','), *at = comma ? strchr(comma, '@') : NULL;
			if (comma)
				*comma = 0;
			if (at)
				*at = 0;
			o->m0 = opt_f64("--momentum", arg, 0, 0.999);
			o->m1 = comma ? opt_f64("--momentum", comma + 1, 0, 0.999) : o->m0;
			o->m_epoch = at ? opt_i64("--momentum @EPOCH", at + 1, 0, 1 << 30) : (comma ? 5 : 0);
			free(arg);
			break;
		}
		case 'd': o->decay = opt_f64("--decay", optarg, 0, 1e6); break;
		case 'c': o->checkpoint = optarg; break;
		case 'C': {
			size_t n = strlen(optarg);
			char unit = n ? optarg[n - 1] : 0;
			if (n < 2 || (unit != 'm' && unit != 'b'))
				usage_error("--checkpoint-every %s: expected minutes like 10m or minibatches like 50b", optarg);
			char *num = xstrdup(optarg);
			num[n - 1] = 0;
			if (unit == 'm')
				o->ck_minutes = opt_f64("--checkpoint-every", num, 0.01, 1e6), o->ck_batches = -1;
			else
				o->ck_batches = opt_i64("--checkpoint-every", num, 1, INT64_MAX), o->ck_minutes = -1;
			free(num);
			break;
		}
		case 'x': o->max_batches = opt_i64("--max-batches", optarg, 1, INT64_MAX); break;
		case 'l': o->log = optarg; break;
		case 't': o->threads = opt_i64("--threads", optarg, 1, 1024); break;
		case 'D': o->data = optarg; break;
		case 'X': o->scheme = opt_choice("--scheme", optarg, schemes) ? 42 : 45; break;
		case 'Y': o->sync_every = opt_i64("--sync-every", optarg, 1, INT64_MAX); break;
		case 'O': o->hosts = optarg; break;
		case 'Z': o->comm_only = 1; break;
		case 'F': o->f64 = 1; break;
		case 'q': tiny_quiet = 1; break;
		case '?' + 256: printf("usage: %s\n", usage_line); exit(0);
		default: usage();
		}
	}
	if (argc - optind > 1 || (o->data && argc - optind > 0))
		usage_error("expected at most one input: FILE or --data FILE");
	o->input = optind < argc ? argv[optind] : NULL;
	if (o->lr_vb < 0)
		o->lr_vb = o->lr_w;
	if (o->lr_hb < 0)
		o->lr_hb = o->lr_w;
	if (o->lr_s < 0)
		o->lr_s = o->lr_w / 100;   /* the report: 100 to 1000 times smaller */
	if (o->sigma > 0 && o->sigma_from_data)
		usage_error("--sigma takes a number or 'data'");
	if (o->comm_only && o->scheme == 45 && !getenv("OMPI_COMM_WORLD_SIZE"))
		usage_error("--comm-only needs mpirun or --scheme 4.2: a single process exchanges nothing");
	if (o->scheme == 42 && (o->cd != 1 || o->pcd || o->learn_sigma))
		usage_error("--scheme 4.2 is CD-1 (section 4.2): no --cd %" PRId64 "%s%s", o->cd, o->pcd ? ", --pcd" : "",
			    o->learn_sigma ? ", --learn-sigma" : "");
}

int main(int argc, char **argv)
{
	opts_t o;
	tiny_init(argc, argv, usage_line);
	parse(argc, argv, &o);
#ifndef RBM_F64
	if (o.f64) {   /* the same program, compiled in double precision */
		optind = 0;
		return rbm_train_f64(tiny_argc, tiny_argv);
	}
#endif
	if (o.hosts && !getenv("OMPI_COMM_WORLD_SIZE"))
		return dist_launch(o.hosts, tiny_argc, tiny_argv);
	dist_init(&argc, &argv);
	if (dist.rank)
		tiny_quiet = 1;   /* rank 0 speaks for all */
	if (o.threads)
		la_set_threads((int)o.threads);
	else if (dist.K > 1) {
		/* the processes on one host share its cores: idle OpenMP threads
		 * spinning beside a rank's own would slow both down */
		const char *ls = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
		long local = ls ? strtol(ls, NULL, 10) : 1, cores = sysconf(_SC_NPROCESSORS_ONLN);
		la_set_threads(local > 0 && cores / local > 1 ? (int)(cores / local) : 1);
	}

	state_t st;
	memset(&st, 0, sizeof st);
	data_t d;
	memset(&d, 0, sizeof d);
	if (dist.rank == 0)
		setup(&o, &st, &d);
	if (dist.K > 1)
		share_setup(&o, &st, &d);
	int64_t V = d.V, N = d.N, B = o.batch, nb = (N + B - 1) / B, H = st.Hall;
	if (!o.threads && dist.K <= 1 && (double)V * H * B < SMALL_WORK)
		/* a small model is faster on one thread, and threads that wait
		 * for each other on busy cores would make it far slower */
		la_set_threads(1);
	if (dist.K > V || dist.K > H) {   /* every rank needs units of its own */
		if (dist.rank)   /* rank 0 says it; mpirun then stops the rest */
			for (;;)
				pause();
		die("%d processes for %" PRId64 " visible and %" PRId64 " hidden units: each needs at least one of each",
		    dist.K, V, H);
	}
	split_init(dist.K > 1 || o.scheme == 42, V, H, B);
	if (sp.on)
		split_state(&st, &o, V, H, st.m.gaussian);
	st.w_finite = 1;
	real *X = xmalloc_big((size_t)(B * V) * sizeof *X);

	work_t w;
	w.Z = xmalloc_big((size_t)(2 * B * V) * sizeof *w.Z);
	w.P = xmalloc_big((size_t)(2 * B * o.hidden > 0 ? 2 * B * st.m.H : 1) * sizeof *w.P);
	w.G = o.learn_sigma ? xmalloc_big((size_t)(2 * B * V) * sizeof *w.G) : NULL;
	w.h = xmalloc_big((size_t)(B * st.m.H) * sizeof *w.h);
	w.v = xmalloc_big((size_t)(B * V) * sizeof *w.v);
	w.X = X;
	w.row = xmalloc((size_t)B * sizeof *w.row);
	w.S = o.scheme == 42 ? xmalloc_big((size_t)(2 * B * H) * sizeof *w.S) : NULL;
	int64_t *perm = xmalloc((size_t)N * sizeof *perm);
	char shape[128] = "";
	for (int k = 0; k < d.x->rank; k++)
		snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%" PRId64, k ? "," : "", d.x->dims[k]);
	if (!d.x->rank)
		snprintf(shape, sizeof shape, "1");

	logrec_t *log = xcalloc((size_t)(o.epochs + 1), sizeof *log);
	int64_t nlog = 0, done_batches = 0, since_ck = 0, since_sync = 0;
	double last_ck = now_seconds(), t_start = now_seconds();
	int stopped = 0;
	if (!tiny_quiet)
		fprintf(stderr, "%s: V %" PRId64 " H %" PRId64 " %s visibles, N %" PRId64 ", %" PRId64
				" minibatches of %" PRId64 ", %s, %s\n",
			tiny_prog, V, H, st.m.gaussian ? "Gaussian" : "binary", N, nb, B, sizeof(real) == 8 ? "f64" : "f32",
			la_info());
	if (!tiny_quiet && sp.on)
		fprintf(stderr, "%s: %d process%s, scheme %s, rank 0 holds %" PRId64 " hidden units\n", tiny_prog, dist.K,
			dist.K > 1 ? "es" : "", o.scheme == 42 ? "4.2" : "4.5", st.m.H);
	for (; st.epoch < o.epochs && !stopped; st.epoch++, st.batch = 0) {
		for (int64_t k = 0; k < N; k++)
			perm[k] = k;
		rng_shuffle(perm, N, o.seed, STREAM_SHUFFLE + (uint64_t)st.epoch);
		double mom = st.epoch < o.m_epoch ? o.m0 : o.m1, err = 0, t0 = now_seconds();
		int64_t seen = 0;
		progress_t bar;
		progress_start(&bar, "epoch", (double)(nb - st.batch));
		for (; st.batch < nb; st.batch++) {
			int64_t first = st.batch * B, n = N - first < B ? N - first : B;
			if (n < B)
				first = N - B;   /* the last minibatch is full too: it ends at N */
			gather(&d, perm, first, B, X);
			for (int64_t b = 0; b < B && dist.rank == 0; b++)   /* rows in shuffled order: name the record */
				tf_check_finite_real(X + b * V, 1, V, perm[first + b], d.in->name, "x");
			if (o.pcd == 1 && st.epoch == 0 && st.batch == 0)
				memcpy(st.chains, X, (size_t)(B * V) * sizeof *X);
			if (o.pcd == 2) {
				memcpy(st.chains, X, (size_t)(B * V) * sizeof *X);
				o.pcd = 1;
			}
			uint64_t g = (uint64_t)(st.epoch * nb + st.batch);
			double e = o.comm_only ? minibatch_comm_only(&st, &o, &w, B)
				   : o.scheme == 42 ? minibatch_42(&st, &o, &w, B, g, mom) : minibatch(&st, &o, &w, B, g, mom);
			int ok = finite_state(&st, e);
			if (sp.on)
				ok = dist_all_ok(ok, DIST_SETUP);
			if (!ok && dist.rank)   /* rank 0 reports it; mpirun then stops the rest */
				for (;;)
					pause();
			if (!ok)
				die("epoch %" PRId64 " minibatch %" PRId64 ": NaN or infinity in the parameters "
				    "(learning rate too high?); %s", st.epoch, st.batch,
				    o.checkpoint ? "the last checkpoint is kept" : "no checkpoint was asked for");
			err += e;
			seen++;
			done_batches++;
			since_ck++;
			progress_update(&bar, (double)seen);
			int ck_due = o.ck_batches > 0 ? since_ck >= o.ck_batches
						      : (now_seconds() - last_ck) / 60 >= o.ck_minutes;
			if (o.checkpoint && o.ck_batches <= 0 && dist.K > 1)
				dist_bcast(&ck_due, sizeof ck_due, DIST_SETUP);   /* rank 0's clock decides */
			since_sync += B;
			if (o.scheme == 42 && dist.K > 1 && since_sync >= o.sync_every) {
				sync_weights(&st);
				since_sync = 0;
			}
			int stop = o.max_batches > 0 && done_batches >= o.max_batches;
			if (o.checkpoint && (ck_due || stop) && st.batch + 1 < nb) {
				st.batch++;
				save_any(&st, &o, &d, shape, o.checkpoint, 1);
				st.batch--;
				since_ck = 0;
				last_ck = now_seconds();
			}
			if (stop) {
				stopped = 1;
				st.batch++;
				break;
			}
		}
		progress_end(&bar);
		if (stopped && st.batch < nb) {
			if (!tiny_quiet)
				fprintf(stderr, "%s: stopped after %" PRId64 " minibatches, in epoch %" PRId64 "%s\n", tiny_prog,
					done_batches, st.epoch, o.checkpoint ? "; resume with --init the checkpoint" : "");
			break;
		}
		double secs = now_seconds() - t0;
		logrec_t *l = &log[nlog++];
		l->epoch = (int32_t)st.epoch;
		l->recon = (float)(seen ? err / seen : 0);
		l->rate = (float)(seen * B / (secs > 0 ? secs : 1e-9));
		l->smin = l->smax = st.m.sigma[0];
		double sm = 0;
		for (int64_t i = 0; i < V; i++) {
			l->smin = st.m.sigma[i] < l->smin ? st.m.sigma[i] : l->smin;
			l->smax = st.m.sigma[i] > l->smax ? st.m.sigma[i] : l->smax;
			sm += st.m.sigma[i];
		}
		l->smean = (float)(sm / V);
		if (!tiny_quiet) {
			fprintf(stderr, "%s: epoch %" PRId64 " recon %.6g  %.0f examples/s", tiny_prog, st.epoch, l->recon,
				l->rate);
			if (o.learn_sigma)
				fprintf(stderr, "  sigma %.4g/%.4g/%.4g", l->smin, l->smean, l->smax);
			fputc('\n', stderr);
		}
		if (o.checkpoint) {
			st.epoch++, st.batch = 0;
			save_any(&st, &o, &d, shape, o.checkpoint, 1);
			st.epoch--;
			since_ck = 0;
			last_ck = now_seconds();
		}
		if (o.log && dist.rank == 0)
			write_log(o.log, log, nlog, &d.in->h);
		if (stopped)
			break;
	}
	double secs = now_seconds() - t_start;
	save_any(&st, &o, &d, shape, NULL, 0);
	if (dist.K > 1) {
		/* the bytes of every rank: the minibatches' exchanges (Table 4.1),
		 * the weight synchronisations, the rest (data, state, checkpoints) */
		uint64_t sent[DIST_NCAT], recvd[DIST_NCAT];
		dist_totals(sent, recvd);
		double comm = dist_max_comm_seconds(), ex = (double)(done_batches * B);
		if (!tiny_quiet && dist.rank == 0) {
			uint64_t all = recvd[DIST_TRAIN] + recvd[DIST_SYNC] + recvd[DIST_SETUP];
			fprintf(stderr, "%s: bytes sent by all %d ranks: minibatches %" PRIu64 " (%.0f a minibatch, %.1f an example), "
					"weight sync %" PRIu64 ", setup and checkpoints %" PRIu64 "; received %" PRIu64 " in all\n",
				tiny_prog, dist.K, sent[DIST_TRAIN], done_batches ? (double)sent[DIST_TRAIN] / done_batches : 0,
				ex > 0 ? sent[DIST_TRAIN] / ex : 0, sent[DIST_SYNC], sent[DIST_SETUP], all);
			fprintf(stderr, "%s: communicating %.1f%% of %.3g s (the slowest rank's time in the minibatches' exchanges)\n",
				tiny_prog, secs > 0 ? 100 * comm / secs : 0, secs);
		}
	}
	dist_finalize();
	return 0;
}
