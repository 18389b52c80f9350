/*
 * Tests of the one-class Fashion-MNIST loader on small fake data sets written
 * in the real IDX format (some files gzip-compressed, some plain), and on the
 * installed data set when /usr/share/datasets/fashion-mnist exists.
 *
 * Expected values are computed here in double, straight from the pixel
 * bytes, without the library's preprocessing functions.
 */
#include "testutil.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/fashion_mnist.h"
#include "data/idx.h"
#include "data/preprocess.h"

#define SIDE 28
#define PADDED 32
#define PIXELS (SIDE * SIDE)
#define VALUES (PADDED * PADDED)
#define N_TRAIN 50
#define N_TEST 30
#define REAL_DATA_DIR "/usr/share/datasets/fashion-mnist"

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

static void expect_not_in_message(const iae_ctx *ctx, const char *needle) {
    if (strstr(ctx->error, needle) != NULL)
        fail_msg("error message \"%s\" contains \"%s\"", ctx->error, needle);
}

/* Pixels and labels of the fake data set, shared by every test. */
static uint8_t train_pixels[N_TRAIN * PIXELS];
static uint8_t test_pixels[N_TEST * PIXELS];
static uint8_t train_labels[N_TRAIN];
static uint8_t test_labels[N_TEST];

/* How a fake data set departs from a valid one. */
typedef struct {
    int train_labels_count; /* 0: N_TRAIN */
    int has_bad_label;      /* 1: store label 12 at bad_label_index in the training labels */
    int bad_label_index;
    int train_height;       /* 0: 28 */
    int train_count;        /* 0: N_TRAIN images and labels */
    const char *omit;       /* file written without, e.g. "t10k-labels-idx1-ubyte.gz" */
} fake_spec;

static void make_pixels(void) {
    iae_rng r;
    iae_rng_seed(&r, 1234, 0);
    for (int i = 0; i < N_TRAIN * PIXELS; i++) train_pixels[i] = (uint8_t)iae_rng_below(&r, 256);
    for (int i = 0; i < N_TEST * PIXELS; i++) test_pixels[i] = (uint8_t)iae_rng_below(&r, 256);
    /* Training labels cycle 0..9; test labels cycle through another order. */
    for (int i = 0; i < N_TRAIN; i++) train_labels[i] = (uint8_t)(i % 10);
    for (int i = 0; i < N_TEST; i++) test_labels[i] = (uint8_t)((7 * i + 3) % 10);
}

static void write_idx(const char *dir, const char *name, int ndim, int d0, int d1, int d2,
                      const uint8_t *data, const fake_spec *spec) {
    if (spec != NULL && spec->omit != NULL && strcmp(spec->omit, name) == 0) return;
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    iae_idx idx = {.ndim = ndim, .dims = {d0, d1, d2}, .data = (uint8_t *)data};
    idx.count = (size_t)d0 * (ndim > 1 ? (size_t)d1 * (size_t)d2 : 1);
    int gzip = strstr(name, ".gz") != NULL;
    if (iae_idx_write(&ctx, tu_path(dir, name), &idx, gzip) != IAE_OK) fail_msg("%s", ctx.error);
}

/* Write a fake data set into a fresh folder named name and return its path.
 * The training images are gzip-compressed and next to them lies a plain
 * decoy of all-255 images, which the loader must ignore because .gz wins. */
static const char *make_dataset(const char *name, const fake_spec *spec) {
    const char *dir = tu_tmpdir(name);
    fake_spec none = {0};
    if (spec == NULL) spec = &none;
    int n_train = spec->train_count ? spec->train_count : N_TRAIN;
    int height = spec->train_height ? spec->train_height : SIDE;
    int n_labels = spec->train_labels_count ? spec->train_labels_count : n_train;

    uint8_t labels[N_TRAIN];
    memcpy(labels, train_labels, sizeof(labels));
    if (spec->has_bad_label) labels[spec->bad_label_index] = 12;

    write_idx(dir, "train-images-idx3-ubyte.gz", 3, n_train, height, SIDE, train_pixels, spec);
    static uint8_t decoy[N_TRAIN * PIXELS];
    memset(decoy, 255, sizeof(decoy));
    write_idx(dir, "train-images-idx3-ubyte", 3, n_train, height, SIDE, decoy, spec);
    write_idx(dir, "train-labels-idx1-ubyte", 1, n_labels, 0, 0, labels, spec);
    write_idx(dir, "t10k-images-idx3-ubyte", 3, N_TEST, SIDE, SIDE, test_pixels, spec);
    write_idx(dir, "t10k-labels-idx1-ubyte.gz", 1, N_TEST, 0, 0, test_labels, spec);
    return dir;
}

