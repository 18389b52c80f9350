/*
 * Tests of the CSV window loader and the CSV stream on small files written
 * here: the expected windows are built in the test from the values it wrote,
 * with its own min-max scaling, 8-bit truncation and placement.
 */
#include "testutil.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/csv_windows.h"

#define ROWS 40
#define FEATURES 3
#define SIDE 32
#define IMAGE (SIDE * SIDE)

/* The fixture: rows 0..24 and 32..39 are normal, rows 25..31 anomalous, so
 * normal windows straddle the anomalous block. */
static double values[ROWS][FEATURES];
static int labels[ROWS];

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

static int group_setup(void **state) {
    for (int i = 0; i < ROWS; i++) {
        values[i][0] = 10.0 * sin(0.3 * i) + 0.1 * i;
        values[i][1] = (double)((i * i) % 17) * 0.25 - 2.0;
        values[i][2] = 100.0 + 3.0 * cos((double)i);
        labels[i] = i >= 25 && i < 32;
    }
    return 0;
}

/* Append printf-style text to buf, a buffer of size bytes. */
static void append(char *buf, size_t size, const char *fmt, ...) {
    size_t used = strlen(buf);
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(buf + used, size - used, fmt, ap);
    va_end(ap);
    if (len < 0 || (size_t)len >= size - used) fail_msg("test CSV text too long");
}

/* The fixture as CSV text with columns time, f1, frozen, f2, group, f3 (the
 * label in the middle, two columns to drop). crlf selects CRLF line ends,
 * fancy a byte order mark, quoted fields and a trailing empty line. */
static void fixture_csv(char *buf, size_t size, int crlf, int fancy) {
    const char *eol = crlf ? "\r\n" : "\n";
    buf[0] = 0;
    if (fancy)
        append(buf, size, "\xEF\xBB\xBF\"time\",\"f1\",frozen,\"f2\",group,f3%s", eol);
    else
        append(buf, size, "time,f1,frozen,f2,group,f3%s", eol);
    for (int i = 0; i < ROWS; i++) {
        if (fancy)
            append(buf, size, "\"2020-01-01, 00:%02d\",\"%.17g\",%d,%.17g,\"g\"\"%d\", %.17g %s",
                   i, values[i][0], labels[i], values[i][1], i % 3, values[i][2], eol);
        else
            append(buf, size, "2020-01-01 00:%02d,%.17g,%d,%.17g,%d,%.17g%s", i, values[i][0],
                   labels[i], values[i][1], i % 3, values[i][2], eol);
    }
    if (fancy) append(buf, size, "%s", eol);
}

/* Write text to a fresh folder named name; return the file's path. */
static const char *write_csv(const char *name, const char *text) {
    static char path[1024];
    snprintf(path, sizeof(path), "%s/data.csv", tu_tmpdir(name));
    tu_write_file(path, text, strlen(text));
    return path;
}

static const char *write_fixture(const char *name, int crlf, int fancy) {
    static char text[16384];
    fixture_csv(text, sizeof(text), crlf, fancy);
    return write_csv(name, text);
}

/* Per-column minimum and maximum of the fixture over all rows. */
static void fixture_range(double *lo, double *hi) {
    for (int j = 0; j < FEATURES; j++) {
        lo[j] = INFINITY;
        hi[j] = -INFINITY;
        for (int i = 0; i < ROWS; i++) {
            lo[j] = fmin(lo[j], values[i][j]);
            hi[j] = fmax(hi[j], values[i][j]);
        }
    }
}

/* Expected value of x in a column of range (lo, hi): scaled to [0, 1],
 * truncated to an 8-bit level unless exact, divided by 255. */
static float expected_value(double x, double lo, double hi, int exact) {
    if (!(hi > lo)) return 0.0f;
    double scaled = (x - lo) / (hi - lo);
    if (exact) return (float)scaled;
    int level = (int)floor(scaled * 255.0);
    return (float)level / 255.0f;
}

/* Rows of class label, in file order; returns their count. */
static int rows_of(int label, int *rows) {
    int m = 0;
    for (int i = 0; i < ROWS; i++)
        if (labels[i] == label) rows[m++] = i;
    return m;
}

