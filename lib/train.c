/*
 * train.c - the supervised training driver that tiny-logreg and
 * tiny-backprop share; each stage keeps only its model's forward and
 * backward pass (tr_model_t) and names its parameter arrays (tr_params_t).
 *
 * The data.  tr_prepare splits a labelled data set (labelled.c) as
 * ld_split does: with --valid FRACTION the last floor(FRACTION N) records
 * of a shuffle from rng stream 2^62 are held out, and each part must hold
 * at least one record per class (K records).  With standardising, the
 * training part's mean and standard deviation per input (ld_moments) make
 * every gathered row z = (x - mu) / sd.
 *
 * Minibatch SGD (tr_fit, TR_SGD).  Epoch e (0-based) visits the training
 * records in a Fisher-Yates order from rng stream e of the seed, in
 * minibatches of B (the last may be smaller).  For each, the stage's step
 * fills the gradient g of the mean loss, and every parameter array moves
 * by momentum: u = M u - r (g + L p), p += u, with r that array's rate
 * times the schedule's factor at this epoch and L its weight decay (the
 * gradient of the penalty L/2 |p|^2, added in the same pass).  The momenta
 * start at 0, so epoch 1 of one minibatch of all records moves p by
 * exactly -r g at the initial parameters.
 *
 * The learning-rate schedules (the factor f, starting at 1):
 *   plateau   f *= --lr-factor (0.1) when the monitored loss has not
 *             reached a new low for --lr-patience epochs (the validation
 *             loss; without a validation part the training loss, and a
 *             low must be 1e-4 of itself below the last); the run stops
 *             rather than cut a --max-cuts + 1-th time (the rate has then
 *             fallen by --lr-factor^max-cuts and still stalls).
 *   step      f = --lr-factor^floor(e / --lr-step)
 *   cosine    f = (1 + cos(pi e / E)) / 2 over the --epochs cap E
 *   constant  f = 1
 * Early stopping, with a validation part: its loss (mean -log P[n, y_n],
 * or the model's own loss for a model of scores; no penalty) is measured before training (epoch 0, the initial
 * parameters) and after every epoch; the parameters of the epoch with the
 * lowest validation loss are kept (the first on a tie), and the run stops
 * after --patience epochs without a lower one.  Without a validation part
 * the last epoch's parameters are kept.  The --epochs cap is a safety
 * limit: reaching it is said on stderr.
 *
 * L-BFGS (TR_LBFGS) minimises the stage's objective (the mean loss over
 * the whole training part plus its penalty) with libLBFGS (More-Thuente
 * line search, the last 10 pairs, as SciPy's L-BFGS-B that scikit-learn
 * calls): the standardised training rows are held as f32 once (N D 4
 * bytes), or u8 data as it came (N D bytes) where the stage has an
 * objective_u8, and the stage's objective evaluates them in blocks.  It
 * stops when the objective fell by less than --tol of itself over the
 * last 5 iterations (libLBFGS's delta test), or when the gradient's norm
 * is below 1e-5 max(1, |theta|), or when no step along the direction
 * lowers it.  An epoch is then an iteration; with a validation part its
 * loss and accuracy are reported, but the converged parameters are the
 * ones kept.
 *
 * --refit (tr_refit, with --valid) then trains again on every record,
 * in the order of a run without --valid: SGD from the parameters the fit
 * started from, for the epochs it kept, each at the rate it had then
 * (plateau: the recorded cuts replayed); L-BFGS from the fit's solution
 * until converged.  The standardisation stays the training part's.  But
 * when SGD's kept epoch ran at the first rate and the fit cut the rate
 * later, the replay would end at that rate on an epoch no validation
 * chose: no refit then, the fit's net stays (the model's _refit_skipped).
 *
 * Checkpoints (SGD; tiny-backprop --checkpoint).  At the start of every
 * epoch, the fit's or the refit's, the state goes to the file whole: the
 * parameters, their momenta, the best parameters so far, the plateau's
 * counters, the trainer's figures and the log (ck_save).  Everything else
 * an epoch depends on is a function of the epoch (the shuffle's stream,
 * the step and cosine factors), so a run resumed from it (ck_load, at the
 * fit's start; ck_resume, in the phase it holds) ends with the same
 * parameters and log, but for the seconds, as one never stopped.  The
 * file is resumed only by the same run: the stage's settings, the data's
 * records and labels (hashed) and the initial parameters (hashed).
 *
 * --target-loss T (both solvers) stops once the objective over the whole
 * training part is at most T (bench times the classifiers to
 * scikit-learn's optimum with it).
 *
 * Each epoch prints one line on stderr (-q: none): the training loss and
 * accuracy (over the minibatches as they were seen, before each step;
 * L-BFGS: at the iterate), the validation loss and accuracy, the rate
 * and the seconds.  --log FILE gets the same as a stream, one record per
 * epoch (epoch i32, train_loss, train_accuracy, valid_loss,
 * valid_accuracy, rate, seconds f32; NaN where there is no validation
 * part), rewritten whole after every epoch (a temporary file, then a
 * rename), and written once empty before training so a bad path fails
 * first.
 */
#include <errno.h>
#include <inttypes.h>
#include <lbfgs.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tiny.h"

enum { TR_BLOCK = 1024 };   /* rows per scoring pass */
#define IMPROVE 1e-4        /* the plateau schedule: a better loss is lower by this fraction */
#define LBFGS_PAST 5        /* the L-BFGS convergence test looks this many iterations back */

const char *const tr_schedule_names[] = {"plateau", "step", "cosine", "constant", NULL};

void tr_param(tr_params_t *ps, float *p, float *g, int64_t len, double rate, double decay)
{
	if (ps->n == TR_MAX_PARAMS)
		die("internal: more than %d parameter arrays", TR_MAX_PARAMS);
	ps->p[ps->n] = p, ps->g[ps->n] = g, ps->len[ps->n] = len, ps->rate[ps->n] = rate, ps->decay[ps->n] = decay;
	ps->n++;
}

/* --- the data ------------------------------------------------------------------ */

void tr_prepare(trainer_t *t, labelled_t *d, double valid, uint64_t seed, int standardize)
{
	memset(t, 0, sizeof *t);
	t->d = d;
	t->order = ld_split(d, valid, seed, &t->nvalid);
	t->ntrain = d->N - t->nvalid;
	if (standardize) {
		float *mu = xmalloc((size_t)d->D * sizeof *mu), *sd = xmalloc((size_t)d->D * sizeof *sd);
		ld_moments(d, t->order, t->ntrain, mu, sd);
		d->mu = mu, d->sd = sd;   /* ld_gather standardises from here on */
	}
}

