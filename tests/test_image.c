/*
 * Tests of the PNG and PGM reader and the PNG writer. Inputs are built in the
 * tests: PGM files byte by byte, PNG files with libpng's simplified write API
 * and, for chunks that API cannot write (16-bit data without gAMA, bit depth
 * 2, tRNS, broken headers), byte by byte with zlib. Expected pixels follow
 * from the rules in data/image.h, worked out in the comments next to them.
 */
#include "testutil.h"

#include <math.h>
#include <png.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "data/image.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

/* Fail unless ctx->error contains needle. */
static void expect_in_message(const iae_ctx *ctx, const char *needle) {
    if (strstr(ctx->error, needle) == NULL)
        fail_msg("error message \"%s\" does not contain \"%s\"", ctx->error, needle);
}

/* Check status, a zeroed output, the name and each needle (NULL terminated)
 * in the message. */
static void check_error(const iae_ctx *ctx, const char *name, iae_status st, const iae_image *img,
                        iae_status status, va_list needles) {
    if (st != status) fail_msg("%s: status %d, expected %d (%s)", name, st, status, ctx->error);
    assert_null(img->data);
    assert_int_equal(img->h, 0);
    assert_int_equal(img->w, 0);
    assert_int_equal(img->c, 0);
    expect_in_message(ctx, name);
    for (const char *needle = va_arg(needles, const char *); needle;
         needle = va_arg(needles, const char *))
        expect_in_message(ctx, needle);
}

static void expect_decode_error(const char *name, const void *bytes, size_t n, int channels,
                                iae_status status, ...) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    iae_image img;
    memset(&img, 0xAB, sizeof(img));
    iae_status st = iae_image_decode(&ctx, name, bytes, n, channels, &img);
    va_list ap;
    va_start(ap, status);
    check_error(&ctx, name, st, &img, status, ap);
    va_end(ap);
}

static void expect_read_error(const char *path, int channels, iae_status status, ...) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    iae_image img;
    memset(&img, 0xAB, sizeof(img));
    iae_status st = iae_image_read(&ctx, path, channels, &img);
    va_list ap;
    va_start(ap, status);
    check_error(&ctx, path, st, &img, status, ap);
    va_end(ap);
}

/* Decode bytes, failing the test with the message on error. */
static void decode_ok(const void *bytes, size_t n, int channels, iae_image *img) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    iae_status st = iae_image_decode(&ctx, "test image", bytes, n, channels, img);
    if (st != IAE_OK) fail_msg("decode failed: %s", ctx.error);
}

/* Check the shape of img and its values against expected, (H, W, C). */
static void expect_pixels(const iae_image *img, int h, int w, int c, const uint8_t *expected) {
    assert_int_equal(img->h, h);
    assert_int_equal(img->w, w);
    assert_int_equal(img->c, c);
    assert_non_null(img->data);
    for (int i = 0; i < h * w * c; i++)
        if (img->data[i] != expected[i])
            fail_msg("value at row %d, column %d, channel %d is %u, expected %u", i / c / w,
                     i / c % w, i % c, img->data[i], expected[i]);
}

/* Decode bytes with channels and compare with expected. */
static void expect_decoded(const void *bytes, size_t n, int channels, int h, int w, int c,
                           const uint8_t *expected) {
    iae_image img;
    decode_ok(bytes, n, channels, &img);
    expect_pixels(&img, h, w, c, expected);
    iae_image_free(&img);
}

/* Repeat each gray value three times, for the expected RGB output. */
static void replicate_gray(const uint8_t *gray, size_t n, uint8_t *rgb) {
    for (size_t i = 0; i < n; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = gray[i];
}

/* Peak resident set size of this process so far, in KiB on Linux. */
static long peak_rss_kib(void) {
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) != 0) fail_msg("getrusage failed");
    return usage.ru_maxrss;
}

/* The sRGB transfer function and the gray formula of data/image.h, computed
 * directly with pow for each pixel. */
static double ref_srgb_decode(double s) {
    return s <= 0.04045 ? s / 12.92 : pow((s + 0.055) / 1.055, 2.4);
}
static double ref_srgb_encode(double l) {
    return l <= 0.0031308 ? 12.92 * l : 1.055 * pow(l, 1 / 2.4) - 0.055;
}
static uint8_t ref_gray(uint8_t r, uint8_t g, uint8_t b) {
    double y = (6968 * ref_srgb_decode(r / 255.0) + 23434 * ref_srgb_decode(g / 255.0) +
                2366 * ref_srgb_decode(b / 255.0)) /
               32768;
    return (uint8_t)floor(ref_srgb_encode(y) * 255 + 0.5);
}

/* ------------------------------------------------------------------------ */
/* PNG builders                                                              */
/* ------------------------------------------------------------------------ */

/* Encode pixels with libpng's simplified write API into a malloc'd buffer. */
static uint8_t *png_simplified(png_uint_32 format, int w, int h, const void *pixels,
                               const void *colormap, int colormap_entries, size_t *n) {
    png_image png;
    memset(&png, 0, sizeof(png));
    png.version = PNG_IMAGE_VERSION;
    png.width = (png_uint_32)w;
    png.height = (png_uint_32)h;
    png.format = format;
    png.colormap_entries = (png_uint_32)colormap_entries;
    png_alloc_size_t size = 0;
    if (!png_image_write_get_memory_size(png, size, 0, pixels, 0, colormap))
        fail_msg("libpng cannot size the PNG: %s", png.message);
    uint8_t *buf = malloc(size);
    assert_non_null(buf);
    if (!png_image_write_to_memory(&png, buf, &size, 0, pixels, 0, colormap))
        fail_msg("libpng cannot write the PNG: %s", png.message);
    *n = size;
    return buf;
}

/* Append a PNG chunk (length, type, data, CRC-32 of type and data) at out. */
static size_t put_chunk(uint8_t *out, const char *type, const uint8_t *data, size_t len) {
    out[0] = (uint8_t)(len >> 24);
    out[1] = (uint8_t)(len >> 16);
    out[2] = (uint8_t)(len >> 8);
    out[3] = (uint8_t)len;
    memcpy(out + 4, type, 4);
    if (len > 0) memcpy(out + 8, data, len);
    uLong crc = crc32(0, out + 4, (uInt)(4 + len));
    out[8 + len] = (uint8_t)(crc >> 24);
    out[9 + len] = (uint8_t)(crc >> 16);
    out[10 + len] = (uint8_t)(crc >> 8);
    out[11 + len] = (uint8_t)crc;
    return 12 + len;
}

