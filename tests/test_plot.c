/*
 * Tests of the raster plots in report/plot.h: tick values and labels worked
 * out by hand, font and primitive pixels at known positions, and charts read
 * back from their PNG files. Chart checks locate the plot frame in the image
 * itself (the long dark gray lines) and test where the data colors appear
 * relative to it, so they do not depend on margin sizes.
 *
 * Set IAE_PLOT_EXAMPLES to a folder to keep the example charts of
 * plot_examples_render there for viewing.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/image.h"
#include "report/plot.h"
#include "testutil.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

#define WHITE 0xFFFFFFu

static uint32_t image_pixel(const iae_image *img, int x, int y) {
    const uint8_t *p = img->data + ((size_t)y * img->w + x) * 3;
    return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static int red_of(uint32_t c) { return (int)(c >> 16 & 0xFF); }
static int green_of(uint32_t c) { return (int)(c >> 8 & 0xFF); }
static int blue_of(uint32_t c) { return (int)(c & 0xFF); }

/* White or light gray (the background and grid lines). */
static int is_background(uint32_t c) {
    return red_of(c) == green_of(c) && green_of(c) == blue_of(c) && red_of(c) >= 0xE0;
}

/* Dark gray, as the frame and text are drawn. */
static int is_dark_gray(uint32_t c) {
    return red_of(c) == green_of(c) && green_of(c) == blue_of(c) && red_of(c) < 0x80;
}

static void read_png(const char *path, iae_image *img) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    if (iae_image_read(&ctx, path, 3, img) != IAE_OK) fail_msg("%s", ctx.error);
}

static void expect_ok(iae_ctx *ctx, iae_status st, const char *call) {
    if (st != IAE_OK) fail_msg("%s failed: %s", call, ctx->error);
}

static void expect_in_message(const iae_ctx *ctx, const char *needle) {
    if (strstr(ctx->error, needle) == NULL)
        fail_msg("error message \"%s\" does not contain \"%s\"", ctx->error, needle);
}

static void expect_white_corners(const iae_image *img) {
    assert_int_equal(image_pixel(img, 0, 0), WHITE);
    assert_int_equal(image_pixel(img, img->w - 1, 0), WHITE);
    assert_int_equal(image_pixel(img, 0, img->h - 1), WHITE);
    assert_int_equal(image_pixel(img, img->w - 1, img->h - 1), WHITE);
}

typedef struct {
    int x0, y0, x1, y1; /* frame lines, inclusive */
} frame;

/* Longest run of one dark gray color along a column (vertical) or a row. */
static int dark_run(const iae_image *img, int fixed, int vertical) {
    int best = 0, run = 0;
    uint32_t prev = 0;
    int length = vertical ? img->h : img->w;
    for (int i = 0; i < length; i++) {
        uint32_t c = vertical ? image_pixel(img, fixed, i) : image_pixel(img, i, fixed);
        run = is_dark_gray(c) && (run == 0 || c == prev) ? run + 1 : is_dark_gray(c) ? 1 : 0;
        prev = c;
        if (run > best) best = run;
    }
    return best;
}

/* Find the plot frame: the outermost columns and rows holding a dark gray
 * run of at least a third of the image. */
static frame find_frame(const iae_image *img) {
    frame f = {-1, -1, -1, -1};
    for (int x = 0; x < img->w; x++)
        if (dark_run(img, x, 1) >= img->h / 3) {
            if (f.x0 < 0) f.x0 = x;
            f.x1 = x;
        }
    for (int y = 0; y < img->h; y++)
        if (dark_run(img, y, 0) >= img->w / 3) {
            if (f.y0 < 0) f.y0 = y;
            f.y1 = y;
        }
    if (f.x0 < 0 || f.y0 < 0 || f.x1 - f.x0 < 100 || f.y1 - f.y0 < 100)
        fail_msg("no plot frame found: columns %d..%d, rows %d..%d", f.x0, f.x1, f.y0, f.y1);
    return f;
}

/* Return 1 when color appears in the rectangle x0..x1, y0..y1 (inclusive). */
static int color_in(const iae_image *img, uint32_t color, int x0, int y0, int x1, int y1) {
    for (int y = y0 < 0 ? 0 : y0; y <= y1 && y < img->h; y++)
        for (int x = x0 < 0 ? 0 : x0; x <= x1 && x < img->w; x++)
            if (image_pixel(img, x, y) == color) return 1;
    return 0;
}

/* Pixels of the plot frame's interior at fractions (fx, fy) of its width and
 * height, fy measured upwards from the bottom. */
static int frame_x(const frame *f, double fx) {
    return (int)lrint(f->x0 + 1 + fx * (f->x1 - f->x0 - 2));
}
static int frame_y(const frame *f, double fy) {
    return (int)lrint(f->y1 - 1 - fy * (f->y1 - f->y0 - 2));
}

/* Height of the non-background run that starts just above the frame bottom
 * in column x. */
static int height_from_bottom(const iae_image *img, const frame *f, int x) {
    int h = 0;
    for (int y = f->y1 - 1; y > f->y0 && !is_background(image_pixel(img, x, y)); y--) h++;
    return h;
}

static const char *test_dir(void) {
    static const char *dir = NULL;
    if (dir == NULL) dir = tu_tmpdir("plot");
    return dir;
}

/* ------------------------------------------------------------------------ */
/* Ticks                                                                     */
/* ------------------------------------------------------------------------ */

static void expect_ticks(const iae_ticks *t, int n, const double *values,
                         const char *const *labels) {
    if (t->n != n)
        fail_msg("%d ticks, expected %d (first %g, last %g)", t->n, n, t->values[0],
                 t->values[t->n - 1]);
    for (int i = 0; i < n; i++) {
        if (fabs(t->values[i] - values[i]) > 1e-9 * fmax(1, fabs(values[i])))
            fail_msg("tick %d is %.17g, expected %.17g", i, t->values[i], values[i]);
        if (strcmp(t->labels[i], labels[i]) != 0)
            fail_msg("tick %d label is \"%s\", expected \"%s\"", i, t->labels[i], labels[i]);
    }
}

static void ticks_linear_unit_range(void **state) {
    iae_ticks t;
    iae_nice_ticks(0, 1, 6, 0, 0, &t);
    const double values[] = {0, 0.2, 0.4, 0.6, 0.8, 1};
    const char *labels[] = {"0", "0.2", "0.4", "0.6", "0.8", "1"};
    expect_ticks(&t, 6, values, labels);
    assert_true(fabs(t.step - 0.2) < 1e-12);
    assert_true(t.lo == 0 && t.hi == 1);

    /* More room: steps of 0.1, never 0.05 for 12 ticks. */
    iae_nice_ticks(0, 1, 12, 0, 0, &t);
    assert_int_equal(t.n, 11);
    assert_string_equal(t.labels[3], "0.3");
}

static void ticks_linear_expand(void **state) {
    iae_ticks t;
    /* 7.3 / 5 intervals = 1.46, so the step is 2 and the range widens to 8. */
    iae_nice_ticks(0, 7.3, 6, 0, 1, &t);
    const double values[] = {0, 2, 4, 6, 8};
    const char *labels[] = {"0", "2", "4", "6", "8"};
    expect_ticks(&t, 5, values, labels);
    assert_true(t.lo == 0 && t.hi == 8);

    /* Without widening the range stays and 8 is left out. */
    iae_nice_ticks(0, 7.3, 6, 0, 0, &t);
    expect_ticks(&t, 4, values, labels);
    assert_true(t.hi == 7.3);

    /* 0.13..0.87 with 8 ticks: 0.74 / 7 = 0.106 rounds up to a step of 0.2,
     * and the widened range 0..1 contains 6 ticks. */
    iae_nice_ticks(0.13, 0.87, 8, 0, 1, &t);
    assert_true(fabs(t.step - 0.2) < 1e-12);
    assert_true(t.lo == 0 && fabs(t.hi - 1) < 1e-12);

    /* Negative values. */
    iae_nice_ticks(-1, 1, 5, 0, 0, &t);
    const double symmetric[] = {-1, -0.5, 0, 0.5, 1};
    const char *symmetric_labels[] = {"-1", "-0.5", "0", "0.5", "1"};
    expect_ticks(&t, 5, symmetric, symmetric_labels);
}

