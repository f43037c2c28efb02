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
