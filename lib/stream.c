/*
 * stream.c - reading and writing streams (formats/stream.md): header first,
 * then records one at a time or in blocks, with every size from the input
 * checked against the header before it is trusted.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tiny.h"

/* --- fields -------------------------------------------------------------- */

/* Records pack fields without padding, so a field may sit at any address:
 * elements are copied out with memcpy, which compiles to plain loads. */
#define GET_LOOP(T, OUT)                                                              \
	for (int64_t b = 0; b < B; b++) {                                             \
		const unsigned char *src = (const unsigned char *)recs + b * recsize + f->offset; \
		OUT *dst = out + b * f->n;                                            \
		for (int64_t i = 0; i < f->n; i++) {                                  \
			T v;                                                          \
			memcpy(&v, src + i * sizeof(T), sizeof(T));                   \
			dst[i] = (OUT)v;                                              \
		}                                                                     \
	}

#define GET_ANY(OUT)                                            \
	switch (f->dtype) {                                     \
	case DT_U8: GET_LOOP(uint8_t, OUT); break;              \
	case DT_I32: GET_LOOP(int32_t, OUT); break;             \
	case DT_U32: GET_LOOP(uint32_t, OUT); break;            \
	case DT_I64: GET_LOOP(int64_t, OUT); break;             \
	case DT_F32: GET_LOOP(float, OUT); break;               \
	case DT_F64: GET_LOOP(double, OUT); break;              \
	default: die("bad dtype %d", (int)f->dtype);            \
	}

void tf_get_f32(const tfield *f, const void *recs, int64_t B, int64_t recsize, float *out)
{
	GET_ANY(float)
}

void tf_get_f64(const tfield *f, const void *recs, int64_t B, int64_t recsize, double *out)
{
	GET_ANY(double)
}

void tf_get_i64(const tfield *f, const void *recs, int64_t B, int64_t recsize, int64_t *out)
{
	GET_ANY(int64_t)
}

void tf_set_i64(const tfield *f, void *rec, int64_t v)
{
	unsigned char *dst = (unsigned char *)rec + f->offset;
	switch (f->dtype) {
	case DT_U8: { uint8_t x = v; memcpy(dst, &x, 1); break; }
	case DT_I32: { int32_t x = v; memcpy(dst, &x, 4); break; }
	case DT_U32: { uint32_t x = v; memcpy(dst, &x, 4); break; }
	case DT_I64: memcpy(dst, &v, 8); break;
	case DT_F32: { float x = v; memcpy(dst, &x, 4); break; }
	case DT_F64: { double x = v; memcpy(dst, &x, 8); break; }
	default: die("bad dtype %d", (int)f->dtype);
	}
}

#define CHECK_FINITE(T)                                                                           \
	for (int64_t b = 0; b < B; b++)                                                           \
		for (int64_t i = 0; i < n; i++)                                                   \
			if (!isfinite(v[b * n + i]))                                              \
				die("%s: record %" PRId64 " has %s in field '%s' (element %" PRId64 ")", input, \
				    rec0 + b, isnan(v[b * n + i]) ? "NaN" : "Inf", field, i);

void tf_check_finite_f32(const float *v, int64_t B, int64_t n, int64_t rec0, const char *input, const char *field)
{
	CHECK_FINITE(float)
}

void tf_check_finite_f64(const double *v, int64_t B, int64_t n, int64_t rec0, const char *input, const char *field)
{
	CHECK_FINITE(double)
}

void tf_reassemble(const theader *in, const theader *out, int index, const unsigned char *src, int64_t B,
		   const void *vals, unsigned char *dst)
{
	const tfield *f = &out->fields[index];
	for (int64_t b = 0; b < B; b++) {
		const unsigned char *s = src + b * in->recsize;
		unsigned char *d = dst + b * out->recsize;
		for (int i = 0; i < out->nfields; i++)
			if (i == index)
				memcpy(d + f->offset, (const unsigned char *)vals + b * f->nbytes, (size_t)f->nbytes);
			else
				memcpy(d + out->fields[i].offset, s + in->fields[i].offset, (size_t)out->fields[i].nbytes);
	}
}

/* --- output ---------------------------------------------------------------- */

/* A write to a pipe whose reader has gone (| head) ends the stage quietly,
 * as SIGPIPE would if it were not ignored. */
