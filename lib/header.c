/*
 * header.c - the stream header of formats/stream.md: parse, build, format.
 *
 * The parser is the only code that reads untrusted header bytes; it checks
 * every rule of the spec, bounds every number before using it, and returns
 * a one-line message instead of dying, so that it can be fuzzed
 * (fuzz/header_fuzz.c) and the caller can name the input.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tiny.h"

const char *const dtype_names[DT_COUNT] = {"u8", "i32", "u32", "i64", "f32", "f64"};
const int dtype_sizes[DT_COUNT] = {1, 4, 4, 8, 4, 8};

int dtype_from_name(const char *s)
{
	for (int i = 0; i < DT_COUNT; i++)
		if (!strcmp(s, dtype_names[i]))
			return i;
	return -1;
}

int dtype_is_int(dtype_t dt)
{
	return dt == DT_U8 || dt == DT_I32 || dt == DT_U32 || dt == DT_I64;
}

static int fail(char *err, size_t errsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (err && errsz)
		vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	return -1;
}

/* --- building ------------------------------------------------------------ */

void th_init(theader *h)
{
	memset(h, 0, sizeof *h);
	h->count = TINY_COUNT_UNKNOWN;
}

void th_free(theader *h)
{
	for (int i = 0; i < h->nattrs; i++) {
		free(h->attrs[i].key);
		free(h->attrs[i].value);
	}
	free(h->attrs);
	th_init(h);
}

void th_copy(theader *dst, const theader *src)
{
	*dst = *src;
	dst->attrs = xcalloc(src->nattrs, sizeof *dst->attrs);
	for (int i = 0; i < src->nattrs; i++) {
		dst->attrs[i].key = xstrdup(src->attrs[i].key);
		dst->attrs[i].value = xstrdup(src->attrs[i].value);
	}
}

static int valid_name(const char *s, size_t n)
{
	if (n == 0 || n > TINY_NAME_MAX)
		return 0;
	if (!(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return 0;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];
		if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			return 0;
	}
	return 1;
}

/* Header text may hold printable ASCII and bytes >= 0x80 (UTF-8); no
 * control characters, so a header always reads as lines. */
static int valid_text_char(unsigned char c)
{
	return (c >= 0x20 && c < 0x7f) || c >= 0x80;
}

static void recompute(theader *h)
{
	int64_t off = 0;
	for (int i = 0; i < h->nfields; i++) {
		h->fields[i].offset = off;
		off += h->fields[i].nbytes;
	}
	h->recsize = off;
}

int th_add_field(theader *h, const char *name, dtype_t dt, int rank, const int64_t *dims,
		 char *err, size_t errsz)
{
	if (!valid_name(name, strlen(name)))
		return fail(err, errsz, "field name '%.40s' must be a letter or _ then up to %d letters, digits or _",
			    name, TINY_NAME_MAX - 1);
	if (th_find(h, name) >= 0)
		return fail(err, errsz, "field '%s' is declared twice", name);
	if (h->nfields >= TINY_MAX_FIELDS)
		return fail(err, errsz, "more than %d fields", TINY_MAX_FIELDS);
	if ((int)dt < 0 || dt >= DT_COUNT)
		return fail(err, errsz, "field '%s': unknown dtype", name);
	if (rank < 0 || rank > TINY_MAX_RANK)
		return fail(err, errsz, "field '%s': rank %d exceeds the limit of %d", name, rank, TINY_MAX_RANK);
	tfield f;
	memset(&f, 0, sizeof f);
	strcpy(f.name, name);
	f.dtype = dt;
	f.rank = rank;
	f.n = 1;
	for (int i = 0; i < rank; i++) {
		if (dims[i] < 1 || dims[i] > TINY_DIM_MAX)
			return fail(err, errsz, "field '%s': dimension %" PRId64 " is outside 1..%d", name, dims[i],
				    TINY_DIM_MAX);
		f.dims[i] = dims[i];
		/* dims >= 1, so the product only grows: checking each step bounds it */
		if (f.n > TINY_RECORD_MAX / dims[i])
			return fail(err, errsz, "field '%s': shape overflows the record size limit of %" PRId64 " bytes",
				    name, TINY_RECORD_MAX);
		f.n *= dims[i];
	}
	f.nbytes = f.n * dtype_sizes[dt];
	if (f.nbytes > TINY_RECORD_MAX || h->recsize + f.nbytes > TINY_RECORD_MAX)
		return fail(err, errsz, "field '%s': record size exceeds the limit of %" PRId64 " bytes", name,
			    TINY_RECORD_MAX);
	if (h->count > 0 && h->recsize + f.nbytes > TINY_BODY_MAX / h->count)
		return fail(err, errsz, "count %" PRId64 " x record size overflows the limit of 2^62 bytes", h->count);
	h->fields[h->nfields++] = f;
	recompute(h);
	return 0;
}

