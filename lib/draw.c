/*
 * draw.c - an RGB canvas, shapes and text, and the PNG (libpng), SVG and PDF
 * (cairo) writers, for the stages that draw pictures (tiny-render,
 * tiny-confusion).  See draw.h.
 */
#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>
#include <inttypes.h>
#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "draw.h"
#include "tiny.h"

/* --- canvas -------------------------------------------------------------- */


/* Every picture is bounded before its pixels are allocated. */
void canvas_check_size(int64_t w, int64_t h, const char *what, const char *hint)
{
	if (w > DRAW_MAX_SIDE || h > DRAW_MAX_SIDE || w * h > DRAW_MAX_PIXELS)
		die("%s would be %" PRId64 "x%" PRId64 " pixels, over the limit of %d a side and %d in all (%s)",
		    what, w, h, DRAW_MAX_SIDE, DRAW_MAX_PIXELS, hint);
}

canvas_t canvas_new(int w, int h, rgb_t bg)
{
	canvas_t c = {w, h, xmalloc((size_t)w * h * 3), NULL, 0, 0};
	for (size_t i = 0; i < (size_t)w * h; i++) {
		c.px[3 * i] = bg.r;
		c.px[3 * i + 1] = bg.g;
		c.px[3 * i + 2] = bg.b;
	}
	return c;
}

/* Fill the w x h rectangle at (x, y), clipped to the canvas. */
void draw_fill(canvas_t *c, int x, int y, int w, int h, rgb_t col)
{
	int x1 = x + w, y1 = y + h;
	if (x < 0)
		x = 0;
	if (y < 0)
		y = 0;
	if (x1 > c->w)
		x1 = c->w;
	if (y1 > c->h)
		y1 = c->h;
	for (int j = y; j < y1; j++)
		for (int i = x; i < x1; i++) {
			unsigned char *p = c->px + ((size_t)j * c->w + i) * 3;
			p[0] = col.r;
			p[1] = col.g;
			p[2] = col.b;
		}
}

/* A one-pixel outline just outside the w x h rectangle at (x, y). */
void draw_frame(canvas_t *c, int x, int y, int w, int h, rgb_t col)
{
	draw_fill(c, x - 1, y - 1, w + 2, 1, col);
	draw_fill(c, x - 1, y + h, w + 2, 1, col);
	draw_fill(c, x - 1, y, 1, h, col);
	draw_fill(c, x + w, y, 1, h, col);
}

/* --- shapes drawn at writing: lines and text ---------------------------- */

/* A line from (x0, y0) to (x1, y1) of width t, or the text s with its
 * top-left corner at (x0, y0) in cells of the size scale, running upwards
 * from its bottom-left corner with up. */
struct draw_op {
	enum { OP_LINE, OP_TEXT } kind;
	int x0, y0, x1, y1, t, up;
	rgb_t col;
	char *s;
};

static draw_op_t *op_new(canvas_t *c)
{
	if (c->nops == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 64;
		c->ops = xrealloc(c->ops, (size_t)c->cap * sizeof *c->ops);
	}
	draw_op_t *op = &c->ops[c->nops++];
	memset(op, 0, sizeof *op);
	return op;
}

void canvas_free(canvas_t *c)
{
	for (int i = 0; i < c->nops; i++)
		free(c->ops[i].s);
	free(c->ops);
	free(c->px);
	memset(c, 0, sizeof *c);
}

void canvas_paste(canvas_t *dst, canvas_t *src, int x, int y)
{
	if (x < 0 || y < 0 || x + src->w > dst->w || y + src->h > dst->h)
		die("canvas_paste: a %dx%d picture at (%d, %d) outside %dx%d", src->w, src->h, x, y, dst->w, dst->h);
	for (int j = 0; j < src->h; j++)
		memcpy(dst->px + ((size_t)(y + j) * dst->w + x) * 3, src->px + (size_t)j * src->w * 3,
		       (size_t)src->w * 3);
	for (int i = 0; i < src->nops; i++) {
		draw_op_t *op = op_new(dst);
		*op = src->ops[i];
		op->x0 += x, op->y0 += y, op->x1 += x, op->y1 += y;
		src->ops[i].s = NULL;   /* now dst's */
	}
	canvas_free(src);
}

