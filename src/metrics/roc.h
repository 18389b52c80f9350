/*
 * Ranking metrics of anomaly scores: AUROC, average precision and the ROC
 * curve. Label 1 (any nonzero byte) marks an anomalous sample, the positive
 * class, and a higher score means more anomalous.
 *
 * Each metric sorts once, O(n log n), and accumulates in double.
 * Equal scores form one threshold, so ties are never broken by input order.
 * A NaN score has no rank: the functions below then return NaN (or -1), and
 * callers should test the scores with iae_all_finite first so they can report
 * which run produced them.
 */
#ifndef IAE_ROC_H
#define IAE_ROC_H

#include <stdint.h>

/* Return 1 when every x[0..n) is finite (no NaN, no infinity), else 0. */
int iae_all_finite(const float *x, long n);

/* AUROC of scores (n) against labels (n), ties counted one half: the
 * Mann-Whitney U statistic with mid-ranks, divided by n_pos * n_neg.
 * NaN when either class is absent, a score is NaN or memory runs out. */
double iae_auroc(const float *scores, const uint8_t *labels, long n);

/* Average precision, the step-wise area under the precision-recall curve as
 * scikit-learn's average_precision_score computes it: the sum over distinct
 * thresholds, from the highest score down, of (R_k - R_{k-1}) * P_k.
 * NaN when there is no positive, a score is NaN or memory runs out. */
double iae_auprc(const float *scores, const uint8_t *labels, long n);

/* Write the ROC curve into fpr and tpr, which the caller sizes n + 1: (0, 0)
 * and then one point per distinct score, from the highest down, ending at
 * (1, 1). Returns the number of points written (at most n + 1), or -1 when
 * either class is absent, a score is NaN or memory runs out. */
long iae_roc_curve(const float *scores, const uint8_t *labels, long n, double *fpr, double *tpr);

#endif