/* Build a PNG by hand into a malloc'd buffer: signature, IHDR, an optional
 * extra chunk (such as tRNS) of extra_type, one IDAT holding the
 * zlib-compressed rows (each starting with its filter byte), IEND. */
static uint8_t *png_by_hand(uint32_t w, uint32_t h, int bit_depth, int color_type,
                            const uint8_t *rows, size_t rows_len, const char *extra_type,
                            const uint8_t *extra, size_t extra_len, size_t *n) {
    uLongf z_len = compressBound((uLong)rows_len);
    uint8_t *z = malloc(z_len);
    assert_non_null(z);
    if (compress2(z, &z_len, rows, (uLong)rows_len, 9) != Z_OK) fail_msg("compress2 failed");

    uint8_t *png = malloc(8 + 25 + 12 + extra_len + 12 + z_len + 12);
    assert_non_null(png);
    static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    memcpy(png, signature, 8);
    uint8_t ihdr[13] = {(uint8_t)(w >> 24), (uint8_t)(w >> 16), (uint8_t)(w >> 8), (uint8_t)w,
                        (uint8_t)(h >> 24), (uint8_t)(h >> 16), (uint8_t)(h >> 8), (uint8_t)h,
                        (uint8_t)bit_depth, (uint8_t)color_type, 0, 0, 0};
    size_t at = 8;
    at += put_chunk(png + at, "IHDR", ihdr, sizeof(ihdr));
    if (extra_type != NULL) at += put_chunk(png + at, extra_type, extra, extra_len);
    at += put_chunk(png + at, "IDAT", z, z_len);
    at += put_chunk(png + at, "IEND", NULL, 0);
    free(z);
    *n = at;
    return png;
}

/* Offset and data length of the first IDAT chunk of a PNG in memory. */
static void find_idat(const uint8_t *png, size_t n, size_t *data_at, size_t *data_len) {
    size_t at = 8;
    while (at + 12 <= n) {
        size_t len = (size_t)png[at] << 24 | (size_t)png[at + 1] << 16 |
                     (size_t)png[at + 2] << 8 | png[at + 3];
        if (memcmp(png + at + 4, "IDAT", 4) == 0) {
            *data_at = at + 8;
            *data_len = len;
            return;
        }
        at += 12 + len;
    }
    fail_msg("no IDAT chunk found");
}

static void fill_bytes(uint8_t *x, size_t n, uint64_t seed) {
    iae_rng r;
    iae_rng_seed(&r, seed, 1);
    for (size_t i = 0; i < n; i++) x[i] = (uint8_t)iae_rng_below(&r, 256);
}

/* ------------------------------------------------------------------------ */
/* PNG                                                                       */
/* ------------------------------------------------------------------------ */

/* Write gray and RGB images with iae_image_write_png and read them back. */
static void image_png_write_read_roundtrip(void **state) {
    const char *dir = tu_tmpdir("image_png_roundtrip");
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);

    uint8_t gray[7 * 5];
    fill_bytes(gray, sizeof(gray), 1);
    iae_image img = {.h = 7, .w = 5, .c = 1, .data = gray};
    const char *gray_path = tu_path(dir, "gray.png");
    if (iae_image_write_png(&ctx, gray_path, &img) != IAE_OK) fail_msg("%s", ctx.error);

    uint8_t rgb[3 * 4 * 3];
    fill_bytes(rgb, sizeof(rgb), 2);
    img = (iae_image){.h = 3, .w = 4, .c = 3, .data = rgb};
    const char *rgb_path = tu_path(dir, "rgb.png");
    if (iae_image_write_png(&ctx, rgb_path, &img) != IAE_OK) fail_msg("%s", ctx.error);

    /* The files are PNG files and no temporary file stays behind. */
    FILE *f = fopen(rgb_path, "rb");
    assert_non_null(f);
    uint8_t head[8];
    assert_int_equal(fread(head, 1, 8, f), 8);
    fclose(f);
    assert_true(iae_image_sniff(head, 8));
    assert_int_equal(head[1], 'P');
    char tmp[1200];
    snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", rgb_path, (long)getpid());
    struct stat info;
    assert_int_not_equal(stat(tmp, &info), 0);

    iae_image back;
    if (iae_image_read(&ctx, gray_path, 0, &back) != IAE_OK) fail_msg("%s", ctx.error);
    expect_pixels(&back, 7, 5, 1, gray);
    iae_image_free(&back);

    uint8_t gray_as_rgb[3 * sizeof(gray)];
    replicate_gray(gray, sizeof(gray), gray_as_rgb);
    if (iae_image_read(&ctx, gray_path, 3, &back) != IAE_OK) fail_msg("%s", ctx.error);
    expect_pixels(&back, 7, 5, 3, gray_as_rgb);
    iae_image_free(&back);

    if (iae_image_read(&ctx, rgb_path, 0, &back) != IAE_OK) fail_msg("%s", ctx.error);
    expect_pixels(&back, 3, 4, 3, rgb);
    iae_image_free(&back);

    uint8_t rgb_as_gray[3 * 4];
    for (int i = 0; i < 12; i++)
        rgb_as_gray[i] = ref_gray(rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]);
    if (iae_image_read(&ctx, rgb_path, 1, &back) != IAE_OK) fail_msg("%s", ctx.error);
    expect_pixels(&back, 3, 4, 1, rgb_as_gray);
    iae_image_free(&back);
    assert_null(back.data);
}

/* All 256 gray levels survive reading as gray and as RGB. */
static void image_png_gray_levels_exact(void **state) {
    uint8_t gray[256];
    for (int i = 0; i < 256; i++) gray[i] = (uint8_t)i;
    size_t n = 0;
    uint8_t *png = png_simplified(PNG_FORMAT_GRAY, 16, 16, gray, NULL, 0, &n);

    expect_decoded(png, n, 0, 16, 16, 1, gray);
    expect_decoded(png, n, 1, 16, 16, 1, gray);
    uint8_t rgb[3 * 256];
    replicate_gray(gray, 256, rgb);
    expect_decoded(png, n, 3, 16, 16, 3, rgb);
    free(png);
}

/* RGB to gray: Rec. 709 weights in linear light. The expected values were
 * computed outside this test from Y = (6968 R + 23434 G + 2366 B) / 32768 on
 * sRGB-decoded values, sRGB-encoded and rounded. */