/* Build the expected (h, w) image of the window of n rows rows[0..n). */
static void expected_window(const int *rows, int n, int h, int w, int exact, float *img) {
    double lo[FEATURES], hi[FEATURES];
    fixture_range(lo, hi);
    int top = (h - n) / 2;
    int left = (w - FEATURES) / 2;
    for (int k = 0; k < h * w; k++) img[k] = 0.0f;
    for (int r = 0; r < n; r++)
        for (int j = 0; j < FEATURES; j++)
            img[(top + r) * w + left + j] = expected_value(values[rows[r]][j], lo[j], hi[j], exact);
}

/* Return 1 when the images are equal value for value. */
static int same_image(const float *a, const float *b, int values_per_image) {
    for (int k = 0; k < values_per_image; k++)
        if (a[k] != b[k]) return 0;
    return 1;
}

/* Check that the n_images images of x (each h x w) are exactly windows of
 * rows, starting at multiples of stride, each used once and in any order.
 * found[] marks the windows used. */
static void expect_windows_among(const float *x, int n_images, const int *rows, int n_windows,
                                 int n, int stride, int h, int w, int *found) {
    float *want = malloc(sizeof(float) * (size_t)h * w);
    assert_non_null(want);
    for (int k = 0; k < n_images; k++) {
        int match = -1;
        for (int s = 0; s < n_windows && match < 0; s++) {
            expected_window(rows + s * stride, n, h, w, 0, want);
            if (!found[s] && same_image(x + (size_t)k * h * w, want, h * w)) match = s;
        }
        if (match < 0) fail_msg("image %d matches no unused window", k);
        found[match] = 1;
    }
    free(want);
}

static void load_ok(const iae_csv_windows_options *opt, iae_dataset *train, iae_dataset *test,
                    iae_csv_windows_info *info) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    if (iae_csv_windows_load(&ctx, opt, train, test, info) != IAE_OK) fail_msg("%s", ctx.error);
}

/* ------------------------------------------------------------------------ */
/* Windows and split                                                         */
/* ------------------------------------------------------------------------ */

/* Defaults: N = D = 3, stride 1, the reference's count M - N - 1 per part
 * (33 normal rows give 29 windows, 7 anomalous rows give 3), 30 % of the
 * normal windows in the test set (ceil(8.7) = 9), 32 x 32 output with the
 * window 14 pixels from the top and left. */
