/*
 * Loss terms of the IAE-LSTM-KL objective, each returning its value and, when
 * a gradient buffer is given, adding weight * dL/d(input) to it.
 * Letters: N batch, D feature dimension (128 for the LeNet networks).
 */
#ifndef IAE_LOSS_H
#define IAE_LOSS_H

#include "core/rng.h"

typedef enum {
    IAE_OBJECTIVE_ONE_CLASS = 0,     /* L = mean_b d_b */
    IAE_OBJECTIVE_SOFT_BOUNDARY = 1, /* L = R^2 + (1/nu) mean_b max(0, d_b - R^2) */
} iae_objective;

/* svdd.c: Deep SVDD term on z (N, D) with center c (D).
 * d_b = sum_j (z_bj - c_j)^2; dist (N) receives d_b when not NULL.
 * dz (N, D), when not NULL, accumulates weight * dL/dz. R is a constant. */
double iae_svdd_loss(int n, int d, const float *z, const float *c, iae_objective objective, float r,
                     float nu, float weight, float *dz, float *dist);

/* mse.c: mean squared error over all N*S elements of xhat and x (N, S).
 * dxhat, when not NULL, accumulates weight * 2 (xhat - x) / (N S). */
double iae_mse_loss(long count, const float *xhat, const float *x, float weight, float *dxhat);

/* kl.c: the reference's KL term, KLDivLoss(reduction="batchmean") applied to
 * the raw features z (N, D) as if they were log-probabilities:
 *   T_b = softmax(e_b), e_b ~ N(0, I) drawn fresh from rng at each call,
 *   L = (1/N) sum_{b,j} T_bj (log T_bj - z_bj),   dL/dz_bj = -T_bj / N.
 * target (N, D) receives T. */
double iae_kl_loss(int n, int d, const float *z, iae_rng *rng, float weight, float *target,
                   float *dz);

/* kl.c: the same KL divergence with log-softmax(z) as the input, as KL is
 * usually defined: L = (1/N) sum T (log T - log softmax(z)). The gradient is
 * dL/dz_bj = (softmax(z)_bj - T_bj) / N. target (N, D) receives T. */
double iae_kl_log_softmax_loss(int n, int d, const float *z, iae_rng *rng, float weight,
                               float *target, float *dz);

/* kl.c: both KL terms for features with several positions, z (N, C, P)
 * row-major, as the MVTec network's z (256 channels x 16 positions): the
 * target is a softmax over the C channels at each position, as PyTorch's
 * softmax(dim=1) of a (N, C, H, W) tensor, and batchmean still divides by N
 * only. P = 1 gives the two functions above. */
double iae_kl_loss_grouped(int n, int channels, int positions, const float *z, iae_rng *rng, float weight,
                           float *target, float *dz);
double iae_kl_log_softmax_loss_grouped(int n, int channels, int positions, const float *z, iae_rng *rng,
                                       float weight, float *target, float *dz);

#endif
