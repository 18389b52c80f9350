/*
 * Experiment grids: every combination of models, normal classes, seeds and
 * contamination ratios, one training run each, with per-run metrics and
 * figures, then results.csv, results.md and summary figures. A run whose
 * row.csv exists is skipped, so an interrupted grid resumes where it stopped.
 */
#ifndef IAE_EXPERIMENT_H
#define IAE_EXPERIMENT_H

#include <stdint.h>

#include "pipeline/pipeline.h"

#define IAE_GRID_MAX 64

typedef struct {
    const char *out_dir;
    const char *data_dir;
    int data_dir_is_default;
    int models[IAE_N_MODELS], n_models;
    int classes[IAE_GRID_MAX], n_classes;
    uint64_t seeds[IAE_GRID_MAX];
    int n_seeds;
    double ratios[IAE_GRID_MAX];
    int n_ratios;
    int pretrain_epochs, epochs, batch_size;
    float validation_fraction;
    int lstm_bf16;
    int plots;                 /* write per-run and summary figures */
    int table_score;           /* index into iae_score_names for results.md */
    iae_lstm_context table_context;
} iae_experiment_options;

iae_status iae_run_experiment(iae_ctx *ctx, const iae_experiment_options *o, iae_progress *progress);

/* Create path and its parents (mkdir -p). */
iae_status iae_make_dirs(iae_ctx *ctx, const char *path);

#endif
