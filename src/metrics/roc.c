/*
 * AUROC, average precision and ROC curve points from one sort of the scores.
 *
 * All three walk the samples from the highest score down, one group of equal
 * scores at a time, with running counts of true and false positives.
 */
#include "metrics/roc.h"

#include <math.h>
#include <stdlib.h>

#include "core/core.h"

typedef struct {
    float score;
    uint8_t positive;
    long index; /* position in the input, the tie-break that makes the order total */
} ranked_sample;

static int compare_score_descending(const void *a, const void *b) {
    const ranked_sample *x = a;
    const ranked_sample *y = b;
    if (x->score > y->score) return -1;
    if (x->score < y->score) return 1;
    return (x->index > y->index) - (x->index < y->index);
}

/* Return the samples sorted by score, highest first, and count the positives.
 * Returns NULL when n <= 0, a score is NaN (which has no place in the order,
 * and would make the comparison inconsistent for qsort) or allocation fails. */
static ranked_sample *sort_descending(const float *scores, const uint8_t *labels, long n,
                                      long *positives) {
    if (n <= 0) return NULL;
    for (long i = 0; i < n; i++)
        if (isnan(scores[i])) return NULL;

    ranked_sample *s = iae_alloc(NULL, (size_t)n * sizeof(*s), "ranked scores");
    if (s == NULL) return NULL;
    long pos = 0;
    for (long i = 0; i < n; i++) {
        s[i].score = scores[i];
        s[i].positive = labels[i] != 0;
        s[i].index = i;
        pos += s[i].positive;
    }
    qsort(s, (size_t)n, sizeof(*s), compare_score_descending);
    *positives = pos;
    return s;
}

/* Count the positives and negatives in the group of equal scores that starts
 * at s[start]; return the index just past the group. */
static long next_group(const ranked_sample *s, long n, long start, long *pos, long *neg) {
    long end = start;
    *pos = 0;
    *neg = 0;
    while (end < n && s[end].score == s[start].score) {
        if (s[end].positive)
            (*pos)++;
        else
            (*neg)++;
        end++;
    }
    return end;
}

int iae_all_finite(const float *x, long n) {
    for (long i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

double iae_auroc(const float *scores, const uint8_t *labels, long n) {
    long positives = 0;
    ranked_sample *s = sort_descending(scores, labels, n, &positives);
    if (s == NULL) return NAN;
    long negatives = n - positives;
    if (positives == 0 || negatives == 0) {
        iae_free(s);
        return NAN;
    }

    /* Each (positive, negative) pair scores 1 when the positive is higher and
     * 1/2 when they tie, which equals the Mann-Whitney U with mid-ranks. */
    double pairs = 0.0;
    double positives_above = 0.0;
    for (long start = 0; start < n;) {
        long pos = 0;
        long neg = 0;
        start = next_group(s, n, start, &pos, &neg);
        pairs += (double)neg * positives_above + 0.5 * (double)pos * (double)neg;
        positives_above += (double)pos;
    }

    iae_free(s);
    return pairs / ((double)positives * (double)negatives);
}

double iae_auprc(const float *scores, const uint8_t *labels, long n) {
    long positives = 0;
    ranked_sample *s = sort_descending(scores, labels, n, &positives);
    if (s == NULL) return NAN;
    if (positives == 0) {
        iae_free(s);
        return NAN;
    }

    /* Threshold at each group: everything with a score >= it is predicted
     * positive. Recall moves only in groups that contain a positive. */
    double ap = 0.0;
    double tp = 0.0;
    double fp = 0.0;
    double recall_before = 0.0;
    for (long start = 0; start < n;) {
        long pos = 0;
        long neg = 0;
        start = next_group(s, n, start, &pos, &neg);
        tp += (double)pos;
        fp += (double)neg;
        double recall = tp / (double)positives;
        double precision = tp / (tp + fp);
        ap += (recall - recall_before) * precision;
        recall_before = recall;
    }

    iae_free(s);
    return ap;
}

long iae_roc_curve(const float *scores, const uint8_t *labels, long n, double *fpr, double *tpr) {
    long positives = 0;
    ranked_sample *s = sort_descending(scores, labels, n, &positives);
    if (s == NULL) return -1;
    long negatives = n - positives;
    if (positives == 0 || negatives == 0) {
        iae_free(s);
        return -1;
    }

    long points = 0;
    fpr[points] = 0.0;
    tpr[points] = 0.0;
    points++;

    long tp = 0;
    long fp = 0;
    for (long start = 0; start < n;) {
        long pos = 0;
        long neg = 0;
        start = next_group(s, n, start, &pos, &neg);
        tp += pos;
        fp += neg;
        fpr[points] = (double)fp / (double)negatives;
        tpr[points] = (double)tp / (double)positives;
        points++;
    }

    iae_free(s);
    return points;
}
