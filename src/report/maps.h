/*
 * Pixel-level anomaly maps of MVTec AD test images, and their pixel AUROC
 * against the ground-truth masks.
 *
 * The map of a test image is the squared reconstruction error per pixel of
 * the network's 64 x 64 output, summed over the 3 channels:
 *   e(y, x) = sum_c (xhat(c, y, x) - x(c, y, x))^2,
 * scored in the model's default LSTM context (memory for LSTM models, so a
 * map does not depend on the other test images), then resized to the
 * image's stored size with the bilinear resize of data/resize.h.
 *
 * PNG files: one 8-bit gray PNG per test image, "<defect>_<name>.png" with
 * name the image's file name without extension, such as good_000.png or
 * broken_large_003.png. Gray level 0 is the smallest and 255 the largest
 * map value over the whole test set: v = round(255 (e - min) / (max - min)).
 *
 * Pixel AUROC: every pixel of every test image is one sample, labelled 1
 * where the mask is set and 0 elsewhere. Images of test/good count as all
 * normal. Defective images without a mask file are left out and counted.
 * Images whose longer side is at most IAE_PIXEL_AUROC_MAX_SIDE pixels are
 * evaluated at their stored size. Larger ones, such as the 700 to 1024 pixel
 * images of the MVTec AD release, are evaluated at a size scaled down so
 * the longer side is IAE_PIXEL_AUROC_MAX_SIDE. There the map is resized
 * from 64 x 64 to that size directly, and the mask is sampled at the
 * nearest pixel centre. The ranking takes about 21 bytes per evaluated
 * pixel (score, label and iae_auroc's sort record), so 150 images at
 * 256 x 256 need about 200 MB, where their stored size would need over
 * 3 GB.
 */
#ifndef IAE_MAPS_H
#define IAE_MAPS_H

#include "data/dataset.h"
#include "data/mvtec.h"
#include "model/detector.h"

#define IAE_PIXEL_AUROC_MAX_SIDE 256

typedef struct {
    double pixel_auroc;  /* NaN when no evaluated pixel is anomalous or none is normal */
    long pixels;         /* pixels ranked for the AUROC */
    int images;          /* test images whose pixels were ranked */
    int missing_masks;   /* defective test images left out for lack of a mask */
    int maps_written;    /* PNG files written */
    float min, max;      /* range of the map values over the test set */
} iae_map_result;

/* Compute the anomaly map of every image of test (the MVTec test set that
 * info describes, in the same order), write them as PNG into dir unless
 * dir is NULL, and compute the pixel AUROC into out. batch_size bounds the
 * images per forward pass (at most the network's maximum batch). dir must
 * exist. Fails for a model without a decoder. ctx->error names the file on
 * a read or write failure. */
iae_status iae_mvtec_maps(iae_ctx *ctx, iae_detector *d, const iae_dataset *test, const iae_mvtec_info *info,
                          int batch_size, const char *dir, iae_map_result *out);

#endif
