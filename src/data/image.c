/*
 * PNG and PGM reading and PNG writing; image.h states the pixel conventions.
 *
 * libpng's simplified API is asked only for transformations that keep 8-bit
 * sRGB values exact: palette expansion, bit depths below 8 raised to 8, 16
 * bits reduced to 8, and tRNS turned into an alpha channel. Alpha compositing
 * is done here so that it is exact on the encoded values. RGB to gray is done
 * here because libpng 1.6.39 computes it in linear light at 8-bit precision.
 * Measured on every fourth value of each channel, libpng is off its own
 * formula by up to 17.5 levels for results below 32, and it maps (24, 12, 36)
 * to 0 where the formula gives 18.
 *
 * Decoding reads from memory. Before allocating pixels, each decoder checks
 * that the input is large enough to hold the declared image, so a tiny file
 * with a huge declared size fails without a large allocation.
 */
#include "data/image.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <png.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/atomic_file.h"

static const uint8_t PNG_SIGNATURE[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

/* Deflate data, the compressed form of PNG image data, decompresses to at most
 * 1032 times its size, because a length/distance pair takes at least 2 bits
 * and gives at most 258 bytes (https://zlib.net/zlib_tech.html). */
#define DEFLATE_MAX_RATIO 1032u

/* First buffer for reading standard input, in bytes. */
#define STREAM_FIRST_ALLOC_BYTES ((size_t)64 << 10)

/* ------------------------------------------------------------------------ */
/* Pixel conversion shared by both formats                                   */
/* ------------------------------------------------------------------------ */

/* Rec. 709 luminance weights as libpng 1.6 uses them, out of 32768. */
#define GRAY_WEIGHT_R 6968.0
#define GRAY_WEIGHT_G 23434.0
#define GRAY_WEIGHT_B 2366.0

/* Tables for RGB to gray conversion in linear light. */
typedef struct {
    double linear[256];    /* sRGB code value -> linear light in 0..1 */
    double threshold[255]; /* threshold[k]: smallest linear value encoded as k + 1 */
} gray_tables;

/* The sRGB transfer function from encoded values to linear light, on 0..1. */
static double srgb_to_linear(double s) {
    return s <= 0.04045 ? s / 12.92 : pow((s + 0.055) / 1.055, 2.4);
}

static void gray_tables_init(gray_tables *t) {
    for (int v = 0; v < 256; v++) t->linear[v] = srgb_to_linear(v / 255.0);
    /* Code k + 1 starts halfway between codes k and k + 1 in the encoded
     * domain, which rounds the encoded value to the nearest code. */
    for (int k = 0; k < 255; k++) t->threshold[k] = srgb_to_linear((k + 0.5) / 255.0);
}

static uint8_t gray_from_rgb(const gray_tables *t, uint8_t r, uint8_t g, uint8_t b) {
    double y = (GRAY_WEIGHT_R * t->linear[r] + GRAY_WEIGHT_G * t->linear[g] +
                GRAY_WEIGHT_B * t->linear[b]) /
               32768.0;

    /* Count the thresholds at or below y by binary search. */
    int lo = 0, hi = 255;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (t->threshold[mid] <= y)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (uint8_t)lo;
}

/* round(v * a / 255). v * a / 255 is never exactly halfway between two
 * integers, because 2 * v * a would have to be an odd multiple of 255. */
static uint8_t composite_on_black(uint8_t v, uint8_t a) {
    return (uint8_t)(((unsigned)v * a + 127u) / 255u);
}

/* Convert pixels from src, with src_color (RGB, else gray) and src_alpha
 * channels interleaved, to dst with dst_c channels (1 or 3). */
static void convert_pixels(const uint8_t *src, int src_color, int src_alpha, uint8_t *dst,
                           int dst_c, size_t pixels) {
    gray_tables tables;
    if (src_color && dst_c == 1) gray_tables_init(&tables);
    int src_c = (src_color ? 3 : 1) + (src_alpha ? 1 : 0);

    for (size_t i = 0; i < pixels; i++) {
        const uint8_t *p = src + i * (size_t)src_c;
        uint8_t *q = dst + i * (size_t)dst_c;
        uint8_t r = p[0];
        uint8_t g = src_color ? p[1] : p[0];
        uint8_t b = src_color ? p[2] : p[0];
        if (src_alpha) {
            uint8_t a = p[src_c - 1];
            r = composite_on_black(r, a);
            g = composite_on_black(g, a);
            b = composite_on_black(b, a);
        }

        if (dst_c == 3) {
            q[0] = r;
            q[1] = g;
            q[2] = b;
        } else {
            q[0] = src_color ? gray_from_rgb(&tables, r, g, b) : r;
        }
    }
}

/* Check that h x w is within IAE_IMAGE_MAX_SIDE and IAE_IMAGE_MAX_PIXELS. */
static iae_status check_size(iae_ctx *ctx, const char *kind, const char *name, long long w,
                             long long h) {
    if (w > IAE_IMAGE_MAX_SIDE || h > IAE_IMAGE_MAX_SIDE)
        return iae_fail(ctx, IAE_ERR_FORMAT,
                        "%s image '%s' is %lld x %lld pixels (width x height); the maximum is %d "
                        "per side",
                        kind, name, w, h, IAE_IMAGE_MAX_SIDE);
    if (w * h > IAE_IMAGE_MAX_PIXELS)
        return iae_fail(ctx, IAE_ERR_FORMAT,
                        "%s image '%s' is %lld x %lld pixels, %lld in all; the maximum is %ld "
                        "pixels",
                        kind, name, w, h, w * h, IAE_IMAGE_MAX_PIXELS);
    return IAE_OK;
}

/* ------------------------------------------------------------------------ */
/* PNG                                                                       */
/* ------------------------------------------------------------------------ */

/* Reject a declared size that the compressed data cannot hold. The smallest
 * possible image data is one filter byte per row plus 1 bit per pixel for
 * gray and palette images, 24 bits for RGB, and 16 bits per channel for
 * 16-bit images. */
static iae_status check_png_data_bound(iae_ctx *ctx, const char *name, const png_image *png,
                                       size_t n) {
    int linear = (png->format & PNG_FORMAT_FLAG_LINEAR) != 0;
    int color = (png->format & PNG_FORMAT_FLAG_COLOR) != 0;
    int colormap = (png->format & PNG_FORMAT_FLAG_COLORMAP) != 0;
    uint64_t bits_per_pixel = 1;
    if (color && !colormap) bits_per_pixel = linear ? 48 : 24;
    if (!color && linear) bits_per_pixel = 16;
    uint64_t row_bytes = 1 + ((uint64_t)png->width * bits_per_pixel + 7) / 8;
    uint64_t min_bytes = (uint64_t)png->height * row_bytes;
    if (min_bytes / DEFLATE_MAX_RATIO > n)
        return iae_fail(ctx, IAE_ERR_FORMAT,
                        "PNG image '%s' is truncated or corrupt: it declares %u x %u pixels, at "
                        "least %llu bytes before compression, but deflate compresses at most "
                        "%u:1 and the file has %zu bytes",
                        name, (unsigned)png->width, (unsigned)png->height,
                        (unsigned long long)min_bytes, DEFLATE_MAX_RATIO, n);
    return IAE_OK;
}

static iae_status decode_png(iae_ctx *ctx, const char *name, const uint8_t *bytes, size_t n,
                             int channels, iae_image *out) {
    png_image png;
    memset(&png, 0, sizeof(png));
    png.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&png, bytes, n)) {
        iae_status st = iae_fail(ctx, IAE_ERR_FORMAT,
                                 "PNG image '%s' is truncated or corrupt: libpng: %s; replace the "
                                 "file with an intact copy",
                                 name, png.message);
        png_image_free(&png);
        return st;
    }

    iae_status st = check_size(ctx, "PNG", name, png.width, png.height);
    if (st == IAE_OK) st = check_png_data_bound(ctx, name, &png, n);
    if (st != IAE_OK) {
        png_image_free(&png);
        return st;
    }

    /* Keep the file's color and alpha, so that libpng changes only the bit
     * depth and expands palettes and tRNS. Palette images count as color. */
    int color = (png.format & PNG_FORMAT_FLAG_COLOR) != 0;
    int alpha = (png.format & PNG_FORMAT_FLAG_ALPHA) != 0;
    png.format = (color ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY) | (alpha ? PNG_FORMAT_FLAG_ALPHA : 0);

    /* Without a gAMA or sRGB chunk, libpng takes 16-bit samples as linear
     * light and would gamma-encode them. This flag makes it take them as
     * sRGB, so they are only scaled: round(v * 255 / 65535). */
    png.flags |= PNG_IMAGE_FLAG_16BIT_sRGB;

    /* libpng records only the first warning. Warnings about the chunks read
     * so far (such as an invalid gAMA, which libpng then ignores) are
     * dropped, so that a warning about the image data cannot be hidden. */
    png.warning_or_error = 0;
    png.message[0] = 0;

    size_t pixels = (size_t)png.width * png.height;
    int raw_c = (int)PNG_IMAGE_PIXEL_CHANNELS(png.format);
    uint8_t *raw = iae_alloc(ctx, pixels * (size_t)raw_c, "PNG pixels");
    if (raw == NULL) {
        png_image_free(&png);
        return IAE_ERR_NOMEM;
    }

    int ok = png_image_finish_read(&png, NULL, raw, 0, NULL);

    /* libpng downgrades damage that zlib finds after the last row (a bad
     * deflate code or Adler-32) to a warning, and then returns pixels that
     * can be wrong, so any warning here rejects the image.
     * NOTE: this also rejects files that other readers accept, such as one
     * whose only fault is a bad CRC in an ancillary chunk after the image
     * data. */
    int warned = ok && png.warning_or_error != 0;
    if (!ok)
        st = iae_fail(ctx, IAE_ERR_FORMAT,
                      "PNG image '%s' is truncated or corrupt: libpng: %s; replace the file with "
                      "an intact copy",
                      name, png.message);
    else if (warned)
        st = iae_fail(ctx, IAE_ERR_FORMAT,
                      "PNG image '%s' is corrupt: libpng: %s; replace the file with an intact copy",
                      name, png.message);
    png_image_free(&png);
    if (st != IAE_OK) {
        iae_free(raw);
        return st;
    }

    int file_c = color ? 3 : 1;
    int out_c = channels != 0 ? channels : file_c;
    out->h = (int)png.height;
    out->w = (int)png.width;
    out->c = out_c;
    if (!alpha && file_c == out_c) {
        out->data = raw;
        return IAE_OK;
    }

    out->data = iae_alloc(ctx, pixels * (size_t)out_c, "image pixels");
    if (out->data == NULL) {
        iae_free(raw);
        memset(out, 0, sizeof(*out));
        return IAE_ERR_NOMEM;
    }
    convert_pixels(raw, color, alpha, out->data, out_c, pixels);
    iae_free(raw);
    return IAE_OK;
}

