/*
 * KL-divergence terms against a random softmax target.
 *
 * The reference code passes the raw features z to KLDivLoss, which expects
 * log-probabilities, and draws a fresh target T = softmax(e), e ~ N(0, I), at
 * every step. The value is then linear in z, with dL/dz = -T / N: a noisy push
 * that raises every feature, unbounded below. iae_kl_loss reproduces that;
 * iae_kl_log_softmax_loss is the textbook form, KL(T || softmax(z)).
 */
#include <math.h>
#include <stddef.h>

#include "loss/loss.h"

/* T_b = softmax(e_b) with e_b fresh standard normal noise; also returns
 * log T_b in logt (computed as e - logsumexp(e), exact even where T underflows). */
static void draw_target(int d, iae_rng *rng, float *t, double *logt) {
    double maxv = -INFINITY;
    for (int j = 0; j < d; j++) {
        logt[j] = iae_rng_normal(rng);
        if (logt[j] > maxv) maxv = logt[j];
    }
    double sum = 0.0;
    for (int j = 0; j < d; j++) sum += exp(logt[j] - maxv);
    double lse = maxv + log(sum);
    for (int j = 0; j < d; j++) {
        logt[j] -= lse;
        t[j] = (float)exp(logt[j]);
    }
}

double iae_kl_loss(int n, int d, const float *z, iae_rng *rng, float weight, float *target,
                   float *dz) {
    double logt[d];
    double total = 0.0;
    for (int b = 0; b < n; b++) {
        float *tb = target + (long)b * d;
        const float *zb = z + (long)b * d;
        draw_target(d, rng, tb, logt);
        for (int j = 0; j < d; j++)
            if (tb[j] > 0.0f) total += tb[j] * (logt[j] - zb[j]);
        if (dz != NULL) {
            float *dzb = dz + (long)b * d;
            for (int j = 0; j < d; j++) dzb[j] -= weight * tb[j] / n;
        }
    }
    return total / n;
}

double iae_kl_log_softmax_loss(int n, int d, const float *z, iae_rng *rng, float weight,
                               float *target, float *dz) {
    double logt[d];
    double total = 0.0;
    for (int b = 0; b < n; b++) {
        float *tb = target + (long)b * d;
        const float *zb = z + (long)b * d;
        draw_target(d, rng, tb, logt);

        /* log softmax(z_b) = z_b - logsumexp(z_b) */
        double maxv = -INFINITY;
        for (int j = 0; j < d; j++)
            if (zb[j] > maxv) maxv = zb[j];
        double sum = 0.0;
        for (int j = 0; j < d; j++) sum += exp(zb[j] - maxv);
        double lse = maxv + log(sum);

        for (int j = 0; j < d; j++) {
            if (tb[j] > 0.0f) total += tb[j] * (logt[j] - (zb[j] - lse));
            if (dz != NULL) dz[(long)b * d + j] += weight * (float)((exp(zb[j] - lse) - tb[j]) / n);
        }
    }
    return total / n;
}
