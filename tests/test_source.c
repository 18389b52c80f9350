/*
 * Data sources. The "data_*" lines that model files store round-trip every
 * kind exactly, and malformed lines are rejected with a message naming the
 * model file and the line. Model files carry the lines through a save and a
 * load. The CSV loader preprocesses with a stored scaling.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/source.h"
#include "io/model_file.h"
#include "testutil.h"

/* Settings of a trained model of data set kind. */
static iae_detector_info info_for(const char *kind) {
    iae_detector_info info = {0};
    info.net = iae_lenet_config(1, 0, 1);
    info.model = IAE_MODEL_DCAE_SVDD;
    snprintf(info.dataset, sizeof(info.dataset), "%s", kind);
    info.normal_class = 2;
    info.norm_min = 0.0f, info.norm_max = 1.0f;
    info.seed = 11, info.batch_size = 8;
    return info;
}

/* A CSV scaling of three columns whose names need escaping. */
static void fill_csv(iae_data_source *src) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    iae_csv_scaling tmp = {.d = 3};
    char *names[3] = {"wind speed", "p%=1", "t\tC"};
    double lo[3] = {-1.0 / 3.0, 0.0, 1e-300}, hi[3] = {2.0 / 3.0, 0.0, 1e300};
    tmp.names = names, tmp.min = lo, tmp.max = hi;
    assert_int_equal(iae_csv_scaling_copy(&ctx, &tmp, &src->csv), IAE_OK);
}

static void check_same(const iae_data_source *a, const iae_data_source *b) {
    assert_int_equal(a->kind, b->kind);
    assert_string_equal(a->data, b->data);
    assert_string_equal(a->train_dir, b->train_dir);
    assert_string_equal(a->test_normal_dir, b->test_normal_dir);
    assert_string_equal(a->test_anomalous_dir, b->test_anomalous_dir);
    assert_string_equal(a->category, b->category);
    assert_int_equal(a->image_size, b->image_size);
    assert_int_equal(a->channels, b->channels);
    assert_int_equal(a->csv.d, b->csv.d);
    for (int j = 0; j < a->csv.d; j++) {
        assert_string_equal(a->csv.names[j], b->csv.names[j]);
        assert_true(a->csv.min[j] == b->csv.min[j]);
        assert_true(a->csv.max[j] == b->csv.max[j]);
    }
    if (a->kind == IAE_SOURCE_CSV_WINDOWS) {
        assert_int_equal(a->window_rows, b->window_rows);
        assert_int_equal(a->stride, b->stride);
        assert_string_equal(a->label_column, b->label_column);
        assert_string_equal(a->drop_columns, b->drop_columns);
    }
}

static void source_lines_round_trip(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    for (int k = 0; k < IAE_N_SOURCE_KINDS; k++) {
        iae_data_source src;
        iae_data_source_init(&src, (iae_source_kind)k);
        snprintf(src.data, sizeof(src.data), "/data/with space/and=equals%%/%s", iae_source_kind_name(src.kind));
        if (k == IAE_SOURCE_FOLDER) {
            src.data[0] = 0;
            snprintf(src.train_dir, sizeof(src.train_dir), "/imgs/train\nline");
            snprintf(src.test_normal_dir, sizeof(src.test_normal_dir), "/imgs/ok");
            snprintf(src.test_anomalous_dir, sizeof(src.test_anomalous_dir), "/imgs/bad");
            src.image_size = 64;
        }
        if (k == IAE_SOURCE_MVTEC) snprintf(src.category, sizeof(src.category), "metal_nut");
        if (k == IAE_SOURCE_CSV_WINDOWS) {
            snprintf(src.label_column, sizeof(src.label_column), "frozen");
            snprintf(src.drop_columns, sizeof(src.drop_columns), "time,group");
            src.window_rows = 3, src.stride = 2;
            fill_csv(&src);
        }
        char *text = iae_data_source_format(&ctx, &src);
        assert_non_null(text);
        assert_null(strchr(text, '\t'));
        iae_detector_info info = info_for(iae_source_kind_name(src.kind));
        iae_data_source back;
        if (iae_data_source_from_model(&ctx, "m.iae", &info, text, &back) != IAE_OK)
            fail_msg("%s: %s\n%s", iae_source_kind_name(src.kind), ctx.error, text);
        check_same(&src, &back);
        assert_int_equal(back.normal_class, 2);
        assert_int_equal(back.seed, 11);
        iae_data_source_free(&back);
        iae_data_source_free(&src);
        iae_free(text);
    }
}

static void expect_rejected(const char *kind, const char *text, const char *needle) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    iae_detector_info info = info_for(kind);
    iae_data_source src;
    if (iae_data_source_from_model(&ctx, "bad.iae", &info, text, &src) == IAE_OK)
        fail_msg("accepted:\n%s", text);
    if (strstr(ctx.error, "bad.iae") == NULL || strstr(ctx.error, needle) == NULL)
        fail_msg("message '%s' lacks 'bad.iae' or '%s'", ctx.error, needle);
}

