/*
 * tiny-logreg - multinomial logistic regression (softmax), the classifier of
 * chapter 3 of the report: on raw pixels and on RBM features.
 *
 * usage: tiny-logreg --train [-q] [--l2 L] [--loss softmax|svm] [--solver lbfgs|sgd] [--tol T]
 *          [--epochs E] [--valid FRACTION [--refit]] [--standardize | --no-standardize]
 *          [--seed S] [--target-loss L] [--log FILE]
 *          [SGD: --lr R --batch B --momentum M --schedule plateau|step|cosine|constant
 *           --lr-factor F --lr-patience P --lr-step S --max-cuts C --patience P] [FILE]
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
 * and that epoch's logreg_train_loss, logreg_train_accuracy,
 * logreg_valid_loss and logreg_valid_accuracy), and the data's attributes
 * with this stage's history line.  mu and sd are the training part's mean
 * and standard deviation per input; an sd below 1e-6 (a constant input)
 * is taken as 1.  Standardising is on by default (CIFAR's pixels run 0-255).
 *
 * The model and its objective, for rows Z (n,D) with one-hot targets Y (n,K):
 *
 *   S = Z W + 1 b^T                    (n,K) scores
 *   P = softmax(S) row by row          (n,K)
 *   objective = -1/n sum_r log P[r, y_r] + L/2 ||W||^2     (b is not decayed)
 *   dW = Z^T (P - Y) / n + L W         (D,K)
 *   db = 1^T (P - Y) / n               (K)
 *
 * (SGD and prediction take the two products as sgemms; L-BFGS takes them
 * block by block, by the K = 10 tiles below where the CPU has them.)
 *
 * This is scikit-learn's LogisticRegression objective with C = 1 / (n L).
 *
 * --loss svm trains the L2-SVM of Coates, Lee and Ng (2011), one-vs-rest
 * with the squared hinge, on the same scores and penalty instead:
 *
 *   objective = 1/n sum_r sum_k max(0, 1 - t_rk S[r,k])^2 + L/2 ||W||^2
 *               (t_rk = 1 for the row's class, -1 for the others)
 *   dW = Z^T E / n + L W,  E[r,k] = -2 t_rk max(0, 1 - t_rk S[r,k])
 *
 * This is K of liblinear's (scikit-learn's LinearSVC, loss squared_hinge)
 * problems with C = 1 / (n L), summed, except that b is not decayed.  The
 * model has the attribute logreg_loss svm and predicts scores, not
 * probabilities; the validation loss is the squared hinge.
 *
 * The solver (lib/train.c has the details of both and of --log):
 *   lbfgs (the default) minimises the objective over the whole training
 *     part by L-BFGS (libLBFGS) and stops when it has converged: the
 *     objective fell by less than --tol (1e-6) of itself over the last 5
 *     iterations, or the gradient's norm is below 1e-5 of the parameters'.
 *     --epochs (1000) caps the iterations as a safety limit; reaching it
 *     is said on stderr.  With --valid, the held-out part's loss and
 *     accuracy are reported after every iteration; the converged model is
 *     the one written.  u8 data (pixels) is held as the bytes it came as
 *     and standardised inside the objective: a quarter of the memory, and
 *     the same iterates as the same values in f32 to float rounding.
 *   sgd: minibatch gradient descent with momentum (--momentum 0.9,
 *     --batch 100, --lr 0.001), W, b and the momenta starting at zero, so
 *     the first step is exactly -R times the gradient at W = 0, b = 0
 *     (tests/logreg.bats checks this against NumPy); the rate follows
 *     --schedule (plateau: cut by --lr-factor 0.1 after --lr-patience 2
 *     epochs without a lower loss, at most --max-cuts 2 times); with
 *     --valid, the epoch of the lowest validation loss is kept and the run
 *     stops after --patience 5 epochs without a lower one.
 * --l2 L[,L...] (default 0.1): on CIFAR-10's standardised pixels, L-BFGS
 * to convergence on 45000 images gave validation accuracies of 39.40%,
 * 40.08%, 40.50%, 40.62%, 40.66%, 40.14%, 38.44% at L = 0.001, 0.003,
 * 0.01, 0.03, 0.1, 0.3, 1 (test: 39.57% .. 41.09% at 0.1): a converged
 * logistic regression on 3072 inputs needs a strong penalty.  Several
 * values (with --valid) are fitted strongest first, each starting from
 * the last one's solution; the highest validation accuracy is kept, the
 * lower validation loss on a tie (attribute logreg_l2), and with --log
 * each fit's log is FILE.l2-VALUE, the kept one's FILE.  Accuracy, as
 * scikit-learn's LogisticRegressionCV scores by default: on CIFAR-10's
 * pixels the validation loss chose 0.01 (test 40.71%) where accuracy
 * chooses 0.1 (test 41.09%), the loss favouring a weaker penalty whose
 * over-confident errors it punishes less than accuracy does.
 * --target-loss L stops once the objective is at most L (make bench times
 * both solvers to scikit-learn's optimum with it).
 *
 * tiny-logreg MODEL [FILE] predicts: the output has the data's label (if
 * any, same dtype and shape), pred i32 [] (the argmax of P; the first on a
 * tie) and prob f32 [K] (P, each row summing to 1; an svm model: score f32
 * [K], S), with the model's
 * classes and the data's other attributes plus this history line.  With a
 * label it prints the accuracy on stderr (not with -q).
 *
 * Errors (nothing is written): no label field or a non-integer label for
 * --train, a label outside 0..K-1 (or, without classes, above 65535),
 * a NaN or infinite x (naming the record), fewer than 2 records, a --valid
 * that leaves either part fewer records than classes, a --log path that
 * cannot be written, an x with another D than the model.
 * Spec of the stream: formats/stream.md.
 */
