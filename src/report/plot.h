/*
 * Raster plots written as PNG: an RGB canvas with drawing primitives and a
 * built-in bitmap font, and charts built on it (line charts such as ROC and
 * loss curves, histograms, grouped bar charts, image grids).
 *
 * Coordinates are in pixels with the origin at the top-left corner and y
 * pointing down. Integer coordinates (x, y) name the center of the pixel in
 * column x and row y. Colors are 0xRRGGBB. Every primitive clips to the
 * canvas, so any coordinates are safe, and skips NaN or infinite ones.
 *
 * Chart layout: white background, a title above the plot area, axis titles,
 * tick labels with "nice" values (1, 2 or 5 times a power of ten), light grid
 * lines, and a legend. The legend goes into the first inner corner of the plot
 * area (top-right, top-left, bottom-right, bottom-left) that no data covers,
 * and below the plot area when every corner is covered.
 */
#ifndef IAE_PLOT_H
#define IAE_PLOT_H

#include <stdint.h>

#include "core/core.h"

/* ------------------------------------------------------------------------ */
/* Canvas                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct iae_canvas iae_canvas; /* an RGB raster, 8 bits per channel */

/* Create a white canvas of width x height pixels. Sides must be 1 to
 * IAE_IMAGE_MAX_SIDE and the pixel count at most IAE_IMAGE_MAX_PIXELS (see
 * data/image.h). Free it with iae_canvas_free. */
iae_status iae_canvas_create(iae_ctx *ctx, int width, int height, iae_canvas **out);

/* Free c. Safe on NULL. */
void iae_canvas_free(iae_canvas *c);

int iae_canvas_width(const iae_canvas *c);
int iae_canvas_height(const iae_canvas *c);

/* Return the color of pixel (x, y) as 0xRRGGBB, or 0xFFFFFFFF (not a valid
 * color) when (x, y) lies outside the canvas. */
uint32_t iae_canvas_pixel(const iae_canvas *c, int x, int y);

/* Write c as an 8-bit RGB PNG, atomically (see iae_image_write_png). */
iae_status iae_canvas_save_png(iae_ctx *ctx, const iae_canvas *c, const char *path);

/* Draw an anti-aliased line from (x0, y0) to (x1, y1) with round caps.
 * thickness is the width in pixels (values below 1 draw 1 pixel wide). A
 * pixel at distance d from the segment gets coverage
 * clamp(thickness / 2 + 0.5 - d, 0, 1) and is blended with that weight, so a
 * 1-pixel horizontal line at integer y covers exactly one row. */
void iae_canvas_line(iae_canvas *c, double x0, double y0, double x1, double y1, uint32_t rgb,
                     int thickness);

/* Draw the w x h pixel rectangle whose top-left pixel is (x, y): filled, or
 * when filled is 0 its 1-pixel outline. Nothing is drawn when w or h < 1. */
void iae_canvas_rect(iae_canvas *c, int x, int y, int w, int h, uint32_t rgb, int filled);

/* Draw text with its top-left corner at (x, y), each font pixel enlarged to a
 * scale x scale square (scale < 1 draws at 1). '\n' starts a new line
 * IAE_FONT_LINE_HEIGHT * scale pixels lower. Text is taken as UTF-8, and every
 * character outside printable ASCII (32..126) draws as a box. */
void iae_canvas_text(iae_canvas *c, int x, int y, const char *text, uint32_t rgb, int scale);

/* Return the width in pixels of text's widest line drawn at scale:
 * characters x IAE_FONT_ADVANCE x scale. A UTF-8 multi-byte sequence counts
 * as one character. */
int iae_text_width(const char *text, int scale);

/* Draw a (C, H, W) float image with its top-left pixel at (x, y), each image
 * pixel enlarged to a scale x scale square. Values are mapped linearly from
 * lo..hi to 0..255 and clamped. lo >= hi (or a non-finite bound) selects the
 * image's own finite min..max, and a constant image falls back to 0..1.
 * channels 3 is RGB, and any other count draws channel 0 as gray. NaN and
 * infinite values draw magenta (0xFF00FF). */
void iae_canvas_image(iae_canvas *c, int x, int y, const float *pixels, int h, int w, int channels,
                      float lo, float hi, int scale);

/* ------------------------------------------------------------------------ */
/* Bitmap font                                                               */
/* ------------------------------------------------------------------------ */

/* Glyphs are 5 x 9 cells: rows 0..6 lie above the baseline (capital height 7,
 * lower-case x-height 5) and rows 7..8 hold descenders. */
#define IAE_FONT_GLYPH_WIDTH 5
#define IAE_FONT_GLYPH_HEIGHT 9
#define IAE_FONT_ADVANCE 6      /* horizontal distance between characters */
#define IAE_FONT_LINE_HEIGHT 11 /* vertical distance between lines */

/* Store the glyph of ch in rows[0..8], top row first, bit 4 being the left
 * column. Returns 1 for printable ASCII (32..126). Any other ch stores the
 * box glyph drawn for unknown characters and returns 0. */
int iae_font_glyph(int ch, uint8_t rows[IAE_FONT_GLYPH_HEIGHT]);

/* ------------------------------------------------------------------------ */
/* Axis ticks                                                                */
/* ------------------------------------------------------------------------ */

#define IAE_TICKS_MAX 32
#define IAE_TICK_LABEL_BYTES 16

typedef struct {
    double lo, hi; /* axis range: the input range, or widened to the outer ticks */
    double step;   /* distance between ticks, or on log axes their ratio (0: 1-2-5) */
    int n;         /* number of ticks */
    double values[IAE_TICKS_MAX];
    char labels[IAE_TICKS_MAX][IAE_TICK_LABEL_BYTES]; /* "0.25", "1e-3", "1.5k" */
} iae_ticks;