/* Pad one 28 x 28 image to 32 x 32, scale by 1/255 and apply L1 GCN, in
 * double: the expected values before min-max scaling. */
static void expected_gcn(const uint8_t *pixels, double *out) {
    for (int y = 0; y < PADDED; y++)
        for (int x = 0; x < PADDED; x++) {
            int inside = y >= 2 && y < 30 && x >= 2 && x < 30;
            out[y * PADDED + x] = inside ? pixels[(y - 2) * SIDE + (x - 2)] / 255.0 : 0.0;
        }
    double mean = 0.0;
    for (int i = 0; i < VALUES; i++) mean += out[i];
    mean /= VALUES;
    double mean_abs = 0.0;
    for (int i = 0; i < VALUES; i++) mean_abs += fabs(out[i] - mean);
    mean_abs /= VALUES;
    for (int i = 0; i < VALUES; i++) out[i] = (out[i] - mean) / mean_abs;
}

/* Range of the GCN values over the training images of class k, in double. */
static void expected_range(int k, double *lo, double *hi) {
    double g[VALUES];
    *lo = INFINITY;
    *hi = -INFINITY;
    for (int i = 0; i < N_TRAIN; i++) {
        if (train_labels[i] != k) continue;
        expected_gcn(train_pixels + i * PIXELS, g);
        for (int j = 0; j < VALUES; j++) {
            *lo = fmin(*lo, g[j]);
            *hi = fmax(*hi, g[j]);
        }
    }
}

/* Check one preprocessed image against pixels scaled with the range (lo, hi). */
static void expect_image(const float *x, const uint8_t *pixels, double lo, double hi) {
    double g[VALUES];
    expected_gcn(pixels, g);
    for (int j = 0; j < VALUES; j++) assert_near(x[j], (g[j] - lo) / (hi - lo), 2e-6);
}

static void expect_empty(const iae_dataset *d) {
    assert_null(d->x);
    assert_null(d->label);
    assert_null(d->cls);
    assert_int_equal(d->n, 0);
}

/* Check the test set: all N_TEST images in file order, label 1 unless normal. */
static void expect_test_set(const iae_dataset *test, int normal, double lo, double hi) {
    assert_int_equal(test->n, N_TEST);
    assert_int_equal(test->c, 1);
    assert_int_equal(test->h, PADDED);
    assert_int_equal(test->w, PADDED);
    for (int i = 0; i < N_TEST; i++) {
        assert_int_equal(test->cls[i], test_labels[i]);
        assert_int_equal(test->label[i], test_labels[i] != normal);
        expect_image(test->x + (size_t)i * VALUES, test_pixels + i * PIXELS, lo, hi);
    }
}

static int group_setup(void **state) {
    make_pixels();
    return 0;
}

/* Normal class 3: training images 3, 13, 23, 33 and 43; the range comes
 * from their GCN values. */
static void fmnist_default_range(void **state) {
    const char *dir = make_dataset("fmnist_default", NULL);
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    iae_fmnist_options opt = {.dir = dir, .normal_class = 3};
    iae_dataset train;
    iae_dataset test;
    float lo = 0;
    float hi = 0;
    iae_status st = iae_fmnist_load(&ctx, &opt, &train, &test, &lo, &hi);
    if (st != IAE_OK) fail_msg("%s", ctx.error);

    double want_lo = 0;
    double want_hi = 0;
    expected_range(3, &want_lo, &want_hi);
    assert_near(lo, want_lo, 1e-5 * fabs(want_lo));
    assert_near(hi, want_hi, 1e-5 * fabs(want_hi));

    assert_int_equal(train.n, 5);
    assert_int_equal(train.c, 1);
    assert_int_equal(train.h, PADDED);
    assert_int_equal(train.w, PADDED);
    for (int k = 0; k < 5; k++) {
        assert_int_equal(train.cls[k], 3);
        assert_int_equal(train.label[k], 0);
        expect_image(train.x + (size_t)k * VALUES, train_pixels + (3 + 10 * k) * PIXELS, want_lo,
                     want_hi);
    }

    /* Over the training set itself the scaled values span exactly [0, 1]. */
    float scaled_lo = 0;
    float scaled_hi = 0;
    iae_minmax_range(train.x, (long)train.n * VALUES, &scaled_lo, &scaled_hi);
    assert_near(scaled_lo, 0.0, 1e-6);
    assert_near(scaled_hi, 1.0, 1e-6);

    expect_test_set(&test, 3, want_lo, want_hi);
    iae_dataset_free(&train);
    iae_dataset_free(&test);
    expect_empty(&train);
}