#include <getopt.h>
#include <immintrin.h>
#include <omp.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tiny.h"

static const char *usage_line =
	"tiny-logreg --train [-q] [--l2 L] [--loss softmax|svm] [--solver lbfgs|sgd] [--tol T] [--epochs E] [--valid FRACTION [--refit]] "
	"[--standardize | --no-standardize] [--seed S] [--target-loss L] [--log FILE] [--lr R] [--batch B] "
	"[--momentum M] [--schedule plateau|step|cosine|constant] [--lr-factor F] [--lr-patience P] [--lr-step S] "
	"[--max-cuts C] [--patience P] [FILE] | tiny-logreg [-q] MODEL [FILE]";

enum { BLOCK = 1024 };   /* rows per scoring sgemm */
enum { OBJ_BLOCK = 128 };   /* rows per L-BFGS block: the second product finds them in cache */
#define DEFAULT_L2 1e-1   /* measured on CIFAR-10: the head comment */

/* The model as the trainer sees it: W (D,K), b (K), their gradients G, gb,
 * P, scratch scores of up to cap rows, and the L-BFGS objective's threads'
 * own G^T, gb and scores (nt of them, each at stride TS floats). */
typedef struct {
	int64_t D, K, cap;
	float *W, *b, *G, *gb, *P;
	double l2;
	int svm;   /* --loss svm: scores, the squared hinge */
	int nt, simd;   /* simd: the CPU has AVX2 and FMA */
	int64_t TS;
	float *TG, *WT;
} lr_t;

/* S (n,K) = X W + 1 b^T for X (n,D) */
static void scores(const lr_t *m, const float *X, int64_t n, float *S)
{
	for (int64_t r = 0; r < n; r++)
		memcpy(S + r * m->K, m->b, (size_t)m->K * sizeof *S);
	la_sgemm(0, 0, (int)n, (int)m->K, (int)m->D, 1.0f, X, (int)m->D, m->W, (int)m->K, 1.0f, S, (int)m->K);
}

/* P (n,K) = softmax(S) row by row, a row's exponentials taken after
 * subtracting its largest score; --loss svm: S itself */
static void forward(void *ctx, const float *X, int64_t n, float *P)
{
	const lr_t *m = ctx;
	scores(m, X, n, P);
	if (!m->svm)
		softmax_rows(P, n, m->K);
}

