/*
 * Raster plots: the canvas and its primitives, tick selection, and the chart
 * functions declared in report/plot.h. The glyphs live in report/font.c.
 */
#include "report/plot.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/image.h"

/* Colors of the chart furniture. */
enum {
    COLOR_WHITE = 0xFFFFFF,
    COLOR_TEXT = 0x202020,
    COLOR_AXIS = 0x404040,
    COLOR_GRID = 0xE4E4E4,
    COLOR_MUTED = 0x808080,    /* "no data" note, missing bars */
    COLOR_DIAGONAL = 0x9A9A9A, /* chance diagonal of ROC plots */
    COLOR_LEGEND_EDGE = 0xC8C8C8,
    COLOR_NONFINITE = 0xFF00FF, /* NaN and infinite image pixels */
};

/* ------------------------------------------------------------------------ */
/* Canvas                                                                    */
/* ------------------------------------------------------------------------ */

struct iae_canvas {
    int w, h;
    uint8_t *rgb;                           /* (H, W, 3) */
    int clip_x0, clip_y0, clip_x1, clip_y1; /* drawable pixels, inclusive */
};

iae_status iae_canvas_create(iae_ctx *ctx, int width, int height, iae_canvas **out) {
    *out = NULL;
    if (width < 1 || height < 1 || width > IAE_IMAGE_MAX_SIDE || height > IAE_IMAGE_MAX_SIDE ||
        (long)width * height > IAE_IMAGE_MAX_PIXELS)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "invalid canvas size %d x %d pixels (width x height); expected 1 to %d "
                        "per side and at most %ld pixels",
                        width, height, IAE_IMAGE_MAX_SIDE, IAE_IMAGE_MAX_PIXELS);
    iae_canvas *c = iae_alloc(ctx, sizeof(*c), "a canvas");
    if (c == NULL) return IAE_ERR_NOMEM;
    c->rgb = iae_alloc(ctx, (size_t)width * height * 3, "canvas pixels");
    if (c->rgb == NULL) {
        iae_free(c);
        return IAE_ERR_NOMEM;
    }
    memset(c->rgb, 0xFF, (size_t)width * height * 3);
    c->w = width;
    c->h = height;
    c->clip_x1 = width - 1;
    c->clip_y1 = height - 1;
    *out = c;
    return IAE_OK;
}

void iae_canvas_free(iae_canvas *c) {
    if (c == NULL) return;
    iae_free(c->rgb);
    iae_free(c);
}

int iae_canvas_width(const iae_canvas *c) { return c->w; }

int iae_canvas_height(const iae_canvas *c) { return c->h; }

uint32_t iae_canvas_pixel(const iae_canvas *c, int x, int y) {
    if (x < 0 || y < 0 || x >= c->w || y >= c->h) return 0xFFFFFFFFu;
    const uint8_t *p = c->rgb + ((size_t)y * c->w + x) * 3;
    return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

iae_status iae_canvas_save_png(iae_ctx *ctx, const iae_canvas *c, const char *path) {
    if (path == NULL) return iae_fail(ctx, IAE_ERR_ARGUMENT, "cannot save a canvas: path is NULL");
    iae_image img = {.h = c->h, .w = c->w, .c = 3, .data = c->rgb};
    return iae_image_write_png(ctx, path, &img);
}

/* Restrict drawing to the pixels x0..x1, y0..y1 (inclusive, clamped to the
 * canvas). */
static void set_clip(iae_canvas *c, int x0, int y0, int x1, int y1) {
    c->clip_x0 = x0 < 0 ? 0 : x0;
    c->clip_y0 = y0 < 0 ? 0 : y0;
    c->clip_x1 = x1 >= c->w ? c->w - 1 : x1;
    c->clip_y1 = y1 >= c->h ? c->h - 1 : y1;
}

static void reset_clip(iae_canvas *c) { set_clip(c, 0, 0, c->w - 1, c->h - 1); }

/* Blend rgb over pixel (x, y), which must lie inside the clip, with weight
 * alpha in 0..1. */
static void blend_pixel(iae_canvas *c, long x, long y, uint32_t rgb, double alpha) {
    uint8_t *p = c->rgb + ((size_t)y * c->w + (size_t)x) * 3;
    const int channel[3] = {(int)(rgb >> 16 & 0xFF), (int)(rgb >> 8 & 0xFF), (int)(rgb & 0xFF)};
    if (alpha >= 1.0) {
        for (int k = 0; k < 3; k++) p[k] = (uint8_t)channel[k];
        return;
    }
    for (int k = 0; k < 3; k++) p[k] = (uint8_t)lrint(p[k] + (channel[k] - p[k]) * alpha);
}

/* Blend rgb with weight alpha over the w x h rectangle at (x, y), clipped. */
static void fill_rect_alpha(iae_canvas *c, long x, long y, long w, long h, uint32_t rgb,
                            double alpha) {
    long x0 = x > c->clip_x0 ? x : c->clip_x0;
    long y0 = y > c->clip_y0 ? y : c->clip_y0;
    long x1 = x + w - 1 < c->clip_x1 ? x + w - 1 : c->clip_x1;
    long y1 = y + h - 1 < c->clip_y1 ? y + h - 1 : c->clip_y1;
    for (long yy = y0; yy <= y1; yy++)
        for (long xx = x0; xx <= x1; xx++) blend_pixel(c, xx, yy, rgb, alpha);
}

void iae_canvas_rect(iae_canvas *c, int x, int y, int w, int h, uint32_t rgb, int filled) {
    if (w < 1 || h < 1) return;
    if (filled) {
        fill_rect_alpha(c, x, y, w, h, rgb, 1.0);
        return;
    }
    fill_rect_alpha(c, x, y, w, 1, rgb, 1.0);
    fill_rect_alpha(c, x, (long)y + h - 1, w, 1, rgb, 1.0);
    fill_rect_alpha(c, x, y, 1, h, rgb, 1.0);
    fill_rect_alpha(c, (long)x + w - 1, y, 1, h, rgb, 1.0);
}

/* ------------------------------------------------------------------------ */
/* Anti-aliased strokes                                                      */
/* ------------------------------------------------------------------------ */

/* Receives the coverage (0..1] of pixel (x, y), which lies inside the clip. */
typedef void (*coverage_fn)(void *user, long x, long y, double coverage);

/* Clip the segment to the rectangle [xmin, xmax] x [ymin, ymax]
 * (Liang-Barsky). Stores the kept part as parameters t0 <= t1 in 0..1 and
 * returns 0 when nothing is left. */
static int clip_segment(double x0, double y0, double x1, double y1, double xmin, double ymin,
                        double xmax, double ymax, double *t0, double *t1) {
    double dx = x1 - x0, dy = y1 - y0;
    double p[4] = {-dx, dx, -dy, dy};
    double q[4] = {x0 - xmin, xmax - x0, y0 - ymin, ymax - y0};
    double lo = 0.0, hi = 1.0;
    for (int i = 0; i < 4; i++) {
        if (p[i] == 0.0) {
            if (q[i] < 0) return 0;
            continue;
        }
        double r = q[i] / p[i];
        if (p[i] < 0) {
            if (r > lo) lo = r;
        } else if (r < hi) {
            hi = r;
        }
    }
    if (lo > hi) return 0;
    *t0 = lo;
    *t1 = hi;
    return 1;
}

/* Report the coverage of every pixel within radius + 0.5 of the segment
 * (x0, y0)-(x1, y1): clamp(radius + 0.5 - distance, 0, 1). Each row is
 * scanned only over the x interval where the band around the segment can
 * reach, so the cost follows the stroke's area, not its bounding box. */
static void rasterize_segment(const iae_canvas *c, double x0, double y0, double x1, double y1,
                              double radius, coverage_fn plot, void *user) {
    if (!isfinite(x0) || !isfinite(y0) || !isfinite(x1) || !isfinite(y1)) return;
    if (!isfinite(x1 - x0) || !isfinite(y1 - y0)) return;
    double reach = radius + 1.0;

    /* Cut the segment to the clip widened by its reach, so far-away
     * endpoints cost nothing and every coordinate below is small. */
    double t0, t1;
    if (!clip_segment(x0, y0, x1, y1, c->clip_x0 - reach, c->clip_y0 - reach, c->clip_x1 + reach,
                      c->clip_y1 + reach, &t0, &t1))
        return;
    double ax = x0 + (x1 - x0) * t0, ay = y0 + (y1 - y0) * t0;
    double bx = x0 + (x1 - x0) * t1, by = y0 + (y1 - y0) * t1;

    double dx = bx - ax, dy = by - ay;
    double length = sqrt(dx * dx + dy * dy);
    double ux = length > 1e-12 ? dx / length : 1.0;
    double uy = length > 1e-12 ? dy / length : 0.0;

    long row0 = (long)floor(fmin(ay, by) - reach), row1 = (long)ceil(fmax(ay, by) + reach);
    if (row0 < c->clip_y0) row0 = c->clip_y0;
    if (row1 > c->clip_y1) row1 = c->clip_y1;
    for (long y = row0; y <= row1; y++) {
        double ry = (double)y - ay;
        double lo = -DBL_MAX, hi = DBL_MAX;
        /* Within the band |cross(p - a, u)| <= reach around the line. */
        if (fabs(uy) > 1e-12) {
            double e0 = ax + (ry * ux - reach) / uy, e1 = ax + (ry * ux + reach) / uy;
            lo = fmax(lo, fmin(e0, e1));
            hi = fmin(hi, fmax(e0, e1));
        } else if (fabs(ry) > reach) {
            continue;
        }
        /* Within -reach <= dot(p - a, u) <= length + reach along it. */
        if (fabs(ux) > 1e-12) {
            double e0 = ax + (-reach - ry * uy) / ux, e1 = ax + (length + reach - ry * uy) / ux;
            lo = fmax(lo, fmin(e0, e1));
            hi = fmin(hi, fmax(e0, e1));
        } else if (ry * uy < -reach || ry * uy > length + reach) {
            continue;
        }
        long col0 = lo < c->clip_x0 ? c->clip_x0 : (long)floor(lo);
        long col1 = hi > c->clip_x1 ? c->clip_x1 : (long)ceil(hi);
        if (col0 < c->clip_x0) col0 = c->clip_x0;
        for (long x = col0; x <= col1; x++) {
            double px = (double)x - ax;
            double along = px * ux + ry * uy;
            if (along < 0) along = 0;
            if (along > length) along = length;
            double ex = px - along * ux, ey = ry - along * uy;
            double cover = radius + 0.5 - sqrt(ex * ex + ey * ey);
            if (cover <= 0) continue;
            plot(user, x, y, cover > 1 ? 1 : cover);
        }
    }
}

typedef struct {
    iae_canvas *canvas;
    uint32_t rgb;
} direct_target;

static void plot_direct(void *user, long x, long y, double coverage) {
    direct_target *t = user;
    blend_pixel(t->canvas, x, y, t->rgb, coverage);
}

void iae_canvas_line(iae_canvas *c, double x0, double y0, double x1, double y1, uint32_t rgb,
                     int thickness) {
    direct_target target = {c, rgb};
    double radius = thickness < 1 ? 0.5 : thickness / 2.0;
    rasterize_segment(c, x0, y0, x1, y1, radius, plot_direct, &target);
}

/* A coverage layer for strokes made of many segments. Overlapping segments
 * keep the maximum coverage per pixel, and the layer is blended onto the
 * canvas once, so joints are not darkened by repeated blending. */
typedef struct {
    iae_canvas *canvas;
    uint8_t *coverage;   /* (H, W), 0..255 */
    long x0, y0, x1, y1; /* bounding box of touched pixels, x0 > x1 when none */
} stroke_layer;

static void plot_layer(void *user, long x, long y, double coverage) {
    stroke_layer *l = user;
    uint8_t *p = l->coverage + (size_t)y * l->canvas->w + (size_t)x;
    uint8_t v = (uint8_t)lrint(coverage * 255);
    if (v > *p) *p = v;
    if (x < l->x0) l->x0 = x;
    if (x > l->x1) l->x1 = x;
    if (y < l->y0) l->y0 = y;
    if (y > l->y1) l->y1 = y;
}

static void layer_reset_box(stroke_layer *l) {
    l->x0 = l->y0 = LONG_MAX;
    l->x1 = l->y1 = LONG_MIN;
}

static iae_status layer_init(iae_ctx *ctx, stroke_layer *l, iae_canvas *c) {
    l->canvas = c;
    l->coverage = iae_alloc(ctx, (size_t)c->w * c->h, "a stroke coverage layer");
    layer_reset_box(l);
    return l->coverage == NULL ? IAE_ERR_NOMEM : IAE_OK;
}

/* Blend the layer onto the canvas in rgb with weight alpha x coverage and
 * clear it. */
static void layer_flush(stroke_layer *l, uint32_t rgb, double alpha) {
    for (long y = l->y0; y <= l->y1; y++) {
        uint8_t *row = l->coverage + (size_t)y * l->canvas->w;
        for (long x = l->x0; x <= l->x1; x++) {
            if (row[x] == 0) continue;
            blend_pixel(l->canvas, x, y, rgb, alpha * row[x] / 255.0);
            row[x] = 0;
        }
    }
    layer_reset_box(l);
}

/* ------------------------------------------------------------------------ */
/* Dashed polylines and markers                                              */
/* ------------------------------------------------------------------------ */

enum { STYLE_SOLID, STYLE_DASHED, STYLE_DOTTED };
enum { PATCH_NONE, PATCH_TRANSLUCENT, PATCH_OPAQUE };
enum { MARKER_NONE, MARKER_CIRCLE, MARKER_SQUARE, MARKER_DIAMOND };

/* Dash patterns in pixels along the line: lengths drawn, then skipped. The
 * round caps add the stroke radius at both ends of every dash. */
static const double dash_pattern[3][2] = {{0, 0}, {8, 6}, {0.01, 5}};

typedef struct {
    int style;
    int index;   /* 0 while drawing a dash, 1 while in a gap */
    double left; /* pixels left in the current dash or gap */
} dash_state;

static void dash_start(dash_state *d, int style) {
    d->style = style;
    d->index = 0;
    d->left = dash_pattern[style][0];
}

static void dash_advance(dash_state *d, double distance) {
    double period = dash_pattern[d->style][0] + dash_pattern[d->style][1];
    if (d->style == STYLE_SOLID || !isfinite(distance)) return;
    distance = fmod(distance, period);
    while (distance > 0) {
        double take = fmin(distance, d->left);
        distance -= take;
        d->left -= take;
        if (d->left <= 1e-9) {
            d->index ^= 1;
            d->left = dash_pattern[d->style][d->index];
        }
    }
}

/* Add the segment a-b to the layer with the dash pattern of d, continuing
 * its phase. */
static void stroke_dashed(stroke_layer *l, double ax, double ay, double bx, double by,
                          double radius, dash_state *d) {
    const iae_canvas *c = l->canvas;
    if (d->style == STYLE_SOLID) {
        rasterize_segment(c, ax, ay, bx, by, radius, plot_layer, l);
        return;
    }
    if (!isfinite(ax) || !isfinite(ay) || !isfinite(bx) || !isfinite(by)) return;
    double dx = bx - ax, dy = by - ay;
    double length = sqrt(dx * dx + dy * dy);
    if (!isfinite(length)) return;
    if (length < 1e-12) {
        if (d->index == 0) rasterize_segment(c, ax, ay, bx, by, radius, plot_layer, l);
        return;
    }
    /* Only the visible part is walked dash by dash. The phase still advances
     * over the parts cut off. */
    double reach = radius + 1.0, t0, t1;
    if (!clip_segment(ax, ay, bx, by, c->clip_x0 - reach, c->clip_y0 - reach, c->clip_x1 + reach,
                      c->clip_y1 + reach, &t0, &t1)) {
        dash_advance(d, length);
        return;
    }
    dash_advance(d, t0 * length);
    double s = t0 * length, end = t1 * length;
    while (s < end) {
        double take = fmin(d->left, end - s);
        if (d->index == 0) {
            double s1 = s + take;
            rasterize_segment(c, ax + dx * s / length, ay + dy * s / length, ax + dx * s1 / length,
                              ay + dy * s1 / length, radius, plot_layer, l);
        }
        s += take;
        d->left -= take;
        if (d->left <= 1e-9) {
            d->index ^= 1;
            d->left = dash_pattern[d->style][d->index];
        }
    }
    dash_advance(d, (1.0 - t1) * length);
}

/* Add a marker centered at (x, y) to the layer. */
static void stroke_marker(stroke_layer *l, double x, double y, int marker) {
    const iae_canvas *c = l->canvas;
    const double size = 6; /* larger than every marker's half-width plus 1 */
    if (!(x > c->clip_x0 - size && x < c->clip_x1 + size && y > c->clip_y0 - size &&
          y < c->clip_y1 + size))
        return; /* off the clip, NaN or infinite */
    if (marker == MARKER_CIRCLE) {
        rasterize_segment(c, x, y, x, y, 3.5, plot_layer, l);
        return;
    }
    double half = marker == MARKER_SQUARE ? 3.0 : 4.5;
    long x0 = (long)floor(fmax(x - half - 1, c->clip_x0)),
         x1 = (long)ceil(fmin(x + half + 1, c->clip_x1));
    long y0 = (long)floor(fmax(y - half - 1, c->clip_y0)),
         y1 = (long)ceil(fmin(y + half + 1, c->clip_y1));
    for (long py = y0; py <= y1; py++)
        for (long px = x0; px <= x1; px++) {
            double ex = fabs(px - x), ey = fabs(py - y);
            /* Distance outside the shape, positive outside. */
            double outside =
                marker == MARKER_SQUARE ? fmax(ex, ey) - half : (ex + ey - half) / sqrt(2.0);
            double cover = 0.5 - outside;
            if (cover > 0) plot_layer(l, px, py, cover > 1 ? 1 : cover);
        }
}

/* ------------------------------------------------------------------------ */
/* Text                                                                      */
/* ------------------------------------------------------------------------ */

static int clamp_int(int v, int lo, int hi) {
    if (v < lo) return lo;
    if (v > hi) return hi;
    return v;
}

static int clamp_scale(int scale) { return clamp_int(scale, 1, 256); }

/* Return 1 when byte b starts a character: not a UTF-8 continuation byte. */
static int starts_character(unsigned char b) { return (b & 0xC0) != 0x80; }

int iae_text_width(const char *text, int scale) {
    if (text == NULL) return 0;
    long widest = 0, line = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '\n') {
            line = 0;
            continue;
        }
        if (starts_character(*p)) line++;
        if (line > widest) widest = line;
    }
    long width = widest * IAE_FONT_ADVANCE * clamp_scale(scale);
    return width > INT_MAX ? INT_MAX : (int)width;
}

