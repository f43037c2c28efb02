/*
 * tiny-logreg - multinomial logistic regression (softmax), the classifier of
 * chapter 3 of the report: on raw pixels and on RBM features.
 *
 * usage: tiny-logreg --train [-q] [--l2 L] [--epochs E] [--batch B] [--lr R]
 *          [--valid FRACTION] [--standardize | --no-standardize] [--seed S]
 *          [--solver sgd|lbfgs] [--target-loss L] [FILE]
 *        tiny-logreg [-q] MODEL [FILE]
 *
 * Shapes: N records, D values of x per record (any dtype and shape,
 * flattened), K classes, B records in a minibatch.
 *
 * --train reads a labelled data set (field x, integer field label; the
 * attribute classes gives the K names, else K = max label + 1) and writes
 * the model, one record:
 *
 *   W  f32 [D,K]    b  f32 [K]    and, when standardising,
 *   mu f32 [D]      sd f32 [D]    inputs become z = (x - mu) / sd
 *
 * with the attribute classes (0..K-1 when the data has none), the settings
 * (logreg_settings) and results (logreg_epochs run, logreg_best_epoch,
 * and that epoch's logreg_train_loss, logreg_train_accuracy and
 * logreg_valid_accuracy), and the data's attributes
 * with this stage's history line.  mu and sd are the training part's mean
 * and standard deviation per input; an sd below 1e-6 (a constant input)
 * is taken as 1.  Standardising is on by default (CIFAR's pixels run 0-255,
 * far too large for a learning rate that suits features in 0-1).
 * Defaults: --lr 0.001 (with D = 3072 standardised inputs, 0.01 overshoots:
 * the first epoch's loss rises above log K), --l2 1e-4, --epochs 30,
 * --batch 100, --seed 1, no --valid.
 *
 * The model and its loss, for a minibatch Z (B,D) with one-hot targets
 * Y (B,K):
 *
 *   S = Z W + 1 b^T                    (B,K) scores, one sgemm
 *   P = softmax(S) row by row          (B,K)
 *   loss = -1/B sum_n log P[n, y_n] + L/2 ||W||^2       (b is not decayed)
 *   dW = Z^T (P - Y) / B + L W         (D,K), one sgemm
 *   db = 1^T (P - Y) / B               (K)
 *
 * Minibatch gradient descent with momentum 0.9 (fixed):
 * u = 0.9 u - R d(theta), theta += u, for theta = W and b; W, b and the
 * momenta start at zero, so the first step is exactly -R times the
 * gradient at W = 0, b = 0 (tests/logreg.bats checks this against NumPy).
 * Each epoch visits the training records in a Fisher-Yates order from
 * rng stream `epoch` (0-based) of --seed; the last minibatch of an epoch may
 * be smaller than B.
 *
 * --valid FRACTION shuffles all N records once (rng stream 2^62) and holds
 * out the last floor(FRACTION N) of that order.  After every epoch the
 * held-out accuracy is measured; the model written is that of the best
 * epoch (the first one on a tie), and training stops after 5 epochs without
 * an improvement.  Without --valid, the last epoch's weights are written.
 * --solver lbfgs minimises the same objective (below) over the whole
 * training part by L-BFGS instead: the standardised records are held as
 * f32 once (N D 4 bytes), each evaluation of the objective and its
 * gradient is two sgemm per 1024 records, the direction comes from the
 * last 10 steps (the two-loop recursion, scaled by s.y / y.y), and a
 * backtracking line search (from step 1; 1 / |g| on the first iteration)
 * halves the step until the objective falls by at least 1e-4 of the
 * step's first-order decrease.  An epoch is then an iteration, and its
 * loss is the objective; it stops early when no step lowers the
 * objective.  (Measured, make bench: to scikit-learn's lbfgs objective on
 * the 50000 CIFAR-10 images, L-BFGS took 102 iterations and 16-18 s, SGD
 * 113 epochs and 81-108 s, scikit-learn 31-32 s; SGD stays the default
 * because its early stopping gave Figure 3.1's accuracies.)
 * --target-loss L also computes, after every epoch, the objective (the
 * loss above, its mean over the whole training part at the epoch's end,
 * plus L2/2 ||W||^2) and stops once it is at most L (make bench uses it to
 * time the training to scikit-learn's final loss).
 * Each epoch prints one line on stderr (quiet with -q): the mean training
 * loss and accuracy over the minibatches as they were seen during the
 * epoch (before each step), and the validation accuracy.
 *
 * tiny-logreg MODEL [FILE] predicts: the output has the data's label (if
 * any, same dtype and shape), pred i32 [] (the argmax of P; the first on a
 * tie) and prob f32 [K] (P, each row summing to 1), with the model's
 * classes and the data's other attributes plus this history line.  With a
 * label it prints the accuracy on stderr (not with -q).
 *
 * Errors (nothing is written): no label field or a non-integer label for
 * --train, a label outside 0..K-1 (or, without classes, above 65535),
 * a NaN or infinite x (naming the record), fewer than 2 records (or an
 * empty training or validation part), an x with another D than the model.
 * Spec of the stream: formats/stream.md.
 */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tiny.h"