static void csv_default_windows(void **state) {
    const char *path = write_fixture("csv_default", 0, 0);
    iae_csv_windows_options opt = {.path = path, .drop_columns = "time,group", .seed = 5};
    iae_dataset train, test;
    iae_csv_windows_info info;
    load_ok(&opt, &train, &test, &info);

    assert_int_equal(info.window_rows, 3);
    assert_int_equal(info.window_cols, 3);
    assert_int_equal(info.stride, 1);
    assert_int_equal(info.n_rows, 40);
    assert_int_equal(info.n_normal_rows, 33);
    assert_int_equal(info.n_anomalous_rows, 7);
    assert_int_equal(info.n_normal_windows, 29);
    assert_int_equal(info.n_anomalous_windows, 3);
    assert_int_equal(info.n_test_normal, 9);
    assert_int_equal(info.n_train, 20);
    assert_int_equal(info.n_constant, 0);
    assert_string_equal(info.note, "");

    /* The scaling lists f1, f2, f3 with their ranges over all 40 rows. */
    double lo[FEATURES], hi[FEATURES];
    fixture_range(lo, hi);
    assert_int_equal(info.scaling.d, 3);
    const char *names[FEATURES] = {"f1", "f2", "f3"};
    for (int j = 0; j < FEATURES; j++) {
        assert_string_equal(info.scaling.names[j], names[j]);
        assert_near(info.scaling.min[j], lo[j], 0.0);
        assert_near(info.scaling.max[j], hi[j], 0.0);
    }

    assert_int_equal(train.n, 20);
    assert_int_equal(train.c, 1);
    assert_int_equal(train.h, SIDE);
    assert_int_equal(train.w, SIDE);
    assert_int_equal(test.n, 9 + 3);
    for (int k = 0; k < train.n; k++) {
        assert_int_equal(train.label[k], 0);
        assert_int_equal(train.cls[k], 0);
    }
    for (int k = 0; k < test.n; k++) {
        assert_int_equal(test.label[k], k >= 9);
        assert_int_equal(test.cls[k], k >= 9);
    }

    /* Every normal window is in exactly one of the two sets. */
    int normal_rows[ROWS];
    int m = rows_of(0, normal_rows);
    assert_int_equal(m, 33);
    int found[ROWS] = {0};
    expect_windows_among(train.x, train.n, normal_rows, 29, 3, 1, SIDE, SIDE, found);
    expect_windows_among(test.x, 9, normal_rows, 29, 3, 1, SIDE, SIDE, found);
    for (int s = 0; s < 29; s++) assert_int_equal(found[s], 1);

    /* The anomalous windows follow in time order: rows 25-27, 26-28, 27-29. */
    int anomalous_rows[ROWS];
    assert_int_equal(rows_of(1, anomalous_rows), 7);
    float want[IMAGE];
    for (int k = 0; k < 3; k++) {
        expected_window(anomalous_rows + k, 3, SIDE, SIDE, 0, want);
        assert_true(same_image(test.x + (size_t)(9 + k) * IMAGE, want, IMAGE));
    }

    /* The same seed gives the same split, another seed another order. */
    iae_dataset train2, test2;
    load_ok(&opt, &train2, &test2, NULL);
    assert_memory_equal(train.x, train2.x, sizeof(float) * (size_t)train.n * IMAGE);
    assert_memory_equal(test.x, test2.x, sizeof(float) * (size_t)test.n * IMAGE);
    iae_dataset_free(&train2);
    iae_dataset_free(&test2);
    opt.seed = 6;
    load_ok(&opt, &train2, NULL, NULL);
    assert_int_equal(train2.n, 20);
    assert_true(memcmp(train.x, train2.x, sizeof(float) * (size_t)train.n * IMAGE) != 0);
    iae_dataset_free(&train2);

    iae_dataset_free(&train);
    iae_dataset_free(&test);
    iae_csv_windows_info_free(&info);
    assert_null(info.scaling.names);
}

/* A byte order mark, CRLF line ends, quoted fields (with commas, "" and
 * numbers in quotes), blanks around a number and a trailing empty line give
 * the same windows as the plain file. */
static void csv_format_variants(void **state) {
    iae_csv_windows_options opt = {.path = write_fixture("csv_plain", 0, 0),
                                   .drop_columns = " time , group ", .seed = 9};
    iae_dataset train, test;
    load_ok(&opt, &train, &test, NULL);

    opt.path = write_fixture("csv_fancy", 1, 1);
    iae_dataset train2, test2;
    iae_csv_windows_info info;
    load_ok(&opt, &train2, &test2, &info);
    assert_string_equal(info.scaling.names[0], "f1");
    assert_int_equal(train2.n, train.n);
    assert_int_equal(test2.n, test.n);
    assert_memory_equal(train.x, train2.x, sizeof(float) * (size_t)train.n * IMAGE);
    assert_memory_equal(test.x, test2.x, sizeof(float) * (size_t)test.n * IMAGE);
    iae_dataset_free(&train), iae_dataset_free(&test);
    iae_dataset_free(&train2), iae_dataset_free(&test2);
    iae_csv_windows_info_free(&info);

    /* A quoted header name with a comma, a "" escape and a line break. */
    const char *text = "\"a,\"\"b\"\"\nc\",y\r\n1,0\r\n2,0\r\n3,0\r\n4,1\r\n";
    iae_csv_windows_options opt2 = {.path = write_csv("csv_quoted_header", text),
                                    .label_column = "y", .window_rows = 1, .all_windows = 1};
    load_ok(&opt2, NULL, NULL, &info);
    assert_string_equal(info.scaling.names[0], "a,\"b\"\nc");
    assert_int_equal(info.n_rows, 4);
    assert_int_equal(info.n_normal_windows, 3);
    iae_csv_windows_info_free(&info);
}