static void ticks_compact_labels(void **state) {
    iae_ticks t;
    iae_nice_ticks(0, 20000, 5, 0, 0, &t);
    const double thousands[] = {0, 5000, 10000, 15000, 20000};
    const char *thousands_labels[] = {"0", "5k", "10k", "15k", "20k"};
    expect_ticks(&t, 5, thousands, thousands_labels);

    /* Below 10000 the values stay plain. */
    iae_nice_ticks(0, 2000, 5, 0, 0, &t);
    const double hundreds[] = {0, 500, 1000, 1500, 2000};
    const char *hundreds_labels[] = {"0", "500", "1000", "1500", "2000"};
    expect_ticks(&t, 5, hundreds, hundreds_labels);

    /* 3000 / 7 = 429, so steps of 500 from 9000 to 12000. */
    iae_nice_ticks(9000, 12000, 8, 0, 0, &t);
    const double halves[] = {9000, 9500, 10000, 10500, 11000, 11500, 12000};
    const char *halves_labels[] = {"9k", "9.5k", "10k", "10.5k", "11k", "11.5k", "12k"};
    expect_ticks(&t, 7, halves, halves_labels);

    iae_nice_ticks(0, 4e-4, 5, 0, 0, &t);
    const double small[] = {0, 1e-4, 2e-4, 3e-4, 4e-4};
    const char *small_labels[] = {"0", "1e-4", "2e-4", "3e-4", "4e-4"};
    expect_ticks(&t, 5, small, small_labels);

    iae_nice_ticks(1e-4, 2e-4, 3, 0, 0, &t);
    const double mantissas[] = {1e-4, 1.5e-4, 2e-4};
    const char *mantissa_labels[] = {"1e-4", "1.5e-4", "2e-4"};
    expect_ticks(&t, 3, mantissas, mantissa_labels);

    iae_nice_ticks(0, 0.25, 6, 0, 0, &t);
    const double twentieths[] = {0, 0.05, 0.1, 0.15, 0.2, 0.25};
    const char *twentieths_labels[] = {"0", "0.05", "0.1", "0.15", "0.2", "0.25"};
    expect_ticks(&t, 6, twentieths, twentieths_labels);

    iae_nice_ticks(2e6, 3e6, 3, 0, 0, &t);
    const char *millions_labels[] = {"2M", "2.5M", "3M"};
    const double millions[] = {2e6, 2.5e6, 3e6};
    expect_ticks(&t, 3, millions, millions_labels);
}

static void ticks_log_scale(void **state) {
    iae_ticks t;
    iae_nice_ticks(1e-4, 1, 8, 1, 0, &t);
    const double decades[] = {1e-4, 1e-3, 1e-2, 1e-1, 1};
    const char *decade_labels[] = {"1e-4", "1e-3", "1e-2", "1e-1", "1e0"};
    expect_ticks(&t, 5, decades, decade_labels);
    assert_true(fabs(t.step - 10) < 1e-9);

    /* 15 decades with at most 6 ticks: every third decade. */
    iae_nice_ticks(1e-12, 1e3, 6, 1, 0, &t);
    const double thirds[] = {1e-12, 1e-9, 1e-6, 1e-3, 1, 1e3};
    const char *third_labels[] = {"1e-12", "1e-9", "1e-6", "1e-3", "1e0", "1e3"};
    expect_ticks(&t, 6, thirds, third_labels);

    /* Loss values 0.03..2.5 widened to whole decades 0.01..10 when the
     * 1-2-5 values would be too many. */
    iae_nice_ticks(0.03, 25, 5, 1, 1, &t);
    const double widened[] = {0.01, 0.1, 1, 10, 100};
    const char *widened_labels[] = {"0.01", "0.1", "1", "10", "100"};
    expect_ticks(&t, 5, widened, widened_labels);
    assert_true(fabs(t.lo - 0.01) < 1e-15 && fabs(t.hi - 100) < 1e-9);

    /* Less than two decades: the 1-2-5 sequence, widened to 0.2..5. */
    iae_nice_ticks(0.3, 5, 8, 1, 1, &t);
    const double sequence[] = {0.2, 0.5, 1, 2, 5};
    const char *sequence_labels[] = {"0.2", "0.5", "1", "2", "5"};
    expect_ticks(&t, 5, sequence, sequence_labels);

    /* Within one 1-2-5 interval: linear steps, all positive. */
    iae_nice_ticks(0.3, 0.45, 6, 1, 1, &t);
    assert_true(t.n >= 2);
    for (int i = 0; i < t.n; i++) assert_true(t.values[i] > 0);
    assert_true(t.lo > 0);
}

/* Every range gives increasing, finite ticks inside a finite range. */
static void ticks_degenerate_ranges(void **state) {
    const double cases[][2] = {
        {5, 5},
        {0, 0},
        {-3, -3},
        {NAN, NAN},
        {NAN, 2},
        {1, 0},
        {INFINITY, -INFINITY},
        {-1e308, 1e308},
        {1, 1 + 1e-15},
        {1e-300, 2e-300},
        {0, 1e-320},
    };
    for (int log_scale = 0; log_scale < 2; log_scale++)
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
            for (int expand = 0; expand < 2; expand++) {
                iae_ticks t;
                iae_nice_ticks(cases[i][0], cases[i][1], 6, log_scale, expand, &t);
                if (!(isfinite(t.lo) && isfinite(t.hi) && t.lo < t.hi))
                    fail_msg("case %zu (log %d): range %g..%g", i, log_scale, t.lo, t.hi);
                if (log_scale && !(t.lo > 0)) fail_msg("case %zu: log range starts at %g", i, t.lo);
                if (t.n < 1 || t.n > IAE_TICKS_MAX)
                    fail_msg("case %zu (log %d): %d ticks", i, log_scale, t.n);
                for (int k = 0; k < t.n; k++) {
                    assert_true(isfinite(t.values[k]));
                    assert_true(t.labels[k][0] != 0);
                    if (k > 0 && !(t.values[k] > t.values[k - 1]))
                        fail_msg("case %zu (log %d): tick %d (%g) not above %g", i, log_scale, k,
                                 t.values[k], t.values[k - 1]);
                }
            }
    /* An all-equal range gets a small range around its value. */
    iae_ticks t;
    iae_nice_ticks(5, 5, 6, 0, 1, &t);
    assert_true(t.lo < 5 && t.hi > 5 && t.hi - t.lo <= 2);
}

/* ------------------------------------------------------------------------ */
/* Font and text                                                             */
/* ------------------------------------------------------------------------ */

static void font_glyph_table(void **state) {
    uint8_t glyphs[95][IAE_FONT_GLYPH_HEIGHT];
    for (int ch = 32; ch <= 126; ch++) {
        assert_int_equal(iae_font_glyph(ch, glyphs[ch - 32]), 1);
        int ink = 0;
        for (int r = 0; r < IAE_FONT_GLYPH_HEIGHT; r++) {
            assert_true(glyphs[ch - 32][r] < 1u << IAE_FONT_GLYPH_WIDTH);
            ink += glyphs[ch - 32][r] != 0;
        }
        if (ch == ' ')
            assert_int_equal(ink, 0);
        else if (ink == 0)
            fail_msg("glyph '%c' has no ink", ch);
    }
    /* No two characters look the same, so 0/O, 1/l/I and friends differ. */
    for (int a = 0; a < 95; a++)
        for (int b = a + 1; b < 95; b++)
            if (memcmp(glyphs[a], glyphs[b], IAE_FONT_GLYPH_HEIGHT) == 0)
                fail_msg("glyphs '%c' and '%c' are identical", a + 32, b + 32);
    /* Descenders reach rows 7..8, and capitals and digits stay above them. */
    for (const char *p = "gjpqy"; *p; p++)
        if (glyphs[*p - 32][7] == 0) fail_msg("glyph '%c' has no descender", *p);
    for (int ch = 'A'; ch <= 'Z'; ch++)
        assert_int_equal(glyphs[ch - 32][7] | glyphs[ch - 32][8], 0);
    for (int ch = '0'; ch <= '9'; ch++)
        assert_int_equal(glyphs[ch - 32][7] | glyphs[ch - 32][8], 0);

    /* Unknown characters get the box glyph and a 0 result. */
    uint8_t box[IAE_FONT_GLYPH_HEIGHT], other[IAE_FONT_GLYPH_HEIGHT];
    assert_int_equal(iae_font_glyph(1, box), 0);
    assert_int_equal(iae_font_glyph(200, other), 0);
    assert_memory_equal(box, other, sizeof(box));
}

