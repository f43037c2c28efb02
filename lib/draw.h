/*
 * draw.h - pictures for a person to look at: an RGB canvas, filled and
 * outlined rectangles, lines and text, written as PNG, SVG or PDF.  Used by
 * tiny-render and tiny-confusion.
 *
 * Modules (prefix: what it does):
 *   canvas_*   an RGB canvas, bounded before its pixels are allocated
 *   draw_*     rectangles, lines and text on a canvas; the writers
 *
 * Coordinates are pixels, x to the right, y down, (0, 0) the top-left
 * corner; everything drawn is clipped to the canvas.
 *
 * Two layers.  Rectangles (draw_fill, draw_frame: image cells, grid lines,
 * axes) go straight into the pixels.  Lines and text are kept as shapes
 * (canvas_t.ops) and drawn over the pixels by cairo when the picture is
 * written: antialiased, in a real font (DejaVu Sans Mono, fitted to the
 * layout's character cells), and as vectors in SVG and PDF, where the pixel
 * layer is an image under them, one pixel to a point, never smoothed.
 */
#ifndef TINY_DRAW_H
#define TINY_DRAW_H

#include <stdint.h>
#include <stdio.h>

#include "tiny.h"

/* --- canvas -------------------------------------------------------------- */

#define DRAW_MAX_SIDE    32767       /* pixels, either side of a picture (cairo's limit) */
#define DRAW_MAX_PIXELS  (1 << 26)   /* pixels in a picture (192 MiB of RGB) */

typedef struct {
	unsigned char r, g, b;
} rgb_t;

typedef struct draw_op draw_op_t;

/* px is (h, w, 3) RGB bytes, row-major, top row first; ops the lines and
 * text drawn over them (nops of cap). */
typedef struct {
	int w, h;
	unsigned char *px;
	draw_op_t *ops;
	int nops, cap;
} canvas_t;

/* Die with "WHAT would be WxH pixels, over the limit ... (HINT)" if a
 * w x h picture is over DRAW_MAX_SIDE a side or DRAW_MAX_PIXELS in all. */
void canvas_check_size(int64_t w, int64_t h, const char *what, const char *hint);
/* A w x h canvas filled with bg; canvas_free releases it. */
canvas_t canvas_new(int w, int h, rgb_t bg);
void canvas_free(canvas_t *c);
/* src's pixels and shapes into dst with src's top-left corner at (x, y),
 * which must leave src inside dst; src is freed. */
void canvas_paste(canvas_t *dst, canvas_t *src, int x, int y);

/* --- shapes -------------------------------------------------------------- */

/* Fill the w x h rectangle at (x, y), clipped to the canvas. */
void draw_fill(canvas_t *c, int x, int y, int w, int h, rgb_t col);
/* A one-pixel outline just outside the w x h rectangle at (x, y). */
void draw_frame(canvas_t *c, int x, int y, int w, int h, rgb_t col);
/* A line t pixels wide from the centre of pixel (x0, y0) to that of (x1,
 * y1), with round ends. */
void draw_line(canvas_t *c, int x0, int y0, int x1, int y1, int t, rgb_t col);

/* --- text ---------------------------------------------------------------- */

/* Text is laid out in character cells: a character advances DRAW_ADVANCE
 * pixels, a line is DRAW_LINE_H pixels high, capitals and digits fill its
 * top DRAW_CAP_H (the baseline), descenders the rest; every size is
 * multiplied by scale.  The font is fitted to the cells, so a layout made
 * with these sizes holds whatever font draws it. */
#define DRAW_ADVANCE 6
#define DRAW_LINE_H 8
#define DRAW_CAP_H 7

int draw_text_width(const char *s, int scale);
int draw_text_height(int scale);
/* s with its top-left corner at (x, y).  Bytes outside ASCII show as '?'. */
void draw_text(canvas_t *c, int x, int y, const char *s, int scale, rgb_t col);
/* s centred on x, its top at y. */
void draw_text_centred(canvas_t *c, int x, int y, const char *s, int scale, rgb_t col);
/* s running upwards, centred on y, its top edge (the glyphs' tops) at x. */
void draw_text_up_centred(canvas_t *c, int x, int y, const char *s, int scale, rgb_t col);

/* --- writers -------------------------------------------------------------- */

typedef enum { DRAW_PNG, DRAW_SVG, DRAW_PDF } draw_format_t;

/* The input's history and this command line, one per line, for a
 * picture's comment, so the picture tells how it was made.  Caller frees. */
char *draw_history_text(const theader *in);
/* Write c to fp (`name` for messages) as
 *   DRAW_PNG  an 8-bit RGB PNG with the text chunks Software (tiny_prog)
 *             and Comment;
 *   DRAW_SVG  an SVG 1.1 document of w x h pixels, the comment an XML
 *             comment after the declaration ("--" written "- -");
 *   DRAW_PDF  a one-page PDF of w x h points, tiny_prog its Creator and the
 *             comment its Subject, with no creation date (so the same input
 *             makes the same bytes).
 * The file is built in memory and written in one piece, so a failure (which
 * dies) leaves fp untouched. */
void draw_write(const canvas_t *c, draw_format_t format, const char *comment, FILE *fp, const char *name);

#endif
