/*
 * Tests of the antialiased bilinear resize (hand-computed cases and an
 * independent double-precision implementation in synthetic.c), the folder
 * listing, and the three-folder image data set on PNG and PGM files written
 * here.
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

#include "data/folder.h"
#include "data/image.h"
#include "data/resize.h"
#include "synthetic.h"

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

static void resize_ok(const float *x, int c, int h, int w, float *out, int out_h, int out_w) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    if (iae_resize(&ctx, x, c, h, w, out, out_h, out_w) != IAE_OK) fail_msg("%s", ctx.error);
}

/* ------------------------------------------------------------------------ */
/* Resize                                                                    */
/* ------------------------------------------------------------------------ */

/* 4 -> 2 per axis: scale 2, so the triangle spans 2 pixels each side of
 * the centres 1 and 3. Inputs 0..3 at centres 0.5..3.5 get, for output 0,
 * t(-0.25), t(0.25), t(0.75), t(1.25) = 0.75, 0.75, 0.25, 0, normalised to
 * 3/7, 3/7, 1/7, 0; output 1 mirrors it: 0, 1/7, 3/7, 3/7. */
static void resize_4x4_to_2x2(void **state) {
    const float x[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    const double weight[2][4] = {{3 / 7.0, 3 / 7.0, 1 / 7.0, 0}, {0, 1 / 7.0, 3 / 7.0, 3 / 7.0}};
    float out[4];
    resize_ok(x, 1, 4, 4, out, 2, 2);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            double want = 0;
            for (int a = 0; a < 4; a++)
                for (int b = 0; b < 4; b++) want += weight[i][a] * weight[j][b] * x[a * 4 + b];
            assert_near(out[i * 2 + j], want, 1e-5);
        }
    /* For this linear ramp x = 4 a + b + 1: output (0, 0) is
     * 4 (3 / 7 + 2 / 7) + (3 / 7 + 2 / 7) + 1 = 32 / 7. */
    assert_near(out[0], 32.0 / 7.0, 1e-5);
}

/* 6 -> 2 along a row: scale 3, centre 1.5, weights t((j - 1) / 3) =
 * 2/3, 1, 2/3, 1/3, 0, 0, which sum to 8/3: 1/4, 3/8, 1/4, 1/8. */
static void resize_row_6_to_2(void **state) {
    const float x[6] = {8, 16, 24, 40, 56, 64};
    float out[2];
    resize_ok(x, 1, 1, 6, out, 1, 2);
    assert_near(out[0], 8 / 4.0 + 16 * 3 / 8.0 + 24 / 4.0 + 40 / 8.0, 1e-5);
    assert_near(out[1], 24 / 8.0 + 40 / 4.0 + 56 * 3 / 8.0 + 64 / 4.0, 1e-5);
}

/* 2 -> 4 up-scaling is plain bilinear between pixel centres, clamped at
 * the edges: a, 3/4 a + 1/4 b, 1/4 a + 3/4 b, b. */
static void resize_row_2_to_4(void **state) {
    const float x[2] = {10, 30};
    float out[4];
    resize_ok(x, 1, 1, 2, out, 1, 4);
    assert_near(out[0], 10, 1e-6);
    assert_near(out[1], 15, 1e-6);
    assert_near(out[2], 25, 1e-6);
    assert_near(out[3], 30, 1e-6);
}

/* The same size copies the values bit for bit, for every channel. */
static void resize_identity(void **state) {
    float x[2 * 5 * 7];
    float out[2 * 5 * 7];
    tu_fill(x, 70, -3, 3, 17);
    resize_ok(x, 2, 5, 7, out, 5, 7);
    assert_memory_equal(x, out, sizeof(x));
}

/* Sizes down, up and mixed per axis agree with the reference in
 * synthetic.c for every channel; a constant image stays constant. */
