/*
 * unit - unit tests of lib/: header round trips and rules, field
 * conversion, stream write and read, the random number generator, and the
 * BLAS/LAPACK wrappers against plain loops.  Prints one line per check and
 * exits 1 if any failed.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tiny.h"

static int failures, checks;

#define CHECK(cond, ...)                                         \
	do {                                                     \
		checks++;                                        \
		if (!(cond)) {                                   \
			failures++;                              \
			printf("FAIL %s:%d: ", __FILE__, __LINE__); \
			printf(__VA_ARGS__);                     \
			putchar('\n');                           \
		}                                                \
	} while (0)

static void test_header_roundtrip(void)
{
	theader h, g;
	char err[256];
	size_t len;
	th_init(&h);
	h.count = 7;
	th_field(&h, "label", DT_U8, 0);
	th_field(&h, "x", DT_F32, 3, (int64_t)3, (int64_t)8, (int64_t)8);
	th_field(&h, "idx", DT_I64, 1, (int64_t)2);
	th_attr_add(&h, "classes", "a b c");
	th_attr_add(&h, "history", "one");
	th_attr_add(&h, "history", "two 'quoted'");
	th_attr_add(&h, "empty", "");
	char *buf = th_format(&h, &len, err, sizeof err);
	CHECK(buf != NULL, "format failed: %s", err);
	CHECK(len % TINY_ALIGN == 0, "header length %zu not a multiple of 64", len);
	CHECK(th_parse(&g, buf, len, err, sizeof err) == 0, "parse of formatted header failed: %s", err);
	CHECK(g.count == 7 && g.nfields == 3 && g.recsize == 1 + 3 * 64 * 4 + 16, "count/fields/recsize wrong");
	CHECK(g.fields[1].offset == 1 && g.fields[2].offset == 1 + 768, "offsets wrong");
	CHECK(g.nattrs == 4 && !strcmp(th_attr(&g, "history"), "one"), "attributes wrong");
	CHECK(!strcmp(g.attrs[2].value, "two 'quoted'") && !strcmp(th_attr(&g, "empty"), ""), "attr values wrong");
	free(buf);
	th_free(&g);
	th_free(&h);
}

static int parse_text(const char *text, char *err)
{
	size_t n = strlen(text), L = (n + 63) / 64 * 64;
	char *buf = calloc(L + 64, 1);
	memcpy(buf, text, n);
	memset(buf + n, '\n', L - n);
	theader h;
	int r = th_parse(&h, buf, L, err, 256);
	if (r == 0)
		th_free(&h);
	free(buf);
	return r;
}

static void test_header_rules(void)
{
	char err[256];
	CHECK(parse_text("TINY 1 64\ncount 1\nfield a u8 []\nend\n", err) == 0, "minimal header rejected: %s", err);
	CHECK(parse_text("TINY 1 64\ncount 1\nfield a u8 [1,2,3,4,5]\nend\n", err) < 0 && strstr(err, "rank"),
	      "rank 5 accepted (%s)", err);
	CHECK(parse_text("TINY 1 64\ncount 1\nfield 9a u8 []\nend\n", err) < 0 && strstr(err, "name"),
	      "bad field name accepted");
	CHECK(parse_text("TINY 1 64\ncount 1\nfield a f16 []\nend\n", err) < 0 && strstr(err, "dtype"),
	      "unknown dtype accepted");
	CHECK(parse_text("TINY 1 64\ncount 4611686018427387904\nfield a u8 [2]\nend\n", err) < 0,
	      "count over 2^62 accepted");
	CHECK(parse_text("TINY 1 64\ncount 4611686018427387903\nfield a u8 [2]\nend\n", err) < 0 &&
		      strstr(err, "overflow"),
	      "count x size overflow accepted (%s)", err);
	CHECK(parse_text("TINY 1 64\ncount 1\nfield a f64 [2147483647,2147483647]\nend\n", err) < 0,
	      "huge record accepted");
	CHECK(parse_text("TINY 1 64\ncount 1\nfield a u8 [0]\nend\n", err) < 0, "zero dimension accepted");
	CHECK(parse_text("TINY 1 64\ncount 1\nfield a u8 []\nfield a u8 []\nend\n", err) < 0, "duplicate accepted");
	CHECK(parse_text("TINY 2 64\ncount 1\nfield a u8 []\nend\n", err) < 0 && strstr(err, "version"),
	      "version 2 accepted");
	CHECK(parse_text("TINY 1 64\ncount 1\nfield a u8 []\n", err) < 0 && strstr(err, "end"), "missing end accepted");
	CHECK(parse_text("TINY 1 64\nfield a u8 []\nend\n", err) < 0, "missing count accepted");
	CHECK(parse_text("TINY 1 64\ncount 1\nend\n", err) < 0, "no fields accepted");
	CHECK(parse_text("TINY 1 64\ncount 1\nfield a u8 [01]\nend\n", err) < 0, "leading zero accepted");
}

static void test_fields(void)
{
	/* two records: u8 label then an unaligned f32 pair */
	unsigned char recs[18];
	float a[2] = {1.5f, -2.25f}, b[2] = {3.0f, 1e-3f};
	recs[0] = 7;
	memcpy(recs + 1, a, 8);
	recs[9] = 200;
	memcpy(recs + 10, b, 8);
	theader h;
	th_init(&h);
	th_field(&h, "label", DT_U8, 0);
	th_field(&h, "x", DT_F32, 1, (int64_t)2);
	float out[4];
	int64_t lab[2];
	tf_get_f32(&h.fields[1], recs, 2, h.recsize, out);
	tf_get_i64(&h.fields[0], recs, 2, h.recsize, lab);
	CHECK(out[0] == 1.5f && out[1] == -2.25f && out[2] == 3.0f && out[3] == 1e-3f, "tf_get_f32 wrong");
	CHECK(lab[0] == 7 && lab[1] == 200, "tf_get_i64 wrong");
	tf_set_i64(&h.fields[0], recs + 9, 3);
	CHECK(recs[9] == 3, "tf_set_i64 wrong");
	th_free(&h);
}

