/*
 * Deep SVDD loss (Ruff et al., 2018), one-class and soft-boundary forms.
 * d_b = ||z_b - c||^2.
 * one-class:     L = (1/N) sum_b d_b,                       dL/dz_b = 2 (z_b - c) / N
 * soft-boundary: L = R^2 + 1/(nu N) sum_b max(0, d_b - R^2), dL/dz_b = 2 (z_b - c) / (nu N)
 *                for d_b > R^2 and 0 otherwise (R is not a trained parameter).
 */
#include <stddef.h>

#include "loss/loss.h"

double iae_svdd_loss(int n, int d, const float *z, const float *c, iae_objective objective, float r,
                     float nu, float weight, float *dz, float *dist) {
    const double r2 = (double)r * r;
    double total = 0.0;

    for (int b = 0; b < n; b++) {
        const float *zb = z + (long)b * d;
        double db = 0.0;
        for (int j = 0; j < d; j++) {
            double e = (double)zb[j] - c[j];
            db += e * e;
        }
        if (dist != NULL) dist[b] = (float)db;

        double scale; /* dL/d(d_b) */
        if (objective == IAE_OBJECTIVE_ONE_CLASS) {
            total += db;
            scale = 1.0 / n;
        } else {
            double excess = db - r2;
            total += excess > 0.0 ? excess : 0.0;
            scale = excess > 0.0 ? 1.0 / ((double)nu * n) : 0.0;
        }
        if (dz != NULL && scale != 0.0) {
            float g = (float)(2.0 * scale * weight);
            float *dzb = dz + (long)b * d;
            for (int j = 0; j < d; j++) dzb[j] += g * (zb[j] - c[j]);
        }
    }
    if (objective == IAE_OBJECTIVE_ONE_CLASS) return total / n;
    return r2 + total / ((double)nu * n);
}
