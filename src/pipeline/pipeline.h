/*
 * The jobs: train a detector (pre-train the autoencoder, transfer its
 * weights, place the center, train IAE-LSTM-KL) and score data with it.
 */
#ifndef IAE_PIPELINE_H
#define IAE_PIPELINE_H

#include "data/dataset.h"
#include "model/detector.h"
#include "report/progress.h"

/* Mean loss terms of one epoch. */
typedef struct {
    int pretrain; /* 1: autoencoder pre-training epoch */
    int epoch;    /* 1-based within its phase */
    double loss, svdd, mse, kl;
    double seconds;
} iae_epoch_record;

typedef struct {
    int n, capacity;
    iae_epoch_record *epochs; /* pretrain_epochs + epochs entries */
    double pretrain_seconds, center_seconds, train_seconds, validation_seconds;
    int transferred; /* tensors copied from the autoencoder */
} iae_train_history;

void iae_train_history_free(iae_train_history *h);

/* One optimisation step at a time: forward, loss terms, backward, Adam
 * (AMSGrad). IAE_STEP_AUTOENCODER minimises the reconstruction MSE (the
 * pre-training); IAE_STEP_JOINT the IAE-LSTM-KL loss with center c. */
typedef enum { IAE_STEP_AUTOENCODER, IAE_STEP_JOINT } iae_step_kind;
typedef struct iae_trainer iae_trainer;

/* Create a trainer for net (sized for net->max_batch); center is (rep_dim)
 * for IAE_STEP_JOINT and unused otherwise. Allocates everything a step needs. */
iae_status iae_trainer_create(iae_ctx *ctx, iae_net *net, const iae_detector_info *info, const float *center,
                              iae_step_kind kind, iae_trainer **out);
void iae_trainer_free(iae_trainer *t);
void iae_trainer_set_lr(iae_trainer *t, float lr);

/* Set the learning rate of this epoch (MultiStepLR) and whether the
 * soft-boundary radius is updated after each step (past the warm-up). */
void iae_trainer_begin_epoch(iae_trainer *t, int epoch);

/* The soft-boundary radius R the trainer has reached. */
float iae_trainer_radius(const iae_trainer *t);
void iae_trainer_set_radius(iae_trainer *t, float r);

/* The optimiser state for checkpoints: Adam moments, step count and the KL
 * target stream. The mutable form returns the number of floats per moment. */
void iae_trainer_state(const iae_trainer *t, const float **m, const float **v, const float **vmax, long *step,
                       const iae_rng **kl_rng);
long iae_trainer_mutable_state(iae_trainer *t, float **m, float **v, float **vmax, long **step, iae_rng **kl_rng);

/* One step on x (N, C, H, W). terms receives the total loss, svdd, mse and
 * kl. Returns nonzero, without updating the parameters, when the loss is not
 * finite. */
int iae_trainer_step(iae_trainer *t, const float *x, int n, double terms[4]);

/* Train a detector on the normal samples in train (labels are ignored) with
 * the settings in info: info->validation_fraction of them are held out from
 * gradient steps and give the score statistics and the threshold. On success
 * *out owns the trained detector. */
struct iae_checkpoint;

/* Checkpointing of a training run. */
typedef struct {
    const char *checkpoint_path;         /* where to save checkpoints, NULL for none */
    int checkpoint_every;                /* save after every N epochs of either phase, 0 for never */
    const struct iae_checkpoint *resume; /* continue this checkpoint's run, NULL to start afresh */
    int stop_after_epochs;               /* stop early, as if interrupted, after this many epochs
                                            of this call (tests of resume); 0 for never */
    const iae_net *pretrained;           /* skip pre-training and transfer from this autoencoder
                                            (same settings and seed, e.g. in a search) */
    iae_net **keep_pretrained;           /* receives the pre-trained autoencoder (caller frees) */
    const char *data_config;             /* data source lines stored in checkpoints and given to
                                            the trained detector, NULL for none */
} iae_train_options;

