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
 * Every epoch it prints one line ("epoch 3/40", counted from 1, the
 * reconstruction error: mean squared
 * distance of a sampled one-step reconstruction from the data, section
 * 1.4.4; examples per second; sigma min/mean/max when learned), and --log
 * FILE keeps those figures as a stream.  --checkpoint FILE saves the model
 * with its momenta, chains and position, atomically, at each epoch end and
 * every --checkpoint-every (minutes "m" or minibatches "b"), with the log
 * so far and the unfinished epoch's error sum (attributes train_log,
 * train_partial).  A run that finds its --checkpoint FILE already there
 * resumes it, with the same result and --log as an uninterrupted run, so
 * that a make rule re-run after Ctrl-C goes on where it stopped; it first
 * checks that FILE is a checkpoint of the same run (train_start: the
 * --init it started from or "fresh"; train_data: the records' count, size
 * and hash; train_settings; the hidden units; the seed; a position within
 * --epochs) and otherwise stops in one line naming the difference.
 * --init FILE --checkpoint FILE (the same file) resumes without those
 * checks, so settings may change on the way; --init of a checkpoint goes on
 * from its position.  SIGINT and SIGTERM end the minibatch under way,
 * write the checkpoint and stop (exit 128 + the signal) saying how to
 * resume; under mpirun they stop the run as before.  A NaN or infinity
 * stops the run naming the epoch and minibatch, leaving the last
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
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <omp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dist.h"
#include "tiny.h"
#include "real.h"
#include "rbm-split.h"

/* The file is compiled twice (Makefile): as it is, computing in f32, and
 * with -DRBM_F64 in f64, its main then named rbm_train_f64, which main
 * calls for --f64.  real is the precision of the model, the momenta, the
 * chains and every product (lib/real.h); the models and checkpoints
 * written hold it.  The step is lib/rbm.c's (RBM(cd_step)), the split over
 * processes lib/rbm-split.c's, both compiled twice too: this file reads
 * the data, sets the state up, and runs the epochs and checkpoints. */
#ifdef RBM_F64
#define main rbm_train_f64
#else
int rbm_train_f64(int argc, char **argv);
#endif

static const char *usage_line =
	"tiny-rbm-train [-q] [--hidden H] [--seed S] [--init MODEL] [--visible gaussian|binary] "
	"[--sigma S|data] [--learn-sigma] [--epochs E] [--batch B] [--cd K] [--pcd] [--mean-visible] [--lr-w R] [--lr-vbias R] "
	"[--lr-hbias R] [--lr-sigma R] [--momentum M0[,M1@EPOCH]] [--decay L] [--sparsity P [--sparsity-rate R]] [--checkpoint FILE] "
	"[--checkpoint-every 10m|50b] [--max-batches N] [--log FILE] [--threads N] [--scheme 4.5|4.2] "
	"[--sync-every N] [--hosts A,B,..] [--comm-only] [--f64] [--data FILE | FILE]";

#define STREAM_INIT    ((uint64_t)1 << 61)
#define STREAM_SHUFFLE ((uint64_t)1 << 62)
#define SMALL_WORK     4e6     /* V H B below this: one thread unless --threads */

