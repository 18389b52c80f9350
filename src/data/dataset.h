/*
 * An image data set after preprocessing, with one-class labels.
 *
 * Shapes: N images, C channels, H x W pixels. The images are stored as
 * floats in (N, C, H, W) order; label and cls hold one byte per image.
 */
#ifndef IAE_DATASET_H
#define IAE_DATASET_H

#include <stdint.h>

typedef struct {
    int n, c, h, w;
    float *x;       /* (N, C, H, W) preprocessed, iae_alloc'd */
    uint8_t *label; /* (N) 0 = normal, 1 = anomalous */
    uint8_t *cls;   /* (N) original class index */
} iae_dataset;

/* Free the buffers of d and zero it. Safe on a zeroed struct. */
void iae_dataset_free(iae_dataset *d);

#endif
