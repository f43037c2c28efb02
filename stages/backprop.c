/*
 * tiny-backprop - a feed-forward net with one or two hidden layers of
 * logistic units and a softmax output, trained by backpropagation
 * (Appendix B of the report) and initialised from RBMs and a logistic
 * regression on their features (section 3.2).
 *
 * usage: tiny-backprop --train [-q] [--hidden H1[,H2]] [--init-rbm RBM1[,RBM2]]
 *          [--init-logreg LOGREG] [--epochs E] [--batch B] [--lr R] [--lr-input R] [--standardize] [--momentum M]
 *          [--l2 L] [--valid FRACTION] [--seed S] [FILE]
 *        tiny-backprop [-q] MODEL [FILE]
 *
 * Shapes: N records, D values of x per record (any dtype and shape,
 * flattened), H1, H2 hidden units, K classes, B records in a minibatch.
 * With one hidden layer, for a minibatch X (B,D), logistic f:
 *
 *   A1 = f(X W1 + 1 b1^T)              (B,H1)   W1 (D,H1)
 *  [A2 = f(A1 W2 + 1 b2^T)             (B,H2)   W2 (H1,H2), a second layer]
 *   P  = softmax(A Wo + 1 bo^T)        (B,K)    Wo (H,K), A the last hidden layer
 *   loss = -1/B sum_n log P[n, y_n] + L/2 (||W1||^2 [+ ||W2||^2] + ||Wo||^2)
 *
 * (biases are not decayed) and its gradient, with Y (B,K) one-hot:
 *
 *   dS = (P - Y) / B;  dWo = A^T dS + L Wo;  dbo = 1^T dS
 *   dZ = (dS Wo^T) * A * (1 - A)  for the layer below, and so on down:
 *   dW1 = X^T dZ1 + L W1;  db1 = 1^T dZ1
 *
 * Minibatch gradient descent with momentum M: u = M u - R d(theta),
 * theta += u, every momentum starting at 0, so epoch 1 with one minibatch
 * of all records moves theta by exactly -R times the gradient at the
 * initial parameters (tests/backprop.bats checks this against NumPy).
 * Each epoch visits the training records in a Fisher-Yates order from rng
 * stream `epoch` of --seed (as tiny-logreg); the last minibatch may be
 * smaller than B.  --standardize trains on (x - mu)/sd of the training
 * part instead and folds it into the first layer of the saved net (which
 * then takes raw inputs as before).  --lr-input sets the first layer's weights' rate apart
 * (default --lr): its gradient grows with the inputs' square, so raw
 * 0..255 pixels want a rate about 10^4 times smaller than the layers above.
 * Defaults: --lr 0.01, --momentum 0.9, --l2 1e-4,
 * --epochs 30, --batch 100, --seed 1.  --epochs 0 writes the initial net.
 *
 * Initialisation.  Hidden layer k comes from RBM k of --init-rbm (lib/rbm.c):
 * Wk = W with row i divided by sigma[i] (a Gaussian-visible RBM sees x/sigma;
 * sigma is 1 for binary visibles), bk = hbias, so A1 is exactly what
 * tiny-features computes.  A layer without an RBM is drawn at random: H
 * from --hidden, weights 0.01 N(0,1) row-major from rng stream 2^61 + k,
 * biases 0.  --hidden and --init-rbm together must agree on H.  The output
 * layer comes from a tiny-logreg model (W [H,K], b [K]); its
 * standardisation z = (a - mu) / sd folds in as Wo = W / sd (row i divided
 * by sd[i]) and bo = b - sum_i (mu_i / sd_i) W[i,:], so with RBM and logreg
 * initialisation the untrained net is the logistic regression on the RBM's
 * features (section 3.2).  Without --init-logreg Wo and bo start at 0.
 *
 * --valid FRACTION holds out the last floor(FRACTION N) records of a
 * shuffle from rng stream 2^62, as tiny-logreg does.  Its accuracy is
 * measured before training (epoch 0, the initial net) and after every
 * epoch; the net written is that of the best (the first on a tie), and
 * training stops after 5 epochs without an improvement.  Without --valid
 * the last epoch's net is written.  One line per epoch on stderr (-q: none).
 *
 * The model, one record: W1 f32 [D,H1], b1 f32 [H1], (W2 f32 [H1,H2],
 * b2 f32 [H2]), Wo f32 [H,K], bo f32 [K], with the attributes classes (the
 * data's, else the logreg model's, else 0..K-1), backprop_settings,
 * backprop_epochs, backprop_best_epoch, backprop_train_loss,
 * backprop_train_accuracy (both absent when no epoch ran or the initial
 * net was kept), (backprop_valid_accuracy), the data's other attributes and
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
 * record) or model value, fewer than 2 records.  Spec: formats/stream.md.
 */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tiny.h"

