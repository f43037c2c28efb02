/*
 * tiny-backprop - a feed-forward net with one or two hidden layers of
 * logistic units and a softmax output, trained by backpropagation
 * (Appendix B of the report) and initialised from RBMs and a logistic
 * regression on their features (section 3.2).
 *
 * usage: tiny-backprop --train [-q] [--hidden H1[,H2]] [--init-rbm RBM1[,RBM2]]
 *          [--init-logreg LOGREG] [--lr R] [--lr-input R] [--standardize] [--centre yes|no]
 *          [--l2 L] [--l2-input L] [--valid FRACTION [--refit]] [--seed S] [--log FILE] [--epochs E] [--batch B] [--momentum M]
 *          [--schedule plateau|step|cosine|constant] [--lr-factor F] [--lr-patience P]
 *          [--lr-step S] [--max-cuts C] [--patience P] [--target-loss L]
 *          [--checkpoint FILE [--stop-after E]] [FILE]
 *        tiny-backprop [-q] MODEL [FILE]
 *
 * Shapes: N records, D values of x per record (any dtype and shape,
 * flattened), H1, H2 hidden units, K classes, B records in a minibatch.
 * With one hidden layer, for a minibatch X (B,D), logistic f:
 *
 *   A1 = f(X W1 + 1 b1^T)              (B,H1)   W1 (D,H1)
 *  [A2 = f(A1 W2 + 1 b2^T)             (B,H2)   W2 (H1,H2), a second layer]
 *   P  = softmax(A Wo + 1 bo^T)        (B,K)    Wo (H,K), A the last hidden layer
 *   loss = -1/B sum_n log P[n, y_n] + L1/2 ||W1||^2 + L/2 ([||W2||^2 +] ||Wo||^2)
 *
 * (L1 is --l2-input, by default --l2's L; biases are not decayed) and its
 * gradient, with Y (B,K) one-hot:
 *
 *   dS = (P - Y) / B;  dWo = A^T dS + L Wo;  dbo = 1^T dS
 *   dZ = (dS Wo^T) * A * (1 - A)  for the layer below, and so on down:
 *   dW1 = X^T dZ1 + L1 W1;  db1 = 1^T dZ1
 *
 * Training (lib/train.c has the details): minibatch gradient descent with
 * momentum M, u = M u - R d(theta), theta += u, every momentum starting at
 * 0, so epoch 1 with one minibatch of all records moves theta by exactly
 * -R times the gradient at the initial parameters (tests/backprop.bats
 * checks this against NumPy).  Each epoch visits the training records in
 * a Fisher-Yates order from rng stream `epoch` of --seed.  The rate follows
 * --schedule; the default, plateau, cuts it tenfold (--lr-factor 0.1) when
 * the validation loss (without --valid: the training loss) has not reached
 * a new low for --lr-patience 8 epochs, and stops instead of a third cut
 * (--max-cuts 2).  With --valid the validation loss is measured before
 * training (epoch 0, the initial net) and after every epoch, the net of
 * the lowest is kept, and the run also stops after --patience 10 epochs
 * without a lower one.  --epochs (200) is a safety cap, said on stderr
 * when reached; --epochs 0 writes the initial net.  --log FILE: one record
 * per epoch (the losses, accuracies, rate and seconds).
 * --checkpoint FILE saves the run's state (the net, its momenta, the best
 * net so far, the schedule's counters, the log) to FILE, whole (a
 * temporary file, then a rename), at the start of every epoch, and removes
 * it once the model is written.  A run that finds FILE there resumes it,
 * the fit or the --refit's run, and ends with the same model and --log as
 * a run never stopped; so a make rule re-run after Ctrl-C, a kill or a
 * machine's end goes on where it stopped, losing at most the epoch under
 * way.  It first checks that FILE is a checkpoint of this same run (its
 * train_settings: the settings above and the init paths; train_data: the
 * records' count, size and hash; train_start: a hash of the initial net)
 * and otherwise stops in one line naming what differs.  --stop-after E
 * stops after E epochs run by this process, as if interrupted (exit 75,
 * no model written): a long run taken in slices.
 * --standardize trains on z = (x - mu)/sd of the training part instead and
 * folds it into the first layer of the saved net (which then takes raw
 * inputs as before); a first layer from an RBM is rewritten to compute the
 * same function of z, a random one is drawn for z.  --lr-input sets the
 * first layer's weights' rate apart (default --lr; the schedule scales
 * both): its gradient grows with the inputs' square, so raw 0..255 pixels
 * want a rate about 10^4 times smaller than the layers above.
 * --l2-input sets the first layer's weights' penalty apart (default --l2).
 * --centre yes trains the layers above the first on centred inputs
 * (below, at forward()).
 * Defaults: --lr 0.01, --momentum 0.9, --l2 1e-3, --batch 100, --seed 1,
 * the plateau schedule above.  Measured on CIFAR-10 (3072-1000-10 on
 * standardised pixels, --valid 0.1, test accuracy): --lr-patience 2 cut the
 * rate at epoch 10 while the noisy validation loss still had lows to come
 * (48.34%, L2 1e-4); 3 cut it at 15, as the fixed step recipe below does
 * (49.82%); with L2 5e-4 50.32%, and with L2 1e-3 and patience 4 50.78%
 * (1e-4 overfits: training accuracy 67% against validation 50%); a rate of
 * 0.02 did worse (49.73%).  Patience 4 still cut on noise: the validation
 * loss wanders by about 0.01 an epoch while its trend falls by less, and
 * over 7 runs ((f) 4 seeds, (g) 3; L2 0.003) the later the first cut
 * (epoch 32 to 53), the better the test accuracy at each width.
 * --lr-patience 8 lowered the kept validation loss of every seed measured,
 * more for 4000 units than for 1000 (docs/fig3.1.md), so 8 is the default.
 *
 * Initialisation.  Hidden layer k comes from RBM k of --init-rbm (lib/rbm.c):
 * Wk = W with row i divided by sigma[i] (a Gaussian-visible RBM sees x/sigma;
 * sigma is 1 for binary visibles), bk = hbias, so A1 is exactly what
 * tiny-features computes; a binary-visible RBM under u8 data sees x / 255
 * (as tiny-rbm-train and tiny-features read it), folded in as W1 = W / 255.
 * A layer without an RBM is drawn at random: H from --hidden, weights
 * s N(0,1) with s = 1/sqrt(3 n) for n inputs (the sd of PyTorch's
 * nn.Linear start; 0.0104 for 3072 pixels, where 0.01 was used before;
 * for 64 inputs 0.01 left the net on its plateau), row-major from rng
 * stream 2^61 + k, biases 0.  --hidden and --init-rbm together must agree on H.  The output
 * layer comes from a tiny-logreg model (W [H,K], b [K]); its
 * standardisation z = (a - mu) / sd folds in as Wo = W / sd (row i divided
 * by sd[i]) and bo = b - sum_i (mu_i / sd_i) W[i,:], so with RBM and logreg
 * initialisation the untrained net is the logistic regression on the RBM's
 * features (section 3.2).  Without --init-logreg Wo and bo start at 0.
 *
 * --valid FRACTION holds out the last floor(FRACTION N) records of a
 * shuffle from rng stream 2^62, as tiny-logreg does; each part must hold
 * at least one record per class.  One line per epoch on stderr (-q: none).
 *
 * The model, one record: W1 f32 [D,H1], b1 f32 [H1], (W2 f32 [H1,H2],
 * b2 f32 [H2]), Wo f32 [H,K], bo f32 [K], with the attributes classes (the
 * data's, else the logreg model's, else 0..K-1), backprop_settings,
 * backprop_epochs, backprop_best_epoch, backprop_train_loss,
 * backprop_train_accuracy (both absent when no epoch ran or the initial
 * net was kept), (backprop_valid_loss, backprop_valid_accuracy), the
 * data's other attributes and
 * this history line.  The lists of --hidden and --init-rbm are split at the
 * comma, so a model's path cannot hold one.
 *
 * tiny-backprop MODEL [FILE] predicts as tiny-logreg does: label (if any,
 * as it came), pred i32 [] (the argmax), prob f32 [K], the model's classes;
 * with an integer label the accuracy goes to stderr (not with -q).
 *
 * Errors (nothing is written): D of the data not the first layer's V,
 * RBM1's H not RBM2's V (or --hidden's), the last hidden layer's H not the
 * logreg model's D, K of the logreg model not the data's classes, no
 * integer label, a label outside 0..K-1, a NaN or infinite x (naming the
 * record) or model value, fewer than 2 records, a --valid that leaves a
 * part fewer records than classes, a --log path that cannot be written.
 * Spec: formats/stream.md.
 */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tiny.h"