static void text_width_counts(void **state) {
    assert_int_equal(IAE_FONT_ADVANCE, 6);
    assert_int_equal(iae_text_width("abc", 1), 3 * 6);
    assert_int_equal(iae_text_width("abc", 3), 3 * 6 * 3);
    assert_int_equal(iae_text_width("", 2), 0);
    assert_int_equal(iae_text_width(NULL, 2), 0);
    assert_int_equal(iae_text_width("ab\nabcd\nx", 1), 4 * 6);
    assert_int_equal(iae_text_width("caf\xc3\xa9", 1), 4 * 6); /* UTF-8 e-acute: one character */
    assert_int_equal(iae_text_width("x", 0), 6);               /* scale below 1 draws at 1 */
}

static iae_canvas *new_canvas(int w, int h) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    iae_canvas *c = NULL;
    expect_ok(&ctx, iae_canvas_create(&ctx, w, h, &c), "iae_canvas_create");
    assert_int_equal(iae_canvas_width(c), w);
    assert_int_equal(iae_canvas_height(c), h);
    return c;
}

/* Store the bounding box of the non-white pixels and return their count. */
static long ink_box(const iae_canvas *c, int *x0, int *y0, int *x1, int *y1) {
    long n = 0;
    *x0 = *y0 = 1 << 30;
    *x1 = *y1 = -1;
    for (int y = 0; y < iae_canvas_height(c); y++)
        for (int x = 0; x < iae_canvas_width(c); x++) {
            if (iae_canvas_pixel(c, x, y) == WHITE) continue;
            n++;
            if (x < *x0) *x0 = x;
            if (x > *x1) *x1 = x;
            if (y < *y0) *y0 = y;
            if (y > *y1) *y1 = y;
        }
    return n;
}

static void text_glyph_inside_box(void **state) {
    iae_canvas *c = new_canvas(100, 80);
    iae_canvas_text(c, 20, 30, "A", 0x102030, 2);
    int x0, y0, x1, y1;
    long n = ink_box(c, &x0, &y0, &x1, &y1);
    /* 'A' is 5 columns by 7 rows above the baseline, each pixel 2 x 2. */
    assert_true(n > 0);
    assert_true(x0 >= 20 && x1 <= 20 + 5 * 2 - 1);
    assert_true(y0 >= 30 && y1 <= 30 + 7 * 2 - 1);
    assert_int_equal(x0, 20);
    assert_int_equal(x1, 29);
    assert_int_equal(y0, 30);
    assert_int_equal(y1, 43);
    assert_int_equal(n % 4, 0); /* whole 2 x 2 squares */
    /* Its crossbar (row 3) spans the full width, and its top corners are empty. */
    for (int col = 0; col < 5; col++)
        assert_int_equal(iae_canvas_pixel(c, 20 + 2 * col, 30 + 2 * 3), 0x102030);
    assert_int_equal(iae_canvas_pixel(c, 20, 30), WHITE);
    assert_int_equal(iae_canvas_pixel(c, 29, 30), WHITE);
    iae_canvas_free(c);

    /* A second line starts IAE_FONT_LINE_HEIGHT lower at the same x. */
    c = new_canvas(100, 80);
    iae_canvas_text(c, 5, 5, "\nA", 0x000000, 1);
    ink_box(c, &x0, &y0, &x1, &y1);
    assert_int_equal(y0, 5 + IAE_FONT_LINE_HEIGHT);
    assert_int_equal(x0, 5);
    iae_canvas_free(c);
}

static void text_unknown_char_box(void **state) {
    const char *unknown[] = {"\x01", "\xc3\xa9", "\x7f"};
    for (size_t i = 0; i < 3; i++) {
        iae_canvas *c = new_canvas(40, 30);
        iae_canvas_text(c, 10, 10, unknown[i], 0xFF0000, 1);
        int x0, y0, x1, y1;
        ink_box(c, &x0, &y0, &x1, &y1);
        /* One 5 x 7 box outline: corners and edges set, inside empty. */
        assert_int_equal(x0, 10);
        assert_int_equal(x1, 14);
        assert_int_equal(y0, 10);
        assert_int_equal(y1, 16);
        for (int x = 10; x <= 14; x++) {
            assert_int_equal(iae_canvas_pixel(c, x, 10), 0xFF0000);
            assert_int_equal(iae_canvas_pixel(c, x, 16), 0xFF0000);
        }
        for (int y = 10; y <= 16; y++) {
            assert_int_equal(iae_canvas_pixel(c, 10, y), 0xFF0000);
            assert_int_equal(iae_canvas_pixel(c, 14, y), 0xFF0000);
        }
        for (int y = 11; y <= 15; y++)
            for (int x = 11; x <= 13; x++) assert_int_equal(iae_canvas_pixel(c, x, y), WHITE);
        iae_canvas_free(c);
    }
}

/* ------------------------------------------------------------------------ */
/* Primitives                                                                */
/* ------------------------------------------------------------------------ */

static void line_horizontal_pixels(void **state) {
    const uint32_t red = 0xCC0000;
    iae_canvas *c = new_canvas(80, 30);
    iae_canvas_line(c, 10, 10, 50, 10, red, 2);
    /* Coverage clamp(1 + 0.5 - d): full on row 10 from x 10 to 50, half one
     * pixel further out, none beyond. */
    for (int x = 10; x <= 50; x++) assert_int_equal(iae_canvas_pixel(c, x, 10), red);
    for (int y = 0; y < 30; y++)
        for (int x = 0; x < 80; x++) {
            int near = x >= 9 && x <= 51 && y >= 9 && y <= 11;
            if (!near && iae_canvas_pixel(c, x, y) != WHITE)
                fail_msg("pixel (%d, %d) is %06x outside the line", x, y,
                         iae_canvas_pixel(c, x, y));
        }
    /* The half-covered rows are between white and red. */
    uint32_t edge = iae_canvas_pixel(c, 30, 9);
    assert_true(edge != WHITE && edge != red);
    assert_int_equal(red_of(edge), 0xE6); /* 255 + (204 - 255) * 0.5, rounded to even */
    iae_canvas_free(c);

    /* Thickness 1 covers exactly one row. */
    c = new_canvas(80, 30);
    iae_canvas_line(c, 10, 10, 50, 10, red, 1);
    int x0, y0, x1, y1;
    ink_box(c, &x0, &y0, &x1, &y1);
    assert_int_equal(y0, 10);
    assert_int_equal(y1, 10);
    assert_int_equal(x0, 10);
    assert_int_equal(x1, 50);
    iae_canvas_free(c);
}

static void line_diagonal_and_clipping(void **state) {
    iae_canvas *c = new_canvas(60, 40);
    /* A 45-degree line passes through pixel centers (k, k). */
    iae_canvas_line(c, 5, 5, 30, 30, 0x0000FF, 2);
    for (int k = 5; k <= 30; k++) assert_int_equal(iae_canvas_pixel(c, k, k), 0x0000FF);
    assert_int_equal(iae_canvas_pixel(c, 30, 5), WHITE);
    iae_canvas_free(c);

    /* Far-away endpoints clip to the canvas. NaN and infinity draw nothing. */
    c = new_canvas(60, 40);
    iae_canvas_line(c, -1e12, 20, 1e12, 20, 0x00AA00, 1);
    for (int x = 0; x < 60; x++) assert_int_equal(iae_canvas_pixel(c, x, 20), 0x00AA00);
    iae_canvas_line(c, NAN, 5, 30, 5, 0xFF0000, 3);
    iae_canvas_line(c, 0, 5, INFINITY, 5, 0xFF0000, 3);
    iae_canvas_line(c, -1e308, 5, 1e308, 8, 0xFF0000, 3);
    iae_canvas_line(c, 100, 100, 200, 200, 0xFF0000, 3);
    int x0, y0, x1, y1;
    ink_box(c, &x0, &y0, &x1, &y1);
    assert_int_equal(y0, 20);
    assert_int_equal(y1, 20);
    iae_canvas_free(c);
}

static void rect_filled_and_outline(void **state) {
    iae_canvas *c = new_canvas(30, 30);
    iae_canvas_rect(c, 2, 3, 5, 4, 0x112233, 1);
    iae_canvas_rect(c, 10, 10, 6, 5, 0x445566, 0);
    iae_canvas_rect(c, -5, -5, 8, 8, 0x778899, 1); /* partly outside */
    iae_canvas_rect(c, 20, 20, 0, 5, 0xFF0000, 1); /* empty */
    for (int y = 0; y < 30; y++)
        for (int x = 0; x < 30; x++) {
            uint32_t expected = WHITE;
            if (x <= 2 && y <= 2)
                expected = 0x778899;
            else if (x >= 2 && x <= 6 && y >= 3 && y <= 6)
                expected = 0x112233;
            else if (x >= 10 && x <= 15 && y >= 10 && y <= 14 &&
                     (x == 10 || x == 15 || y == 10 || y == 14))
                expected = 0x445566;
            if (iae_canvas_pixel(c, x, y) != expected)
                fail_msg("pixel (%d, %d) is %06x, expected %06x", x, y, iae_canvas_pixel(c, x, y),
                         expected);
        }
    assert_int_equal(iae_canvas_pixel(c, -1, 0), 0xFFFFFFFFu);
    assert_int_equal(iae_canvas_pixel(c, 0, 30), 0xFFFFFFFFu);
    iae_canvas_free(c);
}