static const char *usage_line =
	"tiny-backprop --train [-q] [--hidden H1[,H2]] [--init-rbm RBM1[,RBM2]] [--init-logreg LOGREG] "
	"[--epochs E] [--batch B] [--lr R] [--lr-input R] [--standardize] [--momentum M] [--l2 L] [--valid FRACTION] [--seed S] [FILE] | "
	"tiny-backprop [-q] MODEL [FILE]";

#define PATIENCE      5          /* epochs without a better validation accuracy */
#define INIT_SD       0.01       /* random hidden weights: INIT_SD N(0,1) */
#define MAX_HIDDEN    2
#define STREAM_INIT   ((uint64_t)1 << 61)

enum { BLOCK = 1024 };   /* records per read, and per scoring pass */

typedef struct {
	double l2, lr, lr_input, momentum, valid;
	int standardize;
	int64_t epochs, batch;
	uint64_t seed;
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
} net_t;

static const char *const wname[2][MAX_HIDDEN + 1] = {{"W1", "W2", "Wo"}, {"b1", "b2", "bo"}};

/* the field names of layer l of a net of L hidden layers */
static const char *w_field(const net_t *net, int l) { return wname[0][l == net->L ? MAX_HIDDEN : l]; }
static const char *b_field(const net_t *net, int l) { return wname[1][l == net->L ? MAX_HIDDEN : l]; }

static void net_alloc(net_t *net)
{
	for (int l = 0; l <= net->L; l++) {
		net->W[l] = xcalloc((size_t)(net->n[l] * net->n[l + 1]), sizeof(float));
		net->b[l] = xcalloc((size_t)net->n[l + 1], sizeof(float));
	}
}

static void net_free(net_t *net)
{
	for (int l = 0; l <= net->L; l++)
		free(net->W[l]), free(net->b[l]);
}

/* dst's weights and biases = src's (the same shapes) */
static void net_copy(net_t *dst, const net_t *src)
{
	for (int l = 0; l <= src->L; l++) {
		memcpy(dst->W[l], src->W[l], (size_t)(src->n[l] * src->n[l + 1]) * sizeof(float));
		memcpy(dst->b[l], src->b[l], (size_t)src->n[l + 1] * sizeof(float));
	}
}

static int64_t net_widest(const net_t *net)
{
	int64_t w = 0;
	for (int l = 0; l <= net->L + 1; l++)
		if (net->n[l] > w)
			w = net->n[l];
	return w;
}

/* A[l+1] (m, n[l+1]) for l = 0..L from A[0] = X (m,D); A[L+1] is P */
static void forward(const net_t *net, float **A, int64_t m)
{
	for (int l = 0; l <= net->L; l++) {
		int64_t ni = net->n[l], no = net->n[l + 1];
		float *Z = A[l + 1];
		for (int64_t r = 0; r < m; r++)
			memcpy(Z + r * no, net->b[l], (size_t)no * sizeof *Z);
		la_sgemm(0, 0, (int)m, (int)no, (int)ni, 1.0f, A[l], (int)ni, net->W[l], (int)no, 1.0f, Z, (int)no);
		if (l == net->L)
			softmax_rows(Z, m, no);
		else
			for (int64_t i = 0; i < m * no; i++)
				Z[i] = 1.0f / (1.0f + expf(-Z[i]));
	}
}

/* The gradient of the mean loss over m rows into G (W's shapes) and g (b's),
 * given forward()'s activations A and the labels y; A[L+1] (P) is
 * overwritten, dA and dB are (m, widest) scratch.  Weight decay L2 on W. */
