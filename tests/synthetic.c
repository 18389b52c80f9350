#include "synthetic.h"

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
