/*
 * Loader of the one-class Fashion-MNIST split: finds the four IDX files,
 * validates their shapes and labels, selects the normal class for training
 * and preprocesses both sets. See fashion_mnist.h for the contract.
 */
#include "data/fashion_mnist.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/rng.h"
#include "data/idx.h"
#include "data/preprocess.h"

#define FMNIST_SIDE 28   /* stored image height and width */
#define FMNIST_PAD 2     /* zero border added on every side: 28 -> 32 */
#define FMNIST_CLASSES 10
#define FMNIST_PATH_BYTES 4096

/* One split as stored: images (N, 28, 28) and labels (N), with their paths. */
typedef struct {
    char images_path[FMNIST_PATH_BYTES];
    char labels_path[FMNIST_PATH_BYTES];
    iae_idx images;
    iae_idx labels;
} fmnist_split;

static void free_split(fmnist_split *s) {
    iae_idx_free(&s->images);
    iae_idx_free(&s->labels);
}

/* Store in path the file dir/base.gz if it exists, else dir/base. Only
 * ENOENT moves on to the next name, so a .gz file that exists but cannot be
 * reached (EACCES, ELOOP, ...) is reported instead of silently replaced by
 * the plain file. */
static iae_status find_file(iae_ctx *ctx, const char *dir, const char *base, char *path) {
    static const char *const suffixes[2] = {".gz", ""};
    for (int i = 0; i < 2; i++) {
        int len = snprintf(path, FMNIST_PATH_BYTES, "%s/%s%s", dir, base, suffixes[i]);
        if (len < 0 || len >= FMNIST_PATH_BYTES)
            return iae_fail(ctx, IAE_ERR_ARGUMENT, "data directory path '%s' is too long", dir);

        struct stat info;
        if (stat(path, &info) == 0) return IAE_OK;
        if (errno != ENOENT)
            return iae_fail(ctx, IAE_ERR_IO,
                            "cannot read '%s': %s; check the file and the permissions of data "
                            "directory '%s'",
                            path, strerror(errno), dir);
    }

    return iae_fail(ctx, IAE_ERR_IO,
                    "file '%s' (or '%s.gz') not found in data directory '%s'; the directory "
                    "needs train-images-idx3-ubyte, train-labels-idx1-ubyte, "
                    "t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each plain or .gz",
                    base, base, dir);
}

/* Read one split's image and label files and check that they match. */
static iae_status read_split(iae_ctx *ctx, const char *dir, const char *images_base,
                             const char *labels_base, fmnist_split *s) {
    iae_status st = find_file(ctx, dir, images_base, s->images_path);
    if (st != IAE_OK) return st;
    st = find_file(ctx, dir, labels_base, s->labels_path);
    if (st != IAE_OK) return st;

    st = iae_idx_read(ctx, s->images_path, &s->images);
    if (st != IAE_OK) return st;
    const iae_idx *im = &s->images;
    if (im->ndim != 3)
        return iae_fail(ctx, IAE_ERR_FORMAT,
                        "'%s' has rank %d; expected images of shape (N, 28, 28)", s->images_path,
                        im->ndim);
    if (im->dims[1] != FMNIST_SIDE || im->dims[2] != FMNIST_SIDE)
        return iae_fail(ctx, IAE_ERR_FORMAT,
                        "'%s' contains images of %d x %d pixels; expected 28 x 28 (Fashion-MNIST)",
                        s->images_path, im->dims[1], im->dims[2]);

    st = iae_idx_read(ctx, s->labels_path, &s->labels);
    if (st != IAE_OK) return st;
    const iae_idx *lb = &s->labels;
    if (lb->ndim != 1)
        return iae_fail(ctx, IAE_ERR_FORMAT, "'%s' has rank %d; expected a rank-1 label file",
                        s->labels_path, lb->ndim);
    if (lb->dims[0] != im->dims[0])
        return iae_fail(ctx, IAE_ERR_FORMAT,
                        "'%s' contains %d labels but '%s' contains %d images; both files must "
                        "come from the same split",
                        s->labels_path, lb->dims[0], s->images_path, im->dims[0]);
    for (size_t i = 0; i < lb->count; i++)
        if (lb->data[i] >= FMNIST_CLASSES)
            return iae_fail(ctx, IAE_ERR_FORMAT,
                            "'%s' has label %u at index %zu; expected a class from 0 to 9",
                            s->labels_path, (unsigned)lb->data[i], i);
    return IAE_OK;
}

