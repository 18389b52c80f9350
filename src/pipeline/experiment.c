/* Experiment grids (see experiment.h). */
#include "pipeline/experiment.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/fashion_mnist.h"
#include "io/atomic_file.h"
#include "report/figures.h"
#include "report/metrics.h"
#include "report/results.h"

iae_status iae_make_dirs(iae_ctx *ctx, const char *path) {
    char buf[IAE_PATH_BYTES];
    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "path '%s' is too long", path);
    for (char *p = buf + 1;; p++) {
        const int end = *p == 0;
        if (*p == '/' || end) {
            *p = 0;
            struct stat sb;
            if (stat(buf, &sb) != 0 && mkdir(buf, 0755) != 0 && errno != EEXIST)
                return iae_fail(ctx, IAE_ERR_IO, "cannot create folder '%s': %s", buf, strerror(errno));
            if (stat(buf, &sb) != 0 || !S_ISDIR(sb.st_mode))
                return iae_fail(ctx, IAE_ERR_IO, "'%s' exists and is not a folder", buf);
            if (end) break;
            *p = '/';
        }
    }
    return IAE_OK;
}

static int file_exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* Settings of one run, with the reference's default weights. */
static iae_detector_info run_info(const iae_experiment_options *o, int model, int cls, uint64_t seed, double ratio,
                                  float lo, float hi, int n_train) {
    iae_detector_info info = {0};
    info.model = (iae_model_kind)model;
    info.net = iae_lenet_config(1, iae_model_has_lstm(info.model), iae_model_has_decoder(info.model));
    snprintf(info.dataset, sizeof(info.dataset), "fashion-mnist");
    info.normal_class = cls;
    info.norm_min = lo, info.norm_max = hi;
    info.objective = IAE_OBJECTIVE_ONE_CLASS;
    info.nu = 0.1f;
    iae_fmnist_default_weights(info.model, cls, &info.w_mse, &info.w_kl);
    info.seed = seed;
    info.batch_size = o->batch_size;
    info.epochs = o->epochs;
    info.pretrain_epochs = o->pretrain_epochs;
    info.lr = 1e-4f, info.weight_decay = 0.5e-6f;
    info.bn_train_mode = 1;
    info.train_samples = n_train;
    info.validation_fraction = o->validation_fraction;
    info.threshold_fpr = 0.05f;
    info.contamination = ratio;
    info.lstm_impl = IAE_LSTM_FUSED;
    info.lstm_bf16 = o->lstm_bf16;
    return info;
}

/* Train, evaluate and record one run into run_dir; row receives its results. */
static iae_status one_run(iae_ctx *ctx, const iae_experiment_options *o, const iae_detector_info *info,
                          const iae_dataset *train, const iae_dataset *test, const char *run_dir,
                          iae_progress *progress, iae_result_row *row) {
    const double t0 = iae_now_s();
    iae_detector *det = NULL;
    iae_train_history history = {0};
    iae_evaluation eval;
    iae_scores scores = {0};
    char path[IAE_PATH_BYTES + 256];
    iae_status st = iae_train_detector(ctx, info, train, NULL, progress, &det, &history);
    if (st == IAE_OK) st = iae_evaluate(ctx, det, test, info->batch_size, progress, &eval, &scores);
    if (st != IAE_OK) goto done;

    long anomalous = 0;
    for (int i = 0; i < test->n; i++) anomalous += test->label[i];
    iae_metrics m = {.command = "experiment", .model = iae_model_name(info->model), .info = &det->info,
                     .train_samples = train->n, .test_samples = test->n, .test_anomalous = (int)anomalous,
                     .threads = ctx->threads, .eval = &eval, .history = &history, .data_dir = o->data_dir,
                     .seconds = iae_now_s() - t0};
    snprintf(path, sizeof(path), "%s/metrics.json", run_dir);
    if ((st = iae_metrics_write_json(ctx, path, &m)) != IAE_OK) goto done;

    if (o->plots) {
        char title[160];
        snprintf(title, sizeof(title), "%s, normal class %d, seed %llu: ROC (%s context)", iae_model_name(info->model),
                 info->normal_class, (unsigned long long)info->seed, iae_context_name(det->info.score_context));
        snprintf(path, sizeof(path), "%s/roc.png", run_dir);
        if ((st = iae_figure_roc(ctx, path, title, &scores, test->label)) != IAE_OK) goto done;
        const int k = iae_figure_main_score(&scores);
        snprintf(title, sizeof(title), "%s, normal class %d: %s scores of the test set", iae_model_name(info->model),
                 info->normal_class, iae_score_names[k]);
        snprintf(path, sizeof(path), "%s/histogram.png", run_dir);
        if ((st = iae_figure_histogram(ctx, path, title, &scores, k, test->label)) != IAE_OK) goto done;
        snprintf(title, sizeof(title), "%s, normal class %d: training losses", iae_model_name(info->model),
                 info->normal_class);
        snprintf(path, sizeof(path), "%s/losses.png", run_dir);
        if ((st = iae_figure_losses(ctx, path, title, &history)) != IAE_OK) goto done;
        snprintf(path, sizeof(path), "%s/reconstructions.png", run_dir);
        if ((st = iae_figure_reconstructions(ctx, path, det, test, &scores, k, 4)) != IAE_OK) goto done;
    }
    iae_result_row_fill(row, &det->info, &eval, iae_now_s() - t0);
    /* row.csv last: its presence marks the run as complete. */
    snprintf(path, sizeof(path), "%s/row.csv", run_dir);
    st = iae_results_write_csv(ctx, path, row, 1);
done:
    iae_scores_free(&scores);
    iae_train_history_free(&history);
    iae_detector_free(det);
    return st;
}