void draw_line(canvas_t *c, int x0, int y0, int x1, int y1, int t, rgb_t col)
{
	draw_op_t *op = op_new(c);
	op->kind = OP_LINE;
	op->x0 = x0, op->y0 = y0, op->x1 = x1, op->y1 = y1, op->t = t, op->col = col;
}

int draw_text_width(const char *s, int scale)
{
	int n = (int)strlen(s);
	return n ? (n * DRAW_ADVANCE - 1) * scale : 0;
}

int draw_text_height(int scale)
{
	return DRAW_LINE_H * scale;
}

static void text_op(canvas_t *c, int x, int y, const char *s, int scale, rgb_t col, int up)
{
	draw_op_t *op = op_new(c);
	op->kind = OP_TEXT;
	op->x0 = x, op->y0 = y, op->t = scale, op->up = up, op->col = col;
	op->s = xstrdup(s);
	for (char *p = op->s; *p; p++)
		if ((unsigned char)*p < 32 || (unsigned char)*p > 126)
			*p = '?';
}

void draw_text(canvas_t *c, int x, int y, const char *s, int scale, rgb_t col)
{
	text_op(c, x, y, s, scale, col, 0);
}

/* s centred on x, its top at y. */
void draw_text_centred(canvas_t *c, int x, int y, const char *s, int scale, rgb_t col)
{
	text_op(c, x - draw_text_width(s, scale) / 2, y, s, scale, col, 0);
}

/* s running upwards, centred on y, its top edge (the glyphs' tops) at x. */
void draw_text_up_centred(canvas_t *c, int x, int y, const char *s, int scale, rgb_t col)
{
	text_op(c, x, y + draw_text_width(s, scale) / 2, s, scale, col, 1);
}

/* Draw the shapes of c with cairo.  Text: DejaVu Sans Mono (whatever
 * fontconfig gives for it) at 10 pixels an em per unit of scale, whose
 * advance, 0.6 em, is the cells' 6; squeezed sideways where a font's text
 * would be wider than its cells. */
