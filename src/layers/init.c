/*
 * Parameter initialisation schemes matching PyTorch's torch.nn.init.
 */
#include <math.h>
#include <string.h>

#include "layers/layers.h"

/* LAPACK (Fortran interface, provided by OpenBLAS). */
void sgeqrf_(const int *m, const int *n, float *a, const int *lda, float *tau, float *work,
             const int *lwork, int *info);
void sorgqr_(const int *m, const int *n, const int *k, float *a, const int *lda, const float *tau,
             float *work, const int *lwork, int *info);

float iae_leaky_relu_gain(float slope) { return sqrtf(2.0f / (1.0f + slope * slope)); }

void iae_init_xavier_uniform(iae_rng *r, float *w, long count, int fan_in, int fan_out, float gain) {
    float bound = gain * sqrtf(6.0f / (float)(fan_in + fan_out));
    iae_rng_fill_uniform(r, w, count, -bound, bound);
}

iae_status iae_init_orthogonal(iae_ctx *ctx, iae_rng *r, float *w, int rows, int cols) {
    /* Factor a tall m x n Gaussian matrix A (m >= n), stored column-major. */
    const int transpose = rows < cols;
    const int m = transpose ? cols : rows;
    const int n = transpose ? rows : cols;
    float *a = iae_alloc(ctx, sizeof(float) * (size_t)m * n, "orthogonal init matrix");
    float *tau = iae_alloc(ctx, sizeof(float) * n, "orthogonal init tau");
    float *diag = iae_alloc(ctx, sizeof(float) * n, "orthogonal init diagonal");
    if (a == NULL || tau == NULL || diag == NULL) {
        iae_free(a), iae_free(tau), iae_free(diag);
        return IAE_ERR_NOMEM;
    }
    iae_rng_fill_normal(r, a, (long)m * n);

    /* Workspace query, then A = QR. */
    int info = 0, lwork = -1;
    float wsize = 0.0f;
    sgeqrf_(&m, &n, a, &m, tau, &wsize, &lwork, &info);
    lwork = (int)wsize;
    float query2 = 0.0f;
    int lwork_q = -1;
    sorgqr_(&m, &n, &n, a, &m, tau, &query2, &lwork_q, &info);
    if ((int)query2 > lwork) lwork = (int)query2;
    if (lwork < n) lwork = n;
    float *work = iae_alloc(ctx, sizeof(float) * (size_t)lwork, "LAPACK workspace");
    if (work == NULL) {
        iae_free(a), iae_free(tau), iae_free(diag);
        return IAE_ERR_NOMEM;
    }
    sgeqrf_(&m, &n, a, &m, tau, work, &lwork, &info);
    if (info == 0) {
        for (int j = 0; j < n; j++) diag[j] = a[(long)j * m + j]; /* R's diagonal */
        sorgqr_(&m, &n, &n, a, &m, tau, work, &lwork, &info);
    }
    iae_free(work);
    if (info != 0) {
        iae_free(a), iae_free(tau), iae_free(diag);
        return iae_fail(ctx, IAE_ERR_NUMERIC, "orthogonal init of a %dx%d matrix: LAPACK info %d",
                        rows, cols, info);
    }

    /* Q's column j times sign(R_jj); write W (rows, cols) row-major. A zero
     * diagonal entry (probability zero) gives sign 0, as torch.sign does. */
    for (int j = 0; j < n; j++) {
        float sign = diag[j] > 0.0f ? 1.0f : (diag[j] < 0.0f ? -1.0f : 0.0f);
        for (int i = 0; i < m; i++) {
            float q = a[(long)j * m + i] * sign;
            if (transpose)
                w[(long)j * cols + i] = q; /* W = Q^T: W[j][i] */
            else
                w[(long)i * cols + j] = q;
        }
    }
    iae_free(a), iae_free(tau), iae_free(diag);
    return IAE_OK;
}
