/*
 * Loader of the one-class CIFAR-10 split from the binary batch files. See
 * cifar10.h for the contract.
 *
 * The training files are read twice: once for the labels, which decide
 * which records are kept (the normal class and the contamination draw), and
 * once to convert the kept records. The whole training set is therefore
 * never held in memory as bytes.
 */
#include "data/cifar10.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/rng.h"
#include "data/fashion_mnist.h"
#include "data/preprocess.h"

#define CIFAR_CLASSES 10
#define CIFAR_TRAIN_FILES 5
#define CIFAR_PATH_BYTES 4096
#define CIFAR_CHUNK_RECORDS 256 /* records per fread */

static const char *const TRAIN_NAMES[CIFAR_TRAIN_FILES] = {
    "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
    "data_batch_5.bin",
};
static const char *const TEST_NAME = "test_batch.bin";

/* One batch file: its path and its number of records. */
typedef struct {
    char path[CIFAR_PATH_BYTES];
    long records;
} batch_file;

/* Article and name of a non-regular file type, for messages. */
static const char *file_type_name(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "an unknown file type";
}

/* Report a batch file that is not there, with a hint when the folder contains
 * the Python version of the data set (data_batch_1 without .bin). */
static iae_status fail_missing(iae_ctx *ctx, const char *dir, const char *path) {
    char python_path[CIFAR_PATH_BYTES];
    struct stat info;
    int python = snprintf(python_path, sizeof(python_path), "%s/data_batch_1", dir) <
                     (int)sizeof(python_path) &&
                 stat(python_path, &info) == 0;
    return iae_fail(ctx, IAE_ERR_IO,
                    "CIFAR-10 file '%s' not found; the data directory needs data_batch_1.bin to "
                    "data_batch_5.bin and test_batch.bin from the binary version "
                    "(cifar-10-binary.tar.gz, folder cifar-10-batches-bin)%s",
                    path,
                    python ? "; this folder contains the Python version, which is not supported"
                           : "");
}

/* Open dir/name for reading and check that it is a regular file of a whole,
 * non-zero number of records. On success *f is open and b is filled. */
static iae_status open_batch(iae_ctx *ctx, const char *dir, const char *name, batch_file *b,
                             FILE **f) {
    *f = NULL;
    int len = snprintf(b->path, sizeof(b->path), "%s/%s", dir, name);
    if (len < 0 || len >= (int)sizeof(b->path))
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "data directory path '%s' is too long", dir);

    /* O_NONBLOCK keeps open() on a FIFO from waiting for a writer. */
    int fd = open(b->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT) return fail_missing(ctx, dir, b->path);
        return iae_fail(ctx, IAE_ERR_IO,
                        "cannot read CIFAR-10 file '%s': %s; check the file and its permissions",
                        b->path, strerror(errno));
    }

    struct stat info;
    iae_status st = IAE_OK;
    const long long record = IAE_CIFAR10_RECORD_BYTES;
    if (fstat(fd, &info) != 0)
        st = iae_fail(ctx, IAE_ERR_IO, "cannot stat CIFAR-10 file '%s': %s", b->path,
                      strerror(errno));
    else if (!S_ISREG(info.st_mode))
        st = iae_fail(ctx, IAE_ERR_IO,
                      "'%s' is %s; expected a CIFAR-10 batch file of 3073-byte records", b->path,
                      file_type_name(info.st_mode));
    else if (info.st_size == 0)
        st = iae_fail(ctx, IAE_ERR_FORMAT,
                      "CIFAR-10 file '%s' is empty; expected 3073-byte records (10000 in the "
                      "real files)",
                      b->path);
    else if ((long long)info.st_size % record != 0)
        st = iae_fail(ctx, IAE_ERR_FORMAT,
                      "CIFAR-10 file '%s' has %lld bytes, not a multiple of the 3073-byte record "
                      "(a label byte and 3 x 32 x 32 pixels): %lld whole records and %lld bytes "
                      "more; the file is truncated or not a CIFAR-10 binary batch",
                      b->path, (long long)info.st_size, (long long)info.st_size / record,
                      (long long)info.st_size % record);
    if (st != IAE_OK) {
        close(fd);
        return st;
    }

    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0 ||
        (*f = fdopen(fd, "rb")) == NULL) {
        st = iae_fail(ctx, IAE_ERR_IO, "cannot read CIFAR-10 file '%s': %s", b->path,
                      strerror(errno));
        close(fd);
        return st;
    }
    b->records = (long)((long long)info.st_size / record);
    return IAE_OK;
}

