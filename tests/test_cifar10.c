/*
 * Tests of the one-class CIFAR-10 loader on small fake data sets written in
 * the real binary format (3073-byte records in data_batch_1.bin ..
 * data_batch_5.bin and test_batch.bin), valid and broken.
 *
 * Expected values are computed here in double, straight from the record
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

#include "core/rng.h"
#include "data/cifar10.h"
#include "data/fashion_mnist.h"

#define RECORD 3073
#define VALUES 3072
#define N_FILES 5
#define N_TEST 30

/* Records per training file: 50 in all, uneven so that file boundaries
 * fall at different places. */
static const int FILE_RECORDS[N_FILES] = {12, 8, 10, 6, 14};
#define N_TRAIN 50

static const char *const TRAIN_NAMES[N_FILES] = {
    "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
    "data_batch_5.bin",
};

/* Records of the fake data set: training records in file order, then the
 * test records. */
static uint8_t train_records[N_TRAIN * RECORD];
static uint8_t test_records[N_TEST * RECORD];

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

/* Label of training record i: class 3 appears 5 times, at 0, 11, 12, 29
 * and 49, so the normal class spans files 1, 2, 3 and 5. */
static uint8_t train_label(int i) {
    if (i == 0 || i == 11 || i == 12 || i == 29 || i == 49) return 3;
    uint8_t label = (uint8_t)((i * 7 + 1) % 10);
    return label == 3 ? 4 : label;
}

static int group_setup(void **state) {
    iae_rng r;
    iae_rng_seed(&r, 4321, 0);
    for (int i = 0; i < N_TRAIN; i++) {
        uint8_t *rec = train_records + (size_t)i * RECORD;
        rec[0] = train_label(i);
        for (int j = 1; j < RECORD; j++) rec[j] = (uint8_t)iae_rng_below(&r, 256);
    }
    for (int i = 0; i < N_TEST; i++) {
        uint8_t *rec = test_records + (size_t)i * RECORD;
        rec[0] = (uint8_t)((3 * i + 2) % 10);
        for (int j = 1; j < RECORD; j++) rec[j] = (uint8_t)iae_rng_below(&r, 256);
    }
    return 0;
}

/* Write the fake data set into a fresh folder named name; return its path. */
static const char *make_dataset(const char *name) {
    const char *dir = tu_tmpdir(name);
    int first = 0;
    for (int k = 0; k < N_FILES; k++) {
        tu_write_file(tu_path(dir, TRAIN_NAMES[k]), train_records + (size_t)first * RECORD,
                      (size_t)FILE_RECORDS[k] * RECORD);
        first += FILE_RECORDS[k];
    }
    tu_write_file(tu_path(dir, "test_batch.bin"), test_records, sizeof(test_records));
    return dir;
}

/* Scale one record's pixels to [0, 1] and apply L1 GCN over all 3072
 * values, in double: the expected values before min-max scaling. */
static void expected_gcn(const uint8_t *record, double *out) {
    double mean = 0.0;
    for (int i = 0; i < VALUES; i++) {
        out[i] = record[1 + i] / 255.0;
        mean += out[i];
    }
    mean /= VALUES;
    double mean_abs = 0.0;
    for (int i = 0; i < VALUES; i++) mean_abs += fabs(out[i] - mean);
    mean_abs /= VALUES;
    for (int i = 0; i < VALUES; i++) out[i] = (out[i] - mean) / mean_abs;
}

/* Range of the GCN values over the given training records, in double. */
static void expected_range(const int *records, int n, double *lo, double *hi) {
    static double g[VALUES];
    *lo = INFINITY;
    *hi = -INFINITY;
    for (int k = 0; k < n; k++) {
        expected_gcn(train_records + (size_t)records[k] * RECORD, g);
        for (int j = 0; j < VALUES; j++) {
            *lo = fmin(*lo, g[j]);
            *hi = fmax(*hi, g[j]);
        }
    }
}

/* Check one preprocessed image against a record scaled with (lo, hi). */
static void expect_image(const float *x, const uint8_t *record, double lo, double hi) {
    static double g[VALUES];
    expected_gcn(record, g);
    for (int j = 0; j < VALUES; j++) assert_near(x[j], (g[j] - lo) / (hi - lo), 2e-6);
}

static void expect_empty(const iae_dataset *d) {
    assert_null(d->x);
    assert_null(d->label);
    assert_null(d->cls);
    assert_int_equal(d->n, 0);
}