static void test_stream_file(void)
{
	char path[] = "/tmp/tiny-unit-XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	theader h;
	th_init(&h);
	h.count = 3;
	th_field(&h, "v", DT_I32, 1, (int64_t)2);
	sout_t *o = sout_open(path, &h);
	int32_t data[6] = {1, -2, 3, -4, 5, -6};
	sout_write(o, data, 3);
	sout_close(o);
	sin_t *s = sin_open(path);
	float f[6];
	CHECK(sin_read_f32(s, "v", f, 6) == 3, "wrong record count");
	CHECK(f[1] == -2 && f[5] == -6, "values wrong");
	CHECK(sin_read_f32(s, "v", f, 6) == 0, "read past the end");
	sin_close(s);
	unlink(path);
	th_free(&h);
}

static void test_rng(void)
{
	rng_t a, b;
	rng_seed(&a, 42, 0);
	rng_seed(&b, 42, 0);
	int same = 1;
	for (int i = 0; i < 1000; i++)
		same &= rng_u64(&a) == rng_u64(&b);
	CHECK(same, "same seed gives different numbers");
	rng_seed(&b, 42, 1);
	CHECK(rng_u64(&a) != rng_u64(&b), "streams 0 and 1 agree");
	double s = 0, s2 = 0, u = 0;
	int n = 200000, counts[7] = {0};
	for (int i = 0; i < n; i++) {
		double z = rng_normal(&a);
		s += z;
		s2 += z * z;
		u += rng_uniform(&a);
		counts[rng_below(&a, 7)]++;
	}
	CHECK(fabs(s / n) < 0.01 && fabs(s2 / n - 1) < 0.02, "normal moments %g %g", s / n, s2 / n);
	CHECK(fabs(u / n - 0.5) < 0.005, "uniform mean %g", u / n);
	int ok = 1;
	for (int k = 0; k < 7; k++)
		ok &= fabs(counts[k] - n / 7.0) < 5 * sqrt(n / 7.0);
	CHECK(ok, "rng_below(7) is not uniform");
}

static void test_la(void)
{
	enum { M = 37, N = 29, K = 53 };
	float A[M * K], B[K * N], C[M * N], R[M * N];
	rng_t r;
	rng_seed(&r, 1, 0);
	for (int i = 0; i < M * K; i++)
		A[i] = rng_normal(&r);
	for (int i = 0; i < K * N; i++)
		B[i] = rng_normal(&r);
	la_sgemm(0, 0, M, N, K, 1.0f, A, K, B, N, 0.0f, C, N);
	double maxerr = 0;
	for (int i = 0; i < M; i++)
		for (int j = 0; j < N; j++) {
			double s = 0;
			for (int k = 0; k < K; k++)
				s += (double)A[i * K + k] * B[k * N + j];
			R[i * N + j] = s;
			maxerr = fmax(maxerr, fabs(s - C[i * N + j]));
		}
	CHECK(maxerr < 1e-4, "sgemm differs from the loop by %g", maxerr);
	/* B^T A^T = (AB)^T through the transpose flags */
	la_sgemm(1, 1, N, M, K, 1.0f, B, N, A, K, 0.0f, C, M);
	maxerr = 0;
	for (int i = 0; i < M; i++)
		for (int j = 0; j < N; j++)
			maxerr = fmax(maxerr, fabs(R[i * N + j] - C[j * M + i]));
	CHECK(maxerr < 1e-4, "transposed sgemm differs by %g", maxerr);
	/* eigenvectors of a symmetric matrix, one a row: A v = w v */
	double S[16] = {4, 1, 0, 0, 1, 3, 1, 0, 0, 1, 2, 1, 0, 0, 1, 1}, V[16], w[4];
	memcpy(V, S, sizeof S);
	la_dsyevd(4, V, w);
	double res = 0;
	for (int k = 0; k < 4; k++)
		for (int i = 0; i < 4; i++) {
			double s = 0;
			for (int j = 0; j < 4; j++)
				s += S[i * 4 + j] * V[k * 4 + j];
			res = fmax(res, fabs(s - w[k] * V[k * 4 + i]));
		}
	CHECK(res < 1e-12 && w[0] <= w[1] && w[1] <= w[2] && w[2] <= w[3], "dsyevd residual %g", res);
}

int main(int argc, char **argv)
{
	tiny_init(argc, argv, "unit");
	test_header_roundtrip();
	test_header_rules();
	test_fields();
	test_stream_file();
	test_rng();
	test_la();
	printf("%d checks, %d failed\n", checks, failures);
	return failures != 0;
}
