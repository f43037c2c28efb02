/*
 * tiny-fetch - bring a data set in as a stream: CIFAR-10, CIFAR-100, or a
 * synthetic set that needs no network.
 *
 * usage: tiny-fetch cifar-10|cifar-100|synthetic [-q] [--split train|test|all]
 *                   [--source PATH|URL] [--md5 HEX] [--count N] [--seed S]
 *
 * CIFAR: the official binary tarball is downloaded once into the cache
 * ($XDG_CACHE_HOME/tiny, else ~/.cache/tiny) with a progress bar; an
 * interrupted download resumes (or restarts where the server cannot resume)
 * from NAME.part, and the file enters the cache, by rename, only after its
 * MD5 matches.  The cache is keyed by the MD5: a file of another --md5
 * (a mirror's own copy) is kept as NAME.md5-HEX beside the official one.
 * --source takes another URL, or a local tarball (read in
 * place; a checksum mismatch is then only a warning).  The records are read
 * straight out of the gzip'd tar with libarchive, checked whole (members,
 * sizes, labels against the meta files), and only then written:
 *
 *   cifar-10:  label u8 [], x u8 [3,32,32]              (N = 50000 | 10000)
 *   cifar-100: coarse u8 [], label u8 [], x u8 [3,32,32] (N = 50000 | 10000)
 *
 * which is byte for byte the official record layout, after a stream header
 * with the class names (attributes classes, coarse_classes).  --split all is
 * the training records followed by the test records.
 *
 * synthetic: --count N images (default 5000) of 10 classes that differ only
 * by shape and orientation (bars, diagonals, plus, cross, ring, square,
 * triangle, vee) drawn anti-aliased at random positions, sizes and slight
 * rotations, in random foreground and background colours over a random
 * gradient, with Gaussian noise.  Image i of a split depends only on
 * (--seed, split, i), and every run of 10 holds each class once.
 */
#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <nettle/md5.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "tiny.h"

static const char *usage_line =
	"tiny-fetch cifar-10|cifar-100|synthetic [-q] [--split train|test|all] [--source PATH|URL] [--md5 HEX] "
	"[--count N] [--seed S]";

/* --- the data sets ---------------------------------------------------------- */

#define PIXELS 3072           /* 3 x 32 x 32, channels then rows then columns */
#define MEMBER_MAX (1 << 30)  /* largest tar member we accept, bytes */

typedef struct {
	const char *name;
	const char *url;
	const char *md5;
	const char *file;         /* cache file name */
	const char *dir;          /* directory inside the tarball */
	const char *train[6];     /* members, in output order */
	const char *test[2];
	const char *classes;      /* meta member with the label names */
	int nclasses;
	const char *coarse;       /* CIFAR-100's superclass names, or NULL */
	int ncoarse;
	int labels;               /* label bytes before the pixels: 1 or 2 */
} dataset_t;

static const dataset_t datasets[] = {
	{"cifar-10", "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530",
	 "cifar-10-binary.tar.gz", "cifar-10-batches-bin",
	 {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"},
	 {"test_batch.bin"}, "batches.meta.txt", 10, NULL, 0, 1},
	{"cifar-100", "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz", "03b5dce01913d631647c71ecec9e9cb8",
	 "cifar-100-binary.tar.gz", "cifar-100-binary", {"train.bin"}, {"test.bin"}, "fine_label_names.txt", 100,
	 "coarse_label_names.txt", 20, 2},
};

/* --- MD5 -------------------------------------------------------------------- */

typedef struct {
	const char *path;
	char hex[33];
	int err;        /* errno on failure */
	pthread_t thread;
} md5job_t;

static int md5_file(const char *path, char hex[33])
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return errno;
	struct md5_ctx ctx;
	md5_init(&ctx);
	size_t cap = 1 << 20;
	unsigned char *buf = xmalloc(cap), digest[MD5_DIGEST_SIZE];
	ssize_t n;
	while ((n = read(fd, buf, cap)) > 0)
		md5_update(&ctx, n, buf);
	int e = n < 0 ? errno : 0;
	close(fd);
	free(buf);
	md5_digest(&ctx, sizeof digest, digest);
	for (int i = 0; i < MD5_DIGEST_SIZE; i++)
		sprintf(hex + 2 * i, "%02x", digest[i]);
	return e;
}

