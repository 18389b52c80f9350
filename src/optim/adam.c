/*
 * Adam (Kingma and Ba, 2015) with AMSGrad (Reddi et al., 2018), computed as
 * torch.optim.Adam does (single-tensor path):
 *   g  = g + weight_decay p
 *   m  = beta1 m + (1 - beta1) g
 *   v  = beta2 v + (1 - beta2) g^2
 *   vmax = max(vmax, v)                          (amsgrad)
 *   p -= lr / (1 - beta1^t) m / (sqrt(vmax or v) / sqrt(1 - beta2^t) + eps)
 */
#include <math.h>
#include <stdint.h>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "core/core.h"

#include "optim/optim.h"

void iae_adam_init(iae_adam *a, float lr, float weight_decay, int amsgrad) {
    a->lr = lr;
    a->beta1 = 0.9f;
    a->beta2 = 0.999f;
    a->eps = 1e-8f;
    a->weight_decay = weight_decay;
    a->amsgrad = amsgrad;
    a->step = 0;
}

/* Update elements [lo, hi) of every array; see the formulas above. */
static void adam_range(long lo, long hi, float *p, const float *g, float *m, float *v, float *vmax, float b1, float b2,
                       float eps, float wd, float step_size, float bc2_sqrt, int amsgrad) {
    long i = lo;
#if defined(__AVX512F__)
    /* Streaming (non-temporal) stores: the arrays are far larger than the
     * caches, so writing around them saves the read-for-ownership traffic. */
    if (((uintptr_t)(p + i) | (uintptr_t)(m + i) | (uintptr_t)(v + i) | (uintptr_t)(vmax + i)) % 64 == 0) {
        const __m512 vb1 = _mm512_set1_ps(b1), vb2 = _mm512_set1_ps(b2), v1b1 = _mm512_set1_ps(1.0f - b1),
                     v1b2 = _mm512_set1_ps(1.0f - b2), vwd = _mm512_set1_ps(wd), veps = _mm512_set1_ps(eps),
                     vstep = _mm512_set1_ps(step_size), vbc2 = _mm512_set1_ps(bc2_sqrt);
        for (; i + 16 <= hi; i += 16) {
            __m512 pi = _mm512_load_ps(p + i);
            __m512 gi = _mm512_fmadd_ps(vwd, pi, _mm512_loadu_ps(g + i));
            __m512 mi = _mm512_fmadd_ps(v1b1, gi, _mm512_mul_ps(vb1, _mm512_load_ps(m + i)));
            __m512 vi = _mm512_fmadd_ps(_mm512_mul_ps(v1b2, gi), gi, _mm512_mul_ps(vb2, _mm512_load_ps(v + i)));
            _mm512_stream_ps(m + i, mi);
            _mm512_stream_ps(v + i, vi);
            __m512 vh = vi;
            if (amsgrad) {
                vh = _mm512_max_ps(_mm512_load_ps(vmax + i), vi);
                _mm512_stream_ps(vmax + i, vh);
            }
            __m512 denom = _mm512_add_ps(_mm512_div_ps(_mm512_sqrt_ps(vh), vbc2), veps);
            _mm512_stream_ps(p + i, _mm512_sub_ps(pi, _mm512_div_ps(_mm512_mul_ps(vstep, mi), denom)));
        }
        _mm_sfence();
    }
#endif
    for (; i < hi; i++) {
        float gi = g[i] + wd * p[i];
        float mi = b1 * m[i] + (1.0f - b1) * gi;
        float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        float vh = vi;
        if (amsgrad) {
            vh = vmax[i] > vi ? vmax[i] : vi;
            vmax[i] = vh;
        }
        p[i] -= step_size * mi / (sqrtf(vh) / bc2_sqrt + eps);
    }
}

void iae_adam_step(iae_adam *a, long count, float *p, const float *g, float *m, float *v, float *vmax) {
    a->step++;
    const double bc1 = 1.0 - pow(a->beta1, (double)a->step);
    const double bc2 = 1.0 - pow(a->beta2, (double)a->step);
    const float step_size = (float)(a->lr / bc1);
    const float bc2_sqrt = (float)sqrt(bc2);

    /* Each thread takes a contiguous range starting on a 16-float boundary. */
#pragma omp parallel
    {
        const int nth = iae_team_size(), tid = iae_thread_id();
        const long blocks = (count + 15) / 16;
        long lo = blocks * tid / nth * 16, hi = blocks * (tid + 1) / nth * 16;
        if (hi > count) hi = count;
        if (lo < hi)
            adam_range(lo, hi, p, g, m, v, vmax, a->beta1, a->beta2, a->eps, a->weight_decay, step_size, bc2_sqrt,
                       a->amsgrad);
    }
}

float iae_multistep_lr(float base_lr, const int *milestones, int n_milestones, float gamma, int epoch) {
    float lr = base_lr;
    for (int i = 0; i < n_milestones; i++)
        if (epoch >= milestones[i]) lr *= gamma;
    return lr;
}
