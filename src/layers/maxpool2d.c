/*
 * 2x2 max pooling with stride 2. The forward pass records which of the four
 * window positions (0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right)
 * held the maximum, keeping the first on ties as PyTorch does; the backward
 * pass routes each output gradient to that position alone.
 */
#include <string.h>

#include "layers/layers.h"

void iae_maxpool2d_forward(int n, int c, int h, int w, const float *x, float *y, uint8_t *arg) {
    const int oh = h / 2, ow = w / 2;

#pragma omp parallel for schedule(static)
    for (long p = 0; p < (long)n * c; p++) {
        const float *xp = x + p * h * w;
        float *yp = y + p * oh * ow;
        uint8_t *ap = arg + p * oh * ow;
        for (int i = 0; i < oh; i++) {
            for (int j = 0; j < ow; j++) {
                const float *top = xp + (2 * i) * w + 2 * j;
                const float v[4] = {top[0], top[1], top[w], top[w + 1]};
                int best = 0;
                for (int q = 1; q < 4; q++)
                    if (v[q] > v[best]) best = q;
                yp[i * ow + j] = v[best];
                ap[i * ow + j] = (uint8_t)best;
            }
        }
    }
}

void iae_maxpool2d_backward(int n, int c, int h, int w, const uint8_t *arg, const float *dy,
                            float *dx) {
    const int oh = h / 2, ow = w / 2;

#pragma omp parallel for schedule(static)
    for (long p = 0; p < (long)n * c; p++) {
        float *dxp = dx + p * h * w;
        const float *dyp = dy + p * oh * ow;
        const uint8_t *ap = arg + p * oh * ow;
        memset(dxp, 0, sizeof(float) * h * w);
        for (int i = 0; i < oh; i++) {
            for (int j = 0; j < ow; j++) {
                int q = ap[i * ow + j];
                dxp[(2 * i + (q >> 1)) * w + 2 * j + (q & 1)] = dyp[i * ow + j];
            }
        }
    }
}