static const char *usage_line =
	"tiny-logreg --train [-q] [--l2 L] [--epochs E] [--batch B] [--lr R] [--valid FRACTION] "
	"[--standardize | --no-standardize] [--seed S] [--solver sgd|lbfgs] [--target-loss L] [FILE] | tiny-logreg [-q] MODEL [FILE]";

#define MOMENTUM      0.9f
#define PATIENCE      5          /* epochs without a better validation accuracy */

enum { BLOCK = 1024 };   /* records per read, and per scoring sgemm */

typedef struct {
	double l2, lr, valid, target;
	int64_t epochs, batch;
	uint64_t seed;
	int standardize, lbfgs;
} opts_t;

/* --- scoring --------------------------------------------------------------------- */

/* P (n,K) = softmax(X W + 1 b^T) for X (n,D), W (D,K); a row's exponentials
 * are taken after subtracting its largest score. */
static void probs(const float *X, int64_t n, int64_t D, int64_t K, const float *W, const float *b, float *P)
{
	for (int64_t r = 0; r < n; r++)
		memcpy(P + r * K, b, (size_t)K * sizeof *P);
	la_sgemm(0, 0, (int)n, (int)K, (int)D, 1.0f, X, (int)D, W, (int)K, 1.0f, P, (int)K);
	softmax_rows(P, n, K);
}

/* z = (x - mu) / sd for each of n rows of X (n,D); nothing when mu is NULL */
static void standardize_rows(float *X, int64_t n, int64_t D, const float *mu, const float *sd)
{
	if (!mu)
		return;
	for (int64_t r = 0; r < n; r++)
		for (int64_t i = 0; i < D; i++)
			X[r * D + i] = (X[r * D + i] - mu[i]) / sd[i];
}

/* --- the training data ------------------------------------------------------------- */

/* correct predictions among the records idx[0..n), and (when loss is not
 * NULL) the sum of their -log P[n, y_n]; X, P are scratch (BLOCK rows) */
static int64_t count_correct(const labelled_t *d, const int64_t *idx, int64_t n, const float *W, const float *b,
			     float *X, float *P, double *loss)
{
	int64_t correct = 0;
	if (loss)
		*loss = 0;
	for (int64_t first = 0; first < n; first += BLOCK) {
		int64_t m = n - first < BLOCK ? n - first : BLOCK;
		ld_gather(d, idx + first, m, X);
		probs(X, m, d->D, d->K, W, b, P);
		for (int64_t r = 0; r < m; r++) {
			const float *p = P + r * d->K;
			int64_t y = d->y[idx[first + r]];
			correct += argmax_f32(p, d->K) == y;
			if (loss)
				*loss -= log(p[y] > 1e-30f ? (double)p[y] : 1e-30);
		}
	}
	return correct;
}