static const char *usage_line =
	"tiny-backprop --train [-q] [--hidden H1[,H2]] [--init-rbm RBM1[,RBM2]] [--init-logreg LOGREG] "
	"[--lr R] [--lr-input R] [--standardize] [--centre yes|no] [--l2 L] [--l2-input L] [--valid FRACTION [--refit]] [--seed S] [--log FILE] [--epochs E] "
	"[--batch B] [--momentum M] [--schedule plateau|step|cosine|constant] [--lr-factor F] [--lr-patience P] "
	"[--lr-step S] [--max-cuts C] [--patience P] [--target-loss L] [--checkpoint FILE [--stop-after E]] [FILE] | "
	"tiny-backprop [-q] MODEL [FILE]";

#define MAX_HIDDEN    2
#define STREAM_INIT   ((uint64_t)1 << 61)

enum { BLOCK = 1024 };   /* records per read, and per scoring pass */

typedef struct {
	tr_opts_t tr;
	double l2, l2_input, lr_input;   /* l2_input, lr_input: -1 for --l2's and --lr's */
	int standardize, centre;
	int nhidden, nrbm;
	int64_t hidden[MAX_HIDDEN];
	char *rbm[MAX_HIDDEN];
	const char *logreg;
	const char *hidden_arg, *rbm_arg;
} opts_t;

