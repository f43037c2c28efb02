/*
 * draw.h - pictures for a person to look at: an RGB canvas, filled and
 * outlined rectangles, lines, text in a 5x7 bitmap font, and PNG output
 * (libpng).  Used by tiny-render and tiny-confusion.
 *
 * Modules (prefix: what it does):
 *   canvas_*   an RGB canvas, bounded before its pixels are allocated
 *   draw_*     rectangles, lines and text on a canvas; the PNG writer
 *
 * Coordinates are pixels, x to the right, y down, (0, 0) the top-left
 * corner; everything drawn is clipped to the canvas.
 */
#ifndef TINY_DRAW_H
#define TINY_DRAW_H

#include <stdint.h>
#include <stdio.h>

#include "tiny.h"

/* --- canvas -------------------------------------------------------------- */

#define DRAW_MAX_SIDE    32768       /* pixels, either side of a picture */
#define DRAW_MAX_PIXELS  (1 << 26)   /* pixels in a picture (192 MiB of RGB) */

typedef struct {
	unsigned char r, g, b;
} rgb_t;

/* px is (h, w, 3) RGB bytes, row-major, top row first. */
typedef struct {
	int w, h;
	unsigned char *px;
} canvas_t;

/* Die with "WHAT would be WxH pixels, over the limit ... (HINT)" if a
 * w x h picture is over DRAW_MAX_SIDE a side or DRAW_MAX_PIXELS in all. */
void canvas_check_size(int64_t w, int64_t h, const char *what, const char *hint);
/* A w x h canvas filled with bg; free(c.px) releases it. */
canvas_t canvas_new(int w, int h, rgb_t bg);

/* --- shapes -------------------------------------------------------------- */

/* Fill the w x h rectangle at (x, y), clipped to the canvas. */
void draw_fill(canvas_t *c, int x, int y, int w, int h, rgb_t col);
/* A one-pixel outline just outside the w x h rectangle at (x, y). */
void draw_frame(canvas_t *c, int x, int y, int w, int h, rgb_t col);
/* Bresenham's line from (x0, y0) to (x1, y1), drawn with a t x t pen. */
void draw_line(canvas_t *c, int x0, int y0, int x1, int y1, int t, rgb_t col);

/* --- text ---------------------------------------------------------------- */

/* The font: ASCII 32..126 in cells of DRAW_GLYPH_W x DRAW_GLYPH_H pixels
 * (7 rows for capitals and digits, one more for descenders); a character
 * advances DRAW_ADVANCE pixels.  Every size is multiplied by scale. */
#define DRAW_GLYPH_W 5
#define DRAW_GLYPH_H 8
#define DRAW_ADVANCE 6

int draw_text_width(const char *s, int scale);
int draw_text_height(int scale);
/* s with its top-left corner at (x, y), each font pixel a scale x scale
 * square.  Bytes outside ASCII show as '?'. */
void draw_text(canvas_t *c, int x, int y, const char *s, int scale, rgb_t col);
/* s centred on x, its top at y. */
void draw_text_centred(canvas_t *c, int x, int y, const char *s, int scale, rgb_t col);
/* s running upwards, centred on y, its top edge (the glyphs' tops) at x. */
void draw_text_up_centred(canvas_t *c, int x, int y, const char *s, int scale, rgb_t col);

/* --- PNG ----------------------------------------------------------------- */

/* The input's history and this command line, one per line, for a PNG's
 * Comment text, so the picture tells how it was made.  Caller frees. */
char *draw_history_text(const theader *in);
/* Write c as an 8-bit RGB PNG to fp (`name` for messages), with the text
 * chunks Software (tiny_prog) and Comment.  The PNG is built in memory and
 * written in one piece, so a failure (which dies) leaves fp untouched. */
void draw_write_png(const canvas_t *c, const char *comment, FILE *fp, const char *name);

#endif
