/*
 * Test-time scores of a detector, per sample:
 *   svdd = ||z - c||^2 (minus R^2 for soft-boundary), l1_svdd = sum |z - c|,
 *   mse = sum (xhat - x)^2 (a sum over pixels, not a mean), l1_mse = sum |xhat - x|,
 *   svdd_mse = minmax(svdd) + minmax(mse), normalised over all scored samples.
 * (The reference normalises svdd_mse within each evaluation batch instead.)
 */
#include <math.h>
#include <string.h>

#include "metrics/roc.h"
#include "pipeline/pipeline.h"

const char *const iae_score_names[IAE_N_SCORES] = {"svdd", "mse", "svdd_mse", "l1_svdd", "l1_mse"};

float *iae_scores_get(const iae_scores *s, int which) {
    switch (which) {
    case 0: return s->svdd;
    case 1: return s->mse;
    case 2: return s->svdd_mse;
    case 3: return s->l1_svdd;
    default: return s->l1_mse;
    }
}

void iae_scores_free(iae_scores *s) {
    iae_free(s->svdd), iae_free(s->l1_svdd), iae_free(s->mse), iae_free(s->l1_mse), iae_free(s->svdd_mse);
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

iae_status iae_score(iae_ctx *ctx, iae_detector *d, const float *x, long n, int batch_size,
                     iae_scores *out) {
    memset(out, 0, sizeof(*out));
    iae_net *net = d->net;
    if (batch_size < 1 || batch_size > net->max_batch)
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "scoring batch size %d is outside 1..%d", batch_size,
                        net->max_batch);
    out->n = n;
    out->svdd = iae_alloc(ctx, sizeof(float) * (n + 1), "svdd scores");
    out->l1_svdd = iae_alloc(ctx, sizeof(float) * (n + 1), "l1_svdd scores");
    out->mse = iae_alloc(ctx, sizeof(float) * (n + 1), "mse scores");
    out->l1_mse = iae_alloc(ctx, sizeof(float) * (n + 1), "l1_mse scores");
    out->svdd_mse = iae_alloc(ctx, sizeof(float) * (n + 1), "svdd_mse scores");
    if (!out->svdd || !out->l1_svdd || !out->mse || !out->l1_mse || !out->svdd_mse) {
        iae_scores_free(out);
        return IAE_ERR_NOMEM;
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

    minmax_into(out->svdd, n, out->svdd_mse, 0);
    minmax_into(out->mse, n, out->svdd_mse, 1);

    for (int k = 0; k < IAE_N_SCORES; k++)
        if (!iae_all_finite(iae_scores_get(out, k), n)) {
            iae_scores_free(out);
            return iae_fail(ctx, IAE_ERR_NUMERIC,
                            "the %s scores contain NaN or infinity; the model file or input data is broken",
                            iae_score_names[k]);
        }
    return IAE_OK;
}

void iae_scores_auroc(const iae_scores *s, const uint8_t *labels, double auroc[IAE_N_SCORES]) {
    for (int k = 0; k < IAE_N_SCORES; k++) auroc[k] = iae_auroc(iae_scores_get(s, k), labels, s->n);
}
