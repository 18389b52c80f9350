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

const float iae_fmnist_reference_w_mse_b[10] = {1.495501f, 7.414525f, 0.391224f, 2.457582f, 2.540750f,
                                                0.000284f, 0.000284f, 32.369513f, 0.583155f, 28.481469f};

static const char *const model_names[IAE_N_MODELS] = {"iae-lstm-kl", "cae", "deep-svdd", "dcae-svdd", "iae-lstm",
                                                      "iae-kl"};

const char *iae_model_name(iae_model_kind k) { return (unsigned)k < IAE_N_MODELS ? model_names[k] : "unknown"; }

int iae_model_parse(const char *name) {
    for (int k = 0; k < IAE_N_MODELS; k++)
        if (strcmp(name, model_names[k]) == 0) return k;
    return -1;
}

int iae_model_has_lstm(iae_model_kind k) { return k == IAE_MODEL_IAE_LSTM_KL || k == IAE_MODEL_IAE_LSTM; }
int iae_model_has_decoder(iae_model_kind k) { return k != IAE_MODEL_DEEP_SVDD; }
int iae_model_has_svdd(iae_model_kind k) { return k != IAE_MODEL_CAE; }
int iae_model_has_kl(iae_model_kind k) { return k == IAE_MODEL_IAE_LSTM_KL || k == IAE_MODEL_IAE_KL; }

void iae_fmnist_default_weights(iae_model_kind k, int normal_class, float *w_mse, float *w_kl) {
    *w_mse = iae_model_has_decoder(k) && iae_model_has_svdd(k) ? 1.0f : 0.0f;
    *w_kl = 0.0f;
    if (normal_class < 0 || normal_class > 9) return;
    switch (k) {
    case IAE_MODEL_IAE_LSTM_KL: /* msd-LSTM + KL script: tables "A" */
        *w_mse = iae_fmnist_reference_w_mse[normal_class];
        *w_kl = iae_fmnist_reference_w_kl[normal_class];
        break;
    case IAE_MODEL_IAE_KL: /* msd + KL script: w_kl "A", w_mse 1 */
        *w_kl = iae_fmnist_reference_w_kl[normal_class];
        break;
    case IAE_MODEL_IAE_LSTM: /* msd + LSTM script: w_mse "B" */
        *w_mse = iae_fmnist_reference_w_mse_b[normal_class];
        break;
    default:
        break;
    }
}

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
