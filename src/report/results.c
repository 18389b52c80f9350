/* Result tables of experiment grids (see results.h). */
#include "report/results.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/atomic_file.h"

static const char *const context_columns[3] = {"batch", "memory", "none"};

void iae_result_row_fill(iae_result_row *r, const iae_detector_info *info, const iae_evaluation *e, double seconds) {
    memset(r, 0, sizeof(*r));
    snprintf(r->model, sizeof(r->model), "%s", iae_model_name(info->model));
    snprintf(r->dataset, sizeof(r->dataset), "%s", info->dataset);
    r->normal_class = info->normal_class;
    r->seed = info->seed;
    r->contamination = info->contamination;
    r->pretrain_epochs = info->pretrain_epochs;
    r->epochs = info->epochs;
    r->batch_size = info->batch_size;
    r->seconds = seconds;
    for (int c = 0; c < 3; c++)
        for (int k = 0; k < IAE_N_SCORES; k++) r->auroc[c][k] = NAN;
    for (int c = 0; c < e->n_contexts; c++)
        for (int k = 0; k < IAE_N_SCORES; k++) r->auroc[e->contexts[c]][k] = e->auroc[c][k];
    for (int k = 0; k < IAE_N_SCORES; k++) r->auprc[k] = e->auprc[0][k];
    r->f1 = e->has_threshold ? e->f1 : NAN;
}

static void put_number(FILE *f, double v) {
    if (isfinite(v))
        fprintf(f, ",%.10g", v);
    else
        fputs(",", f);
}

iae_status iae_results_write_csv(iae_ctx *ctx, const char *path, const iae_result_row *rows, int n) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL) return iae_fail(ctx, IAE_ERR_NOMEM, "out of memory writing '%s'", path);
    fputs("model,dataset,normal_class,seed,contamination,pretrain_epochs,epochs,batch_size,seconds", f);
    for (int c = 0; c < 3; c++)
        for (int k = 0; k < IAE_N_SCORES; k++) fprintf(f, ",auroc_%s_%s", context_columns[c], iae_score_names[k]);
    for (int k = 0; k < IAE_N_SCORES; k++) fprintf(f, ",auprc_batch_%s", iae_score_names[k]);
    fputs(",f1\n", f);
    for (int i = 0; i < n; i++) {
        const iae_result_row *r = &rows[i];
        fprintf(f, "%s,%s,%d,%llu,%.6g,%d,%d,%d,%.3f", r->model, r->dataset, r->normal_class,
                (unsigned long long)r->seed, r->contamination, r->pretrain_epochs, r->epochs, r->batch_size,
                r->seconds);
        for (int c = 0; c < 3; c++)
            for (int k = 0; k < IAE_N_SCORES; k++) put_number(f, r->auroc[c][k]);
        for (int k = 0; k < IAE_N_SCORES; k++) put_number(f, r->auprc[k]);
        put_number(f, r->f1);
        fputc('\n', f);
    }
    fclose(f);
    iae_atomic_file af;
    iae_status st = iae_atomic_open(ctx, &af, path);
    if (st == IAE_OK) {
        iae_atomic_write(&af, text, len);
        st = iae_atomic_commit(ctx, &af);
    }
    free(text);
    return st;
}

/* Split line at commas into at most max fields (in place). */
static int split_fields(char *line, char **fields, int max) {
    int n = 0;
    char *p = line;
    while (n < max) {
        fields[n++] = p;
        char *comma = strchr(p, ',');
        if (comma == NULL) break;
        *comma = 0;
        p = comma + 1;
    }
    return n;
}

/* Parse a number field; an empty field is NaN (absent). Sets *bad to the
 * field's column name when the text is not a number or outside [lo, hi]. */
static double parse_field(const char *s, const char *column, double lo, double hi, const char **bad) {
    if (*s == 0) return NAN;
    char *end = NULL;
    double v = strtod(s, &end);
    if (*end != 0 || !(v >= lo && v <= hi)) *bad = column;
    return v;
}

/* A required field (class, seed, epochs...): empty is invalid too. */
static double parse_required(const char *s, const char *column, double lo, double hi, const char **bad) {
    if (*s == 0) *bad = column;
    return parse_field(s, column, lo, hi, bad);
}