/* Reference normalisation takes the range of class 7 from the table, and a
 * NULL training set skips it. */
static void fmnist_reference_normalization(void **state) {
    const char *dir = make_dataset("fmnist_reference", NULL);
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    iae_fmnist_options opt = {.dir = dir, .normal_class = 7, .reference_normalization = 1};
    iae_dataset test;
    float lo = 0;
    float hi = 0;
    iae_status st = iae_fmnist_load(&ctx, &opt, NULL, &test, &lo, &hi);
    if (st != IAE_OK) fail_msg("%s", ctx.error);

    const double table_lo = -0.7129780970522351;
    const double table_hi = 12.057777597673047;
    assert_near(lo, table_lo, 1e-7);
    assert_near(hi, table_hi, 1e-6);
    expect_test_set(&test, 7, (float)table_lo, (float)table_hi);
    iae_dataset_free(&test);
}

/* A stored range wins over everything else and applies to both sets. */
static void fmnist_stored_range(void **state) {
    const char *dir = make_dataset("fmnist_stored", NULL);
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    iae_fmnist_options opt = {
        .dir = dir, .normal_class = 0, .reference_normalization = 1, .have_minmax = 1,
        .min = -1.0f, .max = 10.0f};
    iae_dataset train;
    iae_dataset test;
    float lo = 0;
    float hi = 0;
    iae_status st = iae_fmnist_load(&ctx, &opt, &train, &test, &lo, &hi);
    if (st != IAE_OK) fail_msg("%s", ctx.error);

    assert_near(lo, -1.0, 0.0);
    assert_near(hi, 10.0, 0.0);
    assert_int_equal(train.n, 5);
    for (int k = 0; k < 5; k++)
        expect_image(train.x + (size_t)k * VALUES, train_pixels + 10 * k * PIXELS, -1.0, 10.0);
    expect_test_set(&test, 0, -1.0, 10.0);
    iae_dataset_free(&train);
    iae_dataset_free(&test);
}

/* Load with opt into ctx and expect status, with both sets left empty. */
static void load_expecting(iae_ctx *ctx, const iae_fmnist_options *opt, iae_status status) {
    iae_dataset train;
    iae_dataset test;
    memset(&train, 0xAB, sizeof(train));
    memset(&test, 0xAB, sizeof(test));
    iae_status st = iae_fmnist_load(ctx, opt, &train, &test, NULL, NULL);
    if (st != status) fail_msg("status %d, expected %d (%s)", st, status, ctx->error);
    expect_empty(&train);
    expect_empty(&test);
}

/* Load with opt and expect status plus each needle (NULL terminated) in the
 * message, with both sets left empty. */
static void expect_load_error(const iae_fmnist_options *opt, iae_status status, ...) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    load_expecting(&ctx, opt, status);

    va_list ap;
    va_start(ap, status);
    for (const char *needle = va_arg(ap, const char *); needle; needle = va_arg(ap, const char *))
        expect_in_message(&ctx, needle);
    va_end(ap);
}

/* A missing folder given by the user points at --data. Only the default
 * folder suggests installing the Debian package. */