/* all_windows with N = 4 and stride 2 keeps every fitting window:
 * (33 - 4) / 2 + 1 = 15 normal and (7 - 4) / 2 + 1 = 2 anomalous, whose
 * rows start 0 and 2 in the anomalous part. An 8 x 6 output puts the
 * 4 x 3 window 2 rows down and 1 column in. */
static void csv_stride_and_all_windows(void **state) {
    iae_csv_windows_options opt = {.path = write_fixture("csv_stride", 0, 0),
                                   .drop_columns = "time,group", .window_rows = 4, .stride = 2,
                                   .all_windows = 1, .out_h = 8, .out_w = 6, .test_fraction = 0.5};
    iae_dataset train, test;
    iae_csv_windows_info info;
    load_ok(&opt, &train, &test, &info);
    assert_int_equal(info.n_normal_windows, 15);
    assert_int_equal(info.n_anomalous_windows, 2);
    assert_int_equal(info.n_test_normal, 8);
    assert_int_equal(train.n, 7);
    assert_int_equal(test.n, 10);
    assert_int_equal(test.h, 8);
    assert_int_equal(test.w, 6);

    int normal_rows[ROWS];
    rows_of(0, normal_rows);
    int found[ROWS] = {0};
    expect_windows_among(train.x, 7, normal_rows, 15, 4, 2, 8, 6, found);
    expect_windows_among(test.x, 8, normal_rows, 15, 4, 2, 8, 6, found);

    int anomalous_rows[ROWS];
    rows_of(1, anomalous_rows);
    float want[48];
    for (int k = 0; k < 2; k++) {
        expected_window(anomalous_rows + 2 * k, 4, 8, 6, 0, want);
        assert_true(same_image(test.x + (size_t)(8 + k) * 48, want, 48));
    }
    /* The window starts 2 rows down and 1 column in: row 1 is all zeros. */
    for (int c = 0; c < 6; c++) assert_true(test.x[8 * 48 + 1 * 6 + c] == 0.0f);
    assert_true(test.x[8 * 48 + 2 * 6 + 0] == 0.0f);

    /* The reference's count at stride 2: starts 0, 2, .., below 33 - 4 = 29
     * are 15, minus the last: 14. */
    opt.all_windows = 0;
    iae_csv_windows_info info2;
    load_ok(&opt, NULL, NULL, &info2);
    assert_int_equal(info2.n_normal_windows, 14);
    assert_int_equal(info2.n_anomalous_windows, 1);
    iae_dataset_free(&train), iae_dataset_free(&test);
    iae_csv_windows_info_free(&info);
    iae_csv_windows_info_free(&info2);
}

/* skip_quantization keeps the min-max values as floats. */
static void csv_skip_quantization(void **state) {
    iae_csv_windows_options opt = {.path = write_fixture("csv_exact", 0, 0),
                                   .drop_columns = "time,group", .skip_quantization = 1};
    iae_dataset test;
    load_ok(&opt, NULL, &test, NULL);
    int anomalous_rows[ROWS];
    rows_of(1, anomalous_rows);
    float want[IMAGE];
    expected_window(anomalous_rows, 3, SIDE, SIDE, 1, want);
    const float *got = test.x + (size_t)(test.n - 3) * IMAGE;
    for (int k = 0; k < IMAGE; k++) assert_near(got[k], want[k], 0.0);
    /* Some value is not a multiple of 1/255, or the test shows nothing. */
    int off_grid = 0;
    for (int k = 0; k < IMAGE; k++) off_grid |= fabs(want[k] * 255.0 - round(want[k] * 255.0)) > 1e-3;
    assert_true(off_grid);
    iae_dataset_free(&test);
}