static void image_png_rgb_to_gray_formula(void **state) {
    static const uint8_t rgb[10][3] = {
        {24, 12, 36}, {255, 0, 0},   {0, 255, 0}, {0, 0, 255}, {100, 150, 200},
        {0, 0, 51},   {50, 50, 50},  {1, 2, 3},   {0, 128, 0}, {255, 255, 255},
    };
    static const uint8_t expected[10] = {18, 127, 220, 76, 146, 8, 50, 2, 109, 255};
    size_t n = 0;
    uint8_t *png = png_simplified(PNG_FORMAT_RGB, 10, 1, rgb, NULL, 0, &n);
    expect_decoded(png, n, 1, 1, 10, 1, expected);
    expect_decoded(png, n, 0, 1, 10, 3, &rgb[0][0]);
    free(png);

    /* A grid of colors against the formula computed directly, and gray
     * colors, which must keep their value. */
    enum { STEPS = 11, COUNT = STEPS * STEPS * STEPS + 256 };
    static uint8_t grid[COUNT][3];
    static uint8_t grid_gray[COUNT];
    int k = 0;
    for (int r = 0; r < STEPS; r++)
        for (int g = 0; g < STEPS; g++)
            for (int b = 0; b < STEPS; b++, k++) {
                grid[k][0] = (uint8_t)(r * 25 + 3);
                grid[k][1] = (uint8_t)(g * 25);
                grid[k][2] = (uint8_t)(b * 25 + 1);
                grid_gray[k] = ref_gray(grid[k][0], grid[k][1], grid[k][2]);
            }
    for (int v = 0; v < 256; v++, k++) {
        grid[k][0] = grid[k][1] = grid[k][2] = (uint8_t)v;
        grid_gray[k] = (uint8_t)v;
    }
    png = png_simplified(PNG_FORMAT_RGB, COUNT, 1, grid, NULL, 0, &n);
    expect_decoded(png, n, 1, 1, COUNT, 1, grid_gray);
    free(png);
}

/* 16-bit gray without gAMA: samples scale to round(v * 255 / 65535). */
static void image_png_16bit_gray_scaled(void **state) {
    static const uint16_t samples[8] = {0, 255, 383, 386, 32767, 32768, 0x1234, 65535};
    /* 255 * 255 / 65535 = 0.99 -> 1; 383 -> 1.490 -> 1; 386 -> 1.502 -> 2;
     * 32767 -> 127.498 -> 127; 32768 -> 127.502 -> 128; 4660 -> 18.13 -> 18. */
    static const uint8_t expected[8] = {0, 1, 1, 2, 127, 128, 18, 255};
    uint8_t rows[1 + 16];
    rows[0] = 0;
    for (int i = 0; i < 8; i++) {
        rows[1 + 2 * i] = (uint8_t)(samples[i] >> 8);
        rows[2 + 2 * i] = (uint8_t)samples[i];
    }
    size_t n = 0;
    uint8_t *png = png_by_hand(8, 1, 16, 0, rows, sizeof(rows), NULL, NULL, 0, &n);
    expect_decoded(png, n, 0, 1, 8, 1, expected);
    uint8_t rgb[24];
    replicate_gray(expected, 8, rgb);
    expect_decoded(png, n, 3, 1, 8, 3, rgb);
    free(png);
}

/* libpng's simplified writer stores 16-bit data as linear light with gAMA
 * 1.0, and libpng converts it to sRGB when reading 8 bits. libpng's
 * conversion is approximate, so values are checked within 3 of the sRGB
 * curve (32768 -> 187.5, 16384 -> 137.0, 49152 -> 224.6); plain scaling
 * would give 128 for 32768. */
static void image_png_16bit_linear_gray_to_srgb(void **state) {
    static const uint16_t samples[5] = {0, 16384, 32768, 49152, 65535};
    static const double srgb[5] = {0, 136.96, 187.52, 224.61, 255};
    size_t n = 0;
    uint8_t *png = png_simplified(PNG_FORMAT_LINEAR_Y, 5, 1, samples, NULL, 0, &n);
    iae_image img;
    decode_ok(png, n, 0, &img);
    assert_int_equal(img.c, 1);
    assert_int_equal(img.w, 5);
    assert_int_equal(img.data[0], 0);
    assert_int_equal(img.data[4], 255);
    for (int i = 1; i < 4; i++)
        if (fabs(img.data[i] - srgb[i]) > 3)
            fail_msg("sample %u read as %u, expected %.2f +- 3", samples[i], img.data[i], srgb[i]);
    iae_image_free(&img);
    free(png);
}

/* RGBA: alpha composited onto black on the encoded values, round(v * a / 255). */
static void image_png_rgba_composited_on_black(void **state) {
    static const uint8_t rgba[6][4] = {
        {255, 255, 255, 128}, {200, 100, 50, 51}, {10, 20, 30, 255},
        {90, 90, 90, 0},      {255, 0, 0, 1},     {254, 201, 1, 127},
    };
    /* 255 * 128 / 255 = 128; 200 * 51 / 255 = 40, 100 -> 20, 50 -> 10;
     * opaque is unchanged; transparent is black; 255 * 1 / 255 = 1;
     * 254 * 127 / 255 = 126.50 -> 127, 201 -> 100.11 -> 100, 1 -> 0.498 -> 0. */
    static const uint8_t rgb[6][3] = {
        {128, 128, 128}, {40, 20, 10}, {10, 20, 30}, {0, 0, 0}, {1, 0, 0}, {127, 100, 0},
    };
    /* Gray of the composited colors: 128 stays 128, (40, 20, 10) -> 25,
     * (10, 20, 30) -> 19, (1, 0, 0) -> 0.21 -> 0, (127, 100, 0) -> 103.2 -> 103. */
    static const uint8_t gray[6] = {128, 25, 19, 0, 0, 103};
    size_t n = 0;
    uint8_t *png = png_simplified(PNG_FORMAT_RGBA, 6, 1, rgba, NULL, 0, &n);
    expect_decoded(png, n, 0, 1, 6, 3, &rgb[0][0]);
    expect_decoded(png, n, 3, 1, 6, 3, &rgb[0][0]);
    expect_decoded(png, n, 1, 1, 6, 1, gray);
    free(png);
}