/* --- training -------------------------------------------------------------------------- */

/* One block of n records X (n,D), labels y[idx[0..n)]: P = softmax(X W + 1 b^T);
 * returns the sum of -log P[r, y_r] and adds the right predictions to
 * *correct; then P becomes P - Y, its column sums are added to gb, and
 * G (D,K) becomes alpha X^T (P - Y) + beta G (one sgemm). */
static double block_step(const float *X, int64_t n, int64_t D, int64_t K, const int64_t *y, const int64_t *idx,
			 const float *W, const float *b, float *P, float alpha, float beta, float *G, float *gb,
			 int64_t *correct)
{
	double loss = 0;
	probs(X, n, D, K, W, b, P);
	for (int64_t r = 0; r < n; r++) {
		float *p = P + r * K;
		int64_t yr = y[idx[r]];
		loss -= log(p[yr] > 1e-30f ? (double)p[yr] : 1e-30);
		*correct += argmax_f32(p, K) == yr;
		p[yr] -= 1.0f;
		for (int64_t k = 0; k < K; k++)
			gb[k] += p[k];
	}
	la_sgemm(1, 0, (int)D, (int)K, (int)n, alpha, X, (int)D, P, (int)K, beta, G, (int)K);
	return loss;
}

/* The objective's penalty, L2/2 ||W||^2 (n values of W) */
static double penalty(const float *W, size_t n, double l2)
{
	double w2 = 0;
	for (size_t i = 0; i < n; i++)
		w2 += (double)W[i] * W[i];
	return l2 / 2 * w2;
}

/* L-BFGS: the objective over all ntrain standardised rows Z (ntrain,D)
 * and its gradient G (D,K), gb (K), in blocks of BLOCK rows (measured:
 * faster than two sgemm over all rows at once) */
static double full_objective(const float *Z, int64_t ntrain, int64_t D, int64_t K, const int64_t *y, const int64_t *idx,
			     const float *W, const float *b, double l2, float *P, float *G, float *gb, int64_t *correct)
{
	double loss = 0;
	size_t DK = (size_t)(D * K);
	memset(G, 0, DK * sizeof *G);
	memset(gb, 0, (size_t)K * sizeof *gb);
	*correct = 0;
	for (int64_t first = 0; first < ntrain; first += BLOCK) {
		int64_t n = ntrain - first < BLOCK ? ntrain - first : BLOCK;
		loss += block_step(Z + first * D, n, D, K, y, idx + first, W, b, P, 1.0f / (float)ntrain, 1.0f, G, gb,
				   correct);
	}
	for (size_t i = 0; i < DK; i++)
		G[i] += (float)l2 * W[i];
	for (int64_t k = 0; k < K; k++)
		gb[k] /= (float)ntrain;
	return loss / (double)ntrain + penalty(W, DK, l2);
}

static double dot(const double *a, const double *b, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += a[i] * b[i];
	return s;
}

/* The L-BFGS state over theta = [W; b] (n = DK + K values, in double):
 * the last LBFGS_M pairs s = theta' - theta, y = grad' - grad. */
enum { LBFGS_M = 10 };
typedef struct {
	size_t n;
	int count, next;
	double *s[LBFGS_M], *y[LBFGS_M], rho[LBFGS_M];
	double *x, *g, *d, *xn, *gn;
	float *Wn, *bn, *Gn, *gbn;
} lbfgs_t;

static void pack(double *v, const float *W, const float *b, size_t DK, int64_t K)
{
	for (size_t i = 0; i < DK; i++)
		v[i] = W[i];
	for (int64_t k = 0; k < K; k++)
		v[DK + (size_t)k] = b[k];
}

static void unpack(const double *v, float *W, float *b, size_t DK, int64_t K)
{
	for (size_t i = 0; i < DK; i++)
		W[i] = (float)v[i];
	for (int64_t k = 0; k < K; k++)
		b[k] = (float)v[DK + (size_t)k];
}