/* A constant column maps to 0 and is named in the note. */
static void csv_constant_column(void **state) {
    char text[4096] = "";
    append(text, sizeof(text), "a,same,frozen\n");
    for (int i = 0; i < 12; i++) append(text, sizeof(text), "%d,7.5,%d\n", i * i, i >= 9);
    iae_csv_windows_options opt = {.path = write_csv("csv_constant", text)};
    iae_dataset train, test;
    iae_csv_windows_info info;
    load_ok(&opt, &train, &test, &info);
    assert_int_equal(info.n_constant, 1);
    assert_non_null(strstr(info.note, "'same'"));
    assert_near(info.scaling.min[1], 7.5, 0.0);
    assert_near(info.scaling.max[1], 7.5, 0.0);
    /* N = D = 2: column 1 of every window (index 15 + 1 across) is 0, and
     * column 0 contains a scaled from 0..121. */
    for (int k = 0; k < train.n; k++) {
        const float *img = train.x + (size_t)k * IMAGE;
        for (int r = 15; r < 17; r++) {
            assert_true(img[r * SIDE + 16] == 0.0f);
            float v = img[r * SIDE + 15];
            assert_true(v >= 0.0f && v <= 1.0f);
        }
    }
    /* 9 normal rows give 9 - 2 - 1 = 6 windows, 3 anomalous rows none. */
    assert_int_equal(info.n_normal_windows, 6);
    assert_int_equal(info.n_anomalous_windows, 0);
    assert_int_equal(test.n, 2);
    iae_dataset_free(&train), iae_dataset_free(&test);
    iae_csv_windows_info_free(&info);
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

/* Load opt and expect status plus each needle (NULL terminated) in the
 * message, with every output left empty. */
static void expect_load_error(const iae_csv_windows_options *opt, iae_status status, ...) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    iae_dataset train, test;
    iae_csv_windows_info info;
    memset(&train, 0xAB, sizeof(train));
    memset(&test, 0xAB, sizeof(test));
    memset(&info, 0xAB, sizeof(info));
    iae_status st = iae_csv_windows_load(&ctx, opt, &train, &test, &info);
    if (st != status) fail_msg("status %d, expected %d (%s)", st, status, ctx.error);
    assert_null(train.x);
    assert_null(test.x);
    assert_int_equal(train.n, 0);
    assert_int_equal(test.n, 0);
    assert_null(info.scaling.names);
    assert_int_equal(info.n_rows, 0);

    va_list ap;
    va_start(ap, status);
    for (const char *needle = va_arg(ap, const char *); needle; needle = va_arg(ap, const char *))
        expect_in_message(&ctx, needle);
    va_end(ap);
}

/* Write text as a CSV file and expect the load to fail with needles. */
#define EXPECT_TEXT_ERROR(name, text, ...)                                      \
    do {                                                                        \
        iae_csv_windows_options o_ = {.path = write_csv(name, text)};           \
        expect_load_error(&o_, IAE_ERR_FORMAT, o_.path, __VA_ARGS__, NULL);     \
    } while (0)

static void csv_file_errors(void **state) {
    const char *dir = tu_tmpdir("csv_files");
    char path[1024];
    snprintf(path, sizeof(path), "%s/absent.csv", dir);
    iae_csv_windows_options opt = {.path = path};
    expect_load_error(&opt, IAE_ERR_IO, path, "not found", NULL);

    if (mkdir(path, 0755) != 0) fail_msg("cannot create %s", path);
    expect_load_error(&opt, IAE_ERR_IO, path, "is a directory", NULL);

    snprintf(path, sizeof(path), "%s/empty.csv", dir);
    tu_write_file(path, "", 0);
    expect_load_error(&opt, IAE_ERR_FORMAT, path, "is empty", NULL);

    /* A NUL byte would cut the cell "12" short. */
    snprintf(path, sizeof(path), "%s/nul.csv", dir);
    tu_write_file(path, "a,frozen\n12\0x,0\n", 16);
    expect_load_error(&opt, IAE_ERR_FORMAT, path, "NUL byte at offset 11", NULL);

    iae_csv_windows_options none = {0};
    expect_load_error(&none, IAE_ERR_ARGUMENT, "no CSV file", NULL);
}

/* A file with mode 000 gives "Permission denied". root bypasses permission
 * checks, so the test is skipped when run as root. */
static void csv_permission_denied(void **state) {
    if (geteuid() == 0) skip();
    const char *path = write_fixture("csv_permission", 0, 0);
    if (chmod(path, 0) != 0) fail_msg("cannot chmod %s", path);
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    iae_csv_windows_options opt = {.path = path};
    iae_dataset train;
    iae_status st = iae_csv_windows_load(&ctx, &opt, &train, NULL, NULL);
    chmod(path, 0644);
    assert_int_equal(st, IAE_ERR_IO);
    expect_in_message(&ctx, path);
    expect_in_message(&ctx, strerror(EACCES));
}