iae_status iae_results_read_csv(iae_ctx *ctx, const char *path, iae_result_row **rows_out, int *n_out) {
    *rows_out = NULL;
    *n_out = 0;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return iae_fail(ctx, IAE_ERR_IO, "cannot read results '%s' (%s); pass a results.csv written by iae experiment",
                        path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return iae_fail(ctx, IAE_ERR_IO, "'%s' is not a regular file; pass a results.csv written by iae experiment",
                        path);
    }

    enum { N_FIELDS = 9 + 3 * IAE_N_SCORES + IAE_N_SCORES + 1 };
    char line[8192];
    iae_result_row *rows = NULL;
    int n = 0, cap = 0, lineno = 0;
    iae_status st = IAE_OK;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        if (strchr(line, '\n') == NULL && !feof(f)) {
            st = iae_fail(ctx, IAE_ERR_FORMAT, "'%s' line %d is longer than %zu bytes", path, lineno,
                          sizeof(line) - 2);
            break;
        }
        line[strcspn(line, "\r\n")] = 0;
        if (lineno == 1) {
            if (strncmp(line, "model,dataset,normal_class,seed,", 32) != 0)
                st = iae_fail(ctx, IAE_ERR_FORMAT, "'%s' is not a results table of iae experiment (unexpected header)",
                              path);
            if (st != IAE_OK) break;
            continue;
        }
        if (line[0] == 0) continue;

        char *fields[N_FIELDS + 1];
        int nf = split_fields(line, fields, N_FIELDS + 1);
        if (nf != N_FIELDS) {
            st = iae_fail(ctx, IAE_ERR_FORMAT, "'%s' line %d has %d fields, expected %d", path, lineno, nf, N_FIELDS);
            break;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            iae_result_row *grown = realloc(rows, sizeof(*rows) * cap);
            if (grown == NULL) {
                st = iae_fail(ctx, IAE_ERR_NOMEM, "out of memory reading '%s'", path);
                break;
            }
            rows = grown;
        }

        iae_result_row *r = &rows[n];
        memset(r, 0, sizeof(*r));
        const char *bad = NULL;
        if (iae_model_parse(fields[0]) < 0) bad = "model";
        snprintf(r->model, sizeof(r->model), "%s", fields[0]);
        snprintf(r->dataset, sizeof(r->dataset), "%s", fields[1]);
        r->normal_class = (int)parse_required(fields[2], "normal_class", 0, 63, &bad);
        r->seed = (uint64_t)parse_required(fields[3], "seed", 0, 9007199254740992.0, &bad);
        r->contamination = parse_required(fields[4], "contamination", 0, 0.99, &bad);
        r->pretrain_epochs = (int)parse_required(fields[5], "pretrain_epochs", 0, 1e6, &bad);
        r->epochs = (int)parse_required(fields[6], "epochs", 0, 1e6, &bad);
        r->batch_size = (int)parse_required(fields[7], "batch_size", 1, 1e6, &bad);
        r->seconds = parse_field(fields[8], "seconds", 0, 1e12, &bad);
        int k = 9;
        for (int c = 0; c < 3; c++)
            for (int s = 0; s < IAE_N_SCORES; s++) r->auroc[c][s] = parse_field(fields[k++], "auroc", 0, 1, &bad);
        for (int s = 0; s < IAE_N_SCORES; s++) r->auprc[s] = parse_field(fields[k++], "auprc", 0, 1, &bad);
        r->f1 = parse_field(fields[k], "f1", 0, 1, &bad);
        if (bad != NULL) {
            st = iae_fail(ctx, IAE_ERR_FORMAT, "'%s' line %d: invalid %s value; expected the output of iae experiment",
                          path, lineno, bad);
            break;
        }
        n++;
    }

    if (st == IAE_OK && ferror(f))
        st = iae_fail(ctx, IAE_ERR_IO, "cannot read results '%s' (%s)", path, strerror(errno));
    if (st == IAE_OK && lineno == 0)
        st = iae_fail(ctx, IAE_ERR_FORMAT, "'%s' is empty; pass a results.csv written by iae experiment", path);
    fclose(f);
    if (st != IAE_OK) {
        free(rows);
        return st;
    }
    *rows_out = rows;
    *n_out = n;
    return IAE_OK;
}

/* The AUROC a row contributes to the table: the chosen score, or the
 * model's own when it lacks the chosen one. */
static double table_value(const iae_result_row *r, int score, int context) {
    double v = r->auroc[context][score];
    if (isnan(v)) v = r->auroc[context][0]; /* svdd */
    if (isnan(v)) v = r->auroc[context][1]; /* mse */
    return v;
}