static void *md5_thread(void *arg)
{
	md5job_t *j = arg;
	j->err = md5_file(j->path, j->hex);
	return NULL;
}

/* --- download --------------------------------------------------------------- */

typedef struct {
	FILE *fp;
	const char *part;
	curl_off_t resume;   /* bytes already in .part when this attempt started */
	int checked;         /* response code looked at */
	progress_t *bar;
	CURL *curl;
} dl_t;

static size_t dl_write(char *data, size_t size, size_t nmemb, void *arg)
{
	dl_t *d = arg;
	if (!d->checked) {
		long code = 0;
		curl_easy_getinfo(d->curl, CURLINFO_RESPONSE_CODE, &code);
		d->checked = 1;
		if (d->resume > 0 && code != 206) {
			/* the server sent the whole file: restart the .part */
			if (fflush(d->fp) || ftruncate(fileno(d->fp), 0) || fseeko(d->fp, 0, SEEK_SET))
				return 0;
			d->resume = 0;
		}
	}
	return fwrite(data, size, nmemb, d->fp);
}

static int dl_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	(void)ultotal, (void)ulnow;
	dl_t *d = arg;
	if (dltotal > 0)
		d->bar->total = (double)(d->resume + dltotal);
	progress_update(d->bar, (double)(d->resume + dlnow));
	return 0;
}

/* One attempt: append to .part from its current size.  Returns the curl
 * code; *http gets the HTTP status. */
