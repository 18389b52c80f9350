/*
 * Nearest-neighbour 2x up-sampling: y[c, 2i+a, 2j+b] = x[c, i, j] for a, b in
 * {0, 1}; the backward pass sums the four gradients of each source pixel.
 */
#include "layers/layers.h"

void iae_upsample2x_forward(int n, int c, int h, int w, const float *x, float *y) {
    const int ow = 2 * w;

#pragma omp parallel for schedule(static)
    for (long p = 0; p < (long)n * c; p++) {
        const float *xp = x + p * h * w;
        float *yp = y + p * 4 * h * w;
        for (int i = 0; i < h; i++) {
            float *row0 = yp + (2 * i) * ow;
            float *row1 = row0 + ow;
            for (int j = 0; j < w; j++) {
                float v = xp[i * w + j];
                row0[2 * j] = row0[2 * j + 1] = v;
                row1[2 * j] = row1[2 * j + 1] = v;
            }
        }
    }
}

void iae_upsample2x_backward(int n, int c, int h, int w, const float *dy, float *dx) {
    const int ow = 2 * w;

#pragma omp parallel for schedule(static)
    for (long p = 0; p < (long)n * c; p++) {
        const float *dyp = dy + p * 4 * h * w;
        float *dxp = dx + p * h * w;
        for (int i = 0; i < h; i++) {
            const float *row0 = dyp + (2 * i) * ow;
            const float *row1 = row0 + ow;
            for (int j = 0; j < w; j++)
                dxp[i * w + j] = row0[2 * j] + row0[2 * j + 1] + row1[2 * j] + row1[2 * j + 1];
        }
    }
}