/* Draw one glyph. rotate != 0 turns it 90 degrees counter-clockwise, with
 * (x, y) then naming the top-left of the turned glyph box. */
static void draw_glyph(iae_canvas *c, long x, long y, int ch, uint32_t rgb, int scale, int rotate) {
    uint8_t rows[IAE_FONT_GLYPH_HEIGHT];
    iae_font_glyph(ch, rows);
    for (int r = 0; r < IAE_FONT_GLYPH_HEIGHT; r++)
        for (int col = 0; col < IAE_FONT_GLYPH_WIDTH; col++) {
            if (!(rows[r] >> (IAE_FONT_GLYPH_WIDTH - 1 - col) & 1)) continue;
            if (rotate)
                fill_rect_alpha(c, x + (long)r * scale,
                                y + (long)(IAE_FONT_GLYPH_WIDTH - 1 - col) * scale, scale, scale,
                                rgb, 1.0);
            else
                fill_rect_alpha(c, x + (long)col * scale, y + (long)r * scale, scale, scale, rgb,
                                1.0);
        }
}

/* The character code to look up for byte b: -1 (the box) outside printable
 * ASCII. */
static int glyph_code(unsigned char b) { return b >= 32 && b <= 126 ? b : -1; }

void iae_canvas_text(iae_canvas *c, int x, int y, const char *text, uint32_t rgb, int scale) {
    if (text == NULL) return;
    scale = clamp_scale(scale);
    long pen_x = x, pen_y = y;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '\n') {
            pen_x = x;
            pen_y += (long)IAE_FONT_LINE_HEIGHT * scale;
            continue;
        }
        if (!starts_character(*p)) continue;
        draw_glyph(c, pen_x, pen_y, glyph_code(*p), rgb, scale, 0);
        pen_x += (long)IAE_FONT_ADVANCE * scale;
    }
}

/* Draw one line of text turned 90 degrees counter-clockwise, so it reads
 * from bottom to top, with the top-left of its turned box at (x, y). */
static void draw_text_vertical(iae_canvas *c, long x, long y, const char *text, uint32_t rgb,
                               int scale) {
    long pen_y = y + iae_text_width(text, scale);
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (!starts_character(*p)) continue;
        pen_y -= (long)IAE_FONT_ADVANCE * scale;
        draw_glyph(c, x, pen_y, glyph_code(*p), rgb, scale, 1);
    }
}

/* Copy text into buf (cap bytes) as one line that is at most max_width
 * pixels wide at scale: line breaks become spaces, and text that is too wide
 * is cut at a character boundary and ends with "..". Returns buf. */
static const char *fit_text(const char *text, int scale, int max_width, char *buf, size_t cap) {
    size_t n = 0;
    const char *p = text ? text : "";
    for (; *p && n + 1 < cap; p++) buf[n++] = *p == '\n' ? ' ' : *p;
    int cut = *p != 0; /* by cap, maybe inside a multi-byte character */
    buf[n] = 0;
    if (!cut && iae_text_width(buf, scale) <= max_width) return buf;

    /* Drop whole characters until ".." fits after them. */
    int dots = iae_text_width("..", scale);
    while (n > 0 && (cut || n + 3 > cap || iae_text_width(buf, scale) + dots > max_width)) {
        do {
            n--;
        } while (n > 0 && !starts_character((unsigned char)buf[n]));
        buf[n] = 0;
        cut = 0;
    }
    if (n + 3 <= cap) memcpy(buf + n, "..", 3);
    return buf;
}

/* ------------------------------------------------------------------------ */
/* Images                                                                    */
/* ------------------------------------------------------------------------ */

