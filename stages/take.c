/*
 * tiny-take - pick records by number, in the order asked.
 *
 * usage: tiny-take [--first N] [--index I,J,...] [--from STREAM --fields A[,B...]] [FILE]
 *
 * --first N takes records 0..N-1 (fewer if the stream is shorter).
 * --index takes the listed records; --from takes the records named by the
 * integer fields A, B, ... of every record of STREAM, in turn (tiny-dedupe's
 * pairs: --fields i,j gives each pair's two images side by side, ready for
 * tiny-render images --cols 2).  A number may repeat.  A regular file is
 * read by seeking to each record; a pipe is read up to the last record
 * asked for and kept in memory.  Every index is checked before the first
 * byte is written.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tiny.h"

static const char *usage_line = "tiny-take [--first N] [--index I,J,...] [--from STREAM --fields A[,B...]] [FILE]";

static void add(int64_t **idx, int64_t *n, int64_t *cap, int64_t v)
{
	if (*n == *cap)
		*idx = xrealloc(*idx, (size_t)(*cap = *cap ? 2 * *cap : 256) * sizeof **idx);
	(*idx)[(*n)++] = v;
}

/* Indices from the integer fields of every record of path. */
static void indices_from(const char *path, const char *fields, int64_t **idx, int64_t *n, int64_t *cap)
{
	sin_t *s = sin_open(path);
	char **w;
	int nw = opt_list(fields, &w);
	if (nw == 0)
		usage_error("--fields %s: expected field names", fields);
	const tfield **f = xmalloc(nw * sizeof *f);
	for (int k = 0; k < nw; k++) {
		f[k] = th_need(&s->h, w[k], s->name);
		if (!dtype_is_int(f[k]->dtype) || f[k]->n != 1)
			die("%s: field '%s' is not one integer", s->name, w[k]);
	}
	unsigned char *rec = xmalloc((size_t)s->h.recsize);
	while (sin_read(s, rec, 1) == 1)
		for (int k = 0; k < nw; k++) {
			int64_t v;
			tf_get_i64(f[k], rec, 1, s->h.recsize, &v);
			add(idx, n, cap, v);
		}
	free(rec);
	free(f);
	th_words_free(w, nw);
	sin_close(s);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"first", required_argument, 0, 'n'}, {"index", required_argument, 0, 'i'},
		{"from", required_argument, 0, 'f'}, {"fields", required_argument, 0, 'F'},
		{0}};
	const char *from = NULL, *fields = NULL, *index = NULL;
	int64_t first = -1, *idx = NULL, n = 0, cap = 0;
	int c;
	tiny_init(argc, argv, usage_line);
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': first = opt_i64("--first", optarg, 0, INT64_MAX); break;
		case 'i': index = optarg; break;
		case 'f': from = optarg; break;
		case 'F': fields = optarg; break;
		default: usage();
		}
	}
	if ((first >= 0) + (index != NULL) + (from != NULL) != 1)
		usage_error("expected one of --first, --index or --from");
	if (!from != !fields)
		usage_error("--from and --fields go together");
	if (argc - optind > 1)
		usage_error("expected at most one input file");
	if (index) {
		char **w;
		int nw = opt_list(index, &w);
		if (nw == 0)
			usage_error("--index %s: expected record numbers", index);
		for (int k = 0; k < nw; k++)
			add(&idx, &n, &cap, opt_i64("--index", w[k], 0, INT64_MAX));
		th_words_free(w, nw);
	}
	if (from)
		indices_from(from, fields, &idx, &n, &cap);

	sin_t *in = sin_open(optind < argc ? argv[optind] : NULL);
	theader h;
	th_copy(&h, &in->h);
	th_add_history(&h);
	int64_t R = in->h.recsize;
	if (first >= 0) {
		/* a head: stream through, stop after N */
		if (h.count != TINY_COUNT_UNKNOWN && h.count > first)
			h.count = first;
		int64_t B = R > (1 << 20) ? 1 : (1 << 20) / R, done = 0, got;
		unsigned char *buf = xmalloc((size_t)(B * R));
		sout_t *o = sout_open(NULL, &h);
		while (done < first && (got = sin_read(in, buf, first - done < B ? first - done : B)) > 0) {
			sout_write(o, buf, got);
			done += got;
		}
		sout_close(o);
		free(buf);
	} else {
		int64_t max = -1;
		for (int64_t k = 0; k < n; k++)
			if (idx[k] < 0 || (in->h.count != TINY_COUNT_UNKNOWN && idx[k] >= in->h.count))
				die("%s: record %" PRId64 " asked for, but the stream has %" PRId64, in->name, idx[k],
				    in->h.count);
			else if (idx[k] > max)
				max = idx[k];
		unsigned char *all = NULL;
		if (in->start < 0) {
			/* a pipe: keep records 0..max */
			all = xmalloc((size_t)((max + 1) * R) + 1);
			int64_t got = 0, m;
			while (got <= max && (m = sin_read(in, all + got * R, max + 1 - got)) > 0)
				got += m;
			if (got <= max)
				die("%s: record %" PRId64 " asked for, but the stream has %" PRId64, in->name, max, got);
		}
		h.count = n;
		sout_t *o = sout_open(NULL, &h);
		unsigned char *rec = xmalloc((size_t)R);
		for (int64_t k = 0; k < n; k++) {
			if (all) {
				sout_write(o, all + idx[k] * R, 1);
			} else {
				sin_seek(in, idx[k]);
				if (sin_read(in, rec, 1) != 1)
					die("%s: cannot read record %" PRId64, in->name, idx[k]);
				sout_write(o, rec, 1);
			}
		}
		sout_close(o);
		free(rec);
		free(all);
	}
	sin_close(in);
	th_free(&h);
	free(idx);
	return 0;
}
