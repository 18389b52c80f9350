/*
 * CIFAR-10 (binary version) as a one-class problem: one class is normal, the
 * other nine are anomalous.
 *
 * The folder contains data_batch_1.bin .. data_batch_5.bin (training) and
 * test_batch.bin (test), as unpacked from cifar-10-binary.tar.gz into
 * cifar-10-batches-bin/. Each file is a sequence of 3073-byte records: one
 * label byte (0..9), then the 32 x 32 red, green and blue planes, 1024 bytes
 * each, row-major. A file must contain at least one record and a whole
 * number of them. The real files contain 10000 each.
 *
 * The training set contains the normal class's training images in file
 * order (data_batch_1 first), plus contamination drawn as for
 * Fashion-MNIST. The test set contains every test image in file order, the
 * normal class labelled 0 and the rest 1. Every image (C = 3, H = W = 32) is
 * scaled to [0, 1], normalised by L1 GCN over all 3072 values and min-max
 * scaled with one (min, max) pair for all three channels.
 */
#ifndef IAE_CIFAR10_H
#define IAE_CIFAR10_H

#include <stdint.h>

#include "core/core.h"
#include "data/dataset.h"

#define IAE_CIFAR10_SIDE 32
#define IAE_CIFAR10_CHANNELS 3
#define IAE_CIFAR10_IMAGE_BYTES 3072  /* 3 x 32 x 32 */
#define IAE_CIFAR10_RECORD_BYTES 3073 /* label byte + image */

typedef struct {
    const char *dir;             /* folder with the six .bin files */
    int normal_class;            /* 0..9 */
    int reference_normalization; /* 1: (min, max) from iae_cifar10_reference_minmax[normal_class] */
    int have_minmax;             /* 1: use min and max below, e.g. stored in a model file */
    float min, max;              /* min-max range when have_minmax is 1; needs min < max */
    double contamination;        /* share of anomalies mixed into the training set, [0, 1) */
    uint64_t seed;               /* seed of the contamination draw */
} iae_cifar10_options;

/* Load and preprocess the one-class split of the CIFAR-10 files in opt->dir.
 *
 * The min-max range comes from, in order of precedence: opt->min and
 * opt->max when have_minmax is set, the reference table when
 * reference_normalization is set, else the minimum and maximum over the
 * training set after scaling and GCN (contaminating images included). The
 * range used is stored in *min_out and *max_out (either may be NULL).
 *
 * Contamination appends iae_contamination_count(n_normal, r) training images
 * of the other classes, labelled 1, drawn without replacement by the seeded
 * IAE_STREAM_CONTAMINATION stream from all of them in file order, exactly as
 * iae_fmnist_load draws them.
 *
 * train or test may be NULL to skip that set; the training files are still
 * read when the range comes from them. Files are read record by record, so
 * besides the output the loader keeps only the labels and the selected
 * training records. On failure train and test are zeroed with nothing
 * allocated, and ctx->error names the file and the problem: missing file,
 * directory or other non-regular file, unreadable file (with the system's
 * message, such as EACCES), empty file or a size that is not a multiple of
 * 3073 bytes, or a label byte above 9 (with the record index). */
iae_status iae_cifar10_load(iae_ctx *ctx, const iae_cifar10_options *opt, iae_dataset *train,
                            iae_dataset *test, float *min_out, float *max_out);

#endif