/* Map v in 0..1 to 0..255, clamping outside values. */
static uint8_t to_byte(double v) {
    if (v <= 0) return 0;
    if (v >= 1) return 255;
    return (uint8_t)lrint(v * 255);
}

/* Map v in 0..1 to the heat colors: black, red, yellow, white. */
static uint32_t heat_color(double t) {
    uint32_t r = to_byte(3 * t), g = to_byte(3 * t - 1), b = to_byte(3 * t - 2);
    return r << 16 | g << 8 | b;
}

static void draw_image(iae_canvas *c, int x, int y, const float *pixels, int h, int w, int channels,
                       float lo, float hi, int scale, int heat) {
    if (pixels == NULL || h < 1 || w < 1) return;
    scale = clamp_scale(scale);
    size_t plane = (size_t)h * w;
    int rgb = channels == 3 && !heat;
    size_t count = plane * (rgb ? 3 : 1);
    double low = lo, high = hi;
    if (!(isfinite(low) && isfinite(high) && low < high)) {
        low = DBL_MAX;
        high = -DBL_MAX;
        for (size_t i = 0; i < count; i++)
            if (isfinite(pixels[i])) {
                low = fmin(low, pixels[i]);
                high = fmax(high, pixels[i]);
            }
        if (!(low < high)) {
            low = 0;
            high = 1;
        }
    }
    double span = high - low;
    for (int r = 0; r < h; r++)
        for (int col = 0; col < w; col++) {
            size_t i = (size_t)r * w + col;
            uint32_t color;
            if (rgb) {
                double v[3] = {pixels[i], pixels[plane + i], pixels[2 * plane + i]};
                if (!isfinite(v[0]) || !isfinite(v[1]) || !isfinite(v[2])) {
                    color = COLOR_NONFINITE;
                } else {
                    color = (uint32_t)to_byte((v[0] - low) / span) << 16 |
                            (uint32_t)to_byte((v[1] - low) / span) << 8 |
                            to_byte((v[2] - low) / span);
                }
            } else if (!isfinite(pixels[i])) {
                color = COLOR_NONFINITE;
            } else if (heat) {
                color = heat_color((pixels[i] - low) / span);
            } else {
                uint32_t g = to_byte((pixels[i] - low) / span);
                color = g << 16 | g << 8 | g;
            }
            fill_rect_alpha(c, x + (long)col * scale, y + (long)r * scale, scale, scale, color,
                            1.0);
        }
}

void iae_canvas_image(iae_canvas *c, int x, int y, const float *pixels, int h, int w, int channels,
                      float lo, float hi, int scale) {
    draw_image(c, x, y, pixels, h, w, channels, lo, hi, scale, 0);
}

/* ------------------------------------------------------------------------ */
/* Ticks                                                                     */
/* ------------------------------------------------------------------------ */

/* Largest magnitude of a range end. Larger values are clamped so that
 * differences and steps stay finite. */
#define RANGE_LIMIT 1e300

/* Remove trailing zeros after a decimal point, and the point itself. */
static void trim_zeros(char *s) {
    char *e = strchr(s, 'e');
    char exponent[16] = "";
    if (e) {
        snprintf(exponent, sizeof(exponent), "%s", e);
        *e = 0;
    }
    if (strchr(s, '.')) {
        size_t n = strlen(s);
        while (n > 0 && s[n - 1] == '0') s[--n] = 0;
        if (n > 0 && s[n - 1] == '.') s[--n] = 0;
    }
    if (strcmp(s, "-0") == 0) strcpy(s, "0");
    strcat(s, exponent);
}

/* Decimals that multiples of step need: step 0.05 needs 2. */
static int decimals_for(double step) {
    int d = -(int)floor(log10(step) + 1e-9);
    return clamp_int(d, 0, 15);
}

/* Format v as mantissa "e" exponent ("2.5e-4"), the mantissa rounded to
 * the digits that separate multiples of step. */
static void format_scientific(double v, double step, char *buf) {
    if (v == 0) {
        strcpy(buf, "0");
        return;
    }
    int exponent = (int)floor(log10(fabs(v)));
    int digits = exponent - (int)floor(log10(step) + 1e-9);
    if (digits < 0) digits = 0;
    if (digits > 6) digits = 6;
    double mantissa = v / pow(10, exponent);
    char m[32];
    snprintf(m, sizeof(m), "%.*f", digits, mantissa);
    if (fabs(atof(m)) >= 10) { /* 9.99 rounded up to 10.0 */
        exponent++;
        snprintf(m, sizeof(m), "%.*f", digits, mantissa / 10);
    }
    trim_zeros(m);
    snprintf(buf, IAE_TICK_LABEL_BYTES, "%.9se%d", m, exponent);
}

static void format_linear_labels(iae_ticks *t) {
    double biggest = 0;
    for (int i = 0; i < t->n; i++) biggest = fmax(biggest, fabs(t->values[i]));
    static const char suffix[] = " kMGT";
    int group = biggest >= 1e4 ? (int)floor(log10(biggest) / 3 + 1e-9) : 0;
    for (int i = 0; i < t->n; i++) {
        char *buf = t->labels[i];
        double v = t->values[i];
        if (biggest > 0 && (biggest < 1e-3 || group > 4)) {
            format_scientific(v, t->step, buf);
        } else if (group > 0) {
            double unit = pow(1000, group);
            snprintf(buf, IAE_TICK_LABEL_BYTES, "%.*f", decimals_for(t->step / unit), v / unit);
            trim_zeros(buf);
            size_t n = strlen(buf);
            if (strcmp(buf, "0") != 0 && n + 1 < IAE_TICK_LABEL_BYTES) {
                buf[n] = suffix[group];
                buf[n + 1] = 0;
            }
        } else {
            snprintf(buf, IAE_TICK_LABEL_BYTES, "%.*f", decimals_for(t->step), v);
            trim_zeros(buf);
        }
    }
}

static void format_log_labels(iae_ticks *t) {
    int scientific = 0;
    for (int i = 0; i < t->n; i++)
        if (t->values[i] < 0.00999999 || t->values[i] >= 1e4) scientific = 1;
    for (int i = 0; i < t->n; i++) {
        double v = t->values[i];
        double magnitude = pow(10, floor(log10(v) + 1e-9));
        if (scientific) {
            format_scientific(v, magnitude, t->labels[i]);
        } else {
            snprintf(t->labels[i], IAE_TICK_LABEL_BYTES, "%.*f", decimals_for(magnitude), v);
            trim_zeros(t->labels[i]);
        }
    }
}

/* Smallest step of 1, 2 or 5 times a power of ten that is at least raw. */
static double nice_step_at_least(double raw) {
    double magnitude = pow(10, floor(log10(raw)));
    static const double factors[] = {1, 2, 5, 10};
    for (int i = 0; i < 4; i++)
        if (magnitude * factors[i] >= raw * (1 - 1e-9)) return magnitude * factors[i];
    return magnitude * 10;
}

/* Linear ticks: the smallest nice step whose ticks (after widening the range
 * when expand is set) number at most max_ticks. */
static void linear_ticks(double lo, double hi, int max_ticks, int expand, int keep_positive,
                         iae_ticks *t) {
    double step = nice_step_at_least((hi - lo) / (max_ticks - 1));
    for (int attempt = 0; attempt < 8; attempt++) {
        double k0 = expand ? floor(lo / step + 1e-9) : ceil(lo / step - 1e-9);
        double k1 = expand ? ceil(hi / step - 1e-9) : floor(hi / step + 1e-9);
        if (keep_positive && k0 * step <= 0) k0 = ceil(lo / step - 1e-9);
        if (k1 - k0 + 1 <= max_ticks || attempt == 7) {
            t->step = step;
            t->lo = expand ? fmin(lo, k0 * step) : lo;
            t->hi = expand ? fmax(hi, k1 * step) : hi;
            t->n = 0;
            for (double k = k0; k <= k1 && t->n < IAE_TICKS_MAX; k++) {
                double v = k * step;
                if (fabs(v) < step * 1e-9) v = 0;
                t->values[t->n++] = v;
            }
            return;
        }
        step = nice_step_at_least(step * 1.5);
    }
}

