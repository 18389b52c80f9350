/*
 * Data sources: settings checks, the load of each kind through its reader,
 * image preprocessing for new inputs, and the "data_*" lines stored in model
 * files. See source.h for the contract.
 */
#include "data/source.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/cifar10.h"
#include "data/fashion_mnist.h"
#include "data/preprocess.h"

static const char *const kind_names[IAE_N_SOURCE_KINDS] = {"fashion-mnist", "cifar10", "mvtec", "csv-windows",
                                                           "folder"};

/* The categories of the MVTec AD release in the reference's order, which
 * indexes its per-category weight tables. */
static const char *const mvtec_release_categories[15] = {
    "bottle", "cable",  "capsule", "carpet", "grid",       "hazelnut", "leather", "metal_nut",
    "pill",   "screw",  "tile",    "toothbrush", "transistor", "wood",  "zipper"};

const char *iae_source_kind_name(iae_source_kind k) {
    return (unsigned)k < IAE_N_SOURCE_KINDS ? kind_names[k] : "unknown";
}

int iae_source_kind_parse(const char *name) {
    for (int k = 0; k < IAE_N_SOURCE_KINDS; k++)
        if (strcmp(name, kind_names[k]) == 0) return k;
    return -1;
}

void iae_data_source_init(iae_data_source *src, iae_source_kind kind) {
    memset(src, 0, sizeof(*src));
    src->kind = kind;
    src->image_size = 32;
    src->channels = 3;
}

void iae_data_source_free(iae_data_source *src) { iae_csv_scaling_free(&src->csv); }

/* ------------------------------------------------------------------------ */
/* Settings                                                                  */
/* ------------------------------------------------------------------------ */

iae_status iae_data_source_check(iae_ctx *ctx, const iae_data_source *src) {
    const iae_source_kind k = src->kind;
    const char *name = iae_source_kind_name(k);
    if ((unsigned)k >= IAE_N_SOURCE_KINDS)
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "unknown data set kind %d", (int)k);

    /* Paths. */
    if ((k == IAE_SOURCE_CIFAR10 || k == IAE_SOURCE_MVTEC || k == IAE_SOURCE_CSV_WINDOWS) && src->data[0] == 0)
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "--dataset %s needs --data %s", name,
                        k == IAE_SOURCE_CIFAR10 ? "DIR, the folder with data_batch_1.bin .. test_batch.bin"
                        : k == IAE_SOURCE_MVTEC ? "ROOT, the folder with one subfolder per category"
                                                : "FILE, the CSV file");
    if (k == IAE_SOURCE_FOLDER) {
        const char *missing = src->train_dir[0] == 0         ? "--train DIR (normal training images)"
                              : src->test_normal_dir[0] == 0 ? "--test-normal DIR (normal test images)"
                              : src->test_anomalous_dir[0] == 0 ? "--test-anomalous DIR (anomalous test images)"
                                                                : NULL;
        if (missing != NULL) return iae_fail(ctx, IAE_ERR_ARGUMENT, "--dataset folder needs %s", missing);
        if (src->image_size != 32 && src->image_size != 64)
            return iae_fail(ctx, IAE_ERR_ARGUMENT, "invalid image size %d: expected 32 (LeNet) or 64 (MVTec network)",
                            src->image_size);
        if (src->channels != 1 && src->channels != 3)
            return iae_fail(ctx, IAE_ERR_ARGUMENT, "invalid channel count %d: expected 1 (gray) or 3 (RGB)",
                            src->channels);
        if (src->image_size == 64 && src->channels != 3)
            return iae_fail(ctx, IAE_ERR_ARGUMENT,
                            "--image-size 64 selects the MVTec network, which takes 3 channels; use --channels 3 "
                            "(gray images are replicated) or --image-size 32");
    }

    /* Options that exist only for some kinds. */
    const int classes = k == IAE_SOURCE_FASHION_MNIST || k == IAE_SOURCE_CIFAR10;
    if (classes && (src->normal_class < 0 || src->normal_class > 9))
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "normal class %d is outside 0..9", src->normal_class);
    if (!classes && src->contamination > 0)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "--contamination mixes other classes into the training set, which %s data does not have; "
                        "drop it",
                        name);
    if (!classes && src->reference_normalization)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "--reference-normalization selects the reference's per-class range table of Fashion-MNIST "
                        "and CIFAR-10; drop it for %s",
                        name);
    if (src->have_minmax && !(src->norm_max > src->norm_min))
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "min-max range %g..%g is empty; the maximum must exceed the minimum",
                        src->norm_min, src->norm_max);

    /* CSV windows fit in the 32 x 32 LeNet input. */
    if (src->window_rows < 0 || src->window_rows > IAE_CSV_DEFAULT_SIDE || src->stride < 0)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "invalid CSV window of %d rows at stride %d: expected 1 to %d rows and a stride of 1 or "
                        "more",
                        src->window_rows, src->stride, IAE_CSV_DEFAULT_SIDE);
    return IAE_OK;
}