int iae_results_models(const iae_result_row *rows, int n, int models[IAE_N_MODELS]) {
    static const iae_model_kind column_order[IAE_N_MODELS] = {IAE_MODEL_CAE,      IAE_MODEL_DEEP_SVDD,
                                                              IAE_MODEL_DCAE_SVDD, IAE_MODEL_IAE_LSTM,
                                                              IAE_MODEL_IAE_KL,   IAE_MODEL_IAE_LSTM_KL};
    int n_models = 0;
    for (int k = 0; k < IAE_N_MODELS; k++)
        for (int i = 0; i < n; i++)
            if (strcmp(rows[i].model, iae_model_name(column_order[k])) == 0) {
                models[n_models++] = column_order[k];
                break;
            }
    return n_models;
}

iae_status iae_results_write_markdown(iae_ctx *ctx, const char *path, const iae_result_row *rows, int n, int score,
                                      int context, const char *title) {
    int models[IAE_N_MODELS], n_models = iae_results_models(rows, n, models), classes[64], n_classes = 0;
    double ratios[16];
    int n_ratios = 0;
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

    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL) return iae_fail(ctx, IAE_ERR_NOMEM, "out of memory writing '%s'", path);
    fprintf(f, "# %s\n\nAUROC of the `%s` score in the %s context, mean ± standard deviation over seeds "
               "(number of runs in brackets when not all seeds finished). Best per class in bold. ",
            title, iae_score_names[score], context_columns[context]);
    fprintf(f, "Models without that score use their own (`svdd` for deep-svdd, `mse` for cae).\n");

    for (int q = 0; q < n_ratios; q++) {
        fprintf(f, "\n## Contamination %.3g\n\n| class |", ratios[q]);
        for (int m = 0; m < n_models; m++) fprintf(f, " %s |", iae_model_name((iae_model_kind)models[m]));
        fputs("\n|---|", f);
        for (int m = 0; m < n_models; m++) fputs("---|", f);
        fputc('\n', f);
        double class_means[IAE_N_MODELS][64];
        for (int ci = 0; ci <= n_classes; ci++) {
            double mean[IAE_N_MODELS], sd[IAE_N_MODELS];
            int count[IAE_N_MODELS], max_count = 0;
            for (int m = 0; m < n_models; m++) {
                double s = 0, ss = 0;
                int k = 0;
                if (ci < n_classes) {
                    for (int i = 0; i < n; i++) {
                        const iae_result_row *r = &rows[i];
                        if (r->normal_class != classes[ci] || r->contamination != ratios[q] ||
                            strcmp(r->model, iae_model_name((iae_model_kind)models[m])) != 0)
                            continue;
                        double v = table_value(r, score, context);
                        if (isnan(v)) continue;
                        s += v, ss += v * v, k++;
                    }
                } else {
                    /* The last row: the mean over classes of the class means. */
                    for (int j = 0; j < n_classes; j++)
                        if (!isnan(class_means[m][j])) s += class_means[m][j], ss += 0, k++;
                }
                mean[m] = k ? s / k : NAN;
                sd[m] = k > 1 && ci < n_classes ? sqrt(fmax(0.0, (ss - s * s / k) / (k - 1))) : 0.0;
                count[m] = k;
                if (k > max_count) max_count = k;
                if (ci < n_classes) class_means[m][ci] = mean[m];
            }
            double best = -1;
            for (int m = 0; m < n_models; m++)
                if (!isnan(mean[m]) && mean[m] > best) best = mean[m];
            if (ci < n_classes)
                fprintf(f, "| %d |", classes[ci]);
            else
                fputs("| mean |", f);
            for (int m = 0; m < n_models; m++) {
                if (isnan(mean[m])) {
                    fputs(" – |", f);
                    continue;
                }
                const int bold = mean[m] == best && n_models > 1;
                fprintf(f, " %s%.4f", bold ? "**" : "", mean[m]);
                if (ci < n_classes && count[m] > 1) fprintf(f, " ± %.4f", sd[m]);
                fprintf(f, "%s", bold ? "**" : "");
                if (ci < n_classes && count[m] < max_count) fprintf(f, " (%d)", count[m]);
                fputs(" |", f);
            }
            fputc('\n', f);
        }
    }
    fclose(f);
    iae_atomic_file af;
    iae_status st = iae_atomic_open(ctx, &af, path);
    if (st == IAE_OK) {
        iae_atomic_write(&af, text, len);
        st = iae_atomic_commit(ctx, &af);
    }
    free(text);
    return st;
}