static void fmnist_missing_folder(void **state) {
    const char *root = tu_tmpdir("fmnist_no_folder");
    const char *dir = tu_path(root, "absent");
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);

    iae_fmnist_options opt = {.dir = dir, .normal_class = 0};
    load_expecting(&ctx, &opt, IAE_ERR_IO);
    expect_in_message(&ctx, dir);
    expect_in_message(&ctx, "not found; check the --data path");
    expect_not_in_message(&ctx, "apt-get");

    opt.dir_is_default = 1;
    load_expecting(&ctx, &opt, IAE_ERR_IO);
    expect_in_message(&ctx, dir);
    expect_in_message(&ctx, "not found");
    expect_in_message(&ctx, "apt-get install dataset-fashion-mnist");
    expect_in_message(&ctx, "--data DIR");
}

/* A path through a regular file fails stat with ENOTDIR: the folder cannot
 * be read, but it is not reported as missing. */
static void fmnist_folder_path_through_file(void **state) {
    const char *root = tu_tmpdir("fmnist_enotdir");
    char dir[1024];
    tu_write_file(tu_path(root, "plain-file"), "x", 1);
    snprintf(dir, sizeof(dir), "%s/plain-file/fashion-mnist", root);
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);

    iae_fmnist_options opt = {.dir = dir, .normal_class = 0, .dir_is_default = 1};
    load_expecting(&ctx, &opt, IAE_ERR_IO);
    expect_in_message(&ctx, "cannot read data directory");
    expect_in_message(&ctx, dir);
    expect_in_message(&ctx, strerror(ENOTDIR));
    expect_not_in_message(&ctx, "not found");
    expect_not_in_message(&ctx, "apt-get");
}

/* train-images-idx3-ubyte.gz is a symbolic link to itself, so stat fails
 * with ELOOP. The loader must report it and must not fall back to the plain
 * all-255 decoy next to it. */
static void fmnist_unreadable_gz_no_fallback(void **state) {
    const char *dir = make_dataset("fmnist_symlink_loop", NULL);
    char link_path[1024];
    snprintf(link_path, sizeof(link_path), "%s/train-images-idx3-ubyte.gz", dir);
    if (unlink(link_path) != 0) fail_msg("cannot remove %s", link_path);
    if (symlink("train-images-idx3-ubyte.gz", link_path) != 0)
        fail_msg("cannot create symbolic link %s", link_path);
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);

    iae_fmnist_options opt = {.dir = dir, .normal_class = 0};
    load_expecting(&ctx, &opt, IAE_ERR_IO);
    expect_in_message(&ctx, "cannot read");
    expect_in_message(&ctx, link_path);
    expect_in_message(&ctx, strerror(ELOOP));
    expect_not_in_message(&ctx, "not found");
}

/* A data folder and a data file with mode 000 give "Permission denied".
 * root bypasses permission checks, so the test is skipped when run as root.
 * fmnist_unreadable_gz_no_fallback covers the same errno path with ELOOP. */
static void fmnist_permission_denied(void **state) {
    if (geteuid() == 0) skip();
    const char *dir = make_dataset("fmnist_permission", NULL);
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    iae_fmnist_options opt = {.dir = dir, .normal_class = 0};

    /* Restore each mode before checking, so a failure leaves a folder that
     * the next run can delete. */
    if (chmod(dir, 0) != 0) fail_msg("cannot chmod %s", dir);
    iae_status st = iae_fmnist_load(&ctx, &opt, NULL, NULL, NULL, NULL);
    chmod(dir, 0755);
    assert_int_equal(st, IAE_ERR_IO);
    expect_in_message(&ctx, "cannot read");
    expect_in_message(&ctx, strerror(EACCES));
    expect_not_in_message(&ctx, "not found");

    char file[1024];
    snprintf(file, sizeof(file), "%s/train-labels-idx1-ubyte", dir);
    if (chmod(file, 0) != 0) fail_msg("cannot chmod %s", file);
    st = iae_fmnist_load(&ctx, &opt, NULL, NULL, NULL, NULL);
    chmod(file, 0644);
    assert_int_equal(st, IAE_ERR_IO);
    expect_in_message(&ctx, "cannot read");
    expect_in_message(&ctx, file);
    expect_in_message(&ctx, strerror(EACCES));
    expect_not_in_message(&ctx, "not found");
}

static void fmnist_missing_file(void **state) {
    fake_spec spec = {.omit = "t10k-labels-idx1-ubyte.gz"};
    const char *dir = make_dataset("fmnist_missing_file", &spec);
    iae_fmnist_options opt = {.dir = dir, .normal_class = 0};
    expect_load_error(&opt, IAE_ERR_IO, "'t10k-labels-idx1-ubyte'", "not found", dir, NULL);
}