static void draw_ops(cairo_t *cr, const canvas_t *c)
{
	cairo_select_font_face(cr, "DejaVu Sans Mono", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
	cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
	for (int i = 0; i < c->nops; i++) {
		const draw_op_t *op = &c->ops[i];
		cairo_set_source_rgb(cr, op->col.r / 255.0, op->col.g / 255.0, op->col.b / 255.0);
		if (op->kind == OP_LINE) {
			cairo_set_line_width(cr, op->t);
			cairo_move_to(cr, op->x0 + 0.5, op->y0 + 0.5);
			cairo_line_to(cr, op->x1 + 0.5, op->y1 + 0.5);
			cairo_stroke(cr);
			continue;
		}
		double em = 10.0 * op->t, cells = (double)strlen(op->s) * DRAW_ADVANCE * op->t;
		cairo_matrix_t m;
		cairo_matrix_init_scale(&m, em, em);
		cairo_set_font_matrix(cr, &m);
		cairo_text_extents_t e;
		cairo_text_extents(cr, op->s, &e);
		if (e.x_advance > cells && e.x_advance > 0) {
			cairo_matrix_init_scale(&m, em * cells / e.x_advance, em);
			cairo_set_font_matrix(cr, &m);
		}
		cairo_save(cr);
		if (op->up) {   /* (x0, y0) the bottom-left corner, the glyphs' tops towards x0 */
			cairo_translate(cr, op->x0 + DRAW_CAP_H * op->t, op->y0);
			cairo_rotate(cr, -M_PI / 2);
		} else {
			cairo_translate(cr, op->x0, op->y0 + DRAW_CAP_H * op->t);
		}
		cairo_move_to(cr, 0, 0);
		cairo_show_text(cr, op->s);
		cairo_restore(cr);
	}
}

/* --- writers -------------------------------------------------------------- */

/* Every file is built in memory and written to its file in one piece at
 * the end, so a failure anywhere leaves the file (stdout, say) empty.  libpng
 * reports every failure through png_fail, which dies; the two constructors
 * return NULL instead. */
typedef struct {
	unsigned char *buf;
	size_t len, cap;
} membuf_t;

static void mem_append(membuf_t *m, const void *data, size_t n)
{
	if (m->len + n > m->cap) {
		m->cap = 2 * (m->len + n);
		m->buf = xrealloc(m->buf, m->cap);
	}
	memcpy(m->buf + m->len, data, n);
	m->len += n;
}

static void png_fail(png_structp png, png_const_charp msg)
{
	(void)png;
	die("libpng: %s", msg);
}

static void png_warn(png_structp png, png_const_charp msg)
{
	(void)png;
	warn("libpng: %s", msg);
}

static void png_to_mem(png_structp png, png_bytep data, size_t n)
{
	mem_append(png_get_io_ptr(png), data, n);
}

static void png_flush_mem(png_structp png)
{
	(void)png;
}

/* The input's history and this command line, for the PNG's Comment text,
 * so the picture tells how it was made.  Caller frees. */
char *draw_history_text(const theader *in)
{
	theader h;
	th_copy(&h, in);
	th_add_history(&h);
	size_t len = 0;
	char *text = xstrdup("");
	for (int i = 0; i < h.nattrs; i++)
		if (!strcmp(h.attrs[i].key, "history")) {
			size_t n = strlen(h.attrs[i].value);
			text = xrealloc(text, len + n + 2);
			if (len)
				text[len++] = '\n';
			memcpy(text + len, h.attrs[i].value, n + 1);
			len += n;
		}
	th_free(&h);
	return text;
}

/* An 8-bit RGB PNG of the w x h pixels px into m. */
static void png_build(const unsigned char *px, int w, int h, const char *comment, membuf_t *m)
{
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, png_fail, png_warn);
	if (!png)
		die("libpng: cannot start a PNG writer (built with libpng %s, running %s)", PNG_LIBPNG_VER_STRING,
		    png_get_libpng_ver(NULL));
	png_infop info = png_create_info_struct(png);
	if (!info)
		die("libpng: out of memory for the PNG header");
	png_set_write_fn(png, m, png_to_mem, png_flush_mem);
	png_set_IHDR(png, info, w, h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
		     PNG_FILTER_TYPE_DEFAULT);
	/* png_text holds non-const pointers; libpng only reads them */
	char software[] = "Software", comment_key[] = "Comment", *prog = xstrdup(tiny_prog),
	     *note = xstrdup(comment);
	png_text text[2] = {
		{.compression = PNG_TEXT_COMPRESSION_NONE, .key = software, .text = prog},
		{.compression = PNG_TEXT_COMPRESSION_zTXt, .key = comment_key, .text = note},
	};
	png_set_text(png, info, text, 2);
	png_write_info(png, info);
	for (int y = 0; y < h; y++)
		png_write_row(png, px + (size_t)y * w * 3);
	png_write_end(png, info);
	png_destroy_write_struct(&png, &info);
	free(prog);
	free(note);
}

static void cairo_check(cairo_status_t st, const char *what)
{
	if (st != CAIRO_STATUS_SUCCESS)
		die("cairo: %s: %s", what, cairo_status_to_string(st));
}

static cairo_status_t cairo_to_mem(void *m, const unsigned char *data, unsigned int n)
{
	mem_append(m, data, n);
	return CAIRO_STATUS_SUCCESS;
}

/* c's pixels as a cairo image (0x00RRGGBB words) */
static cairo_surface_t *pixel_surface(const canvas_t *c)
{
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, c->w, c->h);
	cairo_check(cairo_surface_status(s), "a surface for the pixels");
	cairo_surface_flush(s);
	unsigned char *data = cairo_image_surface_get_data(s);
	int stride = cairo_image_surface_get_stride(s);
	for (int y = 0; y < c->h; y++) {
		uint32_t *row = (uint32_t *)(data + (size_t)y * stride);
		const unsigned char *p = c->px + (size_t)y * c->w * 3;
		for (int x = 0; x < c->w; x++, p += 3)
			row[x] = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
	}
	cairo_surface_mark_dirty(s);
	return s;
}