/* --- the net ---------------------------------------------------------------------- */

/* Layer l (0..L) maps n[l] values to n[l+1]: W[l] (n[l], n[l+1]) row-major,
 * b[l] (n[l+1]); layers 0..L-1 are logistic, layer L (the output) softmax.
 * n[0] = D, n[L+1] = K. */
typedef struct {
	int L;
	int64_t n[MAX_HIDDEN + 2];
	float *W[MAX_HIDDEN + 1], *b[MAX_HIDDEN + 1];
	float centre;   /* while training with centring: 0.5, else 0 (below) */
	float *ones;    /* then: net_widest() ones, for the BLAS products of centring */
} net_t;

static const char *const wname[2][MAX_HIDDEN + 1] = {{"W1", "W2", "Wo"}, {"b1", "b2", "bo"}};

/* the field names of layer l of a net of L hidden layers */
static const char *w_field(const net_t *net, int l) { return wname[0][l == net->L ? MAX_HIDDEN : l]; }
static const char *b_field(const net_t *net, int l) { return wname[1][l == net->L ? MAX_HIDDEN : l]; }

static void net_alloc(net_t *net)
{
	for (int l = 0; l <= net->L; l++) {
		net->W[l] = xcalloc((size_t)(net->n[l] * net->n[l + 1] + TR_PAD), sizeof(float));
		net->b[l] = xcalloc((size_t)net->n[l + 1], sizeof(float));
	}
}

static void net_free(net_t *net)
{
	for (int l = 0; l <= net->L; l++)
		free(net->W[l]), free(net->b[l]);
}

static int64_t net_widest(const net_t *net)
{
	int64_t w = 0;
	for (int l = 0; l <= net->L + 1; l++)
		if (net->n[l] > w)
			w = net->n[l];
	return w;
}

/* Centring (Montavon and Mueller 2012, "Deep Boltzmann machines and the
 * centering trick"): while training, a layer above the first sees its
 * logistic inputs as A - c, c = 0.5, and its bias b_c is that of the
 * centred inputs: the net computes b_c + (A - c) W = (b_c - c 1^T W) + A W.
 * The function and the objective (whose penalty leaves biases free) are
 * the same as without; what changes is the geometry SGD sees: inputs in
 * (0, 1) share a mean that gives W a direction of curvature growing with
 * the layer's width (H/4 times a unit's), which a rate must stay under, so
 * without centring 4000 units need a quarter of 1000 units' rate.
 * centre_bias converts b (to 1: b_c = b + c 1^T W, or back). */
/* b += alpha 1^T W[l] (n[l+1]), one product (into a padded scratch: BLIS
 * may touch a little past a small array) */
static void add_colsum(const net_t *net, int l, float alpha, float *b)
{
	int64_t ni = net->n[l], no = net->n[l + 1];
	float *s = xcalloc((size_t)(no + TR_PAD), sizeof *s);
	la_sgemm(0, 0, 1, (int)no, (int)ni, alpha, net->ones, (int)ni, net->W[l], (int)no, 0.0f, s, (int)no);
	for (int64_t k = 0; k < no; k++)
		b[k] += s[k];
	free(s);
}

static void centre_bias(net_t *net, float c, int to)
{
	for (int l = 1; l <= net->L; l++)
		add_colsum(net, l, to ? c : -c, net->b[l]);
}

/* A[l+1] (m, n[l+1]) for l = 0..L from A[0] = X (m,D); A[L+1] is P */
static void forward(const net_t *net, float **A, int64_t m)
{
	for (int l = 0; l <= net->L; l++) {
		int64_t ni = net->n[l], no = net->n[l + 1];
		float *Z = A[l + 1], *b = net->b[l];
		if (l > 0 && net->centre != 0) {   /* b_c - c 1^T W */
			b = xmalloc((size_t)no * sizeof *b);
			memcpy(b, net->b[l], (size_t)no * sizeof *b);
			add_colsum(net, l, -net->centre, b);
		}
		for (int64_t r = 0; r < m; r++)
			memcpy(Z + r * no, b, (size_t)no * sizeof *Z);
		if (b != net->b[l])
			free(b);
		la_sgemm(0, 0, (int)m, (int)no, (int)ni, 1.0f, A[l], (int)ni, net->W[l], (int)no, 1.0f, Z, (int)no);
		if (l == net->L)
			softmax_rows(Z, m, no);
		else
			for (int64_t i = 0; i < m * no; i++)
				Z[i] = 1.0f / (1.0f + expf(-Z[i]));
	}
}