void tr_free(trainer_t *t)
{
	free(t->order);
	memset(t, 0, sizeof *t);
}

int64_t tr_score(const labelled_t *d, const int64_t *idx, int64_t n, const tr_model_t *m, double *loss)
{
	int64_t correct = 0, K = d->K, rows = n < TR_BLOCK ? n : TR_BLOCK, y[TR_BLOCK];
	float *X = xmalloc_big((size_t)(rows * d->D) * sizeof *X), *P = xmalloc((size_t)(rows * K + TR_PAD) * sizeof *P);
	double sum = 0;
	for (int64_t first = 0; first < n; first += TR_BLOCK) {
		int64_t b = n - first < TR_BLOCK ? n - first : TR_BLOCK;
		ld_gather(d, idx + first, b, X);
		m->forward(m->ctx, X, b, P);
		for (int64_t r = 0; r < b; r++)
			y[r] = d->y[idx[first + r]];
		sum += (m->loss ? m->loss : nll_rows)(P, y, b, K, &correct);
	}
	free(X), free(P);
	if (loss)
		*loss = n ? sum / (double)n : NAN;
	return correct;
}

/* --- the log -------------------------------------------------------------------- */

typedef struct {
	int32_t epoch;
	float train_loss, train_acc, valid_loss, valid_acc, rate, seconds;
} tr_logrec_t;

static void write_log(const trainer_t *t, const tr_opts_t *o, const tr_logrec_t *l, int64_t n)
{
	theader h;
	th_copy(&h, &t->d->in->h);
	while (h.nfields)
		th_remove_field(&h, 0);
	h.count = n;
	static const char *const names[] = {"train_loss", "train_accuracy", "valid_loss", "valid_accuracy", "rate",
					    "seconds"};
	th_field(&h, "epoch", DT_I32, 0);
	for (int i = 0; i < 6; i++)
		th_field(&h, names[i], DT_F32, 0);
	th_attr_set(&h, "solver", o->solver == TR_LBFGS ? "lbfgs" : "sgd");
	th_add_history(&h);
	sout_t *out = sout_open(o->log, &h);
	for (int64_t k = 0; k < n; k++) {
		const void *f[7] = {&l[k].epoch, &l[k].train_loss, &l[k].train_acc, &l[k].valid_loss,
				    &l[k].valid_acc, &l[k].rate, &l[k].seconds};
		sout_write_fields(out, f);
	}
	sout_close(out);
	th_free(&h);
}

/* --- the epochs' bookkeeping shared by both solvers ------------------------------ */

typedef struct {
	trainer_t *t;
	const tr_model_t *m;
	tr_params_t *ps;
	const tr_opts_t *o;
	float *best[TR_MAX_PARAMS];
	tr_logrec_t *log;
	int64_t nlog, caplog;
	double start, best_vloss;
} run_t;

static void keep_best(run_t *r)
{
	for (int i = 0; i < r->ps->n; i++)
		memcpy(r->best[i], r->ps->p[i], (size_t)r->ps->len[i] * sizeof(float));
}

/* The objective over the whole training part at the current parameters */
static double train_objective(run_t *r)
{
	double loss;
	tr_score(r->t->d, r->t->order, r->t->ntrain, r->m, &loss);
	return loss + (r->m->penalty ? r->m->penalty(r->m->ctx) : 0);
}

/* After epoch e (1-based; 0 the initial parameters): the validation score,
 * the line on stderr, the log, the best epoch.  Returns 1 when the
 * validation loss is a new best. */
static int end_epoch(run_t *r, int64_t e, double loss, double acc, double rate, double objective)
{
	trainer_t *t = r->t;
	const tr_opts_t *o = r->o;
	double vloss = NAN, vacc = NAN;
	int best = 0;
	if (t->nvalid) {
		vacc = (double)tr_score(t->d, t->order + t->ntrain, t->nvalid, r->m, &vloss) / (double)t->nvalid;
		if (!isfinite(vloss))
			vloss = HUGE_VAL;
		best = e == 0 || vloss < r->best_vloss;
	}
	if (e == 0 && !t->nvalid)
		return 0;
	if (best) {
		r->best_vloss = vloss;
		t->best_epoch = e, t->train_loss = loss, t->train_acc = acc, t->valid_loss = vloss, t->valid_acc = vacc;
		if (o->solver == TR_SGD)
			keep_best(r);
	}
	if (!t->nvalid || o->solver == TR_LBFGS) {   /* the last epoch is the one kept */
		t->best_epoch = e, t->train_loss = loss, t->train_acc = acc;
		if (t->nvalid)
			t->valid_loss = vloss, t->valid_acc = vacc;
	}
	double secs = now_seconds() - r->start;
	if (!tiny_quiet) {
		const char *unit = o->solver == TR_LBFGS ? "iteration" : "epoch";
		if (e == 0)
			fprintf(stderr, "%s: %s 0 (the initial parameters): validation loss %.4f, accuracy %.4f\n",
				tiny_prog, unit, vloss, vacc);
		else {
			fprintf(stderr, "%s: %s %" PRId64 "/%" PRId64 ": loss %.4f, training accuracy %.4f", tiny_prog,
				unit, e, o->max_epochs, loss, acc);
			if (t->nvalid)
				fprintf(stderr, ", validation loss %.4f, accuracy %.4f%s", vloss, vacc,
					best && o->solver == TR_SGD ? " (best)" : "");
			if (isfinite(objective))
				fprintf(stderr, ", objective %.6f", objective);
			if (o->solver == TR_SGD)
				fprintf(stderr, ", rate %.3g", rate);
			fprintf(stderr, ", %.1f s\n", secs);
		}
	}
	if (o->log) {
		if (r->nlog == r->caplog) {
			r->caplog = r->caplog ? 2 * r->caplog : 64;
			r->log = xrealloc(r->log, (size_t)r->caplog * sizeof *r->log);
		}
		r->log[r->nlog++] = (tr_logrec_t){(int32_t)e, (float)loss, (float)acc, (float)vloss, (float)vacc,
						  (float)rate, (float)secs};
		write_log(t, o, r->log, r->nlog);
	}
	return best;
}