static void resize_matches_reference(void **state) {
    const int cases[][4] = {{7, 9, 3, 4}, {5, 5, 3, 3}, {3, 4, 7, 9}, {10, 3, 4, 8},
                            {1, 6, 1, 5}, {13, 11, 13, 4}, {9, 9, 1, 1}};
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        const int h = cases[k][0], w = cases[k][1], oh = cases[k][2], ow = cases[k][3];
        float *x = malloc(sizeof(float) * 3 * h * w);
        float *out = malloc(sizeof(float) * 3 * oh * ow);
        double *plane = malloc(sizeof(double) * h * w);
        double *want = malloc(sizeof(double) * oh * ow);
        assert_true(x && out && plane && want);
        tu_fill(x, 3L * h * w, 0, 1, 100 + k);
        resize_ok(x, 3, h, w, out, oh, ow);
        for (int ch = 0; ch < 3; ch++) {
            for (int i = 0; i < h * w; i++) plane[i] = x[ch * h * w + i];
            synth_resize_reference(plane, h, w, oh, ow, want);
            for (int i = 0; i < oh * ow; i++) assert_near(out[ch * oh * ow + i], want[i], 1e-5);
        }

        for (int i = 0; i < 3 * h * w; i++) x[i] = 0.25f;
        resize_ok(x, 3, h, w, out, oh, ow);
        for (int i = 0; i < 3 * oh * ow; i++) assert_near(out[i], 0.25, 1e-6);
        free(x), free(out), free(plane), free(want);
    }
}

/* One plan resizes several images without changing its result. */
static void resize_plan_reuse(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    iae_resize_plan plan;
    if (iae_resize_plan_init(&ctx, &plan, 1, 8, 6, 3, 5) != IAE_OK) fail_msg("%s", ctx.error);
    float a[48], b[48], out_a[15], out_b[15], again[15];
    tu_fill(a, 48, 0, 1, 1);
    tu_fill(b, 48, 0, 1, 2);
    iae_resize_apply(&plan, a, out_a);
    iae_resize_apply(&plan, b, out_b);
    iae_resize_apply(&plan, a, again);
    assert_memory_equal(out_a, again, sizeof(again));
    iae_resize_plan_free(&plan);
    assert_null(plan.between);

    assert_int_equal(iae_resize_plan_init(&ctx, &plan, 1, 0, 6, 3, 5), IAE_ERR_ARGUMENT);
    expect_in_message(&ctx, "cannot resize 0 x 6 pixels to 3 x 5");
    assert_null(plan.between);
    assert_int_equal(iae_resize_plan_init(&ctx, &plan, 0, 4, 6, 3, 5), IAE_ERR_ARGUMENT);
}

/* ------------------------------------------------------------------------ */
/* Image files                                                               */
/* ------------------------------------------------------------------------ */

/* Pixel value of test image seed at (y, x, channel ch). */
static uint8_t pixel(int seed, int y, int x, int ch) {
    return (uint8_t)((seed * 37 + y * 23 + x * 11 + ch * 70) % 256);
}

/* Write an 8-bit image of c channels (1 or 3) as PNG. */
static void write_png(const char *path, int seed, int h, int w, int c) {
    uint8_t *data = malloc((size_t)h * w * c);
    assert_non_null(data);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int ch = 0; ch < c; ch++) data[(y * w + x) * c + ch] = pixel(seed, y, x, ch);
    synth_write_png(path, w, h, 8, c == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY, data, NULL,
                    0);
    free(data);
}

/* Write a gray image as binary PGM (P5, maxval 255). */
static void write_pgm(const char *path, int seed, int h, int w) {
    char header[64];
    int len = snprintf(header, sizeof(header), "P5\n%d %d\n255\n", w, h);
    uint8_t *bytes = malloc((size_t)len + (size_t)h * w);
    assert_non_null(bytes);
    memcpy(bytes, header, (size_t)len);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) bytes[len + y * w + x] = pixel(seed, y, x, 0);
    tu_write_file(path, bytes, (size_t)len + (size_t)h * w);
    free(bytes);
}

/* Expected (C, H, W) values of test image seed, stored h x w with gray
 * source (channel 0 for every output channel) or RGB source, resized to
 * out_h x out_w, with symmetric scaling when symmetric is set. */
static void expected_image(int seed, int h, int w, int gray, int c, int out_h, int out_w,
                           int symmetric, double *out) {
    double *plane = malloc(sizeof(double) * h * w);
    assert_non_null(plane);
    for (int ch = 0; ch < c; ch++) {
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) plane[y * w + x] = pixel(seed, y, x, gray ? 0 : ch) / 255.0;
        double *o = out + (size_t)ch * out_h * out_w;
        synth_resize_reference(plane, h, w, out_h, out_w, o);
        if (symmetric)
            for (int i = 0; i < out_h * out_w; i++) o[i] = (o[i] - 0.5) / 0.5;
    }
    free(plane);
}

static void expect_image_values(const float *x, const double *want, int count, double tol) {
    for (int i = 0; i < count; i++) assert_near(x[i], want[i], tol);
}

