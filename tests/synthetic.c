#include "synthetic.h"

#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>

#include "data/idx.h"
#include "testutil.h"

static void draw(uint8_t *img, int cls, iae_rng *rng) {
    for (int i = 0; i < 28 * 28; i++) img[i] = (uint8_t)iae_rng_below(rng, 40);
    int y0 = 2 + 2 * (cls / 5) * 6, x0 = 2 + (cls % 5) * 5;
    for (int y = y0; y < y0 + 10; y++)
        for (int x = x0; x < x0 + 6; x++) img[y * 28 + x] = (uint8_t)(200 + iae_rng_below(rng, 55));
}

static void write_set(const char *dir, const char *prefix, int n, const uint8_t *labels, iae_rng *rng, int gzip) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    iae_idx images = {.ndim = 3, .dims = {n, 28, 28}, .count = (size_t)n * 784};
    images.data = malloc(images.count);
    for (int i = 0; i < n; i++) draw(images.data + (size_t)i * 784, labels[i], rng);
    iae_idx lab = {.ndim = 1, .dims = {n}, .count = (size_t)n, .data = (uint8_t *)labels};
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s-images-idx3-ubyte%s", dir, prefix, gzip ? ".gz" : "");
    if (iae_idx_write(&ctx, path, &images, gzip) != IAE_OK) fail_msg("%s", ctx.error);
    snprintf(path, sizeof(path), "%s/%s-labels-idx1-ubyte%s", dir, prefix, gzip ? ".gz" : "");
    if (iae_idx_write(&ctx, path, &lab, gzip) != IAE_OK) fail_msg("%s", ctx.error);
    free(images.data);
}

void synth_write_fmnist(const char *dir, int per_class, int n_test, int gzip) {
    iae_rng rng;
    iae_rng_seed(&rng, 1234, 0);
    int n_train = 10 * per_class;
    uint8_t *labels = malloc((size_t)(n_train > n_test ? n_train : n_test));
    for (int i = 0; i < n_train; i++) labels[i] = (uint8_t)(i % 10);
    write_set(dir, "train", n_train, labels, &rng, gzip);
    for (int i = 0; i < n_test; i++) labels[i] = (uint8_t)((i * 7) % 10);
    write_set(dir, "t10k", n_test, labels, &rng, gzip);
    free(labels);
}

/* Weight of input j for output i along an axis of in -> out pixels,
 * normalised over the whole axis (see synthetic.h). */
static double axis_weight(int in, int out, int i, int j) {
    const double s = (double)in / out;
    const double stretch = s > 1 ? s : 1;
    const double centre = (i + 0.5) * s;
    double total = 0;
    for (int k = 0; k < in; k++) total += fmax(0.0, 1.0 - fabs((k + 0.5 - centre) / stretch));
    return fmax(0.0, 1.0 - fabs((j + 0.5 - centre) / stretch)) / total;
}

void synth_resize_reference(const double *x, int h, int w, int out_h, int out_w, double *out) {
    for (int oy = 0; oy < out_h; oy++)
        for (int ox = 0; ox < out_w; ox++) {
            double sum = 0;
            for (int y = 0; y < h; y++) {
                double wy = axis_weight(h, out_h, oy, y);
                if (wy == 0) continue;
                for (int xx = 0; xx < w; xx++) sum += wy * axis_weight(w, out_w, ox, xx) * x[y * w + xx];
            }
            out[oy * out_w + ox] = sum;
        }
}

void synth_write_png(const char *path, int w, int h, int bit_depth, int color_type,
                     const uint8_t *rows, const uint8_t *palette, int n_palette) {
    FILE *f = fopen(path, "wb");
    if (f == NULL) fail_msg("cannot create %s", path);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png == NULL ? NULL : png_create_info_struct(png);
    if (png == NULL || info == NULL) fail_msg("libpng cannot start writing %s", path);
    if (setjmp(png_jmpbuf(png))) fail_msg("libpng failed to write %s", path);

    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, bit_depth, color_type,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_color colors[256];
        for (int i = 0; i < n_palette; i++) {
            colors[i].red = palette[3 * i];
            colors[i].green = palette[3 * i + 1];
            colors[i].blue = palette[3 * i + 2];
        }
        png_set_PLTE(png, info, colors, n_palette);
    }
    png_write_info(png, info);

    int channels = color_type == PNG_COLOR_TYPE_RGB         ? 3
                   : color_type == PNG_COLOR_TYPE_RGB_ALPHA ? 4
                                                            : 1;
    size_t row_bytes = (size_t)w * channels * (bit_depth / 8);
    for (int y = 0; y < h; y++) png_write_row(png, (png_const_bytep)(rows + (size_t)y * row_bytes));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    if (fclose(f) != 0) fail_msg("cannot close %s", path);
}