/* Callback for each record of a file. index counts from 0 within the file,
 * and record points to the 3073 bytes, whose label byte is already checked. */
typedef iae_status (*record_fn)(iae_ctx *ctx, void *user, long index, const uint8_t *record);

/* Open dir/name, check its label bytes and pass every record to fn. When
 * expect_records >= 0 the file must still hold that many records. */
static iae_status read_records(iae_ctx *ctx, const char *dir, const char *name,
                               long expect_records, record_fn fn, void *user, batch_file *b) {
    FILE *f = NULL;
    iae_status st = open_batch(ctx, dir, name, b, &f);
    if (st != IAE_OK) return st;
    if (expect_records >= 0 && b->records != expect_records) {
        fclose(f);
        return iae_fail(ctx, IAE_ERR_IO,
                        "CIFAR-10 file '%s' changed while it was read: %ld records, then %ld",
                        b->path, expect_records, b->records);
    }

    uint8_t *chunk = iae_alloc(ctx, (size_t)CIFAR_CHUNK_RECORDS * IAE_CIFAR10_RECORD_BYTES,
                               "CIFAR-10 read buffer");
    if (chunk == NULL) {
        fclose(f);
        return IAE_ERR_NOMEM;
    }

    for (long done = 0; done < b->records && st == IAE_OK;) {
        long want = b->records - done;
        if (want > CIFAR_CHUNK_RECORDS) want = CIFAR_CHUNK_RECORDS;
        size_t got = fread(chunk, IAE_CIFAR10_RECORD_BYTES, (size_t)want, f);
        if (got != (size_t)want) {
            st = ferror(f) ? iae_fail(ctx, IAE_ERR_IO, "cannot read CIFAR-10 file '%s': %s",
                                      b->path, strerror(errno))
                           : iae_fail(ctx, IAE_ERR_FORMAT,
                                      "CIFAR-10 file '%s' is truncated: it ended after %ld of "
                                      "its %ld records",
                                      b->path, done + (long)got, b->records);
            break;
        }
        for (long k = 0; k < want && st == IAE_OK; k++) {
            const uint8_t *record = chunk + (size_t)k * IAE_CIFAR10_RECORD_BYTES;
            if (record[0] >= CIFAR_CLASSES)
                st = iae_fail(ctx, IAE_ERR_FORMAT,
                              "CIFAR-10 file '%s' has label %u in record %ld (counting from 0, "
                              "byte offset %ld); expected a class from 0 to 9",
                              b->path, (unsigned)record[0], done + k,
                              (done + k) * IAE_CIFAR10_RECORD_BYTES);
            else
                st = fn(ctx, user, done + k, record);
        }
        done += want;
    }

    iae_free(chunk);
    fclose(f);
    return st;
}

/* Scale the image bytes of record to [0, 1] floats: (3, 32, 32), already
 * planar in the file. */
static void record_to_floats(const uint8_t *record, float *x) {
    for (int i = 0; i < IAE_CIFAR10_IMAGE_BYTES; i++) x[i] = (float)record[1 + i] / 255.0f;
}

/* ------------------------------------------------------------------------ */
/* Training set                                                              */
/* ------------------------------------------------------------------------ */

/* The training files: record counts, labels and, for the second pass, where
 * each kept record goes in the training set. Global record indices count
 * through the five files in order. */