/* ------------------------------------------------------------------------ */
/* Listing                                                                   */
/* ------------------------------------------------------------------------ */

/* Images sorted in byte order ("C.PNG" < "a.pgm" < "b.png"); a text file,
 * a hidden PNG, a subfolder named like an image and a .jpg are skipped. */
static void folder_listing(void **state) {
    const char *dir = tu_tmpdir("folder_listing");
    write_png(tu_path(dir, "b.png"), 1, 4, 4, 1);
    write_pgm(tu_path(dir, "a.pgm"), 2, 4, 4);
    write_png(tu_path(dir, "C.PNG"), 3, 4, 4, 3);
    write_png(tu_path(dir, ".hidden.png"), 4, 4, 4, 1);
    tu_write_file(tu_path(dir, "notes.txt"), "x", 1);
    tu_write_file(tu_path(dir, "photo.jpg"), "x", 1);
    if (mkdir(tu_path(dir, "sub.png"), 0755) != 0) fail_msg("cannot create sub.png");

    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    iae_dir_list list;
    if (iae_dir_list_images(&ctx, dir, &list) != IAE_OK) fail_msg("%s", ctx.error);
    assert_int_equal(list.n, 3);
    char want[1024];
    const char *names[3] = {"C.PNG", "a.pgm", "b.png"};
    for (int i = 0; i < 3; i++) {
        snprintf(want, sizeof(want), "%s/%s", dir, names[i]);
        assert_string_equal(list.entries[i], want);
    }
    assert_int_equal(list.n_skipped, 4);
    assert_string_equal(list.first_skipped, ".hidden.png");
    iae_dir_list_free(&list);
    assert_null(list.entries);

    if (iae_dir_list_subdirs(&ctx, dir, &list) != IAE_OK) fail_msg("%s", ctx.error);
    assert_int_equal(list.n, 1);
    assert_string_equal(list.entries[0], "sub.png");
    iae_dir_list_free(&list);
}

/* ------------------------------------------------------------------------ */
/* Three-folder data set                                                     */
/* ------------------------------------------------------------------------ */

/* Folders with gray and RGB images of several sizes. */
static void make_folders(const char *root, char *train, char *normal, char *anomalous) {
    snprintf(train, 512, "%s/train", root);
    snprintf(normal, 512, "%s/normal", root);
    snprintf(anomalous, 512, "%s/anomalous", root);
    mkdir(train, 0755);
    mkdir(normal, 0755);
    mkdir(anomalous, 0755);
    /* train: 2.png (gray 8 x 8), 10.pgm (8 x 8), 1.png (gray 12 x 6);
     * byte order: "1.png" < "10.pgm" < "2.png". */
    write_png(tu_path(train, "2.png"), 20, 8, 8, 1);
    write_pgm(tu_path(train, "10.pgm"), 21, 8, 8);
    write_png(tu_path(train, "1.png"), 22, 12, 6, 1);
    tu_write_file(tu_path(train, "readme.md"), "x", 1);
    write_png(tu_path(normal, "n.png"), 30, 4, 4, 1);
    write_pgm(tu_path(anomalous, "a1.pgm"), 40, 16, 16);
    write_png(tu_path(anomalous, "a2.png"), 41, 5, 3, 1);
}

/* Gray images resized to 4 x 4 with symmetric scaling, in name order. The
 * test set contains the normal folder's image, then the anomalous ones. */
