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

/* The data sets the reference code evaluates on. */
typedef enum {
    IAE_DATASET_FASHION_MNIST = 0, /* 1 x 32 x 32 (padded 28 x 28), 10 classes */
    IAE_DATASET_CIFAR10 = 1,       /* 3 x 32 x 32, 10 classes */
    IAE_DATASET_MVTEC = 2,         /* 3 x 64 x 64, 15 categories in alphabetical order */
    IAE_DATASET_WTBI = 3,          /* 1 x 32 x 32 wind-turbine icing windows, one task */
} iae_dataset_id;

#define IAE_N_DATASETS 4

/* Data set names "fashion-mnist", "cifar10", "mvtec" and "wtbi". Parse
 * returns -1 for an unknown name. */
const char *iae_dataset_id_name(iae_dataset_id d);
int iae_dataset_id_parse(const char *name);

/* Normal classes of the one-class protocol: 10, 10, 15 and 1 (WTBI has a
 * single task, class 0). */
int iae_dataset_id_classes(iae_dataset_id d);

/* The reference network of model k on data set d: LeNet with 1 channel
 * (Fashion-MNIST, WTBI) or 3 (CIFAR-10), the MVTec network for MVTec AD,
 * with the LSTM and decoder switches of k. */
iae_net_config iae_dataset_net_config(iae_dataset_id d, iae_model_kind k);

/* Store the reference's default loss weights and soft-boundary nu of model k
 * on data set d for one normal class. A term the model does not have gets 0,
 * and nu may be NULL. Every data set follows the Fashion-MNIST rules:
 * - iae-lstm-kl takes w_mse and w_kl from the data set's per-class
 *   IAE-LSTM-KL table. MVTec uses w_mse 1 and w_kl 1 in every category, and
 *   WTBI also sets nu 0.898364.
 * - iae-kl takes w_kl from that table and w_mse 1.
 * - iae-lstm takes w_mse from the reference's msd + LSTM script where one
 *   passes a table (Fashion-MNIST table "B", MVTec table "M2"), else 1.
 * - dcae-svdd gets w_mse 1, and cae and deep-svdd get 0 and 0.
 * nu is 0.1 unless stated. A class outside the data set's range gets the
 * model defaults (w_mse 1 with a decoder and SVDD, w_kl 0, nu 0.1). WTBI
 * ignores the class. */
void iae_default_weights(iae_dataset_id d, iae_model_kind k, int normal_class, float *w_mse, float *w_kl,
                         float *nu);

/* iae_default_weights for Fashion-MNIST, without nu. */
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
    char *data_config;     /* where the data came from and the preprocessing constants, as the
                              "data_*" lines of data/source.h; iae_alloc'd, owned, NULL in
                              models that predate them (Fashion-MNIST) */
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

/* Reference per-class loss weights for CIFAR-10 IAE-LSTM-KL. */
extern const float iae_cifar10_reference_w_kl[10];
extern const float iae_cifar10_reference_w_mse[10];

/* w_mse of the MVTec msd + LSTM script that passes only w_mse (table "M2"),
 * per category in alphabetical order. The reference's other msd + LSTM
 * script passes nu and a table "M1" instead, which iae does not use. */
extern const float iae_mvtec_reference_w_mse_m2[15];

/* The reference's WTBI IAE-LSTM-KL settings. */
#define IAE_WTBI_REFERENCE_NU 0.898364f
#define IAE_WTBI_REFERENCE_W_MSE 0.000158f
#define IAE_WTBI_REFERENCE_W_KL 1e-11f

#endif
