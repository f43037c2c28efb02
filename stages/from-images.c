/*
 * tiny-from-images - a labelled stream from a folder of images in class
 * sub-folders: your own images, in the layout CIFAR-10's come in.
 *
 * usage: tiny-from-images [-q] [--size S] [--resize] [--classes A,B,...] DIR
 *
 * DIR holds one sub-folder per class (DIR/cat/0001.png, DIR/dog/x.jpg, ...);
 * the classes are the sub-folders' names in byte order (or those --classes
 * names, in its order: label 0, 1, ...), and within a class the images come
 * in the byte order of their file names, so the same folder always gives the
 * same stream.  A file whose name ends in .png, .jpg or .jpeg (any case) is
 * decoded by libpng or libjpeg; names starting with '.' are ignored, and
 * other files are counted and reported on stderr.  Grey images become three
 * equal channels, an alpha channel is dropped (PNG: composited on black),
 * 16-bit PNG samples are scaled to 8 bits.
 *
 * Every image must be S x S pixels (default 32): one that is not is an
 * error naming the file and its size, unless --resize, which scales it to S
 * x S (the aspect ratio is not kept): separably, each output sample the
 * average of the input under a tent filter as wide as the scale (a plain
 * linear interpolation when enlarging, an area-weighted average when
 * shrinking, as PIL's BILINEAR resize does).
 *
 * Output: count N (every file is found before the first byte is written),
 * label u8 [], x u8 [3,S,S] (the planes red, green, blue, rows top to bottom,
 * as tiny-fetch writes CIFAR-10), attributes classes (the names; one with a
 * space or a control character is refused) and source.  At most 256
 * classes.  A file that fails to decode stops the stage naming it; what was
 * written before is then a truncated stream, which every reader refuses.
 */
#include <ctype.h>
#include <dirent.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
/* after stdio.h: it uses FILE */
#include <jpeglib.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "tiny.h"

static const char *usage_line = "tiny-from-images [-q] [--size S] [--resize] [--classes A,B,...] DIR";

typedef struct {
	char *path;
	int label;
} item_t;

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_item(const void *a, const void *b)
{
	const item_t *x = a, *y = b;
	return x->label != y->label ? x->label - y->label : strcmp(x->path, y->path);
}

static int is_image(const char *name)
{
	const char *dot = strrchr(name, '.');
	return dot && (!strcasecmp(dot, ".png") || !strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg"));
}

/* The names in dir (not starting with '.'), sorted; dirs_only: sub-folders. */
static char **list_dir(const char *dir, int dirs_only, int *n)
{
	DIR *d = opendir(dir);
	if (!d)
		die("%s:", dir);
	char **names = NULL;
	int cap = 0;
	*n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char *p = xmalloc(strlen(dir) + strlen(e->d_name) + 2);
		sprintf(p, "%s/%s", dir, e->d_name);
		struct stat st;
		int isdir = stat(p, &st) == 0 && S_ISDIR(st.st_mode);
		free(p);
		if (dirs_only != isdir)
			continue;
		if (*n == cap)
			names = xrealloc(names, (size_t)(cap = cap ? 2 * cap : 64) * sizeof *names);
		names[(*n)++] = xstrdup(e->d_name);
	}
	closedir(d);
	qsort(names, (size_t)*n, sizeof *names, cmp_str);
	return names;
}

/* --- decoding: RGB, 8 bits, row-major (h, w, 3) ----------------------------------- */

static unsigned char *read_png(const char *path, int *w, int *h)
{
	png_image im;
	memset(&im, 0, sizeof im);
	im.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_file(&im, path))
		die("%s: not a PNG libpng can read (%s)", path, im.message);
	im.format = PNG_FORMAT_RGB;
	if (im.width > 1 << 15 || im.height > 1 << 15)
		die("%s: %ux%u pixels, more than this stage takes (32768 a side)", path, im.width, im.height);
	unsigned char *px = xmalloc(PNG_IMAGE_SIZE(im));
	png_color black = {0, 0, 0};
	if (!png_image_finish_read(&im, &black, px, 0, NULL))
		die("%s: a broken PNG (%s)", path, im.message);
	*w = (int)im.width, *h = (int)im.height;
	return px;
}

struct jerr {
	struct jpeg_error_mgr mgr;
	jmp_buf jump;
	char msg[JMSG_LENGTH_MAX];
};

