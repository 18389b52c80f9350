/*
 * Linear layer without bias: y = x w^T.
 * x (N, I), w (O, I), y (N, O).  Backward: dx = dy w, dw = dy^T x.
 */
#include <cblas.h>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

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

/* Dot product of a and b (n values) in a fixed order: 16 lanes, two
 * accumulators, then a fixed reduction. Used where a result must not depend
 * on which other rows share the call. */
static float dot_fixed(const float *a, const float *b, int n) {
    int k = 0;
    float sum = 0.0f;
#if defined(__AVX512F__)
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    for (; k + 32 <= n; k += 32) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + k), _mm512_loadu_ps(b + k), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + k + 16), _mm512_loadu_ps(b + k + 16), s1);
    }
    sum = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
#endif
    for (; k < n; k++) sum += a[k] * b[k];
    return sum;
}

void iae_linear_forward_rowwise(int n, int in, int out, const float *x, const float *w, const float *bias,
                                float *y) {
    /* Each weight row stays in L1 while every sample uses it. */
#pragma omp parallel for schedule(static)
    for (int j = 0; j < out; j++) {
        const float *wj = w + (long)j * in;
        const float bj = bias ? bias[j] : 0.0f;
        for (int b = 0; b < n; b++) y[(long)b * out + j] = dot_fixed(x + (long)b * in, wj, in) + bj;
    }
}
