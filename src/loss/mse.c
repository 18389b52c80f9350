/* Mean squared reconstruction error, L = mean (xhat - x)^2. */
#include <stddef.h>

#include "loss/loss.h"

double iae_mse_loss(long count, const float *xhat, const float *x, float weight, float *dxhat) {
    double total = 0.0;
#pragma omp parallel for reduction(+ : total) schedule(static)
    for (long i = 0; i < count; i++) {
        double e = (double)xhat[i] - x[i];
        total += e * e;
    }
    /* NOTE: an OpenMP reduction adds the per-thread sums in an order fixed by
     * the thread count, so the value is reproducible for a given --threads. */
    if (dxhat != NULL) {
        const float g = (float)(2.0 * weight / (double)count);
#pragma omp parallel for simd schedule(static)
        for (long i = 0; i < count; i++) dxhat[i] += g * (xhat[i] - x[i]);
    }
    return total / (double)count;
}
