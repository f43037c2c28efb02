/*
 * tiny-dump - print records as text, one line per record: the fields in
 * header order as NAME=V1,V2,... separated by spaces, values flattened in
 * row-major order (f32 with 9 significant digits, f64 with 17, so a value
 * reads back exactly).
 *
 * usage: tiny-dump [--fields A,B] [--head N] [FILE]
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tiny.h"

static const char *usage_line = "tiny-dump [--fields A,B] [--head N] [FILE]";

static void print_value(const tfield *f, const unsigned char *p)
{
	switch (f->dtype) {
	case DT_U8: printf("%u", *p); break;
	case DT_I32: { int32_t v; memcpy(&v, p, 4); printf("%" PRId32, v); break; }
	case DT_U32: { uint32_t v; memcpy(&v, p, 4); printf("%" PRIu32, v); break; }
	case DT_I64: { int64_t v; memcpy(&v, p, 8); printf("%" PRId64, v); break; }
	case DT_F32: { float v; memcpy(&v, p, 4); printf("%.9g", v); break; }
	case DT_F64: { double v; memcpy(&v, p, 8); printf("%.17g", v); break; }
	default: die("bad dtype");
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"fields", required_argument, 0, 'f'}, {"head", required_argument, 0, 'n'}, {0}};
	const char *fields = NULL;
	int64_t head = INT64_MAX;
	int c;
	tiny_init(argc, argv, usage_line);
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': fields = optarg; break;
		case 'n': head = opt_i64("--head", optarg, 0, INT64_MAX); break;
		default: usage();
		}
	}
	if (argc - optind > 1)
		usage_error("expected at most one input file");
	sin_t *s = sin_open(optind < argc ? argv[optind] : NULL);
	const theader *h = &s->h;

	int show[TINY_MAX_FIELDS], nshow = 0;
	if (fields) {
		char **w;
		int n = opt_list(fields, &w);
		for (int i = 0; i < n && nshow < TINY_MAX_FIELDS; i++) {
			int k = th_find(h, w[i]);
			char names[512];
			if (k < 0)
				die("--fields %s: %s has no field '%s' (its fields: %s)", fields, s->name, w[i],
					    th_field_names(&s->h, names, sizeof names));
			show[nshow++] = k;
		}
		th_words_free(w, n);
	} else {
		for (int i = 0; i < h->nfields; i++)
			show[nshow++] = i;
	}

	unsigned char *rec = xmalloc((size_t)h->recsize);
	for (int64_t r = 0; r < head && sin_read(s, rec, 1) == 1; r++) {
		for (int i = 0; i < nshow; i++) {
			const tfield *f = &h->fields[show[i]];
			printf("%s%s=", i ? " " : "", f->name);
			for (int64_t j = 0; j < f->n; j++) {
				if (j)
					putchar(',');
				print_value(f, rec + f->offset + j * dtype_sizes[f->dtype]);
			}
		}
		putchar('\n');
	}
	free(rec);
	sin_close(s);
	close_stdout();
	return 0;
}