/* The gradient of the mean loss over m rows into G (W's shapes) and g (b's),
 * given forward()'s activations A and the labels y; dA and dB are
 * (m, widest) scratch.  (The trainer adds weight decay's L2 W.) */
static void backward(const net_t *net, float **A, const int64_t *y, int64_t m, float **G, float **g, float *dA,
		     float *dB)
{
	int L = net->L;
	int64_t K = net->n[L + 1];
	float *delta = dA, *below = dB;
	for (int64_t r = 0; r < m; r++) {
		for (int64_t k = 0; k < K; k++)
			delta[r * K + k] = A[L + 1][r * K + k] / (float)m;
		delta[r * K + y[r]] -= 1.0f / (float)m;
	}
	for (int l = L; l >= 0; l--) {
		int64_t ni = net->n[l], no = net->n[l + 1];
		/* G[l] (ni,no) = A[l]^T delta */
		la_sgemm(1, 0, (int)ni, (int)no, (int)m, 1.0f, A[l], (int)ni, delta, (int)no, 0.0f, G[l], (int)no);
		for (int64_t k = 0; k < no; k++)
			g[l][k] = 0;
		for (int64_t r = 0; r < m; r++)
			for (int64_t k = 0; k < no; k++)
				g[l][k] += delta[r * no + k];
		if (l > 0 && net->centre != 0)   /* (A - c)^T delta = A^T delta - c 1 g^T */
			la_sgemm(0, 0, (int)ni, (int)no, 1, -net->centre, net->ones, 1, g[l], (int)no, 1.0f, G[l], (int)no);
		if (l == 0)
			break;
		/* below (m,ni) = (delta W[l]^T) * A[l] (1 - A[l]) */
		la_sgemm(0, 1, (int)m, (int)ni, (int)no, 1.0f, delta, (int)no, net->W[l], (int)no, 0.0f, below, (int)ni);
		for (int64_t i = 0; i < m * ni; i++)
			below[i] *= A[l][i] * (1.0f - A[l][i]);
		float *t = delta;
		delta = below, below = t;
	}
}

/* --- initialisation ---------------------------------------------------------------- */

/* Layer l from an RBM: W[l] = W / sigma (row-wise), b[l] = hbias.  n[l] and
 * n[l+1] must already hold what the layer below and --hidden want (0: any). */
static void init_from_rbm(net_t *net, int l, const char *path, const char *below, int u8)
{
	sin_t *s = sin_open(path);
	rbm_t m;
	rbm_load(&m, s, NULL);
	if (m.V != net->n[l])
		die("%s is an RBM of V = %" PRId64 " visible units; %s has %" PRId64, s->name, m.V, below, net->n[l]);
	if (net->n[l + 1] && m.H != net->n[l + 1])
		die("%s has H = %" PRId64 " hidden units; --hidden gives %" PRId64 " for layer %d", s->name, m.H,
		    net->n[l + 1], l + 1);
	net->n[l + 1] = m.H;
	net->W[l] = xmalloc((size_t)(m.V * m.H + TR_PAD) * sizeof(float));
	net->b[l] = xmalloc((size_t)m.H * sizeof(float));
	for (int64_t i = 0; i < m.V; i++)
		for (int64_t j = 0; j < m.H; j++)
			net->W[l][i * m.H + j] = m.W[i * m.H + j] / m.sigma[i] / (u8 && !m.gaussian ? 255.0f : 1.0f);
	memcpy(net->b[l], m.hbias, (size_t)m.H * sizeof(float));
	rbm_free(&m);
	sin_close(s);
}

static void init_random(net_t *net, int l, uint64_t seed)
{
	int64_t V = net->n[l], H = net->n[l + 1];
	rng_t r;
	rng_seed(&r, seed, STREAM_INIT + (uint64_t)l);
	double sd = 1 / sqrt(3.0 * (double)V);   /* PyTorch's nn.Linear scale: 0.0104 for 3072 inputs */
	net->W[l] = xmalloc((size_t)(V * H + TR_PAD) * sizeof(float));
	net->b[l] = xcalloc((size_t)H, sizeof(float));
	for (int64_t i = 0; i < V * H; i++)
		net->W[l][i] = (float)(sd * rng_normal(&r));
}

/* The output layer from a tiny-logreg model (W [H,K], b [K], optionally mu,
 * sd [H]) with the standardisation folded in.  Sets n[L+1] = K; *classes
 * gets the model's classes attribute (or NULL). */