/* Split train into fit (gradient steps) and val (held out), seeded; both keep
 * the original order and val gets round(n * fraction) samples. */
iae_status iae_split_validation(iae_ctx *ctx, const iae_dataset *train, float fraction, uint64_t seed,
                                iae_dataset *fit, iae_dataset *val);

iae_status iae_train_detector(iae_ctx *ctx, const iae_detector_info *info, const iae_dataset *train,
                              const iae_train_options *opts, iae_progress *progress, iae_detector **out,
                              iae_train_history *history);

/* A run stopped by stop_after_epochs returns IAE_INTERRUPTED and no model. */

/* Per-sample anomaly scores; higher means more anomalous. */
typedef struct {
    long n;
    float *svdd;     /* ||z - c||^2 (minus R^2 for soft-boundary) */
    float *l1_svdd;  /* sum |z - c| */
    float *mse;      /* sum over pixels of (xhat - x)^2 */
    float *l1_mse;   /* sum |xhat - x| */
    float *svdd_mse; /* min-max normalised svdd + min-max normalised mse over all n */
    float *combined; /* standardised svdd + standardised mse (held-out statistics); NaN without them */
    int has_svdd;    /* the model has an SVDD center; else svdd and l1_svdd are NaN */
    int has_mse;     /* the model has a decoder; else mse and l1_mse are NaN */
} iae_scores;

#define IAE_N_SCORES 6
/* "svdd", "mse", "svdd_mse", "l1_svdd", "l1_mse", "combined" */
extern const char *const iae_score_names[IAE_N_SCORES];
float *iae_scores_get(const iae_scores *s, int which); /* in the order of iae_score_names */
void iae_scores_free(iae_scores *s);

/* Score x (N, C, H, W) in order, in batches of batch_size samples with the
 * last partial batch kept, BatchNorm in evaluation mode, with the given LSTM
 * context (see net.h): batch reproduces the reference, where the LSTM runs
 * across each batch as a sequence; memory and none score every sample alone. */
iae_status iae_score(iae_ctx *ctx, iae_detector *d, const float *x, long n, int batch_size,
                     iae_lstm_context context, iae_scores *out);

/* Statistics of the scores of held-out normal samples: mean, standard
 * deviation and quantiles of svdd, mse, l1_svdd, l1_mse and combined.
 * Fills s->combined from the new statistics. */
void iae_score_stats_compute(iae_scores *s, iae_score_stats *out);

/* The threshold on score `which` (index into the stat scores) with false
 * positive rate fpr on the held-out normals: the (1 - fpr) quantile. */
float iae_score_stats_threshold(const iae_score_stats *st, int which, float fpr);

/* AUROC of every score against labels (1 = anomalous), in the order of
 * iae_score_names. NaN where a class is missing. */
void iae_scores_auroc(const iae_scores *s, const uint8_t *labels, double auroc[IAE_N_SCORES]);

/* Test-set results in every LSTM context the model supports. */
typedef struct {
    int n_contexts;
    iae_lstm_context contexts[3]; /* batch, then memory and none when the model has an LSTM */
    double auroc[3][IAE_N_SCORES], auprc[3][IAE_N_SCORES];
    double seconds[3]; /* scoring time per context */
    int has_threshold; /* the model has held-out statistics and a threshold */
    float threshold, threshold_fpr;
    iae_lstm_context threshold_context;
    long tp, fp, tn, fn; /* decisions "combined > threshold" against the labels */
    double precision, recall, f1;
} iae_evaluation;

/* Score test in each context and fill out. keep, when not NULL, receives the
 * scores of the model's default context (free with iae_scores_free). */
iae_status iae_evaluate(iae_ctx *ctx, iae_detector *d, const iae_dataset *test, int batch_size,
                        iae_progress *progress, iae_evaluation *out, iae_scores *keep);

#endif
