/*
 * Hyper-parameter search without test leakage: candidates for w_mse, w_kl
 * and nu, each trained as a full run, are ranked on data the test set never
 * contributes to: a user-supplied labelled validation set, or else the
 * held-out normal training images against corrupted copies of themselves
 * (a proxy for anomalies, see search.c).
 */
#ifndef IAE_SEARCH_H
#define IAE_SEARCH_H

#include "pipeline/pipeline.h"

typedef struct {
    iae_detector_info base; /* settings of every trial; the searched ones are overridden */
    int grid;               /* 0: random candidates, 1: a grid */
    int trials;             /* random: the number of candidates; grid: at most this many */
    int tune[3];            /* search w_mse, w_kl, nu */
    double lo[3], hi[3];    /* ranges; w_mse and w_kl log-uniform, nu uniform */
    const iae_dataset *labelled; /* optional labelled validation set, else proxy anomalies */
    int score;              /* criterion: AUROC of this score (index into iae_score_names) */
    const char *out_csv;    /* every trial, rewritten after each one */
} iae_search_options;

typedef struct {
    double value[3]; /* w_mse, w_kl, nu */
    double auroc;    /* the criterion */
    double seconds;
} iae_trial;

/* Run the search on the normal training images in train; best receives the
 * best trial. */
iae_status iae_search(iae_ctx *ctx, const iae_search_options *o, const iae_dataset *train, iae_progress *progress,
                      iae_trial *best);

/* Write seeded corrupted copies of x (N, C, H, W) into out. Each copy gets a
 * random square, a third of the side, of uniform noise over the image's
 * range, and every other copy is also flipped vertically. */
void iae_proxy_anomalies(const float *x, int n, int c, int h, int w, uint64_t seed, float *out);

#endif