static void backward(const net_t *net, float **A, const int64_t *y, int64_t m, double l2, float **G, float **g,
		     float *dA, float *dB)
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
		/* G[l] (ni,no) = A[l]^T delta + L2 W[l] */
		memcpy(G[l], net->W[l], (size_t)(ni * no) * sizeof *G[l]);
		la_sgemm(1, 0, (int)ni, (int)no, (int)m, 1.0f, A[l], (int)ni, delta, (int)no, (float)l2, G[l], (int)no);
		for (int64_t k = 0; k < no; k++)
			g[l][k] = 0;
		for (int64_t r = 0; r < m; r++)
			for (int64_t k = 0; k < no; k++)
				g[l][k] += delta[r * no + k];
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

/* --- the training data (as tiny-logreg keeps it) --------------------------------- */

/* correct predictions among the records idx[0..n); A are forward()'s buffers
 * (BLOCK rows at least) */
static int64_t count_correct(const labelled_t *d, const net_t *net, const int64_t *idx, int64_t n, float **A)
{
	int64_t correct = 0, K = net->n[net->L + 1];
	for (int64_t first = 0; first < n; first += BLOCK) {
		int64_t m = n - first < BLOCK ? n - first : BLOCK;
		ld_gather(d, idx + first, m, A[0]);
		forward(net, A, m);
		for (int64_t r = 0; r < m; r++)
			correct += argmax_f32(A[net->L + 1] + r * K, K) == d->y[idx[first + r]];
	}
	return correct;
}

/* --- initialisation ---------------------------------------------------------------- */

/* Layer l from an RBM: W[l] = W / sigma (row-wise), b[l] = hbias.  n[l] and
 * n[l+1] must already hold what the layer below and --hidden want (0: any). */
static void init_from_rbm(net_t *net, int l, const char *path, const char *below)
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
	net->W[l] = xmalloc((size_t)(m.V * m.H) * sizeof(float));
	net->b[l] = xmalloc((size_t)m.H * sizeof(float));
	for (int64_t i = 0; i < m.V; i++)
		for (int64_t j = 0; j < m.H; j++)
			net->W[l][i * m.H + j] = m.W[i * m.H + j] / m.sigma[i];
	memcpy(net->b[l], m.hbias, (size_t)m.H * sizeof(float));
	rbm_free(&m);
	sin_close(s);
}

static void init_random(net_t *net, int l, uint64_t seed)
{
	int64_t V = net->n[l], H = net->n[l + 1];
	rng_t r;
	rng_seed(&r, seed, STREAM_INIT + (uint64_t)l);
	net->W[l] = xmalloc((size_t)(V * H) * sizeof(float));
	net->b[l] = xcalloc((size_t)H, sizeof(float));
	for (int64_t i = 0; i < V * H; i++)
		net->W[l][i] = (float)(INIT_SD * rng_normal(&r));
}

/* The output layer from a tiny-logreg model (W [H,K], b [K], optionally mu,
 * sd [H]) with the standardisation folded in.  Sets n[L+1] = K; *classes
 * gets the model's classes attribute (or NULL). */
