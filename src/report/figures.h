/*
 * The figures of a run and of an experiment grid, as PNG: ROC curves of
 * every score, histograms of normal against anomalous scores, training loss
 * curves per term, a grid of the worst- and best-scored test images with
 * their reconstructions and error maps, AUROC per class and model, and AUROC
 * against the contamination ratio.
 */
#ifndef IAE_FIGURES_H
#define IAE_FIGURES_H

#include "data/dataset.h"
#include "pipeline/pipeline.h"
#include "report/results.h"

/* ROC curve of every score the model has. */
iae_status iae_figure_roc(iae_ctx *ctx, const char *path, const char *title, const iae_scores *s,
                          const uint8_t *labels);

/* Histogram of score k (index into iae_score_names) for normal and anomalous
 * samples. */
iae_status iae_figure_histogram(iae_ctx *ctx, const char *path, const char *title, const iae_scores *s, int k,
                                const uint8_t *labels);

/* Mean loss terms per epoch of both phases, log scale. */
iae_status iae_figure_losses(iae_ctx *ctx, const char *path, const char *title, const iae_train_history *h);

/* The `count` highest- and lowest-scored test images by score k: input,
 * reconstruction and squared-error map per row (input only for models
 * without a decoder), scored in the model's default LSTM context. */
iae_status iae_figure_reconstructions(iae_ctx *ctx, const char *path, iae_detector *d, const iae_dataset *test,
                                      const iae_scores *s, int k, int count);

/* auroc_per_class.png (mean over seeds, error bars one standard deviation)
 * and, with more than one ratio, auroc_vs_contamination.png, into dir. */
iae_status iae_figure_results(iae_ctx *ctx, const char *dir, const iae_result_row *rows, int n, int score,
                              int context);

/* The score drawn in a run's histogram and image grid: svdd_mse when
 * present, else svdd, else mse. */
int iae_figure_main_score(const iae_scores *s);

#endif
