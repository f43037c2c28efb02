/*
 * tiny-from-npy - a stream from NumPy arrays: one .npy file, or the arrays
 * of a .npz, each a field of the records.
 *
 * usage: tiny-from-npy [--field NAME] [--model] [--attr KEY=VALUE]... [FILE]
 *
 * FILE (standard input when absent or -) is a .npy file (format 1.0, 2.0 or
 * 3.0) or a .npz (a zip of NAME.npy members, stored or deflated, read by
 * libarchive; the same as numpy.savez and tiny-npy write).  Each array
 * becomes a field: a .npy's is named by --field (default x), a .npz
 * member's by its name less .npy, in the zip's order.  The first axis is
 * the records: every array must have the same length N along it, and a
 * field's shape is the rest ([] for a 1-D array).  With --model the stream
 * is one record and each array is a field whole (an RBM's W [V,H] from
 * tiny-npy W,vbias,hbias,sigma).  The dtypes are tiny's: u1, <i4, <u4,
 * <i8, <f4, <f8 (bool, |i1, <i2, <u2 and big-endian arrays are refused
 * naming the array, as is Fortran order).  --attr adds attributes
 * ("classes=cat dog" names the labels).
 *
 * Arrays are read whole into memory, then written record by record.
 */
#include <archive.h>
#include <archive_entry.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tiny.h"

static const char *usage_line = "tiny-from-npy [--field NAME] [--model] [--attr KEY=VALUE]... [FILE]";

typedef struct {
	char name[TINY_NAME_MAX + 1];
	dtype_t dt;
	int rank;
	int64_t dims[TINY_MAX_RANK + 1];
	unsigned char *data;
	int64_t nbytes;
} array_t;

/* The value of 'key': in a .npy header dict, from its first character. */
static const char *dict_value(const char *dict, const char *key, const char *what)
{
	char pat[32];
	snprintf(pat, sizeof pat, "'%s':", key);
	const char *p = strstr(dict, pat);
	if (!p)
		die("%s: the .npy header has no '%s'", what, key);
	p += strlen(pat);
	while (*p == ' ')
		p++;
	return p;
}

/* Parse a .npy file of len bytes at buf into a (named name). */
static void parse_npy(const unsigned char *buf, int64_t len, const char *name, const char *what, array_t *a)
{
	static const char *const descr[DT_COUNT] = {"|u1", "<i4", "<u4", "<i8", "<f4", "<f8"};
	if (len < 10 || memcmp(buf, "\x93NUMPY", 6))
		die("%s: not a .npy array (no \\x93NUMPY magic)", what);
	int major = buf[6];
	int64_t hl, off;
	if (major == 1)
		hl = buf[8] | buf[9] << 8, off = 10;
	else if ((major == 2 || major == 3) && len >= 12)
		hl = (int64_t)buf[8] | (int64_t)buf[9] << 8 | (int64_t)buf[10] << 16 | (int64_t)buf[11] << 24, off = 12;
	else
		die("%s: .npy format version %d, not 1, 2 or 3", what, major);
	if (hl > len - off || hl > 65536)
		die("%s: a .npy header of %" PRId64 " bytes in %" PRId64, what, hl, len);
	char *dict = xmalloc((size_t)hl + 1);
	memcpy(dict, buf + off, (size_t)hl);
	dict[hl] = 0;
	memset(a, 0, sizeof *a);
	snprintf(a->name, sizeof a->name, "%s", name);
	const char *d = dict_value(dict, "descr", what);
	a->dt = DT_COUNT;
	for (int k = 0; k < DT_COUNT; k++)
		if (!strncmp(d, "'", 1) && !strncmp(d + 1, descr[k], 3) && d[4] == '\'')
			a->dt = (dtype_t)k;
	if (!strncmp(d, "'<u1'", 5) || !strncmp(d, "'u1'", 4))
		a->dt = DT_U8;
	if (a->dt == DT_COUNT)
		die("%s: dtype %.*s; expected one of |u1, <i4, <u4, <i8, <f4, <f8", what,
		    *d == '\'' && strchr(d + 1, '\'') ? (int)(strchr(d + 1, '\'') - d + 1) : 8, d);
	if (strncmp(dict_value(dict, "fortran_order", what), "False", 5))
		die("%s: Fortran order; save it in C order (numpy.ascontiguousarray)", what);
	const char *p = dict_value(dict, "shape", what);
	if (*p++ != '(')
		die("%s: a malformed shape in the .npy header", what);
	while (*p && *p != ')') {
		char *end;
		long long v = strtoll(p, &end, 10);
		if (end == p || v < 0 || v > INT32_MAX || a->rank > TINY_MAX_RANK)
			die("%s: a shape of more than %d axes, or a malformed one", what, TINY_MAX_RANK + 1);
		a->dims[a->rank++] = v;
		p = end;
		while (*p == ',' || *p == ' ')
			p++;
	}
	free(dict);
	int64_t n = dtype_sizes[a->dt];
	for (int k = 0; k < a->rank; k++)
		n = a->dims[k] && n > TINY_BODY_MAX / a->dims[k] ? TINY_BODY_MAX : n * a->dims[k];
	if (n != len - off - hl)
		die("%s: %" PRId64 " bytes of data where its shape needs %" PRId64, what, len - off - hl, n);
	a->nbytes = n;
	a->data = xmalloc((size_t)n + 1);
	memcpy(a->data, buf + off + hl, (size_t)n);
}