/* Floor and ceiling of a / b for integers and b > 0. */
static long floor_div(long a, long b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
static long ceil_div(long a, long b) { return -floor_div(-a, b); }

/* Log ticks at every stride-th power of ten. */
static void decade_ticks(double lo, double hi, int max_ticks, int expand, iae_ticks *t) {
    long e_lo = (long)(expand ? floor(log10(lo) + 1e-9) : ceil(log10(lo) - 1e-9));
    long e_hi = (long)(expand ? ceil(log10(hi) - 1e-9) : floor(log10(hi) + 1e-9));
    long stride = (e_hi - e_lo + max_ticks - 2) / (max_ticks - 1);
    if (stride < 1) stride = 1;
    long k0 = expand ? floor_div(e_lo, stride) : ceil_div(e_lo, stride);
    long k1 = expand ? ceil_div(e_hi, stride) : floor_div(e_hi, stride);
    t->step = pow(10, (double)stride);
    t->lo = expand ? fmin(lo, pow(10, (double)(k0 * stride))) : lo;
    t->hi = expand ? fmax(hi, pow(10, (double)(k1 * stride))) : hi;
    t->n = 0;
    for (long k = k0; k <= k1 && t->n < IAE_TICKS_MAX; k++)
        t->values[t->n++] = pow(10, (double)(k * stride));
}

/* The 1-2-5 sequence value at index i: ... 0.5, 1, 2, 5, 10, 20 ... */
static double sequence_value(long i) {
    static const double factors[3] = {1, 2, 5};
    long decade = floor_div(i, 3);
    return factors[i - decade * 3] * pow(10, (double)decade);
}

/* Index of the largest 1-2-5 value <= v (v > 0). */
static long sequence_index_below(double v) {
    long i = (long)floor(log10(v) + 1e-9) * 3;
    while (sequence_value(i + 1) <= v * (1 + 1e-9)) i++;
    while (sequence_value(i) > v * (1 + 1e-9)) i--;
    return i;
}

static void sequence_ticks(double lo, double hi, int expand, iae_ticks *t) {
    long i_lo = sequence_index_below(lo), i_hi = sequence_index_below(hi);
    if (!expand && sequence_value(i_lo) < lo * (1 - 1e-9)) i_lo++;
    if (expand && sequence_value(i_hi) < hi * (1 - 1e-9)) i_hi++;
    t->step = 0; /* the ratio alternates between 2 and 2.5 */
    t->lo = expand ? fmin(lo, sequence_value(i_lo)) : lo;
    t->hi = expand ? fmax(hi, sequence_value(i_hi)) : hi;
    t->n = 0;
    for (long i = i_lo; i <= i_hi && t->n < IAE_TICKS_MAX; i++)
        t->values[t->n++] = sequence_value(i);
}

/* Replace a degenerate range by a usable one, as iae_nice_ticks describes. */
static void repair_range(double *lo, double *hi, int log_scale) {
    double a = *lo, b = *hi;
    if (!isfinite(a) && !isfinite(b)) {
        a = log_scale ? 1 : 0;
        b = log_scale ? 10 : 1;
    } else if (!isfinite(a)) {
        a = b;
    } else if (!isfinite(b)) {
        b = a;
    }
    if (a > b) {
        double swap = a;
        a = b;
        b = swap;
    }
    a = fmax(fmin(a, RANGE_LIMIT), -RANGE_LIMIT);
    b = fmax(fmin(b, RANGE_LIMIT), -RANGE_LIMIT);
    if (log_scale) {
        if (b <= 0) {
            a = 1;
            b = 10;
        } else if (a <= 0) {
            a = b * 1e-3;
        }
        if (a < 1e-300) a = 1e-300; /* smaller powers of ten underflow */
        if (b < a * (1 + 1e-9)) {
            double center = a;
            a = center / 2;
            b = center * 2;
        }
    } else {
        double magnitude = fmax(fabs(a), fabs(b));
        if (b - a <= magnitude * 1e-9 || b - a < 1e-290) {
            /* Too narrow for distinct ticks: 10% around the center, or -1..1
             * around a center too small for steps to stay normal numbers. */
            double center = a / 2 + b / 2;
            if (fabs(center) < 1e-290) center = 0;
            double half = center == 0 ? 1 : fabs(center) * 0.1;
            a = center - half;
            b = center + half;
        }
    }
    *lo = a;
    *hi = b;
}

void iae_nice_ticks(double lo, double hi, int max_ticks, int log_scale, int expand,
                    iae_ticks *out) {
    memset(out, 0, sizeof(*out));
    if (max_ticks < 2) max_ticks = 2;
    if (max_ticks > 20) max_ticks = 20;
    repair_range(&lo, &hi, log_scale);
    if (!log_scale) {
        linear_ticks(lo, hi, max_ticks, expand, 0, out);
        format_linear_labels(out);
        return;
    }

    /* Log axes: decades when at least three fit, the 1-2-5 sequence when it
     * gives 2..max_ticks values, then decades again, then linear steps. */
    long decades = (long)floor(log10(hi) + 1e-9) - (long)ceil(log10(lo) - 1e-9) + 1;
    long sequence = sequence_index_below(hi) - sequence_index_below(lo) +
                    (sequence_value(sequence_index_below(lo)) >= lo * (1 - 1e-9) ? 1 : 0);
    if (decades >= 3 || (decades == 2 && sequence > max_ticks)) {
        decade_ticks(lo, hi, max_ticks, expand, out);
    } else if (sequence >= 2 && sequence <= max_ticks) {
        sequence_ticks(lo, hi, expand, out);
    } else if (decades == 2) {
        decade_ticks(lo, hi, max_ticks, expand, out);
    } else {
        linear_ticks(lo, hi, max_ticks, expand, 1, out);
        format_linear_labels(out);
        return;
    }
    format_log_labels(out);
}

/* ------------------------------------------------------------------------ */
/* Chart layout                                                              */
/* ------------------------------------------------------------------------ */

enum {
    PAD = 12,        /* blank border around the chart */
    TITLE_SCALE = 2, /* font scale of the title, while all other text uses 1 */
    TEXT_HEIGHT = IAE_FONT_GLYPH_HEIGHT,
    CAP_HEIGHT = 7, /* glyph rows above the baseline */
    TICK_LENGTH = 5,
    TICK_GAP = 4,           /* between a tick mark and its label */
    TITLE_GAP = 8,          /* between an axis title and the tick labels */
    LINE_INSET = 6,         /* line charts: gap between the frame and the data range */
    LEGEND_ROW = 14,        /* height of one legend entry */
    LEGEND_SWATCH = 28,     /* width of the line or box before a legend label */
    LEGEND_LABEL_MAX = 240, /* legend labels are shortened beyond this width */
    CATEGORY_LABEL_MAX = 150,
    MIN_CHART_WIDTH = 240,
    MIN_CHART_HEIGHT = 180,
};

#define LINE_RADIUS 1.0     /* data lines are 2 pixels wide */
#define OUTLINE_RADIUS 0.75 /* histogram outlines and the diagonal */
#define FILL_ALPHA 0.3      /* translucent histogram bars */
#define MARKER_LIMIT 40     /* series with at most this many points get markers */

uint32_t iae_plot_color(int i) {
    static const uint32_t palette[10] = {
        0x1F66C4, /* blue */
        0xE8710A, /* orange */
        0x2A9D3A, /* green */
        0xD22B2B, /* red */
        0x8A4FC0, /* purple */
        0x8B5A2B, /* brown */
        0xD94E9E, /* pink */
        0x13A3B5, /* teal */
        0x9C9A12, /* olive */
        0x333333, /* near black */
    };
    return palette[(i % 10 + 10) % 10];
}

/* Line style and marker of series i: solid lines with circles for the first
 * ten colors, then dashed with squares, then dotted with diamonds. */
static int series_style(int i) { return i / 10 % 3; }
static int series_marker(int i) { return MARKER_CIRCLE + i / 10 % 3; }

typedef struct {
    char text[128];
    uint32_t color;
    int style, marker;
    int patch; /* swatch: 0 a line, else a box (PATCH_TRANSLUCENT or PATCH_OPAQUE) */
} legend_entry;

typedef struct chart chart;

struct chart {
    iae_ctx *ctx;
    const char *path;
    const iae_chart_opts *o;
    int width, height;
    iae_canvas *cv;
    stroke_layer layer;

    /* Axis ranges before tick selection. Automatic ranges widen to the ticks. */
    double x_lo, x_hi, y_lo, y_hi;
    int x_auto, y_auto;
    iae_ticks xt, yt;
    int inset;      /* pixels between the frame and the data range */
    int categories; /* > 0: categorical x axis with this many groups */
    const char *const *category_names;
    int category_labels_hidden; /* a bar chart without groups */
    int category_vertical, category_every, category_label_height;
    int category_label_max; /* labels are shortened beyond this width */

    /* Frame pixels (inclusive) and the data range's pixel extent. */
    int fx0, fy0, fx1, fy1;
    double px0, px1, py0, py1;

    legend_entry *legend;
    int n_legend;
    int legend_below, legend_top, legend_shown;

    int no_data;
    void (*draw_data)(chart *ch);
    const void *data;
};

static const iae_chart_opts default_opts;

static int has_text(const char *s) { return s != NULL && s[0] != 0; }

static double map_x(const chart *ch, double v) {
    return ch->px0 + (v - ch->xt.lo) / (ch->xt.hi - ch->xt.lo) * (ch->px1 - ch->px0);
}

static double map_y(const chart *ch, double v) {
    double t;
    if (ch->o->log_y) {
        if (!(v > 0)) return NAN;
        t = (log10(v) - log10(ch->yt.lo)) / (log10(ch->yt.hi) - log10(ch->yt.lo));
    } else {
        t = (v - ch->yt.lo) / (ch->yt.hi - ch->yt.lo);
    }
    return ch->py1 - t * (ch->py1 - ch->py0);
}

/* Round a mapped coordinate to a pixel index. Data far outside an explicit
 * axis range maps far off the canvas, so the result is clamped to +-1e7,
 * which keeps rectangle arithmetic on longs from overflowing. */
static long to_pixel(double v) {
    if (!(v > -1e7)) return -10000000L; /* NaN too */
    if (v > 1e7) return 10000000L;
    return lrint(v);
}

/* Check the options shared by all charts and copy them into ch. */
static iae_status chart_init(iae_ctx *ctx, chart *ch, const char *path, const iae_chart_opts *o,
                             const char *kind) {
    memset(ch, 0, sizeof(*ch));
    ch->ctx = ctx;
    ch->path = path;
    ch->o = o ? o : &default_opts;
    o = ch->o;
    if (path == NULL)
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "cannot write a %s: path is NULL", kind);
    ch->width = o->width ? o->width : IAE_PLOT_DEFAULT_WIDTH;
    ch->height = o->height ? o->height : IAE_PLOT_DEFAULT_HEIGHT;
    if (ch->width < MIN_CHART_WIDTH || ch->height < MIN_CHART_HEIGHT ||
        ch->width > IAE_IMAGE_MAX_SIDE || ch->height > IAE_IMAGE_MAX_SIDE ||
        (long)ch->width * ch->height > IAE_IMAGE_MAX_PIXELS)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "cannot write %s '%s': invalid size %d x %d pixels (width x height); "
                        "expected %d to %d wide and %d to %d tall, or 0 for %d x %d",
                        kind, path, ch->width, ch->height, MIN_CHART_WIDTH, IAE_IMAGE_MAX_SIDE,
                        MIN_CHART_HEIGHT, IAE_IMAGE_MAX_SIDE, IAE_PLOT_DEFAULT_WIDTH,
                        IAE_PLOT_DEFAULT_HEIGHT);
    ch->x_auto = o->x_min == o->x_max;
    if (!ch->x_auto && !(isfinite(o->x_min) && isfinite(o->x_max) && o->x_min < o->x_max))
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "cannot write %s '%s': x_min %g and x_max %g are not a valid axis range; "
                        "expected finite values with x_min < x_max, or equal values for an "
                        "automatic range",
                        kind, path, o->x_min, o->x_max);
    ch->y_auto = o->y_min == o->y_max;
    if (!ch->y_auto && !(isfinite(o->y_min) && isfinite(o->y_max) && o->y_min < o->y_max))
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "cannot write %s '%s': y_min %g and y_max %g are not a valid axis range; "
                        "expected finite values with y_min < y_max, or equal values for an "
                        "automatic range",
                        kind, path, o->y_min, o->y_max);
    if (!ch->y_auto && o->log_y && !(o->y_min > 0))
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "cannot write %s '%s': y_min %g on a log axis; expected y_min > 0", kind,
                        path, o->y_min);
    ch->x_lo = o->x_min;
    ch->x_hi = o->x_max;
    ch->y_lo = o->y_min;
    ch->y_hi = o->y_max;
    return IAE_OK;
}

/* Allocate n legend entries. */
static iae_status legend_alloc(chart *ch, int n) {
    ch->legend =
        iae_alloc(ch->ctx, sizeof(legend_entry) * (size_t)(n > 0 ? n : 1), "legend entries");
    return ch->legend == NULL ? IAE_ERR_NOMEM : IAE_OK;
}

static legend_entry *legend_add(chart *ch, const char *text, uint32_t color, int style, int marker,
                                int patch) {
    legend_entry *e = &ch->legend[ch->n_legend++];
    fit_text(text, 1, LEGEND_LABEL_MAX, e->text, sizeof(e->text));
    e->color = color;
    e->style = style;
    e->marker = marker;
    e->patch = patch;
    return e;
}

static int legend_item_width(const legend_entry *e) {
    return LEGEND_SWATCH + 6 + iae_text_width(e->text, 1);
}