/* Scores P (n,K) of n rows with labels y into the loss's gradient in
 * them, E (softmax: P - Y; svm: sqhinge_grad): returns the sum of the
 * rows' losses, adds the right predictions to *correct and the column
 * sums of E to gb. */
static double errors(const lr_t *m, float *P, const int64_t *y, int64_t n, float *gb, int64_t *correct)
{
	int64_t K = m->K;
	double loss;
	if (m->svm) {
		loss = sqhinge_rows(P, y, n, K, correct);
		sqhinge_grad(P, y, n, K);
	} else {
		softmax_rows(P, n, K);
		loss = nll_rows(P, y, n, K, correct);
		for (int64_t r = 0; r < n; r++)
			P[r * K + y[r]] -= 1.0f;
	}
	for (int64_t r = 0; r < n; r++)
		for (int64_t k = 0; k < K; k++)
			gb[k] += P[r * K + k];
	return loss;
}

/* a minibatch: G = X^T E / n, gb = 1^T E / n (the trainer adds L W) */
static double step(void *ctx, const float *X, const int64_t *y, int64_t n, int64_t *correct)
{
	lr_t *m = ctx;
	int64_t D = m->D, K = m->K;
	memset(m->gb, 0, (size_t)K * sizeof *m->gb);
	scores(m, X, n, m->P);
	double loss = errors(m, m->P, y, n, m->gb, correct);
	la_sgemm(1, 0, (int)D, (int)K, (int)n, 1.0f / (float)n, X, (int)D, m->P, (int)K, 0.0f, m->G, (int)K);
	for (int64_t k = 0; k < K; k++)
		m->gb[k] /= (float)n;
	return loss;
}

/* L2/2 ||W||^2 */
static double penalty(void *ctx)
{
	const lr_t *m = ctx;
	double w2 = 0;
	for (int64_t i = 0; i < m->D * m->K; i++)
		w2 += (double)m->W[i] * m->W[i];
	return m->l2 / 2 * w2;
}

/* The L-BFGS objective's two products on a block of b rows X (b,D), made
 * for a short side of K classes: S (b,K) = X W from W^T (K,D), then G^T
 * (K,D) += E^T X from the block's errors E (b,K).  Each is walked along D
 * in tiles of R <= 2 rows by C <= 5 classes (2 x 5 at K = 10) whose sums
 * stay in ten AVX registers, reading X where it lies: f32 rows, or u8
 * rows as they came, widened to floats 8 at a time (exact).  An sgemm
 * with a short side of 10 packs X for each product (as much memory
 * traffic as the arithmetic) and fills 12 rows of its 6-row tiles with
 * 10.  Measured on CIFAR-10's pixels (29 iterations on 50000 images, two
 * threads): 2.3 s with the sgemms, 2.0 s with these tiles on f32, 1.8 s
 * on the bytes, 1.5 s with W^T's vector loaded once for both rows
 * (GCC otherwise folds it into each row's FMA as a memory operand);
 * bench/classify.sh's whole run went from 10.2-10.3 s to 7.5-7.8 s.
 * Software prefetching, spans of D kept in L1, tiles of 10 classes by 8
 * values, and blocks of 32 or 64 rows were all slower or no faster.
 * CPUs without AVX2 and FMA get the sgemms on f32, as does any CPU under
 * TINY_SIMD=0 (so that the tests run that path too). */
#pragma GCC push_options
#pragma GCC target("avx2,fma")
typedef float v8 __attribute__((vector_size(32)));
typedef float v8u __attribute__((vector_size(32), aligned(4), may_alias));

/* 8 values of X from element i on, as floats; u8: X holds bytes */
static inline __attribute__((always_inline)) v8 load8(const void *X, int u8, int64_t i)
{
	if (u8)
		return (v8)_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)((const uint8_t *)X + i))));
	return *(const v8u *)((const float *)X + i);
}

static inline __attribute__((always_inline)) float load1(const void *X, int u8, int64_t i)
{
	return u8 ? ((const uint8_t *)X)[i] : ((const float *)X)[i];
}

/* S[i*K + c] = X row i . W^T row c, i < R, c < C (constants once inlined);
 * X is row 0 of the tile, element o on */
