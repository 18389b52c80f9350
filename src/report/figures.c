/* Figures of runs and experiment grids (see figures.h). */
#include "report/figures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/roc.h"
#include "report/plot.h"

static int score_present(const iae_scores *s, int k) {
    const float *v = iae_scores_get(s, k);
    return s->n > 0 && !isnan(v[0]);
}

int iae_figure_main_score(const iae_scores *s) {
    if (score_present(s, 2)) return 2; /* svdd_mse */
    return score_present(s, 0) ? 0 : 1;
}

iae_status iae_figure_roc(iae_ctx *ctx, const char *path, const char *title, const iae_scores *s,
                          const uint8_t *labels) {
    double *fpr[IAE_N_SCORES] = {0}, *tpr[IAE_N_SCORES] = {0};
    char names[IAE_N_SCORES][64];
    iae_series series[IAE_N_SCORES];
    int n = 0;
    iae_status st = IAE_OK;
    for (int k = 0; k < IAE_N_SCORES && st == IAE_OK; k++) {
        if (!score_present(s, k)) continue;
        fpr[n] = malloc(sizeof(double) * (s->n + 1));
        tpr[n] = malloc(sizeof(double) * (s->n + 1));
        if (fpr[n] == NULL || tpr[n] == NULL) {
            st = iae_fail(ctx, IAE_ERR_NOMEM, "out of memory drawing '%s'", path);
            n++;
            break;
        }
        long points = iae_roc_curve(iae_scores_get(s, k), labels, s->n, fpr[n], tpr[n]);
        if (points < 0) {
            free(fpr[n]), free(tpr[n]);
            continue;
        }
        snprintf(names[n], sizeof(names[n]), "%s (AUROC %.4f)", iae_score_names[k],
                 iae_auroc(iae_scores_get(s, k), labels, s->n));
        series[n] = (iae_series){names[n], fpr[n], tpr[n], (int)points};
        n++;
    }
    if (st == IAE_OK) {
        iae_chart_opts o = {.title = title, .x_label = "false positive rate", .y_label = "true positive rate",
                            .x_min = 0, .x_max = 1, .y_min = 0, .y_max = 1, .diagonal = 1};
        st = iae_plot_lines(ctx, path, &o, series, n);
    }
    for (int i = 0; i < n; i++) free(fpr[i]), free(tpr[i]);
    return st;
}

iae_status iae_figure_histogram(iae_ctx *ctx, const char *path, const char *title, const iae_scores *s, int k,
                                const uint8_t *labels) {
    const float *v = iae_scores_get(s, k);
    float *groups[2] = {malloc(sizeof(float) * (s->n + 1)), malloc(sizeof(float) * (s->n + 1))};
    if (groups[0] == NULL || groups[1] == NULL) {
        free(groups[0]), free(groups[1]);
        return iae_fail(ctx, IAE_ERR_NOMEM, "out of memory drawing '%s'", path);
    }
    long counts[2] = {0, 0};
    for (long i = 0; i < s->n; i++) {
        int g = labels[i] != 0;
        groups[g][counts[g]++] = v[i];
    }
    char x_label[64];
    snprintf(x_label, sizeof(x_label), "%s score", iae_score_names[k]);
    const char *names[2] = {"normal", "anomalous"};
    const float *values[2] = {groups[0], groups[1]};
    iae_chart_opts o = {.title = title, .x_label = x_label, .y_label = "share of the group", .normalize = 1};
    iae_status st = iae_plot_histogram(ctx, path, &o, names, values, counts, 2, 40);
    free(groups[0]), free(groups[1]);
    return st;
}

iae_status iae_figure_losses(iae_ctx *ctx, const char *path, const char *title, const iae_train_history *h) {
    /* One x axis over both phases: epoch 1.. of pre-training, then training. */
    const int n = h->n;
    double *x = malloc(sizeof(double) * (n + 1)), *y[5];
    for (int t = 0; t < 5; t++) y[t] = malloc(sizeof(double) * (n + 1));
    if (x == NULL || !y[0] || !y[1] || !y[2] || !y[3] || !y[4]) {
        free(x);
        for (int t = 0; t < 5; t++) free(y[t]);
        return iae_fail(ctx, IAE_ERR_NOMEM, "out of memory drawing '%s'", path);
    }
    for (int i = 0; i < n; i++) {
        const iae_epoch_record *r = &h->epochs[i];
        x[i] = i + 1;
        y[0][i] = r->pretrain ? r->mse : NAN;  /* pre-training reconstruction */
        y[1][i] = r->pretrain ? NAN : r->loss; /* total (may be negative with the KL term) */
        y[2][i] = r->pretrain ? NAN : r->svdd;
        y[3][i] = r->pretrain ? NAN : r->mse;
        y[4][i] = r->pretrain ? NAN : fabs(r->kl);
    }
    iae_series s[5] = {{"pre-training mse", x, y[0], n}, {"total loss", x, y[1], n}, {"svdd", x, y[2], n},
                       {"mse", x, y[3], n}, {"|kl|", x, y[4], n}};
    iae_chart_opts o = {.title = title, .x_label = "epoch (pre-training, then training)", .y_label = "mean loss",
                        .log_y = 1};
    iae_status st = iae_plot_lines(ctx, path, &o, s, 5);
    free(x);
    for (int t = 0; t < 5; t++) free(y[t]);
    return st;
}