iae_status iae_run_experiment(iae_ctx *ctx, const iae_experiment_options *o, iae_progress *progress) {
    const int total = o->n_models * o->n_classes * o->n_seeds * o->n_ratios;
    iae_result_row *rows = calloc((size_t)total + 1, sizeof(iae_result_row));
    if (rows == NULL) return iae_fail(ctx, IAE_ERR_NOMEM, "out of memory for %d result rows", total);
    char runs_dir[IAE_PATH_BYTES + 16], run_dir[IAE_PATH_BYTES + 128], path[IAE_PATH_BYTES + 160];
    snprintf(runs_dir, sizeof(runs_dir), "%s/runs", o->out_dir);
    iae_status st = iae_make_dirs(ctx, runs_dir);
    int n_rows = 0, done = 0;

    for (int ci = 0; ci < o->n_classes && st == IAE_OK; ci++)
        for (int qi = 0; qi < o->n_ratios && st == IAE_OK; qi++)
            for (int si = 0; si < o->n_seeds && st == IAE_OK; si++) {
                const int cls = o->classes[ci];
                const double ratio = o->ratios[qi];
                const uint64_t seed = o->seeds[si];
                iae_dataset train = {0}, test = {0};
                int loaded = 0;
                float lo = 0, hi = 0;
                for (int mi = 0; mi < o->n_models && st == IAE_OK; mi++) {
                    const int model = o->models[mi];
                    snprintf(run_dir, sizeof(run_dir), "%s/%s_c%d_s%llu_r%g", runs_dir,
                             iae_model_name((iae_model_kind)model), cls, (unsigned long long)seed, ratio);
                    snprintf(path, sizeof(path), "%s/row.csv", run_dir);
                    done++;
                    if (file_exists(path)) {
                        iae_result_row *got = NULL;
                        int n_got = 0;
                        if ((st = iae_results_read_csv(ctx, path, &got, &n_got)) != IAE_OK) break;
                        if (n_got != 1) {
                            free(got);
                            st = iae_fail(ctx, IAE_ERR_FORMAT,
                                          "%s holds %d rows instead of 1: delete it to run %s again", path,
                                          n_got, strrchr(run_dir, '/') + 1);
                            break;
                        }
                        /* A finished run counts only when it used this grid's settings. */
                        if (got[0].pretrain_epochs != o->pretrain_epochs || got[0].epochs != o->epochs ||
                            got[0].batch_size != o->batch_size) {
                            st = iae_fail(ctx, IAE_ERR_ARGUMENT,
                                          "%s was made with --pretrain-epochs %d --epochs %d --batch-size %d, "
                                          "this grid asks for %d, %d and %d: use another --out-dir, or delete "
                                          "the run's folder to run it again",
                                          path, got[0].pretrain_epochs, got[0].epochs, got[0].batch_size,
                                          o->pretrain_epochs, o->epochs, o->batch_size);
                            free(got);
                            break;
                        }
                        rows[n_rows++] = got[0];
                        free(got);
                        iae_progress_note(progress, "[%d/%d] %s: finished earlier, skipped", done, total,
                                          strrchr(run_dir, '/') + 1);
                        continue;
                    }
                    if (!loaded) {
                        iae_fmnist_options fo = {.dir = o->data_dir, .normal_class = cls,
                                                 .dir_is_default = o->data_dir_is_default,
                                                 .contamination = ratio, .seed = seed};
                        if ((st = iae_fmnist_load(ctx, &fo, &train, &test, &lo, &hi)) != IAE_OK) break;
                        loaded = 1;
                    }
                    if ((st = iae_make_dirs(ctx, run_dir)) != IAE_OK) break;
                    iae_progress_note(progress, "[%d/%d] %s", done, total, strrchr(run_dir, '/') + 1);
                    iae_detector_info info = run_info(o, model, cls, seed, ratio, lo, hi, train.n);
                    st = one_run(ctx, o, &info, &train, &test, run_dir, progress, &rows[n_rows]);
                    if (st == IAE_OK) n_rows++;
                }
                iae_dataset_free(&train);
                iae_dataset_free(&test);
            }

    /* Tables and summary figures over every finished run. */
    if (st == IAE_OK) {
        snprintf(path, sizeof(path), "%s/results.csv", o->out_dir);
        st = iae_results_write_csv(ctx, path, rows, n_rows);
    }
    if (st == IAE_OK) {
        snprintf(path, sizeof(path), "%s/results.md", o->out_dir);
        st = iae_results_write_markdown(ctx, path, rows, n_rows, o->table_score, o->table_context,
                                        "Fashion-MNIST, one class normal");
    }
    if (st == IAE_OK && o->plots) st = iae_figure_results(ctx, o->out_dir, rows, n_rows, o->table_score, o->table_context);
    free(rows);
    return st;
}