typedef struct {
    long total;
    long records[CIFAR_TRAIN_FILES]; /* records of each file */
    long base;                       /* global index of the current file's first record */
    uint8_t *labels;                 /* (total) */
    int *slot;                       /* (total) position in set, -1 when not kept */
    iae_dataset *set;
} train_files;

static void train_files_free(train_files *t) {
    iae_free(t->labels);
    iae_free(t->slot);
    t->labels = NULL;
    t->slot = NULL;
}

static iae_status store_label(iae_ctx *ctx, void *user, long index, const uint8_t *record) {
    train_files *t = user;
    t->labels[t->base + index] = record[0];
    return IAE_OK;
}

static iae_status store_kept_record(iae_ctx *ctx, void *user, long index, const uint8_t *record) {
    train_files *t = user;
    int slot = t->slot[t->base + index];
    if (slot >= 0) record_to_floats(record, t->set->x + (size_t)slot * IAE_CIFAR10_IMAGE_BYTES);
    return IAE_OK;
}

/* Pass fn every record of the five training files, with t->base set. */
static iae_status visit_train_files(iae_ctx *ctx, const char *dir, train_files *t, record_fn fn) {
    t->base = 0;
    for (int k = 0; k < CIFAR_TRAIN_FILES; k++) {
        batch_file b;
        iae_status st = read_records(ctx, dir, TRAIN_NAMES[k], t->records[k], fn, t, &b);
        if (st != IAE_OK) return st;
        t->base += t->records[k];
    }
    return IAE_OK;
}

/* First pass: check every training file, count its records and read the
 * labels. */
static iae_status read_train_labels(iae_ctx *ctx, const char *dir, train_files *t) {
    for (int k = 0; k < CIFAR_TRAIN_FILES; k++) {
        batch_file b;
        FILE *f = NULL;
        iae_status st = open_batch(ctx, dir, TRAIN_NAMES[k], &b, &f);
        if (st != IAE_OK) return st;
        fclose(f);
        t->records[k] = b.records;
        t->total += b.records;
    }
    if (t->total > INT32_MAX)
        return iae_fail(ctx, IAE_ERR_FORMAT,
                        "the CIFAR-10 training files hold %ld records, more than %d", t->total,
                        INT32_MAX);

    t->labels = iae_alloc(ctx, (size_t)t->total, "CIFAR-10 training labels");
    if (t->labels == NULL) return IAE_ERR_NOMEM;
    return visit_train_files(ctx, dir, t, store_label);
}

/* Choose the kept records: the normal class in file order, then
 * iae_contamination_count(n_normal, r) records of other classes drawn
 * without replacement, as fashion_mnist.c draws them. *order receives the
 * global indices, *n_kept their count. */
static iae_status choose_records(iae_ctx *ctx, const iae_cifar10_options *opt,
                                 const train_files *t, const char *dir, int **order,
                                 int *n_kept) {
    *order = NULL;
    int n_normal = 0;
    for (long i = 0; i < t->total; i++) n_normal += t->labels[i] == opt->normal_class;
    if (n_normal == 0)
        return iae_fail(ctx, IAE_ERR_FORMAT,
                        "the CIFAR-10 training files in '%s' contain no image of the normal "
                        "class %d; pick another class or check the files",
                        dir, opt->normal_class);

    /* pool lists the normal records first, then the others in file order. */
    int *pool = iae_alloc(ctx, sizeof(int) * (size_t)t->total, "CIFAR-10 record order");
    if (pool == NULL) return IAE_ERR_NOMEM;
    int k = 0;
    for (long i = 0; i < t->total; i++)
        if (t->labels[i] == opt->normal_class) pool[k++] = (int)i;
    for (long i = 0; i < t->total; i++)
        if (t->labels[i] != opt->normal_class) pool[k++] = (int)i;

    int *others = pool + n_normal;
    const int n_others = (int)t->total - n_normal;
    const int want = iae_contamination_count(n_normal, opt->contamination);
    if (want > n_others) {
        iae_free(pool);
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "contamination %g needs %d anomalous training images but the CIFAR-10 "
                        "training files in '%s' have only %d; lower --contamination",
                        opt->contamination, want, dir, n_others);
    }

    /* Partial Fisher-Yates: the first `want` entries become the draw. */
    iae_rng rng;
    iae_rng_seed(&rng, opt->seed, IAE_STREAM_CONTAMINATION);
    for (int i = 0; i < want; i++) {
        int j = i + (int)iae_rng_below(&rng, (uint64_t)(n_others - i));
        int swap = others[i];
        others[i] = others[j];
        others[j] = swap;
    }
    *order = pool;
    *n_kept = n_normal + want;
    return IAE_OK;
}