int iae_contamination_count(int n_normal, double r) {
    if (!(r > 0.0) || r >= 1.0) return 0;
    return (int)((double)n_normal * r / (1.0 - r));
}

/* Fill d with the preprocessed images idx[0..n) of s, in that order, labelled
 * 1 unless their class is normal_class. */
static iae_status build_indexed(iae_ctx *ctx, const fmnist_split *s, const int *idx, int n, int normal_class,
                                iae_dataset *d) {
    const size_t image_bytes = FMNIST_SIDE * FMNIST_SIDE;
    const int side = FMNIST_SIDE + 2 * FMNIST_PAD;
    uint8_t *gathered = iae_alloc(ctx, (size_t)n * image_bytes + 1, "selected training images");
    *d = (iae_dataset){.n = n, .c = 1, .h = side, .w = side};
    d->x = iae_alloc(ctx, (size_t)n * side * side * sizeof(float) + 1, "preprocessed images");
    d->label = iae_alloc(ctx, (size_t)n + 1, "image labels");
    d->cls = iae_alloc(ctx, (size_t)n + 1, "image classes");
    if (gathered == NULL || d->x == NULL || d->label == NULL || d->cls == NULL) {
        iae_free(gathered);
        iae_dataset_free(d);
        return IAE_ERR_NOMEM;
    }
    for (int k = 0; k < n; k++) {
        memcpy(gathered + image_bytes * k, s->images.data + image_bytes * idx[k], image_bytes);
        d->cls[k] = s->labels.data[idx[k]];
        d->label[k] = d->cls[k] != normal_class;
    }
    iae_pad_scale_gcn(gathered, n, FMNIST_SIDE, FMNIST_SIDE, FMNIST_PAD, d->x);
    iae_free(gathered);
    return IAE_OK;
}

/* Append b's images to a (same image shape); b is freed. */
static iae_status append_set(iae_ctx *ctx, iae_dataset *a, iae_dataset *b) {
    const long size = (long)a->c * a->h * a->w;
    iae_dataset m = {.n = a->n + b->n, .c = a->c, .h = a->h, .w = a->w};
    m.x = iae_alloc(ctx, sizeof(float) * size * m.n, "training images");
    m.label = iae_alloc(ctx, (size_t)m.n, "image labels");
    m.cls = iae_alloc(ctx, (size_t)m.n, "image classes");
    if (m.x == NULL || m.label == NULL || m.cls == NULL) {
        iae_dataset_free(&m);
        iae_dataset_free(b);
        return IAE_ERR_NOMEM;
    }
    memcpy(m.x, a->x, sizeof(float) * size * a->n);
    memcpy(m.x + size * a->n, b->x, sizeof(float) * size * b->n);
    memcpy(m.label, a->label, (size_t)a->n), memcpy(m.label + a->n, b->label, (size_t)b->n);
    memcpy(m.cls, a->cls, (size_t)a->n), memcpy(m.cls + a->n, b->cls, (size_t)b->n);
    iae_dataset_free(a);
    iae_dataset_free(b);
    *a = m;
    return IAE_OK;
}

/* Mix iae_contamination_count(n, r) training images of other classes, drawn
 * without replacement (seeded), into the normal set. */
static iae_status contaminate(iae_ctx *ctx, const iae_fmnist_options *opt, const fmnist_split *s, iae_dataset *set) {
    const int want = iae_contamination_count(set->n, opt->contamination);
    if (want == 0) return IAE_OK;
    const int total = (int)s->labels.count;
    int *pool = iae_alloc(ctx, sizeof(int) * (size_t)total, "contamination pool");
    if (pool == NULL) return IAE_ERR_NOMEM;
    int n_pool = 0;
    for (int i = 0; i < total; i++)
        if (s->labels.data[i] != opt->normal_class) pool[n_pool++] = i;
    if (want > n_pool) {
        iae_free(pool);
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "contamination %g needs %d anomalous training images but '%s' has only %d; lower "
                        "--contamination",
                        opt->contamination, want, s->labels_path, n_pool);
    }
    /* Partial Fisher-Yates: the first `want` entries become the draw. */
    iae_rng rng;
    iae_rng_seed(&rng, opt->seed, IAE_STREAM_CONTAMINATION);
    for (int i = 0; i < want; i++) {
        int j = i + (int)iae_rng_below(&rng, (uint64_t)(n_pool - i));
        int t = pool[i];
        pool[i] = pool[j];
        pool[j] = t;
    }
    iae_dataset extra;
    iae_status st = build_indexed(ctx, s, pool, want, opt->normal_class, &extra);
    iae_free(pool);
    if (st == IAE_OK) st = append_set(ctx, set, &extra);
    return st;
}