static inline __attribute__((always_inline)) void dot_tile(const void *X, int u8, int64_t o, int64_t D, int R,
							    const float *WT, int C, float *S, int64_t K)
{
	v8 acc[2][5] = {{{0}}};
	int64_t d = 0;
	for (; d + 8 <= D; d += 8) {
		v8 x[2];
#pragma GCC unroll 8
		for (int i = 0; i < R; i++)
			x[i] = load8(X, u8, o + i * D + d);
#pragma GCC unroll 8
		for (int c = 0; c < C; c++) {
			v8 w = *(const v8u *)(WT + c * D + d);
			__asm__("" : "+x"(w));   /* one load for the R rows, not R memory operands */
#pragma GCC unroll 8
			for (int i = 0; i < R; i++)
				acc[i][c] += x[i] * w;
		}
	}
#pragma GCC unroll 8
	for (int i = 0; i < R; i++)
#pragma GCC unroll 8
		for (int c = 0; c < C; c++) {
			float s = 0;
#pragma GCC unroll 8
			for (int l = 0; l < 8; l++)
				s += acc[i][c][l];
			for (int64_t e = d; e < D; e++)
				s += load1(X, u8, o + i * D + e) * WT[c * D + e];
			S[i * K + c] = s;
		}
}

/* GT[c*D + d + j] += sum_r E[r*K + c] X[r*D + d + j], c < C, j < 8 V */
static inline __attribute__((always_inline)) void axpy_tile(const void *X, int u8, int64_t D, int64_t b,
							     const float *E, int64_t K, int C, int V, float *GT, int64_t d)
{
	v8 acc[5][2] = {{{0}}};
	for (int64_t r = 0; r < b; r++) {
		v8 x[2];
#pragma GCC unroll 8
		for (int v = 0; v < V; v++)
			x[v] = load8(X, u8, r * D + d + 8 * v);
#pragma GCC unroll 8
		for (int c = 0; c < C; c++) {
			float e = E[r * K + c];
#pragma GCC unroll 8
			for (int v = 0; v < V; v++)
				acc[c][v] += e * x[v];
		}
	}
#pragma GCC unroll 8
	for (int c = 0; c < C; c++)
#pragma GCC unroll 8
		for (int v = 0; v < V; v++)
#pragma GCC unroll 8
			for (int l = 0; l < 8; l++)
				GT[c * D + d + 8 * v + l] += acc[c][v][l];
}

#define DOT(R, C) case 8 * R + C: dot_tile(X, u8, r * D, D, R, WT + k * D, C, S + r * K + k, K); break
#define AXPY(C, V) case 8 * V + C: axpy_tile(X, u8, D, b, E + k, K, C, V, GT + k * D, d); break

static inline __attribute__((always_inline)) void block_scores(const void *X, int u8, int64_t b, int64_t D,
							       const float *WT, int64_t K, float *S)
{
	for (int64_t r = 0; r < b; r += 2)
		for (int64_t k = 0; k < K; k += 5)
			switch (8 * (b - r < 2 ? 1 : 2) + (K - k < 5 ? K - k : 5)) {
				DOT(1, 1); DOT(1, 2); DOT(1, 3); DOT(1, 4); DOT(1, 5);
				DOT(2, 1); DOT(2, 2); DOT(2, 3); DOT(2, 4); DOT(2, 5);
			}
}

static inline __attribute__((always_inline)) void block_gradient(const void *X, int u8, int64_t b, int64_t D,
								 const float *E, int64_t K, float *GT)
{
	int64_t d = 0;
	for (; d + 8 <= D; d += 16)
		for (int64_t k = 0; k < K; k += 5)
			switch (8 * (D - d < 16 ? 1 : 2) + (K - k < 5 ? K - k : 5)) {
				AXPY(1, 1); AXPY(2, 1); AXPY(3, 1); AXPY(4, 1); AXPY(5, 1);
				AXPY(1, 2); AXPY(2, 2); AXPY(3, 2); AXPY(4, 2); AXPY(5, 2);
			}
	d = D / 8 * 8;
	for (int64_t r = 0; r < b; r++)
		for (int64_t k = 0; k < K; k++)
			for (int64_t e = d; e < D; e++)
				GT[k * D + e] += E[r * K + k] * load1(X, u8, r * D + e);
}

