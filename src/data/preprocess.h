/*
 * Image preprocessing for the one-class experiments, in this order:
 *   1. pad each h x w image with pad zero pixels on every side,
 *   2. divide by 255, so values lie in [0, 1],
 *   3. L1 global contrast normalisation (GCN) per image, over all values,
 *      padding included: x <- x - mean(x), then x <- x / mean(|x|),
 *   4. min-max scaling x <- (x - min) / (max - min), with one (min, max)
 *      pair shared by every image of a run.
 *
 * The per-image loops run in parallel under OpenMP with a static schedule.
 * Each image is handled by one thread with sequential double sums, so the
 * results do not depend on the thread count.
 */
#ifndef IAE_PREPROCESS_H
#define IAE_PREPROCESS_H

#include <stdint.h>

/* Steps 1 to 3: pad, scale to [0, 1] and apply L1 GCN.
 * img is (N, h, w) bytes; out is (N, 1, h + 2 pad, w + 2 pad). */
void iae_pad_scale_gcn(const uint8_t *img, int n, int h, int w, int pad, float *out);

/* Step 3 in place on x, (N, size): subtract the image's mean, then divide by
 * the mean absolute value of the result, with both means taken in double.
 * NOTE: a constant image has mean(|x|) = 0 and is left at all zeros, where
 * dividing by mean(|x|) would give NaN (0 / 0). */
void iae_gcn_l1(float *x, long n, long size);

/* Minimum and maximum of x[0..count); count must be > 0. NaN values are
 * skipped, so check the input with iae_all_finite where NaN is possible. */
void iae_minmax_range(const float *x, long count, float *min, float *max);

/* Step 4 in place on x[0..count): x <- (x - min) / (max - min), computed in
 * double. Requires max > min (checked with IAE_ASSERT), so callers must
 * validate a user-supplied pair first. */
void iae_minmax_apply(float *x, long count, float min, float max);

/* Fixed (min, max) pairs per normal class k = 0..9 for reference
 * normalisation, which uses them in place of a range computed from the data.
 * NOTE: the Fashion-MNIST table is not the range of Fashion-MNIST after this
 * preprocessing. For class 0 the training images give (-1.349, 27.035) with
 * the 2-pixel padding and (-2.681, 24.854) without it, against
 * (-0.883, 9.002) here. The same numbers appear as the per-class MNIST table
 * in public code derived from Deep SVDD, so they are most likely MNIST's. */
extern const double iae_fmnist_reference_minmax[10][2];
extern const double iae_cifar10_reference_minmax[10][2];

#endif
