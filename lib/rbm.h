/*
 * rbm.h - an RBM model and its functions in one precision, RBM_REAL, with
 * names RBM(x): tiny.h reads it twice, for rbm_t (float) and rbm64_t
 * (double).  No include guard on purpose.  See lib/rbm.c.
 */
typedef struct {
	int64_t V, H;
	int gaussian;             /* visible units Gaussian (energy 1.8) or binary (1.1) */
	RBM_REAL *W;              /* (V,H) */
	RBM_REAL *vbias, *hbias;  /* (V), (H) */
	RBM_REAL *sigma;          /* (V); all 1 for binary visibles */
} RBM(t);

void RBM(alloc)(RBM(t) *m, int64_t V, int64_t H, int gaussian);  /* zeros, sigma 1 */
void RBM(free)(RBM(t) *m);
/* Read a model from an open stream (dies naming it if it is not an RBM),
 * converting its fields to RBM_REAL; *rec (if not NULL) gets the raw
 * record, for extra checkpoint fields. */
void RBM(load)(RBM(t) *m, sin_t *s, unsigned char **rec);
/* Add the fields W, vbias, hbias, sigma (count 1, attribute rbm_visible),
 * f32 or f64 as RBM_REAL. */
void RBM(fields)(const RBM(t) *m, theader *h);
void RBM(pack)(const RBM(t) *m, const theader *h, unsigned char *rec);
/* P (B,H) = p(h = 1 | X) for X (B,V); Xs (B,V) gets X / sigma. */
void RBM(hidden_probs)(const RBM(t) *m, const RBM_REAL *X, int64_t B, RBM_REAL *P, RBM_REAL *Xs);
/* Xs (B,V) = X / sigma, and P from an Xs already divided. */
void RBM(scale)(const RBM(t) *m, const RBM_REAL *X, int64_t B, RBM_REAL *Xs);
void RBM(hidden_scaled)(const RBM(t) *m, const RBM_REAL *Xs, int64_t B, RBM_REAL *P);
/* Binary visibles are probabilities: n rows X (n,V) of u8 data become
 * x / 255; float ones must lie in [0,1] (dies naming input and the record,
 * rec0 + row, otherwise). */
void RBM(binary_input)(RBM_REAL *X, int64_t n, int64_t V, int u8, int64_t rec0, const char *input);

/* --- training: CD-K and PCD (rbm.c; tiny-rbm-train's banner has the maths) -- */

/* A model in training: its parameters, their momenta, the persistent
 * chains and where the next minibatch is.  Split over processes
 * (tiny-rbm-train under mpirun, lib/rbm-split.c), m holds the hidden units
 * h0..h0+m.H of the whole layer, W (V,m.H). */
typedef struct {
	RBM(t) m;
	RBM_REAL *uW, *uvb, *uhb, *us;   /* momenta, shaped as W, vbias, hbias, sigma */
	RBM_REAL *chains;                /* (B,V) PCD chains, or NULL */
	int64_t epoch, batch;            /* where the next minibatch is */
	int64_t h0;
	int w_finite;                    /* W all finite after the last step */
} RBM(train_t);

/* The settings of a step: K Gibbs steps, the rates, the weight decay L,
 * the sparsity target p and its rate (0: none), and the seed of the random
 * streams. */
typedef struct {
	int64_t cd;
	int mean_visible, learn_sigma;
	double lr_w, lr_vb, lr_hb, lr_s, decay, sparsity, lr_sparsity;
	uint64_t seed;
} RBM(cd_t);

/* A step's scratch for minibatches of B (H: the hidden units of m). */
typedef struct {
	RBM_REAL *Z;    /* (2B,V): [X/s; v/s] */
	RBM_REAL *P;    /* (2B,H): [P0; P] then [P0; -P] */
	RBM_REAL *G;    /* (2B,V): [P0; P] W^T, for the sigma gradient (learn_sigma only) */
	RBM_REAL *h;    /* (B,H) hidden samples */
	RBM_REAL *v;    /* (B,V) visible samples */
	double *row;    /* (B) per-row sums */
} RBM(work_t);

/* What a step split over processes exchanges (lib/rbm-split.c gives them;
 * NULL: one process holds the whole model).  sample_visible: v (B,V)
 * holds this process's share h W^T of the visible inputs; it leaves in v
 * every visible unit sampled, as RBM(sample_visible) on all of them would.
 * sum_visible: A (rows,V), a partial sum on each process, becomes the
 * whole sum on every one. */
typedef struct {
	void (*sample_visible)(const RBM(t) *m, RBM_REAL *v, int64_t B, uint64_t seed, uint64_t g, int step,
			       int mean);
	void (*sum_visible)(RBM_REAL *A, int64_t rows, int64_t V);
} RBM(split_t);

/* The momenta (zero) and, with pcd, the chains (zero) of s->m; B rows. */
void RBM(train_alloc)(RBM(train_t) *s, int64_t B, int pcd);
void RBM(work_alloc)(RBM(work_t) *w, int64_t V, int64_t H, int64_t B, int learn_sigma);
/* h (B,H) ~ P (B,H), step `step` of global minibatch g: hidden units
 * skip..skip+H of the layer (each row's stream draws one uniform per unit
 * from unit 0, whoever samples it). */
void RBM(sample_hidden)(const RBM_REAL *P, int64_t B, int64_t H, uint64_t seed, uint64_t g, int step, int64_t skip,
			RBM_REAL *h);
/* The visible units v0..v0+n sampled in place from their inputs A = h W^T
 * (B,n) (all of them: v0 0, n V); with mean, Gaussian units get their
 * means.  Each row's stream first skips the draws of the units before v0
 * (one uniform for a binary unit, two for a Gaussian sample, none for a
 * mean). */
void RBM(sample_visible)(const RBM(t) *m, RBM_REAL *A, int64_t B, int64_t n, int64_t v0, uint64_t seed, uint64_t g,
			 int step, int mean);
/* W += u (n values); 1 if a weight stopped being finite (one pass, not two). */
int RBM(add_step)(RBM_REAL *W, const RBM_REAL *u, int64_t n);
/* One CD-K (or, with s->chains, PCD) minibatch X (B,V), global minibatch
 * g, momentum mom; split as the hooks say (NULL: not split).  Returns the
 * reconstruction error: the mean over the rows of the squared distance of
 * the data's sampled one-step reconstruction from the data. */
double RBM(cd_step)(RBM(train_t) *s, const RBM(cd_t) *o, RBM(work_t) *w, const RBM_REAL *X, int64_t B, uint64_t g,
		    double mom, const RBM(split_t) *split);
/* 0 on any NaN or infinity in the parameters (W as the last step found
 * it, w_finite) or in recon. */
int RBM(train_finite)(const RBM(train_t) *s, double recon);