static void folder_gray_dataset(void **state) {
    const char *root = tu_tmpdir("folder_gray");
    char train_dir[512], normal_dir[512], anomalous_dir[512];
    make_folders(root, train_dir, normal_dir, anomalous_dir);
    iae_folder_options opt = {.train_dir = train_dir, .test_normal_dir = normal_dir,
                              .test_anomalous_dir = anomalous_dir, .c = 1, .h = 4, .w = 4,
                              .scaling = IAE_PIXELS_SYMMETRIC};
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    iae_dataset train, test;
    iae_folder_info info;
    if (iae_folder_load(&ctx, &opt, &train, &test, &info) != IAE_OK) fail_msg("%s", ctx.error);

    assert_int_equal(train.n, 3);
    assert_int_equal(train.c, 1);
    assert_int_equal(train.h, 4);
    assert_int_equal(train.w, 4);
    assert_int_equal(info.train.n_skipped, 1);
    const int train_seed[3] = {22, 21, 20};
    const int train_h[3] = {12, 8, 8};
    const int train_w[3] = {6, 8, 8};
    double want[16];
    for (int k = 0; k < 3; k++) {
        assert_int_equal(train.label[k], 0);
        expected_image(train_seed[k], train_h[k], train_w[k], 1, 1, 4, 4, 1, want);
        expect_image_values(train.x + k * 16, want, 16, 2e-6);
    }

    assert_int_equal(test.n, 3);
    const int test_seed[3] = {30, 40, 41};
    const int test_h[3] = {4, 16, 5};
    const int test_w[3] = {4, 16, 3};
    for (int k = 0; k < 3; k++) {
        assert_int_equal(test.label[k], k > 0);
        assert_int_equal(test.cls[k], k > 0);
        expected_image(test_seed[k], test_h[k], test_w[k], 1, 1, 4, 4, 1, want);
        expect_image_values(test.x + k * 16, want, 16, 2e-6);
    }
    assert_non_null(strstr(info.test_anomalous.entries[1], "a2.png"));

    /* The 4 x 4 normal image is copied: exactly (v / 255 - 0.5) / 0.5. */
    assert_near(test.x[5], ((float)pixel(30, 1, 1, 0) / 255.0f - 0.5f) / 0.5f, 0.0);
    iae_dataset_free(&train), iae_dataset_free(&test);
    iae_folder_info_free(&info);
}

/* RGB output: gray sources are replicated, RGB sources keep their
 * channels; gray output of an RGB image with equal channels keeps the
 * value. Values stay in [0, 1] without symmetric scaling. */
static void folder_rgb_dataset(void **state) {
    const char *root = tu_tmpdir("folder_rgb");
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/train", root);
    mkdir(dir, 0755);
    write_png(tu_path(dir, "a.png"), 50, 6, 9, 3);
    write_pgm(tu_path(dir, "b.pgm"), 51, 6, 9);
    iae_folder_options opt = {.train_dir = dir, .c = 3, .h = 3, .w = 5};
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    iae_dataset train;
    if (iae_folder_load(&ctx, &opt, &train, NULL, NULL) != IAE_OK) fail_msg("%s", ctx.error);
    assert_int_equal(train.c, 3);
    double want[45];
    expected_image(50, 6, 9, 0, 3, 3, 5, 0, want);
    expect_image_values(train.x, want, 45, 2e-6);
    expected_image(51, 6, 9, 1, 3, 3, 5, 0, want);
    expect_image_values(train.x + 45, want, 45, 2e-6);
    iae_dataset_free(&train);

    /* RGB with r = g = b converts to that gray value. */
    uint8_t rgb[4 * 4 * 3];
    for (int i = 0; i < 16; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = (uint8_t)(i * 16);
    const char *gray_dir = tu_tmpdir("folder_rgb_gray");
    synth_write_png(tu_path(gray_dir, "g.png"), 4, 4, 8, PNG_COLOR_TYPE_RGB, rgb, NULL, 0);
    iae_folder_options gray = {.train_dir = gray_dir, .c = 1, .h = 4, .w = 4};
    if (iae_folder_load(&ctx, &gray, &train, NULL, NULL) != IAE_OK) fail_msg("%s", ctx.error);
    for (int i = 0; i < 16; i++) assert_near(train.x[i], (float)(i * 16) / 255.0f, 0.0);
    iae_dataset_free(&train);
}

/* Load opt and expect status plus each needle (NULL terminated), with every
 * output left empty. */
static void expect_load_error(const iae_folder_options *opt, iae_status status, ...) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    iae_dataset train, test;
    iae_folder_info info;
    memset(&train, 0xAB, sizeof(train));
    memset(&test, 0xAB, sizeof(test));
    memset(&info, 0xAB, sizeof(info));
    iae_status st = iae_folder_load(&ctx, opt, &train, &test, &info);
    if (st != status) fail_msg("status %d, expected %d (%s)", st, status, ctx.error);
    assert_null(train.x);
    assert_null(test.x);
    assert_int_equal(train.n, 0);
    assert_null(info.train.entries);
    assert_null(info.test_normal.entries);

    va_list ap;
    va_start(ap, status);
    for (const char *needle = va_arg(ap, const char *); needle; needle = va_arg(ap, const char *))
        expect_in_message(&ctx, needle);
    va_end(ap);
}