static void image_blit_values(void **state) {
    iae_canvas *c = new_canvas(20, 20);
    /* (C, H, W) = (1, 2, 2): 0, 0.5 / 1, NaN mapped 0..1 at scale 3. */
    const float gray[4] = {0.0f, 0.5f, 1.0f, NAN};
    iae_canvas_image(c, 1, 1, gray, 2, 2, 1, 0.0f, 1.0f, 3);
    assert_int_equal(iae_canvas_pixel(c, 1, 1), 0x000000);
    assert_int_equal(iae_canvas_pixel(c, 3, 3), 0x000000);
    assert_int_equal(iae_canvas_pixel(c, 4, 1), 0x808080); /* 127.5 rounds to even 128 */
    assert_int_equal(iae_canvas_pixel(c, 1, 4), 0xFFFFFF);
    assert_int_equal(iae_canvas_pixel(c, 6, 6), 0xFF00FF);
    assert_int_equal(iae_canvas_pixel(c, 7, 7), WHITE); /* outside the 6 x 6 blit */
    iae_canvas_free(c);

    /* RGB planes with values above hi clamped, and lo == hi using the image's range. */
    c = new_canvas(10, 10);
    const float rgb[3] = {2.0f, 0.0f, 1.0f};
    iae_canvas_image(c, 0, 0, rgb, 1, 1, 3, 0.0f, 1.0f, 1);
    assert_int_equal(iae_canvas_pixel(c, 0, 0), 0xFF00FF);
    const float ramp[2] = {2.0f, 4.0f};
    iae_canvas_image(c, 0, 5, ramp, 1, 2, 1, 0.0f, 0.0f, 1);
    assert_int_equal(iae_canvas_pixel(c, 0, 5), 0x000000);
    assert_int_equal(iae_canvas_pixel(c, 1, 5), 0xFFFFFF);
    iae_canvas_free(c);
}

static void canvas_invalid_sizes(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    iae_canvas *c = (iae_canvas *)&ctx;
    assert_int_equal(iae_canvas_create(&ctx, 0, 10, &c), IAE_ERR_ARGUMENT);
    assert_null(c);
    expect_in_message(&ctx, "invalid canvas size 0 x 10 pixels");
    assert_int_equal(iae_canvas_create(&ctx, 70000, 10, &c), IAE_ERR_ARGUMENT);
    expect_in_message(&ctx, "expected 1 to 65535 per side");
    iae_canvas_free(NULL);
}

/* ------------------------------------------------------------------------ */
/* Line charts                                                               */
/* ------------------------------------------------------------------------ */

static void plot_lines_roc(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    const double fpr[3] = {0, 0, 1}, tpr[3] = {0, 1, 1};
    iae_series perfect = {"perfect score", fpr, tpr, 3};
    iae_chart_opts o = {.title = "ROC",
                        .x_label = "false positive rate",
                        .y_label = "true positive rate",
                        .x_min = 0,
                        .x_max = 1,
                        .y_min = 0,
                        .y_max = 1,
                        .diagonal = 1};
    const char *path = tu_path(test_dir(), "roc.png");
    expect_ok(&ctx, iae_plot_lines(&ctx, path, &o, &perfect, 1), "iae_plot_lines");

    iae_image img;
    read_png(path, &img);
    assert_int_equal(img.w, IAE_PLOT_DEFAULT_WIDTH);
    assert_int_equal(img.h, IAE_PLOT_DEFAULT_HEIGHT);
    expect_white_corners(&img);
    frame f = find_frame(&img);
    uint32_t color = iae_plot_color(0);

    /* The curve hugs the left edge at mid-height and the top at mid-width,
     * within 5% of the frame size. */
    int band_x = (f.x1 - f.x0) / 20, band_y = (f.y1 - f.y0) / 20;
    int mid_y = frame_y(&f, 0.5), mid_x = frame_x(&f, 0.5);
    assert_true(color_in(&img, color, f.x0 + 1, mid_y, f.x0 + band_x, mid_y));
    assert_true(color_in(&img, color, mid_x, f.y0 + 1, mid_x, f.y0 + band_y));
    /* Nothing of it below the diagonal, at (0.7, 0.4). */
    assert_false(color_in(&img, color, frame_x(&f, 0.7) - 10, frame_y(&f, 0.4) - 10,
                          frame_x(&f, 0.7) + 10, frame_y(&f, 0.4) + 10));

    /* The dashed gray diagonal passes near the frame's center and (0.25, 0.25). */
    int found_center = 0, found_quarter = 0;
    for (int d = -8; d <= 8; d++) {
        uint32_t p = image_pixel(&img, mid_x + d, frame_y(&f, 0.5) - d);
        uint32_t q = image_pixel(&img, frame_x(&f, 0.25) + d, frame_y(&f, 0.25) - d);
        found_center |= is_dark_gray(p) || (red_of(p) == green_of(p) && red_of(p) < 0xC0);
        found_quarter |= red_of(q) == green_of(q) && green_of(q) == blue_of(q) && red_of(q) < 0xC0;
    }
    assert_true(found_center);
    assert_true(found_quarter);
    iae_image_free(&img);
}

static void plot_lines_log_scale(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    /* y = 10^(-4x) is straight on a log axis: (0.5, 1e-2) lies at the
     * center of the frame when the axes span 0..1 and 1e-4..1. */
    enum { N = 101 };
    double x[N], y[N];
    for (int i = 0; i < N; i++) {
        x[i] = i / (N - 1.0);
        y[i] = pow(10, -4 * x[i]);
    }
    iae_series s = {"loss", x, y, N};
    iae_chart_opts o = {.log_y = 1, .x_min = 0, .x_max = 1, .y_min = 1e-4, .y_max = 1};
    const char *path = tu_path(test_dir(), "log.png");
    expect_ok(&ctx, iae_plot_lines(&ctx, path, &o, &s, 1), "iae_plot_lines");
    iae_image img;
    read_png(path, &img);
    frame f = find_frame(&img);
    int cx = frame_x(&f, 0.5), cy = frame_y(&f, 0.5);
    assert_true(color_in(&img, iae_plot_color(0), cx - 2, cy - 2, cx + 2, cy + 2));
    /* On a linear axis 1e-2 would sit 1% above the bottom, not there. */
    assert_false(color_in(&img, iae_plot_color(0), cx - 2, frame_y(&f, 0.02) - 3, cx + 2,
                          frame_y(&f, 0.02) + 3));
    iae_image_free(&img);
}

static void plot_lines_nan_breaks(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    /* y = 0.5 for x = 0..10 except a NaN at x = 5: the line stops between
     * x = 4 and x = 6. */
    double x[11], y[11];
    for (int i = 0; i < 11; i++) {
        x[i] = i;
        y[i] = i == 5 ? NAN : 0.5;
    }
    iae_series s = {NULL, x, y, 11};
    iae_chart_opts o = {.x_min = 0, .x_max = 10, .y_min = 0, .y_max = 1};
    const char *path = tu_path(test_dir(), "nan.png");
    expect_ok(&ctx, iae_plot_lines(&ctx, path, &o, &s, 1), "iae_plot_lines");
    iae_image img;
    read_png(path, &img);
    frame f = find_frame(&img);
    uint32_t color = iae_plot_color(0);
    int row = frame_y(&f, 0.5);
    assert_true(color_in(&img, color, frame_x(&f, 0.2), row - 2, frame_x(&f, 0.2), row + 2));
    assert_true(color_in(&img, color, frame_x(&f, 0.8), row - 2, frame_x(&f, 0.8), row + 2));
    /* Nothing between x = 4.3 and 5.7: the markers of the points at x = 4
     * and x = 6 reach only 0.05 from them. */
    assert_false(color_in(&img, color, frame_x(&f, 0.43), row - 5, frame_x(&f, 0.57), row + 5));
    iae_image_free(&img);
}

