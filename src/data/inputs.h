/*
 * Inputs of 'iae score': gray images from an IDX file (gzip or plain), a PNG
 * or PGM image, or standard input ("-") in any of these formats, told apart
 * by their first bytes.
 */
#ifndef IAE_INPUTS_H
#define IAE_INPUTS_H

#include <stdint.h>

#include "core/core.h"

typedef struct {
    int n, h, w;
    uint8_t *pixels; /* (N, H, W), 8-bit gray, iae_alloc'd */
} iae_gray_images;

/* Load path: an IDX file of rank 3 (N, H, W) or rank 2 (one H x W image), a
 * PNG or PGM image (colour is converted to gray), or "-" for standard input. */
iae_status iae_gray_images_load(iae_ctx *ctx, const char *path, iae_gray_images *out);
void iae_gray_images_free(iae_gray_images *g);

#endif