/* One iteration from W, b with objective *f and gradient G, gb (updated in
 * place): the two-loop direction, then a backtracking line search from
 * step 1 (1 / |g| on the first) until the Armijo condition holds; returns
 * the evaluations it took (0: no step decreased the objective). */
static int lbfgs_iter(lbfgs_t *L, const float *Z, int64_t ntrain, int64_t D, int64_t K, const int64_t *y,
		      const int64_t *idx, double l2, float *W, float *b, float *G, float *gb, double *f, float *P,
		      int64_t *correct)
{
	size_t DK = (size_t)(D * K), n = L->n;
	pack(L->x, W, b, DK, K);
	pack(L->g, G, gb, DK, K);
	/* d = -H g by the two-loop recursion, newest pair first */
	double alpha[LBFGS_M];
	for (size_t i = 0; i < n; i++)
		L->d[i] = -L->g[i];
	for (int j = 0; j < L->count; j++) {
		int t = (L->next - 1 - j + LBFGS_M) % LBFGS_M;
		alpha[t] = L->rho[t] * dot(L->s[t], L->d, n);
		for (size_t i = 0; i < n; i++)
			L->d[i] -= alpha[t] * L->y[t][i];
	}
	double step = 1;
	if (L->count) {
		int t = (L->next - 1 + LBFGS_M) % LBFGS_M;
		double gamma = dot(L->s[t], L->y[t], n) / dot(L->y[t], L->y[t], n);
		for (size_t i = 0; i < n; i++)
			L->d[i] *= gamma;
	} else {
		step = 1 / sqrt(dot(L->g, L->g, n));
	}
	for (int j = L->count - 1; j >= 0; j--) {
		int t = (L->next - 1 - j + LBFGS_M) % LBFGS_M;
		double beta = L->rho[t] * dot(L->y[t], L->d, n);
		for (size_t i = 0; i < n; i++)
			L->d[i] += (alpha[t] - beta) * L->s[t][i];
	}
	double gd = dot(L->g, L->d, n);
	if (!(gd < 0)) {   /* not a descent direction: forget the pairs */
		for (size_t i = 0; i < n; i++)
			L->d[i] = -L->g[i];
		gd = -dot(L->g, L->g, n);
		L->count = 0;
		step = 1 / sqrt(-gd);
	}
	for (int evals = 1; evals <= 30; evals++, step *= 0.5) {
		for (size_t i = 0; i < n; i++)
			L->xn[i] = L->x[i] + step * L->d[i];
		unpack(L->xn, L->Wn, L->bn, DK, K);
		int64_t c;
		double fn = full_objective(Z, ntrain, D, K, y, idx, L->Wn, L->bn, l2, P, L->Gn, L->gbn, &c);
		if (isfinite(fn) && fn <= *f + 1e-4 * step * gd) {
			pack(L->gn, L->Gn, L->gbn, DK, K);
			int t = L->next;
			double sy = 0;
			for (size_t i = 0; i < n; i++) {
				L->s[t][i] = L->xn[i] - L->x[i];
				L->y[t][i] = L->gn[i] - L->g[i];
				sy += L->s[t][i] * L->y[t][i];
			}
			if (sy > 1e-12) {   /* keep the pair only with positive curvature */
				L->rho[t] = 1 / sy;
				L->next = (t + 1) % LBFGS_M;
				L->count += L->count < LBFGS_M;
			}
			memcpy(W, L->Wn, DK * sizeof *W);
			memcpy(b, L->bn, (size_t)K * sizeof *b);
			memcpy(G, L->Gn, DK * sizeof *G);
			memcpy(gb, L->gbn, (size_t)K * sizeof *gb);
			*f = fn, *correct = c;
			return evals;
		}
	}
	return 0;
}