void th_field(theader *h, const char *name, dtype_t dt, int rank, ...)
{
	int64_t dims[TINY_MAX_RANK] = {0};
	char err[256];
	va_list ap;
	va_start(ap, rank);
	for (int i = 0; i < rank && i < TINY_MAX_RANK; i++)
		dims[i] = va_arg(ap, int64_t);
	va_end(ap);
	if (th_add_field(h, name, dt, rank, dims, err, sizeof err) < 0)
		die("output header: %s", err);
}

void th_replace_field(theader *h, int index, dtype_t dt, int rank, const int64_t *dims)
{
	/* rebuilt field by field, so every later offset and the record size
	 * follow, and every rule is checked again */
	theader t;
	char err[256];
	th_copy(&t, h);
	while (h->nfields)
		th_remove_field(h, 0);
	for (int i = 0; i < t.nfields; i++) {
		const tfield *f = &t.fields[i];
		int bad = i == index ? th_add_field(h, f->name, dt, rank, dims, err, sizeof err)
				     : th_add_field(h, f->name, f->dtype, f->rank, f->dims, err, sizeof err);
		if (bad < 0)
			die("output header: %s", err);
	}
	th_free(&t);
}

void th_remove_field(theader *h, int index)
{
	if (index < 0 || index >= h->nfields)
		return;
	memmove(&h->fields[index], &h->fields[index + 1], (h->nfields - index - 1) * sizeof(tfield));
	h->nfields--;
	recompute(h);
}

int th_find(const theader *h, const char *name)
{
	for (int i = 0; i < h->nfields; i++)
		if (!strcmp(h->fields[i].name, name))
			return i;
	return -1;
}

const char *th_field_names(const theader *h, char *buf, size_t n)
{
	size_t len = 0;
	buf[0] = 0;
	for (int i = 0; i < h->nfields && len + 1 < n; i++)
		len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? ", " : "", h->fields[i].name);
	if (!h->nfields)
		snprintf(buf, n, "none");
	return buf;
}

const tfield *th_need(const theader *h, const char *name, const char *input)
{
	int i = th_find(h, name);
	if (i < 0) {
		char names[512];
		die("%s: no field '%s' in the stream (its fields: %s)", input, name, th_field_names(h, names, sizeof names));
	}
	return &h->fields[i];
}

const char *th_attr(const theader *h, const char *key)
{
	for (int i = 0; i < h->nattrs; i++)
		if (!strcmp(h->attrs[i].key, key))
			return h->attrs[i].value;
	return NULL;
}

void th_attr_add(theader *h, const char *key, const char *value)
{
	h->attrs = xrealloc(h->attrs, (h->nattrs + 1) * sizeof *h->attrs);
	h->attrs[h->nattrs].key = xstrdup(key);
	h->attrs[h->nattrs].value = xstrdup(value);
	h->nattrs++;
}

void th_attr_del(theader *h, const char *key_)
{
	/* the key may be one of the header's own strings, freed below */
	char *key = xstrdup(key_);
	int j = 0;
	for (int i = 0; i < h->nattrs; i++) {
		if (!strcmp(h->attrs[i].key, key)) {
			free(h->attrs[i].key);
			free(h->attrs[i].value);
		} else {
			h->attrs[j++] = h->attrs[i];
		}
	}
	h->nattrs = j;
	free(key);
}