/* Every degenerate input writes a full-size chart with a frame. */
static void plot_lines_degenerate_inputs(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    const double nan3[3] = {NAN, NAN, NAN}, single_y = 0.25, constant[4] = {2, 2, 2, 2};
    const double negative[3] = {-1, 0, -5}, x_inf[2] = {INFINITY, 1}, huge[2] = {-1e308, 1e308};

    /* One or two series per case. */
    const iae_series cases[][2] = {
        {{"empty", NULL, NULL, 0}, {0}},
        {{"all NaN", NULL, nan3, 3}, {0}},
        {{"single point", NULL, &single_y, 1}, {0}},
        {{"constant", NULL, constant, 4}, {0}},
        {{"x infinite", x_inf, &single_y, 1}, {0}},
        {{"huge", NULL, huge, 2}, {"constant", NULL, constant, 4}},
        {{NULL, NULL, constant, 4}, {"", NULL, constant, 4}},
    };
    const int counts[] = {1, 1, 1, 1, 1, 2, 2};

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        for (int log_y = 0; log_y < 2; log_y++) {
            iae_chart_opts o = {
                .title = "degenerate", .x_label = "x", .y_label = "y", .log_y = log_y};
            char name[64];
            snprintf(name, sizeof(name), "degenerate-%zu-%d.png", i, log_y);
            const char *path = tu_path(test_dir(), name);
            expect_ok(&ctx, iae_plot_lines(&ctx, path, &o, cases[i], counts[i]), name);
            iae_image img;
            read_png(path, &img);
            assert_int_equal(img.w, IAE_PLOT_DEFAULT_WIDTH);
            expect_white_corners(&img);
            find_frame(&img);
            iae_image_free(&img);
        }

    /* Points far outside explicit axis ranges. */
    const double far_x[3] = {-1e300, 0.5, 1e300}, far_y[3] = {1e300, -1e300, 0.5};
    iae_series far = {"far away", far_x, far_y, 3};
    iae_chart_opts unit = {.x_min = 0, .x_max = 1, .y_min = 0, .y_max = 1};
    expect_ok(&ctx, iae_plot_lines(&ctx, tu_path(test_dir(), "far.png"), &unit, &far, 1),
              "points far outside the range");

    /* No series at all, and log axes with only non-positive values. */
    iae_chart_opts log_opts = {.log_y = 1};
    iae_series non_positive = {"non-positive", NULL, negative, 3};
    expect_ok(&ctx, iae_plot_lines(&ctx, tu_path(test_dir(), "none.png"), NULL, NULL, 0),
              "no series");
    expect_ok(&ctx,
              iae_plot_lines(&ctx, tu_path(test_dir(), "nonpos.png"), &log_opts, &non_positive, 1),
              "non-positive on log axis");
}

/* A chart without data shows its axes and a note at the frame's center. */
static void plot_no_data_note(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    const double nan2[2] = {NAN, NAN};
    iae_series s = {"scores", NULL, nan2, 2};
    const char *path = tu_path(test_dir(), "no-data.png");
    expect_ok(&ctx, iae_plot_lines(&ctx, path, NULL, &s, 1), "iae_plot_lines");
    iae_image img;
    read_png(path, &img);
    frame f = find_frame(&img);
    int cx = (f.x0 + f.x1) / 2, cy = (f.y0 + f.y1) / 2;
    int ink = 0;
    for (int y = cy - 15; y <= cy + 15; y++)
        for (int x = cx - 40; x <= cx + 40; x++) ink += !is_background(image_pixel(&img, x, y));
    assert_true(ink > 20);
    iae_image_free(&img);
}

static void plot_many_series_styles(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    /* The palette has 10 distinct colors before it repeats. */
    for (int i = 0; i < 10; i++)
        for (int j = i + 1; j < 10; j++) assert_int_not_equal(iae_plot_color(i), iae_plot_color(j));
    assert_int_equal(iae_plot_color(10), iae_plot_color(0));

    /* 30 series: the legend goes below (or fits), nothing fails, and series
     * 0 and 29 both appear. */
    enum { S = 30, P = 20 };
    double x[P], y[S][P];
    iae_series s[S];
    char names[S][16];
    for (int i = 0; i < P; i++) x[i] = i;
    for (int k = 0; k < S; k++) {
        for (int i = 0; i < P; i++) y[k][i] = k + 0.3 * sin(i);
        snprintf(names[k], sizeof(names[k]), "model %d", k);
        s[k] = (iae_series){names[k], x, y[k], P};
    }
    const char *path = tu_path(test_dir(), "many.png");
    expect_ok(&ctx, iae_plot_lines(&ctx, path, NULL, s, S), "iae_plot_lines");
    iae_image img;
    read_png(path, &img);
    frame f = find_frame(&img);
    assert_true(color_in(&img, iae_plot_color(0), f.x0, f.y0, f.x1, f.y1));
    assert_true(color_in(&img, iae_plot_color(29), f.x0, f.y0, f.x1, f.y1));
    iae_image_free(&img);
}

/* The legend takes the first inner corner free of data, else goes below. */
static void plot_legend_placement(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    uint32_t color = iae_plot_color(0);
    iae_chart_opts o = {.x_min = 0, .x_max = 1, .y_min = 0, .y_max = 1};
    iae_image img;

    /* A line across the top-right corner: the legend moves to the top-left,
     * where its swatch is the only thing in the series color. */
    const double top_x[2] = {0.6, 1.0}, top_y[2] = {0.95, 0.95};
    iae_series top = {"scores", top_x, top_y, 2};
    const char *path = tu_path(test_dir(), "legend-top-left.png");
    expect_ok(&ctx, iae_plot_lines(&ctx, path, &o, &top, 1), "top-right data");
    read_png(path, &img);
    frame f = find_frame(&img);
    assert_true(color_in(&img, color, f.x0 + 1, f.y0 + 1, frame_x(&f, 0.4), frame_y(&f, 0.85)));
    assert_false(color_in(&img, color, f.x0 + 1, f.y1 + 1, f.x1, img.h - 1));
    iae_image_free(&img);

    /* A line along the whole frame covers every corner: the legend goes
     * below the x axis. */
    const double box_x[5] = {0, 0, 1, 1, 0}, box_y[5] = {0, 1, 1, 0, 0};
    iae_series around = {"scores", box_x, box_y, 5};
    path = tu_path(test_dir(), "legend-below.png");
    expect_ok(&ctx, iae_plot_lines(&ctx, path, &o, &around, 1), "data in every corner");
    read_png(path, &img);
    f = find_frame(&img);
    assert_true(color_in(&img, color, 0, f.y1 + 1, img.w - 1, img.h - 1));
    assert_false(color_in(&img, color, frame_x(&f, 0.1), frame_y(&f, 0.9), frame_x(&f, 0.9),
                          frame_y(&f, 0.1)));
    iae_image_free(&img);
}

static void plot_invalid_arguments(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    const double y[2] = {1, 2};
    iae_series s = {"s", NULL, y, 2};
    const char *path = tu_path(test_dir(), "invalid.png");

    iae_chart_opts reversed = {.x_min = 1, .x_max = 0};
    assert_int_equal(iae_plot_lines(&ctx, path, &reversed, &s, 1), IAE_ERR_ARGUMENT);
    expect_in_message(&ctx, "x_min 1 and x_max 0 are not a valid axis range");

    iae_chart_opts nan_range = {.y_min = NAN, .y_max = 1};
    assert_int_equal(iae_plot_lines(&ctx, path, &nan_range, &s, 1), IAE_ERR_ARGUMENT);
    expect_in_message(&ctx, "y_min nan and y_max 1");

    iae_chart_opts log_zero = {.log_y = 1, .y_min = 0, .y_max = 1};
    assert_int_equal(iae_plot_lines(&ctx, path, &log_zero, &s, 1), IAE_ERR_ARGUMENT);
    expect_in_message(&ctx, "y_min 0 on a log axis; expected y_min > 0");

    iae_chart_opts tiny = {.width = 100, .height = 50};
    assert_int_equal(iae_plot_lines(&ctx, path, &tiny, &s, 1), IAE_ERR_ARGUMENT);
    expect_in_message(&ctx, "invalid size 100 x 50 pixels");

    assert_int_equal(iae_plot_lines(&ctx, path, NULL, NULL, 2), IAE_ERR_ARGUMENT);
    expect_in_message(&ctx, "2 series");
    iae_series missing_y = {"broken", NULL, NULL, 3};
    assert_int_equal(iae_plot_lines(&ctx, path, NULL, &missing_y, 1), IAE_ERR_ARGUMENT);
    expect_in_message(&ctx, "series 0 ('broken') has 3 points and y NULL");
    assert_int_equal(iae_plot_lines(&ctx, NULL, NULL, &s, 1), IAE_ERR_ARGUMENT);
    expect_in_message(&ctx, "path is NULL");

    /* An unwritable path: the PNG writer's message names it. */
    const char *unwritable = tu_path(test_dir(), "no-such-folder/chart.png");
    assert_int_equal(iae_plot_lines(&ctx, unwritable, NULL, &s, 1), IAE_ERR_IO);
    expect_in_message(&ctx, "no-such-folder/chart.png");
    expect_in_message(&ctx, "does not exist");

    assert_int_equal(iae_plot_histogram(&ctx, path, NULL, NULL, NULL, NULL, 0, -1),
                     IAE_ERR_ARGUMENT);
    expect_in_message(&ctx, "-1 bins; expected 1 to 4096, or 0 for 30");
    const long negative_count = -2;
    const float *no_values = NULL;
    assert_int_equal(iae_plot_histogram(&ctx, path, NULL, NULL, &no_values, &negative_count, 1, 10),
                     IAE_ERR_ARGUMENT);
    expect_in_message(&ctx, "group 0 has -2 values");

    iae_chart_opts x_range = {.x_min = 0, .x_max = 1};
    const double v = 0.5;
    assert_int_equal(iae_plot_bars(&ctx, path, &x_range, NULL, 1, NULL, 1, &v, NULL),
                     IAE_ERR_ARGUMENT);
    expect_in_message(&ctx, "leave both equal");
    assert_int_equal(iae_plot_bars(&ctx, path, NULL, NULL, 2, NULL, 1, NULL, NULL),
                     IAE_ERR_ARGUMENT);
    expect_in_message(&ctx, "values NULL");
}

