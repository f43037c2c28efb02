/* patch.c - what tiny-patchify, tiny-zca and tiny-conv must do alike to
 * patches, so that a filter bank learned on patches applies to whole
 * images exactly as it was learned:
 *
 *   per-patch brightness and contrast normalisation (Coates, Lee and Ng
 *   2011): each patch x (D values) becomes
 *
 *     x_i <- (x_i - mean(x)) / sqrt(var(x) + eps),
 *     var(x) = sum_i (x_i - mean(x))^2 / (D - 1)
 *
 *   (the D - 1 of their MATLAB code's var; eps 10 for pixels 0..255 keeps a
 *   flat patch from being blown up into noise), recorded in the attribute
 *   patch_normalize EPS;
 *
 *   the whitening's fingerprint: tiny-zca writes zca_fingerprint (a 64-bit
 *   FNV-1a hash of the model's mean and W, as hex) on the data it whitens,
 *   a model learned on that data keeps the attribute, and tiny-conv checks
 *   its --zca model against it; a model's own fingerprint, of its weights,
 *   is the features_of of the features made with it (origin_check in
 *   lib/stream.c holds data to the model's training data by both). */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include "tiny.h"

void patch_normalize(float *X, int64_t n, int64_t D, double eps)
{
#pragma omp parallel for if (n * D > 65536)
	for (int64_t r = 0; r < n; r++) {
		float *x = X + r * D;
		double s = 0, ss = 0;
		for (int64_t i = 0; i < D; i++)
			s += x[i];
		double mean = s / (double)D;
		for (int64_t i = 0; i < D; i++)
			ss += (x[i] - mean) * (x[i] - mean);
		double var = D > 1 ? ss / (double)(D - 1) : 0;
		float scale = (float)(1 / sqrt(var + eps)), m = (float)mean;
		for (int64_t i = 0; i < D; i++)
			x[i] = (x[i] - m) * scale;
	}
}

double patch_normalize_attr(const theader *h, const char *input)
{
	const char *a = th_attr(h, "patch_normalize");
	if (!a)
		return -1;
	char *end;
	double eps = strtod(a, &end);
	if (end == a || *end || !(eps >= 0) || !isfinite(eps))
		die("%s: attribute patch_normalize '%s' is not a number >= 0", input, a);
	return eps;
}

uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

void model_fingerprint(const void *a, size_t na, const void *b, size_t nb, char buf[17])
{
	uint64_t h = fnv1a(0xcbf29ce484222325ULL, a, na);
	snprintf(buf, 17, "%016" PRIx64, fnv1a(h, b, nb));
}

void zca_fingerprint(const float *mean, const float *W, int64_t D, char buf[17])
{
	uint64_t h = 0xcbf29ce484222325ULL;
	h = fnv1a(h, mean, (size_t)D * sizeof *mean);
	h = fnv1a(h, W, (size_t)(D * D) * sizeof *W);
	snprintf(buf, 17, "%016" PRIx64, h);
}