static void init_from_logreg(net_t *net, const char *path, char **classes)
{
	int L = net->L;
	sin_t *ms = sin_open(path);
	lr_model_t lr;
	lr_load(&lr, ms);
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

static void train(const char *path, const opts_t *o)
{
	labelled_t d;
	ld_open(&d, path);

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
			init_from_rbm(&net, l, o->rbm[l], below);
	}
	for (int l = 0; l <= L; l++)
		if (net.n[l] > INT32_MAX / 4 || net.n[l] * net.n[l + 1] > INT32_MAX)
			die("layer %d: %" PRId64 " x %" PRId64 " weights is more than BLAS can index", l + 1, net.n[l],
			    net.n[l + 1]);
	char *lr_classes = NULL;
	if (o->logreg) {
		init_from_logreg(&net, o->logreg, &lr_classes);
		if (d.K && d.K != net.n[L + 1])
			die("%s is a classifier of K = %" PRId64 " classes; %s's classes attribute names %" PRId64,
			    o->logreg, net.n[L + 1], d.in->name, d.K);
		d.K = net.n[L + 1];
	}
	ld_read(&d);
	int64_t N = d.N, D = d.D, K = d.K, B = o->batch;
	net.n[L + 1] = K;
	for (int l = 0; l < L; l++)
		if (l >= o->nrbm)
			init_random(&net, l, o->seed);
	if (!o->logreg) {
		net.W[L] = xcalloc((size_t)(net.n[L] * K), sizeof(float));
		net.b[L] = xcalloc((size_t)K, sizeof(float));
	}
	if (!d.classes) {
		if (lr_classes) {
			d.classes = lr_classes, lr_classes = NULL;
		} else {
			size_t len = 0, cap = (size_t)K * 7 + 1;
			d.classes = xmalloc(cap);
			for (int64_t k = 0; k < K; k++)
				len += (size_t)snprintf(d.classes + len, cap - len, k ? " %" PRId64 : "%" PRId64, k);
		}
	}
	free(lr_classes);

	/* the split: the last floor(valid N) of a seeded order are held out */
	int64_t nvalid, *order = ld_split(&d, o->valid, o->seed, &nvalid);
	int64_t ntrain = N - nvalid, *tr = xmalloc((size_t)ntrain * sizeof *tr);
	const int64_t *va = order + ntrain;
	if (B > ntrain)
		B = ntrain;

	/* --standardize: train on z = (x - mu)/sd of the training part, with the
	 * first layer rewritten to compute the same function of z
	 * (W1z = diag(sd) W1, b1z = b1 + mu W1) and folded back before saving */
	float *mu = NULL, *sd = NULL;
	if (o->standardize) {
		mu = xmalloc((size_t)D * sizeof *mu), sd = xmalloc((size_t)D * sizeof *sd);
		ld_moments(&d, order, ntrain, mu, sd);
		int64_t H1 = net.n[1];
		for (int64_t i = 0; i < D; i++)
			for (int64_t j = 0; j < H1; j++) {
				net.b[0][j] += mu[i] * net.W[0][i * H1 + j];
				net.W[0][i * H1 + j] *= sd[i];
			}
		d.mu = mu, d.sd = sd;
	}

	/* activations A[0..L+1] (rows, n[l]); gradients, momenta and the best net in W's shapes */
	int64_t rows = B > BLOCK ? B : BLOCK, wide = net_widest(&net);
	float *A[MAX_HIDDEN + 2], *G[MAX_HIDDEN + 1], *g[MAX_HIDDEN + 1];
	net_t mom = {.L = L}, best = {.L = L};
	memcpy(mom.n, net.n, sizeof net.n), memcpy(best.n, net.n, sizeof net.n);
	net_alloc(&mom), net_alloc(&best);
	for (int l = 0; l <= L + 1; l++)
		A[l] = xmalloc_big((size_t)(rows * net.n[l]) * sizeof(float));
	for (int l = 0; l <= L; l++) {
		G[l] = xmalloc((size_t)(net.n[l] * net.n[l + 1]) * sizeof(float));
		g[l] = xmalloc((size_t)net.n[l + 1] * sizeof(float));
	}
	float *dA = xmalloc_big((size_t)(rows * wide) * sizeof(float)), *dB = xmalloc_big((size_t)(rows * wide) * sizeof(float));
	int64_t *yb = xmalloc((size_t)rows * sizeof *yb);

	if (!tiny_quiet) {
		fprintf(stderr, "%s: %" PRId64 " records (%" PRId64 " training, %" PRId64 " validation), layers %" PRId64,
			tiny_prog, N, ntrain, nvalid, D);
		for (int l = 1; l <= L + 1; l++)
			fprintf(stderr, "-%" PRId64, net.n[l]);
		fprintf(stderr, "; lr %g momentum %g l2 %g batch %" PRId64 "\n", o->lr, o->momentum, o->l2, B);
	}

	double best_acc = -1, last_loss = NAN, last_tacc = NAN, best_loss = NAN, best_tacc = NAN;
	int64_t best_epoch = 0, epoch;
	if (nvalid) {
		best_acc = (double)count_correct(&d, &net, va, nvalid, A) / (double)nvalid;
		net_copy(&best, &net);
		if (!tiny_quiet)
			fprintf(stderr, "%s: epoch 0 (the initial net): validation accuracy %.4f\n", tiny_prog, best_acc);
	}
	float lr = (float)o->lr, mo = (float)o->momentum;
	float lr0 = o->lr_input >= 0 ? (float)o->lr_input : lr;   /* the first layer's */
	for (epoch = 0; epoch < o->epochs; epoch++) {
		memcpy(tr, order, (size_t)ntrain * sizeof *tr);
		rng_shuffle(tr, ntrain, o->seed, (uint64_t)epoch);
		double loss = 0;
		int64_t correct = 0;
		for (int64_t first = 0; first < ntrain; first += B) {
			int64_t n = ntrain - first < B ? ntrain - first : B;
			ld_gather(&d, tr + first, n, A[0]);
			forward(&net, A, n);
			for (int64_t r = 0; r < n; r++) {
				const float *p = A[L + 1] + r * K;
				int64_t y = yb[r] = d.y[tr[first + r]];
				loss -= log(p[y] > 1e-30f ? (double)p[y] : 1e-30);
				correct += argmax_f32(p, K) == y;
			}
			backward(&net, A, yb, n, o->l2, G, g, dA, dB);
			for (int l = 0; l <= L; l++) {
				int64_t nw = net.n[l] * net.n[l + 1], nb = net.n[l + 1];
				float *W = net.W[l], *uW = mom.W[l], *b = net.b[l], *ub = mom.b[l];
				float r = l == 0 ? lr0 : lr;
				for (int64_t i = 0; i < nw; i++) {
					uW[i] = mo * uW[i] - r * G[l][i];
					W[i] += uW[i];
				}
				for (int64_t k = 0; k < nb; k++) {
					ub[k] = mo * ub[k] - lr * g[l][k];
					b[k] += ub[k];
				}
			}
		}
		loss /= (double)ntrain;
		if (!isfinite(loss) || !isfinite(net.W[0][0]) || !isfinite(net.W[L][0]))
			die("epoch %" PRId64 ": the loss or the weights are no longer finite; try a smaller --lr (now %g)",
			    epoch + 1, o->lr);
		last_loss = loss, last_tacc = (double)correct / (double)ntrain;
		double vacc = nvalid ? (double)count_correct(&d, &net, va, nvalid, A) / (double)nvalid : NAN;
		if (!tiny_quiet) {
			fprintf(stderr, "%s: epoch %" PRId64 "/%" PRId64 ": loss %.4f, training accuracy %.4f", tiny_prog,
				epoch + 1, o->epochs, loss, last_tacc);
			if (nvalid)
				fprintf(stderr, ", validation accuracy %.4f%s", vacc, vacc > best_acc ? " (best)" : "");
			fputc('\n', stderr);
		}
		if (nvalid) {
			if (vacc > best_acc) {
				best_acc = vacc, best_epoch = epoch + 1, best_loss = last_loss, best_tacc = last_tacc;
				net_copy(&best, &net);
			} else if (epoch + 1 - best_epoch >= PATIENCE) {
				epoch++;
				if (!tiny_quiet)
					fprintf(stderr, "%s: no better validation accuracy in %d epochs: stopping, keeping epoch %" PRId64 "\n",
						tiny_prog, PATIENCE, best_epoch);
				break;
			}
		}
	}
	net_t *keep = nvalid ? &best : &net;
	if (o->standardize) {
		/* back to raw inputs: W1 = diag(1/sd) W1z, b1 = b1z - (mu/sd) W1z */
		int64_t H1 = keep->n[1];
		for (int64_t i = 0; i < D; i++)
			for (int64_t j = 0; j < H1; j++) {
				keep->W[0][i * H1 + j] /= sd[i];
				keep->b[0][j] -= mu[i] * keep->W[0][i * H1 + j];
			}
	}
	if (nvalid)
		last_loss = best_loss, last_tacc = best_tacc;

	/* the model: one record, the data's attributes */
	theader h;
	th_copy(&h, &d.in->h);
	while (h.nfields)
		th_remove_field(&h, 0);
	h.count = 1;
	for (int l = 0; l <= L; l++) {
		th_field(&h, w_field(&net, l), DT_F32, 2, net.n[l], net.n[l + 1]);
		th_field(&h, b_field(&net, l), DT_F32, 1, net.n[l + 1]);
	}
	th_attr_set(&h, "classes", d.classes);
	th_attr_setf(&h, "backprop_settings",
		     "lr %g momentum %g l2 %g batch %" PRId64 " epochs %" PRId64 " valid %g seed %" PRIu64
		     " hidden %s init-rbm %s init-logreg %s",
		     o->lr, o->momentum, o->l2, o->batch, o->epochs, o->valid, o->seed,
		     o->hidden_arg ? o->hidden_arg : "-", o->rbm_arg ? o->rbm_arg : "-", o->logreg ? o->logreg : "-");
	th_attr_setf(&h, "backprop_epochs", "%" PRId64, epoch);
	th_attr_setf(&h, "backprop_best_epoch", "%" PRId64, nvalid ? best_epoch : epoch);
	if (isfinite(last_loss)) {
		th_attr_setf(&h, "backprop_train_accuracy", "%.4f", last_tacc);
		th_attr_setf(&h, "backprop_train_loss", "%.6g", last_loss);
	}
	if (nvalid)
		th_attr_setf(&h, "backprop_valid_accuracy", "%.4f", best_acc);
	th_add_history(&h);

	unsigned char *rec = xmalloc((size_t)h.recsize);
	for (int l = 0; l <= L; l++) {
		memcpy(rec + h.fields[2 * l].offset, keep->W[l], (size_t)h.fields[2 * l].nbytes);
		memcpy(rec + h.fields[2 * l + 1].offset, keep->b[l], (size_t)h.fields[2 * l + 1].nbytes);
	}
	sout_t *out = sout_open(NULL, &h);
	sout_write(out, rec, 1);
	sout_close(out);
	sin_close(d.in);
	th_free(&h);
	for (int l = 0; l <= L + 1; l++)
		free(A[l]);
	for (int l = 0; l <= L; l++)
		free(G[l]), free(g[l]);
	net_free(&net), net_free(&mom), net_free(&best);
	free(rec), free(order), free(tr), free(dA), free(dB), free(yb), free(d.xs), free(d.y), free(d.classes), free(mu), free(sd);
}

