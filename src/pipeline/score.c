/*
 * Test-time scores of a detector, per sample:
 *   svdd = ||z - c||^2 (minus R^2 for soft-boundary), l1_svdd = sum |z - c|,
 *   mse = sum (xhat - x)^2 (a sum over pixels, not a mean), l1_mse = sum |xhat - x|,
 *   svdd_mse = minmax(svdd) + minmax(mse), normalised over all scored samples
 *     (the reference normalises within each evaluation batch instead),
 *   combined = (svdd - mean) / std + (mse - mean) / std with the mean and
 *     standard deviation of held-out normal training samples.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/roc.h"
#include "pipeline/pipeline.h"

const char *const iae_score_names[IAE_N_SCORES] = {"svdd", "mse", "svdd_mse", "l1_svdd", "l1_mse", "combined"};

float *iae_scores_get(const iae_scores *s, int which) {
    switch (which) {
    case 0: return s->svdd;
    case 1: return s->mse;
    case 2: return s->svdd_mse;
    case 3: return s->l1_svdd;
    case 4: return s->l1_mse;
    default: return s->combined;
    }
}

/* The stat scores (svdd, mse, l1_svdd, l1_mse, combined) as arrays. */
static float *stat_score(const iae_scores *s, int k) {
    float *const all[IAE_N_STAT_SCORES] = {s->svdd, s->mse, s->l1_svdd, s->l1_mse, s->combined};
    return all[k];
}

void iae_scores_free(iae_scores *s) {
    for (int k = 0; k < IAE_N_SCORES; k++) iae_free(iae_scores_get(s, k));
    memset(s, 0, sizeof(*s));
}

/* (v - min) / (max - min) over v[0..n); all zeros when the range is empty. */
static void minmax_into(const float *v, long n, float *out, int add) {
    float lo = INFINITY, hi = -INFINITY;
    for (long i = 0; i < n; i++) {
        if (v[i] < lo) lo = v[i];
        if (v[i] > hi) hi = v[i];
    }
    const float range = hi - lo;
    for (long i = 0; i < n; i++) {
        float t = range > 0.0f ? (v[i] - lo) / range : 0.0f;
        out[i] = add ? out[i] + t : t;
    }
}

/* combined = standardised svdd + standardised mse (the terms the model
 * has), NaN without statistics. */
static void fill_combined(iae_scores *s, const iae_score_stats *st) {
    for (long i = 0; i < s->n; i++) {
        if (st->n == 0) {
            s->combined[i] = NAN;
            continue;
        }
        float a = s->has_svdd && st->std[0] > 0 ? (s->svdd[i] - st->mean[0]) / st->std[0] : 0.0f;
        float b = s->has_mse && st->std[1] > 0 ? (s->mse[i] - st->mean[1]) / st->std[1] : 0.0f;
        s->combined[i] = a + b;
    }
}

static void fill_nan(float *v, long n) {
    for (long i = 0; i < n; i++) v[i] = NAN;
}

/* Whether score k exists for this model (combined needs statistics). */
static int score_present(const iae_scores *s, int k, int have_stats) {
    switch (k) {
    case 0: case 3: return s->has_svdd;
    case 1: case 4: return s->has_mse;
    case 2: return s->has_svdd || s->has_mse;
    default: return have_stats;
    }
}

static int xhat_present(const iae_net *net) { return net->cfg.use_decoder; }