typedef struct {
	int64_t hidden, epochs, batch, cd, max_batches, threads, ck_batches;
	double ck_minutes;
	uint64_t seed;
	int have_seed, visible, learn_sigma, pcd, sigma_from_data, mean_visible, comm_only, f64;
	double sigma, lr_w, lr_vb, lr_hb, lr_s, m0, m1, decay, sparsity, lr_sparsity;
	int64_t m_epoch;
	int scheme;                   /* 45 or 42: section 4.5 or 4.2 of the report */
	int64_t sync_every;           /* 4.2: examples between weight synchronisations */
	const char *init, *checkpoint, *log, *data, *input, *hosts;
	/* settled by the setup: where a fresh run starts (--init or "fresh"),
	 * whether --checkpoint's file is being resumed, the data's identity,
	 * and the resumed checkpoint's log and unfinished epoch */
	const char *start;
	int resume;                  /* 1: found, checked; 2: named by --init too */
	char data_id[96];
	char *resume_log;
	double resume_err;
	int64_t resume_seen;
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

/* --- the model and checkpoints ------------------------------------------------- */

/* The settings that decide a run's steps, as its train_settings attribute:
 * a checkpoint is resumed only by a run with the same ones. */
static void settings(const opts_t *o, char *buf, size_t n)
{
	snprintf(buf, n,
		 "cd %" PRId64 "%s batch %" PRId64 " lr_w %g lr_vbias %g lr_hbias %g lr_sigma %g momentum %g,%g@%" PRId64
		 " decay %g sigma %s%s",
		 o->cd, o->pcd ? " pcd" : "", o->batch, o->lr_w, o->lr_vb, o->lr_hb, o->lr_s, o->m0, o->m1, o->m_epoch,
		 o->decay, o->learn_sigma ? "learned" : "fixed", sizeof(real) == 8 ? " f64" : "");
	if (o->sparsity > 0)
		snprintf(buf + strlen(buf), n - strlen(buf), " sparsity %g rate %g", o->sparsity, o->lr_sparsity);
}

typedef struct {
	int32_t epoch;
	float recon, rate, smin, smean, smax;
} logrec_t;

/* The checkpoint (and final model) header: the model, then the state;
 * a checkpoint also carries what a resumed run needs to go on as if never
 * stopped: the log so far, the unfinished epoch's error sum, where the
 * run started and the data's identity. */
static void state_header(const RBM(train_t) *s, const opts_t *o, const theader *data_h, const char *shape, theader *h,
			 int with_state, const logrec_t *log, int64_t nlog, double err, int64_t seen)
{
	th_copy(h, data_h);
	while (h->nfields)
		th_remove_field(h, 0);
	origin_record(h, data_h);
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
	settings(o, buf, sizeof buf);
	th_attr_set(h, "train_settings", buf);
	if (with_state) {
		th_attr_set(h, "train_start", o->start);
		th_attr_set(h, "train_data", o->data_id);
		/* "EPOCH RECON RATE SMIN SMEAN SMAX; ..." exactly (%.9g) */
		size_t cap = 80 * (size_t)(nlog + 1), len = 0;
		char *l = xmalloc(cap);
		l[0] = 0;
		for (int64_t k = 0; k < nlog; k++)
			len += (size_t)snprintf(l + len, cap - len, "%s%d %.9g %.9g %.9g %.9g %.9g", k ? "; " : "",
						log[k].epoch, log[k].recon, log[k].rate, log[k].smin, log[k].smean,
						log[k].smax);
		th_attr_set(h, "train_log", l);
		free(l);
		snprintf(buf, sizeof buf, "%.17g %" PRId64, err, seen);
		th_attr_set(h, "train_partial", buf);
	}
	th_add_history(h);
}

static void save(const RBM(train_t) *s, const opts_t *o, const theader *data_h, const char *shape, const char *path,
		 int with_state, const logrec_t *log, int64_t nlog, double err, int64_t seen)
{
	theader h;
	state_header(s, o, data_h, shape, &h, with_state, log, nlog, err, seen);
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

/* --- the log ------------------------------------------------------------------------- */

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
/* A checkpoint's momentum field: present, f32 or f64, and of exactly the
 * shape (d0) or (d0,d1) of the model's parameter it belongs to. */
static const tfield *state_field(const sin_t *ini, const char *name, int rank, int64_t d0, int64_t d1)
{
	return model_field(ini, "checkpoint of this RBM", name, -1, rank, (int64_t[]){d0, d1}, NULL);
}

/* A checkpoint's position attribute (train_epoch, train_batch): absent is
 * 0, anything but a number 0..2^62 an error naming the checkpoint. */
static int64_t position(const sin_t *ini, const char *key)
{
	const char *a = th_attr(&ini->h, key);
	if (!a)
		return 0;
	char *end;
	errno = 0;
	long long v = strtoll(a, &end, 10);
	if (end == a || *end || errno || v < 0 || v > ((int64_t)1 << 62))
		die("%s: attribute %s '%s' is not a position (a number from 0)", ini->name, key, a);
	return v;
}

/* The data's identity for train_data: its records, x's shape and a 64-bit
 * hash of every byte (one pass, a few tenths of a second for CIFAR-10). */
static void data_identity(const data_t *d, char *buf, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15u, w;
	size_t len = (size_t)(d->N * d->R), k = 0;
	for (; k + 8 <= len; k += 8) {
		memcpy(&w, d->recs + k, 8);
		h = (h ^ w) * 0x100000001b3u;
		h ^= h >> 29;
	}
	for (; k < len; k++)
		h = (h ^ d->recs[k]) * 0x100000001b3u;
	snprintf(buf, n, "%" PRId64 " records of %" PRId64 " bytes, hash %016" PRIx64, d->N, d->R, h);
}

/* --checkpoint's file, found at the start: resumed only if it is a
 * checkpoint of this same run (the start, the data, the settings, the
 * hidden units, the seed), else one line naming what differs. */
static void check_resume(const opts_t *o, const sin_t *ini, const RBM(train_t) *st, int64_t epoch)
{
	char mine[512];
	settings(o, mine, sizeof mine);
	const char *keys[] = {"train_start", "train_data", "train_settings"};
	const char *want[] = {o->start, o->data_id, mine};
	if (th_find(&ini->h, "uW") < 0)
		die("%s: --checkpoint names a file that is not a checkpoint; remove it or name another", ini->name);
	for (int k = 0; k < 3; k++) {
		const char *a = th_attr(&ini->h, keys[k]);
		if (!a || strcmp(a, want[k]))
			die("%s: a checkpoint of another run (its %s '%s', this run's '%s'); remove it to start afresh",
			    ini->name, keys[k], a ? a : "(none)", want[k]);
	}
	if (!strcmp(o->start, "fresh") && st->m.H != o->hidden)
		die("%s: a checkpoint of another run (%" PRId64 " hidden units, this run's %" PRId64
		    "); remove it to start afresh", ini->name, st->m.H, o->hidden);
	const char *seed = th_attr(&ini->h, "train_seed");
	if (o->have_seed && (!seed || strtoull(seed, NULL, 10) != o->seed))
		die("%s: a checkpoint of another run (its seed %s, this run's %" PRIu64 "); remove it to start afresh",
		    ini->name, seed ? seed : "(none)", o->seed);
	if (epoch > o->epochs)
		die("%s: a checkpoint at epoch %" PRId64 ", past this run's --epochs %" PRId64
		    "; remove it to start afresh, or ask for more epochs", ini->name, epoch, o->epochs);
}

static void setup(opts_t *o, RBM(train_t) *st, data_t *d)
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
	if (o->checkpoint)
		data_identity(d, o->data_id, sizeof o->data_id);
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
		/* sigma 1 fits whitened data (standard deviation about 1); on raw
		 * pixels (about 64) the hidden units saturate: say so */
		if (!o->init && st->m.gaussian && o->sigma <= 0 && !o->sigma_from_data && (sd > 3 || sd < 1.0 / 3))
			warn("%s: the data's average standard deviation is %.3g, far from the default --sigma 1 "
			     "(meant for whitened data): the hidden units will saturate or stay linear; "
			     "give --sigma data, or whiten the data first (tiny-zca)", d->in->name, sd);
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
	RBM(train_alloc)(st, B, o->pcd);
	int64_t nb = (N + B - 1) / B;
	if (ini) {
		const theader *h = &ini->h;
		int64_t H = st->m.H;
		if (o->resume == 1)
			check_resume(o, ini, st, position(ini, "train_epoch"));
		if (th_find(h, "uW") >= 0) {
			/* every momentum checked against the model before any is read */
			const tfield *fu[4] = {state_field(ini, "uW", 2, V, H), state_field(ini, "uvbias", 1, V, 0),
					       state_field(ini, "uhbias", 1, H, 0), state_field(ini, "usigma", 1, V, 0)};
			int64_t epoch = position(ini, "train_epoch"), batch = position(ini, "train_batch");
			tf_get_real(fu[0], initrec, 1, h->recsize, st->uW);
			tf_get_real(fu[1], initrec, 1, h->recsize, st->uvb);
			tf_get_real(fu[2], initrec, 1, h->recsize, st->uhb);
			tf_get_real(fu[3], initrec, 1, h->recsize, st->us);
			int ch = th_find(h, "chains");
			if (o->pcd && ch >= 0 && h->fields[ch].n == B * V)
				tf_get_real(&h->fields[ch], initrec, 1, h->recsize, st->chains);
			else if (o->pcd)
				o->pcd = 2;   /* chains start from the data below */
			st->epoch = epoch;
			st->batch = batch;
			if (st->batch >= nb)
				st->epoch++, st->batch = 0;
			/* the run goes on: its log so far and its unfinished epoch */
			const char *l = th_attr(h, "train_log"), *p = th_attr(h, "train_partial"),
				   *s0 = th_attr(h, "train_start");
			o->resume_log = xstrdup(l ? l : "");
			if (!p || sscanf(p, "%lg %" SCNd64, &o->resume_err, &o->resume_seen) != 2 || st->batch == 0)
				o->resume_err = 0, o->resume_seen = 0;
			if (o->resume == 2 && s0)
				o->start = xstrdup(s0);
			if (o->resume) {
				if (!tiny_quiet)
					fprintf(stderr, "%s: resuming %s at epoch %" PRId64 ", minibatch %" PRId64 "\n", tiny_prog,
						ini->name, st->epoch, st->batch);
			}
		}
		free(initrec);
		sin_close(ini);
	}
	free(X);
}

/* What rank 0's setup settled, to the other ranks: the options, the
 * model's shape and position, and the data (the records themselves unless
 * every rank reads --data FILE on its own host).  The state itself follows
 * in RBM(split_state). */
static void share_setup(opts_t *o, RBM(train_t) *st, data_t *d)
{
	opts_t mine = *o;   /* the strings stay this process's own */
	dist_bcast(o, sizeof *o, DIST_SETUP);
	o->init = mine.init, o->checkpoint = mine.checkpoint, o->log = mine.log, o->data = mine.data;
	o->start = mine.start, o->resume_log = mine.resume_log;   /* NULL but on rank 0 */
	o->input = mine.input, o->hosts = mine.hosts;
	int64_t v[8] = {d->N, d->R, d->V, st->m.H, st->m.gaussian, st->epoch, st->batch, 0};
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
	st->m.V = v[2], st->m.H = v[3], st->m.gaussian = (int)v[4], st->epoch = v[5], st->batch = v[6];
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

/* --- the options ------------------------------------------------------------------------ */

static void parse(int argc, char **argv, opts_t *o)
{
	static const struct option longopts[] = {
		{"hidden", required_argument, 0, 'H'}, {"seed", required_argument, 0, 's'},
		{"init", required_argument, 0, 'i'}, {"visible", required_argument, 0, 'V'},
		{"sigma", required_argument, 0, 'S'}, {"learn-sigma", no_argument, 0, 'L'},
		{"epochs", required_argument, 0, 'e'}, {"batch", required_argument, 0, 'b'},
		{"cd", required_argument, 0, 'k'}, {"pcd", no_argument, 0, 'P'},
		{"mean-visible", no_argument, 0, 'M'}, {"lr-w", required_argument, 0, 'w'}, {"lr-vbias", required_argument, 0, 'v'},
		{"lr-hbias", required_argument, 0, 'h' + 256}, {"lr-sigma", required_argument, 0, 'g'},
		{"momentum", required_argument, 0, 'm'}, {"decay", required_argument, 0, 'd'},
		{"checkpoint", required_argument, 0, 'c'}, {"checkpoint-every", required_argument, 0, 'C'},
		{"max-batches", required_argument, 0, 'x'}, {"log", required_argument, 0, 'l'},
		{"threads", required_argument, 0, 't'}, {"data", required_argument, 0, 'D'},
		{"scheme", required_argument, 0, 'X'}, {"sync-every", required_argument, 0, 'Y'},
		{"hosts", required_argument, 0, 'O'}, {"comm-only", no_argument, 0, 'Z'}, {"f64", no_argument, 0, 'F'},
		{"sparsity", required_argument, 0, 'p' + 256}, {"sparsity-rate", required_argument, 0, 'r' + 256},
		{"quiet", no_argument, 0, 'q'}, {0}};
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
		case 'h' + 256: o->lr_hb = opt_f64("--lr-hbias", optarg, 0, 1e6); break;
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
		case 'p' + 256: o->sparsity = opt_f64("--sparsity", optarg, 1e-6, 1 - 1e-6); break;
		case 'r' + 256: o->lr_sparsity = opt_f64("--sparsity-rate", optarg, 0, 1e6); break;
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
		default: usage();
		}
	}
	if (argc - optind > 1 || (o->data && argc - optind > 0))
		usage_error("expected at most one input: FILE or --data FILE");
	o->input = optind < argc ? argv[optind] : NULL;
	/* a run that finds its --checkpoint file resumes it (checked in setup) */
	o->start = o->init ? o->init : "fresh";
	if (o->checkpoint && access(o->checkpoint, F_OK) == 0) {
		o->resume = o->init && !strcmp(o->init, o->checkpoint) ? 2 : 1;   /* 2: asked for by --init */
		o->init = o->checkpoint;
	}
	if (o->lr_vb < 0)
		o->lr_vb = o->lr_w;
	if (o->lr_hb < 0)
		o->lr_hb = o->lr_w;
	if (o->lr_s < 0)
		o->lr_s = o->lr_w / 100;   /* the report: 100 to 1000 times smaller */
	if (o->lr_sparsity > 0 && !o->sparsity)
		usage_error("--sparsity-rate goes with --sparsity P");
	if (o->sparsity > 0 && o->lr_sparsity <= 0)
		o->lr_sparsity = o->lr_hb;
	if (o->sigma > 0 && o->sigma_from_data)
		usage_error("--sigma takes a number or 'data'");
	if (o->comm_only && o->scheme == 45 && !getenv("OMPI_COMM_WORLD_SIZE"))
		usage_error("--comm-only needs mpirun or --scheme 4.2: a single process exchanges nothing");
	if (o->scheme == 42 && o->sparsity > 0)
		usage_error("--scheme 4.2 has no --sparsity");
	if (o->scheme == 42 && (o->cd != 1 || o->pcd || o->learn_sigma))
		usage_error("--scheme 4.2 is CD-1 (section 4.2): no --cd %" PRId64 "%s%s", o->cd, o->pcd ? ", --pcd" : "",
			    o->learn_sigma ? ", --learn-sigma" : "");
}