/* Draw a legend entry (swatch and label) whose row starts at (x, y). */
static void draw_legend_entry(chart *ch, const legend_entry *e, long x, long y) {
    iae_canvas *c = ch->cv;
    double mid = y + LEGEND_ROW / 2.0 - 1;
    if (e->patch) {
        double alpha = e->patch == PATCH_OPAQUE ? 1.0 : FILL_ALPHA;
        fill_rect_alpha(c, x + 6, y + 2, LEGEND_SWATCH - 12, LEGEND_ROW - 5, e->color, alpha);
        iae_canvas_rect(c, (int)x + 6, (int)y + 2, LEGEND_SWATCH - 12, LEGEND_ROW - 5, e->color, 0);
    } else {
        dash_state dash;
        dash_start(&dash, e->style);
        double radius = e->color == COLOR_DIAGONAL ? OUTLINE_RADIUS : LINE_RADIUS;
        stroke_dashed(&ch->layer, x + 2, mid, x + LEGEND_SWATCH - 2, mid, radius, &dash);
        layer_flush(&ch->layer, e->color, 1.0);
        if (e->marker != MARKER_NONE) {
            stroke_marker(&ch->layer, x + LEGEND_SWATCH / 2.0, mid, e->marker);
            layer_flush(&ch->layer, e->color, 1.0);
        }
    }
    iae_canvas_text(c, (int)(x + LEGEND_SWATCH + 6), (int)y + 3, e->text, COLOR_TEXT, 1);
}

/* Lay out the legend below the plot in rows at most max_width wide, each
 * row centered on center_x. Draws when draw is set and returns the number of
 * rows. Entries beyond max_rows rows are replaced by a "+N more" note. */
static int legend_flow(chart *ch, int max_width, int max_rows, int center_x, int top, int draw) {
    int rows = 0, i = 0;
    const int spacing = 18;
    while (i < ch->n_legend && rows < max_rows) {
        int row_width = legend_item_width(&ch->legend[i]), end = i + 1;
        while (end < ch->n_legend &&
               row_width + spacing + legend_item_width(&ch->legend[end]) <= max_width) {
            row_width += spacing + legend_item_width(&ch->legend[end]);
            end++;
        }
        char more[48] = "";
        if (rows == max_rows - 1 && end < ch->n_legend) {
            /* Last row: make room for the note. */
            snprintf(more, sizeof(more), "+%d more", ch->n_legend - end);
            while (end > i + 1 && row_width + spacing + iae_text_width(more, 1) > max_width) {
                end--;
                row_width -= spacing + legend_item_width(&ch->legend[end]);
                snprintf(more, sizeof(more), "+%d more", ch->n_legend - end);
            }
            row_width += spacing + iae_text_width(more, 1);
        }
        if (draw) {
            long x = center_x - row_width / 2, y = top + (long)rows * LEGEND_ROW;
            for (int k = i; k < end; k++) {
                draw_legend_entry(ch, &ch->legend[k], x, y);
                x += legend_item_width(&ch->legend[k]) + spacing;
            }
            if (more[0]) iae_canvas_text(ch->cv, (int)x, (int)y + 2, more, COLOR_TEXT, 1);
        }
        rows++;
        i = end;
    }
    return rows;
}

/* Size of the legend box drawn inside the plot area. */
static void legend_box_size(const chart *ch, int *w, int *h) {
    int widest = 0;
    for (int i = 0; i < ch->n_legend; i++) {
        int width = legend_item_width(&ch->legend[i]);
        if (width > widest) widest = width;
    }
    *w = widest + 12;
    *h = ch->n_legend * LEGEND_ROW + 8;
}

/* Height reserved below the plot area for a legend there. */
static int legend_below_height(chart *ch, int plot_width) {
    int max_rows = ch->height / 4 / LEGEND_ROW;
    if (max_rows < 1) max_rows = 1;
    int rows = legend_flow(ch, plot_width, max_rows, 0, 0, 0);
    return rows * LEGEND_ROW + 8;
}

/* Lay out the categorical x axis labels for the current plot width. */
static void layout_categories(chart *ch) {
    double group_width = (ch->px1 - ch->px0) / ch->categories;
    int widest = 0;
    char buf[128];
    for (int g = 0; g < ch->categories && !ch->category_labels_hidden; g++) {
        const char *name = ch->category_names ? ch->category_names[g] : NULL;
        char number[16];
        snprintf(number, sizeof(number), "%d", g + 1);
        fit_text(name ? name : number, 1, CATEGORY_LABEL_MAX, buf, sizeof(buf));
        int width = iae_text_width(buf, 1);
        if (width > widest) widest = width;
    }
    ch->category_vertical = widest > group_width - 6;
    ch->category_every = 1;
    /* Horizontal labels may use the whole group width, even beyond
     * CATEGORY_LABEL_MAX. */
    ch->category_label_max = ch->category_vertical ? CATEGORY_LABEL_MAX : (int)(group_width - 6);
    if (ch->category_vertical) {
        /* Vertical labels are TEXT_HEIGHT wide, so crowded groups skip some. */
        while (group_width * ch->category_every < TEXT_HEIGHT + 3) ch->category_every++;
        ch->category_label_height = widest;
    } else {
        ch->category_label_height = TEXT_HEIGHT;
    }
}

/* Return 1 when the x tick labels of t leave at least 10 pixels between
 * neighbors. */
static int x_labels_fit(const chart *ch, const iae_ticks *t) {
    double span = ch->px1 - ch->px0;
    for (int i = 0; i + 1 < t->n; i++) {
        double gap = (t->values[i + 1] - t->values[i]) / (t->hi - t->lo) * span;
        double needed =
            (iae_text_width(t->labels[i], 1) + iae_text_width(t->labels[i + 1], 1)) / 2.0 + 10;
        if (gap < needed) return 0;
    }
    return 1;
}

/* Place the frame, choose the ticks and the categorical labels, and reserve
 * the legend's rows below the plot when legend_below is set. */
static void layout_chart(chart *ch, int legend_below) {
    const iae_chart_opts *o = ch->o;
    int W = ch->width, H = ch->height;
    ch->legend_below = legend_below;

    int top = PAD + (has_text(o->title) ? TEXT_HEIGHT * TITLE_SCALE + 10 : 4);

    int y_target = (H - 160) / 50;
    y_target = clamp_int(y_target, 3, 10);
    iae_nice_ticks(ch->y_lo, ch->y_hi, y_target, o->log_y, ch->y_auto, &ch->yt);
    int y_label_width = 0;
    for (int i = 0; i < ch->yt.n; i++) {
        int width = iae_text_width(ch->yt.labels[i], 1);
        if (width > y_label_width) y_label_width = width;
    }
    int left = PAD + (has_text(o->y_label) ? TEXT_HEIGHT + TITLE_GAP : 0) + y_label_width +
               TICK_GAP + TICK_LENGTH;

    /* The right margin must fit half of the last x tick label. That label
     * depends on the ticks, and they depend on the width, so two rounds
     * settle it. */
    int right = PAD + 4;
    for (int round = 0; round < 2; round++) {
        ch->fx0 = left;
        ch->fx1 = W - 1 - right;
        ch->px0 = ch->fx0 + (ch->categories ? 0 : ch->inset);
        ch->px1 = ch->fx1 - (ch->categories ? 0 : ch->inset);
        if (ch->categories) {
            iae_nice_ticks(0, ch->categories, 2, 0, 0, &ch->xt);
            ch->xt.lo = 0;
            ch->xt.hi = ch->categories;
            layout_categories(ch);
            break;
        }
        int x_target = (int)((ch->px1 - ch->px0) / 50);
        x_target = clamp_int(x_target, 3, 12);
        for (; x_target >= 2; x_target--) {
            iae_nice_ticks(ch->x_lo, ch->x_hi, x_target, 0, ch->x_auto, &ch->xt);
            if (x_labels_fit(ch, &ch->xt)) break;
        }
        if (ch->xt.n > 0) {
            double last = map_x(ch, ch->xt.values[ch->xt.n - 1]);
            int overhang =
                (int)ceil(last + iae_text_width(ch->xt.labels[ch->xt.n - 1], 1) / 2.0 - ch->fx1);
            right = PAD + (overhang > 4 ? overhang : 4);
        }
    }

    int label_height = ch->categories ? ch->category_label_height : TEXT_HEIGHT;
    int bottom = TICK_LENGTH + TICK_GAP + label_height + PAD;
    if (has_text(o->x_label)) bottom += TITLE_GAP + TEXT_HEIGHT;
    if (legend_below) {
        ch->legend_top = H - PAD - legend_below_height(ch, ch->fx1 - ch->fx0) + 8;
        bottom += legend_below_height(ch, ch->fx1 - ch->fx0);
    }
    ch->fy0 = top;
    ch->fy1 = H - 1 - bottom;
    /* NOTE: long vertical group names or a big legend below can squeeze a
     * small canvas down to this minimum, and the text then overlaps. */
    if (ch->fy1 < ch->fy0 + 20) ch->fy1 = ch->fy0 + 20;
    ch->py0 = ch->fy0 + ch->inset;
    ch->py1 = ch->fy1 - ch->inset;
}

/* Grid lines at the ticks, inside the frame. */
static void draw_grid(chart *ch) {
    iae_canvas *c = ch->cv;
    for (int i = 0; i < ch->yt.n; i++) {
        long y = to_pixel(map_y(ch, ch->yt.values[i]));
        if (y > ch->fy0 && y < ch->fy1)
            fill_rect_alpha(c, ch->fx0 + 1, y, ch->fx1 - ch->fx0 - 1, 1, COLOR_GRID, 1.0);
    }
    if (ch->categories) return;
    for (int i = 0; i < ch->xt.n; i++) {
        long x = to_pixel(map_x(ch, ch->xt.values[i]));
        if (x > ch->fx0 && x < ch->fx1)
            fill_rect_alpha(c, x, ch->fy0 + 1, 1, ch->fy1 - ch->fy0 - 1, COLOR_GRID, 1.0);
    }
}

static void draw_x_labels(chart *ch) {
    iae_canvas *c = ch->cv;
    int label_top = ch->fy1 + TICK_LENGTH + TICK_GAP;
    if (!ch->categories) {
        for (int i = 0; i < ch->xt.n; i++) {
            long x = to_pixel(map_x(ch, ch->xt.values[i]));
            fill_rect_alpha(c, x, ch->fy1 + 1, 1, TICK_LENGTH, COLOR_AXIS, 1.0);
            iae_canvas_text(c, (int)(x - iae_text_width(ch->xt.labels[i], 1) / 2), label_top,
                            ch->xt.labels[i], COLOR_TEXT, 1);
        }
        return;
    }
    double group_width = (ch->px1 - ch->px0) / ch->categories;
    for (int g = 0; g < ch->categories && !ch->category_labels_hidden; g += ch->category_every) {
        long x = to_pixel(ch->px0 + (g + 0.5) * group_width);
        fill_rect_alpha(c, x, ch->fy1 + 1, 1, TICK_LENGTH, COLOR_AXIS, 1.0);
        const char *name = ch->category_names ? ch->category_names[g] : NULL;
        char number[16], buf[128];
        snprintf(number, sizeof(number), "%d", g + 1);
        fit_text(name ? name : number, 1, ch->category_label_max, buf, sizeof(buf));
        int width = iae_text_width(buf, 1);
        if (ch->category_vertical) /* Reads upwards and ends next to the axis. */
            draw_text_vertical(c, x - CAP_HEIGHT / 2, label_top, buf, COLOR_TEXT, 1);
        else
            iae_canvas_text(c, (int)(x - width / 2), label_top, buf, COLOR_TEXT, 1);
    }
}