static void write_failed(const char *name)
{
	if (errno == EPIPE)
		exit_quietly(141);
	die("%s: write error:", name);
}

void xfwrite(const void *buf, size_t n, FILE *fp, const char *name)
{
	if (n && fwrite(buf, 1, n, fp) != n)
		write_failed(name);
}

void close_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		write_failed("stdout");
	tiny_stdout_closed = 1;
	if (fclose(stdout) != 0)
		write_failed("stdout");
}

sout_t *sout_open(const char *path, const theader *h)
{
	char err[256];
	size_t len;
	sout_t *s = xcalloc(1, sizeof *s);
	th_copy(&s->h, h);
	th_attr_set(&s->h, "kind", th_kind_name(h));   /* what it is, whatever the input was */
	char *hdr = th_format(&s->h, &len, err, sizeof err);
	if (!hdr)
		die("output header: %s", err);
	if (!path || !strcmp(path, "-")) {
		s->fp = stdout;
		s->name = xstrdup("stdout");
	} else {
		s->path = xstrdup(path);
		s->name = xstrdup(path);
		int fd = tmpfile_create(path, &s->tmp);
		s->fp = fdopen(fd, "wb");
		if (!s->fp)
			die("%s:", s->tmp);
	}
	xfwrite(hdr, len, s->fp, s->name);
	free(hdr);
	return s;
}

void sout_write(sout_t *s, const void *recs, int64_t nrec)
{
	if (s->h.count != TINY_COUNT_UNKNOWN && s->nwritten + nrec > s->h.count)
		die("%s: writing more than the %" PRId64 " records the header promised", s->name, s->h.count);
	xfwrite(recs, (size_t)(nrec * s->h.recsize), s->fp, s->name);
	s->nwritten += nrec;
}

void sout_write_fields(sout_t *s, const void *const *fields)
{
	if (s->h.count != TINY_COUNT_UNKNOWN && s->nwritten + 1 > s->h.count)
		die("%s: writing more than the %" PRId64 " records the header promised", s->name, s->h.count);
	for (int i = 0; i < s->h.nfields; i++)
		xfwrite(fields[i], (size_t)s->h.fields[i].nbytes, s->fp, s->name);
	s->nwritten++;
}

/* The trailer of a count-unknown stream of n records: the magic, then n as
 * a little-endian u64. */
static void trailer_make(unsigned char t[TINY_TRAILER], int64_t n)
{
	memcpy(t, TINY_TRAILER_MAGIC, 8);
	for (int i = 0; i < 8; i++)
		t[8 + i] = (unsigned char)((uint64_t)n >> (8 * i));
}

void sout_close(sout_t *s)
{
	if (s->h.count != TINY_COUNT_UNKNOWN && s->nwritten != s->h.count)
		die("%s: wrote %" PRId64 " of the %" PRId64 " records the header promised", s->name, s->nwritten,
		    s->h.count);
	/* Only a writer that got this far ends its stream: one that dies
	 * midway leaves a stream that every reader rejects. */
	if (s->h.count == TINY_COUNT_UNKNOWN) {
		unsigned char t[TINY_TRAILER];
		trailer_make(t, s->nwritten);
		xfwrite(t, sizeof t, s->fp, s->name);
	}
	if (s->fp == stdout) {
		close_stdout();
	} else {
		if (fflush(s->fp) != 0 || ferror(s->fp) || fsync(fileno(s->fp)) != 0)
			die("%s: write error:", s->tmp);
		if (fclose(s->fp) != 0)
			die("%s: write error:", s->tmp);
		if (rename(s->tmp, s->path) != 0)
			die("%s: cannot rename %s into place:", s->path, s->tmp);
		tmpfile_forget(s->tmp);
	}
	th_free(&s->h);
	free(s->name);
	free(s->path);
	free(s->tmp);
	free(s);
}

/* --- input ----------------------------------------------------------------- */

/* A count-unknown stream whose last `left` bytes (after the records read
 * so far) are not a trailer. */
static void no_trailer(const sin_t *s, int64_t left)
{
	int64_t R = s->h.recsize;
	die("%s: truncated: the count-unknown stream ends without its trailer, after %" PRId64 " records and %" PRId64
	    " bytes (it was cut short, or its writer failed)", s->name, s->nread + left / R, left % R);
}

