/*
 * A small synthetic data set in the real Fashion-MNIST file format, for tests
 * that must not depend on the installed data set: 28x28 images whose class k
 * is a bright square at a class-specific position over weak noise.
 */
#ifndef IAE_TEST_SYNTHETIC_H
#define IAE_TEST_SYNTHETIC_H

/* Write train-/t10k- images and labels into dir: per_class training images
 * of each of the 10 classes and n_test test images with labels cycling 0..9.
 * gzip selects .gz files. */
void synth_write_fmnist(const char *dir, int per_class, int n_test, int gzip);

#endif