/* Frame, ticks, tick labels, axis titles and title. */
static void draw_axes(chart *ch) {
    iae_canvas *c = ch->cv;
    const iae_chart_opts *o = ch->o;
    iae_canvas_rect(c, ch->fx0, ch->fy0, ch->fx1 - ch->fx0 + 1, ch->fy1 - ch->fy0 + 1, COLOR_AXIS,
                    0);

    for (int i = 0; i < ch->yt.n; i++) {
        long y = to_pixel(map_y(ch, ch->yt.values[i]));
        fill_rect_alpha(c, ch->fx0 - TICK_LENGTH, y, TICK_LENGTH, 1, COLOR_AXIS, 1.0);
        int width = iae_text_width(ch->yt.labels[i], 1);
        iae_canvas_text(c, ch->fx0 - TICK_LENGTH - TICK_GAP - width, (int)y - CAP_HEIGHT / 2,
                        ch->yt.labels[i], COLOR_TEXT, 1);
    }
    draw_x_labels(ch);

    char buf[512];
    int plot_center = (ch->fx0 + ch->fx1) / 2;
    if (has_text(o->x_label)) {
        fit_text(o->x_label, 1, ch->width - 2 * PAD, buf, sizeof(buf));
        int x = plot_center - iae_text_width(buf, 1) / 2;
        if (x < PAD) x = PAD;
        if (x + iae_text_width(buf, 1) > ch->width - PAD)
            x = ch->width - PAD - iae_text_width(buf, 1);
        int label_height = ch->categories ? ch->category_label_height : TEXT_HEIGHT;
        iae_canvas_text(c, x, ch->fy1 + TICK_LENGTH + TICK_GAP + label_height + TITLE_GAP, buf,
                        COLOR_TEXT, 1);
    }
    if (has_text(o->y_label)) {
        fit_text(o->y_label, 1, ch->height - 2 * PAD, buf, sizeof(buf));
        int length = iae_text_width(buf, 1);
        long y = (ch->fy0 + ch->fy1) / 2 - length / 2;
        if (y < PAD) y = PAD;
        if (y + length > ch->height - PAD) y = ch->height - PAD - length;
        draw_text_vertical(c, PAD, y, buf, COLOR_TEXT, 1);
    }
    if (has_text(o->title)) {
        fit_text(o->title, TITLE_SCALE, ch->width - 2 * PAD, buf, sizeof(buf));
        int width = iae_text_width(buf, TITLE_SCALE);
        int x = plot_center - width / 2;
        if (x < PAD) x = PAD;
        if (x + width > ch->width - PAD) x = ch->width - PAD - width;
        iae_canvas_text(c, x, PAD, buf, COLOR_TEXT, TITLE_SCALE);
    }
}

/* Return 1 when every pixel of the rectangle is background or grid. */
static int region_free(const iae_canvas *c, long x, long y, long w, long h) {
    for (long yy = y; yy < y + h; yy++)
        for (long xx = x; xx < x + w; xx++) {
            uint32_t p = iae_canvas_pixel(c, (int)xx, (int)yy);
            if (p != COLOR_WHITE && p != COLOR_GRID) return 0;
        }
    return 1;
}

/* Draw the legend in the first inner corner that no data covers: top-right,
 * top-left, bottom-right, bottom-left. Returns 0 when none is free or the
 * box is too big for the plot area. */
static int place_legend_inside(chart *ch) {
    int w, h;
    legend_box_size(ch, &w, &h);
    int inner_w = ch->fx1 - ch->fx0 - 1, inner_h = ch->fy1 - ch->fy0 - 1;
    if (w > inner_w * 0.6 || h > inner_h * 0.6) return 0;
    const int margin = 8;
    long left = ch->fx0 + 1 + margin, right = ch->fx1 - margin - w;
    long top = ch->fy0 + 1 + margin, bottom = ch->fy1 - margin - h;
    const long corners[4][2] = {{right, top}, {left, top}, {right, bottom}, {left, bottom}};
    for (int k = 0; k < 4; k++) {
        long x = corners[k][0], y = corners[k][1];
        if (!region_free(ch->cv, x - 6, y - 6, w + 12, h + 12)) continue;
        fill_rect_alpha(ch->cv, x, y, w, h, COLOR_WHITE, 1.0);
        iae_canvas_rect(ch->cv, (int)x, (int)y, w, h, COLOR_LEGEND_EDGE, 0);
        for (int i = 0; i < ch->n_legend; i++)
            draw_legend_entry(ch, &ch->legend[i], x + 6, y + 4 + (long)i * LEGEND_ROW);
        return 1;
    }
    return 0;
}

static void draw_no_data(chart *ch) {
    const char *note = "no data";
    int width = iae_text_width(note, 2);
    iae_canvas_text(ch->cv, (ch->fx0 + ch->fx1) / 2 - width / 2,
                    (ch->fy0 + ch->fy1) / 2 - CAP_HEIGHT, note, COLOR_MUTED, 2);
}

/* Draw the chart (twice when the legend must move below the plot) and write
 * it to ch->path. Frees what ch holds. */
static iae_status render_chart(chart *ch) {
    iae_status st = iae_canvas_create(ch->ctx, ch->width, ch->height, &ch->cv);
    if (st == IAE_OK) st = layer_init(ch->ctx, &ch->layer, ch->cv);
    for (int below = 0; st == IAE_OK && below < 2; below++) {
        if (below) memset(ch->cv->rgb, 0xFF, (size_t)ch->width * ch->height * 3);
        layout_chart(ch, below);
        draw_grid(ch);
        set_clip(ch->cv, ch->fx0 + 1, ch->fy0 + 1, ch->fx1 - 1, ch->fy1 - 1);
        if (!ch->no_data) ch->draw_data(ch);
        reset_clip(ch->cv);
        if (ch->no_data) draw_no_data(ch);
        draw_axes(ch);
        if (ch->n_legend == 0) break;
        if (below) {
            int max_rows = ch->height / 4 / LEGEND_ROW;
            legend_flow(ch, ch->fx1 - ch->fx0, max_rows < 1 ? 1 : max_rows, (ch->fx0 + ch->fx1) / 2,
                        ch->legend_top, 1);
            break;
        }
        if (place_legend_inside(ch)) break;
    }
    if (st == IAE_OK) st = iae_canvas_save_png(ch->ctx, ch->cv, ch->path);
    iae_free(ch->layer.coverage);
    iae_canvas_free(ch->cv);
    iae_free(ch->legend);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Line charts                                                               */
/* ------------------------------------------------------------------------ */

typedef struct {
    const iae_series *series;
    int n;
} lines_data;

static double series_x(const iae_series *s, int j) { return s->x ? s->x[j] : j + 1.0; }

static int point_valid(const chart *ch, const iae_series *s, int j) {
    double x = series_x(s, j), y = s->y[j];
    return isfinite(x) && isfinite(y) && (!ch->o->log_y || y > 0);
}

static void draw_lines_data(chart *ch) {
    const lines_data *d = ch->data;
    stroke_layer *l = &ch->layer;
    dash_state dash;
    if (ch->o->diagonal) {
        double a = fmax(ch->xt.lo, ch->yt.lo), b = fmin(ch->xt.hi, ch->yt.hi);
        if (a < b) {
            dash_start(&dash, STYLE_DASHED);
            stroke_dashed(l, map_x(ch, a), map_y(ch, a), map_x(ch, b), map_y(ch, b), OUTLINE_RADIUS,
                          &dash);
            layer_flush(l, COLOR_DIAGONAL, 1.0);
        }
    }
    for (int i = 0; i < d->n; i++) {
        const iae_series *s = &d->series[i];
        int valid_points = 0;
        double prev_x = 0, prev_y = 0;
        int prev_valid = 0;
        dash_start(&dash, series_style(i));
        for (int j = 0; j < s->n; j++) {
            if (!point_valid(ch, s, j)) {
                prev_valid = 0;
                continue;
            }
            valid_points++;
            double x = map_x(ch, series_x(s, j)), y = map_y(ch, s->y[j]);
            if (prev_valid)
                stroke_dashed(l, prev_x, prev_y, x, y, LINE_RADIUS, &dash);
            else
                dash_start(&dash, series_style(i)); /* a new run after a gap */
            prev_x = x;
            prev_y = y;
            prev_valid = 1;
        }
        layer_flush(l, iae_plot_color(i), 1.0);

        /* Markers on short series, and on isolated points of any series,
         * which would otherwise be invisible. */
        for (int j = 0; j < s->n; j++) {
            if (!point_valid(ch, s, j)) continue;
            int isolated = (j == 0 || !point_valid(ch, s, j - 1)) &&
                           (j == s->n - 1 || !point_valid(ch, s, j + 1));
            if (valid_points <= MARKER_LIMIT || isolated)
                stroke_marker(l, map_x(ch, series_x(s, j)), map_y(ch, s->y[j]), series_marker(i));
        }
        layer_flush(l, iae_plot_color(i), 1.0);
    }
}

iae_status iae_plot_lines(iae_ctx *ctx, const char *path, const iae_chart_opts *o,
                          const iae_series *s, int n) {
    chart ch;
    iae_status st = chart_init(ctx, &ch, path, o, "line chart");
    if (st != IAE_OK) return st;
    if (n < 0 || (n > 0 && s == NULL))
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "cannot write line chart '%s': %d series at %p; expected n >= 0 and "
                        "series non-NULL when n > 0",
                        path, n, (const void *)s);
    for (int i = 0; i < n; i++)
        if (s[i].n < 0 || (s[i].n > 0 && s[i].y == NULL))
            return iae_fail(ctx, IAE_ERR_ARGUMENT,
                            "cannot write line chart '%s': series %d ('%s') has %d points and y "
                            "%s; expected n >= 0 and y values for every point",
                            path, i, s[i].label ? s[i].label : "", s[i].n, s[i].y ? "set" : "NULL");

    lines_data data = {s, n};
    ch.data = &data;
    ch.draw_data = draw_lines_data;
    ch.inset = LINE_INSET;

    /* Data ranges over the drawable points. */
    double x_lo = DBL_MAX, x_hi = -DBL_MAX, y_lo = DBL_MAX, y_hi = -DBL_MAX;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < s[i].n; j++) {
            if (!point_valid(&ch, &s[i], j)) continue;
            x_lo = fmin(x_lo, series_x(&s[i], j));
            x_hi = fmax(x_hi, series_x(&s[i], j));
            y_lo = fmin(y_lo, s[i].y[j]);
            y_hi = fmax(y_hi, s[i].y[j]);
        }
    ch.no_data = x_lo > x_hi;
    if (ch.x_auto) {
        ch.x_lo = ch.no_data ? NAN : x_lo;
        ch.x_hi = ch.no_data ? NAN : x_hi;
    }
    if (ch.y_auto) {
        ch.y_lo = ch.no_data ? NAN : y_lo;
        ch.y_hi = ch.no_data ? NAN : y_hi;
    }

    st = legend_alloc(&ch, n + 1);
    if (st != IAE_OK) return st;
    for (int i = 0; i < n; i++) {
        if (!has_text(s[i].label)) continue;
        int valid_points = 0;
        for (int j = 0; j < s[i].n; j++) valid_points += point_valid(&ch, &s[i], j);
        int marker = valid_points <= MARKER_LIMIT ? series_marker(i) : MARKER_NONE;
        legend_add(&ch, s[i].label, iae_plot_color(i), series_style(i), marker, PATCH_NONE);
    }
    if (o && o->diagonal && ch.n_legend > 0)
        legend_add(&ch, "chance", COLOR_DIAGONAL, STYLE_DASHED, MARKER_NONE, PATCH_NONE);
    return render_chart(&ch);
}