static void source_lines_rejected(void **state) {
    const char *csv_head = "data_kind=csv-windows\ndata_path=/x.csv\ndata_window=2\ndata_stride=1\n";
    char text[1024];
    expect_rejected("cifar10", "data_kind=imagenet\n", "data_kind=imagenet");
    expect_rejected("cifar10", "data_kind=cifar10\ndata_path=/a%2\n", "data_path=/a%2");
    expect_rejected("cifar10", "data_kind=cifar10\ndata_path=/a%00b\n", "data_path");
    expect_rejected("cifar10", "data_path=/a\n", "data_kind");
    expect_rejected("mvtec", "data_kind=cifar10\ndata_path=/a\n", "disagrees");
    expect_rejected("cifar10", "data_kind=cifar10\n", "--data");
    expect_rejected("folder", "data_kind=folder\ndata_train=/a\ndata_test_normal=/b\ndata_test_anomalous=/c\n"
                              "data_image_size=48\n",
                    "data_image_size=48");
    expect_rejected("folder", "data_kind=folder\ndata_train=/a\ndata_test_normal=/b\ndata_test_anomalous=/c\n"
                              "data_image_size=64\ndata_channels=1\n",
                    "3 channels");
    snprintf(text, sizeof(text), "%sdata_window=0\n", csv_head);
    expect_rejected("csv-windows", text, "data_window=0");
    snprintf(text, sizeof(text), "%sdata_csv_columns=2\ndata_csv_column=a 0 1\n", csv_head);
    expect_rejected("csv-windows", text, "1 of 2 columns");
    snprintf(text, sizeof(text), "%sdata_csv_columns=2\ndata_csv_column=a 0 1\ndata_csv_column=a 0 2\n", csv_head);
    expect_rejected("csv-windows", text, "'a' appears twice");
    snprintf(text, sizeof(text), "%sdata_csv_columns=1\ndata_csv_column=a 2 1\n", csv_head);
    expect_rejected("csv-windows", text, "data_csv_column=a 2 1");
    snprintf(text, sizeof(text), "%sdata_csv_columns=1\ndata_csv_column=a 0 nan\n", csv_head);
    expect_rejected("csv-windows", text, "data_csv_column=a 0 nan");
    snprintf(text, sizeof(text), "%sdata_csv_column=a 0 1\n", csv_head);
    expect_rejected("csv-windows", text, "data_csv_column=a 0 1");

    /* A model without data lines is Fashion-MNIST, or it is damaged. */
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    iae_data_source src;
    iae_detector_info info = info_for("fashion-mnist");
    assert_int_equal(iae_data_source_from_model(&ctx, "old.iae", &info, NULL, &src), IAE_OK);
    assert_int_equal(src.kind, IAE_SOURCE_FASHION_MNIST);
    assert_int_equal(src.normal_class, 2);
    expect_rejected("cifar10", NULL, "without data source settings");
}

static iae_detector *small_detector(iae_ctx *ctx, const char *kind) {
    iae_detector_info info = info_for(kind);
    iae_detector *d = NULL;
    assert_int_equal(iae_detector_create(ctx, &info, 8, &d), IAE_OK);
    iae_rng rng;
    iae_rng_seed(&rng, 3, 2);
    assert_int_equal(iae_net_init_params(ctx, d->net, &rng), IAE_OK);
    return d;
}