static void run_open(run_t *r, trainer_t *t, const tr_model_t *m, tr_params_t *ps, const tr_opts_t *o)
{
	memset(r, 0, sizeof *r);
	r->t = t, r->m = m, r->ps = ps, r->o = o;
	r->best_vloss = HUGE_VAL;
	if (t->nvalid && o->solver == TR_SGD)
		for (int i = 0; i < ps->n; i++)
			r->best[i] = xmalloc_big((size_t)ps->len[i] * sizeof(float));
	if (o->log)
		write_log(t, o, NULL, 0);   /* a path that cannot be written fails before training */
	r->start = now_seconds();
}

static void run_close(run_t *r)
{
	trainer_t *t = r->t;
	if (t->nvalid && r->o->solver == TR_SGD && t->best_epoch < t->epochs) {
		for (int i = 0; i < r->ps->n; i++)
			memcpy(r->ps->p[i], r->best[i], (size_t)r->ps->len[i] * sizeof(float));
	}
	for (int i = 0; i < TR_MAX_PARAMS; i++)
		free(r->best[i]);
	free(r->log);
	if (!tiny_quiet && t->why)
		fprintf(stderr, "%s: %s%s\n", tiny_prog, t->why,
			t->nvalid && r->o->solver == TR_SGD && t->best_epoch < t->epochs ? t->keeping : "");
}

static void check_finite(const tr_params_t *ps, double loss, int64_t e, const tr_opts_t *o)
{
	int ok = isfinite(loss);
	for (int i = 0; ok && i < ps->n; i++)
		ok = isfinite(ps->p[i][0]) && isfinite(ps->p[i][ps->len[i] - 1]);
	if (!ok)
		die("epoch %" PRId64 ": the loss or the parameters are no longer finite; try a smaller --lr (now %g)", e,
		    o->lr);
}

/* --- checkpoints (SGD) -------------------------------------------------------------- */

/* The state between two epochs, the checkpoint's field train_state (f64):
 * the phase (0 the fit, 1 tr_refit's run), the epochs it has done, the
 * plateau's counters, the log's records, and the trainer's figures of
 * this phase and (in the refit) of the fit before it. */
enum { CK_PHASE, CK_EPOCH, CK_BEST_MON, CK_SINCE_MON, CK_SINCE_BEST, CK_CUTS, CK_BEST_VLOSS, CK_NLOG, CK_HEAD };
enum { CKT_EPOCHS, CKT_BEST, CKT_TL, CKT_TA, CKT_VL, CKT_VA, CKT_NCUTS, CKT_CUT, CKT_LEN = CKT_CUT + TR_MAX_CUTS + 1 };
enum { CK_LEN = CK_HEAD + 2 * CKT_LEN, CK_LOGW = 7 };

static struct {
	char settings[1024], data[96], start[64];   /* the run's identity */
	int found;                                 /* a checkpoint was read, not yet resumed */
	double st[CK_LEN];
	unsigned char *rec;                        /* its record, and where its arrays lie in it: */
	int64_t log, at[3][TR_MAX_PARAMS];         /* train_log; p, u, best of each parameter array */
	int64_t ran;                               /* epochs this process has run */
} ck;

static void ck_pack(double *s, const trainer_t *t)
{
	s[CKT_EPOCHS] = (double)t->epochs, s[CKT_BEST] = (double)t->best_epoch;
	s[CKT_TL] = t->train_loss, s[CKT_TA] = t->train_acc, s[CKT_VL] = t->valid_loss, s[CKT_VA] = t->valid_acc;
	s[CKT_NCUTS] = (double)t->ncuts;
	for (int64_t i = 0; i < t->ncuts; i++)
		s[CKT_CUT + i] = (double)t->cut_at[i];
}

static void ck_unpack(const double *s, trainer_t *t, const char *path)
{
	if (!(s[CKT_NCUTS] >= 0 && s[CKT_NCUTS] <= TR_MAX_CUTS && s[CKT_BEST] >= 0 && s[CKT_EPOCHS] >= s[CKT_BEST]))
		die("%s: field train_state is not a trainer's state", path);
	t->epochs = (int64_t)s[CKT_EPOCHS], t->best_epoch = (int64_t)s[CKT_BEST];
	t->train_loss = s[CKT_TL], t->train_acc = s[CKT_TA], t->valid_loss = s[CKT_VL], t->valid_acc = s[CKT_VA];
	t->ncuts = (int64_t)s[CKT_NCUTS];
	for (int64_t i = 0; i < t->ncuts; i++)
		t->cut_at[i] = (int64_t)s[CKT_CUT + i];
}

/* The run's identity: the settings, the data (its records and labels
 * hashed) and the parameters it starts from (hashed). */
static void ck_identity(const trainer_t *t, const tr_params_t *ps, const tr_opts_t *o)
{
	const labelled_t *d = t->d;
	if (o->run_settings)
		snprintf(ck.settings, sizeof ck.settings, "%s", o->run_settings);
	else
		tr_settings(ck.settings, sizeof ck.settings, o);
	uint64_t h = fnv1a(0xcbf29ce484222325ULL, d->xs, (size_t)(d->N * d->fx.nbytes));
	h = fnv1a(h, d->y, (size_t)d->N * sizeof *d->y);
	snprintf(ck.data, sizeof ck.data, "%" PRId64 " records of %" PRId64 " bytes, hash %016" PRIx64, d->N,
		 d->fx.nbytes, h);
	h = 0xcbf29ce484222325ULL;
	for (int i = 0; i < ps->n; i++)
		h = fnv1a(h, ps->p[i], (size_t)ps->len[i] * sizeof(float));
	snprintf(ck.start, sizeof ck.start, "parameters hash %016" PRIx64, h);
}

/* The checkpoint at a state: phase, epochs done, the counters (st), the
 * parameters, momenta and (with a validation part) the best ones, the
 * log. */