static void image_png_gray_alpha_composited(void **state) {
    static const uint8_t ga[6][2] = {{200, 128}, {255, 255}, {100, 0},
                                     {255, 51},  {77, 200},  {1, 128}};
    /* 200 * 128 / 255 = 100.4 -> 100; 77 * 200 / 255 = 60.4 -> 60;
     * 1 * 128 / 255 = 0.502 -> 1. */
    static const uint8_t gray[6] = {100, 255, 0, 51, 60, 1};
    size_t n = 0;
    uint8_t *png = png_simplified(PNG_FORMAT_GA, 6, 1, ga, NULL, 0, &n);
    expect_decoded(png, n, 0, 1, 6, 1, gray);
    uint8_t rgb[18];
    replicate_gray(gray, 6, rgb);
    expect_decoded(png, n, 3, 1, 6, 3, rgb);
    free(png);
}

static void image_png_palette(void **state) {
    static const uint8_t colormap[4][3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {10, 20, 30}};
    static const uint8_t index[6] = {3, 2, 1, 0, 0, 1};
    uint8_t expected[6][3];
    for (int i = 0; i < 6; i++) memcpy(expected[i], colormap[index[i]], 3);
    size_t n = 0;
    uint8_t *png = png_simplified(PNG_FORMAT_RGB_COLORMAP, 3, 2, index, colormap, 4, &n);
    expect_decoded(png, n, 0, 2, 3, 3, &expected[0][0]);
    free(png);

    /* Gray palette entries keep their value when read as gray. */
    static const uint8_t gray_map[3][3] = {{0, 0, 0}, {77, 77, 77}, {200, 200, 200}};
    static const uint8_t gray_index[4] = {2, 1, 0, 1};
    static const uint8_t gray_expected[4] = {200, 77, 0, 77};
    png = png_simplified(PNG_FORMAT_RGB_COLORMAP, 4, 1, gray_index, gray_map, 3, &n);
    expect_decoded(png, n, 1, 1, 4, 1, gray_expected);
    free(png);

    /* Palette alpha (tRNS) is composited onto black: 255 * 128 / 255 = 128. */
    static const uint8_t rgba_map[4][4] = {
        {255, 0, 0, 128}, {0, 255, 0, 255}, {0, 0, 255, 0}, {10, 20, 30, 255}};
    static const uint8_t rgba_expected[6][3] = {
        {10, 20, 30}, {0, 0, 0}, {0, 255, 0}, {128, 0, 0}, {128, 0, 0}, {0, 255, 0}};
    png = png_simplified(PNG_FORMAT_RGBA_COLORMAP, 3, 2, index, rgba_map, 4, &n);
    expect_decoded(png, n, 0, 2, 3, 3, &rgba_expected[0][0]);
    free(png);
}

/* 16-bit RGBA without gAMA: reduced to 8 bits, then composited. */
static void image_png_16bit_rgba(void **state) {
    static const uint16_t samples[2][4] = {{65535, 32768, 0, 32768}, {0x1234, 65535, 257, 65535}};
    /* Pixel 0: (255, 128, 0) with alpha 128 -> (128, 64.25 -> 64, 0).
     * Pixel 1: (18, 255, 1), opaque. */
    static const uint8_t expected[2][3] = {{128, 64, 0}, {18, 255, 1}};
    uint8_t rows[1 + 16];
    rows[0] = 0;
    for (int i = 0; i < 8; i++) {
        uint16_t v = samples[i / 4][i % 4];
        rows[1 + 2 * i] = (uint8_t)(v >> 8);
        rows[2 + 2 * i] = (uint8_t)v;
    }
    size_t n = 0;
    uint8_t *png = png_by_hand(2, 1, 16, 6, rows, sizeof(rows), NULL, NULL, 0, &n);
    expect_decoded(png, n, 0, 1, 2, 3, &expected[0][0]);
    free(png);
}

/* Bit depth 2 scales 0..3 to 0, 85, 170, 255. A gray tRNS chunk makes one
 * gray value transparent, which becomes black. */
static void image_png_low_depth_and_trns(void **state) {
    const uint8_t rows2[2] = {0, 0x1B}; /* filter 0, then 2-bit samples 0 1 2 3 */
    static const uint8_t expected2[4] = {0, 85, 170, 255};
    size_t n = 0;
    uint8_t *png = png_by_hand(4, 1, 2, 0, rows2, sizeof(rows2), NULL, NULL, 0, &n);
    expect_decoded(png, n, 0, 1, 4, 1, expected2);
    free(png);

    const uint8_t rows8[4] = {0, 7, 8, 200};
    const uint8_t trns[2] = {0, 7}; /* 16-bit gray value 7 is transparent */
    static const uint8_t expected8[3] = {0, 8, 200};
    png = png_by_hand(3, 1, 8, 0, rows8, sizeof(rows8), "tRNS", trns, sizeof(trns), &n);
    expect_decoded(png, n, 0, 1, 3, 1, expected8);
    free(png);
}

/* A gAMA chunk must hold 4 bytes. libpng warns about a 3-byte one while
 * reading the header and ignores it. The pixels are intact, so the image is
 * accepted. */
static void image_png_header_warning_accepted(void **state) {
    const uint8_t rows[4] = {0, 7, 8, 200};
    const uint8_t bad_gamma[3] = {0, 1, 2};
    static const uint8_t expected[3] = {7, 8, 200};
    size_t n = 0;
    uint8_t *png = png_by_hand(3, 1, 8, 0, rows, sizeof(rows), "gAMA", bad_gamma, 3, &n);
    expect_decoded(png, n, 0, 1, 3, 1, expected);
    free(png);
}

/* Every cut before the end of the image data, and every changed byte inside
 * it (with the chunk CRC left stale and with it recomputed), is rejected. */
static void image_png_truncated_and_corrupt(void **state) {
    uint8_t rgb[8 * 8 * 3];
    fill_bytes(rgb, sizeof(rgb), 3);
    size_t n = 0;
    uint8_t *png = png_simplified(PNG_FORMAT_RGB, 8, 8, rgb, NULL, 0, &n);
    size_t idat_at = 0, idat_len = 0;
    find_idat(png, n, &idat_at, &idat_len);
    expect_decoded(png, n, 0, 8, 8, 3, rgb);

    expect_decode_error("half.png", png, n / 2, 0, IAE_ERR_FORMAT, "PNG image",
                        "is truncated or corrupt", NULL);
    expect_decode_error("signature.png", png, 5, 0, IAE_ERR_FORMAT, "truncated",
                        "fewer than the 8-byte PNG signature", NULL);
    for (size_t cut = 8; cut < idat_at + idat_len + 4; cut++)
        expect_decode_error("cut.png", png, cut, 0, IAE_ERR_FORMAT, "PNG image", NULL);

    uint8_t *copy = malloc(n);
    assert_non_null(copy);
    for (size_t at = idat_at; at < idat_at + idat_len; at++) {
        memcpy(copy, png, n);
        copy[at] ^= 0x55;
        expect_decode_error("stale-crc.png", copy, n, 0, IAE_ERR_FORMAT, "corrupt", NULL);

        uLong crc = crc32(0, copy + idat_at - 4, (uInt)(4 + idat_len));
        uint8_t *crc_at = copy + idat_at + idat_len;
        crc_at[0] = (uint8_t)(crc >> 24);
        crc_at[1] = (uint8_t)(crc >> 16);
        crc_at[2] = (uint8_t)(crc >> 8);
        crc_at[3] = (uint8_t)crc;
        expect_decode_error("fixed-crc.png", copy, n, 0, IAE_ERR_FORMAT, "corrupt", NULL);
    }
    free(copy);
    free(png);
}

