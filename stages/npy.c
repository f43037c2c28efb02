/*
 * tiny-npy - fields of every record as NumPy files on stdout: one field as
 * a .npy file (format version 1.0), several as a .npz (a zip of one
 * NAME.npy each, stored uncompressed, which numpy.load opens).
 *
 * usage: tiny-npy FIELD[,FIELD...] [FILE]
 *
 * Each array has shape (N, dims...), the field's own dtype, little-endian,
 * C order.  A model (a stream of one record whose attribute kind is not a
 * data set, predictions or a log: an RBM, a ZCA model, a classifier...)
 * has no record axis: an RBM's W comes out (V, H), not (1, V, H).  A .npy
 * header states N, so a stream of unknown count, and every .npz, is
 * gathered in memory first; one field of a stream whose count is known is
 * copied through in blocks.
 */
#include <archive.h>
#include <archive_entry.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tiny.h"

static const char *usage_line = "tiny-npy FIELD[,FIELD...] [FILE]";

static const char *npy_descr(dtype_t dt)
{
	static const char *d[DT_COUNT] = {"|u1", "<i4", "<u4", "<i8", "<f4", "<f8"};
	return d[dt];
}

/* The .npy header of f over N records (lead: with the record axis) in
 * out, padded so that the data starts 64-byte aligned; returns its length. */
static int npy_header(const tfield *f, int64_t N, int lead, char out[1024])
{
	char dict[512], *p = dict;
	int len = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (", npy_descr(f->dtype));
	if (lead)
		len += snprintf(dict + len, sizeof dict - len, "%" PRId64 ",", N);
	for (int d = 0; d < f->rank; d++)
		len += snprintf(dict + len, sizeof dict - len, " %" PRId64 ",", f->dims[d]);
	if (f->rank > 0 && (lead || f->rank > 1))
		len--;  /* (N, a, b) and (a, b), but (N,) and (a,) */
	len += snprintf(dict + len, sizeof dict - len, "), }");
	/* magic(6) version(2) length(2) dict, padded with spaces and '\n' to 64 */
	int total = (10 + len + 1 + 63) / 64 * 64, hlen = total - 10;
	memcpy(out, (char[]){(char)0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (char)(hlen & 0xff), (char)(hlen >> 8)}, 10);
	memcpy(out + 10, p, (size_t)len);
	memset(out + 10 + len, ' ', (size_t)(hlen - len - 1));
	out[total - 1] = '\n';
	return total;
}

/* Every record's bytes of each of the nf fields, gathered: *N records. */
static unsigned char **gather(sin_t *s, const tfield **f, int nf, int64_t *N)
{
	const theader *h = &s->h;
	int64_t B = h->recsize > (1 << 20) ? 1 : (1 << 20) / h->recsize, n;
	unsigned char *raw = xmalloc((size_t)(B * h->recsize)), **all = xcalloc((size_t)nf, sizeof *all);
	size_t cap = 0;
	*N = 0;
	while ((n = sin_read(s, raw, B)) > 0) {
		if ((size_t)(*N + n) > cap) {
			cap = (size_t)(*N + n) * 2;
			for (int k = 0; k < nf; k++)
				all[k] = xrealloc(all[k], cap * (size_t)f[k]->nbytes);
		}
		for (int k = 0; k < nf; k++)
			for (int64_t r = 0; r < n; r++)
				memcpy(all[k] + (*N + r) * f[k]->nbytes, raw + r * h->recsize + f[k]->offset,
				       (size_t)f[k]->nbytes);
		*N += n;
	}
	free(raw);
	return all;
}

/* The nf arrays as a zip of NAME.npy members, stored, on stdout. */
static void write_npz(const tfield **f, int nf, unsigned char **all, int64_t N, int lead)
{
	struct archive *a = archive_write_new();
	if (archive_write_set_format_zip(a) != ARCHIVE_OK || archive_write_zip_set_compression_store(a) != ARCHIVE_OK ||
	    archive_write_open_fd(a, 1) != ARCHIVE_OK)
		die("stdout: %s", archive_error_string(a));
	for (int k = 0; k < nf; k++) {
		char hdr[1024], path[TINY_NAME_MAX + 8];
		int hl = npy_header(f[k], N, lead, hdr);
		snprintf(path, sizeof path, "%s.npy", f[k]->name);
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, path);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, hl + N * f[k]->nbytes);
		if (archive_write_header(a, e) != ARCHIVE_OK || archive_write_data(a, hdr, (size_t)hl) != hl ||
		    archive_write_data(a, all[k], (size_t)(N * f[k]->nbytes)) != (la_ssize_t)(N * f[k]->nbytes))
			die("stdout: %s", archive_error_string(a));
		archive_entry_free(e);
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		die("stdout: %s", archive_error_string(a));
	archive_write_free(a);
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
	char **w;
	int nf = opt_list(argv[optind], &w);
	if (nf < 1 || nf > TINY_MAX_FIELDS)
		usage_error("%s: expected 1 to %d field names separated by commas", argv[optind], TINY_MAX_FIELDS);
	sin_t *s = sin_open(optind + 1 < argc ? argv[optind + 1] : NULL);
	const theader *h = &s->h;
	const tfield **f = xmalloc((size_t)nf * sizeof *f);
	for (int k = 0; k < nf; k++) {
		f[k] = th_need(h, w[k], s->name);
		for (int j = 0; j < k; j++)
			if (f[j] == f[k])
				usage_error("%s: field '%s' named twice", argv[optind], w[k]);
	}
	/* a model: one record of a kind that is not data */
	const char *kind = th_kind_name(h);
	int lead = !(h->count == 1 && strcmp(kind, "data") && strcmp(kind, "labelled-data") &&
		     strcmp(kind, "predictions") && strcmp(kind, "log") && strcmp(kind, "other"));

	char hdr[1024];
	if (nf == 1 && h->count != TINY_COUNT_UNKNOWN) {
		int64_t B = h->recsize > (1 << 20) ? 1 : (1 << 20) / h->recsize, n;
		unsigned char *raw = xmalloc((size_t)(B * h->recsize)), *out = xmalloc((size_t)(B * f[0]->nbytes));
		xfwrite(hdr, (size_t)npy_header(f[0], h->count, lead, hdr), stdout, "stdout");
		while ((n = sin_read(s, raw, B)) > 0) {
			for (int64_t r = 0; r < n; r++)
				memcpy(out + r * f[0]->nbytes, raw + r * h->recsize + f[0]->offset, (size_t)f[0]->nbytes);
			xfwrite(out, (size_t)(n * f[0]->nbytes), stdout, "stdout");
		}
		free(raw), free(out);
	} else {
		int64_t N;
		unsigned char **all = gather(s, f, nf, &N);
		if (h->count == TINY_COUNT_UNKNOWN)
			lead = 1;
		if (nf == 1) {
			xfwrite(hdr, (size_t)npy_header(f[0], N, lead, hdr), stdout, "stdout");
			xfwrite(all[0], (size_t)(N * f[0]->nbytes), stdout, "stdout");
		} else {
			fflush(stdout);
			write_npz(f, nf, all, N, lead);
		}
		for (int k = 0; k < nf; k++)
			free(all[k]);
		free(all);
	}
	sin_close(s);
	close_stdout();
	free(f);
	th_words_free(w, nf);
	return 0;
}
