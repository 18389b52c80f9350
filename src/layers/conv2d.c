/*
 * Conv2d without bias, as im2col + GEMM per image.
 *
 * Forward, per image b:  col = im2col(x_b)  (Cin*k*k, Hout*Wout)
 *                        y_b = w col        w viewed as (Cout, Cin*k*k)
 * Backward, per image b: dw += dy_b col^T
 *                        dx_b = col2im(w^T dy_b)
 * Images are split over OpenMP threads, each running a single-threaded GEMM.
 * Each thread sums dw over its images in its own slice of scratch; the slices
 * are then added in thread order, so dw depends only on the thread count.
 */
#include <cblas.h>
#include <string.h>

#include "layers/layers.h"

iae_status iae_conv2d_geom(iae_ctx *ctx, iae_conv_geom *g, int cin, int cout, int hin, int win, int k,
                           int stride, int pad) {
    memset(g, 0, sizeof(*g));
    if (cin < 1 || cout < 1 || k < 1 || stride < 1 || pad < 0)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "invalid convolution: cin %d cout %d kernel %d stride %d pad %d", cin, cout,
                        k, stride, pad);
    int hout = (hin + 2 * pad - k) / stride + 1;
    int wout = (win + 2 * pad - k) / stride + 1;
    if (hin + 2 * pad < k || win + 2 * pad < k || hout < 1 || wout < 1)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "convolution with kernel %d, padding %d does not fit a %dx%d input", k, pad,
                        hin, win);
    *g = (iae_conv_geom){cin, cout, hin, win, hout, wout, k, stride, pad, 0};
    return IAE_OK;
}

long iae_conv2d_scratch_floats(const iae_conv_geom *g, int threads) {
    long kk = (long)g->cin * g->k * g->k;
    long hw = (long)g->hout * g->wout;
    return threads * (2 * kk * hw + g->cout * kk);
}

void iae_conv2d_forward(const iae_conv_geom *g, int n, const float *x, const float *w, float *y,
                        float *scratch) {
    const int kk = g->cin * g->k * g->k;
    const int hw = g->hout * g->wout;
    const long in_size = (long)g->cin * g->hin * g->win;
    const long out_size = (long)g->cout * hw;

#pragma omp parallel for schedule(static)
    for (int b = 0; b < n; b++) {
        float *col = scratch + (long)iae_thread_id() * kk * hw;
        iae_im2col(x + b * in_size, g->cin, g->hin, g->win, g->k, g->stride, g->pad, g->hout, g->wout,
                   col);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->cout, hw, kk, 1.0f, w, kk, col, hw,
                    0.0f, y + b * out_size, hw);
    }
}

void iae_conv2d_backward(const iae_conv_geom *g, int n, const float *x, const float *w,
                         const float *dy, float *dx, float *dw, float *scratch) {
    const int kk = g->cin * g->k * g->k;
    const int hw = g->hout * g->wout;
    const long in_size = (long)g->cin * g->hin * g->win;
    const long out_size = (long)g->cout * hw;
    const long per_thread = 2L * kk * hw + (long)g->cout * kk;

#pragma omp parallel
    {
        const int threads = iae_team_size();
        float *col = scratch + (long)iae_thread_id() * per_thread;
        float *dcol = col + (long)kk * hw;
        float *dw_part = dcol + (long)kk * hw;
        memset(dw_part, 0, sizeof(float) * g->cout * kk);

#pragma omp for schedule(static)
        for (int b = 0; b < n; b++) {
            const float *dy_b = dy + b * out_size;

            /* dw += dy_b (Cout, HW) col^T (HW, Cin*k*k) */
            iae_im2col(x + b * in_size, g->cin, g->hin, g->win, g->k, g->stride, g->pad, g->hout,
                       g->wout, col);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g->cout, kk, hw, 1.0f, dy_b, hw,
                        col, hw, 1.0f, dw_part, kk);

            /* dx_b = col2im(w^T (Cin*k*k, Cout) dy_b (Cout, HW)) */
            if (dx != NULL) {
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, kk, hw, g->cout, 1.0f, w, kk,
                            dy_b, hw, 0.0f, dcol, hw);
                float *dx_b = dx + b * in_size;
                memset(dx_b, 0, sizeof(float) * in_size);
                iae_col2im(dcol, g->cin, g->hin, g->win, g->k, g->stride, g->pad, g->hout, g->wout,
                           dx_b);
            }
        }

        /* Add the per-thread partial sums in thread order (deterministic). */
#pragma omp for schedule(static)
        for (long i = 0; i < (long)g->cout * kk; i++) {
            float sum = 0.0f;
            for (int t = 0; t < threads; t++) sum += scratch[(long)t * per_thread + 2L * kk * hw + i];
            dw[i] = sum;
        }
    }
}
