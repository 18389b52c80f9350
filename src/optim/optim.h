/*
 * Adam with optional AMSGrad and coupled (L2) weight decay, the update of
 * torch.optim.Adam, and the MultiStepLR schedule.
 */
#ifndef IAE_OPTIM_H
#define IAE_OPTIM_H

typedef struct {
    float lr;            /* learning rate, 1e-4 in the reference */
    float beta1, beta2;  /* 0.9, 0.999 */
    float eps;           /* 1e-8 */
    float weight_decay;  /* added to the gradient: g += weight_decay p */
    int amsgrad;         /* 1: divide by the running maximum of v */
    long step;           /* updates done so far */
} iae_adam;

void iae_adam_init(iae_adam *a, float lr, float weight_decay, int amsgrad);

/* One update of p (count) from gradient g; m, v, vmax are the moment buffers
 * (zero before the first step; vmax unused without amsgrad). */
void iae_adam_step(iae_adam *a, long count, float *p, const float *g, float *m, float *v, float *vmax);

/* MultiStepLR: base_lr * gamma^(number of milestones <= epoch), epoch 0-based. */
float iae_multistep_lr(float base_lr, const int *milestones, int n_milestones, float gamma, int epoch);

#endif