/* ------------------------------------------------------------------------ */
/* PGM                                                                       */
/* ------------------------------------------------------------------------ */

/* Blank, tab, line feed, carriage return, vertical tab or form feed: the
 * characters of isspace in the C locale. */
static int pgm_is_space(uint8_t c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int is_digit(uint8_t c) { return c >= '0' && c <= '9'; }

/* Skip whitespace and comments ('#' up to the end of the line) at *pos. */
static void skip_space_and_comments(const uint8_t *b, size_t n, size_t *pos) {
    while (*pos < n) {
        if (pgm_is_space(b[*pos])) {
            (*pos)++;
        } else if (b[*pos] == '#') {
            while (*pos < n && b[*pos] != '\n' && b[*pos] != '\r') (*pos)++;
        } else {
            break;
        }
    }
}

/* Copy the text at pos up to the next whitespace (at most 24 characters) into
 * buf for messages, with '?' for unprintable bytes, or "end of file". */
static const char *token_text(const uint8_t *b, size_t n, size_t pos, char *buf, size_t size) {
    if (pos >= n) {
        snprintf(buf, size, "end of file");
        return buf;
    }
    size_t len = 0;
    while (pos + len < n && len < 24 && len + 1 < size && !pgm_is_space(b[pos + len])) {
        uint8_t c = b[pos + len];
        buf[len] = (c >= 0x20 && c < 0x7F) ? (char)c : '?';
        len++;
    }
    buf[len] = 0;
    return buf;
}

/* Parse a decimal number at *pos that must end at whitespace, '#' or the end
 * of the input. Stores the value, capped at cap, in *value. Returns 0 when
 * the text there is not such a number. */
static int parse_number(const uint8_t *b, size_t n, size_t *pos, long cap, long *value) {
    size_t at = *pos;
    if (at >= n || !is_digit(b[at])) return 0;
    long v = 0;
    while (at < n && is_digit(b[at])) {
        v = v * 10 + (b[at] - '0');
        if (v > cap) v = cap;
        at++;
    }
    if (at < n && !pgm_is_space(b[at]) && b[at] != '#') return 0;
    *pos = at;
    *value = v;
    return 1;
}

/* Read the header field named what (width, height or maxval), which must be
 * an integer from 1 to max. */
static iae_status read_header_field(iae_ctx *ctx, const char *name, const uint8_t *b, size_t n,
                                    size_t *pos, const char *what, long max, long *value) {
    skip_space_and_comments(b, n, pos);
    if (*pos >= n)
        return iae_fail(ctx, IAE_ERR_FORMAT,
                        "PGM image '%s' is truncated: the header ends before the %s; a PGM "
                        "header is 'P5' or 'P2', width, height and maxval",
                        name, what);

    char text[32];
    token_text(b, n, *pos, text, sizeof(text));
    size_t start = *pos;
    if (!parse_number(b, n, pos, max + 1, value))
        return iae_fail(ctx, IAE_ERR_FORMAT,
                        "PGM image '%s' has an invalid %s '%s' at byte %zu; expected a decimal "
                        "integer from 1 to %ld",
                        name, what, text, start, max);
    if (*value < 1 || *value > max)
        return iae_fail(ctx, IAE_ERR_FORMAT,
                        "PGM image '%s' has %s %s; expected 1 to %ld", name, what, text, max);
    return IAE_OK;
}

/* round(v * 255 / maxval), with halves rounded up. */
static uint8_t scale_sample(unsigned v, unsigned maxval) {
    return (uint8_t)((v * 510u + maxval) / (2u * maxval));
}

/* Sample scaling for maxval <= 255, where a 256-entry table is cheaper than a
 * division per sample. Entries above maxval are never used. */
static void scale_table_init(uint8_t *table, unsigned maxval) {
    for (unsigned v = 0; v <= maxval; v++) table[v] = scale_sample(v, maxval);
}

static void put_gray(uint8_t *dst, int c, size_t i, uint8_t v) {
    uint8_t *q = dst + i * (size_t)c;
    q[0] = v;
    if (c == 3) {
        q[1] = v;
        q[2] = v;
    }
}

static iae_status fail_above_maxval(iae_ctx *ctx, const char *name, const char *value, size_t i,
                                    long w, long maxval) {
    return iae_fail(ctx, IAE_ERR_FORMAT,
                    "PGM image '%s' has sample value %s at row %zu, column %zu, above its maxval "
                    "%ld; the file is corrupt",
                    name, value, i / (size_t)w, i % (size_t)w, maxval);
}

/* Decode the binary raster of a P5 file, which starts at pos, into dst. */
static iae_status read_binary_raster(iae_ctx *ctx, const char *name, const uint8_t *b, size_t n,
                                     size_t pos, long w, long h, long maxval, int c,
                                     uint8_t **dst) {
    size_t count = (size_t)w * (size_t)h;
    size_t sample_bytes = maxval > 255 ? 2 : 1;
    size_t available = n - pos;
    if (available < count * sample_bytes)
        return iae_fail(ctx, IAE_ERR_FORMAT,
                        "PGM image '%s' is truncated: expected %zu samples (%ld x %ld, %zu "
                        "byte%s each), found %zu",
                        name, count, w, h, sample_bytes, sample_bytes == 1 ? "" : "s",
                        available / sample_bytes);
    if (available > count * sample_bytes)
        return iae_fail(ctx, IAE_ERR_FORMAT,
                        "PGM image '%s' has %zu extra byte%s after its %zu sample%s; expected "
                        "the file to end there (files with several images are not supported)",
                        name, available - count * sample_bytes,
                        available - count * sample_bytes == 1 ? "" : "s", count,
                        count == 1 ? "" : "s");

    uint8_t *data = iae_alloc(ctx, count * (size_t)c, "PGM pixels");
    if (data == NULL) return IAE_ERR_NOMEM;

    const uint8_t *raster = b + pos;
    uint8_t table[256];
    if (sample_bytes == 1) scale_table_init(table, (unsigned)maxval);
    for (size_t i = 0; i < count; i++) {
        unsigned v = sample_bytes == 1 ? raster[i]
                                       : (unsigned)raster[2 * i] << 8 | raster[2 * i + 1];
        if (v > (unsigned)maxval) {
            char text[16];
            snprintf(text, sizeof(text), "%u", v);
            iae_free(data);
            return fail_above_maxval(ctx, name, text, i, w, maxval);
        }
        put_gray(data, c, i, sample_bytes == 1 ? table[v] : scale_sample(v, (unsigned)maxval));
    }
    *dst = data;
    return IAE_OK;
}

/* Parse the decimal samples of a P2 raster from pos, and store them scaled
 * into dst when dst is not NULL. With dst NULL this only validates, which
 * finds the first problem in an input too short for the raster without
 * allocating it. */
static iae_status parse_plain_samples(iae_ctx *ctx, const char *name, const uint8_t *b, size_t n,
                                      size_t pos, long w, long h, long maxval, int c,
                                      uint8_t *dst) {
    size_t count = (size_t)w * (size_t)h;
    for (size_t i = 0; i < count; i++) {
        skip_space_and_comments(b, n, &pos);
        if (pos >= n)
            return iae_fail(ctx, IAE_ERR_FORMAT,
                            "PGM image '%s' is truncated: expected %zu samples (%ld x %ld), "
                            "found %zu",
                            name, count, w, h, i);

        char text[32];
        token_text(b, n, pos, text, sizeof(text));
        long v = 0;
        if (!parse_number(b, n, &pos, 65536, &v))
            return iae_fail(ctx, IAE_ERR_FORMAT,
                            "PGM image '%s' has an invalid sample '%s' at row %zu, column %zu; "
                            "expected a decimal integer from 0 to %ld",
                            name, text, i / (size_t)w, i % (size_t)w, maxval);
        if (v > maxval) return fail_above_maxval(ctx, name, text, i, w, maxval);
        if (dst != NULL) put_gray(dst, c, i, scale_sample((unsigned)v, (unsigned)maxval));
    }

    skip_space_and_comments(b, n, &pos);
    if (pos < n) {
        char text[32];
        return iae_fail(ctx, IAE_ERR_FORMAT,
                        "PGM image '%s' has data after its %zu samples, starting with '%s'; "
                        "expected the file to end there (files with several images are not "
                        "supported)",
                        name, count, token_text(b, n, pos, text, sizeof(text)));
    }
    return IAE_OK;
}

static iae_status read_plain_raster(iae_ctx *ctx, const char *name, const uint8_t *b, size_t n,
                                    size_t pos, long w, long h, long maxval, int c,
                                    uint8_t **dst) {
    /* Each sample takes at least one digit, and consecutive samples need a
     * separator, so count samples need at least 2 * count - 1 bytes. */
    size_t count = (size_t)w * (size_t)h;
    if (n - pos < 2 * count - 1) {
        iae_status st = parse_plain_samples(ctx, name, b, n, pos, w, h, maxval, c, NULL);
        IAE_ASSERT(st != IAE_OK);
        return st;
    }

    uint8_t *data = iae_alloc(ctx, count * (size_t)c, "PGM pixels");
    if (data == NULL) return IAE_ERR_NOMEM;
    iae_status st = parse_plain_samples(ctx, name, b, n, pos, w, h, maxval, c, data);
    if (st != IAE_OK) {
        iae_free(data);
        return st;
    }
    *dst = data;
    return IAE_OK;
}

/* Decode a PGM file whose bytes start with "P5" or "P2". */
static iae_status decode_pgm(iae_ctx *ctx, const char *name, const uint8_t *b, size_t n,
                             int channels, iae_image *out) {
    int binary = b[1] == '5';
    size_t pos = 2;
    if (pos < n && !pgm_is_space(b[pos]) && b[pos] != '#') {
        char text[32];
        return iae_fail(ctx, IAE_ERR_FORMAT,
                        "PGM image '%s' has an invalid header: expected whitespace after the "
                        "magic number 'P%c', found '%s'",
                        name, b[1], token_text(b, n, pos, text, sizeof(text)));
    }

    long w = 0, h = 0, maxval = 0;
    iae_status st = read_header_field(ctx, name, b, n, &pos, "width", IAE_IMAGE_MAX_SIDE, &w);
    if (st == IAE_OK)
        st = read_header_field(ctx, name, b, n, &pos, "height", IAE_IMAGE_MAX_SIDE, &h);
    if (st == IAE_OK) st = check_size(ctx, "PGM", name, w, h);
    if (st == IAE_OK) st = read_header_field(ctx, name, b, n, &pos, "maxval", 65535, &maxval);
    if (st != IAE_OK) return st;

    /* Exactly one whitespace character ends the header. parse_number left pos
     * at whitespace, at '#' or at the end. A comment here ends at its line
     * break, which is then the delimiter. */
    if (pos < n && b[pos] == '#')
        while (pos < n && b[pos] != '\n' && b[pos] != '\r') pos++;
    if (pos < n) pos++;

    int c = channels != 0 ? channels : 1;
    uint8_t *data = NULL;
    st = binary ? read_binary_raster(ctx, name, b, n, pos, w, h, maxval, c, &data)
                : read_plain_raster(ctx, name, b, n, pos, w, h, maxval, c, &data);
    if (st != IAE_OK) return st;

    out->h = (int)h;
    out->w = (int)w;
    out->c = c;
    out->data = data;
    return IAE_OK;
}

/* ------------------------------------------------------------------------ */
/* Format detection                                                          */
/* ------------------------------------------------------------------------ */

int iae_image_sniff(const uint8_t *bytes, size_t n) {
    if (n >= sizeof(PNG_SIGNATURE) && memcmp(bytes, PNG_SIGNATURE, sizeof(PNG_SIGNATURE)) == 0)
        return 1;
    return n >= 3 && bytes[0] == 'P' && (bytes[1] == '5' || bytes[1] == '2') &&
           (pgm_is_space(bytes[2]) || bytes[2] == '#');
}

/* Name of the netpbm format with magic number 'P' digit, or NULL. */
static const char *netpbm_name(uint8_t digit) {
    switch (digit) {
    case '1': return "plain PBM";
    case '3': return "plain PPM";
    case '4': return "PBM";
    case '6': return "PPM";
    case '7': return "PAM";
    default: return NULL;
    }
}

/* Explain why bytes, which are neither PNG nor PGM, were rejected. */
static iae_status fail_unknown_format(iae_ctx *ctx, const char *name, const uint8_t *bytes,
                                      size_t n) {
    size_t sig_bytes = sizeof(PNG_SIGNATURE);
    if (n < sig_bytes && memcmp(bytes, PNG_SIGNATURE, n) == 0)
        return iae_fail(ctx, IAE_ERR_FORMAT,
                        "PNG image '%s' is truncated: it has %zu bytes, fewer than the %zu-byte "
                        "PNG signature",
                        name, n, sig_bytes);

    const char *netpbm = n >= 2 && bytes[0] == 'P' ? netpbm_name(bytes[1]) : NULL;
    if (netpbm != NULL)
        return iae_fail(ctx, IAE_ERR_FORMAT,
                        "'%s' is a %s file (magic number 'P%c'); expected a PNG or PGM image "
                        "(magic number 'P5' or 'P2'); convert it to PGM or PNG",
                        name, netpbm, bytes[1]);

    char hex[3 * 8 + 1];
    size_t prefix_bytes = n < 8 ? n : 8;
    size_t used = 0;
    for (size_t i = 0; i < prefix_bytes; i++)
        used += (size_t)snprintf(hex + used, sizeof(hex) - used, i ? " %02x" : "%02x", bytes[i]);
    return iae_fail(ctx, IAE_ERR_FORMAT,
                    "'%s' is not a PNG or PGM image: it starts with the bytes %s; expected a PNG "
                    "or PGM image",
                    name, hex);
}

static iae_status check_channels(iae_ctx *ctx, const char *name, int channels) {
    if (channels == 0 || channels == 1 || channels == 3) return IAE_OK;
    return iae_fail(ctx, IAE_ERR_ARGUMENT,
                    "cannot read image '%s' with %d channels; expected 0 (keep the file's own), "
                    "1 (gray) or 3 (RGB)",
                    name, channels);
}

iae_status iae_image_decode(iae_ctx *ctx, const char *name, const uint8_t *bytes, size_t n,
                            int channels, iae_image *out) {
    memset(out, 0, sizeof(*out));
    iae_status st = check_channels(ctx, name, channels);
    if (st != IAE_OK) return st;
    if (n == 0)
        return iae_fail(ctx, IAE_ERR_FORMAT, "'%s' is empty; expected a PNG or PGM image", name);

    if (n >= sizeof(PNG_SIGNATURE) && memcmp(bytes, PNG_SIGNATURE, sizeof(PNG_SIGNATURE)) == 0)
        return decode_png(ctx, name, bytes, n, channels, out);
    if (n >= 2 && bytes[0] == 'P' && (bytes[1] == '5' || bytes[1] == '2'))
        return decode_pgm(ctx, name, bytes, n, channels, out);
    return fail_unknown_format(ctx, name, bytes, n);
}

void iae_image_free(iae_image *img) {
    iae_free(img->data);
    memset(img, 0, sizeof(*img));
}

/* ------------------------------------------------------------------------ */
/* Reading files and standard input                                          */
/* ------------------------------------------------------------------------ */

/* Article and name of the file type in mode, for messages. */
static const char *file_type_name(mode_t mode) {
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "an unknown file type";
}

/* Read the regular file at path into a new buffer, rejecting every other
 * file type before reading from it. */
static iae_status read_regular_file(iae_ctx *ctx, const char *path, uint8_t **bytes_out,
                                    size_t *n_out) {
    /* Without O_NONBLOCK, open() on a FIFO waits until a writer opens it,
     * which may never happen. With it, open() returns at once and fstat can
     * reject the FIFO. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return iae_fail(ctx, IAE_ERR_IO, "image file '%s' not found; check the path", path);
        return iae_fail(ctx, IAE_ERR_IO, "cannot open image file '%s': %s", path, strerror(errno));
    }

    struct stat info;
    iae_status st = IAE_OK;
    if (fstat(fd, &info) != 0)
        st = iae_fail(ctx, IAE_ERR_IO, "cannot stat image file '%s': %s", path, strerror(errno));
    else if (S_ISDIR(info.st_mode))
        st = iae_fail(ctx, IAE_ERR_IO, "'%s' is a directory; expected a PNG or PGM image file",
                      path);
    else if (!S_ISREG(info.st_mode))
        st = iae_fail(ctx, IAE_ERR_IO,
                      "'%s' is not a regular file (%s); expected a PNG or PGM image file", path,
                      file_type_name(info.st_mode));
    else if ((uint64_t)info.st_size > IAE_IMAGE_MAX_FILE_BYTES)
        st = iae_fail(ctx, IAE_ERR_FORMAT,
                      "image file '%s' is %lld bytes, over the limit of %zu bytes (512 MiB)", path,
                      (long long)info.st_size, IAE_IMAGE_MAX_FILE_BYTES);
    if (st != IAE_OK) {
        close(fd);
        return st;
    }

    /* Linux ignores O_NONBLOCK for regular files. It is cleared anyway, so
     * that no read returns EAGAIN on a system that honours it. */
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        st = iae_fail(ctx, IAE_ERR_IO, "cannot clear O_NONBLOCK on image file '%s': %s", path,
                      strerror(errno));
        close(fd);
        return st;
    }

    size_t size = (size_t)info.st_size;
    uint8_t *bytes = iae_alloc(ctx, size, "image file contents");
    if (bytes == NULL) {
        close(fd);
        return IAE_ERR_NOMEM;
    }

    /* A file that shrank since fstat ends early; its decoder then reports
     * the truncation. */
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, bytes + got, size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            st = iae_fail(ctx, IAE_ERR_IO, "cannot read image file '%s': %s", path,
                          strerror(errno));
            break;
        }
        if (r == 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (st != IAE_OK) {
        iae_free(bytes);
        return st;
    }
    *bytes_out = bytes;
    *n_out = got;
    return IAE_OK;
}