/* All of fp, or an archive entry, in memory. */
static unsigned char *slurp_archive(struct archive *ar, int64_t *len, const char *what)
{
	size_t cap = 1 << 16, n = 0;
	unsigned char *b = xmalloc(cap);
	la_ssize_t got;
	while ((got = archive_read_data(ar, b + n, cap - n)) > 0)
		if ((n += (size_t)got) == cap)
			b = xrealloc(b, cap *= 2);
	if (got < 0)
		die("%s: %s", what, archive_error_string(ar));
	*len = (int64_t)n;
	return b;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {{"field", required_argument, 0, 'f'}, {"model", no_argument, 0, 'm'},
						  {"attr", required_argument, 0, 'a'}, {0}};
	const char *field = "x", *attrs[64];
	int model = 0, nattrs = 0, c;
	tiny_init(argc, argv, usage_line);
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': field = optarg; break;
		case 'm': model = 1; break;
		case 'a':
			if (!strchr(optarg, '=') || nattrs == 64)
				usage_error("--attr %s: expected KEY=VALUE (at most 64)", optarg);
			attrs[nattrs++] = optarg;
			break;
		default: usage();
		}
	}
	if (argc - optind > 1)
		usage_error("expected at most one input FILE");
	const char *path = optind < argc && strcmp(argv[optind], "-") ? argv[optind] : NULL;
	const char *what = path ? path : "stdin";
	if (!path)
		tiny_need_stdin();

	/* the arrays: a .npy is read raw, a .npz member by member */
	struct archive *ar = archive_read_new();
	archive_read_support_format_zip(ar);
	archive_read_support_format_raw(ar);
	archive_read_support_filter_none(ar);
	if ((path ? archive_read_open_filename(ar, path, 1 << 16) : archive_read_open_fd(ar, 0, 1 << 16)) != ARCHIVE_OK)
		die("%s: %s", what, archive_error_string(ar));
	array_t arr[TINY_MAX_FIELDS];
	int na = 0;
	struct archive_entry *e;
	int r;
	while ((r = archive_read_next_header(ar, &e)) == ARCHIVE_OK) {
		int raw = archive_format(ar) == ARCHIVE_FORMAT_RAW;
		const char *mname = archive_entry_pathname(e);
		char name[TINY_NAME_MAX + 1], where[512];
		if (raw)
			snprintf(name, sizeof name, "%s", field);
		else {
			size_t l = strlen(mname);
			if (l < 5 || strcmp(mname + l - 4, ".npy") || l - 4 > TINY_NAME_MAX)
				die("%s: member %s is not NAME.npy with a field name of up to %d characters", what, mname,
				    TINY_NAME_MAX);
			snprintf(name, sizeof name, "%.*s", (int)(l - 4), mname);
		}
		snprintf(where, sizeof where, raw ? "%s" : "%s: %s", what, mname);
		if (na == TINY_MAX_FIELDS)
			die("%s: more than %d arrays", what, TINY_MAX_FIELDS);
		int64_t len;
		unsigned char *b = slurp_archive(ar, &len, where);
		parse_npy(b, len, name, where, &arr[na++]);
		free(b);
	}
	if (r != ARCHIVE_EOF)
		die("%s: %s", what, archive_error_string(ar));
	archive_read_free(ar);
	if (na == 0)
		die("%s: no arrays", what);

	/* the records: the first axis, the same for every array, or one */
	theader h;
	th_init(&h);
	int64_t N = model ? 1 : -1;
	for (int k = 0; k < na; k++) {
		array_t *a = &arr[k];
		if (!model) {
			if (a->rank < 1)
				die("%s: array %s is a scalar; its first axis would be the records (--model takes it whole)",
				    what, a->name);
			if (N >= 0 && a->dims[0] != N)
				die("%s: array %s has %" PRId64 " records along its first axis, %s has %" PRId64, what, a->name,
				    a->dims[0], arr[0].name, N);
			N = a->dims[0];
		}
		char err[256];
		int skip = !model;
		if (th_add_field(&h, a->name, a->dt, a->rank - skip, a->dims + skip, err, sizeof err) < 0)
			die("%s: array %s: %s", what, a->name, err);
	}
	h.count = N;
	for (int k = 0; k < nattrs; k++) {
		char *kv = xstrdup(attrs[k]), *eq = strchr(kv, '=');
		*eq = 0;
		th_attr_set(&h, kv, eq + 1);
		free(kv);
	}
	th_attr_setf(&h, "source", "npy %s", what);
	th_add_history(&h);

	int64_t R = h.recsize;
	unsigned char *rec = xmalloc((size_t)R + 1);
	sout_t *o = sout_open(NULL, &h);
	for (int64_t i = 0; i < N; i++) {
		for (int k = 0; k < na; k++) {
			const tfield *f = &h.fields[k];
			memcpy(rec + f->offset, arr[k].data + i * f->nbytes, (size_t)f->nbytes);
		}
		sout_write(o, rec, 1);
	}
	sout_close(o);
	for (int k = 0; k < na; k++)
		free(arr[k].data);
	free(rec);
	th_free(&h);
	return 0;
}
