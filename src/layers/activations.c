/*
 * Element-wise activations.
 * leaky ReLU: y = x if x > 0 else slope x;  dx = dy if x > 0 else slope dy
 * sigmoid:    y = 1 / (1 + exp(-x));        dx = dy y (1 - y)
 */
#include <math.h>

#include "layers/layers.h"

void iae_leaky_relu_forward(long count, float slope, const float *x, float *y) {
#pragma omp parallel for simd schedule(static)
    for (long i = 0; i < count; i++) y[i] = x[i] > 0.0f ? x[i] : slope * x[i];
}

void iae_leaky_relu_backward(long count, float slope, const float *x, const float *dy, float *dx) {
#pragma omp parallel for simd schedule(static)
    for (long i = 0; i < count; i++) dx[i] = x[i] > 0.0f ? dy[i] : slope * dy[i];
}

void iae_sigmoid_forward(long count, const float *x, float *y) {
#pragma omp parallel for schedule(static)
    for (long i = 0; i < count; i++) y[i] = 1.0f / (1.0f + expf(-x[i]));
}

void iae_sigmoid_backward(long count, const float *y, const float *dy, float *dx) {
#pragma omp parallel for simd schedule(static)
    for (long i = 0; i < count; i++) dx[i] = dy[i] * y[i] * (1.0f - y[i]);
}