static void ck_save(const tr_opts_t *o, const tr_params_t *ps, float *const *u, float *const *best, const double *st,
		    const tr_logrec_t *log, int64_t nlog, const theader *data_h)
{
	theader h;
	th_copy(&h, data_h);
	while (h.nfields)
		th_remove_field(&h, 0);
	h.count = 1;
	const void *f[3 * TR_MAX_PARAMS + 2];
	int nf = 0;
	char name[TINY_NAME_MAX + 1];
	th_field(&h, "train_state", DT_F64, 1, (int64_t)CK_LEN);
	f[nf++] = st;
	float *l = xcalloc((size_t)((nlog ? nlog : 1) * CK_LOGW), sizeof *l);
	for (int64_t k = 0; k < nlog; k++) {
		float *r = l + k * CK_LOGW;
		r[0] = (float)log[k].epoch, r[1] = log[k].train_loss, r[2] = log[k].train_acc;
		r[3] = log[k].valid_loss, r[4] = log[k].valid_acc, r[5] = log[k].rate, r[6] = log[k].seconds;
	}
	th_field(&h, "train_log", DT_F32, 2, nlog ? nlog : 1, (int64_t)CK_LOGW);
	f[nf++] = l;
	for (int i = 0; i < ps->n; i++) {
		snprintf(name, sizeof name, "p%d", i);
		th_field(&h, name, DT_F32, 1, ps->len[i]);
		f[nf++] = ps->p[i];
		snprintf(name, sizeof name, "u%d", i);
		th_field(&h, name, DT_F32, 1, ps->len[i]);
		f[nf++] = u[i];
		if (best[0]) {
			snprintf(name, sizeof name, "best%d", i);
			th_field(&h, name, DT_F32, 1, ps->len[i]);
			f[nf++] = best[i];
		}
	}
	th_attr_set(&h, "train_settings", ck.settings);
	th_attr_set(&h, "train_data", ck.data);
	th_attr_set(&h, "train_start", ck.start);
	th_add_history(&h);
	sout_t *out = sout_open(o->checkpoint, &h);
	sout_write_fields(out, f);
	sout_close(out);
	th_free(&h);
	free(l);
}

/* --checkpoint's file at the start: read (to ck) only if it is one of this
 * same run, else one line naming what differs. */
static void ck_load(const tr_params_t *ps, const tr_opts_t *o, int64_t nvalid)
{
	if (access(o->checkpoint, F_OK) && errno == ENOENT)
		return;
	sin_t *s = sin_open(o->checkpoint);
	if (th_find(&s->h, "train_state") < 0)
		die("%s: --checkpoint names a file that is not a training checkpoint; remove it or name another",
		    s->name);
	const char *keys[] = {"train_settings", "train_data", "train_start"};
	const char *want[] = {ck.settings, ck.data, ck.start};
	for (int k = 0; k < 3; k++) {
		const char *a = th_attr(&s->h, keys[k]);
		if (!a || strcmp(a, want[k]))
			die("%s: a checkpoint of another run (its %s '%s', this run's '%s'); remove it to start afresh",
			    s->name, keys[k], a ? a : "(none)", want[k]);
	}
	const char *kind = "training checkpoint of this run";
	const tfield *fs = model_field(s, kind, "train_state", DT_F64, 1, (int64_t[]){CK_LEN}, NULL);
	const tfield *fl = model_field(s, kind, "train_log", DT_F32, 2, (int64_t[]){-1, CK_LOGW}, "L,7");
	ck.rec = xmalloc_big((size_t)s->h.recsize);
	if (sin_read(s, ck.rec, 1) != 1)
		die("%s: no record", s->name);
	memcpy(ck.st, ck.rec + fs->offset, sizeof ck.st);
	if (!(ck.st[CK_PHASE] == 0 || ck.st[CK_PHASE] == 1) || !(ck.st[CK_EPOCH] >= 0 && ck.st[CK_EPOCH] <= o->max_epochs) ||
	    !(ck.st[CK_NLOG] >= 0 && ck.st[CK_NLOG] <= (double)fl->dims[0]))
		die("%s: field train_state is not a trainer's state", s->name);
	ck.log = fl->offset;
	/* the parameters and momenta; the best ones in a fit with a validation part */
	static const char *const names[3] = {"p", "u", "best"};
	int arrays = ck.st[CK_PHASE] == 0 && nvalid ? 3 : 2;
	for (int i = 0; i < ps->n; i++)
		for (int k = 0; k < arrays; k++) {
			char name[TINY_NAME_MAX + 1];
			snprintf(name, sizeof name, "%s%d", names[k], i);
			ck.at[k][i] = model_field(s, kind, name, DT_F32, 1, &ps->len[i], NULL)->offset;
		}
	sin_close(s);
	ck.found = 1;
}

/* Resume the phase of fit_sgd's run r from ck (when it holds this phase):
 * the parameters, momenta, best ones, the log and the trainer's figures.
 * Returns the epochs done (-1: nothing resumed). */
static int64_t ck_resume(run_t *r, float *const *u, int phase)
{
	if (!ck.found || (int)ck.st[CK_PHASE] != phase)
		return -1;
	const tr_params_t *ps = r->ps;
	for (int i = 0; i < ps->n; i++) {
		float *to[3] = {ps->p[i], u[i], r->best[i]};
		for (int k = 0; k < 3 && to[k]; k++)
			memcpy(to[k], ck.rec + ck.at[k][i], (size_t)ps->len[i] * sizeof(float));
	}
	ck_unpack(ck.st + CK_HEAD, r->t, r->o->checkpoint);
	r->best_vloss = ck.st[CK_BEST_VLOSS];
	r->nlog = r->caplog = (int64_t)ck.st[CK_NLOG];
	r->log = xrealloc(r->log, (size_t)(r->caplog ? r->caplog : 1) * sizeof *r->log);
	for (int64_t k = 0; k < r->nlog; k++) {
		float l[CK_LOGW];
		memcpy(l, ck.rec + ck.log + k * (int64_t)sizeof l, sizeof l);
		r->log[k] = (tr_logrec_t){(int32_t)l[0], l[1], l[2], l[3], l[4], l[5], l[6]};
	}
	free(ck.rec);
	ck.rec = NULL;
	if (r->nlog)
		r->start -= r->log[r->nlog - 1].seconds;   /* the seconds go on from the checkpoint's */
	if (r->o->log)
		write_log(r->t, r->o, r->log, r->nlog);
	ck.found = 0;
	int64_t e = (int64_t)ck.st[CK_EPOCH];
	if (!tiny_quiet)
		fprintf(stderr, "%s: resuming %s from %s after epoch %" PRId64 "\n", tiny_prog,
			phase ? "the refit" : "the fit", r->o->checkpoint, e);
	return e;
}

void tr_finish(const tr_opts_t *o)
{
	if (o->checkpoint && remove(o->checkpoint) && errno != ENOENT)
		die("--checkpoint %s: cannot remove it: %s", o->checkpoint, strerror(errno));
}