/* the two products of a block, for f32 rows or u8 rows */
static void block_f32(const float *X, int64_t b, int64_t D, const float *WT, int64_t K, float *S, float *GT, int grad)
{
	if (grad)
		block_gradient(X, 0, b, D, S, K, GT);
	else
		block_scores(X, 0, b, D, WT, K, S);
}

static void block_u8(const uint8_t *X, int64_t b, int64_t D, const float *WT, int64_t K, float *S, float *GT, int grad)
{
	if (grad)
		block_gradient(X, 1, b, D, S, K, GT);
	else
		block_scores(X, 1, b, D, WT, K, S);
}
#pragma GCC pop_options

/* the block of rows from row `first` of the f32 rows Z, or of the bytes
 * B where B is given: its scores S = X W (grad 0) or G^T += S^T X (grad
 * 1, S holding the errors), by the tiles where the CPU has them, else by
 * sgemm */
static void block_products(const lr_t *m, const float *Z, const uint8_t *B, int64_t first, int64_t rows, float *S,
			   float *GT, int grad)
{
	int64_t D = m->D, K = m->K;
	if (B) {
		block_u8(B + first * D, rows, D, m->WT, K, S, GT, grad);
		return;
	}
	const float *X = Z + first * D;
	if (m->simd)
		block_f32(X, rows, D, m->WT, K, S, GT, grad);
	else if (!grad)
		la_sgemm_1(0, 0, (int)rows, (int)K, (int)D, 1.0f, X, (int)D, m->W, (int)K, 0.0f, S, (int)K);
	else
		la_sgemm_1(1, 0, (int)K, (int)D, (int)rows, 1.0f, S, (int)K, X, (int)D, 1.0f, GT, (int)D);
}

/* L-BFGS: the objective over all n rows and its gradient, the rows f32
 * Z or bytes B (then standardised here by mu, sd: NULL for none).  Each
 * of nt threads takes its own contiguous run of OBJ_BLOCK-row blocks X
 * and works on them alone, into its own G^T and gb: the scores, the
 * errors E / n, then G^T += E^T X, so that the block is still in the
 * core's cache for the second product (measured on CIFAR-10's pixels:
 * 1.6x faster than BLOCK-row sgemms X W and X^T E each split across the
 * threads, before the tiles).  For bytes, with z = (x - mu) / sd, the
 * scores are x W' + b' (W' = W / sd row by row, b' = b - mu W') and the
 * gradient (X^T E / n - mu gb) / sd row by row.  The threads' sums are
 * added in thread order, so the same thread count gives the same bits. */