/* Damage that zlib meets only after the last row: libpng reports it as a
 * warning and returns the pixels decoded so far, which the reader must
 * reject. The zlib stream is built by hand. It has the header 78 01 and a
 * non-final stored block with the rows, whose last pixel is changed after
 * the Adler-32 was computed. A final stored block with one byte beyond the
 * image and the Adler-32 of the unchanged data follow. */
static void image_png_damage_after_last_row(void **state) {
    enum { W = 4, H = 4, ROWS = H * (1 + W) };
    uint8_t data[ROWS + 1];
    for (int r = 0; r < H; r++) {
        data[(1 + W) * r] = 0;
        for (int c = 0; c < W; c++) data[(1 + W) * r + 1 + c] = (uint8_t)(16 * r + c);
    }
    data[ROWS] = 0xEE;
    uLong adler = adler32(adler32(0, NULL, 0), data, ROWS + 1);
    data[ROWS - 1] ^= 0x40;

    uint8_t z[2 + 5 + ROWS + 5 + 1 + 4];
    size_t at = 0;
    z[at++] = 0x78;
    z[at++] = 0x01;
    const uint8_t first[5] = {0x00, ROWS, 0x00, (uint8_t)~ROWS, 0xFF};
    memcpy(z + at, first, 5);
    at += 5;
    memcpy(z + at, data, ROWS);
    at += ROWS;
    const uint8_t last[5] = {0x01, 0x01, 0x00, 0xFE, 0xFF};
    memcpy(z + at, last, 5);
    at += 5;
    z[at++] = data[ROWS];
    for (int shift = 24; shift >= 0; shift -= 8) z[at++] = (uint8_t)(adler >> shift);
    assert_int_equal(at, sizeof(z));

    uint8_t png[8 + 25 + 12 + sizeof(z) + 12];
    static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    const uint8_t ihdr[13] = {0, 0, 0, W, 0, 0, 0, H, 8, 0, 0, 0, 0};
    memcpy(png, signature, 8);
    size_t n = 8;
    n += put_chunk(png + n, "IHDR", ihdr, sizeof(ihdr));
    n += put_chunk(png + n, "IDAT", z, sizeof(z));
    n += put_chunk(png + n, "IEND", NULL, 0);
    assert_int_equal(n, sizeof(png));
    expect_decode_error("late-damage.png", png, n, 0, IAE_ERR_FORMAT, "is corrupt", "libpng:",
                        NULL);
}

/* Headers declaring huge images in tiny files fail before the pixels are
 * allocated. 16000 x 16000 needs 244 MiB as gray, which would raise the peak
 * RSS because iae_alloc zero-fills. */
static void image_png_huge_declared_size(void **state) {
    const uint8_t rows[2] = {0, 0};
    size_t n = 0;

    uint8_t *png = png_by_hand(70000, 1, 8, 0, rows, sizeof(rows), NULL, NULL, 0, &n);
    expect_decode_error("wide.png", png, n, 0, IAE_ERR_FORMAT, "70000 x 1",
                        "the maximum is 65535 per side", NULL);
    free(png);

    png = png_by_hand(60000, 60000, 8, 0, rows, sizeof(rows), NULL, NULL, 0, &n);
    expect_decode_error("many.png", png, n, 0, IAE_ERR_FORMAT, "3600000000 in all",
                        "the maximum is 268435456 pixels", NULL);
    free(png);

    long before_kib = peak_rss_kib();
    png = png_by_hand(16000, 16000, 8, 0, rows, sizeof(rows), NULL, NULL, 0, &n);
    expect_decode_error("bomb.png", png, n, 0, IAE_ERR_FORMAT, "declares 16000 x 16000 pixels",
                        "deflate compresses at most 1032:1", NULL);
    free(png);
    long grown_kib = peak_rss_kib() - before_kib;
    if (grown_kib > 64 * 1024) fail_msg("peak RSS grew by %ld KiB for a tiny PNG", grown_kib);
}

/* ------------------------------------------------------------------------ */
/* PGM                                                                       */
/* ------------------------------------------------------------------------ */

static void expect_pgm(const char *text, size_t len, int channels, int h, int w,
                       const uint8_t *gray) {
    expect_decoded(text, len, channels, h, w, 1, gray);
    uint8_t rgb[3 * 64];
    assert_true(h * w <= 64);
    replicate_gray(gray, (size_t)(h * w), rgb);
    expect_decoded(text, len, 3, h, w, 3, rgb);
}

static void image_pgm_binary_8bit(void **state) {
    static const char p5[] = "P5\n3 2\n255\n\x00\x01\x7f\x80\xfe\xff";
    static const uint8_t identity[6] = {0, 1, 127, 128, 254, 255};
    expect_pgm(p5, sizeof(p5) - 1, 0, 2, 3, identity);

    /* maxval 100: 1 -> 2.55 -> 3, 33 -> 84.15 -> 84, 50 -> 127.5 -> 128, 99 -> 252.45 -> 252. */
    static const char p5_100[] = "P5 6 1 100\n\x00\x01\x21\x32\x63\x64";
    static const uint8_t scaled[6] = {0, 3, 84, 128, 252, 255};
    expect_pgm(p5_100, sizeof(p5_100) - 1, 0, 1, 6, scaled);

    static const char p5_1[] = "P5 4 1 1\n\x00\x01\x00\x01";
    static const uint8_t binary[4] = {0, 255, 0, 255};
    expect_pgm(p5_1, sizeof(p5_1) - 1, 1, 1, 4, binary);

    /* A comment between maxval and the raster ends with the delimiter. */
    static const char commented[] = "P5 2 1 255# comment\n\x0a\x14";
    static const uint8_t two[2] = {10, 20};
    expect_pgm(commented, sizeof(commented) - 1, 0, 1, 2, two);
}

