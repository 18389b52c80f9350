/*
 * Linear layer without bias: y = x w^T.
 * x (N, I), w (O, I), y (N, O).  Backward: dx = dy w, dw = dy^T x.
 */
#include <cblas.h>

#include "layers/layers.h"

void iae_linear_forward(int n, int in, int out, const float *x, const float *w, float *y) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, out, in, 1.0f, x, in, w, in, 0.0f, y, out);
}

void iae_linear_backward(int n, int in, int out, const float *x, const float *w, const float *dy,
                         float *dx, float *dw) {
    if (dx != NULL)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, in, out, 1.0f, dy, out, w, in, 0.0f,
                    dx, in);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, n, 1.0f, dy, out, x, in, 0.0f, dw, in);
}
