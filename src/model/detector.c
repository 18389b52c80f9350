/* Detector lifetime and the reference loss-weight tables. */
#include "model/detector.h"

#include <string.h>

/* Per-class weights of the reference Fashion-MNIST IAE-LSTM-KL script. The
 * reference tuned them on the test AUROC; class 6 repeats class 4's values
 * in the reference table, kept here as published. */
const float iae_fmnist_reference_w_kl[10] = {0.000998f, 0.00302f,  0.000772f, 0.009163f, 0.001733f,
                                             0.144335f, 0.001733f, 0.00001f,  0.000052f, 0.000406f};
const float iae_fmnist_reference_w_mse[10] = {5.112069f,  7.980763f, 0.18205f,  3.237299f, 4.066855f,
                                              0.000729f,  4.066855f, 14.517574f, 0.906311f, 28.918101f};

iae_status iae_detector_create(iae_ctx *ctx, const iae_detector_info *info, int max_batch,
                               iae_detector **out) {
    *out = NULL;
    iae_detector *d = iae_alloc(ctx, sizeof(*d), "detector");
    if (d == NULL) return IAE_ERR_NOMEM;
    d->info = *info;
    iae_status st = iae_net_create(ctx, &info->net, max_batch, &d->net);
    if (st != IAE_OK) {
        iae_free(d);
        return st;
    }
    d->center = iae_alloc(ctx, sizeof(float) * iae_net_z_size(d->net), "SVDD center");
    if (d->center == NULL) {
        iae_detector_free(d);
        return IAE_ERR_NOMEM;
    }
    *out = d;
    return IAE_OK;
}

void iae_detector_free(iae_detector *d) {
    if (d == NULL) return;
    iae_net_free(d->net);
    iae_free(d->center);
    iae_free(d);
}
