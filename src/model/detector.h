/*
 * A trained anomaly detector: the network, the SVDD center and radius, and
 * everything needed to preprocess and score new data the way training did.
 */
#ifndef IAE_DETECTOR_H
#define IAE_DETECTOR_H

#include <stdint.h>

#include "loss/loss.h"
#include "model/net.h"

#define IAE_DATASET_NAME_BYTES 32

/* The model variants, one network description with switches. */
typedef enum {
    IAE_MODEL_IAE_LSTM_KL = 0, /* autoencoder + LSTM + SVDD + KL: the full model */
    IAE_MODEL_CAE = 1,         /* convolutional autoencoder, reconstruction scores only */
    IAE_MODEL_DEEP_SVDD = 2,   /* encoder only with the SVDD loss, pre-trained from the autoencoder */
    IAE_MODEL_DCAE_SVDD = 3,   /* autoencoder and SVDD trained jointly (the reference "msd") */
    IAE_MODEL_IAE_LSTM = 4,    /* msd with the LSTM, no KL term */
    IAE_MODEL_IAE_KL = 5,      /* msd with the KL term, no LSTM */
} iae_model_kind;

#define IAE_N_MODELS 6

/* "iae-lstm-kl", "cae", "deep-svdd", "dcae-svdd", "iae-lstm", "iae-kl";
 * parse returns -1 for an unknown name. */
const char *iae_model_name(iae_model_kind k);
int iae_model_parse(const char *name);
int iae_model_has_lstm(iae_model_kind k);
int iae_model_has_decoder(iae_model_kind k);
int iae_model_has_svdd(iae_model_kind k);
int iae_model_has_kl(iae_model_kind k);

/* The reference's default loss weights of model k for a Fashion-MNIST normal
 * class; 0 for a term the model does not have. */
void iae_fmnist_default_weights(iae_model_kind k, int normal_class, float *w_mse, float *w_kl);

typedef enum {
    IAE_KL_REFERENCE = 0,   /* KLDivLoss on the raw features, as the reference code */
    IAE_KL_LOG_SOFTMAX = 1, /* KL(T || softmax(z)), the textbook form */
} iae_kl_form;

/* Settings of a training run, stored with the model. */
typedef struct {
    iae_model_kind model;
    iae_net_config net;
    char dataset[IAE_DATASET_NAME_BYTES]; /* "fashion-mnist" */
    int normal_class;
    int reference_normalization; /* 1: (min, max) from the reference table */
    float norm_min, norm_max;    /* min-max scaling applied after GCN */
    iae_objective objective;
    float nu;     /* soft-boundary hyper-parameter */
    float radius; /* R, 0 for one-class */
    int radius_from_distance; /* soft-boundary R from plain distances d_b instead of the
                                 reference's per-sample loss values (see train.c) */
    double contamination;     /* share of anomalies mixed into the training set */
    float w_mse, w_kl;
    iae_kl_form kl_form;
    uint64_t seed;
    int batch_size;
    int epochs, pretrain_epochs;
    float lr, weight_decay;
    int bn_train_mode; /* BatchNorm in training mode during joint training */
    int train_samples; /* normal training images loaded (fit plus validation) */
    float validation_fraction;     /* share of them held out from gradient steps */
    int validation_samples;        /* how many were held out */
    float threshold;               /* decision threshold on the combined score */
    float threshold_fpr;           /* false-positive rate it was chosen for */
    iae_lstm_context score_context; /* default LSTM context for scoring */
    iae_lstm_impl lstm_impl; /* recurrent kernel (runtime setting, not stored) */
    int lstm_bf16;           /* 1: bf16 copy of W_hh for the recurrent products */
} iae_detector_info;

/* Scores whose statistics on held-out normal data are stored, in this order:
 * svdd, mse, l1_svdd, l1_mse, combined. The combined score is the sum of the
 * svdd and mse scores, each standardised by its held-out mean and standard
 * deviation, so it does not depend on the test set. */
#define IAE_N_STAT_SCORES 5
#define IAE_N_QUANTILES 101 /* quantiles at 0%, 1%, ..., 100% */

typedef struct {
    int n; /* held-out samples the statistics come from; 0 = none */
    float mean[IAE_N_STAT_SCORES], std[IAE_N_STAT_SCORES];
    float quantile[IAE_N_STAT_SCORES][IAE_N_QUANTILES];
} iae_score_stats;

typedef struct {
    iae_detector_info info;
    iae_net *net;
    float *center;         /* (rep_dim) */
    iae_score_stats stats; /* held-out normal score statistics, stats.n = 0 when absent */
} iae_detector;

/* Create a detector with an uninitialised network for info->net. */
iae_status iae_detector_create(iae_ctx *ctx, const iae_detector_info *info, int max_batch,
                               iae_detector **out);
void iae_detector_free(iae_detector *d);

/* Reference per-class loss weights for Fashion-MNIST IAE-LSTM-KL (w_kl and
 * w_mse of the reference training script, table "A"). */
extern const float iae_fmnist_reference_w_kl[10];
extern const float iae_fmnist_reference_w_mse[10];
/* w_mse of the reference's msd + LSTM script (table "B"). */
extern const float iae_fmnist_reference_w_mse_b[10];

#endif
