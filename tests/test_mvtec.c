/*
 * Tests of the MVTec AD loader on a small tree in the real layout, written
 * here with libpng's full write API: 8-bit gray, RGB, RGBA, 16-bit gray and
 * palette PNGs, masks, missing masks, non-image files and broken cases.
 * Expected pixels follow from the rules in data/image.h, computed here from
 * the values written.
 */
#include "testutil.h"

#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/mvtec.h"
#include "synthetic.h"

#define SIDE 8
#define PIXELS (SIDE * SIDE)

/* Fail unless |actual - expected| <= tol, compared in double; NaN fails. */
#define assert_near(actual, expected, tol) \
    check_near((actual), (expected), (tol), #actual, __FILE__, __LINE__)

static void check_near(double actual, double expected, double tol, const char *what,
                       const char *file, int line) {
    if (!(fabs(actual - expected) <= tol))
        fail_msg("%s:%d: %s = %.17g, expected %.17g (tolerance %g)", file, line, what, actual,
                 expected, tol);
}

static void expect_in_message(const iae_ctx *ctx, const char *needle) {
    if (strstr(ctx->error, needle) == NULL)
        fail_msg("error message \"%s\" does not contain \"%s\"", ctx->error, needle);
}

/* ------------------------------------------------------------------------ */
/* Images of each PNG kind, with their expected RGB bytes                    */
/* ------------------------------------------------------------------------ */

enum { KIND_RGB, KIND_GRAY, KIND_RGBA, KIND_GRAY16, KIND_PALETTE };

static const uint8_t PALETTE[4 * 3] = {255, 0, 0, 0, 128, 255, 10, 20, 30, 250, 250, 5};

/* Sample of image seed at pixel i, channel ch. */
static int sample(int seed, int i, int ch) { return (seed * 53 + i * 29 + ch * 91) % 256; }

/* Write image seed of the given kind, h x w, at path, and store in rgb
 * (H, W, 3), unless NULL, the RGB bytes it decodes to by image.h's rules. */
static void write_kind(const char *path, int kind, int seed, int h, int w, uint8_t *rgb) {
    const int n = h * w;
    uint8_t *rows = malloc((size_t)n * 4 * 2);
    assert_non_null(rows);
    for (int i = 0; i < n; i++) {
        int r = sample(seed, i, 0), g = sample(seed, i, 1), b = sample(seed, i, 2);
        int want[3] = {r, g, b};
        switch (kind) {
        case KIND_RGB:
            rows[3 * i] = (uint8_t)r, rows[3 * i + 1] = (uint8_t)g, rows[3 * i + 2] = (uint8_t)b;
            break;
        case KIND_GRAY:
            rows[i] = (uint8_t)r;
            want[1] = want[2] = r;
            break;
        case KIND_RGBA: {
            /* Alpha composited onto black: round(v * a / 255). */
            int a = (i * 37 + seed) % 256;
            rows[4 * i] = (uint8_t)r, rows[4 * i + 1] = (uint8_t)g, rows[4 * i + 2] = (uint8_t)b;
            rows[4 * i + 3] = (uint8_t)a;
            for (int ch = 0; ch < 3; ch++) want[ch] = (int)floor(want[ch] * a / 255.0 + 0.5);
            break;
        }
        case KIND_GRAY16: {
            /* 16-bit samples scale as round(v * 255 / 65535). */
            int v = (seed * 4099 + i * 1031) % 65536;
            rows[2 * i] = (uint8_t)(v >> 8), rows[2 * i + 1] = (uint8_t)v;
            int level = (int)floor(v * 255.0 / 65535.0 + 0.5);
            want[0] = want[1] = want[2] = level;
            break;
        }
        default: { /* KIND_PALETTE */
            int index = (i + seed) % 4;
            rows[i] = (uint8_t)index;
            for (int ch = 0; ch < 3; ch++) want[ch] = PALETTE[3 * index + ch];
        }
        }
        if (rgb != NULL)
            for (int ch = 0; ch < 3; ch++) rgb[3 * i + ch] = (uint8_t)want[ch];
    }

    static const int color_type[5] = {PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_GRAY,
                                      PNG_COLOR_TYPE_RGB_ALPHA, PNG_COLOR_TYPE_GRAY,
                                      PNG_COLOR_TYPE_PALETTE};
    synth_write_png(path, w, h, kind == KIND_GRAY16 ? 16 : 8, color_type[kind], rows, PALETTE, 4);
    free(rows);
}

/* Check image k of d, (3, SIDE, SIDE), against rgb (SIDE, SIDE, 3) bytes:
 * v / 255, then (v - 0.5) / 0.5 when symmetric. */
static void expect_rgb(const iae_dataset *d, int k, const uint8_t *rgb, int symmetric) {
    const float *x = d->x + (size_t)k * 3 * PIXELS;
    for (int ch = 0; ch < 3; ch++)
        for (int i = 0; i < PIXELS; i++) {
            double v = rgb[3 * i + ch] / 255.0;
            if (symmetric) v = (v - 0.5) / 0.5;
            assert_near(x[ch * PIXELS + i], v, 1e-6);
        }
}

/* ------------------------------------------------------------------------ */
/* The tree                                                                  */
/* ------------------------------------------------------------------------ */

/* Expected RGB bytes of the images of the fixture, by role. */
static uint8_t train_rgb[5][PIXELS * 3];
static uint8_t test_rgb[5][PIXELS * 3]; /* entry 1 is 12 x 10, checked apart */
static uint8_t mask_bytes[PIXELS];

static void make_dir(const char *root, const char *sub) {
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", root, sub);
    /* mkdir -p, one level at a time. */
    for (char *p = path + strlen(root) + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(path, 0755);
            *p = '/';
        }
    if (mkdir(path, 0755) != 0 && errno != EEXIST) fail_msg("cannot create %s", path);
}

static const char *in(const char *root, const char *rel) {
    static char path[4][1024];
    static int next = 0;
    char *p = path[next++ % 4];
    snprintf(p, 1024, "%s/%s", root, rel);
    return p;
}

/* Write the fixture into a fresh folder named name and return the root:
 * categories bottle and cable (cable without images), a hidden folder and
 * a licence file beside them. The test subfolders are broken_large,
 * contamination and good, so good must move to the front. */
static const char *make_tree(const char *name) {
    const char *root = tu_tmpdir(name);
    make_dir(root, "bottle/train/good");
    make_dir(root, "bottle/test/good");
    make_dir(root, "bottle/test/broken_large");
    make_dir(root, "bottle/test/contamination");
    make_dir(root, "bottle/ground_truth/broken_large");
    make_dir(root, "cable/train/good");
    make_dir(root, ".cache");
    tu_write_file(in(root, "license.txt"), "CC BY-NC-SA", 11);

    /* Training images, one of each kind, and a file to skip. */
    const int kinds[5] = {KIND_RGB, KIND_GRAY, KIND_RGBA, KIND_GRAY16, KIND_PALETTE};
    char rel[256];
    for (int k = 0; k < 5; k++) {
        snprintf(rel, sizeof(rel), "bottle/train/good/%03d.png", k);
        write_kind(in(root, rel), kinds[k], 10 + k, SIDE, SIDE, train_rgb[k]);
    }
    tu_write_file(in(root, "bottle/train/good/Thumbs.db"), "x", 1);

    /* Test images in data set order: good/000, good/001 (12 x 10),
     * broken_large/000, broken_large/001, contamination/000. */
    write_kind(in(root, "bottle/test/good/000.png"), KIND_RGB, 20, SIDE, SIDE, test_rgb[0]);
    write_kind(in(root, "bottle/test/good/001.png"), KIND_GRAY, 21, 12, 10, NULL);
    write_kind(in(root, "bottle/test/broken_large/000.png"), KIND_PALETTE, 22, SIDE, SIDE,
               test_rgb[2]);
    write_kind(in(root, "bottle/test/broken_large/001.png"), KIND_RGBA, 23, SIDE, SIDE,
               test_rgb[3]);
    write_kind(in(root, "bottle/test/contamination/000.png"), KIND_GRAY16, 24, SIDE, SIDE,
               test_rgb[4]);

    /* Masks: 000 at the image's size with levels around 128; 001 at the
     * wrong size. contamination has none. */
    for (int i = 0; i < PIXELS; i++) mask_bytes[i] = (uint8_t)(i % 5 == 0 ? 255 : i * 4);
    synth_write_png(in(root, "bottle/ground_truth/broken_large/000_mask.png"), SIDE, SIDE, 8,
                    PNG_COLOR_TYPE_GRAY, mask_bytes, NULL, 0);
    synth_write_png(in(root, "bottle/ground_truth/broken_large/001_mask.png"), 4, 4, 8,
                    PNG_COLOR_TYPE_GRAY, mask_bytes, NULL, 0);
    return root;
}

static void load_ok(const iae_mvtec_options *opt, iae_dataset *train, iae_dataset *test,
                    iae_mvtec_info *info) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    if (iae_mvtec_load(&ctx, opt, train, test, info) != IAE_OK) fail_msg("%s", ctx.error);
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                     */
/* ------------------------------------------------------------------------ */

/* Categories are the sorted subfolders; hidden folders and files are
 * skipped. Names and indices resolve, unknown ones list what exists. */
static void mvtec_categories(void **state) {
    const char *root = make_tree("mvtec_categories");
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    iae_dir_list cats;
    if (iae_mvtec_categories(&ctx, root, &cats) != IAE_OK) fail_msg("%s", ctx.error);
    assert_int_equal(cats.n, 2);
    assert_string_equal(cats.entries[0], "bottle");
    assert_string_equal(cats.entries[1], "cable");
    assert_int_equal(cats.n_skipped, 2);

    int index = -1;
    assert_int_equal(iae_mvtec_find_category(&ctx, root, &cats, "cable", &index), IAE_OK);
    assert_int_equal(index, 1);
    assert_int_equal(iae_mvtec_find_category(&ctx, root, &cats, "bottel", &index),
                     IAE_ERR_ARGUMENT);
    expect_in_message(&ctx, "category 'bottel' not found");
    expect_in_message(&ctx, "the categories found are 0 'bottle', 1 'cable'");
    iae_dir_list_free(&cats);

    /* The index picks the category; info names it. */
    iae_mvtec_options opt = {.root = root, .category_index = 0, .size = SIDE};
    iae_mvtec_info info;
    load_ok(&opt, NULL, NULL, &info);
    assert_string_equal(info.category, "bottle");
    assert_int_equal(info.category_index, 0);
    assert_int_equal(info.n_categories, 2);
    iae_mvtec_info_free(&info);

    opt.category_index = 2;
    iae_dataset train;
    assert_int_equal(iae_mvtec_load(&ctx, &opt, &train, NULL, NULL), IAE_ERR_ARGUMENT);
    expect_in_message(&ctx, "category index 2 is out of range");
    expect_in_message(&ctx, "has 2 categories: 0 'bottle', 1 'cable'");
    assert_null(train.x);

    /* An empty root. */
    const char *empty = tu_tmpdir("mvtec_empty_root");
    assert_int_equal(iae_mvtec_categories(&ctx, empty, &cats), IAE_ERR_FORMAT);
    expect_in_message(&ctx, "has no category subfolder");
}

/* Every PNG kind loads as RGB, in name order, scaled to [-1, 1]. */
static void mvtec_training_set(void **state) {
    const char *root = make_tree("mvtec_train");
    iae_mvtec_options opt = {.root = root, .category = "bottle", .size = SIDE};
    iae_dataset train;
    iae_mvtec_info info;
    load_ok(&opt, &train, NULL, &info);
    assert_int_equal(train.n, 5);
    assert_int_equal(train.c, 3);
    assert_int_equal(train.h, SIDE);
    assert_int_equal(train.w, SIDE);
    for (int k = 0; k < 5; k++) {
        assert_int_equal(train.label[k], 0);
        expect_rgb(&train, k, train_rgb[k], 1);
    }
    assert_int_equal(info.train.n, 5);
    assert_non_null(strstr(info.train.entries[3], "train/good/003.png"));
    assert_int_equal(info.n_skipped, 1);
    assert_int_equal(info.n_test, 0);
    iae_dataset_free(&train);
    iae_mvtec_info_free(&info);

    /* skip_normalization keeps [0, 1]. */
    opt.skip_normalization = 1;
    load_ok(&opt, &train, NULL, NULL);
    for (int k = 0; k < 5; k++) expect_rgb(&train, k, train_rgb[k], 0);
    iae_dataset_free(&train);
}

/* The test set: good images first, then broken_large and contamination;
 * per-image sizes, defect names and mask paths, one mask missing. */
static void mvtec_test_set(void **state) {
    const char *root = make_tree("mvtec_test");
    iae_mvtec_options opt = {.root = root, .category = "bottle", .size = SIDE};
    iae_dataset test;
    iae_mvtec_info info;
    load_ok(&opt, NULL, &test, &info);

    assert_int_equal(test.n, 5);
    assert_int_equal(info.n_test, 5);
    assert_int_equal(info.n_test_good, 2);
    const char *defect[5] = {"good", "good", "broken_large", "broken_large", "contamination"};
    const char *file[5] = {"test/good/000.png", "test/good/001.png", "test/broken_large/000.png",
                           "test/broken_large/001.png", "test/contamination/000.png"};
    const int height[5] = {SIDE, 12, SIDE, SIDE, SIDE};
    const int width[5] = {SIDE, 10, SIDE, SIDE, SIDE};
    for (int k = 0; k < 5; k++) {
        assert_int_equal(test.label[k], k >= 2);
        assert_int_equal(test.cls[k], k >= 2);
        assert_string_equal(info.defects[k], defect[k]);
        assert_non_null(strstr(info.test_paths[k], file[k]));
        assert_int_equal(info.orig_h[k], height[k]);
        assert_int_equal(info.orig_w[k], width[k]);
        if (k != 1) expect_rgb(&test, k, test_rgb[k], 1);
    }
    assert_null(info.mask_paths[0]);
    assert_null(info.mask_paths[1]);
    assert_string_equal(info.mask_paths[2], in(root, "bottle/ground_truth/broken_large/000_mask.png"));
    assert_string_equal(info.mask_paths[3], in(root, "bottle/ground_truth/broken_large/001_mask.png"));
    assert_null(info.mask_paths[4]);
    assert_int_equal(info.n_missing_masks, 1);
    assert_string_equal(info.first_missing_mask,
                        in(root, "bottle/ground_truth/contamination/000_mask.png"));

    /* good/001 is a 12 x 10 gray image resized to 8 x 8 in every channel. */
    double plane[120], want[PIXELS];
    for (int i = 0; i < 120; i++) plane[i] = sample(21, i, 0) / 255.0;
    synth_resize_reference(plane, 12, 10, SIDE, SIDE, want);
    for (int ch = 0; ch < 3; ch++)
        for (int i = 0; i < PIXELS; i++)
            assert_near(test.x[(size_t)(3 + ch) * PIXELS + i], (want[i] - 0.5) / 0.5, 4e-6);
    iae_dataset_free(&test);
    iae_mvtec_info_free(&info);
}

/* The default size is 64 x 64. */
static void mvtec_default_size(void **state) {
    const char *root = make_tree("mvtec_default_size");
    iae_mvtec_options opt = {.root = root, .category = "bottle"};
    iae_dataset train;
    load_ok(&opt, &train, NULL, NULL);
    assert_int_equal(train.h, 64);
    assert_int_equal(train.w, 64);
    double plane[PIXELS], want[64 * 64];
    for (int i = 0; i < PIXELS; i++) plane[i] = train_rgb[0][3 * i] / 255.0;
    synth_resize_reference(plane, SIDE, SIDE, 64, 64, want);
    for (int i = 0; i < 64 * 64; i++) assert_near(train.x[i], (want[i] - 0.5) / 0.5, 4e-6);
    iae_dataset_free(&train);
}

/* A mask loads as 0/1 at the image's size; another size is an error. */
static void mvtec_masks(void **state) {
    const char *root = make_tree("mvtec_masks");
    iae_mvtec_options opt = {.root = root, .category = "bottle", .size = SIDE};
    iae_dataset test;
    iae_mvtec_info info;
    load_ok(&opt, NULL, &test, &info);
    iae_dataset_free(&test);
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);

    uint8_t mask[PIXELS];
    if (iae_mvtec_load_mask(&ctx, info.mask_paths[2], info.orig_h[2], info.orig_w[2], mask) !=
        IAE_OK)
        fail_msg("%s", ctx.error);
    for (int i = 0; i < PIXELS; i++) assert_int_equal(mask[i], mask_bytes[i] >= 128);

    memset(mask, 7, sizeof(mask));
    assert_int_equal(iae_mvtec_load_mask(&ctx, info.mask_paths[3], info.orig_h[3], info.orig_w[3],
                                         mask),
                     IAE_ERR_FORMAT);
    expect_in_message(&ctx, info.mask_paths[3]);
    expect_in_message(&ctx, "is 4 x 4 pixels (height x width) but its image is 8 x 8");
    for (int i = 0; i < PIXELS; i++) assert_int_equal(mask[i], 7);

    assert_int_equal(iae_mvtec_load_mask(&ctx, info.first_missing_mask, 8, 8, mask), IAE_ERR_IO);
    expect_in_message(&ctx, "not found");
    iae_mvtec_info_free(&info);
}