/* Check the test set: all N_TEST records in file order, label 1 unless
 * normal. */
static void expect_test_set(const iae_dataset *test, int normal, double lo, double hi) {
    assert_int_equal(test->n, N_TEST);
    assert_int_equal(test->c, 3);
    assert_int_equal(test->h, 32);
    assert_int_equal(test->w, 32);
    for (int i = 0; i < N_TEST; i++) {
        const uint8_t *rec = test_records + (size_t)i * RECORD;
        assert_int_equal(test->cls[i], rec[0]);
        assert_int_equal(test->label[i], rec[0] != normal);
        expect_image(test->x + (size_t)i * VALUES, rec, lo, hi);
    }
}

static const int NORMAL_RECORDS[5] = {0, 11, 12, 29, 49};

/* Class 3: five training records across four files; the range comes from
 * their GCN values and both sets use it. */
static void cifar_default_range(void **state) {
    const char *dir = make_dataset("cifar_default");
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    iae_cifar10_options opt = {.dir = dir, .normal_class = 3};
    iae_dataset train;
    iae_dataset test;
    float lo = 0;
    float hi = 0;
    if (iae_cifar10_load(&ctx, &opt, &train, &test, &lo, &hi) != IAE_OK) fail_msg("%s", ctx.error);

    double want_lo = 0;
    double want_hi = 0;
    expected_range(NORMAL_RECORDS, 5, &want_lo, &want_hi);
    assert_near(lo, want_lo, 1e-5 * fabs(want_lo));
    assert_near(hi, want_hi, 1e-5 * fabs(want_hi));

    assert_int_equal(train.n, 5);
    assert_int_equal(train.c, 3);
    assert_int_equal(train.h, 32);
    assert_int_equal(train.w, 32);
    for (int k = 0; k < 5; k++) {
        assert_int_equal(train.cls[k], 3);
        assert_int_equal(train.label[k], 0);
        expect_image(train.x + (size_t)k * VALUES,
                     train_records + (size_t)NORMAL_RECORDS[k] * RECORD, want_lo, want_hi);
    }
    expect_test_set(&test, 3, want_lo, want_hi);
    iae_dataset_free(&train);
    iae_dataset_free(&test);
}

/* Reference normalisation takes class 7's pair from the table; a NULL
 * training set skips it. */
static void cifar_reference_normalization(void **state) {
    const char *dir = make_dataset("cifar_reference");
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    iae_cifar10_options opt = {.dir = dir, .normal_class = 7, .reference_normalization = 1};
    iae_dataset test;
    float lo = 0;
    float hi = 0;
    if (iae_cifar10_load(&ctx, &opt, NULL, &test, &lo, &hi) != IAE_OK) fail_msg("%s", ctx.error);

    const double table_lo = -6.876682005899029;
    const double table_hi = 12.282371383343161;
    assert_near(lo, table_lo, 1e-6);
    assert_near(hi, table_hi, 1e-6);
    expect_test_set(&test, 7, (float)table_lo, (float)table_hi);
    iae_dataset_free(&test);
}

/* A stored range wins over the table and applies to both sets. */
static void cifar_stored_range(void **state) {
    const char *dir = make_dataset("cifar_stored");
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    iae_cifar10_options opt = {.dir = dir, .normal_class = 3, .reference_normalization = 1,
                               .have_minmax = 1, .min = -2.0f, .max = 5.0f};
    iae_dataset train;
    iae_dataset test;
    float lo = 0;
    float hi = 0;
    if (iae_cifar10_load(&ctx, &opt, &train, &test, &lo, &hi) != IAE_OK) fail_msg("%s", ctx.error);
    assert_near(lo, -2.0, 0.0);
    assert_near(hi, 5.0, 0.0);
    assert_int_equal(train.n, 5);
    for (int k = 0; k < 5; k++)
        expect_image(train.x + (size_t)k * VALUES,
                     train_records + (size_t)NORMAL_RECORDS[k] * RECORD, -2.0, 5.0);
    expect_test_set(&test, 3, -2.0, 5.0);
    iae_dataset_free(&train);
    iae_dataset_free(&test);
}

/* Contamination 0.3 with 5 normal images adds int(5 * 0.3 / 0.7) = 2
 * records of other classes. The draw is recomputed here: a partial
 * Fisher-Yates shuffle of the other records in file order, by the
 * contamination stream of the seed. The range covers all 7 images. */