static void csv_structure_errors(void **state) {
    EXPECT_TEXT_ERROR("csv_blank", "\n\r\n\n", "no header row");
    EXPECT_TEXT_ERROR("csv_header_only", "a,b,frozen\r\n", "no data rows");
    EXPECT_TEXT_ERROR("csv_fields", "a,b,frozen\n1,2,0\n1,2\n", "line 3: 2 fields",
                      "header has 3");
    EXPECT_TEXT_ERROR("csv_unterminated", "a,b,frozen\n1,2,0\n1,\"2,0\n3,4,0\n",
                      "line 3: the quoted field 2 is not closed");
    EXPECT_TEXT_ERROR("csv_after_quote", "a,b,frozen\n1,\"2\"x,0\n",
                      "line 2: unexpected character 'x' after the closing quote of field 2");
    EXPECT_TEXT_ERROR("csv_duplicate", "a,b,a,frozen\n1,2,3,0\n", "column 'a' twice",
                      "columns 1 and 3");
    EXPECT_TEXT_ERROR("csv_no_label", "a,b,Frozen\n1,2,0\n", "no label column 'frozen'",
                      "the columns found are 'a', 'b', 'Frozen'");
    EXPECT_TEXT_ERROR("csv_only_label", "frozen\n0\n1\n", "no feature column left");
}

static void csv_cell_errors(void **state) {
    EXPECT_TEXT_ERROR("csv_empty_cell", "a,b,frozen\n1,2,0\n3,,0\n",
                      "line 3, column 2 ('b'): missing value (empty cell)");
    EXPECT_TEXT_ERROR("csv_blank_cell", "a,b,frozen\n1,2,0\n3,\" \",0\n",
                      "line 3, column 2 ('b'): missing value");
    EXPECT_TEXT_ERROR("csv_text_cell", "a,b,frozen\r\n1,2,0\r\n3,abc,0\r\n",
                      "line 3, column 2 ('b'): 'abc' is not a decimal number");
    EXPECT_TEXT_ERROR("csv_nan_cell", "a,b,frozen\n1,nan,0\n", "'nan' is not a decimal number");
    EXPECT_TEXT_ERROR("csv_hex_cell", "a,b,frozen\n1,0x10,0\n", "'0x10' is not a decimal");
    EXPECT_TEXT_ERROR("csv_huge_cell", "a,b,frozen\n1,1e999,0\n",
                      "'1e999' is outside the range of double");
    EXPECT_TEXT_ERROR("csv_comma_decimal", "a,b,frozen\n1,\"2,5\",0\n", "'2,5' is not a decimal");
    EXPECT_TEXT_ERROR("csv_label_2", "a,b,frozen\n1,2,0\n1,2,2\n",
                      "line 3, column 3: label 'frozen' is 2; expected 0 (normal) or 1");
    EXPECT_TEXT_ERROR("csv_label_empty", "a,b,frozen\n1,2,\n",
                      "line 2, column 3 ('frozen'): missing value");
    /* A quoted header name spanning lines 1 to 3 moves the line count on. */
    EXPECT_TEXT_ERROR("csv_multiline", "\"a\n\nz\",b,frozen\n1,2,0\n1,x,0\n",
                      "line 5, column 2 ('b'): 'x'");
}