static double objective_rows(lr_t *m, const float *Z, const uint8_t *B, const float *mu, const float *sd,
			     const int64_t *y, int64_t n, int64_t *correct)
{
	int64_t D = m->D, K = m->K, DK = D * K, nblocks = (n + OBJ_BLOCK - 1) / OBJ_BLOCK;
	double loss[m->nt];
	int64_t right[m->nt];
	float *WT = m->WT, *b = m->WT + DK;
	for (int64_t k = 0; k < K; k++) {
		double s = m->b[k];
		for (int64_t i = 0; i < D; i++) {
			WT[k * D + i] = B && sd ? m->W[i * K + k] / sd[i] : m->W[i * K + k];
			s -= B && mu ? (double)mu[i] * WT[k * D + i] : 0;
		}
		b[k] = (float)s;
	}
#pragma omp parallel num_threads(m->nt)
	{
		int t = omp_get_thread_num();
		float *GT = m->TG + t * m->TS, *gb = GT + DK, *P = gb + K;
		memset(GT, 0, (size_t)(DK + K) * sizeof *GT);
		loss[t] = 0, right[t] = 0;
#pragma omp for schedule(static)
		for (int64_t j = 0; j < nblocks; j++) {
			int64_t first = j * OBJ_BLOCK, rows = n - first < OBJ_BLOCK ? n - first : OBJ_BLOCK;
			block_products(m, Z, B, first, rows, P, GT, 0);
			for (int64_t r = 0; r < rows; r++)
				for (int64_t k = 0; k < K; k++)
					P[r * K + k] += b[k];
			loss[t] += errors(m, P, y + first, rows, gb, &right[t]);
			for (int64_t i = 0; i < rows * K; i++)
				P[i] /= (float)n;
			block_products(m, Z, B, first, rows, P, GT, 1);
		}
	}
	double sum = 0;
	*correct = 0;
	memset(m->gb, 0, (size_t)K * sizeof *m->gb);
	for (int t = 0; t < m->nt; t++) {
		const float *gb = m->TG + t * m->TS + DK;
		for (int64_t k = 0; k < K; k++)
			m->gb[k] += gb[k];
		sum += loss[t], *correct += right[t];
	}
	for (int64_t k = 0; k < K; k++)
		m->gb[k] /= (float)n;
	for (int64_t i = 0; i < D; i++)
		for (int64_t k = 0; k < K; k++) {
			float g = 0;
			for (int t = 0; t < m->nt; t++)
				g += m->TG[t * m->TS + k * D + i];
			if (B && mu)
				g -= mu[i] * m->gb[k];
			if (B && sd)
				g /= sd[i];
			m->G[i * K + k] = g + (float)m->l2 * m->W[i * K + k];
		}
	return sum / (double)n + penalty(m);
}

static double objective(void *ctx, const float *Z, const int64_t *y, int64_t n, int64_t *correct)
{
	return objective_rows(ctx, Z, NULL, NULL, NULL, y, n, correct);
}

static double objective_u8(void *ctx, const uint8_t *B, const float *mu, const float *sd, const int64_t *y,
			   int64_t n, int64_t *correct)
{
	return objective_rows(ctx, NULL, B, mu, sd, y, n, correct);
}

enum { MAX_L2 = 16 };

/* --l2's choice: the higher validation accuracy, on a tie the lower
 * validation loss (k: the fit's number; the first is the best so far) */
static int better(const trainer_t *t, const trainer_t *best, int k)
{
	return k == 0 || t->valid_acc > best->valid_acc ||
	       (t->valid_acc == best->valid_acc && t->valid_loss < best->valid_loss);
}

