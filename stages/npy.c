/*
 * tiny-npy - write one field of every record as a NumPy .npy file (format
 * version 1.0) on stdout: shape (N, dims...), the field's own dtype,
 * little-endian, C order.
 *
 * usage: tiny-npy FIELD [FILE]
 *
 * A .npy header states N, so a stream of unknown count is gathered in
 * memory first; a stream whose count is known is copied through in blocks.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tiny.h"

static const char *usage_line = "tiny-npy FIELD [FILE]";

static const char *npy_descr(dtype_t dt)
{
	static const char *d[DT_COUNT] = {"|u1", "<i4", "<u4", "<i8", "<f4", "<f8"};
	return d[dt];
}

static void write_npy_header(const tfield *f, int64_t N)
{
	char dict[512];
	int len = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%" PRId64 ",",
			   npy_descr(f->dtype), N);
	for (int d = 0; d < f->rank; d++)
		len += snprintf(dict + len, sizeof dict - len, " %" PRId64 ",", f->dims[d]);
	if (f->rank > 0)
		len--;  /* (N, a, b) but (N,) */
	len += snprintf(dict + len, sizeof dict - len, "), }");
	/* magic(6) version(2) length(2) dict, padded with spaces and '\n' to 64 */
	int total = (10 + len + 1 + 63) / 64 * 64;
	int hlen = total - 10;
	unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, hlen & 0xff, hlen >> 8};
	xfwrite(pre, 10, stdout, "stdout");
	xfwrite(dict, len, stdout, "stdout");
	for (int i = len; i < hlen - 1; i++)
		putchar(' ');
	putchar('\n');
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {{0}};
	int c;
	tiny_init(argc, argv, usage_line);
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1)
		usage();
	if (argc - optind < 1 || argc - optind > 2)
		usage();
	const char *name = argv[optind];
	sin_t *s = sin_open(optind + 1 < argc ? argv[optind + 1] : NULL);
	const theader *h = &s->h;
	const tfield *f = th_need(h, name, s->name);

	int64_t B = h->recsize > (1 << 20) ? 1 : (1 << 20) / h->recsize;
	unsigned char *raw = xmalloc((size_t)(B * h->recsize));
	int64_t n, N = 0;
	if (h->count != TINY_COUNT_UNKNOWN) {
		unsigned char *out = xmalloc((size_t)(B * f->nbytes));
		write_npy_header(f, h->count);
		while ((n = sin_read(s, raw, B)) > 0) {
			for (int64_t r = 0; r < n; r++)
				memcpy(out + r * f->nbytes, raw + r * h->recsize + f->offset, f->nbytes);
			xfwrite(out, (size_t)(n * f->nbytes), stdout, "stdout");
		}
		free(out);
	} else {
		size_t cap = 0;
		unsigned char *all = NULL;
		while ((n = sin_read(s, raw, B)) > 0) {
			if ((size_t)((N + n) * f->nbytes) > cap) {
				cap = (size_t)((N + n) * f->nbytes) * 2;
				all = xrealloc(all, cap);
			}
			for (int64_t r = 0; r < n; r++)
				memcpy(all + (N + r) * f->nbytes, raw + r * h->recsize + f->offset, f->nbytes);
			N += n;
		}
		write_npy_header(f, N);
		xfwrite(all, (size_t)(N * f->nbytes), stdout, "stdout");
		free(all);
	}
	free(raw);
	sin_close(s);
	close_stdout();
	return 0;
}