/* Build the training set before min-max scaling: the kept records scaled to
 * [0, 1] and normalised by GCN. */
static iae_status load_train(iae_ctx *ctx, const iae_cifar10_options *opt, iae_dataset *set) {
    train_files t;
    memset(&t, 0, sizeof(t));
    t.set = set;
    int *order = NULL;
    int n = 0;
    iae_status st = read_train_labels(ctx, opt->dir, &t);
    if (st == IAE_OK) st = choose_records(ctx, opt, &t, opt->dir, &order, &n);

    if (st == IAE_OK) {
        *set = (iae_dataset){.n = n, .c = 3, .h = IAE_CIFAR10_SIDE, .w = IAE_CIFAR10_SIDE};
        set->x = iae_alloc(ctx, sizeof(float) * (size_t)n * IAE_CIFAR10_IMAGE_BYTES,
                           "CIFAR-10 training images");
        set->label = iae_alloc(ctx, (size_t)n, "image labels");
        set->cls = iae_alloc(ctx, (size_t)n, "image classes");
        t.slot = iae_alloc(ctx, sizeof(int) * (size_t)t.total, "CIFAR-10 record slots");
        if (set->x == NULL || set->label == NULL || set->cls == NULL || t.slot == NULL)
            st = IAE_ERR_NOMEM;
    }
    if (st == IAE_OK) {
        for (long i = 0; i < t.total; i++) t.slot[i] = -1;
        for (int k = 0; k < n; k++) {
            t.slot[order[k]] = k;
            set->cls[k] = t.labels[order[k]];
            set->label[k] = set->cls[k] != opt->normal_class;
        }
        st = visit_train_files(ctx, opt->dir, &t, store_kept_record);
    }
    if (st == IAE_OK) iae_gcn_l1(set->x, set->n, IAE_CIFAR10_IMAGE_BYTES);

    iae_free(order);
    train_files_free(&t);
    if (st != IAE_OK) iae_dataset_free(set);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Test set and entry point                                                  */
/* ------------------------------------------------------------------------ */

typedef struct {
    iae_dataset *set;
    int normal_class;
} test_fill;

static iae_status store_test_record(iae_ctx *ctx, void *user, long index, const uint8_t *record) {
    test_fill *t = user;
    record_to_floats(record, t->set->x + (size_t)index * IAE_CIFAR10_IMAGE_BYTES);
    t->set->cls[index] = record[0];
    t->set->label[index] = record[0] != t->normal_class;
    return IAE_OK;
}

/* Build the test set before min-max scaling: every record of
 * test_batch.bin in file order. */
static iae_status load_test(iae_ctx *ctx, const iae_cifar10_options *opt, iae_dataset *set) {
    batch_file b;
    FILE *f = NULL;
    iae_status st = open_batch(ctx, opt->dir, TEST_NAME, &b, &f);
    if (st != IAE_OK) return st;
    fclose(f);
    if (b.records > INT32_MAX)
        return iae_fail(ctx, IAE_ERR_FORMAT, "CIFAR-10 file '%s' contains %ld records, more than %d",
                        b.path, b.records, INT32_MAX);

    const int n = (int)b.records;
    *set = (iae_dataset){.n = n, .c = 3, .h = IAE_CIFAR10_SIDE, .w = IAE_CIFAR10_SIDE};
    set->x = iae_alloc(ctx, sizeof(float) * (size_t)n * IAE_CIFAR10_IMAGE_BYTES,
                       "CIFAR-10 test images");
    set->label = iae_alloc(ctx, (size_t)n, "image labels");
    set->cls = iae_alloc(ctx, (size_t)n, "image classes");
    if (set->x == NULL || set->label == NULL || set->cls == NULL) {
        iae_dataset_free(set);
        return IAE_ERR_NOMEM;
    }

    test_fill fill = {.set = set, .normal_class = opt->normal_class};
    st = read_records(ctx, opt->dir, TEST_NAME, b.records, store_test_record, &fill, &b);
    if (st == IAE_OK) iae_gcn_l1(set->x, set->n, IAE_CIFAR10_IMAGE_BYTES);
    if (st != IAE_OK) iae_dataset_free(set);
    return st;
}

/* Check the options and the data directory before any file is read. */
static iae_status check_options(iae_ctx *ctx, const iae_cifar10_options *opt) {
    if (opt->normal_class < 0 || opt->normal_class >= CIFAR_CLASSES)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "normal class %d is out of range; expected a CIFAR-10 class from 0 to 9",
                        opt->normal_class);
    if (!(opt->contamination >= 0.0 && opt->contamination < 1.0))
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "contamination %g is outside [0, 1)",
                        opt->contamination);
    if (opt->have_minmax && !(isfinite(opt->min) && isfinite(opt->max) && opt->min < opt->max))
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "invalid min-max range (%g, %g): expected finite values with min < max",
                        (double)opt->min, (double)opt->max);
    if (opt->dir == NULL || opt->dir[0] == 0)
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "no data directory given: pass --data DIR");

    struct stat info;
    if (stat(opt->dir, &info) != 0) {
        if (errno == ENOENT)
            return iae_fail(ctx, IAE_ERR_IO,
                            "data directory '%s' not found; check the --data path", opt->dir);
        return iae_fail(ctx, IAE_ERR_IO, "cannot read data directory '%s': %s", opt->dir,
                        strerror(errno));
    }
    if (!S_ISDIR(info.st_mode))
        return iae_fail(ctx, IAE_ERR_IO,
                        "data directory '%s' is not a directory; pass the folder that contains "
                        "the CIFAR-10 .bin files (cifar-10-batches-bin)",
                        opt->dir);
    return IAE_OK;
}