/* ------------------------------------------------------------------------ */
/* Histograms                                                                */
/* ------------------------------------------------------------------------ */

enum { DEFAULT_BINS = 30, MAX_BINS = 4096 };

typedef struct {
    int n_groups, bins;
    double lo, hi;   /* bin range */
    double *heights; /* (n_groups, bins): counts or fractions */
} histogram_data;

static void draw_histogram_data(chart *ch) {
    const histogram_data *d = ch->data;
    double base_value = ch->o->log_y ? ch->yt.lo : 0.0;
    long base = to_pixel(map_y(ch, base_value));
    double width = (d->hi - d->lo) / d->bins;
    for (int g = 0; g < d->n_groups; g++) {
        const double *h = d->heights + (size_t)g * d->bins;
        for (int b = 0; b < d->bins; b++) {
            double top_y = map_y(ch, h[b]);
            if (!isfinite(top_y)) continue;
            long x0 = to_pixel(map_x(ch, d->lo + b * width)),
                 x1 = to_pixel(map_x(ch, d->lo + (b + 1) * width));
            long top = to_pixel(top_y);
            if (top < base)
                fill_rect_alpha(ch->cv, x0, top, x1 - x0, base - top, iae_plot_color(g),
                                FILL_ALPHA);
        }
    }
    /* Outlines on top of all fills: a step line along the bin tops. */
    for (int g = 0; g < d->n_groups; g++) {
        const double *h = d->heights + (size_t)g * d->bins;
        dash_state dash;
        dash_start(&dash, STYLE_SOLID);
        double prev_y = base;
        for (int b = 0; b <= d->bins; b++) {
            double x = map_x(ch, d->lo + b * width);
            double y = b < d->bins && h[b] > 0 ? map_y(ch, h[b]) : base;
            if (!isfinite(y) || y > base) y = base;
            if (y != prev_y) stroke_dashed(&ch->layer, x, prev_y, x, y, OUTLINE_RADIUS, &dash);
            if (b < d->bins && y < base)
                stroke_dashed(&ch->layer, x, y, map_x(ch, d->lo + (b + 1) * width), y,
                              OUTLINE_RADIUS, &dash);
            prev_y = y;
        }
        layer_flush(&ch->layer, iae_plot_color(g), 1.0);
    }
}

iae_status iae_plot_histogram(iae_ctx *ctx, const char *path, const iae_chart_opts *o,
                              const char *const *labels, const float *const *values,
                              const long *counts, int n_groups, int bins) {
    chart ch;
    iae_status st = chart_init(ctx, &ch, path, o, "histogram");
    if (st != IAE_OK) return st;
    if (n_groups < 0 || (n_groups > 0 && (values == NULL || counts == NULL)))
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "cannot write histogram '%s': %d groups with values %s and counts %s; "
                        "expected n_groups >= 0 and both non-NULL when n_groups > 0",
                        path, n_groups, values ? "set" : "NULL", counts ? "set" : "NULL");
    if (bins < 0 || bins > MAX_BINS)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "cannot write histogram '%s': %d bins; expected 1 to %d, or 0 for %d", path,
                        bins, MAX_BINS, DEFAULT_BINS);
    for (int g = 0; g < n_groups; g++)
        if (counts[g] < 0 || (counts[g] > 0 && values[g] == NULL))
            return iae_fail(ctx, IAE_ERR_ARGUMENT,
                            "cannot write histogram '%s': group %d has %ld values at %s; expected "
                            "a count >= 0 and non-NULL values",
                            path, g, counts[g], values[g] ? "a valid pointer" : "NULL");

    histogram_data data = {.n_groups = n_groups, .bins = bins ? bins : DEFAULT_BINS};
    ch.data = &data;
    ch.draw_data = draw_histogram_data;

    /* Bin range: the given x range, or the finite values' range widened to
     * nice ticks. The axis then shows exactly the bins. */
    double v_lo = DBL_MAX, v_hi = -DBL_MAX;
    for (int g = 0; g < n_groups; g++)
        for (long i = 0; i < counts[g]; i++)
            if (isfinite(values[g][i])) {
                v_lo = fmin(v_lo, values[g][i]);
                v_hi = fmax(v_hi, values[g][i]);
            }
    if (ch.x_auto) {
        iae_ticks t;
        iae_nice_ticks(v_lo <= v_hi ? v_lo : NAN, v_lo <= v_hi ? v_hi : NAN, 12, 0, 1, &t);
        ch.x_lo = t.lo;
        ch.x_hi = t.hi;
        ch.x_auto = 0;
    }
    data.lo = ch.x_lo;
    data.hi = ch.x_hi;

    data.heights = iae_alloc(
        ctx, sizeof(double) * (size_t)(n_groups > 0 ? n_groups : 1) * data.bins, "histogram bins");
    if (data.heights == NULL) return IAE_ERR_NOMEM;
    st = legend_alloc(&ch, n_groups);
    if (st != IAE_OK) {
        iae_free(data.heights);
        return st;
    }
    double top = 0, smallest_positive = DBL_MAX;
    long binned_total = 0;
    for (int g = 0; g < n_groups; g++) {
        double *h = data.heights + (size_t)g * data.bins;
        long finite = 0, outside = 0;
        for (long i = 0; i < counts[g]; i++) {
            double v = values[g][i];
            if (!isfinite(v)) continue;
            finite++;
            if (v < data.lo || v > data.hi) {
                outside++;
                continue;
            }
            long b = (long)floor((v - data.lo) / (data.hi - data.lo) * data.bins);
            if (b < 0) b = 0;
            if (b >= data.bins) b = data.bins - 1; /* v == hi, or rounding */
            h[b] += 1;
        }
        binned_total += finite - outside;
        for (int b = 0; b < data.bins; b++) {
            if (o && o->normalize) h[b] = finite > 0 ? h[b] / finite : 0;
            top = fmax(top, h[b]);
            if (h[b] > 0) smallest_positive = fmin(smallest_positive, h[b]);
        }
        char text[300], number[24];
        snprintf(number, sizeof(number), "group %d", g + 1);
        const char *label = labels && has_text(labels[g]) ? labels[g] : number;
        if (outside > 0)
            snprintf(text, sizeof(text), "%.100s (n=%ld, %ld outside the x range)", label, finite,
                     outside);
        else
            snprintf(text, sizeof(text), "%.100s (n=%ld)", label, finite);
        legend_add(&ch, text, iae_plot_color(g), STYLE_SOLID, MARKER_NONE, PATCH_TRANSLUCENT);
    }
    ch.no_data = binned_total == 0;
    if (ch.y_auto) {
        if (!ch.o->log_y) {
            ch.y_lo = 0;
            ch.y_hi = ch.no_data ? 1 : top;
        } else if (ch.no_data) {
            ch.y_lo = ch.y_hi = NAN;
        } else {
            /* The smallest height sits above the axis end, so its bars stay
             * visible. */
            ch.y_lo = smallest_positive / 2;
            ch.y_hi = top;
        }
    }
    st = render_chart(&ch);
    iae_free(data.heights);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Grouped bar charts                                                        */
/* ------------------------------------------------------------------------ */

typedef struct {
    int n_groups, n_series;
    const double *values, *errors;
} bars_data;

static int bar_drawable(const chart *ch, double v) {
    return isfinite(v) && (!ch->o->log_y || v > 0);
}

static void draw_bars_data(chart *ch) {
    const bars_data *d = ch->data;
    double base_value = ch->o->log_y ? ch->yt.lo : fmin(fmax(0.0, ch->yt.lo), ch->yt.hi);
    long base = to_pixel(map_y(ch, base_value));
    double group_width = (ch->px1 - ch->px0) / d->n_groups;
    double bar_width = group_width * 0.8 / d->n_series;
    int gap = bar_width >= 6 ? 1 : 0;
    for (int pass = 0; pass < 2; pass++) /* bars, then error bars and notes on top */
        for (int s = 0; s < d->n_series; s++)
            for (int g = 0; g < d->n_groups; g++) {
                double left = ch->px0 + g * group_width + group_width * 0.1 + s * bar_width;
                long x0 = to_pixel(left), x1 = to_pixel(left + bar_width) - gap;
                if (x1 <= x0) x1 = x0 + 1;
                double center = (x0 + x1 - 1) / 2.0;
                double v = d->values[(size_t)s * d->n_groups + g];
                if (!bar_drawable(ch, v)) {
                    if (pass == 1 && x1 - x0 >= IAE_FONT_GLYPH_WIDTH)
                        iae_canvas_text(ch->cv, (int)to_pixel(center - 2),
                                        (int)base - CAP_HEIGHT - 2, "x", COLOR_MUTED, 1);
                    continue;
                }
                long top = to_pixel(map_y(ch, v));
                if (pass == 0) {
                    long y0 = top < base ? top : base, y1 = top < base ? base : top;
                    fill_rect_alpha(ch->cv, x0, y0, x1 - x0, y1 - y0 + 1, iae_plot_color(s), 1.0);
                    continue;
                }
                double e = d->errors ? fabs(d->errors[(size_t)s * d->n_groups + g]) : NAN;
                if (!isfinite(e) || e == 0) continue;
                double cx = floor(center); /* a whole pixel column keeps 1-pixel lines crisp */
                double y_hi = map_y(ch, v + e), y_lo = map_y(ch, v - e);
                if (!isfinite(y_lo)) y_lo = ch->fy1 + 10.0; /* v - e <= 0 on a log axis */
                double cap = fmin(fmax(bar_width * 0.25, 2), 6);
                iae_canvas_line(ch->cv, cx, y_hi, cx, y_lo, COLOR_TEXT, 1);
                iae_canvas_line(ch->cv, cx - cap, y_hi, cx + cap, y_hi, COLOR_TEXT, 1);
                iae_canvas_line(ch->cv, cx - cap, y_lo, cx + cap, y_lo, COLOR_TEXT, 1);
            }
}