/* --- minibatch SGD ---------------------------------------------------------------- */

double tr_rate_factor(const tr_opts_t *o, int64_t epoch, int64_t cuts)
{
	switch (o->schedule) {
	case TR_STEP: return pow(o->lr_factor, (double)(epoch / o->lr_step));
	case TR_COSINE: return (1 + cos(M_PI * (double)epoch / (double)o->max_epochs)) / 2;
	case TR_CONSTANT: return 1;
	default: return pow(o->lr_factor, (double)cuts);
	}
}

/* The plateau cuts t's fit had made before its epoch e (0-based). */
static int64_t cuts_before(const trainer_t *t, int64_t e)
{
	int64_t c = 0;
	while (c < t->ncuts && t->cut_at[c] <= e)
		c++;
	return c;
}

/* The rate factor t's fit had at its epoch e (0-based). */
static double fit_factor(const tr_opts_t *o, const trainer_t *t, int64_t e)
{
	return tr_rate_factor(o, e, cuts_before(t, e));
}

static void fit_sgd(trainer_t *t, const tr_model_t *m, tr_params_t *ps, const tr_opts_t *o)
{
	labelled_t *d = t->d;
	int64_t ntrain = t->ntrain, B = o->batch < ntrain ? o->batch : ntrain, D = d->D;
	int64_t *tr = xmalloc((size_t)ntrain * sizeof *tr), *yb = xmalloc((size_t)B * sizeof *yb);
	float *X = xmalloc_big((size_t)(B * D) * sizeof *X);
	float *u[TR_MAX_PARAMS];
	for (int i = 0; i < ps->n; i++)
		u[i] = xcalloc((size_t)ps->len[i], sizeof(float));
	run_t r;
	run_open(&r, t, m, ps, o);
	double best_mon = HUGE_VAL, factor = 1;
	int64_t since_mon = 0, since_best = 0, cuts = 0, e;
	float mo = (float)o->momentum;
	static char why[256];
	t->ncuts = 0;
	int phase = o->replay != NULL;
	int64_t e0 = o->checkpoint ? ck_resume(&r, u, phase) : -1;
	int resumed = e0 >= 0;
	if (resumed) {
		best_mon = ck.st[CK_BEST_MON], since_mon = (int64_t)ck.st[CK_SINCE_MON];
		since_best = (int64_t)ck.st[CK_SINCE_BEST], cuts = (int64_t)ck.st[CK_CUTS];
	} else {
		e0 = 0;
		end_epoch(&r, 0, NAN, NAN, o->lr, NAN);
	}
	for (e = e0; e < o->max_epochs; e++) {
		if (o->checkpoint && (e > e0 || !resumed)) {   /* the state after e epochs (as read, on resuming) */
			double st[CK_LEN] = {[CK_PHASE] = phase, [CK_EPOCH] = (double)e, [CK_BEST_MON] = best_mon,
					     [CK_SINCE_MON] = (double)since_mon, [CK_SINCE_BEST] = (double)since_best,
					     [CK_CUTS] = (double)cuts, [CK_BEST_VLOSS] = r.best_vloss, [CK_NLOG] = (double)r.nlog};
			ck_pack(st + CK_HEAD, t);
			if (o->replay)
				ck_pack(st + CK_HEAD + CKT_LEN, o->replay);
			ck_save(o, ps, u, r.best, st, r.log, r.nlog, &d->in->h);
		}
		if (o->stop_after && ck.ran >= o->stop_after) {
			if (!tiny_quiet)
				fprintf(stderr, "%s: stopped after %" PRId64 " epochs (--stop-after), at epoch %" PRId64
						" of the %s; run the same command again to resume from %s\n",
					tiny_prog, ck.ran, e, phase ? "refit" : "fit", o->checkpoint);
			exit(TR_STOPPED);
		}
		ck.ran++;
		if (o->replay && o->schedule == TR_PLATEAU)   /* the first fit's cuts, epoch by epoch */
			cuts = cuts_before(o->replay, e);
		factor = tr_rate_factor(o, e, cuts);
		memcpy(tr, t->order, (size_t)ntrain * sizeof *tr);
		rng_shuffle(tr, ntrain, o->seed, (uint64_t)e);
		double loss = 0;
		int64_t correct = 0;
		progress_t bar;
		char what[64];
		snprintf(what, sizeof what, "%s: epoch %" PRId64, tiny_prog, e + 1);
		progress_start(&bar, what, (double)ntrain);
		for (int64_t first = 0; first < ntrain; first += B) {
			int64_t n = ntrain - first < B ? ntrain - first : B;
			ld_gather(d, tr + first, n, X);
			for (int64_t k = 0; k < n; k++)
				yb[k] = d->y[tr[first + k]];
			loss += m->step(m->ctx, X, yb, n, &correct);
			for (int i = 0; i < ps->n; i++) {
				float *p = ps->p[i], *g = ps->g[i], *ui = u[i], rate = (float)(ps->rate[i] * factor);
				float decay = (float)ps->decay[i];
				int64_t len = ps->len[i];
#pragma omp parallel for simd if (len > 65536) schedule(static)
				for (int64_t j = 0; j < len; j++) {
					ui[j] = mo * ui[j] - rate * (g[j] + decay * p[j]);
					p[j] += ui[j];
				}
			}
			progress_update(&bar, (double)(first + n));
		}
		progress_end(&bar);
		loss /= (double)ntrain;
		check_finite(ps, loss, e + 1, o);
		double objective = o->target > 0 ? train_objective(&r) : NAN;
		t->epochs = e + 1;
		int best = end_epoch(&r, e + 1, loss, (double)correct / (double)ntrain, o->lr * factor, objective);
		if (objective <= o->target) {
			snprintf(why, sizeof why, "the objective reached --target-loss %g: stopping", o->target);
			t->why = why;
			break;
		}
		since_best = best ? 0 : since_best + 1;
		if (t->nvalid && since_best >= o->patience) {
			snprintf(why, sizeof why, "no lower validation loss in %" PRId64 " epochs: stopping", o->patience);
			t->why = why;
			break;
		}
		double mon = t->nvalid ? r.best_vloss : loss;   /* the plateau's monitor */
		if (o->replay)
			continue;
		if (t->nvalid ? best : mon < best_mon * (1 - IMPROVE))
			best_mon = mon, since_mon = 0;
		else if (++since_mon >= o->lr_patience && o->schedule == TR_PLATEAU) {
			if (cuts == o->max_cuts) {
				snprintf(why, sizeof why, "the %s loss stalled at the rate's last cut (%g): stopping",
					 t->nvalid ? "validation" : "training", o->lr * factor);
				t->why = why;
				break;
			}
			cuts++, since_mon = 0;
			t->cut_at[t->ncuts++] = e + 1;
		}
	}
	if (e == o->max_epochs && o->max_epochs > 0) {
		if (o->replay)   /* tr_refit's run: its length was the fit's choice */
			snprintf(why, sizeof why, "refit: ran the %" PRId64 " epochs the fit kept", o->max_epochs);
		else
			snprintf(why, sizeof why, "reached the --epochs cap %" PRId64 " before the stopping test held",
				 o->max_epochs);
		t->why = why;
	}
	snprintf(t->keeping, sizeof t->keeping, ", keeping epoch %" PRId64, t->best_epoch);
	run_close(&r);
	for (int i = 0; i < ps->n; i++)
		free(u[i]);
	free(tr), free(yb), free(X);
}

