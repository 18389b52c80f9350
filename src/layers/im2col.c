/*
 * im2col / col2im: unfold image patches into the columns of a matrix so a
 * convolution becomes one GEMM, and fold column gradients back.
 * img (C, H, W); col (C*k*k, oh*ow).
 */
#include <string.h>

#include "layers/layers.h"

void iae_im2col(const float *img, int c, int h, int w, int k, int stride, int pad, int oh, int ow,
                float *col) {
    for (int ch = 0; ch < c; ch++) {
        const float *plane = img + (long)ch * h * w;
        for (int ki = 0; ki < k; ki++) {
            for (int kj = 0; kj < k; kj++) {
                float *row = col + ((long)(ch * k + ki) * k + kj) * oh * ow;
                for (int oy = 0; oy < oh; oy++) {
                    int iy = oy * stride - pad + ki;
                    float *dst = row + (long)oy * ow;
                    if (iy < 0 || iy >= h) {
                        memset(dst, 0, sizeof(float) * ow);
                        continue;
                    }
                    const float *src = plane + (long)iy * w;
                    if (stride == 1) {
                        /* ix = ox - pad + kj: zeros, one contiguous copy, zeros. */
                        int lo = pad - kj;
                        if (lo < 0) lo = 0;
                        int hi = w + pad - kj;
                        if (hi > ow) hi = ow;
                        if (hi < lo) hi = lo;
                        memset(dst, 0, sizeof(float) * lo);
                        memcpy(dst + lo, src + lo - pad + kj, sizeof(float) * (hi - lo));
                        memset(dst + hi, 0, sizeof(float) * (ow - hi));
                    } else {
                        for (int ox = 0; ox < ow; ox++) {
                            int ix = ox * stride - pad + kj;
                            dst[ox] = (ix >= 0 && ix < w) ? src[ix] : 0.0f;
                        }
                    }
                }
            }
        }
    }
}

void iae_col2im(const float *col, int c, int h, int w, int k, int stride, int pad, int oh, int ow,
                float *img) {
    for (int ch = 0; ch < c; ch++) {
        float *plane = img + (long)ch * h * w;
        for (int ki = 0; ki < k; ki++) {
            for (int kj = 0; kj < k; kj++) {
                const float *row = col + ((long)(ch * k + ki) * k + kj) * oh * ow;
                for (int oy = 0; oy < oh; oy++) {
                    int iy = oy * stride - pad + ki;
                    if (iy < 0 || iy >= h) continue;
                    const float *src = row + (long)oy * ow;
                    float *dst = plane + (long)iy * w;
                    for (int ox = 0; ox < ow; ox++) {
                        int ix = ox * stride - pad + kj;
                        if (ix >= 0 && ix < w) dst[ix] += src[ox];
                    }
                }
            }
        }
    }
}