static void init_from_logreg(net_t *net, const char *path, char **classes, double valid)
{
	int L = net->L;
	sin_t *ms = sin_open(path);
	lr_model_t lr;
	lr_load(&lr, ms);
	if (valid > 0 && th_attr(&ms->h, "logreg_refit_epochs"))
		warn("warning: %s was refit on every record it was given (tiny-logreg --refit); if those hold this "
		     "run's validation part, the initial net's validation loss is not held out and no fine-tuned "
		     "epoch may beat it: give the logistic regression of the fit without --refit", ms->name);
	if (lr.svm)
		die("%s is an L2-SVM (logreg_loss svm); the net's output layer is a softmax: give a model of "
		    "tiny-logreg --loss softmax", ms->name);
	if (lr.D != net->n[L])
		die("%s is a logistic regression on D = %" PRId64 " inputs; the last hidden layer has H = %" PRId64,
		    ms->name, lr.D, net->n[L]);
	if (lr.K < 2)
		die("%s: a classifier of %" PRId64 " class; expected at least 2", ms->name, lr.K);
	lr_fold(&lr);
	net->n[L + 1] = lr.K;
	net->W[L] = lr.W, net->b[L] = lr.b;
	*classes = lr.classes;
	sin_close(ms);
}

/* --- training ------------------------------------------------------------------------- */

/* The net as the trainer sees it: activations A[0..L+1] of up to cap rows
 * (A[0] and A[L+1] point at the caller's X and P during a call), the
 * gradients G, g in W's and b's shapes, dA, dB scratch. */
typedef struct {
	net_t *net;
	float *A[MAX_HIDDEN + 2], *G[MAX_HIDDEN + 1], *g[MAX_HIDDEN + 1], *P, *dA, *dB;
	double l2[MAX_HIDDEN + 1];   /* each weight layer's penalty */
} bp_t;

static void bp_forward(void *ctx, const float *X, int64_t n, float *P)
{
	bp_t *m = ctx;
	m->A[0] = (float *)X, m->A[m->net->L + 1] = P;
	forward(m->net, m->A, n);
}

static double bp_step(void *ctx, const float *X, const int64_t *y, int64_t n, int64_t *correct)
{
	bp_t *m = ctx;
	int L = m->net->L;
	int64_t K = m->net->n[L + 1];
	bp_forward(m, X, n, m->P);
	double loss = nll_rows(m->P, y, n, K, correct);
	backward(m->net, m->A, y, n, m->G, m->g, m->dA, m->dB);
	return loss;
}

static double bp_penalty(void *ctx)
{
	const bp_t *m = ctx;
	double sum = 0;
	for (int l = 0; l <= m->net->L; l++) {
		double w2 = 0;
		for (int64_t i = 0; i < m->net->n[l] * m->net->n[l + 1]; i++)
			w2 += (double)m->net->W[l][i] * m->net->W[l][i];
		sum += m->l2[l] / 2 * w2;
	}
	return sum;
}

/* W1 = diag(sd) W1, b1 = b1 + mu W1 (to, 1: for standardised inputs z), or
 * back (W1 = diag(1/sd) W1z, b1 = b1z - (mu/sd) W1z) */
static void fold_standardize(net_t *net, const float *mu, const float *sd, int to)
{
	int64_t D = net->n[0], H1 = net->n[1];
	for (int64_t i = 0; i < D; i++)
		for (int64_t j = 0; j < H1; j++) {
			if (to) {
				net->b[0][j] += mu[i] * net->W[0][i * H1 + j];
				net->W[0][i * H1 + j] *= sd[i];
			} else {
				net->W[0][i * H1 + j] /= sd[i];
				net->b[0][j] -= mu[i] * net->W[0][i * H1 + j];
			}
		}
}