static void fmnist_label_count_mismatch(void **state) {
    fake_spec spec = {.train_labels_count = 49};
    const char *dir = make_dataset("fmnist_count", &spec);
    iae_fmnist_options opt = {.dir = dir, .normal_class = 0};
    expect_load_error(&opt, IAE_ERR_FORMAT, "train-labels-idx1-ubyte' contains 49 labels",
                      "train-images-idx3-ubyte.gz' contains 50 images", NULL);
}

static void fmnist_label_value_12(void **state) {
    fake_spec spec = {.has_bad_label = 1, .bad_label_index = 7};
    const char *dir = make_dataset("fmnist_label12", &spec);
    iae_fmnist_options opt = {.dir = dir, .normal_class = 0};
    expect_load_error(&opt, IAE_ERR_FORMAT, "train-labels-idx1-ubyte", "label 12 at index 7",
                      "0 to 9", NULL);
}

static void fmnist_image_27x28(void **state) {
    fake_spec spec = {.train_height = 27};
    const char *dir = make_dataset("fmnist_27x28", &spec);
    iae_fmnist_options opt = {.dir = dir, .normal_class = 0};
    expect_load_error(&opt, IAE_ERR_FORMAT, "train-images-idx3-ubyte.gz", "27 x 28",
                      "expected 28 x 28", NULL);
}

static void fmnist_normal_class_10(void **state) {
    const char *dir = make_dataset("fmnist_class10", NULL);
    iae_fmnist_options opt = {.dir = dir, .normal_class = 10};
    expect_load_error(&opt, IAE_ERR_ARGUMENT, "normal class 10", "0 to 9", NULL);
    opt.normal_class = -1;
    expect_load_error(&opt, IAE_ERR_ARGUMENT, "normal class -1", NULL);
}

/* Only classes 0..4 appear among 5 training images, so class 7 has none. */
static void fmnist_no_normal_images(void **state) {
    fake_spec spec = {.train_count = 5};
    const char *dir = make_dataset("fmnist_no_normal", &spec);
    iae_fmnist_options opt = {.dir = dir, .normal_class = 7};
    expect_load_error(&opt, IAE_ERR_FORMAT, "no training image of the normal class 7", NULL);
}

static void fmnist_invalid_stored_range(void **state) {
    const char *dir = make_dataset("fmnist_bad_range", NULL);
    iae_fmnist_options opt = {.dir = dir, .normal_class = 0, .have_minmax = 1, .min = 2.0f,
                              .max = 2.0f};
    expect_load_error(&opt, IAE_ERR_ARGUMENT, "invalid min-max range (2, 2)", NULL);
    opt.max = NAN;
    expect_load_error(&opt, IAE_ERR_ARGUMENT, "invalid min-max range", NULL);
}

/* The installed data set: class 0 has 6000 training images, and 9000 of the
 * 10000 test images belong to other classes. */
static void fmnist_real_dataset(void **state) {
    struct stat info;
    if (stat(REAL_DATA_DIR, &info) != 0) skip();
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    iae_fmnist_options opt = {.dir = REAL_DATA_DIR, .normal_class = 0};
    iae_dataset train;
    iae_dataset test;
    float lo = 0;
    float hi = 0;
    iae_status st = iae_fmnist_load(&ctx, &opt, &train, &test, &lo, &hi);
    if (st != IAE_OK) fail_msg("%s", ctx.error);

    assert_int_equal(train.n, 6000);
    assert_int_equal(test.n, 10000);
    long anomalous = 0;
    long class0 = 0;
    for (int i = 0; i < test.n; i++) {
        anomalous += test.label[i];
        class0 += test.cls[i] == 0;
    }
    assert_int_equal(anomalous, 9000);
    assert_int_equal(class0, 1000);
    for (int i = 0; i < train.n; i++) assert_int_equal(train.cls[i], 0);

    /* The range comes from the training set, which therefore spans [0, 1]. */
    float scaled_lo = 0;
    float scaled_hi = 0;
    iae_minmax_range(train.x, (long)train.n * VALUES, &scaled_lo, &scaled_hi);
    assert_near(scaled_lo, 0.0, 1e-6);
    assert_near(scaled_hi, 1.0, 1e-6);
    print_message("Fashion-MNIST class 0: min %.9g, max %.9g after GCN\n", (double)lo, (double)hi);
    iae_dataset_free(&train);
    iae_dataset_free(&test);
}