/* --- the run ---------------------------------------------------------------------------- */

typedef struct {
	opts_t o;
	data_t d;
	RBM(train_t) st;
	RBM(cd_t) cd;                /* the step's settings, from o */
	RBM(work_t) w;
	const RBM(split_t) *split;   /* scheme 4.5's exchanges, or NULL */
	real *X;                     /* (B,V) the minibatch */
	int64_t *perm;               /* (N) the epoch's order */
	int64_t N, V, B, nb;         /* nb minibatches an epoch */
	char shape[128];             /* the data's x dimensions, for the model */
	logrec_t *log;
	int64_t nlog, done_batches, since_ck, since_sync;
	double last_ck;
	double err;                  /* the epoch's summed error over seen minibatches */
	int64_t seen;
} run_t;

/* SIGINT or SIGTERM, caught in a single-process run: the minibatch under
 * way ends, the checkpoint is written, and the run stops. */
static volatile sig_atomic_t stop_signal;
static void on_stop(int sig)
{
	stop_signal = sig;
}

/* A checkpoint (with_state) or the model (path NULL: stdout, W checked
 * finite first), by rank 0; split, every rank takes part. */
static void save_any(const run_t *r, const char *path, int with_state)
{
	RBM(train_t) full;
	int on = RBM(split_on)();
	if (on)
		RBM(unsplit)(&r->st, with_state, &full);
	const RBM(train_t) *w = on ? &full : &r->st;
	if (dist.rank == 0) {
		if (!with_state)
			tf_check_finite_real(w->m.W, 1, w->m.V * w->m.H, 0, "the trained model", "W");
		save(w, &r->o, &r->d.in->h, r->shape, path, with_state, r->log, r->nlog, r->err, r->seen);
	}
	if (on)
		RBM(unsplit_free)(&full);
}