void iae_data_source_input_shape(const iae_data_source *src, int *c, int *h, int *w) {
    switch (src->kind) {
    case IAE_SOURCE_CIFAR10: *c = 3, *h = *w = 32; break;
    case IAE_SOURCE_MVTEC: *c = 3, *h = *w = IAE_MVTEC_DEFAULT_SIZE; break;
    case IAE_SOURCE_FOLDER: *c = src->channels, *h = *w = src->image_size; break;
    default: *c = 1, *h = *w = 32; break; /* Fashion-MNIST padded, CSV windows placed in 32 x 32 */
    }
}

iae_net_config iae_data_source_net_config(const iae_data_source *src, iae_model_kind k) {
    int c, h, w;
    iae_data_source_input_shape(src, &c, &h, &w);
    if (h == 64) return iae_mvtec_config(iae_model_has_lstm(k), iae_model_has_decoder(k));
    return iae_lenet_config(c, iae_model_has_lstm(k), iae_model_has_decoder(k));
}

void iae_data_source_default_weights(const iae_data_source *src, iae_model_kind k, float *w_mse, float *w_kl,
                                     float *nu) {
    switch (src->kind) {
    case IAE_SOURCE_FASHION_MNIST:
        iae_default_weights(IAE_DATASET_FASHION_MNIST, k, src->normal_class, w_mse, w_kl, nu);
        return;
    case IAE_SOURCE_CIFAR10:
        iae_default_weights(IAE_DATASET_CIFAR10, k, src->normal_class, w_mse, w_kl, nu);
        return;
    case IAE_SOURCE_MVTEC: {
        int release_index = -1;
        for (int i = 0; i < 15; i++)
            if (strcmp(src->category, mvtec_release_categories[i]) == 0) release_index = i;
        iae_default_weights(IAE_DATASET_MVTEC, k, release_index, w_mse, w_kl, nu);
        return;
    }
    case IAE_SOURCE_CSV_WINDOWS:
        iae_default_weights(IAE_DATASET_WTBI, k, 0, w_mse, w_kl, nu);
        return;
    default:
        /* Class -1 is outside every table, so the model defaults apply. */
        iae_default_weights(IAE_DATASET_FASHION_MNIST, k, -1, w_mse, w_kl, nu);
        return;
    }
}

/* ------------------------------------------------------------------------ */
/* Loading                                                                   */
/* ------------------------------------------------------------------------ */

/* Replace path (of size IAE_SOURCE_PATH_BYTES) by its absolute form when it
 * exists; leave it as it is otherwise, so the reader names it as given. */
static void make_absolute(char *path) {
    if (path[0] == 0) return;
    char *resolved = realpath(path, NULL);
    if (resolved == NULL) return;
    if (strlen(resolved) < IAE_SOURCE_PATH_BYTES) strcpy(path, resolved);
    free(resolved);
}

