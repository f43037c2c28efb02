/*
 * tiny-from-text - build a stream from text: the way in for numbers made
 * by other tools (awk, a spreadsheet), and how the tests write their inputs
 * (there it is called mkstream).
 *
 * usage: tiny-from-text [--unknown] [--attr KEY=VALUE]... 'NAME DTYPE [DIMS]'...
 *
 * Reads whitespace-separated numbers from stdin and fills records field by
 * field in header order; the count is the number of whole records read
 * (written as "unknown" with --unknown).  Integers must fit their dtype.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tiny.h"

static const char *usage_line = "tiny-from-text [--unknown] [--attr KEY=VALUE]... 'NAME DTYPE [DIMS]'...";

static void put(const tfield *f, unsigned char *dst, const char *tok)
{
	char *end;
	errno = 0;
	if (dtype_is_int(f->dtype)) {
		long long v = strtoll(tok, &end, 10);
		int ok = !*end && !errno;
		if (f->dtype == DT_U8)
			ok = ok && v >= 0 && v <= 255;
		else if (f->dtype == DT_I32)
			ok = ok && v >= INT32_MIN && v <= INT32_MAX;
		else if (f->dtype == DT_U32)
			ok = ok && v >= 0 && v <= (long long)UINT32_MAX;
		if (!ok)
			die("'%s' is not a %s value for field %s", tok, dtype_names[f->dtype], f->name);
		int64_t x = v;
		switch (f->dtype) {
		case DT_U8: { uint8_t y = x; memcpy(dst, &y, 1); break; }
		case DT_I32: { int32_t y = x; memcpy(dst, &y, 4); break; }
		case DT_U32: { uint32_t y = x; memcpy(dst, &y, 4); break; }
		default: memcpy(dst, &x, 8);
		}
	} else {
		double v = strtod(tok, &end);
		if (*end || !*tok)
			die("'%s' is not a number for field %s", tok, f->name);
		if (f->dtype == DT_F32) {
			float y = v;
			memcpy(dst, &y, 4);
		} else {
			memcpy(dst, &v, 8);
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"unknown", no_argument, 0, 'u'}, {"attr", required_argument, 0, 'a'},
		{0}};
	theader h;
	int unknown = 0, c;
	tiny_init(argc, argv, usage_line);
	th_init(&h);
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'h') {
			printf("usage: %s\n", usage_line);
			return 0;
		} else if (c == 'u') {
			unknown = 1;
		} else if (c == 'a') {
			char *eq = strchr(optarg, '=');
			if (!eq)
				usage();
			*eq = 0;
			th_attr_add(&h, optarg, eq + 1);
		} else {
			usage();
		}
	}
	if (optind == argc)
		usage();
	for (int i = optind; i < argc; i++) {
		char err[256];
		if (th_add_field_text(&h, argv[i], err, sizeof err) < 0)
			usage_error("'%s': %s", argv[i], err);
	}

	size_t cap = 1 << 16, len = 0;
	unsigned char *body = xmalloc(cap);
	int64_t nrec = 0;
	int fi = 0;
	int64_t ei = 0;
	char tok[256];
	unsigned char *rec = xmalloc(h.recsize);
	tiny_need_stdin();
	while (scanf("%255s", tok) == 1) {
		const tfield *f = &h.fields[fi];
		put(f, rec + f->offset + ei * dtype_sizes[f->dtype], tok);
		if (++ei == f->n) {
			ei = 0;
			if (++fi == h.nfields) {
				fi = 0;
				if (len + h.recsize > cap)
					body = xrealloc(body, cap = 2 * (len + h.recsize));
				memcpy(body + len, rec, h.recsize);
				len += h.recsize;
				nrec++;
			}
		}
	}
	if (ferror(stdin))
		die("stdin: read error:");
	if (fi || ei)
		die("input ends inside a record");
	h.count = unknown ? TINY_COUNT_UNKNOWN : nrec;
	sout_t *o = sout_open(NULL, &h);
	sout_write(o, body, nrec);
	sout_close(o);
	return 0;
}