static void cifar_contamination_draw(void **state) {
    const char *dir = make_dataset("cifar_contaminated");
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    iae_cifar10_options opt = {.dir = dir, .normal_class = 3, .contamination = 0.3, .seed = 11};
    iae_dataset train;
    float lo = 0;
    float hi = 0;
    if (iae_cifar10_load(&ctx, &opt, &train, NULL, &lo, &hi) != IAE_OK) fail_msg("%s", ctx.error);
    assert_int_equal(iae_contamination_count(5, 0.3), 2);
    assert_int_equal(train.n, 7);

    int others[N_TRAIN];
    int n_others = 0;
    for (int i = 0; i < N_TRAIN; i++)
        if (train_label(i) != 3) others[n_others++] = i;
    iae_rng rng;
    iae_rng_seed(&rng, 11, IAE_STREAM_CONTAMINATION);
    for (int i = 0; i < 2; i++) {
        int j = i + (int)iae_rng_below(&rng, (uint64_t)(n_others - i));
        int swap = others[i];
        others[i] = others[j];
        others[j] = swap;
    }

    int kept[7];
    memcpy(kept, NORMAL_RECORDS, sizeof(NORMAL_RECORDS));
    kept[5] = others[0];
    kept[6] = others[1];
    double want_lo = 0;
    double want_hi = 0;
    expected_range(kept, 7, &want_lo, &want_hi);
    assert_near(lo, want_lo, 1e-5 * fabs(want_lo));
    assert_near(hi, want_hi, 1e-5 * fabs(want_hi));
    for (int k = 0; k < 7; k++) {
        const uint8_t *rec = train_records + (size_t)kept[k] * RECORD;
        assert_int_equal(train.cls[k], rec[0]);
        assert_int_equal(train.label[k], k >= 5);
        expect_image(train.x + (size_t)k * VALUES, rec, want_lo, want_hi);
    }
    iae_dataset_free(&train);

    /* 0.95 needs int(5 * 0.95 / 0.05) = 94 anomalies (the quotient is
     * 94.999... in double), but there are only 45. */
    opt.contamination = 0.95;
    assert_int_equal(iae_cifar10_load(&ctx, &opt, &train, NULL, NULL, NULL), IAE_ERR_ARGUMENT);
    expect_in_message(&ctx, "needs 94 anomalous training images");
    expect_in_message(&ctx, "only 45");
    expect_empty(&train);
}

/* Load with opt and expect status plus each needle (NULL terminated) in the
 * message, with both sets left empty. */
static void expect_load_error(const iae_cifar10_options *opt, iae_status status, ...) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    iae_dataset train;
    iae_dataset test;
    memset(&train, 0xAB, sizeof(train));
    memset(&test, 0xAB, sizeof(test));
    iae_status st = iae_cifar10_load(&ctx, opt, &train, &test, NULL, NULL);
    if (st != status) fail_msg("status %d, expected %d (%s)", st, status, ctx.error);
    expect_empty(&train);
    expect_empty(&test);

    va_list ap;
    va_start(ap, status);
    for (const char *needle = va_arg(ap, const char *); needle; needle = va_arg(ap, const char *))
        expect_in_message(&ctx, needle);
    va_end(ap);
}

static void cifar_missing_folder(void **state) {
    const char *root = tu_tmpdir("cifar_no_folder");
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/absent", root);
    iae_cifar10_options opt = {.dir = dir, .normal_class = 0};
    expect_load_error(&opt, IAE_ERR_IO, dir, "not found", NULL);
}

/* data_batch_3.bin is missing: the message names it and lists the files
 * the folder needs. A Python-version file next to it adds a hint. */
