/*
 * Bilinear resizing of float images, per channel, from any size to any size,
 * with antialiasing when down-scaling, as PIL's Image.resize with
 * Image.BILINEAR does it (and so torchvision's Resize on PIL images).
 *
 * Each output coordinate i along an axis of in_size -> out_size samples the
 * input around the centre (i + 0.5) * scale, scale = in_size / out_size, with
 * the triangle filter t(d) = max(0, 1 - |d|) stretched by
 * filter_scale = max(scale, 1):
 *   weight of input j = t((j + 0.5 - centre) / filter_scale),
 * over the inputs j whose weight can be non-zero, clipped to the image and
 * normalised to sum 1. Up-scaling (scale <= 1) is therefore plain bilinear
 * interpolation between pixel centres with the edges clamped, and
 * down-scaling by a factor s averages over about 2 s input pixels. The
 * horizontal pass runs first, then the vertical pass, as in PIL.
 *
 * Compared with Pillow 9.4 on random images (sizes from 3 x 4 to
 * 1024 x 1024, down and up), the result equals Pillow's resize of float
 * ("F") images to float precision.
 * NOTE: Pillow resizes 8-bit images in fixed point and rounds to 8 bits
 * after each pass. These functions stay in float, so on 8-bit input they
 * differ from Pillow's 8-bit output by up to one level in 255 in that
 * comparison.
 *
 * Shapes: C channels, planar. x is (C, in_h, in_w) and out is
 * (C, out_h, out_w), row-major and contiguous.
 */
#ifndef IAE_RESIZE_H
#define IAE_RESIZE_H

#include "core/core.h"

/* Weights of one axis: output i takes taps[i] consecutive inputs from
 * first[i], with weights weight[i * max_taps .. i * max_taps + taps[i]). */
typedef struct {
    int in_size, out_size;
    int max_taps;
    int *first;    /* (out_size) */
    int *taps;      /* (out_size) */
    double *weight; /* (out_size, max_taps) */
} iae_resize_axis;

/* A resize from (C, in_h, in_w) to (C, out_h, out_w), with its weights and
 * the (C, in_h, out_w) buffer between the two passes allocated once, so one
 * plan resizes any number of images of the same size without allocating. */
typedef struct {
    int c, in_h, in_w, out_h, out_w;
    iae_resize_axis rows; /* vertical pass, in_h -> out_h */
    iae_resize_axis cols; /* horizontal pass, in_w -> out_w */
    float *between;       /* (C, in_h, out_w) */
} iae_resize_plan;

/* Prepare plan for images of c channels from in_h x in_w to out_h x out_w
 * pixels. Every size must be between 1 and IAE_IMAGE_MAX_SIDE. On failure
 * the plan is zeroed and ctx->error names the bad size. */
iae_status iae_resize_plan_init(iae_ctx *ctx, iae_resize_plan *plan, int c, int in_h, int in_w,
                                int out_h, int out_w);

/* Resize x (C, in_h, in_w) into out (C, out_h, out_w) with plan. x and out
 * must not overlap. An equal size copies x unchanged. */
void iae_resize_apply(iae_resize_plan *plan, const float *x, float *out);

/* Free the plan's buffers and zero it. Safe on a zeroed plan. */
void iae_resize_plan_free(iae_resize_plan *plan);

/* Resize one image: plan, apply and free in one call, so it allocates the
 * weights and a (C, in_h, out_w) float buffer on every call. Use a plan to
 * resize many images of one size. */
iae_status iae_resize(iae_ctx *ctx, const float *x, int c, int in_h, int in_w, float *out,
                      int out_h, int out_w);

#endif