/* Fill d with the preprocessed images of s whose class is only_class, or
 * with all of them when only_class < 0, keeping file order. Labels are 0 for
 * normal_class and 1 otherwise. Steps 1 to 3 only: no min-max scaling yet. */
static iae_status build_set(iae_ctx *ctx, const fmnist_split *s, int only_class, int normal_class,
                            iae_dataset *d) {
    const size_t image_bytes = FMNIST_SIDE * FMNIST_SIDE;
    const int side = FMNIST_SIDE + 2 * FMNIST_PAD;
    const size_t total = s->labels.count;

    size_t n = 0;
    for (size_t i = 0; i < total; i++)
        if (only_class < 0 || s->labels.data[i] == only_class) n++;

    /* Gather the selected images so that one parallel call covers them. */
    const uint8_t *src = s->images.data;
    uint8_t *gathered = NULL;
    if (n < total) {
        gathered = iae_alloc(ctx, n * image_bytes, "selected training images");
        if (gathered == NULL) return IAE_ERR_NOMEM;
        size_t k = 0;
        for (size_t i = 0; i < total; i++)
            if (s->labels.data[i] == only_class)
                memcpy(gathered + image_bytes * k++, s->images.data + image_bytes * i, image_bytes);
        src = gathered;
    }

    d->n = (int)n;
    d->c = 1;
    d->h = side;
    d->w = side;
    d->x = iae_alloc(ctx, n * (size_t)(side * side) * sizeof(float), "preprocessed images");
    d->label = iae_alloc(ctx, n, "image labels");
    d->cls = iae_alloc(ctx, n, "image classes");
    if (d->x == NULL || d->label == NULL || d->cls == NULL) {
        iae_free(gathered);
        iae_dataset_free(d);
        return IAE_ERR_NOMEM;
    }

    size_t k = 0;
    for (size_t i = 0; i < total; i++) {
        uint8_t cls = s->labels.data[i];
        if (only_class >= 0 && cls != only_class) continue;
        d->cls[k] = cls;
        d->label[k] = cls != normal_class;
        k++;
    }

    iae_pad_scale_gcn(src, (int)n, FMNIST_SIDE, FMNIST_SIDE, FMNIST_PAD, d->x);
    iae_free(gathered);
    return IAE_OK;
}

static long set_values(const iae_dataset *d) { return (long)d->n * d->c * d->h * d->w; }

/* Check the options and the data directory before any file is read. */
static iae_status check_options(iae_ctx *ctx, const iae_fmnist_options *opt) {
    if (opt->normal_class < 0 || opt->normal_class >= FMNIST_CLASSES)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "normal class %d is out of range; expected a class from 0 to 9",
                        opt->normal_class);
    if (!(opt->contamination >= 0.0 && opt->contamination < 1.0))
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "contamination %g is outside [0, 1)", opt->contamination);
    if (opt->have_minmax && !(isfinite(opt->min) && isfinite(opt->max) && opt->min < opt->max))
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "invalid min-max range (%g, %g): expected finite values with min < max",
                        (double)opt->min, (double)opt->max);
    if (opt->dir == NULL || opt->dir[0] == 0)
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "no data directory given: pass --data DIR");

    struct stat info;
    if (stat(opt->dir, &info) != 0) {
        if (errno != ENOENT)
            return iae_fail(ctx, IAE_ERR_IO, "cannot read data directory '%s': %s", opt->dir,
                            strerror(errno));
        if (opt->dir_is_default)
            return iae_fail(ctx, IAE_ERR_IO,
                            "data directory '%s' not found: install the Debian package "
                            "dataset-fashion-mnist (apt-get install dataset-fashion-mnist) or "
                            "pass --data DIR",
                            opt->dir);
        return iae_fail(ctx, IAE_ERR_IO, "data directory '%s' not found; check the --data path",
                        opt->dir);
    }
    if (!S_ISDIR(info.st_mode))
        return iae_fail(ctx, IAE_ERR_IO,
                        "data directory '%s' is not a directory; pass the folder that contains "
                        "the four Fashion-MNIST IDX files",
                        opt->dir);
    return IAE_OK;
}