static void cifar_missing_file(void **state) {
    const char *dir = make_dataset("cifar_missing_file");
    char path[1024];
    snprintf(path, sizeof(path), "%s/data_batch_3.bin", dir);
    if (unlink(path) != 0) fail_msg("cannot remove %s", path);
    iae_cifar10_options opt = {.dir = dir, .normal_class = 0};
    expect_load_error(&opt, IAE_ERR_IO, path, "not found", "test_batch.bin",
                      "binary version", NULL);

    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    tu_write_file(tu_path(dir, "data_batch_1"), "pickle", 6);
    iae_dataset train;
    assert_int_equal(iae_cifar10_load(&ctx, &opt, &train, NULL, NULL, NULL), IAE_ERR_IO);
    expect_in_message(&ctx, "Python version");

    /* Only the test file missing: a test-only load reports it. */
    const char *dir2 = make_dataset("cifar_missing_test");
    snprintf(path, sizeof(path), "%s/test_batch.bin", dir2);
    if (unlink(path) != 0) fail_msg("cannot remove %s", path);
    iae_cifar10_options opt2 = {.dir = dir2, .normal_class = 0, .reference_normalization = 1};
    expect_load_error(&opt2, IAE_ERR_IO, path, "not found", NULL);
}

/* A directory where test_batch.bin should be. */
static void cifar_directory_as_file(void **state) {
    const char *dir = make_dataset("cifar_directory");
    char path[1024];
    snprintf(path, sizeof(path), "%s/test_batch.bin", dir);
    if (unlink(path) != 0 || mkdir(path, 0755) != 0) fail_msg("cannot replace %s", path);
    iae_cifar10_options opt = {.dir = dir, .normal_class = 0};
    expect_load_error(&opt, IAE_ERR_IO, path, "is a directory", "3073-byte records", NULL);

    /* The data folder itself given as a file. */
    char file_dir[1024];
    snprintf(file_dir, sizeof(file_dir), "%s/data_batch_1.bin", dir);
    iae_cifar10_options opt2 = {.dir = file_dir, .normal_class = 0};
    expect_load_error(&opt2, IAE_ERR_IO, file_dir, "not a directory", NULL);
}

/* A FIFO where a batch file should be is rejected without waiting. */
static void cifar_fifo_as_file(void **state) {
    const char *dir = make_dataset("cifar_fifo");
    char path[1024];
    snprintf(path, sizeof(path), "%s/data_batch_2.bin", dir);
    if (unlink(path) != 0 || mkfifo(path, 0644) != 0) fail_msg("cannot replace %s", path);
    iae_cifar10_options opt = {.dir = dir, .normal_class = 0};
    expect_load_error(&opt, IAE_ERR_IO, path, "is a FIFO", NULL);
}

/* A batch file with mode 000 gives "Permission denied". root bypasses
 * permission checks, so the test is skipped when run as root. */
static void cifar_permission_denied(void **state) {
    if (geteuid() == 0) skip();
    const char *dir = make_dataset("cifar_permission");
    char path[1024];
    snprintf(path, sizeof(path), "%s/data_batch_4.bin", dir);
    if (chmod(path, 0) != 0) fail_msg("cannot chmod %s", path);
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    iae_cifar10_options opt = {.dir = dir, .normal_class = 0};
    iae_dataset train;
    iae_status st = iae_cifar10_load(&ctx, &opt, &train, NULL, NULL, NULL);
    chmod(path, 0644);
    assert_int_equal(st, IAE_ERR_IO);
    expect_in_message(&ctx, path);
    expect_in_message(&ctx, "cannot read");
    expect_in_message(&ctx, strerror(EACCES));
    expect_not_in_message(&ctx, "not found");
}

/* An empty file, a file cut in the middle of a record and a file of 3072-byte
 * records (the label byte missing) are rejected by their sizes. */
static void cifar_bad_file_sizes(void **state) {
    const char *dir = make_dataset("cifar_sizes");
    char path[1024];
    iae_cifar10_options opt = {.dir = dir, .normal_class = 0};

    snprintf(path, sizeof(path), "%s/data_batch_5.bin", dir);
    tu_write_file(path, "", 0);
    expect_load_error(&opt, IAE_ERR_FORMAT, path, "is empty", NULL);

    /* 3 records and 100 bytes. */
    tu_write_file(path, train_records, 3 * RECORD + 100);
    expect_load_error(&opt, IAE_ERR_FORMAT, path, "has 9319 bytes", "not a multiple",
                      "3 whole records and 100 bytes more", "truncated", NULL);

    /* 3073 records of 3072 bytes are a whole number of 3073-byte records,
     * so only 3072 records of 3072 bytes show the wrong record size. */
    const char *dir2 = make_dataset("cifar_record_size");
    snprintf(path, sizeof(path), "%s/test_batch.bin", dir2);
    size_t bytes = (size_t)3072 * 3072;
    uint8_t *wrong = calloc(bytes, 1);
    assert_non_null(wrong);
    tu_write_file(path, wrong, bytes);
    free(wrong);
    iae_cifar10_options opt2 = {.dir = dir2, .normal_class = 0};
    expect_load_error(&opt2, IAE_ERR_FORMAT, path, "not a multiple of the 3073-byte record",
                      NULL);
}