/* Two big-endian bytes per sample when maxval > 255. */
static void image_pgm_binary_16bit(void **state) {
    /* maxval 1000: 2 -> 0.51 -> 1, 258 -> 65.79 -> 66, 500 -> 127.5 -> 128,
     * 999 -> 254.75 -> 255. Read little-endian, 500 (01 f4) would be 62465. */
    static const char p5[] = "P5\n3 2\n1000\n\x00\x00\x00\x02\x01\x02\x01\xf4\x03\xe7\x03\xe8";
    static const uint8_t expected[6] = {0, 1, 66, 128, 255, 255};
    expect_pgm(p5, sizeof(p5) - 1, 0, 2, 3, expected);

    /* maxval 65535: 255 -> 0.99 -> 1, 258 -> 1.004 -> 1, 32768 -> 127.5 -> 128. */
    static const char full[] = "P5 4 1 65535\n\x00\xff\x01\x02\x80\x00\xff\xff";
    static const uint8_t full_expected[4] = {1, 1, 128, 255};
    expect_pgm(full, sizeof(full) - 1, 0, 1, 4, full_expected);
}

/* Plain PGM with comments, tabs, CRLF and comments inside the raster. */
static void image_pgm_plain_with_comments(void **state) {
    static const char p2[] = "P2\n# made by hand\n3 # width\n2\t# height\r\n15\n"
                             " 0 1 7\n# row two\n8\t\t15   14\r\n";
    /* maxval 15: v * 17. */
    static const uint8_t expected[6] = {0, 17, 119, 136, 255, 238};
    expect_pgm(p2, sizeof(p2) - 1, 0, 2, 3, expected);

    static const char tight[] = "P2#comment\n2 2 255 9 8 7 6";
    static const uint8_t tight_expected[4] = {9, 8, 7, 6};
    expect_pgm(tight, sizeof(tight) - 1, 0, 2, 2, tight_expected);
}