/* --- L-BFGS -------------------------------------------------------------------------- */

typedef struct {
	run_t *r;
	float *Z;          /* the training rows as ld_gather gives them, or */
	uint8_t *B;        /* as they came (the model's objective_u8) */
	int64_t *y;
	int64_t correct;   /* at the last evaluation */
	double f, start_f;
	int stop;          /* why the progress callback stopped: 1 target, 2 cap */
	char *why;
} lb_t;

static void unpack(const lbfgsfloatval_t *x, const tr_params_t *ps)
{
	for (int i = 0; i < ps->n; i++) {
		float *p = ps->p[i];
		for (int64_t j = 0; j < ps->len[i]; j++)
			p[j] = (float)*x++;
	}
}

static lbfgsfloatval_t lb_evaluate(void *inst, const lbfgsfloatval_t *x, lbfgsfloatval_t *g, const int n,
				   const lbfgsfloatval_t step)
{
	(void)n, (void)step;
	lb_t *L = inst;
	const tr_params_t *ps = L->r->ps;
	unpack(x, ps);
	const tr_model_t *m = L->r->m;
	const labelled_t *d = L->r->t->d;
	double f = L->B ? m->objective_u8(m->ctx, L->B, d->mu, d->sd, L->y, L->r->t->ntrain, &L->correct)
			: m->objective(m->ctx, L->Z, L->y, L->r->t->ntrain, &L->correct);
	for (int i = 0; i < ps->n; i++)
		for (int64_t j = 0; j < ps->len[i]; j++)
			*g++ = ps->g[i][j];
	return isfinite(f) ? f : HUGE_VAL;
}

static int lb_progress(void *inst, const lbfgsfloatval_t *x, const lbfgsfloatval_t *g, const lbfgsfloatval_t fx,
		       const lbfgsfloatval_t xnorm, const lbfgsfloatval_t gnorm, const lbfgsfloatval_t step, int n,
		       int k, int ls)
{
	(void)g, (void)xnorm, (void)gnorm, (void)step, (void)n, (void)ls;
	lb_t *L = inst;
	run_t *r = L->r;
	unpack(x, r->ps);   /* the iterate, for the validation score */
	L->f = fx;
	/* the training accuracy at the iterate: the last evaluation was at it */
	r->t->epochs = k;
	end_epoch(r, k, fx - (r->m->penalty ? r->m->penalty(r->m->ctx) : 0),
		  (double)L->correct / (double)r->t->ntrain, NAN, fx);
	if (r->o->target > 0 && fx <= r->o->target) {
		snprintf(L->why, 256, "the objective reached --target-loss %g: stopping", r->o->target);
		return L->stop = 1;
	}
	if (k >= r->o->max_epochs) {
		snprintf(L->why, 256, "reached the --epochs cap %" PRId64 " before converging (objective %.6f)",
			 r->o->max_epochs, fx);
		return L->stop = 2;
	}
	return 0;
}

static void fit_lbfgs(trainer_t *t, const tr_model_t *m, tr_params_t *ps, const tr_opts_t *o)
{
	labelled_t *d = t->d;
	int64_t ntrain = t->ntrain, n = 0;
	for (int i = 0; i < ps->n; i++)
		n += ps->len[i];
	if (n > INT32_MAX)
		die("%" PRId64 " parameters are more than libLBFGS can index", n);
	run_t r;
	run_open(&r, t, m, ps, o);
	static char why[256];
	lb_t L = {.r = &r, .why = why};
	if (m->objective_u8 && d->fx.dtype == DT_U8) {
		L.B = xmalloc_big((size_t)(ntrain * d->D));
		for (int64_t k = 0; k < ntrain; k++)
			memcpy(L.B + k * d->D, d->xs + t->order[k] * d->fx.nbytes, (size_t)d->D);
	} else {
		L.Z = xmalloc_big((size_t)(ntrain * d->D) * sizeof *L.Z);
		ld_gather(d, t->order, ntrain, L.Z);
	}
	L.y = xmalloc((size_t)ntrain * sizeof *L.y);
	for (int64_t k = 0; k < ntrain; k++)
		L.y[k] = d->y[t->order[k]];
	end_epoch(&r, 0, NAN, NAN, NAN, NAN);
	lbfgsfloatval_t *x = lbfgs_malloc((int)n), fx;
	if (!x)
		die("out of memory for %" PRId64 " L-BFGS variables", n);
	lbfgsfloatval_t *xp = x;
	for (int i = 0; i < ps->n; i++)
		for (int64_t j = 0; j < ps->len[i]; j++)
			*xp++ = ps->p[i][j];
	lbfgs_parameter_t par;
	lbfgs_parameter_init(&par);
	par.past = LBFGS_PAST;
	par.delta = o->tol;
	par.max_iterations = 0;   /* the progress callback applies the cap, and says so */
	par.max_linesearch = 40;
	par.m = 10;   /* libLBFGS's default is 6 */
	int rc = lbfgs((int)n, x, &fx, lb_evaluate, lb_progress, &L, &par);
	unpack(x, ps);
	if (L.stop) {
		t->why = why;
	} else if (rc == LBFGS_SUCCESS || rc == LBFGS_STOP || rc == LBFGS_ALREADY_MINIMIZED) {
		snprintf(why, sizeof why, "converged after %" PRId64 " iterations (objective %.6f, %s)", t->epochs,
			 (double)fx,
			 rc == LBFGS_STOP ? "its relative decrease over 5 iterations below --tol"
					  : "the gradient's norm below 1e-5 of the parameters'");
		t->why = why;
	} else if (rc == LBFGSERR_ROUNDING_ERROR || rc == LBFGSERR_MAXIMUMLINESEARCH || rc == LBFGSERR_MINIMUMSTEP ||
		   rc == LBFGSERR_MAXIMUMSTEP || rc == LBFGSERR_WIDTHTOOSMALL || rc == LBFGSERR_INCORRECT_TMINMAX ||
		   rc == LBFGSERR_INCREASEGRADIENT) {
		/* the line search found no lower point: as converged as float evaluations allow */
		snprintf(why, sizeof why, "converged after %" PRId64 " iterations (objective %.6f): no step along the "
			 "search direction lowers the objective", t->epochs, (double)fx);
		t->why = why;
		/* libLBFGS leaves x at the last accepted iterate */
	} else {
		die("L-BFGS failed (libLBFGS code %d)", rc);
	}
	check_finite(ps, fx, t->epochs, o);
	run_close(&r);
	lbfgs_free(x);
	free(L.Z), free(L.B), free(L.y);
}