static void train(const char *path, const opts_t *o)
{
	labelled_t d;
	ld_open(&d, path);
	ld_read(&d);
	if (!d.classes)
		d.classes = ld_class_numbers(d.K);
	if (d.D * d.K * 4 > TINY_RECORD_MAX / 2)
		die("%s: D = %" PRId64 " inputs x K = %" PRId64 " classes is too many weights", d.in->name, d.D, d.K);
	int64_t N = d.N, D = d.D, K = d.K, B = o->batch;

	/* the split: the last floor(valid N) of a seeded order are held out */
	int64_t nvalid, *order = ld_split(&d, o->valid, o->seed, &nvalid);
	int64_t ntrain = N - nvalid, *tr = xmalloc((size_t)ntrain * sizeof *tr);
	const int64_t *va = order + ntrain;
	if (B > ntrain)
		B = ntrain;

	float *mu = NULL, *sd = NULL;
	if (o->standardize) {
		mu = xmalloc((size_t)D * sizeof *mu), sd = xmalloc((size_t)D * sizeof *sd);
		ld_moments(&d, order, ntrain, mu, sd);
		d.mu = mu, d.sd = sd;   /* ld_gather standardises from here on */
	}

	/* W, dW, uW (D,K); b, db, ub (K); the best epoch's W and b */
	size_t DK = (size_t)(D * K);
	float *W = xcalloc(DK, sizeof *W), *G = xmalloc(DK * sizeof *G), *uW = xcalloc(DK, sizeof *uW);
	float *b = xcalloc((size_t)K, sizeof *b), *gb = xmalloc((size_t)K * sizeof *gb),
	      *ub = xcalloc((size_t)K, sizeof *ub);
	float *bestW = nvalid ? xcalloc(DK, sizeof *bestW) : NULL, *bestb = nvalid ? xcalloc((size_t)K, sizeof *bestb) : NULL;
	int64_t rows = B > BLOCK ? B : BLOCK;
	float *X = xmalloc_big((size_t)(rows * D) * sizeof *X), *P = xmalloc((size_t)(rows * K) * sizeof *P);

	if (!tiny_quiet)
		fprintf(stderr,
			"%s: %" PRId64 " records (%" PRId64 " training, %" PRId64 " validation), D = %" PRId64
			", K = %" PRId64 "; lr %g momentum %g l2 %g batch %" PRId64 "%s\n",
			tiny_prog, N, ntrain, nvalid, D, K, o->lr, (double)MOMENTUM, o->l2, B,
			o->standardize ? ", standardised" : "");

	/* L-BFGS: the standardised training rows once, the objective at W = b = 0 */
	lbfgs_t L = {0};
	float *Z = NULL;
	double f = NAN;
	int64_t fcorrect = 0;
	if (o->lbfgs) {
		Z = xmalloc_big((size_t)(ntrain * D) * sizeof *Z);
		ld_gather(&d, order, ntrain, Z);
		L.n = DK + (size_t)K;
		for (int j = 0; j < LBFGS_M; j++)
			L.s[j] = xmalloc(L.n * sizeof(double)), L.y[j] = xmalloc(L.n * sizeof(double));
		L.x = xmalloc(L.n * sizeof(double)), L.g = xmalloc(L.n * sizeof(double));
		L.d = xmalloc(L.n * sizeof(double)), L.xn = xmalloc(L.n * sizeof(double));
		L.gn = xmalloc(L.n * sizeof(double));
		L.Wn = xmalloc(DK * sizeof *L.Wn), L.Gn = xmalloc(DK * sizeof *L.Gn);
		L.bn = xmalloc((size_t)K * sizeof *L.bn), L.gbn = xmalloc((size_t)K * sizeof *L.gbn);
		f = full_objective(Z, ntrain, D, K, d.y, order, W, b, o->l2, P, G, gb, &fcorrect);
	}

	double best_acc = -1, last_loss = 0, last_tacc = 0, best_loss = 0, best_tacc = 0;
	int64_t best_epoch = 0, epoch;
	for (epoch = 0; epoch < o->epochs; epoch++) {
		double loss = 0;
		int64_t correct = 0;
		if (o->lbfgs) {
			if (!lbfgs_iter(&L, Z, ntrain, D, K, d.y, order, o->l2, W, b, G, gb, &f, P, &fcorrect)) {
				if (!tiny_quiet)
					fprintf(stderr, "%s: iteration %" PRId64 ": no step along the search direction lowers "
						"the objective: converged\n", tiny_prog, epoch + 1);
				break;
			}
			loss = f * (double)ntrain, correct = fcorrect;   /* per record, below */
		} else {
			memcpy(tr, order, (size_t)ntrain * sizeof *tr);
			rng_shuffle(tr, ntrain, o->seed, (uint64_t)epoch);
			for (int64_t first = 0; first < ntrain; first += B) {
				int64_t n = ntrain - first < B ? ntrain - first : B;
				ld_gather(&d, tr + first, n, X);
				/* G (D,K) = X^T (P - Y) / n + L W; gb the column sums of P - Y */
				memcpy(G, W, DK * sizeof *G);
				memset(gb, 0, (size_t)K * sizeof *gb);
				loss += block_step(X, n, D, K, d.y, tr + first, W, b, P, 1.0f / (float)n, (float)o->l2, G, gb,
						   &correct);
				float lr = (float)o->lr;
				for (size_t i = 0; i < DK; i++) {
					uW[i] = MOMENTUM * uW[i] - lr * G[i];
					W[i] += uW[i];
				}
				for (int64_t k = 0; k < K; k++) {
					ub[k] = MOMENTUM * ub[k] - lr * gb[k] / (float)n;
					b[k] += ub[k];
				}
			}
		}
		loss /= (double)ntrain;
		if (!isfinite(loss) || !isfinite(W[0]) || !isfinite(b[0]))
			die("epoch %" PRId64 ": the loss or the weights are no longer finite; try a smaller --lr (now %g)",
			    epoch + 1, o->lr);
		last_loss = loss, last_tacc = (double)correct / (double)ntrain;
		double vacc = nvalid ? (double)count_correct(&d, va, nvalid, W, b, X, P, NULL) / (double)nvalid : NAN;
		double objective = o->lbfgs ? f : NAN;
		if (o->target > 0 && !o->lbfgs) {
			/* the objective at this epoch's end, on the whole training part */
			count_correct(&d, order, ntrain, W, b, X, P, &objective);
			objective = objective / (double)ntrain + penalty(W, DK, o->l2);
		}
		if (!tiny_quiet) {
			fprintf(stderr, "%s: %s %" PRId64 "/%" PRId64 ": loss %.4f, training accuracy %.4f", tiny_prog,
				o->lbfgs ? "iteration" : "epoch", epoch + 1, o->epochs, loss, last_tacc);
			if (nvalid)
				fprintf(stderr, ", validation accuracy %.4f%s", vacc, vacc > best_acc ? " (best)" : "");
			if (o->target > 0 || o->lbfgs)
				fprintf(stderr, ", objective %.6f", objective);
			fputc('\n', stderr);
		}
		if (objective <= o->target) {
			epoch++;
			if (!tiny_quiet)
				fprintf(stderr, "%s: the objective reached --target-loss %g: stopping\n", tiny_prog, o->target);
			if (nvalid && vacc > best_acc) {
				best_acc = vacc, best_epoch = epoch, best_loss = last_loss, best_tacc = last_tacc;
				memcpy(bestW, W, DK * sizeof *W);
				memcpy(bestb, b, (size_t)K * sizeof *b);
			}
			break;
		}
		if (nvalid) {
			if (vacc > best_acc) {
				best_acc = vacc, best_epoch = epoch + 1, best_loss = last_loss, best_tacc = last_tacc;
				memcpy(bestW, W, DK * sizeof *W);
				memcpy(bestb, b, (size_t)K * sizeof *b);
			} else if (epoch + 1 - best_epoch >= PATIENCE) {
				epoch++;
				if (!tiny_quiet)
					fprintf(stderr, "%s: no better validation accuracy in %d epochs: stopping, keeping epoch %" PRId64 "\n",
						tiny_prog, PATIENCE, best_epoch);
				break;
			}
		}
	}
	if (nvalid && best_epoch > 0) {
		memcpy(W, bestW, DK * sizeof *W);
		memcpy(b, bestb, (size_t)K * sizeof *b);
		last_loss = best_loss, last_tacc = best_tacc;
	}

	/* the model: one record, the data's attributes */
	theader h;
	th_copy(&h, &d.in->h);
	while (h.nfields)
		th_remove_field(&h, 0);
	h.count = 1;
	th_field(&h, "W", DT_F32, 2, D, K);
	th_field(&h, "b", DT_F32, 1, K);
	if (mu) {
		th_field(&h, "mu", DT_F32, 1, D);
		th_field(&h, "sd", DT_F32, 1, D);
	}
	th_attr_set(&h, "classes", d.classes);
	th_attr_setf(&h, "logreg_settings",
		 "solver %s lr %g momentum %g l2 %g batch %" PRId64 " epochs %" PRId64 " valid %g standardize %s seed %" PRIu64,
		 o->lbfgs ? "lbfgs" : "sgd", o->lr, (double)MOMENTUM, o->l2, o->batch, o->epochs, o->valid,
		 o->standardize ? "yes" : "no", o->seed);
	th_attr_setf(&h, "logreg_epochs", "%" PRId64, epoch);
	th_attr_setf(&h, "logreg_best_epoch", "%" PRId64, nvalid ? best_epoch : epoch);
	th_attr_setf(&h, "logreg_train_accuracy", "%.4f", last_tacc);
	th_attr_setf(&h, "logreg_train_loss", "%.6g", last_loss);
	if (nvalid)
		th_attr_setf(&h, "logreg_valid_accuracy", "%.4f", best_acc);
	th_add_history(&h);

	unsigned char *rec = xmalloc((size_t)h.recsize);
	memcpy(rec + h.fields[0].offset, W, DK * sizeof *W);
	memcpy(rec + h.fields[1].offset, b, (size_t)K * sizeof *b);
	if (mu) {
		memcpy(rec + h.fields[2].offset, mu, (size_t)D * sizeof *mu);
		memcpy(rec + h.fields[3].offset, sd, (size_t)D * sizeof *sd);
	}
	sout_t *out = sout_open(NULL, &h);
	sout_write(out, rec, 1);
	sout_close(out);
	sin_close(d.in);
	th_free(&h);
	free(rec), free(order), free(tr), free(mu), free(sd), free(W), free(G), free(uW), free(b), free(gb), free(ub);
	free(bestW), free(bestb), free(X), free(P), free(d.xs), free(d.y), free(d.classes);
	free(Z), free(L.x), free(L.g), free(L.d), free(L.xn), free(L.gn), free(L.Wn), free(L.Gn), free(L.bn), free(L.gbn);
	for (int j = 0; j < LBFGS_M; j++)
		free(L.s[j]), free(L.y[j]);
}