/* --checkpoint at the state's position */
static void checkpoint(run_t *r)
{
	save_any(r, r->o.checkpoint, 1);
	r->since_ck = 0;
	r->last_ck = now_seconds();
}

/* The data and the starting state on every rank (split), the threads, and
 * the buffers; says what it will train. */
static void start(run_t *r)
{
	opts_t *o = &r->o;
	if (dist.rank)
		tiny_quiet = 1;   /* rank 0 speaks for all */
	if (o->threads)
		la_set_threads((int)o->threads);
	else if (dist.K > 1) {
		/* the processes on one host share its cores: idle OpenMP threads
		 * spinning beside a rank's own would slow both down */
		const char *ls = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
		long local = ls ? strtol(ls, NULL, 10) : 1, cores = sysconf(_SC_NPROCESSORS_ONLN);
		la_set_threads(local > 0 && cores / local > 1 ? (int)(cores / local) : 1);
	}
	if (dist.rank == 0)
		setup(o, &r->st, &r->d);
	if (dist.K > 1)
		share_setup(o, &r->st, &r->d);
	r->V = r->d.V, r->N = r->d.N, r->B = o->batch, r->nb = (r->N + r->B - 1) / r->B;
	int64_t V = r->V, N = r->N, B = r->B, H = r->st.m.H;
	if (!o->threads && dist.K <= 1 && (double)V * H * B < SMALL_WORK)
		/* a small model is faster on one thread, and threads that wait
		 * for each other on busy cores would make it far slower */
		la_set_threads(1);
	RBM(split_init)(o->scheme, V, H, B);
	if (RBM(split_on)())
		RBM(split_state)(&r->st, o->pcd != 0, B);
	r->split = RBM(split_hooks)();
	r->st.w_finite = 1;
	r->cd = (RBM(cd_t)){.cd = o->cd, .mean_visible = o->mean_visible, .learn_sigma = o->learn_sigma,
			    .lr_w = o->lr_w, .lr_vb = o->lr_vb, .lr_hb = o->lr_hb, .lr_s = o->lr_s, .decay = o->decay,
			    .sparsity = o->sparsity, .lr_sparsity = o->lr_sparsity,
			    .seed = o->seed};
	r->X = xmalloc_big((size_t)(B * V) * sizeof *r->X);
	RBM(work_alloc)(&r->w, V, r->st.m.H, B, o->learn_sigma);
	r->perm = xmalloc((size_t)N * sizeof *r->perm);
	const tfield *x = r->d.x;
	for (int k = 0; k < x->rank; k++)
		snprintf(r->shape + strlen(r->shape), sizeof r->shape - strlen(r->shape), "%s%" PRId64, k ? "," : "",
			 x->dims[k]);
	if (!x->rank)
		snprintf(r->shape, sizeof r->shape, "1");
	r->log = xcalloc((size_t)(o->epochs + 1), sizeof *r->log);
	/* a resumed run's log and unfinished epoch, from its checkpoint */
	for (char *p = o->resume_log, *end; p && *p && r->nlog <= o->epochs; p = end + (*end == ';')) {
		logrec_t *l = &r->log[r->nlog];
		l->epoch = (int32_t)strtol(p, &end, 10);
		float *f[] = {&l->recon, &l->rate, &l->smin, &l->smean, &l->smax};
		for (int k = 0; k < 5 && end != p; k++)
			*f[k] = strtof(p = end, &end);
		if (end == p || (*end && *end != ';'))
			die("%s: attribute train_log is not a log", o->checkpoint);
		r->nlog++;
	}
	r->err = o->resume_err, r->seen = o->resume_seen;
	r->last_ck = now_seconds();
	if (!tiny_quiet)
		fprintf(stderr, "%s: V %" PRId64 " H %" PRId64 " %s visibles, N %" PRId64 ", %" PRId64
				" minibatches of %" PRId64 ", %s, %s\n",
			tiny_prog, V, H, r->st.m.gaussian ? "Gaussian" : "binary", N, r->nb, B,
			sizeof(real) == 8 ? "f64" : "f32", la_info());
	if (!tiny_quiet && RBM(split_on)())
		fprintf(stderr, "%s: %d process%s, scheme %s, rank 0 holds %" PRId64 " hidden units\n", tiny_prog, dist.K,
			dist.K > 1 ? "es" : "", o->scheme == 42 ? "4.2" : "4.5", r->st.m.H);
}