typedef struct {
    float score;
    int index;
} ranked;

static int cmp_ranked_desc(const void *a, const void *b) {
    float x = ((const ranked *)a)->score, y = ((const ranked *)b)->score;
    return (x < y) - (x > y);
}

iae_status iae_figure_reconstructions(iae_ctx *ctx, const char *path, iae_detector *d, const iae_dataset *test,
                                      const iae_scores *s, int k, int count) {
    const float *v = iae_scores_get(s, k);
    if (2 * count > test->n) count = test->n / 2;
    if (count > d->net->max_batch / 2) count = d->net->max_batch / 2;
    if (count < 1) return iae_fail(ctx, IAE_ERR_ARGUMENT, "too few test images for '%s'", path);
    ranked *order = malloc(sizeof(ranked) * test->n);
    const long size = (long)test->c * test->h * test->w;
    const int rows = 2 * count, has_dec = d->net->cfg.use_decoder, cols = has_dec ? 3 : 1;
    float *x = malloc(sizeof(float) * size * rows), *xhat = malloc(sizeof(float) * size * rows);
    float *err = malloc(sizeof(float) * size * rows);
    iae_tile *tiles = calloc((size_t)rows * cols, sizeof(iae_tile));
    char(*captions)[64] = malloc(64 * (size_t)rows);
    iae_status st = IAE_OK;
    if (!order || !x || !xhat || !err || !tiles || !captions) {
        st = iae_fail(ctx, IAE_ERR_NOMEM, "out of memory drawing '%s'", path);
        goto done;
    }
    for (int i = 0; i < test->n; i++) order[i] = (ranked){isnan(v[i]) ? -INFINITY : v[i], i};
    qsort(order, test->n, sizeof(ranked), cmp_ranked_desc);

    /* Rows: the `count` highest scores, then the `count` lowest. */
    for (int r = 0; r < rows; r++) {
        const int pick = r < count ? order[r].index : order[test->n - count + (r - count)].index;
        memcpy(x + r * size, test->x + (long)pick * size, sizeof(float) * size);
        snprintf(captions[r], 64, "%s c%d %.3g", r < count ? "high" : "low", test->cls[pick], v[pick]);
    }
    if ((st = iae_net_set_context(ctx, d->net, d->info.score_context)) != IAE_OK) goto done;
    iae_net_forward(d->net, rows, x, 0);
    iae_net_set_context(ctx, d->net, IAE_CONTEXT_BATCH);
    /* One grey scale for all inputs and reconstructions (the inputs' range),
     * and one heat scale for all error maps, so that rows compare. */
    float xlo = INFINITY, xhi = -INFINITY, ehi = 0.0f;
    for (long i = 0; i < size * rows; i++) xlo = fminf(xlo, x[i]), xhi = fmaxf(xhi, x[i]);
    if (!(xhi > xlo)) xlo = 0.0f, xhi = 1.0f;
    const long plane = (long)test->h * test->w;
    if (has_dec) {
        memcpy(xhat, iae_net_output(d->net), sizeof(float) * size * rows);
        /* Squared error summed over the channels: (rows, H, W). */
        for (int r = 0; r < rows; r++)
            for (long p = 0; p < plane; p++) {
                float e = 0.0f;
                for (int c = 0; c < test->c; c++) {
                    const long i = (long)r * size + c * plane + p;
                    e += (xhat[i] - x[i]) * (xhat[i] - x[i]);
                }
                err[r * plane + p] = e;
                ehi = fmaxf(ehi, e);
            }
    }
    if (!(ehi > 0.0f)) ehi = 1.0f;
    for (int r = 0; r < rows; r++) {
        iae_tile *t = tiles + r * cols;
        t[0] = (iae_tile){x + r * size, test->c, test->h, test->w, xlo, xhi, 0, captions[r]};
        if (has_dec) {
            t[1] = (iae_tile){xhat + r * size, test->c, test->h, test->w, xlo, xhi, 0, NULL};
            t[2] = (iae_tile){err + r * plane, 1, test->h, test->w, 0.0f, ehi, 1, NULL};
        }
    }
    const char *titles[3] = {"input", "reconstruction", "squared error"};
    char title[128];
    snprintf(title, sizeof(title), "highest and lowest %s scores (c = class)", iae_score_names[k]);
    st = iae_plot_image_grid(ctx, path, title, titles, tiles, rows, cols, 0);
done:
    free(order), free(x), free(xhat), free(err), free(tiles), free(captions);
    return st;
}