static void csv_option_errors(void **state) {
    const char *path = write_fixture("csv_options", 0, 0);
    iae_csv_windows_options opt = {.path = path, .drop_columns = "time,grp"};
    expect_load_error(&opt, IAE_ERR_FORMAT, "no column 'grp' to drop",
                      "'time', 'f1', 'frozen', 'f2', 'group', 'f3'", NULL);

    opt.drop_columns = "time,group,frozen";
    expect_load_error(&opt, IAE_ERR_ARGUMENT, "label column 'frozen' is also in the columns",
                      NULL);

    /* Dropped text columns are never parsed; kept ones are. */
    opt.drop_columns = "group";
    expect_load_error(&opt, IAE_ERR_FORMAT, "column 1 ('time')", "not a decimal number", NULL);

    /* Window larger than the output: N = 3, D = 3 in 2 x 32, then 32 x 2. */
    opt.drop_columns = "time,group";
    opt.out_h = 2;
    expect_load_error(&opt, IAE_ERR_ARGUMENT, "window of 3 rows x 3 feature columns",
                      "does not fit in the 2 x 32 output image", NULL);
    opt.out_h = 0;
    opt.out_w = 2;
    expect_load_error(&opt, IAE_ERR_ARGUMENT, "does not fit in the 32 x 2 output image", NULL);
    opt.out_w = 0;
    opt.window_rows = 33;
    expect_load_error(&opt, IAE_ERR_ARGUMENT, "window of 33 rows", NULL);

    /* 33 normal rows and windows of 31 rows: 33 - 31 - 1 = 1 window, and
     * ceil(0.3) = 1 goes to the test set, none to training. */
    opt.window_rows = 31;
    opt.out_h = 32;
    expect_load_error(&opt, IAE_ERR_FORMAT, "the 33 normal rows give 1 normal window of 31 rows",
                      "too few", NULL);

    opt.window_rows = -1;
    expect_load_error(&opt, IAE_ERR_ARGUMENT, "invalid window settings", NULL);
    opt.window_rows = 0;
    opt.test_fraction = 1.0;
    expect_load_error(&opt, IAE_ERR_ARGUMENT, "test fraction 1", NULL);
}

/* ------------------------------------------------------------------------ */
/* Streaming                                                                 */
/* ------------------------------------------------------------------------ */

/* The stream, given the loader's scaling and a header in another column
 * order with an extra column, turns the anomalous rows into the same
 * windows as the loader, sliding by one row. */
static void csv_stream_matches_loader(void **state) {
    iae_csv_windows_options opt = {.path = write_fixture("csv_stream", 0, 0),
                                   .drop_columns = "time,group"};
    iae_dataset test;
    iae_csv_windows_info info;
    load_ok(&opt, NULL, &test, &info);

    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    iae_csv_stream s;
    if (iae_csv_stream_init(&ctx, &s, &info.scaling, 0, 0, 0, 0) != IAE_OK)
        fail_msg("%s", ctx.error);

    float window[IMAGE];
    int ready = 1;
    const char *header[4] = {"f3", "note", "f2", "f1"};
    assert_int_equal(iae_csv_stream_push(&ctx, &s, header, 4, 1, window, &ready), IAE_OK);
    assert_int_equal(ready, 0);

    int anomalous_rows[ROWS];
    int m = rows_of(1, anomalous_rows);
    float want[IMAGE];
    for (int k = 0; k < m; k++) {
        const double *v = values[anomalous_rows[k]];
        char f1[32], f2[32], f3[32];
        snprintf(f1, sizeof(f1), "%.17g", v[0]);
        snprintf(f2, sizeof(f2), "%.17g", v[1]);
        snprintf(f3, sizeof(f3), "%.17g", v[2]);
        const char *row[4] = {f3, "any text", f2, f1};
        if (iae_csv_stream_push(&ctx, &s, row, 4, 2 + k, window, &ready) != IAE_OK)
            fail_msg("%s", ctx.error);
        assert_int_equal(ready, k >= 2);
        if (!ready) continue;
        expected_window(anomalous_rows + k - 2, 3, SIDE, SIDE, 0, want);
        assert_true(same_image(window, want, IMAGE));
        /* The loader keeps the first 3 of these 5 windows. */
        if (k - 2 < 3)
            assert_true(same_image(window, test.x + (size_t)(test.n - 3 + k - 2) * IMAGE, IMAGE));
    }
    iae_csv_stream_free(&s);
    iae_dataset_free(&test);
    iae_csv_windows_info_free(&info);
}

/* Lines of text with a byte order mark and CRLF. A bad row leaves the ring
 * as it was, values outside the range are clamped to 0 and 1, and blank
 * lines are ignored. A missing column and a broken record are errors. */