static void train(const char *path, const opts_t *o)
{
	labelled_t d;
	ld_open(&d, path);
	if (o->tr.log && !strcmp(o->tr.log, "-"))
		usage_error("--log -: the log goes to a file (stdout carries the model)");

	/* the shapes and the initial net; every check before the first record */
	net_t net = {.L = o->nhidden > o->nrbm ? o->nhidden : o->nrbm};
	int L = net.L;
	net.n[0] = d.D;
	for (int l = 0; l < L; l++)
		net.n[l + 1] = l < o->nhidden ? o->hidden[l] : 0;
	char below[256];
	for (int l = 0; l < L; l++) {
		if (l == 0)
			snprintf(below, sizeof below, "%s's x", d.in->name);
		else
			snprintf(below, sizeof below, "hidden layer %d (%s)", l,
				 l - 1 < o->nrbm ? o->rbm[l - 1] : "--hidden");
		if (l < o->nrbm)
			init_from_rbm(&net, l, o->rbm[l], below, l == 0 && d.fx.dtype == DT_U8);
	}
	for (int l = 0; l <= L; l++)
		if (net.n[l] > INT32_MAX / 4 || net.n[l] * net.n[l + 1] > INT32_MAX)
			die("layer %d: %" PRId64 " x %" PRId64 " weights is more than BLAS can index", l + 1, net.n[l],
			    net.n[l + 1]);
	char *lr_classes = NULL;
	if (o->logreg) {
		init_from_logreg(&net, o->logreg, &lr_classes, o->tr.valid);
		if (d.K && d.K != net.n[L + 1])
			die("%s is a classifier of K = %" PRId64 " classes; %s's classes attribute names %" PRId64,
			    o->logreg, net.n[L + 1], d.in->name, d.K);
		d.K = net.n[L + 1];
	}
	ld_read(&d);
	int64_t D = d.D, K = d.K;
	net.n[L + 1] = K;
	for (int l = 0; l < L; l++)
		if (l >= o->nrbm)
			init_random(&net, l, o->tr.seed);
	if (!o->logreg) {
		net.W[L] = xcalloc((size_t)(net.n[L] * K + TR_PAD), sizeof(float));
		net.b[L] = xcalloc((size_t)K, sizeof(float));
	}
	if (!d.classes)
		d.classes = lr_classes ? lr_classes : ld_class_numbers(K), lr_classes = NULL;
	free(lr_classes);

	trainer_t t;
	tr_prepare(&t, &d, o->tr.valid, o->tr.seed, o->standardize);
	/* train on z = (x - mu)/sd: a first layer from an RBM (made for raw
	 * inputs) is rewritten to compute the same function of z; random
	 * weights are drawn for z itself (folded, raw-scale weights times sd ~ 64
	 * for pixels would saturate every unit) */
	if (d.mu && o->nrbm)
		fold_standardize(&net, d.mu, d.sd, 1);

	int64_t rows = o->tr.batch > 1024 ? o->tr.batch : 1024;
	bp_t m = {.net = &net};
	for (int l = 0; l <= L; l++)
		m.l2[l] = l == 0 && o->l2_input >= 0 ? o->l2_input : o->l2;
	double lr_input = o->lr_input >= 0 ? o->lr_input : o->tr.lr;   /* the first layer's weights' rate */
	for (int l = 1; l <= L; l++)
		m.A[l] = xmalloc_big((size_t)(rows * net.n[l] + TR_PAD) * sizeof(float));
	for (int l = 0; l <= L; l++) {
		m.G[l] = xmalloc_big((size_t)(net.n[l] * net.n[l + 1] + TR_PAD) * sizeof(float));
		m.g[l] = xmalloc((size_t)(net.n[l + 1] + TR_PAD) * sizeof(float));
	}
	m.P = xmalloc((size_t)(rows * K + TR_PAD) * sizeof(float));
	m.dA = xmalloc_big((size_t)(rows * net_widest(&net) + TR_PAD) * sizeof(float));
	m.dB = xmalloc_big((size_t)(rows * net_widest(&net) + TR_PAD) * sizeof(float));
	tr_model_t tm = {.ctx = &m, .forward = bp_forward, .step = bp_step, .penalty = bp_penalty};
	tr_params_t ps = {0};
	for (int l = 0; l <= L; l++) {
		tr_param(&ps, net.W[l], m.G[l], net.n[l] * net.n[l + 1], l == 0 ? lr_input : o->tr.lr, m.l2[l]);
		tr_param(&ps, net.b[l], m.g[l], net.n[l + 1], o->tr.lr, 0);
	}
	int len = snprintf(t.model, sizeof t.model, "layers %" PRId64, D);
	for (int l = 1; l <= L + 1; l++)
		len += snprintf(t.model + len, sizeof t.model - (size_t)len, "-%" PRId64, net.n[l]);
	len += snprintf(t.model + len, sizeof t.model - (size_t)len, ", l2 %g", o->l2);
	if (o->l2_input >= 0)
		snprintf(t.model + len, sizeof t.model - (size_t)len, " (first layer %g)", o->l2_input);
	if (o->centre) {
		int64_t w = net_widest(&net);
		net.ones = xmalloc((size_t)(w + TR_PAD) * sizeof *net.ones);
		for (int64_t i = 0; i < w; i++)
			net.ones[i] = 1;
		centre_bias(&net, 0.5f, 1);
		net.centre = 0.5f;
	}
	char settings[512], all[1024];
	tr_settings(settings, sizeof settings, &o->tr);
	snprintf(all, sizeof all,
		 "%s l2 %g l2-input %g lr-input %g standardize %s centre %s hidden %s init-rbm %s init-logreg %s", settings,
		 o->l2, m.l2[0], lr_input, o->standardize ? "yes" : "no", o->centre ? "yes" : "no",
		 o->hidden_arg ? o->hidden_arg : "-", o->rbm_arg ? o->rbm_arg : "-", o->logreg ? o->logreg : "-");
	tr_opts_t tro = o->tr;
	tro.run_settings = all;   /* what a resumed --checkpoint must share */
	float *init[TR_MAX_PARAMS] = {0};   /* --refit starts again from here */
	for (int i = 0; o->tr.refit && i < ps.n; i++) {
		init[i] = xmalloc_big((size_t)ps.len[i] * sizeof(float));
		memcpy(init[i], ps.p[i], (size_t)ps.len[i] * sizeof(float));
	}
	tr_fit(&t, &tm, &ps, &tro);
	tr_refit(&t, &tm, &ps, &tro, init);
	for (int i = 0; i < TR_MAX_PARAMS; i++)
		free(init[i]);
	if (o->centre) {
		centre_bias(&net, 0.5f, 0);
		net.centre = 0;
		free(net.ones);
	}
	if (d.mu)
		fold_standardize(&net, d.mu, d.sd, 0);   /* back to raw inputs */

	/* the model: one record, the data's attributes */
	theader h;
	tr_model_header(&h, &d, d.classes);
	const void *fields[2 * (MAX_HIDDEN + 1)];
	for (int l = 0; l <= L; l++) {
		th_field(&h, w_field(&net, l), DT_F32, 2, net.n[l], net.n[l + 1]);
		th_field(&h, b_field(&net, l), DT_F32, 1, net.n[l + 1]);
		fields[2 * l] = net.W[l], fields[2 * l + 1] = net.b[l];
	}
	th_attr_set(&h, "backprop_settings", all);
	tr_result_attrs(&h, &t, "backprop");
	th_add_history(&h);
	tr_write_model(&h, fields);
	tr_finish(&tro);
	th_free(&h);
	tr_free(&t);
	for (int l = 1; l <= L; l++)
		free(m.A[l]);
	for (int l = 0; l <= L; l++)
		free(m.G[l]), free(m.g[l]);
	free(m.P), free(m.dA), free(m.dB);
	net_free(&net);
	ld_free(&d);
}