static double row_value(const iae_result_row *r, int score, int context) {
    double v = r->auroc[context][score];
    if (isnan(v)) v = r->auroc[context][0];
    if (isnan(v)) v = r->auroc[context][1];
    return v;
}

iae_status iae_figure_results(iae_ctx *ctx, const char *dir, const iae_result_row *rows, int n, int score,
                              int context) {
    int models[IAE_N_MODELS], n_models = iae_results_models(rows, n, models), classes[64], n_classes = 0;
    int n_ratios = 0;
    double ratios[16];
    for (int i = 0; i < n; i++) {
        int seen = 0;
        for (int j = 0; j < n_classes; j++) seen |= classes[j] == rows[i].normal_class;
        if (!seen && n_classes < 64) classes[n_classes++] = rows[i].normal_class;
        seen = 0;
        for (int j = 0; j < n_ratios; j++) seen |= ratios[j] == rows[i].contamination;
        if (!seen && n_ratios < 16) ratios[n_ratios++] = rows[i].contamination;
    }
    for (int a = 0; a < n_classes; a++)
        for (int b = a + 1; b < n_classes; b++)
            if (classes[b] < classes[a]) {
                int t = classes[a];
                classes[a] = classes[b];
                classes[b] = t;
            }
    for (int a = 0; a < n_ratios; a++)
        for (int b = a + 1; b < n_ratios; b++)
            if (ratios[b] < ratios[a]) {
                double t = ratios[a];
                ratios[a] = ratios[b];
                ratios[b] = t;
            }

    /* AUROC per class and model at the lowest contamination ratio. */
    double *mean = calloc((size_t)n_models * n_classes + 1, sizeof(double));
    double *sd = calloc((size_t)n_models * n_classes + 1, sizeof(double));
    char (*group_names)[16] = calloc((size_t)n_classes + 1, 16);
    const char *gptr[64], *sptr[IAE_N_MODELS];
    if (!mean || !sd || !group_names) {
        free(mean), free(sd), free(group_names);
        return iae_fail(ctx, IAE_ERR_NOMEM, "out of memory drawing the result figures");
    }
    for (int c = 0; c < n_classes; c++) {
        snprintf(group_names[c], 16, "class %d", classes[c]);
        gptr[c] = group_names[c];
    }
    for (int m = 0; m < n_models; m++) {
        sptr[m] = iae_model_name((iae_model_kind)models[m]);
        for (int c = 0; c < n_classes; c++) {
            double s = 0, ss = 0;
            int k = 0;
            for (int i = 0; i < n; i++)
                if (rows[i].normal_class == classes[c] && rows[i].contamination == ratios[0] &&
                    strcmp(rows[i].model, sptr[m]) == 0) {
                    double v = row_value(&rows[i], score, context);
                    if (!isnan(v)) s += v, ss += v * v, k++;
                }
            mean[m * n_classes + c] = k ? s / k : NAN;
            sd[m * n_classes + c] = k > 1 ? sqrt(fmax(0.0, (ss - s * s / k) / (k - 1))) : 0.0;
        }
    }
    char path[4096], title[160];
    snprintf(path, sizeof(path), "%s/auroc_per_class.png", dir);
    snprintf(title, sizeof(title), "AUROC per normal class (%s score, contamination %.3g)", iae_score_names[score],
             ratios[0]);
    iae_chart_opts o = {.title = title, .x_label = "normal class", .y_label = "AUROC", .y_min = 0.4, .y_max = 1.0};
    iae_status st = iae_plot_bars(ctx, path, &o, gptr, n_classes, sptr, n_models, mean, sd);
    free(mean), free(sd), free(group_names);
    if (st != IAE_OK || n_ratios < 2) return st;

    /* AUROC against contamination: mean over classes and seeds per model. */
    double x[16], y[IAE_N_MODELS][16];
    iae_series series[IAE_N_MODELS];
    for (int q = 0; q < n_ratios; q++) x[q] = ratios[q];
    for (int m = 0; m < n_models; m++) {
        for (int q = 0; q < n_ratios; q++) {
            double s = 0;
            int k = 0;
            for (int i = 0; i < n; i++)
                if (rows[i].contamination == ratios[q] && strcmp(rows[i].model, sptr[m]) == 0) {
                    double v = row_value(&rows[i], score, context);
                    if (!isnan(v)) s += v, k++;
                }
            y[m][q] = k ? s / k : NAN;
        }
        series[m] = (iae_series){sptr[m], x, y[m], n_ratios};
    }
    snprintf(path, sizeof(path), "%s/auroc_vs_contamination.png", dir);
    snprintf(title, sizeof(title), "AUROC against training-set contamination (%s score)", iae_score_names[score]);
    iae_chart_opts lo = {.title = title, .x_label = "share of anomalies in the training set",
                         .y_label = "mean AUROC over classes and seeds"};
    return iae_plot_lines(ctx, path, &lo, series, n_models);
}