/* Minibatch st.batch of the epoch in perm's order (the last one is full
 * too: it ends at N): the step, then the check that every rank's
 * parameters stayed finite.  Returns the reconstruction error. */
static double minibatch(run_t *r, double mom)
{
	opts_t *o = &r->o;
	RBM(train_t) *st = &r->st;
	int64_t N = r->N, B = r->B, V = r->V, first = st->batch * B, n = N - first < B ? N - first : B;
	if (n < B)
		first = N - B;
	gather(&r->d, r->perm, first, B, r->X);
	for (int64_t b = 0; b < B && dist.rank == 0; b++)   /* rows in shuffled order: name the record */
		tf_check_finite_real(r->X + b * V, 1, V, r->perm[first + b], r->d.in->name, "x");
	if (o->pcd == 1 && st->epoch == 0 && st->batch == 0)
		memcpy(st->chains, r->X, (size_t)(B * V) * sizeof *r->X);
	if (o->pcd == 2) {
		memcpy(st->chains, r->X, (size_t)(B * V) * sizeof *r->X);
		o->pcd = 1;
	}
	uint64_t g = (uint64_t)(st->epoch * r->nb + st->batch);
	double e = o->comm_only ? RBM(split_comm_only)(st, &r->cd, &r->w, B)
		   : o->scheme == 42 ? RBM(split_step_42)(st, &r->cd, &r->w, r->X, B, g, mom)
				     : RBM(cd_step)(st, &r->cd, &r->w, r->X, B, g, mom, r->split);
	int ok = RBM(train_finite)(st, e);
	if (RBM(split_on)())
		ok = dist_all_ok(ok, DIST_SETUP);
	if (!ok && dist.rank)   /* rank 0 reports it; mpirun then stops the rest */
		for (;;)
			pause();
	if (!ok)
		die("epoch %" PRId64 " minibatch %" PRId64 ": NaN or infinity in the parameters "
		    "(learning rate too high?); %s", st->epoch, st->batch,
		    o->checkpoint ? "the last checkpoint is kept" : "no checkpoint was asked for");
	return e;
}