void tr_fit(trainer_t *t, const tr_model_t *m, tr_params_t *ps, const tr_opts_t *o)
{
	if (!tiny_quiet) {
		fprintf(stderr, "%s: %" PRId64 " records (%" PRId64 " training, %" PRId64 " validation), D = %" PRId64
			", K = %" PRId64 "%s; %s%s",
			tiny_prog, t->d->N, t->ntrain, t->nvalid, t->d->D, t->d->K, t->d->mu ? ", standardised" : "",
			t->model, *t->model ? "; " : "");
		if (o->solver == TR_LBFGS)
			fprintf(stderr, "L-BFGS, tol %g\n", o->tol);
		else
			fprintf(stderr, "SGD, lr %g (%s schedule) momentum %g batch %" PRId64 "\n", o->lr,
				tr_schedule_names[o->schedule], o->momentum, o->batch);
	}
	if (o->checkpoint && !o->replay) {   /* the fit: this run's identity, and its checkpoint if any */
		ck_identity(t, ps, o);
		ck_load(ps, o, t->nvalid);
		if (ck.found && ck.st[CK_PHASE] == 1) {   /* the fit was done: its figures, then the refit */
			ck_unpack(ck.st + CK_HEAD + CKT_LEN, t, o->checkpoint);
			if (!tiny_quiet)
				fprintf(stderr, "%s: the fit was done (%" PRId64 " epochs, keeping epoch %" PRId64 ")\n",
					tiny_prog, t->epochs, t->best_epoch);
			return;
		}
	}
	if (o->solver == TR_LBFGS)
		fit_lbfgs(t, m, ps, o);
	else
		fit_sgd(t, m, ps, o);
}

void tr_refit(trainer_t *t, const tr_model_t *m, tr_params_t *ps, const tr_opts_t *o, float *const *init)
{
	if (!o->refit || !t->nvalid)
		return;
	/* the kept epoch (k, 0-based) ran at the first rate, and the fit cut
	 * it later: replayed, the refit would end at that rate, on a draw from
	 * its noise that no validation chose; the fit's net was chosen */
	int64_t k = t->best_epoch - 1, cut = k + 1;
	if (o->solver == TR_SGD && k >= 0 && fit_factor(o, t, k) == 1 && fit_factor(o, t, t->epochs - 1) < 1) {
		while (fit_factor(o, t, cut) == 1)
			cut++;
		snprintf(t->refit_skipped, sizeof t->refit_skipped,
			 "the fit kept epoch %" PRId64 ", run at the first rate, which it cut after epoch %" PRId64,
			 t->best_epoch, cut);
		if (!tiny_quiet)
			fprintf(stderr, "%s: no refit: %s; a refit would end at that rate, on a draw from its noise "
					"that no validation chose: keeping the fit's net\n",
				tiny_prog, t->refit_skipped);
		return;
	}
	trainer_t first = *t;
	tr_opts_t ro = *o;
	ro.valid = 0, ro.refit = 0, ro.replay = &first;
	char *log = NULL;
	if (o->log) {
		size_t n = strlen(o->log) + 8;
		log = xmalloc(n);
		snprintf(log, n, "%s.refit", o->log);
		ro.log = log;
	}
	t->ntrain = t->d->N, t->nvalid = 0;
	for (int64_t i = 0; i < t->ntrain; i++)   /* the order of a run without --valid */
		t->order[i] = i;
	if (!tiny_quiet)
		fprintf(stderr, "%s: refitting on all %" PRId64 " records%s\n", tiny_prog, t->ntrain,
			o->solver == TR_SGD ? ", the epochs and rates chosen above" : ", from the solution above");
	if (o->solver == TR_SGD) {
		if (init)
			for (int i = 0; i < ps->n; i++)
				memcpy(ps->p[i], init[i], (size_t)ps->len[i] * sizeof(float));
		ro.max_epochs = first.best_epoch;
	}
	if (ro.max_epochs > 0) {
		tr_fit(t, m, ps, &ro);
		first.refit_epochs = t->epochs, first.refit_loss = t->train_loss, first.refit_acc = t->train_acc;
	}
	*t = first;
	free(log);
}

/* --- models ---------------------------------------------------------------------- */

void tr_model_header(theader *h, const labelled_t *d, const char *classes)
{
	th_copy(h, &d->in->h);
	while (h->nfields)
		th_remove_field(h, 0);
	h->count = 1;
	origin_record(h, &d->in->h);
	th_attr_set(h, "classes", classes);
}

void tr_result_attrs(theader *h, const trainer_t *t, const char *prefix)
{
	char key[TINY_NAME_MAX + 1];
#define SET(name, ...) (snprintf(key, sizeof key, "%s_%s", prefix, name), th_attr_setf(h, key, __VA_ARGS__))
	SET("epochs", "%" PRId64, t->epochs);
	SET("best_epoch", "%" PRId64, t->best_epoch);
	if (t->best_epoch > 0) {
		SET("train_loss", "%.6g", t->train_loss);
		SET("train_accuracy", "%.4f", t->train_acc);
	}
	if (t->nvalid) {
		SET("valid_loss", "%.6g", t->valid_loss);
		SET("valid_accuracy", "%.4f", t->valid_acc);
	}
	if (*t->refit_skipped)
		SET("refit_skipped", "%s", t->refit_skipped);
	if (t->refit_epochs) {
		SET("refit_epochs", "%" PRId64, t->refit_epochs);
		SET("refit_train_loss", "%.6g", t->refit_loss);
		SET("refit_train_accuracy", "%.4f", t->refit_acc);
	}
#undef SET
}