static void folder_errors(void **state) {
    const char *root = tu_tmpdir("folder_errors");
    char train_dir[512], normal_dir[512], anomalous_dir[512];
    make_folders(root, train_dir, normal_dir, anomalous_dir);
    iae_folder_options opt = {.train_dir = train_dir, .test_normal_dir = normal_dir,
                              .test_anomalous_dir = anomalous_dir, .c = 1, .h = 4, .w = 4};

    char path[1024];
    snprintf(path, sizeof(path), "%s/absent", root);
    opt.test_anomalous_dir = path;
    expect_load_error(&opt, IAE_ERR_IO, "folder", path, "not found", NULL);

    /* A file where a folder should be. */
    snprintf(path, sizeof(path), "%s/2.png", train_dir);
    opt.test_anomalous_dir = path;
    expect_load_error(&opt, IAE_ERR_IO, path, "is not a directory", NULL);

    /* An empty folder, then one with only other files. */
    snprintf(path, sizeof(path), "%s/empty", root);
    mkdir(path, 0755);
    opt.test_anomalous_dir = path;
    expect_load_error(&opt, IAE_ERR_FORMAT, "anomalous test folder", path, "is empty", NULL);
    tu_write_file(tu_path(path, "x.jpg"), "x", 1);
    tu_write_file(tu_path(path, "y.bmp"), "x", 1);
    expect_load_error(&opt, IAE_ERR_FORMAT, path, "no PNG or PGM image",
                      "2 other entries were skipped, such as 'x.jpg'", ".png or .pgm", NULL);

    /* A truncated PNG is an error naming it, not a skipped file. */
    opt.test_anomalous_dir = anomalous_dir;
    snprintf(path, sizeof(path), "%s/zz.png", normal_dir);
    tu_write_file(path, "\x89PNG\r\n\x1a\n\0\0", 10);
    expect_load_error(&opt, IAE_ERR_FORMAT, path, "truncated or corrupt", NULL);
    unlink(path);

    /* A text file named .pgm. */
    snprintf(path, sizeof(path), "%s/text.pgm", normal_dir);
    tu_write_file(path, "hello", 5);
    expect_load_error(&opt, IAE_ERR_FORMAT, path, "not a PNG or PGM image", NULL);
    unlink(path);

    opt.c = 2;
    expect_load_error(&opt, IAE_ERR_ARGUMENT, "invalid channel count 2", NULL);
    opt.c = 1;
    opt.h = 0;
    expect_load_error(&opt, IAE_ERR_ARGUMENT, "invalid image size 0 x 4", NULL);
    opt.h = 4;
    opt.test_normal_dir = NULL;
    expect_load_error(&opt, IAE_ERR_ARGUMENT, "no normal test folder given", NULL);
}

/* A folder with mode 000 gives "Permission denied". root bypasses
 * permission checks, so the test is skipped when run as root. */
static void folder_permission_denied(void **state) {
    if (geteuid() == 0) skip();
    const char *root = tu_tmpdir("folder_permission");
    char train_dir[512], normal_dir[512], anomalous_dir[512];
    make_folders(root, train_dir, normal_dir, anomalous_dir);
    iae_folder_options opt = {.train_dir = train_dir, .c = 1, .h = 4, .w = 4};
    if (chmod(train_dir, 0) != 0) fail_msg("cannot chmod %s", train_dir);
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    iae_dataset train;
    iae_status st = iae_folder_load(&ctx, &opt, &train, NULL, NULL);
    chmod(train_dir, 0755);
    assert_int_equal(st, IAE_ERR_IO);
    expect_in_message(&ctx, train_dir);
    expect_in_message(&ctx, strerror(EACCES));

    /* An unreadable image inside a readable folder. */
    char path[1024];
    snprintf(path, sizeof(path), "%s/2.png", train_dir);
    if (chmod(path, 0) != 0) fail_msg("cannot chmod %s", path);
    st = iae_folder_load(&ctx, &opt, &train, NULL, NULL);
    chmod(path, 0644);
    assert_int_equal(st, IAE_ERR_IO);
    expect_in_message(&ctx, path);
    expect_in_message(&ctx, strerror(EACCES));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(resize_4x4_to_2x2),
        cmocka_unit_test(resize_row_6_to_2),
        cmocka_unit_test(resize_row_2_to_4),
        cmocka_unit_test(resize_identity),
        cmocka_unit_test(resize_matches_reference),
        cmocka_unit_test(resize_plan_reuse),
        cmocka_unit_test(folder_listing),
        cmocka_unit_test(folder_gray_dataset),
        cmocka_unit_test(folder_rgb_dataset),
        cmocka_unit_test(folder_errors),
        cmocka_unit_test(folder_permission_denied),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