/* "P5\n3 2\n255\n" is 11 bytes, followed by 6 samples. */
static void image_pgm_truncated_at_offsets(void **state) {
    static const char full[] = "P5\n3 2\n255\n\x01\x02\x03\x04\x05\x06";
    const struct {
        size_t cut;
        const char *text;
    } cases[] = {
        {0, "is empty; expected a PNG or PGM image"},
        {1, "not a PNG or PGM image: it starts with the bytes 50;"},
        {2, "the header ends before the width"},
        {4, "the header ends before the height"},
        {6, "the header ends before the maxval"},
        {8, "expected 6 samples (3 x 2, 1 byte each), found 0"}, /* maxval "25" */
        {11, "expected 6 samples (3 x 2, 1 byte each), found 0"},
        {13, "expected 6 samples (3 x 2, 1 byte each), found 2"},
        {16, "expected 6 samples (3 x 2, 1 byte each), found 5"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_decode_error("cut.pgm", full, cases[i].cut, 0, IAE_ERR_FORMAT, cases[i].text, NULL);

    static const char wide[] = "P5 3 1 1000\n\x00\x01\x00\x02\x00\x03";
    expect_decode_error("cut16.pgm", wide, sizeof(wide) - 1 - 3, 0, IAE_ERR_FORMAT,
                        "truncated: expected 3 samples (3 x 1, 2 bytes each), found 1", NULL);

    static const char plain[] = "P2 3 2 255\n1 2 3\n4";
    expect_decode_error("cut.pgm", plain, sizeof(plain) - 1, 0, IAE_ERR_FORMAT,
                        "truncated: expected 6 samples (3 x 2), found 4", NULL);
}

static void image_pgm_bad_magic(void **state) {
    static const char ppm[] = "P6 1 1 255\n\x01\x02\x03";
    expect_decode_error("a.ppm", ppm, sizeof(ppm) - 1, 0, IAE_ERR_FORMAT,
                        "is a PPM file (magic number 'P6')", "expected a PNG or PGM image", NULL);
    static const char pam[] = "P7\nWIDTH 1\n";
    expect_decode_error("a.pam", pam, sizeof(pam) - 1, 0, IAE_ERR_FORMAT, "PAM file", NULL);
    static const char q5[] = "Q5 1 1 255\n\x01";
    expect_decode_error("q5.pgm", q5, sizeof(q5) - 1, 0, IAE_ERR_FORMAT,
                        "not a PNG or PGM image", "51 35 20 31", NULL);
    static const char glued[] = "P5x1 1 255\n\x01";
    expect_decode_error("glued.pgm", glued, sizeof(glued) - 1, 0, IAE_ERR_FORMAT,
                        "expected whitespace after the magic number 'P5', found 'x1'", NULL);
}

static void image_pgm_bad_header_fields(void **state) {
    const struct {
        const char *text;
        const char *message;
    } cases[] = {
        {"P5 0 2 255\n", "has width 0; expected 1 to 65535"},
        {"P5 -3 2 255\n",
         "invalid width '-3' at byte 3; expected a decimal integer from 1 to 65535"},
        {"P5 3 abc 255\n", "invalid height 'abc'"},
        {"P5 3 2x 255\n", "invalid height '2x'"},
        {"P5 65536 1 255\n", "has width 65536; expected 1 to 65535"},
        {"P5 99999999999999999999 1 255\n", "has width 99999999999999999999"},
        {"P5 65535 65535 255\n", "4294836225 in all; the maximum is 268435456 pixels"},
        {"P5 3 2 0\n", "has maxval 0; expected 1 to 65535"},
        {"P5 3 2 65536\n", "has maxval 65536; expected 1 to 65535"},
        {"P2 3 2 2x5\n", "invalid maxval '2x5'"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_decode_error("bad.pgm", cases[i].text, strlen(cases[i].text), 0, IAE_ERR_FORMAT,
                            cases[i].message, NULL);
}

static void image_pgm_value_over_maxval(void **state) {
    static const char p5[] = "P5 3 2 100\n\x00\x01\x02\x03\x65\x05";
    expect_decode_error("over.pgm", p5, sizeof(p5) - 1, 0, IAE_ERR_FORMAT,
                        "sample value 101 at row 1, column 1, above its maxval 100", NULL);
    static const char p5_16[] = "P5 2 1 1000\n\x03\xe8\x03\xe9";
    expect_decode_error("over16.pgm", p5_16, sizeof(p5_16) - 1, 0, IAE_ERR_FORMAT,
                        "sample value 1001 at row 0, column 1, above its maxval 1000", NULL);
    static const char p2[] = "P2 2 2 255\n1 2\n256 3\n";
    expect_decode_error("over.pgm", p2, sizeof(p2) - 1, 0, IAE_ERR_FORMAT,
                        "sample value 256 at row 1, column 0, above its maxval 255", NULL);
    static const char p2_huge[] = "P2 1 1 65535\n99999999999\n";
    expect_decode_error("huge.pgm", p2_huge, sizeof(p2_huge) - 1, 0, IAE_ERR_FORMAT,
                        "sample value 99999999999 at row 0, column 0", NULL);
    static const char p2_text[] = "P2 2 1 255\n1 x\n";
    expect_decode_error("text.pgm", p2_text, sizeof(p2_text) - 1, 0, IAE_ERR_FORMAT,
                        "invalid sample 'x' at row 0, column 1", NULL);
}

static void image_pgm_trailing_data(void **state) {
    static const char p5[] = "P5 2 1 255\n\x01\x02\x03";
    expect_decode_error("extra.pgm", p5, sizeof(p5) - 1, 0, IAE_ERR_FORMAT,
                        "has 1 extra byte after its 2 samples", NULL);
    static const char p2[] = "P2 2 1 255\n1 2 3\n";
    expect_decode_error("extra.pgm", p2, sizeof(p2) - 1, 0, IAE_ERR_FORMAT,
                        "has data after its 2 samples, starting with '3'", NULL);
}

/* 16384 x 16384 = 2^28 pixels declared, 4 samples present. Allocating the
 * declared 256 MiB (zero-filled) would raise the peak RSS by that much. */
static void image_pgm_huge_size_tiny_file(void **state) {
    long before_kib = peak_rss_kib();
    static const char p5[] = "P5 16384 16384 255\n\x01\x02\x03\x04";
    expect_decode_error("huge.pgm", p5, sizeof(p5) - 1, 0, IAE_ERR_FORMAT,
                        "truncated: expected 268435456 samples (16384 x 16384, 1 byte each), "
                        "found 4",
                        NULL);
    static const char p2[] = "P2 16384 16384 255\n1 2 3 4\n";
    expect_decode_error("huge.pgm", p2, sizeof(p2) - 1, 3, IAE_ERR_FORMAT,
                        "truncated: expected 268435456 samples (16384 x 16384), found 4", NULL);
    long grown_kib = peak_rss_kib() - before_kib;
    if (grown_kib > 64 * 1024) fail_msg("peak RSS grew by %ld KiB for tiny PGM files", grown_kib);
}

/* ------------------------------------------------------------------------ */
/* Files, standard input, arguments                                          */
/* ------------------------------------------------------------------------ */

static void image_read_files(void **state) {
    const char *dir = tu_tmpdir("image_files");
    static const char p5[] = "P5 2 1 255\n\x05\x06";
    const char *path = tu_path(dir, "ok.pgm");
    tu_write_file(path, p5, sizeof(p5) - 1);
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    iae_image img;
    if (iae_image_read(&ctx, path, 0, &img) != IAE_OK) fail_msg("%s", ctx.error);
    static const uint8_t expected[2] = {5, 6};
    expect_pixels(&img, 1, 2, 1, expected);
    iae_image_free(&img);

    /* The content decides the format, not the name. */
    const char *named_png = tu_path(dir, "really-pgm.png");
    tu_write_file(named_png, p5, sizeof(p5) - 1);
    if (iae_image_read(&ctx, named_png, 0, &img) != IAE_OK) fail_msg("%s", ctx.error);
    expect_pixels(&img, 1, 2, 1, expected);
    iae_image_free(&img);

    expect_read_error(dir, 0, IAE_ERR_IO, "is a directory; expected a PNG or PGM image file", NULL);
    expect_read_error(tu_path(dir, "missing.png"), 0, IAE_ERR_IO, "not found; check the path",
                      NULL);

    const char *text = tu_path(dir, "notes.txt");
    tu_write_file(text, "hello, world\n", 13);
    expect_read_error(text, 0, IAE_ERR_FORMAT, "not a PNG or PGM image",
                      "68 65 6c 6c 6f 2c 20 77", "expected a PNG or PGM image", NULL);

    const char *empty = tu_path(dir, "empty.pgm");
    tu_write_file(empty, "", 0);
    expect_read_error(empty, 0, IAE_ERR_FORMAT, "is empty; expected a PNG or PGM image", NULL);

    /* A PNG cut in half, on disk. */
    uint8_t rgb[4 * 4 * 3];
    fill_bytes(rgb, sizeof(rgb), 4);
    size_t n = 0;
    uint8_t *png = png_simplified(PNG_FORMAT_RGB, 4, 4, rgb, NULL, 0, &n);
    const char *half = tu_path(dir, "half.png");
    tu_write_file(half, png, n / 2);
    expect_read_error(half, 0, IAE_ERR_FORMAT, "PNG image", "truncated or corrupt", NULL);
    free(png);
}

static void ignore_signal(int signum) { (void)signum; }

/* A FIFO that no writer ever opens. A blocking open() would wait forever, so
 * an alarm without SA_RESTART interrupts it after 5 s, and a regression fails
 * the checks below instead of hanging the test. */
static void image_read_fifo_rejected_promptly(void **state) {
    const char *dir = tu_tmpdir("image_fifo");
    const char *path = tu_path(dir, "pipe.png");
    if (mkfifo(path, 0600) != 0) fail_msg("mkfifo %s failed", path);

    struct sigaction on_alarm = {0};
    struct sigaction saved;
    on_alarm.sa_handler = ignore_signal;
    sigemptyset(&on_alarm.sa_mask);
    assert_int_equal(sigaction(SIGALRM, &on_alarm, &saved), 0);
    alarm(5);
    double start = iae_now_s();
    expect_read_error(path, 0, IAE_ERR_IO, "is not a regular file (a FIFO)",
                      "expected a PNG or PGM image file", NULL);
    double seconds = iae_now_s() - start;
    alarm(0);
    sigaction(SIGALRM, &saved, NULL);
    if (seconds > 1.0)
        fail_msg("reading the FIFO took %.2f s; expected an immediate error", seconds);
}

/* Read "-" with standard input redirected from path. */
static iae_status read_stdin_from(const char *path, iae_ctx *ctx, iae_image *img) {
    fflush(stdout);
    int saved = dup(STDIN_FILENO);
    assert_true(saved >= 0);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_true(dup2(fileno(f), STDIN_FILENO) >= 0);
    fclose(f);
    iae_status st = iae_image_read(ctx, "-", 0, img);
    assert_true(dup2(saved, STDIN_FILENO) >= 0);
    close(saved);
    return st;
}

static void image_read_stdin(void **state) {
    const char *dir = tu_tmpdir("image_stdin");
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);

    /* 300 x 300 = 90000 samples, more than the first 64 KiB buffer. */
    enum { SIDE = 300 };
    static uint8_t file[32 + SIDE * SIDE];
    int header = snprintf((char *)file, 32, "P5 %d %d 255\n", SIDE, SIDE);
    fill_bytes(file + header, SIDE * SIDE, 5);
    const char *path = tu_path(dir, "big.pgm");
    tu_write_file(path, file, (size_t)header + SIDE * SIDE);

    iae_image img;
    if (read_stdin_from(path, &ctx, &img) != IAE_OK) fail_msg("%s", ctx.error);
    expect_pixels(&img, SIDE, SIDE, 1, file + header);
    iae_image_free(&img);

    memset(&img, 0xAB, sizeof(img));
    assert_int_equal(read_stdin_from("/dev/null", &ctx, &img), IAE_ERR_FORMAT);
    assert_null(img.data);
    expect_in_message(&ctx, "'<stdin>' is empty");
}

static void image_sniff_formats(void **state) {
    static const uint8_t png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    assert_int_equal(iae_image_sniff(png, 8), 1);
    assert_int_equal(iae_image_sniff(png, 7), 0);
    assert_int_equal(iae_image_sniff((const uint8_t *)"P5 1 1 255\n", 11), 1);
    assert_int_equal(iae_image_sniff((const uint8_t *)"P2\n1 1 255\n", 11), 1);
    assert_int_equal(iae_image_sniff((const uint8_t *)"P5#c\n", 5), 1);
    assert_int_equal(iae_image_sniff((const uint8_t *)"P6 1 1 255\n", 11), 0);
    assert_int_equal(iae_image_sniff((const uint8_t *)"P5", 2), 0);
    assert_int_equal(iae_image_sniff((const uint8_t *)"P5x", 3), 0);
    assert_int_equal(iae_image_sniff((const uint8_t *)"GIF89a", 6), 0);
    assert_int_equal(iae_image_sniff(NULL, 0), 0);
}

static void image_invalid_arguments(void **state) {
    static const char p5[] = "P5 1 1 255\n\x01";
    expect_decode_error("a.pgm", p5, sizeof(p5) - 1, 2, IAE_ERR_ARGUMENT, "with 2 channels",
                        "expected 0 (keep the file's own), 1 (gray) or 3 (RGB)", NULL);
    /* Checked before the path is opened. */
    expect_read_error("/nonexistent/a.pgm", 4, IAE_ERR_ARGUMENT, "with 4 channels", NULL);

    iae_image zeroed = {0};
    iae_image_free(&zeroed);
    assert_null(zeroed.data);
}

static void image_write_png_errors(void **state) {
    const char *dir = tu_tmpdir("image_write_errors");
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    uint8_t pixels[8] = {0};
    const char *path = tu_path(dir, "out.png");

    iae_image two = {.h = 2, .w = 2, .c = 2, .data = pixels};
    assert_int_equal(iae_image_write_png(&ctx, path, &two), IAE_ERR_ARGUMENT);
    expect_in_message(&ctx, "with 2 channels; expected 1 (gray) or 3 (RGB)");

    iae_image empty = {.h = 0, .w = 2, .c = 1, .data = pixels};
    assert_int_equal(iae_image_write_png(&ctx, path, &empty), IAE_ERR_ARGUMENT);
    expect_in_message(&ctx, "of 2 x 0 pixels");

    iae_image no_data = {.h = 1, .w = 1, .c = 1, .data = NULL};
    assert_int_equal(iae_image_write_png(&ctx, path, &no_data), IAE_ERR_ARGUMENT);
    expect_in_message(&ctx, "data is NULL");

    iae_image ok = {.h = 2, .w = 2, .c = 1, .data = pixels};
    const char *missing = tu_path(dir, "no-such-folder/out.png");
    assert_int_equal(iae_image_write_png(&ctx, missing, &ok), IAE_ERR_IO);
    expect_in_message(&ctx, "does not exist");

    assert_int_equal(iae_image_write_png(&ctx, dir, &ok), IAE_ERR_ARGUMENT);
    expect_in_message(&ctx, "is a directory");

    /* None of the failures left a file behind. */
    struct stat info;
    assert_int_not_equal(stat(path, &info), 0);
    char tmp[1200];
    snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", path, (long)getpid());
    assert_int_not_equal(stat(tmp, &info), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(image_png_write_read_roundtrip),
        cmocka_unit_test(image_png_gray_levels_exact),
        cmocka_unit_test(image_png_rgb_to_gray_formula),
        cmocka_unit_test(image_png_16bit_gray_scaled),
        cmocka_unit_test(image_png_16bit_linear_gray_to_srgb),
        cmocka_unit_test(image_png_rgba_composited_on_black),
        cmocka_unit_test(image_png_gray_alpha_composited),
        cmocka_unit_test(image_png_palette),
        cmocka_unit_test(image_png_16bit_rgba),
        cmocka_unit_test(image_png_low_depth_and_trns),
        cmocka_unit_test(image_png_header_warning_accepted),
        cmocka_unit_test(image_png_truncated_and_corrupt),
        cmocka_unit_test(image_png_damage_after_last_row),
        cmocka_unit_test(image_png_huge_declared_size),
        cmocka_unit_test(image_pgm_binary_8bit),
        cmocka_unit_test(image_pgm_binary_16bit),
        cmocka_unit_test(image_pgm_plain_with_comments),
        cmocka_unit_test(image_pgm_truncated_at_offsets),
        cmocka_unit_test(image_pgm_bad_magic),
        cmocka_unit_test(image_pgm_bad_header_fields),
        cmocka_unit_test(image_pgm_value_over_maxval),
        cmocka_unit_test(image_pgm_trailing_data),
        cmocka_unit_test(image_pgm_huge_size_tiny_file),
        cmocka_unit_test(image_read_files),
        cmocka_unit_test(image_read_fifo_rejected_promptly),
        cmocka_unit_test(image_read_stdin),
        cmocka_unit_test(image_sniff_formats),
        cmocka_unit_test(image_invalid_arguments),
        cmocka_unit_test(image_write_png_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