/* --- predicting ---------------------------------------------------------------------------- */

/* A model of this stage: W1, b1, (W2, b2), Wo, bo, shapes chained, finite. */
static void net_load(net_t *net, sin_t *ms)
{
	const theader *h = &ms->h;
	net->L = th_find(h, "W2") >= 0 ? 2 : 1;
	const tfield *fw[MAX_HIDDEN + 1], *fb[MAX_HIDDEN + 1];
	int ok = h->count == 1;
	for (int l = 0; l <= net->L; l++) {
		fw[l] = th_need(h, w_field(net, l), ms->name);
		fb[l] = th_need(h, b_field(net, l), ms->name);
		ok = ok && fw[l]->dtype == DT_F32 && fw[l]->rank == 2 && fb[l]->dtype == DT_F32 && fb[l]->rank == 1 &&
		     fb[l]->n == fw[l]->dims[1] && (l == 0 || fw[l]->dims[0] == fw[l - 1]->dims[1]);
		if (ok && l == 0)
			net->n[0] = fw[0]->dims[0];
		if (ok)
			net->n[l + 1] = fw[l]->dims[1];
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
	net_t net;
	net_load(&net, ms);
	int L = net.L;
	int64_t D = net.n[0], K = net.n[L + 1];
	const char *classes = th_attr(&ms->h, "classes");

	sin_t *in = sin_open(path);
	const tfield *fx = th_need(&in->h, "x", in->name);
	if (fx->n != D)
		die("%s is a net of D = %" PRId64 " inputs; %s's x has %" PRId64 " values", ms->name, D, in->name,
		    fx->n);

	pred_out_t po;
	pred_open(&po, in, K, classes);
	int64_t R = in->h.recsize, n, done = 0;
	unsigned char *raw = xmalloc((size_t)(BLOCK * R));
	float *A[MAX_HIDDEN + 2];
	for (int l = 0; l <= L + 1; l++)
		A[l] = xmalloc((size_t)(BLOCK * net.n[l]) * sizeof(float));
	progress_t bar;
	progress_start(&bar, "predict", in->h.count == TINY_COUNT_UNKNOWN ? 0 : (double)in->h.count);
	while ((n = sin_read(in, raw, BLOCK)) > 0) {
		tf_get_f32(fx, raw, n, R, A[0]);
		tf_check_finite_f32(A[0], n, D, done, in->name, "x");
		forward(&net, A, n);
		pred_write(&po, raw, n, A[L + 1]);
		done += n;
		progress_update(&bar, (double)done);
	}
	progress_end(&bar);
	pred_close(&po);
	sin_close(in);
	sin_close(ms);
	for (int l = 0; l <= L + 1; l++)
		free(A[l]);
	net_free(&net);
	free(raw);
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
		{"epochs", required_argument, 0, 'e'}, {"batch", required_argument, 0, 'b'},
		{"lr", required_argument, 0, 'r'}, {"momentum", required_argument, 0, 'm'},
		{"lr-input", required_argument, 0, 'I'}, {"standardize", no_argument, 0, 'Z'},
		{"l2", required_argument, 0, 'l'}, {"valid", required_argument, 0, 'v'},
		{"seed", required_argument, 0, 's'}, {"quiet", no_argument, 0, 'q'},
		{"help", no_argument, 0, 'h'}, {0}};
	opts_t o = {.l2 = 1e-4, .lr = 0.01, .lr_input = -1, .momentum = 0.9, .epochs = 30, .batch = 100, .seed = 1};
	int training = 0, train_opts = 0, c;
	char *parts[MAX_HIDDEN];
	tiny_init(argc, argv, usage_line);
	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (c) {
		case 't': training = 1; break;
		case 'H':
			o.nhidden = split_list("--hidden", optarg, parts), o.hidden_arg = optarg, train_opts = 1;
			for (int i = 0; i < o.nhidden; i++) {
				o.hidden[i] = opt_i64("--hidden", parts[i], 1, 1 << 20);
				free(parts[i]);
			}
			break;
		case 'R': o.nrbm = split_list("--init-rbm", optarg, o.rbm), o.rbm_arg = optarg, train_opts = 1; break;
		case 'G': o.logreg = optarg, train_opts = 1; break;
		case 'e': o.epochs = opt_i64("--epochs", optarg, 0, 1 << 30), train_opts = 1; break;
		case 'b': o.batch = opt_i64("--batch", optarg, 1, 1 << 20), train_opts = 1; break;
		case 'r': o.lr = opt_f64("--lr", optarg, 0, 1e6), train_opts = 1; break;
		case 'I': o.lr_input = opt_f64("--lr-input", optarg, 0, 1e6), train_opts = 1; break;
		case 'Z': o.standardize = 1, train_opts = 1; break;
		case 'm':
			o.momentum = opt_f64("--momentum", optarg, 0, 1), train_opts = 1;
			if (o.momentum >= 1)
				usage_error("--momentum %s: expected a number from 0 to below 1", optarg);
			break;
		case 'l': o.l2 = opt_f64("--l2", optarg, 0, 1e6), train_opts = 1; break;
		case 'v':
			o.valid = opt_f64("--valid", optarg, 0, 1), train_opts = 1;
			if (o.valid <= 0 || o.valid >= 1)
				usage_error("--valid %s: expected a fraction above 0 and below 1", optarg);
			break;
		case 's': o.seed = opt_u64("--seed", optarg), train_opts = 1; break;
		case 'q': tiny_quiet = 1; break;
		case 'h': printf("usage: %s\n", usage_line); return 0;
		default: usage();
		}
	}
	if (training) {
		if (argc - optind > 1)
			usage_error("--train reads one data stream");
		if (!o.nhidden && !o.nrbm)
			usage_error("--train needs --hidden or --init-rbm for the hidden layers");
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
			usage_error("--hidden, --init-rbm, --init-logreg, --epochs, --batch, --lr, --momentum, --l2, "
				    "--valid and --seed apply to --train");
		const char *model_path, *path;
		model_and_data(argc, argv, optind, &model_path, &path);
		predict(model_path, path);
	}
	return 0;
}
