/*
 * BatchNorm (1-D and 2-D) without affine parameters, PyTorch semantics.
 *
 * x, y (N, C, S): S = H*W for BatchNorm2d, S = 1 for BatchNorm1d.
 * Training:  mean_c, var_c over the N*S values of channel c (var biased)
 *            y = (x - mean_c) rstd_c,  rstd_c = 1 / sqrt(var_c + eps)
 *            running_mean = (1 - momentum) running_mean + momentum mean_c
 *            running_var  = (1 - momentum) running_var  + momentum var_c m/(m-1)
 * Evaluation: y = (x - running_mean) / sqrt(running_var + eps)
 * Statistics are accumulated in double; channels are split over threads.
 */
#include <math.h>

#include "layers/layers.h"

void iae_batchnorm_forward_train(int n, int c, int s, float eps, float momentum, const float *x,
                                 float *y, float *rstd, float *running_mean, float *running_var) {
    const long m = (long)n * s;
    IAE_ASSERT(m >= 2);

#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        /* Two passes: the mean, then the centred sum of squares. */
        double sum = 0.0;
        for (int b = 0; b < n; b++) {
            const float *xp = x + ((long)b * c + ch) * s;
            for (int i = 0; i < s; i++) sum += xp[i];
        }
        double mean = sum / m;
        double ss = 0.0;
        for (int b = 0; b < n; b++) {
            const float *xp = x + ((long)b * c + ch) * s;
            for (int i = 0; i < s; i++) {
                double d = xp[i] - mean;
                ss += d * d;
            }
        }
        double var = ss / m;
        float r = (float)(1.0 / sqrt(var + eps));
        float meanf = (float)mean;
        rstd[ch] = r;

        for (int b = 0; b < n; b++) {
            const float *xp = x + ((long)b * c + ch) * s;
            float *yp = y + ((long)b * c + ch) * s;
            for (int i = 0; i < s; i++) yp[i] = (xp[i] - meanf) * r;
        }

        running_mean[ch] = (1.0f - momentum) * running_mean[ch] + momentum * meanf;
        running_var[ch] = (1.0f - momentum) * running_var[ch] + momentum * (float)(ss / (m - 1));
    }
}

void iae_batchnorm_forward_eval(int n, int c, int s, float eps, const float *x, float *y,
                                const float *running_mean, const float *running_var) {
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < n; b++) {
        for (int ch = 0; ch < c; ch++) {
            float mean = running_mean[ch];
            float r = 1.0f / sqrtf(running_var[ch] + eps);
            const float *xp = x + ((long)b * c + ch) * s;
            float *yp = y + ((long)b * c + ch) * s;
            for (int i = 0; i < s; i++) yp[i] = (xp[i] - mean) * r;
        }
    }
}

void iae_batchnorm_backward_train(int n, int c, int s, const float *y, const float *rstd,
                                  const float *dy, float *dx) {
    const long m = (long)n * s;

#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        /* y = xhat = (x - mean) rstd, with mean and rstd depending on x:
         * dx = rstd (dy - mean(dy) - xhat mean(dy xhat)) */
        double sum_dy = 0.0, sum_dy_y = 0.0;
        for (int b = 0; b < n; b++) {
            const long off = ((long)b * c + ch) * s;
            for (int i = 0; i < s; i++) {
                sum_dy += dy[off + i];
                sum_dy_y += (double)dy[off + i] * y[off + i];
            }
        }
        float mean_dy = (float)(sum_dy / m);
        float mean_dy_y = (float)(sum_dy_y / m);
        float r = rstd[ch];
        for (int b = 0; b < n; b++) {
            const long off = ((long)b * c + ch) * s;
            for (int i = 0; i < s; i++) dx[off + i] = r * (dy[off + i] - mean_dy - y[off + i] * mean_dy_y);
        }
    }
}

void iae_batchnorm_backward_eval(int n, int c, int s, float eps, const float *running_var,
                                 const float *dy, float *dx) {
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < n; b++) {
        for (int ch = 0; ch < c; ch++) {
            float r = 1.0f / sqrtf(running_var[ch] + eps);
            const long off = ((long)b * c + ch) * s;
            for (int i = 0; i < s; i++) dx[off + i] = dy[off + i] * r;
        }
    }
}