/* ------------------------------------------------------------------------ */
/* Histograms                                                                */
/* ------------------------------------------------------------------------ */

static void plot_histogram_groups(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    /* 100 normal values in bin 0 (0.0..0.1), 50 anomalous ones in bin 9. */
    float normal[100], anomalous[52];
    for (int i = 0; i < 100; i++) normal[i] = 0.02f + 0.0006f * i;
    for (int i = 0; i < 50; i++) anomalous[i] = 0.92f + 0.001f * i;
    anomalous[50] = NAN;  /* not counted */
    anomalous[51] = 1.5f; /* outside the x range, not drawn */
    const float *values[2] = {normal, anomalous};
    const long counts[2] = {100, 52};
    const char *labels[2] = {"normal", "anomalous"};
    iae_chart_opts o = {.title = "scores", .x_min = 0, .x_max = 1, .y_min = 0, .y_max = 100};
    const char *path = tu_path(test_dir(), "histogram.png");
    expect_ok(&ctx, iae_plot_histogram(&ctx, path, &o, labels, values, counts, 2, 10),
              "iae_plot_histogram");

    iae_image img;
    read_png(path, &img);
    expect_white_corners(&img);
    frame f = find_frame(&img);
    int left = frame_x(&f, 0.05), right = frame_x(&f, 0.95), middle = frame_x(&f, 0.45);
    int h_left = height_from_bottom(&img, &f, left), h_right = height_from_bottom(&img, &f, right);
    int full = f.y1 - f.y0 - 1;
    /* Heights 100 and 50 of 100, within 2 pixels of outline. */
    if (abs(h_left - full) > 2)
        fail_msg("bin 0 is %d pixels tall, expected about %d", h_left, full);
    if (abs(h_right - full / 2) > 2)
        fail_msg("bin 9 is %d pixels tall, expected about %d", h_right, full / 2);
    assert_int_equal(height_from_bottom(&img, &f, middle), 0);

    /* Each bar is tinted with its group's color. */
    uint32_t c0 = iae_plot_color(0), c1 = iae_plot_color(1);
    uint32_t p0 = image_pixel(&img, left, f.y1 - 10), p1 = image_pixel(&img, right, f.y1 - 10);
    assert_true((blue_of(p0) > red_of(p0)) == (blue_of(c0) > red_of(c0)));
    assert_true((blue_of(p1) > red_of(p1)) == (blue_of(c1) > red_of(c1)));
    assert_true(blue_of(c0) > red_of(c0) && red_of(c1) > blue_of(c1)); /* the two differ */
    iae_image_free(&img);

    /* normalize: fractions per group make both bars equally tall. */
    o.normalize = 1;
    o.y_min = 0;
    o.y_max = 1;
    expect_ok(&ctx, iae_plot_histogram(&ctx, path, &o, labels, values, counts, 2, 10),
              "normalized");
    read_png(path, &img);
    f = find_frame(&img); /* the legend may have moved below the plot */
    full = f.y1 - f.y0 - 1;
    h_left = height_from_bottom(&img, &f, frame_x(&f, 0.05));
    h_right = height_from_bottom(&img, &f, frame_x(&f, 0.95));
    /* 50 of 51 finite anomalous values lie in bin 9: 0.98 of the full height. */
    if (abs(h_right - (int)lrint(full * 50.0 / 51.0)) > 2)
        fail_msg("normalized bin 9 is %d pixels tall, expected about %ld", h_right,
                 lrint(full * 50.0 / 51.0));
    assert_true(abs(h_left - full) <= 2);
    iae_image_free(&img);
}

static void plot_histogram_degenerate(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    const float nan4[4] = {NAN, NAN, INFINITY, -INFINITY}, constant[5] = {3, 3, 3, 3, 3};
    const float zero[3] = {0, 0, 0}, single = 0.5f;
    const float *values[3] = {nan4, constant, zero};
    const long counts[3] = {4, 5, 3};
    const long no_counts[3] = {0, 0, 0};
    const float *one_value[1] = {&single};
    const long one_count[1] = {1};
    for (int log_y = 0; log_y < 2; log_y++) {
        iae_chart_opts o = {.log_y = log_y, .x_label = "score"};
        const char *path = tu_path(test_dir(), "histogram-degenerate.png");
        expect_ok(&ctx, iae_plot_histogram(&ctx, path, &o, NULL, values, counts, 1, 10), "all NaN");
        expect_ok(&ctx, iae_plot_histogram(&ctx, path, &o, NULL, values + 1, counts + 1, 1, 0),
                  "constant");
        expect_ok(&ctx, iae_plot_histogram(&ctx, path, &o, NULL, values, counts, 3, 1), "one bin");
        expect_ok(&ctx, iae_plot_histogram(&ctx, path, &o, NULL, values, no_counts, 3, 10),
                  "empty groups");
        expect_ok(&ctx, iae_plot_histogram(&ctx, path, &o, NULL, NULL, NULL, 0, 10), "no groups");
        expect_ok(&ctx, iae_plot_histogram(&ctx, path, &o, NULL, one_value, one_count, 1, 4096),
                  "4096 bins");
        iae_image img;
        read_png(path, &img);
        expect_white_corners(&img);
        find_frame(&img);
        iae_image_free(&img);
    }
}

/* ------------------------------------------------------------------------ */
/* Bar charts                                                                */
/* ------------------------------------------------------------------------ */

/* Runs of one palette color along the row just above the frame bottom. */
typedef struct {
    uint32_t color;
    int x0, x1;
} color_run;

static int bar_runs(const iae_image *img, const frame *f, color_run *runs, int max) {
    int n = 0, y = f->y1 - 1;
    for (int x = f->x0 + 1; x < f->x1; x++) {
        uint32_t c = image_pixel(img, x, y);
        if (is_background(c) || is_dark_gray(c)) continue;
        if (n > 0 && runs[n - 1].color == c && runs[n - 1].x1 == x - 1) {
            runs[n - 1].x1 = x;
        } else if (n < max) {
            runs[n++] = (color_run){c, x, x};
        }
    }
    return n;
}

/* Height of the bar of run r, measured one pixel inside its left edge, away
 * from the error bar at its center. */
static int bar_height(const iae_image *img, const frame *f, const color_run *r) {
    int x = r->x0 + 1, h = 0;
    for (int y = f->y1 - 1; y > f->y0 && image_pixel(img, x, y) == r->color; y--) h++;
    return h;
}