/* Die unless t is the trailer of a count-unknown stream whose records
 * before it are `body` bytes. */
static void trailer_check(const sin_t *s, const unsigned char *t, int64_t body)
{
	int64_t R = s->h.recsize;
	if (memcmp(t, TINY_TRAILER_MAGIC, 8) != 0)
		no_trailer(s, body + TINY_TRAILER);
	if (body % R)
		die("%s: truncated last record: %" PRId64 " of %" PRId64 " bytes", s->name, body % R, R);
	uint64_t n = 0;
	for (int i = 0; i < 8; i++)
		n |= (uint64_t)t[8 + i] << (8 * i);
	if (n != (uint64_t)(s->nread + body / R))
		die("%s: the trailer counts %" PRIu64 " records, the stream holds %" PRId64, s->name, n,
		    s->nread + body / R);
}

sin_t *sin_open(const char *path)
{
	sin_t *s = xcalloc(1, sizeof *s);
	if (!path || !strcmp(path, "-")) {
		tiny_need_stdin();
		s->fp = stdin;
		s->name = xstrdup("stdin");
	} else {
		s->name = xstrdup(path);
		s->fp = fopen(path, "rb");
		if (!s->fp)
			die("%s:", path);
	}
	/* Where the stream starts in a regular file, for the size check. */
	struct stat st;
	int regular = fstat(fileno(s->fp), &st) == 0 && S_ISREG(st.st_mode);
	off_t start = regular ? lseek(fileno(s->fp), 0, SEEK_CUR) : 0;
	if (start < 0)
		regular = 0;

	char first[TINY_ALIGN];
	size_t got = fread(first, 1, sizeof first, s->fp);
	if (ferror(s->fp))
		die("%s: read error:", s->name);
	if (got == 0)
		die("%s: empty input (expected a tiny stream, which starts with 'TINY')", s->name);
	char err[256];
	size_t hl;
	if (th_parse_first_line(first, got, &hl, err, sizeof err) < 0)
		die("%s: %s", s->name, err);
	if (got < sizeof first)
		die("%s: truncated header: %zu of %zu bytes", s->name, got, hl);
	char *buf = xmalloc(hl);
	memcpy(buf, first, got);
	size_t more = fread(buf + got, 1, hl - got, s->fp);
	if (ferror(s->fp))
		die("%s: read error:", s->name);
	if (more < hl - got)
		die("%s: truncated header: %zu of %zu bytes", s->name, got + more, hl);
	if (th_parse(&s->h, buf, hl, err, sizeof err) < 0)
		die("%s: %s", s->name, err);
	free(buf);
	s->hdrlen = hl;
	s->declared = s->h.count;
	s->start = regular ? (int64_t)start : -1;

	if (regular) {
		int64_t body = (int64_t)st.st_size - (int64_t)start - (int64_t)hl, R = s->h.recsize;
		if (s->h.count != TINY_COUNT_UNKNOWN) {
			int64_t want = s->h.count * R;
			if (body < want)
				die("%s: truncated: the header promises %" PRId64 " records of %" PRId64
				    " bytes, the file holds %" PRId64 " bytes of them",
				    s->name, s->h.count, R, body);
			if (body > want)
				die("%s: %" PRId64 " bytes of data after the last of %" PRId64 " records", s->name,
				    body - want, s->h.count);
		} else {
			unsigned char t[TINY_TRAILER];
			if (body < TINY_TRAILER)
				no_trailer(s, body);
			if (pread(fileno(s->fp), t, sizeof t, (off_t)(start + (int64_t)hl + body - TINY_TRAILER)) !=
			    TINY_TRAILER)
				die("%s: read error:", s->name);
			trailer_check(s, t, body - TINY_TRAILER);
			s->h.count = (body - TINY_TRAILER) / R;
		}
	}
	snprintf(tiny_last_input, sizeof tiny_last_input, "%s", s->name);
	tiny_last_recsize = s->h.recsize;
	return s;
}

/* Count unknown through a pipe: deliver records only while TINY_TRAILER
 * more bytes follow them; at the end, the last TINY_TRAILER bytes are the
 * trailer. */