/* Choose at most max_ticks (clamped to 2..20) tick values within [lo, hi].
 *
 * Linear axes step by 1, 2 or 5 times a power of ten, the smallest such step
 * that keeps the count within max_ticks. Log axes (log_scale != 0, values
 * <= 0 replaced by a positive range) use powers of ten, every k-th decade when
 * there are too many, and 1-2-5 values or linear steps when the range spans
 * less than two of them. With expand != 0 the range first widens to the
 * nearest ticks outside it, so 0..7.3 becomes 0..8.
 *
 * Labels are compact: the decimals the step needs ("0.25", "0.5"), k, M, G
 * and T suffixes from 10000 up ("15k"), and "2.5e-4" style below 0.001. Log
 * labels use the e style throughout ("1e-3", "1e0") when any tick lies below
 * 0.01 or from 10000 up.
 *
 * Degenerate ranges: a reversed range is swapped. A range that is empty or
 * too narrow for distinct ticks widens to 10% around its center (-1..1
 * around 0). A non-finite end is replaced by the finite one, and with no
 * finite end the range is 0..1 (1..10 on log axes). */
void iae_nice_ticks(double lo, double hi, int max_ticks, int log_scale, int expand, iae_ticks *out);

/* ------------------------------------------------------------------------ */
/* Charts                                                                    */
/* ------------------------------------------------------------------------ */

#define IAE_PLOT_DEFAULT_WIDTH 800
#define IAE_PLOT_DEFAULT_HEIGHT 560

/* Return the color of series i: 10 distinct colors, repeating for i >= 10
 * (line charts then switch to dashed and dotted lines and other markers). */
uint32_t iae_plot_color(int i);

/* One line series. x NULL means x = 1, 2, ..., n (epochs). Points with a NaN
 * or infinite coordinate, or y <= 0 on a log axis, are skipped and break the
 * line. Isolated points, and every point of a series of at most 40 points,
 * get a marker. */
typedef struct {
    const char *label; /* legend text, or NULL for no legend entry */
    const double *x, *y;
    int n;
} iae_series;

/* Chart options. A zeroed struct is valid: no titles, linear axes, automatic
 * ranges, an 800 x 560 canvas. */
typedef struct {
    const char *title, *x_label, *y_label; /* NULL or "" for none */
    int log_y;                             /* logarithmic y axis (values <= 0 skipped) */
    double x_min, x_max, y_min, y_max;     /* equal min and max: automatic range from the data */
    int diagonal;      /* line charts: draw the dashed chance diagonal y = x (ROC plots) */
    int normalize;     /* histograms: fraction of each group's values per bin, not counts */
    int width, height; /* canvas size in pixels, 0 for 800 x 560 */
} iae_chart_opts;

/* Write a line chart of the n series s to path as PNG. An automatic axis
 * range widens to the enclosing ticks. Without any drawable point the chart
 * still has axes and shows "no data". */
iae_status iae_plot_lines(iae_ctx *ctx, const char *path, const iae_chart_opts *o,
                          const iae_series *s, int n);

/* Write a histogram of n_groups groups of values (group g has counts[g]
 * values at values[g]) to path. All groups use the same `bins` equal-width
 * bins (0 selects 30, at most 4096). The bins span the finite values' range
 * widened to nice ticks, or x_min..x_max when given, and values outside that
 * range are left out and counted in the legend. NaN and infinite values are
 * skipped. Each group is drawn as translucent bars with a solid outline,
 * overlaid, and its legend entry gives its number of finite values. labels
 * and single labels may be NULL ("group 1", ...). */
iae_status iae_plot_histogram(iae_ctx *ctx, const char *path, const iae_chart_opts *o,
                              const char *const *labels, const float *const *values,
                              const long *counts, int n_groups, int bins);

/* Write a grouped bar chart to path: groups along x (for example classes),
 * one bar per series within each group (for example models). values and
 * errors are (n_series, n_groups) row-major. A NaN value is missing and
 * draws a small gray "x". errors (NULL for none) draws error bars of +-error.
 * series_names NULL names the series "series 1", ..., and a single unnamed
 * series gets no legend.
 * Bars start at 0, or at the axis end nearest 0 when 0 is outside the y
 * range. Group names that do not fit side by side are drawn vertically. */
iae_status iae_plot_bars(iae_ctx *ctx, const char *path, const iae_chart_opts *o,
                         const char *const *group_names, int n_groups,
                         const char *const *series_names, int n_series, const double *values,
                         const double *errors);

/* One cell of an image grid. */
typedef struct {
    const float *pixels; /* (C, H, W), or NULL for an empty cell */
    int channels, h, w;  /* channels 3 is RGB, any other count draws channel 0 */
    float lo, hi;        /* value range mapped to black..white, as iae_canvas_image */
    int heat;            /* draw channel 0 with a black-red-yellow-white map (error maps) */
    const char *caption; /* text below the image, or NULL */
} iae_tile;

/* Write a grid of rows x cols tiles (row-major) to path, for example input,
 * reconstruction and error map side by side. Each image is enlarged by the
 * integer factor scale, or when scale is 0 by the largest factor that keeps
 * the biggest tile at most 128 pixels tall (at least 1). col_titles (NULL for
 * none) heads the columns. Captions wider than a cell are shortened to end
 * with "..". */
iae_status iae_plot_image_grid(iae_ctx *ctx, const char *path, const char *title,
                               const char *const *col_titles, const iae_tile *tiles, int rows,
                               int cols, int scale);

#endif