iae_status iae_score(iae_ctx *ctx, iae_detector *d, const float *x, long n, int batch_size,
                     iae_lstm_context context, iae_scores *out) {
    memset(out, 0, sizeof(*out));
    iae_net *net = d->net;
    if (batch_size < 1 || batch_size > net->max_batch)
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "scoring batch size %d is outside 1..%d", batch_size,
                        net->max_batch);
    iae_status st = iae_net_set_context(ctx, net, context);
    if (st != IAE_OK) return st;
    out->n = n;
    for (int k = 0; k < IAE_N_SCORES; k++) {
        float *buf = iae_alloc(ctx, sizeof(float) * (n + 1), iae_score_names[k]);
        switch (k) {
        case 0: out->svdd = buf; break;
        case 1: out->mse = buf; break;
        case 2: out->svdd_mse = buf; break;
        case 3: out->l1_svdd = buf; break;
        case 4: out->l1_mse = buf; break;
        default: out->combined = buf; break;
        }
        if (buf == NULL) {
            iae_scores_free(out);
            iae_net_set_context(ctx, net, IAE_CONTEXT_BATCH);
            return IAE_ERR_NOMEM;
        }
    }

    const long in_size = iae_net_input_size(net);
    const int dim = iae_net_z_size(net);
    const float *c = d->center;
    const int soft = d->info.objective == IAE_OBJECTIVE_SOFT_BOUNDARY;
    const float r2 = d->info.radius * d->info.radius;

    for (long start = 0; start < n; start += batch_size) {
        const int bs = (int)(n - start < batch_size ? n - start : batch_size);
        const float *xb = x + start * in_size;
        iae_net_forward(net, bs, xb, 0);
        const float *z = iae_net_z(net);
        const float *xhat = iae_net_output(net);

#pragma omp parallel for schedule(static)
        for (int b = 0; b < bs; b++) {
            double sq = 0.0, l1 = 0.0;
            for (int j = 0; j < dim; j++) {
                double e = (double)z[(long)b * dim + j] - c[j];
                sq += e * e;
                l1 += fabs(e);
            }
            out->svdd[start + b] = (float)(soft ? sq - r2 : sq);
            out->l1_svdd[start + b] = (float)l1;
            double rsq = 0.0, rl1 = 0.0;
            if (xhat != NULL)
                for (long i = 0; i < in_size; i++) {
                    double e = (double)xhat[b * in_size + i] - xb[b * in_size + i];
                    rsq += e * e;
                    rl1 += fabs(e);
                }
            out->mse[start + b] = (float)rsq;
            out->l1_mse[start + b] = (float)rl1;
        }
    }
    iae_net_set_context(ctx, net, IAE_CONTEXT_BATCH);

    out->has_svdd = iae_model_has_svdd(d->info.model);
    out->has_mse = xhat_present(net);
    if (!out->has_svdd) fill_nan(out->svdd, n), fill_nan(out->l1_svdd, n);
    if (!out->has_mse) fill_nan(out->mse, n), fill_nan(out->l1_mse, n);
    memset(out->svdd_mse, 0, sizeof(float) * n);
    if (out->has_svdd) minmax_into(out->svdd, n, out->svdd_mse, 1);
    if (out->has_mse) minmax_into(out->mse, n, out->svdd_mse, 1);
    fill_combined(out, &d->stats);

    for (int k = 0; k < IAE_N_SCORES; k++) {
        if (!score_present(out, k, d->stats.n > 0)) continue; /* NaN by design */
        if (!iae_all_finite(iae_scores_get(out, k), n)) {
            iae_scores_free(out);
            return iae_fail(ctx, IAE_ERR_NUMERIC,
                            "the %s scores contain NaN or infinity; the model file or input data is broken",
                            iae_score_names[k]);
        }
    }
    return IAE_OK;
}

void iae_scores_auroc(const iae_scores *s, const uint8_t *labels, double auroc[IAE_N_SCORES]) {
    for (int k = 0; k < IAE_N_SCORES; k++) auroc[k] = iae_auroc(iae_scores_get(s, k), labels, s->n);
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Quantile q of sorted v[0..n) with linear interpolation (NumPy's default). */
static float quantile_sorted(const float *v, long n, double q) {
    double pos = q * (double)(n - 1);
    long lo = (long)floor(pos);
    long hi = lo + 1 < n ? lo + 1 : lo;
    double frac = pos - (double)lo;
    return (float)(v[lo] + frac * ((double)v[hi] - v[lo]));
}

static void describe(const float *v, long n, float *mean, float *std, float *quantiles) {
    double sum = 0.0, ss = 0.0;
    for (long i = 0; i < n; i++) sum += v[i];
    const double mu = sum / n;
    for (long i = 0; i < n; i++) ss += ((double)v[i] - mu) * ((double)v[i] - mu);
    *mean = (float)mu;
    *std = (float)sqrt(n > 1 ? ss / (n - 1) : 0.0);
    float *sorted = malloc(sizeof(float) * n);
    IAE_ASSERT(sorted != NULL);
    memcpy(sorted, v, sizeof(float) * n);
    qsort(sorted, n, sizeof(float), cmp_float);
    for (int q = 0; q < IAE_N_QUANTILES; q++) quantiles[q] = quantile_sorted(sorted, n, q / (double)(IAE_N_QUANTILES - 1));
    free(sorted);
}

void iae_score_stats_compute(iae_scores *s, iae_score_stats *out) {
    memset(out, 0, sizeof(*out));
    if (s->n < 1) return;
    out->n = (int)s->n;
    /* Absent scores keep zero statistics. */
    const int present[4] = {s->has_svdd, s->has_mse, s->has_svdd, s->has_mse};
    for (int k = 0; k < 4; k++)
        if (present[k]) describe(stat_score(s, k), s->n, &out->mean[k], &out->std[k], out->quantile[k]);
    fill_combined(s, out);
    describe(s->combined, s->n, &out->mean[4], &out->std[4], out->quantile[4]);
}

float iae_score_stats_threshold(const iae_score_stats *st, int which, float fpr) {
    double pos = (1.0 - fpr) * (IAE_N_QUANTILES - 1);
    int lo = (int)floor(pos);
    if (lo >= IAE_N_QUANTILES - 1) return st->quantile[which][IAE_N_QUANTILES - 1];
    double frac = pos - lo;
    return (float)(st->quantile[which][lo] + frac * (st->quantile[which][lo + 1] - st->quantile[which][lo]));
}