/* Load opt and expect status plus each needle (NULL terminated), with every
 * output left empty. */
static void expect_load_error(const iae_mvtec_options *opt, iae_status status, ...) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    iae_dataset train, test;
    iae_mvtec_info info;
    memset(&train, 0xAB, sizeof(train));
    memset(&test, 0xAB, sizeof(test));
    memset(&info, 0xAB, sizeof(info));
    iae_status st = iae_mvtec_load(&ctx, opt, &train, &test, &info);
    if (st != status) fail_msg("status %d, expected %d (%s)", st, status, ctx.error);
    assert_null(train.x);
    assert_null(test.x);
    assert_int_equal(test.n, 0);
    assert_null(info.test_paths);
    assert_null(info.train.entries);

    va_list ap;
    va_start(ap, status);
    for (const char *needle = va_arg(ap, const char *); needle; needle = va_arg(ap, const char *))
        expect_in_message(&ctx, needle);
    va_end(ap);
}

static void mvtec_errors(void **state) {
    const char *root = make_tree("mvtec_errors");
    char path[1024];

    snprintf(path, sizeof(path), "%s/absent", root);
    iae_mvtec_options opt = {.root = path, .category = "bottle"};
    expect_load_error(&opt, IAE_ERR_IO, path, "not found", NULL);
    opt.root = in(root, "license.txt");
    expect_load_error(&opt, IAE_ERR_IO, "license.txt", "is not a directory", NULL);
    iae_mvtec_options none = {.category = "bottle"};
    expect_load_error(&none, IAE_ERR_ARGUMENT, "no MVTec AD folder given", NULL);

    /* cable has an empty train/good and no test folder. */
    opt.root = root;
    opt.category = "cable";
    expect_load_error(&opt, IAE_ERR_FORMAT, "cable/train/good", "has no PNG or PGM image",
                      "normal training images", NULL);
    write_kind(in(root, "cable/train/good/a.png"), KIND_RGB, 1, SIDE, SIDE, NULL);
    expect_load_error(&opt, IAE_ERR_IO, "cable/test", "not found", NULL);

    /* test/ with only good/: no defective image. */
    make_dir(root, "cable/test/good");
    write_kind(in(root, "cable/test/good/a.png"), KIND_RGB, 2, SIDE, SIDE, NULL);
    expect_load_error(&opt, IAE_ERR_FORMAT, "cable/test", "has no defective image", NULL);

    /* A defect folder but no good/. */
    make_dir(root, "cable/test/bent_wire");
    write_kind(in(root, "cable/test/bent_wire/a.png"), KIND_RGB, 3, SIDE, SIDE, NULL);
    snprintf(path, sizeof(path), "%s/cable/test/good/a.png", root);
    unlink(path);
    snprintf(path, sizeof(path), "%s/cable/test/good", root);
    rmdir(path);
    expect_load_error(&opt, IAE_ERR_IO, "cable/test/good' not found", NULL);

    /* A truncated PNG in a defect folder is named. */
    opt.category = "bottle";
    snprintf(path, sizeof(path), "%s/bottle/test/contamination/001.png", root);
    tu_write_file(path, "\x89PNG\r\n\x1a\n", 8);
    expect_load_error(&opt, IAE_ERR_FORMAT, path, "truncated or corrupt", NULL);
    unlink(path);

    /* A PNG of the wrong kind of content: a directory named like an image
     * is skipped, not read. */
    make_dir(root, "bottle/test/contamination/002.png");
    iae_dataset test;
    iae_mvtec_info info;
    load_ok(&opt, NULL, &test, &info);
    assert_int_equal(test.n, 5);
    assert_int_equal(info.n_skipped, 1);
    iae_dataset_free(&test);
    iae_mvtec_info_free(&info);

    opt.size = -1;
    expect_load_error(&opt, IAE_ERR_ARGUMENT, "invalid MVTec AD image size -1", NULL);
}

/* An unreadable image folder gives "Permission denied". root bypasses
 * permission checks, so the test is skipped when run as root. */
static void mvtec_permission_denied(void **state) {
    if (geteuid() == 0) skip();
    const char *root = make_tree("mvtec_permission");
    const char *dir = in(root, "bottle/train/good");
    if (chmod(dir, 0) != 0) fail_msg("cannot chmod %s", dir);
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    iae_mvtec_options opt = {.root = root, .category = "bottle", .size = SIDE};
    iae_dataset train;
    iae_status st = iae_mvtec_load(&ctx, &opt, &train, NULL, NULL);
    chmod(dir, 0755);
    assert_int_equal(st, IAE_ERR_IO);
    expect_in_message(&ctx, dir);
    expect_in_message(&ctx, strerror(EACCES));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mvtec_categories),
        cmocka_unit_test(mvtec_training_set),
        cmocka_unit_test(mvtec_test_set),
        cmocka_unit_test(mvtec_default_size),
        cmocka_unit_test(mvtec_masks),
        cmocka_unit_test(mvtec_errors),
        cmocka_unit_test(mvtec_permission_denied),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