iae_status iae_plot_bars(iae_ctx *ctx, const char *path, const iae_chart_opts *o,
                         const char *const *group_names, int n_groups,
                         const char *const *series_names, int n_series, const double *values,
                         const double *errors) {
    chart ch;
    iae_status st = chart_init(ctx, &ch, path, o, "bar chart");
    if (st != IAE_OK) return st;
    if (n_groups < 0 || n_series < 0 || (n_groups > 0 && n_series > 0 && values == NULL))
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "cannot write bar chart '%s': %d groups, %d series, values %s; expected "
                        "counts >= 0 and values non-NULL when both are positive",
                        path, n_groups, n_series, values ? "set" : "NULL");
    if (!ch.x_auto)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "cannot write bar chart '%s': x_min %g and x_max %g set; the x axis of a "
                        "bar chart shows the groups, so leave both equal",
                        path, ch.o->x_min, ch.o->x_max);

    bars_data data = {n_groups, n_series, values, errors};
    ch.data = &data;
    ch.draw_data = draw_bars_data;
    ch.categories = n_groups > 0 ? n_groups : 1;
    ch.category_names = group_names;
    ch.category_labels_hidden = n_groups == 0;

    double lo = DBL_MAX, hi = -DBL_MAX;
    for (long i = 0; i < (long)n_groups * n_series; i++) {
        if (!bar_drawable(&ch, values[i])) continue;
        double e = errors && isfinite(errors[i]) ? fabs(errors[i]) : 0;
        lo = fmin(lo, values[i]);
        hi = fmax(hi, values[i]);
        hi = fmax(hi, values[i] + e);
        if (!ch.o->log_y || values[i] - e > 0) lo = fmin(lo, values[i] - e);
    }
    ch.no_data = lo > hi;
    if (ch.y_auto) {
        if (ch.no_data) {
            ch.y_lo = ch.o->log_y ? NAN : 0;
            ch.y_hi = ch.o->log_y ? NAN : 1;
        } else if (ch.o->log_y) {
            ch.y_lo = lo / 2; /* keeps the lowest bar visible above the axis end */
            ch.y_hi = hi;
        } else {
            /* Bars start at 0, so a linear axis includes it. */
            ch.y_lo = fmin(lo, 0);
            ch.y_hi = fmax(hi, 0);
        }
    }

    st = legend_alloc(&ch, n_series);
    if (st != IAE_OK) return st;
    for (int s = 0; s < n_series && (series_names != NULL || n_series > 1); s++) {
        char number[24];
        snprintf(number, sizeof(number), "series %d", s + 1);
        const char *name = series_names && has_text(series_names[s]) ? series_names[s] : number;
        legend_add(&ch, name, iae_plot_color(s), STYLE_SOLID, MARKER_NONE, PATCH_OPAQUE);
    }
    return render_chart(&ch);
}

/* ------------------------------------------------------------------------ */
/* Image grids                                                               */
/* ------------------------------------------------------------------------ */

enum {
    CAPTION_LINES = 3, /* captions wrap to at most this many lines */
    CAPTION_BYTES = 128,
    GRID_COLUMN_GAP = 16,
    GRID_ROW_GAP = 12,
    GRID_MIN_COLUMN = 72,   /* narrow images still get room for a caption */
    GRID_AUTO_HEIGHT = 128, /* automatic scale: largest tile at most this tall */
    GRID_MAX_SCALE = 64,
    GRID_MAX_TITLE_WIDTH = 1200,
    COLOR_TILE_EDGE = 0xB4B4B4,
};

/* Wrap text into at most max_lines lines of at most max_width pixels,
 * breaking at spaces where possible and at '\n' always. A last line that
 * cannot hold the rest ends with "..". Returns the number of lines. */
static int wrap_text(const char *text, int max_width, char lines[][CAPTION_BYTES], int max_lines) {
    int n = 0;
    int max_chars = max_width / IAE_FONT_ADVANCE;
    if (max_chars < 1) max_chars = 1;
    const char *p = text ? text : "";
    while (*p && n < max_lines) {
        const char *q = p, *last_space = NULL;
        int chars = 0;
        while (*q && *q != '\n') {
            if (starts_character((unsigned char)*q)) {
                if (chars == max_chars) break;
                chars++;
            }
            if (*q == ' ') last_space = q;
            q++;
        }
        const char *end = q, *next = q;
        if (*q == '\n') {
            next = q + 1;
        } else if (*q && last_space != NULL && last_space > p) {
            end = last_space;
            next = last_space + 1;
        }
        const char *rest = next;
        while (*rest == ' ') rest++;
        if (n == max_lines - 1 && *rest) {
            fit_text(p, 1, max_width, lines[n++], CAPTION_BYTES);
            break;
        }
        size_t len = (size_t)(end - p) < CAPTION_BYTES - 1 ? (size_t)(end - p) : CAPTION_BYTES - 1;
        memcpy(lines[n], p, len);
        lines[n++][len] = 0;
        p = next;
    }
    return n;
}

iae_status iae_plot_image_grid(iae_ctx *ctx, const char *path, const char *title,
                               const char *const *col_titles, const iae_tile *tiles, int rows,
                               int cols, int scale) {
    if (path == NULL)
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "cannot write an image grid: path is NULL");
    if (rows < 1 || cols < 1 || tiles == NULL)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "cannot write image grid '%s': %d x %d tiles (rows x columns) at %p; "
                        "expected at least 1 x 1 and tiles non-NULL",
                        path, rows, cols, (const void *)tiles);
    if (scale < 0 || scale > GRID_MAX_SCALE)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "cannot write image grid '%s': scale %d; expected 1 to %d, or 0 for "
                        "automatic",
                        path, scale, GRID_MAX_SCALE);
    long n_tiles = (long)rows * cols;
    if (n_tiles > IAE_IMAGE_MAX_PIXELS)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "cannot write image grid '%s': %d x %d tiles are too many", path, rows,
                        cols);
    int max_h = 1, max_w = 1;
    for (long i = 0; i < n_tiles; i++) {
        const iae_tile *t = &tiles[i];
        if (t->pixels == NULL) continue;
        if (t->h < 1 || t->w < 1 || t->h > IAE_IMAGE_MAX_SIDE || t->w > IAE_IMAGE_MAX_SIDE ||
            t->channels < 1)
            return iae_fail(ctx, IAE_ERR_ARGUMENT,
                            "cannot write image grid '%s': tile %ld (row %ld, column %ld) is %d x "
                            "%d pixels with %d channels; expected 1 to %d per side and at least "
                            "1 channel",
                            path, i, i / cols, i % cols, t->w, t->h, t->channels,
                            IAE_IMAGE_MAX_SIDE);
        if (t->h > max_h) max_h = t->h;
        if (t->w > max_w) max_w = t->w;
    }
    if (scale == 0) scale = max_h < GRID_AUTO_HEIGHT ? GRID_AUTO_HEIGHT / max_h : 1;

    /* Layout: title, column titles, then rows of cells with captions. */
    long cell_w = (long)max_w * scale, cell_h = (long)max_h * scale;
    long col_w = cell_w > GRID_MIN_COLUMN ? cell_w : GRID_MIN_COLUMN;
    long title_h = has_text(title) ? TEXT_HEIGHT * TITLE_SCALE + 10 : 0;
    int any_col_title = 0;
    for (int c = 0; col_titles && c < cols; c++) any_col_title |= has_text(col_titles[c]);
    long col_title_h = any_col_title ? TEXT_HEIGHT + 6 : 0;
    long width = 2L * PAD + cols * col_w + (cols - 1L) * GRID_COLUMN_GAP;
    if (has_text(title)) {
        /* A long title widens the canvas up to GRID_MAX_TITLE_WIDTH and is
         * shortened beyond it. */
        long title_width = 2L * PAD + iae_text_width(title, TITLE_SCALE);
        if (title_width > GRID_MAX_TITLE_WIDTH) title_width = GRID_MAX_TITLE_WIDTH;
        if (title_width > width) width = title_width;
    }
    long height = 2L * PAD + title_h + col_title_h;
    char(*lines)[CAPTION_BYTES] = NULL;
    int *row_lines = iae_alloc(ctx, sizeof(int) * (size_t)rows, "image grid rows");
    if (row_lines == NULL) return IAE_ERR_NOMEM;
    for (int r = 0; r < rows; r++) {
        char probe[CAPTION_LINES][CAPTION_BYTES];
        for (int c = 0; c < cols; c++) {
            int n = wrap_text(tiles[(long)r * cols + c].caption, (int)col_w, probe, CAPTION_LINES);
            if (n > row_lines[r]) row_lines[r] = n;
        }
        height += cell_h + 2 + (long)row_lines[r] * IAE_FONT_LINE_HEIGHT + (row_lines[r] ? 4 : 0);
        if (r + 1 < rows) height += GRID_ROW_GAP;
    }
    if (width > IAE_IMAGE_MAX_SIDE || height > IAE_IMAGE_MAX_SIDE ||
        width * height > IAE_IMAGE_MAX_PIXELS) {
        iae_free(row_lines);
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "cannot write image grid '%s': %d x %d tiles at scale %d need %ld x %ld "
                        "pixels; expected at most %d per side and %ld pixels, so lower the scale "
                        "or split the grid",
                        path, rows, cols, scale, width, height, IAE_IMAGE_MAX_SIDE,
                        IAE_IMAGE_MAX_PIXELS);
    }

    iae_canvas *cv;
    iae_status st = iae_canvas_create(ctx, (int)width, (int)height, &cv);
    if (st != IAE_OK) {
        iae_free(row_lines);
        return st;
    }
    char buf[512];
    long grid_w = cols * col_w + (cols - 1L) * GRID_COLUMN_GAP;
    long x_start = (width - grid_w) / 2;
    if (has_text(title)) {
        fit_text(title, TITLE_SCALE, (int)width - 2 * PAD, buf, sizeof(buf));
        iae_canvas_text(cv, (int)(width - iae_text_width(buf, TITLE_SCALE)) / 2, PAD, buf,
                        COLOR_TEXT, TITLE_SCALE);
    }
    long y = PAD + title_h;
    for (int c = 0; any_col_title && c < cols; c++) {
        fit_text(col_titles[c], 1, (int)col_w, buf, sizeof(buf));
        long x = x_start + c * (col_w + GRID_COLUMN_GAP) + (col_w - iae_text_width(buf, 1)) / 2;
        iae_canvas_text(cv, (int)x, (int)y, buf, COLOR_TEXT, 1);
    }
    y += col_title_h;
    lines = iae_alloc(ctx, sizeof(*lines) * CAPTION_LINES, "caption lines");
    if (lines == NULL) st = IAE_ERR_NOMEM;
    for (int r = 0; r < rows && st == IAE_OK; r++) {
        for (int c = 0; c < cols; c++) {
            const iae_tile *t = &tiles[(long)r * cols + c];
            long cell_x = x_start + c * (col_w + GRID_COLUMN_GAP);
            if (t->pixels != NULL) {
                long tile_w = (long)t->w * scale, tile_h = (long)t->h * scale;
                long x = cell_x + (col_w - tile_w) / 2, top = y + (cell_h - tile_h) / 2;
                iae_canvas_rect(cv, (int)x - 1, (int)top - 1, (int)tile_w + 2, (int)tile_h + 2,
                                COLOR_TILE_EDGE, 0);
                draw_image(cv, (int)x, (int)top, t->pixels, t->h, t->w, t->channels, t->lo, t->hi,
                           scale, t->heat);
            }
            int n = wrap_text(t->caption, (int)col_w, lines, CAPTION_LINES);
            for (int k = 0; k < n; k++) {
                long x = cell_x + (col_w - iae_text_width(lines[k], 1)) / 2;
                iae_canvas_text(cv, (int)x, (int)(y + cell_h + 4 + (long)k * IAE_FONT_LINE_HEIGHT),
                                lines[k], COLOR_TEXT, 1);
            }
        }
        y += cell_h + 2 + (long)row_lines[r] * IAE_FONT_LINE_HEIGHT + (row_lines[r] ? 4 : 0) +
             GRID_ROW_GAP;
    }
    if (st == IAE_OK) st = iae_canvas_save_png(ctx, cv, path);
    iae_free(lines);
    iae_free(row_lines);
    iae_canvas_free(cv);
    return st;
}