/* --- predicting ---------------------------------------------------------------------------- */

/* A model of this stage: W1, b1, (W2, b2), Wo, bo, shapes chained, finite. */
static void net_load(net_t *net, sin_t *ms)
{
	const theader *h = &ms->h;
	net->L = th_find(h, "W2") >= 0 ? 2 : 1;
	const tfield *fw[MAX_HIDDEN + 1], *fb[MAX_HIDDEN + 1];
	int ok = th_find(h, "W1") >= 0 && th_find(h, "Wo") >= 0;
	if (ok) {
		/* each layer's W [n_l, n_l+1] chained to the one before, its b [n_l+1] */
		const char *kind = "tiny-backprop model";
		for (int l = 0; l <= net->L; l++) {
			fw[l] = model_field(ms, kind, w_field(net, l), DT_F32, 2,
					    (int64_t[]){l ? net->n[l] : -1, -1}, l ? NULL : "D,H1");
			if (l == 0)
				net->n[0] = fw[0]->dims[0];
			net->n[l + 1] = fw[l]->dims[1];
			fb[l] = model_field(ms, kind, b_field(net, l), DT_F32, 1, (int64_t[]){net->n[l + 1]}, NULL);
		}
	}
	if (!ok || net->n[net->L + 1] < 2)
		die("%s: not a tiny-backprop model (expected one record with W1 f32 [D,H1], b1 f32 [H1], "
		    "optionally W2 f32 [H1,H2], b2 f32 [H2], then Wo f32 [H,K], bo f32 [K], K >= 2)",
		    ms->name);
	for (int l = 0; l <= net->L; l++)
		if (net->n[l] > INT32_MAX / 4 || net->n[l] * net->n[l + 1] > INT32_MAX)
			die("%s: %s is more than BLAS can index", ms->name, w_field(net, l));
	unsigned char *rec = xmalloc((size_t)h->recsize);
	if (sin_read(ms, rec, 1) != 1)
		die("%s: no record", ms->name);
	net_alloc(net);
	for (int l = 0; l <= net->L; l++) {
		tf_get_f32(fw[l], rec, 1, h->recsize, net->W[l]);
		tf_get_f32(fb[l], rec, 1, h->recsize, net->b[l]);
		tf_check_finite_f32(net->W[l], 1, fw[l]->n, 0, ms->name, fw[l]->name);
		tf_check_finite_f32(net->b[l], 1, fb[l]->n, 0, ms->name, fb[l]->name);
	}
	free(rec);
}

static void predict(const char *model_path, const char *path)
{
	sin_t *ms = sin_open(model_path);
	net_t net = {0};
	net_load(&net, ms);
	int L = net.L;
	bp_t m = {.net = &net};
	for (int l = 1; l <= L; l++)
		m.A[l] = xmalloc((size_t)(1024 * net.n[l] + TR_PAD) * sizeof(float));
	tr_model_t tm = {.ctx = &m, .forward = bp_forward};
	tr_predict(ms, path, net.n[0], net.n[L + 1], th_attr(&ms->h, "classes"), &tm, NULL, NULL);
	sin_close(ms);
	for (int l = 1; l <= L; l++)
		free(m.A[l]);
	net_free(&net);
}

/* --- main ---------------------------------------------------------------------------------- */