void th_attr_set(theader *h, const char *key, const char *value)
{
	for (int i = 0; i < h->nattrs; i++)
		if (!strcmp(h->attrs[i].key, key)) {
			char *v = xstrdup(value);
			free(h->attrs[i].value);
			h->attrs[i].value = v;
			return;
		}
	th_attr_add(h, key, value);
}

void th_attr_setf(theader *h, const char *key, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	th_attr_set(h, key, buf);
}

/* Shell-quote an argument unless it is plainly safe; control characters
 * (which a header line cannot hold) become '?'. */
static void append_arg(char **buf, size_t *len, size_t *cap, const char *a)
{
	int safe = *a != 0;
	for (const char *p = a; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:=,+-@%", *p))
			safe = 0;
	size_t need = *len + 4 * strlen(a) + 4;
	if (need > *cap) {
		*cap = need * 2;
		*buf = xrealloc(*buf, *cap);
	}
	char *o = *buf + *len;
	if (*len)
		*o++ = ' ';
	if (!safe)
		*o++ = '\'';
	for (const char *p = a; *p; p++) {
		unsigned char c = *p;
		if (c == '\'' && !safe) {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = valid_text_char(c) ? c : '?';
		}
	}
	if (!safe)
		*o++ = '\'';
	*o = 0;
	*len = o - *buf;
}

void th_add_history(theader *h)
{
	int argc = tiny_argc;
	char **argv = tiny_argv;
	size_t len = 0, cap = 256;
	char *buf = xmalloc(cap);
	buf[0] = 0;
	append_arg(&buf, &len, &cap, tiny_prog);
	for (int i = 1; i < argc; i++)
		append_arg(&buf, &len, &cap, argv[i]);
	th_attr_add(h, "history", buf);
	free(buf);
}

int th_words(const char *value, char ***words)
{
	int n = 0, cap = 16;
	char **w = xmalloc(cap * sizeof *w);
	const char *p = value ? value : "";
	for (;;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		const char *q = p;
		while (*q && *q != ' ')
			q++;
		if (n == cap)
			w = xrealloc(w, (cap *= 2) * sizeof *w);
		w[n] = xmalloc(q - p + 1);
		memcpy(w[n], p, q - p);
		w[n][q - p] = 0;
		n++;
		p = q;
	}
	*words = w;
	return n;
}

void th_words_free(char **words, int n)
{
	for (int i = 0; i < n; i++)
		free(words[i]);
	free(words);
}

/* --- formatting ---------------------------------------------------------- */

static void sb_add(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void sb_add(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
		va_end(ap);
		if (n < 0)
			die("formatting the header failed");
		if (*len + n < *cap) {
			*len += n;
			return;
		}
		*cap = (*len + n + 1) * 2;
		*buf = xrealloc(*buf, *cap);
	}
}

static int ndigits(size_t v)
{
	int d = 1;
	while (v >= 10) {
		v /= 10;
		d++;
	}
	return d;
}

char *th_format(const theader *h, size_t *lenp, char *err, size_t errsz)
{
	if (h->nfields < 1) {
		fail(err, errsz, "a stream needs at least one field");
		return NULL;
	}
	size_t len = 0, cap = 1024;
	char *body = xmalloc(cap);
	body[0] = 0;
	if (h->count == TINY_COUNT_UNKNOWN)
		sb_add(&body, &len, &cap, "count unknown\n");
	else
		sb_add(&body, &len, &cap, "count %" PRId64 "\n", h->count);
	for (int i = 0; i < h->nfields; i++) {
		const tfield *f = &h->fields[i];
		sb_add(&body, &len, &cap, "field %s %s [", f->name, dtype_names[f->dtype]);
		for (int d = 0; d < f->rank; d++)
			sb_add(&body, &len, &cap, "%s%" PRId64, d ? "," : "", f->dims[d]);
		sb_add(&body, &len, &cap, "]\n");
	}
	for (int i = 0; i < h->nattrs; i++) {
		const tattr *a = &h->attrs[i];
		if (!valid_name(a->key, strlen(a->key))) {
			fail(err, errsz, "attribute name '%.40s' must be a letter or _ then letters, digits or _", a->key);
			free(body);
			return NULL;
		}
		for (const char *p = a->value; *p; p++)
			if (!valid_text_char((unsigned char)*p)) {
				fail(err, errsz, "attribute '%s' holds a control character", a->key);
				free(body);
				return NULL;
			}
		sb_add(&body, &len, &cap, *a->value ? "attr %s %s\n" : "attr %s%s\n", a->key, a->value);
	}
	sb_add(&body, &len, &cap, "end\n");

	/* The first line names the total length, whose digits change the total. */
	size_t total = 0;
	for (;;) {
		size_t first = strlen(TINY_MAGIC) + 3 + ndigits(total) + 1; /* "TINY 1 " N "\n" */
		size_t t = (first + len + TINY_ALIGN - 1) / TINY_ALIGN * TINY_ALIGN;
		if (t == total)
			break;
		total = t;
	}
	if (total > TINY_HDR_MAX) {
		fail(err, errsz, "header of %zu bytes exceeds the limit of %d", total, TINY_HDR_MAX);
		free(body);
		return NULL;
	}
	char *out = xmalloc(total + 1);
	int first = snprintf(out, total + 1, "%s %d %zu\n", TINY_MAGIC, TINY_VERSION, total);
	memcpy(out + first, body, len);
	memset(out + first + len, '\n', total - first - len);
	free(body);
	*lenp = total;
	return out;
}

/* --- parsing ------------------------------------------------------------- */

/* A decimal number without sign or leading zeros, at most max. */
static int parse_num(const char *s, size_t n, int64_t max, int64_t *v)
{
	if (n == 0 || n > 19 || (n > 1 && s[0] == '0'))
		return -1;
	int64_t x = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (x > (max - (s[i] - '0')) / 10)
			return -1;
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return 0;
}

int th_parse_first_line(const char *buf, size_t n, size_t *hdrlen, char *err, size_t errsz)
{
	size_t m = strlen(TINY_MAGIC);
	if (n < m + 1 || memcmp(buf, TINY_MAGIC, m) != 0 || buf[m] != ' ')
		return fail(err, errsz, "not a tiny stream (expected the magic 'TINY' at the start)");
	const char *end = memchr(buf, '\n', n < TINY_ALIGN ? n : TINY_ALIGN);
	if (!end)
		return fail(err, errsz, "first line is not 'TINY VERSION LENGTH'");
	const char *v = buf + m + 1;
	const char *sp = memchr(v, ' ', end - v);
	if (!sp)
		return fail(err, errsz, "first line is not 'TINY VERSION LENGTH'");
	int64_t version, len;
	if (parse_num(v, sp - v, 1000000, &version) < 0)
		return fail(err, errsz, "first line is not 'TINY VERSION LENGTH'");
	if (version != TINY_VERSION)
		return fail(err, errsz, "unsupported version %" PRId64 " (this build reads version %d)", version,
			    TINY_VERSION);
	if (parse_num(sp + 1, end - sp - 1, TINY_HDR_MAX, &len) < 0)
		return fail(err, errsz, "header length '%.*s' is not a number from %d to %d", (int)(end - sp - 1 > 20 ? 20 : end - sp - 1),
			    sp + 1, TINY_ALIGN, TINY_HDR_MAX);
	if (len < TINY_ALIGN || len % TINY_ALIGN)
		return fail(err, errsz, "header length %" PRId64 " is not a multiple of %d", len, TINY_ALIGN);
	*hdrlen = len;
	return 0;
}

static int parse_field(theader *h, const char *s, size_t n, int line, char *err, size_t errsz)
{
	/* NAME DTYPE [D0,D1,...] */
	const char *end = s + n, *p = s;
	const char *sp1 = memchr(p, ' ', n);
	if (!sp1)
		return fail(err, errsz, "line %d: expected 'field NAME DTYPE [DIMS]'", line);
	char name[TINY_NAME_MAX + 1];
	if (!valid_name(p, sp1 - p))
		return fail(err, errsz, "line %d: field name '%.*s' must be a letter or _ then up to %d letters, digits or _",
			    line, (int)(sp1 - p > 40 ? 40 : sp1 - p), p, TINY_NAME_MAX - 1);
	memcpy(name, p, sp1 - p);
	name[sp1 - p] = 0;
	p = sp1 + 1;
	const char *sp2 = memchr(p, ' ', end - p);
	if (!sp2)
		return fail(err, errsz, "line %d: field '%s': expected a dtype and a shape", line, name);
	char dt[8];
	int dtype = -1;
	if (sp2 - p < (int)sizeof dt) {
		memcpy(dt, p, sp2 - p);
		dt[sp2 - p] = 0;
		dtype = dtype_from_name(dt);
	}
	if (dtype < 0)
		return fail(err, errsz, "line %d: field '%s': unknown dtype '%.*s' (expected u8, i32, u32, i64, f32 or f64)",
			    line, name, (int)(sp2 - p > 16 ? 16 : sp2 - p), p);
	p = sp2 + 1;
	if (end - p < 2 || *p != '[' || end[-1] != ']')
		return fail(err, errsz, "line %d: field '%s': shape must be [] or [D0,D1,...]", line, name);
	p++;
	const char *close = end - 1;
	int64_t dims[TINY_MAX_RANK];
	int rank = 0;
	while (p < close) {
		const char *c = p;
		while (c < close && *c != ',')
			c++;
		if (rank == TINY_MAX_RANK)
			return fail(err, errsz, "line %d: field '%s': rank exceeds the limit of %d", line, name,
				    TINY_MAX_RANK);
		int64_t d;
		if (parse_num(p, c - p, TINY_DIM_MAX, &d) < 0 || d < 1)
			return fail(err, errsz, "line %d: field '%s': dimension '%.*s' is not a number from 1 to %d", line,
				    name, (int)(c - p > 20 ? 20 : c - p), p, TINY_DIM_MAX);
		dims[rank++] = d;
		if (c < close && c + 1 == close)
			return fail(err, errsz, "line %d: field '%s': shape must be [] or [D0,D1,...]", line, name);
		p = c < close ? c + 1 : c;
	}
	char e[200];
	if (th_add_field(h, name, dtype, rank, dims, e, sizeof e) < 0)
		return fail(err, errsz, "line %d: %s", line, e);
	return 0;
}

/* The kinds of stream, by their fields: the attribute kind that every
 * writer sets (sout_open), and the phrase messages use. */
static const struct {
	const char *name, *phrase;
} kinds[] = {
	{"covariance", "a covariance (tiny-cov)"},
	{"zca", "a ZCA model (tiny-zca --fit)"},
	{"checkpoint", "an RBM checkpoint (tiny-rbm-train --checkpoint)"},
	{"rbm", "an RBM (tiny-rbm-train)"},
	{"net", "a net (tiny-backprop --train)"},
	{"logreg", "a logistic regression (tiny-logreg --train)"},
	{"filter-bank", "a filter bank (tiny-kmeans)"},
	{"labelled-data", "a labelled data set"},
	{"data", "a data set"},
	{"predictions", "predictions or labels"},
	{"log", "a training log"},
	{"training-checkpoint", "a training checkpoint (tiny-backprop --checkpoint)"},
	{"other", "a stream of other fields"},
};

static int kind_of(const theader *h)
{
	int has_W = th_find(h, "W") >= 0;
	if (th_find(h, "cov") >= 0)
		return 0;
	if (th_find(h, "Winv") >= 0)
		return 1;
	if (th_find(h, "uW") >= 0)
		return 2;
	if (has_W && th_find(h, "hbias") >= 0)
		return 3;
	if (th_find(h, "W1") >= 0)
		return 4;
	if (has_W && th_find(h, "b") >= 0)
		return 5;
	if (has_W && th_attr(h, "kmeans_k"))
		return 6;
	if (th_find(h, "x") >= 0)
		return th_find(h, "label") >= 0 ? 7 : 8;
	if (th_find(h, "label") >= 0)
		return 9;
	if (th_find(h, "epoch") >= 0)
		return 10;
	if (th_find(h, "train_state") >= 0)
		return 11;
	return 12;
}

const char *th_kind(const theader *h)
{
	return kinds[kind_of(h)].phrase;
}

const char *th_kind_name(const theader *h)
{
	return kinds[kind_of(h)].name;
}

int th_add_field_text(theader *h, const char *text, char *err, size_t errsz)
{
	if (parse_field(h, text, strlen(text), 0, err, errsz) == 0)
		return 0;
	if (!strncmp(err, "line 0: ", 8))
		memmove(err, err + 8, strlen(err + 8) + 1);
	return -1;
}

int th_parse(theader *h, const char *buf, size_t len, char *err, size_t errsz)
{
	th_init(h);
	size_t hl;
	if (th_parse_first_line(buf, len, &hl, err, errsz) < 0)
		return -1;
	if (hl != len)
		return fail(err, errsz, "header is %zu bytes, its first line says %zu", len, hl);
	const char *p = memchr(buf, '\n', len) + 1, *end = buf + len;
	int line = 1, have_count = 0, ended = 0, have_attr = 0;
	while (p < end && !ended) {
		line++;
		const char *nl = memchr(p, '\n', end - p);
		if (!nl)
			goto bad_end;
		size_t n = nl - p;
		for (size_t i = 0; i < n; i++)
			if (!valid_text_char((unsigned char)p[i])) {
				th_free(h);
				return fail(err, errsz, "line %d: control character 0x%02x in the header", line,
					    (unsigned char)p[i]);
			}
		if (n == 3 && !memcmp(p, "end", 3)) {
			ended = 1;
		} else if (n > 6 && !memcmp(p, "count ", 6)) {
			int64_t c;
			if (have_count) {
				th_free(h);
				return fail(err, errsz, "line %d: a second 'count' line", line);
			}
			if (h->nfields > 0) {
				th_free(h);
				return fail(err, errsz, "line %d: 'count' must come before the fields", line);
			}
			if (n - 6 == 7 && !memcmp(p + 6, "unknown", 7)) {
				c = TINY_COUNT_UNKNOWN;
			} else if (parse_num(p + 6, n - 6, TINY_BODY_MAX - 1, &c) < 0) {
				th_free(h);
				return fail(err, errsz, "line %d: count '%.*s' is not a number below 2^62 or 'unknown'", line,
					    (int)(n - 6 > 24 ? 24 : n - 6), p + 6);
			}
			h->count = c;
			have_count = 1;
		} else if (n > 6 && !memcmp(p, "field ", 6)) {
			if (!have_count) {
				th_free(h);
				return fail(err, errsz, "line %d: no 'count' line before the fields", line);
			}
			if (have_attr) {
				th_free(h);
				return fail(err, errsz, "line %d: a field after the attributes (fields come first)", line);
			}
			if (parse_field(h, p + 6, n - 6, line, err, errsz) < 0) {
				th_free(h);
				return -1;
			}
		} else if (n > 5 && !memcmp(p, "attr ", 5)) {
			have_attr = 1;
			const char *k = p + 5, *e = p + n;
			const char *sp = memchr(k, ' ', e - k);
			const char *ke = sp ? sp : e;
			if (!valid_name(k, ke - k)) {
				th_free(h);
				return fail(err, errsz, "line %d: attribute name '%.*s' must be a letter or _ then up to %d letters, digits or _",
					    line, (int)(ke - k > 40 ? 40 : ke - k), k, TINY_NAME_MAX - 1);
			}
			char key[TINY_NAME_MAX + 1];
			memcpy(key, k, ke - k);
			key[ke - k] = 0;
			const char *v = sp ? sp + 1 : e;
			char *val = xmalloc(e - v + 1);
			memcpy(val, v, e - v);
			val[e - v] = 0;
			th_attr_add(h, key, val);
			free(val);
		} else {
			th_free(h);
			return fail(err, errsz, "line %d: unknown line '%.*s' (expected count, field, attr or end)", line,
				    (int)(n > 24 ? 24 : n), p);
		}
		p = nl + 1;
	}
	if (!ended)
		goto bad_end;
	for (; p < end; p++)
		if (*p != '\n') {
			th_free(h);
			return fail(err, errsz, "padding after 'end' must be newlines only");
		}
	if (!have_count) {
		th_free(h);
		return fail(err, errsz, "no 'count' line");
	}
	if (h->nfields == 0) {
		th_free(h);
		return fail(err, errsz, "no fields (a record needs at least one)");
	}
	return 0;
bad_end:
	th_free(h);
	return fail(err, errsz, "no 'end' line within the %zu header bytes", len);
}
