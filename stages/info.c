/*
 * tiny-info - describe a stream: its header, the records it really holds,
 * and the min, max and mean of every field.
 *
 * usage: tiny-info [-q] [--json] [FILE]
 *
 * Without --json it reads every record (in blocks of B) and prints, after
 * the header lines, one line per field with min, max and mean over all
 * values (NaNs counted apart).  --json prints only the header, as
 * {"version", "header_bytes", "record_bytes", "count" (null if unknown),
 *  "fields": [{"name", "dtype", "shape"}], "attributes": {key: [values]}},
 * without reading the records.  Spec: formats/stream.md.
 */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tiny.h"

static const char *usage_line = "tiny-info [-q] [--json] [FILE]";

/* --- JSON ---------------------------------------------------------------- */

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = *s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void print_json(const sin_t *s)
{
	const theader *h = &s->h;
	printf("{\"version\": %d, \"header_bytes\": %" PRId64 ", \"record_bytes\": %" PRId64 ", \"count\": ",
	       TINY_VERSION, s->hdrlen, h->recsize);
	if (s->declared == TINY_COUNT_UNKNOWN)
		printf("null");
	else
		printf("%" PRId64, s->declared);
	printf(",\n \"fields\": [");
	for (int i = 0; i < h->nfields; i++) {
		const tfield *f = &h->fields[i];
		printf("%s\n  {\"name\": ", i ? "," : "");
		json_string(f->name);
		printf(", \"dtype\": \"%s\", \"shape\": [", dtype_names[f->dtype]);
		for (int d = 0; d < f->rank; d++)
			printf("%s%" PRId64, d ? ", " : "", f->dims[d]);
		printf("]}");
	}
	printf("],\n \"attributes\": {");
	/* each key once, with all its values in order (history repeats) */
	int first = 1;
	for (int i = 0; i < h->nattrs; i++) {
		int seen = 0;
		for (int j = 0; j < i; j++)
			if (!strcmp(h->attrs[j].key, h->attrs[i].key))
				seen = 1;
		if (seen)
			continue;
		printf("%s\n  ", first ? "" : ",");
		first = 0;
		json_string(h->attrs[i].key);
		printf(": [");
		int k = 0;
		for (int j = i; j < h->nattrs; j++)
			if (!strcmp(h->attrs[j].key, h->attrs[i].key)) {
				if (k++)
					printf(", ");
				json_string(h->attrs[j].value);
			}
		printf("]");
	}
	printf("}}\n");
}

/* --- statistics ---------------------------------------------------------- */

typedef struct {
	double min, max, sum;
	int64_t n, nan;
} stat_t;

static void print_shape(const tfield *f, char *buf, size_t sz)
{
	size_t len = snprintf(buf, sz, "[");
	for (int d = 0; d < f->rank && len < sz; d++)
		len += snprintf(buf + len, sz - len, "%s%" PRId64, d ? "," : "", f->dims[d]);
	if (len < sz)
		snprintf(buf + len, sz - len, "]");
}

/* Fold the n values of one field at p into t, straight from the record
 * bytes (no converted copy: a model's field may be gigabytes). */
#define FOLD(T)                                              \
	for (int64_t j = 0; j < n; j++) {                    \
		T raw;                                       \
		memcpy(&raw, p + j * sizeof(T), sizeof(T));  \
		double v = (double)raw;                      \
		if (isnan(v)) {                              \
			t->nan++;                            \
			continue;                            \
		}                                            \
		if (v < t->min)                              \
			t->min = v;                          \
		if (v > t->max)                              \
			t->max = v;                          \
		t->sum += v;                                 \
		t->n++;                                      \
	}

static void fold(stat_t *t, dtype_t dt, const unsigned char *p, int64_t n)
{
	switch (dt) {
	case DT_U8: FOLD(uint8_t); break;
	case DT_I32: FOLD(int32_t); break;
	case DT_U32: FOLD(uint32_t); break;
	case DT_I64: FOLD(int64_t); break;
	case DT_F32: FOLD(float); break;
	case DT_F64: FOLD(double); break;
	default: die("bad dtype %d", (int)dt);
	}
}

static void print_stats(sin_t *s)
{
	const theader *h = &s->h;
	stat_t *st = xcalloc(h->nfields, sizeof *st);
	for (int i = 0; i < h->nfields; i++) {
		st[i].min = INFINITY;
		st[i].max = -INFINITY;
	}
	int64_t B = h->recsize > (1 << 20) ? 1 : (1 << 20) / h->recsize;  /* ~1 MiB blocks */
	unsigned char *raw = xmalloc((size_t)(B * h->recsize));
	int64_t nrec = 0, n;
	progress_t p;
	progress_start(&p, "reading", h->count == TINY_COUNT_UNKNOWN ? 0 : (double)h->count);
	while ((n = sin_read(s, raw, B)) > 0) {
		for (int64_t r = 0; r < n; r++)
			for (int i = 0; i < h->nfields; i++) {
				const tfield *f = &h->fields[i];
				fold(&st[i], f->dtype, raw + r * h->recsize + f->offset, f->n);
			}
		nrec += n;
		progress_update(&p, nrec);
	}
	progress_end(&p);
	printf("records %" PRId64 "\n", nrec);
	printf("%-16s %-5s %-16s %14s %14s %14s\n", "field", "dtype", "shape", "min", "max", "mean");
	for (int i = 0; i < h->nfields; i++) {
		const tfield *f = &h->fields[i];
		char shape[80];
		print_shape(f, shape, sizeof shape);
		printf("%-16s %-5s %-16s", f->name, dtype_names[f->dtype], shape);
		if (st[i].n)
			printf(" %14.6g %14.6g %14.6g", st[i].min, st[i].max, st[i].sum / st[i].n);
		else
			printf(" %14s %14s %14s", "-", "-", "-");
		if (st[i].nan)
			printf("  (%" PRId64 " NaN)", st[i].nan);
		putchar('\n');
	}
	free(raw);
	free(st);
}

static void print_header(const sin_t *s)
{
	const theader *h = &s->h;
	printf("%s: TINY version %d, header %" PRId64 " bytes, records of %" PRId64 " bytes\n", s->name, TINY_VERSION,
	       s->hdrlen, h->recsize);
	if (s->declared == TINY_COUNT_UNKNOWN)
		printf("count unknown\n");
	else
		printf("count %" PRId64 "\n", s->declared);
	for (int i = 0; i < h->nfields; i++) {
		char shape[80];
		print_shape(&h->fields[i], shape, sizeof shape);
		printf("field %s %s %s\n", h->fields[i].name, dtype_names[h->fields[i].dtype], shape);
	}
	for (int i = 0; i < h->nattrs; i++)
		printf("attr %s %s\n", h->attrs[i].key, h->attrs[i].value);
}

/* --- main ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, 0, 'j'}, {"quiet", no_argument, 0, 'q'}, {0}};
	int json = 0, c;
	tiny_init(argc, argv, usage_line);
	while ((c = getopt_long(argc, argv, "q", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'q': tiny_quiet = 1; break;
		default: usage();
		}
	}
	if (argc - optind > 1)
		usage_error("expected at most one input file");
	sin_t *s = sin_open(optind < argc ? argv[optind] : NULL);
	if (json) {
		print_json(s);
	} else {
		print_header(s);
		print_stats(s);
	}
	sin_close(s);
	close_stdout();
	return 0;
}