/* --- predicting ---------------------------------------------------------------------------- */

static void predict(const char *model_path, const char *path)
{
	sin_t *ms = sin_open(model_path);
	lr_model_t lr;
	lr_load(&lr, ms);
	int64_t D = lr.D, K = lr.K;
	const float *W = lr.W, *b = lr.b, *mu = lr.mu, *sd = lr.sd;
	const char *classes = lr.classes;

	sin_t *in = sin_open(path);
	const tfield *fx = th_need(&in->h, "x", in->name);
	if (fx->n != D)
		die("%s is a model of D = %" PRId64 " inputs; %s's x has %" PRId64 " values", ms->name, D, in->name,
		    fx->n);

	pred_out_t po;
	pred_open(&po, in, K, classes);
	int64_t R = in->h.recsize, n, done = 0;
	unsigned char *raw = xmalloc((size_t)(BLOCK * R));
	float *X = xmalloc((size_t)(BLOCK * D) * sizeof *X), *P = xmalloc((size_t)(BLOCK * K) * sizeof *P);
	progress_t bar;
	progress_start(&bar, "predict", in->h.count == TINY_COUNT_UNKNOWN ? 0 : (double)in->h.count);
	while ((n = sin_read(in, raw, BLOCK)) > 0) {
		tf_get_f32(fx, raw, n, R, X);
		tf_check_finite_f32(X, n, D, done, in->name, "x");
		standardize_rows(X, n, D, mu, sd);
		probs(X, n, D, K, W, b, P);
		pred_write(&po, raw, n, P);
		done += n;
		progress_update(&bar, (double)done);
	}
	progress_end(&bar);
	pred_close(&po);
	sin_close(in);
	sin_close(ms);
	free(raw), free(X), free(P);
	lr_free(&lr);
}