static iae_status load_fmnist(iae_ctx *ctx, iae_data_source *src, int with_train, iae_source_data *out) {
    iae_fmnist_options o = {.dir = src->data[0] ? src->data : IAE_DEFAULT_FMNIST_DIR,
                            .dir_is_default = src->data[0] == 0,
                            .normal_class = src->normal_class,
                            .reference_normalization = src->reference_normalization,
                            .have_minmax = src->have_minmax,
                            .min = src->norm_min,
                            .max = src->norm_max,
                            .contamination = src->contamination,
                            .seed = src->seed};
    float lo = 0, hi = 0;
    iae_status st = iae_fmnist_load(ctx, &o, with_train ? &out->train : NULL, &out->test, &lo, &hi);
    if (st != IAE_OK) return st;
    if (!src->have_minmax) src->have_minmax = 1, src->norm_min = lo, src->norm_max = hi;
    snprintf(out->summary, sizeof(out->summary), "fashion-mnist, normal class %d; min-max %.6g..%.6g (%s)",
             src->normal_class, src->norm_min, src->norm_max,
             src->reference_normalization ? "reference table" : "normal training images");
    return IAE_OK;
}

static iae_status load_cifar10(iae_ctx *ctx, iae_data_source *src, int with_train, iae_source_data *out) {
    iae_cifar10_options o = {.dir = src->data,
                             .normal_class = src->normal_class,
                             .reference_normalization = src->reference_normalization,
                             .have_minmax = src->have_minmax,
                             .min = src->norm_min,
                             .max = src->norm_max,
                             .contamination = src->contamination,
                             .seed = src->seed};
    float lo = 0, hi = 0;
    iae_status st = iae_cifar10_load(ctx, &o, with_train ? &out->train : NULL, &out->test, &lo, &hi);
    if (st != IAE_OK) return st;
    if (!src->have_minmax) src->have_minmax = 1, src->norm_min = lo, src->norm_max = hi;
    snprintf(out->summary, sizeof(out->summary), "cifar10 in %s, normal class %d; min-max %.6g..%.6g (%s)",
             src->data, src->normal_class, src->norm_min, src->norm_max,
             src->reference_normalization ? "reference table" : "normal training images");
    return IAE_OK;
}

static iae_status load_mvtec(iae_ctx *ctx, iae_data_source *src, int with_train, iae_source_data *out) {
    iae_mvtec_options o = {.root = src->data,
                           .category = src->category[0] ? src->category : NULL,
                           .category_index = src->normal_class,
                           .size = IAE_MVTEC_DEFAULT_SIZE};
    iae_status st = iae_mvtec_load(ctx, &o, with_train ? &out->train : NULL, &out->test, &out->mvtec);
    if (st != IAE_OK) return st;
    snprintf(src->category, sizeof(src->category), "%s", out->mvtec.category);
    src->normal_class = out->mvtec.category_index;
    int n = snprintf(out->summary, sizeof(out->summary), "mvtec category %s (index %d of %d) in %s",
                     src->category, src->normal_class, out->mvtec.n_categories, src->data);
    if (out->mvtec.n_missing_masks > 0 && n > 0 && (size_t)n < sizeof(out->summary))
        snprintf(out->summary + n, sizeof(out->summary) - (size_t)n, "; %d defective images have no mask, such as %.200s",
                 out->mvtec.n_missing_masks, out->mvtec.first_missing_mask);
    return IAE_OK;
}

static iae_status load_csv(iae_ctx *ctx, iae_data_source *src, iae_source_data *out) {
    iae_csv_windows_options o = {.path = src->data,
                                 .label_column = src->label_column[0] ? src->label_column : NULL,
                                 .drop_columns = src->drop_columns,
                                 .window_rows = src->window_rows,
                                 .stride = src->stride,
                                 .seed = src->seed,
                                 .scaling = src->csv.d > 0 ? &src->csv : NULL};
    iae_status st = iae_csv_windows_load(ctx, &o, &out->train, &out->test, &out->csv);
    if (st != IAE_OK) return st;
    if (src->csv.d == 0 && (st = iae_csv_scaling_copy(ctx, &out->csv.scaling, &src->csv)) != IAE_OK) return st;
    src->window_rows = out->csv.window_rows;
    src->stride = out->csv.stride;
    int n = snprintf(out->summary, sizeof(out->summary),
                     "csv-windows of %s: %ld rows (%ld anomalous), %d feature columns, windows of %d rows at stride "
                     "%d",
                     src->data, out->csv.n_rows, out->csv.n_anomalous_rows, out->csv.window_cols,
                     out->csv.window_rows, out->csv.stride);
    if (out->csv.note[0] && n > 0 && (size_t)n < sizeof(out->summary))
        snprintf(out->summary + n, sizeof(out->summary) - (size_t)n, "; %.200s", out->csv.note);
    return IAE_OK;
}