/* Label byte 10 in record 4 of data_batch_2.bin. */
static void cifar_label_out_of_range(void **state) {
    const char *dir = make_dataset("cifar_label");
    uint8_t recs[8 * RECORD];
    memcpy(recs, train_records + 12 * RECORD, sizeof(recs));
    recs[4 * RECORD] = 10;
    char path[1024];
    snprintf(path, sizeof(path), "%s/data_batch_2.bin", dir);
    tu_write_file(path, recs, sizeof(recs));
    iae_cifar10_options opt = {.dir = dir, .normal_class = 3};
    expect_load_error(&opt, IAE_ERR_FORMAT, path, "label 10 in record 4",
                      "expected a class from 0 to 9", NULL);

    /* The same in the test file, read only for the test set. */
    const char *dir2 = make_dataset("cifar_test_label");
    uint8_t test_copy[N_TEST * RECORD];
    memcpy(test_copy, test_records, sizeof(test_copy));
    test_copy[(N_TEST - 1) * RECORD] = 255;
    snprintf(path, sizeof(path), "%s/test_batch.bin", dir2);
    tu_write_file(path, test_copy, sizeof(test_copy));
    iae_cifar10_options opt2 = {.dir = dir2, .normal_class = 3};
    expect_load_error(&opt2, IAE_ERR_FORMAT, path, "label 255 in record 29", NULL);
}

/* No training record of class 5 once class 5 is relabelled to 6. */
static void cifar_no_normal_images(void **state) {
    const char *dir = tu_tmpdir("cifar_no_normal");
    uint8_t *copy = malloc(sizeof(train_records));
    assert_non_null(copy);
    memcpy(copy, train_records, sizeof(train_records));
    for (int i = 0; i < N_TRAIN; i++)
        if (copy[(size_t)i * RECORD] == 5) copy[(size_t)i * RECORD] = 6;
    int first = 0;
    for (int k = 0; k < N_FILES; k++) {
        tu_write_file(tu_path(dir, TRAIN_NAMES[k]), copy + (size_t)first * RECORD,
                      (size_t)FILE_RECORDS[k] * RECORD);
        first += FILE_RECORDS[k];
    }
    free(copy);
    tu_write_file(tu_path(dir, "test_batch.bin"), test_records, sizeof(test_records));
    iae_cifar10_options opt = {.dir = dir, .normal_class = 5};
    expect_load_error(&opt, IAE_ERR_FORMAT, "no image of the normal class 5", dir, NULL);
}

static void cifar_invalid_options(void **state) {
    const char *dir = make_dataset("cifar_options");
    iae_cifar10_options opt = {.dir = dir, .normal_class = 10};
    expect_load_error(&opt, IAE_ERR_ARGUMENT, "normal class 10", NULL);
    opt.normal_class = 0;
    opt.contamination = 1.0;
    expect_load_error(&opt, IAE_ERR_ARGUMENT, "contamination 1", NULL);
    opt.contamination = 0.0;
    opt.have_minmax = 1;
    opt.min = 3.0f;
    opt.max = 3.0f;
    expect_load_error(&opt, IAE_ERR_ARGUMENT, "invalid min-max range", NULL);
    iae_cifar10_options none = {.normal_class = 0};
    expect_load_error(&none, IAE_ERR_ARGUMENT, "no data directory", NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cifar_default_range),
        cmocka_unit_test(cifar_reference_normalization),
        cmocka_unit_test(cifar_stored_range),
        cmocka_unit_test(cifar_contamination_draw),
        cmocka_unit_test(cifar_missing_folder),
        cmocka_unit_test(cifar_missing_file),
        cmocka_unit_test(cifar_directory_as_file),
        cmocka_unit_test(cifar_fifo_as_file),
        cmocka_unit_test(cifar_permission_denied),
        cmocka_unit_test(cifar_bad_file_sizes),
        cmocka_unit_test(cifar_label_out_of_range),
        cmocka_unit_test(cifar_no_normal_images),
        cmocka_unit_test(cifar_invalid_options),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