static void plot_bars_grouped(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    /* (series, group): model A 0.9 and 0.6, model B 0.3 and missing. */
    const double values[4] = {0.9, 0.6, 0.3, NAN};
    const double errors[4] = {0.05, 0, 0, 0};
    const char *groups[2] = {"class 0", "class 1"};
    const char *models[2] = {"model A", "model B"};
    iae_chart_opts o = {.title = "AUROC", .y_label = "AUROC", .y_min = 0, .y_max = 1};
    const char *path = tu_path(test_dir(), "bars.png");
    expect_ok(&ctx, iae_plot_bars(&ctx, path, &o, groups, 2, models, 2, values, errors),
              "iae_plot_bars");

    iae_image img;
    read_png(path, &img);
    expect_white_corners(&img);
    frame f = find_frame(&img);
    color_run runs[8];
    int n = bar_runs(&img, &f, runs, 8);
    /* Left to right: A in class 0, B in class 0, A in class 1. B in class 1 is missing. */
    assert_int_equal(n, 3);
    assert_int_equal(runs[0].color, iae_plot_color(0));
    assert_int_equal(runs[1].color, iae_plot_color(1));
    assert_int_equal(runs[2].color, iae_plot_color(0));
    assert_true(runs[2].x0 > (f.x0 + f.x1) / 2);
    /* Heights in proportion to the values on the 0..1 axis. */
    int full = f.y1 - f.y0 - 1;
    const double expected[3] = {0.9, 0.3, 0.6};
    for (int i = 0; i < 3; i++) {
        int h = bar_height(&img, &f, &runs[i]);
        if (abs(h - (int)lrint(expected[i] * full)) > 2)
            fail_msg("bar %d is %d pixels tall, expected about %ld", i, h,
                     lrint(expected[i] * full));
    }
    /* The error bar of A in class 0 reaches about 0.95. */
    int cx = (runs[0].x0 + runs[0].x1) / 2, top_error = frame_y(&f, 0.95);
    int dark = 0;
    for (int x = cx - 1; x <= cx + 1; x++)
        dark |= is_dark_gray(image_pixel(&img, x, top_error + 1));
    assert_true(dark);
    iae_image_free(&img);
}

static void plot_bars_degenerate(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    const double nan4[4] = {NAN, NAN, NAN, NAN}, mixed[4] = {-0.5, 0.25, 0, 2};
    const char *long_names[2] = {"a very long class name that cannot fit side by side",
                                 "another long class name"};
    const char *path = tu_path(test_dir(), "bars-degenerate.png");
    for (int log_y = 0; log_y < 2; log_y++) {
        iae_chart_opts o = {.log_y = log_y};
        expect_ok(&ctx, iae_plot_bars(&ctx, path, &o, NULL, 0, NULL, 0, NULL, NULL), "no groups");
        expect_ok(&ctx, iae_plot_bars(&ctx, path, &o, NULL, 2, NULL, 2, nan4, NULL), "all NaN");
        expect_ok(&ctx, iae_plot_bars(&ctx, path, &o, long_names, 2, NULL, 2, mixed, nan4),
                  "negative");
        expect_ok(&ctx, iae_plot_bars(&ctx, path, &o, NULL, 4, NULL, 1, mixed, mixed),
                  "one series");
        iae_image img;
        read_png(path, &img);
        expect_white_corners(&img);
        find_frame(&img);
        iae_image_free(&img);
    }
    /* Values and errors far outside an explicit range. */
    const double far[4] = {1e300, -1e300, 0.5, NAN}, far_errors[4] = {1e300, 1e300, 1e300, 1};
    iae_chart_opts unit = {.y_min = 0, .y_max = 1};
    expect_ok(&ctx, iae_plot_bars(&ctx, path, &unit, NULL, 2, NULL, 2, far, far_errors),
              "values far outside the range");

    /* Many groups: 200 bars of 1 pixel or less still draw. */
    double many[200];
    for (int i = 0; i < 200; i++) many[i] = i / 200.0;
    expect_ok(&ctx, iae_plot_bars(&ctx, path, NULL, NULL, 200, NULL, 1, many, NULL), "200 groups");
}

/* ------------------------------------------------------------------------ */
/* Image grids                                                               */
/* ------------------------------------------------------------------------ */

static void plot_image_grid_pixels(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    /* Tile 0: black 8 x 8 with one white pixel at row 2, column 5. Tile 1:
     * constant 0.5 drawn with the heat map: (255, 128, 0). */
    float dark[64] = {0}, half[64];
    dark[2 * 8 + 5] = 1.0f;
    for (int i = 0; i < 64; i++) half[i] = 0.5f;
    const iae_tile tiles[2] = {
        {dark, 1, 8, 8, 0.0f, 1.0f, 0, "input"},
        {half, 1, 8, 8, 0.0f, 1.0f, 1, "error map"},
    };
    const char *titles[2] = {"input", "error"};
    const char *path = tu_path(test_dir(), "grid.png");
    expect_ok(&ctx, iae_plot_image_grid(&ctx, path, "grid", titles, tiles, 1, 2, 4),
              "iae_plot_image_grid");

    iae_image img;
    read_png(path, &img);
    expect_white_corners(&img);
    /* The first pure black pixel in reading order is tile 0's top-left. */
    int top = -1, left = -1;
    for (int y = 0; y < img.h && top < 0; y++)
        for (int x = 0; x < img.w; x++)
            if (image_pixel(&img, x, y) == 0x000000) {
                top = y;
                left = x;
                break;
            }
    assert_true(top >= 0);
    /* Scale 4: the white pixel covers rows 8..11 and columns 20..23. */
    for (int dy = 0; dy < 4; dy++)
        for (int dx = 0; dx < 4; dx++)
            assert_int_equal(image_pixel(&img, left + 20 + dx, top + 8 + dy), 0xFFFFFF);
    assert_int_equal(image_pixel(&img, left + 19, top + 8), 0x000000);
    assert_int_equal(image_pixel(&img, left + 24, top + 12), 0x000000);
    assert_int_equal(image_pixel(&img, left + 31, top + 31), 0x000000);
    /* The heat tile lies to the right on the same rows. */
    int heat = 0;
    for (int x = left + 32; x < img.w; x++) heat |= image_pixel(&img, x, top + 16) == 0xFF8000;
    assert_true(heat);
    iae_image_free(&img);

    /* Automatic scale: 28-pixel tiles grow by 4 to 112 pixels. */
    float big[28 * 28] = {0};
    iae_tile single_tile = {big, 1, 28, 28, 0.0f, 1.0f, 0, NULL};
    expect_ok(&ctx, iae_plot_image_grid(&ctx, path, NULL, NULL, &single_tile, 1, 1, 0),
              "automatic scale");
    read_png(path, &img);
    int run = 0, best = 0;
    for (int x = 0; x < img.w; x++) {
        run = image_pixel(&img, x, img.h / 2) == 0x000000 ? run + 1 : 0;
        if (run > best) best = run;
    }
    assert_int_equal(best, 112);
    iae_image_free(&img);
}

static void plot_image_grid_errors(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    float pixels[4] = {0};
    iae_tile bad = {pixels, 1, 0, 2, 0, 1, 0, NULL};
    const char *path = tu_path(test_dir(), "grid-bad.png");
    assert_int_equal(iae_plot_image_grid(&ctx, path, NULL, NULL, &bad, 1, 1, 1), IAE_ERR_ARGUMENT);
    expect_in_message(&ctx, "tile 0 (row 0, column 0) is 2 x 0 pixels");
    assert_int_equal(iae_plot_image_grid(&ctx, path, NULL, NULL, &bad, 0, 1, 1), IAE_ERR_ARGUMENT);
    expect_in_message(&ctx, "0 x 1 tiles");
    iae_tile ok = {pixels, 1, 2, 2, 0, 1, 0, NULL};
    assert_int_equal(iae_plot_image_grid(&ctx, path, NULL, NULL, &ok, 1, 1, 65), IAE_ERR_ARGUMENT);
    expect_in_message(&ctx, "scale 65; expected 1 to 64");
    /* Too big for a PNG: the message names the fix. */
    static float wide[60000];
    iae_tile huge = {wide, 1, 1, 60000, 0, 1, 0, NULL};
    assert_int_equal(iae_plot_image_grid(&ctx, path, NULL, NULL, &huge, 1, 1, 2), IAE_ERR_ARGUMENT);
    expect_in_message(&ctx, "lower the scale or split the grid");
    /* Empty cells and a missing caption are fine. */
    iae_tile empty[2] = {{NULL, 0, 0, 0, 0, 0, 0, "nothing"}, ok};
    expect_ok(&ctx, iae_plot_image_grid(&ctx, path, "t", NULL, empty, 1, 2, 3), "empty cell");
}

/* ------------------------------------------------------------------------ */
/* Examples                                                                  */
/* ------------------------------------------------------------------------ */

/* Realistic charts of each kind, for looking at. Each must write an image of
 * the requested size with white corners. */