static CURLcode dl_attempt(const char *url, const char *part, progress_t *bar, long *http)
{
	FILE *fp = fopen(part, "ab");
	if (!fp)
		die("%s:", part);
	dl_t d = {fp, part, 0, 0, bar, curl_easy_init()};
	if (!d.curl)
		die("cannot start libcurl");
	fseeko(fp, 0, SEEK_END);
	d.resume = ftello(fp);
	char errbuf[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(d.curl, CURLOPT_URL, url);
	curl_easy_setopt(d.curl, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(d.curl, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(d.curl, CURLOPT_WRITEFUNCTION, dl_write);
	curl_easy_setopt(d.curl, CURLOPT_WRITEDATA, &d);
	curl_easy_setopt(d.curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(d.curl, CURLOPT_XFERINFOFUNCTION, dl_progress);
	curl_easy_setopt(d.curl, CURLOPT_XFERINFODATA, &d);
	curl_easy_setopt(d.curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(d.curl, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(d.curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);  /* < 1 KB/s for 30 s: stalled */
	curl_easy_setopt(d.curl, CURLOPT_LOW_SPEED_TIME, 30L);
	curl_easy_setopt(d.curl, CURLOPT_USERAGENT, "tiny-fetch");
	/* a plain Range header, not CURLOPT_RESUME_FROM_LARGE: with that, libcurl
	 * itself fails a 200 answer (CURLE_RANGE_ERROR) before dl_write can
	 * restart the .part, so a server without Range support never succeeds */
	char range[32];
	if (d.resume > 0) {
		snprintf(range, sizeof range, "%" PRId64 "-", (int64_t)d.resume);
		curl_easy_setopt(d.curl, CURLOPT_RANGE, range);
	}
	CURLcode rc = curl_easy_perform(d.curl);
	*http = 0;
	curl_easy_getinfo(d.curl, CURLINFO_RESPONSE_CODE, http);
	curl_easy_cleanup(d.curl);
	if (fclose(fp) != 0)
		die("%s: write error:", part);
	if (rc != CURLE_OK && rc != CURLE_WRITE_ERROR && *errbuf && !tiny_quiet && isatty(2))
		fputc('\n', stderr);
	return rc;
}

/* Download url into the cache as `final`, through final.part. */
static void download(const char *url, const char *final, const char *md5)
{
	char *part = xmalloc(strlen(final) + 6);
	sprintf(part, "%s.part", final);
	/* one downloader per cache entry: the lock lives on the .part file */
	int lockfd = open(part, O_RDWR | O_CREAT, 0644);
	if (lockfd < 0)
		die("%s:", part);
	if (flock(lockfd, LOCK_EX | LOCK_NB) != 0) {
		if (!tiny_quiet)
			warn("%s: another tiny-fetch is downloading it; waiting", part);
		if (flock(lockfd, LOCK_EX) != 0)
			die("%s: lock:", part);
	}
	if (access(final, F_OK) == 0) {  /* the other one finished it */
		close(lockfd);
		free(part);
		return;
	}
	progress_t bar;
	progress_start(&bar, "download", 0);
	if (!tiny_quiet)
		fprintf(stderr, "%s: downloading %s\n", tiny_prog, url);
	CURLcode rc = CURLE_OK;
	long http = 0;
	for (int attempt = 1; attempt <= 5; attempt++) {
		rc = dl_attempt(url, part, &bar, &http);
		if (rc == CURLE_OK)
			break;
		if (rc == CURLE_HTTP_RETURNED_ERROR && http == 416) {
			/* the range asked for does not exist: the .part is not a prefix */
			if (truncate(part, 0) != 0)
				die("%s:", part);
			continue;
		}
		if (rc == CURLE_HTTP_RETURNED_ERROR || rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_URL_MALFORMAT ||
		    rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_WRITE_ERROR || rc == CURLE_REMOTE_FILE_NOT_FOUND)
			break;
		if (attempt == 5)
			break;
		if (!tiny_quiet)
			warn("%s: %s; resuming (attempt %d of 5)", url, curl_easy_strerror(rc), attempt + 1);
		sleep(1);
	}
	progress_end(&bar);
	if (rc != CURLE_OK) {
		struct stat st;
		if (stat(part, &st) == 0 && st.st_size == 0)
			unlink(part);
		if (rc == CURLE_HTTP_RETURNED_ERROR)
			die("%s: HTTP status %ld", url, http);
		die("%s: download failed: %s", url, curl_easy_strerror(rc));
	}
	char hex[33];
	int e = md5_file(part, hex);
	if (e) {
		errno = e;
		die("%s:", part);
	}
	if (strcmp(hex, md5) != 0) {
		unlink(part);
		die("%s: MD5 %s does not match the expected %s; the download was removed", url, hex, md5);
	}
	if (rename(part, final) != 0)
		die("%s: cannot move the download into the cache:", final);
	close(lockfd);
	free(part);
}

static char *cache_dir(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char *dir;
	if (xdg && *xdg) {
		dir = xmalloc(strlen(xdg) + 8);
		sprintf(dir, "%s/tiny", xdg);
	} else if (home && *home) {
		dir = xmalloc(strlen(home) + 16);
		sprintf(dir, "%s/.cache/tiny", home);
	} else {
		die("neither XDG_CACHE_HOME nor HOME is set: nowhere to cache the download");
	}
	/* mkdir -p */
	for (char *p = dir + 1;; p++) {
		if (*p == '/' || !*p) {
			char c = *p;
			*p = 0;
			if (mkdir(dir, 0755) != 0 && errno != EEXIST)
				die("%s:", dir);
			*p = c;
			if (!c)
				break;
		}
	}
	return dir;
}

/* --- reading the tarball ------------------------------------------------------ */

typedef struct {
	const char *name;    /* member name inside dir */
	unsigned char *data;
	size_t size;
	int found;
} member_t;

/* A gzip file inflated by zlib, once, for libarchive's tar reader: zlib
 * checks every member's trailer (the CRC-32 and size of its data), which
 * libarchive's own gzip filter does not ("XXX TODO: Verify the length and
 * CRC"), and after the tar reader has its members the rest of the file is
 * inflated too, so a flipped byte anywhere fails.  Zero bytes after the
 * last member (padding) are allowed. */
typedef struct {
	const char *path;
	FILE *f;
	z_stream z;
	unsigned char in[1 << 16], out[1 << 20];
	int ended;           /* the last member's trailer has been checked */
	double consumed;     /* compressed bytes read, for the progress bar */
} gz_t;

static la_ssize_t gz_read(struct archive *a, void *p, const void **buf)
{
	(void)a;
	gz_t *g = p;
	g->z.next_out = g->out, g->z.avail_out = sizeof g->out;
	while (g->z.avail_out == sizeof g->out) {
		if (g->z.avail_in == 0) {
			size_t n = fread(g->in, 1, sizeof g->in, g->f);
			if (ferror(g->f))
				die("%s:", g->path);
			if (n == 0) {
				if (!g->ended)
					die("%s: truncated gzip data (no trailer)", g->path);
				return 0;
			}
			g->consumed += (double)n;
			g->z.next_in = g->in, g->z.avail_in = (uInt)n;
		}
		if (g->ended) {
			/* after a member: padding, or the next member */
			if (*g->z.next_in == 0) {
				g->z.next_in++, g->z.avail_in--;
				continue;
			}
			inflateReset(&g->z);
			g->ended = 0;
		}
		int r = inflate(&g->z, Z_NO_FLUSH);
		if (r == Z_STREAM_END)
			g->ended = 1;
		else if (r != Z_OK && r != Z_BUF_ERROR)
			die("%s: corrupt gzip data (%s)", g->path, g->z.msg ? g->z.msg : "zlib error");
	}
	*buf = g->out;
	return (la_ssize_t)(sizeof g->out - g->z.avail_out);
}

/* Read the wanted members of a tar(.gz) into memory; a gzip file is
 * inflated to its end, every trailer checked. */
static void read_tarball(const char *path, const dataset_t *ds, member_t *m, int nm)
{
	struct archive *a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	gz_t *g = NULL;
	unsigned char magic[2] = {0};
	FILE *f = fopen(path, "rb");
	if (!f)
		die("%s:", path);
	if (fread(magic, 1, 2, f) == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
		rewind(f);
		g = xcalloc(1, sizeof *g);
		g->path = path, g->f = f;
		if (inflateInit2(&g->z, 16 + MAX_WBITS) != Z_OK)
			die("%s: zlib: cannot start", path);
		if (archive_read_open(a, g, NULL, gz_read, NULL) != ARCHIVE_OK)
			die("%s: %s", path, archive_error_string(a));
	} else {
		fclose(f);
		if (archive_read_open_filename(a, path, 1 << 20) != ARCHIVE_OK)
			die("%s: %s", path, archive_error_string(a));
	}
	struct stat st;
	double total = stat(path, &st) == 0 ? (double)st.st_size : 0;
	progress_t bar;
	progress_start(&bar, "reading", total);
	struct archive_entry *e;
	int r;
	size_t dirlen = strlen(ds->dir);
	int left = nm;
	while (left > 0 && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);
		if (!name)
			continue;
		if (!strncmp(name, "./", 2))
			name += 2;
		member_t *want = NULL;
		if (!strncmp(name, ds->dir, dirlen) && name[dirlen] == '/')
			for (int i = 0; i < nm; i++)
				if (!m[i].found && !strcmp(name + dirlen + 1, m[i].name))
					want = &m[i];
		if (!want)
			continue;
		if (!archive_entry_size_is_set(e) || archive_entry_size(e) < 0 || archive_entry_size(e) > MEMBER_MAX)
			die("%s: member %s has no size or one over %d bytes", path, name, MEMBER_MAX);
		size_t size = archive_entry_size(e), got = 0;
		want->data = xmalloc(size + 1);
		while (got < size) {
			size_t chunk = size - got < (1 << 22) ? size - got : (1 << 22);
			la_ssize_t n = archive_read_data(a, want->data + got, chunk);
			if (n < 0)
				die("%s: %s: %s", path, name, archive_error_string(a));
			if (n == 0)
				die("%s: %s: truncated (%zu of %zu bytes)", path, name, got, size);
			got += n;
			progress_update(&bar, g ? g->consumed : (double)archive_filter_bytes(a, -1));
		}
		want->data[size] = 0;
		want->size = size;
		want->found = 1;
		left--;
	}
	if (left > 0 && r != ARCHIVE_EOF)
		die("%s: %s", path, archive_error_string(a));
	if (g) {
		/* the rest of the file: inflated and checked, not read into memory */
		const void *buf;
		while (gz_read(a, g, &buf) > 0)
			progress_update(&bar, g->consumed);
	}
	progress_end(&bar);
	for (int i = 0; i < nm; i++)
		if (!m[i].found)
			die("%s: no member %s/%s (is this the %s binary tarball?)", path, ds->dir, m[i].name, ds->name);
	archive_read_free(a);
	if (g) {
		inflateEnd(&g->z);
		fclose(g->f);
		free(g);
	}
}

/* Label names from a meta member: one per line, blank lines ignored,
 * spaces inside a name turned into '_' so `classes` stays a word list. */
static char *label_names(const char *path, const char *dir, member_t *m, int want)
{
	char *out = xmalloc(m->size + 1), *o = out;
	int n = 0;
	const char *p = (const char *)m->data, *end = p + m->size;
	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		const char *le = nl ? nl : end;
		while (p < le && (*p == ' ' || *p == '\t' || *p == '\r'))
			p++;
		const char *q = le;
		while (q > p && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\r'))
			q--;
		if (q > p) {
			if (o > out)
				*o++ = ' ';
			for (; p < q; p++) {
				unsigned char c = *p;
				if (c < 0x20 || c == 0x7f)
					die("%s: %s/%s: control character in a class name", path, dir, m->name);
				*o++ = c == ' ' ? '_' : c;
			}
			n++;
		}
		p = le + 1;
	}
	*o = 0;
	if (n != want)
		die("%s: %s/%s lists %d class names, expected %d", path, dir, m->name, n, want);
	return out;
}

/* --- synthetic images ------------------------------------------------------------ */

static const char *synth_classes = "hbar vbar slash backslash plus cross ring square triangle vee";

/* Each shape as segments (x0,y0,x1,y1) in a unit frame, y pointing down;
 * the ring is drawn apart. */
typedef struct { int n; float s[4][4]; } shape_t;
static const shape_t shapes[10] = {
	{1, {{-1, 0, 1, 0}}},
	{1, {{0, -1, 0, 1}}},
	{1, {{-0.75f, 0.75f, 0.75f, -0.75f}}},
	{1, {{-0.75f, -0.75f, 0.75f, 0.75f}}},
	{2, {{-0.8f, 0, 0.8f, 0}, {0, -0.8f, 0, 0.8f}}},
	{2, {{-0.6f, -0.6f, 0.6f, 0.6f}, {-0.6f, 0.6f, 0.6f, -0.6f}}},
	{0, {{0}}},
	{4, {{-0.65f, -0.65f, 0.65f, -0.65f}, {0.65f, -0.65f, 0.65f, 0.65f}, {0.65f, 0.65f, -0.65f, 0.65f},
	     {-0.65f, 0.65f, -0.65f, -0.65f}}},
	{3, {{0, -0.8f, 0.75f, 0.6f}, {0.75f, 0.6f, -0.75f, 0.6f}, {-0.75f, 0.6f, 0, -0.8f}}},
	{2, {{-0.8f, -0.6f, 0, 0.6f}, {0, 0.6f, 0.8f, -0.6f}}},
};

static double seg_dist(double px, double py, const float *s)
{
	double dx = s[2] - s[0], dy = s[3] - s[1], wx = px - s[0], wy = py - s[1];
	double t = (wx * dx + wy * dy) / (dx * dx + dy * dy);
	t = t < 0 ? 0 : t > 1 ? 1 : t;
	return hypot(wx - t * dx, wy - t * dy);
}

static double clamp01(double v)
{
	return v < 0 ? 0 : v > 1 ? 1 : v;
}

static void synth_image(uint64_t seed, uint64_t stream, int label, unsigned char *x)
{
	rng_t r;
	rng_seed(&r, seed, stream);
	double bg[3], fg[3], d2;
	do {
		d2 = 0;
		for (int c = 0; c < 3; c++) {
			bg[c] = 255 * rng_uniform(&r);
			fg[c] = 255 * rng_uniform(&r);
			d2 += (fg[c] - bg[c]) * (fg[c] - bg[c]);
		}
	} while (d2 < 100.0 * 100.0);
	double gang = 2 * M_PI * rng_uniform(&r), gamp = 40 * rng_uniform(&r);
	double cx = 11 + 10 * rng_uniform(&r), cy = 11 + 10 * rng_uniform(&r);
	double scale = 6 + 4 * rng_uniform(&r), rot = (rng_uniform(&r) - 0.5) * (20 * M_PI / 180);
	double width = 1.5 + rng_uniform(&r), noise = 6 + 8 * rng_uniform(&r);
	double cr = cos(rot), sr = sin(rot);
	const shape_t *sh = &shapes[label];
	for (int y = 0; y < 32; y++)
		for (int xx = 0; xx < 32; xx++) {
			/* pixel centre in the shape's unit frame */
			double dx = xx + 0.5 - cx, dy = y + 0.5 - cy;
			double ux = (cr * dx + sr * dy) / scale, uy = (-sr * dx + cr * dy) / scale;
			double d = 1e9;
			if (sh->n == 0)
				d = fabs(hypot(ux, uy) - 0.8);
			for (int k = 0; k < sh->n; k++) {
				double dk = seg_dist(ux, uy, sh->s[k]);
				if (dk < d)
					d = dk;
			}
			double cover = clamp01(width / 2 - d * scale + 0.5);
			double grad = gamp * ((xx - 15.5) * cos(gang) + (y - 15.5) * sin(gang)) / 16;
			for (int c = 0; c < 3; c++) {
				double v = (1 - cover) * (bg[c] + grad) + cover * fg[c] + noise * rng_normal(&r);
				x[c * 1024 + y * 32 + xx] = (unsigned char)lrint(v < 0 ? 0 : v > 255 ? 255 : v);
			}
		}
}

/* Label of image i: each run of 10 images is a permutation of the classes. */
static int synth_label(uint64_t seed, uint64_t split, uint64_t i)
{
	rng_t r;
	int perm[10];
	rng_seed(&r, seed, (split << 48) | (1ULL << 47) | (i / 10));
	for (int k = 0; k < 10; k++)
		perm[k] = k;
	for (int k = 9; k > 0; k--) {
		int j = (int)rng_below(&r, k + 1), t = perm[k];
		perm[k] = perm[j];
		perm[j] = t;
	}
	return perm[i % 10];
}

static void synth_write(int split_mask, int64_t count, uint64_t seed)
{
	theader h;
	th_init(&h);
	int nsplits = (split_mask & 1) + ((split_mask >> 1) & 1);
	h.count = count * nsplits;
	th_field(&h, "label", DT_U8, 0);
	th_field(&h, "x", DT_U8, 3, (int64_t)3, (int64_t)32, (int64_t)32);
	th_attr_add(&h, "classes", synth_classes);
	char src[128];
	snprintf(src, sizeof src, "synthetic seed=%" PRIu64 " count=%" PRId64, seed, count);
	th_attr_add(&h, "source", src);
	th_attr_add(&h, "split", split_mask == 3 ? "all" : split_mask == 1 ? "train" : "test");
	th_add_history(&h);
	sout_t *o = sout_open(NULL, &h);
	unsigned char *rec = xmalloc(1 + PIXELS);
	progress_t bar;
	progress_start(&bar, "drawing", (double)h.count);
	int64_t done = 0;
	for (uint64_t split = 0; split < 2; split++) {
		if (!(split_mask & (1 << split)))
			continue;
		for (int64_t i = 0; i < count; i++) {
			rec[0] = (unsigned char)synth_label(seed, split, i);
			synth_image(seed, (split << 48) | (uint64_t)i, rec[0], rec + 1);
			sout_write(o, rec, 1);
			progress_update(&bar, (double)++done);
		}
	}
	progress_end(&bar);
	free(rec);
	sout_close(o);
	th_free(&h);
}

/* --- CIFAR ---------------------------------------------------------------------- */

static void cifar_write(const dataset_t *ds, int split_mask, const char *source, const char *md5)
{
	int is_url = source && strstr(source, "://") != NULL;
	char *path;
	if (source && !is_url) {
		path = xstrdup(source);
		if (access(path, R_OK) != 0)
			die("%s:", path);
	} else {
		/* the cache is keyed by content: the official file under its
		 * own name, a file of another --md5 (a mirror's own copy) under
		 * NAME.md5-HEX, so that neither removes the other */
		char *dir = cache_dir();
		path = xmalloc(strlen(dir) + strlen(ds->file) + 48);
		if (!strcmp(md5, ds->md5))
			sprintf(path, "%s/%s", dir, ds->file);
		else
			sprintf(path, "%s/%s.md5-%s", dir, ds->file, md5);
		free(dir);
		if (access(path, F_OK) != 0) {
			curl_global_init(CURL_GLOBAL_DEFAULT);
			download(is_url ? source : ds->url, path, md5);
			curl_global_cleanup();
		}
	}

	/* the checksum is computed on the other core while this one inflates */
	md5job_t job = {path, "", 0, 0};
	if (pthread_create(&job.thread, NULL, md5_thread, &job) != 0)
		die("cannot start a thread");

	member_t m[10];
	int nm = 0;
	int ntrain = 0, ntest = 0;
	if (split_mask & 1)
		for (; ntrain < 6 && ds->train[ntrain]; ntrain++)
			m[nm++] = (member_t){ds->train[ntrain], NULL, 0, 0};
	if (split_mask & 2)
		for (; ntest < 2 && ds->test[ntest]; ntest++)
			m[nm++] = (member_t){ds->test[ntest], NULL, 0, 0};
	int ndata = nm;
	m[nm++] = (member_t){ds->classes, NULL, 0, 0};
	if (ds->coarse)
		m[nm++] = (member_t){ds->coarse, NULL, 0, 0};
	read_tarball(path, ds, m, nm);

	pthread_join(job.thread, NULL);
	if (job.err) {
		errno = job.err;
		die("%s:", path);
	}
	if (strcmp(job.hex, md5) != 0) {
		if (source && !is_url) {
			warn("warning: %s: MD5 %s is not the official %s; reading it anyway", path, job.hex, md5);
		} else {
			unlink(path);
			die("%s: the cached file's MD5 %s is not %s; removed it, run again to download it afresh", path,
			    job.hex, md5);
		}
	}

	char *classes = label_names(path, ds->dir, &m[ndata], ds->nclasses);
	char *coarse = ds->coarse ? label_names(path, ds->dir, &m[ndata + 1], ds->ncoarse) : NULL;

	/* every record whole and every label in range, before the first byte out */
	int64_t R = ds->labels + PIXELS, total = 0;
	for (int i = 0; i < ndata; i++) {
		if (m[i].size % R)
			die("%s: %s/%s is %zu bytes, not a whole number of %" PRId64 "-byte records", path, ds->dir,
			    m[i].name, m[i].size, R);
		int64_t n = m[i].size / R;
		for (int64_t r = 0; r < n; r++) {
			const unsigned char *rec = m[i].data + r * R;
			int fine = rec[ds->labels - 1];
			if (fine >= ds->nclasses || (ds->coarse && rec[0] >= ds->ncoarse))
				die("%s: %s/%s record %" PRId64 " has label %d, outside the %d classes", path, ds->dir,
				    m[i].name, r, fine >= ds->nclasses ? fine : rec[0],
				    fine >= ds->nclasses ? ds->nclasses : ds->ncoarse);
		}
		total += n;
	}

	theader h;
	th_init(&h);
	h.count = total;
	if (ds->coarse)
		th_field(&h, "coarse", DT_U8, 0);
	th_field(&h, "label", DT_U8, 0);
	th_field(&h, "x", DT_U8, 3, (int64_t)3, (int64_t)32, (int64_t)32);
	th_attr_add(&h, "classes", classes);
	if (coarse)
		th_attr_add(&h, "coarse_classes", coarse);
	th_attr_add(&h, "source", is_url ? source : path);
	th_attr_add(&h, "split", split_mask == 3 ? "all" : split_mask == 1 ? "train" : "test");
	th_add_history(&h);
	sout_t *o = sout_open(NULL, &h);
	for (int i = 0; i < ndata; i++)
		sout_write(o, m[i].data, (int64_t)(m[i].size / R));
	sout_close(o);
	for (int i = 0; i < nm; i++)
		free(m[i].data);
	free(classes);
	free(coarse);
	free(path);
	th_free(&h);
}

/* --- main ------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"split", required_argument, 0, 's'}, {"source", required_argument, 0, 'S'},
		{"md5", required_argument, 0, 'm'}, {"count", required_argument, 0, 'n'},
		{"seed", required_argument, 0, 'r'}, {"quiet", no_argument, 0, 'q'}, {0}};
	static const char *const splits[] = {"train", "test", "all", NULL};
	static const char *const names[] = {"cifar-10", "cifar-100", "synthetic", NULL};
	int split_mask = 1, shaped = 0, c;
	const char *source = NULL, *md5 = NULL;
	int64_t count = 5000;
	uint64_t seed = 1;
	tiny_init(argc, argv, usage_line);
	while ((c = getopt_long(argc, argv, "q", longopts, NULL)) != -1) {
		switch (c) {
		case 's': split_mask = opt_choice("--split", optarg, splits) + 1; break;
		case 'S': source = optarg; break;
		case 'm': md5 = optarg; break;
		case 'n': count = opt_i64("--count", optarg, 0, 100000000), shaped = 1; break;
		case 'r': seed = opt_u64("--seed", optarg), shaped = 1; break;
		case 'q': tiny_quiet = 1; break;
		default: usage();
		}
	}
	if (argc - optind != 1)
		usage();
	int which = opt_choice("data set", argv[optind], names);
	if (md5 && (strlen(md5) != 32 || strspn(md5, "0123456789abcdef") != 32))
		usage_error("--md5 %s: expected 32 lowercase hex digits", md5);
	if (which == 2) {
		if (source || md5)
			usage_error("--source and --md5 apply to cifar-10 and cifar-100 only");
		synth_write(split_mask, count, seed);
	} else {
		if (shaped)
			usage_error("--count and --seed apply to synthetic data only");
		cifar_write(&datasets[which], split_mask, source, md5 ? md5 : datasets[which].md5);
	}
	return 0;
}