/* After a minibatch: scheme 4.2's weight synchronisation when due, and a
 * checkpoint when due or stopping mid-epoch.  Returns 1 when --max-batches
 * says stop. */
static int after_minibatch(run_t *r)
{
	const opts_t *o = &r->o;
	RBM(train_t) *st = &r->st;
	r->done_batches++;
	r->since_ck++;
	int ck_due = o->ck_batches > 0 ? r->since_ck >= o->ck_batches : (now_seconds() - r->last_ck) / 60 >= o->ck_minutes;
	if (o->checkpoint && o->ck_batches <= 0 && dist.K > 1)
		dist_bcast(&ck_due, sizeof ck_due, DIST_SETUP);   /* rank 0's clock decides */
	r->since_sync += r->B;
	if (o->scheme == 42 && dist.K > 1 && r->since_sync >= o->sync_every) {
		RBM(split_sync)(st);
		r->since_sync = 0;
	}
	int stop = (o->max_batches > 0 && r->done_batches >= o->max_batches) || stop_signal;
	if (o->checkpoint && (ck_due || stop) && st->batch + 1 < r->nb) {
		st->batch++;   /* the checkpoint holds the next minibatch's place */
		checkpoint(r);
		st->batch--;
	}
	return stop;
}

/* The end of an epoch, here minibatches of it in secs by this process:
 * its log record and line, the checkpoint, the --log file. */
