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

void iae_adam_step(iae_adam *a, long count, float *p, const float *g, float *m, float *v, float *vmax) {
    a->step++;
    const double bc1 = 1.0 - pow(a->beta1, (double)a->step);
    const double bc2 = 1.0 - pow(a->beta2, (double)a->step);
    const float step_size = (float)(a->lr / bc1);
    const float bc2_sqrt = (float)sqrt(bc2);
    const float b1 = a->beta1, b2 = a->beta2, eps = a->eps, wd = a->weight_decay;
    const int amsgrad = a->amsgrad;

#pragma omp parallel for simd schedule(static)
    for (long i = 0; i < count; i++) {
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

float iae_multistep_lr(float base_lr, const int *milestones, int n_milestones, float gamma, int epoch) {
    float lr = base_lr;
    for (int i = 0; i < n_milestones; i++)
        if (epoch >= milestones[i]) lr *= gamma;
    return lr;
}