static iae_status load_folder(iae_ctx *ctx, iae_data_source *src, int with_train, iae_source_data *out) {
    iae_folder_options o = {.train_dir = src->train_dir,
                            .test_normal_dir = src->test_normal_dir,
                            .test_anomalous_dir = src->test_anomalous_dir,
                            .c = src->channels,
                            .h = src->image_size,
                            .w = src->image_size,
                            .scaling = src->image_size == 64 ? IAE_PIXELS_SYMMETRIC : IAE_PIXELS_UNIT};
    iae_status st = iae_folder_load(ctx, &o, with_train ? &out->train : NULL, &out->test, &out->folder);
    if (st != IAE_OK) return st;
    snprintf(out->summary, sizeof(out->summary), "folder images, %d channel%s at %dx%d, in %s",
             src->channels, src->channels == 1 ? "" : "s", src->image_size, src->image_size,
             src->image_size == 64 ? "[-1, 1]" : "[0, 1]");
    return IAE_OK;
}

iae_status iae_data_source_load(iae_ctx *ctx, iae_data_source *src, int with_train, iae_source_data *out) {
    memset(out, 0, sizeof(*out));
    iae_status st = iae_data_source_check(ctx, src);
    if (st != IAE_OK) return st;
    make_absolute(src->data);
    make_absolute(src->train_dir);
    make_absolute(src->test_normal_dir);
    make_absolute(src->test_anomalous_dir);
    switch (src->kind) {
    case IAE_SOURCE_FASHION_MNIST: st = load_fmnist(ctx, src, with_train, out); break;
    case IAE_SOURCE_CIFAR10: st = load_cifar10(ctx, src, with_train, out); break;
    case IAE_SOURCE_MVTEC: st = load_mvtec(ctx, src, with_train, out); break;
    case IAE_SOURCE_CSV_WINDOWS: st = load_csv(ctx, src, out); break;
    default: st = load_folder(ctx, src, with_train, out); break;
    }
    if (st != IAE_OK) iae_source_data_free(out);
    return st;
}

void iae_source_data_free(iae_source_data *data) {
    iae_dataset_free(&data->train);
    iae_dataset_free(&data->test);
    iae_mvtec_info_free(&data->mvtec);
    iae_folder_info_free(&data->folder);
    iae_csv_windows_info_free(&data->csv);
    memset(data, 0, sizeof(*data));
}

iae_status iae_data_source_read_images(iae_ctx *ctx, const iae_data_source *src, const char *const *paths, int n,
                                       float *x) {
    int c, h, w;
    iae_data_source_input_shape(src, &c, &h, &w);
    iae_pixel_scaling scaling = IAE_PIXELS_UNIT;
    switch (src->kind) {
    case IAE_SOURCE_CIFAR10: break;
    case IAE_SOURCE_MVTEC: scaling = IAE_PIXELS_SYMMETRIC; break;
    case IAE_SOURCE_FOLDER: scaling = src->image_size == 64 ? IAE_PIXELS_SYMMETRIC : IAE_PIXELS_UNIT; break;
    default:
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "%s models do not take image files",
                        iae_source_kind_name(src->kind));
    }
    iae_status st = iae_images_load(ctx, paths, n, c, h, w, scaling, x, NULL, NULL);
    if (st != IAE_OK || src->kind != IAE_SOURCE_CIFAR10) return st;

    /* CIFAR-10 training images are 32 x 32 RGB scaled to [0, 1], then L1 GCN
     * and the stored range: the resize above is the identity at that size. */
    const long size = (long)c * h * w;
    iae_gcn_l1(x, n, size);
    iae_minmax_apply(x, (long)n * size, src->norm_min, src->norm_max);
    return IAE_OK;
}

/* ------------------------------------------------------------------------ */
/* Model file lines                                                          */
/* ------------------------------------------------------------------------ */

typedef struct {
    char *buf;
    size_t len, cap;
    int failed;
} text_buffer;