static void end_epoch(run_t *r, int64_t here, double secs)
{
	const opts_t *o = &r->o;
	RBM(train_t) *st = &r->st;
	int64_t V = r->V;
	logrec_t *l = &r->log[r->nlog++];
	l->epoch = (int32_t)st->epoch;
	l->recon = (float)(r->seen ? r->err / r->seen : 0);
	l->rate = (float)(here * r->B / (secs > 0 ? secs : 1e-9));
	r->err = 0, r->seen = 0;
	l->smin = l->smax = st->m.sigma[0];
	double sm = 0;
	for (int64_t i = 0; i < V; i++) {
		l->smin = st->m.sigma[i] < l->smin ? st->m.sigma[i] : l->smin;
		l->smax = st->m.sigma[i] > l->smax ? st->m.sigma[i] : l->smax;
		sm += st->m.sigma[i];
	}
	l->smean = (float)(sm / V);
	if (!tiny_quiet) {
		/* counted from 1 here, "epoch 3/40"; from 0 in the log and the checkpoint */
		fprintf(stderr, "%s: epoch %" PRId64 "/%" PRId64 " recon %.6g  %.0f examples/s", tiny_prog,
			st->epoch + 1, o->epochs, l->recon, l->rate);
		if (st->epoch + 1 < o->epochs)
			fprintf(stderr, "  %.0fs left", (double)(o->epochs - st->epoch - 1) * r->nb * r->B / l->rate);
		if (o->learn_sigma)
			fprintf(stderr, "  sigma %.4g/%.4g/%.4g", l->smin, l->smean, l->smax);
		fputc('\n', stderr);
	}
	if (o->checkpoint) {
		st->epoch++, st->batch = 0;
		checkpoint(r);
		st->epoch--;
	}
	if (o->log && dist.rank == 0)
		write_log(o->log, r->log, r->nlog, &r->d.in->h);
}