static void csv_stream_lines(void **state) {
    double min[2] = {0.0, 10.0};
    double max[2] = {1.0, 20.0};
    char *names[2] = {"x", "y"};
    iae_csv_scaling scaling = {.d = 2, .names = names, .min = min, .max = max};
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    iae_csv_stream s;
    if (iae_csv_stream_init(&ctx, &s, &scaling, 2, 4, 4, 0) != IAE_OK) fail_msg("%s", ctx.error);

    float window[16];
    int ready = 0;
    const char *header = "\xEF\xBB\xBFy,\"x\"\r\n";
    assert_int_equal(iae_csv_stream_push_line(&ctx, &s, header, strlen(header), 1, window, &ready),
                     IAE_OK);
    const char *first = "15,0.5\r\n";
    assert_int_equal(iae_csv_stream_push_line(&ctx, &s, first, strlen(first), 2, window, &ready),
                     IAE_OK);
    assert_int_equal(ready, 0);

    const char *bad = "15,oops\n";
    assert_int_equal(iae_csv_stream_push_line(&ctx, &s, bad, strlen(bad), 3, window, &ready),
                     IAE_ERR_FORMAT);
    expect_in_message(&ctx, "line 3, column 2 ('x'): 'oops'");
    assert_int_equal(iae_csv_stream_push_line(&ctx, &s, "\r\n", 2, 4, window, &ready), IAE_OK);
    assert_int_equal(ready, 0);

    /* x = 2 is above max 1 and y = 5 below min 10. */
    const char *second = "5,2\n";
    assert_int_equal(iae_csv_stream_push_line(&ctx, &s, second, strlen(second), 5, window, &ready),
                     IAE_OK);
    assert_int_equal(ready, 1);
    /* 2 x 2 window at row 1, column 1 of 4 x 4: (x, y) per row. */
    float want[16] = {0};
    want[1 * 4 + 1] = (float)(int)(0.5 * 255.0) / 255.0f;
    want[1 * 4 + 2] = (float)(int)(0.5 * 255.0) / 255.0f;
    want[2 * 4 + 1] = 1.0f;
    want[2 * 4 + 2] = 0.0f;
    for (int k = 0; k < 16; k++) assert_near(window[k], want[k], 0.0);

    const char *short_row = "5\n";
    assert_int_equal(
        iae_csv_stream_push_line(&ctx, &s, short_row, strlen(short_row), 6, window, &ready),
        IAE_ERR_FORMAT);
    expect_in_message(&ctx, "line 6: 1 field, but the header has 2");
    const char *two = "1,0\n2,0";
    assert_int_equal(iae_csv_stream_push_line(&ctx, &s, two, strlen(two), 7, window, &ready),
                     IAE_ERR_FORMAT);
    expect_in_message(&ctx, "line break outside quotes");
    iae_csv_stream_free(&s);

    /* A header without y lists the columns it has. */
    if (iae_csv_stream_init(&ctx, &s, &scaling, 2, 4, 4, 0) != IAE_OK) fail_msg("%s", ctx.error);
    const char *other = "x,z\n";
    assert_int_equal(iae_csv_stream_push_line(&ctx, &s, other, strlen(other), 1, window, &ready),
                     IAE_ERR_FORMAT);
    expect_in_message(&ctx, "no column 'y'");
    expect_in_message(&ctx, "the columns found are 'x', 'z'");
    iae_csv_stream_free(&s);

    /* A window that does not fit. */
    assert_int_equal(iae_csv_stream_init(&ctx, &s, &scaling, 5, 4, 4, 0), IAE_ERR_ARGUMENT);
    expect_in_message(&ctx, "does not fit in the 4 x 4 output image");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csv_default_windows),
        cmocka_unit_test(csv_format_variants),
        cmocka_unit_test(csv_stride_and_all_windows),
        cmocka_unit_test(csv_skip_quantization),
        cmocka_unit_test(csv_constant_column),
        cmocka_unit_test(csv_file_errors),
        cmocka_unit_test(csv_permission_denied),
        cmocka_unit_test(csv_structure_errors),
        cmocka_unit_test(csv_cell_errors),
        cmocka_unit_test(csv_option_errors),
        cmocka_unit_test(csv_stream_matches_loader),
        cmocka_unit_test(csv_stream_lines),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