static int64_t read_unknown(sin_t *s, unsigned char *buf, int64_t want)
{
	size_t need = (size_t)(want * s->h.recsize), take = (size_t)s->nlook < need ? (size_t)s->nlook : need, k;
	memcpy(buf, s->look, take);
	memmove(s->look, s->look + take, (size_t)s->nlook - take);
	s->nlook -= (int)take;
	k = take;
	if (k < need)
		k += fread(buf + k, 1, need - k, s->fp);
	if (k == need)
		s->nlook += (int)fread(s->look + s->nlook, 1, TINY_TRAILER - (size_t)s->nlook, s->fp);
	if (ferror(s->fp))
		die("%s: read error:", s->name);
	if (k == need && s->nlook == TINY_TRAILER)
		return want;
	/* the end: the records are in buf, the trailer straddles buf and look */
	s->eof = 1;
	int64_t total = (int64_t)k + s->nlook, body = total - TINY_TRAILER;
	if (total < TINY_TRAILER)
		no_trailer(s, total);
	unsigned char t[TINY_TRAILER];
	memcpy(t, buf + body, (size_t)((int64_t)k - body));
	memcpy(t + ((int64_t)k - body), s->look, (size_t)s->nlook);
	trailer_check(s, t, body);
	return body / s->h.recsize;
}

int64_t sin_read(sin_t *s, void *buf, int64_t max)
{
	int64_t R = s->h.recsize, want = max;
	if (s->eof || max <= 0)
		return 0;
	if (s->h.count == TINY_COUNT_UNKNOWN) {
		int64_t nrec = read_unknown(s, buf, want);
		s->nread += nrec;
		return nrec;
	}
	if (want > s->h.count - s->nread)
		want = s->h.count - s->nread;
	size_t got = want > 0 ? fread(buf, 1, (size_t)(want * R), s->fp) : 0;
	if (ferror(s->fp))
		die("%s: read error:", s->name);
	int64_t nrec = got / R;
	if (nrec < want)
		die("%s: truncated: the header promises %" PRId64 " records, the stream ends after %" PRId64
		    " and %" PRId64 " bytes",
		    s->name, s->h.count, s->nread + nrec, (int64_t)(got % R));
	if (s->nread + nrec == s->h.count) {
		/* everything promised is here: a count-unknown file's trailer,
		 * checked at open, and then nothing more */
		unsigned char t[TINY_TRAILER];
		if (s->declared == TINY_COUNT_UNKNOWN && fread(t, 1, sizeof t, s->fp) != sizeof t)
			die("%s: truncated: the trailer is gone (was the file cut while being read?)", s->name);
		if (fgetc(s->fp) != EOF)
			die("%s: data after the last of %" PRId64 " records", s->name, s->h.count);
		s->eof = 1;
	}
	s->nread += nrec;
	return nrec;
}

int64_t sin_read_f32(sin_t *s, const char *field, float *out, int64_t max)
{
	const tfield *f = th_need(&s->h, field, s->name);
	int64_t B = 1024, done = 0;
	if (B > max)
		B = max;
	unsigned char *raw = xmalloc((size_t)(B * s->h.recsize));
	while (done < max) {
		int64_t want = max - done < B ? max - done : B;
		int64_t n = sin_read(s, raw, want);
		if (n == 0)
			break;
		tf_get_f32(f, raw, n, s->h.recsize, out + done * f->n);
		done += n;
	}
	free(raw);
	return done;
}

void sin_seek(sin_t *s, int64_t rec)
{
	if (s->start < 0)
		die("%s: not a regular file, so it cannot be read in parts", s->name);
	if (rec < 0 || rec > s->h.count)
		die("%s: cannot seek to record %" PRId64 " of %" PRId64, s->name, rec, s->h.count);
	if (fseeko(s->fp, (off_t)(s->start + s->hdrlen + rec * s->h.recsize), SEEK_SET) != 0)
		die("%s: cannot seek:", s->name);
	s->nread = rec;
	s->eof = 0;
}

void sin_close(sin_t *s)
{
	if (s->fp != stdin)
		fclose(s->fp);
	th_free(&s->h);
	free(s->name);
	free(s);
}

/* --- models ---------------------------------------------------------------- */

