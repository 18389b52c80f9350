/*
 * Run metrics: the AUROC table printed at the end of train and eval, and the
 * same facts as a JSON file for scripts (--metrics).
 */
#ifndef IAE_METRICS_H
#define IAE_METRICS_H

#include <stdio.h>

#include "pipeline/pipeline.h"

typedef struct {
    const char *command; /* "train" or "eval" */
    const char *model;   /* "iae-lstm-kl" */
    const iae_detector_info *info;
    int train_samples, test_samples, test_anomalous;
    int threads;
    double seconds; /* wall time of the whole command */
    const iae_evaluation *eval;
    const iae_train_history *history; /* NULL for eval */
    const char *data_dir;             /* data folder or file scored */
    const char *model_file;           /* model written (train) or read (eval), or NULL */
    const char *task;                 /* "normal class 3", "category bottle", ...; NULL: from
                                         info->normal_class */
    const char *category;             /* MVTec AD category, or NULL */
    int has_pixel_auroc;              /* 1: pixel_auroc was computed (MVTec AD with --maps) */
    double pixel_auroc;               /* AUROC of the anomaly maps' pixels against the masks */
} iae_metrics;

/* Print the AUROC table (scores by LSTM context) and the threshold's
 * decisions to out. */
void iae_metrics_print(FILE *out, const iae_metrics *m);

/* Write m as JSON to path (atomically). NaN values become null. "auroc" holds
 * the batch context, which reproduces the reference protocol; every context
 * is under "contexts". "dataset" names the data set kind, "category" and
 * "pixel_auroc" appear when set. */
iae_status iae_metrics_write_json(iae_ctx *ctx, const char *path, const iae_metrics *m);

#endif
