/*
 * Fashion-MNIST as a one-class problem: one class is normal, the other nine
 * are anomalous.
 *
 * The training set contains only the normal class's training images. The
 * test set contains all test images, normal ones labelled 0 and the rest 1. Images
 * go through the preprocessing of preprocess.h: 28 x 28 padded to 32 x 32,
 * scaled to [0, 1], L1 GCN and min-max scaling.
 */
#ifndef IAE_FASHION_MNIST_H
#define IAE_FASHION_MNIST_H

#include <stdint.h>

#include "core/core.h"
#include "data/dataset.h"

typedef struct {
    const char *dir;             /* folder with the four IDX files, each .gz or plain */
    int dir_is_default;          /* 1: dir is the built-in default, 0: the user gave it (--data) */
    int normal_class;            /* 0..9 */
    int reference_normalization; /* 1: (min, max) from iae_fmnist_reference_minmax[normal_class] */
    int have_minmax;             /* 1: use min and max below, e.g. stored in a model file */
    float min, max;              /* min-max range when have_minmax is 1; needs min < max */
    double contamination;        /* share of anomalies mixed into the training set, [0, 1) */
    uint64_t seed;               /* seed of the contamination draw */
} iae_fmnist_options;

/* Number of anomalies that make up the share r of a training set with
 * n_normal normal images: int(n_normal r / (1 - r)), as the reference code
 * computes it (6000 and 0.05 give 315, 6000 and 0.1 give 666). */
int iae_contamination_count(int n_normal, double r);

/* Load and preprocess the one-class split of the data set in opt->dir.
 *
 * The min-max range comes from, in order of precedence: opt->min and
 * opt->max when have_minmax is set, the reference table when
 * reference_normalization is set, else the minimum and maximum over the
 * normal class's training images after padding, scaling and GCN. The range
 * used is stored in *min_out and *max_out (either may be NULL).
 *
 * train or test may be NULL to skip that set. The training files are still
 * read when the range comes from them. Each of the four files may be
 * gzip-compressed (name + ".gz", preferred when both exist) or plain.
 * On failure train and test are zeroed with nothing allocated, and ctx->error
 * names the file or value at fault. Only a missing folder or file is reported
 * as "not found". A missing default folder gets advice on installing the
 * data set, and a missing user-given one a request to check the --data path.
 * Any other error, such as EACCES, is reported as "cannot read" with the
 * system's message. */
iae_status iae_fmnist_load(iae_ctx *ctx, const iae_fmnist_options *opt, iae_dataset *train,
                           iae_dataset *test, float *min_out, float *max_out);

#endif