static void model_file_keeps_source(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    const char *dir = tu_tmpdir("source-model");
    const char *path = tu_path(dir, "m.iae");

    /* A long CSV scaling survives a save and a load, byte for byte. */
    iae_data_source src;
    iae_data_source_init(&src, IAE_SOURCE_CSV_WINDOWS);
    snprintf(src.data, sizeof(src.data), "/logs/turbine.csv");
    snprintf(src.label_column, sizeof(src.label_column), "frozen");
    src.window_rows = 26, src.stride = 1;
    iae_csv_scaling tmp = {.d = 26};
    char *names[26], name_text[26][600];
    double lo[26], hi[26];
    for (int j = 0; j < 26; j++) {
        memset(name_text[j], 'a' + j, 590); /* longer than a config line of 512 bytes */
        name_text[j][590] = 0;
        names[j] = name_text[j];
        lo[j] = -j / 7.0, hi[j] = j * 3.1;
    }
    tmp.names = names, tmp.min = lo, tmp.max = hi;
    assert_int_equal(iae_csv_scaling_copy(&ctx, &tmp, &src.csv), IAE_OK);
    iae_detector *d = small_detector(&ctx, "csv-windows");
    d->data_config = iae_data_source_format(&ctx, &src);
    assert_non_null(d->data_config);
    assert_int_equal(iae_model_save(&ctx, d, path), IAE_OK);
    iae_detector *back = NULL;
    if (iae_model_load(&ctx, path, 0, &back) != IAE_OK) fail_msg("%s", ctx.error);
    assert_non_null(back->data_config);
    assert_string_equal(back->data_config, d->data_config);
    iae_data_source loaded;
    assert_int_equal(iae_data_source_from_model(&ctx, path, &back->info, back->data_config, &loaded), IAE_OK);
    check_same(&src, &loaded);
    iae_data_source_free(&loaded);
    iae_detector_free(back);

    /* A malformed line fails the load and names it. */
    iae_free(d->data_config);
    const char *bad = "data_kind=csv-windows\ndata_path=/x.csv\ndata_window=two\n";
    d->data_config = iae_alloc(&ctx, strlen(bad) + 1, "test");
    strcpy(d->data_config, bad);
    assert_int_equal(iae_model_save(&ctx, d, path), IAE_OK);
    assert_int_not_equal(iae_model_load(&ctx, path, 0, &back), IAE_OK);
    assert_null(back);
    if (strstr(ctx.error, "data_window=two") == NULL || strstr(ctx.error, path) == NULL)
        fail_msg("message: %s", ctx.error);
    iae_detector_free(d);
    iae_data_source_free(&src);

    /* Without lines: a Fashion-MNIST model as older versions wrote it. */
    d = small_detector(&ctx, "fashion-mnist");
    assert_int_equal(iae_model_save(&ctx, d, path), IAE_OK);
    assert_int_equal(iae_model_load(&ctx, path, 0, &back), IAE_OK);
    assert_null(back->data_config);
    iae_detector_free(back);
    iae_detector_free(d);
}

/* The CSV loader with a stored scaling: values scale by it, columns follow
 * its order, and a missing or extra column is an error. */
static void csv_loader_stored_scaling(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    const char *dir = tu_tmpdir("source-csv");
    const char *path = tu_path(dir, "w.csv");
    FILE *f = fopen(path, "w");
    fputs("b,a,frozen\n", f);
    for (int i = 0; i < 12; i++) fprintf(f, "%d,%d,%d\n", 100 + i, i, i >= 9);
    fclose(f);

    /* Stored order a, b; a spans 0..20 and b 100..110. */
    iae_csv_scaling stored = {0}, tmp = {.d = 2};
    char *names[2] = {"a", "b"};
    double lo[2] = {0, 100}, hi[2] = {20, 110};
    tmp.names = names, tmp.min = lo, tmp.max = hi;
    assert_int_equal(iae_csv_scaling_copy(&ctx, &tmp, &stored), IAE_OK);
    iae_csv_windows_options opt = {.path = path, .window_rows = 2, .all_windows = 1, .skip_quantization = 1,
                                   .test_fraction = 0.5, .scaling = &stored};
    iae_dataset train = {0}, test = {0};
    if (iae_csv_windows_load(&ctx, &opt, &train, &test, NULL) != IAE_OK) fail_msg("%s", ctx.error);
    /* The last test window is the last anomalous one, file rows 10 and 11
     * (a = 10, 11; b = 110, 111), placed at row 15, column 15 of 32 x 32.
     * b = 111 lies beyond the stored maximum and scales past 1. */
    const float *w = test.x + (size_t)(test.n - 1) * 32 * 32;
    const int top = (32 - 2) / 2, left = (32 - 2) / 2;
    assert_float_equal(w[top * 32 + left], 0.5f, 1e-6);
    assert_float_equal(w[top * 32 + left + 1], 1.0f, 1e-6);
    assert_float_equal(w[(top + 1) * 32 + left], 0.55f, 1e-6);
    assert_float_equal(w[(top + 1) * 32 + left + 1], 1.1f, 1e-6);
    iae_dataset_free(&train);
    iae_dataset_free(&test);

    /* A column the model does not know, and one it misses. */
    opt.drop_columns = "b";
    assert_int_not_equal(iae_csv_windows_load(&ctx, &opt, &train, &test, NULL), IAE_OK);
    if (strstr(ctx.error, "no feature column 'b'") == NULL) fail_msg("message: %s", ctx.error);
    stored.d = 1; /* only "a" */
    opt.drop_columns = NULL;
    assert_int_not_equal(iae_csv_windows_load(&ctx, &opt, &train, &test, NULL), IAE_OK);
    if (strstr(ctx.error, "'b', which the model was not trained on") == NULL) fail_msg("message: %s", ctx.error);
    stored.d = 2;
    iae_csv_scaling_free(&stored);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(source_lines_round_trip),
        cmocka_unit_test(source_lines_rejected),
        cmocka_unit_test(model_file_keeps_source),
        cmocka_unit_test(csv_loader_stored_scaling),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