static void put_raw(text_buffer *t, const char *s, size_t n) {
    if (t->failed) return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 1024;
        while (t->len + n + 1 > cap) cap *= 2;
        char *grown = realloc(t->buf, cap);
        if (grown == NULL) {
            t->failed = 1;
            return;
        }
        t->buf = grown;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = 0;
}

/* Append value percent-encoded: control characters, space, '%' and '='. */
static void put_encoded(text_buffer *t, const char *value) {
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if (*p <= ' ' || *p == '%' || *p == '=' || *p == 0x7f) {
            char hex[4];
            snprintf(hex, sizeof(hex), "%%%02X", *p);
            put_raw(t, hex, 3);
        } else {
            put_raw(t, (const char *)p, 1);
        }
    }
}

static void put_line(text_buffer *t, const char *key, const char *value) {
    put_raw(t, key, strlen(key));
    put_raw(t, "=", 1);
    put_encoded(t, value);
    put_raw(t, "\n", 1);
}

static void put_int(text_buffer *t, const char *key, long value) {
    char num[32];
    snprintf(num, sizeof(num), "%ld", value);
    put_line(t, key, num);
}

char *iae_data_source_format(iae_ctx *ctx, const iae_data_source *src) {
    text_buffer t = {0};
    put_line(&t, "data_kind", iae_source_kind_name(src->kind));
    if (src->data[0]) put_line(&t, "data_path", src->data);
    switch (src->kind) {
    case IAE_SOURCE_MVTEC:
        put_line(&t, "data_category", src->category);
        break;
    case IAE_SOURCE_CSV_WINDOWS:
        put_line(&t, "data_label_column", src->label_column[0] ? src->label_column : IAE_CSV_DEFAULT_LABEL);
        put_line(&t, "data_drop_columns", src->drop_columns);
        put_int(&t, "data_window", src->window_rows);
        put_int(&t, "data_stride", src->stride);
        put_int(&t, "data_csv_columns", src->csv.d);
        for (int j = 0; j < src->csv.d; j++) {
            /* name min max: the name is encoded, so it has no space. */
            char range[80];
            put_raw(&t, "data_csv_column=", 16);
            put_encoded(&t, src->csv.names[j]);
            snprintf(range, sizeof(range), " %.17g %.17g\n", src->csv.min[j], src->csv.max[j]);
            put_raw(&t, range, strlen(range));
        }
        break;
    case IAE_SOURCE_FOLDER:
        put_line(&t, "data_train", src->train_dir);
        put_line(&t, "data_test_normal", src->test_normal_dir);
        put_line(&t, "data_test_anomalous", src->test_anomalous_dir);
        put_int(&t, "data_image_size", src->image_size);
        put_int(&t, "data_channels", src->channels);
        break;
    default:
        break;
    }
    if (t.failed || t.buf == NULL) {
        free(t.buf);
        iae_fail(ctx, IAE_ERR_NOMEM, "out of memory formatting the data source");
        return NULL;
    }
    char *out = iae_alloc(ctx, t.len + 1, "data source settings");
    if (out != NULL) memcpy(out, t.buf, t.len + 1);
    free(t.buf);
    return out;
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Decode percent-encoded text[0..n) into out (size bytes). Returns 0 on a
 * bad escape, a NUL byte or a value too long for out. */
static int decode_value(const char *text, size_t n, char *out, size_t size) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        if (c == '%') {
            if (i + 2 >= n) return 0;
            int hi = hex_digit(text[i + 1]), lo = hex_digit(text[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return 0;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (o + 1 >= size) return 0;
        out[o++] = c;
    }
    out[o] = 0;
    return 1;
}

/* Parse text as an integer in [lo, hi]. */
static int parse_int(const char *text, long lo, long hi, int *out) {
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (end == text || *end != 0 || errno == ERANGE || v < lo || v > hi) return 0;
    *out = (int)v;
    return 1;
}

/* Parse one "data_csv_column" value, "name min max", into column j. */
static int parse_csv_column(const char *value, iae_csv_scaling *s, int j, char *name_out, size_t name_size) {
    const char *space = strchr(value, ' ');
    if (space == NULL || space == value) return 0;
    if (!decode_value(value, (size_t)(space - value), name_out, name_size) || name_out[0] == 0) return 0;
    char *end = NULL;
    double lo = strtod(space + 1, &end);
    if (end == space + 1 || *end != ' ') return 0;
    const char *rest = end + 1;
    double hi = strtod(rest, &end);
    if (end == rest || *end != 0 || !isfinite(lo) || !isfinite(hi) || hi < lo) return 0;
    s->min[j] = lo;
    s->max[j] = hi;
    return 1;
}

/* Fill the fixed part of src from the model's settings. */
static void from_info(const iae_detector_info *info, iae_data_source *src) {
    src->normal_class = info->normal_class;
    src->reference_normalization = info->reference_normalization;
    src->contamination = info->contamination;
    src->seed = info->seed;
    src->have_minmax = 1;
    src->norm_min = info->norm_min;
    src->norm_max = info->norm_max;
}

/* Store value (already decoded) under key in src; 0 for an unknown key or
 * a bad value. */
static int set_key(iae_data_source *src, const char *key, const char *value, int *kind_seen) {
    if (strcmp(key, "data_kind") == 0) {
        int k = iae_source_kind_parse(value);
        if (k < 0) return 0;
        src->kind = (iae_source_kind)k;
        *kind_seen = 1;
        return 1;
    }
    struct {
        const char *key;
        char *field;
        size_t size;
    } strings[] = {
        {"data_path", src->data, sizeof(src->data)},
        {"data_train", src->train_dir, sizeof(src->train_dir)},
        {"data_test_normal", src->test_normal_dir, sizeof(src->test_normal_dir)},
        {"data_test_anomalous", src->test_anomalous_dir, sizeof(src->test_anomalous_dir)},
        {"data_category", src->category, sizeof(src->category)},
        {"data_label_column", src->label_column, sizeof(src->label_column)},
        {"data_drop_columns", src->drop_columns, sizeof(src->drop_columns)},
    };
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
        if (strcmp(key, strings[i].key) == 0) {
            if (strlen(value) >= strings[i].size) return 0;
            strcpy(strings[i].field, value);
            return 1;
        }
    if (strcmp(key, "data_window") == 0) return parse_int(value, 1, IAE_CSV_DEFAULT_SIDE, &src->window_rows);
    if (strcmp(key, "data_stride") == 0) return parse_int(value, 1, INT_MAX, &src->stride);
    if (strcmp(key, "data_image_size") == 0)
        return parse_int(value, 32, 64, &src->image_size) && (src->image_size == 32 || src->image_size == 64);
    if (strcmp(key, "data_channels") == 0)
        return parse_int(value, 1, 3, &src->channels) && src->channels != 2;
    return 0;
}

iae_status iae_data_source_from_model(iae_ctx *ctx, const char *origin, const iae_detector_info *info,
                                      const char *text, iae_data_source *src) {
    iae_data_source_init(src, IAE_SOURCE_FASHION_MNIST);
    from_info(info, src);
    if (text == NULL) {
        if (strcmp(info->dataset, "fashion-mnist") != 0)
            return iae_fail(ctx, IAE_ERR_FORMAT,
                            "model file '%s': data set '%s' without data source settings; retrain it with this "
                            "version of iae",
                            origin, info->dataset);
        return IAE_OK;
    }

    int kind_seen = 0, columns = -1, column_lines = 0;
    iae_status st = IAE_OK;
    /* value and name hold one decoded line, never longer than the text. */
    char *value = malloc(strlen(text) + 1), *name = malloc(strlen(text) + 1);
    if (value == NULL || name == NULL) {
        free(value), free(name);
        return iae_fail(ctx, IAE_ERR_NOMEM, "out of memory reading model file '%s'", origin);
    }
    const char **names = NULL;
    for (const char *line = text; *line && st == IAE_OK;) {
        const char *end = strchr(line, '\n');
        if (end == NULL) end = line + strlen(line);
        const char *eq = memchr(line, '=', (size_t)(end - line));
        char key[64] = "";
        if (eq != NULL && (size_t)(eq - line) < sizeof(key)) {
            memcpy(key, line, (size_t)(eq - line));
            key[eq - line] = 0;
        }
        if (strncmp(key, "data_", 5) == 0) {
            const char *raw = eq + 1;
            const size_t raw_len = (size_t)(end - raw);
            int ok;
            if (strcmp(key, "data_csv_columns") == 0) {
                memcpy(value, raw, raw_len);
                value[raw_len] = 0;
                ok = columns < 0 && parse_int(value, 1, 4096, &columns);
                if (ok) {
                    iae_csv_scaling_free(&src->csv);
                    src->csv.d = columns;
                    src->csv.min = iae_alloc(ctx, sizeof(double) * (size_t)columns, "CSV column minima");
                    src->csv.max = iae_alloc(ctx, sizeof(double) * (size_t)columns, "CSV column maxima");
                    names = calloc((size_t)columns, sizeof(char *));
                    if (src->csv.min == NULL || src->csv.max == NULL || names == NULL) {
                        st = iae_fail(ctx, IAE_ERR_NOMEM, "out of memory reading model file '%s'", origin);
                        break;
                    }
                }
            } else if (strcmp(key, "data_csv_column") == 0) {
                memcpy(value, raw, raw_len);
                value[raw_len] = 0;
                ok = columns > 0 && column_lines < columns &&
                     parse_csv_column(value, &src->csv, column_lines, name, strlen(text) + 1);
                if (ok) {
                    names[column_lines] = strdup(name);
                    if (names[column_lines] == NULL) {
                        st = iae_fail(ctx, IAE_ERR_NOMEM, "out of memory reading model file '%s'", origin);
                        break;
                    }
                    column_lines++;
                }
            } else {
                ok = decode_value(raw, raw_len, value, raw_len + 1) && set_key(src, key, value, &kind_seen);
            }
            if (!ok)
                st = iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s': data source line '%.*s' is invalid", origin,
                              (int)(end - line > 200 ? 200 : end - line), line);
        }
        line = *end ? end + 1 : end;
    }
    free(value);
    free(name);

    if (st == IAE_OK && !kind_seen)
        st = iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s': data source settings lack data_kind", origin);
    if (st == IAE_OK && strcmp(info->dataset, iae_source_kind_name(src->kind)) != 0)
        st = iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s': data set '%s' disagrees with data source kind '%s'",
                      origin, info->dataset, iae_source_kind_name(src->kind));
    if (st == IAE_OK && src->kind == IAE_SOURCE_CSV_WINDOWS && (columns < 1 || column_lines != columns))
        st = iae_fail(ctx, IAE_ERR_FORMAT,
                      "model file '%s': the CSV scaling lists %d of %d columns; the file is damaged", origin,
                      column_lines, columns);
    if (st == IAE_OK && src->kind == IAE_SOURCE_CSV_WINDOWS && src->window_rows < 1)
        st = iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s': the CSV window length is missing", origin);
    if (st == IAE_OK && src->kind == IAE_SOURCE_CSV_WINDOWS) {
        /* Move the names into the scaling's own block. */
        iae_csv_scaling named = {0};
        iae_csv_scaling tmp = {.d = columns, .names = (char **)names, .min = src->csv.min, .max = src->csv.max};
        st = iae_csv_scaling_copy(ctx, &tmp, &named);
        for (int a = 0; st == IAE_OK && a < columns; a++)
            for (int b = a + 1; b < columns; b++)
                if (strcmp(named.names[a], named.names[b]) == 0) {
                    st = iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s': the CSV column '%s' appears twice",
                                  origin, named.names[a]);
                    break;
                }
        iae_csv_scaling_free(&src->csv);
        src->csv = named;
        if (st != IAE_OK) iae_csv_scaling_free(&src->csv);
    }
    if (names != NULL) {
        for (int j = 0; j < columns; j++) free((void *)names[j]);
        free(names);
    }
    if (st == IAE_OK) {
        /* The settings must make sense as a whole, as at training time. */
        st = iae_data_source_check(ctx, src);
        if (st != IAE_OK) {
            char reason[IAE_ERROR_BYTES];
            snprintf(reason, sizeof(reason), "%s", ctx->error);
            st = iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s': invalid data source settings: %s", origin, reason);
        }
    }
    if (st != IAE_OK) iae_data_source_free(src);
    return st;
}
