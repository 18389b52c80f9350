/*
 * ConvTranspose2d without bias, PyTorch weight layout (Cin, Cout, k, k).
 *
 * A transposed convolution is the adjoint of a Conv2d that maps the output
 * grid (Cout, Hout, Wout) back to the input grid (Cin, Hin, Win) with the same
 * weight, so it reuses im2col/col2im with the roles of input and output swapped:
 * Forward, per image b:  col = w^T x_b            w viewed as (Cin, Cout*k*k)
 *                        y_b = col2im(col)        col (Cout*k*k, Hin*Win)
 * Backward, per image b: dcol = im2col(dy_b)
 *                        dx_b = w dcol
 *                        dw += x_b dcol^T
 */
#include <cblas.h>
#include <string.h>

#include "layers/layers.h"

iae_status iae_conv_transpose2d_geom(iae_ctx *ctx, iae_conv_geom *g, int cin, int cout, int hin,
                                     int win, int k, int stride, int pad, int out_pad) {
    memset(g, 0, sizeof(*g));
    if (cin < 1 || cout < 1 || k < 1 || stride < 1 || pad < 0 || out_pad < 0 || out_pad >= stride)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "invalid transposed convolution: cin %d cout %d kernel %d stride %d pad %d "
                        "output padding %d (must be below the stride)",
                        cin, cout, k, stride, pad, out_pad);
    int hout = (hin - 1) * stride - 2 * pad + k + out_pad;
    int wout = (win - 1) * stride - 2 * pad + k + out_pad;
    if (hin < 1 || win < 1 || hout < 1 || wout < 1)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "transposed convolution of a %dx%d input gives an empty %dx%d output", hin,
                        win, hout, wout);
    *g = (iae_conv_geom){cin, cout, hin, win, hout, wout, k, stride, pad, out_pad};
    return IAE_OK;
}

long iae_conv_transpose2d_scratch_floats(const iae_conv_geom *g, int threads) {
    long ck = (long)g->cout * g->k * g->k;
    long hw_in = (long)g->hin * g->win;
    return threads * (ck * hw_in + (long)g->cin * ck);
}

void iae_conv_transpose2d_forward(const iae_conv_geom *g, int n, const float *x, const float *w,
                                  float *y, float *scratch) {
    const int ck = g->cout * g->k * g->k;
    const int hw_in = g->hin * g->win;
    const long in_size = (long)g->cin * hw_in;
    const long out_size = (long)g->cout * g->hout * g->wout;

#pragma omp parallel for schedule(static)
    for (int b = 0; b < n; b++) {
        float *col = scratch + (long)iae_thread_id() * ck * hw_in;
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, ck, hw_in, g->cin, 1.0f, w, ck,
                    x + b * in_size, hw_in, 0.0f, col, hw_in);
        float *y_b = y + b * out_size;
        memset(y_b, 0, sizeof(float) * out_size);
        iae_col2im(col, g->cout, g->hout, g->wout, g->k, g->stride, g->pad, g->hin, g->win, y_b);
    }
}

void iae_conv_transpose2d_backward(const iae_conv_geom *g, int n, const float *x, const float *w,
                                   const float *dy, float *dx, float *dw, float *scratch) {
    const int ck = g->cout * g->k * g->k;
    const int hw_in = g->hin * g->win;
    const long in_size = (long)g->cin * hw_in;
    const long out_size = (long)g->cout * g->hout * g->wout;
    const long per_thread = (long)ck * hw_in + (long)g->cin * ck;

#pragma omp parallel
    {
        const int threads = iae_team_size();
        float *dcol = scratch + (long)iae_thread_id() * per_thread;
        float *dw_part = dcol + (long)ck * hw_in;
        memset(dw_part, 0, sizeof(float) * g->cin * ck);

#pragma omp for schedule(static)
        for (int b = 0; b < n; b++) {
            const float *x_b = x + b * in_size;
            iae_im2col(dy + b * out_size, g->cout, g->hout, g->wout, g->k, g->stride, g->pad, g->hin,
                       g->win, dcol);

            /* dw += x_b (Cin, HWin) dcol^T (HWin, Cout*k*k) */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g->cin, ck, hw_in, 1.0f, x_b, hw_in,
                        dcol, hw_in, 1.0f, dw_part, ck);

            /* dx_b = w (Cin, Cout*k*k) dcol (Cout*k*k, HWin) */
            if (dx != NULL)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->cin, hw_in, ck, 1.0f, w, ck,
                            dcol, hw_in, 0.0f, dx + b * in_size, hw_in);
        }

#pragma omp for schedule(static)
        for (long i = 0; i < (long)g->cin * ck; i++) {
            float sum = 0.0f;
            for (int t = 0; t < threads; t++) sum += scratch[(long)t * per_thread + (long)ck * hw_in + i];
            dw[i] = sum;
        }
    }
}