/* Read fd to its end into a new buffer of at most IAE_IMAGE_MAX_FILE_BYTES.
 * The buffer is copied on growth, not realloc'd, because realloc does not
 * keep iae_alloc's alignment. */
static iae_status read_stream(iae_ctx *ctx, int fd, const char *name, uint8_t **bytes_out,
                              size_t *n_out) {
    size_t capacity = STREAM_FIRST_ALLOC_BYTES;
    uint8_t *bytes = iae_alloc(ctx, capacity, "image input");
    if (bytes == NULL) return IAE_ERR_NOMEM;

    size_t filled = 0;
    for (;;) {
        if (filled == capacity) {
            /* One byte more than the limit shows that the input is over it. */
            if (capacity > IAE_IMAGE_MAX_FILE_BYTES) {
                iae_free(bytes);
                return iae_fail(ctx, IAE_ERR_FORMAT,
                                "image input '%s' is over the limit of %zu bytes (512 MiB)", name,
                                IAE_IMAGE_MAX_FILE_BYTES);
            }
            size_t grown = 2 * capacity;
            if (grown > IAE_IMAGE_MAX_FILE_BYTES + 1) grown = IAE_IMAGE_MAX_FILE_BYTES + 1;
            uint8_t *bigger = iae_alloc(ctx, grown, "image input");
            if (bigger == NULL) {
                iae_free(bytes);
                return IAE_ERR_NOMEM;
            }
            memcpy(bigger, bytes, filled);
            iae_free(bytes);
            bytes = bigger;
            capacity = grown;
        }

        ssize_t r = read(fd, bytes + filled, capacity - filled);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* Standard input inherited in non-blocking mode: wait for data. */
            struct pollfd wait_for = {.fd = fd, .events = POLLIN};
            if (poll(&wait_for, 1, -1) >= 0 || errno == EINTR) continue;
        }
        if (r < 0) {
            iae_status st = iae_fail(ctx, IAE_ERR_IO, "cannot read image input '%s': %s", name,
                                     strerror(errno));
            iae_free(bytes);
            return st;
        }
        if (r == 0) break;
        filled += (size_t)r;
    }
    *bytes_out = bytes;
    *n_out = filled;
    return IAE_OK;
}