/* The reference's count of contaminating anomalies, int(n r / (1 - r)). */
static void contamination_count_formula(void **state) {
    assert_int_equal(iae_contamination_count(6000, 0.05), 315);
    assert_int_equal(iae_contamination_count(6000, 0.1), 666);
    assert_int_equal(iae_contamination_count(5000, 0.05), 263);
    assert_int_equal(iae_contamination_count(5000, 0.1), 555);
    assert_int_equal(iae_contamination_count(6000, 0.0), 0);
    assert_int_equal(iae_contamination_count(5, 0.3), 2);
}

/* Contamination appends that many images of other classes, labelled 1, each
 * a copy of a training image of its class; the draw depends on the seed. */
static void contaminated_training_set(void **state) {
    const char *dir = make_dataset("fmnist_contaminated", NULL);
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    iae_fmnist_options opt = {.dir = dir, .normal_class = 3, .contamination = 0.3, .seed = 11};
    iae_dataset a, b, c;
    float lo, hi;
    if (iae_fmnist_load(&ctx, &opt, &a, NULL, &lo, &hi) != IAE_OK) fail_msg("%s", ctx.error);
    assert_int_equal(a.n, 5 + 2);
    for (int k = 0; k < 5; k++) assert_int_equal(a.label[k], 0);
    for (int k = 5; k < 7; k++) {
        assert_int_equal(a.label[k], 1);
        assert_int_not_equal(a.cls[k], 3);
    }
    /* Each contaminant equals one of the five training images of its class,
     * once the loader's own range is undone. */
    for (int k = 5; k < 7; k++) {
        int matched = 0;
        for (int j = 0; j < 5 && !matched; j++) {
            double want[VALUES];
            expected_gcn(train_pixels + (a.cls[k] + 10 * j) * PIXELS, want);
            double worst = 0;
            for (int v = 0; v < VALUES; v++)
                worst = fmax(worst, fabs(lo + a.x[(long)k * VALUES + v] * (hi - lo) - want[v]));
            matched = worst < 1e-4;
        }
        assert_true(matched);
    }
    if (iae_fmnist_load(&ctx, &opt, &b, NULL, NULL, NULL) != IAE_OK) fail_msg("%s", ctx.error);
    assert_memory_equal(a.x, b.x, sizeof(float) * (size_t)a.n * VALUES);
    opt.seed = 12;
    if (iae_fmnist_load(&ctx, &opt, &c, NULL, NULL, NULL) != IAE_OK) fail_msg("%s", ctx.error);
    assert_int_equal(c.n, 7);
    opt.contamination = 1.5;
    iae_dataset d;
    assert_int_equal(iae_fmnist_load(&ctx, &opt, &d, NULL, NULL, NULL), IAE_ERR_ARGUMENT);
    iae_dataset_free(&a), iae_dataset_free(&b), iae_dataset_free(&c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fmnist_default_range),
        cmocka_unit_test(contamination_count_formula),
        cmocka_unit_test(contaminated_training_set),
        cmocka_unit_test(fmnist_reference_normalization),
        cmocka_unit_test(fmnist_stored_range),
        cmocka_unit_test(fmnist_missing_folder),
        cmocka_unit_test(fmnist_folder_path_through_file),
        cmocka_unit_test(fmnist_unreadable_gz_no_fallback),
        cmocka_unit_test(fmnist_permission_denied),
        cmocka_unit_test(fmnist_missing_file),
        cmocka_unit_test(fmnist_label_count_mismatch),
        cmocka_unit_test(fmnist_label_value_12),
        cmocka_unit_test(fmnist_image_27x28),
        cmocka_unit_test(fmnist_normal_class_10),
        cmocka_unit_test(fmnist_no_normal_images),
        cmocka_unit_test(fmnist_invalid_stored_range),
        cmocka_unit_test(fmnist_real_dataset),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