/* "a,b" into at most MAX_HIDDEN parts; returns their number */
static int split_list(const char *opt, const char *arg, char **parts)
{
	const char *c = strchr(arg, ',');
	if (c && strchr(c + 1, ','))
		usage_error("%s %s: at most %d hidden layers", opt, arg, MAX_HIDDEN);
	if (!*arg || (c && (c == arg || !c[1])))
		usage_error("%s '%s': expected one or two comma-separated values", opt, arg);
	parts[0] = c ? strndup(arg, (size_t)(c - arg)) : xstrdup(arg);
	if (c)
		parts[1] = xstrdup(c + 1);
	return c ? 2 : 1;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"train", no_argument, 0, 't'}, {"hidden", required_argument, 0, 'H'},
		{"init-rbm", required_argument, 0, 'R'}, {"init-logreg", required_argument, 0, 'G'},
		{"lr-input", required_argument, 0, 'I'}, {"standardize", no_argument, 0, 'Z'},
		{"l2", required_argument, 0, 'l'}, {"l2-input", required_argument, 0, 'J'}, {"quiet", no_argument, 0, 'q'},
		{"centre", required_argument, 0, 'C'}, {"checkpoint", required_argument, 0, 'K'},
		{"stop-after", required_argument, 0, 'S'}, TR_LONGOPTS, {0}};
	opts_t o = {.l2 = 1e-3, .l2_input = -1, .lr_input = -1,
		    .tr = {.solver = TR_SGD, .lr = 0.01, .momentum = 0.9, .max_epochs = 200, .batch = 100, .seed = 1,
			   .schedule = TR_PLATEAU, .lr_factor = 0.1, .lr_patience = 8, .lr_step = 30, .max_cuts = 2,
			   .patience = 10, .tol = 1e-6}};
	int training = 0, train_opts = 0, c;
	char *parts[MAX_HIDDEN];
	tiny_init(argc, argv, usage_line);
	while ((c = getopt_long(argc, argv, "q", longopts, NULL)) != -1) {
		train_opts |= c != 't' && c != 'q';
		switch (c) {
		case 't': training = 1; break;
		case 'H':
			o.nhidden = split_list("--hidden", optarg, parts), o.hidden_arg = optarg;
			for (int i = 0; i < o.nhidden; i++) {
				o.hidden[i] = opt_i64("--hidden", parts[i], 1, 1 << 20);
				free(parts[i]);
			}
			break;
		case 'R': o.nrbm = split_list("--init-rbm", optarg, o.rbm), o.rbm_arg = optarg; break;
		case 'G': o.logreg = optarg; break;
		case 'I': o.lr_input = opt_f64("--lr-input", optarg, 0, 1e6); break;
		case 'Z': o.standardize = 1; break;
		case 'C': o.centre = opt_choice("--centre", optarg, (const char *const[]){"no", "yes", NULL}); break;
		case 'l': o.l2 = opt_f64("--l2", optarg, 0, 1e6); break;
		case 'J': o.l2_input = opt_f64("--l2-input", optarg, 0, 1e6); break;
		case 'K': o.tr.checkpoint = optarg; break;
		case 'S': o.tr.stop_after = opt_i64("--stop-after", optarg, 1, 1 << 30); break;
		case 'q': tiny_quiet = 1; break;
		default:
			if (c == TR_OPT_SOLVER)
				usage_error("--solver: tiny-backprop trains by SGD only");
			if (!tr_option(&o.tr, c, optarg))
				usage();
		}
	}
	if (training) {
		if (argc - optind > 1)
			usage_error("--train reads one data stream");
		if (!o.nhidden && !o.nrbm)
			usage_error("--train needs --hidden or --init-rbm for the hidden layers");
		tr_check_opts(&o.tr);
		if (o.tr.stop_after && !o.tr.checkpoint)
			usage_error("--stop-after stops a run to be resumed from its --checkpoint; add --checkpoint");
		if (o.tr.checkpoint && !strcmp(o.tr.checkpoint, "-"))
			usage_error("--checkpoint -: the checkpoint goes to a file (stdout carries the model)");
		const char *path = optind < argc ? argv[optind] : "-";
		int stdins = !strcmp(path, "-") + (o.logreg && !strcmp(o.logreg, "-"));
		for (int i = 0; i < o.nrbm; i++)
			stdins += !strcmp(o.rbm[i], "-");
		if (stdins > 1)
			usage_error("only one of the data and the models can come from stdin");
		train(path, &o);
		for (int i = 0; i < o.nrbm; i++)
			free(o.rbm[i]);
	} else {
		if (train_opts)
			usage_error("--hidden, --init-rbm, --init-logreg, --lr-input, --standardize, --l2, --l2-input "
				    "and the other training options apply to --train");
		const char *model_path, *path;
		model_and_data(argc, argv, optind, &model_path, &path);
		predict(model_path, path);
	}
	return 0;
}