void tr_write_model(const theader *h, const void *const *fields)
{
	sout_t *out = sout_open(NULL, h);
	sout_write_fields(out, fields);
	sout_close(out);
}

/* --- predicting ------------------------------------------------------------------- */

void tr_predict(sin_t *ms, const char *path, int64_t D, int64_t K, const char *classes, const tr_model_t *m,
		const float *mu, const float *sd)
{
	sin_t *in = sin_open(path);
	const tfield *fx = th_need(&in->h, "x", in->name);
	origin_check(&ms->h, ms->name, &in->h, in->name);
	if (fx->n != D)
		die("%s is a model of D = %" PRId64 " inputs; %s's x has %" PRId64 " values", ms->name, D, in->name,
		    fx->n);
	pred_out_t po;
	pred_open(&po, in, K, classes, m->out ? m->out : "prob");
	int64_t R = in->h.recsize, n, done = 0;
	unsigned char *raw = xmalloc((size_t)(TR_BLOCK * R));
	float *X = xmalloc_big((size_t)(TR_BLOCK * D) * sizeof *X), *P = xmalloc((size_t)(TR_BLOCK * K + TR_PAD) * sizeof *P);
	progress_t bar;
	progress_start(&bar, "predict", in->h.count == TINY_COUNT_UNKNOWN ? 0 : (double)in->h.count);
	while ((n = sin_read(in, raw, TR_BLOCK)) > 0) {
		tf_get_f32(fx, raw, n, R, X);
		tf_check_finite_f32(X, n, D, done, in->name, "x");
		if (mu)
			for (int64_t r = 0; r < n; r++)
				for (int64_t i = 0; i < D; i++)
					X[r * D + i] = (X[r * D + i] - mu[i]) / sd[i];
		m->forward(m->ctx, X, n, P);
		pred_write(&po, raw, n, P);
		done += n;
		progress_update(&bar, (double)done);
	}
	progress_end(&bar);
	pred_close(&po);
	sin_close(in);
	free(raw), free(X), free(P);
}

/* --- options ------------------------------------------------------------------------ */

int tr_option(tr_opts_t *o, int c, const char *arg)
{
	switch (c) {
	case TR_OPT_EPOCHS: o->max_epochs = opt_i64("--epochs", arg, o->min_epochs, 1 << 30); break;
	case TR_OPT_BATCH: o->batch = opt_i64("--batch", arg, 1, 1 << 20); break;
	case TR_OPT_LR: o->lr = opt_f64("--lr", arg, 0, 1e6); break;
	case TR_OPT_MOMENTUM:
		o->momentum = opt_f64("--momentum", arg, 0, 1);
		if (o->momentum >= 1)
			usage_error("--momentum %s: expected a number from 0 to below 1", arg);
		break;
	case TR_OPT_SCHEDULE: o->schedule = (tr_schedule_t)opt_choice("--schedule", arg, tr_schedule_names); break;
	case TR_OPT_LR_FACTOR:
		o->lr_factor = opt_f64("--lr-factor", arg, 0, 1);
		if (o->lr_factor <= 0 || o->lr_factor >= 1)
			usage_error("--lr-factor %s: expected a factor above 0 and below 1", arg);
		break;
	case TR_OPT_LR_PATIENCE: o->lr_patience = opt_i64("--lr-patience", arg, 1, 1 << 20); break;
	case TR_OPT_LR_STEP: o->lr_step = opt_i64("--lr-step", arg, 1, 1 << 30); break;
	case TR_OPT_MAX_CUTS: o->max_cuts = opt_i64("--max-cuts", arg, 0, 100); break;
	case TR_OPT_PATIENCE: o->patience = opt_i64("--patience", arg, 1, 1 << 30); break;
	case TR_OPT_VALID:
		o->valid = opt_f64("--valid", arg, 0, 1);
		if (o->valid <= 0 || o->valid >= 1)
			usage_error("--valid %s: expected a fraction above 0 and below 1", arg);
		break;
	case TR_OPT_SEED: o->seed = opt_u64("--seed", arg); break;
	case TR_OPT_TARGET: o->target = opt_f64("--target-loss", arg, 0, 1e6); break;
	case TR_OPT_TOL:
		o->tol = opt_f64("--tol", arg, 0, 1);
		if (o->tol <= 0)
			usage_error("--tol %s: expected a number above 0 and at most 1", arg);
		break;
	case TR_OPT_LOG: o->log = arg; break;
	case TR_OPT_REFIT: o->refit = 1; break;
	case TR_OPT_SOLVER: {
		static const char *const solvers[] = {"sgd", "lbfgs", NULL};
		o->solver = (tr_solver_t)opt_choice("--solver", arg, solvers);
		break;
	}
	default: return 0;
	}
	return 1;
}

void tr_check_opts(const tr_opts_t *o)
{
	if (o->refit && !o->valid)
		usage_error("--refit trains again on every record after a fit with --valid; add --valid");
}

void tr_settings(char *buf, size_t n, const tr_opts_t *o)
{
	if (o->solver == TR_LBFGS)
		snprintf(buf, n, "solver lbfgs tol %g epochs %" PRId64 " valid %g refit %s seed %" PRIu64, o->tol,
			 o->max_epochs, o->valid, o->refit ? "yes" : "no", o->seed);
	else
		snprintf(buf, n,
			 "solver sgd lr %g momentum %g batch %" PRId64 " epochs %" PRId64 " schedule %s lr-factor %g "
			 "lr-patience %" PRId64 " lr-step %" PRId64 " max-cuts %" PRId64 " patience %" PRId64
			 " valid %g refit %s seed %" PRIu64,
			 o->lr, o->momentum, o->batch, o->max_epochs, tr_schedule_names[o->schedule], o->lr_factor,
			 o->lr_patience, o->lr_step, o->max_cuts, o->patience, o->valid, o->refit ? "yes" : "no", o->seed);
}