static void plot_examples_render(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    const char *dir = getenv("IAE_PLOT_EXAMPLES");
    if (dir == NULL || dir[0] == 0) dir = tu_tmpdir("plot_examples");
    iae_rng rng;
    iae_rng_seed(&rng, 42, 1);
    char path[1024];

    /* ROC curves of three scores of decreasing quality. */
    enum { R = 201 };
    static double fpr[R], tpr[3][R];
    const double power[3] = {0.15, 0.4, 0.8};
    for (int i = 0; i < R; i++) {
        fpr[i] = i / (R - 1.0);
        for (int k = 0; k < 3; k++) tpr[k][i] = pow(fpr[i], power[k]);
    }
    const iae_series roc[3] = {{"reconstruction error (AUROC 0.87)", fpr, tpr[0], R},
                               {"KL term (AUROC 0.71)", fpr, tpr[1], R},
                               {"SVDD distance (AUROC 0.56)", fpr, tpr[2], R}};
    iae_chart_opts roc_opts = {.title = "ROC curves, normal class 0",
                               .x_label = "false positive rate",
                               .y_label = "true positive rate",
                               .x_min = 0,
                               .x_max = 1,
                               .y_min = 0,
                               .y_max = 1,
                               .diagonal = 1};
    snprintf(path, sizeof(path), "%s/roc.png", dir);
    expect_ok(&ctx, iae_plot_lines(&ctx, path, &roc_opts, roc, 3), path);

    /* Loss terms over 60 epochs on a log axis, with one NaN epoch. */
    enum { E = 60 };
    double epoch[E], recon[E], kl[E], svdd[E], total[E];
    for (int i = 0; i < E; i++) {
        epoch[i] = i + 1;
        recon[i] = 0.05 + 2.0 * exp(-i / 8.0) + 0.01 * iae_rng_uniform(&rng);
        kl[i] = 0.002 + 0.3 * exp(-i / 15.0);
        svdd[i] = 1.5e-3 * (1 + 0.2 * sin(i / 3.0));
        total[i] = recon[i] + kl[i] + svdd[i];
    }
    kl[20] = NAN;
    const iae_series loss[4] = {{"reconstruction", NULL, recon, E},
                                {"KL", NULL, kl, E},
                                {"SVDD", NULL, svdd, E},
                                {"total", epoch, total, E}};
    iae_chart_opts loss_opts = {
        .title = "Training loss per term", .x_label = "epoch", .y_label = "loss", .log_y = 1};
    snprintf(path, sizeof(path), "%s/loss_log.png", dir);
    expect_ok(&ctx, iae_plot_lines(&ctx, path, &loss_opts, loss, 4), path);

    /* Scores of normal and anomalous test samples. */
    enum { NN = 6000, NA = 600 };
    static float normal[NN], anomalous[NA];
    for (int i = 0; i < NN; i++) normal[i] = (float)(0.02 + 0.008 * fabs(iae_rng_normal(&rng)));
    for (int i = 0; i < NA; i++) anomalous[i] = (float)(0.045 + 0.012 * iae_rng_normal(&rng));
    const float *scores[2] = {normal, anomalous};
    const long score_counts[2] = {NN, NA};
    const char *groups[2] = {"normal", "anomalous"};
    iae_chart_opts hist_opts = {.title = "Anomaly scores on the test set",
                                .x_label = "reconstruction error",
                                .y_label = "fraction of samples",
                                .normalize = 1};
    snprintf(path, sizeof(path), "%s/histogram.png", dir);
    expect_ok(&ctx, iae_plot_histogram(&ctx, path, &hist_opts, groups, scores, score_counts, 2, 40),
              path);

    /* AUROC per class and model, one value missing. */
    const char *classes[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                               "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
    const char *models[3] = {"iae-lstm-kl", "conv-ae", "deep-svdd"};
    double auroc[30], spread[30];
    for (int i = 0; i < 30; i++) {
        auroc[i] = 0.6 + 0.38 * iae_rng_uniform(&rng);
        spread[i] = 0.02 * iae_rng_uniform(&rng);
    }
    auroc[13] = NAN;
    iae_chart_opts bar_opts = {.title = "AUROC per normal class",
                               .x_label = "normal class",
                               .y_label = "AUROC",
                               .y_min = 0.5,
                               .y_max = 1};
    snprintf(path, sizeof(path), "%s/bars.png", dir);
    expect_ok(&ctx, iae_plot_bars(&ctx, path, &bar_opts, classes, 10, models, 3, auroc, spread),
              path);

    /* AUROC against the contamination ratio. */
    const double ratio[6] = {0, 0.01, 0.02, 0.05, 0.1, 0.2};
    const double m1[6] = {0.93, 0.92, 0.90, 0.86, 0.80, 0.71},
                 m2[6] = {0.88, 0.87, 0.87, 0.84, 0.79, 0.74};
    const double m3[6] = {0.81, 0.80, NAN, 0.76, 0.72, 0.66};
    const iae_series contamination[3] = {
        {"iae-lstm-kl", ratio, m1, 6}, {"conv-ae", ratio, m2, 6}, {"deep-svdd", ratio, m3, 6}};
    iae_chart_opts cont_opts = {.title = "AUROC vs contamination of the training set",
                                .x_label = "contamination ratio",
                                .y_label = "AUROC"};
    snprintf(path, sizeof(path), "%s/contamination.png", dir);
    expect_ok(&ctx, iae_plot_lines(&ctx, path, &cont_opts, contamination, 3), path);

    /* Input, reconstruction and error map of two samples. */
    enum { H = 28, W = 28 };
    static float input[H * W], output[H * W], error[H * W];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int i = y * W + x;
            input[i] = fabs(x - 13.5) < 8 && fabs(y - 13.5) < 11 ? 0.8f : 0.05f;
            output[i] = input[i] * 0.9f + 0.05f * (float)iae_rng_uniform(&rng);
            error[i] = (input[i] - output[i]) * (input[i] - output[i]);
        }
    const iae_tile tiles[6] = {
        {input, 1, H, W, 0, 1, 0, "class 0 (normal)"},
        {output, 1, H, W, 0, 1, 0, "reconstruction"},
        {error, 1, H, W, 0, 0, 1, "score 0.0123"},
        {input, 1, H, W, 0, 1, 0, "class 7, anomalous, with a caption too long for one line"},
        {output, 1, H, W, 0, 1, 0, NULL},
        {error, 1, H, W, 0, 0.01f, 1, "score 0.4567"},
    };
    const char *columns[3] = {"input", "reconstruction", "squared error"};
    snprintf(path, sizeof(path), "%s/image_grid.png", dir);
    expect_ok(&ctx, iae_plot_image_grid(&ctx, path, "Reconstructions", columns, tiles, 2, 3, 0),
              path);

    const char *names[] = {"roc", "loss_log", "histogram", "bars", "contamination"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s.png", dir, names[i]);
        iae_image img;
        read_png(path, &img);
        assert_int_equal(img.w, IAE_PLOT_DEFAULT_WIDTH);
        assert_int_equal(img.h, IAE_PLOT_DEFAULT_HEIGHT);
        expect_white_corners(&img);
        find_frame(&img);
        iae_image_free(&img);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ticks_linear_unit_range),
        cmocka_unit_test(ticks_linear_expand),
        cmocka_unit_test(ticks_compact_labels),
        cmocka_unit_test(ticks_log_scale),
        cmocka_unit_test(ticks_degenerate_ranges),
        cmocka_unit_test(font_glyph_table),
        cmocka_unit_test(text_width_counts),
        cmocka_unit_test(text_glyph_inside_box),
        cmocka_unit_test(text_unknown_char_box),
        cmocka_unit_test(line_horizontal_pixels),
        cmocka_unit_test(line_diagonal_and_clipping),
        cmocka_unit_test(rect_filled_and_outline),
        cmocka_unit_test(image_blit_values),
        cmocka_unit_test(canvas_invalid_sizes),
        cmocka_unit_test(plot_lines_roc),
        cmocka_unit_test(plot_lines_log_scale),
        cmocka_unit_test(plot_lines_nan_breaks),
        cmocka_unit_test(plot_lines_degenerate_inputs),
        cmocka_unit_test(plot_no_data_note),
        cmocka_unit_test(plot_many_series_styles),
        cmocka_unit_test(plot_legend_placement),
        cmocka_unit_test(plot_invalid_arguments),
        cmocka_unit_test(plot_histogram_groups),
        cmocka_unit_test(plot_histogram_degenerate),
        cmocka_unit_test(plot_bars_grouped),
        cmocka_unit_test(plot_bars_degenerate),
        cmocka_unit_test(plot_image_grid_pixels),
        cmocka_unit_test(plot_image_grid_errors),
        cmocka_unit_test(plot_examples_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
