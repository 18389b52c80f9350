/* Detector lifetime, data set ids, and the reference loss-weight tables. */
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

/* Per-class weights of the reference CIFAR-10 IAE-LSTM-KL scripts (classes
 * airplane, automobile, bird, cat, deer, dog, frog, horse, ship, truck). The
 * reference tuned them on the test AUROC. */
const float iae_cifar10_reference_w_kl[10] = {10.020755f, 0.087933f, 2.659931f, 1.525873f, 2.938716f,
                                              0.792f,     0.645739f, 0.035812f, 0.010368f, 0.045872f};
const float iae_cifar10_reference_w_mse[10] = {29.123988f, 0.117254f,  3.133786f, 2855.311838f, 2617.359959f,
                                               9.390975f,  64.785139f, 1.648697f, 0.755313f,    26.485921f};

/* bottle, cable, capsule, carpet, grid, hazelnut, leather, metal_nut, pill,
 * screw, tile, toothbrush, transistor, wood, zipper. */
const float iae_mvtec_reference_w_mse_m2[15] = {0.001641f, 0.795601f, 0.136953f, 998.22267f, 10.296907f,
                                                5115.531262f, 0.007754f, 0.001328f, 0.671612f, 936.012256f,
                                                0.000352f, 18.782327f, 0.00815f, 89.426457f, 0.642246f};

static const char *const dataset_names[IAE_N_DATASETS] = {"fashion-mnist", "cifar10", "mvtec", "wtbi"};
static const int dataset_classes[IAE_N_DATASETS] = {10, 10, 15, 1};

const char *iae_dataset_id_name(iae_dataset_id d) {
    return (unsigned)d < IAE_N_DATASETS ? dataset_names[d] : "unknown";
}

int iae_dataset_id_parse(const char *name) {
    for (int d = 0; d < IAE_N_DATASETS; d++)
        if (strcmp(name, dataset_names[d]) == 0) return d;
    return -1;
}

int iae_dataset_id_classes(iae_dataset_id d) { return (unsigned)d < IAE_N_DATASETS ? dataset_classes[d] : 0; }

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

iae_net_config iae_dataset_net_config(iae_dataset_id d, iae_model_kind k) {
    const int lstm = iae_model_has_lstm(k), decoder = iae_model_has_decoder(k);
    switch (d) {
    case IAE_DATASET_CIFAR10:
        return iae_lenet_config(3, lstm, decoder);
    case IAE_DATASET_MVTEC:
        return iae_mvtec_config(lstm, decoder);
    default: /* Fashion-MNIST and WTBI */
        return iae_lenet_config(1, lstm, decoder);
    }
}

/* Store the per-class IAE-LSTM-KL weights of data set d and return 1, or
 * return 0 for a class outside its range, where the caller keeps the model
 * defaults. */
static int lstm_kl_table_weights(iae_dataset_id d, int normal_class, float *w_mse, float *w_kl, float *nu) {
    if (d == IAE_DATASET_WTBI) {
        *w_mse = IAE_WTBI_REFERENCE_W_MSE;
        *w_kl = IAE_WTBI_REFERENCE_W_KL;
        *nu = IAE_WTBI_REFERENCE_NU;
        return 1;
    }
    if (normal_class < 0 || normal_class >= iae_dataset_id_classes(d)) return 0;
    switch (d) {
    case IAE_DATASET_FASHION_MNIST:
        *w_mse = iae_fmnist_reference_w_mse[normal_class];
        *w_kl = iae_fmnist_reference_w_kl[normal_class];
        return 1;
    case IAE_DATASET_CIFAR10:
        *w_mse = iae_cifar10_reference_w_mse[normal_class];
        *w_kl = iae_cifar10_reference_w_kl[normal_class];
        return 1;
    case IAE_DATASET_MVTEC: /* the MVTec IAE-LSTM-KL script passes no table */
        *w_mse = 1.0f;
        *w_kl = 1.0f;
        return 1;
    default:
        return 0;
    }
}

void iae_default_weights(iae_dataset_id d, iae_model_kind k, int normal_class, float *w_mse, float *w_kl,
                         float *nu) {
    float nu_value = 0.1f;
    *w_mse = iae_model_has_decoder(k) && iae_model_has_svdd(k) ? 1.0f : 0.0f;
    *w_kl = 0.0f;

    float table_mse = 0.0f, table_kl = 0.0f, table_nu = 0.1f;
    const int in_table = lstm_kl_table_weights(d, normal_class, &table_mse, &table_kl, &table_nu);
    switch (k) {
    case IAE_MODEL_IAE_LSTM_KL:
        if (in_table) {
            *w_mse = table_mse;
            *w_kl = table_kl;
            nu_value = table_nu;
        }
        break;
    case IAE_MODEL_IAE_KL: /* msd + KL: w_kl of the IAE-LSTM-KL table, w_mse 1 */
        if (in_table) *w_kl = table_kl;
        break;
    case IAE_MODEL_IAE_LSTM: /* msd + LSTM: the table of its own script, where there is one */
        if (d == IAE_DATASET_FASHION_MNIST && normal_class >= 0 && normal_class < 10)
            *w_mse = iae_fmnist_reference_w_mse_b[normal_class];
        else if (d == IAE_DATASET_MVTEC && normal_class >= 0 && normal_class < 15)
            *w_mse = iae_mvtec_reference_w_mse_m2[normal_class];
        break;
    default:
        break;
    }
    if (nu != NULL) *nu = nu_value;
}

void iae_fmnist_default_weights(iae_model_kind k, int normal_class, float *w_mse, float *w_kl) {
    iae_default_weights(IAE_DATASET_FASHION_MNIST, k, normal_class, w_mse, w_kl, NULL);
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
    iae_free(d->data_config);
    iae_free(d);
}
