#include "synthetic.h"

#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* ------------------------------------------------------------------------ */
/* CIFAR-10, MVTec AD, WTBI CSV and image folders                           */
/* ------------------------------------------------------------------------ */

/* One CIFAR-10 record: label byte, then the red, green and blue planes. */
static void cifar_record(uint8_t *rec, int cls, iae_rng *rng) {
    rec[0] = (uint8_t)cls;
    uint8_t *planes = rec + 1;
    for (int i = 0; i < 3072; i++) planes[i] = (uint8_t)iae_rng_below(rng, 50);
    const int y0 = 2 + (cls / 5) * 14, x0 = 1 + (cls % 5) * 6;
    for (int ch = 0; ch < 3; ch++)
        for (int y = y0; y < y0 + 12; y++)
            for (int x = x0; x < x0 + 6; x++)
                planes[ch * 1024 + y * 32 + x] = (uint8_t)((cls + ch) % 3 == 0 ? 230 : 120 + iae_rng_below(rng, 30));
}

static void write_bytes(const char *path, const uint8_t *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, n, f) != n || fclose(f) != 0) fail_msg("cannot write %s", path);
}

void synth_write_cifar10(const char *dir, int per_class, int n_test) {
    iae_rng rng;
    iae_rng_seed(&rng, 4321, 0);
    const int n_train = 10 * per_class;
    uint8_t *buf = malloc((size_t)(n_train > n_test ? n_train : n_test) * 3073);
    char path[1024];
    /* The training records in file order, cut into five batches. */
    for (int i = 0; i < n_train; i++) cifar_record(buf + (size_t)i * 3073, i % 10, &rng);
    for (int b = 0; b < 5; b++) {
        const int from = n_train * b / 5, to = n_train * (b + 1) / 5;
        snprintf(path, sizeof(path), "%s/data_batch_%d.bin", dir, b + 1);
        write_bytes(path, buf + (size_t)from * 3073, (size_t)(to - from) * 3073);
    }
    for (int i = 0; i < n_test; i++) cifar_record(buf + (size_t)i * 3073, (i * 3) % 10, &rng);
    snprintf(path, sizeof(path), "%s/test_batch.bin", dir);
    write_bytes(path, buf, (size_t)n_test * 3073);
    free(buf);
}

static void make_dir(const char *path) {
    if (mkdir(path, 0755) != 0 && errno != EEXIST) fail_msg("cannot create %s", path);
}

/* Smooth RGB stripes of w x h pixels; a dark disc of radius r at (cx, cy)
 * when r > 0, also drawn as 255 into mask when mask is not NULL. */
static void draw_rgb(uint8_t *rgb, uint8_t *mask, int w, int h, int seed, int cx, int cy, int r) {
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const int inside = r > 0 && (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r;
            uint8_t *p = rgb + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)(128 + 60 * sin(0.3 * x + 0.1 * seed));
            p[1] = (uint8_t)(128 + 60 * cos(0.25 * y));
            p[2] = (uint8_t)(100 + (x + y + seed) % 17);
            if (inside) p[0] = p[1] = p[2] = 10;
            if (mask != NULL) mask[(size_t)y * w + x] = inside ? 255 : 0;
        }
}

void synth_write_mvtec(const char *root, const char *category, int n_train, int n_good, int n_defect, int w,
                       int h) {
    char dir[1024], path[1100];
    const char *subdirs[] = {"", "/train", "/train/good", "/test", "/test/good", "/test/crack", "/ground_truth",
                             "/ground_truth/crack"};
    make_dir(root);
    for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
        snprintf(dir, sizeof(dir), "%s/%s%s", root, category, subdirs[i]);
        make_dir(dir);
    }
    uint8_t *rgb = malloc((size_t)w * h * 3), *mask = malloc((size_t)w * h);
    for (int i = 0; i < n_train; i++) {
        draw_rgb(rgb, NULL, w, h, i, 0, 0, 0);
        snprintf(path, sizeof(path), "%s/%s/train/good/%03d.png", root, category, i);
        synth_write_png(path, w, h, 8, PNG_COLOR_TYPE_RGB, rgb, NULL, 0);
    }
    for (int i = 0; i < n_good; i++) {
        draw_rgb(rgb, NULL, w, h, 100 + i, 0, 0, 0);
        snprintf(path, sizeof(path), "%s/%s/test/good/%03d.png", root, category, i);
        synth_write_png(path, w, h, 8, PNG_COLOR_TYPE_RGB, rgb, NULL, 0);
    }
    for (int i = 0; i < n_defect; i++) {
        const int r = 3 + i % 4, cx = r + (i * 7) % (w - 2 * r), cy = r + (i * 5) % (h - 2 * r);
        draw_rgb(rgb, mask, w, h, 200 + i, cx, cy, r);
        snprintf(path, sizeof(path), "%s/%s/test/crack/%03d.png", root, category, i);
        synth_write_png(path, w, h, 8, PNG_COLOR_TYPE_RGB, rgb, NULL, 0);
        snprintf(path, sizeof(path), "%s/%s/ground_truth/crack/%03d_mask.png", root, category, i);
        synth_write_png(path, w, h, 8, PNG_COLOR_TYPE_GRAY, mask, NULL, 0);
    }
    free(rgb);
    free(mask);
}

void synth_write_wtbi_csv(const char *path, int n_normal, int n_anomalous, int d) {
    FILE *f = fopen(path, "w");
    if (f == NULL) fail_msg("cannot create %s", path);
    iae_rng rng;
    iae_rng_seed(&rng, 777, 0);
    fputs("time,group", f);
    for (int j = 0; j < d; j++) fprintf(f, ",f%d", j);
    fputs(",frozen\n", f);
    /* Anomalous rows sit in the middle, between two normal stretches. */
    const int first_anomalous = n_normal / 2, rows = n_normal + n_anomalous;
    for (int i = 0; i < rows; i++) {
        const int anomalous = i >= first_anomalous && i < first_anomalous + n_anomalous;
        fprintf(f, "2024-01-01 00:%02d:%02d,%d", (i / 60) % 60, i % 60, 1 + i / 100);
        for (int j = 0; j < d; j++) {
            double v = 10.0 * j + 3.0 * sin(0.2 * i + j) + 0.1 * (double)iae_rng_below(&rng, 10);
            if (anomalous) v += 4.0 + 0.5 * (double)iae_rng_below(&rng, 10);
            fprintf(f, ",%.4f", v);
        }
        fprintf(f, ",%d\n", anomalous);
    }
    if (fclose(f) != 0) fail_msg("cannot write %s", path);
}

void synth_write_png_folder(const char *dir, int n, int anomalous, int w, int h, int seed) {
    make_dir(dir);
    uint8_t *rgb = malloc((size_t)w * h * 3);
    char path[1100];
    for (int i = 0; i < n; i++) {
        const int r = anomalous ? 4 + i % 3 : 0;
        draw_rgb(rgb, NULL, w, h, seed + i, w / 2 + (i % 3) - 1, h / 2, r);
        if (anomalous)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    if ((x - w / 2) * (x - w / 2) + (y - h / 2) * (y - h / 2) <= r * r)
                        rgb[((size_t)y * w + x) * 3] = 250;
        snprintf(path, sizeof(path), "%s/img%03d.png", dir, i);
        synth_write_png(path, w, h, 8, PNG_COLOR_TYPE_RGB, rgb, NULL, 0);
    }
    free(rgb);
}