int main(int argc, char **argv)
{
	run_t r;
	memset(&r, 0, sizeof r);
	tiny_init(argc, argv, usage_line);
	parse(argc, argv, &r.o);
#ifndef RBM_F64
	if (r.o.f64) {   /* the same program, compiled in double precision */
		optind = 0;
		return rbm_train_f64(tiny_argc, tiny_argv);
	}
#endif
	if (r.o.hosts && !getenv("OMPI_COMM_WORLD_SIZE"))
		return dist_launch(r.o.hosts, tiny_argc, tiny_argv);
	dist_init(&argc, &argv);
	start(&r);
	const opts_t *o = &r.o;
	RBM(train_t) *st = &r.st;
	double t_start = now_seconds();
	int stopped = 0;
	if (dist.K <= 1) {
		struct sigaction sa = {.sa_handler = on_stop};
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	for (; st->epoch < o->epochs && !stopped; st->epoch++, st->batch = 0) {
		for (int64_t k = 0; k < r.N; k++)
			r.perm[k] = k;
		rng_shuffle(r.perm, r.N, o->seed, STREAM_SHUFFLE + (uint64_t)st->epoch);
		double mom = st->epoch < o->m_epoch ? o->m0 : o->m1, t0 = now_seconds();
		int64_t here = 0;
		progress_t bar;
		char what[64];
		snprintf(what, sizeof what, "epoch %" PRId64 "/%" PRId64, st->epoch + 1, o->epochs);
		progress_start(&bar, what, (double)(r.nb - st->batch));
		for (; st->batch < r.nb; st->batch++) {
			r.err += minibatch(&r, mom);
			r.seen++;
			progress_update(&bar, (double)++here);
			if ((stopped = after_minibatch(&r))) {
				st->batch++;
				break;
			}
		}
		progress_end(&bar);
		if (stopped && st->batch < r.nb)
			break;
		end_epoch(&r, here, now_seconds() - t0);
		if (stopped)   /* at an epoch's end: the position stays in it */
			break;
	}
	if (stopped) {
		int64_t e = st->batch < r.nb ? st->epoch : st->epoch + 1, b = st->batch < r.nb ? st->batch : 0;
		char why[64];
		if (stop_signal)
			snprintf(why, sizeof why, "by %s", stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
		else
			snprintf(why, sizeof why, "after %" PRId64 " minibatches", r.done_batches);
		if (!tiny_quiet || stop_signal)
			fprintf(stderr, "%s: stopped %s, at epoch %" PRId64 " minibatch %" PRId64 "; %s\n", tiny_prog, why, e,
				b, o->checkpoint ? "run the same command again to resume from the checkpoint"
						 : "nothing kept (no --checkpoint)");
		if (stop_signal)
			exit(128 + stop_signal);
	}
	double secs = now_seconds() - t_start;
	save_any(&r, NULL, 0);
	RBM(split_report)(r.done_batches, r.B, secs);
	dist_finalize();
	return 0;
}