/* --- main ---------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"train", no_argument, 0, 't'}, {"l2", required_argument, 0, 'l'},
		{"epochs", required_argument, 0, 'e'}, {"batch", required_argument, 0, 'b'},
		{"lr", required_argument, 0, 'r'}, {"valid", required_argument, 0, 'v'},
		{"standardize", no_argument, 0, 'z'}, {"no-standardize", no_argument, 0, 'Z'},
		{"seed", required_argument, 0, 's'}, {"target-loss", required_argument, 0, 'T'},
		{"solver", required_argument, 0, 'S'},
		{"quiet", no_argument, 0, 'q'}, {"help", no_argument, 0, 'h'}, {0}};
	opts_t o = {.l2 = 1e-4, .lr = 0.001, .valid = 0, .epochs = 30, .batch = 100, .seed = 1, .standardize = 1};
	int training = 0, train_opts = 0, c;
	tiny_init(argc, argv, usage_line);
	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (c) {
		case 't': training = 1; break;
		case 'l': o.l2 = opt_f64("--l2", optarg, 0, 1e6), train_opts = 1; break;
		case 'e': o.epochs = opt_i64("--epochs", optarg, 1, 1 << 30), train_opts = 1; break;
		case 'b': o.batch = opt_i64("--batch", optarg, 1, 1 << 20), train_opts = 1; break;
		case 'r': o.lr = opt_f64("--lr", optarg, 0, 1e6), train_opts = 1; break;
		case 'v':
			o.valid = opt_f64("--valid", optarg, 0, 1), train_opts = 1;
			if (o.valid <= 0 || o.valid >= 1)
				usage_error("--valid %s: expected a fraction above 0 and below 1", optarg);
			break;
		case 'z': o.standardize = 1, train_opts = 1; break;
		case 'Z': o.standardize = 0, train_opts = 1; break;
		case 's': o.seed = opt_u64("--seed", optarg), train_opts = 1; break;
		case 'S': {
			static const char *const solvers[] = {"sgd", "lbfgs", NULL};
			o.lbfgs = opt_choice("--solver", optarg, solvers), train_opts = 1;
			break;
		}
		case 'T': o.target = opt_f64("--target-loss", optarg, 0, 1e6), train_opts = 1; break;
		case 'q': tiny_quiet = 1; break;
		case 'h': printf("usage: %s\n", usage_line); return 0;
		default: usage();
		}
	}
	if (training) {
		if (argc - optind > 1)
			usage_error("--train reads one data stream");
		train(optind < argc ? argv[optind] : NULL, &o);
	} else {
		if (train_opts)
			usage_error("--l2, --epochs, --batch, --lr, --valid, --standardize, --seed, --solver and --target-loss apply to --train");
		const char *model_path, *path;
		model_and_data(argc, argv, optind, &model_path, &path);
		predict(model_path, path);
	}
	return 0;
}