static void jpeg_fail(j_common_ptr c)
{
	struct jerr *e = (struct jerr *)c->err;
	e->mgr.format_message(c, e->msg);
	longjmp(e->jump, 1);
}

static void jpeg_quiet(j_common_ptr c, int level)
{
	(void)c, (void)level;   /* warnings (a corrupt but decodable file) are not shown */
}

static unsigned char *read_jpeg(const char *path, int *w, int *h)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		die("%s:", path);
	struct jpeg_decompress_struct c;
	struct jerr e;
	unsigned char *volatile px = NULL;
	c.err = jpeg_std_error(&e.mgr);
	e.mgr.error_exit = jpeg_fail;
	e.mgr.emit_message = jpeg_quiet;
	if (setjmp(e.jump)) {
		jpeg_destroy_decompress(&c);
		fclose(f);
		die("%s: a broken JPEG (%s)", path, e.msg);
	}
	jpeg_create_decompress(&c);
	jpeg_stdio_src(&c, f);
	jpeg_read_header(&c, TRUE);
	if (c.image_width > 1 << 15 || c.image_height > 1 << 15)
		die("%s: %ux%u pixels, more than this stage takes (32768 a side)", path, c.image_width, c.image_height);
	c.out_color_space = JCS_RGB;
	jpeg_start_decompress(&c);
	*w = (int)c.output_width, *h = (int)c.output_height;
	px = xmalloc((size_t)*w * (size_t)*h * 3);
	while (c.output_scanline < c.output_height) {
		JSAMPROW row = px + (size_t)c.output_scanline * (size_t)*w * 3;
		jpeg_read_scanlines(&c, &row, 1);
	}
	jpeg_finish_decompress(&c);
	jpeg_destroy_decompress(&c);
	fclose(f);
	return px;
}

/* --- resizing: separable tent filter ----------------------------------------------- */

/* One axis: out[o] = sum_i in[i] k((i + .5 - centre) / support), normalised;
 * n values in at stride si, m out at stride so, for `lines` lines. */
static void resample_axis(const float *in, int n, int si, float *out, int m, int so, int lines, int lstride_in,
			  int lstride_out)
{
	double scale = (double)n / m, support = scale > 1 ? scale : 1;
	for (int o = 0; o < m; o++) {
		double centre = (o + 0.5) * scale;
		int lo = (int)floor(centre - support), hi = (int)ceil(centre + support);
		lo = lo < 0 ? 0 : lo, hi = hi > n ? n : hi;
		double wsum = 0, wts[hi - lo + 1];
		for (int i = lo; i < hi; i++) {
			double t = fabs((i + 0.5 - centre) / support);
			wts[i - lo] = t < 1 ? 1 - t : 0;
			wsum += wts[i - lo];
		}
		for (int l = 0; l < lines; l++) {
			double acc = 0;
			for (int i = lo; i < hi; i++)
				acc += wts[i - lo] * in[l * lstride_in + i * si];
			out[l * lstride_out + o * so] = (float)(wsum > 0 ? acc / wsum : 0);
		}
	}
}

