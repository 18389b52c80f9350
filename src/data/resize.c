/*
 * Separable antialiased bilinear resizing; resize.h states the filter.
 *
 * The weights of each axis are computed once per plan in double and the
 * sums run in double, so the result does not depend on how the loops are
 * ordered. Everything runs on the calling thread.
 */
#include "data/resize.h"

#include <math.h>
#include <string.h>

#include "data/image.h"

/* The triangle (bilinear) filter, non-zero on (-1, 1). */
static double triangle(double d) {
    d = fabs(d);
    return d < 1.0 ? 1.0 - d : 0.0;
}

static void axis_free(iae_resize_axis *a) {
    iae_free(a->first);
    iae_free(a->taps);
    iae_free(a->weight);
    memset(a, 0, sizeof(*a));
}

/* Compute the weights of one axis from in_size to out_size. */
static iae_status axis_init(iae_ctx *ctx, iae_resize_axis *a, int in_size, int out_size) {
    const double scale = (double)in_size / (double)out_size;
    const double filter_scale = scale > 1.0 ? scale : 1.0;
    const double support = filter_scale; /* the triangle's support of 1, stretched */

    /* An interval of width 2 support contains at most ceil(support) * 2 + 1
     * integer positions. */
    memset(a, 0, sizeof(*a));
    a->in_size = in_size;
    a->out_size = out_size;
    a->max_taps = (int)ceil(support) * 2 + 1;
    a->first = iae_alloc(ctx, sizeof(int) * (size_t)out_size, "resize tap offsets");
    a->taps = iae_alloc(ctx, sizeof(int) * (size_t)out_size, "resize tap counts");
    a->weight = iae_alloc(ctx, sizeof(double) * (size_t)out_size * (size_t)a->max_taps,
                          "resize weights");
    if (a->first == NULL || a->taps == NULL || a->weight == NULL) {
        axis_free(a);
        return IAE_ERR_NOMEM;
    }

    for (int i = 0; i < out_size; i++) {
        const double centre = (i + 0.5) * scale;

        /* Inputs j with j + 0.5 inside (centre - support, centre + support),
         * clipped to the image; the cast truncates as PIL's does. */
        int lo = (int)(centre - support + 0.5);
        int hi = (int)(centre + support + 0.5);
        if (lo < 0) lo = 0;
        if (hi > in_size) hi = in_size;
        int taps = hi - lo;
        IAE_ASSERT(taps >= 1 && taps <= a->max_taps);

        double *w = a->weight + (size_t)i * a->max_taps;
        double total = 0.0;
        for (int k = 0; k < taps; k++) {
            w[k] = triangle((lo + k + 0.5 - centre) / filter_scale);
            total += w[k];
        }
        /* The input nearest the centre is within half a pixel of it, so its
         * weight, and the total, is at least 0.5 / filter_scale. */
        IAE_ASSERT(total > 0.0);
        for (int k = 0; k < taps; k++) w[k] /= total;

        a->first[i] = lo;
        a->taps[i] = taps;
    }
    return IAE_OK;
}

iae_status iae_resize_plan_init(iae_ctx *ctx, iae_resize_plan *plan, int c, int in_h, int in_w,
                                int out_h, int out_w) {
    memset(plan, 0, sizeof(*plan));
    const int sizes[4] = {in_h, in_w, out_h, out_w};
    for (int k = 0; k < 4; k++)
        if (sizes[k] < 1 || sizes[k] > IAE_IMAGE_MAX_SIDE)
            return iae_fail(ctx, IAE_ERR_ARGUMENT,
                            "cannot resize %d x %d pixels to %d x %d (height x width); every "
                            "side must be from 1 to %d",
                            in_h, in_w, out_h, out_w, IAE_IMAGE_MAX_SIDE);
    if (c < 1)
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "cannot resize an image of %d channels", c);

    plan->c = c;
    plan->in_h = in_h;
    plan->in_w = in_w;
    plan->out_h = out_h;
    plan->out_w = out_w;
    iae_status st = axis_init(ctx, &plan->rows, in_h, out_h);
    if (st == IAE_OK) st = axis_init(ctx, &plan->cols, in_w, out_w);
    if (st == IAE_OK) {
        plan->between = iae_alloc(ctx, sizeof(float) * (size_t)c * in_h * out_w,
                                  "resize buffer between the passes");
        if (plan->between == NULL) st = IAE_ERR_NOMEM;
    }
    if (st != IAE_OK) iae_resize_plan_free(plan);
    return st;
}

void iae_resize_plan_free(iae_resize_plan *plan) {
    axis_free(&plan->rows);
    axis_free(&plan->cols);
    iae_free(plan->between);
    memset(plan, 0, sizeof(*plan));
}

/* Horizontal pass: src (C, H, in_w) -> dst (C, H, out_w). */
static void resize_cols(const iae_resize_axis *a, const float *src, long rows, float *dst) {
    for (long r = 0; r < rows; r++) {
        const float *in = src + r * a->in_size;
        float *out = dst + r * a->out_size;
        for (int i = 0; i < a->out_size; i++) {
            const double *w = a->weight + (size_t)i * a->max_taps;
            const float *x = in + a->first[i];
            double sum = 0.0;
            for (int k = 0; k < a->taps[i]; k++) sum += w[k] * x[k];
            out[i] = (float)sum;
        }
    }
}

/* Vertical pass: src (C, in_h, W) -> dst (C, out_h, W). */
static void resize_rows(const iae_resize_axis *a, const float *src, int c, int width,
                        float *dst) {
    for (int ch = 0; ch < c; ch++) {
        const float *in = src + (size_t)ch * a->in_size * width;
        float *out = dst + (size_t)ch * a->out_size * width;
        for (int i = 0; i < a->out_size; i++) {
            const double *w = a->weight + (size_t)i * a->max_taps;
            const float *x = in + (size_t)a->first[i] * width;
            for (int col = 0; col < width; col++) {
                double sum = 0.0;
                for (int k = 0; k < a->taps[i]; k++) sum += w[k] * x[(size_t)k * width + col];
                out[(size_t)i * width + col] = (float)sum;
            }
        }
    }
}

void iae_resize_apply(iae_resize_plan *plan, const float *x, float *out) {
    const size_t in_values = (size_t)plan->c * plan->in_h * plan->in_w;
    if (plan->in_h == plan->out_h && plan->in_w == plan->out_w) {
        memcpy(out, x, sizeof(float) * in_values);
        return;
    }
    resize_cols(&plan->cols, x, (long)plan->c * plan->in_h, plan->between);
    resize_rows(&plan->rows, plan->between, plan->c, plan->out_w, out);
}

iae_status iae_resize(iae_ctx *ctx, const float *x, int c, int in_h, int in_w, float *out,
                      int out_h, int out_w) {
    iae_resize_plan plan;
    iae_status st = iae_resize_plan_init(ctx, &plan, c, in_h, in_w, out_h, out_w);
    if (st != IAE_OK) return st;
    iae_resize_apply(&plan, x, out);
    iae_resize_plan_free(&plan);
    return IAE_OK;
}
