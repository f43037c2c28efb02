/*
 * tiny-features - apply an RBM to a data set: each record's x becomes the
 * hidden units' probabilities (sections 1.4 and 2.8 of the report).
 *
 * usage: tiny-features [-q] MODEL [FILE]
 *
 * MODEL is an RBM stream (lib/rbm.c: W f32 [V,H], vbias [V], hbias [H],
 * sigma [V], attribute rbm_visible), e.g. from tiny-rbm-train or
 * tiny-rbm-merge.  The data's field x (any dtype and shape, flattened to V
 * values; V must be the model's) becomes
 *
 *   x f32 [H],   x_j = p(h_j = 1 | v) = logistic(b^h_j + sum_i (v_i / s_i) w_ij)
 *
 * Binary visibles are probabilities, as tiny-rbm-train reads them: u8 data
 * (pixels 0..255) is taken as x / 255, and a float value outside [0,1] is
 * an error naming its record.
 *
 * computed B = 256 records at a time as one sgemm (rbm_hidden_probs):
 * P (B,H) = logistic(1 hbias^T + (X / s) W) with X (B,V).  Binary visibles
 * have s = 1, so a second-layer model (binary visibles) applies to this
 * stage's own output: tiny-features L2 <(tiny-features L1 data).
 *
 * x keeps its place in the record; every other field (label, patch, ...)
 * passes through unchanged, and so do the data's attributes, with this
 * stage's history line appended.  A NaN or infinite input value is an error
 * naming its record.  Spec of the stream: formats/stream.md.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tiny.h"

static const char *usage_line = "tiny-features [-q] MODEL [FILE]";

enum { BLOCK = 256 };   /* records per sgemm */

/* --- main ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"quiet", no_argument, 0, 'q'}, {0}};
	int c;
	tiny_init(argc, argv, usage_line);
	while ((c = getopt_long(argc, argv, "q", longopts, NULL)) != -1) {
		switch (c) {
		case 'q': tiny_quiet = 1; break;
		default: usage();
		}
	}
	const char *model_path, *path;
	model_and_data(argc, argv, optind, &model_path, &path);

	/* the model, then the data's header: every check before any output */
	sin_t *ms = sin_open(model_path);
	rbm_t m;
	rbm_load(&m, ms, NULL);
	tf_check_finite_f32(m.hbias, 1, m.H, 0, ms->name, "hbias");
	int64_t V = m.V, H = m.H;

	sin_t *in = sin_open(path);
	const tfield *fx = th_need(&in->h, "x", in->name);
	if (fx->n != V)
		die("%s is an RBM of V = %" PRId64 " visible units; %s's x has %" PRId64 " values", ms->name, V,
		    in->name, fx->n);
	origin_check(&ms->h, ms->name, &in->h, in->name);
	sin_close(ms);

	/* features are neither whitened nor the data's features of another
	 * model: they are this model's (origin_check) */
	theader h;
	int xi = th_find(&in->h, "x");
	int64_t hdims[1] = {H};
	char fp[17];
	model_fingerprint(m.W, (size_t)(V * H) * sizeof *m.W, m.hbias, (size_t)H * sizeof *m.hbias, fp);
	th_copy(&h, &in->h);
	th_replace_field(&h, xi, DT_F32, 1, hdims);
	th_attr_del(&h, "zca_fingerprint");
	th_attr_set(&h, "features_of", fp);
	th_add_history(&h);

	int64_t R = in->h.recsize, OR = h.recsize, n, done = 0;
	unsigned char *raw = xmalloc((size_t)(BLOCK * R)), *orec = xmalloc((size_t)(BLOCK * OR));
	float *X = xmalloc((size_t)(BLOCK * V) * sizeof *X), *Xs = xmalloc((size_t)(BLOCK * V) * sizeof *Xs),
	      *P = xmalloc((size_t)(BLOCK * H) * sizeof *P);
	sout_t *o = sout_open(NULL, &h);
	progress_t bar;
	progress_start(&bar, "features", in->h.count == TINY_COUNT_UNKNOWN ? 0 : (double)in->h.count);
	while ((n = sin_read(in, raw, BLOCK)) > 0) {
		tf_get_f32(fx, raw, n, R, X);
		tf_check_finite_f32(X, n, V, done, in->name, "x");
		if (!m.gaussian)
			rbm_binary_input(X, n, V, fx->dtype == DT_U8, done, in->name);
		rbm_hidden_probs(&m, X, n, P, Xs);   /* P (n,H) */
		tf_reassemble(&in->h, &h, xi, raw, n, P, orec);
		sout_write(o, orec, n);
		done += n;
		progress_update(&bar, (double)done);
	}
	progress_end(&bar);
	sout_close(o);
	sin_close(in);
	th_free(&h);
	rbm_free(&m);
	free(raw), free(orec), free(X), free(Xs), free(P);
	return 0;
}