/* (h, w, 3) bytes to (3, S, S) bytes: the planes, scaled if need be. */
static void to_planes(const unsigned char *px, int w, int h, int S, unsigned char *x)
{
	if (w == S && h == S) {
		for (int c = 0; c < 3; c++)
			for (int i = 0; i < S * S; i++)
				x[c * S * S + i] = px[i * 3 + c];
		return;
	}
	float *a = xmalloc((size_t)w * h * sizeof *a), *b = xmalloc((size_t)S * h * sizeof *b),
	      *o = xmalloc((size_t)S * S * sizeof *o);
	for (int c = 0; c < 3; c++) {
		for (int i = 0; i < w * h; i++)
			a[i] = px[i * 3 + c];
		resample_axis(a, w, 1, b, S, 1, h, w, S);   /* rows: (h, w) -> (h, S) */
		resample_axis(b, h, S, o, S, S, S, 1, 1);   /* columns: (h, S) -> (S, S) */
		for (int i = 0; i < S * S; i++) {
			float v = roundf(o[i]);
			x[c * S * S + i] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
		}
	}
	free(a), free(b), free(o);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {{"size", required_argument, 0, 's'}, {"resize", no_argument, 0, 'r'},
						  {"classes", required_argument, 0, 'c'}, {"quiet", no_argument, 0, 'q'},
						  {0}};
	int64_t S = 32;
	int resize = 0, c;
	const char *classes_arg = NULL;
	tiny_init(argc, argv, usage_line);
	while ((c = getopt_long(argc, argv, "q", longopts, NULL)) != -1) {
		switch (c) {
		case 's': S = opt_i64("--size", optarg, 1, 4096); break;
		case 'r': resize = 1; break;
		case 'c': classes_arg = optarg; break;
		case 'q': tiny_quiet = 1; break;
		default: usage();
		}
	}
	if (argc - optind != 1)
		usage_error("expected one folder DIR");
	const char *dir = argv[optind];
	size_t dl = strlen(dir);
	char *root = xstrdup(dir);
	while (dl > 1 && root[dl - 1] == '/')
		root[--dl] = 0;

	/* the classes, then every file: all found before the first byte */
	int nc;
	char **cls;
	if (classes_arg) {
		nc = opt_list(classes_arg, &cls);
		if (nc == 0)
			usage_error("--classes %s: expected folder names", classes_arg);
	} else
		cls = list_dir(root, 1, &nc);
	if (nc == 0)
		die("%s: no class sub-folders (expected DIR/CLASS/IMAGE.png or .jpg)", root);
	if (nc > 256)
		die("%s: %d classes; labels are u8, so at most 256", root, nc);
	item_t *items = NULL;
	int64_t n = 0, cap = 0, skipped = 0;
	for (int k = 0; k < nc; k++) {
		for (const char *p = cls[k]; *p; p++)
			if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p))
				die("%s/%s: a class name with a space or control character cannot be an attribute word; "
				    "rename the folder", root, cls[k]);
		char *sub = xmalloc(dl + strlen(cls[k]) + 2);
		sprintf(sub, "%s/%s", root, cls[k]);
		int nf;
		char **files = list_dir(sub, 0, &nf);
		for (int i = 0; i < nf; i++) {
			if (!is_image(files[i])) {
				skipped++;
				free(files[i]);
				continue;
			}
			if (n == cap)
				items = xrealloc(items, (size_t)(cap = cap ? 2 * cap : 1024) * sizeof *items);
			items[n].path = xmalloc(strlen(sub) + strlen(files[i]) + 2);
			sprintf(items[n].path, "%s/%s", sub, files[i]);
			items[n++].label = k;
			free(files[i]);
		}
		free(files);
		free(sub);
	}
	if (n == 0)
		die("%s: no .png, .jpg or .jpeg files in its class folders", root);
	qsort(items, (size_t)n, sizeof *items, cmp_item);
	if (skipped && !tiny_quiet)
		fprintf(stderr, "%s: %" PRId64 " files that are not .png, .jpg or .jpeg left out\n", tiny_prog, skipped);

	theader h;
	th_init(&h);
	h.count = n;
	th_field(&h, "label", DT_U8, 0);
	th_field(&h, "x", DT_U8, 3, (int64_t)3, S, S);
	char *names = xmalloc((size_t)nc * (TINY_NAME_MAX + 256));
	names[0] = 0;
	for (int k = 0; k < nc; k++)
		sprintf(names + strlen(names), "%s%s", k ? " " : "", cls[k]);
	th_attr_set(&h, "classes", names);
	th_attr_setf(&h, "source", "folder %s", root);
	th_add_history(&h);

	int64_t R = h.recsize;
	unsigned char *rec = xmalloc((size_t)R);
	sout_t *o = sout_open(NULL, &h);
	progress_t bar;
	progress_start(&bar, "images", (double)n);
	for (int64_t i = 0; i < n; i++) {
		int w, hh;
		const char *dot = strrchr(items[i].path, '.');
		unsigned char *px = !strcasecmp(dot, ".png") ? read_png(items[i].path, &w, &hh)
							      : read_jpeg(items[i].path, &w, &hh);
		if ((w != S || hh != S) && !resize)
			die("%s: %dx%d pixels, not %" PRId64 "x%" PRId64 " (--resize scales it)", items[i].path, w, hh, S,
			    S);
		rec[0] = (unsigned char)items[i].label;
		to_planes(px, w, hh, (int)S, rec + 1);
		sout_write(o, rec, 1);
		free(px);
		progress_update(&bar, (double)(i + 1));
	}
	progress_end(&bar);
	sout_close(o);
	for (int64_t i = 0; i < n; i++)
		free(items[i].path);
	free(items), free(rec), free(names), free(root);
	th_free(&h);
	return 0;
}