/* Build the training set of the normal class, and the min-max range from it
 * when computes_range is set. */
static iae_status load_train(iae_ctx *ctx, const iae_fmnist_options *opt, int computes_range,
                             iae_dataset *set, float *lo, float *hi) {
    fmnist_split split;
    memset(&split, 0, sizeof(split));
    iae_status st = read_split(ctx, opt->dir, "train-images-idx3-ubyte",
                               "train-labels-idx1-ubyte", &split);

    if (st == IAE_OK) {
        size_t normal = 0;
        for (size_t i = 0; i < split.labels.count; i++) normal += split.labels.data[i] == opt->normal_class;
        if (normal == 0)
            st = iae_fail(ctx, IAE_ERR_FORMAT,
                          "'%s' contains no training image of the normal class %d; pick another "
                          "class or check the file",
                          split.labels_path, opt->normal_class);
    }
    if (st == IAE_OK) st = build_set(ctx, &split, opt->normal_class, opt->normal_class, set);
    if (st == IAE_OK) st = contaminate(ctx, opt, &split, set);

    /* With contamination the range covers the whole training set, since a
     * user could not tell the anomalies apart either. */
    if (st == IAE_OK && computes_range) {
        iae_minmax_range(set->x, set_values(set), lo, hi);
        if (!(*hi > *lo))
            st = iae_fail(ctx, IAE_ERR_FORMAT,
                          "the training images of class %d in '%s' are constant after GCN "
                          "(min = max = %g), so min-max scaling has no range; use "
                          "--reference-normalization",
                          opt->normal_class, split.images_path, (double)*lo);
    }

    free_split(&split);
    if (st != IAE_OK) iae_dataset_free(set);
    return st;
}

/* Build the test set from all test images. */
static iae_status load_test(iae_ctx *ctx, const iae_fmnist_options *opt, iae_dataset *set) {
    fmnist_split split;
    memset(&split, 0, sizeof(split));
    iae_status st = read_split(ctx, opt->dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
                               &split);
    if (st == IAE_OK) st = build_set(ctx, &split, -1, opt->normal_class, set);
    free_split(&split);
    return st;
}

iae_status iae_fmnist_load(iae_ctx *ctx, const iae_fmnist_options *opt, iae_dataset *train,
                           iae_dataset *test, float *min_out, float *max_out) {
    if (train != NULL) memset(train, 0, sizeof(*train));
    if (test != NULL) memset(test, 0, sizeof(*test));

    iae_status st = check_options(ctx, opt);
    if (st != IAE_OK) return st;

    /* The range: stored values, then the reference table, then the data. */
    float lo = 0.0f;
    float hi = 0.0f;
    int computes_range = 0;
    if (opt->have_minmax) {
        lo = opt->min;
        hi = opt->max;
    } else if (opt->reference_normalization) {
        lo = (float)iae_fmnist_reference_minmax[opt->normal_class][0];
        hi = (float)iae_fmnist_reference_minmax[opt->normal_class][1];
    } else {
        computes_range = 1;
    }

    iae_dataset train_set = {0};
    iae_dataset test_set = {0};
    if (train != NULL || computes_range) st = load_train(ctx, opt, computes_range, &train_set, &lo, &hi);
    if (st == IAE_OK && test != NULL) st = load_test(ctx, opt, &test_set);
    if (st != IAE_OK) {
        iae_dataset_free(&train_set);
        iae_dataset_free(&test_set);
        return st;
    }

    /* Step 4, min-max scaling with the one range of this run. */
    if (train != NULL) {
        iae_minmax_apply(train_set.x, set_values(&train_set), lo, hi);
        *train = train_set;
    } else {
        iae_dataset_free(&train_set);
    }
    if (test != NULL) {
        iae_minmax_apply(test_set.x, set_values(&test_set), lo, hi);
        *test = test_set;
    }
    if (min_out != NULL) *min_out = lo;
    if (max_out != NULL) *max_out = hi;
    return IAE_OK;
}