/* The pixels with the shapes drawn over them, as RGB bytes (caller frees). */
static unsigned char *flatten(const canvas_t *c)
{
	cairo_surface_t *s = pixel_surface(c);
	cairo_t *cr = cairo_create(s);
	draw_ops(cr, c);
	cairo_check(cairo_status(cr), "drawing the lines and text");
	cairo_destroy(cr);
	cairo_surface_flush(s);
	unsigned char *px = xmalloc((size_t)c->w * c->h * 3), *data = cairo_image_surface_get_data(s);
	int stride = cairo_image_surface_get_stride(s);
	for (int y = 0; y < c->h; y++) {
		const uint32_t *row = (const uint32_t *)(data + (size_t)y * stride);
		unsigned char *p = px + (size_t)y * c->w * 3;
		for (int x = 0; x < c->w; x++, p += 3)
			p[0] = row[x] >> 16 & 255, p[1] = row[x] >> 8 & 255, p[2] = row[x] & 255;
	}
	cairo_surface_destroy(s);
	return px;
}

/* SVG or PDF: the pixels as an image, one pixel a point and never
 * smoothed, the shapes as vectors over it. */
static void vector_build(const canvas_t *c, draw_format_t format, const char *comment, membuf_t *m)
{
	membuf_t body = {NULL, 0, 0};
	cairo_surface_t *v;
	if (format == DRAW_SVG) {
		v = cairo_svg_surface_create_for_stream(cairo_to_mem, &body, c->w, c->h);
		cairo_svg_surface_restrict_to_version(v, CAIRO_SVG_VERSION_1_1);
	} else {
		v = cairo_pdf_surface_create_for_stream(cairo_to_mem, &body, c->w, c->h);
		cairo_pdf_surface_set_metadata(v, CAIRO_PDF_METADATA_CREATOR, tiny_prog);
		cairo_pdf_surface_set_metadata(v, CAIRO_PDF_METADATA_SUBJECT, comment);
		/* cairo dates the file now unless given a date; one it cannot
		 * read (not ISO 8601) leaves the date out */
		cairo_pdf_surface_set_metadata(v, CAIRO_PDF_METADATA_CREATE_DATE, "none");
	}
	cairo_check(cairo_surface_status(v), format == DRAW_SVG ? "an SVG surface" : "a PDF surface");
	cairo_t *cr = cairo_create(v);
	cairo_surface_t *px = pixel_surface(c);
	cairo_set_source_surface(cr, px, 0, 0);
	cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
	cairo_paint(cr);
	draw_ops(cr, c);
	cairo_check(cairo_status(cr), "drawing the picture");
	cairo_destroy(cr);
	cairo_surface_destroy(px);
	cairo_surface_finish(v);
	cairo_check(cairo_surface_status(v), "writing the picture");
	cairo_surface_destroy(v);
	if (format == DRAW_PDF) {
		*m = body;
		return;
	}
	/* sizes in pixels, not cairo's points, and the comment as the
	 * document's <desc> */
	char *svg = xmalloc(body.len + 1), *at;
	memcpy(svg, body.buf, body.len);
	svg[body.len] = 0;
	free(body.buf);
	char pt[64], sz[64];
	snprintf(pt, sizeof pt, "width=\"%dpt\" height=\"%dpt\"", c->w, c->h);
	snprintf(sz, sizeof sz, "width=\"%d\" height=\"%d\"", c->w, c->h);
	if (!(at = strstr(svg, pt)) || !strchr(at, '>'))
		die("cairo: an SVG without the expected <svg %s ...>", pt);
	mem_append(m, svg, (size_t)(at - svg));
	mem_append(m, sz, strlen(sz));
	char *tag_end = strchr(at, '>') + 1;
	mem_append(m, at + strlen(pt), (size_t)(tag_end - at) - strlen(pt));
	mem_append(m, "\n<desc>", 7);
	for (const char *p = comment; *p; p++) {
		const char *e = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;" : NULL;
		mem_append(m, e ? e : p, e ? strlen(e) : 1);
	}
	mem_append(m, "</desc>", 7);
	mem_append(m, tag_end, strlen(tag_end));
	free(svg);
}

void draw_write(const canvas_t *c, draw_format_t format, const char *comment, FILE *fp, const char *name)
{
	membuf_t m = {NULL, 0, 0};
	if (format == DRAW_PNG) {
		unsigned char *px = c->nops ? flatten(c) : c->px;
		png_build(px, c->w, c->h, comment, &m);
		if (px != c->px)
			free(px);
	} else {
		vector_build(c, format, comment, &m);
	}
	xfwrite(m.buf, m.len, fp, name);
	free(m.buf);
}
