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

/* One softmax group: the `channels` entries of a sample at one position,
 * `stride` floats apart (stride = positions). */

/* T = softmax(e) over one group with e fresh standard normal noise; also
 * returns log T in logt (computed as e - logsumexp(e), exact even where T
 * underflows). */
static void draw_target(int channels, int stride, iae_rng *rng, float *t, double *logt) {
    double maxv = -INFINITY;
    for (int j = 0; j < channels; j++) {
        logt[j] = iae_rng_normal(rng);
        if (logt[j] > maxv) maxv = logt[j];
    }
    double sum = 0.0;
    for (int j = 0; j < channels; j++) sum += exp(logt[j] - maxv);
    double lse = maxv + log(sum);
    for (int j = 0; j < channels; j++) {
        logt[j] -= lse;
        t[(long)j * stride] = (float)exp(logt[j]);
    }
}

double iae_kl_loss_grouped(int n, int channels, int positions, const float *z, iae_rng *rng, float weight,
                           float *target, float *dz) {
    const long d = (long)channels * positions;
    double logt[channels];
    double total = 0.0;
    for (int b = 0; b < n; b++)
        for (int p = 0; p < positions; p++) {
            const long off = b * d + p;
            float *tb = target + off;
            const float *zb = z + off;
            draw_target(channels, positions, rng, tb, logt);
            for (int j = 0; j < channels; j++) {
                const float tj = tb[(long)j * positions];
                if (tj > 0.0f) total += tj * (logt[j] - zb[(long)j * positions]);
                if (dz != NULL) dz[off + (long)j * positions] -= weight * tj / n;
            }
        }
    return total / n;
}

double iae_kl_log_softmax_loss_grouped(int n, int channels, int positions, const float *z, iae_rng *rng,
                                       float weight, float *target, float *dz) {
    const long d = (long)channels * positions;
    double logt[channels];
    double total = 0.0;
    for (int b = 0; b < n; b++)
        for (int p = 0; p < positions; p++) {
            const long off = b * d + p;
            float *tb = target + off;
            const float *zb = z + off;
            draw_target(channels, positions, rng, tb, logt);

            /* log softmax(z) = z - logsumexp(z) over the group */
            double maxv = -INFINITY;
            for (int j = 0; j < channels; j++)
                if (zb[(long)j * positions] > maxv) maxv = zb[(long)j * positions];
            double sum = 0.0;
            for (int j = 0; j < channels; j++) sum += exp(zb[(long)j * positions] - maxv);
            const double lse = maxv + log(sum);

            for (int j = 0; j < channels; j++) {
                const long k = (long)j * positions;
                if (tb[k] > 0.0f) total += tb[k] * (logt[j] - (zb[k] - lse));
                if (dz != NULL) dz[off + k] += weight * (float)((exp(zb[k] - lse) - tb[k]) / n);
            }
        }
    return total / n;
}

double iae_kl_loss(int n, int d, const float *z, iae_rng *rng, float weight, float *target, float *dz) {
    return iae_kl_loss_grouped(n, d, 1, z, rng, weight, target, dz);
}

double iae_kl_log_softmax_loss(int n, int d, const float *z, iae_rng *rng, float weight, float *target,
                               float *dz) {
    return iae_kl_log_softmax_loss_grouped(n, d, 1, z, rng, weight, target, dz);
}