static void format_shape(char *out, size_t n, int rank, const int64_t *dims, const char *sym)
{
	/* sym: the dimensions' names, comma-separated, for those given as -1 */
	char names[4][16] = {{0}};
	for (int i = 0; i < rank && sym && *sym; i++) {
		size_t len = strcspn(sym, ",");
		snprintf(names[i], sizeof names[i], "%.*s", (int)len, sym);
		sym += len + (sym[len] == ',');
	}
	size_t used = (size_t)snprintf(out, n, "[");
	for (int i = 0; i < rank && used < n; i++) {
		if (dims[i] >= 0)
			used += (size_t)snprintf(out + used, n - used, "%s%" PRId64, i ? "," : "", dims[i]);
		else
			used += (size_t)snprintf(out + used, n - used, "%s%s", i ? "," : "", names[i][0] ? names[i] : "N");
	}
	if (used < n)
		snprintf(out + used, n - used, "]");
}

const tfield *model_field(const sin_t *s, const char *kind, const char *name, int dtype, int rank,
			  const int64_t *dims, const char *sym)
{
	char want[128], got[128];
	format_shape(want, sizeof want, rank, dims, sym);
	const char *dts = dtype < 0 ? "f32 or f64" : dtype_names[dtype];
	if (s->h.count != 1)
		die("%s: a %s has one record, this stream has %s", s->name, kind,
		    s->declared == TINY_COUNT_UNKNOWN ? "count unknown" : s->h.count == 0 ? "none" : "several");
	int i = th_find(&s->h, name);
	if (i < 0)
		die("%s: a %s has a field %s %s %s; this stream has none", s->name, kind, name, dts, want);
	const tfield *f = &s->h.fields[i];
	int ok = f->rank == rank && (dtype < 0 ? f->dtype == DT_F32 || f->dtype == DT_F64 : (int)f->dtype == dtype);
	for (int d = 0; ok && d < rank; d++)
		ok = dims[d] < 0 || f->dims[d] == dims[d];
	if (!ok) {
		format_shape(got, sizeof got, f->rank, f->dims, NULL);
		die("%s: field '%s' of a %s must be %s %s, not %s %s", s->name, name, kind, dts, want,
		    dtype_names[f->dtype], got);
	}
	return f;
}

/* What was done to data, as origin_check compares it: the attributes
 * below, "key=value" each, in this order, or "none"; the last thing done
 * first, so that a message names it. */
static const struct {
	const char *key, *what, *fix;
} origins[] = {{"features_of", "features of a model", "make its features with the same model"},
	       {"zca_fingerprint", "whitened", "whiten it with the same tiny-zca model"}};

void origin_record(theader *model, const theader *data)
{
	char buf[256] = "";
	for (size_t i = 0; i < sizeof origins / sizeof *origins; i++) {
		const char *v = th_attr(data, origins[i].key);
		if (v)
			snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s=%.64s", *buf ? " " : "", origins[i].key, v);
	}
	th_attr_set(model, "data_origin", *buf ? buf : "none");
}

void origin_check(const theader *model, const char *model_name, const theader *data, const char *data_name)
{
	const char *rec = th_attr(model, "data_origin");
	if (!rec)
		return;   /* a model that says nothing of its training data */
	for (size_t i = 0; i < sizeof origins / sizeof *origins; i++) {
		/* the model's value: after "key=" in rec, up to a space */
		char m[80] = "";
		size_t kl = strlen(origins[i].key);
		for (const char *p = rec; (p = strstr(p, origins[i].key)) != NULL; p += kl)
			if ((p == rec || p[-1] == ' ') && p[kl] == '=') {
				snprintf(m, sizeof m, "%.*s", (int)strcspn(p + kl + 1, " "), p + kl + 1);
				break;
			}
		const char *d = th_attr(data, origins[i].key);
		if (!*m && !d)
			continue;
		if (*m && d && !strcmp(m, d))
			continue;
		if (*m && !d)
			die("%s: not %s, but %s was trained on data that is (%s %s): %s first", data_name, origins[i].what,
			    model_name, origins[i].key, m, origins[i].fix);
		if (!*m)
			die("%s: %s (%s %s), but %s was trained on data that is not", data_name, origins[i].what,
			    origins[i].key, d, model_name);
		die("%s: %s by another model (%s %s) than %s's training data (%s)", data_name, origins[i].what,
		    origins[i].key, d, model_name, m);
	}
}