static void train(const char *path, const tr_opts_t *o, const double *l2s, int nl2, int standardize, int svm)
{
	labelled_t d;
	ld_open(&d, path);
	if (o->log && !strcmp(o->log, "-"))
		usage_error("--log -: the log goes to a file (stdout carries the model)");
	ld_read(&d);
	if (!d.classes)
		d.classes = ld_class_numbers(d.K);
	if (d.D * d.K * 4 > TINY_RECORD_MAX / 2)
		die("%s: D = %" PRId64 " inputs x K = %" PRId64 " classes is too many weights", d.in->name, d.D, d.K);
	int64_t D = d.D, K = d.K;
	trainer_t t;
	tr_prepare(&t, &d, o->valid, o->seed, standardize);

	int64_t cap = o->batch > BLOCK ? o->batch : BLOCK;
	lr_t m = {.D = D, .K = K, .cap = cap, .svm = svm};
	m.W = xcalloc((size_t)(D * K + TR_PAD), sizeof *m.W), m.G = xmalloc((size_t)(D * K + TR_PAD) * sizeof *m.G);
	m.b = xcalloc((size_t)K, sizeof *m.b), m.gb = xmalloc((size_t)K * sizeof *m.gb);
	m.P = xmalloc((size_t)(cap * K + TR_PAD) * sizeof *m.P);
	m.nt = la_threads();
	const char *simd = getenv("TINY_SIMD");
	m.simd = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && !(simd && !strcmp(simd, "0"));
	m.TS = (D * K + K + OBJ_BLOCK * K + TR_PAD + 15) / 16 * 16;   /* whole cache lines apart */
	m.TG = o->solver == TR_LBFGS ? xmalloc((size_t)(m.nt * m.TS) * sizeof *m.TG) : NULL;
	m.WT = o->solver == TR_LBFGS ? xmalloc((size_t)(D * K + K) * sizeof *m.WT) : NULL;
	tr_model_t tm = {.ctx = &m, .forward = forward, .step = step, .penalty = penalty, .objective = objective,
			 .objective_u8 = m.simd ? objective_u8 : NULL,
			 .loss = svm ? sqhinge_rows : NULL};
	tr_params_t ps = {0};
	tr_param(&ps, m.W, m.G, D * K, o->lr, 0);
	tr_param(&ps, m.b, m.gb, K, o->lr, 0);

	/* several L2: each fit starts from the last (the strongest first), the
	 * lowest validation loss wins; each fit's log is FILE.l2-VALUE, the
	 * chosen one's becomes FILE */
	float *bestW = nl2 > 1 ? xmalloc((size_t)(D * K) * sizeof *bestW) : NULL;
	float *bestb = nl2 > 1 ? xmalloc((size_t)K * sizeof *bestb) : NULL;
	trainer_t best = {0};
	int chosen = 0;
	char **logs = xcalloc((size_t)nl2, sizeof *logs);
	tr_opts_t fo = *o;
	for (int k = 0; k < nl2; k++) {
		m.l2 = ps.decay[0] = l2s[k];
		snprintf(t.model, sizeof t.model, "l2 %g", m.l2);
		if (o->log && nl2 > 1) {
			size_t len = strlen(o->log) + 32;
			logs[k] = xmalloc(len);
			snprintf(logs[k], len, "%s.l2-%g", o->log, m.l2);
			fo.log = logs[k];
		}
		tr_fit(&t, &tm, &ps, &fo);
		if (nl2 > 1) {
			if (!tiny_quiet)
				fprintf(stderr, "%s: l2 %g: validation loss %.4f, accuracy %.4f%s\n", tiny_prog, m.l2,
					t.valid_loss, t.valid_acc, better(&t, &best, k) ? " (best)" : "");
			if (better(&t, &best, k)) {
				best = t, chosen = k;
				memcpy(bestW, m.W, (size_t)(D * K) * sizeof *m.W);
				memcpy(bestb, m.b, (size_t)K * sizeof *m.b);
			}
		}
	}
	if (nl2 > 1) {
		memcpy(m.W, bestW, (size_t)(D * K) * sizeof *m.W);
		memcpy(m.b, bestb, (size_t)K * sizeof *m.b);
		best.order = t.order;
		t = best;
		if (o->log && rename(logs[chosen], o->log) != 0)
			die("%s: cannot rename %s into place:", o->log, logs[chosen]);
		if (!tiny_quiet)
			fprintf(stderr, "%s: chose l2 %g by the validation accuracy\n", tiny_prog, l2s[chosen]);
	}
	m.l2 = ps.decay[0] = l2s[chosen];
	tr_refit(&t, &tm, &ps, o, NULL);   /* convex: from the chosen solution */

	theader h;
	tr_model_header(&h, &d, d.classes);
	th_field(&h, "W", DT_F32, 2, D, K);
	th_field(&h, "b", DT_F32, 1, K);
	if (standardize) {
		th_field(&h, "mu", DT_F32, 1, D);
		th_field(&h, "sd", DT_F32, 1, D);
	}
	char settings[512], list[MAX_L2 * 24] = "";
	tr_settings(settings, sizeof settings, o);
	for (int k = 0; k < nl2; k++)
		snprintf(list + strlen(list), sizeof list - strlen(list), "%s%g", k ? "," : "", l2s[k]);
	th_attr_setf(&h, "logreg_settings", "%s l2 %s standardize %s loss %s", settings, list,
		     standardize ? "yes" : "no", svm ? "svm" : "softmax");
	th_attr_set(&h, "logreg_loss", svm ? "svm" : "softmax");
	th_attr_setf(&h, "logreg_l2", "%g", l2s[chosen]);
	tr_result_attrs(&h, &t, "logreg");
	th_add_history(&h);
	const void *fields[4] = {m.W, m.b, d.mu, d.sd};
	tr_write_model(&h, fields);
	th_free(&h);
	tr_free(&t);
	for (int k = 0; k < nl2; k++)
		free(logs[k]);
	free(logs), free(bestW), free(bestb);
	free(m.W), free(m.G), free(m.b), free(m.gb), free(m.P), free(m.TG), free(m.WT);
	ld_free(&d);
}