iae_status iae_image_read(iae_ctx *ctx, const char *path, int channels, iae_image *out) {
    memset(out, 0, sizeof(*out));
    int from_stdin = strcmp(path, "-") == 0;
    const char *name = from_stdin ? "<stdin>" : path;
    iae_status st = check_channels(ctx, name, channels);
    if (st != IAE_OK) return st;

    uint8_t *bytes = NULL;
    size_t n = 0;
    st = from_stdin ? read_stream(ctx, STDIN_FILENO, name, &bytes, &n)
                    : read_regular_file(ctx, path, &bytes, &n);
    if (st != IAE_OK) return st;
    st = iae_image_decode(ctx, name, bytes, n, channels, out);
    iae_free(bytes);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                   */
/* ------------------------------------------------------------------------ */

iae_status iae_image_write_png(iae_ctx *ctx, const char *path, const iae_image *img) {
    if (img->c != 1 && img->c != 3)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "cannot write PNG image '%s' with %d channels; expected 1 (gray) or 3 "
                        "(RGB)",
                        path, img->c);
    if (img->w < 1 || img->h < 1 || img->w > IAE_IMAGE_MAX_SIDE || img->h > IAE_IMAGE_MAX_SIDE ||
        (long)img->w * img->h > IAE_IMAGE_MAX_PIXELS)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "cannot write PNG image '%s' of %d x %d pixels (width x height); expected "
                        "1 to %d per side and at most %ld pixels",
                        path, img->w, img->h, IAE_IMAGE_MAX_SIDE, IAE_IMAGE_MAX_PIXELS);
    if (img->data == NULL)
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "cannot write PNG image '%s': data is NULL", path);

    iae_atomic_file af;
    iae_status st = iae_atomic_open(ctx, &af, path);
    if (st != IAE_OK) return st;

    png_image png;
    memset(&png, 0, sizeof(png));
    png.version = PNG_IMAGE_VERSION;
    png.width = (png_uint_32)img->w;
    png.height = (png_uint_32)img->h;
    png.format = img->c == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    if (!png_image_write_to_stdio(&png, af.f, 0, img->data, 0, NULL)) {
        st = iae_fail(ctx, IAE_ERR_IO,
                      "cannot write PNG image '%s' (temporary file '%s'): libpng: %s", path,
                      af.tmp_path, png.message);
        png_image_free(&png);
        iae_atomic_abort(&af);
        return st;
    }
    png_image_free(&png);
    return iae_atomic_commit(ctx, &af);
}
