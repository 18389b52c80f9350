/*
 * Result tables of experiment grids. results.csv has one CSV row per run.
 * results.md follows the table layout of Huang et al. (IEEE TIM 2024): mean
 * and standard deviation of the AUROC over seeds, per normal class (rows)
 * and model (columns), best per class in bold, and the mean over classes.
 */
#ifndef IAE_RESULTS_H
#define IAE_RESULTS_H

#include <stdint.h>
#include <stdio.h>

#include "pipeline/pipeline.h"

#define IAE_RESULT_NAME_BYTES 32

/* One run of a grid. AUROCs are NaN where a context or score is absent. */
typedef struct {
    char model[IAE_RESULT_NAME_BYTES];
    char dataset[IAE_RESULT_NAME_BYTES];
    int normal_class;
    uint64_t seed;
    double contamination;
    int pretrain_epochs, epochs, batch_size;
    double seconds;
    double auroc[3][IAE_N_SCORES]; /* contexts batch, memory, none */
    double auprc[IAE_N_SCORES];    /* batch context */
    double f1;                     /* at the stored threshold, NaN without one */
} iae_result_row;

/* Fill a row from a finished run. */
void iae_result_row_fill(iae_result_row *r, const iae_detector_info *info, const iae_evaluation *e, double seconds);

/* Write rows as CSV with a header (atomically). */
iae_status iae_results_write_csv(iae_ctx *ctx, const char *path, const iae_result_row *rows, int n);

/* Read a CSV written by iae_results_write_csv; *rows is malloc'd. */
iae_status iae_results_read_csv(iae_ctx *ctx, const char *path, iae_result_row **rows, int *n);

/* Store the distinct models of rows in column order, baselines first and the
 * full model last, and return their number. */
int iae_results_models(const iae_result_row *rows, int n, int models[IAE_N_MODELS]);

/* Write the Markdown summary of the AUROC of score `score` (index into
 * iae_score_names) in context `context`. A model without that score shows
 * one it has instead: mse for cae, svdd for deep-svdd. */
iae_status iae_results_write_markdown(iae_ctx *ctx, const char *path, const iae_result_row *rows, int n, int score,
                                      int context, const char *title);

#endif
