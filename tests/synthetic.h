/*
 * A small synthetic data set in the real Fashion-MNIST file format, for tests
 * that must not depend on the installed data set: 28x28 images whose class k
 * is a bright square at a class-specific position over weak noise.
 */
#ifndef IAE_TEST_SYNTHETIC_H
#define IAE_TEST_SYNTHETIC_H

#include <stdint.h>

/* Write train-/t10k- images and labels into dir: per_class training images
 * of each of the 10 classes and n_test test images with labels cycling 0..9.
 * gzip selects .gz files. */
void synth_write_fmnist(const char *dir, int per_class, int n_test, int gzip);

/* Resize one plane x (h, w) to out (out_h, out_w) in double, as a check of
 * data/resize.h written independently of it: each output value is the sum
 * over every input pixel of the product of the two axis weights, where the
 * weight of input j for output i is the triangle t(d) = max(0, 1 - |d|) at
 * d = (j + 0.5 - (i + 0.5) s) / max(s, 1), s = in / out, divided by the sum
 * of those weights over the whole axis. */
void synth_resize_reference(const double *x, int h, int w, int out_h, int out_w, double *out);

/* Write a PNG of w x h pixels with libpng's full write API, which adds no
 * gAMA or other ancillary chunk. bit_depth is 8 or 16, and color_type is
 * PNG_COLOR_TYPE_GRAY, _RGB, _RGB_ALPHA or _PALETTE. A palette image takes
 * n_palette RGB triples from palette. rows contains the rows as PNG stores
 * them, 16-bit samples big-endian. Fails the test on error. */
void synth_write_png(const char *path, int w, int h, int bit_depth, int color_type,
                     const uint8_t *rows, const uint8_t *palette, int n_palette);

/* Write the six CIFAR-10 binary batches (data_batch_1.bin .. data_batch_5.bin,
 * test_batch.bin) into dir: per_class training images of each class spread
 * over the five batches, and n_test test images with labels cycling
 * 0..9. Class k is a bright square at a class-specific place and colour
 * over weak noise. */
void synth_write_cifar10(const char *dir, int per_class, int n_test);

/* Write one MVTec AD category under root/category: n_train training images,
 * n_good normal test images and n_defect images of the defect folder
 * "crack" with their masks under ground_truth/crack, all RGB PNGs of
 * w x h pixels named 000.png, 001.png, ... A defect is a dark disc, and
 * its mask is 255 inside the disc. */
void synth_write_mvtec(const char *root, const char *category, int n_train, int n_good, int n_defect, int w,
                       int h);

/* Write a WTBI-style CSV file: columns time, group, f0 .. f<d-1>, frozen.
 * Normal rows (frozen 0) follow slow sines; n_anomalous rows in the middle
 * of the file (frozen 1) are shifted and noisy. */
void synth_write_wtbi_csv(const char *path, int n_normal, int n_anomalous, int d);

/* Write n RGB PNG images of w x h pixels into dir (created if needed):
 * smooth stripes, with a bright blob in anomalous ones. seed varies the
 * images. */
void synth_write_png_folder(const char *dir, int n, int anomalous, int w, int h, int seed);

#endif