static long set_values(const iae_dataset *d) { return (long)d->n * d->c * d->h * d->w; }

iae_status iae_cifar10_load(iae_ctx *ctx, const iae_cifar10_options *opt, iae_dataset *train,
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
        lo = (float)iae_cifar10_reference_minmax[opt->normal_class][0];
        hi = (float)iae_cifar10_reference_minmax[opt->normal_class][1];
    } else {
        computes_range = 1;
    }

    iae_dataset train_set = {0};
    iae_dataset test_set = {0};
    if (train != NULL || computes_range) st = load_train(ctx, opt, &train_set);
    if (st == IAE_OK && computes_range) {
        iae_minmax_range(train_set.x, set_values(&train_set), &lo, &hi);
        if (!(hi > lo))
            st = iae_fail(ctx, IAE_ERR_FORMAT,
                          "the CIFAR-10 training images of class %d in '%s' are constant after "
                          "GCN (min = max = %g), so min-max scaling has no range; use "
                          "--reference-normalization",
                          opt->normal_class, opt->dir, (double)lo);
    }
    if (st == IAE_OK && test != NULL) st = load_test(ctx, opt, &test_set);
    if (st != IAE_OK) {
        iae_dataset_free(&train_set);
        iae_dataset_free(&test_set);
        return st;
    }

    /* Min-max scaling with the one range of this run, for all channels. */
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