/* --l2 L[,L...]: at most MAX_L2 values, sorted strongest first */
static int parse_l2(const char *arg, double *l2s)
{
	char *list = xstrdup(arg), *save = NULL;
	int n = 0;
	if (!*arg || arg[0] == ',' || arg[strlen(arg) - 1] == ',' || strstr(arg, ",,"))
		usage_error("--l2 %s: expected L[,L...]", arg);
	for (char *w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		if (n == MAX_L2)
			usage_error("--l2 %s: at most %d values", arg, MAX_L2);
		l2s[n++] = opt_f64("--l2", w, 0, 1e6);
	}
	free(list);
	for (int i = 1; i < n; i++)   /* insertion sort, descending */
		for (int j = i; j > 0 && l2s[j] > l2s[j - 1]; j--) {
			double t = l2s[j];
			l2s[j] = l2s[j - 1], l2s[j - 1] = t;
		}
	return n;
}

static void predict(const char *model_path, const char *path)
{
	sin_t *ms = sin_open(model_path);
	lr_model_t lr;
	lr_load(&lr, ms);
	lr_t m = {.D = lr.D, .K = lr.K, .W = lr.W, .b = lr.b, .svm = lr.svm};
	tr_model_t tm = {.ctx = &m, .forward = forward, .out = lr.svm ? "score" : NULL};
	tr_predict(ms, path, lr.D, lr.K, lr.classes, &tm, lr.mu, lr.sd);
	sin_close(ms);
	lr_free(&lr);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"train", no_argument, 0, 't'}, {"l2", required_argument, 0, 'l'},
		{"standardize", no_argument, 0, 'z'}, {"no-standardize", no_argument, 0, 'Z'},
		{"loss", required_argument, 0, 'L'},
		{"quiet", no_argument, 0, 'q'}, TR_LONGOPTS, {0}};
	tr_opts_t o = {.solver = TR_LBFGS, .tol = 1e-6, .max_epochs = 1000, .min_epochs = 1, .lr = 0.001,
		       .momentum = 0.9, .batch = 100, .schedule = TR_PLATEAU, .lr_factor = 0.1, .lr_patience = 2,
		       .lr_step = 30, .max_cuts = 2, .patience = 5, .seed = 1};
	double l2s[MAX_L2] = {DEFAULT_L2};
	int nl2 = 1;
	int training = 0, train_opts = 0, standardize = 1, svm = 0, c;
	static const char *const losses[] = {"softmax", "svm", NULL};
	const char *l2_arg = NULL;
	tiny_init(argc, argv, usage_line);
	while ((c = getopt_long(argc, argv, "q", longopts, NULL)) != -1) {
		switch (c) {
		case 't': training = 1; break;
		case 'l': nl2 = parse_l2(optarg, l2s), l2_arg = optarg, train_opts = 1; break;
		case 'z': standardize = 1, train_opts = 1; break;
		case 'Z': standardize = 0, train_opts = 1; break;
		case 'L': svm = opt_choice("--loss", optarg, losses), train_opts = 1; break;
		case 'q': tiny_quiet = 1; break;
		default:
			if (!tr_option(&o, c, optarg))
				usage();
			train_opts = 1;
		}
	}
	if (training) {
		if (argc - optind > 1)
			usage_error("--train reads one data stream");
		if (nl2 > 1 && !o.valid)
			usage_error("--l2 %s: several values are chosen among on validation data; add --valid", l2_arg);
		tr_check_opts(&o);
		train(optind < argc ? argv[optind] : NULL, &o, l2s, nl2, standardize, svm);
	} else {
		if (train_opts)
			usage_error("--l2, --loss, --standardize, --solver and the other training options apply to --train");
		const char *model_path, *path;
		model_and_data(argc, argv, optind, &model_path, &path);
		predict(model_path, path);
	}
	return 0;
}
